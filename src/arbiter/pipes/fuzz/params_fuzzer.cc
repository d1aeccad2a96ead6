// libFuzzer target: the bootstrap params decoder (lenient base64, bounded zlib inflate,
// lenient JSON), plus round-trip invariants of the base64 and zlib layers. Single-threaded.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "arbiter/pipes/params.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace arbiter::pipes;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  arbiter::Result<Json> decoded = DecodeParam(input, DecodeOptions{1u << 20});
  if (decoded.ok()) {
    // Whatever decodes must encode again and decode to a value of the same shape.
    const std::string again = EncodeParam(OrderedJson(*decoded));
    arbiter::Result<Json> twice = DecodeParam(again);
    if (!twice.ok() || twice->type() != decoded->type()) std::abort();
  }
  // The raw input itself, as bytes, must survive both layers unchanged.
  const std::string bytes(input);
  arbiter::Result<std::string> b64 = Base64Decode(Base64Encode(bytes));
  if (!b64.ok() || *b64 != bytes) std::abort();
  arbiter::Result<std::string> z = ZlibCompress(bytes);
  if (!z.ok()) std::abort();
  arbiter::Result<std::string> back = ZlibInflate(*z, bytes.size() + 1);
  if (!back.ok() || *back != bytes) std::abort();
  return 0;
}
