#include "arbiter/aws/credentials.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "arbiter/http/fake_http_client.h"

namespace arbiter::aws {
namespace {

namespace fs = std::filesystem;

EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("arbiter-creds-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return (path_ / name).string();
  }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

const TimePoint kNow = TimePoint(std::chrono::seconds(1'800'000'000));  // 2027-01-15T08:00:00Z

TEST(CredentialsTest, EnvironmentWithSessionToken) {
  EnvironmentCredentialsProvider p(MapEnv(
      {{"AWS_ACCESS_KEY_ID", "AKIAENV"}, {"AWS_SECRET_ACCESS_KEY", "envsecret"}, {"AWS_SESSION_TOKEN", "envtoken"}}));
  auto c = p.Get();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKIAENV");
  EXPECT_EQ(c->session_token, "envtoken");
  EXPECT_EQ(EnvironmentCredentialsProvider(MapEnv({})).Get().status().code(), StatusCode::kNotFound);
  EXPECT_EQ(EnvironmentCredentialsProvider(MapEnv({{"AWS_ACCESS_KEY_ID", "x"}})).Get().status().code(),
            StatusCode::kInvalidArgument);
}

TEST(CredentialsTest, SharedFilesWithProfiles) {
  TempDir dir;
  const std::string creds = dir.Write("credentials",
                                      "# comment\n[default]\naws_access_key_id = AKIADEF\n"
                                      "aws_secret_access_key=defsecret\n\n[dev]\n"
                                      "aws_access_key_id = AKIADEV\naws_secret_access_key = devsecret\n"
                                      "aws_session_token = devtoken\n");
  const std::string config = dir.Write("config",
                                       "[default]\nregion = eu-west-1\n[profile cfgonly]\n"
                                       "aws_access_key_id=AKIACFG\naws_secret_access_key=cfgsecret\n"
                                       "region=ap-south-1\n[profile assumed]\nrole_arn=arn:aws:iam::1:role/x\n");
  auto env = [&](std::map<std::string, std::string> extra) {
    extra["AWS_SHARED_CREDENTIALS_FILE"] = creds;
    extra["AWS_CONFIG_FILE"] = config;
    return MapEnv(extra);
  };
  auto def = ProfileCredentialsProvider(env({})).Get();
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def->access_key_id, "AKIADEF");
  auto dev = ProfileCredentialsProvider(env({{"AWS_PROFILE", "dev"}})).Get();
  ASSERT_TRUE(dev.ok());
  EXPECT_EQ(dev->session_token, "devtoken");
  auto cfg = ProfileCredentialsProvider(env({{"AWS_PROFILE", "cfgonly"}})).Get();
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->access_key_id, "AKIACFG");
  EXPECT_EQ(ProfileCredentialsProvider(env({{"AWS_PROFILE", "missing"}})).Get().status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ProfileCredentialsProvider(env({{"AWS_PROFILE", "assumed"}})).Get().status().code(),
            StatusCode::kUnimplemented);

  EXPECT_EQ(*ResolveRegion(env({})), "eu-west-1");
  EXPECT_EQ(*ResolveRegion(env({{"AWS_PROFILE", "cfgonly"}})), "ap-south-1");
  EXPECT_EQ(*ResolveRegion(env({{"AWS_DEFAULT_REGION", "us-west-2"}})), "us-west-2");
  EXPECT_EQ(*ResolveRegion(env({{"AWS_REGION", "us-east-2"}, {"AWS_DEFAULT_REGION", "x"}})), "us-east-2");
  EXPECT_EQ(ResolveRegion(MapEnv({{"HOME", "/nonexistent"}})).status().code(), StatusCode::kNotFound);
}

const char* kCredsJson = R"({"Code":"Success","AccessKeyId":"ASIATEMP","SecretAccessKey":"tempsecret",
  "Token":"temptoken","Expiration":"2027-01-15T09:00:00Z"})";

TEST(CredentialsTest, EcsEndpointWithAuthorizationToken) {
  http::FakeHttpClient fake;
  fake.Enqueue(200, kCredsJson);
  EcsCredentialsProvider p(&fake, MapEnv({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/creds/abc"},
                                          {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "ecs-auth-token"}}));
  auto c = p.Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ASIATEMP");
  EXPECT_EQ(c->expiration, TimePoint(std::chrono::seconds(1'800'003'600)));
  const auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].url, "http://169.254.170.2/v2/creds/abc");
  EXPECT_EQ(http::FindHeader(reqs[0].headers, "authorization"), "ecs-auth-token");
  EXPECT_EQ(EcsCredentialsProvider(&fake, MapEnv({})).Get().status().code(), StatusCode::kNotFound);
}

TEST(CredentialsTest, ImdsV2Flow) {
  http::FakeHttpClient fake;
  fake.SetHandler([](const http::HttpRequest& r) -> Result<http::HttpResponse> {
    if (r.method == "PUT" && r.url == "http://imds.test/latest/api/token") {
      if (!http::FindHeader(r.headers, "x-aws-ec2-metadata-token-ttl-seconds")) return http::HttpResponse{400, {}, ""};
      return http::HttpResponse{200, {}, "imds-session-token"};
    }
    if (http::FindHeader(r.headers, "x-aws-ec2-metadata-token") != "imds-session-token") {
      return http::HttpResponse{401, {}, ""};
    }
    if (r.url == "http://imds.test/latest/meta-data/iam/security-credentials/") {
      return http::HttpResponse{200, {}, "my-role\n"};
    }
    if (r.url == "http://imds.test/latest/meta-data/iam/security-credentials/my-role") {
      return http::HttpResponse{200, {}, kCredsJson};
    }
    return http::HttpResponse{404, {}, ""};
  });
  ImdsCredentialsProvider p(&fake, MapEnv({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://imds.test/"}}));
  auto c = p.Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->session_token, "temptoken");
  EXPECT_EQ(ImdsCredentialsProvider(&fake, MapEnv({{"AWS_EC2_METADATA_DISABLED", "true"}})).Get().status().code(),
            StatusCode::kNotFound);
}

TEST(CredentialsTest, ImdsUnreachableMeansNotConfigured) {
  http::FakeHttpClient fake;
  fake.EnqueueError(Status(StatusCode::kDeadlineExceeded, "timed out"));
  EXPECT_EQ(ImdsCredentialsProvider(&fake, MapEnv({})).Get().status().code(), StatusCode::kNotFound);
}

TEST(CredentialsTest, BadCredentialResponsesAreClearErrors) {
  for (const char* body : {"", "not json", "[]", R"({"AccessKeyId":"A"})",
                           R"({"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"yesterday"})",
                           R"({"AccessKeyId":5,"SecretAccessKey":null})", "{\"AccessKeyId\":\"A\",\"Secr"}) {
    auto c = ParseCredentialsJson(body, "test");
    EXPECT_FALSE(c.ok()) << body;
    EXPECT_NE(c.status().message().find("test"), std::string::npos);
  }
  auto failed = ParseCredentialsJson(R"({"Code":"AssumeRoleUnauthorizedAccess","Message":"no"})", "IMDS");
  EXPECT_EQ(failed.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(failed.status().message().find("AssumeRoleUnauthorizedAccess"), std::string::npos);
}

class CountingProvider final : public CredentialsProvider {
 public:
  explicit CountingProvider(Result<Credentials> r) : result_(std::move(r)) {}
  Result<Credentials> Get() override {
    ++calls;
    return result_;
  }
  std::string Name() const override { return "counting"; }
  int calls = 0;
  Result<Credentials> result_;
};

TEST(CredentialsTest, ChainOrderCachingAndRefresh) {
  FakeClock clock(kNow);
  Credentials temp{"ASIA", "s", "t", kNow + std::chrono::hours(1)};
  auto first = std::make_unique<CountingProvider>(NotFoundError("not set"));
  auto second = std::make_unique<CountingProvider>(temp);
  auto third = std::make_unique<CountingProvider>(Credentials{"NEVER", "x", "", std::nullopt});
  CountingProvider* second_ptr = second.get();
  CountingProvider* third_ptr = third.get();
  std::vector<std::unique_ptr<CredentialsProvider>> providers;
  providers.push_back(std::move(first));
  providers.push_back(std::move(second));
  providers.push_back(std::move(third));
  CredentialsChain chain(std::move(providers), &clock);
  ASSERT_EQ(chain.Get()->access_key_id, "ASIA");
  ASSERT_EQ(chain.Get()->access_key_id, "ASIA");
  EXPECT_EQ(second_ptr->calls, 1);  // cached
  EXPECT_EQ(third_ptr->calls, 0);
  clock.Advance(std::chrono::minutes(54));
  ASSERT_TRUE(chain.Get().ok());
  EXPECT_EQ(second_ptr->calls, 1);  // 6 min left: still cached
  clock.Advance(std::chrono::minutes(2));
  ASSERT_TRUE(chain.Get().ok());
  EXPECT_EQ(second_ptr->calls, 2);  // 4 min left: refreshed
}

TEST(CredentialsTest, ChainReportsExpiredAndMissingCredentials) {
  FakeClock clock(kNow);
  std::vector<std::unique_ptr<CredentialsProvider>> expired;
  expired.push_back(std::make_unique<CountingProvider>(Credentials{"A", "s", "t", kNow - std::chrono::seconds(1)}));
  auto e = CredentialsChain(std::move(expired), &clock).Get();
  EXPECT_EQ(e.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(e.status().message().find("expired"), std::string::npos);

  auto none = DefaultCredentialsChain(nullptr, MapEnv({{"HOME", "/nonexistent"}, {"AWS_EC2_METADATA_DISABLED", "true"}}), &clock);
  auto n = none->Get();
  EXPECT_EQ(n.status().code(), StatusCode::kNotFound);
  EXPECT_NE(n.status().message().find("environment"), std::string::npos) << n.status().message();
  EXPECT_NE(n.status().message().find("IMDSv2"), std::string::npos);
}

TEST(CredentialsTest, ParseIso8601) {
  EXPECT_EQ(ParseIso8601("2027-01-15T08:00:00Z"), kNow);
  EXPECT_EQ(ParseIso8601("2027-01-15T08:00:00.123Z"), kNow);
  EXPECT_FALSE(ParseIso8601("2027-13-15T08:00:00Z"));
  EXPECT_FALSE(ParseIso8601("garbage"));
}

}  // namespace
}  // namespace arbiter::aws
