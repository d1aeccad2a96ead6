// The Databricks runtime: runs an asset as a one-time Jobs run (runs/submit) on a new job
// cluster shaped from its compute spec, or on an existing cluster.
//
// Per run: the job code is uploaded to <staging>/code/<content hash>/ (the script, its sibling
// .py modules and the pipes client), the pipes context to <staging>/runs/<run id>/context.json;
// the job writes message chunks to <staging>/runs/<run id>/messages/ through the cluster's FUSE
// mount, and the cluster delivers driver logs to <staging>/logs/<run id>/. The submit carries
// idempotency_token = the Arbiter run id; the Databricks run id is stored (external_id and the
// reader cursor) before the first poll, so a restarted arbiter follows the same run
// (Reattach) and never submits again. Cancel and timeouts go through runs/cancel and end only
// when Databricks reports the run terminated. Thread-safe: runs execute concurrently.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "arbiter/databricks/jobs_client.h"
#include "arbiter/http/http.h"
#include "arbiter/http/retry.h"
#include "arbiter/pipes/channels.h"
#include "arbiter/runs/instance_chooser.h"
#include "arbiter/runs/launcher.h"
#include "arbiter/runs/run_follower.h"
#include "arbiter/runs/run_recorder.h"

namespace arbiter::databricks {

struct DatabricksLauncherOptions {
  // Instance types for the cluster; the cost module supplies a catalog-based chooser.
  runs::InstanceChooser instance_chooser = runs::ExplicitInstanceTypes;
  std::string python_client_dir;  // arbiter_pipes.py is shipped with the job code; may be empty
  // The transport; null = libcurl. Requests go through a RetryingHttpClient with `retry`.
  http::HttpClient* transport = nullptr;
  http::RetryPolicy retry;
  // runs/get polling: starts at poll_initial, grows 1.5x (with jitter) up to poll_max while
  // nothing changes, back to poll_initial on a change.
  std::chrono::milliseconds poll_initial{1000};
  std::chrono::milliseconds poll_max{10000};
  std::chrono::milliseconds cancel_check_interval{1000};  // storage polled for CANCELING
  // After runs/cancel, how long to wait for Databricks to report the run terminated.
  std::chrono::seconds cancel_wait{900};
  // A run that cannot be polled this many times in a row (after the HTTP retries) fails.
  int max_poll_failures = 10;
  pipes::BlobReaderOptions pipes_reader;
  runs::RecorderOptions recorder;
  const Clock* clock = &RealClock();
};

// Runs go through the one run lifecycle (runs/run_follower.h); this class is the Databricks
// part: submitting, finding a run again, and the job (runs/get, pipes chunks, driver logs).
class DatabricksLauncher final : public runs::Launcher, private runs::Platform {
 public:
  DatabricksLauncher(storage::Storage* storage, DatabricksLauncherOptions options);
  ~DatabricksLauncher() override;

  Result<runs::RunResult> Execute(const runs::RunRequest& request,
                                  const runs::CancelSignal& cancel) override {
    return lifecycle_.Execute(request, cancel);
  }
  Result<runs::RunResult> Reattach(const runs::RunRequest& request,
                                   const runs::CancelSignal& cancel) override {
    return lifecycle_.Reattach(request, cancel);
  }

  struct Session;  // a workspace connection: auth, REST, Jobs API, staging area

 private:
  Result<std::unique_ptr<runs::PlatformJob>> Submit(const runs::RunRequest& request,
                                                    runs::RunRecorder& recorder) override;
  Result<std::unique_ptr<runs::PlatformJob>> Resume(const runs::RunRequest& request,
                                                    runs::RunRecorder& recorder) override;
  runs::FollowOptions follow_options() const override;
  runs::RecorderOptions recorder_options() const override;

  Result<std::unique_ptr<Session>> Connect(const runs::RunRequest& request);
  Result<std::unique_ptr<runs::PlatformJob>> SubmitWith(const runs::RunRequest& request,
                                                        std::unique_ptr<Session> session,
                                                        runs::RunRecorder& recorder);

  storage::Storage* storage_;
  DatabricksLauncherOptions options_;
  std::unique_ptr<http::HttpClient> curl_;
  std::unique_ptr<http::HttpClient> retrying_;
  runs::PlatformLauncher lifecycle_;
};

// Files shipped with a job: the script, the .py files next to it, and the pipes client
// (name → content); the content hash names the folder they go to.
struct JobCode {
  std::map<std::string, std::string> files;
  std::string hash;  // 16 hex digits of SHA-256 over names and contents
};
Result<JobCode> CollectJobCode(const std::string& project_root, const std::string& script,
                               const std::string& python_client_dir);

// What a run used, from the run as Databricks reports it and the cluster it asked for.
// Node groups come from the task's new_cluster (driver on demand; workers on spot under
// SPOT_WITH_FALLBACK, after the first first_on_demand nodes), hours from the task's setup,
// execution and cleanup durations.
runs::ResourceUsage UsageOf(const RunState& state, const std::string& region);

// Whether the runtime's credentials (token, or OAuth client id and secret) can
// be resolved now, so placement can leave out a runtime that would fail at its
// first request. kFailedPrecondition naming what is missing, never a value.
Status CheckDatabricksCredentials(const definitions::RuntimeConfig& runtime,
                                  const definitions::Environment& env);

}  // namespace arbiter::databricks
