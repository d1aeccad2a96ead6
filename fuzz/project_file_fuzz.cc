// Fuzzes the whole project loader: arbitrary bytes as arbiter.yaml. The loader
// must never crash, hang or leak, whatever the input; it may only report
// diagnostics. Every diagnostic must carry a message.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "arbiter/definitions/project_loader.h"
#include "arbiter/testing/temp_dir.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static arbiter::testing::TempDir* dir = [] {
    auto* d = new arbiter::testing::TempDir();
    d->Write("jobs/a.py", "");
    return d;
  }();
  {
    std::ofstream out(dir->path() / "arbiter.yaml", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  arbiter::definitions::LoadOptions options;
  options.now = arbiter::TimePoint(std::chrono::seconds(1717200000));
  options.env.get_env = [](const std::string&) -> std::optional<std::string> {
    return std::nullopt;
  };
  options.env.read_file = [](const std::string&) -> arbiter::Result<std::string> {
    return arbiter::NotFoundError("no files while fuzzing");
  };
  arbiter::definitions::LoadResult result = arbiter::definitions::LoadProject(dir->str(), options);
  for (const auto& d : result.diagnostics.all()) {
    if (d.message.empty()) std::abort();
  }
  if (result.project && result.diagnostics.has_errors()) std::abort();
  return 0;
}
