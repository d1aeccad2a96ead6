// Where AWS credentials come from, in the order the AWS CLI and SDKs look: environment
// variables, the shared credentials/config files (AWS_PROFILE), the ECS container endpoint,
// then EC2 instance metadata (IMDSv2). Temporary credentials carry an expiry; the chain
// caches them and refreshes a few minutes before they run out. Every secret loaded is
// registered with http::RegisterSecret so no log line can carry it.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "arbiter/aws/sigv4.h"
#include "arbiter/common/clock.h"
#include "arbiter/http/http.h"

namespace arbiter::aws {

// Environment lookup, injectable for tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnvironment();

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // kNotFound when this source is not configured (the chain moves on); other errors stop it.
  virtual Result<Credentials> Get() = 0;
  virtual std::string Name() const = 0;
};

// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN.
class EnvironmentCredentialsProvider final : public CredentialsProvider {
 public:
  explicit EnvironmentCredentialsProvider(EnvLookup env) : env_(std::move(env)) {}
  Result<Credentials> Get() override;
  std::string Name() const override { return "environment"; }

 private:
  EnvLookup env_;
};

// ~/.aws/credentials ([name]) then ~/.aws/config ([profile name]); paths from
// AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE, profile from AWS_PROFILE (else "default").
class ProfileCredentialsProvider final : public CredentialsProvider {
 public:
  explicit ProfileCredentialsProvider(EnvLookup env) : env_(std::move(env)) {}
  Result<Credentials> Get() override;
  std::string Name() const override { return "shared credentials files"; }

 private:
  EnvLookup env_;
};

// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on 169.254.170.2) or _FULL_URI, with
// AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE) as the Authorization header.
class EcsCredentialsProvider final : public CredentialsProvider {
 public:
  EcsCredentialsProvider(http::HttpClient* client, EnvLookup env)
      : client_(client), env_(std::move(env)) {}
  Result<Credentials> Get() override;
  std::string Name() const override { return "ECS container endpoint"; }

 private:
  http::HttpClient* client_;
  EnvLookup env_;
};

// IMDSv2: PUT a session token, then the role name and its credentials. Endpoint from
// AWS_EC2_METADATA_SERVICE_ENDPOINT; AWS_EC2_METADATA_DISABLED=true turns it off.
class ImdsCredentialsProvider final : public CredentialsProvider {
 public:
  ImdsCredentialsProvider(http::HttpClient* client, EnvLookup env)
      : client_(client), env_(std::move(env)) {}
  Result<Credentials> Get() override;
  std::string Name() const override { return "EC2 instance metadata (IMDSv2)"; }

 private:
  http::HttpClient* client_;
  EnvLookup env_;
};

// Tries providers in order; caches what it got until `refresh_before` ahead of expiry.
class CredentialsChain final : public CredentialsProvider {
 public:
  CredentialsChain(std::vector<std::unique_ptr<CredentialsProvider>> providers, const Clock* clock,
                   std::chrono::seconds refresh_before = std::chrono::minutes(5));
  Result<Credentials> Get() override;
  std::string Name() const override { return "credentials chain"; }

 private:
  std::vector<std::unique_ptr<CredentialsProvider>> providers_;
  const Clock* clock_;
  std::chrono::seconds refresh_before_;
  std::mutex mu_;
  std::optional<Credentials> cached_;
};

// env, profile, ECS, IMDS. `client` serves the last two (give it short timeouts).
std::unique_ptr<CredentialsChain> DefaultCredentialsChain(http::HttpClient* client, EnvLookup env,
                                                          const Clock* clock);

// Fixed credentials (tests, or keys resolved from ${env:}/${file:} references).
class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(Credentials c) : creds_(std::move(c)) {}
  Result<Credentials> Get() override { return creds_; }
  std::string Name() const override { return "static"; }

 private:
  Credentials creds_;
};

// AWS_REGION, AWS_DEFAULT_REGION, then `region` of the profile in the config file.
Result<std::string> ResolveRegion(const EnvLookup& env);

// Parses "2026-11-24T13:37:16Z" (fractional seconds and +00:00 accepted).
std::optional<TimePoint> ParseIso8601(std::string_view s);
// {"AccessKeyId","SecretAccessKey","Token","Expiration"} as ECS and IMDS return them.
Result<Credentials> ParseCredentialsJson(std::string_view body, std::string_view source);

}  // namespace arbiter::aws
