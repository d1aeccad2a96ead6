// A native job that exercises every pipes method; the round-trip tests launch it as a child
// process. `--fail` makes it throw after reporting, to test `closed` with an exception.
// Single-threaded.
#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <string>

#include "arbiter_pipes_client/pipes_client.h"

namespace pc = arbiter::pipes::client;

int main(int argc, char** argv) {
  bool fail = false;
  for (int i = 1; i < argc; ++i) fail = fail || std::strcmp(argv[i], "--fail") == 0;
  try {
    pc::RunWithPipes(argc, argv, [&](pc::Context& pipes) {
      std::cout << "ordinary stdout from the native job" << std::endl;
      const std::string partition = pipes.is_partition_step() ? pipes.partition_key() : "none";
      pipes.Debug("debug line");
      pipes.Info("partition " + partition + " run " + pipes.run_id());
      pipes.Warning("warning line");
      pipes.Error("error line");
      pipes.Critical("critical line");
      pipes.ReportAssetMaterialization(
          {{"rows", 42},
           {"ratio", 1.0},
           {"name", "edges"},
           {"ok", true},
           {"nan", std::numeric_limits<double>::quiet_NaN()},
           {"big", static_cast<uint64_t>(18446744073709551615ull)},
           {"doc", pc::MetadataValue::Markdown("# report")},
           {"link", pc::MetadataValue::Url("https://example.com")},
           {"when", pc::MetadataValue::Timestamp(1704067200.5)},
           {"cfg", pc::MetadataValue::Json({{"k", {1, 2}}})},
           {"none", pc::MetadataValue::Null()},
           {"schema", pc::MetadataValue::Typed("table_schema",
                                               {{"columns", {{{"name", "a"}, {"type", "int"}}}}})}},
          "dv-" + partition);
      pipes.ReportAssetCheck("row_count_positive", true, pc::Severity::kWarn, {{"rows", 42}});
      pipes.ReportCustomMessage({{"extras_seen", pipes.extras()}, {"retry", pipes.retry_number()}});
      pipes.LogExternalStream("stderr", "captured text\n");
      if (fail) throw std::invalid_argument("native job failed on purpose");
    });
  } catch (const std::exception& e) {
    std::cerr << "job failed: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
