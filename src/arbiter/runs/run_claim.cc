#include "arbiter/runs/run_claim.h"

#include "arbiter/runs/process.h"

namespace arbiter::runs {

using storage::RunStatus;

std::string SelfOwner() { return CurrentProcess().ToString(); }

Result<std::optional<RunResult>> BeginRun(storage::Storage& storage,
                                          const storage::RunRecord& run) {
  storage::RunUpdate starting;
  starting.owner = SelfOwner();
  ARBITER_ASSIGN_OR_RETURN(
      bool moved, storage.TransitionRun(run.run_id, {RunStatus::kQueued, RunStatus::kStarting},
                                        RunStatus::kStarting, starting));
  if (moved) return std::optional<RunResult>();
  ARBITER_ASSIGN_OR_RETURN(storage::RunRecord now, storage.GetRun(run.run_id));
  return std::optional<RunResult>(
      RunResult{now.status, "run was " + std::string(storage::RunStatusName(now.status)) +
                                " before it started"});
}

Result<std::optional<RunResult>> ClaimOrphanedRun(storage::Storage& storage,
                                                  const storage::RunRecord& run,
                                                  const Clock& clock) {
  storage::RunUpdate claim;
  claim.owner = SelfOwner();
  claim.if_owner = run.owner;
  ARBITER_ASSIGN_OR_RETURN(bool claimed,
                           storage.TransitionRun(run.run_id, {run.status}, run.status, claim));
  if (!claimed)
    return FailedPreconditionError("run " + run.run_id + " is being followed by another arbiter");
  if (run.status != RunStatus::kQueued) return std::optional<RunResult>();
  // Never started: nothing ran, so the partition goes back to what it was.
  storage::RunUpdate u;
  u.ended_at = clock.Now();
  u.failure_reason = "orchestrator stopped before the run started";
  ARBITER_RETURN_IF_ERROR(
      storage.TransitionRun(run.run_id, {RunStatus::kQueued}, RunStatus::kCanceled, u).status());
  return std::optional<RunResult>(RunResult{RunStatus::kCanceled, *u.failure_reason});
}

Result<RunResult> FailRun(storage::Storage& storage, const storage::RunRecord& run,
                          const std::vector<RunStatus>& from, RunRecorder& recorder,
                          std::string reason, bool system_failure, const nlohmann::json& cursor,
                          const Clock& clock) {
  recorder.AddStatus("error", reason);
  ARBITER_RETURN_IF_ERROR(recorder.Flush(cursor));
  RunResult result{RunStatus::kFailure, std::move(reason)};
  result.system_failure = system_failure;
  storage::RunUpdate u;
  u.ended_at = clock.Now();
  u.failure_reason = result.reason;
  u.failure_kind = FailureKindOf(result);
  ARBITER_RETURN_IF_ERROR(storage.TransitionRun(run.run_id, from, RunStatus::kFailure, u).status());
  return result;
}

Status StoreExternalIds(storage::Storage& storage, const storage::RunRecord& run,
                        storage::RunUpdate ids, bool running, const nlohmann::json* cursor,
                        RunRecorder& recorder) {
  if (cursor) ARBITER_RETURN_IF_ERROR(recorder.Flush(*cursor));
  ARBITER_ASSIGN_OR_RETURN(
      bool moved, storage.TransitionRun(run.run_id, {RunStatus::kStarting},
                                        running ? RunStatus::kRunning : RunStatus::kStarting, ids));
  if (moved) return Status::Ok();
  // `arbiter cancel` got in between: keep the ids, the follower sees CANCELING.
  return storage.TransitionRun(run.run_id, {RunStatus::kCanceling}, RunStatus::kCanceling, ids)
      .status();
}

}  // namespace arbiter::runs
