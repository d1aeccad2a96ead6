#include "arbiter/databricks/databricks_launcher.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "arbiter/crypto/crypto.h"
#include "arbiter/common/clock.h"
#include "arbiter/common/duration.h"
#include "arbiter/databricks/auth.h"
#include "arbiter/databricks/rest_client.h"
#include "arbiter/databricks/staging_store.h"
#include "arbiter/databricks/submit_request.h"
#include "arbiter/http/curl_http_client.h"
#include "arbiter/pipes/params.h"
#include "arbiter/runs/job_environment.h"
#include "arbiter/runs/pipes_context.h"
#include "arbiter/runs/process.h"
#include "arbiter/runs/run_claim.h"

namespace arbiter::databricks {

namespace fs = std::filesystem;
using runs::RunResult;
using storage::RunStatus;

namespace {

std::string RunPrefix(const std::string& run_id) { return "runs/" + run_id; }
std::string LogPrefix(const std::string& run_id) { return "logs/" + run_id; }

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

EnvLookup LookupOf(const definitions::Environment& env) {
  return [get = env.get_env](const std::string& name) -> std::optional<std::string> {
    return get ? get(name) : std::nullopt;
  };
}

// One driver log file delivered into the staging area, read from where the last read ended.
// Only whole lines are consumed before the run ends, so a line is never split in two events.
struct LogTail {
  pipes::StdStream stream;
  const char* name;
  int64_t offset = 0;
};

}  // namespace

Result<JobCode> CollectJobCode(const std::string& project_root, const std::string& script,
                               const std::string& python_client_dir) {
  JobCode code;
  fs::path main = fs::path(project_root) / script;
  std::error_code ec;
  if (!fs::is_regular_file(main, ec)) {
    return NotFoundError("job script " + script + " does not exist (looked in " + project_root +
                         ")");
  }
  for (const fs::directory_entry& e : fs::directory_iterator(main.parent_path(), ec)) {
    if (e.is_regular_file() && e.path().extension() == ".py") {
      ARBITER_ASSIGN_OR_RETURN(code.files[e.path().filename().string()], ReadFile(e.path()));
    }
  }
  if (ec) return UnavailableError("cannot list " + main.parent_path().string() + ": " + ec.message());
  fs::path client = fs::path(python_client_dir) / "arbiter_pipes.py";
  if (!python_client_dir.empty() && fs::is_regular_file(client, ec) &&
      !code.files.count("arbiter_pipes.py")) {
    ARBITER_ASSIGN_OR_RETURN(code.files["arbiter_pipes.py"], ReadFile(client));
  }
  std::string all;
  for (const auto& [name, content] : code.files) {
    all += name + '\0' + std::to_string(content.size()) + '\0' + content;
  }
  code.hash = crypto::Sha256Hex(all).substr(0, 16);
  return code;
}

runs::ResourceUsage UsageOf(const RunState& state, const std::string& region) {
  runs::ResourceUsage u;
  u.runtime_type = "databricks";
  u.region = region;
  u.setup_s = state.setup_ms / 1000.0;
  u.execution_s = state.execution_ms / 1000.0;
  u.cleanup_s = state.cleanup_ms / 1000.0;
  const double hours = (state.setup_ms + state.execution_ms + state.cleanup_ms) / 3.6e6;
  u.details = {{"databricks_run_id", state.run_id}};
  if (!state.cluster_id.empty()) u.details["cluster_id"] = state.cluster_id;
  u.spot_interrupted = state.termination_type == "CLOUD_FAILURE" &&
                       state.state_message.find("SPOT") != std::string::npos;
  nlohmann::json cluster;
  if (state.raw.contains("tasks") && state.raw["tasks"].is_array() && !state.raw["tasks"].empty()) {
    cluster = state.raw["tasks"][0].value("new_cluster", nlohmann::json());
    if (state.raw["tasks"][0].contains("existing_cluster_id")) {
      u.details["existing_cluster_id"] = state.raw["tasks"][0]["existing_cluster_id"];
    }
  }
  if (!cluster.is_object()) return u;  // an existing cluster: its cost is not this run's
  u.photon = cluster.value("runtime_engine", "") == "PHOTON";
  const std::string worker_type = cluster.value("node_type_id", "");
  const std::string driver_type = cluster.value("driver_node_type_id", worker_type);
  int workers = cluster.value("num_workers", 0);
  if (cluster.contains("autoscale") && cluster["autoscale"].is_object()) {
    // runs/get does not say how far it scaled: the minimum is what it surely had.
    workers = cluster["autoscale"].value("min_workers", 0);
    u.details["autoscale"] = cluster["autoscale"];
  }
  const nlohmann::json aws = cluster.value("aws_attributes", nlohmann::json::object());
  const std::string availability = aws.value("availability", "ON_DEMAND");
  const int on_demand_nodes = aws.value("first_on_demand", 1);
  u.nodes.push_back({"driver", driver_type, 1, "ON_DEMAND", hours});
  const int on_demand_workers =
      availability == "ON_DEMAND" ? workers : std::clamp(on_demand_nodes - 1, 0, workers);
  if (on_demand_workers > 0) u.nodes.push_back({"worker", worker_type, on_demand_workers, "ON_DEMAND", hours});
  if (workers - on_demand_workers > 0) {
    u.nodes.push_back({"worker", worker_type, workers - on_demand_workers, "SPOT", hours});
  }
  return u;
}

struct DatabricksLauncher::Session {
  std::unique_ptr<AuthProvider> auth;
  std::unique_ptr<RestClient> rest;
  std::unique_ptr<JobsClient> jobs;
  std::unique_ptr<StagingStore> staging;
};

DatabricksLauncher::DatabricksLauncher(storage::Storage* storage, DatabricksLauncherOptions options)
    : storage_(storage), options_(std::move(options)), lifecycle_(storage, this) {
  http::HttpClient* transport = options_.transport;
  if (!transport) {
    curl_ = std::make_unique<http::CurlHttpClient>();
    transport = curl_.get();
  }
  retrying_ =
      std::make_unique<http::RetryingHttpClient>(transport, options_.retry, nullptr, options_.clock);
}

DatabricksLauncher::~DatabricksLauncher() = default;

Result<std::unique_ptr<DatabricksLauncher::Session>> DatabricksLauncher::Connect(
    const runs::RunRequest& request) {
  const definitions::DatabricksRuntimeConfig& config = request.runtime->databricks;
  auto s = std::make_unique<Session>();
  Result<std::string> host = config.host.Resolve(*request.env);
  if (!host.ok()) return host.status().WithContext("host of runtime " + request.runtime->name);
  if (config.token) {
    s->auth = std::make_unique<PatAuth>(config.token->text(), LookupOf(*request.env));
  } else if (config.client_id && config.client_secret) {
    ARBITER_ASSIGN_OR_RETURN(std::string client_id, config.client_id->Resolve(*request.env));
    OAuthM2MConfig oauth;
    oauth.host = *host;
    oauth.client_id = client_id;
    oauth.client_secret_ref = config.client_secret->text();
    s->auth = std::make_unique<OAuthM2MAuth>(retrying_.get(), options_.clock, oauth,
                                             LookupOf(*request.env));
  } else {
    return InvalidArgumentError("runtime " + request.runtime->name + " has no credentials");
  }
  s->rest = std::make_unique<RestClient>(retrying_.get(), *host, s->auth.get());
  s->jobs = std::make_unique<JobsClient>(s->rest.get());
  ARBITER_ASSIGN_OR_RETURN(s->staging, MakeStagingStore(config.staging, s->rest.get()));
  return s;
}

namespace {

using Phase = runs::JobState::Phase;

// One Databricks run, from its runs/get state, its pipes message chunks and the driver
// logs delivered into the staging area.
class DatabricksJob final : public runs::PlatformJob {
 public:
  DatabricksJob(std::unique_ptr<DatabricksLauncher::Session> session, int64_t databricks_run_id,
                const runs::RunRequest& request, runs::RunRecorder& recorder,
                const DatabricksLauncherOptions& options)
      : session_(std::move(session)),
        id_(databricks_run_id),
        id_text_(std::to_string(databricks_run_id)),
        run_id_(request.run.run_id),
        region_(request.runtime->databricks.region.value_or("")),
        runtime_name_(request.runtime->name),
        recorder_(recorder),
        clock_(options.clock),
        processor_(&recorder, pipes::ProcessorOptions()) {
    const nlohmann::json& cur =
        request.run.reader_cursor.is_object() ? request.run.reader_cursor : nlohmann::json::object();
    auto at = [&](const char* key) {
      return cur.contains(key) && cur[key].is_number_integer() ? cur[key].get<int64_t>() : 0;
    };
    processor_.RestoreSession(cur.value("opened", false), cur.value("closed", false));
    pipes::BlobReaderOptions reader_options = options.pipes_reader;
    reader_options.first_chunk = std::max<int64_t>(1, at("next_chunk"));
    reader_ = std::make_unique<pipes::BlobChunkMessageReader>(
        session_->staging.get(), RunPrefix(run_id_) + "/messages", &processor_, options.clock,
        reader_options);
    logs_[0] = {pipes::StdStream::kStdout, "stdout", at("stdout")};
    logs_[1] = {pipes::StdStream::kStderr, "stderr", at("stderr")};
    url_noted_ = cur.value("url_noted", false);
    cluster_id_ = cur.value("cluster_id", std::string());
  }

  Result<runs::JobState> Poll() override {
    Result<RunState> polled = session_->jobs->GetRun(id_);
    if (!polled.ok()) {
      const Status& e = polled.status();
      if (e.code() == StatusCode::kNotFound ||
          (e.code() == StatusCode::kInvalidArgument &&
           e.message().find("does not exist") != std::string::npos)) {
        return NotFoundError("Databricks run " + id_text_ +
                             " no longer exists (deleted, or expired after 60 days); its "
                             "outcome is unknown: " + e.message());
      }
      if (e.code() == StatusCode::kPermissionDenied) {
        return Status(StatusCode::kPermissionDenied,
            "cannot follow Databricks run " + id_text_ + ": " + e.message() +
            "; renew the credentials of runtime " + runtime_name_ +
            " (the Databricks run itself may still be going: cancel it there or re-run after "
            "fixing the token)");
      }
      // Anything else (after the HTTP client's own retries) is polled again.
      return UnavailableError("polling Databricks run " + id_text_ + ": " + e.message());
    }
    state_ = std::move(*polled);
    if (!url_noted_ && !state_.run_page_url.empty()) {
      url_noted_ = true;
      recorder_.AddStatus("info", "Databricks run page: " + state_.run_page_url,
                          {{"run_page_url", state_.run_page_url}});
    }
    if (cluster_id_.empty() && !state_.cluster_id.empty()) cluster_id_ = state_.cluster_id;
    runs::JobState s;
    s.description = "Databricks run " + id_text_ + " " + state_.life_cycle_state +
                    (state_.state_message.empty() ? "" : ": " + state_.state_message);
    s.data = {{"life_cycle_state", state_.life_cycle_state},
              {"result_state", state_.result_state}};
    if (!state_.terminal()) {
      // The run counts as started once Databricks accepted it (its cluster may still be coming).
      s.phase = Phase::kRunning;
      return s;
    }
    const std::string& rs = state_.result_state;
    const std::string said = state_.state_message.empty() ? "" : ": " + state_.state_message;
    if (state_.life_cycle_state == "INTERNAL_ERROR") {
      s.phase = Phase::kFailed;
      s.system_failure = true;
      s.reason = "Databricks internal error in run " + id_text_ + said;
    } else if (rs == "SUCCESS" || rs == "SUCCESS_WITH_FAILURES") {
      s.phase = Phase::kSucceeded;
    } else if (rs == "CANCELED") {
      s.phase = Phase::kCanceled;
      s.reason = "canceled on Databricks" + said;
    } else if (rs == "TIMEDOUT") {
      s.phase = Phase::kFailed;
      s.reason = "Databricks timed the run out (timeout_seconds from compute.max_duration)" + said;
    } else {
      s.phase = Phase::kFailed;
      s.reason = "Databricks run " + id_text_ + " " + (rs.empty() ? state_.life_cycle_state : rs) +
                 said;
    }
    return s;
  }

  Status ReadOutput(bool at_end, bool* more) override {
    *more = false;
    ReadLogs(at_end);
    if (!at_end) {
      reader_->Poll();
    } else if (state_.execution_ms == 0 && !processor_.received_opened()) {
      // The job never ran (canceled or failed while the cluster started): no late chunks.
      reader_->Poll();
      processor_.Finish();
    } else {
      pipes::JobFinishedSignal finished(clock_);
      finished.Notify();
      reader_->Drain(finished);
    }
    return Status::Ok();
  }

  Status RequestStop(bool force) override {
    if (force) return Status::Ok();  // runs/cancel is the only stop there is
    recorder_.AddStatus("info", "asking Databricks to cancel run " + id_text_);
    Status s = session_->jobs->Cancel(id_);
    if (!s.ok()) return Status(s.code(), "runs/cancel failed: " + s.message());
    return s;
  }

  void Finish(RunResult& result) override {
    if (result.status == RunStatus::kFailure && state_.task_run_id != 0) {
      Result<RunOutput> out = session_->jobs->GetOutput(state_.task_run_id);
      if (out.ok()) {
        if (!out->error.empty()) {
          if (out->error != state_.state_message) result.reason += "; " + out->error;
          recorder_.AddStatus("error", "Databricks: " + out->error,
                              {{"error_trace", out->error_trace}});
        }
        if (out->logs_truncated) {
          recorder_.AddStatus("warning", "Databricks says the run's logs were truncated");
        }
      } else {
        recorder_.AddStatus("warning", "cannot fetch the run's output: " + out.status().message());
      }
    }
    result.usage = UsageOf(state_, region_);
    if (result.usage->spot_interrupted) {
      recorder_.AddStatus("warning", "spot capacity was lost during the run");
    }
    // The run's pipes objects go; code (shared by content) and delivered logs stay.
    if (Status s = reader_->Cleanup(); !s.ok()) {
      recorder_.AddStatus("warning", "cannot delete the run's pipes messages: " + s.message());
    }
    if (Status s = session_->staging->Delete(RunPrefix(run_id_) + "/context.json"); !s.ok()) {
      recorder_.AddStatus("warning", "cannot delete the run's pipes context: " + s.message());
    }
  }

  nlohmann::json Cursor() const override {
    return nlohmann::json{{"databricks_run_id", id_},
                          {"next_chunk", reader_->next_chunk()},
                          {"opened", processor_.received_opened()},
                          {"closed", processor_.received_closed()},
                          {"stdout", logs_[0].offset},
                          {"stderr", logs_[1].offset},
                          {"url_noted", url_noted_},
                          {"cluster_id", cluster_id_}};
  }

 private:
  // Driver logs: whole lines while the run goes on, the rest at the end.
  void ReadLogs(bool at_end) {
    if (cluster_id_.empty()) cluster_id_ = state_.cluster_id;
    if (cluster_id_.empty()) return;
    for (LogTail& log : logs_) {
      const std::string key = LogPrefix(run_id_) + "/" + cluster_id_ + "/driver/" + log.name;
      Result<std::optional<std::string>> data = session_->staging->ReadFrom(key, log.offset);
      if (!data.ok()) {
        if (at_end) {
          recorder_.AddStatus("warning", "cannot read the driver's " + std::string(log.name) +
                                             " log: " + data.status().message());
        }
        continue;
      }
      if (!*data) continue;
      std::string_view text = **data;
      size_t consumed = 0;
      while (true) {
        size_t nl = text.find('\n', consumed);
        if (nl == std::string_view::npos) break;
        std::string_view line = text.substr(consumed, nl - consumed);
        recorder_.AddOutputLine(log.stream, line, line.size());
        consumed = nl + 1;
      }
      if (at_end && consumed < text.size()) {
        std::string_view line = text.substr(consumed);
        recorder_.AddOutputLine(log.stream, line, line.size());
        consumed = text.size();
      }
      log.offset += static_cast<int64_t>(consumed);
      if (at_end && text.empty() && log.offset > 0) {
        Result<std::optional<int64_t>> size = session_->staging->Size(key);
        if (size.ok() && size->has_value() && **size < log.offset) {
          recorder_.AddStatus("warning", "the driver's " + std::string(log.name) + " log is " +
                                             std::to_string(**size) + " bytes, shorter than the " +
                                             std::to_string(log.offset) +
                                             " already read: log delivery truncated it, so its "
                                             "last lines may be missing");
        }
      }
    }
  }

  std::unique_ptr<DatabricksLauncher::Session> session_;
  int64_t id_;
  std::string id_text_;
  std::string run_id_;
  std::string region_;
  std::string runtime_name_;
  runs::RunRecorder& recorder_;
  const Clock* clock_;
  pipes::MessageProcessor processor_;
  std::unique_ptr<pipes::BlobChunkMessageReader> reader_;
  LogTail logs_[2];
  bool url_noted_ = false;
  std::string cluster_id_;
  RunState state_;
};

}  // namespace

runs::FollowOptions DatabricksLauncher::follow_options() const {
  runs::FollowOptions f;
  f.poll_initial = options_.poll_initial;
  f.poll_max = options_.poll_max;
  f.jitter = 0.2;
  f.cancel_check = options_.cancel_check_interval;
  f.stop_timeout = options_.cancel_wait;
  // max_poll_failures counts the failure that gives up; the lifecycle counts those tolerated.
  f.max_poll_errors = std::max(0, options_.max_poll_failures - 1);
  f.clock = options_.clock;
  return f;
}

runs::RecorderOptions DatabricksLauncher::recorder_options() const {
  runs::RecorderOptions r = options_.recorder;
  r.clock = options_.clock;
  return r;
}

Result<std::unique_ptr<runs::PlatformJob>> DatabricksLauncher::Submit(
    const runs::RunRequest& request, runs::RunRecorder& recorder) {
  Result<std::unique_ptr<Session>> session = Connect(request);
  if (!session.ok()) {
    return Status(session.status().code(),
                  "cannot reach Databricks: " + session.status().message());
  }
  return SubmitWith(request, std::move(*session), recorder);
}

Result<std::unique_ptr<runs::PlatformJob>> DatabricksLauncher::SubmitWith(
    const runs::RunRequest& request, std::unique_ptr<Session> owned, runs::RunRecorder& recorder) {
  Session& session = *owned;
  const storage::RunRecord& run = request.run;
  const definitions::DatabricksRuntimeConfig& config = request.runtime->databricks;
  const definitions::AssetDef& asset = *request.asset;
  auto fail = [](std::string reason) { return FailedPreconditionError(std::move(reason)); };
  if (asset.job.kind == definitions::JobKind::kCommand) {
    return fail("asset " + run.asset_key +
                " is a command job; the Databricks runtime runs pyspark and python jobs only");
  }
  SubmitSpec spec;
  spec.run_id = run.run_id;
  spec.asset_key = run.asset_key;
  spec.partition_key = run.partition_key;
  spec.runtime_name = request.runtime->name;
  spec.config = &config;
  spec.asset = &asset;
  if (!config.existing_cluster_id) {
    Result<runs::InstanceChoice> chosen = options_.instance_chooser(
        asset.compute, definitions::RuntimeType::kDatabricks, config.region.value_or(""));
    if (!chosen.ok()) return fail(chosen.status().message());
    if (chosen->worker.empty() || chosen->driver.empty()) {
      return fail("no instance type for the driver or workers of asset " + run.asset_key);
    }
    spec.instances = *chosen;
  }
  // Never a resolved secret: Databricks shows spark_env_vars to whoever views the run.
  // ARBITER_* and the pipes bootstrap are added by the request builder (spec fields).
  Result<std::map<std::string, std::string>> job_env =
      runs::JobEnvironment(request, definitions::JobEnvTarget::kDatabricksJob, nullptr);
  if (!job_env.ok()) return fail(job_env.status().message());
  spec.job_env = std::move(*job_env);

  // The code, content-addressed: runs of the same code share it, others never overwrite it.
  Result<JobCode> code = CollectJobCode(request.project->root, asset.job.script,
                                        options_.python_client_dir);
  if (!code.ok()) return fail(code.status().message());
  const std::string code_dir = "code/" + code->hash;
  for (const auto& [name, content] : code->files) {
    Status put = session.staging->Put(code_dir + "/" + name, content);
    if (!put.ok()) return fail("cannot upload the job code: " + put.message());
  }
  const std::string script_name = fs::path(asset.job.script).filename().string();
  spec.python_file = session.staging->Uri(code_dir + "/" + script_name);
  spec.code_dir = session.staging->FusePath(code_dir);
  recorder.AddStatus("info", "job code staged at " + session.staging->Uri(code_dir),
                     {{"files", nlohmann::json(code->files.size())}});

  // Pipes: the context as a blob; messages as chunks the job writes next to it.
  Result<pipes::OrderedJson> context = runs::BuildPipesContext(request, "databricks");
  if (!context.ok()) return fail(context.status().message());
  pipes::BlobContextInjector injector(session.staging.get(), RunPrefix(run.run_id) + "/context.json");
  Result<pipes::OrderedJson> context_params = injector.Inject(*context);
  if (!context_params.ok()) {
    return fail("cannot upload the pipes context: " + context_params.status().message());
  }
  pipes::BootstrapParams bootstrap;
  bootstrap.context = *context_params;
  bootstrap.messages = session.staging->MessagesParams(RunPrefix(run.run_id) + "/messages");
  for (const auto& [k, v] : pipes::BootstrapEnvVars(bootstrap)) spec.bootstrap[k] = v;
  spec.cluster_log_conf = session.staging->ClusterLogConf(LogPrefix(run.run_id));

  const nlohmann::json body = BuildSubmitRequest(spec);
  Result<int64_t> submitted = session.jobs->Submit(body);
  if (!submitted.ok()) {
    (void)injector.Cleanup();
    return fail("Databricks did not accept the run: " + submitted.status().message());
  }
  // Stored before the first poll: from here on a restarted arbiter follows this run.
  nlohmann::json cursor = {{"databricks_run_id", *submitted}};
  recorder.AddStatus("info", "submitted Databricks run " + std::to_string(*submitted),
                     {{"databricks_run_id", *submitted}});
  storage::RunUpdate running;
  running.started_at = options_.clock->Now();
  running.external_id = std::to_string(*submitted);
  ARBITER_RETURN_IF_ERROR(
      runs::StoreExternalIds(*storage_, run, running, /*running=*/true, &cursor, recorder));
  runs::RunRequest started = request;
  started.run.reader_cursor = cursor;
  return std::unique_ptr<runs::PlatformJob>(
      std::make_unique<DatabricksJob>(std::move(owned), *submitted, started, recorder, options_));
}

Result<std::unique_ptr<runs::PlatformJob>> DatabricksLauncher::Resume(
    const runs::RunRequest& request, runs::RunRecorder& recorder) {
  const storage::RunRecord& run = request.run;
  int64_t databricks_run_id = 0;
  if (run.reader_cursor.is_object() && run.reader_cursor.contains("databricks_run_id") &&
      run.reader_cursor["databricks_run_id"].is_number_integer()) {
    databricks_run_id = run.reader_cursor["databricks_run_id"].get<int64_t>();
  } else if (!run.external_id.empty()) {
    databricks_run_id = std::stoll(run.external_id);
  }
  Result<std::unique_ptr<Session>> session = Connect(request);
  if (databricks_run_id == 0 && run.status == RunStatus::kStarting && session.ok()) {
    // The previous arbiter stopped between staging and storing the id. Submitting
    // again with the same idempotency token (the run id) returns the run Databricks
    // already accepted, or starts the one it never received: never a second run.
    recorder.AddStatus("info", "the previous arbiter (" + run.owner +
                                   ") stopped before storing the Databricks run id; "
                                   "submitting again with the same idempotency token");
    return SubmitWith(request, std::move(*session), recorder);
  }
  if (databricks_run_id == 0) {
    return FailedPreconditionError(
        std::string(runs::kOrchestratorStoppedReason) +
        " (before Databricks accepted the run, or before its id was stored)");
  }
  if (!session.ok()) {
    return Status(session.status().code(), "cannot reach Databricks to follow run " +
                                               std::to_string(databricks_run_id) + ": " +
                                               session.status().message());
  }
  recorder.AddStatus("info", "re-attached to Databricks run " + std::to_string(databricks_run_id) +
                                 " after the previous arbiter (" + run.owner + ") stopped");
  return std::unique_ptr<runs::PlatformJob>(std::make_unique<DatabricksJob>(
      std::move(*session), databricks_run_id, request, recorder, options_));
}

Status CheckDatabricksCredentials(const definitions::RuntimeConfig& runtime,
                                  const definitions::Environment& env) {
  const definitions::DatabricksRuntimeConfig& config = runtime.databricks;
  std::vector<std::string> problems;
  if (config.token) {
    problems = config.token->UnresolvableReferences(env);
  } else if (config.client_id && config.client_secret) {
    problems = config.client_id->UnresolvableReferences(env);
    for (std::string& p : config.client_secret->UnresolvableReferences(env)) {
      problems.push_back(std::move(p));
    }
  } else {
    problems.push_back("no token or client_id/client_secret configured");
  }
  if (problems.empty()) return Status::Ok();
  std::string why = "no Databricks credentials: ";
  for (size_t i = 0; i < problems.size(); ++i) why += (i ? "; " : "") + problems[i];
  return FailedPreconditionError(why);
}

}  // namespace arbiter::databricks
