// Offline replay of a trace (JSON Lines, one run per line; format in
// docs/cost.md): for each record in order, the policy sees only the outcomes
// of its own earlier choices, picks a runtime and is charged that runtime's
// true cost. Compared with the oracle (the cheapest outcome of every record)
// and with "always runtime X".
#pragma once

#include <istream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arbiter/cost/catalog.h"
#include "arbiter/definitions/project.h"

namespace arbiter::cost {

struct TraceOutcome {
  double duration_s = 0;
  std::optional<double> cost_usd;  // nullopt: price duration_s with the catalog
};

struct TraceRecord {
  std::string asset;
  std::string partition;
  std::string code_version;  // optional: a change discounts the asset's past
  std::optional<double> input_bytes;
  std::map<std::string, TraceOutcome> outcomes;  // by runtime name
  int line = 0;
};

// Parses a whole trace; an error names the file and line and what is wrong.
Result<std::vector<TraceRecord>> ParseTrace(std::istream& in, const std::string& name);

struct SimulationOptions {
  definitions::PlacementPolicy policy;  // kind cheapest unless said otherwise
  double explore = 0;                   // exploration budget fraction (0: greedy)
  uint64_t seed = 0;                    // posterior draws
  bool baseline = true;                 // also replay the catalog-only policy
  bool choices = false;                 // keep every decision in the report
};

// One decision of the replay (kept when SimulationOptions::choices).
struct SimulatedChoice {
  int line = 0;
  std::string asset;
  std::string chosen;
  std::string cheapest_actual;  // the record's cheapest runtime (deadline ignored)
  std::string cheapest_expected;  // the policy's greedy choice (differs when exploring)
  bool explored = false;
};

struct SimulationReport {
  std::string policy;
  int records = 0;
  double policy_usd = 0;
  double oracle_usd = 0;
  std::map<std::string, std::optional<double>> always_usd;  // nullopt: not in every record
  std::map<std::string, int> decisions;
  std::map<std::string, std::map<std::string, int>> asset_decisions;  // asset -> runtime -> runs
  int explored = 0;
  double explore_extra_predicted_usd = 0;  // what the budget counted
  double explore_extra_actual_usd = 0;     // explored runs' cost minus the cheapest-expected runtime's
  std::optional<double> catalog_only_usd;  // the same policy priced from the catalog, greedy
  double per_asset_best_usd = 0;  // each asset on its own best single runtime
  // Once each asset has had 10 runs: the policy's spend and each "always X".
  int after10_records = 0;
  double after10_policy_usd = 0;
  std::map<std::string, std::optional<double>> after10_always_usd;
  // Median |predicted / actual − 1| of the chosen runtime, for runs after the
  // pair's 5th; nullopt without such runs.
  std::optional<double> cost_error_median;
  std::optional<double> duration_error_median;
  int error_samples = 0;
  // cheapest_within: runs finished by the deadline, and the cheapest per
  // run among runtimes that meet it (the fastest where none does).
  std::optional<int> deadline_met;
  std::optional<double> deadline_oracle_usd;
  std::vector<nlohmann::json> changes;  // ChangeEvent::ToJson, in order
  std::vector<SimulatedChoice> choices;
  double regret_pct() const { return oracle_usd > 0 ? 100 * (policy_usd / oracle_usd - 1) : 0; }
  // Lowest "always X" over the whole trace / once each asset had 10 runs.
  std::optional<std::pair<std::string, double>> BestSingle() const;
  std::optional<std::pair<std::string, double>> BestSingleAfter10() const;
  nlohmann::json ToJson() const;
};

// Every trace runtime must be a runtime of `project` (so its costs can be
// predicted); assets not in the project run with the default compute shape
// on every runtime the record lists.
Result<SimulationReport> Simulate(const definitions::Project& project, const PriceCatalog& catalog,
                                  const std::vector<TraceRecord>& trace,
                                  const SimulationOptions& options);

}  // namespace arbiter::cost
