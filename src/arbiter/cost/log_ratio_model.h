// A learned multiplicative correction of an estimate, kept as log(actual /
// estimate) per runtime (shared by every asset) and per (asset, runtime),
// for the cost engine's "the catalog is the prior, observations decide".
//
// Model (empirical Bayes, normal in log space):
//   x_run = θ_{asset,runtime} + ε,        ε ~ N(0, σ_runtime²)      run-to-run noise
//   θ_{asset,runtime} = μ_runtime + δ,    δ ~ N(0, τ²)              assets differ a little
//   μ_runtime ~ N(0, τ0²)                                          the catalog is right on average
// μ is estimated from the other assets' pairs (leave-one-out, precision
// weighted), so a pair with few runs is shrunk toward what its runtime
// costs elsewhere, and one with many runs stands on its own. Observations
// fade by a forgetting factor per run of the pair; a sustained shift (CUSUM
// on standardized one-step residuals) or a new code version discounts the
// pair's past. Not thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arbiter/cost/change_detector.h"

namespace arbiter::cost {

struct LogRatioOptions {
  double prior_sd = 0.7;          // τ0: actual/list within ×2 either way at one sd
  double asset_sd = 0.3;          // τ: how far one asset strays from its runtime
  double noise_sd = 0.15;         // σ prior: run-to-run spread of one pair
  double noise_prior_weight = 4;  // runs' worth of the σ prior
  double forgetting = 0.97;       // weight kept per newer run of the same pair
  double keep_after_change = 0.01;  // a detected shift: the past is another regime
  int detect_after = 3;  // own runs before residuals are watched for a change
  ChangeDetectorOptions detector;
};

// What is believed about one pair's log correction.
struct LogRatioBelief {
  double mean = 0;        // log factor (0: the estimate is right)
  double sd = 0;          // uncertainty of the mean (shrinks with runs)
  double noise_sd = 0;    // run-to-run spread around it
  double weight = 0;      // effective own runs (after forgetting and discounts)
  int runs = 0;           // own runs seen
  double shared_mean = 0;  // the runtime's level, from other assets
  double shared_sd = 0;
  int shared_assets = 0;  // other assets behind it
  double Factor() const;
  nlohmann::json ToJson() const;
};

class LogRatioModel {
 public:
  explicit LogRatioModel(LogRatioOptions o = {});
  // Learns one log(actual / estimate). Returns +1/−1 when this run completes
  // a sustained shift of the pair (its past is then discounted), else 0.
  int Observe(const std::string& asset, const std::string& runtime, double log_ratio);
  // Keeps only `keep` of the pair's weight (e.g. its code changed).
  void Discount(const std::string& asset, const std::string& runtime, double keep);
  LogRatioBelief Estimate(const std::string& asset, const std::string& runtime) const;

 private:
  struct Pair {
    double weight = 0;
    double mean = 0;
    double ss = 0;  // forgotten sum of squared deviations
    int runs = 0;
    ChangeDetector detector;
  };
  struct Level {  // per runtime, recomputed lazily after a change
    bool dirty = true;
    double noise_var = 0;
    double s0 = 0;  // Σ precision (prior included)
    double s1 = 0;  // Σ precision × pair mean
  };
  double Precision(const Pair& p, double noise_var) const;
  const Level& LevelOf(const std::string& runtime) const;

  LogRatioOptions o_;
  std::map<std::string, std::map<std::string, Pair>> pairs_;  // runtime -> asset -> pair
  mutable std::map<std::string, Level> levels_;
};

}  // namespace arbiter::cost
