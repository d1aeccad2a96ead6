// Storage hot paths of the runs issue:
//  - partition status of a 1,000,000-partition asset with 500,000 materialized
//    in scattered ranges (target <= 50 ms), including counting each state;
//  - event ingestion in batches (messages stored per second).
#include <benchmark/benchmark.h>

#include <random>

#include "arbiter/storage/sqlite_storage.h"
#include "arbiter/testing/temp_dir.h"

namespace {

using arbiter::definitions::PartitionSet;
using arbiter::storage::PartitionStatus;
using arbiter::storage::SqliteStorage;

std::unique_ptr<SqliteStorage> OpenOnDisk(const arbiter::testing::TempDir& dir) {
  auto s = SqliteStorage::Open((dir.path() / "arbiter.db").string());
  if (!s.ok()) std::abort();
  return std::move(s).value();
}

void BM_PartitionStatusMillion(benchmark::State& state) {
  arbiter::testing::TempDir dir;
  auto db = OpenOnDisk(dir);
  std::mt19937 rng(3);
  PartitionSet materialized;
  while (materialized.Count() < 500'000) {
    int64_t b = std::uniform_int_distribution<int64_t>(0, 999'000)(rng);
    materialized.AddRange(b, b + std::uniform_int_distribution<int64_t>(1, state.range(0))(rng));
  }
  PartitionSet failed;
  for (int i = 0; i < 2000; ++i) failed.Add(std::uniform_int_distribution<int64_t>(0, 999'999)(rng));
  failed = failed.Difference(materialized);
  if (!db->ReplacePartitionStatus("big", {"hourly", materialized, failed, {}}).ok()) std::abort();
  for (auto _ : state) {
    PartitionStatus st = *db->GetPartitionStatus("big");
    int64_t done = st.materialized.Count(), bad = st.failed.Count();
    int64_t missing = 1'000'000 - done - bad - st.in_progress.Count();
    benchmark::DoNotOptimize(missing);
  }
  state.counters["materialized_ranges"] = static_cast<double>(materialized.ranges().size());
}
// Arg: the longest materialized range; 8 gives ~100,000 separate ranges.
BENCHMARK(BM_PartitionStatusMillion)->Arg(400)->Arg(8)->Unit(benchmark::kMillisecond);

void BM_AppendEvents(benchmark::State& state) {
  arbiter::testing::TempDir dir;
  auto db = OpenOnDisk(dir);
  arbiter::storage::RunRecord run;
  run.run_id = "bench-run-1";
  run.asset_key = "bench/events";
  run.runtime = "local";
  if (!db->CreateRun(run).ok()) std::abort();
  const int batch = static_cast<int>(state.range(0));
  std::vector<arbiter::storage::RunEvent> events(static_cast<size_t>(batch));
  for (int i = 0; i < batch; ++i) {
    events[i].kind = "log";
    events[i].level = "info";
    // append(), not operator+: GCC 12 -O3 warns falsely (-Wrestrict) on the latter.
    events[i].message.append("processed partition chunk ").append(std::to_string(i)).append(
        " of the crawl");
    events[i].timestamp_ms = 1717200000000 + i;
  }
  for (auto _ : state) {
    if (!db->AppendEvents("bench-run-1", &events).ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_AppendEvents)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
