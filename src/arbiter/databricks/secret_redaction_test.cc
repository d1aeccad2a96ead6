// Proves no secret from a test credential reaches any log line or error message: AWS keys
// and session tokens (Authorization, X-Amz-Security-Token, presigned query strings, ECS and
// IMDS responses) and Databricks PATs, OAuth client secrets and access tokens.
#include <gtest/gtest.h>

#include <map>

#include "arbiter/aws/credentials.h"
#include "arbiter/aws/s3_client.h"
#include "arbiter/databricks/auth.h"
#include "arbiter/http/fake_http_client.h"
#include "arbiter/http/logging_http_client.h"
#include "arbiter/http/retry.h"

namespace arbiter {
namespace {

const std::vector<std::string> kSecrets = {
    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYTESTSECRET",  // AWS secret key (env)
    "FwoGZXIvYXdzEtestSESSIONtoken/+=",           // AWS session token (env)
    "ecs/SecretAccessKey+value",                 // from the ECS endpoint
    "IQoJb3JpZ2luX2VjECS+token/=",               // ECS session token
    "ecs-authorization-token-1234",              // AWS_CONTAINER_AUTHORIZATION_TOKEN
    "dapi0123456789abcdeftestpat",               // Databricks PAT
    "sp-oauth-client-secret-value",              // Databricks OAuth client secret
    "eyJhbGciOiJSUzI1NiJ9.test-access-token",    // Databricks OAuth access token
};

databricks::OAuthM2MConfig OAuthConfig() {
  databricks::OAuthM2MConfig c;
  c.host = "https://dbc.test";
  c.client_id = "client-id";
  c.client_secret_ref = "${env:SP_SECRET}";
  return c;
}

class NoWait final : public http::RetryEnv {
 public:
  std::chrono::steady_clock::time_point Now() override { return t; }
  void Sleep(std::chrono::milliseconds d) override { t += d; }
  double Random() override { return 0.5; }
  std::chrono::steady_clock::time_point t{};
};

TEST(SecretRedactionTest, NoSecretInAnyLogLineOrError) {
  std::vector<std::string> lines;
  http::FakeHttpClient fake;
  http::LoggingHttpClient logged(&fake, [&](std::string_view l) { lines.emplace_back(l); });
  NoWait env;
  http::RetryingHttpClient client(&logged, aws::S3RetryPolicy(), &env);
  std::vector<std::string> errors;
  std::map<std::string, std::string> vars = {
      {"AWS_ACCESS_KEY_ID", "AKIATESTKEYID"},
      {"AWS_SECRET_ACCESS_KEY", kSecrets[0]},
      {"AWS_SESSION_TOKEN", kSecrets[1]},
      {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"},
      {"AWS_CONTAINER_AUTHORIZATION_TOKEN", kSecrets[4]},
      {"DATABRICKS_TOKEN", kSecrets[5]},
      {"SP_SECRET", kSecrets[6]},
      {"HOME", "/nonexistent"}};
  auto lookup = [&](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  FakeClock clock(TimePoint(std::chrono::seconds(1'800'000'000)));

  // S3 with env credentials: a signed PUT, a retried 503, an error that echoes the request.
  aws::EnvironmentCredentialsProvider env_creds(lookup);
  aws::S3Options o;
  o.endpoint = "https://s3.test";
  o.path_style = true;
  aws::S3Client s3(&client, &env_creds, &clock, o);
  fake.Enqueue(503, "<Error><Code>SlowDown</Code><Message>slow</Message></Error>");
  fake.Enqueue(200, "", {{"ETag", "\"e\""}});
  ASSERT_TRUE(s3.PutObject("b", "k", "{\"password\":\"" + kSecrets[0] + "\"}").ok());
  // S3's SignatureDoesNotMatch echoes the string to sign; a hostile echo of the token too.
  fake.Enqueue(403, "<Error><Code>SignatureDoesNotMatch</Code><Message>token " + kSecrets[1] +
                        "</Message></Error>");
  errors.push_back(s3.GetObject("b", "k").status().ToString());
  // A presigned URL fetched through the logged client.
  auto url = s3.PresignGet("b", "k", std::chrono::seconds(60));
  ASSERT_TRUE(url.ok());
  EXPECT_NE(url->find("X-Amz-Security-Token="), std::string::npos);
  http::HttpRequest presigned;
  presigned.url = *url;
  fake.Enqueue(500, "boom");
  fake.Enqueue(500, "boom");
  fake.Enqueue(500, "boom");
  fake.Enqueue(500, "boom");
  fake.Enqueue(500, "boom");
  auto gave_up = client.Send(presigned);
  ASSERT_FALSE(gave_up.ok());
  errors.push_back(gave_up.status().ToString());

  // ECS credentials: the response body holds keys.
  fake.Enqueue(200, std::string(R"({"AccessKeyId":"ASIAECS","SecretAccessKey":")") + kSecrets[2] +
                        R"(","Token":")" + kSecrets[3] + R"(","Expiration":"2027-01-15T09:00:00Z"})");
  aws::EcsCredentialsProvider ecs(&client, lookup);
  ASSERT_TRUE(ecs.Get().ok());

  // Databricks PAT and OAuth M2M.
  databricks::PatAuth pat("${env:DATABRICKS_TOKEN}", lookup);
  auto pat_header = pat.Authorization();
  ASSERT_TRUE(pat_header.ok());
  http::HttpRequest api;
  api.url = "https://dbc.test/api/2.1/jobs/runs/get?run_id=1";
  api.headers = {{"Authorization", *pat_header}};
  fake.Enqueue(403, R"({"error_code":"PERMISSION_DENIED","message":"token )" + kSecrets[5] + " is bad\"}");
  auto denied = client.Send(api);
  ASSERT_TRUE(denied.ok());
  errors.push_back(databricks::DatabricksErrorStatus(denied->status, denied->body).ToString());
  fake.Enqueue(200, std::string(R"({"access_token":")") + kSecrets[7] + R"(","token_type":"Bearer","expires_in":3600})");
  databricks::OAuthM2MAuth oauth(&client, &clock, OAuthConfig(), lookup);
  auto bearer = oauth.Authorization();
  ASSERT_TRUE(bearer.ok());
  EXPECT_EQ(*bearer, "Bearer " + kSecrets[7]);
  fake.Enqueue(401, std::string(R"({"error":"invalid_client","error_description":"secret )") + kSecrets[6] + " rejected\"}");
  databricks::OAuthM2MAuth oauth2(&client, &clock, OAuthConfig(), lookup);
  errors.push_back(oauth2.Authorization().status().ToString());

  ASSERT_GE(lines.size(), 20u);
  auto check = [&](const std::string& text) {
    for (const std::string& secret : kSecrets) {
      EXPECT_EQ(text.find(secret), std::string::npos) << "secret '" << secret << "' leaked in: " << text;
      const std::string encoded = http::UriEncode(secret, false);
      EXPECT_EQ(text.find(encoded), std::string::npos) << "encoded secret leaked in: " << text;
    }
    // The signature of a presigned URL is a bearer credential until it expires.
    const size_t sig = url->find("X-Amz-Signature=");
    EXPECT_EQ(text.find(url->substr(sig + 16)), std::string::npos) << text;
  };
  for (const auto& l : lines) check(l);
  for (const auto& e : errors) check(e);
  // The logs are still useful: methods, URLs and statuses are there.
  bool saw_put = false;
  for (const auto& l : lines) saw_put |= l.starts_with("http > PUT https://s3.test/b/k");
  EXPECT_TRUE(saw_put);
}

}  // namespace
}  // namespace arbiter
