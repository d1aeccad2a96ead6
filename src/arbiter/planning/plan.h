// The values the planner works with: what a caller asks for (a selection of
// partitions, a runtime or automatic placement) and what it gets back (the
// runs to create, each with its runtime and placement, the partitions left
// alone and why, and errors as data). No I/O: the CLI prints them, a service
// would serialize them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "arbiter/common/clock.h"
#include "arbiter/cost/placement.h"
#include "arbiter/definitions/project.h"
#include "arbiter/storage/records.h"

namespace arbiter::planning {

// Why a request cannot be planned, and how to fix it.
struct PlanError {
  std::string what;   // "--from 'b' comes after --to 'a'"
  std::string where;  // the input at fault: "--partition", "--runtime", "placement", "storage"
  std::string hint;   // how to fix it; empty when `what` says it all
};

// Which partitions of an asset to run (unpartitioned assets take none).
struct Selection {
  std::vector<std::string> partitions;  // --partition, repeatable
  std::string from, to;                 // an inclusive range, both or neither
  bool all_missing = false;             // not materialized and not in progress (within the range)
  bool empty() const {
    return partitions.empty() && from.empty() && to.empty() && !all_missing;
  }
};

// How runs are placed. Every field has the asset's or project's default.
struct PlacementOptions {
  std::string runtime;  // empty or "auto": the policy decides; else this runtime
  std::optional<definitions::PlacementPolicy> policy;  // instead of the asset's
  cost::PlacementConstraints constraints;  // exclusions, photon, node limit
  double explore = -1;  // exploration budget; < 0: the project's placement.explore_budget
  bool automatic() const { return runtime.empty() || runtime == "auto"; }
};

struct PlanRequest {
  const definitions::AssetDef* asset = nullptr;
  Selection selection;
  PlacementOptions placement;
  TimePoint now{};  // when the runs are created (the planner never reads a clock)
};

// One run to create.
struct PlannedRun {
  std::optional<std::string> partition;  // nullopt: unpartitioned asset
  std::string runtime;
  // The decision with every candidate; nullopt without a cost engine (a
  // runtime asked for by name still runs, its cost unrecorded).
  std::optional<cost::Placement> placement;
};

// A selected partition no run is created for.
struct SkippedPartition {
  std::optional<std::string> partition;
  storage::RunRecord holder;  // the live run (any arbiter's) that holds it
};

// A runtime placement did not consider, and why (no credentials here).
struct RuntimeLeftOut {
  std::string runtime;
  std::string why;
};

struct Plan {
  const definitions::AssetDef* asset = nullptr;
  definitions::PlacementPolicy policy;  // the asset's, or fixed to the runtime asked for
  bool automatic = true;
  TimePoint now{};
  int selected = 0;  // partitions the selection named (runs + skipped); 1 when unpartitioned
  std::vector<PlannedRun> runs;
  std::vector<SkippedPartition> skipped;
  std::vector<RuntimeLeftOut> left_out;
  std::vector<PlanError> errors;  // set: nothing is to be run

  bool ok() const { return errors.empty(); }
  // Several partitions were asked for: their runs share a backfill id.
  bool backfill() const { return selected > 1; }
  // Every run goes to one runtime (its name), else empty.
  std::string single_runtime() const;
};

}  // namespace arbiter::planning
