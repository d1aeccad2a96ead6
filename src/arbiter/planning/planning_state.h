// What the planner reads about the world, and nothing else: which partitions
// are materialized or in progress, which live runs hold which partitions, and
// the input size a partition last reported. The storage-backed view is
// StoragePlanningState; tests use a map in memory.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "arbiter/common/status.h"
#include "arbiter/definitions/project.h"
#include "arbiter/storage/records.h"

namespace arbiter::planning {

class PlanningState {
 public:
  virtual ~PlanningState() = default;
  // The asset's partition status (asked only for --all-missing).
  virtual Result<storage::PartitionStatus> PartitionStatusOf(const definitions::AssetDef& asset) = 0;
  // The live runs (QUEUED, STARTING, RUNNING, CANCELING) of the asset by
  // partition (nullopt: the unpartitioned asset's run).
  virtual Result<std::map<std::optional<std::string>, storage::RunRecord>> LiveRunsOf(
      const definitions::AssetDef& asset) = 0;
  // `arbiter/input_bytes` of the partition's newest materialization, if reported.
  virtual std::optional<double> LastInputBytes(const definitions::AssetDef& asset,
                                               const std::optional<std::string>& partition) = 0;
};

}  // namespace arbiter::planning
