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
#include "arbiter/cost/log_ratio_model.h"
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

// Exploration by posterior sampling: each candidate's cost is drawn from
// what is believed about it (calibration and duration uncertainty) and the
// lowest draw runs, so a runtime is tried only while it might be cheaper.
// A draw that differs from the cheapest expected runtime is exploration;
// its predicted extra cost is allowed while the extra of all exploration
// stays within `fraction` of total spend. Off (greedy) when fraction is 0.
struct ExplorationBudget {
  double fraction = 0;      // at most this share of total spend is exploration's extra
  double spent_usd = 0;     // total spend so far
  double explored_usd = 0;  // of which exploration's extra (predicted at placement)
  uint64_t seed = 0;        // draws are a pure function of (seed, asset, runtime, draw)
  uint64_t draw = 0;        // which decision of this asset (its runs so far)
  double min_gain = 0.05;   // explore only on a draw this much below the cheapest's expected cost
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
  std::optional<double> catalog_usd;    // list prices, with spot interruption risk
  std::optional<double> expected_usd;   // catalog_usd × the learned cost factor
  std::optional<LogRatioBelief> calibration;  // the cost factor (none: catalog only)
  double cost_log_sd = 0;               // uncertainty of log expected_usd
  std::optional<double> draw_usd;       // posterior draw (exploring policies)
  double deadline_total_s = 0;          // billed time at the deadline level (cheapest_within)
  std::optional<double> spot_interruption_p;
  bool feasible = true;
  std::string why_not;
  nlohmann::json ToJson() const;
};

struct Placement {
  std::string policy;  // as stored: "cheapest", "fixed: emr", ...
  std::string chosen;  // empty: nothing can run it (see reason)
  std::string cheapest;  // the lowest expected cost (differs from chosen when exploring)
  std::string reason;
  bool explored = false;
  double explore_extra_usd = 0;  // predicted extra of an exploring choice over the cheapest
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
         runs::InstanceChooser chooser, const LogRatioModel* cost_calibration = nullptr);

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
                     bool explain = true, double deadline_level = 0.9) const;
  // What the catalog says a run of `asset` on `rt` billed for `billed_s`
  // costs (the shape placement would use, spot risk included): the estimate
  // observed costs are calibrated against.
  std::optional<double> CatalogCost(const definitions::AssetDef& asset,
                                    const definitions::RuntimeConfig& rt, double billed_s) const;
  Placement Place(const definitions::AssetDef& asset, const definitions::PlacementPolicy& policy,
                  std::optional<double> input_bytes, const PlacementConstraints& constraints = {},
                  const ExplorationBudget& exploration = {}, bool explain = true) const;

 private:
  const definitions::Project* project_;
  const PriceCatalog* catalog_;
  const RuntimePredictor* predictor_;
  const SpotRisk* spot_risk_;
  runs::InstanceChooser chooser_;
  const LogRatioModel* cost_calibration_;  // null: price from the catalog only
  using ShapeKey = std::pair<const definitions::AssetDef*, const definitions::RuntimeConfig*>;
  mutable std::optional<std::map<ShapeKey, Result<ClusterShape>>> memo_;
  std::optional<double> WithSpotRisk(const definitions::RuntimeConfig& rt, const ClusterShape& shape,
                                     double billed_s, std::optional<double> usd,
                                     std::optional<double>* interruption_p) const;
  const Result<ClusterShape>& MemoShape(const definitions::AssetDef& asset,
                                        const definitions::RuntimeConfig& runtime) const;
};

// The runtimes an asset may use (its list, else every runtime), in name order.
std::vector<const definitions::RuntimeConfig*> AllowedRuntimes(const definitions::Project& project,
                                                               const definitions::AssetDef& asset);
// "1h 05m", "42 s": durations in candidate tables.
std::string FormatSeconds(double s);
std::string FormatUsd(std::optional<double> usd);
// z such that P(N(0,1) <= z) = p, for 0 < p < 1.
double NormalQuantile(double p);

}  // namespace arbiter::cost
