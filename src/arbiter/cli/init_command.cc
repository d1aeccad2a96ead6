// `arbiter init DIR`: scaffolds a small project that passes `arbiter check`
// as written, with the remote runtimes present but commented out.
#include <filesystem>
#include <fstream>

#include "arbiter/cli/command_context.h"
#include "arbiter/common/strings.h"

namespace arbiter::cli {
namespace fs = std::filesystem;
namespace {

constexpr const char* kProjectTemplate =
    R"yaml(# Arbiter project file. Schema: docs/project-file.md in the Arbiter repository.
project: {{NAME}}

runtimes:
  local:
    type: local
    max_concurrency: 2
  # Remote runtimes: uncomment, fill in, and add them to an asset's runtimes.
  # Secrets are only ever given by reference (${env:NAME} or ${file:PATH}).
  # databricks:
  #   type: databricks
  #   host: https://dbc-1234abcd-5678.cloud.databricks.com
  #   token: ${env:DATABRICKS_TOKEN}
  #   spark_version: 15.4.x-scala2.12
  #   staging: dbfs:/arbiter/staging
  # emr:
  #   type: emr
  #   region: us-east-1
  #   release_label: emr-7.2.0
  #   staging: s3://my-bucket/arbiter/staging
  #   log_uri: s3://my-bucket/arbiter/logs

partitions:
  daily:
    time:
      cadence: daily
      start: 2024-01-01
      timezone: UTC

assets:
  example/events:
    description: Raw events of one day.
    partitions: daily
    job:
      kind: python
      script: jobs/events.py
    runtimes: [local]

  example/summary:
    description: Daily summary computed from the events.
    deps: [example/events]
    partitions: daily
    job:
      kind: pyspark
      script: jobs/summary.py
    compute:
      workers: 2
      worker: {vcpu: 4, memory_gib: 16}
    runtimes: [local]
    placement: cheapest

schedules:
  nightly:
    cron: "0 2 * * *"
    timezone: UTC
    assets: [example/summary]
)yaml";

constexpr const char* kJobTemplate = R"py(#!/usr/bin/env python3
"""{{WHAT}} for one partition. Arbiter passes the partition through the pipes context."""
import os
import sys

try:
    import arbiter_pipes  # shipped in clients/python of the Arbiter repository
except ImportError:
    arbiter_pipes = None


def main():
    if arbiter_pipes is None:
        print("{{WHAT}}: running standalone (arbiter_pipes not importable)")
        return 0
    with arbiter_pipes.open_pipes() as pipes:
        key = pipes.partition_key
        pipes.log.info("processing partition %s" % key)
        pipes.report_asset_materialization(metadata={"partition": key})
    return 0


if __name__ == "__main__":
    sys.exit(main())
)py";

std::string Fill(std::string text, const std::string& key, const std::string& value) {
  for (size_t pos; (pos = text.find(key)) != std::string::npos;)
    text.replace(pos, key.size(), value);
  return text;
}

bool Write(CommandContext& ctx, const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) {
    ctx.err() << "error: cannot write " << path.string() << "\n";
    return false;
  }
  return true;
}

}  // namespace

int RunInit(CommandContext& ctx, const InitArgs& args) {
  fs::path dir = ctx.ResolveDir(args.dir);
  if (fs::exists(dir / definitions::kProjectFileName)) {
    ctx.err() << "error: " << (dir / definitions::kProjectFileName).string()
              << " already exists; not overwriting it\n";
    return kExitFailure;
  }
  std::error_code ec;
  fs::create_directories(dir / "jobs", ec);
  if (ec) {
    ctx.err() << "error: cannot create " << (dir / "jobs").string() << ": " << ec.message() << "\n";
    return kExitFailure;
  }
  std::string name = dir.filename().string();
  if (name.empty()) name = "example";
  if (!Write(ctx, dir / definitions::kProjectFileName, Fill(kProjectTemplate, "{{NAME}}", name)) ||
      !Write(ctx, dir / "jobs" / "events.py", Fill(kJobTemplate, "{{WHAT}}", "Collect events")) ||
      !Write(ctx, dir / "jobs" / "summary.py",
             Fill(kJobTemplate, "{{WHAT}}", "Summarise events"))) {
    return kExitFailure;
  }
  if (!fs::exists(dir / ".gitignore")) Write(ctx, dir / ".gitignore", ".arbiter/\n");
  if (ctx.flags().json) {
    ctx.out() << nlohmann::json{{"created", dir.string()}}.dump() << "\n";
  } else {
    ctx.out() << "created project " << Quote(name) << " in " << dir.string() << "\n"
              << "next: arbiter -C " << dir.string() << " check\n"
              << "      arbiter -C " << dir.string()
              << " materialize example/events --partition 2024-01-01\n";
  }
  return kExitOk;
}

}  // namespace arbiter::cli
