// The cost ledger: what placement predicted when a run was created, and what
// the run cost when it ended (its reported usage priced by the catalog, or
// the local machine's rate × wall time), with the predicted cost of the same
// run on every other allowed runtime (the counterfactuals `arbiter cost`
// compares against).
#pragma once

#include "arbiter/cost/engine.h"
#include "arbiter/runs/launcher.h"

namespace arbiter::cost {

// Stores the decision and the predicted cost of a run just created.
Status RecordPlacement(storage::Storage& storage, const storage::RunRecord& run,
                       const Placement& placement, TimePoint now);

// Prices a run that ended and updates its cost record (keeping the
// prediction). The usage the executor stored, if any, is what is priced.
Status RecordRunEnd(const Engine& engine, storage::Storage& storage, const storage::RunRecord& run,
                    const runs::RunResult& result, TimePoint now);

// The price of a finished run: its usage priced, or for local runs without
// usage the wall time × cost_per_hour; unknown otherwise.
CostEstimate ActualCost(const Engine& engine, const storage::RunRecord& run,
                        const std::optional<runs::ResourceUsage>& usage);

}  // namespace arbiter::cost
