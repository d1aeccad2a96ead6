// The seam between run orchestration and a platform. A Launcher starts one
// run and follows it to the end, storing its events and final status; the
// local runtime is the first, Databricks and EMR follow the same interface.
#pragma once

#include <atomic>
#include <mutex>
#include <optional>
#include <string>

#include "arbiter/common/status.h"
#include "arbiter/definitions/project.h"
#include "arbiter/definitions/secret_ref.h"
#include "arbiter/runs/usage.h"
#include "arbiter/storage/storage.h"

namespace arbiter::runs {

struct RunRequest {
  const definitions::Project* project = nullptr;
  const definitions::AssetDef* asset = nullptr;
  const definitions::RuntimeConfig* runtime = nullptr;
  const definitions::Environment* env = nullptr;  // resolves ${env:}/${file:} at launch
  storage::RunRecord run;                         // as stored
};

// Cancellation asked for by this process (Ctrl-C). `arbiter cancel` from
// another process goes through storage (status CANCELING) instead.
class CancelSignal {
 public:
  void Request(std::string reason) {
    std::lock_guard lock(mu_);
    if (!requested_) reason_ = std::move(reason);
    requested_ = true;
  }
  bool requested() const { return requested_; }
  std::string reason() const {
    std::lock_guard lock(mu_);
    return reason_;
  }
  // Asked again (a second Ctrl-C): stop jobs now, without the grace period.
  void Force() { forced_ = true; }
  bool forced() const { return forced_; }
  // Stop following, but leave the jobs running (the service shuts down): each
  // follower stores what it read and returns; the next start re-attaches.
  void Detach() { detached_ = true; }
  bool detached() const { return detached_; }

 private:
  mutable std::mutex mu_;
  std::atomic<bool> requested_{false};
  std::atomic<bool> forced_{false};
  std::atomic<bool> detached_{false};
  std::string reason_;
};

struct RunResult {
  RunResult() = default;
  RunResult(storage::RunStatus s, std::string why, bool reported = false)
      : status(s), reason(std::move(why)), reported_materialization(reported) {}

  storage::RunStatus status = storage::RunStatus::kFailure;
  std::string reason;  // empty on success
  // A FAILURE of the platform or the orchestrator (capacity lost, cluster
  // bootstrap, internal error, lost track of the job), not of the job's code:
  // the service retries these by default (RunRecord::failure_kind "system").
  bool system_failure = false;
  // Whether the job reported a materialization itself; if not, a successful
  // run records one (a job without pipes still materializes its asset).
  bool reported_materialization = false;
  // What the run consumed, when the platform says (remote runtimes); stored
  // in the run's cost record for the ledger to price.
  std::optional<ResourceUsage> usage;
};

class Launcher {
 public:
  virtual ~Launcher() = default;
  // Starts a QUEUED run and follows it to its end.
  virtual Result<RunResult> Execute(const RunRequest& request, const CancelSignal& cancel) = 0;
  // Follows a run whose arbiter went away (its owner is gone); never starts
  // it again. A run whose process is gone ends as FAILURE.
  virtual Result<RunResult> Reattach(const RunRequest& request, const CancelSignal& cancel) = 0;
};

// RunRecord::failure_kind of a result: "system", "user" or "" (not a failure).
inline const char* FailureKindOf(const RunResult& r) {
  if (r.status != storage::RunStatus::kFailure) return "";
  return r.system_failure ? "system" : "user";
}

// What a follower returns after CancelSignal::Detach: the run stays as stored
// (not ended), owned by this process until it exits.
inline bool LeftRunning(const RunResult& r) { return !storage::IsTerminal(r.status); }

// Why a run whose arbiter died and whose process is gone failed.
inline constexpr const char* kOrchestratorStoppedReason =
    "orchestrator stopped while the run was in progress";

}  // namespace arbiter::runs
