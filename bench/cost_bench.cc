// The cost engine's two throughput targets (cost issue), on the shipped price
// catalog and a project built in memory (three remote runtimes, no project
// file to load):
// - BM_Place1000Assets: explained placement (candidate table, model inputs,
//   cost lines, reason: what `arbiter plan` shows) of 1,000 assets whose
//   history is a few runs on one runtime each. Target: <= 50 ms.
// - BM_Simulate100k: `Simulate` of 100,000 generated records (100 assets ×
//   1,000 partitions, `cheapest` with a 5 % exploration budget), the trace
//   already parsed. Target, with BM_ParseTrace100k: <= 2 s.
// - BM_ParseTrace100k: parsing the same trace from JSON Lines.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <sstream>
#include <string>

#include "arbiter/cost/catalog_instance_chooser.h"
#include "arbiter/cost/engine.h"
#include "arbiter/cost/simulator.h"

namespace {

using namespace arbiter;
using definitions::RuntimeType;

const char* const kRuntimes[] = {"databricks", "emr", "emr-serverless"};

const cost::PriceCatalog& Catalog() {
  static const cost::PriceCatalog catalog =
      *cost::PriceCatalog::Load(std::string(ARBITER_SOURCE_DIR) + "/data/price-catalog.json");
  return catalog;
}

definitions::Project MakeProject(int assets) {
  definitions::Project p;
  p.name = "bench";
  for (auto [name, type] : {std::pair{kRuntimes[0], RuntimeType::kDatabricks},
                            {kRuntimes[1], RuntimeType::kEmr},
                            {kRuntimes[2], RuntimeType::kEmrServerless}}) {
    definitions::RuntimeConfig rt;
    rt.name = name;
    rt.type = type;
    p.runtimes[name] = rt;
  }
  for (int i = 0; i < assets; ++i) {
    definitions::AssetDef a;
    a.key = *definitions::AssetKey::Parse("bench/asset" + std::to_string(i));
    a.compute.workers = 2 + i % 7;
    a.compute.worker = {8, 32};
    a.compute.spot = i % 3 == 0;
    a.compute.instance_families = {"m5", "m6i"};
    a.expected_duration = std::chrono::seconds(600 + 60 * (i % 50));
    p.assets[a.key] = a;
  }
  return p;
}

void BM_Place1000Assets(benchmark::State& state) {
  definitions::Project project = MakeProject(1000);
  cost::Engine engine(&project, Catalog());
  int i = 0;
  for (const auto& [key, asset] : project.assets) {
    for (int run = 0; run < 4; ++run) {
      // Each run also brings a billed cost, so placement is calibrated as in use.
      const auto& rt = project.runtimes.at(kRuntimes[i % 3]);
      engine.Observe(asset, rt,
                     {key.str(), rt.name, 1e9 * (1 + i % 40), 16, 900.0 + 10 * run, std::nullopt},
                     900.0 + 10 * run, 1.0 + 0.1 * run);
    }
    ++i;
  }
  const definitions::PlacementPolicy cheapest;
  for (auto _ : state) {
    size_t chosen = 0;
    for (const auto& [key, asset] : project.assets) {
      cost::Placement p = engine.placer().Place(asset, cheapest, std::nullopt);
      chosen += p.chosen.size() + p.candidates.size();
    }
    benchmark::DoNotOptimize(chosen);
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_Place1000Assets)->Unit(benchmark::kMillisecond);

// Like tools/gen_trace.py: each asset has an input size, and its own speed on
// each runtime (a global factor times a log-normal per-asset factor); every
// duration has start-up plus log-normal noise; inputs drift upward.
std::vector<cost::TraceRecord> MakeTrace(int assets, int partitions) {
  std::mt19937_64 rng(1);
  std::normal_distribution<double> normal(0, 1);
  std::uniform_real_distribution<double> uniform(0, 1);
  const double global[] = {0.55, 1.0, 0.8};
  const double startup[] = {270, 480, 30};
  const double usd_per_hour[] = {0.59 * 3 * 0.6, 0.48 * 3 * 1.5, 0.606 * 3};
  struct Asset {
    double gb;
    double speed[3];
  };
  std::vector<Asset> spec(assets);
  for (auto& a : spec) {
    a.gb = std::exp(std::log(2.0) + uniform(rng) * (std::log(200.0) - std::log(2.0)));
    for (int r = 0; r < 3; ++r) a.speed[r] = global[r] * std::exp(0.35 * normal(rng));
  }
  std::vector<cost::TraceRecord> trace;
  trace.reserve(static_cast<size_t>(assets) * partitions);
  for (int p = 0; p < partitions; ++p) {
    for (int i = 0; i < assets; ++i) {
      cost::TraceRecord r;
      r.asset = "bench/asset" + std::to_string(i);
      r.partition = "p" + std::to_string(p);
      double gb = spec[i].gb * (1 + 0.003 * p);
      r.input_bytes = gb * 1e9;
      for (int k = 0; k < 3; ++k) {
        double work = 60.0 * gb / 16 * spec[i].speed[k] * std::exp(0.1 * normal(rng));
        // Billed costs at their own rates (not the catalog's), so calibration runs too.
        double seconds = startup[k] + work;
        r.outcomes[kRuntimes[k]] = {seconds, seconds / 3600 * usd_per_hour[k]};
      }
      r.line = static_cast<int>(trace.size()) + 1;
      trace.push_back(std::move(r));
    }
  }
  return trace;
}

void BM_Simulate100k(benchmark::State& state) {
  definitions::Project project = MakeProject(100);
  std::vector<cost::TraceRecord> trace = MakeTrace(100, 1000);
  cost::SimulationOptions options;
  options.explore = 0.05;
  for (auto _ : state) {
    auto report = cost::Simulate(project, Catalog(), trace, options);
    if (!report.ok()) state.SkipWithError(report.status().message().c_str());
    benchmark::DoNotOptimize(report);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(trace.size()));
}
BENCHMARK(BM_Simulate100k)->Unit(benchmark::kMillisecond);

// The policy's replay alone, without the catalog-only baseline replay the report adds.
void BM_Simulate100kPolicyOnly(benchmark::State& state) {
  definitions::Project project = MakeProject(100);
  std::vector<cost::TraceRecord> trace = MakeTrace(100, 1000);
  cost::SimulationOptions options;
  options.explore = 0.05;
  options.baseline = false;
  for (auto _ : state) {
    auto report = cost::Simulate(project, Catalog(), trace, options);
    if (!report.ok()) state.SkipWithError(report.status().message().c_str());
    benchmark::DoNotOptimize(report);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(trace.size()));
}
BENCHMARK(BM_Simulate100kPolicyOnly)->Unit(benchmark::kMillisecond);

void BM_ParseTrace100k(benchmark::State& state) {
  std::ostringstream text;
  for (const cost::TraceRecord& r : MakeTrace(100, 1000)) {
    text << R"({"asset": ")" << r.asset << R"(", "partition": ")" << r.partition
         << R"(", "input_bytes": )" << static_cast<int64_t>(*r.input_bytes) << R"(, "outcomes": {)";
    const char* sep = "";
    for (const auto& [rt, o] : r.outcomes) {
      text << sep << '"' << rt << R"(": {"duration_s": )" << o.duration_s << "}";
      sep = ", ";
    }
    text << "}}\n";
  }
  const std::string all = text.str();
  for (auto _ : state) {
    std::istringstream in(all);
    auto trace = cost::ParseTrace(in, "bench.jsonl");
    if (!trace.ok()) state.SkipWithError(trace.status().message().c_str());
    benchmark::DoNotOptimize(trace);
  }
  state.SetItemsProcessed(state.iterations() * 100000);
}
BENCHMARK(BM_ParseTrace100k)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
