// The request bodies Arbiter sends to EMR and EMR Serverless for one run, built from the
// asset's job and abstract compute spec (docs/emr.md has the full mapping). Pure functions:
// no I/O, so every mapping decision is unit-tested and the bodies can be validated against
// the service models.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "arbiter/emr/job_staging.h"
#include "arbiter/runs/instance_chooser.h"
#include "arbiter/runs/launcher.h"

namespace arbiter::emr {

// What a run sends besides the definitions: staged code, the job's environment (pipes
// bootstrap, ARBITER_*, the asset's job env) and, for EMR, the instance types.
struct JobPlan {
  const runs::RunRequest* request = nullptr;
  StagedCode code;
  std::map<std::string, std::string> env;
  runs::InstanceChoice instances;
};

// "arbiter <run id> <asset> [<partition>]", at most 256 characters; the run id comes first
// so truncation never hides it (a restarted arbiter finds its cluster by it).
std::string RunResourceName(const storage::RunRecord& run);
// Tag values keep only what AWS accepts (letters, digits, spaces, _ . : / = + - @).
std::string TagValue(std::string_view value);
inline constexpr const char* kRunIdTag = "arbiter:run-id";

// How the workers split between on-demand core nodes and spot task nodes.
struct FleetSizes {
  int core = 0;
  int task = 0;
};
FleetSizes SplitWorkers(const definitions::ComputeSpec& compute,
                        const definitions::EmrRuntimeConfig& emr);

// command-runner.jar arguments: spark-submit (cluster deploy mode, --py-files, the asset's
// spark_conf override, the env as --conf when `env_as_conf`) or a command job's argv.
std::vector<std::string> StepArgs(const JobPlan& plan, bool env_as_conf);
nlohmann::json BuildRunJobFlow(const JobPlan& plan);
nlohmann::json BuildAddJobFlowSteps(const JobPlan& plan, const std::string& cluster_id);

// EMR Serverless worker sizes: the allowed vCPU counts and their memory ranges.
struct WorkerSize {
  int vcpu = 4;
  int memory_gb = 16;
};
WorkerSize ServerlessWorker(const definitions::WorkerShape& shape, WorkerSize fallback);
std::string SparkSubmitParameters(const JobPlan& plan);
nlohmann::json BuildStartJobRun(const JobPlan& plan);

}  // namespace arbiter::emr
