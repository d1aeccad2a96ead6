#include "arbiter/databricks/auth.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "arbiter/http/fake_http_client.h"

namespace arbiter::databricks {
namespace {

EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(DatabricksAuthTest, SecretReferences) {
  EXPECT_EQ(*ResolveSecretRef("${env:TOK}", MapEnv({{"TOK", "dapi123"}})), "dapi123");
  EXPECT_EQ(ResolveSecretRef("${env:TOK}", MapEnv({})).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ResolveSecretRef("dapi-literal", MapEnv({})).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveSecretRef("${env:}", MapEnv({})).status().code(), StatusCode::kInvalidArgument);
  char path[] = "/tmp/arbiter-secret-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "file-secret-value\n";
  EXPECT_EQ(*ResolveSecretRef(std::string("${file:") + path + "}", MapEnv({})), "file-secret-value");
  std::remove(path);
  EXPECT_EQ(ResolveSecretRef(std::string("${file:") + path + "}", MapEnv({})).status().code(), StatusCode::kNotFound);
}

TEST(DatabricksAuthTest, PersonalAccessToken) {
  PatAuth pat("${env:DATABRICKS_TOKEN}", MapEnv({{"DATABRICKS_TOKEN", "dapi0123456789"}}));
  EXPECT_EQ(*pat.Authorization(), "Bearer dapi0123456789");
}

TEST(DatabricksAuthTest, OAuthM2MTokenIsCachedUntilShortlyBeforeExpiry) {
  http::FakeHttpClient fake;
  fake.Enqueue(200, R"({"access_token":"eyJfirst","token_type":"Bearer","expires_in":3600,"scope":"all-apis"})");
  fake.Enqueue(200, R"({"access_token":"eyJsecond","token_type":"Bearer","expires_in":3600})");
  FakeClock clock(TimePoint(std::chrono::seconds(1'800'000'000)));
  OAuthM2MConfig config;
  config.host = "https://dbc-1.cloud.databricks.com/";
  config.client_id = "sp-client-id";
  config.client_secret_ref = "${env:SP_SECRET}";
  OAuthM2MAuth auth(&fake, &clock, config, MapEnv({{"SP_SECRET", "sp-secret-value"}}));
  EXPECT_EQ(*auth.Authorization(), "Bearer eyJfirst");
  clock.Advance(std::chrono::seconds(3600 - 301));
  EXPECT_EQ(*auth.Authorization(), "Bearer eyJfirst");  // cached
  EXPECT_EQ(fake.requests().size(), 1u);
  clock.Advance(std::chrono::seconds(2));  // inside the 5-minute margin
  EXPECT_EQ(*auth.Authorization(), "Bearer eyJsecond");
  const auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].url, "https://dbc-1.cloud.databricks.com/oidc/v1/token");
  EXPECT_EQ(reqs[0].body, "grant_type=client_credentials&scope=all-apis");
  // base64("sp-client-id:sp-secret-value")
  EXPECT_EQ(http::FindHeader(reqs[0].headers, "authorization"), "Basic c3AtY2xpZW50LWlkOnNwLXNlY3JldC12YWx1ZQ==");
  EXPECT_EQ(http::FindHeader(reqs[0].headers, "content-type"), "application/x-www-form-urlencoded");
}

TEST(DatabricksAuthTest, TokenEndpointErrors) {
  auto bad_client = ParseTokenResponse(401, R"({"error":"invalid_client","error_description":"Client authentication failed"})");
  EXPECT_EQ(bad_client.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(bad_client.status().message().find("invalid_client: Client authentication failed"), std::string::npos);
  auto okta = ParseTokenResponse(400, R"({"errorCode":"E0000","errorSummary":"bad"})");
  EXPECT_NE(okta.status().message().find("E0000: bad"), std::string::npos);
  for (const char* body : {"", "{", "[]", "<html><title>Bad Gateway</title></html>", R"({"access_token":""})",
                           R"({"access_token":"x"})", R"({"access_token":"x","expires_in":"3600"})",
                           R"({"access_token":"x","expires_in":-5})", R"({"access_token":7,"expires_in":60})",
                           R"({"error":"server_error"})"}) {
    EXPECT_FALSE(ParseTokenResponse(200, body).ok()) << body;
  }
  EXPECT_EQ(ParseTokenResponse(502, "<html><title>Bad Gateway</title></html>").status().code(),
            StatusCode::kUnavailable);
}

TEST(DatabricksAuthTest, ErrorBodies) {
  auto s = DatabricksErrorStatus(400, R"({"error_code":"INVALID_PARAMETER_VALUE","message":"bad run","details":[]})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "Databricks: INVALID_PARAMETER_VALUE: bad run (HTTP 400)");
  EXPECT_EQ(DatabricksErrorStatus(404, R"({"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no run"})").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(DatabricksErrorStatus(400, R"({"error":"old style"})").message(), "Databricks: old style (HTTP 400)");
  EXPECT_EQ(DatabricksErrorStatus(429, "REQUEST_LIMIT_EXCEEDED: slow down").message(),
            "Databricks: REQUEST_LIMIT_EXCEEDED: slow down (HTTP 429)");
  EXPECT_EQ(DatabricksErrorStatus(429, "REQUEST_LIMIT_EXCEEDED: slow down").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(DatabricksErrorStatus(500, "<html><body><pre>stack here</pre></body></html>").message(),
            "Databricks: stack here (HTTP 500)");
  EXPECT_EQ(DatabricksErrorStatus(503, "").message(), "Databricks: HTTP 503 with no error body (HTTP 503)");
  EXPECT_EQ(DatabricksErrorStatus(503, "").code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace arbiter::databricks
