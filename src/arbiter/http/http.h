// The HTTP vocabulary every cloud client speaks: a request, a response, and the HttpClient
// interface. Production uses CurlHttpClient; tests substitute FakeHttpClient. Decorators
// (RetryingHttpClient, LoggingHttpClient) wrap any HttpClient.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "arbiter/common/status.h"

namespace arbiter::http {

// Header names compare case-insensitively; order is kept (SigV4 joins repeats in order).
using Headers = std::vector<std::pair<std::string, std::string>>;

bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string ToLower(std::string_view s);
// The first header named `name`, if any.
std::optional<std::string> FindHeader(const Headers& headers, std::string_view name);
// Replaces every header named `name` with one `name: value`.
void SetHeader(Headers& headers, std::string_view name, std::string value);
void RemoveHeader(Headers& headers, std::string_view name);

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute, already percent-encoded as it goes on the wire
  Headers headers;
  std::string body;
  std::chrono::milliseconds timeout{60'000};
  // Whether sending it twice is harmless. Unset: GET/HEAD/PUT/DELETE/OPTIONS are, POST is not.
  // Set true for a POST carrying an idempotency token.
  std::optional<bool> idempotent;
  // The body holds a secret (a token request): logged only as its size.
  bool secret_request_body = false;
  // The response body holds a secret (credentials, tokens): logged only as its size.
  bool secret_response_body = false;
};

bool IsIdempotent(const HttpRequest& request);

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;

  std::optional<std::string> Header(std::string_view name) const {
    return FindHeader(headers, name);
  }
};

// Sends one request; no retries. A response with any status (even 500) is a success here;
// only transport failures are errors: kUnavailable (connect/reset/TLS), kDeadlineExceeded
// (timeout), kInvalidArgument (bad URL).
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

// "scheme://authority/path?query" split into its parts (no decoding).
struct UrlParts {
  std::string scheme;
  std::string authority;  // host[:port]
  std::string path;       // "/" when absent
  std::string query;      // without '?'
};
Result<UrlParts> SplitUrl(std::string_view url);

// Percent-encodes every byte except A-Z a-z 0-9 - _ . ~ (and '/' when keep_slash), uppercase hex.
std::string UriEncode(std::string_view s, bool keep_slash);
// Decodes %XY escapes; malformed escapes stay as they are. '+' is left alone.
std::string UriDecode(std::string_view s);

}  // namespace arbiter::http
