// One run lifecycle for every runtime. A platform (local processes,
// Databricks, EMR, EMR Serverless) says how to submit, poll, stop and read
// one job; the PlatformLauncher and FollowRun here do the rest the same way
// everywhere: claim, wait with backoff, record state changes, read pipes
// messages and logs into the run's events, cancel (Ctrl-C or `arbiter cancel`),
// compute.max_duration, transient poll errors, the final outcome, usage and
// the stored end. The reader cursor is stored with every batch of events, so
// a restarted arbiter resumes where the stored data ends. All time goes
// through the Clock, so the lifecycle runs in simulated time in tests.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "arbiter/common/clock.h"
#include "arbiter/runs/launcher.h"
#include "arbiter/runs/run_recorder.h"

namespace arbiter::runs {

// What the platform says of a job at one poll.
struct JobState {
  enum class Phase { kPending, kRunning, kSucceeded, kFailed, kCanceled };
  Phase phase = Phase::kPending;
  std::string description;  // recorded as a status event whenever it changes
  nlohmann::json data;      // attached to that event
  std::string reason;       // why it failed or was canceled
  // Failed because of the platform, not the job (RunResult::system_failure).
  bool system_failure = false;
  bool ended() const {
    return phase == Phase::kSucceeded || phase == Phase::kFailed || phase == Phase::kCanceled;
  }
};

// One job on a platform, as the follower drives it. Not thread-safe: the
// thread following a run owns its job.
class PlatformJob {
 public:
  virtual ~PlatformJob() = default;
  // The job's state now. kUnavailable, kResourceExhausted and kDeadlineExceeded
  // are transient (polled again, up to FollowOptions::max_poll_errors in a row);
  // any other error ends the run as FAILURE with the error's message, which must
  // say what happened (the platform run vanished, credentials were revoked).
  virtual Result<JobState> Poll() = 0;
  // Waits at most `d` for the job to change; true when it may have (poll now).
  // The default sleeps on the clock; a local process wakes the follower as soon
  // as it exits.
  virtual bool Wait(std::chrono::milliseconds d, const Clock& clock) {
    clock.SleepFor(d);
    return false;
  }
  // Moves what the job wrote since the last call (pipes messages, stdout and
  // stderr) into the recorder. With `at_end` the job has ended: read the rest,
  // late chunks included, and end the pipes session when nothing is left.
  // `*more` says more is ready now (reads are bounded batches).
  virtual Status ReadOutput(bool at_end, bool* more) = 0;
  // Asks the platform to stop the job; `force` after the grace period or a
  // second Ctrl-C. Poll tells when it has stopped.
  virtual Status RequestStop(bool force) = 0;
  // After the job ended and its output was read: platform details for the
  // outcome (error output, exit status), usage, logs, clean-up of what the run
  // left on the platform. Problems become warning events, never errors.
  virtual void Finish(RunResult& result) = 0;
  // The platform state kept in the stored reader cursor (ids, read offsets).
  virtual nlohmann::json Cursor() const = 0;
};

struct FollowOptions {
  // Polling starts at poll_initial and grows by poll_growth up to poll_max while
  // nothing changes; back to poll_initial on a change or a stop request.
  std::chrono::milliseconds poll_initial{1000};
  std::chrono::milliseconds poll_max{10000};
  double poll_growth = 1.5;
  // Each wait is scaled by a random factor in [1 - jitter, 1 + jitter], so many
  // runs polled together spread out (platform rate limits are per account).
  double jitter = 0;
  // How often storage is read for `arbiter cancel` (CANCELING) while waiting.
  std::chrono::milliseconds cancel_check{1000};
  // Events are stored when this old (or when a batch is full); 0 = every poll.
  std::chrono::milliseconds flush_interval{0};
  // After a stop request: when to force it (local SIGKILL); 0 = never.
  std::chrono::milliseconds stop_grace{0};
  // After a stop request: how long to wait for the platform to confirm it
  // before the run fails saying so; 0 = wait as long as it takes.
  std::chrono::milliseconds stop_timeout{std::chrono::minutes(20)};
  // Consecutive transient poll errors tolerated before the run fails.
  int max_poll_errors = 10;
  const Clock* clock = &RealClock();
};

// Follows `job` to its end and stores the outcome. `run` in `request` is as
// stored (STARTING, RUNNING or CANCELING) and owned by this process.
Result<RunResult> FollowRun(storage::Storage& storage, const RunRequest& request, PlatformJob& job,
                            RunRecorder& recorder, const CancelSignal& cancel,
                            const FollowOptions& options);

// A runtime's part of the lifecycle: starting a job, and finding one again.
class Platform {
 public:
  virtual ~Platform() = default;
  // Starts the run's job. The run is STARTING and owned by this process. Once the
  // platform accepted the job, Submit stores its ids with StoreExternalIds before
  // it returns, so a restarted arbiter follows that job instead of starting
  // another. An error fails the run (before it started) with its message.
  virtual Result<std::unique_ptr<PlatformJob>> Submit(const RunRequest& request,
                                                      RunRecorder& recorder) = 0;
  // The job of a run whose arbiter went away, from the ids and cursor stored
  // with it (the run is claimed by this process, STARTING, RUNNING or
  // CANCELING). May submit again only when the platform makes that idempotent.
  // An error fails the run with its message.
  virtual Result<std::unique_ptr<PlatformJob>> Resume(const RunRequest& request,
                                                      RunRecorder& recorder) = 0;
  virtual FollowOptions follow_options() const = 0;
  virtual RecorderOptions recorder_options() const = 0;
};

// The Launcher of every runtime: claim, Submit or Resume, FollowRun.
class PlatformLauncher final : public Launcher {
 public:
  // `platform` must outlive the launcher.
  PlatformLauncher(storage::Storage* storage, Platform* platform);
  Result<RunResult> Execute(const RunRequest& request, const CancelSignal& cancel) override;
  Result<RunResult> Reattach(const RunRequest& request, const CancelSignal& cancel) override;

 private:
  Result<RunResult> Follow(const RunRequest& request, Result<std::unique_ptr<PlatformJob>> job,
                           RunRecorder& recorder, const CancelSignal& cancel);

  storage::Storage* storage_;
  Platform* platform_;
};

}  // namespace arbiter::runs
