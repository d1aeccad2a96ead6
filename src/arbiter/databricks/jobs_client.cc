#include "arbiter/databricks/jobs_client.h"

namespace arbiter::databricks {
namespace {

constexpr const char* kJobs = "/api/2.1/jobs/runs/";

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

int64_t Int(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

const nlohmann::json& Obj(const nlohmann::json& j, const char* key) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : kEmpty;
}

}  // namespace

bool RunState::terminal() const {
  return life_cycle_state == "TERMINATED" || life_cycle_state == "SKIPPED" ||
         life_cycle_state == "INTERNAL_ERROR";
}

Result<RunState> ParseRunState(const nlohmann::json& run) {
  if (!run.is_object() || !run.contains("run_id") || !run["run_id"].is_number_integer()) {
    return InternalError("runs/get: the response has no run_id");
  }
  const nlohmann::json& state = Obj(run, "state");
  RunState s;
  s.run_id = run["run_id"].get<int64_t>();
  s.life_cycle_state = Str(state, "life_cycle_state");
  if (s.life_cycle_state.empty()) return InternalError("runs/get: the run has no life_cycle_state");
  s.result_state = Str(state, "result_state");
  s.state_message = Str(state, "state_message");
  auto cancelled = state.find("user_cancelled_or_timedout");
  s.user_cancelled_or_timedout = cancelled != state.end() && cancelled->is_boolean() && *cancelled;
  const nlohmann::json& details = Obj(Obj(run, "status"), "termination_details");
  s.termination_code = Str(details, "code");
  s.termination_type = Str(details, "type");
  s.run_page_url = Str(run, "run_page_url");
  s.start_time_ms = Int(run, "start_time");
  s.end_time_ms = Int(run, "end_time");
  s.setup_ms = Int(run, "setup_duration");
  s.execution_ms = Int(run, "execution_duration");
  s.cleanup_ms = Int(run, "cleanup_duration");
  s.cluster_id = Str(Obj(run, "cluster_instance"), "cluster_id");
  auto tasks = run.find("tasks");
  if (tasks != run.end() && tasks->is_array() && !tasks->empty() && (*tasks)[0].is_object()) {
    const nlohmann::json& task = (*tasks)[0];
    s.task_run_id = Int(task, "run_id");
    // Multi-task format: the durations are per task (0 at the top level).
    s.setup_ms = Int(task, "setup_duration");
    s.execution_ms = Int(task, "execution_duration");
    s.cleanup_ms = Int(task, "cleanup_duration");
    std::string cluster = Str(Obj(task, "cluster_instance"), "cluster_id");
    if (!cluster.empty()) s.cluster_id = cluster;
    if (s.run_page_url.empty()) s.run_page_url = Str(task, "run_page_url");
  }
  s.raw = run;
  return s;
}

Result<RunOutput> ParseRunOutput(const nlohmann::json& output) {
  if (!output.is_object()) return InternalError("runs/get-output: not a JSON object");
  RunOutput o;
  o.logs = Str(output, "logs");
  auto t = output.find("logs_truncated");
  o.logs_truncated = t != output.end() && t->is_boolean() && *t;
  o.error = Str(output, "error");
  o.error_trace = Str(output, "error_trace");
  return o;
}

Result<int64_t> JobsClient::Submit(const nlohmann::json& body) {
  ARBITER_ASSIGN_OR_RETURN(nlohmann::json r,
                           rest_->Post(std::string(kJobs) + "submit", body, /*idempotent=*/true));
  if (!r.contains("run_id") || !r["run_id"].is_number_integer()) {
    return InternalError("runs/submit: the response has no run_id");
  }
  return r["run_id"].get<int64_t>();
}

Result<RunState> JobsClient::GetRun(int64_t run_id) {
  ARBITER_ASSIGN_OR_RETURN(nlohmann::json r,
                           rest_->Get(std::string(kJobs) + "get", {{"run_id", std::to_string(run_id)}}));
  return ParseRunState(r);
}

Status JobsClient::Cancel(int64_t run_id) {
  // Canceling twice is harmless, so the POST may be retried.
  return rest_->Post(std::string(kJobs) + "cancel", {{"run_id", run_id}}, /*idempotent=*/true)
      .status();
}

Result<RunOutput> JobsClient::GetOutput(int64_t task_run_id) {
  ARBITER_ASSIGN_OR_RETURN(nlohmann::json r,
                           rest_->Get(std::string(kJobs) + "get-output",
                                      {{"run_id", std::to_string(task_run_id)}}));
  return ParseRunOutput(r);
}

}  // namespace arbiter::databricks
