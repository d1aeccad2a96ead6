// What the EMR and EMR Serverless runtimes share on top of the one run lifecycle
// (runs/run_follower.h): the pipes session over S3 (context object and message chunks under
// the run's staging prefix), staging the job, logs from the log bucket, and the adapter that
// turns a RemoteJob (the platform-specific part: poll, stop, logs, usage, ids) and its pipes
// session into the lifecycle's PlatformJob. The reader cursor (next chunk, session state and
// the platform ids) is stored with every batch of events, so a restarted arbiter resumes
// where the stored data ends.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "arbiter/aws/s3_blob_store.h"
#include "arbiter/common/clock.h"
#include "arbiter/emr/aws_connection.h"
#include "arbiter/emr/job_staging.h"
#include "arbiter/pipes/params.h"
#include "arbiter/runs/launcher.h"
#include "arbiter/runs/run_follower.h"
#include "arbiter/runs/run_recorder.h"

namespace arbiter::emr {

struct RemoteStatus {
  enum class Phase { kPending, kRunning, kSucceeded, kFailed, kCanceled };
  Phase phase = Phase::kPending;
  std::string description;  // recorded as a status event whenever it changes
  std::string reason;       // why it failed or was canceled
  bool system_failure = false;  // the platform failed, not the job (runs::JobState)
};

class RemoteJob {
 public:
  virtual ~RemoteJob() = default;
  virtual Result<RemoteStatus> Poll() = 0;
  // Asks the platform to stop the run; Poll reports when it has.
  virtual Status RequestStop() = 0;
  // After the end: the job's stdout/stderr from the log bucket, into the recorder.
  virtual void CollectLogs(runs::RunRecorder& recorder) = 0;
  virtual std::optional<runs::ResourceUsage> Usage() = 0;
  // Platform ids kept in the reader cursor ({"cluster_id", "step_id"} ...).
  virtual nlohmann::json Ids() const = 0;
};

struct FollowOptions {
  std::chrono::milliseconds poll_initial{2000};
  std::chrono::milliseconds poll_max{30000};
  std::chrono::milliseconds cancel_check{1000};
  // How long to wait for the platform to confirm a stop before giving up on it.
  std::chrono::milliseconds stop_timeout{std::chrono::minutes(20)};
  // Consecutive failed status polls tolerated (transient API errors) before giving up.
  int max_poll_errors = 10;
  pipes::BlobReaderOptions reader{std::chrono::seconds(60), std::chrono::milliseconds(500)};
  runs::RecorderOptions recorder;
};

// What both launchers are configured with.
struct RemoteLauncherOptions {
  std::string python_client_dir;  // arbiter_pipes.py is shipped with every job from here
  FollowOptions follow;
  ConnectOptions connect;  // clock required
};

// The pipes session of one run over S3, at <staging>/runs/<run id>/.
class S3PipesSession {
 public:
  S3PipesSession(aws::S3Client* s3, const aws::S3Options& s3_options, const S3Location& staging,
                 const storage::RunRecord& run, pipes::MessageProcessor* processor,
                 const Clock* clock, pipes::BlobReaderOptions reader_options);
  // Puts the context in S3; returns the pipes bootstrap for the job's environment.
  Result<pipes::BootstrapParams> Start(const pipes::OrderedJson& context);
  pipes::BlobChunkMessageReader& reader() { return *reader_; }
  // Deletes the context and the message chunks.
  Status Cleanup();

 private:
  aws::S3BlobStore store_;
  std::string prefix_;
  std::unique_ptr<pipes::BlobChunkMessageReader> reader_;
  pipes::BlobContextInjector injector_;
};

// The job's environment (runs/job_environment.h): job.env literals only (a ${env:}/${file:}
// secret is refused, since EMR stores it with the run), ARBITER_* and the pipes bootstrap.
Result<std::map<std::string, std::string>> JobEnvironment(
    const runs::RunRequest& request, const pipes::BootstrapParams& bootstrap);

// The lifecycle's view of one EMR-family job: the platform part (`job`) and the pipes
// session over S3, both owned, with what they use.
std::unique_ptr<runs::PlatformJob> MakeRemotePlatformJob(
    std::unique_ptr<AwsConnection> conn, std::unique_ptr<pipes::MessageProcessor> processor,
    std::unique_ptr<S3PipesSession> pipes, std::unique_ptr<RemoteJob> job,
    runs::RunRecorder& recorder, const Clock* clock);

// The run lifecycle's options for the EMR-family runtimes.
runs::FollowOptions RunFollowOptions(const FollowOptions& options, const Clock* clock);

// A runtime's connection and staging location.
struct RemoteTarget {
  std::unique_ptr<AwsConnection> conn;
  S3Location staging;
};
Result<RemoteTarget> ConnectRemote(const runs::RunRequest& request, const ConnectOptions& options);

// Stages the job's code, puts the pipes context in S3 and builds the job's environment.
Status PrepareRemoteJob(const runs::RunRequest& request, aws::S3Client& s3,
                        const S3Location& staging, const std::string& pipes_client,
                        std::string_view runtime_type, S3PipesSession& pipes,
                        runs::RunRecorder& recorder, StagedCode* code,
                        std::map<std::string, std::string>* env);

// Moves a stored cursor's pipes state into a reader and processor (re-attach).
pipes::BlobReaderOptions ResumeFrom(const nlohmann::json& cursor, pipes::BlobReaderOptions base,
                                    pipes::MessageProcessor& processor);

// Splits log text into stdout/stderr events.
void AddLogLines(runs::RunRecorder& recorder, pipes::StdStream stream, std::string_view text);
// <dir>stdout.gz and <dir>stderr.gz (as EMR delivers logs) into stdout/stderr events; a
// missing log is a warning event.
void CollectGzipLogs(aws::S3Client& s3, const std::string& dir, runs::RunRecorder& recorder);

}  // namespace arbiter::emr
