#include "arbiter/emr/emr_serverless_launcher.h"

#include "arbiter/emr/job_requests.h"
#include "arbiter/runs/run_claim.h"

namespace arbiter::emr {

namespace {

using nlohmann::json;
using storage::RunStatus;

std::string Str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

class ServerlessJob final : public RemoteJob {
 public:
  ServerlessJob(AwsConnection* conn, std::string app, std::string job_run, std::string region,
                std::optional<std::string> log_uri)
      : conn_(conn),
        app_(std::move(app)),
        job_run_(std::move(job_run)),
        region_(std::move(region)),
        log_uri_(std::move(log_uri)) {}

  std::string Path() const { return "/applications/" + app_ + "/jobruns/" + job_run_; }

  Result<RemoteStatus> Poll() override {
    using Phase = RemoteStatus::Phase;
    ARBITER_ASSIGN_OR_RETURN(json r, conn_->api->Rest("GetJobRun", "GET", Path(), nullptr, true));
    last_ = r.value("jobRun", json::object());
    const std::string state = Str(last_, "state");
    RemoteStatus s;
    s.description = "job run " + job_run_ + " " + state;
    if (state == "RUNNING" || state == "CANCELLING") {
      s.phase = Phase::kRunning;
    } else if (state == "SUCCESS") {
      s.phase = Phase::kSucceeded;
    } else if (state == "FAILED") {
      s.phase = Phase::kFailed;
      s.reason = "job run " + job_run_ + " failed: " + Str(last_, "stateDetails");
    } else if (state == "CANCELLED") {
      s.phase = Phase::kCanceled;
      s.reason = "job run " + job_run_ + " cancelled: " + Str(last_, "stateDetails");
    }
    return s;
  }

  Status RequestStop() override {
    return conn_->api->Rest("CancelJobRun", "DELETE", Path(), nullptr, true).status();
  }

  void CollectLogs(runs::RunRecorder& recorder) override {
    if (!log_uri_) return;
    std::string base = *log_uri_;
    while (!base.empty() && base.back() == '/') base.pop_back();
    CollectGzipLogs(*conn_->s3,
                    base + "/applications/" + app_ + "/jobs/" + job_run_ + "/SPARK_DRIVER/",
                    recorder);
  }

  std::optional<runs::ResourceUsage> Usage() override {
    runs::ResourceUsage u;
    u.runtime_type = "emr-serverless";
    u.region = region_;
    u.details = Ids();
    // What AWS billed when it says so (1-minute minimum per worker, storage above 20 GB);
    // otherwise what the run used.
    const char* source = last_.contains("billedResourceUtilization") ? "billedResourceUtilization"
                                                                     : "totalResourceUtilization";
    if (last_.contains(source)) {
      const json& ru = last_[source];
      if (ru.contains("vCPUHour")) u.vcpu_hours = ru["vCPUHour"].get<double>();
      if (ru.contains("memoryGBHour")) u.memory_gb_hours = ru["memoryGBHour"].get<double>();
      if (ru.contains("storageGBHour")) u.storage_gb_hours = ru["storageGBHour"].get<double>();
      u.details["utilization"] = source;
    }
    if (last_.contains("totalExecutionDurationSeconds")) {
      u.execution_s = last_["totalExecutionDurationSeconds"].get<double>();
    }
    return u;
  }

  json Ids() const override { return {{"application_id", app_}, {"job_run_id", job_run_}}; }

 private:
  AwsConnection* conn_;
  std::string app_;
  std::string job_run_;
  std::string region_;
  std::optional<std::string> log_uri_;
  json last_ = json::object();
};

// A job run named for this run (ListJobRuns), for a restart that lost the id.
Result<std::optional<std::string>> FindRunJobRun(AwsApiClient& api, const std::string& app,
                                                 const storage::RunRecord& run) {
  ARBITER_ASSIGN_OR_RETURN(json page, api.Rest("ListJobRuns", "GET",
                                               "/applications/" + app + "/jobruns", nullptr, true));
  for (const json& r : page.value("jobRuns", json::array())) {
    if (Str(r, "name") == RunResourceName(run))
      return std::optional<std::string>(Str(r, "id"));  // JobRunSummary names it "id"
  }
  return std::optional<std::string>();
}

}  // namespace

EmrServerlessLauncher::EmrServerlessLauncher(storage::Storage* storage,
                                             EmrServerlessLauncherOptions options)
    : storage_(storage), options_(std::move(options)), lifecycle_(storage, this) {}

Result<std::unique_ptr<runs::PlatformJob>> EmrServerlessLauncher::Submit(
    const runs::RunRequest& request, runs::RunRecorder& recorder) {
  const storage::RunRecord& run = request.run;
  const definitions::EmrServerlessRuntimeConfig& cfg = request.runtime->emr_serverless;
  if (request.asset->job.kind == definitions::JobKind::kCommand) {
    return InvalidArgumentError("EMR Serverless runs Spark and Python scripts only; asset " +
                                run.asset_key + " is a command job");
  }
  ARBITER_ASSIGN_OR_RETURN(RemoteTarget target, ConnectRemote(request, options_.connect));
  JobPlan plan;
  plan.request = &request;
  auto processor = std::make_unique<pipes::MessageProcessor>(&recorder);
  auto pipes = std::make_unique<S3PipesSession>(target.conn->s3.get(), target.conn->s3_options,
                                                target.staging, run, processor.get(),
                                                options_.connect.clock, options_.follow.reader);
  ARBITER_RETURN_IF_ERROR(PrepareRemoteJob(request, *target.conn->s3, target.staging,
                                           options_.python_client_dir, "emr-serverless", *pipes,
                                           recorder, &plan.code, &plan.env));

  // clientToken = run id makes this safe to retry: the same token returns the same run.
  ARBITER_ASSIGN_OR_RETURN(
      json started, target.conn->api->Rest("StartJobRun", "POST",
                                           "/applications/" + cfg.application_id + "/jobruns",
                                           BuildStartJobRun(plan), true));
  const std::string job_run = Str(started, "jobRunId");
  recorder.AddStatus("info", "job run " + job_run + " started on application " + cfg.application_id,
                     {{"job_run_id", job_run}});
  storage::RunUpdate ids;
  ids.external_id = job_run;
  const json first_cursor = {
      {"application_id", cfg.application_id}, {"job_run_id", job_run}, {"next_chunk", 1}};
  ARBITER_RETURN_IF_ERROR(
      runs::StoreExternalIds(*storage_, run, ids, /*running=*/false, &first_cursor, recorder));
  auto job = std::make_unique<ServerlessJob>(target.conn.get(), cfg.application_id, job_run,
                                             cfg.aws.region, cfg.aws.log_uri);
  return MakeRemotePlatformJob(std::move(target.conn), std::move(processor), std::move(pipes),
                               std::move(job), recorder, options_.connect.clock);
}

Result<std::unique_ptr<runs::PlatformJob>> EmrServerlessLauncher::Resume(
    const runs::RunRequest& request, runs::RunRecorder& recorder) {
  const storage::RunRecord& run = request.run;
  const definitions::EmrServerlessRuntimeConfig& cfg = request.runtime->emr_serverless;
  ARBITER_ASSIGN_OR_RETURN(RemoteTarget target, ConnectRemote(request, options_.connect));
  const json& cursor = run.reader_cursor.is_object() ? run.reader_cursor : json::object();
  std::string job_run = cursor.value("job_run_id", run.external_id);
  if (job_run.empty()) {
    ARBITER_ASSIGN_OR_RETURN(std::optional<std::string> found,
                             FindRunJobRun(*target.conn->api, cfg.application_id, run));
    if (!found) {
      return FailedPreconditionError(std::string(runs::kOrchestratorStoppedReason) +
                                     " before its job run was started; nothing runs on EMR "
                                     "Serverless for it");
    }
    job_run = *found;
  }
  recorder.AddStatus("info", "re-attached to job run " + job_run + " after the previous arbiter (" +
                                 run.owner + ") stopped");
  auto processor = std::make_unique<pipes::MessageProcessor>(&recorder);
  auto pipes = std::make_unique<S3PipesSession>(
      target.conn->s3.get(), target.conn->s3_options, target.staging, run, processor.get(),
      options_.connect.clock, ResumeFrom(cursor, options_.follow.reader, *processor));
  auto job = std::make_unique<ServerlessJob>(target.conn.get(), cfg.application_id, job_run,
                                             cfg.aws.region, cfg.aws.log_uri);
  return MakeRemotePlatformJob(std::move(target.conn), std::move(processor), std::move(pipes),
                               std::move(job), recorder, options_.connect.clock);
}

}  // namespace arbiter::emr
