// PlanningState read from the project's storage.
#pragma once

#include "arbiter/planning/planning_state.h"
#include "arbiter/runs/partition_status.h"
#include "arbiter/storage/storage.h"

namespace arbiter::planning {

class StoragePlanningState final : public PlanningState {
 public:
  StoragePlanningState(storage::Storage* storage, const definitions::Project* project)
      : storage_(storage), keeper_(storage, project) {}

  // Rebuilt first when the asset's partitions definition changed.
  Result<storage::PartitionStatus> PartitionStatusOf(const definitions::AssetDef& asset) override;
  Result<std::map<std::optional<std::string>, storage::RunRecord>> LiveRunsOf(
      const definitions::AssetDef& asset) override;
  std::optional<double> LastInputBytes(const definitions::AssetDef& asset,
                                       const std::optional<std::string>& partition) override;

 private:
  storage::Storage* storage_;
  runs::PartitionStatusKeeper keeper_;
};

}  // namespace arbiter::planning
