// The pipes context every launcher gives a run's job (docs/pipes.md lists what is in it):
// the asset, partition key and time window, run id, retry number and Arbiter extras.
#pragma once

#include <string_view>

#include "arbiter/pipes/json_util.h"
#include "arbiter/runs/launcher.h"

namespace arbiter::runs {

Result<pipes::OrderedJson> BuildPipesContext(const RunRequest& request,
                                             std::string_view runtime_type);

}  // namespace arbiter::runs
