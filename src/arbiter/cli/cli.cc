#include "arbiter/cli/cli.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>

#include "arbiter/cli/command_context.h"
#include "arbiter/cli/json_errors.h"

#ifndef ARBITER_VERSION
#define ARBITER_VERSION "0.0.0"
#endif

namespace arbiter::cli {
namespace {

// A whole number of at least `min`, saying so when it is not (CLI11's
// PositiveNumber prints its whole range: 300 digits).
CLI::Validator AtLeast(long long min) {
  return CLI::Validator(
      [min](std::string& value) -> std::string {
        try {
          size_t end = 0;
          long long v = std::stoll(value, &end);
          if (end == value.size() && v >= min) return "";
        } catch (const std::exception&) {
        }
        return "must be a whole number of at least " + std::to_string(min) + ", not '" + value +
               "'";
      },
      "", "AtLeast");
}

int RunCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
               const CliEnv& env);

}  // namespace

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
           const CliEnv& env) {
  // Before parsing: a bad command line with --json gets a JSON error too.
  if (std::find(args.begin(), args.end(), "--json") == args.end()) {
    return RunCommand(args, out, err, env);
  }
  JsonErrorStream json_err(err);
  int code = RunCommand(args, out, json_err, env);
  return json_err.Finish(code);
}

namespace {

int RunCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
               const CliEnv& env) {
  CLI::App app{
      "Arbiter runs partitioned data pipelines on the cheapest platform for each run\n"
      "(Databricks, EMR, EMR Serverless or this machine), from one definition in git.",
      "arbiter"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags may follow the subcommand
  app.footer(
      "Exit codes: 0 success, 1 errors in the project or the operation, 2 bad command line.\n"
      "Docs: docs/project-file.md (the project file), README.md (getting started).");
  GlobalFlags flags;
  app.add_option("-C", flags.directory, "Run as if started in DIR (like git -C)")
      ->option_text("DIR");
  app.add_flag("--json", flags.json, "Machine-readable JSON output");
  app.add_option("--storage", flags.storage,
                 "Storage URL (sqlite:PATH); overrides the project file's `storage`")
      ->option_text("URL");
  app.add_option("--catalog", flags.catalog,
                 "Price catalog (JSON); default: $ARBITER_CATALOG, <project>/price-catalog.json, "
                 "then the one shipped with arbiter")
      ->option_text("FILE");
  app.set_version_flag("--version", "arbiter " ARBITER_VERSION);

  CheckArgs check;
  auto* check_cmd = app.add_subcommand(
      "check", "Validate the project and report every problem as file:line:column");
  check_cmd->add_option("DIR", check.dir, "Project directory (default: found from the cwd)");

  app.add_subcommand("assets", "List assets in dependency order with partitions and runtimes");

  PartitionsArgs parts;
  auto* parts_cmd =
      app.add_subcommand("partitions", "List an asset's partition keys (or a range of them)");
  parts_cmd->add_option("ASSET", parts.asset, "Asset key, e.g. commoncrawl/edges")->required();
  parts_cmd->add_option("--from", parts.from, "First key of the range (inclusive)")
      ->option_text("KEY");
  parts_cmd->add_option("--to", parts.to, "Last key of the range (inclusive)")->option_text("KEY");
  parts_cmd->add_option("--limit", parts.limit, "Print at most N keys; 0 prints all")
      ->option_text("N")
      ->check(AtLeast(0))
      ->default_str("100");

  MaterializeArgs mat;
  auto* mat_cmd = app.add_subcommand(
      "materialize", "Run an asset for some partitions (several = a backfill), with live progress");
  mat_cmd->add_option("ASSET", mat.asset, "Asset key, e.g. commoncrawl/nodes")->required();
  mat_cmd->add_option("--partition,-p", mat.partitions, "Partition key (repeatable)")
      ->option_text("KEY")
      ->take_last()
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  mat_cmd->add_option("--from", mat.from, "First partition of a range (inclusive)")
      ->option_text("KEY");
  mat_cmd->add_option("--to", mat.to, "Last partition of a range (inclusive)")->option_text("KEY");
  mat_cmd->add_flag("--all-missing", mat.all_missing,
                    "Every partition not materialized yet (within --from/--to if given)");
  mat_cmd
      ->add_option("--runtime", mat.runtime,
                   "Runtime to use; 'auto' (the default) lets the asset's placement choose")
      ->option_text("NAME|auto");
  mat_cmd
      ->add_option("--explore", mat.explore,
                   "Let placement try runtimes that might be cheaper, their predicted extra "
                   "at most this fraction of total spend (default: the project's "
                   "placement.explore_budget, else 0.05; 0: off)")
      ->option_text("F")
      ->check(CLI::Range(0.0, 0.99));
  mat_cmd
      ->add_option("--concurrency,-j", mat.concurrency,
                   "Runs at once (default: the runtime's max_concurrency, else 1)")
      ->option_text("N")
      ->check(AtLeast(1));
  mat_cmd->add_flag("--detach", mat.detach,
                    "Queue the runs, hand them to a background arbiter and return");
  mat_cmd->add_flag("--wait", mat.wait,
                    "When `arbiter serve` serves the storage: follow the queued runs to their end");
  mat_cmd->add_flag("--local", mat.local,
                    "Run in this process even when `arbiter serve` serves the storage");
  mat_cmd->footer(
      "Exit code 0 when every run succeeded, 1 otherwise. Ctrl-C cancels the runs this\n"
      "command started (SIGTERM to each job, SIGKILL after a grace period).\n"
      "When `arbiter serve` serves the project's storage, the runs go to its queue and the\n"
      "command returns (--wait follows them; --local runs them here as without a service).");

  RunsArgs runs_args;
  auto* runs_cmd = app.add_subcommand("runs", "List runs, newest first");
  runs_cmd->add_option("--asset", runs_args.asset, "Only runs of this asset")->option_text("KEY");
  runs_cmd
      ->add_option("--status", runs_args.status,
                   "Only runs in this status (queued, running, success, failure, ...)")
      ->option_text("STATUS");
  runs_cmd->add_option("--limit", runs_args.limit, "At most N runs")
      ->option_text("N")
      ->check(AtLeast(1))
      ->default_str("20");

  LogsArgs logs;
  auto* logs_cmd = app.add_subcommand("logs", "Print a run's events: logs, output, metadata");
  logs_cmd->add_option("RUN_ID", logs.run_id, "Run id (from 'arbiter runs')")->required();
  logs_cmd->add_flag("-f,--follow", logs.follow, "Keep printing new events until the run ends");

  MaterializationsArgs mats;
  auto* mats_cmd = app.add_subcommand(
      "materializations", "The latest materialization of each partition, with its metadata");
  mats_cmd->add_option("ASSET", mats.asset, "Asset key")->required();
  mats_cmd->add_option("--partition,-p", mats.partitions, "Only this partition (repeatable)")
      ->option_text("KEY");
  mats_cmd->add_option("--limit", mats.limit, "At most N partitions")
      ->option_text("N")
      ->check(AtLeast(1))
      ->default_str("20");

  CancelArgs cancel;
  auto* cancel_cmd =
      app.add_subcommand("cancel", "Cancel a run (also one started from another terminal)");
  cancel_cmd->add_option("RUN_ID", cancel.run_id, "Run id")->required();
  cancel_cmd->add_option("--wait", cancel.wait_seconds, "Wait up to N seconds for it to stop")
      ->option_text("N")
      ->check(AtLeast(0))
      ->default_str("30");

  ExecuteArgs exec;
  auto* exec_cmd = app.add_subcommand("__execute", "");  // hidden: background executor
  exec_cmd->group("");
  exec_cmd->add_option("RUN_ID", exec.run_ids);
  exec_cmd->add_flag("--recover", exec.recover);
  exec_cmd->add_option("--concurrency", exec.concurrency);

  PlanArgs plan;
  auto* plan_cmd = app.add_subcommand(
      "plan", "Show where a run would go: every candidate runtime, its predicted time and cost");
  plan_cmd->add_option("ASSET", plan.asset, "Asset key (default: every asset)");
  plan_cmd->add_option("--partition,-p", plan.partition, "Plan this partition (its input size)")
      ->option_text("KEY");
  plan_cmd
      ->add_option("--policy", plan.policy,
                   "Override the asset's placement: cheapest, fastest, fixed:RUNTIME, "
                   "cheapest_within:DURATION")
      ->option_text("P");
  plan_cmd->add_option("--exclude", plan.exclude, "Never use this runtime (repeatable)")
      ->option_text("RUNTIME");
  plan_cmd->add_flag("--require-photon", plan.require_photon, "Only Databricks with Photon");
  plan_cmd->add_option("--max-nodes", plan.max_nodes, "Largest cluster allowed (all nodes)")
      ->option_text("N")
      ->check(AtLeast(1));
  plan_cmd->add_option("--explore", plan.explore,
                       "Exploration budget, as for materialize (0: show the greedy choice)")
      ->option_text("F")
      ->check(CLI::Range(0.0, 0.99));
  plan_cmd->footer("Prices: the catalog (--catalog) with the project's pricing overrides.\n"
                   "Predictions: learned from this project's runs; docs/cost.md explains both.");

  CostArgs cost_args;
  auto* cost_cmd = app.add_subcommand(
      "cost", "Spend from the cost ledger, and the savings against one runtime for everything");
  cost_cmd->add_option("--by", cost_args.by, "Group by asset, runtime, day or partition")
      ->option_text("KEY")
      ->default_str("asset");
  cost_cmd->add_option("--since", cost_args.since, "Only runs created since a date or duration ago")
      ->option_text("DATE|DURATION");

  SimulateArgs sim;
  auto* sim_cmd = app.add_subcommand(
      "simulate", "Replay a trace of runs and compare a placement policy with the oracle");
  sim_cmd->add_option("--trace", sim.trace, "JSON Lines trace (format: docs/cost.md)")
      ->option_text("FILE")
      ->required();
  sim_cmd->add_option("--policy", sim.policy, "cheapest, fastest, fixed:RUNTIME, cheapest_within:D")
      ->option_text("P")
      ->default_str("cheapest");
  sim_cmd->add_option("--explore", sim.explore,
                      "Exploration budget (fraction of spend; default: the project's "
                      "placement.explore_budget, else 0.05; 0: off)")
      ->option_text("F");
  sim_cmd->add_option("--seed", sim.seed, "Seed of the posterior draws (default: placement.seed, else 0)")
      ->option_text("N")
      ->check(CLI::NonNegativeNumber);
  sim_cmd->add_flag("--choices", sim.choices, "With --json: every decision, in trace order");
  sim_cmd->add_flag("--no-baseline", sim.no_baseline,
                    "Skip replaying the list-price, no-exploration policy (faster)");
  auto runtimes = AddRuntimesCommands(app);
  auto service_commands = AddServiceCommands(app);

  InitArgs init;
  auto* init_cmd = app.add_subcommand("init", "Create a new project with a working example");
  init_cmd->add_option("DIR", init.dir, "Directory to create the project in")->required();

  // CLI11 wants argv with a program name first and parses in reverse order.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::CallForVersion&) {
    out << app.version() << "\n";
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    // A subcommand's own --help arrives as CallForHelp above; everything else
    // is a usage error.
    err << "error: " << e.what() << "\n";
    err << "  hint: run 'arbiter --help' for usage\n";
    return kExitUsage;
  }

  if (!flags.directory.empty()) {
    std::error_code ec;
    std::filesystem::path base =
        env.cwd.empty() ? std::filesystem::current_path(ec) : std::filesystem::path(env.cwd);
    std::filesystem::path dir = base / flags.directory;
    if (!std::filesystem::is_directory(dir, ec)) {
      err << "error: -C " << flags.directory << ": "
          << (std::filesystem::exists(dir, ec) ? "not a directory" : "no such directory") << "\n";
      return kExitUsage;
    }
  }
  CommandContext ctx(flags, out, err, env);
  if (*check_cmd) return RunCheck(ctx, check);
  if (app.got_subcommand("assets")) return RunAssets(ctx);
  if (*parts_cmd) return RunPartitions(ctx, parts);
  if (*init_cmd) return RunInit(ctx, init);
  if (*mat_cmd) return RunMaterialize(ctx, mat);
  if (*runs_cmd) return RunRuns(ctx, runs_args);
  if (*logs_cmd) return RunLogs(ctx, logs);
  if (*cancel_cmd) return RunCancel(ctx, cancel);
  if (*mats_cmd) return RunMaterializations(ctx, mats);
  if (*exec_cmd) return RunExecute(ctx, exec);
  if (*plan_cmd) return RunPlan(ctx, plan);
  if (*cost_cmd) return RunCost(ctx, cost_args);
  if (*sim_cmd) return RunSimulate(ctx, sim);
  if (auto code = runtimes(ctx)) return *code;
  if (auto code = service_commands(ctx)) return *code;
  err << "error: no command given\n  hint: run 'arbiter --help' for usage\n";
  return kExitUsage;
}

}  // namespace
}  // namespace arbiter::cli
