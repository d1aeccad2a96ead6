#include "arbiter/http/retry.h"

#include <gtest/gtest.h>

#include "arbiter/http/fake_http_client.h"

namespace arbiter::http {
namespace {

using std::chrono::milliseconds;

// Time advances only when the client sleeps (or a test says so); randomness is fixed.
class FakeRetryEnv final : public RetryEnv {
 public:
  std::chrono::steady_clock::time_point Now() override { return now_; }
  void Sleep(milliseconds d) override {
    sleeps.push_back(d);
    now_ += d;
  }
  double Random() override { return random; }

  std::vector<milliseconds> sleeps;
  double random = 0.5;

 private:
  std::chrono::steady_clock::time_point now_{};
};

HttpRequest Get() {
  HttpRequest r;
  r.url = "https://example.com/api?X-Amz-Signature=abcdef0123456789";
  return r;
}

TEST(RetryTest, RetriesTransientStatusesThenSucceeds) {
  FakeHttpClient fake;
  fake.Enqueue(500);
  fake.Enqueue(502);
  fake.Enqueue(504);
  fake.Enqueue(200, "ok");
  FakeRetryEnv env;
  RetryPolicy policy;
  policy.initial_backoff = milliseconds(100);
  RetryingHttpClient client(&fake, policy, &env);
  auto r = client.Send(Get());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "ok");
  ASSERT_EQ(env.sleeps.size(), 3u);
  // Exponential with equal jitter at random=0.5: 0.75 * base.
  EXPECT_EQ(env.sleeps[0], milliseconds(75));
  EXPECT_EQ(env.sleeps[1], milliseconds(150));
  EXPECT_EQ(env.sleeps[2], milliseconds(300));
}

TEST(RetryTest, BackoffIsCappedAndJittered) {
  FakeHttpClient fake;
  for (int i = 0; i < 10; ++i) fake.Enqueue(503, "", {{"Retry-After", "0"}});
  FakeRetryEnv env;
  env.random = 0.0;
  RetryPolicy policy;
  policy.max_attempts = 10;
  policy.initial_backoff = milliseconds(1000);
  policy.max_backoff = milliseconds(4000);
  policy.max_total = milliseconds(1'000'000);
  RetryingHttpClient client(&fake, policy, &env);
  auto r = client.Send(Get());
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(env.sleeps.size(), 9u);
  EXPECT_EQ(env.sleeps[0], milliseconds(500));
  EXPECT_EQ(env.sleeps[8], milliseconds(2000));  // half of the 4 s cap at random=0
}

TEST(RetryTest, HonoursRetryAfterSeconds) {
  FakeHttpClient fake;
  fake.Enqueue(429, R"({"error_code":"REQUEST_LIMIT_EXCEEDED"})", {{"Retry-After", "7"}});
  fake.Enqueue(200);
  FakeRetryEnv env;
  RetryingHttpClient client(&fake, RetryPolicy{}, &env);
  ASSERT_TRUE(client.Send(Get()).ok());
  ASSERT_EQ(env.sleeps.size(), 1u);
  EXPECT_EQ(env.sleeps[0], milliseconds(7000));
}

TEST(RetryTest, MissingRetryAfterUsesDefault) {
  FakeHttpClient fake;
  fake.Enqueue(429, "", {{"Retry-After", "soon"}});
  fake.Enqueue(200);
  FakeRetryEnv env;
  RetryPolicy policy;
  policy.initial_backoff = milliseconds(10);
  policy.default_retry_after = milliseconds(1500);
  RetryingHttpClient client(&fake, policy, &env);
  ASSERT_TRUE(client.Send(Get()).ok());
  EXPECT_EQ(env.sleeps.at(0), milliseconds(1500));
}

TEST(RetryTest, ParsesRetryAfterHttpDate) {
  // 1994-11-06T08:49:37Z is 784111777.
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 784111770), milliseconds(7000));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 784111999), milliseconds(0));
  EXPECT_FALSE(ParseRetryAfter("", 0));
  EXPECT_FALSE(ParseRetryAfter("Sun, 06 Foo 1994 08:49:37 GMT", 0));
  EXPECT_FALSE(ParseRetryAfter("99999999999999999999", 0));
}

TEST(RetryTest, StopsAtMaxAttemptsWithAClearError) {
  FakeHttpClient fake;
  for (int i = 0; i < 3; ++i) fake.Enqueue(503, "<Error><Code>SlowDown</Code></Error>");
  FakeRetryEnv env;
  RetryPolicy policy;
  policy.max_attempts = 3;
  policy.describe_error = [](const HttpResponse&) { return std::string("SlowDown: reduce rate"); };
  RetryingHttpClient client(&fake, policy, &env);
  auto r = client.Send(Get());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(fake.requests().size(), 3u);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("GET https://example.com/api"), std::string::npos) << m;
  EXPECT_NE(m.find("3 attempts"), std::string::npos) << m;
  EXPECT_NE(m.find("HTTP 503: SlowDown: reduce rate"), std::string::npos) << m;
  EXPECT_EQ(m.find("abcdef0123456789"), std::string::npos) << "signature leaked: " << m;
}

TEST(RetryTest, StopsWhenTheTimeBudgetWouldBeExceeded) {
  FakeHttpClient fake;
  for (int i = 0; i < 5; ++i) fake.Enqueue(429, "", {{"Retry-After", "30"}});
  FakeRetryEnv env;
  RetryPolicy policy;
  policy.max_total = milliseconds(45'000);
  RetryingHttpClient client(&fake, policy, &env);
  auto r = client.Send(Get());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(fake.requests().size(), 2u);  // 0 s, 30 s; a third at 60 s would pass 45 s
  EXPECT_NE(r.status().message().find("budget"), std::string::npos);
}

TEST(RetryTest, DoesNotRetryNonIdempotentRequests) {
  FakeHttpClient fake;
  fake.Enqueue(503);
  fake.EnqueueError(UnavailableError("connection reset"));
  FakeRetryEnv env;
  RetryingHttpClient client(&fake, RetryPolicy{}, &env);
  HttpRequest post = Get();
  post.method = "POST";
  auto r = client.Send(post);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503);  // handed back for the caller to map, not retried
  auto r2 = client.Send(post);
  EXPECT_EQ(r2.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(fake.requests().size(), 2u);
  EXPECT_TRUE(env.sleeps.empty());
}

TEST(RetryTest, RetriesPostWithIdempotencyToken) {
  FakeHttpClient fake;
  fake.EnqueueError(UnavailableError("connection reset"));
  fake.Enqueue(200);
  FakeRetryEnv env;
  RetryingHttpClient client(&fake, RetryPolicy{}, &env);
  HttpRequest post = Get();
  post.method = "POST";
  post.idempotent = true;
  EXPECT_TRUE(client.Send(post).ok());
  EXPECT_EQ(fake.requests().size(), 2u);
}

TEST(RetryTest, DoesNotRetryClientErrorsUnlessMarkedTransient) {
  FakeHttpClient fake;
  fake.Enqueue(404, "<Error><Code>NoSuchKey</Code></Error>");
  fake.Enqueue(400, R"({"__type":"ThrottlingException"})");
  fake.Enqueue(200);
  FakeRetryEnv env;
  RetryPolicy policy;
  policy.is_transient_error = [](const HttpResponse& r) {
    return r.body.find("ThrottlingException") != std::string::npos;
  };
  RetryingHttpClient client(&fake, policy, &env);
  auto notfound = client.Send(Get());
  ASSERT_TRUE(notfound.ok());
  EXPECT_EQ(notfound->status, 404);
  auto throttled = client.Send(Get());
  ASSERT_TRUE(throttled.ok());
  EXPECT_EQ(throttled->status, 200);
  EXPECT_EQ(fake.requests().size(), 3u);
}

TEST(RetryTest, DoesNotRetryBadUrls) {
  FakeHttpClient fake;
  fake.EnqueueError(InvalidArgumentError("bad URL"));
  FakeRetryEnv env;
  RetryingHttpClient client(&fake, RetryPolicy{}, &env);
  EXPECT_EQ(client.Send(Get()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fake.requests().size(), 1u);
}

}  // namespace
}  // namespace arbiter::http
