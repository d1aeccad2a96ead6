#include "arbiter/http/redact.h"

#include <gtest/gtest.h>

#include "arbiter/http/fake_http_client.h"
#include "arbiter/http/logging_http_client.h"

namespace arbiter::http {
namespace {

TEST(RedactTest, SecretHeaders) {
  const std::string d = DescribeHeaders({{"Authorization", "Bearer dapi0123456789abcdef"},
                                         {"X-Amz-Security-Token", "FQoGZXIvYXdzEBYaDK"},
                                         {"X-aws-ec2-metadata-token", "AQAEAFTNrA4eEGx0AQ"},
                                         {"Content-Type", "application/json"}});
  EXPECT_EQ(d.find("dapi0123456789abcdef"), std::string::npos);
  EXPECT_EQ(d.find("FQoGZXIvYXdzEBYaDK"), std::string::npos);
  EXPECT_EQ(d.find("AQAEAFTNrA4eEGx0AQ"), std::string::npos);
  EXPECT_NE(d.find("Authorization: Bearer REDACTED"), std::string::npos) << d;
  EXPECT_NE(d.find("application/json"), std::string::npos);
}

TEST(RedactTest, SignedQueryStrings) {
  const std::string u = RedactUrl(
      "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F2015"
      "&X-Amz-Security-Token=tok%2Bsecret&X-Amz-Signature=deadbeef&partNumber=1");
  EXPECT_EQ(u,
            "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
            "REDACTED&X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED&partNumber=1");
  EXPECT_EQ(RedactUrl("https://user:pw@host/x"), "https://REDACTED@host/x");
}

TEST(RedactTest, JsonAndFormBodies) {
  EXPECT_EQ(RedactBody(R"({"access_token": "eyJhbGciOi", "expires_in": 3600, "token_type":"Bearer"})"),
            R"({"access_token": "REDACTED", "expires_in": 3600, "token_type":"REDACTED"})");
  EXPECT_EQ(RedactBody(R"({"Code":"Success","SecretAccessKey":"wJalr\"XUtn","Token":"IQoJb"})"),
            R"({"Code":"Success","SecretAccessKey":"REDACTED","Token":"REDACTED"})");
  EXPECT_EQ(RedactBody(R"({"nested":{"password":"hunter2hunter2"},"spark_conf":{"a":"b"}})"),
            R"({"nested":{"password":"REDACTED"},"spark_conf":{"a":"b"}})");
  EXPECT_EQ(RedactBody("grant_type=client_credentials&client_secret=s3cr3t&scope=all-apis"),
            "grant_type=client_credentials&client_secret=REDACTED&scope=all-apis");
  // Truncated or malformed JSON must not crash or leak.
  EXPECT_EQ(RedactBody(R"({"token": "abc)"), R"({"token": "REDACTED")");
  EXPECT_EQ(RedactBody(R"({"token)"), R"({"token)");
  EXPECT_EQ(RedactBody("\""), "\"");
}

TEST(RedactTest, KnownSecretsAreScrubbedAnywhere) {
  RegisterSecret("verysecretvalue+/=");
  RegisterSecret("short");  // too short to register
  EXPECT_EQ(ScrubKnownSecrets("a verysecretvalue+/= b verysecretvalue%2B%2F%3D c short"),
            "a REDACTED b REDACTED c short");
}

TEST(RedactTest, LoggingClientRedactsRequestsAndResponses) {
  FakeHttpClient fake;
  fake.Enqueue(200, R"({"access_token":"eyJtokenvalue123","expires_in":3600})");
  std::vector<std::string> lines;
  LoggingHttpClient client(&fake, [&](std::string_view l) { lines.emplace_back(l); });
  HttpRequest r;
  r.method = "POST";
  r.url = "https://host/oidc/v1/token";
  r.headers = {{"Authorization", "Basic Y2xpZW50OnNlY3JldA=="}};
  r.body = "grant_type=client_credentials&scope=all-apis";
  ASSERT_TRUE(client.Send(r).ok());
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& l : lines) {
    EXPECT_EQ(l.find("Y2xpZW50OnNlY3JldA"), std::string::npos) << l;
    EXPECT_EQ(l.find("eyJtokenvalue123"), std::string::npos) << l;
  }
  EXPECT_NE(lines[0].find("POST https://host/oidc/v1/token"), std::string::npos);
  EXPECT_NE(lines[1].find("200"), std::string::npos);

  fake.Enqueue(200, "AQAEAraw-imds-token==");
  HttpRequest imds;
  imds.method = "PUT";
  imds.url = "http://169.254.169.254/latest/api/token";
  imds.secret_response_body = true;
  ASSERT_TRUE(client.Send(imds).ok());
  EXPECT_EQ(lines.back().find("AQAEAraw-imds-token"), std::string::npos) << lines.back();
}

}  // namespace
}  // namespace arbiter::http
