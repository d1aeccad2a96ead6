#include "arbiter/cli/cost_support.h"

#include "arbiter/common/duration.h"
#include "arbiter/common/strings.h"
#include "arbiter/cost/ledger.h"

namespace arbiter::cli {

std::optional<cost::PriceCatalog> LoadCatalogOrReport(CommandContext& ctx,
                                                      const definitions::Project* project) {
  std::string env_path;
  if (ctx.env().env.get_env) env_path = ctx.env().env.get_env("ARBITER_CATALOG").value_or("");
  Result<cost::PriceCatalog> c = cost::LocateAndLoadCatalog(
      ctx.flags().catalog.empty() ? "" : ctx.ResolveDir(ctx.flags().catalog), env_path,
      project ? project->root : "", ctx.env().self_exe);
  if (!c.ok()) {
    ctx.err() << "error: " << c.status().message() << "\n";
    return std::nullopt;
  }
  return std::move(c).value();
}

std::unique_ptr<cost::Engine> OpenCostEngine(CommandContext& ctx,
                                             const definitions::Project& project,
                                             storage::Storage* storage) {
  auto catalog = LoadCatalogOrReport(ctx, &project);
  if (!catalog) return nullptr;
  auto engine = std::make_unique<cost::Engine>(&project, *catalog);
  if (storage) {
    Status s = engine->Learn(*storage);
    if (!s.ok()) {
      ctx.err() << "error: cannot read run history: " << s.message() << "\n";
      return nullptr;
    }
  }
  return engine;
}

void AttachLedger(CommandContext& ctx, runs::RunExecutor& executor, const cost::Engine* engine,
                  storage::Storage* storage) {
  if (!engine) return;
  const Clock* clock = ctx.env().clock;
  std::ostream* err = &ctx.err();
  auto mu = std::make_shared<std::mutex>();
  executor.SetOnRunEnd([engine, storage, clock, err, mu](const storage::RunRecord& final,
                                                         const runs::RunResult& result) {
    // Runs end on executor threads; the engine is shared read-only, writes are serialized.
    std::lock_guard lock(*mu);
    Status s = cost::RecordRunEnd(*engine, *storage, final, result, clock->Now());
    if (!s.ok()) *err << "warning: cost of run " << final.run_id << " not recorded: " << s.message() << "\n";
  });
}

Result<definitions::PlacementPolicy> ParsePolicy(const std::string& text) {
  definitions::PlacementPolicy p;
  std::string t(Trim(text));
  auto colon = t.find(':');
  std::string kind(Trim(t.substr(0, colon)));
  std::string arg = colon == std::string::npos ? "" : std::string(Trim(t.substr(colon + 1)));
  if (kind == "cheapest" && arg.empty()) {
    p.kind = definitions::PlacementPolicy::Kind::kCheapest;
  } else if (kind == "fastest" && arg.empty()) {
    p.kind = definitions::PlacementPolicy::Kind::kFastest;
  } else if (kind == "fixed" && !arg.empty()) {
    p.kind = definitions::PlacementPolicy::Kind::kFixed;
    p.runtime = arg;
  } else if (kind == "cheapest_within" && !arg.empty()) {
    ARBITER_ASSIGN_OR_RETURN(p.deadline, ParseDuration(arg));
    p.kind = definitions::PlacementPolicy::Kind::kCheapestWithin;
  } else {
    return InvalidArgumentError("unknown policy " + Quote(text) +
                                ": use cheapest, fastest, fixed:RUNTIME or cheapest_within:DURATION "
                                "(e.g. cheapest_within:4h)");
  }
  return p;
}

Result<definitions::PlacementPolicy> ParsePolicyFor(const std::string& text,
                                                    const definitions::Project& project) {
  ARBITER_ASSIGN_OR_RETURN(definitions::PlacementPolicy p, ParsePolicy(text));
  if (p.kind == definitions::PlacementPolicy::Kind::kFixed && !project.runtimes.count(p.runtime)) {
    std::string names;
    for (const auto& [name, rt] : project.runtimes) names += (names.empty() ? "" : ", ") + name;
    return InvalidArgumentError("unknown runtime " + Quote(p.runtime) + " in " + Quote(text) +
                                "; the project's runtimes are: " +
                                (names.empty() ? "(none)" : names));
  }
  return p;
}

}  // namespace arbiter::cli
