// The AWS JSON client: error shapes of both protocols, retry meaning, throttled creates
// retried (they were not executed), and our signatures checked by the emulators' own
// SigV4 verifier (a wrong secret is refused with AWS's error shape).
#include "arbiter/emr/aws_api_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "arbiter/emr/emulator_fixture.h"
#include "arbiter/emr/job_staging.h"
#include "arbiter/http/curl_http_client.h"
#include "arbiter/http/fake_http_client.h"

namespace arbiter::emr {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class RecordingEnv final : public http::RetryEnv {
 public:
  std::chrono::steady_clock::time_point Now() override { return now_; }
  void Sleep(std::chrono::milliseconds d) override {
    sleeps.push_back(d);
    now_ += d;
  }
  double Random() override { return 0.5; }
  std::vector<std::chrono::milliseconds> sleeps;

 private:
  std::chrono::steady_clock::time_point now_{};
};

AwsApiOptions EmrOptions(
    std::string endpoint = "https://elasticmapreduce.us-east-1.amazonaws.com") {
  return {std::move(endpoint), "us-east-1", "elasticmapreduce", "ElasticMapReduce"};
}

TEST(AwsErrorTest, BothProtocolsShapesAndTheirRetryMeaning) {
  AwsError e = ParseAwsError(
      {400, {}, R"({"__type":"com.amazon#ThrottlingException","message":"Rate exceeded"})"});
  EXPECT_EQ(e.code, "ThrottlingException");
  EXPECT_EQ(e.message, "Rate exceeded");
  EXPECT_EQ(AwsErrorStatus(e, "EMR RunJobFlow").code(), StatusCode::kResourceExhausted);
  e = ParseAwsError(
      {404,
       {{"x-amzn-ErrorType", "ResourceNotFoundException:http://internal.amazon.com/"}},
       R"({"Message":"Job run 00f does not exist"})"});
  EXPECT_EQ(e.code, "ResourceNotFoundException");
  EXPECT_EQ(e.message, "Job run 00f does not exist");
  EXPECT_EQ(AwsErrorStatus(e, "x").code(), StatusCode::kNotFound);
  e = ParseAwsError(
      {400,
       {},
       R"({"__type":"InvalidRequestException","ErrorCode":"INVALID_REQUEST","Message":"Cluster id 'j-1' is not valid."})"});
  Status s = AwsErrorStatus(e, "EMR DescribeCluster");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "EMR DescribeCluster: InvalidRequestException: Cluster id 'j-1' is not valid.");
  EXPECT_EQ(AwsErrorStatus(ParseAwsError({500, {}, ""}), "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(
      AwsErrorStatus(ParseAwsError({400, {}, R"({"__type":"InvalidSignatureException"})"}), "x")
          .code(),
      StatusCode::kPermissionDenied);
}

TEST(AwsApiClientTest, SignsJson11AndRetriesAThrottledCreate) {
  http::FakeHttpClient fake;
  fake.Enqueue(400, R"({"__type":"ThrottlingException","message":"Rate exceeded"})");
  fake.Enqueue(400, R"({"__type":"ThrottlingException","message":"Rate exceeded"})");
  fake.Enqueue(200, R"({"JobFlowId":"j-1"})");
  aws::StaticCredentialsProvider creds({"AKID", "secret", "", std::nullopt});
  SystemClock clock;
  RecordingEnv env;
  AwsApiClient api(&fake, &creds, &clock, EmrOptions(), &env);
  std::vector<std::string> seen;
  api.set_observer([&](std::string_view op, const json&) { seen.emplace_back(op); });
  auto r = api.Call("RunJobFlow", {{"Name", "x"}}, false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["JobFlowId"], "j-1");
  ASSERT_EQ(fake.requests().size(), 3u);
  const http::HttpRequest req = fake.requests()[0];
  EXPECT_EQ(req.url, "https://elasticmapreduce.us-east-1.amazonaws.com/");
  EXPECT_EQ(*http::FindHeader(req.headers, "X-Amz-Target"), "ElasticMapReduce.RunJobFlow");
  EXPECT_EQ(*http::FindHeader(req.headers, "Content-Type"), "application/x-amz-json-1.1");
  EXPECT_THAT(*http::FindHeader(req.headers, "Authorization"),
              HasSubstr("/us-east-1/elasticmapreduce/aws4_request"));
  EXPECT_EQ(env.sleeps.size(), 2u);
  EXPECT_EQ(seen, std::vector<std::string>{"RunJobFlow"});
}

TEST(AwsApiClientTest, ACreateIsNotRepeatedAfterAServerError) {
  http::FakeHttpClient fake;
  fake.Enqueue(500, R"({"__type":"InternalServerError"})");
  aws::StaticCredentialsProvider creds({"AKID", "secret", "", std::nullopt});
  SystemClock clock;
  RecordingEnv env;
  http::RetryingHttpClient retrying(&fake, AwsRetryPolicy(), &env);
  AwsApiClient api(&retrying, &creds, &clock, EmrOptions(), &env);
  auto r = api.Call("RunJobFlow", {{"Name", "x"}}, false);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);  // the launcher looks the cluster up
  EXPECT_EQ(fake.requests().size(), 1u);
}

TEST(GunzipTest, DecodesWhatEmrWritesAndRefusesOtherBytes) {
  const unsigned char gz[] = {31,  139, 8,  0,   0,   0,   0,   0,   2, 3,  203, 201,
                              204, 75,  85, 200, 207, 75,  229, 202, 1, 49, 74,  202,
                              243, 185, 0,  139, 215, 244, 117, 18,  0, 0,  0};
  auto text = Gunzip(std::string_view(reinterpret_cast<const char*>(gz), sizeof gz));
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, "line one\nline two\n");
  EXPECT_FALSE(Gunzip("plain text").ok());
  auto loc = S3Location::Parse("s3://bucket/a/b/");
  ASSERT_TRUE(loc.ok());
  EXPECT_EQ(loc->Uri("code/x.py"), "s3://bucket/a/b/code/x.py");
  EXPECT_FALSE(S3Location::Parse("https://bucket/a").ok());
}

// Against the emulator's independent SigV4 verifier (Python hmac/hashlib).
TEST(AwsApiClientTest, TheEmulatorVerifiesOurSignaturesAndRefusesAWrongSecret) {
  std::string why;
  std::string python = ARBITER_PYTHON3;
  auto emr = testing::EmulatorProcess::Start(
      python, "emr",
      {"--access-key", "AKIDTEST", "--secret-key", "right-secret", "--workdir", "/tmp"}, &why);
  ASSERT_TRUE(emr) << why;
  auto serverless = testing::EmulatorProcess::Start(
      python, "emr-serverless",
      {"--access-key", "AKIDTEST", "--secret-key", "right-secret", "--workdir", "/tmp"}, &why);
  ASSERT_TRUE(serverless) << why;
  http::CurlHttpClient http;
  SystemClock clock;
  aws::StaticCredentialsProvider good({"AKIDTEST", "right-secret", "", std::nullopt});
  aws::StaticCredentialsProvider bad({"AKIDTEST", "wrong-secret", "", std::nullopt});
  AwsApiClient ok_api(&http, &good, &clock, EmrOptions(emr->endpoint()));
  auto listed = ok_api.Call("ListClusters", json::object(), true);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_TRUE((*listed)["Clusters"].empty());
  AwsApiClient bad_api(&http, &bad, &clock, EmrOptions(emr->endpoint()));
  auto refused = bad_api.Call("ListClusters", json::object(), true);
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(refused.status().message(), HasSubstr("InvalidSignatureException"));

  AwsApiClient rest(&http, &good, &clock,
                    {serverless->endpoint(), "us-east-1", "emr-serverless", ""});
  auto missing =
      rest.Rest("GetJobRun", "GET", "/applications/00fabcd1234efg09/jobruns/nope", nullptr, true);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("ResourceNotFoundException"));
  AwsApiClient rest_bad(&http, &bad, &clock,
                        {serverless->endpoint(), "us-east-1", "emr-serverless", ""});
  auto refused_rest =
      rest_bad.Rest("GetJobRun", "GET", "/applications/00fabcd1234efg09/jobruns/x", nullptr, true);
  EXPECT_EQ(refused_rest.status().code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace arbiter::emr
