// libFuzzer target: the Databricks JSON response parsers (token endpoint, error bodies) and
// the body redactor must never crash on any input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "arbiter/databricks/auth.h"
#include "arbiter/http/redact.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const int status = size > 0 ? 200 + data[0] % 400 : 200;
  (void)arbiter::databricks::ParseTokenResponse(200, body);
  (void)arbiter::databricks::ParseTokenResponse(status, body);
  (void)arbiter::databricks::DatabricksErrorStatus(status, body);
  (void)arbiter::http::RedactBody(body);
  (void)arbiter::http::RedactUrl(body);
  return 0;
}
