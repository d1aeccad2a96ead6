#include "arbiter/cost/simulator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "arbiter/cost/engine.h"

namespace arbiter::cost {
namespace {

Status TraceError(const std::string& name, int line, const std::string& what) {
  return InvalidArgumentError(name + ":" + std::to_string(line) + ": " + what +
                              " (trace format: docs/cost.md, \"Traces\")");
}

}  // namespace

Result<std::vector<TraceRecord>> ParseTrace(std::istream& in, const std::string& name) {
  std::vector<TraceRecord> out;
  std::string text;
  int line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return TraceError(name, line, "not a JSON object");
    TraceRecord r;
    r.line = line;
    if (!j.contains("asset") || !j["asset"].is_string()) {
      return TraceError(name, line, "\"asset\" must be a string");
    }
    r.asset = j["asset"];
    if (j.contains("partition") && j["partition"].is_string()) r.partition = j["partition"];
    if (j.contains("code_version") && !j["code_version"].is_null()) {
      if (!j["code_version"].is_string()) {
        return TraceError(name, line, "\"code_version\" must be a string");
      }
      r.code_version = j["code_version"];
    }
    if (j.contains("input_bytes") && !j["input_bytes"].is_null()) {
      if (!j["input_bytes"].is_number() || j["input_bytes"].get<double>() < 0) {
        return TraceError(name, line, "\"input_bytes\" must be a non-negative number");
      }
      r.input_bytes = j["input_bytes"].get<double>();
    }
    if (!j.contains("outcomes") || !j["outcomes"].is_object() || j["outcomes"].empty()) {
      return TraceError(name, line, "\"outcomes\" must be an object with at least one runtime");
    }
    for (auto it = j["outcomes"].begin(); it != j["outcomes"].end(); ++it) {
      const nlohmann::json& o = it.value();
      if (!o.is_object() || !o.contains("duration_s") || !o["duration_s"].is_number() ||
          o["duration_s"].get<double>() <= 0) {
        return TraceError(name, line,
                          "outcome " + it.key() + " needs \"duration_s\", a positive number");
      }
      TraceOutcome t;
      t.duration_s = o["duration_s"];
      if (o.contains("cost_usd") && !o["cost_usd"].is_null()) {
        if (!o["cost_usd"].is_number() || o["cost_usd"].get<double>() < 0) {
          return TraceError(name, line, "outcome " + it.key() + ": \"cost_usd\" must be >= 0");
        }
        t.cost_usd = o["cost_usd"].get<double>();
      }
      r.outcomes[it.key()] = t;
    }
    out.push_back(std::move(r));
  }
  return out;
}

namespace {

std::optional<std::pair<std::string, double>> Lowest(
    const std::map<std::string, std::optional<double>>& totals) {
  std::optional<std::pair<std::string, double>> best;
  for (const auto& [rt, usd] : totals) {
    if (usd && (!best || *usd < best->second)) best = std::make_pair(rt, *usd);
  }
  return best;
}

std::optional<double> Median(std::vector<double> v) {
  if (v.empty()) return std::nullopt;
  size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  double m = v[mid];
  if (v.size() % 2 == 0) {
    m = (m + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid))) / 2;
  }
  return m;
}

nlohmann::json OptJson(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

double Pct(double a, double b) { return b > 0 ? 100 * (a / b - 1) : 0; }

}  // namespace

std::optional<std::pair<std::string, double>> SimulationReport::BestSingle() const {
  return Lowest(always_usd);
}

std::optional<std::pair<std::string, double>> SimulationReport::BestSingleAfter10() const {
  return Lowest(after10_always_usd);
}

nlohmann::json SimulationReport::ToJson() const {
  nlohmann::json always = nlohmann::json::object();
  nlohmann::json savings = nlohmann::json::object();
  for (const auto& [rt, usd] : always_usd) {
    always[rt] = OptJson(usd);
    savings[rt] = usd && *usd > 0 ? nlohmann::json(100 * (1 - policy_usd / *usd))
                                  : nlohmann::json(nullptr);
  }
  nlohmann::json after10 = nlohmann::json::object();
  for (const auto& [rt, usd] : after10_always_usd) after10[rt] = OptJson(usd);
  auto best = BestSingle();
  auto best10 = BestSingleAfter10();
  nlohmann::json j = {
      {"policy", policy},
      {"records", records},
      {"policy_usd", policy_usd},
      {"oracle_usd", oracle_usd},
      {"regret_pct", regret_pct()},
      {"always_usd", always},
      {"savings_pct", savings},
      {"decisions", decisions},
      {"asset_decisions", asset_decisions},
      {"explored", explored},
      {"explore_extra_predicted_usd", explore_extra_predicted_usd},
      {"explore_extra_actual_usd", explore_extra_actual_usd},
      {"catalog_only_usd", OptJson(catalog_only_usd)},
      {"regret_vs_catalog_only_pct",
       catalog_only_usd ? nlohmann::json(Pct(policy_usd, *catalog_only_usd)) : nlohmann::json(nullptr)},
      {"best_single", best ? nlohmann::json(best->first) : nlohmann::json(nullptr)},
      {"regret_vs_best_single_pct",
       best ? nlohmann::json(Pct(policy_usd, best->second)) : nlohmann::json(nullptr)},
      {"per_asset_best_usd", per_asset_best_usd},
      {"regret_vs_per_asset_best_pct", Pct(policy_usd, per_asset_best_usd)},
      {"after10_records", after10_records},
      {"after10_policy_usd", after10_policy_usd},
      {"after10_always_usd", after10},
      {"after10_regret_vs_best_single_pct",
       best10 ? nlohmann::json(Pct(after10_policy_usd, best10->second)) : nlohmann::json(nullptr)},
      {"cost_error_median_pct", cost_error_median ? nlohmann::json(100 * *cost_error_median) : nlohmann::json(nullptr)},
      {"duration_error_median_pct",
       duration_error_median ? nlohmann::json(100 * *duration_error_median) : nlohmann::json(nullptr)},
      {"error_samples", error_samples},
      {"changes", changes},
  };
  if (deadline_met) {
    j["deadline_met"] = *deadline_met;
    j["deadline_met_pct"] = records > 0 ? 100.0 * *deadline_met / records : 0;
    j["deadline_oracle_usd"] = OptJson(deadline_oracle_usd);
    j["regret_vs_deadline_oracle_pct"] =
        deadline_oracle_usd ? nlohmann::json(Pct(policy_usd, *deadline_oracle_usd)) : nlohmann::json(nullptr);
  }
  if (!choices.empty()) {
    nlohmann::json c = nlohmann::json::array();
    for (const SimulatedChoice& x : choices) {
      c.push_back({{"line", x.line}, {"asset", x.asset}, {"chosen", x.chosen},
                   {"cheapest", x.cheapest_actual}, {"greedy", x.cheapest_expected},
                   {"explored", x.explored}});
    }
    j["choices"] = c;
  }
  return j;
}

namespace {

// One replay of the trace by one engine: the policy sees only what it ran.
class Replay {
 public:
  Replay(const definitions::Project& sim, Engine& engine, const SimulationOptions& o, bool full)
      : sim_(sim), engine_(engine), o_(o), full_(full) {}

  Status Run(const std::vector<TraceRecord>& trace, SimulationReport* rep) {
    // Per asset, keyed by its definition (resolved once per name, not per record).
    struct AssetStats {
      int records = 0;
      std::map<std::string, double> totals;  // runtime -> $
      std::map<std::string, int> present;
      std::map<std::string, int> decisions;
    };
    std::unordered_map<std::string, const definitions::AssetDef*> resolved;
    std::map<const definitions::AssetDef*, AssetStats> stats;
    std::map<std::string, double> always;
    std::map<std::string, int> present;
    std::map<std::string, double> after10;
    std::map<std::string, int> after10_present;
    std::vector<double> cost_err, dur_err;
    const bool deadline = o_.policy.kind == definitions::PlacementPolicy::Kind::kCheapestWithin;
    const double deadline_s = static_cast<double>(o_.policy.deadline.count());
    if (deadline && full_) rep->deadline_met = 0, rep->deadline_oracle_usd = 0;
    std::map<std::string, double> costs;
    for (const TraceRecord& r : trace) {
      auto [at, fresh] = resolved.try_emplace(r.asset, nullptr);
      if (fresh) at->second = sim_.FindAsset(r.asset);
      const definitions::AssetDef& asset = *at->second;
      AssetStats& st = stats[&asset];
      int& seen = st.records;
      costs.clear();
      double best = std::numeric_limits<double>::infinity();
      std::string best_rt;
      double in_time = std::numeric_limits<double>::infinity();
      double fastest_s = std::numeric_limits<double>::infinity(), fastest_usd = 0;
      for (const auto& [name, o] : r.outcomes) {
        Result<double> c = TrueCost(asset, sim_.runtimes.at(name), o);
        if (!c.ok()) return TraceError("trace", r.line, c.status().message());
        costs[name] = *c;
        if (*c < best) best = *c, best_rt = name;
        if (o.duration_s <= deadline_s) in_time = std::min(in_time, *c);
        if (o.duration_s < fastest_s) fastest_s = o.duration_s, fastest_usd = *c;
        if (full_) {
          always[name] += *c;
          present[name] += 1;
          st.totals[name] += *c;
          st.present[name] += 1;
          if (seen >= 10) after10[name] += *c, after10_present[name] += 1;
        }
      }
      rep->oracle_usd += best;
      if (deadline && full_) *rep->deadline_oracle_usd += std::isfinite(in_time) ? in_time : fastest_usd;

      PlacementConstraints constraints;
      for (const auto* rt : AllowedRuntimes(sim_, asset)) {
        if (!r.outcomes.count(rt->name)) constraints.excluded_runtimes.push_back(rt->name);
      }
      ExplorationBudget budget = engine_.Budget(o_.explore, r.asset, o_.seed);
      budget.spent_usd = rep->policy_usd;
      budget.explored_usd = rep->explore_extra_predicted_usd;
      Placement p = engine_.placer().Place(asset, o_.policy, r.input_bytes, constraints, budget,
                                           /*explain=*/false);
      std::string chosen = p.chosen;
      if (chosen.empty() || !r.outcomes.count(chosen)) {
        chosen = r.outcomes.begin()->first;  // nothing feasible: the first listed runs
      }
      const TraceOutcome& o = r.outcomes.at(chosen);
      double charged = costs[chosen];
      rep->policy_usd += charged;
      rep->decisions[chosen] += 1;
      if (p.explored) {
        rep->explored += 1;
        rep->explore_extra_predicted_usd += p.explore_extra_usd;
        if (costs.count(p.cheapest)) rep->explore_extra_actual_usd += charged - costs[p.cheapest];
      }
      if (full_) {
        st.decisions[chosen] += 1;
        if (seen >= 10) rep->after10_policy_usd += charged, rep->after10_records += 1;
        if (deadline && o.duration_s <= deadline_s) *rep->deadline_met += 1;
        const Candidate* c = p.Chosen();
        if (c && c->runtime == chosen && engine_.predictor().Runs(r.asset, chosen) >= 5) {
          if (c->expected_usd && charged > 0) cost_err.push_back(std::abs(*c->expected_usd / charged - 1));
          dur_err.push_back(std::abs(c->p50_total_s / o.duration_s - 1));
        }
        if (o_.choices) rep->choices.push_back({r.line, r.asset, chosen, best_rt, p.cheapest, p.explored});
      }
      // The policy learns only what it ran: its time, and its cost when the
      // trace says what it was (otherwise it is the catalog's own price).
      const auto& rt = sim_.runtimes.at(chosen);
      Observation obs;
      obs.asset = r.asset;
      obs.runtime = chosen;
      obs.input_bytes = r.input_bytes;
      double overhead = engine_.catalog().StartupPriorSeconds(rt.type) +
                        engine_.catalog().IdleTailPriorSeconds(rt.type);
      obs.duration_s = std::max(1.0, o.duration_s - overhead);
      obs.cores = shapes_.at({r.asset, chosen}).cores;
      engine_.Observe(asset, rt, obs, o.duration_s, o.cost_usd, r.code_version);
      ++seen;
      ++rep->records;
    }
    if (!full_) return Status::Ok();
    for (const auto& [rt, total] : always) {
      rep->always_usd[rt] = present[rt] == rep->records ? std::optional<double>(total) : std::nullopt;
    }
    for (const auto& [rt, total] : after10) {
      rep->after10_always_usd[rt] =
          after10_present[rt] == rep->after10_records ? std::optional<double>(total) : std::nullopt;
    }
    std::vector<std::pair<std::string, AssetStats*>> by_key;  // sum in asset order: same bits every run
    for (auto& [a, st] : stats) by_key.emplace_back(a->key.str(), &st);
    std::sort(by_key.begin(), by_key.end());
    for (auto& [key, stp] : by_key) {
      AssetStats& st = *stp;
      std::optional<double> low;
      for (const auto& [rt, usd] : st.totals) {
        if (st.present[rt] == st.records && (!low || usd < *low)) low = usd;
      }
      rep->per_asset_best_usd += low.value_or(0);
      rep->asset_decisions[key] = st.decisions;
    }
    rep->cost_error_median = Median(cost_err);
    rep->duration_error_median = Median(dur_err);
    rep->error_samples = static_cast<int>(dur_err.size());
    for (const ChangeEvent& e : engine_.changes()) rep->changes.push_back(e.ToJson());
    return Status::Ok();
  }

 private:
  // The true cost of an outcome: the trace's, else the catalog's price of its duration.
  Result<double> TrueCost(const definitions::AssetDef& a, const definitions::RuntimeConfig& rt,
                          const TraceOutcome& o) {
    auto key = std::make_pair(a.key.str(), rt.name);
    auto it = shapes_.find(key);
    if (it == shapes_.end()) {
      ARBITER_ASSIGN_OR_RETURN(ClusterShape s, engine_.placer().ShapeFor(a, rt));
      it = shapes_.emplace(key, s).first;
    }
    if (o.cost_usd) return *o.cost_usd;
    CostEstimate e = PriceShape(engine_.catalog(), rt, it->second, o.duration_s, /*itemize=*/false);
    if (!e.usd) return NotFoundError("cannot price " + rt.name + ": " + e.unknown.front());
    return *e.usd;
  }

  const definitions::Project& sim_;
  Engine& engine_;
  const SimulationOptions& o_;
  bool full_;
  std::map<std::pair<std::string, std::string>, ClusterShape> shapes_;
};

}  // namespace

Result<SimulationReport> Simulate(const definitions::Project& project, const PriceCatalog& catalog,
                                  const std::vector<TraceRecord>& trace,
                                  const SimulationOptions& options) {
  // Assets the project does not define run with the default shape on the
  // runtimes their records list.
  definitions::Project sim = project;
  for (const TraceRecord& r : trace) {
    for (const auto& [rt, o] : r.outcomes) {
      if (!project.runtimes.count(rt)) {
        return TraceError("trace", r.line, "runtime " + rt + " is not a runtime of project " +
                                               project.name + "; add it to arbiter.yaml");
      }
    }
    if (!sim.FindAsset(r.asset)) {
      auto key = definitions::AssetKey::Parse(r.asset);
      if (!key.ok()) return TraceError("trace", r.line, key.status().message());
      definitions::AssetDef a;
      a.key = *key;
      sim.assets[a.key] = a;
    }
  }
  SimulationReport rep;
  rep.policy = options.policy.ToString();
  {
    Engine engine(&sim, catalog);
    engine.MemoizeShapes();  // `sim` stays as it is until the replay ends
    ARBITER_RETURN_IF_ERROR(Replay(sim, engine, options, /*full=*/true).Run(trace, &rep));
  }
  if (options.baseline) {
    // What placement did before it learned costs: list prices, no exploration.
    Engine engine(&sim, catalog, {}, /*calibrate=*/false);
    engine.MemoizeShapes();
    SimulationOptions greedy = options;
    greedy.explore = 0;
    SimulationReport base;
    ARBITER_RETURN_IF_ERROR(Replay(sim, engine, greedy, /*full=*/false).Run(trace, &base));
    rep.catalog_only_usd = base.policy_usd;
  }
  return rep;
}

}  // namespace arbiter::cost
