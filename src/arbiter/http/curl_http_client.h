// HttpClient over libcurl. TLS peer and host verification are always on (a CA bundle may be
// configured for private CAs); proxies come from the usual environment variables
// (https_proxy, http_proxy, no_proxy), which libcurl reads itself; idle connections are kept
// in a small pool of easy handles and reused. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "arbiter/http/http.h"

namespace arbiter::http {

struct CurlOptions {
  std::string ca_bundle;  // PEM file; empty = the system store
  std::chrono::milliseconds connect_timeout{10'000};
  // "host:port:connect-host:connect-port" entries (CURLOPT_CONNECT_TO), e.g. to reach a
  // virtual-hosted bucket name on a local S3 emulator.
  std::vector<std::string> connect_to;
  size_t max_response_bytes = size_t{1} << 30;
  size_t max_idle_handles = 8;
};

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(CurlOptions options = {});
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  Result<HttpResponse> Send(const HttpRequest& request) override;

 private:
  void* Acquire();
  void Release(void* handle);

  CurlOptions options_;
  std::mutex mu_;
  std::vector<void*> idle_;  // CURL* kept with their connection caches
};

}  // namespace arbiter::http
