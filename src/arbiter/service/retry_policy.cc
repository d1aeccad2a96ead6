#include "arbiter/service/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace arbiter::service {

std::chrono::milliseconds RetryDelay(const definitions::RetryPolicy& policy, int attempt,
                                     double unit_random) {
  using std::chrono::milliseconds;
  const double base = static_cast<double>(std::chrono::duration_cast<milliseconds>(policy.backoff).count());
  const double cap =
      static_cast<double>(std::chrono::duration_cast<milliseconds>(policy.max_backoff).count());
  const double doubled = base * std::pow(2.0, std::max(0, attempt - 1));
  const double scale = 1.0 + policy.jitter * (2.0 * unit_random - 1.0);
  return milliseconds(static_cast<int64_t>(std::min(doubled, cap) * scale));
}

std::optional<storage::RunRecord> RetryOf(const definitions::AssetDef& asset,
                                          const storage::RunRecord& failed, TimePoint now,
                                          double unit_random, std::string* why) {
  const definitions::RetryPolicy& policy = asset.retries;
  // attempt counts from 0 (the first run).
  const int next_attempt = failed.attempt + 1;
  if (failed.status != storage::RunStatus::kFailure) {
    *why = "not a failure";
    return std::nullopt;
  }
  if (next_attempt >= policy.max_attempts) {
    *why = policy.max_attempts <= 1
               ? "the asset has no retries (retries.max_attempts 1)"
               : "all " + std::to_string(policy.max_attempts) + " attempts used";
    return std::nullopt;
  }
  if (failed.failure_kind != "system" && !policy.retry_user_errors) {
    *why = "a failure of the job itself is not retried (retries.retry_user_errors: false)";
    return std::nullopt;
  }
  storage::RunRecord r;
  // "<first run id>.<attempt number>": the same id on every try to create it.
  r.run_id = failed.run_id.substr(0, failed.run_id.find('.')) + "." +
             std::to_string(next_attempt + 1);
  r.asset_key = failed.asset_key;
  r.partition_key = failed.partition_key;
  r.runtime = failed.runtime;
  r.status = storage::RunStatus::kQueued;
  r.created_at = now;
  r.attempt = next_attempt;
  r.priority = failed.priority;
  r.owner = storage::kQueueOwner;
  r.tags = failed.tags;
  r.tags.erase("after");  // its upstream succeeded before the first attempt ran
  r.tags[kRetryOfTag] = failed.run_id;
  if (failed.failure_kind == "system") r.tags[kOnDemandTag] = true;
  const auto delay = RetryDelay(policy, next_attempt, unit_random);
  r.not_before = now + std::chrono::duration_cast<std::chrono::seconds>(delay);
  *why = std::string(failed.failure_kind == "system" ? "system" : "user") + " failure, attempt " +
         std::to_string(next_attempt + 1) + " of " + std::to_string(policy.max_attempts);
  return r;
}

}  // namespace arbiter::service
