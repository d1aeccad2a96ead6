// How the CLI uses the planner (arbiter/planning): the planner with this
// machine's seams (which runtimes have credentials, which have a launcher in
// this build), and its errors and skipped partitions in the terminal's words.
#pragma once

#include <ostream>

#include "arbiter/cli/command_context.h"
#include "arbiter/cli/run_support.h"
#include "arbiter/planning/planner.h"

namespace arbiter::cli {

// `launchers` may be null: every runtime counts as launchable.
planning::Planner MakePlanner(const CommandContext& ctx, const definitions::Project& project,
                              planning::PlanningState* state, Launchers* launchers);

// "error: WHAT" and, when there is one, "  hint: HINT".
void PrintPlanErrors(std::ostream& err, const std::vector<planning::PlanError>& errors);
// "skipped KEY: run ID (STATUS on RUNTIME) holds it"
void PrintSkipped(std::ostream& err, const definitions::AssetDef& asset,
                  const std::vector<planning::SkippedPartition>& skipped);

}  // namespace arbiter::cli
