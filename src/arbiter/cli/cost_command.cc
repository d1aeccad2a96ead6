// `arbiter cost [--by asset|runtime|day|partition] [--since DATE|DURATION]`:
// spend from the cost ledger, grouped, and the savings against running
// everything on each runtime (actual cost where a run used that runtime,
// its predicted counterfactual elsewhere).
#include <date/date.h>

#include <cstdio>
#include <map>
#include <sstream>

#include "arbiter/cli/command_context.h"
#include "arbiter/common/strings.h"
#include "arbiter/cli/run_support.h"
#include "arbiter/cli/text_table.h"
#include "arbiter/common/duration.h"
#include "arbiter/cost/placement.h"

namespace arbiter::cli {
namespace {

struct Group {
  int runs = 0;
  int unknown = 0;  // runs whose cost is not known
  double actual = 0;
  double predicted = 0;
  int predicted_runs = 0;
};

std::string Pct(double v) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(1);
  s << v << "%";
  return s.str();
}

// --since: a date (2026-11-01) or a duration back from now (7d).
std::optional<TimePoint> ParseSince(const std::string& text, TimePoint now) {
  if (auto d = ParseDuration(text); d.ok()) return now - *d;
  int y = 0;
  unsigned m = 0, d = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3) return std::nullopt;
  date::year_month_day ymd{date::year(y), date::month(m), date::day(d)};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::time_point_cast<std::chrono::seconds>(date::sys_days(ymd));
}

}  // namespace

int RunCost(CommandContext& ctx, const CostArgs& args) {
  static const std::vector<std::string> kBy = {"asset", "runtime", "day", "partition"};
  if (std::find(kBy.begin(), kBy.end(), args.by) == kBy.end()) {
    ctx.err() << "error: --by " << Quote(args.by) << ": use asset, runtime, day or partition\n";
    return kExitUsage;
  }
  auto loaded = ctx.LoadOrReport();
  if (!loaded) return kExitFailure;
  const definitions::Project& p = *loaded->project;
  storage::RunHistoryFilter filter;
  if (!args.since.empty()) {
    filter.created_since = ParseSince(args.since, ctx.env().clock->Now());
    if (!filter.created_since) {
      ctx.err() << "error: --since " << Quote(args.since)
                << ": expected a date (2026-11-01) or a duration back from now (7d, 12h)\n";
      return kExitUsage;
    }
  }
  auto storage = OpenProjectStorage(ctx, p);
  if (!storage) return kExitFailure;
  auto history = storage->RunHistory(filter);
  if (!history.ok()) {
    ctx.err() << "error: " << history.status().message() << "\n";
    return kExitFailure;
  }
  std::map<std::string, Group> groups;
  Group total;
  std::map<std::string, double> everything_on;  // runtime -> total if every run had used it
  std::map<std::string, int> not_possible;      // runtime -> runs it could not price
  for (const auto& rt : p.runtimes) everything_on[rt.first] = 0;
  int priced = 0;
  for (const auto& e : *history) {
    if (!e.cost) continue;  // never placed or priced (before the cost engine)
    std::string key = args.by == "asset"     ? e.run.asset_key
                      : args.by == "runtime" ? e.run.runtime
                      : args.by == "day"     ? date::format("%F", e.run.created_at)
                                             : e.run.asset_key + " " + e.run.partition_key.value_or("-");
    for (Group* g : {&groups[key], &total}) {
      g->runs += 1;
      if (e.cost->actual_usd) g->actual += *e.cost->actual_usd;
      else g->unknown += 1;
      // A run that never started (failed before its job ran) was not spent.
      if (e.cost->predicted_usd && e.run.started_at) {
        g->predicted += *e.cost->predicted_usd, g->predicted_runs += 1;
      }
    }
    if (!e.cost->actual_usd) continue;
    ++priced;
    for (auto& [rt, sum] : everything_on) {
      if (rt == e.run.runtime) {
        sum += *e.cost->actual_usd;
        continue;
      }
      const nlohmann::json& cf = e.cost->counterfactuals;
      if (cf.is_object() && cf.contains(rt) && cf[rt].contains("usd") && cf[rt]["usd"].is_number()) {
        sum += cf[rt]["usd"].get<double>();
      } else {
        not_possible[rt] += 1;
      }
    }
  }
  auto savings = [&](const std::string& rt) -> std::optional<double> {
    if (not_possible[rt] > 0 || everything_on[rt] <= 0) return std::nullopt;
    return 100 * (1 - total.actual / everything_on[rt]);
  };
  if (ctx.flags().json) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& [k, g] : groups) {
      rows.push_back({{args.by, k}, {"runs", g.runs}, {"actual_usd", g.actual},
                      {"unknown_runs", g.unknown}, {"predicted_usd", g.predicted}});
    }
    nlohmann::json base = nlohmann::json::object();
    for (const auto& [rt, sum] : everything_on) {
      auto s = savings(rt);
      base[rt] = {{"usd", not_possible[rt] ? nlohmann::json(nullptr) : nlohmann::json(sum)},
                  {"savings_pct", s ? nlohmann::json(*s) : nlohmann::json(nullptr)},
                  {"runs_not_priceable", not_possible[rt]}};
    }
    ctx.out() << nlohmann::json{{"by", args.by},
                                {"groups", rows},
                                {"total_usd", total.actual},
                                {"runs", total.runs},
                                {"unknown_runs", total.unknown},
                                {"everything_on", base}}
                     .dump(2)
              << "\n";
    return kExitOk;
  }
  if (total.runs == 0) {
    ctx.out() << "no priced runs yet" << (args.since.empty() ? "" : " since " + args.since)
              << "; runs are priced when they end (arbiter materialize)\n";
    return kExitOk;
  }
  std::string header = args.by;
  for (auto& ch : header) ch = static_cast<char>(std::toupper(ch));
  TextTable t({header, "RUNS", "SPEND", "PREDICTED", "UNKNOWN"});
  for (const auto& [k, g] : groups) {
    t.AddRow({k, std::to_string(g.runs), cost::FormatUsd(g.actual),
              g.predicted_runs ? cost::FormatUsd(g.predicted) : "-", std::to_string(g.unknown)});
  }
  t.AddRow({"total", std::to_string(total.runs), cost::FormatUsd(total.actual),
            total.predicted_runs ? cost::FormatUsd(total.predicted) : "-",
            std::to_string(total.unknown)});
  t.Print(ctx.out());
  ctx.out() << "\nagainst running all " << priced << " priced run(s) on one runtime:\n";
  TextTable b({"EVERYTHING ON", "WOULD COST", "SAVED"});
  for (const auto& [rt, sum] : everything_on) {
    auto s = savings(rt);
    b.AddRow({rt,
              not_possible[rt] ? "n/a (" + std::to_string(not_possible[rt]) + " run(s) cannot use it)"
                               : cost::FormatUsd(sum),
              s ? Pct(*s) : "-"});
  }
  b.Print(ctx.out());
  if (total.unknown > 0) {
    ctx.out() << total.unknown << " run(s) have no known cost (a price or their usage is missing); "
              << "they are left out, not counted as zero\n";
  }
  return kExitOk;
}

}  // namespace arbiter::cli
