// The environment contract between Arbiter and a job, the same on every
// runtime: the asset's `job.env` (references resolved as the target allows:
// a secret is never put where the platform stores it in clear), the ARBITER_*
// variables, and the pipes bootstrap (DAGSTER_PIPES_*). Runtimes add only what
// is theirs (ARBITER_RUN_DIR locally, PYTHONPATH to the staged code remotely).
#pragma once

#include <map>
#include <string>

#include "arbiter/common/status.h"
#include "arbiter/definitions/secret_ref.h"
#include "arbiter/pipes/params.h"
#include "arbiter/runs/launcher.h"

namespace arbiter::runs {

// ARBITER_RUN_ID, ARBITER_ASSET and (for a partitioned run) ARBITER_PARTITION.
std::map<std::string, std::string> ArbiterVariables(const storage::RunRecord& run);

// The job's whole Arbiter-given environment: job.env, then ARBITER_*, then the
// pipes bootstrap (later ones win). Fails naming the variable that cannot be
// resolved or may not go to `target`.
Result<std::map<std::string, std::string>> JobEnvironment(const RunRequest& request,
                                                          definitions::JobEnvTarget target,
                                                          const pipes::BootstrapParams* bootstrap);

}  // namespace arbiter::runs
