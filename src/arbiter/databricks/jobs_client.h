// Jobs API 2.1 one-time runs: runs/submit, runs/get, runs/cancel, runs/get-output, runs/list.
// RunState is the part of a Run the launcher acts on, parsed from the documented response;
// the raw document is kept for anything else. Thread-safe as RestClient is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "arbiter/databricks/rest_client.h"

namespace arbiter::databricks {

struct RunState {
  int64_t run_id = 0;
  std::string life_cycle_state;  // QUEUED, PENDING, RUNNING, TERMINATING, TERMINATED, ...
  std::string result_state;      // once terminal: SUCCESS, FAILED, CANCELED, TIMEDOUT, ...
  std::string state_message;
  bool user_cancelled_or_timedout = false;
  std::string termination_code;  // status.termination_details.code (newer form)
  std::string termination_type;  // SUCCESS, INTERNAL_ERROR, CLIENT_ERROR, CLOUD_FAILURE
  std::string run_page_url;
  // The (only) task's run: get-output takes its id; durations are per task.
  int64_t task_run_id = 0;
  std::string cluster_id;        // once the cluster exists
  int64_t start_time_ms = 0;
  int64_t end_time_ms = 0;       // 0 while running
  int64_t setup_ms = 0;
  int64_t execution_ms = 0;
  int64_t cleanup_ms = 0;
  nlohmann::json raw;

  // TERMINATED, SKIPPED or INTERNAL_ERROR: nothing will change any more.
  bool terminal() const;
};

Result<RunState> ParseRunState(const nlohmann::json& run);

struct RunOutput {
  std::string logs;
  bool logs_truncated = false;
  std::string error;
  std::string error_trace;
};

Result<RunOutput> ParseRunOutput(const nlohmann::json& output);

class JobsClient {
 public:
  explicit JobsClient(RestClient* rest) : rest_(rest) {}

  // The body carries an idempotency_token, so the POST is retried safely and a repeat
  // returns the run the first one started.
  Result<int64_t> Submit(const nlohmann::json& body);
  Result<RunState> GetRun(int64_t run_id);
  Status Cancel(int64_t run_id);
  Result<RunOutput> GetOutput(int64_t task_run_id);

 private:
  RestClient* rest_;
};

}  // namespace arbiter::databricks
