#include "arbiter/emr/emr_launcher.h"

#include <cmath>
#include <map>

#include "arbiter/common/strings.h"
#include "arbiter/emr/job_requests.h"
#include "arbiter/runs/run_claim.h"

namespace arbiter::emr {

namespace {

using nlohmann::json;
using storage::RunStatus;

std::string Str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}
double Num(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0;
}

bool ClusterEnded(const std::string& state) {
  return state == "TERMINATED" || state == "TERMINATED_WITH_ERRORS";
}

std::string RoleOf(const std::string& fleet_type) {
  if (fleet_type == "MASTER") return "primary";
  if (fleet_type == "CORE") return "core";
  return "task";
}

// One EMR step (and, for a transient cluster, the cluster made for it).
class EmrJob final : public RemoteJob {
 public:
  EmrJob(AwsConnection* conn, std::string cluster_id, std::string step_id, bool transient,
         std::string region, const Clock* clock)
      : conn_(conn),
        cluster_id_(std::move(cluster_id)),
        step_id_(std::move(step_id)),
        transient_(transient),
        region_(std::move(region)),
        clock_(clock ? clock : &RealClock()) {}

  Result<RemoteStatus> Poll() override {
    using Phase = RemoteStatus::Phase;
    ARBITER_ASSIGN_OR_RETURN(
        json step,
        conn_->api->Call("DescribeStep", {{"ClusterId", cluster_id_}, {"StepId", step_id_}}, true));
    step_ = step.value("Step", json::object());
    const json& ss = step_.value("Status", json::object());
    std::string step_state = Str(ss, "State");
    std::string cluster_state;
    if (transient_) {
      ARBITER_ASSIGN_OR_RETURN(
          json c, conn_->api->Call("DescribeCluster", {{"ClusterId", cluster_id_}}, true));
      cluster_ = c.value("Cluster", json::object());
      cluster_state = Str(cluster_.value("Status", json::object()), "State");
    }
    RemoteStatus s;
    s.description = (transient_ ? "cluster " + cluster_id_ + " " + cluster_state + ", " : "") +
                    "step " + step_id_ + " " + step_state;
    const bool done = step_state == "COMPLETED" || step_state == "FAILED" ||
                      step_state == "CANCELLED" || step_state == "INTERRUPTED";
    // A transient cluster's run ends when the cluster has ended too: usage needs its end
    // time, and a cancel is complete only then.
    const bool cluster_done = !transient_ || ClusterEnded(cluster_state);
    const json& reason =
        cluster_.value("Status", json::object()).value("StateChangeReason", json::object());
    const std::string cluster_why = "cluster " + cluster_id_ + " " + cluster_state + ": " +
                                    Str(reason, "Code") + ": " + Str(reason, "Message");
    if (step_state == "RUNNING" || step_state == "CANCEL_PENDING") {
      s.phase = Phase::kRunning;
    } else if (done && !cluster_done) {
      s.phase = Phase::kRunning;  // the step ended; the cluster is shutting down
    } else if (step_state == "COMPLETED") {
      s.phase = Phase::kSucceeded;
    } else if (step_state == "FAILED") {
      s.phase = Phase::kFailed;
      const json& fd = ss.value("FailureDetails", json::object());
      s.reason = "step " + step_id_ + " failed: " +
                 (Str(fd, "Reason").empty() ? std::string("no reason given") : Str(fd, "Reason"));
      if (!Str(fd, "Message").empty()) s.reason += " (" + Str(fd, "Message") + ")";
      if (!Str(fd, "LogFile").empty()) s.reason += "; log: " + Str(fd, "LogFile");
      stderr_uri_ = Str(fd, "LogFile");
    } else if (done) {  // CANCELLED or INTERRUPTED
      // A step interrupted by its cluster's failure (instances lost, spot
      // reclaimed) failed through no fault of its own.
      bool errors = cluster_state == "TERMINATED_WITH_ERRORS";
      s.phase = errors ? Phase::kFailed : Phase::kCanceled;
      s.system_failure = errors;
      s.reason = errors ? cluster_why
                        : "step " + step_id_ + " " + step_state + ": " +
                              Str(ss.value("StateChangeReason", json::object()), "Message");
    } else if (transient_ && ClusterEnded(cluster_state)) {
      // The cluster ended before the step could run (bootstrap failure, capacity).
      s.phase = cluster_state == "TERMINATED_WITH_ERRORS" ? Phase::kFailed : Phase::kCanceled;
      s.system_failure = true;
      s.reason = cluster_why;
    }
    return s;
  }

  Status RequestStop() override {
    Status first = conn_->api
                       ->Call("CancelSteps",
                              {{"ClusterId", cluster_id_},
                               {"StepIds", json::array({step_id_})},
                               {"StepCancellationOption", "TERMINATE_PROCESS"}},
                              true)
                       .status();
    if (!transient_) return first;
    return conn_->api->Call("TerminateJobFlows", {{"JobFlowIds", json::array({cluster_id_})}}, true)
        .status();
  }

  void CollectLogs(runs::RunRecorder& recorder) override {
    std::string log_uri = Str(cluster_, "LogUri");
    if (log_uri.empty() && !transient_) {
      auto c = conn_->api->Call("DescribeCluster", {{"ClusterId", cluster_id_}}, true);
      if (c.ok()) log_uri = Str((*c).value("Cluster", json::object()), "LogUri");
    }
    if (log_uri.empty()) return;
    while (!log_uri.empty() && log_uri.back() == '/') log_uri.pop_back();
    CollectGzipLogs(*conn_->s3, log_uri + "/" + cluster_id_ + "/steps/" + step_id_ + "/", recorder);
  }

  std::optional<runs::ResourceUsage> Usage() override {
    runs::ResourceUsage u;
    u.runtime_type = "emr";
    u.region = region_;
    u.details = Ids();
    const json& st = step_.value("Status", json::object()).value("Timeline", json::object());
    if (Num(st, "StartDateTime") > 0 && Num(st, "EndDateTime") > 0) {
      u.execution_s = Num(st, "EndDateTime") - Num(st, "StartDateTime");
    }
    if (!transient_) {
      u.details["shared_cluster"] = true;  // the cluster's cost is not this run's alone
      return u;
    }
    const json& ct = cluster_.value("Status", json::object()).value("Timeline", json::object());
    double created = Num(ct, "CreationDateTime"), ready = Num(ct, "ReadyDateTime"),
           ended = Num(ct, "EndDateTime");
    if (ready > 0) u.setup_s = ready - created;
    if (ended > 0 && Num(st, "EndDateTime") > 0)
      u.cleanup_s = std::max(0.0, ended - Num(st, "EndDateTime"));
    if (cluster_.contains("NormalizedInstanceHours")) {
      u.normalized_instance_hours = Num(cluster_, "NormalizedInstanceHours");
    }
    if (ready > 0) u.details["ready_at"] = ready;
    if (ended > 0) u.details["ended_at"] = ended;
    // Per fleet, type and market: how many instances and their mean lifetime.
    std::map<std::string, std::string> fleet_types;
    auto fleets = conn_->api->Call("ListInstanceFleets", {{"ClusterId", cluster_id_}}, true);
    if (fleets.ok()) {
      for (const json& f : (*fleets).value("InstanceFleets", json::array())) {
        fleet_types[Str(f, "Id")] = Str(f, "InstanceFleetType");
      }
    }
    struct Group {
      int count = 0;
      double seconds = 0;
    };
    std::map<std::tuple<std::string, std::string, std::string>, Group> groups;
    std::string marker;
    const double now = static_cast<double>(
        std::chrono::duration_cast<std::chrono::seconds>(clock_->Now().time_since_epoch())
            .count());
    do {
      json in = {{"ClusterId", cluster_id_}};
      if (!marker.empty()) in["Marker"] = marker;
      auto page = conn_->api->Call("ListInstances", in, true);
      if (!page.ok()) break;
      for (const json& i : (*page).value("Instances", json::array())) {
        const json& t = i.value("Status", json::object()).value("Timeline", json::object());
        double start = Num(t, "CreationDateTime"), end = Num(t, "EndDateTime");
        if (end <= 0) end = ended > 0 ? ended : now;
        std::string market = Str(i, "Market").empty() ? "ON_DEMAND" : Str(i, "Market");
        const json& why =
            i.value("Status", json::object()).value("StateChangeReason", json::object());
        if (market == "SPOT" && !Str(why, "Code").empty() &&
            Str(why, "Code") != "CLUSTER_TERMINATED") {
          u.spot_interrupted = true;  // a spot node went, and not with its cluster
        }
        Group& g = groups[{RoleOf(fleet_types[Str(i, "InstanceFleetId")]), Str(i, "InstanceType"),
                           market}];
        ++g.count;
        g.seconds += std::max(0.0, end - start);
      }
      marker = Str(*page, "Marker");
    } while (!marker.empty());
    for (const auto& [key, g] : groups) {
      runs::NodeGroupUsage n;
      std::tie(n.role, n.instance_type, n.market) = key;
      n.count = g.count;
      n.hours = g.seconds / g.count / 3600.0;
      u.nodes.push_back(n);
    }
    return u;
  }

  json Ids() const override { return {{"cluster_id", cluster_id_}, {"step_id", step_id_}}; }

 private:
  AwsConnection* conn_;
  std::string cluster_id_;
  std::string step_id_;
  bool transient_;
  std::string region_;
  const Clock* clock_;
  json step_ = json::object();
  json cluster_ = json::object();
  std::string stderr_uri_;
};

// The step of `cluster_id` named for this run (ListSteps, newest first).
Result<std::optional<std::string>> FindRunStep(AwsApiClient& api, const std::string& cluster_id,
                                               const storage::RunRecord& run) {
  ARBITER_ASSIGN_OR_RETURN(json steps, api.Call("ListSteps", {{"ClusterId", cluster_id}}, true));
  const std::string name = RunResourceName(run);
  for (const json& s : steps.value("Steps", json::array())) {
    if (Str(s, "Name") == name) return std::optional<std::string>(Str(s, "Id"));
  }
  return std::optional<std::string>();
}

}  // namespace

Result<std::optional<std::string>> FindRunCluster(AwsApiClient& api,
                                                  const storage::RunRecord& run) {
  const std::string prefix = "arbiter " + run.run_id + " ";
  json in = {
      {"ClusterStates", json::array({"STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING",
                                     "TERMINATING", "TERMINATED", "TERMINATED_WITH_ERRORS"})},
      {"CreatedAfter",
       std::chrono::duration_cast<std::chrono::seconds>(run.created_at.time_since_epoch()).count() -
           3600}};
  std::string marker;
  do {
    if (!marker.empty()) in["Marker"] = marker;
    ARBITER_ASSIGN_OR_RETURN(json page, api.Call("ListClusters", in, true));
    for (const json& c : page.value("Clusters", json::array())) {
      if (Str(c, "Name").rfind(prefix, 0) != 0) continue;
      ARBITER_ASSIGN_OR_RETURN(json d,
                               api.Call("DescribeCluster", {{"ClusterId", Str(c, "Id")}}, true));
      for (const json& t : d.value("Cluster", json::object()).value("Tags", json::array())) {
        if (Str(t, "Key") == kRunIdTag && Str(t, "Value") == TagValue(run.run_id)) {
          return std::optional<std::string>(Str(c, "Id"));
        }
      }
    }
    marker = Str(page, "Marker");
  } while (!marker.empty());
  return std::optional<std::string>();
}

EmrLauncher::EmrLauncher(storage::Storage* storage, EmrLauncherOptions options)
    : storage_(storage), options_(std::move(options)), lifecycle_(storage, this) {}

Result<std::unique_ptr<runs::PlatformJob>> EmrLauncher::Submit(const runs::RunRequest& request,
                                                               runs::RunRecorder& recorder) {
  const storage::RunRecord& run = request.run;
  const definitions::EmrRuntimeConfig& emr = request.runtime->emr;
  ARBITER_ASSIGN_OR_RETURN(RemoteTarget target, ConnectRemote(request, options_.connect));
  const bool transient = !emr.existing_cluster_id.has_value();

  JobPlan plan;
  plan.request = &request;
  if (transient) {
    ARBITER_ASSIGN_OR_RETURN(
        plan.instances,
        options_.chooser(request.asset->compute, definitions::RuntimeType::kEmr, emr.aws.region));
  }
  auto processor = std::make_unique<pipes::MessageProcessor>(&recorder);
  auto pipes = std::make_unique<S3PipesSession>(target.conn->s3.get(), target.conn->s3_options,
                                                target.staging, run, processor.get(),
                                                options_.connect.clock, options_.follow.reader);
  ARBITER_RETURN_IF_ERROR(PrepareRemoteJob(request, *target.conn->s3, target.staging,
                                           options_.python_client_dir, "emr", *pipes, recorder,
                                           &plan.code, &plan.env));

  AwsApiClient& api = *target.conn->api;
  std::string cluster_id, step_id;
  if (!transient) {
    cluster_id = *emr.existing_cluster_id;
    ARBITER_ASSIGN_OR_RETURN(std::optional<std::string> found, FindRunStep(api, cluster_id, run));
    if (found) {
      step_id = *found;
    } else {
      ARBITER_ASSIGN_OR_RETURN(
          json added, api.Call("AddJobFlowSteps", BuildAddJobFlowSteps(plan, cluster_id), false));
      const json ids = added.value("StepIds", json::array());
      if (ids.empty() || !ids[0].is_string())
        return InternalError("AddJobFlowSteps returned no step id");
      step_id = ids[0].get<std::string>();
    }
    recorder.AddStatus("info", "step " + step_id + " added to cluster " + cluster_id);
  } else {
    // Never a second cluster for one run: look for it first, and again after an error
    // that leaves open whether the create happened.
    for (int attempt = 1; cluster_id.empty(); ++attempt) {
      ARBITER_ASSIGN_OR_RETURN(std::optional<std::string> found, FindRunCluster(api, run));
      if (found) {
        cluster_id = *found;
        recorder.AddStatus("info", "found this run's cluster " + cluster_id + "; following it");
        break;
      }
      Result<json> created = api.Call("RunJobFlow", BuildRunJobFlow(plan), false);
      if (created.ok()) {
        cluster_id = Str(*created, "JobFlowId");
        recorder.AddStatus("info",
                           "cluster " + cluster_id +
                               " requested (workers: " + Join(plan.instances.worker, ", ") +
                               "; release " + emr.release_label + ")",
                           {{"cluster_id", cluster_id}});
        break;
      }
      if (created.status().code() != StatusCode::kUnavailable || attempt >= 3) {
        return created.status();
      }
      recorder.AddStatus("warning",
                         created.status().message() + "; checking whether the cluster exists");
    }
    ARBITER_ASSIGN_OR_RETURN(std::optional<std::string> step, FindRunStep(api, cluster_id, run));
    if (!step) return InternalError("cluster " + cluster_id + " has no step for this run");
    step_id = *step;
  }
  storage::RunUpdate ids;
  ids.external_id = cluster_id;
  const json first_cursor = {{"cluster_id", cluster_id}, {"step_id", step_id}, {"next_chunk", 1}};
  ARBITER_RETURN_IF_ERROR(
      runs::StoreExternalIds(*storage_, run, ids, /*running=*/false, &first_cursor, recorder));
  auto job = std::make_unique<EmrJob>(target.conn.get(), cluster_id, step_id, transient,
                                      emr.aws.region, options_.connect.clock);
  return MakeRemotePlatformJob(std::move(target.conn), std::move(processor), std::move(pipes),
                               std::move(job), recorder, options_.connect.clock);
}

Result<std::unique_ptr<runs::PlatformJob>> EmrLauncher::Resume(const runs::RunRequest& request,
                                                               runs::RunRecorder& recorder) {
  const storage::RunRecord& run = request.run;
  const definitions::EmrRuntimeConfig& emr = request.runtime->emr;
  ARBITER_ASSIGN_OR_RETURN(RemoteTarget target, ConnectRemote(request, options_.connect));
  const bool transient = !emr.existing_cluster_id.has_value();
  const json& cursor = run.reader_cursor.is_object() ? run.reader_cursor : json::object();
  std::string cluster_id = cursor.value("cluster_id", run.external_id);
  std::string step_id = cursor.value("step_id", "");
  AwsApiClient& api = *target.conn->api;
  if (cluster_id.empty()) {
    if (!transient) {
      cluster_id = *emr.existing_cluster_id;
    } else {
      ARBITER_ASSIGN_OR_RETURN(std::optional<std::string> found, FindRunCluster(api, run));
      if (!found) {
        return FailedPreconditionError(std::string(runs::kOrchestratorStoppedReason) +
                                       " before its cluster was created; nothing runs on EMR "
                                       "for it");
      }
      cluster_id = *found;
    }
  }
  if (step_id.empty()) {
    ARBITER_ASSIGN_OR_RETURN(std::optional<std::string> step, FindRunStep(api, cluster_id, run));
    if (!step) {
      return FailedPreconditionError(std::string(runs::kOrchestratorStoppedReason) +
                                     " before its step was added to " + cluster_id);
    }
    step_id = *step;
  }
  recorder.AddStatus("info", "re-attached to cluster " + cluster_id + ", step " + step_id +
                                 " after the previous arbiter (" + run.owner + ") stopped");
  if (run.external_id.empty()) {
    storage::RunUpdate ids;
    ids.external_id = cluster_id;
    ARBITER_RETURN_IF_ERROR(
        storage_->TransitionRun(run.run_id, {run.status}, run.status, ids).status());
  }
  auto processor = std::make_unique<pipes::MessageProcessor>(&recorder);
  auto pipes = std::make_unique<S3PipesSession>(
      target.conn->s3.get(), target.conn->s3_options, target.staging, run, processor.get(),
      options_.connect.clock, ResumeFrom(cursor, options_.follow.reader, *processor));
  auto job = std::make_unique<EmrJob>(target.conn.get(), cluster_id, step_id, transient,
                                      emr.aws.region, options_.connect.clock);
  return MakeRemotePlatformJob(std::move(target.conn), std::move(processor), std::move(pipes),
                               std::move(job), recorder, options_.connect.clock);
}

}  // namespace arbiter::emr
