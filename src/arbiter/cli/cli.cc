#include "arbiter/cli/cli.h"

#include <CLI/CLI.hpp>

#include "arbiter/cli/command_context.h"

#ifndef ARBITER_VERSION
#define ARBITER_VERSION "0.0.0"
#endif

namespace arbiter::cli {

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
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
      ->check(CLI::NonNegativeNumber)
      ->default_str("100");

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
    err << "run 'arbiter --help' for usage\n";
    return kExitUsage;
  }

  CommandContext ctx(flags, out, err, env);
  if (*check_cmd) return RunCheck(ctx, check);
  if (app.got_subcommand("assets")) return RunAssets(ctx);
  if (*parts_cmd) return RunPartitions(ctx, parts);
  if (*init_cmd) return RunInit(ctx, init);
  err << "error: no command given\nrun 'arbiter --help' for usage\n";
  return kExitUsage;
}

}  // namespace arbiter::cli
