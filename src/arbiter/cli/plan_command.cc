// `arbiter plan [ASSET] [--partition KEY] [--policy P] [--exclude RT]
// [--require-photon] [--max-nodes N]`: the candidate table of a run and the
// choice placement would make, with reasons. Without ASSET, every asset.
#include <cmath>
#include <sstream>

#include "arbiter/cli/command_context.h"
#include "arbiter/common/strings.h"
#include "arbiter/cli/cost_support.h"
#include "arbiter/cli/run_support.h"
#include "arbiter/cli/text_table.h"

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
  cost::PlacementConstraints constraints;
  constraints.excluded_runtimes = args.exclude;
  constraints.require_photon = args.require_photon;
  if (args.max_nodes > 0) constraints.max_nodes = args.max_nodes;
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

  nlohmann::json all = nlohmann::json::array();
  bool first = true;
  for (const definitions::AssetDef* a : assets) {
    std::optional<std::string> partition;
    std::optional<double> input_bytes;
    if (!args.partition.empty()) {
      const definitions::PartitionsDef* def = p.PartitionsOf(*a);
      if (!def || !def->IndexOf(args.partition)) {
        ctx.err() << "error: " << Quote(args.partition) << " is not a partition of "
                  << Quote(a->key.str()) << "\n";
        return kExitFailure;
      }
      partition = args.partition;
      // The partition's last reported input size, when it ran before.
      if (auto m = storage->LatestMaterialization(a->key.str(), partition); m.ok() && *m) {
        input_bytes = cost::InputBytesOf((*m)->metadata);
      }
    }
    double explore = args.explore >= 0 ? args.explore : p.placement.explore_budget;
    // As materialize does: a runtime that cannot authenticate here is shown infeasible.
    cost::PlacementConstraints asset_constraints = constraints;
    asset_constraints.unavailable = UnavailableRuntimes(ctx, p, *a);
    cost::Placement placement =
        engine->placer().Place(*a, policy.value_or(a->placement), input_bytes, asset_constraints,
                               engine->Budget(explore, a->key.str(), p.placement.seed));
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
