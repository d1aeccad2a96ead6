#include "arbiter/cost/simulator.h"

#include <algorithm>
#include <cmath>
#include <limits>

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

nlohmann::json SimulationReport::ToJson() const {
  nlohmann::json always = nlohmann::json::object();
  nlohmann::json savings = nlohmann::json::object();
  for (const auto& [rt, usd] : always_usd) {
    always[rt] = usd ? nlohmann::json(*usd) : nlohmann::json(nullptr);
    savings[rt] = usd && *usd > 0 ? nlohmann::json(100 * (1 - policy_usd / *usd))
                                  : nlohmann::json(nullptr);
  }
  return {{"policy", policy},       {"records", records},
          {"policy_usd", policy_usd}, {"oracle_usd", oracle_usd},
          {"regret_pct", regret_pct()}, {"always_usd", always},
          {"savings_pct", savings},   {"decisions", decisions},
          {"explored", explored}};
}

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
  Engine engine(&sim, catalog);
  engine.MemoizeShapes();  // `sim` stays as it is until the replay ends
  const Placer& placer = engine.placer();
  // True costs need each (asset, runtime) cluster shape; shapes never change.
  std::map<std::pair<std::string, std::string>, ClusterShape> shapes;
  auto shape_of = [&](const definitions::AssetDef& a,
                      const definitions::RuntimeConfig& rt) -> Result<const ClusterShape*> {
    auto key = std::make_pair(a.key.str(), rt.name);
    auto it = shapes.find(key);
    if (it == shapes.end()) {
      ARBITER_ASSIGN_OR_RETURN(ClusterShape s, placer.ShapeFor(a, rt));
      it = shapes.emplace(key, s).first;
    }
    return &it->second;
  };
  auto true_cost = [&](const definitions::AssetDef& a, const definitions::RuntimeConfig& rt,
                       const TraceOutcome& o) -> Result<double> {
    ARBITER_ASSIGN_OR_RETURN(const ClusterShape* shape, shape_of(a, rt));
    if (o.cost_usd) return *o.cost_usd;
    CostEstimate e = PriceShape(engine.catalog(), rt, *shape, o.duration_s, /*itemize=*/false);
    if (!e.usd) return NotFoundError("cannot price " + rt.name + ": " + e.unknown.front());
    return *e.usd;
  };

  SimulationReport rep;
  rep.policy = options.policy.ToString();
  std::map<std::string, double> always;
  std::map<std::string, int> present;
  double explored_usd = 0;
  for (const TraceRecord& r : trace) {
    const definitions::AssetDef& asset = *sim.FindAsset(r.asset);
    std::map<std::string, double> costs;
    double best = std::numeric_limits<double>::infinity();
    for (const auto& [name, o] : r.outcomes) {
      Result<double> c = true_cost(asset, sim.runtimes.at(name), o);
      if (!c.ok()) return TraceError("trace", r.line, c.status().message());
      costs[name] = *c;
      best = std::min(best, *c);
      always[name] += *c;
      present[name] += 1;
    }
    rep.oracle_usd += best;

    PlacementConstraints constraints;
    for (const auto* rt : AllowedRuntimes(sim, asset)) {
      if (!r.outcomes.count(rt->name)) constraints.excluded_runtimes.push_back(rt->name);
    }
    ExplorationBudget budget{options.explore, rep.policy_usd, explored_usd};
    Placement p = placer.Place(asset, options.policy, r.input_bytes, constraints, budget,
                               /*explain=*/false);
    std::string chosen = p.chosen;
    if (chosen.empty() || !r.outcomes.count(chosen)) {
      chosen = r.outcomes.begin()->first;  // nothing feasible: the first listed runs
    }
    double charged = costs[chosen];
    rep.policy_usd += charged;
    rep.decisions[chosen] += 1;
    if (p.explored) rep.explored += 1, explored_usd += charged;
    // The policy learns only what it ran.
    const TraceOutcome& o = r.outcomes.at(chosen);
    const auto& rt = sim.runtimes.at(chosen);
    Observation obs;
    obs.asset = r.asset;
    obs.runtime = chosen;
    obs.input_bytes = r.input_bytes;
    double overhead = engine.catalog().StartupPriorSeconds(rt.type) +
                      engine.catalog().IdleTailPriorSeconds(rt.type);
    obs.duration_s = std::max(1.0, o.duration_s - overhead);
    obs.cores = shapes.at({r.asset, chosen}).cores;
    engine.Observe(obs);
    ++rep.records;
  }
  for (const auto& [rt, total] : always) {
    rep.always_usd[rt] = present[rt] == rep.records ? std::optional<double>(total) : std::nullopt;
  }
  return rep;
}

}  // namespace arbiter::cost
