#include "arbiter/cost/engine.h"

#include <algorithm>

#include "arbiter/cost/catalog_instance_chooser.h"
#include "arbiter/runs/usage.h"

namespace arbiter::cost {

std::optional<double> InputBytesOf(const nlohmann::json& metadata) {
  if (!metadata.is_object() || !metadata.contains("arbiter/input_bytes")) return std::nullopt;
  const nlohmann::json& v = metadata["arbiter/input_bytes"];
  const nlohmann::json& raw = v.is_object() && v.contains("raw_value") ? v["raw_value"] : v;
  if (!raw.is_number() || raw.get<double>() < 0) return std::nullopt;
  return raw.get<double>();
}

Engine::Engine(const definitions::Project* project, const PriceCatalog& catalog,
               PredictorOptions options)
    : project_(project),
      catalog_(std::make_shared<const PriceCatalog>(catalog.WithOverrides(project->pricing))),
      predictor_([&] {
        options.prior_duration_s = catalog_->PriorDurationSeconds();
        options.prior_log_sigma = catalog_->PriorLogSigma();
        return options;
      }()),
      spot_risk_(catalog_.get()),
      placer_(project_, catalog_.get(), &predictor_, &spot_risk_, CatalogInstanceChooser(catalog_)) {}

Status Engine::Learn(storage::Storage& storage) {
  storage::RunHistoryFilter f;
  ARBITER_ASSIGN_OR_RETURN(std::vector<storage::RunHistoryEntry> history, storage.RunHistory(f));
  for (auto it = history.rbegin(); it != history.rend(); ++it) Learn(*it);
  return Status::Ok();
}

void Engine::Learn(const storage::RunHistoryEntry& e) {
  if (e.cost && e.cost->actual_usd) {
    spent_usd_ += *e.cost->actual_usd;
    if (e.run.tags.is_object() && e.run.tags.value(kPlacementTag, "") == kExploreTagValue) {
      explored_usd_ += *e.cost->actual_usd;
    }
  }
  std::optional<runs::ResourceUsage> usage;
  if (e.cost && e.cost->usage.is_object() && !e.cost->usage.empty()) {
    if (auto u = runs::UsageFromJson(e.cost->usage); u.ok()) usage = *u;
  }
  if (usage) {
    for (const auto& n : usage->nodes) {
      if (n.market == "SPOT") spot_risk_.Observe(n.instance_type, n.count * n.hours, usage->spot_interrupted);
    }
  }
  if (e.run.status != storage::RunStatus::kSuccess || !e.run.started_at || !e.run.ended_at) return;
  const definitions::AssetDef* asset = project_->FindAsset(e.run.asset_key);
  auto rt = project_->runtimes.find(e.run.runtime);
  if (!asset || rt == project_->runtimes.end()) return;  // renamed since: nothing to learn for
  Observation o;
  o.asset = e.run.asset_key;
  o.runtime = e.run.runtime;
  o.input_bytes = InputBytesOf(e.metadata);
  double wall = std::chrono::duration<double>(*e.run.ended_at - *e.run.started_at).count();
  o.duration_s = wall;
  if (usage && (usage->setup_s || usage->cleanup_s)) {
    double overhead = usage->setup_s.value_or(0) + usage->cleanup_s.value_or(0);
    o.overhead_s = overhead;
    o.duration_s = std::max(1.0, wall - overhead);
  }
  o.duration_s = std::max(1.0, o.duration_s);  // stored times have second resolution
  auto shape = placer_.ShapeFor(*asset, rt->second);
  o.cores = shape.ok() ? shape->cores : 1;
  predictor_.Add(o);
}

}  // namespace arbiter::cost
