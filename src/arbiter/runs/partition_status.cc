#include "arbiter/runs/partition_status.h"

namespace arbiter::runs {

using definitions::PartitionSet;
using storage::PartitionState;
using storage::RunStatus;

std::string PartitionStatusKeeper::Fingerprint(const definitions::PartitionsDef& def) {
  return std::string(definitions::PartitionsKindName(def.kind())) + ":" +
         std::to_string(def.Size()) + ":" + def.Describe() + ":" +
         (def.Size() > 0 ? def.KeyAt(0) + ".." + def.KeyAt(def.Size() - 1) : "");
}

Status PartitionStatusKeeper::MarkInProgress(const definitions::AssetDef& asset,
                                             const std::vector<std::string>& keys) {
  const definitions::PartitionsDef* def = project_->PartitionsOf(asset);
  if (!def) return Status::Ok();
  ARBITER_RETURN_IF_ERROR(Get(asset).status());  // rebuild first if the definition changed
  PartitionSet set;
  for (const std::string& key : keys) {
    if (auto i = def->IndexOf(key)) set.Add(*i);
  }
  return storage_->SetPartitionState(asset.key.str(), Fingerprint(*def), set,
                                     PartitionState::kInProgress);
}

Status PartitionStatusKeeper::MarkEnded(const definitions::AssetDef& asset, const std::string& key,
                                        RunStatus status) {
  const definitions::PartitionsDef* def = project_->PartitionsOf(asset);
  if (!def) return Status::Ok();
  std::optional<int64_t> index = def->IndexOf(key);
  if (!index) return Status::Ok();  // the definition changed under the run
  PartitionSet one;
  one.Add(*index);
  const std::string fp = Fingerprint(*def);
  switch (status) {
    case RunStatus::kSuccess:
      return storage_->SetPartitionState(asset.key.str(), fp, one, PartitionState::kMaterialized);
    case RunStatus::kFailure:
      return storage_->SetPartitionState(asset.key.str(), fp, one, PartitionState::kFailed);
    default: {
      ARBITER_ASSIGN_OR_RETURN(auto latest, storage_->LatestMaterialization(asset.key.str(), key));
      if (latest) {
        return storage_->SetPartitionState(asset.key.str(), fp, one, PartitionState::kMaterialized);
      }
      return storage_->ClearPartitionState(asset.key.str(), fp, one);
    }
  }
}

Result<storage::PartitionStatus> PartitionStatusKeeper::Get(const definitions::AssetDef& asset) {
  const definitions::PartitionsDef* def = project_->PartitionsOf(asset);
  if (!def) return storage::PartitionStatus{};
  ARBITER_ASSIGN_OR_RETURN(storage::PartitionStatus status,
                           storage_->GetPartitionStatus(asset.key.str()));
  if (status.fingerprint == Fingerprint(*def)) return status;
  return Rebuild(asset);
}

Result<storage::PartitionStatus> PartitionStatusKeeper::Rebuild(
    const definitions::AssetDef& asset) {
  const definitions::PartitionsDef* def = project_->PartitionsOf(asset);
  storage::PartitionStatus status;
  if (!def) return status;
  status.fingerprint = Fingerprint(*def);
  ARBITER_ASSIGN_OR_RETURN(std::vector<std::string> done,
                           storage_->MaterializedPartitionKeys(asset.key.str()));
  for (const std::string& key : done) {
    if (auto i = def->IndexOf(key)) status.materialized.Add(*i);
  }
  ARBITER_ASSIGN_OR_RETURN(auto newest, storage_->LatestRunStatusByPartition(asset.key.str()));
  for (const auto& [key, run_status] : newest) {
    std::optional<int64_t> i = def->IndexOf(key);
    if (!i) continue;
    if (run_status == RunStatus::kFailure) {
      status.materialized.Remove(*i);
      status.failed.Add(*i);
    } else if (!storage::IsTerminal(run_status)) {
      status.materialized.Remove(*i);
      status.in_progress.Add(*i);
    }
  }
  ARBITER_RETURN_IF_ERROR(storage_->ReplacePartitionStatus(asset.key.str(), status));
  return status;
}

}  // namespace arbiter::runs
