// What every subcommand gets: the global flags, the output streams and the
// environment, plus helpers to load the project and report its diagnostics
// the same way everywhere. Not thread-safe; one per invocation.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "arbiter/cli/cli.h"
#include "arbiter/definitions/project_loader.h"

namespace CLI {
class App;
}

namespace arbiter::cli {

struct GlobalFlags {
  std::string directory;  // -C DIR
  bool json = false;      // --json
  std::string storage;    // --storage URL (overrides the project file)
  std::string catalog;    // --catalog FILE (the price catalog)
};

class CommandContext {
 public:
  CommandContext(const GlobalFlags& flags, std::ostream& out, std::ostream& err, const CliEnv& env)
      : flags_(flags), out_(out), err_(err), env_(env) {}

  const GlobalFlags& flags() const { return flags_; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  const CliEnv& env() const { return env_; }

  // Directory given by -C (or an explicit argument), resolved against cwd.
  std::string ResolveDir(const std::string& dir) const;

  // Finds and loads the project (from -C or by walking up from cwd). On errors
  // prints every diagnostic and returns nullptr; warnings are summarised.
  std::unique_ptr<definitions::LoadResult> LoadOrReport();

  // The asset named `key`; otherwise prints "unknown asset" with a did-you-mean
  // and returns nullptr.
  const definitions::AssetDef* FindAssetOrReport(const definitions::Project& project,
                                                 const std::string& key);
  // Prints diagnostics to err() in compiler style with source excerpts.
  void PrintDiagnostics(const definitions::LoadResult& result);
  static nlohmann::json DiagnosticsJson(const Diagnostics& diags);

 private:
  const GlobalFlags& flags_;
  std::ostream& out_;
  std::ostream& err_;
  const CliEnv& env_;
};

// Subcommands. Each returns an exit code.
struct CheckArgs {
  std::string dir;
};
int RunCheck(CommandContext& ctx, const CheckArgs& args);
int RunAssets(CommandContext& ctx);
struct PartitionsArgs {
  std::string asset;
  std::string from, to;
  int64_t limit = 100;  // 0 = all
};
int RunPartitions(CommandContext& ctx, const PartitionsArgs& args);
struct MaterializeArgs {
  std::string asset;
  std::vector<std::string> partitions;
  std::string from, to;
  bool all_missing = false;
  std::string runtime;  // empty or "auto": the asset's placement
  int concurrency = 0;  // 0: the runtime's max_concurrency, else 1
  double explore = -1;  // exploration budget (fraction of spend), 0 = off, < 0: the project's
  bool detach = false;
  // With a service serving the storage, runs go to its queue: --wait follows
  // them to the end; --local runs them in this process anyway.
  bool wait = false;
  bool local = false;
};
int RunMaterialize(CommandContext& ctx, const MaterializeArgs& args);

struct RunsArgs {
  std::string asset;
  std::string status;
  int limit = 20;
};
int RunRuns(CommandContext& ctx, const RunsArgs& args);

struct LogsArgs {
  std::string run_id;
  bool follow = false;
};
int RunLogs(CommandContext& ctx, const LogsArgs& args);

struct CancelArgs {
  std::string run_id;
  int wait_seconds = 30;
};
int RunCancel(CommandContext& ctx, const CancelArgs& args);

struct MaterializationsArgs {
  std::string asset;
  std::vector<std::string> partitions;
  int limit = 20;
};
int RunMaterializations(CommandContext& ctx, const MaterializationsArgs& args);

// Hidden: the background executor behind --detach and run recovery.
struct ExecuteArgs {
  std::vector<std::string> run_ids;
  bool recover = false;
  int concurrency = 1;
};
int RunExecute(CommandContext& ctx, const ExecuteArgs& args);

struct PlanArgs {
  std::string asset;  // empty: every asset
  std::string partition;
  std::string policy;  // empty: the asset's placement
  std::vector<std::string> exclude;
  bool require_photon = false;
  int max_nodes = 0;
  double explore = -1;  // < 0: the project's placement.explore_budget
};
int RunPlan(CommandContext& ctx, const PlanArgs& args);

struct CostArgs {
  std::string by = "asset";
  std::string since;
};
int RunCost(CommandContext& ctx, const CostArgs& args);

struct SimulateArgs {
  std::string trace;
  std::string policy = "cheapest";
  double explore = -1;  // < 0: the project's placement.explore_budget
  int64_t seed = -1;    // < 0: the project's placement.seed
  bool choices = false;  // --json lists every decision
  bool no_baseline = false;  // skip the catalog-only replay
};
int RunSimulate(CommandContext& ctx, const SimulateArgs& args);
// `runtimes orphans` (runtimes_command.cc): registers the commands; the returned function
// runs the chosen one after parsing, or returns nullopt when none of them was chosen.
std::function<std::optional<int>(CommandContext&)> AddRuntimesCommands(CLI::App& app);
// `serve`, `schedules`, `backfill`, `backfills` (service_commands.cc), the same way.
std::function<std::optional<int>(CommandContext&)> AddServiceCommands(CLI::App& app);

struct InitArgs {
  std::string dir;
};
int RunInit(CommandContext& ctx, const InitArgs& args);

}  // namespace arbiter::cli
