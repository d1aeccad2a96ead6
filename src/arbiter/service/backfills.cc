#include "arbiter/service/backfills.h"

#include <algorithm>
#include <map>
#include <set>

#include "arbiter/common/strings.h"
#include "arbiter/planning/enqueue.h"
#include "arbiter/planning/partition_selection.h"
#include "arbiter/service/derived_id.h"
#include "arbiter/service/dispatcher.h"

namespace arbiter::service {

using definitions::AssetDef;
using definitions::PartitionSet;
using storage::BackfillRecord;
using storage::BackfillStatus;
using storage::RunStatus;

std::vector<const AssetDef*> DependencyOrder(std::vector<const AssetDef*> assets) {
  std::set<std::string> in;
  for (const AssetDef* a : assets) in.insert(a->key.str());
  std::vector<const AssetDef*> out;
  std::set<std::string> placed;
  while (!assets.empty()) {
    auto ready = std::find_if(assets.begin(), assets.end(), [&](const AssetDef* a) {
      for (const auto& d : a->deps) {
        if (in.count(d.str()) && !placed.count(d.str())) return false;
      }
      return true;
    });
    if (ready == assets.end()) ready = assets.begin();  // a cycle: the loader rejects those
    placed.insert((*ready)->key.str());
    out.push_back(*ready);
    assets.erase(ready);
  }
  return out;
}

std::optional<BackfillRecord> NewBackfill(const definitions::Project& project,
                                          planning::PlanningState& state,
                                          const BackfillRequest& request,
                                          std::vector<planning::PlanError>* errors) {
  if (request.assets.empty()) {
    errors->push_back({"a backfill needs at least one asset", "ASSET", ""});
    return std::nullopt;
  }
  const AssetDef* first = request.assets.front();
  const definitions::PartitionsDef* def = project.PartitionsOf(*first);
  if (!def) {
    errors->push_back({"asset " + Quote(first->key.str()) + " is not partitioned", "ASSET",
                       "run it with 'arbiter materialize " + first->key.str() + "'"});
    return std::nullopt;
  }
  for (const AssetDef* a : request.assets) {
    if (a->partitions != first->partitions) {
      errors->push_back(
          {"assets of one backfill must share a partitions definition: " + Quote(a->key.str()) +
               " uses " + Quote(a->partitions.empty() ? "none" : a->partitions) + ", " +
               Quote(first->key.str()) + " uses " + Quote(first->partitions),
           "ASSET", "start one backfill per partitions definition"});
      return std::nullopt;
    }
    if (!request.runtime.empty() && request.runtime != "auto") {
      if (auto e = planning::CheckRequestedRuntime(project, *a, request.runtime)) {
        errors->push_back(*e);
        return std::nullopt;
      }
    }
  }
  BackfillRecord b;
  b.backfill_id = request.backfill_id;
  b.created_at = b.updated_at = request.now;
  b.partitions_fingerprint = def->Describe();
  PartitionSet all;
  for (const AssetDef* a : DependencyOrder(request.assets)) {
    // Without --all-missing every asset selects the same set; with it, the union.
    if (b.assets.empty() || request.selection.all_missing) {
      std::optional<PartitionSet> chosen =
          planning::SelectPartitionIndices(*a, *def, request.selection, state, errors);
      if (!chosen) return std::nullopt;
      all = all.Union(*chosen);
    }
    b.assets.push_back(a->key.str());
  }
  b.partitions = std::move(all);
  b.runtime = request.runtime == "auto" ? "" : request.runtime;
  if (request.explore >= 0) b.options["explore"] = request.explore;
  b.status = BackfillStatus::kRunning;
  return b;
}

Result<BackfillStep> AdvanceBackfill(storage::Storage& storage, const definitions::Project& project,
                                     const planning::Planner& planner, const cost::Engine* engine,
                                     BackfillRecord& backfill, int max_partitions, TimePoint now) {
  BackfillStep step;
  std::vector<const AssetDef*> assets;
  for (const std::string& key : backfill.assets) {
    const AssetDef* a = project.FindAsset(key);
    if (!a) {
      backfill.status = BackfillStatus::kCanceled;
      backfill.message = "asset " + key + " is no longer defined in the project";
      backfill.updated_at = now;
      ARBITER_RETURN_IF_ERROR(
          storage.UpdateBackfill(backfill, {BackfillStatus::kRunning}).status());
      step.warnings.push_back(backfill.message);
      return step;
    }
    assets.push_back(a);
  }
  const definitions::PartitionsDef* def = project.PartitionsOf(*assets.front());
  if (!def || def->Describe() != backfill.partitions_fingerprint) {
    backfill.status = BackfillStatus::kPaused;
    backfill.message = "the partitions definition of " + backfill.assets.front() +
                       " changed since the backfill was created; cancel it and start another";
    backfill.updated_at = now;
    ARBITER_RETURN_IF_ERROR(storage.UpdateBackfill(backfill, {BackfillStatus::kRunning}).status());
    step.warnings.push_back(backfill.message);
    return step;
  }

  // The next partitions no run was created for yet (by the first asset's progress).
  PartitionSet todo = backfill.partitions.Difference(backfill.launched[backfill.assets.front()]);
  std::vector<int64_t> next;
  for (const auto& r : todo.ranges()) {
    for (int64_t i = r.begin; i < r.end && static_cast<int>(next.size()) < max_partitions; ++i) {
      if (i < def->Size()) next.push_back(i);
    }
  }
  if (!next.empty()) {
    // run id of (asset, partition) queued in this step, for the downstream `after` links.
    QueuedRuns queued;
    for (const AssetDef* asset : assets) {
      planning::PlanRequest request;
      request.asset = asset;
      for (int64_t i : next) request.selection.partitions.push_back(def->KeyAt(i));
      request.placement.runtime = backfill.runtime;
      request.placement.explore = backfill.options.value("explore", -1.0);
      request.now = now;
      planning::Plan plan = planner.MakePlan(request, engine);
      if (!plan.ok()) {
        backfill.status = BackfillStatus::kPaused;
        backfill.message = "cannot plan " + asset->key.str() + ": " + plan.errors.front().what;
        backfill.updated_at = now;
        ARBITER_RETURN_IF_ERROR(
            storage.UpdateBackfill(backfill, {BackfillStatus::kRunning}).status());
        step.warnings.push_back(backfill.message);
        return step;
      }
      planning::EnqueueOptions options;
      options.owner = storage::kQueueOwner;
      options.backfill_id = backfill.backfill_id;
      options.decorate = [&](storage::RunRecord& r) {
        r.run_id = DerivedRunId("backfill/" + backfill.backfill_id + "/" + r.asset_key + "/" +
                                r.partition_key.value_or(""));
        LinkToUpstream(*asset, queued, r);
      };
      planning::EnqueueResult result = planning::Enqueue(storage, plan, options);
      for (const std::string& w : result.warnings) step.warnings.push_back(w);
      if (result.error) return InternalError(result.error->what);
      for (const storage::RunRecord& r : result.queued) {
        queued[{r.asset_key, r.partition_key.value_or("")}] = r.run_id;
      }
      step.runs += static_cast<int>(result.queued.size());
      PartitionSet& done = backfill.launched[asset->key.str()];
      for (int64_t i : next) done.Add(i);
    }
    step.partitions = static_cast<int>(next.size());
  }

  // Done when every partition was handed out and none of its runs is live.
  if (backfill.partitions.Difference(backfill.launched[backfill.assets.front()]).Empty()) {
    ARBITER_ASSIGN_OR_RETURN(auto counts, storage.BackfillRunCounts(backfill.backfill_id));
    int64_t live = 0;
    for (RunStatus s : {RunStatus::kQueued, RunStatus::kStarting, RunStatus::kRunning,
                        RunStatus::kCanceling}) {
      if (auto it = counts.find(s); it != counts.end()) live += it->second;
    }
    if (live == 0) {
      backfill.status = BackfillStatus::kCompleted;
      auto n = [&](RunStatus s) {
        auto it = counts.find(s);
        return it == counts.end() ? int64_t{0} : it->second;
      };
      backfill.message = std::to_string(n(RunStatus::kSuccess)) + " run(s) succeeded, " +
                         std::to_string(n(RunStatus::kFailure)) + " failed, " +
                         std::to_string(n(RunStatus::kCanceled)) + " canceled";
      step.completed = true;
    }
  }
  backfill.updated_at = now;
  ARBITER_ASSIGN_OR_RETURN(bool stored,
                           storage.UpdateBackfill(backfill, {BackfillStatus::kRunning}));
  if (!stored) {
    // Paused or canceled meanwhile (`arbiter backfill pause`): the runs queued
    // above wait (paused) or are canceled by the command; progress is kept.
    ARBITER_ASSIGN_OR_RETURN(BackfillRecord latest, storage.GetBackfill(backfill.backfill_id));
    latest.launched = backfill.launched;
    latest.updated_at = now;
    ARBITER_RETURN_IF_ERROR(storage
                                .UpdateBackfill(latest, {BackfillStatus::kPaused,
                                                         BackfillStatus::kCanceled})
                                .status());
    step.completed = false;
    backfill = latest;
  }
  return step;
}

Result<BackfillProgress> ProgressOf(storage::Storage& storage, const BackfillRecord& backfill) {
  BackfillProgress p;
  p.partitions = backfill.partitions.Count();
  if (!backfill.assets.empty()) {
    auto it = backfill.launched.find(backfill.assets.front());
    if (it != backfill.launched.end()) p.handed_out = it->second.Count();
  }
  ARBITER_ASSIGN_OR_RETURN(p.runs, storage.BackfillRunCounts(backfill.backfill_id));
  return p;
}

Result<int> CancelBackfill(storage::Storage& storage, BackfillRecord& backfill,
                           const std::string& reason, TimePoint now) {
  backfill.status = BackfillStatus::kCanceled;
  backfill.message = reason;
  backfill.updated_at = now;
  ARBITER_ASSIGN_OR_RETURN(bool moved,
                           storage.UpdateBackfill(backfill, {BackfillStatus::kRunning,
                                                             BackfillStatus::kPaused}));
  if (!moved) {
    ARBITER_ASSIGN_OR_RETURN(backfill, storage.GetBackfill(backfill.backfill_id));
    return FailedPreconditionError("backfill " + backfill.backfill_id + " is already " +
                                   std::string(storage::BackfillStatusName(backfill.status)));
  }
  int touched = 0;
  ARBITER_ASSIGN_OR_RETURN(std::vector<storage::RunRecord> active, storage.ActiveRuns());
  for (const storage::RunRecord& r : active) {
    if (r.tags.value("backfill", std::string()) != backfill.backfill_id) continue;
    storage::RunUpdate u;
    u.failure_reason = "backfill canceled: " + reason;
    if (r.status == RunStatus::kQueued) {
      u.ended_at = now;
      ARBITER_ASSIGN_OR_RETURN(bool done,
                               storage.TransitionRun(r.run_id, {RunStatus::kQueued},
                                                     RunStatus::kCanceled, u));
      touched += done;
    } else {
      ARBITER_ASSIGN_OR_RETURN(bool done, storage.TransitionRun(r.run_id,
                                                                {RunStatus::kStarting,
                                                                 RunStatus::kRunning},
                                                                RunStatus::kCanceling, {}));
      touched += done;
    }
  }
  return touched;
}

}  // namespace arbiter::service
