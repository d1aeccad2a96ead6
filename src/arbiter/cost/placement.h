// Placement: for one run of an asset, every allowed runtime becomes a
// candidate (cluster shape, predicted duration p50/p90, expected cost with
// spot risk, feasible or why not), and the policy picks one, saying why.
// Pure given its inputs (catalog, predictor, spot risk); safe to call from
// one thread at a time.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arbiter/cost/catalog.h"
#include "arbiter/cost/cost_functions.h"
#include "arbiter/cost/predictor.h"
#include "arbiter/cost/spot_risk.h"
#include "arbiter/definitions/project.h"
#include "arbiter/runs/instance_chooser.h"

namespace arbiter::cost {

struct PlacementConstraints {
  std::vector<std::string> excluded_runtimes;  // never use these
  bool require_photon = false;                 // only Databricks with Photon
  std::optional<int> max_nodes;                // largest cluster allowed (all nodes)
  // Runtimes that cannot run here, with why (no credentials found): infeasible.
  std::map<std::string, std::string> unavailable;
};

// Exploration: now and then run on a runtime that is not the predicted
// cheapest, so its model keeps learning. Off when fraction is 0.
struct ExplorationBudget {
  double fraction = 0;      // at most this share of total spend goes to exploring
  double spent_usd = 0;     // total spend so far
  double explored_usd = 0;  // of which exploration
};

struct Candidate {
  std::string runtime;
  definitions::RuntimeType type = definitions::RuntimeType::kLocal;
  ClusterShape shape;
  Prediction prediction;
  double overhead_s = 0;  // billed start-up + idle tail
  double p50_total_s = 0;
  double p90_total_s = 0;
  CostEstimate cost;                    // at the p50 billed time
  std::optional<double> expected_usd;   // with spot interruption risk
  std::optional<double> spot_interruption_p;
  bool feasible = true;
  std::string why_not;
  nlohmann::json ToJson() const;
};

struct Placement {
  std::string policy;  // as stored: "cheapest", "fixed: emr", ...
  std::string chosen;  // empty: nothing can run it (see reason)
  std::string reason;
  bool explored = false;
  std::vector<Candidate> candidates;
  nlohmann::json inputs;  // input size, constraints, exploration
  const Candidate* Chosen() const;
  nlohmann::json CandidatesJson() const;
  nlohmann::json ToJson() const;
};

class Placer {
 public:
  Placer(const definitions::Project* project, const PriceCatalog* catalog,
         const RuntimePredictor* predictor, const SpotRisk* spot_risk,
         runs::InstanceChooser chooser);

  // From now on remember each (asset, runtime) shape once computed, keyed by
  // the definitions' addresses: only while the project neither changes nor
  // moves (the simulator, which places the same assets 100,000 times).
  void MemoizeShapes() { memo_.emplace(); }
  // The cluster a run of `asset` would use on `runtime`.
  Result<ClusterShape> ShapeFor(const definitions::AssetDef& asset,
                                const definitions::RuntimeConfig& runtime) const;
  // One candidate per allowed runtime, evaluated. Without `explain` the
  // candidate has its numbers and feasibility but no explanation (prediction
  // inputs, cost lines), and the placement no inputs or reason: the same
  // choice, for the simulator's inner loop.
  Candidate Evaluate(const definitions::AssetDef& asset, const definitions::RuntimeConfig& runtime,
                     std::optional<double> input_bytes, const PlacementConstraints& constraints,
                     bool explain = true) const;
  Placement Place(const definitions::AssetDef& asset, const definitions::PlacementPolicy& policy,
                  std::optional<double> input_bytes, const PlacementConstraints& constraints = {},
                  const ExplorationBudget& exploration = {}, bool explain = true) const;

 private:
  const definitions::Project* project_;
  const PriceCatalog* catalog_;
  const RuntimePredictor* predictor_;
  const SpotRisk* spot_risk_;
  runs::InstanceChooser chooser_;
  using ShapeKey = std::pair<const definitions::AssetDef*, const definitions::RuntimeConfig*>;
  mutable std::optional<std::map<ShapeKey, Result<ClusterShape>>> memo_;
  const Result<ClusterShape>& MemoShape(const definitions::AssetDef& asset,
                                        const definitions::RuntimeConfig& runtime) const;
};

// The runtimes an asset may use (its list, else every runtime), in name order.
std::vector<const definitions::RuntimeConfig*> AllowedRuntimes(const definitions::Project& project,
                                                               const definitions::AssetDef& asset);
// "1h 05m", "42 s": durations in candidate tables.
std::string FormatSeconds(double s);
std::string FormatUsd(std::optional<double> usd);

}  // namespace arbiter::cost
