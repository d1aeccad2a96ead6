#include "arbiter/cli/planning_support.h"

namespace arbiter::cli {

planning::Planner MakePlanner(const CommandContext& ctx, const definitions::Project& project,
                              planning::PlanningState* state, Launchers* launchers) {
  planning::AvailabilityProbe availability = [&ctx, &project](const definitions::AssetDef& a) {
    return UnavailableRuntimes(ctx, project, a);
  };
  planning::LaunchableCheck launchable;
  if (launchers) {
    launchable = [launchers](const definitions::RuntimeConfig& rt) {
      return launchers->For(rt) != nullptr;
    };
  }
  return planning::Planner(&project, state, std::move(availability), std::move(launchable));
}

void PrintPlanErrors(std::ostream& err, const std::vector<planning::PlanError>& errors) {
  for (const planning::PlanError& e : errors) {
    err << "error: " << e.what << "\n";
    if (!e.hint.empty()) err << "  hint: " << e.hint << "\n";
  }
}

void PrintSkipped(std::ostream& err, const definitions::AssetDef& asset,
                  const std::vector<planning::SkippedPartition>& skipped) {
  for (const planning::SkippedPartition& s : skipped) {
    err << "skipped " << s.partition.value_or(asset.key.str()) << ": run " << s.holder.run_id
        << " (" << storage::RunStatusName(s.holder.status) << " on " << s.holder.runtime
        << ") holds it\n";
  }
}

}  // namespace arbiter::cli
