// The pipes context Arbiter gives a run's job (docs/pipes.md lists what goes in it):
// asset, partition and its time window, run id, and the runtime it runs on. Shared by
// every launcher so a job sees the same context locally and on a platform.
#pragma once

#include <string_view>

#include "arbiter/pipes/params.h"
#include "arbiter/runs/launcher.h"

namespace arbiter::runs {

Result<pipes::OrderedJson> BuildRunContext(const RunRequest& request,
                                           std::string_view runtime_type);

}  // namespace arbiter::runs
