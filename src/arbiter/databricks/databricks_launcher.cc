#include "arbiter/databricks/databricks_launcher.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "arbiter/aws/crypto.h"
#include "arbiter/common/clock.h"
#include "arbiter/common/duration.h"
#include "arbiter/databricks/auth.h"
#include "arbiter/databricks/rest_client.h"
#include "arbiter/databricks/staging_store.h"
#include "arbiter/databricks/submit_request.h"
#include "arbiter/http/curl_http_client.h"
#include "arbiter/pipes/params.h"
#include "arbiter/runs/pipes_context.h"
#include "arbiter/runs/process.h"

namespace arbiter::databricks {

namespace fs = std::filesystem;
using runs::RunResult;
using storage::RunStatus;

namespace {

TimePoint NowSeconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

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
  code.hash = aws::Sha256Hex(all).substr(0, 16);
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
    : storage_(storage), options_(std::move(options)), self_(runs::CurrentProcess().ToString()) {
  http::HttpClient* transport = options_.transport;
  if (!transport) {
    curl_ = std::make_unique<http::CurlHttpClient>();
    transport = curl_.get();
  }
  retrying_ = std::make_unique<http::RetryingHttpClient>(transport, options_.retry);
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
    static const SystemClock kClock;
    OAuthM2MConfig oauth;
    oauth.host = *host;
    oauth.client_id = client_id;
    oauth.client_secret_ref = config.client_secret->text();
    s->auth = std::make_unique<OAuthM2MAuth>(retrying_.get(), &kClock, oauth,
                                             LookupOf(*request.env));
  } else {
    return InvalidArgumentError("runtime " + request.runtime->name + " has no credentials");
  }
  s->rest = std::make_unique<RestClient>(retrying_.get(), *host, s->auth.get());
  s->jobs = std::make_unique<JobsClient>(s->rest.get());
  ARBITER_ASSIGN_OR_RETURN(s->staging, MakeStagingStore(config.staging, s->rest.get()));
  return s;
}

Result<RunResult> DatabricksLauncher::Fail(const storage::RunRecord& run,
                                           std::vector<RunStatus> from,
                                           runs::RunRecorder& recorder, std::string reason,
                                           const nlohmann::json& cursor) {
  recorder.AddStatus("error", reason);
  ARBITER_RETURN_IF_ERROR(recorder.Flush(cursor));
  storage::RunUpdate u;
  u.ended_at = NowSeconds();
  u.failure_reason = reason;
  ARBITER_RETURN_IF_ERROR(storage_->TransitionRun(run.run_id, from, RunStatus::kFailure, u).status());
  return RunResult{RunStatus::kFailure, std::move(reason)};
}

Result<RunResult> DatabricksLauncher::Execute(const runs::RunRequest& request,
                                              const runs::CancelSignal& cancel) {
  const storage::RunRecord& run = request.run;
  runs::RunRecorder recorder(storage_, run, options_.recorder);
  storage::RunUpdate starting;
  starting.owner = self_;
  // STARTING: the executor already took a slot of the runtime for it.
  ARBITER_ASSIGN_OR_RETURN(
      bool moved, storage_->TransitionRun(run.run_id, {RunStatus::kQueued, RunStatus::kStarting},
                                          RunStatus::kStarting, starting));
  if (!moved) {
    ARBITER_ASSIGN_OR_RETURN(storage::RunRecord now, storage_->GetRun(run.run_id));
    return RunResult{now.status, "run was " + std::string(storage::RunStatusName(now.status)) +
                                     " before it started"};
  }
  Result<std::unique_ptr<Session>> session = Connect(request);
  if (!session.ok()) {
    return Fail(run, {RunStatus::kStarting}, recorder,
                "cannot reach Databricks: " + session.status().message(), nlohmann::json::object());
  }
  return Submit(request, **session, recorder, cancel);
}

Result<RunResult> DatabricksLauncher::Submit(const runs::RunRequest& request, Session& session,
                                             runs::RunRecorder& recorder,
                                             const runs::CancelSignal& cancel) {
  const storage::RunRecord& run = request.run;
  const definitions::DatabricksRuntimeConfig& config = request.runtime->databricks;
  const definitions::AssetDef& asset = *request.asset;
  auto fail = [&](std::string reason) {
    return Fail(run, {RunStatus::kStarting}, recorder, std::move(reason), nlohmann::json::object());
  };
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
  for (const auto& [name, value] : asset.job.env) {
    // Never a resolved secret: Databricks shows spark_env_vars to whoever views the run.
    Result<std::string> v =
        value.ResolveForJob(*request.env, definitions::JobEnvTarget::kDatabricksJob);
    if (!v.ok()) return fail(v.status().WithContext("environment variable " + name).message());
    spec.job_env[name] = *v;
  }

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
  ARBITER_RETURN_IF_ERROR(recorder.Flush(cursor));
  storage::RunUpdate running;
  running.started_at = NowSeconds();
  running.external_id = std::to_string(*submitted);
  ARBITER_ASSIGN_OR_RETURN(bool moved, storage_->TransitionRun(run.run_id, {RunStatus::kStarting},
                                                               RunStatus::kRunning, running));
  if (!moved) {  // `arbiter cancel` got in between: keep the id, the loop sees CANCELING
    ARBITER_RETURN_IF_ERROR(storage_
                                ->TransitionRun(run.run_id, {RunStatus::kCanceling},
                                                RunStatus::kCanceling, running)
                                .status());
  }
  runs::RunRequest started = request;
  started.run.started_at = running.started_at;
  started.run.external_id = *running.external_id;
  started.run.reader_cursor = cursor;
  return Follow(started, session, *submitted, recorder, cancel);
}

Result<RunResult> DatabricksLauncher::Reattach(const runs::RunRequest& request,
                                               const runs::CancelSignal& cancel) {
  const storage::RunRecord& run = request.run;
  runs::RunRecorder recorder(storage_, run, options_.recorder);
  storage::RunUpdate claim;
  claim.owner = self_;
  claim.if_owner = run.owner;
  ARBITER_ASSIGN_OR_RETURN(bool claimed,
                           storage_->TransitionRun(run.run_id, {run.status}, run.status, claim));
  if (!claimed)
    return FailedPreconditionError("run " + run.run_id + " is being followed by another arbiter");
  if (run.status == RunStatus::kQueued) {
    storage::RunUpdate u;
    u.ended_at = NowSeconds();
    u.failure_reason = "orchestrator stopped before the run started";
    ARBITER_RETURN_IF_ERROR(
        storage_->TransitionRun(run.run_id, {RunStatus::kQueued}, RunStatus::kCanceled, u)
            .status());
    return RunResult{RunStatus::kCanceled, *u.failure_reason};
  }
  const std::vector<RunStatus> active = {RunStatus::kStarting, RunStatus::kRunning,
                                         RunStatus::kCanceling};
  int64_t databricks_run_id = 0;
  if (run.reader_cursor.contains("databricks_run_id") &&
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
    return Submit(request, **session, recorder, cancel);
  }
  if (databricks_run_id == 0) {
    return Fail(run, active, recorder,
                std::string(runs::kOrchestratorStoppedReason) +
                    " (before Databricks accepted the run, or before its id was stored)",
                run.reader_cursor);
  }
  if (!session.ok()) {
    return Fail(run, active, recorder,
                "cannot reach Databricks to follow run " + std::to_string(databricks_run_id) +
                    ": " + session.status().message(),
                run.reader_cursor);
  }
  recorder.AddStatus("info", "re-attached to Databricks run " + std::to_string(databricks_run_id) +
                                 " after the previous arbiter (" + run.owner + ") stopped");
  return Follow(request, **session, databricks_run_id, recorder, cancel);
}

Result<RunResult> DatabricksLauncher::Follow(const runs::RunRequest& request, Session& session,
                                             int64_t databricks_run_id,
                                             runs::RunRecorder& recorder,
                                             const runs::CancelSignal& cancel) {
  using SteadyClock = std::chrono::steady_clock;
  const storage::RunRecord& run = request.run;
  const nlohmann::json& cur = run.reader_cursor;
  const std::string id_text = std::to_string(databricks_run_id);
  auto at = [&](const char* key) {
    return cur.contains(key) && cur[key].is_number_integer() ? cur[key].get<int64_t>() : 0;
  };
  pipes::ProcessorOptions popts;
  pipes::MessageProcessor processor(&recorder, popts);
  processor.RestoreSession(cur.value("opened", false), cur.value("closed", false));
  pipes::BlobReaderOptions reader_options = options_.pipes_reader;
  reader_options.first_chunk = std::max<int64_t>(1, at("next_chunk"));
  static const SystemClock kClock;
  pipes::BlobChunkMessageReader reader(session.staging.get(), RunPrefix(run.run_id) + "/messages",
                                       &processor, &kClock, reader_options);
  LogTail logs[2] = {{pipes::StdStream::kStdout, "stdout", at("stdout")},
                     {pipes::StdStream::kStderr, "stderr", at("stderr")}};
  std::string last_state = cur.value("state", std::string());
  bool url_noted = cur.value("url_noted", false);
  bool cancel_sent = cur.value("cancel_sent", false);
  std::string cluster_id = cur.value("cluster_id", std::string());

  auto cursor = [&] {
    return nlohmann::json{{"databricks_run_id", databricks_run_id},
                          {"next_chunk", reader.next_chunk()},
                          {"opened", processor.received_opened()},
                          {"closed", processor.received_closed()},
                          {"stdout", logs[0].offset},
                          {"stderr", logs[1].offset},
                          {"state", last_state},
                          {"url_noted", url_noted},
                          {"cancel_sent", cancel_sent},
                          {"cluster_id", cluster_id}};
  };
  const std::vector<RunStatus> active = {RunStatus::kStarting, RunStatus::kRunning,
                                         RunStatus::kCanceling};
  // Driver logs: whole lines while the run goes on, the rest at the end.
  auto read_logs = [&](bool at_end) {
    if (cluster_id.empty()) return;
    for (LogTail& log : logs) {
      const std::string key = LogPrefix(run.run_id) + "/" + cluster_id + "/driver/" + log.name;
      Result<std::optional<std::string>> data = session.staging->ReadFrom(key, log.offset);
      if (!data.ok()) {
        if (at_end) recorder.AddStatus("warning", "cannot read the driver's " + std::string(log.name) +
                                                      " log: " + data.status().message());
        continue;
      }
      if (!*data) continue;
      std::string_view text = **data;
      size_t consumed = 0;
      while (true) {
        size_t nl = text.find('\n', consumed);
        if (nl == std::string_view::npos) break;
        std::string_view line = text.substr(consumed, nl - consumed);
        recorder.AddOutputLine(log.stream, line, line.size());
        consumed = nl + 1;
      }
      if (at_end && consumed < text.size()) {
        std::string_view line = text.substr(consumed);
        recorder.AddOutputLine(log.stream, line, line.size());
        consumed = text.size();
      }
      log.offset += static_cast<int64_t>(consumed);
      if (at_end && text.empty() && log.offset > 0) {
        Result<std::optional<int64_t>> size = session.staging->Size(key);
        if (size.ok() && size->has_value() && **size < log.offset) {
          recorder.AddStatus("warning", "the driver's " + std::string(log.name) + " log is " +
                                            std::to_string(**size) + " bytes, shorter than the " +
                                            std::to_string(log.offset) +
                                            " already read: log delivery truncated it, so its "
                                            "last lines may be missing");
        }
      }
    }
  };

  std::optional<SteadyClock::time_point> deadline;
  const auto& max_duration = request.asset->compute.max_duration;
  if (max_duration) {
    auto elapsed = NowSeconds() - run.started_at.value_or(NowSeconds());
    deadline = SteadyClock::now() + (*max_duration - elapsed);
  }
  enum class Stop { kNone, kCancel, kTimeout } stop = Stop::kNone;
  std::string stop_reason;
  std::optional<SteadyClock::time_point> cancel_sent_at;
  if (cancel_sent) cancel_sent_at = SteadyClock::now();
  auto send_cancel = [&](Stop why, std::string reason) -> Status {
    stop = why;
    stop_reason = std::move(reason);
    recorder.AddStatus("warning", stop_reason + "; asking Databricks to cancel run " + id_text);
    Status s = session.jobs->Cancel(databricks_run_id);
    if (!s.ok()) {
      recorder.AddStatus("error", "runs/cancel failed: " + s.message());
      return s;
    }
    cancel_sent = true;
    cancel_sent_at = SteadyClock::now();
    return Status::Ok();
  };

  std::mt19937 rng(std::random_device{}());
  std::chrono::milliseconds interval = options_.poll_initial;
  SteadyClock::time_point last_cancel_check = SteadyClock::now();
  int poll_failures = 0;
  RunState state;
  while (true) {
    Result<RunState> polled = session.jobs->GetRun(databricks_run_id);
    if (!polled.ok()) {
      const Status& e = polled.status();
      if (e.code() == StatusCode::kNotFound ||
          (e.code() == StatusCode::kInvalidArgument &&
           e.message().find("does not exist") != std::string::npos)) {
        return Fail(run, active, recorder,
                    "Databricks run " + id_text +
                        " no longer exists (deleted, or expired after 60 days); its outcome is "
                        "unknown: " + e.message(),
                    cursor());
      }
      if (e.code() == StatusCode::kPermissionDenied) {
        return Fail(run, active, recorder,
                    "cannot follow Databricks run " + id_text + ": " + e.message() +
                        "; renew the credentials of runtime " + request.runtime->name +
                        " (the Databricks run itself may still be going: cancel it there or "
                        "re-run after fixing the token)",
                    cursor());
      }
      if (++poll_failures >= options_.max_poll_failures) {
        return Fail(run, active, recorder,
                    "cannot follow Databricks run " + id_text + " after " +
                        std::to_string(poll_failures) + " failed polls: " + e.message(),
                    cursor());
      }
      recorder.AddStatus("warning", "polling Databricks run " + id_text + " failed (will retry): " +
                                        e.message());
    } else {
      poll_failures = 0;
      state = std::move(*polled);
      const std::string seen = state.life_cycle_state + ": " + state.state_message;
      if (seen != last_state) {
        last_state = seen;
        interval = options_.poll_initial;
        recorder.AddStatus("info",
                           "Databricks run " + id_text + " " + state.life_cycle_state +
                               (state.state_message.empty() ? "" : ": " + state.state_message),
                           {{"life_cycle_state", state.life_cycle_state},
                            {"result_state", state.result_state}});
      }
      if (!url_noted && !state.run_page_url.empty()) {
        url_noted = true;
        recorder.AddStatus("info", "Databricks run page: " + state.run_page_url,
                           {{"run_page_url", state.run_page_url}});
      }
      if (cluster_id.empty() && !state.cluster_id.empty()) cluster_id = state.cluster_id;
    }
    read_logs(false);
    reader.Poll();
    ARBITER_RETURN_IF_ERROR(recorder.Flush(cursor()));
    if (polled.ok() && state.terminal()) break;

    const auto now = SteadyClock::now();
    if (stop == Stop::kNone) {
      if (cancel.requested()) {
        (void)storage_->TransitionRun(run.run_id, {RunStatus::kRunning}, RunStatus::kCanceling, {});
        (void)send_cancel(Stop::kCancel, "canceled: " + cancel.reason());
      } else if (deadline && now >= *deadline) {
        (void)send_cancel(Stop::kTimeout,
                          "timed out after " + FormatDuration(*max_duration) +
                              " (compute.max_duration)");
      } else if (cancel_sent || now - last_cancel_check >= options_.cancel_check_interval) {
        last_cancel_check = now;
        ARBITER_ASSIGN_OR_RETURN(storage::RunRecord latest, storage_->GetRun(run.run_id));
        if (latest.status == RunStatus::kCanceling || cancel_sent) {
          (void)send_cancel(Stop::kCancel, "canceled by `arbiter cancel`");
        }
      }
    } else if (!cancel_sent) {
      (void)send_cancel(stop, stop_reason);  // the first runs/cancel failed: try again
    } else if (cancel_sent_at && now - *cancel_sent_at >= options_.cancel_wait) {
      return Fail(run, active, recorder,
                  stop_reason + "; Databricks did not confirm the cancel of run " + id_text +
                      " within " + FormatDuration(options_.cancel_wait) + ", check it there",
                  cursor());
    }
    if (stop != Stop::kNone) interval = options_.poll_initial;
    // Jittered, so many runs polled together spread out (rate limits are per workspace).
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    const auto wake = SteadyClock::now() + std::chrono::milliseconds(static_cast<int64_t>(
                                               static_cast<double>(interval.count()) * jitter(rng)));
    // A cancel cuts the wait short: checked here every cancel_check_interval.
    while (SteadyClock::now() < wake) {
      std::this_thread::sleep_for(std::min<SteadyClock::duration>(
          options_.cancel_check_interval, wake - SteadyClock::now()));
      if (stop != Stop::kNone) continue;
      if (cancel.requested()) break;
      Result<storage::RunRecord> latest = storage_->GetRun(run.run_id);
      if (latest.ok() && latest->status == RunStatus::kCanceling) break;
    }
    interval = std::min(options_.poll_max,
                        std::chrono::milliseconds(static_cast<int64_t>(interval.count() * 1.5)));
  }

  // Terminal: the rest of the logs and messages, then the outcome.
  if (cluster_id.empty()) cluster_id = state.cluster_id;
  read_logs(true);
  if (state.execution_ms == 0 && !processor.received_opened()) {
    // The job never ran (canceled or failed while the cluster started): no late chunks.
    reader.Poll();
    processor.Finish();
  } else {
    pipes::JobFinishedSignal finished;
    finished.Notify();
    reader.Drain(finished);
  }

  RunResult result;
  const std::string& rs = state.result_state;
  const std::string said = state.state_message.empty() ? "" : ": " + state.state_message;
  if (state.life_cycle_state == "INTERNAL_ERROR") {
    result = {RunStatus::kFailure, "Databricks internal error in run " + id_text + said};
  } else if (rs == "SUCCESS" || rs == "SUCCESS_WITH_FAILURES") {
    if (recorder.closed_exception()) {
      result = {RunStatus::kFailure, "the job reported an exception: " + *recorder.closed_exception()};
    } else {
      result = {RunStatus::kSuccess, ""};
    }
  } else if (rs == "CANCELED") {
    if (stop == Stop::kTimeout) {
      result = {RunStatus::kFailure, stop_reason};
    } else {
      result = {RunStatus::kCanceled,
                stop == Stop::kCancel ? stop_reason : "canceled on Databricks" + said};
    }
  } else if (rs == "TIMEDOUT") {
    result = {RunStatus::kFailure, "Databricks timed the run out (timeout_seconds from "
                                   "compute.max_duration)" + said};
  } else {
    result = {RunStatus::kFailure,
              "Databricks run " + id_text + " " + (rs.empty() ? state.life_cycle_state : rs) + said};
  }
  if (result.status == RunStatus::kFailure && state.task_run_id != 0) {
    Result<RunOutput> out = session.jobs->GetOutput(state.task_run_id);
    if (out.ok()) {
      if (!out->error.empty()) {
        if (out->error != state.state_message) result.reason += "; " + out->error;
        recorder.AddStatus("error", "Databricks: " + out->error,
                           {{"error_trace", out->error_trace}});
      }
      if (out->logs_truncated) {
        recorder.AddStatus("warning", "Databricks says the run's logs were truncated");
      }
    } else {
      recorder.AddStatus("warning", "cannot fetch the run's output: " + out.status().message());
    }
  }
  if (result.status == RunStatus::kFailure && recorder.closed_exception() &&
      result.reason.find(*recorder.closed_exception()) == std::string::npos) {
    result.reason += "; the job reported: " + *recorder.closed_exception();
  }
  result.usage = UsageOf(state, request.runtime->databricks.region.value_or(""));
  if (result.usage->spot_interrupted) {
    recorder.AddStatus("warning", "spot capacity was lost during the run");
  }
  recorder.AddStatus(result.status == RunStatus::kSuccess ? "info" : "error",
                     "ended: " + std::string(storage::RunStatusName(result.status)) +
                         (result.reason.empty() ? "" : ": " + result.reason),
                     {{"usage", runs::UsageToJson(*result.usage)}});
  // The run's pipes objects go; code (shared by content) and delivered logs stay.
  if (Status s = reader.Cleanup(); !s.ok()) {
    recorder.AddStatus("warning", "cannot delete the run's pipes messages: " + s.message());
  }
  if (Status s = session.staging->Delete(RunPrefix(run.run_id) + "/context.json"); !s.ok()) {
    recorder.AddStatus("warning", "cannot delete the run's pipes context: " + s.message());
  }
  ARBITER_RETURN_IF_ERROR(recorder.Flush(cursor()));
  return recorder.End(std::move(result), active);
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
