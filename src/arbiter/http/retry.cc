#include "arbiter/http/retry.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "arbiter/http/redact.h"

namespace arbiter::http {

double RealRetryEnv::Random() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }

std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         int64_t now_unix_seconds) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 9) return std::nullopt;
    return std::chrono::seconds(std::stoll(std::string(value)));
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  std::tm tm{};
  char month[4] = {0};
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0;
  const std::string s(value);
  if (std::sscanf(s.c_str(), "%*3s, %d %3s %d %d:%d:%d GMT", &day, month, &year, &hh, &mm, &ss) !=
      6) {
    return std::nullopt;
  }
  static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  const size_t m = kMonths.find(month);
  if (m == std::string_view::npos || m % 3 != 0) return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = static_cast<int>(m / 3);
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  const int64_t at = static_cast<int64_t>(timegm(&tm));
  return std::chrono::seconds(std::max<int64_t>(0, at - now_unix_seconds));
}

RetryingHttpClient::RetryingHttpClient(HttpClient* inner, RetryPolicy policy, RetryEnv* env,
                                       const Clock* clock)
    : inner_(inner),
      policy_(std::move(policy)),
      clock_(clock),
      real_env_(clock),
      env_(env != nullptr ? env : &real_env_) {}

static bool RetryableStatus(int status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

Result<HttpResponse> RetryingHttpClient::Send(const HttpRequest& request) {
  using std::chrono::milliseconds;
  const auto start = env_->Now();
  const bool idempotent = IsIdempotent(request);
  std::string last;
  int last_status = 0;
  int attempt = 0;
  for (attempt = 1;; ++attempt) {
    Result<HttpResponse> result = inner_->Send(request);
    std::optional<milliseconds> retry_after;
    if (result.ok()) {
      const HttpResponse& r = *result;
      const bool transient =
          RetryableStatus(r.status) || (policy_.is_transient_error && r.status >= 400 &&
                                        policy_.is_transient_error(r));
      if (!transient || !idempotent) return result;
      last_status = r.status;
      last = "HTTP " + std::to_string(r.status);
      std::string detail = policy_.describe_error ? policy_.describe_error(r) : r.body;
      if (detail.size() > 300) detail = detail.substr(0, 300) + "...";
      if (!detail.empty()) last += ": " + RedactBody(detail);
      if (r.status == 429 || r.status == 503) {
        const auto header = r.Header("Retry-After");
        const int64_t now_unix = clock_->Now().time_since_epoch().count();
        retry_after = header ? ParseRetryAfter(*header, now_unix) : std::nullopt;
        if (!retry_after) retry_after = policy_.default_retry_after;
      }
    } else {
      const StatusCode code = result.status().code();
      const bool transport = code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded;
      if (!transport || !idempotent) return result;
      last_status = 0;
      last = result.status().ToString();
    }
    if (attempt >= policy_.max_attempts) break;
    // Exponential backoff with "equal jitter": half fixed, half random.
    const double exp = std::min(30.0, static_cast<double>(attempt - 1));
    const double base = std::min(static_cast<double>(policy_.max_backoff.count()),
                                 static_cast<double>(policy_.initial_backoff.count()) * std::pow(2.0, exp));
    milliseconds wait(static_cast<int64_t>(base / 2 + base / 2 * env_->Random()));
    if (retry_after) wait = std::max(wait, *retry_after);
    const auto elapsed = std::chrono::duration_cast<milliseconds>(env_->Now() - start);
    if (elapsed + wait > policy_.max_total) {
      last += " (next wait " + std::to_string(wait.count()) + " ms would pass the " +
              std::to_string(policy_.max_total.count()) + " ms budget)";
      break;
    }
    env_->Sleep(wait);
  }
  const auto elapsed = std::chrono::duration_cast<milliseconds>(env_->Now() - start);
  std::string message = request.method + " " + RedactUrl(request.url) + ": gave up after " +
                        std::to_string(attempt) + (attempt == 1 ? " attempt" : " attempts") +
                        " in " + std::to_string(elapsed.count()) + " ms; last: " + last;
  return Status(last_status == 429 ? StatusCode::kResourceExhausted : StatusCode::kUnavailable,
                ScrubKnownSecrets(message));
}

}  // namespace arbiter::http
