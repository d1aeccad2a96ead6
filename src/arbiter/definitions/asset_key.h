// AssetKey: the name of a data product, slash-separated parts such as
// "commoncrawl/edges". Parts use letters, digits, '_', '-' and '.'.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/status.h"

namespace arbiter::definitions {

class AssetKey {
 public:
  AssetKey() = default;
  // kInvalidArgument naming the bad part, e.g. "asset key 'a//b' has an empty part".
  static Result<AssetKey> Parse(std::string_view text);

  const std::string& str() const { return text_; }
  std::vector<std::string> parts() const;

  friend bool operator==(const AssetKey&, const AssetKey&) = default;
  friend auto operator<=>(const AssetKey&, const AssetKey&) = default;

 private:
  explicit AssetKey(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

}  // namespace arbiter::definitions
