#include "arbiter/definitions/yaml_reader.h"

#include <cmath>
#include <cstdio>
#include <set>

#include "arbiter/common/duration.h"
#include "arbiter/common/strings.h"

namespace arbiter::definitions {
namespace {

std::string Field(std::string_view where, std::string_view key) {
  if (where.empty()) return std::string(key);
  return std::string(where) + ": " + std::string(key);
}

bool ParseInt(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return false;
  for (size_t j = i; j < s.size(); ++j) {
    if (s[j] < '0' || s[j] > '9') return false;
  }
  if (s.size() - i > 18) return false;
  *out = std::stoll(s);
  return true;
}

bool ParseNumber(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

std::string fmt_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string TypeName(const yaml::Node& n) {
  switch (n.Type()) {
    case yaml::NodeType::kMap: return "a mapping";
    case yaml::NodeType::kSequence: return "a list";
    case yaml::NodeType::kNull: return "empty";
    case yaml::NodeType::kScalar: return "a scalar";
    default: return "undefined";
  }
}

}  // namespace

SourceLocation YamlReader::Loc(const yaml::Node& node) const {
  yaml::Mark m = node.Mark();
  if (m.is_null()) return {file_, 0, 0};
  return {file_, m.line + 1, m.column + 1};
}

void YamlReader::Error(const yaml::Node& node, std::string message, std::string hint) const {
  diags_->Error(Loc(node), std::move(message), std::move(hint));
}

void YamlReader::Warning(const yaml::Node& node, std::string message, std::string hint) const {
  diags_->Warning(Loc(node), std::move(message), std::move(hint));
}

void YamlReader::SecretError(const yaml::Node& node, std::string message,
                             std::string hint) const {
  diags_->Add({Severity::kError, Loc(node), std::move(message), std::move(hint),
               /*redact_source=*/true});
}

bool YamlReader::ExpectMap(const yaml::Node& node, std::string_view what) const {
  if (node.IsMap()) return true;
  Error(node, std::string(what) + " must be a mapping (key: value lines), not " + TypeName(node));
  return false;
}

bool YamlReader::CheckKeys(const yaml::Node& node, std::string_view what,
                           const std::vector<std::string>& allowed) const {
  if (!ExpectMap(node, what)) return false;
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) {
      Error(it->first, "keys in " + std::string(what) + " must be plain names");
      continue;
    }
    std::string key = it->first.Scalar();
    if (!seen.insert(key).second) {
      Error(it->first, "duplicate key " + Quote(key) + " in " + std::string(what),
            "the later value would silently replace the earlier one; remove one of them");
      continue;
    }
    bool known = false;
    for (const auto& a : allowed) known = known || a == key;
    if (!known) {
      Error(it->first,
            "unknown key " + Quote(key) + " in " + std::string(what) + DidYouMean(key, allowed),
            "allowed keys: " + Join(allowed, ", "));
    }
  }
  return true;
}

yaml::Node YamlReader::Get(const yaml::Node& map, std::string_view key) const {
  if (!map.IsMap()) return yaml::Node();
  return map[key];
}

SourceLocation YamlReader::KeyLoc(const yaml::Node& map, std::string_view key) const {
  if (map.IsMap()) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) return Loc(it->first);
    }
  }
  return Loc(map);
}

std::optional<std::string> YamlReader::ScalarText(const yaml::Node& node,
                                                  std::string_view what) const {
  if (!node.IsScalar()) {
    Error(node, std::string(what) + " must be a single value, not " + TypeName(node));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<std::string> YamlReader::String(const yaml::Node& map, std::string_view key,
                                              bool required, std::string_view where) const {
  yaml::Node n = Get(map, key);
  if (!n.IsDefined() || n.IsNull()) {
    if (required) {
      if (n.IsDefined()) {
        diags_->Error(KeyLoc(map, key), "missing value for " + Quote(Field(where, key)));
      } else {
        Error(map, "missing required key " + Quote(std::string(key)) +
                       (where.empty() ? "" : " in " + std::string(where)));
      }
    }
    return std::nullopt;
  }
  auto s = ScalarText(n, Quote(Field(where, key)));
  if (s && required && Trim(*s).empty()) {
    Error(n, Quote(Field(where, key)) + " must not be empty");
    return std::nullopt;
  }
  return s;
}

std::optional<ConfigString> YamlReader::Config(const yaml::Node& map, std::string_view key,
                                               bool required, std::string_view where) const {
  auto s = String(map, key, required, where);
  if (!s) return std::nullopt;
  Result<ConfigString> c = ConfigString::Parse(*s);
  if (!c.ok()) {
    Error(Get(map, key), c.status().message());
    return std::nullopt;
  }
  return std::move(c).value();
}

std::optional<ConfigString> YamlReader::Secret(const yaml::Node& map, std::string_view key,
                                               std::string_view example_env) const {
  auto c = Config(map, key);
  if (!c) return std::nullopt;
  if (!c->has_references()) {
    // Never echo the value, not even in the source excerpt: it is probably a real secret.
    SecretError(Get(map, key), Quote(std::string(key)) + " must reference a secret, not contain it",
                "write " + std::string(key) + ": ${env:" + std::string(example_env) + "} or " +
                    std::string(key) + ": ${file:PATH}, and rotate the secret if it was committed");
    return std::nullopt;
  }
  return c;
}

std::optional<int64_t> YamlReader::Int(const yaml::Node& map, std::string_view key, int64_t min,
                                       int64_t max, std::string_view field) const {
  yaml::Node n = Get(map, key);
  if (!n.IsDefined() || n.IsNull()) return std::nullopt;
  const std::string name = field.empty() ? Quote(std::string(key)) : std::string(field);
  auto s = ScalarText(n, name);
  if (!s) return std::nullopt;
  int64_t v = 0;
  if (!ParseInt(*s, &v)) {
    Error(n, name + " must be a whole number, not " + Quote(*s));
    return std::nullopt;
  }
  if (v < min || v > max) {
    Error(n, name + " must be between " + std::to_string(min) + " and " + std::to_string(max) +
                 ", not " + std::to_string(v));
    return std::nullopt;
  }
  return v;
}

std::optional<double> YamlReader::Number(const yaml::Node& map, std::string_view key, double min,
                                         double max, bool min_exclusive) const {
  yaml::Node n = Get(map, key);
  if (!n.IsDefined() || n.IsNull()) return std::nullopt;
  auto s = ScalarText(n, Quote(std::string(key)));
  if (!s) return std::nullopt;
  double v = 0;
  if (!ParseNumber(*s, &v)) {
    Error(n, Quote(std::string(key)) + " must be a number, not " + Quote(*s));
    return std::nullopt;
  }
  if (v < min || v > max || (min_exclusive && v == min)) {
    std::string lo = min_exclusive ? "greater than " : "at least ";
    Error(n, Quote(std::string(key)) + " must be " + lo + fmt_number(min) + " and at most " +
                 fmt_number(max) + ", not " + *s);
    return std::nullopt;
  }
  return v;
}

std::optional<bool> YamlReader::Bool(const yaml::Node& map, std::string_view key) const {
  yaml::Node n = Get(map, key);
  if (!n.IsDefined() || n.IsNull()) return std::nullopt;
  auto s = ScalarText(n, Quote(std::string(key)));
  if (!s) return std::nullopt;
  if (*s == "true" || *s == "True" || *s == "yes") return true;
  if (*s == "false" || *s == "False" || *s == "no") return false;
  Error(n, Quote(std::string(key)) + " must be true or false, not " + Quote(*s));
  return std::nullopt;
}

std::optional<std::chrono::seconds> YamlReader::Duration(const yaml::Node& map,
                                                         std::string_view key) const {
  yaml::Node n = Get(map, key);
  if (!n.IsDefined() || n.IsNull()) return std::nullopt;
  auto s = ScalarText(n, Quote(std::string(key)));
  if (!s) return std::nullopt;
  Result<std::chrono::seconds> d = ParseDuration(*s);
  if (!d.ok()) {
    Error(n, Quote(std::string(key)) + ": " + d.status().message());
    return std::nullopt;
  }
  return *d;
}

std::optional<std::string> YamlReader::Enum(const yaml::Node& map, std::string_view key,
                                            const std::vector<std::string>& choices,
                                            bool required) const {
  auto s = String(map, key, required);
  if (!s) return std::nullopt;
  for (const auto& c : choices) {
    if (c == *s) return s;
  }
  Error(Get(map, key), "invalid " + std::string(key) + " " + Quote(*s) + DidYouMean(*s, choices),
        "expected one of: " + Join(choices, ", "));
  return std::nullopt;
}

std::vector<std::pair<std::string, yaml::Node>> YamlReader::StringListNodes(
    const yaml::Node& map, std::string_view key) const {
  std::vector<std::pair<std::string, yaml::Node>> out;
  yaml::Node n = Get(map, key);
  if (!n.IsDefined() || n.IsNull()) return out;
  if (!n.IsSequence()) {
    Error(n, Quote(std::string(key)) + " must be a list, e.g. [a, b], not " + TypeName(n));
    return out;
  }
  for (const yaml::Node& item : n.items()) {
    auto s = ScalarText(item, "each item of " + Quote(std::string(key)));
    if (s) out.emplace_back(*s, item);
  }
  return out;
}

std::optional<std::vector<std::string>> YamlReader::StringList(const yaml::Node& map,
                                                               std::string_view key) const {
  yaml::Node n = Get(map, key);
  if (!n.IsDefined() || n.IsNull()) return std::nullopt;
  std::vector<std::string> out;
  for (auto& [s, node] : StringListNodes(map, key)) out.push_back(s);
  return out;
}

std::optional<std::map<std::string, std::string>> YamlReader::StringMap(
    const yaml::Node& map, std::string_view key) const {
  yaml::Node n = Get(map, key);
  if (!n.IsDefined() || n.IsNull()) return std::nullopt;
  if (!ExpectMap(n, Quote(std::string(key)))) return std::nullopt;
  std::map<std::string, std::string> out;
  for (auto it = n.begin(); it != n.end(); ++it) {
    auto k = ScalarText(it->first, "a key of " + Quote(std::string(key)));
    if (!k) continue;
    if (out.count(*k)) {
      Error(it->first, "duplicate key " + Quote(*k) + " in " + Quote(std::string(key)));
      continue;
    }
    if (it->second.IsNull()) {
      Error(it->first, "missing value for " + Quote(*k) + " in " + Quote(std::string(key)));
      continue;
    }
    auto v = ScalarText(it->second, "the value of " + Quote(*k));
    if (v) out[*k] = *v;
  }
  return out;
}

nlohmann::json YamlReader::ToJson(const yaml::Node& node) {
  switch (node.Type()) {
    case yaml::NodeType::kMap: {
      nlohmann::json j = nlohmann::json::object();
      for (auto it = node.begin(); it != node.end(); ++it) {
        j[it->first.Scalar()] = ToJson(it->second);
      }
      return j;
    }
    case yaml::NodeType::kSequence: {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& item : node.items()) j.push_back(ToJson(item));
      return j;
    }
    case yaml::NodeType::kScalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return s;  // quoted: always a string
      if (s == "true") return true;
      if (s == "false") return false;
      int64_t i = 0;
      if (ParseInt(s, &i)) return i;
      double d = 0;
      if (ParseNumber(s, &d)) return d;
      return s;
    }
    default:
      return nullptr;
  }
}

}  // namespace arbiter::definitions
