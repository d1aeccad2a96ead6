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
  std::optional<double> input_bytes;
  std::map<std::string, TraceOutcome> outcomes;  // by runtime name
  int line = 0;
};

// Parses a whole trace; an error names the file and line and what is wrong.
Result<std::vector<TraceRecord>> ParseTrace(std::istream& in, const std::string& name);

struct SimulationOptions {
  definitions::PlacementPolicy policy;  // kind cheapest unless said otherwise
  double explore = 0;                   // exploration budget fraction
};

struct SimulationReport {
  std::string policy;
  int records = 0;
  double policy_usd = 0;
  double oracle_usd = 0;
  std::map<std::string, std::optional<double>> always_usd;  // nullopt: not in every record
  std::map<std::string, int> decisions;
  int explored = 0;
  double regret_pct() const { return oracle_usd > 0 ? 100 * (policy_usd / oracle_usd - 1) : 0; }
  nlohmann::json ToJson() const;
};

// Every trace runtime must be a runtime of `project` (so its costs can be
// predicted); assets not in the project run with the default compute shape
// on every runtime the record lists.
Result<SimulationReport> Simulate(const definitions::Project& project, const PriceCatalog& catalog,
                                  const std::vector<TraceRecord>& trace,
                                  const SimulationOptions& options);

}  // namespace arbiter::cost
