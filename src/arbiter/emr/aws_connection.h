// Everything a launcher or command needs to talk to one AWS runtime (emr or
// emr-serverless): credentials (the runtime's static keys by reference, a named profile,
// or the default chain), the retrying HTTP stack, the service API client and an S3 client
// for staging, pipes and logs. The S3 endpoint comes from AWS_ENDPOINT_URL_S3 (or
// AWS_ENDPOINT_URL), as for the AWS CLI and SDKs; plain http only to loopback.
#pragma once

#include <memory>
#include <string>

#include "arbiter/aws/credentials.h"
#include "arbiter/aws/s3_client.h"
#include "arbiter/definitions/project.h"
#include "arbiter/emr/aws_api_client.h"
#include "arbiter/http/retry.h"

namespace arbiter::emr {

struct ConnectOptions {
  const Clock* clock = nullptr;         // required
  http::HttpClient* http = nullptr;     // default: libcurl
  http::RetryEnv* retry_env = nullptr;  // default: real time
  RequestObserver observer;             // sees every API request body
};

struct AwsConnection {
  std::unique_ptr<http::HttpClient> curl;
  std::unique_ptr<http::RetryingHttpClient> retrying;
  std::unique_ptr<aws::CredentialsProvider> credentials;
  aws::S3Options s3_options;
  std::unique_ptr<aws::S3Client> s3;
  std::unique_ptr<AwsApiClient> api;
};

// `type` is kEmr or kEmrServerless; `env` resolves ${env:}/${file:} and the process
// environment (AWS_* variables).
Result<std::unique_ptr<AwsConnection>> ConnectAws(const definitions::RuntimeConfig& runtime,
                                                  const definitions::Environment& env,
                                                  const ConnectOptions& options);

// Whether credentials for the runtime can be found now (its static keys, its
// profile, or the default chain: env, profile, ECS, IMDS), so placement can
// leave out a runtime that would fail at its first request. kFailedPrecondition
// saying where it looked.
Status CheckAwsCredentials(const definitions::RuntimeConfig& runtime,
                           const definitions::Environment& env, const Clock* clock);

}  // namespace arbiter::emr
