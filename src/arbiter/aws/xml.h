// A small XML reader for S3 responses (errors, ListObjectsV2, multipart, DeleteObjects):
// elements, text, entities and CDATA; attributes and namespaces are skipped (s3rver and S3
// use different namespaces). Bounded depth; malformed or truncated input is an error.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/status.h"

namespace arbiter::aws {

struct XmlElement {
  std::string name;  // local name, prefix dropped
  std::string text;  // concatenated character data directly inside
  std::vector<XmlElement> children;

  // First child named `name`, or nullptr.
  const XmlElement* Child(std::string_view child_name) const;
  // Text of the first child named `name`, or "".
  std::string ChildText(std::string_view child_name) const;
};

Result<XmlElement> ParseXml(std::string_view text);

}  // namespace arbiter::aws
