// Step one of planning: which partitions of an asset a selection names, minus
// those a live run already holds. Reads partition status (--all-missing) and
// live runs from the PlanningState; places nothing.
#pragma once

#include "arbiter/planning/plan.h"
#include "arbiter/planning/planning_state.h"

namespace arbiter::planning {

// Fills plan->asset, plan->selected, plan->skipped and plan->runs (one per
// free target, runtime not yet chosen), or plan->errors. An unpartitioned
// asset has one target (partition nullopt); a selection of it is an error.
// The partition indices `selection` names (errors appended to `errors`); the
// live runs holding some of them are not looked at. Backfills store this set.
std::optional<definitions::PartitionSet> SelectPartitionIndices(
    const definitions::AssetDef& asset, const definitions::PartitionsDef& def,
    const Selection& selection, PlanningState& state, std::vector<PlanError>* errors);

void SelectTargets(const definitions::Project& project, const definitions::AssetDef& asset,
                   const Selection& selection, PlanningState& state, Plan* plan);

}  // namespace arbiter::planning
