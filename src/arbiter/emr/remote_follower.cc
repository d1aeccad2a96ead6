#include "arbiter/emr/remote_follower.h"

#include <thread>

#include "arbiter/common/duration.h"
#include "arbiter/pipes/params.h"
#include "arbiter/runs/process.h"
#include "arbiter/runs/pipes_context.h"

namespace arbiter::emr {

namespace {

using storage::RunStatus;
using SteadyClock = std::chrono::steady_clock;

TimePoint NowSeconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

}  // namespace

std::string SelfOwner() { return runs::CurrentProcess().ToString(); }

S3PipesSession::S3PipesSession(aws::S3Client* s3, const aws::S3Options& s3_options,
                               const S3Location& staging, const storage::RunRecord& run,
                               pipes::MessageProcessor* processor, const Clock* clock,
                               pipes::BlobReaderOptions reader_options)
    : store_(s3, staging.bucket, s3_options),
      prefix_(staging.Key("runs/" + run.run_id)),
      reader_(std::make_unique<pipes::BlobChunkMessageReader>(&store_, prefix_ + "/messages",
                                                              processor, clock, reader_options)),
      injector_(&store_, prefix_ + "/context.json") {}

Result<std::map<std::string, std::string>> S3PipesSession::Start(
    const pipes::OrderedJson& context) {
  pipes::BootstrapParams bootstrap;
  ARBITER_ASSIGN_OR_RETURN(bootstrap.context, injector_.Inject(context));
  ARBITER_ASSIGN_OR_RETURN(bootstrap.messages, reader_->Prepare());
  std::map<std::string, std::string> env;
  for (auto& [k, v] : pipes::BootstrapEnvVars(bootstrap)) env[k] = v;
  return env;
}

Status S3PipesSession::Cleanup() {
  ARBITER_RETURN_IF_ERROR(reader_->Cleanup());
  return injector_.Cleanup();
}

Result<std::map<std::string, std::string>> JobEnvironment(
    const runs::RunRequest& request, const std::map<std::string, std::string>& bootstrap) {
  std::map<std::string, std::string> env;
  for (const auto& [name, value] : request.asset->job.env) {
    // Never a resolved secret: EMR stores step arguments and job drivers with the run.
    Result<std::string> v = value.ResolveForJob(*request.env, definitions::JobEnvTarget::kAwsJob);
    if (!v.ok()) return v.status().WithContext("environment variable " + name + " of the job");
    env[name] = *v;
  }
  env["ARBITER_RUN_ID"] = request.run.run_id;
  env["ARBITER_ASSET"] = request.run.asset_key;
  if (request.run.partition_key) env["ARBITER_PARTITION"] = *request.run.partition_key;
  for (const auto& [k, v] : bootstrap) env[k] = v;
  return env;
}

pipes::BlobReaderOptions ResumeFrom(const nlohmann::json& cursor, pipes::BlobReaderOptions base,
                                    pipes::MessageProcessor& processor) {
  base.first_chunk = cursor.value("next_chunk", int64_t{1});
  processor.RestoreSession(cursor.value("opened", false), cursor.value("closed", false));
  return base;
}

void AddLogLines(runs::RunRecorder& recorder, pipes::StdStream stream, std::string_view text) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    recorder.AddOutputLine(stream, line, line.size());
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

Result<std::optional<runs::RunResult>> BeginRemoteRun(storage::Storage* storage,
                                                      const storage::RunRecord& run) {
  storage::RunUpdate starting;
  starting.owner = SelfOwner();
  // STARTING: the executor already took a slot of the runtime for it.
  ARBITER_ASSIGN_OR_RETURN(
      bool moved, storage->TransitionRun(run.run_id, {RunStatus::kQueued, RunStatus::kStarting},
                                         RunStatus::kStarting, starting));
  if (moved) return std::optional<runs::RunResult>();
  ARBITER_ASSIGN_OR_RETURN(storage::RunRecord now, storage->GetRun(run.run_id));
  return std::optional<runs::RunResult>(runs::RunResult{
      now.status,
      "run was " + std::string(storage::RunStatusName(now.status)) + " before it started"});
}

Result<std::optional<runs::RunResult>> ClaimRemoteRun(storage::Storage* storage,
                                                      const storage::RunRecord& run) {
  storage::RunUpdate claim;
  claim.owner = SelfOwner();
  claim.if_owner = run.owner;
  ARBITER_ASSIGN_OR_RETURN(bool claimed,
                           storage->TransitionRun(run.run_id, {run.status}, run.status, claim));
  if (!claimed)
    return FailedPreconditionError("run " + run.run_id + " is being followed by another arbiter");
  if (run.status != RunStatus::kQueued) return std::optional<runs::RunResult>();
  storage::RunUpdate u;
  u.ended_at = NowSeconds();
  u.failure_reason = "orchestrator stopped before the run started";
  ARBITER_RETURN_IF_ERROR(
      storage->TransitionRun(run.run_id, {RunStatus::kQueued}, RunStatus::kCanceled, u).status());
  return std::optional<runs::RunResult>(runs::RunResult{RunStatus::kCanceled, *u.failure_reason});
}

Result<RemoteTarget> ConnectRemote(const runs::RunRequest& request, const ConnectOptions& options) {
  const definitions::AwsTarget& aws = request.runtime->type == definitions::RuntimeType::kEmr
                                          ? request.runtime->emr.aws
                                          : request.runtime->emr_serverless.aws;
  RemoteTarget t;
  ARBITER_ASSIGN_OR_RETURN(t.staging, S3Location::Parse(aws.staging));
  ARBITER_ASSIGN_OR_RETURN(t.conn, ConnectAws(*request.runtime, *request.env, options));
  return t;
}

Status StoreRemoteIds(storage::Storage* storage, const storage::RunRecord& run,
                      const std::string& external_id, const nlohmann::json& cursor,
                      runs::RunRecorder& recorder) {
  storage::RunUpdate ids;
  ids.external_id = external_id;
  ARBITER_ASSIGN_OR_RETURN(bool moved, storage->TransitionRun(run.run_id, {RunStatus::kStarting},
                                                              RunStatus::kStarting, ids));
  if (!moved) {  // `arbiter cancel` got in: the follower sees CANCELING and stops the run
    ARBITER_RETURN_IF_ERROR(
        storage->TransitionRun(run.run_id, {RunStatus::kCanceling}, RunStatus::kCanceling, ids)
            .status());
  }
  return recorder.Flush(cursor);
}

Status PrepareRemoteJob(const runs::RunRequest& request, aws::S3Client& s3,
                        const S3Location& staging, const std::string& pipes_client,
                        std::string_view runtime_type, S3PipesSession& pipes,
                        runs::RunRecorder& recorder, StagedCode* code,
                        std::map<std::string, std::string>* env) {
  if (request.asset->job.kind != definitions::JobKind::kCommand) {
    Result<StagedCode> staged =
        StageJobCode(s3, staging, request.project->root, request.asset->job, pipes_client);
    if (!staged.ok()) return staged.status().WithContext("stage the job's code");
    *code = *staged;
    recorder.AddStatus("info", "code staged: " + code->entry_point + " (" +
                                   std::to_string(code->uploaded) + " new file(s))");
  }
  ARBITER_ASSIGN_OR_RETURN(pipes::OrderedJson context,
                           runs::BuildPipesContext(request, runtime_type));
  Result<std::map<std::string, std::string>> bootstrap = pipes.Start(context);
  if (!bootstrap.ok()) return bootstrap.status().WithContext("pipes context to S3");
  ARBITER_ASSIGN_OR_RETURN(*env, JobEnvironment(request, *bootstrap));
  return Status::Ok();
}

void CollectGzipLogs(aws::S3Client& s3, const std::string& dir, runs::RunRecorder& recorder) {
  for (auto [name, stream] : {std::pair{"stdout.gz", pipes::StdStream::kStdout},
                              std::pair{"stderr.gz", pipes::StdStream::kStderr}}) {
    Result<std::string> text = FetchGzipObject(s3, dir + name);
    if (text.ok()) {
      AddLogLines(recorder, stream, *text);
    } else {
      recorder.AddStatus("warning", "log " + dir + name + " not read: " + text.status().message());
    }
  }
}

Result<runs::RunResult> FailRemoteRun(storage::Storage* storage, const storage::RunRecord& run,
                                      RunStatus from, runs::RunRecorder& recorder,
                                      std::string reason) {
  recorder.AddStatus("error", reason);
  ARBITER_RETURN_IF_ERROR(recorder.Flush(run.reader_cursor));
  storage::RunUpdate u;
  u.ended_at = NowSeconds();
  u.failure_reason = reason;
  ARBITER_RETURN_IF_ERROR(
      storage->TransitionRun(run.run_id, {from}, RunStatus::kFailure, u).status());
  return runs::RunResult{RunStatus::kFailure, std::move(reason)};
}

Result<runs::RunResult> FollowRemoteRun(storage::Storage* storage, const runs::RunRequest& request,
                                        RemoteJob& job, S3PipesSession& pipes,
                                        pipes::MessageProcessor& processor,
                                        runs::RunRecorder& recorder,
                                        const runs::CancelSignal& cancel,
                                        const FollowOptions& options) {
  const storage::RunRecord& run = request.run;
  RunStatus status = run.status;
  auto cursor = [&] {
    nlohmann::json c = job.Ids();
    c["next_chunk"] = pipes.reader().next_chunk();
    c["opened"] = processor.received_opened();
    c["closed"] = processor.received_closed();
    return c;
  };

  std::optional<SteadyClock::time_point> deadline;
  if (const auto& max = request.asset->compute.max_duration) {
    auto elapsed = NowSeconds() - run.started_at.value_or(run.created_at);
    deadline = SteadyClock::now() + (*max - elapsed);
  }
  enum class Stop { kNone, kCancel, kTimeout } stop = Stop::kNone;
  std::string stop_reason;
  std::optional<SteadyClock::time_point> stop_sent;
  auto request_stop = [&](Stop why, std::string reason) {
    stop = why;
    stop_reason = std::move(reason);
    stop_sent = SteadyClock::now();
    recorder.AddStatus("warning", stop_reason + "; asking the platform to stop the run");
    Status s = job.RequestStop();
    if (!s.ok()) recorder.AddStatus("error", "stop request failed: " + s.message());
  };

  std::string last_description;
  RemoteStatus state;
  int poll_errors = 0;
  auto interval = options.poll_initial;
  SteadyClock::time_point last_cancel_check = SteadyClock::now();
  while (true) {
    Result<RemoteStatus> polled = job.Poll();
    if (!polled.ok()) {
      bool transient = polled.status().code() == StatusCode::kUnavailable ||
                       polled.status().code() == StatusCode::kResourceExhausted ||
                       polled.status().code() == StatusCode::kDeadlineExceeded;
      if (!transient || ++poll_errors > options.max_poll_errors) {
        state = {RemoteStatus::Phase::kFailed, "",
                 "lost track of the run: " + polled.status().message()};
        break;
      }
      recorder.AddStatus("warning",
                         "status poll failed (will retry): " + polled.status().message());
    } else {
      poll_errors = 0;
      state = *polled;
      if (state.description != last_description) {
        recorder.AddStatus("info", state.description, job.Ids());
        last_description = state.description;
      }
      if (state.phase == RemoteStatus::Phase::kRunning && status == RunStatus::kStarting) {
        storage::RunUpdate u;
        u.started_at = NowSeconds();
        ARBITER_ASSIGN_OR_RETURN(
            bool moved,
            storage->TransitionRun(run.run_id, {RunStatus::kStarting}, RunStatus::kRunning, u));
        if (moved) status = RunStatus::kRunning;
      }
    }
    pipes.reader().Poll();
    if (recorder.HasPending()) ARBITER_RETURN_IF_ERROR(recorder.Flush(cursor()));
    if (state.phase == RemoteStatus::Phase::kSucceeded ||
        state.phase == RemoteStatus::Phase::kFailed ||
        state.phase == RemoteStatus::Phase::kCanceled) {
      break;
    }
    auto now = SteadyClock::now();
    if (stop == Stop::kNone) {
      if (cancel.requested()) {
        ARBITER_RETURN_IF_ERROR(storage
                                    ->TransitionRun(run.run_id,
                                                    {RunStatus::kStarting, RunStatus::kRunning},
                                                    RunStatus::kCanceling, {})
                                    .status());
        request_stop(Stop::kCancel, "canceled: " + cancel.reason());
      } else if (deadline && now >= *deadline) {
        request_stop(Stop::kTimeout, "timed out after " +
                                         FormatDuration(*request.asset->compute.max_duration) +
                                         " (compute.max_duration)");
      } else if (now - last_cancel_check >= options.cancel_check) {
        last_cancel_check = now;
        ARBITER_ASSIGN_OR_RETURN(storage::RunRecord latest, storage->GetRun(run.run_id));
        if (latest.status == RunStatus::kCanceling) {
          request_stop(Stop::kCancel, "canceled by `arbiter cancel`");
        }
      }
      if (stop != Stop::kNone) interval = options.poll_initial;
    } else if (now - *stop_sent >= options.stop_timeout) {
      state = {RemoteStatus::Phase::kFailed, "",
               stop_reason + ", but the platform did not confirm the stop within " +
                   FormatDuration(
                       std::chrono::duration_cast<std::chrono::seconds>(options.stop_timeout))};
      break;
    }
    std::this_thread::sleep_for(interval);
    interval = std::min(options.poll_max, interval * 3 / 2);
  }

  // Late chunks: the job's last upload may land after the platform says it ended.
  pipes::JobFinishedSignal finished;
  finished.Notify();
  pipes.reader().Drain(finished);
  job.CollectLogs(recorder);

  runs::RunResult result;
  using Phase = RemoteStatus::Phase;
  if (stop == Stop::kCancel) {
    result = {RunStatus::kCanceled, stop_reason};
  } else if (stop == Stop::kTimeout) {
    result = {RunStatus::kFailure, stop_reason};
  } else if (state.phase == Phase::kSucceeded && !recorder.closed_exception()) {
    result = {RunStatus::kSuccess, ""};
  } else if (state.phase == Phase::kSucceeded) {
    result = {RunStatus::kFailure,
              "the job reported an exception: " + *recorder.closed_exception()};
  } else if (state.phase == Phase::kCanceled) {
    result = {RunStatus::kCanceled, state.reason};
  } else {
    result = {RunStatus::kFailure, state.reason};
    if (recorder.closed_exception())
      result.reason += "; the job reported: " + *recorder.closed_exception();
  }
  result.usage = job.Usage();
  recorder.AddStatus(result.status == RunStatus::kSuccess ? "info" : "error",
                     "ended: " + std::string(storage::RunStatusName(result.status)) +
                         (result.reason.empty() ? "" : ": " + result.reason));
  ARBITER_RETURN_IF_ERROR(recorder.Flush(cursor()));
  Status cleaned = pipes.Cleanup();
  if (!cleaned.ok()) {
    recorder.AddStatus("warning", "pipes objects left in S3: " + cleaned.message());
    ARBITER_RETURN_IF_ERROR(recorder.Flush(cursor()));
  }

  return recorder.End(std::move(result));
}

}  // namespace arbiter::emr
