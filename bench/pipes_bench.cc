// Pipes parse+validate throughput: typical log and materialization lines through the same
// path a reader uses (lenient JSON, envelope and params validation, typed message), and the
// whole reader path (line splitting + processor + handler) over a buffer of log lines.
// Target (pipes issue): >= 1,000,000 log messages/s on one core. Single-threaded.
#include <benchmark/benchmark.h>

#include <string>

#include "arbiter/pipes/handler.h"
#include "arbiter/pipes/message.h"
#include "arbiter/pipes/params.h"

namespace {

using namespace arbiter::pipes;

// What the Python client writes for `context.log.info(...)`.
const std::string kLogLine =
    R"({"__dagster_pipes_version": "0.1", "method": "log", "params": {"message": "stage 3/7: wrote 1,284,112 rows to s3://bucket/edges/date=2024-01-01", "level": "INFO"}})";

const std::string kMaterializationLine =
    R"({"__dagster_pipes_version": "0.1", "method": "report_asset_materialization", "params": {"asset_key": "commoncrawl/edges", "data_version": "2024-01-01-3f9a", "metadata": {"rows": {"raw_value": 1284112, "type": "__infer__"}, "bytes": {"raw_value": 73482911, "type": "int"}, "ratio": {"raw_value": 0.4172, "type": "__infer__"}, "path": {"raw_value": "s3://bucket/edges/date=2024-01-01", "type": "path"}, "spark_ui": {"raw_value": "https://example.com/ui/app-1", "type": "url"}, "partitions": {"raw_value": [1, 2, 3], "type": "json"}}}})";

void BM_ParseLog(benchmark::State& state) {
  for (auto _ : state) {
    ParsedLine parsed = ParseMessageLine(kLogLine, LineMode::kStrict);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kLogLine.size()));
}
BENCHMARK(BM_ParseLog);

void BM_ParseMaterialization(benchmark::State& state) {
  for (auto _ : state) {
    ParsedLine parsed = ParseMessageLine(kMaterializationLine, LineMode::kStrict);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kMaterializationLine.size()));
}
BENCHMARK(BM_ParseMaterialization);

// Mixed-stream rule on ordinary output (a stdio reader's common case).
void BM_ClassifyPlainOutputLine(benchmark::State& state) {
  const std::string line =
      "24/01/01 00:00:01 INFO DAGScheduler: Job 3 finished: save at edges.py:88";
  for (auto _ : state) {
    ParsedLine parsed = ParseMessageLine(line, LineMode::kMixed);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ClassifyPlainOutputLine);

class CountingHandler : public PipesMessageHandler {
 public:
  void OnMessage(const PipesMessage&, const MessageOrigin&) override { ++messages; }
  void OnWarning(const PipesWarning&) override { ++warnings; }
  int64_t messages = 0;
  int64_t warnings = 0;
};

// The whole reader path: 64 KiB reads of a file full of log lines.
void BM_ReaderPathLogs(benchmark::State& state) {
  std::string buffer;
  int64_t lines = 0;
  while (buffer.size() < (4u << 20)) {
    buffer += kLogLine;
    buffer += '\n';
    ++lines;
  }
  for (auto _ : state) {
    CountingHandler handler;
    MessageProcessor processor(&handler);
    LineSplitter splitter(&processor, "messages", LineMode::kStrict);
    for (std::size_t off = 0; off < buffer.size(); off += 65536) {
      splitter.Feed(std::string_view(buffer).substr(off, 65536));
    }
    splitter.Flush();
    if (handler.messages != lines) state.SkipWithError("lost messages");
  }
  state.SetItemsProcessed(state.iterations() * lines);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(buffer.size()));
}
BENCHMARK(BM_ReaderPathLogs)->Unit(benchmark::kMillisecond);

void BM_DecodeContextParam(benchmark::State& state) {
  OrderedJson ctx = OrderedJson::object();
  ctx["data"] = {{"asset_keys", {"commoncrawl/edges"}},
                 {"run_id", "2716d101-cf11-4baa-b22d"},
                 {"partition_key", "2024-01-01"},
                 {"retry_number", 0},
                 {"extras", {{"seed_set", "top-1m"}}}};
  const std::string encoded = EncodeParam(ctx);
  for (auto _ : state) {
    auto decoded = DecodeParam(encoded);
    benchmark::DoNotOptimize(decoded);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeContextParam);

}  // namespace

BENCHMARK_MAIN();
