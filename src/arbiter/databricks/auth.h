// Databricks authentication: a personal access token, or OAuth machine-to-machine (a service
// principal's client id and secret exchanged at the token endpoint for a one-hour token,
// cached until shortly before it expires). Secrets are given only by reference
// ("${env:NAME}" or "${file:/path}") and read when needed, never stored in definitions.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "arbiter/common/clock.h"
#include "arbiter/common/status.h"
#include "arbiter/http/http.h"

namespace arbiter::databricks {

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnvironment();

// "${env:NAME}" -> $NAME, "${file:/path}" -> the file's first line. Anything else is refused:
// a literal secret must not sit in a project file.
Result<std::string> ResolveSecretRef(std::string_view ref, const EnvLookup& env);

class AuthProvider {
 public:
  virtual ~AuthProvider() = default;
  // The Authorization header value for the next request.
  virtual Result<std::string> Authorization() = 0;
};

class PatAuth final : public AuthProvider {
 public:
  PatAuth(std::string token_ref, EnvLookup env) : ref_(std::move(token_ref)), env_(std::move(env)) {}
  Result<std::string> Authorization() override;

 private:
  std::string ref_;
  EnvLookup env_;
};

struct OAuthM2MConfig {
  std::string host;  // https://<workspace-host>
  std::string client_id;
  std::string client_secret_ref;  // ${env:...} or ${file:...}
  // Empty: <host>/oidc/v1/token (workspace level).
  std::string token_endpoint;
  std::string scope = "all-apis";
  // Refresh this long before expiry, so a request never carries a token about to lapse.
  std::chrono::seconds refresh_margin{300};
};

struct OAuthToken {
  std::string access_token;
  std::string token_type;  // "Bearer"
  std::chrono::seconds expires_in{0};
};

// Parses a token endpoint response; OAuth errors ({"error","error_description"} or
// {"errorCode","errorSummary"}) and malformed bodies become clear errors.
Result<OAuthToken> ParseTokenResponse(int http_status, std::string_view body);

// The Status for a Databricks REST error response: {"error_code","message"}, {"error"},
// "CODE: message" text, an HTML page (<pre> or <title>), or an empty body.
Status DatabricksErrorStatus(int http_status, std::string_view body);

class OAuthM2MAuth final : public AuthProvider {
 public:
  // `http` should retry (RetryingHttpClient): the token POST is safe to repeat.
  OAuthM2MAuth(http::HttpClient* http, const Clock* clock, OAuthM2MConfig config, EnvLookup env);
  Result<std::string> Authorization() override;

 private:
  http::HttpClient* http_;
  const Clock* clock_;
  OAuthM2MConfig config_;
  EnvLookup env_;
  std::mutex mu_;
  std::optional<std::string> header_;
  TimePoint refresh_at_{};
};

}  // namespace arbiter::databricks
