// The cost engine for one project: the catalog with the project's overrides,
// a runtime predictor and spot risk learned from the stored history, and the
// placer built on them. Created once per command; not thread-safe except
// where noted.
#pragma once

#include <memory>

#include "arbiter/cost/catalog.h"
#include "arbiter/cost/placement.h"
#include "arbiter/cost/predictor.h"
#include "arbiter/cost/spot_risk.h"
#include "arbiter/storage/storage.h"

namespace arbiter::cost {

class Engine {
 public:
  // `catalog` as loaded (overrides are applied here).
  Engine(const definitions::Project* project, const PriceCatalog& catalog,
         PredictorOptions options = {});
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Learns from every finished run in storage (oldest first); also sums the
  // spend and the exploration spend for the exploration budget.
  Status Learn(storage::Storage& storage);
  // Learns from one finished run.
  void Learn(const storage::RunHistoryEntry& entry);
  // Learns one observed duration directly (simulation).
  void Observe(const Observation& o) { predictor_.Add(o); }

  const definitions::Project& project() const { return *project_; }
  const PriceCatalog& catalog() const { return *catalog_; }
  std::shared_ptr<const PriceCatalog> shared_catalog() const { return catalog_; }
  const RuntimePredictor& predictor() const { return predictor_; }
  const Placer& placer() const { return placer_; }
  // See Placer::MemoizeShapes.
  void MemoizeShapes() { placer_.MemoizeShapes(); }
  ExplorationBudget Budget(double fraction) const { return {fraction, spent_usd_, explored_usd_}; }

 private:
  const definitions::Project* project_;
  std::shared_ptr<const PriceCatalog> catalog_;
  RuntimePredictor predictor_;
  SpotRisk spot_risk_;
  Placer placer_;
  double spent_usd_ = 0;
  double explored_usd_ = 0;
};

// `arbiter/input_bytes` from stored materialization metadata ({"type", "raw_value"}
// or a plain number), if the job reported it.
std::optional<double> InputBytesOf(const nlohmann::json& metadata);

// The run tag that marks a run placed by exploration.
inline constexpr const char* kPlacementTag = "placement";
inline constexpr const char* kExploreTagValue = "explore";

}  // namespace arbiter::cost
