// Backfills as objects. Creating one stores the partitions it covers as index
// ranges (100,000 partitions are a few bytes, queued in well under a second);
// the service then advances it as slots free: each step plans and queues the
// next partitions, one run per asset per partition, a downstream asset's run
// waiting for its upstream runs of the same partition (kAfterTag). Run ids are
// derived from the backfill, asset and partition, so a step repeated after a
// crash queues nothing twice.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "arbiter/cost/engine.h"
#include "arbiter/planning/planner.h"
#include "arbiter/storage/storage.h"

namespace arbiter::service {

// Assets of a backfill or schedule, upstream first.
std::vector<const definitions::AssetDef*> DependencyOrder(
    std::vector<const definitions::AssetDef*> assets);

struct BackfillRequest {
  std::vector<const definitions::AssetDef*> assets;  // any order
  planning::Selection selection;                     // keys, --from/--to, --all-missing
  std::string runtime;                               // empty: automatic placement
  double explore = -1;                               // < 0: the project's budget
  TimePoint now{};
  std::string backfill_id;
};

// Validates the request (the assets share one partitions definition, the
// selection names partitions of it) and builds the record, or returns errors.
// With --all-missing, "missing" means missing for any of the assets.
std::optional<storage::BackfillRecord> NewBackfill(const definitions::Project& project,
                                                   planning::PlanningState& state,
                                                   const BackfillRequest& request,
                                                   std::vector<planning::PlanError>* errors);

struct BackfillStep {
  int partitions = 0;  // partitions handed out in this step
  int runs = 0;        // runs queued
  bool completed = false;
  std::vector<std::string> warnings;
};

// Hands out up to `max_partitions` more partitions of a RUNNING backfill,
// stores its progress, and completes it once every partition was handed out
// and none of its runs is live. `engine` may be null only with a runtime
// named in the backfill.
Result<BackfillStep> AdvanceBackfill(storage::Storage& storage, const definitions::Project& project,
                                     const planning::Planner& planner, const cost::Engine* engine,
                                     storage::BackfillRecord& backfill, int max_partitions,
                                     TimePoint now);

// Progress for people: "1,204 of 100,000 partitions: 1,180 succeeded, ...".
struct BackfillProgress {
  int64_t partitions = 0;  // in the backfill
  int64_t handed_out = 0;  // partitions with runs (of the first asset)
  std::map<storage::RunStatus, int64_t> runs;  // by status
};
Result<BackfillProgress> ProgressOf(storage::Storage& storage,
                                    const storage::BackfillRecord& backfill);

// Stops a backfill: CANCELED, its queued runs canceled, its live runs asked to
// stop (CANCELING, as `arbiter cancel` does). Returns how many runs it touched.
Result<int> CancelBackfill(storage::Storage& storage, storage::BackfillRecord& backfill,
                           const std::string& reason, TimePoint now);

}  // namespace arbiter::service
