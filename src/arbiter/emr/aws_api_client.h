// A small client for AWS's JSON protocols, on the shared SigV4 signer and HTTP stack:
// JSON 1.1 (EMR: POST / with X-Amz-Target) and REST-JSON (EMR Serverless: method + path).
// Errors become Status values that keep the AWS code and message ("ThrottlingException:
// Rate exceeded"), with codes that carry the retry meaning. Idempotent calls are retried by
// the RetryingHttpClient given; a call that is not idempotent (RunJobFlow, AddJobFlowSteps)
// is retried here only when AWS said it was throttled, since that request was not executed.
// Thread-compatible: one per launcher, calls from several threads are fine.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "arbiter/aws/credentials.h"
#include "arbiter/common/clock.h"
#include "arbiter/http/http.h"
#include "arbiter/http/retry.h"

namespace arbiter::emr {

struct AwsApiOptions {
  std::string endpoint;  // https://elasticmapreduce.us-east-1.amazonaws.com
  std::string region;
  std::string signing_name;   // elasticmapreduce | emr-serverless
  std::string target_prefix;  // JSON 1.1 only: ElasticMapReduce
  int throttle_attempts = 6;  // non-idempotent calls: tries while throttled
  std::chrono::milliseconds timeout{60'000};
};

// What an AWS error response says. `code` is the bare error name (ThrottlingException).
struct AwsError {
  int http_status = 0;
  std::string code;
  std::string message;
};
AwsError ParseAwsError(const http::HttpResponse& response);
bool IsThrottling(std::string_view code);
// The Status for an AWS error; `operation` names the call ("EMR RunJobFlow").
Status AwsErrorStatus(const AwsError& error, std::string_view operation);
// The shared retry policy with AWS's throttling codes and error description.
http::RetryPolicy AwsRetryPolicy();

// Records each request body sent (operation name, JSON); tests validate them.
using RequestObserver = std::function<void(std::string_view operation, const nlohmann::json&)>;

class AwsApiClient {
 public:
  // `http` should retry (RetryingHttpClient with AwsRetryPolicy()); pointers outlive this.
  AwsApiClient(http::HttpClient* http, aws::CredentialsProvider* credentials, const Clock* clock,
               AwsApiOptions options, http::RetryEnv* retry_env = nullptr);

  // JSON 1.1: POST / with X-Amz-Target: <target_prefix>.<operation>.
  Result<nlohmann::json> Call(std::string_view operation, const nlohmann::json& input,
                              bool idempotent);
  // REST-JSON: `path` already percent-encoded; `body` null for none.
  Result<nlohmann::json> Rest(std::string_view operation, std::string_view method,
                              std::string_view path, const nlohmann::json& body, bool idempotent);

  void set_observer(RequestObserver observer) { observer_ = std::move(observer); }
  const AwsApiOptions& options() const { return options_; }

 private:
  Result<nlohmann::json> Send(std::string_view operation, http::HttpRequest request,
                              bool idempotent);

  http::HttpClient* http_;
  aws::CredentialsProvider* credentials_;
  const Clock* clock_;
  AwsApiOptions options_;
  http::RealRetryEnv real_env_;
  http::RetryEnv* retry_env_;
  RequestObserver observer_;
};

}  // namespace arbiter::emr
