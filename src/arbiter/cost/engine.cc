#include "arbiter/cost/engine.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

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
               PredictorOptions options, bool calibrate)
    : project_(project),
      catalog_(std::make_shared<const PriceCatalog>(catalog.WithOverrides(project->pricing))),
      predictor_([&] {
        options.prior_duration_s = catalog_->PriorDurationSeconds();
        options.prior_log_sigma = catalog_->PriorLogSigma();
        return options;
      }()),
      spot_risk_(catalog_.get()),
      placer_(project_, catalog_.get(), &predictor_, &spot_risk_, CatalogInstanceChooser(catalog_),
              calibrate ? &cost_calibration_ : nullptr),
      calibrate_(calibrate) {}

std::string ChangeEvent::Describe() const {
  if (what == "code_version") {
    return asset + ": code_version changed after " + std::to_string(asset_run) +
           " run(s); older runs count for " + std::to_string(static_cast<int>(100 * kKeepAfterNewVersion)) + "%";
  }
  return asset + " on " + runtime + ": sustained " + (direction > 0 ? "rise" : "fall") + " of " + what +
         " detected at run " + std::to_string(asset_run + 1) + "; re-learning it";
}

nlohmann::json ChangeEvent::ToJson() const {
  return {{"asset", asset}, {"runtime", runtime}, {"what", what}, {"direction", direction},
          {"asset_run", asset_run}, {"message", Describe()}};
}

ExplorationBudget Engine::Budget(double fraction, const std::string& asset, uint64_t seed) const {
  ExplorationBudget b{fraction, spent_usd_, explored_usd_, seed, RunsOf(asset)};
  auto it = last_change_.find(asset);
  if (it != last_change_.end() && b.draw - it->second < kReexploreRuns) b.min_gain = 0;
  return b;
}

uint64_t Engine::RunsOf(const std::string& asset) const {
  auto it = asset_runs_.find(asset);
  return it == asset_runs_.end() ? 0 : it->second;
}

void Engine::Observe(const definitions::AssetDef& asset, const definitions::RuntimeConfig& rt,
                     const Observation& o, double billed_s, std::optional<double> actual_usd,
                     const std::string& code_version) {
  uint64_t& runs = asset_runs_[o.asset];
  if (!code_version.empty()) {
    auto [it, first] = versions_.try_emplace(o.asset, code_version);
    if (!first && it->second != code_version) {
      it->second = code_version;
      for (const auto& [name, other] : project_->runtimes) {
        predictor_.Discount(o.asset, name, kKeepAfterNewVersion);
        cost_calibration_.Discount(o.asset, name, kKeepAfterNewVersion);
      }
      changes_.push_back({o.asset, "", "code_version", 0, static_cast<int>(runs)});
      last_change_[o.asset] = runs;
    }
  }
  // Duration: watch the fitted model's one-step residuals for a lasting shift.
  PredictionQuery q;
  q.asset = o.asset;
  q.runtime = o.runtime;
  q.cores = o.cores;
  q.input_bytes = o.input_bytes;
  q.explain = false;
  Prediction before = predictor_.Predict(q);
  if (before.basis == "model") {
    double sd = std::hypot(before.log_sigma, before.mean_log_sd);
    int dir = duration_watch_[{o.asset, o.runtime}].Add(std::log(o.duration_s / before.p50_s) / sd);
    if (dir != 0) {
      predictor_.Discount(o.asset, o.runtime, kKeepAfterChange);
      changes_.push_back({o.asset, o.runtime, "duration", dir, static_cast<int>(runs)});
      last_change_[o.asset] = runs;
    }
  }
  predictor_.Add(o);
  if (calibrate_ && actual_usd && *actual_usd > 0) {
    std::optional<double> catalog = placer_.CatalogCost(asset, rt, billed_s);
    if (catalog && *catalog > 0) {
      int dir = cost_calibration_.Observe(o.asset, o.runtime, std::log(*actual_usd / *catalog));
      if (dir != 0) {
        changes_.push_back({o.asset, o.runtime, "cost", dir, static_cast<int>(runs)});
        last_change_[o.asset] = runs;
      }
    }
  }
  ++runs;
}

Status Engine::Learn(storage::Storage& storage) {
  storage::RunHistoryFilter f;
  return storage.ForEachRunHistory(f, [this](const storage::RunHistoryEntry& e) { Learn(e); });
}

void Engine::Learn(const storage::RunHistoryEntry& e) {
  if (e.cost && e.cost->actual_usd) spent_usd_ += *e.cost->actual_usd;
  if (e.run.tags.is_object() && e.run.tags.value(kPlacementTag, "") == kExploreTagValue &&
      e.run.tags.contains(kExploreExtraTag)) {
    const nlohmann::json& x = e.run.tags[kExploreExtraTag];
    if (x.is_number()) explored_usd_ += x.get<double>();
    if (x.is_string()) explored_usd_ += std::atof(x.get<std::string>().c_str());
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
  std::string version;
  if (e.run.tags.is_object() && e.run.tags.contains(kCodeVersionTag) &&
      e.run.tags[kCodeVersionTag].is_string()) {
    version = e.run.tags[kCodeVersionTag].get<std::string>();
  }
  Observe(*asset, rt->second, o, std::max(1.0, wall),
          e.cost ? e.cost->actual_usd : std::nullopt, version);
}

}  // namespace arbiter::cost
