// libFuzzer target: the ECS/IMDS credentials JSON parser and the ISO 8601 reader.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "arbiter/aws/credentials.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)arbiter::aws::ParseCredentialsJson(body, "fuzz");
  (void)arbiter::aws::ParseIso8601(body);
  return 0;
}
