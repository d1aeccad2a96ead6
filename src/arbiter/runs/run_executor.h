// Drives runs to their end with a concurrency limit: starts queued runs,
// re-attaches runs whose arbiter went away, keeps partition status current
// and reports progress. Runtime-agnostic: launchers come from `LauncherFor`.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "arbiter/common/clock.h"
#include "arbiter/runs/launcher.h"
#include "arbiter/runs/partition_status.h"

namespace arbiter::runs {

struct RunProgress {
  int total = 0;
  int running = 0;
  int succeeded = 0;
  int failed = 0;
  int canceled = 0;
  std::chrono::steady_clock::duration elapsed{};
  int done() const { return succeeded + failed + canceled; }
};

class RunExecutor {
 public:
  // The launcher for a runtime, or nullptr when its type is not implemented.
  using LauncherFor = std::function<Launcher*(const definitions::RuntimeConfig&)>;
  // Called with the counts after every change; `finished` is set when a run ended.
  using ProgressFn = std::function<void(const RunProgress&, const storage::RunRecord* finished)>;
  // Called once per run that ended, with its final record and the launcher's
  // result, after its usage is stored (the cost ledger prices it here).
  using RunEndFn = std::function<void(const storage::RunRecord& final, const RunResult& result)>;

  RunExecutor(storage::Storage* storage, const definitions::Project* project,
              const definitions::Environment* env, LauncherFor launcher_for, int concurrency);

  // Follows every run to its end: QUEUED runs are started, active runs (whose
  // owner is gone) re-attached. Returns the final records, in input order.
  Result<std::vector<storage::RunRecord>> RunToEnd(const std::vector<storage::RunRecord>& runs,
                                                   const CancelSignal& cancel,
                                                   const ProgressFn& progress);

  // One run, start (or re-attach) to end, on the calling thread: what RunToEnd
  // does for each of its runs, for callers that schedule runs themselves (the
  // service). Returns the final record; a run left running (cancel.Detach())
  // comes back as stored, not ended.
  Result<storage::RunRecord> FollowOne(const storage::RunRecord& run, const CancelSignal& cancel);
  // Marks the partitions of `runs` in progress (before they are followed).
  Status MarkInProgress(const std::vector<storage::RunRecord>& runs);

  void SetOnRunEnd(RunEndFn fn) { on_run_end_ = std::move(fn); }
  // How often a run waiting for a slot of its runtime looks again.
  void SetSlotPollInterval(std::chrono::milliseconds d) { slot_poll_ = d; }
  // Time for waits, progress and records (the real clock unless set).
  void SetClock(const Clock* clock) { clock_ = clock; }

 private:
  Result<RunResult> RunOne(const storage::RunRecord& run, const CancelSignal& cancel);
  // Waits until the run's runtime has fewer than max_concurrency live runs in
  // storage (every arbiter's, not only ours) and moves the run QUEUED ->
  // STARTING in the same atomic step. Returns a result when the run must not
  // start (canceled while waiting); nullopt when the launcher may go on.
  Result<std::optional<RunResult>> TakeRuntimeSlot(const storage::RunRecord& run,
                                                   const definitions::RuntimeConfig& runtime,
                                                   const CancelSignal& cancel);

  storage::Storage* storage_;
  const definitions::Project* project_;
  const definitions::Environment* env_;
  LauncherFor launcher_for_;
  int concurrency_;
  PartitionStatusKeeper keeper_;
  RunEndFn on_run_end_;
  std::chrono::milliseconds slot_poll_{250};
  const Clock* clock_ = &RealClock();
};

// A new run id: 16 random hex digits.
std::string NewRunId();

// Active runs whose owner (the arbiter following them) is no longer alive.
Result<std::vector<storage::RunRecord>> OrphanedRuns(storage::Storage& storage);

}  // namespace arbiter::runs
