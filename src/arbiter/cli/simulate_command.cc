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
  auto policy = ParsePolicy(args.policy);
  if (!policy.ok()) {
    ctx.err() << "error: --policy: " << policy.status().message() << "\n";
    return kExitUsage;
  }
  if (args.explore < 0 || args.explore >= 1) {
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
  options.explore = args.explore;
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
            << r.policy << (args.explore > 0 ? " (exploration " + Pct(100 * args.explore) + ")" : "")
            << "\n";
  TextTable t({"STRATEGY", "TOTAL", "POLICY SAVES"});
  t.AddRow({"policy " + r.policy, cost::FormatUsd(r.policy_usd), "-"});
  t.AddRow({"oracle (cheapest per run)", cost::FormatUsd(r.oracle_usd),
            Pct(r.oracle_usd > 0 ? 100 * (1 - r.policy_usd / r.oracle_usd) : 0)});
  for (const auto& [rt, usd] : r.always_usd) {
    t.AddRow({"always " + rt, usd ? cost::FormatUsd(*usd) : "n/a (not in every record)",
              usd && *usd > 0 ? Pct(100 * (1 - r.policy_usd / *usd)) : "-"});
  }
  t.Print(ctx.out());
  ctx.out() << "regret against the oracle: " << Pct(r.regret_pct()) << "\n";
  ctx.out() << "decisions:";
  for (const auto& [rt, n] : r.decisions) ctx.out() << " " << rt << " " << n;
  if (r.explored > 0) ctx.out() << " (" << r.explored << " exploring)";
  ctx.out() << "\n";
  return kExitOk;
}

}  // namespace arbiter::cli
