// Debug logging of every request and response, secrets redacted (see redact.h): one line out,
// one line back, bodies cut to a few KiB. Wrap the outermost client you have, so that retries
// are logged one by one.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

#include "arbiter/common/clock.h"
#include "arbiter/http/http.h"

namespace arbiter::http {

using LogSink = std::function<void(std::string_view line)>;

class LoggingHttpClient final : public HttpClient {
 public:
  // `clock` times each request for the log line; it must outlive the client.
  LoggingHttpClient(HttpClient* inner, LogSink sink, size_t max_body_bytes = 4096,
                    const Clock* clock = &RealClock())
      : inner_(inner), sink_(std::move(sink)), max_body_bytes_(max_body_bytes), clock_(clock) {}

  Result<HttpResponse> Send(const HttpRequest& request) override;

 private:
  HttpClient* inner_;
  LogSink sink_;
  size_t max_body_bytes_;
  const Clock* clock_;
};

}  // namespace arbiter::http
