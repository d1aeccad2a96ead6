#include "arbiter/emr/aws_api_client.h"

#include <algorithm>
#include <cmath>

#include "arbiter/aws/sigv4.h"

namespace arbiter::emr {

namespace {

// "namespace#Code" or "Code:uri" -> "Code".
std::string BareCode(std::string code) {
  if (auto hash = code.find('#'); hash != std::string::npos) code = code.substr(hash + 1);
  if (auto colon = code.find(':'); colon != std::string::npos) code = code.substr(0, colon);
  return code;
}

}  // namespace

AwsError ParseAwsError(const http::HttpResponse& response) {
  AwsError e;
  e.http_status = response.status;
  if (auto header = response.Header("x-amzn-ErrorType")) e.code = BareCode(*header);
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_object()) {
    for (const char* key : {"__type", "code", "Code"}) {
      if (e.code.empty() && body.contains(key) && body[key].is_string()) {
        e.code = BareCode(body[key].get<std::string>());
      }
    }
    for (const char* key : {"message", "Message"}) {
      if (e.message.empty() && body.contains(key) && body[key].is_string()) {
        e.message = body[key].get<std::string>();
      }
    }
  } else if (!response.body.empty()) {
    e.message = response.body.substr(0, 300);
  }
  if (e.code.empty()) e.code = "HTTP " + std::to_string(response.status);
  return e;
}

bool IsThrottling(std::string_view code) {
  static const char* const kCodes[] = {"Throttling",
                                       "ThrottlingException",
                                       "ThrottledException",
                                       "RequestThrottledException",
                                       "TooManyRequestsException",
                                       "RequestLimitExceeded",
                                       "RequestThrottled",
                                       "SlowDown",
                                       "LimitExceededException",
                                       "ProvisionedThroughputExceededException",
                                       "BandwidthLimitExceeded",
                                       "PriorRequestNotComplete",
                                       "EC2ThrottledException"};
  return std::any_of(std::begin(kCodes), std::end(kCodes),
                     [&](const char* c) { return code == c; });
}

Status AwsErrorStatus(const AwsError& e, std::string_view operation) {
  std::string text = std::string(operation) + ": " + e.code +
                     (e.message.empty() ? "" : ": " + e.message.substr(0, 500));
  StatusCode code = StatusCode::kInternal;
  if (IsThrottling(e.code)) {
    code = StatusCode::kResourceExhausted;
  } else if (e.http_status >= 500) {
    code = StatusCode::kUnavailable;
  } else if (e.code == "InvalidSignatureException" || e.code == "UnrecognizedClientException" ||
             e.code == "IncompleteSignatureException" || e.code == "AccessDeniedException" ||
             e.code == "MissingAuthenticationTokenException" || e.code == "ExpiredTokenException" ||
             e.http_status == 403) {
    code = StatusCode::kPermissionDenied;
    text += " (check the runtime's credentials and region)";
  } else if (e.code == "ResourceNotFoundException" || e.http_status == 404) {
    code = StatusCode::kNotFound;
  } else if (e.code == "ConflictException") {
    code = StatusCode::kFailedPrecondition;
  } else if (e.http_status >= 400) {
    code = StatusCode::kInvalidArgument;
  }
  return Status(code, std::move(text));
}

http::RetryPolicy AwsRetryPolicy() {
  http::RetryPolicy p;
  p.max_attempts = 5;
  p.is_transient_error = [](const http::HttpResponse& r) {
    return IsThrottling(ParseAwsError(r).code);
  };
  p.describe_error = [](const http::HttpResponse& r) {
    AwsError e = ParseAwsError(r);
    return e.code + (e.message.empty() ? "" : ": " + e.message.substr(0, 300));
  };
  return p;
}

AwsApiClient::AwsApiClient(http::HttpClient* http, aws::CredentialsProvider* credentials,
                           const Clock* clock, AwsApiOptions options, http::RetryEnv* retry_env)
    : http_(http),
      credentials_(credentials),
      clock_(clock),
      options_(std::move(options)),
      retry_env_(retry_env ? retry_env : &real_env_) {
  while (!options_.endpoint.empty() && options_.endpoint.back() == '/')
    options_.endpoint.pop_back();
}

Result<nlohmann::json> AwsApiClient::Call(std::string_view operation, const nlohmann::json& input,
                                          bool idempotent) {
  if (observer_) observer_(operation, input);
  http::HttpRequest req;
  req.method = "POST";
  req.url = options_.endpoint + "/";
  req.headers = {{"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Target", options_.target_prefix + "." + std::string(operation)}};
  req.body = input.dump();
  return Send(operation, std::move(req), idempotent);
}

Result<nlohmann::json> AwsApiClient::Rest(std::string_view operation, std::string_view method,
                                          std::string_view path, const nlohmann::json& body,
                                          bool idempotent) {
  if (observer_) observer_(operation, body.is_null() ? nlohmann::json::object() : body);
  http::HttpRequest req;
  req.method = std::string(method);
  req.url = options_.endpoint + std::string(path);
  if (!body.is_null()) {
    req.headers = {{"Content-Type", "application/json"}};
    req.body = body.dump();
  }
  return Send(operation, std::move(req), idempotent);
}

Result<nlohmann::json> AwsApiClient::Send(std::string_view operation, http::HttpRequest request,
                                          bool idempotent) {
  request.idempotent = idempotent;
  request.timeout = options_.timeout;
  const std::string what =
      (options_.signing_name == "emr-serverless" ? "EMR Serverless " : "EMR ") +
      std::string(operation);
  for (int attempt = 1;; ++attempt) {
    ARBITER_ASSIGN_OR_RETURN(aws::Credentials creds, credentials_->Get());
    http::HttpRequest signed_request = request;
    aws::SigningOptions so;
    so.region = options_.region;
    so.service = options_.signing_name;
    so.time = clock_->Now();
    ARBITER_RETURN_IF_ERROR(aws::SignHttpRequest(signed_request, creds, so));
    Result<http::HttpResponse> resp = http_->Send(signed_request);
    if (!resp.ok()) return resp.status().WithContext(what);
    if (resp->status >= 200 && resp->status < 300) {
      if (resp->body.empty()) return nlohmann::json::object();
      nlohmann::json j = nlohmann::json::parse(resp->body, nullptr, false);
      if (j.is_discarded()) return InternalError(what + ": the response is not JSON");
      return j;
    }
    AwsError err = ParseAwsError(*resp);
    // A throttled request was not executed, so even a create may be sent again.
    if (!idempotent && IsThrottling(err.code) && attempt < options_.throttle_attempts) {
      double cap = std::min(20.0, std::pow(2.0, attempt - 1) * 0.25);
      retry_env_->Sleep(std::chrono::milliseconds(
          static_cast<int64_t>(1000 * cap * (0.5 + 0.5 * retry_env_->Random()))));
      continue;
    }
    return AwsErrorStatus(err, what);
  }
}

}  // namespace arbiter::emr
