#include "arbiter/cost/placement.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "arbiter/cost/seeded_normal.h"

namespace arbiter::cost {
namespace {

using definitions::PlacementPolicy;
using definitions::RuntimeType;

int TotalNodes(const ClusterShape& s) {
  if (s.type == RuntimeType::kEmrServerless) return s.serverless_workers;
  if (s.type == RuntimeType::kLocal) return 1;
  int n = 0;
  for (const auto& g : s.nodes) n += g.count;
  return n;
}

// Ranking keys: lower is better; unknown costs rank after every known one.
bool CheaperThan(const Candidate& a, const Candidate& b) {
  if (a.expected_usd.has_value() != b.expected_usd.has_value()) return a.expected_usd.has_value();
  if (a.expected_usd && *a.expected_usd != *b.expected_usd) return *a.expected_usd < *b.expected_usd;
  if (a.p90_total_s != b.p90_total_s) return a.p90_total_s < b.p90_total_s;
  return a.runtime < b.runtime;
}
// Why `type` cannot run jobs of `kind` (empty: it can). Databricks and EMR
// Serverless submit a script to Spark or Python; only the local runtime and
// EMR (through command-runner.jar) run an arbitrary command. Their launchers
// refuse such runs, so placement must never pick them.
std::string JobKindUnsupported(RuntimeType type, definitions::JobKind kind) {
  if (kind != definitions::JobKind::kCommand) return "";
  if (type == RuntimeType::kDatabricks) {
    return "a command job: Databricks runs pyspark and python jobs only";
  }
  if (type == RuntimeType::kEmrServerless) {
    return "a command job: EMR Serverless runs pyspark and python jobs only";
  }
  return "";
}

bool FasterThan(const Candidate& a, const Candidate& b) {
  if (a.p50_total_s != b.p50_total_s) return a.p50_total_s < b.p50_total_s;
  return CheaperThan(a, b);
}

// Posterior sampling over the feasible candidates with a known cost: the
// lowest draw runs. When that is not `best` (the lowest expected cost) the
// run explores, if its predicted extra fits the budget.
void Explore(const definitions::AssetDef& asset, const ExplorationBudget& budget,
             const Candidate& best, bool explain, Placement* out) {
  const std::string key = asset.key.str();
  const Candidate* pick = nullptr;
  double pick_draw = 0;
  for (Candidate& c : out->candidates) {
    if (!c.feasible || !c.expected_usd) continue;
    double z = SeededNormal(budget.seed, key, c.runtime, budget.draw);
    c.draw_usd = *c.expected_usd * std::exp(c.cost_log_sd * z);
    if (!pick || *c.draw_usd < pick_draw) pick = &c, pick_draw = *c.draw_usd;
  }
  if (!pick || pick == &best) return;
  // A draw only a little below the cheapest is a near tie: one run's noise
  // hides a gap that small, and learning it saves little. Explore when the
  // draw says "cheaper by a margin worth knowing".
  if (pick_draw > *best.expected_usd * (1 - budget.min_gain)) return;
  double extra = *pick->expected_usd - *best.expected_usd;
  double allowed = budget.fraction * (budget.spent_usd + *best.expected_usd) - budget.explored_usd;
  if (extra > allowed) {
    if (explain) {
      out->reason += "; a draw favoured " + pick->runtime + " but its predicted extra " +
                     FormatUsd(extra) + " exceeds what is left of the exploration budget (" +
                     FormatUsd(std::max(0.0, allowed)) + ")";
    }
    return;
  }
  out->chosen = pick->runtime;
  out->explored = true;
  out->explore_extra_usd = std::max(0.0, extra);
  if (!explain) return;
  std::ostringstream r;
  r.precision(3);
  r << "exploring " << pick->runtime << ": it might be cheaper (draw " << FormatUsd(pick_draw)
    << " vs " << best.runtime << "'s draw " << FormatUsd(best.draw_usd) << "; expected "
    << FormatUsd(pick->expected_usd) << " vs " << FormatUsd(best.expected_usd) << ", ±"
    << 100 * (std::exp(pick->cost_log_sd) - 1) << "% ";
  if (pick->calibration) {
    r << "after " << pick->calibration->runs << " run(s) of this asset there";
  }
  r << "); predicted extra " << FormatUsd(out->explore_extra_usd) << " within the budget of "
    << 100 * budget.fraction << "% of spend";
  out->reason = r.str();
}

}  // namespace

std::string FormatSeconds(double s) {
  std::ostringstream o;
  if (s < 60) {
    o << static_cast<int>(std::round(s)) << "s";
  } else if (s < 3600) {
    o << static_cast<int>(s / 60) << "m" << (static_cast<int>(s) % 60 < 10 ? "0" : "")
      << static_cast<int>(s) % 60 << "s";
  } else {
    int m = static_cast<int>(s / 60);
    o << m / 60 << "h" << (m % 60 < 10 ? "0" : "") << m % 60 << "m";
  }
  return o.str();
}

std::string FormatUsd(std::optional<double> usd) {
  if (!usd) return "unknown";
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(*usd < 10 ? 3 : 2);
  o << "$" << *usd;
  return o.str();
}

double NormalQuantile(double p) {
  // Acklam's rational approximation (relative error < 1.2e-9).
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  p = std::clamp(p, 1e-12, 1 - 1e-12);
  auto tail = [&](double q) {
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  };
  if (p < 0.02425) return tail(std::sqrt(-2 * std::log(p)));
  if (p > 1 - 0.02425) return -tail(std::sqrt(-2 * std::log(1 - p)));
  double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

std::vector<const definitions::RuntimeConfig*> AllowedRuntimes(const definitions::Project& p,
                                                               const definitions::AssetDef& a) {
  std::vector<const definitions::RuntimeConfig*> out;
  for (const auto& [name, rt] : p.runtimes) {
    if (a.runtimes.empty() || std::find(a.runtimes.begin(), a.runtimes.end(), name) != a.runtimes.end()) {
      out.push_back(&rt);
    }
  }
  return out;
}

nlohmann::json Candidate::ToJson() const {
  nlohmann::json j = {{"runtime", runtime},
                      {"type", std::string(definitions::RuntimeTypeName(type))},
                      {"shape", shape.ToJson()},
                      {"cluster", shape.Describe()},
                      {"p50_s", prediction.p50_s},
                      {"p90_s", prediction.p90_s},
                      {"overhead_s", overhead_s},
                      {"p50_total_s", p50_total_s},
                      {"p90_total_s", p90_total_s},
                      {"observations", prediction.observations},
                      {"basis", prediction.basis},
                      {"explain", prediction.explain},
                      {"model_inputs", prediction.inputs},
                      {"usd", expected_usd ? nlohmann::json(*expected_usd) : nlohmann::json(nullptr)},
                      {"catalog_usd", catalog_usd ? nlohmann::json(*catalog_usd) : nlohmann::json(nullptr)},
                      {"cost_log_sd", cost_log_sd},
                      {"cost", cost.ToJson()},
                      {"feasible", feasible}};
  if (spot_interruption_p) j["spot_interruption_p"] = *spot_interruption_p;
  if (calibration) j["cost_calibration"] = calibration->ToJson();
  if (draw_usd) j["draw_usd"] = *draw_usd;
  if (deadline_total_s > 0) j["deadline_total_s"] = deadline_total_s;
  if (!why_not.empty()) j["why_not"] = why_not;
  return j;
}

const Candidate* Placement::Chosen() const {
  for (const auto& c : candidates) {
    if (c.runtime == chosen) return &c;
  }
  return nullptr;
}

nlohmann::json Placement::CandidatesJson() const {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& c : candidates) j.push_back(c.ToJson());
  return j;
}

nlohmann::json Placement::ToJson() const {
  return {{"policy", policy},
          {"chosen", chosen.empty() ? nlohmann::json(nullptr) : nlohmann::json(chosen)},
          {"reason", reason},
          {"explored", explored},
          {"explore_extra_usd", explore_extra_usd},
          {"inputs", inputs},
          {"candidates", CandidatesJson()}};
}

Placer::Placer(const definitions::Project* project, const PriceCatalog* catalog,
               const RuntimePredictor* predictor, const SpotRisk* spot_risk,
               runs::InstanceChooser chooser, const LogRatioModel* cost_calibration)
    : project_(project),
      catalog_(catalog),
      predictor_(predictor),
      spot_risk_(spot_risk),
      chooser_(std::move(chooser)),
      cost_calibration_(cost_calibration) {}

Result<ClusterShape> Placer::ShapeFor(const definitions::AssetDef& asset,
                                      const definitions::RuntimeConfig& rt) const {
  const definitions::ComputeSpec& c = asset.compute;
  ClusterShape s;
  s.type = rt.type;
  double worker_vcpu = c.worker.vcpu.value_or(catalog_->DefaultShapeVcpu());
  double worker_mem = c.worker.memory_gib.value_or(catalog_->DefaultShapeMemoryGib());
  switch (rt.type) {
    case RuntimeType::kLocal:
      s.cores = catalog_->LocalCoresPrior();
      return s;
    case RuntimeType::kEmrServerless:
      s.serverless_workers = c.workers + 1;  // the driver is a worker too
      s.worker_vcpu = worker_vcpu;
      s.worker_memory_gib = worker_mem;
      s.cores = worker_vcpu * std::max(1, c.workers);
      return s;
    case RuntimeType::kDatabricks:
    case RuntimeType::kEmr:
      break;
  }
  ARBITER_ASSIGN_OR_RETURN(runs::InstanceChoice choice,
                           chooser_(c, rt.type, catalog_->RegionOf(rt)));
  if (choice.driver.empty() || choice.worker.empty()) {
    return NotFoundError("no instance type for this shape");
  }
  const bool emr = rt.type == RuntimeType::kEmr;
  s.nodes.push_back({emr ? "primary" : "driver", choice.driver.front(), 1, false});
  auto spec = catalog_->Instance(choice.worker.front());
  double vcpu = spec ? spec->vcpu : worker_vcpu;
  if (c.workers > 0) {
    // Spot only where the runtime puts workers on spot (EMR: task nodes).
    bool spot = c.spot && (!emr || rt.emr.spot_task_nodes);
    s.nodes.push_back({emr ? (spot ? "task" : "core") : "worker", choice.worker.front(), c.workers,
                       spot});
    s.cores = vcpu * c.workers;
  } else {
    auto dspec = catalog_->Instance(choice.driver.front());
    s.cores = dspec ? dspec->vcpu : worker_vcpu;
  }
  s.photon = rt.type == RuntimeType::kDatabricks && c.photon;
  return s;
}

const Result<ClusterShape>& Placer::MemoShape(const definitions::AssetDef& asset,
                                              const definitions::RuntimeConfig& rt) const {
  auto key = std::make_pair(&asset, &rt);
  auto it = memo_->find(key);
  if (it == memo_->end()) it = memo_->emplace(key, ShapeFor(asset, rt)).first;
  return it->second;
}

Candidate Placer::Evaluate(const definitions::AssetDef& asset, const definitions::RuntimeConfig& rt,
                           std::optional<double> input_bytes,
                           const PlacementConstraints& constraints, bool explain,
                           double deadline_level) const {
  Candidate cand;
  cand.runtime = rt.name;
  cand.type = rt.type;
  auto infeasible = [&](std::string why) {
    if (cand.feasible) cand.feasible = false, cand.why_not = std::move(why);
  };
  if (std::string why = JobKindUnsupported(rt.type, asset.job.kind); !why.empty()) {
    infeasible(std::move(why));
  }
  std::optional<Result<ClusterShape>> computed;
  const Result<ClusterShape>& shape =
      memo_ ? MemoShape(asset, rt) : computed.emplace(ShapeFor(asset, rt));
  if (!shape.ok()) {
    infeasible(shape.status().message());
    return cand;
  }
  cand.shape = *shape;
  if (constraints.require_photon) {
    if (rt.type == RuntimeType::kDatabricks) {
      cand.shape.photon = true;
    } else {
      infeasible("Photon required: only Databricks runs Photon");
    }
  }
  // The hint describes the asset's cluster; this machine is slower by its core count.
  double cluster_cores = asset.compute.worker.vcpu.value_or(catalog_->DefaultShapeVcpu()) *
                         std::max(1, asset.compute.workers);
  PredictionQuery q;
  q.asset = asset.key.str();
  q.runtime = rt.name;
  q.cores = cand.shape.cores;
  q.input_bytes = input_bytes;
  q.explain = explain;
  if (asset.expected_duration) q.hint_s = static_cast<double>(asset.expected_duration->count());
  if (rt.type == RuntimeType::kLocal) q.hint_factor = std::max(1.0, cluster_cores / cand.shape.cores);
  cand.prediction = predictor_->Predict(q);
  cand.overhead_s = predictor_->OverheadSeconds(
      rt.name, catalog_->StartupPriorSeconds(rt.type) + catalog_->IdleTailPriorSeconds(rt.type));
  cand.p50_total_s = cand.prediction.p50_s + cand.overhead_s;
  cand.p90_total_s = cand.prediction.p90_s + cand.overhead_s;
  // Deadlines: the predictive spread is the run-to-run noise plus what is
  // not yet known about the median.
  double pred_sd = std::hypot(cand.prediction.log_sigma, cand.prediction.mean_log_sd);
  cand.deadline_total_s =
      cand.prediction.p50_s * std::exp(NormalQuantile(deadline_level) * pred_sd) + cand.overhead_s;
  cand.cost = PriceShape(*catalog_, rt, cand.shape, cand.p50_total_s, explain);
  cand.expected_usd = WithSpotRisk(rt, cand.shape, cand.p50_total_s, cand.cost.usd,
                                   &cand.spot_interruption_p);
  // What runs of this asset (and of others on this runtime) actually cost
  // against the catalog's estimate corrects it; its uncertainty and the
  // duration's are what exploration samples from.
  cand.catalog_usd = cand.expected_usd;
  double factor_sd = 0;
  if (cost_calibration_ && cand.expected_usd) {
    cand.calibration = cost_calibration_->Estimate(q.asset, rt.name);
    cand.expected_usd = *cand.expected_usd * cand.calibration->Factor();
    factor_sd = cand.calibration->sd;
  }
  cand.cost_log_sd = std::hypot(factor_sd, cand.prediction.mean_log_sd);
  if (std::find(constraints.excluded_runtimes.begin(), constraints.excluded_runtimes.end(),
                rt.name) != constraints.excluded_runtimes.end()) {
    infeasible("excluded by constraint");
  }
  if (auto it = constraints.unavailable.find(rt.name); it != constraints.unavailable.end()) {
    infeasible(it->second);
  }
  if (constraints.max_nodes && TotalNodes(cand.shape) > *constraints.max_nodes) {
    infeasible(std::to_string(TotalNodes(cand.shape)) + " nodes exceed the maximum of " +
               std::to_string(*constraints.max_nodes));
  }
  // Only history can rule a runtime out on time: a guess (expected_duration
  // or the built-in prior, no runs yet) would keep it from ever running.
  const bool guessed = cand.prediction.basis == "hint" || cand.prediction.basis == "prior";
  if (asset.compute.max_duration && !guessed &&
      cand.p90_total_s > static_cast<double>(asset.compute.max_duration->count())) {
    infeasible("predicted p90 " + FormatSeconds(cand.p90_total_s) + " exceeds max_duration " +
               FormatSeconds(static_cast<double>(asset.compute.max_duration->count())));
  }
  if (!cand.cost.usd && cand.why_not.empty()) {
    cand.why_not = "price unknown: " + cand.cost.unknown.front();
  }
  return cand;
}

std::optional<double> Placer::WithSpotRisk(const definitions::RuntimeConfig& rt,
                                           const ClusterShape& shape, double billed_s,
                                           std::optional<double> usd,
                                           std::optional<double>* interruption_p) const {
  // Spot: add the expected price of losing the capacity and redoing the run on on-demand.
  double p_ok = 1;
  for (const auto& g : shape.nodes) {
    if (!g.spot) continue;
    p_ok *= 1 - spot_risk_->InterruptionProbability(catalog_->RegionOf(rt), g.instance_type,
                                                    g.count, billed_s / 3600);
  }
  if (p_ok == 1 || !usd) return usd;
  if (interruption_p) *interruption_p = 1 - p_ok;
  CostEstimate od = PriceShape(*catalog_, rt, OnDemandOnly(shape), billed_s, /*itemize=*/false);
  return od.usd ? std::optional<double>(ExpectedSpotCost(*usd, *od.usd, 1 - p_ok)) : usd;
}

std::optional<double> Placer::CatalogCost(const definitions::AssetDef& asset,
                                          const definitions::RuntimeConfig& rt,
                                          double billed_s) const {
  std::optional<Result<ClusterShape>> computed;
  const Result<ClusterShape>& shape =
      memo_ ? MemoShape(asset, rt) : computed.emplace(ShapeFor(asset, rt));
  if (!shape.ok()) return std::nullopt;
  CostEstimate e = PriceShape(*catalog_, rt, *shape, billed_s, /*itemize=*/false);
  return WithSpotRisk(rt, *shape, billed_s, e.usd, nullptr);
}

Placement Placer::Place(const definitions::AssetDef& asset, const PlacementPolicy& policy,
                        std::optional<double> input_bytes, const PlacementConstraints& constraints,
                        const ExplorationBudget& exploration, bool explain) const {
  Placement out;
  out.policy = policy.ToString();
  if (!input_bytes) input_bytes = predictor_->TypicalInputBytes(asset.key.str());
  if (explain) {
    out.inputs = {{"input_bytes", input_bytes ? nlohmann::json(*input_bytes) : nlohmann::json(nullptr)},
                  {"catalog", catalog_->version()}};
    if (!constraints.excluded_runtimes.empty()) out.inputs["excluded"] = constraints.excluded_runtimes;
    if (constraints.require_photon) out.inputs["require_photon"] = true;
    if (constraints.max_nodes) out.inputs["max_nodes"] = *constraints.max_nodes;
    if (exploration.fraction > 0) out.inputs["exploration_budget"] = exploration.fraction;
  }

  for (const auto* rt : AllowedRuntimes(*project_, asset)) {
    out.candidates.push_back(Evaluate(asset, *rt, input_bytes, constraints, explain, policy.level));
  }
  if (policy.kind == PlacementPolicy::Kind::kCheapestWithin) {
    for (auto& c : out.candidates) {
      if (c.feasible && c.deadline_total_s > static_cast<double>(policy.deadline.count())) {
        c.feasible = false;
        c.why_not = "predicted p" + std::to_string(static_cast<int>(std::lround(100 * policy.level))) +
                    " " + FormatSeconds(c.deadline_total_s) + " misses the deadline " +
                    FormatSeconds(static_cast<double>(policy.deadline.count()));
      }
    }
  }
  std::vector<const Candidate*> feasible;
  for (const auto& c : out.candidates) {
    if (c.feasible) feasible.push_back(&c);
  }
  if (out.candidates.empty()) {
    out.reason = "the asset allows no runtime of this project";
    return out;
  }

  if (policy.kind == PlacementPolicy::Kind::kFixed) {
    out.chosen = policy.runtime;
    const Candidate* c = out.Chosen();
    if (!c) {
      out.chosen.clear();
      out.reason = "fixed runtime " + policy.runtime + " is not allowed for this asset";
    } else {
      out.reason = "placement is fixed to " + policy.runtime;
      if (!c->feasible) out.reason += " (although: " + c->why_not + ")";
    }
    return out;
  }
  if (feasible.empty()) {
    // Nothing meets the constraints: the deadline policy still runs the
    // fastest; the others report why nothing can run.
    if (policy.kind == PlacementPolicy::Kind::kCheapestWithin) {
      const Candidate* f = nullptr;
      for (const auto& c : out.candidates) {
        if (c.why_not.find("misses the deadline") != std::string::npos && (!f || FasterThan(c, *f))) f = &c;
      }
      if (f) {
        out.chosen = f->runtime;
        out.reason = "no runtime is predicted to meet the deadline; " + f->runtime +
                     " is the fastest (p" + std::to_string(static_cast<int>(std::lround(100 * policy.level))) +
                     " " + FormatSeconds(f->deadline_total_s) + ")";
        return out;
      }
    }
    out.reason = "no allowed runtime is feasible:";
    for (const auto& c : out.candidates) out.reason += " " + c.runtime + " (" + c.why_not + ");";
    out.reason.pop_back();
    return out;
  }
  const Candidate* best = feasible.front();
  bool fastest = policy.kind == PlacementPolicy::Kind::kFastest;
  for (const Candidate* c : feasible) {
    if (fastest ? FasterThan(*c, *best) : CheaperThan(*c, *best)) best = c;
  }
  out.chosen = best->runtime;
  out.cheapest = best->runtime;
  const Candidate* second = nullptr;
  for (const Candidate* c : feasible) {
    if (c != best && (!second || (fastest ? FasterThan(*c, *second) : CheaperThan(*c, *second)))) second = c;
  }
  if (!explain) {
    // The simulator needs the choice only.
  } else if (fastest) {
    out.reason = best->runtime + " has the shortest predicted time (p50 " +
                 FormatSeconds(best->p50_total_s) + ")";
    if (second) out.reason += "; next " + second->runtime + " (" + FormatSeconds(second->p50_total_s) + ")";
  } else if (!best->expected_usd) {
    out.reason = "no feasible runtime has a known price; " + best->runtime +
                 " has the shortest p90 (" + best->why_not + ")";
  } else {
    out.reason = best->runtime + " is the cheapest feasible runtime (" +
                 FormatUsd(best->expected_usd) + " expected)";
    if (second) {
      out.reason += "; next " + second->runtime + " at " + FormatUsd(second->expected_usd);
    }
    if (policy.kind == PlacementPolicy::Kind::kCheapestWithin) {
      out.reason += "; p" + std::to_string(static_cast<int>(std::lround(100 * policy.level))) + " " +
                    FormatSeconds(best->deadline_total_s) + " within the deadline " +
                    FormatSeconds(static_cast<double>(policy.deadline.count()));
    }
  }

  if (exploration.fraction > 0 && !fastest && best->expected_usd) Explore(asset, exploration, *best, explain, &out);
  return out;
}

}  // namespace arbiter::cost
