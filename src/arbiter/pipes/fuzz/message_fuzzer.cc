// libFuzzer target: arbitrary bytes through the message reader path (line splitting, size
// cap, lenient JSON, validation) in strict and mixed mode. Must never crash, hang or leak;
// single-threaded.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "arbiter/pipes/handler.h"
#include "arbiter/pipes/message.h"

namespace {

class CountingHandler : public arbiter::pipes::PipesMessageHandler {
 public:
  void OnMessage(const arbiter::pipes::PipesMessage& m,
                 const arbiter::pipes::MessageOrigin& origin) override {
    // A delivered message always has a known method and a real line number.
    if (arbiter::pipes::MethodName(m).empty() || origin.line_number <= 0) std::abort();
    ++messages;
  }
  void OnWarning(const arbiter::pipes::PipesWarning& w) override {
    if (w.excerpt.size() > 4 * 64 + 3) std::abort();  // excerpts stay bounded
    ++warnings;
  }
  int messages = 0;
  int warnings = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace arbiter::pipes;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)ParseMessage(input);
  for (LineMode mode : {LineMode::kStrict, LineMode::kMixed}) {
    CountingHandler handler;
    // A small cap so the too-long path is reachable with short inputs.
    MessageProcessor processor(&handler, ProcessorOptions{512, 64});
    LineSplitter splitter(&processor, "fuzz", mode);
    // Feed in two pieces to exercise lines that straddle reads.
    const std::size_t half = size / 2;
    splitter.Feed(input.substr(0, half));
    splitter.Feed(input.substr(half));
    splitter.Flush();
    processor.Finish();
    if (handler.messages != processor.messages()) std::abort();
  }
  return 0;
}
