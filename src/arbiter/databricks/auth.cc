#include "arbiter/databricks/auth.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "arbiter/http/redact.h"

namespace arbiter::databricks {

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<std::string> ResolveSecretRef(std::string_view ref, const EnvLookup& env) {
  auto inner = [&](std::string_view prefix) -> std::optional<std::string> {
    if (ref.starts_with(prefix) && ref.ends_with("}") && ref.size() > prefix.size() + 1) {
      return std::string(ref.substr(prefix.size(), ref.size() - prefix.size() - 1));
    }
    return std::nullopt;
  };
  std::string value;
  if (auto name = inner("${env:")) {
    auto v = env(*name);
    if (!v || v->empty()) return NotFoundError("environment variable " + *name + " is not set");
    value = *v;
  } else if (auto path = inner("${file:")) {
    std::ifstream in(*path);
    if (!in) return NotFoundError("cannot read secret file " + *path);
    std::getline(in, value);
    while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
    if (value.empty()) return InvalidArgumentError("secret file " + *path + " is empty");
  } else {
    return InvalidArgumentError(
        "secrets must be references like ${env:NAME} or ${file:/path}, not literal values");
  }
  http::RegisterSecret(value);
  return value;
}

Result<std::string> PatAuth::Authorization() {
  auto token = ResolveSecretRef(ref_, env_);
  if (!token.ok()) return token.status().WithContext("Databricks personal access token");
  return "Bearer " + *token;
}

namespace {

std::string StringField(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

StatusCode CodeForHttp(int status) {
  switch (status) {
    case 400: return StatusCode::kInvalidArgument;
    case 401:
    case 403: return StatusCode::kPermissionDenied;
    case 404: return StatusCode::kNotFound;
    case 409: return StatusCode::kAlreadyExists;
    case 429: return StatusCode::kResourceExhausted;
    case 499: return StatusCode::kCancelled;
    case 501: return StatusCode::kUnimplemented;
    case 504: return StatusCode::kDeadlineExceeded;
    default: return status >= 500 ? StatusCode::kUnavailable : StatusCode::kInvalidArgument;
  }
}

std::string Between(std::string_view body, std::string_view open, std::string_view close) {
  const size_t a = body.find(open);
  if (a == std::string_view::npos) return "";
  const size_t b = body.find(close, a + open.size());
  if (b == std::string_view::npos) return "";
  return std::string(body.substr(a + open.size(), b - a - open.size()));
}

}  // namespace

Result<OAuthToken> ParseTokenResponse(int http_status, std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    if (http_status != 200) return DatabricksErrorStatus(http_status, body).WithContext("OAuth token endpoint");
    return UnavailableError("OAuth token endpoint: response is not a JSON object");
  }
  std::string error = StringField(j, "error");
  std::string description = StringField(j, "error_description");
  if (error.empty()) error = StringField(j, "errorCode");
  if (description.empty()) description = StringField(j, "errorSummary");
  if (!error.empty() || http_status != 200) {
    std::string msg = "OAuth token endpoint: " + (error.empty() ? "HTTP " + std::to_string(http_status) : error);
    if (!description.empty()) msg += ": " + description;
    const StatusCode code = error == "invalid_client" || error == "unauthorized_client" ||
                                    error == "invalid_grant" || http_status == 401 || http_status == 403
                                ? StatusCode::kPermissionDenied
                                : CodeForHttp(http_status == 200 ? 400 : http_status);
    return Status(code, http::ScrubKnownSecrets(msg));
  }
  OAuthToken t;
  t.access_token = StringField(j, "access_token");
  t.token_type = StringField(j, "token_type");
  if (t.access_token.empty()) return UnavailableError("OAuth token endpoint: no access_token in response");
  if (t.token_type.empty()) t.token_type = "Bearer";
  auto exp = j.find("expires_in");
  if (exp == j.end() || !exp->is_number() || exp->get<double>() <= 0 || exp->get<double>() > 1e9) {
    return UnavailableError("OAuth token endpoint: missing or invalid expires_in");
  }
  t.expires_in = std::chrono::seconds(static_cast<int64_t>(exp->get<double>()));
  http::RegisterSecret(t.access_token);
  return t;
}

Status DatabricksErrorStatus(int http_status, std::string_view body) {
  std::string code;
  std::string message;
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded() && j.is_object()) {
    code = StringField(j, "error_code");
    message = StringField(j, "message");
    if (message.empty()) message = StringField(j, "error");
  } else if (body.find("<html") != std::string_view::npos || body.find("<HTML") != std::string_view::npos) {
    message = Between(body, "<pre>", "</pre>");
    if (message.empty()) message = Between(body, "<title>", "</title>");
  } else if (!body.empty()) {
    // "ERROR_CODE: message"
    const size_t colon = body.find(": ");
    std::string_view head = body.substr(0, colon == std::string_view::npos ? 0 : colon);
    if (!head.empty() && std::all_of(head.begin(), head.end(), [](char c) { return (c >= 'A' && c <= 'Z') || c == '_'; })) {
      code = std::string(head);
      message = std::string(body.substr(colon + 2));
    } else {
      message = std::string(body.substr(0, 300));
    }
  }
  if (message.empty()) message = "HTTP " + std::to_string(http_status) + " with no error body";
  StatusCode sc = CodeForHttp(http_status);
  if (code == "RESOURCE_DOES_NOT_EXIST") sc = StatusCode::kNotFound;
  if (code == "RESOURCE_ALREADY_EXISTS" || code == "ALREADY_EXISTS") sc = StatusCode::kAlreadyExists;
  if (code == "REQUEST_LIMIT_EXCEEDED" || code == "RESOURCE_EXHAUSTED") sc = StatusCode::kResourceExhausted;
  if (code == "INVALID_STATE") sc = StatusCode::kFailedPrecondition;
  std::string text = "Databricks: ";
  if (!code.empty()) text += code + ": ";
  text += message + " (HTTP " + std::to_string(http_status) + ")";
  return Status(sc, http::ScrubKnownSecrets(text));
}

OAuthM2MAuth::OAuthM2MAuth(http::HttpClient* http, const Clock* clock, OAuthM2MConfig config, EnvLookup env)
    : http_(http), clock_(clock), config_(std::move(config)), env_(std::move(env)) {
  while (!config_.host.empty() && config_.host.back() == '/') config_.host.pop_back();
  if (config_.token_endpoint.empty()) config_.token_endpoint = config_.host + "/oidc/v1/token";
}

Result<std::string> OAuthM2MAuth::Authorization() {
  std::lock_guard<std::mutex> lock(mu_);
  const TimePoint now = clock_->Now();
  if (header_ && now < refresh_at_) return *header_;
  auto secret = ResolveSecretRef(config_.client_secret_ref, env_);
  if (!secret.ok()) return secret.status().WithContext("Databricks OAuth client secret");
  if (config_.client_id.empty()) return InvalidArgumentError("Databricks OAuth: client_id is empty");
  // The Basic credentials are client_id:secret; register the encoded form too.
  const std::string basic = [&] {
    static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const std::string in = config_.client_id + ":" + *secret;
    std::string out;
    for (size_t i = 0; i < in.size(); i += 3) {
      uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
      if (i + 1 < in.size()) n |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
      if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
      out.push_back(kB64[(n >> 18) & 63]);
      out.push_back(kB64[(n >> 12) & 63]);
      out.push_back(i + 1 < in.size() ? kB64[(n >> 6) & 63] : '=');
      out.push_back(i + 2 < in.size() ? kB64[n & 63] : '=');
    }
    return out;
  }();
  http::RegisterSecret(basic);
  http::HttpRequest req;
  req.method = "POST";
  req.url = config_.token_endpoint;
  req.idempotent = true;  // asking for a token twice is harmless
  req.headers = {{"Authorization", "Basic " + basic},
                 {"Content-Type", "application/x-www-form-urlencoded"},
                 {"Accept", "application/json"}};
  req.body = "grant_type=client_credentials&scope=" + http::UriEncode(config_.scope, false);
  req.timeout = std::chrono::seconds(30);
  req.secret_response_body = true;
  auto resp = http_->Send(req);
  if (!resp.ok()) return resp.status().WithContext("Databricks OAuth token request");
  ARBITER_ASSIGN_OR_RETURN(OAuthToken token, ParseTokenResponse(resp->status, resp->body));
  header_ = token.token_type + " " + token.access_token;
  // Short-lived tokens: refresh at half-life rather than never caching.
  const auto margin = std::min(config_.refresh_margin, token.expires_in / 2);
  refresh_at_ = now + token.expires_in - margin;
  return *header_;
}

}  // namespace arbiter::databricks
