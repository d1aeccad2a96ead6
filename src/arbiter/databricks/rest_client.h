// The Databricks REST API over HttpClient: workspace URL, authentication and error bodies.
// JSON calls return the parsed body or a Status from DatabricksErrorStatus (the service's own
// error code and message); raw calls (Files API) return the response for the caller. Retries
// are the HttpClient's business (stack a RetryingHttpClient under it). Thread-safe when the
// HttpClient and AuthProvider are.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "arbiter/common/status.h"
#include "arbiter/databricks/auth.h"
#include "arbiter/http/http.h"

namespace arbiter::databricks {

using Query = std::vector<std::pair<std::string, std::string>>;

class RestClient {
 public:
  // `host` is the workspace URL (https://..., or http://127.0.0.1:PORT for the emulator).
  RestClient(http::HttpClient* http, std::string host, AuthProvider* auth);

  // `idempotent`: a POST that is safe to repeat (idempotency token, cancel, mkdirs, ...).
  Result<nlohmann::json> Get(std::string_view path, const Query& query = {});
  Result<nlohmann::json> Post(std::string_view path, const nlohmann::json& body, bool idempotent);

  // Any method, raw body; the response whatever its status (transport errors only fail).
  Result<http::HttpResponse> Raw(std::string method, std::string_view path_and_query,
                                 std::string body, http::Headers headers, bool idempotent);

  const std::string& host() const { return host_; }

 private:
  Result<nlohmann::json> Json(http::HttpRequest request, std::string_view what);

  http::HttpClient* http_;
  std::string host_;
  AuthProvider* auth_;
};

// "a=1&b=x%20y"
std::string EncodeQuery(const Query& query);

}  // namespace arbiter::databricks
