#include "arbiter/runs/run_follower.h"

#include <algorithm>
#include <random>

#include "arbiter/common/duration.h"
#include "arbiter/runs/run_claim.h"
#include "arbiter/runs/usage.h"

namespace arbiter::runs {

namespace {

using storage::RunStatus;
using Phase = JobState::Phase;
using std::chrono::milliseconds;

bool Transient(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kResourceExhausted ||
         s.code() == StatusCode::kDeadlineExceeded;
}

std::string Seconds(milliseconds d) {
  return FormatDuration(std::chrono::duration_cast<std::chrono::seconds>(d));
}

// A stop asked of the job, and how far it got.
struct StopState {
  enum class Why { kNone, kCancel, kTimeout } why = Why::kNone;
  std::string reason;
  std::optional<MonoTime> asked_at;  // set once the platform took the request
  bool forced = false;
  bool unconfirmed = false;  // the platform never confirmed it: the run fails saying so
};

}  // namespace

Result<RunResult> FollowRun(storage::Storage& storage, const RunRequest& request, PlatformJob& job,
                            RunRecorder& recorder, const CancelSignal& cancel,
                            const FollowOptions& options) {
  const Clock& clock = *options.clock;
  const storage::RunRecord& run = request.run;
  RunStatus status = run.status;
  std::string last_description = run.reader_cursor.is_object()
                                     ? run.reader_cursor.value("state", std::string())
                                     : std::string();
  auto cursor = [&] {
    nlohmann::json c = job.Cursor();
    c["state"] = last_description;
    return c;
  };

  std::optional<MonoTime> deadline;
  if (const auto& max = request.asset->compute.max_duration) {
    auto elapsed = clock.Now() - run.started_at.value_or(clock.Now());
    deadline = clock.Monotonic() + (*max - elapsed);
  }
  StopState stop;
  auto deliver_stop = [&] {
    Status s = job.RequestStop(false);
    if (s.ok()) {
      stop.asked_at = clock.Monotonic();
    } else {
      recorder.AddStatus("error", "stop request failed (will retry): " + s.message());
    }
  };
  auto request_stop = [&](StopState::Why why, std::string reason) {
    stop.why = why;
    stop.reason = std::move(reason);
    recorder.AddStatus("warning", stop.reason);
    deliver_stop();
  };
  // Whether `arbiter cancel` (another process) asked for this run to stop.
  auto canceled_in_storage = [&]() -> Result<bool> {
    ARBITER_ASSIGN_OR_RETURN(storage::RunRecord latest, storage.GetRun(run.run_id));
    return latest.status == RunStatus::kCanceling;
  };

  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> jitter(1 - options.jitter, 1 + options.jitter);
  JobState state;
  int poll_errors = 0;
  milliseconds interval = options.poll_initial;
  MonoTime last_flush = clock.Monotonic(), last_cancel_check = clock.Monotonic();
  bool more = false;
  bool cancel_seen = false;  // the wait below saw CANCELING in storage
  while (true) {
    Result<JobState> polled = job.Poll();
    if (!polled.ok()) {
      if (!Transient(polled.status())) {
        state = {Phase::kFailed, "", nullptr, polled.status().message(), true};
        break;
      }
      if (++poll_errors > options.max_poll_errors) {
        state = {Phase::kFailed, "", nullptr,
                 "lost track of the run after " + std::to_string(poll_errors) +
                     " failed status polls: " + polled.status().message(),
                 true};
        break;
      }
      recorder.AddStatus("warning",
                         "status poll failed (will retry): " + polled.status().message());
    } else {
      poll_errors = 0;
      state = std::move(*polled);
      if (!state.description.empty() && state.description != last_description) {
        recorder.AddStatus("info", state.description, state.data);
        last_description = state.description;
        interval = options.poll_initial;
      }
      if (status == RunStatus::kStarting && state.phase != Phase::kPending) {
        storage::RunUpdate u;
        u.started_at = clock.Now();
        ARBITER_ASSIGN_OR_RETURN(bool moved, storage.TransitionRun(run.run_id,
                                                                   {RunStatus::kStarting},
                                                                   RunStatus::kRunning, u));
        if (moved) status = RunStatus::kRunning;
      }
    }
    ARBITER_RETURN_IF_ERROR(job.ReadOutput(false, &more));
    if (polled.ok() && state.ended()) break;
    if (cancel.detached()) {
      // The service is stopping: keep what was read, leave the job running.
      ARBITER_RETURN_IF_ERROR(recorder.Flush(cursor()));
      return RunResult{status, "left running: this arbiter stopped following it"};
    }

    const MonoTime now = clock.Monotonic();
    if (recorder.ShouldFlush() ||
        (recorder.HasPending() && now - last_flush >= options.flush_interval)) {
      ARBITER_RETURN_IF_ERROR(recorder.Flush(cursor()));
      last_flush = now;
    }
    if (stop.why == StopState::Why::kNone) {
      if (cancel.requested()) {
        ARBITER_RETURN_IF_ERROR(storage
                                    .TransitionRun(run.run_id,
                                                   {RunStatus::kStarting, RunStatus::kRunning},
                                                   RunStatus::kCanceling, {})
                                    .status());
        request_stop(StopState::Why::kCancel, "canceled: " + cancel.reason());
      } else if (deadline && now >= *deadline) {
        request_stop(StopState::Why::kTimeout,
                     "timed out after " + FormatDuration(*request.asset->compute.max_duration) +
                         " (compute.max_duration)");
      } else if (cancel_seen || now - last_cancel_check >= options.cancel_check) {
        last_cancel_check = now;
        ARBITER_ASSIGN_OR_RETURN(bool canceling, canceled_in_storage());
        if (canceling) request_stop(StopState::Why::kCancel, "canceled by `arbiter cancel`");
      }
      if (stop.why != StopState::Why::kNone) interval = options.poll_initial;
    } else if (!stop.asked_at) {
      deliver_stop();  // the platform did not take the first request: ask again
    } else if (!stop.forced &&
               ((options.stop_grace.count() > 0 && now - *stop.asked_at >= options.stop_grace) ||
                cancel.forced())) {
      stop.forced = true;
      recorder.AddStatus("warning", cancel.forced()
                                        ? std::string("asked again to stop (Ctrl-C twice): "
                                                      "stopping the job without waiting")
                                        : "the job did not stop within " +
                                              Seconds(options.stop_grace) + "; forcing it");
      Status s = job.RequestStop(true);
      if (!s.ok()) recorder.AddStatus("error", "forced stop failed: " + s.message());
    } else if (options.stop_timeout.count() > 0 && now - *stop.asked_at >= options.stop_timeout) {
      state = {Phase::kFailed, "", nullptr,
               stop.reason + ", but the platform did not confirm the stop within " +
                   Seconds(options.stop_timeout) + "; check the run there",
               true};
      stop.unconfirmed = true;
      break;
    }
    if (more) continue;  // the job wrote faster than one batch: read on before waiting

    // Wait for the next poll in slices, so a cancel cuts the wait short.
    const auto scaled = milliseconds(static_cast<int64_t>(
        static_cast<double>(interval.count()) * (options.jitter > 0 ? jitter(rng) : 1.0)));
    const MonoTime wake = clock.Monotonic() + scaled;
    while (true) {
      const MonoTime at = clock.Monotonic();
      if (at >= wake) break;
      const auto left = std::chrono::duration_cast<milliseconds>(wake - at);
      if (job.Wait(std::min(options.cancel_check, std::max(left, milliseconds(1))), clock)) break;
      if (stop.why != StopState::Why::kNone) continue;
      if (cancel.requested() || cancel.detached()) break;
      if (clock.Monotonic() - last_cancel_check >= options.cancel_check) {
        last_cancel_check = clock.Monotonic();
        Result<bool> canceling = canceled_in_storage();
        if (canceling.ok() && *canceling) {
          cancel_seen = true;
          break;
        }
      }
    }
    interval = std::min(options.poll_max, milliseconds(static_cast<int64_t>(
                                              static_cast<double>(interval.count()) *
                                              options.poll_growth)));
  }

  // The rest of the output: late pipes chunks, the last log lines.
  do {
    ARBITER_RETURN_IF_ERROR(job.ReadOutput(true, &more));
    if (more) ARBITER_RETURN_IF_ERROR(recorder.Flush(cursor()));
  } while (more);
  if (stop.why == StopState::Why::kNone && state.phase != Phase::kSucceeded) {
    // `arbiter cancel` may have stopped the job before this loop looked.
    ARBITER_ASSIGN_OR_RETURN(bool canceling, canceled_in_storage());
    if (canceling) {
      stop.why = StopState::Why::kCancel;
      stop.reason = "canceled by `arbiter cancel`";
    }
  }

  RunResult result;
  const std::optional<std::string>& exception = recorder.closed_exception();
  if (stop.unconfirmed) {
    result = {RunStatus::kFailure, state.reason};
    result.system_failure = true;
  } else if (stop.why == StopState::Why::kCancel && state.phase != Phase::kSucceeded) {
    result = {RunStatus::kCanceled, stop.reason};
  } else if (stop.why == StopState::Why::kTimeout && state.phase != Phase::kSucceeded) {
    result = {RunStatus::kFailure, stop.reason};
  } else if (state.phase == Phase::kSucceeded) {
    result = exception ? RunResult{RunStatus::kFailure,
                                   "the job reported an exception: " + *exception}
                       : RunResult{RunStatus::kSuccess, ""};
  } else if (state.phase == Phase::kCanceled) {
    result = {RunStatus::kCanceled, state.reason};
  } else {
    result = {RunStatus::kFailure, state.reason};
    result.system_failure = state.system_failure;
    if (exception && result.reason.find(*exception) == std::string::npos) {
      result.reason += "; the job reported: " + *exception;
    }
  }
  job.Finish(result);
  nlohmann::json data;
  if (result.usage) data = {{"usage", UsageToJson(*result.usage)}};
  recorder.AddStatus(result.status == RunStatus::kSuccess ? "info" : "error",
                     "ended: " + std::string(storage::RunStatusName(result.status)) +
                         (result.reason.empty() ? "" : ": " + result.reason),
                     std::move(data));
  ARBITER_RETURN_IF_ERROR(recorder.Flush(cursor()));
  return recorder.End(std::move(result), ActiveStatuses());
}

PlatformLauncher::PlatformLauncher(storage::Storage* storage, Platform* platform)
    : storage_(storage), platform_(platform) {}

Result<RunResult> PlatformLauncher::Execute(const RunRequest& request,
                                            const CancelSignal& cancel) {
  ARBITER_ASSIGN_OR_RETURN(std::optional<RunResult> not_started,
                           BeginRun(*storage_, request.run));
  if (not_started) return *not_started;
  RunRecorder recorder(storage_, request.run, platform_->recorder_options());
  return Follow(request, platform_->Submit(request, recorder), recorder, cancel);
}

Result<RunResult> PlatformLauncher::Reattach(const RunRequest& request,
                                             const CancelSignal& cancel) {
  const Clock& clock = *platform_->follow_options().clock;
  ARBITER_ASSIGN_OR_RETURN(std::optional<RunResult> ended,
                           ClaimOrphanedRun(*storage_, request.run, clock));
  if (ended) return *ended;
  RunRecorder recorder(storage_, request.run, platform_->recorder_options());
  return Follow(request, platform_->Resume(request, recorder), recorder, cancel);
}

Result<RunResult> PlatformLauncher::Follow(const RunRequest& request,
                                           Result<std::unique_ptr<PlatformJob>> job,
                                           RunRecorder& recorder, const CancelSignal& cancel) {
  const FollowOptions options = platform_->follow_options();
  if (!job.ok()) {
    // The platform refused or is unreachable, or the job cannot be found again
    // after this arbiter's predecessor stopped: not the job's fault. Anything
    // else (a setting the platform rejects) is the user's to fix.
    const Status& e = job.status();
    const bool system = Transient(e) || e.code() == StatusCode::kInternal ||
                        e.message().find(kOrchestratorStoppedReason) != std::string::npos;
    return FailRun(*storage_, request.run, ActiveStatuses(), recorder, e.message(), system,
                   request.run.reader_cursor.is_null() ? nlohmann::json::object()
                                                       : request.run.reader_cursor,
                   *options.clock);
  }
  // Submit and Resume moved the run on (ids, RUNNING, CANCELING): follow it as stored.
  RunRequest current = request;
  ARBITER_ASSIGN_OR_RETURN(current.run, storage_->GetRun(request.run.run_id));
  return FollowRun(*storage_, current, **job, recorder, cancel, options);
}

}  // namespace arbiter::runs
