// Loading a generated project of N assets (default 1,000) through the full
// loader: YAML parse, validation, cross-references, cycle check. Target:
// <= 100 ms for 1,000 assets. The project is written once to a temp dir.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

#include "arbiter/definitions/project_loader.h"
#include "arbiter/testing/temp_dir.h"

namespace {

using arbiter::definitions::LoadOptions;
using arbiter::definitions::LoadProject;

// A layered graph: asset i depends on up to three assets of the previous layer
// of 50; every fifth asset is partitioned daily, every seventh by a multi grid.
std::string GenerateProject(int assets) {
  std::string y = R"(project: generated
runtimes:
  local: {type: local, max_concurrency: 4}
  databricks:
    type: databricks
    host: https://dbc-1.cloud.databricks.com
    token: ${env:DATABRICKS_TOKEN}
    spark_version: 15.4.x-scala2.12
    staging: dbfs:/arbiter/staging
  emr:
    type: emr
    region: us-east-1
    release_label: emr-7.2.0
    staging: s3://bucket/staging
    log_uri: s3://bucket/logs
partitions:
  daily: {time: {cadence: daily, start: 2020-01-01, end: 2026-01-01, timezone: Europe/Vienna}}
  crawl: {static: [c1, c2, c3, c4, c5, c6, c7, c8]}
  seed: {static: [s1, s2, s3]}
  grid: {multi: {crawl: crawl, seed: seed}}
assets:
)";
  for (int i = 0; i < assets; ++i) {
    std::string key = "layer" + std::to_string(i / 50) + "/asset" + std::to_string(i);
    y += "  " + key + ":\n";
    y += "    description: generated asset number " + std::to_string(i) + "\n";
    if (i >= 50) {
      y += "    deps: [";
      int layer_start = (i / 50 - 1) * 50;
      for (int d = 0; d < 3; ++d) {
        int dep = layer_start + (i * 7 + d * 13) % 50;
        if (d) y += ", ";
        y += "layer" + std::to_string(dep / 50) + "/asset" + std::to_string(dep);
      }
      y += "]\n";
    }
    if (i % 5 == 0) y += "    partitions: daily\n";
    if (i % 7 == 0 && i % 5 != 0) y += "    partitions: grid\n";
    y += "    job: {kind: pyspark, script: jobs/job.py, args: [--n, \"" + std::to_string(i) +
         "\"]}\n";
    y += "    compute: {workers: 4, worker: {vcpu: 8, memory_gib: 32}, spot: true}\n";
    y += "    runtimes: [local, databricks, emr]\n";
    y += "    placement: cheapest\n";
    y += "    tags: {team: t" + std::to_string(i % 9) + "}\n";
  }
  return y;
}

void BM_LoadProject(benchmark::State& state) {
  const int assets = static_cast<int>(state.range(0));
  arbiter::testing::TempDir dir;
  const std::string yaml = GenerateProject(assets);
  dir.Write("arbiter.yaml", yaml);
  dir.Write("jobs/job.py", "print('hello')\n");
  LoadOptions options;
  options.env.get_env = [](const std::string&) { return std::optional<std::string>("x"); };
  for (auto _ : state) {
    auto result = LoadProject(dir.str(), options);
    if (!result.project) {
      for (const auto& d : result.diagnostics.all()) std::fprintf(stderr, "%s\n", d.message.c_str());
      state.SkipWithError("generated project did not load");
      break;
    }
    benchmark::DoNotOptimize(result.project->assets.size());
  }
  state.counters["assets"] = assets;
  state.counters["yaml_bytes"] = static_cast<double>(yaml.size());
}
BENCHMARK(BM_LoadProject)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
