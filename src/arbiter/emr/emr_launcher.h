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

class EmrLauncher final : public runs::Launcher {
 public:
  EmrLauncher(storage::Storage* storage, EmrLauncherOptions options);

  Result<runs::RunResult> Execute(const runs::RunRequest& request,
                                  const runs::CancelSignal& cancel) override;
  Result<runs::RunResult> Reattach(const runs::RunRequest& request,
                                   const runs::CancelSignal& cancel) override;

 private:
  storage::Storage* storage_;
  EmrLauncherOptions options_;
};

}  // namespace arbiter::emr
