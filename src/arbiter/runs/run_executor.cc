#include "arbiter/runs/run_executor.h"

#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include "arbiter/runs/process.h"

namespace arbiter::runs {

using storage::RunStatus;

std::string NewRunId() {
  static std::mutex mu;
  static std::mt19937_64 rng{(static_cast<uint64_t>(std::random_device{}()) << 32) ^
                             std::random_device{}()};
  std::lock_guard lock(mu);
  uint64_t v = rng();
  char buf[17];
  for (int i = 15; i >= 0; --i, v >>= 4) buf[i] = "0123456789abcdef"[v & 0xF];
  buf[16] = '\0';
  return buf;
}

Result<std::vector<storage::RunRecord>> OrphanedRuns(storage::Storage& storage) {
  ARBITER_ASSIGN_OR_RETURN(std::vector<storage::RunRecord> active, storage.ActiveRuns());
  std::vector<storage::RunRecord> out;
  for (storage::RunRecord& r : active) {
    // Waiting in the service's queue: nobody follows it yet, by design.
    if (r.status == storage::RunStatus::kQueued && r.owner == storage::kQueueOwner) continue;
    std::optional<ProcessId> owner = ProcessId::Parse(r.owner);
    if (!owner || !IsProcessAlive(*owner)) out.push_back(std::move(r));
  }
  return out;
}

RunExecutor::RunExecutor(storage::Storage* storage, const definitions::Project* project,
                         const definitions::Environment* env, LauncherFor launcher_for,
                         int concurrency)
    : storage_(storage),
      project_(project),
      env_(env),
      launcher_for_(std::move(launcher_for)),
      concurrency_(std::max(1, concurrency)),
      keeper_(storage, project) {}

Result<RunResult> RunExecutor::RunOne(const storage::RunRecord& run, const CancelSignal& cancel) {
  const definitions::AssetDef* asset = project_->FindAsset(run.asset_key);
  auto rt = project_->runtimes.find(run.runtime);
  Launcher* launcher = nullptr;
  std::string problem;
  if (!asset) {
    problem = "asset " + run.asset_key + " is no longer defined in the project";
  } else if (rt == project_->runtimes.end()) {
    problem = "runtime " + run.runtime + " is no longer defined in the project";
  } else if (!(launcher = launcher_for_(rt->second))) {
    problem = "runtime " + run.runtime + " (type " +
              std::string(definitions::RuntimeTypeName(rt->second.type)) +
              ") is not implemented yet";
  }
  if (!problem.empty()) {
    storage::RunUpdate u;
    u.failure_reason = problem;
    ARBITER_RETURN_IF_ERROR(storage_
                                ->TransitionRun(run.run_id,
                                                {RunStatus::kQueued, RunStatus::kStarting,
                                                 RunStatus::kRunning, RunStatus::kCanceling},
                                                RunStatus::kFailure, u)
                                .status());
    return RunResult{RunStatus::kFailure, problem};
  }
  // A retry after lost capacity runs on on-demand nodes: the asset as defined,
  // with spot off, for this run only.
  std::optional<definitions::AssetDef> on_demand;
  if (run.tags.value("on_demand", false) && asset->compute.spot) {
    on_demand = *asset;
    on_demand->compute.spot = false;
    asset = &*on_demand;
  }
  RunRequest request{project_, asset, &rt->second, env_, run};
  // Ours to start: queued by this process (or handed to it by `materialize
  // --detach`). Anything else was left by an arbiter that went away.
  if (run.status == RunStatus::kQueued && run.owner == CurrentProcess().ToString()) {
    ARBITER_ASSIGN_OR_RETURN(std::optional<RunResult> held,
                             TakeRuntimeSlot(run, rt->second, cancel));
    if (held) return *held;
    ARBITER_ASSIGN_OR_RETURN(RunResult result, launcher->Execute(request, cancel));
    if (result.status == RunStatus::kCanceling) {
      // `arbiter cancel` came between taking the slot and the launcher's start:
      // nothing ran, so the cancel is complete.
      storage::RunUpdate u;
      u.failure_reason = "canceled before it started";
      (void)storage_->TransitionRun(run.run_id, {RunStatus::kCanceling}, RunStatus::kCanceled, u);
      result = RunResult{RunStatus::kCanceled, *u.failure_reason};
    }
    return result;
  }
  return launcher->Reattach(request, cancel);
}

Result<std::optional<RunResult>> RunExecutor::TakeRuntimeSlot(
    const storage::RunRecord& run, const definitions::RuntimeConfig& runtime,
    const CancelSignal& cancel) {
  if (runtime.max_concurrency <= 0) return std::optional<RunResult>();
  storage::RunUpdate take;
  take.if_owner = run.owner;
  take.if_runtime_below = runtime.max_concurrency;
  bool noted = false;
  while (true) {
    ARBITER_ASSIGN_OR_RETURN(bool moved, storage_->TransitionRun(run.run_id, {RunStatus::kQueued},
                                                                 RunStatus::kStarting, take));
    if (moved) return std::optional<RunResult>();
    ARBITER_ASSIGN_OR_RETURN(storage::RunRecord now, storage_->GetRun(run.run_id));
    // No longer queued by us (canceled from another terminal): the launcher
    // finds that out and says so.
    if (now.status != RunStatus::kQueued || now.owner != run.owner) {
      return std::optional<RunResult>();
    }
    if (cancel.detached()) {
      // The service is stopping: the run goes back to its queue.
      storage::RunUpdate u;
      u.if_owner = run.owner;
      u.owner = storage::kQueueOwner;
      (void)storage_->TransitionRun(run.run_id, {RunStatus::kQueued}, RunStatus::kQueued, u);
      return std::optional<RunResult>(RunResult{RunStatus::kQueued, "back in the queue"});
    }
    if (cancel.requested()) {
      storage::RunUpdate u;
      u.failure_reason = "canceled before it started: " + cancel.reason();
      (void)storage_->TransitionRun(run.run_id, {RunStatus::kQueued}, RunStatus::kCanceled, u);
      return std::optional<RunResult>(RunResult{RunStatus::kCanceled, *u.failure_reason});
    }
    if (!noted) {
      std::vector<storage::RunEvent> note(1);
      note[0].timestamp_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 clock_->WallTime().time_since_epoch())
                                 .count();
      note[0].kind = "status";
      note[0].level = "info";
      note[0].message = "waiting: runtime " + runtime.name + " has max_concurrency " +
                        std::to_string(runtime.max_concurrency) +
                        " and that many runs are live (this or other arbiters)";
      ARBITER_RETURN_IF_ERROR(storage_->AppendEvents(run.run_id, &note).status());
      noted = true;
    }
    clock_->SleepFor(slot_poll_);
  }
}

Status RunExecutor::MarkInProgress(const std::vector<storage::RunRecord>& runs) {
  std::map<std::string, std::vector<std::string>> keys_by_asset;
  for (const storage::RunRecord& r : runs) {
    if (r.partition_key) keys_by_asset[r.asset_key].push_back(*r.partition_key);
  }
  for (const auto& [asset_key, keys] : keys_by_asset) {
    if (const definitions::AssetDef* asset = project_->FindAsset(asset_key)) {
      ARBITER_RETURN_IF_ERROR(keeper_.MarkInProgress(*asset, keys));
    }
  }
  return Status::Ok();
}

Result<storage::RunRecord> RunExecutor::FollowOne(const storage::RunRecord& run,
                                                  const CancelSignal& cancel) {
  Result<RunResult> result = RunResult{RunStatus::kCanceled, ""};
  if (cancel.requested() && run.status == RunStatus::kQueued) {
    storage::RunUpdate u;
    u.failure_reason = "canceled before it started: " + cancel.reason();
    (void)storage_->TransitionRun(run.run_id, {RunStatus::kQueued}, RunStatus::kCanceled, u);
  } else {
    result = RunOne(run, cancel);
  }
  if (result.ok() && LeftRunning(*result)) return storage_->GetRun(run.run_id);
  Status after = result.status();
  if (result.ok()) {
    const definitions::AssetDef* asset = project_->FindAsset(run.asset_key);
    if (result->status == RunStatus::kSuccess && !result->reported_materialization) {
      storage::Materialization m;
      m.asset_key = run.asset_key;
      m.partition_key = run.partition_key;
      m.run_id = run.run_id;
      m.timestamp = clock_->Now();
      m.metadata = {{"arbiter/recorded_by", {{"type", "text"}, {"raw_value", "run succeeded"}}}};
      after = storage_->RecordMaterialization(&m);
    }
    if (after.ok() && asset && run.partition_key) {
      after = keeper_.MarkEnded(*asset, *run.partition_key, result->status);
    }
  }
  if (result.ok() && result->usage && after.ok()) {
    // Keep what placement stored before the run (its predicted cost).
    Result<std::optional<storage::CostRecord>> existing = storage_->GetCostRecord(run.run_id);
    storage::CostRecord c =
        existing.ok() && existing->has_value() ? **existing : storage::CostRecord{};
    c.run_id = run.run_id;
    c.runtime = run.runtime;
    c.usage = UsageToJson(*result->usage);
    c.recorded_at = clock_->Now();
    after = storage_->PutCostRecord(c);
  }
  Result<storage::RunRecord> final_record = storage_->GetRun(run.run_id);
  if (result.ok() && final_record.ok() && on_run_end_) on_run_end_(*final_record, *result);
  if (!after.ok()) return after;
  return final_record;
}

Result<std::vector<storage::RunRecord>> RunExecutor::RunToEnd(
    const std::vector<storage::RunRecord>& runs, const CancelSignal& cancel,
    const ProgressFn& progress) {
  const MonoTime start = clock_->Monotonic();
  std::mutex mu;
  RunProgress counts;
  counts.total = static_cast<int>(runs.size());
  Status first_error;
  std::vector<storage::RunRecord> finals(runs.size());
  // Partitions of queued runs are in progress from now on.
  ARBITER_RETURN_IF_ERROR(MarkInProgress(runs));

  std::atomic<size_t> next{0};
  auto report = [&](const storage::RunRecord* finished) {
    counts.elapsed = clock_->Monotonic() - start;
    if (progress) progress(counts, finished);
  };
  auto worker = [&] {
    while (true) {
      size_t i = next++;
      if (i >= runs.size()) return;
      const storage::RunRecord& run = runs[i];
      const bool starts = !(cancel.requested() && run.status == RunStatus::kQueued);
      if (starts) {
        std::lock_guard lock(mu);
        ++counts.running;
        report(nullptr);
      }
      Result<storage::RunRecord> final_record = FollowOne(run, cancel);
      std::lock_guard lock(mu);
      if (starts) --counts.running;
      if (!final_record.ok() && first_error.ok()) first_error = final_record.status();
      Result<storage::RunRecord> stored =
          final_record.ok() ? final_record : storage_->GetRun(run.run_id);
      finals[i] = stored.ok() ? *stored : run;
      switch (finals[i].status) {
        case RunStatus::kSuccess:
          ++counts.succeeded;
          break;
        case RunStatus::kCanceled:
          ++counts.canceled;
          break;
        default:
          ++counts.failed;
          break;
      }
      report(&finals[i]);
    }
  };
  std::vector<std::thread> threads;
  int n = std::min<int>(concurrency_, static_cast<int>(runs.size()));
  for (int t = 0; t < n; ++t) threads.emplace_back(worker);
  for (std::thread& t : threads) t.join();
  if (!first_error.ok()) return first_error;
  return finals;
}

}  // namespace arbiter::runs
