#include "arbiter/definitions/project.h"

#include "arbiter/common/duration.h"

namespace arbiter::definitions {

std::string_view RuntimeTypeName(RuntimeType t) {
  switch (t) {
    case RuntimeType::kLocal: return "local";
    case RuntimeType::kDatabricks: return "databricks";
    case RuntimeType::kEmr: return "emr";
    case RuntimeType::kEmrServerless: return "emr-serverless";
  }
  return "?";
}

std::string_view JobKindName(JobKind k) {
  switch (k) {
    case JobKind::kPySpark: return "pyspark";
    case JobKind::kPython: return "python";
    case JobKind::kCommand: return "command";
  }
  return "?";
}

std::string PlacementPolicy::ToString() const {
  switch (kind) {
    case Kind::kCheapest: return "cheapest";
    case Kind::kFastest: return "fastest";
    case Kind::kFixed: return "fixed: " + runtime;
    case Kind::kCheapestWithin: return "cheapest_within: " + FormatDuration(deadline);
  }
  return "?";
}

const AssetDef* Project::FindAsset(std::string_view key) const {
  Result<AssetKey> k = AssetKey::Parse(key);
  if (!k.ok()) return nullptr;
  auto it = assets.find(*k);
  return it == assets.end() ? nullptr : &it->second;
}

const PartitionsDef* Project::PartitionsOf(const AssetDef& asset) const {
  if (asset.partitions.empty()) return nullptr;
  auto it = partitions.find(asset.partitions);
  return it == partitions.end() ? nullptr : it->second.def.get();
}

}  // namespace arbiter::definitions
