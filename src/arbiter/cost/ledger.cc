#include "arbiter/cost/ledger.h"

namespace arbiter::cost {

Status RecordPlacement(storage::Storage& storage, const storage::RunRecord& run,
                       const Placement& placement, TimePoint now) {
  storage::PlacementDecision d;
  d.run_id = run.run_id;
  d.decided_at = now;
  d.policy = placement.policy + (placement.explored ? " (exploring)" : "");
  d.chosen_runtime = run.runtime;
  d.candidates = placement.ToJson();
  ARBITER_RETURN_IF_ERROR(storage.PutPlacementDecision(d));
  storage::CostRecord c;
  c.run_id = run.run_id;
  c.runtime = run.runtime;
  for (const Candidate& cand : placement.candidates) {
    if (cand.runtime == run.runtime) c.predicted_usd = cand.expected_usd;
  }
  c.recorded_at = now;
  return storage.PutCostRecord(c);
}

CostEstimate ActualCost(const Engine& engine, const storage::RunRecord& run,
                        const std::optional<runs::ResourceUsage>& usage) {
  auto rt = engine.project().runtimes.find(run.runtime);
  const definitions::RuntimeConfig* config =
      rt == engine.project().runtimes.end() ? nullptr : &rt->second;
  if (usage) return PriceUsage(engine.catalog(), config, *usage);
  if (config && config->type == definitions::RuntimeType::kLocal && run.started_at && run.ended_at) {
    return PriceLocalRun(*config,
                         std::chrono::duration<double>(*run.ended_at - *run.started_at).count());
  }
  CostEstimate unknown;
  unknown.unknown.push_back("usage of run " + run.run_id + " (its runtime reported none)");
  return unknown;
}

Status RecordRunEnd(const Engine& engine, storage::Storage& storage, const storage::RunRecord& run,
                    const runs::RunResult& result, TimePoint now) {
  ARBITER_ASSIGN_OR_RETURN(std::optional<storage::CostRecord> existing,
                           storage.GetCostRecord(run.run_id));
  storage::CostRecord c = existing.value_or(storage::CostRecord{});
  c.run_id = run.run_id;
  c.runtime = run.runtime;
  c.recorded_at = now;
  std::optional<runs::ResourceUsage> usage = result.usage;
  if (!usage && c.usage.is_object() && c.usage.contains("runtime_type")) {
    if (auto u = runs::UsageFromJson(c.usage); u.ok()) usage = *u;
  }
  CostEstimate actual = ActualCost(engine, run, usage);
  c.actual_usd = actual.usd;
  if (!usage && run.started_at && run.ended_at) {
    // Keep what a local run used, in the same shape remote runtimes report.
    runs::ResourceUsage local;
    local.runtime_type = "local";
    local.nodes.push_back({"local", "", 1, "ON_DEMAND",
                           std::chrono::duration<double>(*run.ended_at - *run.started_at).count() / 3600});
    c.usage = runs::UsageToJson(local);
  }
  // What the same run would have cost elsewhere, at this run's input size.
  const definitions::AssetDef* asset = engine.project().FindAsset(run.asset_key);
  c.counterfactuals = nlohmann::json::object();
  if (asset) {
    std::optional<double> input_bytes;
    if (auto m = storage.MaterializationHistory(run.asset_key, run.partition_key, 1);
        m.ok() && !m->empty() && m->front().run_id == run.run_id) {
      input_bytes = InputBytesOf(m->front().metadata);
    }
    for (const auto* rt : AllowedRuntimes(engine.project(), *asset)) {
      if (rt->name == run.runtime) continue;
      Candidate cand = engine.placer().Evaluate(*asset, *rt, input_bytes, {});
      nlohmann::json j = {{"usd", cand.expected_usd ? nlohmann::json(*cand.expected_usd)
                                                    : nlohmann::json(nullptr)},
                          {"p50_s", cand.p50_total_s},
                          {"basis", cand.prediction.basis}};
      if (!cand.expected_usd && !cand.why_not.empty()) j["why_unknown"] = cand.why_not;
      // E.g. a command job elsewhere: a price, but not a run that could have happened.
      if (!cand.feasible) j["infeasible"] = cand.why_not;
      c.counterfactuals[rt->name] = j;
    }
  }
  c.counterfactuals["_actual"] = actual.ToJson();
  return storage.PutCostRecord(c);
}

}  // namespace arbiter::cost
