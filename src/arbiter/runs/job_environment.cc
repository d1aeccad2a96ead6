#include "arbiter/runs/job_environment.h"

namespace arbiter::runs {

std::map<std::string, std::string> ArbiterVariables(const storage::RunRecord& run) {
  std::map<std::string, std::string> vars = {{"ARBITER_RUN_ID", run.run_id},
                                             {"ARBITER_ASSET", run.asset_key}};
  if (run.partition_key) vars["ARBITER_PARTITION"] = *run.partition_key;
  return vars;
}

Result<std::map<std::string, std::string>> JobEnvironment(const RunRequest& request,
                                                          definitions::JobEnvTarget target,
                                                          const pipes::BootstrapParams* bootstrap) {
  std::map<std::string, std::string> env;
  for (const auto& [name, value] : request.asset->job.env) {
    Result<std::string> v = value.ResolveForJob(*request.env, target);
    if (!v.ok()) return v.status().WithContext("environment variable " + name + " of the job");
    env[name] = *v;
  }
  for (auto& [k, v] : ArbiterVariables(request.run)) env[k] = std::move(v);
  if (bootstrap) {
    for (auto& [k, v] : pipes::BootstrapEnvVars(*bootstrap)) env[k] = std::move(v);
  }
  return env;
}

}  // namespace arbiter::runs
