#include "arbiter/emr/emr_serverless_launcher.h"

#include "arbiter/emr/job_requests.h"

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
    : storage_(storage), options_(std::move(options)) {}

Result<runs::RunResult> EmrServerlessLauncher::Execute(const runs::RunRequest& request,
                                                       const runs::CancelSignal& cancel) {
  const storage::RunRecord& run = request.run;
  const definitions::EmrServerlessRuntimeConfig& cfg = request.runtime->emr_serverless;
  runs::RunRecorder recorder(storage_, run, options_.follow.recorder);
  ARBITER_ASSIGN_OR_RETURN(std::optional<runs::RunResult> not_started,
                           BeginRemoteRun(storage_, run));
  if (not_started) return *not_started;
  auto fail = [&](const Status& s) {
    return FailRemoteRun(storage_, run, RunStatus::kStarting, recorder, s.message());
  };
  if (request.asset->job.kind == definitions::JobKind::kCommand) {
    return fail(InvalidArgumentError("EMR Serverless runs Spark and Python scripts only; asset " +
                                     run.asset_key + " is a command job"));
  }
  Result<RemoteTarget> target = ConnectRemote(request, options_.connect);
  if (!target.ok()) return fail(target.status());
  JobPlan plan;
  plan.request = &request;
  pipes::MessageProcessor processor(&recorder);
  S3PipesSession pipes(target->conn->s3.get(), target->conn->s3_options, target->staging, run,
                       &processor, options_.connect.clock, options_.follow.reader);
  Status prepared =
      PrepareRemoteJob(request, *target->conn->s3, target->staging, options_.python_client_dir,
                       "emr-serverless", pipes, recorder, &plan.code, &plan.env);
  if (!prepared.ok()) return fail(prepared);

  // clientToken = run id makes this safe to retry: the same token returns the same run.
  Result<json> started = target->conn->api->Rest("StartJobRun", "POST",
                                                 "/applications/" + cfg.application_id + "/jobruns",
                                                 BuildStartJobRun(plan), true);
  if (!started.ok()) return fail(started.status());
  const std::string job_run = Str(*started, "jobRunId");
  recorder.AddStatus("info", "job run " + job_run + " started on application " + cfg.application_id,
                     {{"job_run_id", job_run}});
  ARBITER_RETURN_IF_ERROR(StoreRemoteIds(
      storage_, run, job_run,
      {{"application_id", cfg.application_id}, {"job_run_id", job_run}, {"next_chunk", 1}},
      recorder));
  runs::RunRequest followed = request;
  followed.run.status = RunStatus::kStarting;
  ServerlessJob job(target->conn.get(), cfg.application_id, job_run, cfg.aws.region,
                    cfg.aws.log_uri);
  return FollowRemoteRun(storage_, followed, job, pipes, processor, recorder, cancel,
                         options_.follow);
}

Result<runs::RunResult> EmrServerlessLauncher::Reattach(const runs::RunRequest& request,
                                                        const runs::CancelSignal& cancel) {
  const storage::RunRecord& run = request.run;
  const definitions::EmrServerlessRuntimeConfig& cfg = request.runtime->emr_serverless;
  runs::RunRecorder recorder(storage_, run, options_.follow.recorder);
  ARBITER_ASSIGN_OR_RETURN(std::optional<runs::RunResult> done, ClaimRemoteRun(storage_, run));
  if (done) return *done;
  auto fail = [&](const std::string& why) {
    return FailRemoteRun(storage_, run, run.status, recorder, why);
  };
  Result<RemoteTarget> target = ConnectRemote(request, options_.connect);
  if (!target.ok()) return fail(target.status().message());
  std::string job_run = run.reader_cursor.value("job_run_id", run.external_id);
  if (job_run.empty()) {
    Result<std::optional<std::string>> found =
        FindRunJobRun(*target->conn->api, cfg.application_id, run);
    if (!found.ok()) return fail(found.status().message());
    if (!*found) {
      return fail(std::string(runs::kOrchestratorStoppedReason) +
                  " before its job run was started; nothing runs on EMR Serverless for it");
    }
    job_run = **found;
  }
  recorder.AddStatus("info", "re-attached to job run " + job_run + " after the previous arbiter (" +
                                 run.owner + ") stopped");
  pipes::MessageProcessor processor(&recorder);
  S3PipesSession pipes(target->conn->s3.get(), target->conn->s3_options, target->staging, run,
                       &processor, options_.connect.clock,
                       ResumeFrom(run.reader_cursor, options_.follow.reader, processor));
  ServerlessJob job(target->conn.get(), cfg.application_id, job_run, cfg.aws.region,
                    cfg.aws.log_uri);
  return FollowRemoteRun(storage_, request, job, pipes, processor, recorder, cancel,
                         options_.follow);
}

}  // namespace arbiter::emr
