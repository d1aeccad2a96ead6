// The retry policy every cloud caller shares: exponential backoff with jitter, capped by
// attempts and by total time, Retry-After honoured, and only safe retries: a transport error,
// 429, 500/502/503/504 or a caller-recognised throttling error, and only for idempotent
// requests (or ones carrying an idempotency token). When it gives up, the error names the
// endpoint, the attempts, the time spent and the last status and message.
// Time and randomness come through RetryEnv so tests script them instead of sleeping.
#pragma once

#include <chrono>
#include <functional>
#include <random>
#include <string>

#include "arbiter/common/clock.h"
#include "arbiter/http/http.h"

namespace arbiter::http {

struct RetryPolicy {
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{250};
  std::chrono::milliseconds max_backoff{20'000};
  // Total time budget including waits; no retry is started that would end past it.
  std::chrono::milliseconds max_total{120'000};
  // Used when a 429/503 carries no (or an unparsable) Retry-After.
  std::chrono::milliseconds default_retry_after{1'000};
  // Extra throttling/transient errors a service signals in the body (EMR's 400
  // ThrottlingException, S3's SlowDown); also retried when the request is idempotent.
  std::function<bool(const HttpResponse&)> is_transient_error;
  // Turns an error response into "Code: message" for the final error (default: the body).
  std::function<std::string(const HttpResponse&)> describe_error;
};

class RetryEnv {
 public:
  virtual ~RetryEnv() = default;
  virtual std::chrono::steady_clock::time_point Now() = 0;
  virtual void Sleep(std::chrono::milliseconds d) = 0;
  // Uniform in [0, 1).
  virtual double Random() = 0;
};

// Time from a Clock (the real one unless given), randomness from a seeded generator.
class RealRetryEnv final : public RetryEnv {
 public:
  explicit RealRetryEnv(const Clock* clock = &RealClock()) : clock_(clock) {}
  std::chrono::steady_clock::time_point Now() override { return clock_->Monotonic(); }
  void Sleep(std::chrono::milliseconds d) override { clock_->SleepFor(d); }
  double Random() override;

 private:
  const Clock* clock_;
  std::mt19937_64 rng_{std::random_device{}()};
};

// Retry-After as a delay: integer seconds or an HTTP date (relative to `now_unix_seconds`).
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         int64_t now_unix_seconds);

class RetryingHttpClient final : public HttpClient {
 public:
  // `env` may be null: time from `clock`. The pointers must outlive this client.
  RetryingHttpClient(HttpClient* inner, RetryPolicy policy, RetryEnv* env = nullptr,
                     const Clock* clock = &RealClock());

  // A non-retryable response (404, 400, ...) comes back as a response for the caller to map;
  // running out of retries is an error (kUnavailable, or kResourceExhausted after 429s).
  Result<HttpResponse> Send(const HttpRequest& request) override;

 private:
  HttpClient* inner_;
  RetryPolicy policy_;
  const Clock* clock_;  // wall time for Retry-After dates
  RealRetryEnv real_env_;
  RetryEnv* env_;
};

}  // namespace arbiter::http
