// The step after planning: a plan's runs become QUEUED runs in storage, each
// created with the atomic claim (CreateRunUnlessClaimed), so a partition
// another arbiter took since the plan was made is skipped, never run twice.
// Each placement decision is stored with its run.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "arbiter/planning/plan.h"
#include "arbiter/storage/storage.h"

namespace arbiter::planning {

struct EnqueueOptions {
  std::string owner;  // the process that will follow the runs ("pid:start_ticks")
  // Run and backfill ids; empty: random (runs::NewRunId).
  std::function<std::string()> new_id;
  // The backfill the runs belong to; empty: a new id when the plan is a
  // backfill (several partitions), else none.
  std::string backfill_id;
  // Called on each run before it is stored (tags of a schedule tick, the
  // upstream runs it waits for).
  std::function<void(storage::RunRecord&)> decorate;
};

struct EnqueueResult {
  std::vector<storage::RunRecord> queued;  // in plan order
  std::vector<SkippedPartition> skipped;   // claimed by another run since planning
  std::vector<std::string> existing;       // ids `decorate` gave that were already stored
  std::vector<std::string> warnings;       // e.g. a placement decision not stored
  std::optional<PlanError> error;          // storage failed; runs queued so far stay
};

EnqueueResult Enqueue(storage::Storage& storage, const Plan& plan, const EnqueueOptions& options);

}  // namespace arbiter::planning
