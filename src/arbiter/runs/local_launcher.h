// The local runtime: runs a job as a child process of this machine.
//
// The job gets its own process group, a working directory (the project), the
// pipes bootstrap in its environment, and stdout/stderr redirected to files in
// <runs_dir>/<run id>/, next to the pipes messages file. The launcher tails
// the three files, so a job outlives an arbiter that dies and a restarted
// arbiter resumes from the cursor stored with the events (Reattach).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "arbiter/runs/launcher.h"
#include "arbiter/runs/process.h"
#include "arbiter/runs/run_follower.h"
#include "arbiter/runs/run_recorder.h"

namespace arbiter::runs {

struct LocalLauncherOptions {
  std::string runs_dir;               // per-run files: <runs_dir>/<run id>/
  std::string python_client_dir;      // prepended to PYTHONPATH (clients/python); may be empty
  std::vector<std::string> base_env;  // what jobs inherit ("NAME=value")
  // The longest wait between reads of the job's files; its exit wakes the
  // follower at once.
  std::chrono::milliseconds poll_interval{50};
  std::chrono::milliseconds flush_interval{200};
  std::chrono::milliseconds cancel_check_interval{250};  // storage polled for CANCELING
  std::chrono::milliseconds cancel_grace{10000};         // SIGTERM, then SIGKILL
  size_t max_message_line_bytes = 8u << 20;
  RecorderOptions recorder;
  bool keep_files = false;  // keep stdout/stderr/messages files after the run
  // arbiter-job-monitor (job_monitor_main.cc): jobs start as its children, so
  // their exit status survives a restart of this arbiter. Empty: jobs start
  // directly and a re-attached job's exit status is unknown.
  std::string job_monitor;
  const Clock* clock = &RealClock();
};

// The program and arguments a run starts with, and notes for the run's events.
struct LocalCommand {
  std::vector<std::string> argv;
  std::vector<std::string> notes;
};

// spark-submit for pyspark jobs when available, otherwise python3; the
// command as given for `command` jobs. `path_env` is the PATH to search.
Result<LocalCommand> BuildLocalCommand(const RunRequest& request, const std::string& path_env);

// Runs go through the one run lifecycle (run_follower.h); this class is the
// local platform's part: spawning the process, finding it again, its files.
class LocalLauncher final : public Launcher, private Platform {
 public:
  LocalLauncher(storage::Storage* storage, LocalLauncherOptions options);

  Result<RunResult> Execute(const RunRequest& request, const CancelSignal& cancel) override {
    return lifecycle_.Execute(request, cancel);
  }
  Result<RunResult> Reattach(const RunRequest& request, const CancelSignal& cancel) override {
    return lifecycle_.Reattach(request, cancel);
  }

 private:
  // Platform
  Result<std::unique_ptr<PlatformJob>> Submit(const RunRequest& request,
                                              RunRecorder& recorder) override;
  Result<std::unique_ptr<PlatformJob>> Resume(const RunRequest& request,
                                              RunRecorder& recorder) override;
  FollowOptions follow_options() const override;
  RecorderOptions recorder_options() const override;

  Result<std::vector<std::string>> BuildEnv(const RunRequest& request, const std::string& dir,
                                            RunRecorder& recorder);
  std::string RunDir(const std::string& run_id) const;

  storage::Storage* storage_;
  LocalLauncherOptions options_;
  PlatformLauncher lifecycle_;
};

}  // namespace arbiter::runs
