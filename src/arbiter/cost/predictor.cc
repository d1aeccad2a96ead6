#include "arbiter/cost/predictor.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "arbiter/common/duration.h"
#include "arbiter/cost/nnls.h"

namespace arbiter::cost {
namespace {

constexpr double kZ90 = 1.2815515655446004;  // standard normal 90th percentile
constexpr double kGb = 1e9;
constexpr double kMinSeconds = 1;

std::vector<double> Features(double s_gb, double cores) {
  double c = std::max(cores, 1.0);
  return {1.0, s_gb / c, std::log(c), c};
}

std::string Seconds(double s) {
  return FormatDuration(std::chrono::seconds(static_cast<int64_t>(std::llround(s))));
}

}  // namespace

RuntimePredictor::RuntimePredictor(PredictorOptions options) : options_(options) {}

const RuntimePredictor::Pair* RuntimePredictor::Find(const std::string& asset,
                                                     const std::string& runtime) const {
  auto a = pairs_.find(asset);
  if (a == pairs_.end()) return nullptr;
  auto r = a->second.find(runtime);
  return r == a->second.end() ? nullptr : &r->second;
}

int RuntimePredictor::Runs(const std::string& asset, const std::string& runtime) const {
  const Pair* p = Find(asset, runtime);
  return p ? p->runs : 0;
}

std::optional<double> RuntimePredictor::ModelP50(const Pair& p, double s_gb, double cores) const {
  if (p.dirty) {
    p.theta = SolveNnlsNormal(p.g, p.h).x;
    p.dirty = false;
  }
  if (p.theta.size() != 4) return std::nullopt;
  std::vector<double> x = Features(s_gb, cores);
  double t = 0;
  for (int i = 0; i < 4; ++i) t += p.theta[i] * x[i];
  if (!(t > 0)) return std::nullopt;
  return std::max(t, kMinSeconds);
}

double RuntimePredictor::PooledVar() const {
  // Every pair's one-step-ahead errors, shrunk toward the prior (five runs' worth).
  double k = 5;
  double prior = options_.prior_log_sigma * options_.prior_log_sigma;
  return (k * prior + pooled_err_sum_) / (k + pooled_errs_);
}

double RuntimePredictor::Sigma(const Pair& p) const {
  // Shrink the pair's observed one-step-ahead spread toward the pooled one (two runs' worth).
  double k = 2;
  double var = (k * PooledVar() + p.errors * p.err_var) / (k + p.errors);
  return std::max(0.05, std::sqrt(var));
}

void RuntimePredictor::Add(const Observation& o) {
  if (!(o.duration_s > 0)) return;
  auto asset_it = pairs_.try_emplace(o.asset).first;
  auto [pair_it, new_pair] = asset_it->second.try_emplace(o.runtime);
  Pair& p = pair_it->second;
  if (new_pair) {
    // Index this asset under every runtime pair it now has runs on both of.
    const std::string* name = &asset_it->first;
    auto insert = [&](const std::string& r, const std::string& q, const Pair* a, const Pair* b) {
      std::vector<Both>& v = both_[r][q];
      auto at = std::lower_bound(v.begin(), v.end(), *name,
                                 [](const Both& x, const std::string& n) { return *x.asset < n; });
      v.insert(at, Both{name, a, b});
    };
    for (const auto& [rt, other] : asset_it->second) {
      if (rt == o.runtime) continue;
      insert(o.runtime, rt, &p, &other);
      insert(rt, o.runtime, &other, &p);
    }
  }
  double s_gb = o.input_bytes ? *o.input_bytes / kGb : p.mean_s;
  // Score the model on this run before learning from it (honest spread).
  if (p.runs >= options_.min_runs) {
    if (auto pred = ModelP50(p, s_gb, o.cores)) {
      double e = std::log(o.duration_s / *pred);
      pooled_err_sum_ += e * e;
      pooled_errs_ += 1;
      p.err_var = p.errors == 0 ? e * e
                                : options_.forgetting * p.err_var + (1 - options_.forgetting) * e * e;
      p.errors = std::min(p.errors + 1, 50);
    }
  }
  const double f = options_.forgetting;
  std::vector<double> x = Features(s_gb, o.cores);
  for (int i = 0; i < 4; ++i) {
    p.h[i] = f * p.h[i] + x[i] * o.duration_s;
    for (int j = 0; j < 4; ++j) p.g[i][j] = f * p.g[i][j] + x[i] * x[j];
  }
  p.weight = f * p.weight + 1;
  p.mean_log_d += (std::log(o.duration_s) - p.mean_log_d) / p.weight;
  p.mean_s += (s_gb - p.mean_s) / p.weight;
  p.cores = o.cores;
  p.runs += 1;
  p.dirty = true;
  if (o.input_bytes) {
    auto& [w, mean] = asset_input_[o.asset];
    w = f * w + 1;
    mean += (*o.input_bytes - mean) / w;
  }
  if (o.overhead_s) {
    Overhead& oh = overheads_[o.runtime];
    oh.sum += *o.overhead_s;
    oh.n += 1;
  }
}

void RuntimePredictor::Discount(const std::string& asset, const std::string& runtime, double keep) {
  auto a = pairs_.find(asset);
  if (a == pairs_.end()) return;
  auto r = a->second.find(runtime);
  if (r == a->second.end()) return;
  Pair& p = r->second;
  for (int i = 0; i < 4; ++i) {
    p.h[i] *= keep;
    for (int j = 0; j < 4; ++j) p.g[i][j] *= keep;
  }
  p.weight *= keep;
  p.dirty = true;
}

std::optional<double> RuntimePredictor::TypicalInputBytes(const std::string& asset) const {
  auto it = asset_input_.find(asset);
  if (it == asset_input_.end()) return std::nullopt;
  return it->second.second;
}

double RuntimePredictor::OverheadSeconds(const std::string& runtime, double prior_s) const {
  auto it = overheads_.find(runtime);
  if (it == overheads_.end()) return prior_s;
  double k = options_.prior_overhead_weight;
  return (k * prior_s + it->second.sum) / (k + it->second.n);
}

std::optional<std::pair<double, int>> RuntimePredictor::SpeedRatio(const std::string& r,
                                                                   const std::string& q) const {
  double sum = 0;
  int n = 0;
  auto by_r = both_.find(r);
  if (by_r == both_.end()) return std::nullopt;
  auto by_q = by_r->second.find(q);
  if (by_q == by_r->second.end()) return std::nullopt;
  for (const Both& b : by_q->second) {
    sum += b.on_r->mean_log_d - b.on_q->mean_log_d;
    ++n;
  }
  if (n == 0) return std::nullopt;
  return std::make_pair(std::exp(sum / n), n);
}

Prediction RuntimePredictor::Predict(const PredictionQuery& q) const {
  Prediction out;
  auto finish = [&](double p50, double sigma, double mean_sd) {
    out.mean_log_sd = mean_sd;
    out.p50_s = std::max(p50, kMinSeconds);
    out.p90_s = out.p50_s * std::exp(kZ90 * sigma);
    out.log_sigma = sigma;
    if (q.explain) out.inputs["log_sigma"] = sigma;
    return out;
  };
  std::optional<double> bytes = q.input_bytes ? q.input_bytes : TypicalInputBytes(q.asset);
  if (q.explain) {
    if (bytes) out.inputs["input_bytes"] = *bytes;
    out.inputs["cores"] = q.cores;
  }
  const Pair* own = Find(q.asset, q.runtime);

  // 1. The pair's own model.
  if (own && own->runs >= options_.min_runs) {
    double s_gb = bytes ? *bytes / kGb : own->mean_s;
    if (auto p50 = ModelP50(*own, s_gb, q.cores)) {
      out.basis = "model";
      out.observations = own->runs;
      if (q.explain) {
        out.inputs["theta"] = own->theta;
        out.explain = "runtime model fitted on " + std::to_string(own->runs) + " runs";
      }
      return finish(*p50, Sigma(*own), Sigma(*own) / std::sqrt(std::max(1.0, own->weight)));
    }
  }
  // 2. Another runtime's runs of this asset × the speed ratio between the two
  //    runtimes learned from assets run on both (prior ratio 1 until then).
  auto asset_it = pairs_.find(q.asset);
  if (asset_it != pairs_.end() && (!own || own->runs < options_.min_runs)) {
    const Pair* best = nullptr;
    std::string best_rt;
    for (const auto& [rt, p] : asset_it->second) {
      if (rt == q.runtime || (own && own->runs >= p.runs)) continue;
      if (!best || p.runs > best->runs) best = &p, best_rt = rt;
    }
    if (best) {
      double s_gb = bytes ? *bytes / kGb : best->mean_s;
      std::optional<double> base = best->runs >= options_.min_runs
                                       ? ModelP50(*best, s_gb, best->cores)
                                       : std::optional<double>(std::exp(best->mean_log_d));
      auto learned = SpeedRatio(q.runtime, best_rt);
      std::pair<double, int> ratio = learned.value_or(std::make_pair(1.0, 0));
      if (base) {
        out.basis = "speed_ratio";
        out.observations = best->runs;
        if (q.explain) {
          out.inputs["borrowed_from"] = best_rt;
          out.inputs["speed_ratio"] = ratio.first;
          out.inputs["ratio_assets"] = ratio.second;
          std::ostringstream e;
          e.precision(3);
          e << best_rt << " (" << best->runs << " runs) × speed ratio " << ratio.first;
          if (ratio.second > 0) {
            e << " learned from " << ratio.second << " asset(s) run on both";
          } else {
            e << " (prior: no asset ran on both yet)";
          }
          out.explain = e.str();
        }
        // Less certain than either part alone.
        double ratio_sigma = options_.prior_log_sigma / std::sqrt(1.0 + ratio.second);
        double sigma = std::sqrt(Sigma(*best) * Sigma(*best) + ratio_sigma * ratio_sigma);
        // The ratio is shared; this asset may differ from it.
        double var = Sigma(*best) * Sigma(*best) / std::max(1.0, best->weight) +
                     ratio_sigma * ratio_sigma + options_.asset_speed_sd * options_.asset_speed_sd;
        double log_p50 = std::log(*base * ratio.first);
        if (own && own->weight > 0) {
          // The pair's own few runs narrow the borrowed estimate (precision-weighted in log space).
          double own_var = PooledVar() / own->weight;
          log_p50 = (log_p50 / var + own->mean_log_d / own_var) / (1 / var + 1 / own_var);
          var = 1 / (1 / var + 1 / own_var);
          if (q.explain) out.explain += "; with " + std::to_string(own->runs) + " own run(s)";
        }
        return finish(std::exp(log_p50), sigma, std::sqrt(var));
      }
    }
  }
  // 3. A few own runs: their typical duration.
  if (own && own->runs > 0) {
    out.basis = "few_runs";
    out.observations = own->runs;
    if (q.explain) out.explain = "typical duration of " + std::to_string(own->runs) + " run(s)";
    return finish(std::exp(own->mean_log_d), options_.prior_log_sigma,
                  std::sqrt(PooledVar() / std::max(1.0, own->weight)));
  }
  // 4. The asset's hint, 5. the prior.
  if (q.hint_s) {
    out.basis = "hint";
    if (q.explain) {
      out.inputs["expected_duration_s"] = *q.hint_s;
      out.inputs["hint_factor"] = q.hint_factor;
      out.explain = "expected_duration " + Seconds(*q.hint_s) +
                    (q.hint_factor != 1 ? " × " + std::to_string(static_cast<int>(std::lround(q.hint_factor))) + " (fewer cores)" : "") +
                    " (no runs yet)";
    }
    return finish(*q.hint_s * q.hint_factor, options_.prior_log_sigma, options_.prior_log_sigma);
  }
  out.basis = "prior";
  if (q.explain) {
    out.inputs["prior_duration_s"] = options_.prior_duration_s;
    out.explain = "prior " + Seconds(options_.prior_duration_s) + " (no runs, no expected_duration)";
  }
  return finish(options_.prior_duration_s * q.hint_factor, 2 * options_.prior_log_sigma,
                2 * options_.prior_log_sigma);
}

}  // namespace arbiter::cost
