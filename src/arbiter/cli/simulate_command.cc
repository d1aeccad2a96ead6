// `arbiter simulate --trace FILE [--policy P] [--explore F]`: replays a trace
// of runs with known outcomes on every runtime and reports what the policy
// would have spent against the oracle and against "always runtime X".
#include <fstream>
#include <sstream>

#include "arbiter/cli/command_context.h"
#include "arbiter/common/strings.h"
#include "arbiter/cli/cost_support.h"
#include "arbiter/cli/text_table.h"
#include "arbiter/cost/placement.h"
#include "arbiter/cost/simulator.h"

namespace arbiter::cli {
namespace {

std::string Pct(double v) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(2);
  s << v << "%";
  return s.str();
}

}  // namespace

int RunSimulate(CommandContext& ctx, const SimulateArgs& args) {
  auto loaded = ctx.LoadOrReport();
  if (!loaded) return kExitFailure;
  const definitions::Project& p = *loaded->project;
  auto policy = ParsePolicyFor(args.policy, p);
  if (!policy.ok()) {
    ctx.err() << "error: --policy: " << policy.status().message() << "\n";
    return kExitUsage;
  }
  const double explore = args.explore == -1 ? p.placement.explore_budget : args.explore;
  if (explore < 0 || explore >= 1) {
    ctx.err() << "error: --explore is a fraction of spend, 0 <= F < 1 (e.g. 0.05)\n";
    return kExitUsage;
  }
  std::string path = ctx.ResolveDir(args.trace);
  std::ifstream in(path);
  if (!in) {
    ctx.err() << "error: cannot read trace " << path << "\n";
    return kExitFailure;
  }
  auto trace = cost::ParseTrace(in, args.trace);
  if (!trace.ok()) {
    ctx.err() << "error: " << trace.status().message() << "\n";
    return kExitFailure;
  }
  auto catalog = LoadCatalogOrReport(ctx, &p);
  if (!catalog) return kExitFailure;
  cost::SimulationOptions options;
  options.policy = *policy;
  options.explore = explore;
  options.seed = args.seed >= 0 ? static_cast<uint64_t>(args.seed) : p.placement.seed;
  options.choices = args.choices;
  options.baseline = !args.no_baseline;
  auto report = cost::Simulate(p, *catalog, *trace, options);
  if (!report.ok()) {
    ctx.err() << "error: " << report.status().message() << "\n";
    return kExitFailure;
  }
  if (ctx.flags().json) {
    ctx.out() << report->ToJson().dump(2) << "\n";
    return kExitOk;
  }
  const cost::SimulationReport& r = *report;
  ctx.out() << "simulated " << r.records << " run(s) of " << args.trace << " with policy "
            << r.policy << (explore > 0 ? " (exploration budget " + Pct(100 * explore) + ")" : " (no exploration)")
            << "\n";
  TextTable t({"STRATEGY", "TOTAL", "POLICY SAVES"});
  auto saves = [&](std::optional<double> usd) {
    return usd && *usd > 0 ? Pct(100 * (1 - r.policy_usd / *usd)) : std::string("-");
  };
  t.AddRow({"policy " + r.policy, cost::FormatUsd(r.policy_usd), "-"});
  t.AddRow({"oracle (cheapest per run)", cost::FormatUsd(r.oracle_usd), saves(r.oracle_usd)});
  if (r.deadline_oracle_usd) {
    t.AddRow({"oracle meeting the deadline", cost::FormatUsd(*r.deadline_oracle_usd),
              saves(r.deadline_oracle_usd)});
  }
  if (r.catalog_only_usd) {
    t.AddRow({"catalog prices only, no exploration", cost::FormatUsd(*r.catalog_only_usd),
              saves(r.catalog_only_usd)});
  }
  t.AddRow({"each asset on its best single runtime", cost::FormatUsd(r.per_asset_best_usd),
            saves(r.per_asset_best_usd)});
  for (const auto& [rt, usd] : r.always_usd) {
    t.AddRow({"always " + rt, usd ? cost::FormatUsd(*usd) : "n/a (not in every record)", saves(usd)});
  }
  t.Print(ctx.out());
  ctx.out() << "regret against the oracle: " << Pct(r.regret_pct()) << "\n";
  if (auto best = r.BestSingleAfter10(); best && r.after10_records > 0) {
    ctx.out() << "once each asset had 10 runs (" << r.after10_records << " runs): policy "
              << cost::FormatUsd(r.after10_policy_usd) << ", best single runtime " << best->first
              << " " << cost::FormatUsd(best->second) << " ("
              << Pct(100 * (r.after10_policy_usd / best->second - 1)) << ")\n";
  }
  if (r.deadline_met) {
    ctx.out() << "deadline met: " << *r.deadline_met << " of " << r.records << " run(s) ("
              << Pct(r.records ? 100.0 * *r.deadline_met / r.records : 0) << ")\n";
  }
  ctx.out() << "exploration: " << r.explored << " run(s), predicted extra "
            << cost::FormatUsd(r.explore_extra_predicted_usd) << ", actual extra "
            << cost::FormatUsd(r.explore_extra_actual_usd) << "\n";
  if (r.cost_error_median) {
    ctx.out() << "prediction error after a pair's 5th run (median, " << r.error_samples
              << " runs): cost " << Pct(100 * *r.cost_error_median) << ", duration "
              << Pct(100 * r.duration_error_median.value_or(0)) << "\n";
  }
  ctx.out() << "decisions:";
  for (const auto& [rt, n] : r.decisions) ctx.out() << " " << rt << " " << n;
  ctx.out() << "\n";
  TextTable per({"ASSET", "DECISIONS"});
  for (const auto& [asset, by_rt] : r.asset_decisions) {
    std::string d;
    for (const auto& [rt, n] : by_rt) d += (d.empty() ? "" : ", ") + rt + " " + std::to_string(n);
    per.AddRow({asset, d});
  }
  per.Print(ctx.out());
  ctx.out() << "detected changes: " << r.changes.size() << "\n";
  for (const auto& c : r.changes) ctx.out() << "  " << c["message"].get<std::string>() << "\n";
  return kExitOk;
}

}  // namespace arbiter::cli
