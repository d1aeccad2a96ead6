// Benchmarks of time-window partition key lookups (KeyAt, IndexOf) on a
// 1,000,000-partition hourly definition in UTC and Europe/Vienna, and on a
// 1,000,000-partition daily one (2000 to 4737). Target: <= 100 ns per lookup in a Release build.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "arbiter/definitions/partitions/time_window_partitions.h"
#include "arbiter/time/local_date_time.h"

namespace {

using arbiter::TimePoint;
using arbiter::definitions::Cadence;
using arbiter::definitions::TimeWindowPartitions;
using arbiter::definitions::TimeWindowSpec;

constexpr int64_t kPartitions = 1000000;

// `kPartitions` windows of `cadence` from 2000-01-01 in `tz`, bounded by a
// fixed "now" placed exactly after the last one.
std::unique_ptr<TimeWindowPartitions> Make(Cadence cadence, const char* tz) {
  TimeWindowSpec spec;
  spec.cadence = cadence;
  spec.start = *arbiter::time::ParseLocalDateTime("2000-01-01");
  spec.timezone = tz;
  auto probe = TimeWindowPartitions::Create(spec, TimePoint(std::chrono::seconds(0)));
  const TimePoint now = (*probe)->WindowAt(kPartitions).start;
  return std::move(TimeWindowPartitions::Create(spec, now)).value();
}

// Indices visited in a scattered order so branch prediction and caches see a
// realistic mix (DST and non-DST hours, all years).
std::vector<int64_t> Indices(int64_t size) {
  std::vector<int64_t> out(4096);
  uint64_t x = 88172645463325252ull;
  for (auto& i : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    i = static_cast<int64_t>(x % static_cast<uint64_t>(size));
  }
  return out;
}

void BM_KeyAt(benchmark::State& state, Cadence cadence, const char* tz) {
  auto p = Make(cadence, tz);
  const auto idx = Indices(p->Size());
  size_t n = 0;
  for (auto _ : state) {
    std::string key = p->KeyAt(idx[n++ & 4095]);
    benchmark::DoNotOptimize(key);
  }
  state.counters["partitions"] = static_cast<double>(p->Size());
}

void BM_IndexOf(benchmark::State& state, Cadence cadence, const char* tz) {
  auto p = Make(cadence, tz);
  std::vector<std::string> keys;
  for (int64_t i : Indices(p->Size())) keys.push_back(p->KeyAt(i));
  size_t n = 0;
  for (auto _ : state) {
    auto index = p->IndexOf(keys[n++ & 4095]);
    benchmark::DoNotOptimize(index);
  }
  state.counters["partitions"] = static_cast<double>(p->Size());
}

void BM_IndexOfMissing(benchmark::State& state) {
  auto p = Make(Cadence::kHourly, "Europe/Vienna");
  const std::string key = "2024-03-31-02:00";  // in the spring-forward gap
  for (auto _ : state) {
    auto index = p->IndexOf(key);
    benchmark::DoNotOptimize(index);
  }
}

BENCHMARK_CAPTURE(BM_KeyAt, hourly_utc, Cadence::kHourly, "UTC");
BENCHMARK_CAPTURE(BM_KeyAt, hourly_vienna, Cadence::kHourly, "Europe/Vienna");
BENCHMARK_CAPTURE(BM_KeyAt, daily_vienna, Cadence::kDaily, "Europe/Vienna");
BENCHMARK_CAPTURE(BM_IndexOf, hourly_utc, Cadence::kHourly, "UTC");
BENCHMARK_CAPTURE(BM_IndexOf, hourly_vienna, Cadence::kHourly, "Europe/Vienna");
BENCHMARK_CAPTURE(BM_IndexOf, daily_vienna, Cadence::kDaily, "Europe/Vienna");
BENCHMARK(BM_IndexOfMissing);

}  // namespace

BENCHMARK_MAIN();
