// `arbiter runtimes orphans [--terminate] [--runtime NAME]`: EMR clusters Arbiter created
// whose run has ended or is unknown to this project's storage, from every emr runtime of
// the project (or one); --terminate ends them.
#include <CLI/CLI.hpp>

#include "arbiter/cli/command_context.h"
#include "arbiter/cli/run_support.h"
#include "arbiter/cli/text_table.h"
#include "arbiter/common/strings.h"
#include "arbiter/emr/aws_connection.h"
#include "arbiter/emr/orphans.h"

namespace arbiter::cli {

namespace {

struct OrphansArgs {
  bool terminate = false;
  std::string runtime;
};

int RunRuntimesOrphans(CommandContext& ctx, const OrphansArgs& args) {
  auto loaded = ctx.LoadOrReport();
  if (!loaded) return kExitFailure;
  const definitions::Project& p = *loaded->project;
  if (!args.runtime.empty() && !p.runtimes.count(args.runtime)) {
    ctx.err() << "error: unknown runtime " << Quote(args.runtime) << "\n";
    return kExitFailure;
  }
  auto storage = OpenProjectStorage(ctx, p);
  if (!storage) return kExitFailure;
  emr::ConnectOptions connect;
  connect.clock = ctx.env().clock;
  TextTable table({"RUNTIME", "CLUSTER", "STATE", "RUN", "WHY", "ACTION"});
  nlohmann::json rows = nlohmann::json::array();
  std::set<std::string> seen;  // runtimes sharing an endpoint and region are listed once
  int problems = 0, found = 0;
  for (const auto& [name, rt] : p.runtimes) {
    if (rt.type != definitions::RuntimeType::kEmr) continue;
    if (!args.runtime.empty() && name != args.runtime) continue;
    std::string where =
        rt.emr.aws.region + " " + (rt.emr.aws.endpoint ? rt.emr.aws.endpoint->text() : "");
    if (!seen.insert(where).second) continue;
    auto conn = emr::ConnectAws(rt, ctx.env().env, connect);
    Result<std::vector<emr::OrphanCluster>> orphans =
        conn.ok() ? emr::FindOrphanClusters(*(*conn)->api, *storage, p.name)
                  : Result<std::vector<emr::OrphanCluster>>(conn.status());
    if (!orphans.ok()) {
      ctx.err() << "error: runtime " << Quote(name) << ": " << orphans.status().message() << "\n";
      ++problems;
      continue;
    }
    std::string action = args.terminate ? "terminating" : "-";
    if (args.terminate && !orphans->empty()) {
      std::vector<std::string> ids;
      for (const auto& o : *orphans) ids.push_back(o.cluster_id);
      Status s = emr::TerminateClusters(*(*conn)->api, ids);
      if (!s.ok()) {
        ctx.err() << "error: runtime " << Quote(name) << ": " << s.message() << "\n";
        ++problems;
        action = "terminate failed";
      }
    }
    for (const auto& o : *orphans) {
      ++found;
      table.AddRow({name, o.cluster_id, o.state, o.run_id, o.why, action});
      rows.push_back({{"runtime", name},
                      {"cluster_id", o.cluster_id},
                      {"name", o.name},
                      {"state", o.state},
                      {"run_id", o.run_id},
                      {"why", o.why},
                      {"terminated", args.terminate && action == "terminating"}});
    }
  }
  if (ctx.flags().json) {
    ctx.out() << rows.dump(2) << "\n";
  } else if (found == 0) {
    ctx.out() << "no orphaned clusters\n";
  } else {
    table.Print(ctx.out());
    if (!args.terminate) ctx.out() << "terminate them with: arbiter runtimes orphans --terminate\n";
  }
  return problems ? kExitFailure : kExitOk;
}

}  // namespace

std::function<std::optional<int>(CommandContext&)> AddRuntimesCommands(CLI::App& app) {
  auto args = std::make_shared<OrphansArgs>();
  auto* runtimes = app.add_subcommand("runtimes", "Inspect the project's platforms");
  runtimes->require_subcommand(1);
  auto* orphans = runtimes->add_subcommand(
      "orphans", "EMR clusters Arbiter created whose run ended or is unknown here");
  orphans->add_flag("--terminate", args->terminate, "Terminate them");
  orphans->add_option("--runtime", args->runtime, "Only this runtime")->option_text("NAME");
  return [args, orphans](CommandContext& ctx) -> std::optional<int> {
    if (!*orphans) return std::nullopt;
    return RunRuntimesOrphans(ctx, *args);
  };
}

}  // namespace arbiter::cli
