// The dispatcher on queues built in memory: order (priority, then age),
// every limit, runs waiting for upstream runs, retry backoff and paused
// backfills. Each case could start the wrong run; the assertions say which.
#include "arbiter/service/dispatcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace arbiter::service {
namespace {

using storage::RunRecord;
using storage::RunStatus;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const TimePoint kNow = TimePoint(std::chrono::seconds(1'800'000'000));

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() {
    for (const char* name : {"local", "emr"}) {
      definitions::RuntimeConfig rt;
      rt.name = name;
      project_.runtimes[name] = rt;
    }
    for (const char* key : {"a", "b", "c"}) {
      definitions::AssetDef asset;
      asset.key = *definitions::AssetKey::Parse(key);
      project_.assets[asset.key] = asset;
    }
  }
  definitions::AssetDef& Asset(const char* key) {
    return project_.assets.at(*definitions::AssetKey::Parse(key));
  }
  RunRecord Queued(const std::string& id, const char* asset, const char* runtime = "local",
                   int priority = 0, int age_s = 0) {
    RunRecord r;
    r.run_id = id;
    r.asset_key = asset;
    r.runtime = runtime;
    r.priority = priority;
    r.created_at = kNow - std::chrono::seconds(age_s);
    r.owner = storage::kQueueOwner;
    queue_.queued.push_back(r);
    return r;
  }
  void Live(const std::string& id, const char* asset, const char* runtime = "local") {
    RunRecord r;
    r.run_id = id;
    r.asset_key = asset;
    r.runtime = runtime;
    r.status = RunStatus::kRunning;
    queue_.live.push_back(r);
  }
  std::vector<std::string> Started(int max_runs = 0) {
    Dispatch d = PlanDispatch(project_, queue_, kNow, max_runs);
    last_ = d;
    std::vector<std::string> ids;
    for (const RunRecord& r : d.start) ids.push_back(r.run_id);
    return ids;
  }

  definitions::Project project_;
  QueueSnapshot queue_;
  Dispatch last_;
};

TEST_F(DispatcherTest, HigherPriorityFirstThenOldest) {
  Queued("young", "a", "local", 0, 10);
  Queued("old", "a", "local", 0, 100);
  Queued("urgent", "b", "local", 5, 1);
  EXPECT_THAT(Started(), ElementsAre("urgent", "old", "young"));
}

TEST_F(DispatcherTest, TheGlobalLimitCountsLiveRunsOfEveryArbiter) {
  Live("running", "c");
  Queued("q1", "a", "local", 0, 2);
  Queued("q2", "a", "local", 0, 1);
  EXPECT_THAT(Started(2), ElementsAre("q1"));
  EXPECT_THAT(last_.waiting.at("q2"), HasSubstr("max_concurrent_runs 2"));
}

TEST_F(DispatcherTest, RuntimeAssetAndPoolLimits) {
  project_.runtimes["emr"].max_concurrency = 1;
  Asset("b").max_concurrency = 1;
  project_.pools["warehouse"] = {"warehouse", 2, {}};
  Asset("c").pool = "warehouse";
  Live("emr-live", "a", "emr");
  Queued("emr-next", "a", "emr", 9);  // runtime full, though first by priority
  Queued("b1", "b", "local", 0, 3);
  Queued("b2", "b", "local", 0, 2);  // asset cap 1
  Queued("c1", "c", "local", 0, 3);
  Queued("c2", "c", "local", 0, 2);
  Queued("c3", "c", "local", 0, 1);  // pool has 2 slots
  EXPECT_THAT(Started(), ElementsAre("b1", "c1", "c2"));
  EXPECT_THAT(last_.waiting.at("emr-next"), HasSubstr("runtime emr"));
  EXPECT_THAT(last_.waiting.at("b2"), HasSubstr("asset b"));
  EXPECT_THAT(last_.waiting.at("c3"), HasSubstr("pool warehouse"));
}

TEST_F(DispatcherTest, UpstreamRunsGateDownstreamOnes) {
  std::map<std::string, RunStatus> status = {{"up-ok", RunStatus::kSuccess},
                                             {"up-running", RunStatus::kRunning},
                                             {"up-failed", RunStatus::kFailure}};
  queue_.status_of = [&](const std::string& id) -> std::optional<RunStatus> {
    auto it = status.find(id);
    if (it == status.end()) return std::nullopt;
    return it->second;
  };
  RunRecord ready = Queued("ready", "b");
  queue_.queued.back().tags[kAfterTag] = {"up-ok"};
  Queued("blocked", "b");
  queue_.queued.back().tags[kAfterTag] = {"up-ok", "up-running"};
  Queued("doomed", "c");
  queue_.queued.back().tags[kAfterTag] = {"up-failed"};
  Queued("orphan", "c");
  queue_.queued.back().tags[kAfterTag] = {"gone"};
  EXPECT_THAT(Started(), ElementsAre("ready"));
  EXPECT_THAT(last_.waiting.at("blocked"), HasSubstr("up-running"));
  ASSERT_EQ(last_.cancel.size(), 2u);
  EXPECT_EQ(last_.cancel[0].first.run_id, "doomed");
  EXPECT_THAT(last_.cancel[0].second, HasSubstr("ended FAILURE"));
  EXPECT_THAT(last_.cancel[1].second, HasSubstr("no longer exists"));
}

TEST_F(DispatcherTest, RetriesWaitForTheirBackoffAndTheWakeTimeSaysWhen) {
  Queued("later", "a");
  queue_.queued.back().not_before = kNow + std::chrono::seconds(90);
  Queued("sooner", "b");
  queue_.queued.back().not_before = kNow + std::chrono::seconds(30);
  Queued("due", "c");
  queue_.queued.back().not_before = kNow;
  EXPECT_THAT(Started(), ElementsAre("due"));
  ASSERT_TRUE(last_.wake_at);
  EXPECT_EQ(*last_.wake_at, kNow + std::chrono::seconds(30));
}

TEST_F(DispatcherTest, RunsOfAPausedBackfillWait) {
  Queued("paused", "a");
  queue_.queued.back().tags["backfill"] = "bf1";
  Queued("other", "a");
  queue_.queued.back().tags["backfill"] = "bf2";
  queue_.paused_backfills = {"bf1"};
  EXPECT_THAT(Started(), ElementsAre("other"));
  EXPECT_THAT(last_.waiting.at("paused"), HasSubstr("paused"));
}

TEST_F(DispatcherTest, AnEmptyQueueStartsNothing) {
  Live("x", "a");
  EXPECT_THAT(Started(), IsEmpty());
  EXPECT_FALSE(last_.wake_at);
}

}  // namespace
}  // namespace arbiter::service
