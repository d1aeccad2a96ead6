// Retry decisions: which failures retry, how many times, how long each waits
// (doubling, capped, jittered within bounds), and the derived run id that
// makes creating a retry twice harmless.
#include "arbiter/service/retry_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace arbiter::service {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

const TimePoint kNow = TimePoint(seconds(1'800'000'000));

definitions::AssetDef WithRetries(int attempts, bool user_errors = false) {
  definitions::AssetDef a;
  a.key = *definitions::AssetKey::Parse("demo/asset");
  a.retries.max_attempts = attempts;
  a.retries.backoff = seconds(10);
  a.retries.max_backoff = seconds(60);
  a.retries.jitter = 0.2;
  a.retries.retry_user_errors = user_errors;
  return a;
}

storage::RunRecord Failed(const std::string& id, int attempt, const char* kind) {
  storage::RunRecord r;
  r.run_id = id;
  r.asset_key = "demo/asset";
  r.partition_key = "2024-05-01";
  r.runtime = "emr";
  r.status = storage::RunStatus::kFailure;
  r.attempt = attempt;
  r.failure_kind = kind;
  r.priority = 3;
  r.tags = {{"backfill", "bf"}, {"after", {"up"}}};
  return r;
}

TEST(RetryPolicyTest, DelayDoublesUpToTheCapWithinTheJitterBand) {
  definitions::RetryPolicy p = WithRetries(5).retries;
  EXPECT_EQ(RetryDelay(p, 1, 0.5), milliseconds(10000));
  EXPECT_EQ(RetryDelay(p, 2, 0.5), milliseconds(20000));
  EXPECT_EQ(RetryDelay(p, 3, 0.5), milliseconds(40000));
  EXPECT_EQ(RetryDelay(p, 4, 0.5), milliseconds(60000));  // capped
  EXPECT_EQ(RetryDelay(p, 9, 0.5), milliseconds(60000));
  EXPECT_EQ(RetryDelay(p, 1, 0.0), milliseconds(8000));   // 1 - jitter
  EXPECT_EQ(RetryDelay(p, 1, 0.999999), milliseconds(11999));
}

TEST(RetryPolicyTest, ASystemFailureRetriesAsALinkedRunAfterItsBackoff) {
  std::string why;
  auto retry = RetryOf(WithRetries(3), Failed("abc", 0, "system"), kNow, 0.5, &why);
  ASSERT_TRUE(retry) << why;
  EXPECT_EQ(retry->run_id, "abc.2");
  EXPECT_EQ(retry->attempt, 1);
  EXPECT_EQ(retry->status, storage::RunStatus::kQueued);
  EXPECT_EQ(retry->owner, storage::kQueueOwner);
  EXPECT_EQ(retry->partition_key, "2024-05-01");
  EXPECT_EQ(retry->runtime, "emr");
  EXPECT_EQ(retry->priority, 3);
  EXPECT_EQ(retry->tags["retry_of"], "abc");
  EXPECT_EQ(retry->tags["backfill"], "bf");
  EXPECT_FALSE(retry->tags.contains("after"));
  EXPECT_EQ(*retry->not_before, kNow + seconds(10));
  EXPECT_THAT(why, HasSubstr("attempt 2 of 3"));
  // The third attempt follows the second, with the first run's id as its stem.
  auto third = RetryOf(WithRetries(3), Failed("abc.2", 1, "system"), kNow, 0.5, &why);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->run_id, "abc.3");
  EXPECT_EQ(*third->not_before, kNow + seconds(20));
  EXPECT_FALSE(RetryOf(WithRetries(3), Failed("abc.3", 2, "system"), kNow, 0.5, &why));
  EXPECT_THAT(why, HasSubstr("all 3 attempts used"));
}

TEST(RetryPolicyTest, UserErrorsRetryOnlyWhenTheAssetSaysSo) {
  std::string why;
  EXPECT_FALSE(RetryOf(WithRetries(3), Failed("u", 0, "user"), kNow, 0.5, &why));
  EXPECT_THAT(why, HasSubstr("retry_user_errors"));
  EXPECT_TRUE(RetryOf(WithRetries(3, true), Failed("u", 0, "user"), kNow, 0.5, &why));
}

TEST(RetryPolicyTest, NoRetriesByDefaultAndNeverForOtherOutcomes) {
  std::string why;
  EXPECT_FALSE(RetryOf(WithRetries(1), Failed("x", 0, "system"), kNow, 0.5, &why));
  EXPECT_THAT(why, HasSubstr("no retries"));
  storage::RunRecord canceled = Failed("y", 0, "");
  canceled.status = storage::RunStatus::kCanceled;
  EXPECT_FALSE(RetryOf(WithRetries(3), canceled, kNow, 0.5, &why));
}

}  // namespace
}  // namespace arbiter::service
