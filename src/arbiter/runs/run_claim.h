// Who follows a run, in one place for every runtime. A run is owned by the
// arbiter process following it ("pid:start" in the run record); these steps
// move ownership and the early states atomically in storage, so two arbiters
// never follow (or start) the same run.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "arbiter/common/clock.h"
#include "arbiter/runs/launcher.h"
#include "arbiter/runs/run_recorder.h"
#include "arbiter/storage/storage.h"

namespace arbiter::runs {

// "pid:start" of this process, the owner written into the runs it follows.
std::string SelfOwner();

// Start of a launch: QUEUED (or STARTING, when the executor took a runtime slot)
// -> STARTING with this process as owner. A result when the run must not start:
// canceled before, or taken by another arbiter.
Result<std::optional<RunResult>> BeginRun(storage::Storage& storage, const storage::RunRecord& run);

// Start of a re-attach: takes the run over from its dead owner (fails when
// another arbiter claimed it first). A run still QUEUED never reached its
// platform: it ends CANCELED and the result says so.
Result<std::optional<RunResult>> ClaimOrphanedRun(storage::Storage& storage,
                                                  const storage::RunRecord& run, const Clock& clock);

// Ends a run that failed outside the job (it never started, or its platform run
// cannot be followed): an error event, then FAILURE if the run is in `from`.
// `system_failure`: the platform or orchestrator failed, not the job's code.
Result<RunResult> FailRun(storage::Storage& storage, const storage::RunRecord& run,
                          const std::vector<storage::RunStatus>& from, RunRecorder& recorder,
                          std::string reason, bool system_failure, const nlohmann::json& cursor,
                          const Clock& clock);

// Stores the platform's id of a run that the platform accepted, and its first
// cursor (with the events so far; null: none worth a transaction of its own),
// before anything else: from here on a restarted arbiter follows that platform
// run instead of starting another. STARTING -> RUNNING when `running` (the
// platform runs it already: a local process), else it stays STARTING. A run
// canceled meanwhile keeps CANCELING; the follower stops the job.
Status StoreExternalIds(storage::Storage& storage, const storage::RunRecord& run,
                        storage::RunUpdate ids, bool running, const nlohmann::json* cursor,
                        RunRecorder& recorder);

// The states of a run that is being followed.
inline const std::vector<storage::RunStatus>& ActiveStatuses() {
  static const std::vector<storage::RunStatus> active = {
      storage::RunStatus::kStarting, storage::RunStatus::kRunning, storage::RunStatus::kCanceling};
  return active;
}

}  // namespace arbiter::runs
