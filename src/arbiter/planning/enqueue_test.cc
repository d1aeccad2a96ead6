// Queueing a plan, and the storage-backed planning state, on an in-memory
// SQLite database.
#include "arbiter/planning/enqueue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "arbiter/planning/storage_planning_state.h"
#include "arbiter/storage/sqlite_storage.h"

namespace arbiter::planning {
namespace {

using ::testing::ElementsAre;

class EnqueueTest : public ::testing::Test {
 protected:
  EnqueueTest() {
    auto s = storage::SqliteStorage::Open(":memory:");
    storage_ = std::move(s).value();
    asset_.key = *definitions::AssetKey::Parse("demo/parts");
    asset_.code_version = "v7";
    project_.assets[asset_.key] = asset_;
    plan_.asset = &asset_;
    plan_.now = TimePoint(std::chrono::seconds(1'800'000'000));
  }
  void AddRun(const std::string& partition, std::optional<cost::Placement> placement = {}) {
    plan_.runs.push_back({partition, "local", std::move(placement)});
    plan_.selected = static_cast<int>(plan_.runs.size());
  }
  EnqueueOptions Options() {
    EnqueueOptions o;
    o.owner = "123:456";
    o.new_id = [this] { return "id" + std::to_string(++ids_); };
    return o;
  }
  storage::RunRecord Live(const std::string& run_id, const std::string& partition) {
    storage::RunRecord r;
    r.run_id = run_id;
    r.asset_key = "demo/parts";
    r.partition_key = partition;
    r.runtime = "local";
    EXPECT_TRUE(storage_->CreateRun(r).ok());
    return r;
  }

  std::unique_ptr<storage::SqliteStorage> storage_;
  definitions::Project project_;
  definitions::AssetDef asset_;
  Plan plan_;
  int ids_ = 0;
};

TEST_F(EnqueueTest, QueuesEveryRunOfThePlanAsOneBackfill) {
  cost::Placement explored;
  explored.policy = "cheapest";
  explored.chosen = "local";
  explored.explored = true;
  explored.explore_extra_usd = 0.25;
  AddRun("a");
  AddRun("b", explored);
  EnqueueResult r = Enqueue(*storage_, plan_, Options());
  ASSERT_FALSE(r.error) << r.error->what;
  ASSERT_EQ(r.queued.size(), 2u);
  // The backfill id is drawn first, then one id per run.
  EXPECT_EQ(r.queued[0].run_id, "id2");
  EXPECT_EQ(r.queued[1].run_id, "id3");
  for (const storage::RunRecord& run : r.queued) {
    auto stored = storage_->GetRun(run.run_id);
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(stored->status, storage::RunStatus::kQueued);
    EXPECT_EQ(stored->owner, "123:456");
    EXPECT_EQ(stored->created_at, plan_.now);
    EXPECT_EQ(stored->tags["backfill"], "id1");
    EXPECT_EQ(stored->tags["code_version"], "v7");
  }
  EXPECT_EQ(r.queued[1].tags["placement"], "explore");
  // The decision is stored with the run that has one.
  auto decision = storage_->GetPlacementDecision("id3");
  ASSERT_TRUE(decision.ok());
  EXPECT_TRUE(decision->has_value());
  EXPECT_FALSE(storage_->GetPlacementDecision("id2")->has_value());
}

TEST_F(EnqueueTest, APartitionClaimedSincePlanningIsSkipped) {
  AddRun("a");
  AddRun("b");
  Live("other", "b");  // another arbiter took b after the plan was made
  EnqueueResult r = Enqueue(*storage_, plan_, Options());
  ASSERT_EQ(r.queued.size(), 1u);
  EXPECT_EQ(r.queued[0].partition_key, "a");
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_EQ(r.skipped[0].partition, "b");
  EXPECT_EQ(r.skipped[0].holder.run_id, "other");
}

TEST_F(EnqueueTest, OneRunIsNoBackfill) {
  AddRun("a");
  EnqueueResult r = Enqueue(*storage_, plan_, Options());
  ASSERT_EQ(r.queued.size(), 1u);
  EXPECT_EQ(r.queued[0].run_id, "id1");
  EXPECT_FALSE(r.queued[0].tags.contains("backfill"));
}

TEST_F(EnqueueTest, StorageStateListsTheAssetsLiveRunsOnly) {
  Live("r1", "a");
  storage::RunRecord done = Live("r2", "b");
  ASSERT_TRUE(*storage_->TransitionRun("r2", {storage::RunStatus::kQueued},
                                       storage::RunStatus::kSuccess, {}));
  storage::RunRecord other;
  other.run_id = "r3";
  other.asset_key = "demo/other";
  other.partition_key = "a";
  other.runtime = "local";
  ASSERT_TRUE(storage_->CreateRun(other).ok());
  StoragePlanningState state(storage_.get(), &project_);
  auto live = state.LiveRunsOf(asset_);
  ASSERT_TRUE(live.ok());
  std::vector<std::string> ids;
  for (const auto& [partition, run] : *live) ids.push_back(*partition + "=" + run.run_id);
  EXPECT_THAT(ids, ElementsAre("a=r1"));
}

}  // namespace
}  // namespace arbiter::planning
