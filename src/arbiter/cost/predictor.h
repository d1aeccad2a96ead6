// Runtime prediction learned from history. Per (asset, runtime) an
// Ernest-style model T = θ0 + θ1·s/c + θ2·log c + θ3·c (s input GB, c total
// cores) is fitted by non-negative least squares over running, exponentially
// forgotten sums, so each run costs O(1) to learn and drift fades out. With
// few runs it borrows a speed ratio learned from assets that ran on both
// runtimes, then the asset's expected_duration hint, then a prior.
// Not thread-safe: one per placement pass or simulation.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace arbiter::cost {

struct Observation {
  std::string asset;
  std::string runtime;  // runtime name
  std::optional<double> input_bytes;
  double cores = 1;
  double duration_s = 0;  // the job's own time (platform start-up excluded)
  std::optional<double> overhead_s;  // start-up + idle tail the platform reported
};

struct Prediction {
  double p50_s = 0;
  double p90_s = 0;
  double log_sigma = 0;  // spread of log duration behind p90
  // Uncertainty of log p50 itself (what more runs would teach): posterior
  // sampling explores on it; the deadline check adds it to log_sigma.
  double mean_log_sd = 0;
  int observations = 0;  // runs behind it (own runs, or the borrowed ones)
  std::string basis;     // model | speed_ratio | few_runs | hint | prior
  std::string explain;   // one line for `plan` (empty unless the query asks)
  nlohmann::json inputs;  // what went in (θ, s, c, ratio, hint); likewise
};

struct PredictorOptions {
  int min_runs = 3;          // own runs before the pair's model is trusted
  double forgetting = 0.97;  // weight kept per newer run of the same pair
  double prior_log_sigma = 0.5;
  double prior_duration_s = 1800;
  double prior_overhead_weight = 3;  // runs' worth of weight of overhead priors
  double asset_speed_sd = 0.3;  // how far one asset strays from a learned speed ratio
};

// What the caller knows about the run to predict.
struct PredictionQuery {
  std::string asset;
  std::string runtime;
  double cores = 1;
  std::optional<double> input_bytes;              // nullopt: the pair's typical input
  std::optional<double> hint_s;                   // the asset's expected_duration
  double hint_factor = 1;                         // e.g. local is slower than the cluster
  bool explain = true;  // false: numbers only, no `explain`/`inputs` (simulation)
};

class RuntimePredictor {
 public:
  explicit RuntimePredictor(PredictorOptions options = {});
  // Not copyable: its index points into its own models.
  RuntimePredictor(const RuntimePredictor&) = delete;
  RuntimePredictor& operator=(const RuntimePredictor&) = delete;

  void Add(const Observation& o);
  // Keeps only `keep` of a pair's learned weight (a detected change, a new
  // code version): the next runs refit it.
  void Discount(const std::string& asset, const std::string& runtime, double keep);
  Prediction Predict(const PredictionQuery& q) const;

  // Runs of a pair seen so far.
  int Runs(const std::string& asset, const std::string& runtime) const;
  // Typical (forgotten mean) input size of an asset's runs, any runtime.
  std::optional<double> TypicalInputBytes(const std::string& asset) const;
  // Billed start-up + idle tail of a runtime: the prior shrunk toward what runs reported.
  double OverheadSeconds(const std::string& runtime, double prior_s) const;
  // Runtime speed ratio r/q (duration on r over duration on q) learned from
  // assets with runs on both, and how many assets it rests on.
  std::optional<std::pair<double, int>> SpeedRatio(const std::string& r, const std::string& q) const;

 private:
  struct Pair {
    std::vector<std::vector<double>> g = std::vector<std::vector<double>>(4, std::vector<double>(4, 0));
    std::vector<double> h = std::vector<double>(4, 0);
    int runs = 0;
    double weight = 0;
    double mean_log_d = 0;  // forgotten mean of log duration
    double mean_s = 0;      // forgotten mean of input GB (0 when unknown)
    double err_var = 0;     // one-step-ahead log errors
    int errors = 0;
    double cores = 1;
    mutable bool dirty = true;
    mutable std::vector<double> theta;
  };
  struct Overhead {
    double sum = 0;
    int n = 0;
  };
  const Pair* Find(const std::string& asset, const std::string& runtime) const;
  std::optional<double> ModelP50(const Pair& p, double s_gb, double cores) const;
  double Sigma(const Pair& p) const;
  double PooledVar() const;

  PredictorOptions options_;
  std::map<std::string, std::map<std::string, Pair>> pairs_;  // asset -> runtime -> model
  // r -> q -> (asset, its pair on r, its pair on q) for every asset with runs on
  // both, in asset order: SpeedRatio sums exactly what a walk over pairs_ would,
  // without visiting assets that never ran on both.
  struct Both {
    const std::string* asset;
    const Pair* on_r;
    const Pair* on_q;
  };
  std::map<std::string, std::map<std::string, std::vector<Both>>> both_;
  std::map<std::string, Overhead> overheads_;
  double pooled_err_sum_ = 0;  // squared one-step-ahead log errors of every pair
  double pooled_errs_ = 0;
  std::map<std::string, std::pair<double, double>> asset_input_;  // asset -> (weight, mean GB)
};

}  // namespace arbiter::cost
