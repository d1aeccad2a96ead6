#include "arbiter/emr/remote_follower.h"

#include "arbiter/pipes/params.h"
#include "arbiter/runs/job_environment.h"
#include "arbiter/runs/pipes_context.h"

namespace arbiter::emr {

S3PipesSession::S3PipesSession(aws::S3Client* s3, const aws::S3Options& s3_options,
                               const S3Location& staging, const storage::RunRecord& run,
                               pipes::MessageProcessor* processor, const Clock* clock,
                               pipes::BlobReaderOptions reader_options)
    : store_(s3, staging.bucket, s3_options),
      prefix_(staging.Key("runs/" + run.run_id)),
      reader_(std::make_unique<pipes::BlobChunkMessageReader>(&store_, prefix_ + "/messages",
                                                              processor, clock, reader_options)),
      injector_(&store_, prefix_ + "/context.json") {}

Result<pipes::BootstrapParams> S3PipesSession::Start(const pipes::OrderedJson& context) {
  pipes::BootstrapParams bootstrap;
  ARBITER_ASSIGN_OR_RETURN(bootstrap.context, injector_.Inject(context));
  ARBITER_ASSIGN_OR_RETURN(bootstrap.messages, reader_->Prepare());
  return bootstrap;
}

Status S3PipesSession::Cleanup() {
  ARBITER_RETURN_IF_ERROR(reader_->Cleanup());
  return injector_.Cleanup();
}

Result<std::map<std::string, std::string>> JobEnvironment(const runs::RunRequest& request,
                                                          const pipes::BootstrapParams& bootstrap) {
  // Never a resolved secret: EMR stores step arguments and job drivers with the run.
  return runs::JobEnvironment(request, definitions::JobEnvTarget::kAwsJob, &bootstrap);
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

Result<RemoteTarget> ConnectRemote(const runs::RunRequest& request, const ConnectOptions& options) {
  const definitions::AwsTarget& aws = request.runtime->type == definitions::RuntimeType::kEmr
                                          ? request.runtime->emr.aws
                                          : request.runtime->emr_serverless.aws;
  RemoteTarget t;
  ARBITER_ASSIGN_OR_RETURN(t.staging, S3Location::Parse(aws.staging));
  ARBITER_ASSIGN_OR_RETURN(t.conn, ConnectAws(*request.runtime, *request.env, options));
  return t;
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
  Result<pipes::BootstrapParams> bootstrap = pipes.Start(context);
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

namespace {

using Phase = runs::JobState::Phase;

class RemotePlatformJob final : public runs::PlatformJob {
 public:
  RemotePlatformJob(std::unique_ptr<AwsConnection> conn,
                    std::unique_ptr<pipes::MessageProcessor> processor,
                    std::unique_ptr<S3PipesSession> pipes, std::unique_ptr<RemoteJob> job,
                    runs::RunRecorder& recorder, const Clock* clock)
      : clock_(clock ? clock : &RealClock()),
        conn_(std::move(conn)),
        processor_(std::move(processor)),
        pipes_(std::move(pipes)),
        job_(std::move(job)),
        recorder_(recorder) {}

  Result<runs::JobState> Poll() override {
    Result<RemoteStatus> polled = job_->Poll();
    if (!polled.ok()) {
      const Status& e = polled.status();
      bool transient = e.code() == StatusCode::kUnavailable ||
                       e.code() == StatusCode::kResourceExhausted ||
                       e.code() == StatusCode::kDeadlineExceeded;
      if (transient) return e;
      return FailedPreconditionError("lost track of the run: " + e.message());
    }
    runs::JobState s;
    switch (polled->phase) {
      case RemoteStatus::Phase::kPending: s.phase = Phase::kPending; break;
      case RemoteStatus::Phase::kRunning: s.phase = Phase::kRunning; break;
      case RemoteStatus::Phase::kSucceeded: s.phase = Phase::kSucceeded; break;
      case RemoteStatus::Phase::kFailed: s.phase = Phase::kFailed; break;
      case RemoteStatus::Phase::kCanceled: s.phase = Phase::kCanceled; break;
    }
    s.description = polled->description;
    s.data = job_->Ids();
    s.reason = polled->reason;
    s.system_failure = polled->system_failure;
    return s;
  }

  Status ReadOutput(bool at_end, bool* more) override {
    *more = false;
    if (!at_end) {
      pipes_->reader().Poll();
      return Status::Ok();
    }
    // Late chunks: the job's last upload may land after the platform says it ended.
    pipes::JobFinishedSignal finished(clock_);
    finished.Notify();
    pipes_->reader().Drain(finished);
    return Status::Ok();
  }

  Status RequestStop(bool force) override {
    if (force) return Status::Ok();  // the platform's stop is the only one there is
    recorder_.AddStatus("info", "asking the platform to stop the run");
    return job_->RequestStop();
  }

  void Finish(runs::RunResult& result) override {
    job_->CollectLogs(recorder_);
    result.usage = job_->Usage();
    if (Status s = pipes_->Cleanup(); !s.ok()) {
      recorder_.AddStatus("warning", "pipes objects left in S3: " + s.message());
    }
  }

  nlohmann::json Cursor() const override {
    nlohmann::json c = job_->Ids();
    c["next_chunk"] = pipes_->reader().next_chunk();
    c["opened"] = processor_->received_opened();
    c["closed"] = processor_->received_closed();
    return c;
  }

 private:
  const Clock* clock_;
  std::unique_ptr<AwsConnection> conn_;
  std::unique_ptr<pipes::MessageProcessor> processor_;
  std::unique_ptr<S3PipesSession> pipes_;
  std::unique_ptr<RemoteJob> job_;
  runs::RunRecorder& recorder_;
};

}  // namespace

std::unique_ptr<runs::PlatformJob> MakeRemotePlatformJob(
    std::unique_ptr<AwsConnection> conn, std::unique_ptr<pipes::MessageProcessor> processor,
    std::unique_ptr<S3PipesSession> pipes, std::unique_ptr<RemoteJob> job,
    runs::RunRecorder& recorder, const Clock* clock) {
  return std::make_unique<RemotePlatformJob>(std::move(conn), std::move(processor),
                                             std::move(pipes), std::move(job), recorder, clock);
}

runs::FollowOptions RunFollowOptions(const FollowOptions& options, const Clock* clock) {
  runs::FollowOptions f;
  f.poll_initial = options.poll_initial;
  f.poll_max = options.poll_max;
  f.cancel_check = options.cancel_check;
  f.stop_timeout = options.stop_timeout;
  f.max_poll_errors = options.max_poll_errors;
  if (clock) f.clock = clock;
  return f;
}

}  // namespace arbiter::emr
