// The planner: from a request (asset, selection, runtime or placement policy)
// and a read-only view of the world (PlanningState, the cost engine learned
// from run history, which runtimes can authenticate here) to a Plan: the runs
// to create with their runtime and placement decision, the partitions left to
// the live runs holding them, and errors as values. In the spirit of ninja's
// Plan: deciding what to do is separate from doing it (enqueue.h queues the
// runs, the executor runs them), so the CLI, a daemon and an HTTP API share
// one decision procedure. Pure apart from the state it is given: no clock, no
// processes, no output.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "arbiter/cost/engine.h"
#include "arbiter/planning/plan.h"
#include "arbiter/planning/planning_state.h"

namespace arbiter::planning {

// Runtimes an asset may use that cannot run here, each with why (credentials
// not found). Asked only when placement is about to happen: probing AWS may
// take a second.
using AvailabilityProbe =
    std::function<std::map<std::string, std::string>(const definitions::AssetDef& asset)>;
// Whether this build can launch runs on the runtime.
using LaunchableCheck = std::function<bool(const definitions::RuntimeConfig& runtime)>;

// What `arbiter plan` shows for one asset: the candidate table of its next run.
struct Preview {
  std::optional<std::string> partition;
  cost::Placement placement;
  std::vector<PlanError> errors;
};

class Planner {
 public:
  // `availability` and `launchable` may be empty: every runtime counts as usable.
  Planner(const definitions::Project* project, PlanningState* state,
          AvailabilityProbe availability = nullptr, LaunchableCheck launchable = nullptr)
      : project_(project),
        state_(state),
        availability_(std::move(availability)),
        launchable_(std::move(launchable)) {}

  // Both steps below. `engine` may be null only for a runtime asked for by name.
  Plan MakePlan(const PlanRequest& request, const cost::Engine* engine) const;

  // Step one: the partitions to run (partition_selection.h). Callers that
  // open the cost engine only when there is something to place call this,
  // then Place.
  Plan Select(const PlanRequest& request) const;
  // Step two: a runtime for every run of `plan`, each a decision of the asset
  // in turn (the exploration budget counts the ones before it). Without an
  // engine, the runtime asked for by name, unpriced.
  void Place(const PlanRequest& request, const cost::Engine* engine, Plan* plan) const;

  // The placement a run of `asset` would get now (`partition` empty: no
  // partition, so no input size), without exploration draws spent.
  Preview PreviewPlacement(const definitions::AssetDef& asset, const std::string& partition,
                           const PlacementOptions& options, const cost::Engine& engine) const;

 private:
  double ExploreFraction(const PlacementOptions& options) const;
  void PlaceRuns(const PlanRequest& request, const cost::Engine* engine, Plan* plan) const;

  const definitions::Project* project_;
  PlanningState* state_;
  AvailabilityProbe availability_;
  LaunchableCheck launchable_;
};

// Checks a runtime asked for by name: it exists and the asset may use it.
std::optional<PlanError> CheckRequestedRuntime(const definitions::Project& project,
                                               const definitions::AssetDef& asset,
                                               const std::string& runtime);

}  // namespace arbiter::planning
