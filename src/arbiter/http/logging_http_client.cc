#include "arbiter/http/logging_http_client.h"

#include <chrono>

#include "arbiter/http/redact.h"

namespace arbiter::http {
namespace {

std::string DescribeBody(std::string_view body, bool secret, size_t max) {
  if (body.empty()) return "(no body)";
  if (secret) return "(" + std::to_string(body.size()) + " bytes, secret, not logged)";
  // Redact the whole body before cutting, so a cut cannot split a secret field from its name.
  std::string redacted = RedactBody(body);
  if (redacted.size() > max) {
    redacted.resize(max);
    redacted += "... (" + std::to_string(body.size()) + " bytes)";
  }
  return redacted;
}

}  // namespace

Result<HttpResponse> LoggingHttpClient::Send(const HttpRequest& request) {
  std::string out = "http > ";
  out += request.method;
  out += ' ';
  out += RedactUrl(request.url);
  out += " [";
  out += DescribeHeaders(request.headers);
  out += "] ";
  out += DescribeBody(request.body, request.secret_request_body, max_body_bytes_);
  sink_(out);

  const MonoTime start = clock_->Monotonic();
  Result<HttpResponse> result = inner_->Send(request);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_->Monotonic() - start).count();
  std::string in = "http < ";
  in += request.method;
  in += ' ';
  in += RedactUrl(request.url);
  in += ' ';
  if (!result.ok()) {
    in += "failed after " + std::to_string(ms) + " ms: ";
    in += ScrubKnownSecrets(result.status().ToString());
  } else {
    in += std::to_string(result->status) + " in " + std::to_string(ms) + " ms [";
    in += DescribeHeaders(result->headers);
    in += "] ";
    in += DescribeBody(result->body, request.secret_response_body, max_body_bytes_);
  }
  sink_(in);
  return result;
}

}  // namespace arbiter::http
