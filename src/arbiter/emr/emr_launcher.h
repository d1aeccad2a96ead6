// The EMR (on EC2) runtime: each run is one spark-submit step, on a transient cluster
// created for it (RunJobFlow with instance fleets; the default) or added to a configured
// cluster (AddJobFlowSteps). The cluster and step ids are stored before polling; a
// restarted arbiter follows them and never creates a second cluster, and a create is
// preceded by a look-up of the run's cluster by its run id tag. docs/emr.md has the
// mappings and decisions. One launcher serves every emr runtime of a project; runs are
// followed on the caller's threads.
#pragma once

#include <string>

#include "arbiter/emr/aws_connection.h"
#include "arbiter/emr/remote_follower.h"
#include "arbiter/runs/instance_chooser.h"
#include "arbiter/runs/launcher.h"

namespace arbiter::emr {

struct EmrLauncherOptions : RemoteLauncherOptions {
  runs::InstanceChooser chooser = runs::ExplicitInstanceTypes;
};

// Finds an active cluster created for `run_id` (by name, confirmed by its tag).
Result<std::optional<std::string>> FindRunCluster(AwsApiClient& api, const storage::RunRecord& run);

// Runs go through the one run lifecycle (runs/run_follower.h); this class is EMR's part.
class EmrLauncher final : public runs::Launcher, private runs::Platform {
 public:
  EmrLauncher(storage::Storage* storage, EmrLauncherOptions options);

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
  EmrLauncherOptions options_;
  runs::PlatformLauncher lifecycle_;
};

}  // namespace arbiter::emr
