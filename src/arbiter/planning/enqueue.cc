#include "arbiter/planning/enqueue.h"

#include "arbiter/cost/engine.h"
#include "arbiter/cost/ledger.h"
#include "arbiter/runs/run_executor.h"

namespace arbiter::planning {

EnqueueResult Enqueue(storage::Storage& storage, const Plan& plan, const EnqueueOptions& options) {
  std::function<std::string()> new_id = options.new_id ? options.new_id : runs::NewRunId;
  EnqueueResult out;
  const std::string backfill =
      !options.backfill_id.empty() ? options.backfill_id : plan.backfill() ? new_id() : "";
  for (const PlannedRun& planned : plan.runs) {
    storage::RunRecord r;
    r.run_id = new_id();
    r.asset_key = plan.asset->key.str();
    r.partition_key = planned.partition;
    r.runtime = planned.runtime;
    if (planned.placement && planned.placement->explored) {
      r.tags[cost::kPlacementTag] = cost::kExploreTagValue;
      r.tags[cost::kExploreExtraTag] = std::to_string(planned.placement->explore_extra_usd);
    }
    if (!plan.asset->code_version.empty()) r.tags[cost::kCodeVersionTag] = plan.asset->code_version;
    r.created_at = plan.now;
    r.owner = options.owner;
    r.priority = plan.asset->priority;
    // Launched by the service: its retries are the service's to create.
    if (options.owner == storage::kQueueOwner) r.tags["queue"] = true;
    if (!backfill.empty()) r.tags["backfill"] = backfill;
    if (options.decorate) options.decorate(r);
    Result<std::optional<storage::RunRecord>> holder = storage.CreateRunUnlessClaimed(r);
    if (!holder.ok() && holder.status().code() == StatusCode::kAlreadyExists) {
      // A derived id (decorate) whose run an earlier attempt of this same
      // step created: queued once, as intended.
      out.existing.push_back(r.run_id);
      continue;
    }
    if (!holder.ok()) {
      out.error = PlanError{"cannot queue a run: " + holder.status().message(), "storage", ""};
      return out;
    }
    if (*holder) {
      out.skipped.push_back({planned.partition, **holder});
      continue;
    }
    if (planned.placement) {
      Status placed = cost::RecordPlacement(storage, r, *planned.placement, r.created_at);
      if (!placed.ok()) {
        out.warnings.push_back("placement of run " + r.run_id + " not stored: " + placed.message());
      }
    }
    out.queued.push_back(std::move(r));
  }
  return out;
}

}  // namespace arbiter::planning
