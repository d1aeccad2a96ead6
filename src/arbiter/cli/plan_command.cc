// `arbiter plan [ASSET] [--partition KEY] [--policy P] [--exclude RT]
// [--require-photon] [--max-nodes N]`: the candidate table of a run and the
// choice placement would make, with reasons. Without ASSET, every asset.
#include <cmath>
#include <sstream>

#include "arbiter/cli/command_context.h"
#include "arbiter/common/strings.h"
#include "arbiter/cli/cost_support.h"
#include "arbiter/cli/planning_support.h"
#include "arbiter/cli/run_support.h"
#include "arbiter/cli/text_table.h"
#include "arbiter/planning/storage_planning_state.h"

namespace arbiter::cli {
namespace {

std::string Bytes(double b) {
  std::ostringstream s;
  s.precision(3);
  if (b >= 1e9) s << b / 1e9 << " GB";
  else if (b >= 1e6) s << b / 1e6 << " MB";
  else if (b >= 1e3) s << b / 1e3 << " kB";
  else s << b << " B";
  return s.str();
}

void PrintPlacement(std::ostream& out, const definitions::AssetDef& asset,
                    const std::optional<std::string>& partition, const cost::Placement& p) {
  out << asset.key.str();
  if (partition) out << "  partition " << *partition;
  out << "  policy " << p.policy;
  if (p.inputs.contains("input_bytes") && p.inputs["input_bytes"].is_number()) {
    out << "  input " << Bytes(p.inputs["input_bytes"].get<double>());
  }
  out << "\n";
  TextTable t({"RUNTIME", "CLUSTER", "P50", "P90", "COST", "CALIBRATION", "RUNS", "BASIS", "FEASIBLE"});
  for (const auto& c : p.candidates) {
    std::string cost = cost::FormatUsd(c.expected_usd);
    if (c.spot_interruption_p) {
      std::ostringstream s;
      s.precision(2);
      s << cost << " (spot risk " << *c.spot_interruption_p * 100 << "%)";
      cost = s.str();
    }
    bool ran = c.prediction.p50_s > 0;
    // What observed costs taught: catalog × factor, from this asset's runs
    // there or, before those, the runtime's other assets.
    std::string calib = "-";
    if (c.calibration) {
      std::ostringstream s;
      s.precision(3);
      s << "×" << c.calibration->Factor() << " ±" << std::lround(100 * (std::exp(c.calibration->sd) - 1))
        << "% (";
      if (c.calibration->runs > 0) {
        s << c.calibration->runs << " run(s)";
      } else if (c.calibration->shared_assets > 0) {
        s << "runtime, " << c.calibration->shared_assets << " asset(s)";
      } else {
        s << "catalog";
      }
      s << ")";
      calib = s.str();
    }
    t.AddRow({c.runtime, c.shape.Describe().empty() ? "-" : c.shape.Describe(),
              ran ? cost::FormatSeconds(c.p50_total_s) : "-",
              ran ? cost::FormatSeconds(c.p90_total_s) : "-", ran ? cost : "-", calib,
              std::to_string(c.prediction.observations), ran ? c.prediction.explain : "-",
              c.feasible ? (c.why_not.empty() ? "yes" : "yes; " + c.why_not) : "no: " + c.why_not});
  }
  t.Print(out);
  out << (p.chosen.empty() ? "no choice: " : "choice: " + p.chosen + " — ") << p.reason << "\n";
}

}  // namespace

int RunPlan(CommandContext& ctx, const PlanArgs& args) {
  auto loaded = ctx.LoadOrReport();
  if (!loaded) return kExitFailure;
  const definitions::Project& p = *loaded->project;
  std::vector<const definitions::AssetDef*> assets;
  if (!args.asset.empty()) {
    const definitions::AssetDef* a = ctx.FindAssetOrReport(p, args.asset);
    if (!a) return kExitFailure;
    assets.push_back(a);
  } else {
    for (const auto& [key, a] : p.assets) assets.push_back(&a);
    if (!args.partition.empty()) {
      ctx.err() << "error: --partition needs an ASSET\n";
      return kExitUsage;
    }
  }
  std::optional<definitions::PlacementPolicy> policy;
  if (!args.policy.empty()) {
    auto parsed = ParsePolicyFor(args.policy, p);
    if (!parsed.ok()) {
      ctx.err() << "error: --policy: " << parsed.status().message() << "\n";
      return kExitUsage;
    }
    policy = *parsed;
  }
  planning::PlacementOptions options;
  options.policy = policy;
  options.constraints.excluded_runtimes = args.exclude;
  options.constraints.require_photon = args.require_photon;
  if (args.max_nodes > 0) options.constraints.max_nodes = args.max_nodes;
  options.explore = args.explore;
  for (const std::string& rt : args.exclude) {
    if (!p.runtimes.count(rt)) {
      ctx.err() << "error: --exclude: unknown runtime " << Quote(rt) << "\n";
      return kExitUsage;
    }
  }
  auto storage = OpenProjectStorage(ctx, p);
  if (!storage) return kExitFailure;
  auto engine = OpenCostEngine(ctx, p, storage.get());
  if (!engine) return kExitFailure;
  // The planner materialize uses, asked what it would decide for one run.
  planning::StoragePlanningState state(storage.get(), &p);
  planning::Planner planner = MakePlanner(ctx, p, &state, nullptr);

  nlohmann::json all = nlohmann::json::array();
  bool first = true;
  for (const definitions::AssetDef* a : assets) {
    planning::Preview preview = planner.PreviewPlacement(*a, args.partition, options, *engine);
    if (!preview.errors.empty()) {
      PrintPlanErrors(ctx.err(), preview.errors);
      return kExitFailure;
    }
    const std::optional<std::string>& partition = preview.partition;
    const cost::Placement& placement = preview.placement;
    // Changes the engine detected in this asset's history (and reacted to).
    nlohmann::json changes = nlohmann::json::array();
    for (const cost::ChangeEvent& e : engine->changes()) {
      if (e.asset == a->key.str()) changes.push_back(e.ToJson());
    }
    if (ctx.flags().json) {
      nlohmann::json j = placement.ToJson();
      j["changes"] = changes;
      j["asset"] = a->key.str();
      j["partition"] = partition ? nlohmann::json(*partition) : nlohmann::json(nullptr);
      all.push_back(j);
    } else {
      if (!first) ctx.out() << "\n";
      first = false;
      PrintPlacement(ctx.out(), *a, partition, placement);
      for (const auto& c : changes) ctx.out() << "detected: " << c["message"].get<std::string>() << "\n";
    }
  }
  if (ctx.flags().json) ctx.out() << (args.asset.empty() ? all : all[0]).dump(2) << "\n";
  return kExitOk;
}

}  // namespace arbiter::cli
