#include "arbiter/cost/log_ratio_model.h"

#include <algorithm>
#include <cmath>

namespace arbiter::cost {

double LogRatioBelief::Factor() const { return std::exp(mean); }

nlohmann::json LogRatioBelief::ToJson() const {
  return {{"factor", Factor()},       {"log_mean", mean},        {"log_sd", sd},
          {"noise_sd", noise_sd},     {"runs", runs},            {"weight", weight},
          {"runtime_factor", std::exp(shared_mean)}, {"runtime_log_sd", shared_sd},
          {"runtime_assets", shared_assets}};
}

LogRatioModel::LogRatioModel(LogRatioOptions o) : o_(o) {}

double LogRatioModel::Precision(const Pair& p, double noise_var) const {
  if (p.weight <= 0) return 0;
  return 1 / (o_.asset_sd * o_.asset_sd + noise_var / p.weight);
}

const LogRatioModel::Level& LogRatioModel::LevelOf(const std::string& runtime) const {
  Level& l = levels_[runtime];
  if (!l.dirty) return l;
  // Pooled run-to-run variance of the runtime's pairs, shrunk toward the prior.
  double k = o_.noise_prior_weight;
  double ss = k * o_.noise_sd * o_.noise_sd;
  double dof = k;
  auto it = pairs_.find(runtime);
  if (it != pairs_.end()) {
    for (const auto& [asset, p] : it->second) {
      ss += p.ss;
      dof += std::max(0.0, p.weight - 1);
    }
  }
  l.noise_var = std::max(1e-4, ss / dof);
  l.s0 = 1 / (o_.prior_sd * o_.prior_sd);
  l.s1 = 0;
  if (it != pairs_.end()) {
    for (const auto& [asset, p] : it->second) {
      double w = Precision(p, l.noise_var);
      l.s0 += w;
      l.s1 += w * p.mean;
    }
  }
  l.dirty = false;
  return l;
}

LogRatioBelief LogRatioModel::Estimate(const std::string& asset, const std::string& runtime) const {
  const Level& l = LevelOf(runtime);
  LogRatioBelief b;
  b.noise_sd = std::sqrt(l.noise_var);
  const Pair* own = nullptr;
  int assets = 0;
  if (auto it = pairs_.find(runtime); it != pairs_.end()) {
    assets = static_cast<int>(it->second.size());
    if (auto p = it->second.find(asset); p != it->second.end()) own = &p->second;
  }
  // The runtime's level without this pair (its own runs count once, below).
  double s0 = l.s0, s1 = l.s1;
  if (own) {
    double w = Precision(*own, l.noise_var);
    s0 -= w;
    s1 -= w * own->mean;
    --assets;
  }
  s0 = std::max(s0, 1 / (o_.prior_sd * o_.prior_sd));
  b.shared_mean = s1 / s0;
  b.shared_sd = std::sqrt(1 / s0);
  b.shared_assets = assets;
  double prior_prec = 1 / (o_.asset_sd * o_.asset_sd + 1 / s0);
  double data_prec = own ? own->weight / l.noise_var : 0;
  b.mean = (prior_prec * b.shared_mean + (own ? data_prec * own->mean : 0)) / (prior_prec + data_prec);
  b.sd = std::sqrt(1 / (prior_prec + data_prec));
  if (own) b.weight = own->weight, b.runs = own->runs;
  return b;
}

int LogRatioModel::Observe(const std::string& asset, const std::string& runtime, double x) {
  if (!std::isfinite(x)) return 0;
  int change = 0;
  Pair& p = pairs_[runtime][asset];
  if (p.runs >= o_.detect_after) {
    LogRatioBelief b = Estimate(asset, runtime);
    double z = (x - b.mean) / std::sqrt(b.noise_sd * b.noise_sd + b.sd * b.sd);
    change = p.detector.Add(z);
    if (change != 0) p.weight *= o_.keep_after_change, p.ss *= o_.keep_after_change;
  }
  const double f = o_.forgetting;
  double w0 = f * p.weight;
  double w1 = w0 + 1;
  double d = x - p.mean;
  p.ss = f * p.ss + (w0 / w1) * d * d;
  p.mean += d / w1;
  p.weight = w1;
  p.runs += 1;
  levels_[runtime].dirty = true;
  return change;
}

void LogRatioModel::Discount(const std::string& asset, const std::string& runtime, double keep) {
  auto it = pairs_.find(runtime);
  if (it == pairs_.end()) return;
  auto p = it->second.find(asset);
  if (p == it->second.end()) return;
  p->second.weight *= keep;
  p->second.ss *= keep;
  p->second.detector.Reset();
  levels_[runtime].dirty = true;
}

}  // namespace arbiter::cost
