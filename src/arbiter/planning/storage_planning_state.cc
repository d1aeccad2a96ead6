#include "arbiter/planning/storage_planning_state.h"

#include "arbiter/cost/engine.h"

namespace arbiter::planning {

Result<storage::PartitionStatus> StoragePlanningState::PartitionStatusOf(
    const definitions::AssetDef& asset) {
  return keeper_.Get(asset);
}

Result<std::map<std::optional<std::string>, storage::RunRecord>> StoragePlanningState::LiveRunsOf(
    const definitions::AssetDef& asset) {
  // One query for every partition: a backfill of many keys asks once.
  ARBITER_ASSIGN_OR_RETURN(std::vector<storage::RunRecord> active, storage_->ActiveRuns());
  std::map<std::optional<std::string>, storage::RunRecord> out;
  const std::string key = asset.key.str();
  for (storage::RunRecord& r : active) {
    if (r.asset_key == key) out.emplace(r.partition_key, std::move(r));
  }
  return out;
}

std::optional<double> StoragePlanningState::LastInputBytes(
    const definitions::AssetDef& asset, const std::optional<std::string>& partition) {
  auto m = storage_->LatestMaterialization(asset.key.str(), partition);
  if (!m.ok() || !*m) return std::nullopt;
  return cost::InputBytesOf((*m)->metadata);
}

}  // namespace arbiter::planning
