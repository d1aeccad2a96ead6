#include "arbiter/emr/aws_connection.h"

#include "arbiter/http/curl_http_client.h"
#include "arbiter/http/redact.h"

namespace arbiter::emr {

namespace {

bool IsLoopbackHttp(const std::string& url) {
  return url.rfind("http://127.0.0.1", 0) == 0 || url.rfind("http://localhost", 0) == 0 ||
         url.rfind("http://[::1]", 0) == 0;
}

Status CheckEndpoint(const std::string& url, const std::string& what) {
  if (url.rfind("https://", 0) == 0 || IsLoopbackHttp(url)) return Status::Ok();
  return InvalidArgumentError(what + " '" + url +
                              "' must use https:// (plain http only to 127.0.0.1 emulators)");
}

Result<std::string> Resolve(const definitions::ConfigString& s, const definitions::Environment& env,
                            const std::string& what) {
  Result<std::string> v = s.Resolve(env);
  if (!v.ok()) return v.status().WithContext(what);
  return v;
}

}  // namespace

Result<std::unique_ptr<AwsConnection>> ConnectAws(const definitions::RuntimeConfig& runtime,
                                                  const definitions::Environment& env,
                                                  const ConnectOptions& options) {
  const bool serverless = runtime.type == definitions::RuntimeType::kEmrServerless;
  const definitions::AwsTarget& target = serverless ? runtime.emr_serverless.aws : runtime.emr.aws;
  const std::string what = "runtime '" + runtime.name + "'";
  auto c = std::make_unique<AwsConnection>();
  http::HttpClient* base = options.http;
  if (base == nullptr) {
    c->curl = std::make_unique<http::CurlHttpClient>();
    base = c->curl.get();
  }
  c->retrying =
      std::make_unique<http::RetryingHttpClient>(base, AwsRetryPolicy(), options.retry_env);

  aws::EnvLookup lookup = [get = env.get_env](const std::string& name) {
    return get ? get(name) : std::nullopt;
  };
  const definitions::AwsCredentialsConfig& cc = target.credentials;
  if (cc.access_key_id && cc.secret_access_key) {
    aws::Credentials creds;
    ARBITER_ASSIGN_OR_RETURN(creds.access_key_id,
                             Resolve(*cc.access_key_id, env, what + " credentials.access_key_id"));
    ARBITER_ASSIGN_OR_RETURN(
        creds.secret_access_key,
        Resolve(*cc.secret_access_key, env, what + " credentials.secret_access_key"));
    if (cc.session_token) {
      ARBITER_ASSIGN_OR_RETURN(creds.session_token, Resolve(*cc.session_token, env,
                                                            what + " credentials.session_token"));
    }
    http::RegisterSecret(creds.secret_access_key);
    if (!creds.session_token.empty()) http::RegisterSecret(creds.session_token);
    c->credentials = std::make_unique<aws::StaticCredentialsProvider>(std::move(creds));
  } else if (cc.profile) {
    std::string profile = *cc.profile;
    c->credentials = std::make_unique<aws::ProfileCredentialsProvider>(
        [lookup, profile](const std::string& name) -> std::optional<std::string> {
          if (name == "AWS_PROFILE") return profile;
          return lookup(name);
        });
  } else {
    c->credentials = aws::DefaultCredentialsChain(base, lookup, options.clock);
  }

  std::string s3_endpoint =
      lookup("AWS_ENDPOINT_URL_S3").value_or(lookup("AWS_ENDPOINT_URL").value_or(""));
  if (!s3_endpoint.empty()) {
    ARBITER_RETURN_IF_ERROR(CheckEndpoint(s3_endpoint, "AWS_ENDPOINT_URL_S3"));
    c->s3_options.endpoint = s3_endpoint;
    c->s3_options.path_style = true;  // S3-compatible stores and emulators want path style
  }
  c->s3_options.region = target.region;
  c->s3 = std::make_unique<aws::S3Client>(c->retrying.get(), c->credentials.get(), options.clock,
                                          c->s3_options);

  AwsApiOptions api;
  api.region = target.region;
  api.signing_name = serverless ? "emr-serverless" : "elasticmapreduce";
  api.target_prefix = "ElasticMapReduce";
  if (target.endpoint) {
    ARBITER_ASSIGN_OR_RETURN(api.endpoint, Resolve(*target.endpoint, env, what + " endpoint"));
    ARBITER_RETURN_IF_ERROR(CheckEndpoint(api.endpoint, what + " endpoint"));
  } else {
    api.endpoint = "https://" + api.signing_name + "." + target.region + ".amazonaws.com";
  }
  c->api = std::make_unique<AwsApiClient>(c->retrying.get(), c->credentials.get(), options.clock,
                                          api, options.retry_env);
  if (options.observer) c->api->set_observer(options.observer);
  return c;
}

Status CheckAwsCredentials(const definitions::RuntimeConfig& runtime,
                           const definitions::Environment& env, const Clock* clock) {
  ConnectOptions options;
  options.clock = clock;
  Result<std::unique_ptr<AwsConnection>> c = ConnectAws(runtime, env, options);
  // The runtime's own settings (a key reference not set) say exactly what is missing.
  if (!c.ok()) return FailedPreconditionError("no AWS credentials: " + c.status().message());
  if (!(*c)->credentials->Get().ok()) {
    return FailedPreconditionError("no AWS credentials: env, profile, ECS, IMDS");
  }
  return Status::Ok();
}

}  // namespace arbiter::emr
