// Context payload builder and asset-key escaping.
#include "arbiter/pipes/context.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

namespace arbiter::pipes {

std::string EscapeAssetKey(const AssetKeyPath& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '/';
    for (char c : parts[i]) {
      if (c == '/') out += '\\';
      out += c;
    }
  }
  return out;
}

AssetKeyPath ParseEscapedAssetKey(std::string_view escaped) {
  AssetKeyPath parts;
  std::string current;
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    const char c = escaped[i];
    if (c == '\\' && i + 1 < escaped.size()) {
      current += escaped[++i];
    } else if (c == '/') {
      parts.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) parts.push_back(std::move(current));
  return parts;
}

bool IsIsoTimestampWithOffset(std::string_view s) {
  auto digits = [&s](std::size_t pos, std::size_t n) {
    if (pos + n > s.size()) return false;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    }
    return true;
  };
  auto at = [&s](std::size_t pos, char c) { return pos < s.size() && s[pos] == c; };
  if (!digits(0, 4) || !at(4, '-') || !digits(5, 2) || !at(7, '-') || !digits(8, 2) ||
      !at(10, 'T') || !digits(11, 2) || !at(13, ':') || !digits(14, 2) || !at(16, ':') ||
      !digits(17, 2)) {
    return false;
  }
  std::size_t pos = 19;
  if (at(pos, '.')) {
    const std::size_t start = ++pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
    if (pos == start) return false;
  }
  if (at(pos, 'Z')) return pos + 1 == s.size();
  if (!at(pos, '+') && !at(pos, '-')) return false;
  return digits(pos + 1, 2) && at(pos + 3, ':') && digits(pos + 4, 2) && pos + 6 == s.size();
}

namespace {

OrderedJson OptionalString(const std::optional<std::string>& s) {
  return s ? OrderedJson(*s) : OrderedJson(nullptr);
}

OrderedJson RangeJson(const std::optional<KeyRange>& r) {
  if (!r) return nullptr;
  OrderedJson j = OrderedJson::object();
  j["start"] = r->start;
  j["end"] = r->end;
  return j;
}

}  // namespace

Result<OrderedJson> BuildContextPayload(const ContextData& data) {
  if (data.run_id.empty()) return InvalidArgumentError("pipes context: run_id is empty");
  if (data.retry_number < 0) return InvalidArgumentError("pipes context: negative retry_number");
  if (!data.extras.is_object())
    return InvalidArgumentError("pipes context: extras must be an object");
  if (data.partition_time_window) {
    for (const std::string* ts :
         {&data.partition_time_window->start, &data.partition_time_window->end}) {
      if (!IsIsoTimestampWithOffset(*ts)) {
        return InvalidArgumentError("pipes context: time window bound '" + *ts +
                                    "' is not ISO-8601 with a UTC offset");
      }
    }
  }

  // Sorted by escaped key, as the Python orchestrator sorts its selection.
  std::vector<std::pair<std::string, const AssetInScope*>> assets;
  for (const AssetInScope& a : data.assets) {
    if (a.key.empty()) return InvalidArgumentError("pipes context: empty asset key");
    for (const std::string& part : a.key) {
      if (part.empty()) return InvalidArgumentError("pipes context: empty asset key part");
    }
    assets.emplace_back(EscapeAssetKey(a.key), &a);
  }
  std::sort(assets.begin(), assets.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  for (std::size_t i = 1; i < assets.size(); ++i) {
    if (assets[i].first == assets[i - 1].first) {
      return InvalidArgumentError("pipes context: duplicate asset key " + assets[i].first);
    }
  }

  OrderedJson out = OrderedJson::object();
  if (data.is_asset_step) {
    OrderedJson keys = OrderedJson::array();
    OrderedJson code_versions = OrderedJson::object();
    OrderedJson provenance = OrderedJson::object();
    for (const auto& [escaped, asset] : assets) {
      keys.push_back(escaped);
      code_versions[escaped] = OptionalString(asset->code_version);
      if (asset->provenance) {
        OrderedJson p = OrderedJson::object();
        p["code_version"] = asset->provenance->code_version;
        p["input_data_versions"] = OrderedJson::object();
        for (const auto& [k, v] : asset->provenance->input_data_versions) {
          p["input_data_versions"][k] = v;
        }
        p["is_user_provided"] = asset->provenance->is_user_provided;
        provenance[escaped] = std::move(p);
      } else {
        provenance[escaped] = nullptr;
      }
    }
    out["asset_keys"] = std::move(keys);
    out["code_version_by_asset_key"] = std::move(code_versions);
    out["provenance_by_asset_key"] = std::move(provenance);
  } else {
    out["asset_keys"] = nullptr;
    out["code_version_by_asset_key"] = nullptr;
    out["provenance_by_asset_key"] = nullptr;
  }
  out["partition_key"] = OptionalString(data.partition_key);
  std::optional<KeyRange> range = data.partition_key_range;
  if (!range && data.partition_key) range = KeyRange{*data.partition_key, *data.partition_key};
  out["partition_key_range"] = RangeJson(range);
  out["partition_time_window"] = RangeJson(data.partition_time_window);
  out["run_id"] = data.run_id;
  out["job_name"] = OptionalString(data.job_name);
  out["retry_number"] = data.retry_number;
  out["extras"] = OrderedJson(data.extras);
  return out;
}

}  // namespace arbiter::pipes
