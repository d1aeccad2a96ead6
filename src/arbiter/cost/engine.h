// The cost engine for one project: the catalog with the project's overrides,
// a runtime predictor and spot risk learned from the stored history, and the
// placer built on them. Created once per command; not thread-safe except
// where noted.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "arbiter/cost/catalog.h"
#include "arbiter/cost/change_detector.h"
#include "arbiter/cost/log_ratio_model.h"
#include "arbiter/cost/placement.h"
#include "arbiter/cost/predictor.h"
#include "arbiter/cost/spot_risk.h"
#include "arbiter/storage/storage.h"

namespace arbiter::cost {

// A sustained change the engine noticed (and reacted to by discounting the
// pair's past): surfaced by `simulate` and stored as run events.
struct ChangeEvent {
  std::string asset;
  std::string runtime;
  std::string what;  // "cost", "duration" (detected shift) or "code_version"
  int direction = 0;  // +1 up, −1 down (0 for code_version)
  int asset_run = 0;  // the asset's runs before this one
  std::string Describe() const;
  nlohmann::json ToJson() const;
};

class Engine {
 public:
  // `catalog` as loaded (overrides are applied here). Without `calibrate`
  // placement prices from the catalog alone (the baseline `simulate` reports).
  Engine(const definitions::Project* project, const PriceCatalog& catalog,
         PredictorOptions options = {}, bool calibrate = true);
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Learns from every finished run in storage (oldest first); also sums the
  // spend and the exploration spend for the exploration budget.
  Status Learn(storage::Storage& storage);
  // Learns from one finished run.
  void Learn(const storage::RunHistoryEntry& entry);
  // Learns one finished run: its job time (o), and when known its actual
  // cost against the catalog's estimate for the same billed time. A changed
  // `code_version` of the asset discounts what its runs taught; a sustained
  // shift of the pair's cost or duration does the same for that pair.
  void Observe(const definitions::AssetDef& asset, const definitions::RuntimeConfig& rt,
               const Observation& o, double billed_s, std::optional<double> actual_usd,
               const std::string& code_version = "");

  const definitions::Project& project() const { return *project_; }
  const PriceCatalog& catalog() const { return *catalog_; }
  std::shared_ptr<const PriceCatalog> shared_catalog() const { return catalog_; }
  const RuntimePredictor& predictor() const { return predictor_; }
  const LogRatioModel& cost_calibration() const { return cost_calibration_; }
  const std::vector<ChangeEvent>& changes() const { return changes_; }
  // Runs learned of an asset: the index of its next decision's draws.
  uint64_t RunsOf(const std::string& asset) const;
  const Placer& placer() const { return placer_; }
  // See Placer::MemoizeShapes.
  void MemoizeShapes() { placer_.MemoizeShapes(); }
  // The exploration state for the next decision of `asset` (draw = its runs).
  // Right after a detected change of one of the asset's pairs it re-explores:
  // any draw below the cheapest counts, not only one cheaper by min_gain.
  ExplorationBudget Budget(double fraction, const std::string& asset = "", uint64_t seed = 0) const;

 private:
  const definitions::Project* project_;
  std::shared_ptr<const PriceCatalog> catalog_;
  RuntimePredictor predictor_;
  LogRatioModel cost_calibration_;
  SpotRisk spot_risk_;
  Placer placer_;
  bool calibrate_;
  double spent_usd_ = 0;
  double explored_usd_ = 0;
  std::vector<ChangeEvent> changes_;
  std::map<std::pair<std::string, std::string>, ChangeDetector> duration_watch_;
  std::map<std::string, std::string> versions_;  // asset -> code_version last learned
  std::map<std::string, uint64_t> asset_runs_;
  std::map<std::string, uint64_t> last_change_;  // asset -> its runs when a change was detected
};

// `arbiter/input_bytes` from stored materialization metadata ({"type", "raw_value"}
// or a plain number), if the job reported it.
std::optional<double> InputBytesOf(const nlohmann::json& metadata);

// The run tag that marks a run placed by exploration.
inline constexpr const char* kPlacementTag = "placement";
inline constexpr const char* kExploreTagValue = "explore";
// The predicted extra of an exploring run (counts against the budget).
inline constexpr const char* kExploreExtraTag = "explore_extra_usd";
// The asset's code_version when the run was created.
inline constexpr const char* kCodeVersionTag = "code_version";
// What is kept of a pair's past after a detected change or a new code version.
inline constexpr double kKeepAfterChange = 0.05;
inline constexpr double kKeepAfterNewVersion = 0.2;
// Runs of an asset after a detected change during which it re-explores.
inline constexpr uint64_t kReexploreRuns = 10;

}  // namespace arbiter::cost
