// The EMR Serverless runtime: each run is one Spark job run on the configured application
// (StartJobRun with clientToken = the run id, so a retried start cannot start a second
// one), followed with GetJobRun, stopped with CancelJobRun, its usage taken from the
// job run's resource utilization. The job run id is stored before polling; a restarted
// arbiter follows it.
#pragma once

#include <string>

#include "arbiter/emr/aws_connection.h"
#include "arbiter/emr/remote_follower.h"
#include "arbiter/runs/launcher.h"

namespace arbiter::emr {

using EmrServerlessLauncherOptions = RemoteLauncherOptions;

// Runs go through the one run lifecycle (runs/run_follower.h); this class is EMR
// Serverless's part.
class EmrServerlessLauncher final : public runs::Launcher, private runs::Platform {
 public:
  EmrServerlessLauncher(storage::Storage* storage, EmrServerlessLauncherOptions options);

  Result<runs::RunResult> Execute(const runs::RunRequest& request,
                                  const runs::CancelSignal& cancel) override {
    return lifecycle_.Execute(request, cancel);
  }
  Result<runs::RunResult> Reattach(const runs::RunRequest& request,
                                   const runs::CancelSignal& cancel) override {
    return lifecycle_.Reattach(request, cancel);
  }

 private:
  Result<std::unique_ptr<runs::PlatformJob>> Submit(const runs::RunRequest& request,
                                                    runs::RunRecorder& recorder) override;
  Result<std::unique_ptr<runs::PlatformJob>> Resume(const runs::RunRequest& request,
                                                    runs::RunRecorder& recorder) override;
  runs::FollowOptions follow_options() const override {
    return RunFollowOptions(options_.follow, options_.connect.clock);
  }
  runs::RecorderOptions recorder_options() const override { return options_.follow.recorder; }

  storage::Storage* storage_;
  EmrServerlessLauncherOptions options_;
  runs::PlatformLauncher lifecycle_;
};

}  // namespace arbiter::emr
