#include "arbiter/planning/planner.h"

#include <algorithm>

#include "arbiter/common/strings.h"
#include "arbiter/planning/partition_selection.h"

namespace arbiter::planning {

using definitions::PlacementPolicy;

std::string Plan::single_runtime() const {
  if (runs.empty()) return "";
  for (const PlannedRun& r : runs) {
    if (r.runtime != runs.front().runtime) return "";
  }
  return runs.front().runtime;
}

std::optional<PlanError> CheckRequestedRuntime(const definitions::Project& project,
                                               const definitions::AssetDef& asset,
                                               const std::string& runtime) {
  if (!project.runtimes.count(runtime)) {
    std::vector<std::string> names;
    for (const auto& [n, rt] : project.runtimes) names.push_back(n);
    return PlanError{"unknown runtime " + Quote(runtime) + DidYouMean(runtime, names), "--runtime",
                     ""};
  }
  if (!asset.runtimes.empty() &&
      std::find(asset.runtimes.begin(), asset.runtimes.end(), runtime) == asset.runtimes.end()) {
    return PlanError{"asset " + Quote(asset.key.str()) + " may not run on runtime " +
                         Quote(runtime) + " (allowed: " + Join(asset.runtimes, ", ") + ")",
                     "--runtime", ""};
  }
  return std::nullopt;
}

double Planner::ExploreFraction(const PlacementOptions& options) const {
  return options.explore >= 0 ? options.explore : project_->placement.explore_budget;
}

Plan Planner::MakePlan(const PlanRequest& request, const cost::Engine* engine) const {
  Plan plan = Select(request);
  if (plan.ok() && !plan.runs.empty()) Place(request, engine, &plan);
  return plan;
}

Plan Planner::Select(const PlanRequest& request) const {
  Plan plan;
  plan.now = request.now;
  plan.automatic = request.placement.automatic();
  if (!plan.automatic) {
    if (auto e = CheckRequestedRuntime(*project_, *request.asset, request.placement.runtime)) {
      plan.asset = request.asset;
      plan.errors.push_back(std::move(*e));
      return plan;
    }
  }
  SelectTargets(*project_, *request.asset, request.selection, *state_, &plan);
  return plan;
}

void Planner::Place(const PlanRequest& request, const cost::Engine* engine, Plan* plan) const {
  PlaceRuns(request, engine, plan);
  if (!plan->ok()) plan->runs.clear();  // an error: nothing is to be run
}

void Planner::PlaceRuns(const PlanRequest& request, const cost::Engine* engine, Plan* plan) const {
  const definitions::AssetDef& asset = *request.asset;
  const PlacementOptions& options = request.placement;
  plan->policy = options.policy.value_or(asset.placement);
  if (!plan->automatic) {
    plan->policy.kind = PlacementPolicy::Kind::kFixed;
    plan->policy.runtime = options.runtime;
  } else if (!engine) {
    plan->errors.push_back({"automatic placement needs the price catalog", "placement",
                            "--runtime NAME picks a runtime yourself"});
    return;
  }
  cost::PlacementConstraints constraints = options.constraints;
  // A runtime without credentials here cannot run anything: placement leaves
  // it out (a runtime asked for by name is tried, and fails saying why).
  if (engine && plan->automatic && availability_) {
    for (auto& [name, why] : availability_(asset)) {
      plan->left_out.push_back({name, why});
      constraints.unavailable[name] = why;
    }
  }
  cost::ExplorationBudget budget;
  if (engine) budget = engine->Budget(ExploreFraction(options), asset.key.str(), project_->placement.seed);
  for (PlannedRun& run : plan->runs) {
    if (engine) {
      std::optional<double> input_bytes;
      if (run.partition) input_bytes = state_->LastInputBytes(asset, run.partition);
      cost::Placement pl = engine->placer().Place(asset, plan->policy, input_bytes, constraints, budget);
      budget.draw += 1;  // the next run is the asset's next decision
      if (pl.chosen.empty()) {
        plan->errors.push_back({"cannot place " + asset.key.str() + ": " + pl.reason, "placement",
                                "'arbiter plan " + asset.key.str() + "' shows every candidate"});
        return;
      }
      // Spend so far counts this run: the budget holds across a backfill.
      if (const cost::Candidate* c = pl.Chosen(); c && c->expected_usd) {
        budget.spent_usd += *c->expected_usd;
        if (pl.explored) budget.explored_usd += pl.explore_extra_usd;
      }
      run.runtime = pl.chosen;
      run.placement = std::move(pl);
    } else {
      run.runtime = options.runtime;
    }
    const definitions::RuntimeConfig& rt = project_->runtimes.at(run.runtime);
    if (launchable_ && !launchable_(rt)) {
      std::string what = "runtime " + Quote(rt.name) + " (type " +
                         std::string(definitions::RuntimeTypeName(rt.type)) +
                         ") has no launcher in this build";
      if (plan->automatic) {
        what += " (placement " + Quote(plan->policy.ToString()) + " chose it: " +
                run.placement->reason + ")";
      }
      plan->errors.push_back({what, "runtime", "--runtime NAME picks a runtime yourself"});
      return;
    }
  }
}

Preview Planner::PreviewPlacement(const definitions::AssetDef& asset, const std::string& partition,
                                  const PlacementOptions& options,
                                  const cost::Engine& engine) const {
  Preview out;
  std::optional<double> input_bytes;
  if (!partition.empty()) {
    const definitions::PartitionsDef* def = project_->PartitionsOf(asset);
    if (!def || !def->IndexOf(partition)) {
      out.errors.push_back({Quote(partition) + " is not a partition of " + Quote(asset.key.str()),
                            "--partition", ""});
      return out;
    }
    out.partition = partition;
    // The partition's last reported input size, when it ran before.
    input_bytes = state_->LastInputBytes(asset, out.partition);
  }
  // As materialize does: a runtime that cannot authenticate here is shown infeasible.
  cost::PlacementConstraints constraints = options.constraints;
  if (availability_) {
    for (auto& [name, why] : availability_(asset)) constraints.unavailable[name] = why;
  }
  out.placement = engine.placer().Place(
      asset, options.policy.value_or(asset.placement), input_bytes, constraints,
      engine.Budget(ExploreFraction(options), asset.key.str(), project_->placement.seed));
  return out;
}

}  // namespace arbiter::planning
