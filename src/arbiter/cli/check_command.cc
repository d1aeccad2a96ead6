// `arbiter check [DIR]`: load and validate the project, report every problem.
#include <sstream>

#include "arbiter/cli/command_context.h"
#include "arbiter/cli/cost_support.h"
#include "arbiter/common/strings.h"
#include "arbiter/cost/overrides_check.h"

namespace arbiter::cli {

int RunCheck(CommandContext& ctx, const CheckArgs& args) {
  std::string dir = ctx.ResolveDir(args.dir);
  if (args.dir.empty() && ctx.flags().directory.empty()) {
    Result<std::string> root = definitions::FindProjectRoot(dir);
    if (!root.ok()) {
      ctx.err() << "error: " << root.status().message() << "\n";
      return kExitFailure;
    }
    dir = *root;
  }
  definitions::LoadOptions options;
  options.now = ctx.env().clock->Now();
  options.env = ctx.env().env;
  definitions::LoadResult result = definitions::LoadProject(dir, options);
  if (result.project) {
    // Pricing overrides against the catalog placement will use.
    std::ostringstream quiet;
    CommandContext probe(ctx.flags(), quiet, quiet, ctx.env());
    if (auto catalog = LoadCatalogOrReport(probe, result.project.get())) {
      cost::CheckPricing(*catalog, *result.project, &result.diagnostics);
      result.diagnostics.SortByLocation();
    } else {
      ctx.err() << "note: pricing overrides not checked: " << Trim(quiet.str()) << "\n";
    }
  }
  const Diagnostics& d = result.diagnostics;
  const bool ok = !d.has_errors();
  if (ctx.flags().json) {
    nlohmann::json j = {{"ok", ok},
                        {"directory", dir},
                        {"errors", d.error_count()},
                        {"warnings", d.warning_count()},
                        {"diagnostics", CommandContext::DiagnosticsJson(d)}};
    if (result.project) {
      j["assets"] = result.project->assets.size();
      j["runtimes"] = result.project->runtimes.size();
      j["partitions"] = result.project->partitions.size();
      j["schedules"] = result.project->schedules.size();
    }
    ctx.out() << j.dump(2) << "\n";
    return ok ? kExitOk : kExitFailure;
  }
  ctx.PrintDiagnostics(result);
  auto plural = [](int n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
  };
  if (!ok) {
    ctx.err() << plural(d.error_count(), "error") << ", " << plural(d.warning_count(), "warning")
              << " in " << dir << "\n";
    return kExitFailure;
  }
  const auto& p = *result.project;
  ctx.out() << "ok: " << p.name << ": " << plural(static_cast<int>(p.assets.size()), "asset")
            << ", " << plural(static_cast<int>(p.runtimes.size()), "runtime") << ", "
            << plural(static_cast<int>(p.partitions.size()), "partitions definition") << ", "
            << plural(static_cast<int>(p.schedules.size()), "schedule") << " in "
            << plural(static_cast<int>(p.files.size()), "file");
  if (d.warning_count() > 0) ctx.out() << " (" << plural(d.warning_count(), "warning") << ")";
  ctx.out() << "\n";
  return kExitOk;
}

}  // namespace arbiter::cli
