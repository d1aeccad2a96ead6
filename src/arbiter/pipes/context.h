// The context payload (PipesContextData) handed to a job, and asset-key string escaping.
// Callers describe the run in ContextData; BuildContextPayload validates it and emits all ten
// keys in the spec's order. Stateless functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/status.h"
#include "arbiter/pipes/json_util.h"

namespace arbiter::pipes {

using AssetKeyPath = std::vector<std::string>;

// ["a", "b/c"] -> "a/b\/c". Backslashes are not escaped (the spec's known quirk).
std::string EscapeAssetKey(const AssetKeyPath& parts);

// "a/b\/c" -> ["a", "b/c"]: `\X` is a literal X, an unescaped '/' ends a part, and a trailing
// empty part is dropped.
AssetKeyPath ParseEscapedAssetKey(std::string_view escaped);

struct Provenance {
  std::string code_version;
  std::map<std::string, std::string> input_data_versions;  // escaped asset key -> version
  bool is_user_provided = false;
};

struct AssetInScope {
  AssetKeyPath key;
  std::optional<std::string> code_version;
  std::optional<Provenance> provenance;  // nullopt: never materialized
};

struct KeyRange {
  std::string start;
  std::string end;
};

struct ContextData {
  // False for a step that is not an asset step: the three asset fields become null.
  bool is_asset_step = true;
  std::vector<AssetInScope> assets;
  std::optional<std::string> partition_key;
  // Defaults to {partition_key, partition_key} when only partition_key is set, as Dagster does.
  std::optional<KeyRange> partition_key_range;
  // Already-formatted ISO-8601 timestamps with a UTC offset, e.g. 2024-01-01T00:00:00+00:00.
  std::optional<KeyRange> partition_time_window;
  std::string run_id;
  std::optional<std::string> job_name;
  int retry_number = 0;
  Json extras = Json::object();
};

// True for YYYY-MM-DDTHH:MM:SS[.fraction](+HH:MM|-HH:MM|Z).
bool IsIsoTimestampWithOffset(std::string_view s);

// All ten keys, nulls where absent; asset keys escaped and sorted. Errors: empty run id,
// negative retry number, non-object extras, duplicate asset keys, empty asset key parts,
// badly formatted time window.
Result<OrderedJson> BuildContextPayload(const ContextData& data);

}  // namespace arbiter::pipes
