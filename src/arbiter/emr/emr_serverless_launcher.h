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

class EmrServerlessLauncher final : public runs::Launcher {
 public:
  EmrServerlessLauncher(storage::Storage* storage, EmrServerlessLauncherOptions options);

  Result<runs::RunResult> Execute(const runs::RunRequest& request,
                                  const runs::CancelSignal& cancel) override;
  Result<runs::RunResult> Reattach(const runs::RunRequest& request,
                                   const runs::CancelSignal& cancel) override;

 private:
  storage::Storage* storage_;
  EmrServerlessLauncherOptions options_;
};

}  // namespace arbiter::emr
