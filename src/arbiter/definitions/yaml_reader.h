// YamlReader: typed access to a parsed YAML document that turns every problem
// into a Diagnostic at the offending node (file:line:column), and keeps going
// so one `arbiter check` reports everything. Getters return nullopt after
// reporting; callers fall back to defaults and continue.
// Not thread-safe; one reader per file.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include "arbiter/definitions/yaml_document.h"

#include "arbiter/common/diagnostics.h"
#include "arbiter/definitions/secret_ref.h"

namespace arbiter::definitions {

class YamlReader {
 public:
  YamlReader(std::string file, Diagnostics* diags) : file_(std::move(file)), diags_(diags) {}

  const std::string& file() const { return file_; }
  Diagnostics* diagnostics() const { return diags_; }

  SourceLocation Loc(const yaml::Node& node) const;
  void Error(const yaml::Node& node, std::string message, std::string hint = "") const;
  void Warning(const yaml::Node& node, std::string message, std::string hint = "") const;
  // An error about a value that holds a secret: its source line is never shown.
  void SecretError(const yaml::Node& node, std::string message, std::string hint) const;

  // True if `node` is a map. Otherwise reports "<what> must be a mapping".
  bool ExpectMap(const yaml::Node& node, std::string_view what) const;

  // ExpectMap, then reports keys not in `allowed` (with a did-you-mean) and keys
  // given twice. Returns false only if `node` is not a map.
  bool CheckKeys(const yaml::Node& node, std::string_view what,
                 const std::vector<std::string>& allowed) const;

  // The value node of `key` (the first, if repeated); undefined if absent.
  // Null values are reported at their key (KeyLoc), where the user wrote them.
  yaml::Node Get(const yaml::Node& map, std::string_view key) const;
  SourceLocation KeyLoc(const yaml::Node& map, std::string_view key) const;

  // Scalar getters. `where` names the field in messages ("asset 'a': workers").
  std::optional<std::string> String(const yaml::Node& map, std::string_view key,
                                    bool required = false, std::string_view where = "") const;
  std::optional<ConfigString> Config(const yaml::Node& map, std::string_view key,
                                     bool required = false, std::string_view where = "") const;
  // Like Config, but a literal value is an error: secrets are given by reference.
  std::optional<ConfigString> Secret(const yaml::Node& map, std::string_view key,
                                     std::string_view example_env) const;
  // `field` names the value in messages when the key does not ("the slots of
  // pool 'gpu'" for a `gpu: 4` shorthand); default: the quoted key.
  std::optional<int64_t> Int(const yaml::Node& map, std::string_view key, int64_t min, int64_t max,
                             std::string_view field = "") const;
  std::optional<double> Number(const yaml::Node& map, std::string_view key, double min,
                               double max, bool min_exclusive = false) const;
  std::optional<bool> Bool(const yaml::Node& map, std::string_view key) const;
  std::optional<std::chrono::seconds> Duration(const yaml::Node& map, std::string_view key) const;
  // One of `choices`; otherwise reports with a did-you-mean.
  std::optional<std::string> Enum(const yaml::Node& map, std::string_view key,
                                  const std::vector<std::string>& choices,
                                  bool required = false) const;

  std::optional<std::vector<std::string>> StringList(const yaml::Node& map,
                                                     std::string_view key) const;
  // String list with the node of each element, for per-element errors.
  std::vector<std::pair<std::string, yaml::Node>> StringListNodes(const yaml::Node& map,
                                                                  std::string_view key) const;
  std::optional<std::map<std::string, std::string>> StringMap(const yaml::Node& map,
                                                              std::string_view key) const;

  // Scalar text of a node (reports and returns nullopt unless it is a scalar).
  std::optional<std::string> ScalarText(const yaml::Node& node, std::string_view what) const;

  // Converts a YAML subtree to JSON (scalars typed by their YAML form).
  static nlohmann::json ToJson(const yaml::Node& node);

 private:
  std::string file_;
  Diagnostics* diags_;
};

}  // namespace arbiter::definitions
