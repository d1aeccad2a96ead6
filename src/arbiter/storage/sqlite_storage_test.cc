// The Storage contract, checked on the SQLite backend: in memory, and on a
// file shared by two connections as two arbiter processes would share it.
#include "arbiter/storage/sqlite_storage.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "arbiter/testing/temp_dir.h"

namespace arbiter::storage {
namespace {

using definitions::PartitionSet;

constexpr TimePoint kT0{std::chrono::seconds(1717200000)};

RunRecord MakeRun(const std::string& id, const std::string& asset = "commoncrawl/edges",
                  std::optional<std::string> partition = "CC-MAIN-2024-10|seeds-a") {
  RunRecord r;
  r.run_id = id;
  r.asset_key = asset;
  r.partition_key = std::move(partition);
  r.runtime = "local";
  r.created_at = kT0;
  r.tags = {{"backfill", "b1"}};
  return r;
}

class SqliteStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = SqliteStorage::Open(":memory:");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    db_ = std::move(s).value();
  }
  std::unique_ptr<SqliteStorage> db_;
};

TEST_F(SqliteStorageTest, CreateGetAndDuplicateRuns) {
  ASSERT_TRUE(db_->CreateRun(MakeRun("r1")).ok());
  Result<RunRecord> r = db_->GetRun("r1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->asset_key, "commoncrawl/edges");
  EXPECT_EQ(r->partition_key, "CC-MAIN-2024-10|seeds-a");
  EXPECT_EQ(r->status, RunStatus::kQueued);
  EXPECT_EQ(r->created_at, kT0);
  EXPECT_EQ(r->tags["backfill"], "b1");
  EXPECT_FALSE(r->started_at.has_value());
  Status dup = db_->CreateRun(MakeRun("r1"));
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.message(), "run r1 already exists");
  EXPECT_EQ(db_->GetRun("nope").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(db_->CreateRun(MakeRun("r2", "summary", std::nullopt)).ok());
  EXPECT_FALSE(db_->GetRun("r2")->partition_key.has_value());
}

TEST_F(SqliteStorageTest, TransitionsAreCompareAndSet) {
  ASSERT_TRUE(db_->CreateRun(MakeRun("r1")).ok());
  RunUpdate start;
  start.started_at = kT0 + std::chrono::seconds(5);
  start.pid = 4242;
  start.process_start_ticks = 99;
  EXPECT_EQ(*db_->TransitionRun("r1", {RunStatus::kQueued}, RunStatus::kRunning, start), true);
  // A second mover from QUEUED loses.
  EXPECT_EQ(*db_->TransitionRun("r1", {RunStatus::kQueued}, RunStatus::kCanceled, {}), false);
  RunUpdate fail;
  fail.ended_at = kT0 + std::chrono::seconds(65);
  fail.failure_reason = "exit code 3";
  fail.stderr_tail = "Traceback ...";
  EXPECT_EQ(*db_->TransitionRun("r1", {RunStatus::kRunning, RunStatus::kCanceling},
                                RunStatus::kFailure, fail),
            true);
  RunRecord r = *db_->GetRun("r1");
  EXPECT_EQ(r.status, RunStatus::kFailure);
  EXPECT_EQ(r.started_at, kT0 + std::chrono::seconds(5));  // kept: update left it unset
  EXPECT_EQ(r.ended_at, kT0 + std::chrono::seconds(65));
  EXPECT_EQ(r.pid, 4242);
  EXPECT_EQ(r.failure_reason, "exit code 3");
  EXPECT_EQ(
      db_->TransitionRun("ghost", {RunStatus::kQueued}, RunStatus::kRunning, {}).status().code(),
      StatusCode::kNotFound);
}

TEST_F(SqliteStorageTest, ListRunsFiltersAndPagesNewestFirst) {
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(db_->CreateRun(MakeRun("r" + std::to_string(i), i % 2 ? "a" : "b")).ok());
  }
  ASSERT_TRUE(*db_->TransitionRun("r3", {RunStatus::kQueued}, RunStatus::kRunning, {}));
  auto ids = [](const std::vector<RunRecord>& runs) {
    std::vector<std::string> out;
    for (const auto& r : runs) out.push_back(r.run_id);
    return out;
  };
  RunFilter all;
  all.limit = 3;
  EXPECT_EQ(ids(*db_->ListRuns(all)), (std::vector<std::string>{"r6", "r5", "r4"}));
  all.before_run_id = "r4";
  EXPECT_EQ(ids(*db_->ListRuns(all)), (std::vector<std::string>{"r3", "r2", "r1"}));
  RunFilter by_asset;
  by_asset.asset_key = "a";
  EXPECT_EQ(ids(*db_->ListRuns(by_asset)), (std::vector<std::string>{"r5", "r3", "r1"}));
  RunFilter running;
  running.status = RunStatus::kRunning;
  EXPECT_EQ(ids(*db_->ListRuns(running)), (std::vector<std::string>{"r3"}));
  EXPECT_EQ(db_->ActiveRuns()->size(), 7u);
  ASSERT_TRUE(*db_->TransitionRun("r3", {RunStatus::kRunning}, RunStatus::kSuccess, {}));
  EXPECT_EQ(db_->ActiveRuns()->size(), 6u);
}

TEST_F(SqliteStorageTest, EventsAreNumberedAndPaged) {
  ASSERT_TRUE(db_->CreateRun(MakeRun("r1")).ok());
  ASSERT_TRUE(db_->CreateRun(MakeRun("r2")).ok());
  std::vector<RunEvent> batch(5);
  for (int i = 0; i < 5; ++i) {
    batch[i].kind = "log";
    batch[i].level = "info";
    batch[i].message = "line " + std::to_string(i);
    batch[i].timestamp_ms = 1000 + i;
  }
  batch[2].data = {{"rows", 12}, {"ratio", 0.5}};
  EXPECT_EQ(*db_->AppendEvents("r1", &batch), 5);
  EXPECT_EQ(batch[4].seq, 5);
  std::vector<RunEvent> more(1);
  more[0].kind = "stderr";
  more[0].message = "oops";
  EXPECT_EQ(*db_->AppendEvents("r1", &more), 6);
  std::vector<RunEvent> other(1);
  EXPECT_EQ(*db_->AppendEvents("r2", &other), 1);  // numbering is per run

  auto page = *db_->ReadEvents("r1", 2, 2);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].seq, 3);
  EXPECT_EQ(page[0].data["rows"], 12);
  EXPECT_TRUE(page[0].data["rows"].is_number_integer());
  EXPECT_EQ(page[1].message, "line 3");
  EXPECT_TRUE(page[1].data.is_null());
  EXPECT_EQ(db_->ReadEvents("r1", 6, 10)->size(), 0u);
  std::vector<RunEvent> orphan(1);
  EXPECT_EQ(db_->AppendEvents("ghost", &orphan).status().code(), StatusCode::kNotFound);
}

TEST_F(SqliteStorageTest, InvalidUtf8InEventsIsStoredSafely) {
  ASSERT_TRUE(db_->CreateRun(MakeRun("r1")).ok());
  std::vector<RunEvent> e(1);
  e[0].kind = "stdout";
  e[0].message = std::string("bin\xff\xfe\0ary", 9);
  e[0].data = {{"raw", std::string("\xc3\x28")}};
  ASSERT_TRUE(db_->AppendEvents("r1", &e).ok());
  auto back = *db_->ReadEvents("r1", 0, 10);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].message, std::string("bin\xff\xfe\0ary", 9));  // bytes kept as written
}

TEST_F(SqliteStorageTest, MaterializationsLatestAndHistory) {
  for (int i = 0; i < 3; ++i) {
    Materialization m;
    m.asset_key = "edges";
    m.partition_key = "p1";
    m.run_id = "r" + std::to_string(i);
    m.timestamp = kT0 + std::chrono::seconds(i);
    m.data_version = "v" + std::to_string(i);
    m.metadata = {{"rows", 100 + i}};
    ASSERT_TRUE(db_->RecordMaterialization(&m).ok());
    EXPECT_GT(m.id, 0);
  }
  Materialization unpartitioned;
  unpartitioned.asset_key = "summary";
  unpartitioned.run_id = "r9";
  ASSERT_TRUE(db_->RecordMaterialization(&unpartitioned).ok());

  auto latest = *db_->LatestMaterialization("edges", "p1");
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->run_id, "r2");
  EXPECT_EQ(latest->data_version, "v2");
  EXPECT_EQ(latest->metadata["rows"], 102);
  EXPECT_EQ(db_->MaterializationHistory("edges", "p1", 10)->size(), 3u);
  EXPECT_EQ((*db_->MaterializationHistory("edges", "p1", 2))[1].run_id, "r1");
  EXPECT_FALSE(db_->LatestMaterialization("edges", "p2")->has_value());
  EXPECT_FALSE(db_->LatestMaterialization("edges", std::nullopt)->has_value());
  EXPECT_EQ((*db_->LatestMaterialization("summary", std::nullopt))->run_id, "r9");
}

TEST_F(SqliteStorageTest, PartitionStatesAreDisjointRanges) {
  const std::string fp = "daily:2024-01-01:UTC";
  ASSERT_TRUE(
      db_->SetPartitionState("a", fp, PartitionSet::Range(0, 100), PartitionState::kInProgress)
          .ok());
  ASSERT_TRUE(
      db_->SetPartitionState("a", fp, PartitionSet::Range(0, 60), PartitionState::kMaterialized)
          .ok());
  ASSERT_TRUE(
      db_->SetPartitionState("a", fp, PartitionSet::Range(60, 70), PartitionState::kFailed).ok());
  PartitionStatus st = *db_->GetPartitionStatus("a");
  EXPECT_EQ(st.fingerprint, fp);
  EXPECT_EQ(st.materialized, PartitionSet::Range(0, 60));
  EXPECT_EQ(st.failed, PartitionSet::Range(60, 70));
  EXPECT_EQ(st.in_progress, PartitionSet::Range(70, 100));
  // A rerun that succeeds moves a failed partition to materialized.
  ASSERT_TRUE(
      db_->SetPartitionState("a", fp, PartitionSet::Range(65, 66), PartitionState::kMaterialized)
          .ok());
  st = *db_->GetPartitionStatus("a");
  EXPECT_EQ(st.failed.Count(), 9);
  EXPECT_EQ(st.materialized.Count(), 61);
  ASSERT_TRUE(db_->ClearPartitionState("a", fp, PartitionSet::Range(90, 100)).ok());
  EXPECT_EQ(db_->GetPartitionStatus("a")->in_progress, PartitionSet::Range(70, 90));
  // Another definition: the old sets no longer apply.
  ASSERT_TRUE(db_->SetPartitionState("a", "daily:2023-01-01:UTC", PartitionSet::Range(5, 6),
                                     PartitionState::kFailed)
                  .ok());
  st = *db_->GetPartitionStatus("a");
  EXPECT_EQ(st.fingerprint, "daily:2023-01-01:UTC");
  EXPECT_TRUE(st.materialized.Empty());
  EXPECT_EQ(st.failed, PartitionSet::Range(5, 6));
  EXPECT_TRUE(db_->GetPartitionStatus("never")->fingerprint.empty());
}

TEST_F(SqliteStorageTest, MillionPartitionStatusWithScatteredRanges) {
  // 500,000 materialized partitions of 1,000,000 in scattered ranges.
  std::mt19937 rng(3);
  PartitionSet materialized;
  while (materialized.Count() < 500'000) {
    int64_t b = std::uniform_int_distribution<int64_t>(0, 999'000)(rng);
    materialized.AddRange(b, b + std::uniform_int_distribution<int64_t>(1, 400)(rng));
  }
  PartitionStatus st{"hourly:2000", materialized, PartitionSet::Range(999'990, 1'000'000), {}};
  ASSERT_TRUE(db_->ReplacePartitionStatus("big", st).ok());
  PartitionStatus back = *db_->GetPartitionStatus("big");
  EXPECT_EQ(back.materialized, materialized);
  EXPECT_EQ(back.failed.Count(), 10);
}

TEST_F(SqliteStorageTest, PlacementAndCostRecords) {
  PlacementDecision d{"r1", kT0, "cheapest", "emr",
                      nlohmann::json::array({{{"runtime", "emr"}, {"usd", 1.25}},
                                             {{"runtime", "databricks"}, {"usd", 2.5}}})};
  ASSERT_TRUE(db_->PutPlacementDecision(d).ok());
  auto back = *db_->GetPlacementDecision("r1");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->chosen_runtime, "emr");
  EXPECT_EQ(back->candidates[1]["usd"], 2.5);
  EXPECT_FALSE(db_->GetPlacementDecision("r2")->has_value());

  CostRecord c;
  c.run_id = "r1";
  c.runtime = "emr";
  c.predicted_usd = 1.25;
  c.usage = {{"instance_hours", 3.5}};
  c.recorded_at = kT0;
  ASSERT_TRUE(db_->PutCostRecord(c).ok());
  auto cost = *db_->GetCostRecord("r1");
  ASSERT_TRUE(cost.has_value());
  EXPECT_EQ(cost->predicted_usd, 1.25);
  EXPECT_FALSE(cost->actual_usd.has_value());  // unknown stays unknown, never zero
  EXPECT_EQ(cost->usage["instance_hours"], 3.5);
}

TEST_F(SqliteStorageTest, RunHistoryJoinsMetadataAndCostNewestFirst) {
  for (const char* id : {"h1", "h2", "h3"}) ASSERT_TRUE(db_->CreateRun(MakeRun(id)).ok());
  ASSERT_TRUE(db_->CreateRun(MakeRun("other", "commoncrawl/nodes")).ok());
  RunUpdate end;
  end.ended_at = kT0 + std::chrono::seconds(60);
  ASSERT_TRUE(*db_->TransitionRun("h1", {RunStatus::kQueued}, RunStatus::kSuccess, end));
  ASSERT_TRUE(*db_->TransitionRun("h2", {RunStatus::kQueued}, RunStatus::kFailure, end));
  ASSERT_TRUE(*db_->TransitionRun("other", {RunStatus::kQueued}, RunStatus::kSuccess, end));
  // h3 stays queued: not history yet.
  for (int i : {1, 2}) {  // the newest materialization of a run wins
    Materialization m;
    m.asset_key = "commoncrawl/edges";
    m.run_id = "h1";
    m.timestamp = kT0;
    m.metadata = {{"arbiter/input_bytes", {{"type", "int"}, {"raw_value", 1000 * i}}}};
    ASSERT_TRUE(db_->RecordMaterialization(&m).ok());
  }
  CostRecord c;
  c.run_id = "h1";
  c.runtime = "local";
  c.actual_usd = 0.5;
  c.recorded_at = kT0;
  ASSERT_TRUE(db_->PutCostRecord(c).ok());

  RunHistoryFilter f;
  f.asset_key = "commoncrawl/edges";
  auto all = *db_->RunHistory(f);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].run.run_id, "h2");
  EXPECT_FALSE(all[0].cost.has_value());
  EXPECT_EQ(all[1].run.run_id, "h1");
  EXPECT_EQ(all[1].metadata["arbiter/input_bytes"]["raw_value"], 2000);
  ASSERT_TRUE(all[1].cost.has_value());
  EXPECT_EQ(all[1].cost->actual_usd, 0.5);

  f.status = RunStatus::kSuccess;
  EXPECT_EQ(db_->RunHistory(f)->size(), 1u);
  f = RunHistoryFilter{};
  f.created_since = kT0 + std::chrono::seconds(1);
  EXPECT_TRUE(db_->RunHistory(f)->empty());
  f.created_since = kT0;
  EXPECT_EQ(db_->RunHistory(f)->size(), 3u);
}

TEST(SqliteStorageFileTest, TwoConnectionsShareOneDatabase) {
  testing::TempDir dir;
  const std::string path = (dir.path() / ".arbiter" / "arbiter.db").string();
  auto a = SqliteStorage::Open(path);
  auto b = SqliteStorage::Open(path);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_TRUE((*a)->CreateRun(MakeRun("r1")).ok());
  ASSERT_TRUE(*(*a)->TransitionRun("r1", {RunStatus::kQueued}, RunStatus::kRunning, {}));
  // `arbiter cancel` in another terminal sees the run and wins the race once.
  EXPECT_EQ((*b)->GetRun("r1")->status, RunStatus::kRunning);
  EXPECT_TRUE(*(*b)->TransitionRun("r1", {RunStatus::kRunning}, RunStatus::kCanceling, {}));
  EXPECT_FALSE(*(*a)->TransitionRun("r1", {RunStatus::kRunning}, RunStatus::kSuccess, {}));
  EXPECT_EQ((*a)->GetRun("r1")->status, RunStatus::kCanceling);
  // Reopening keeps everything (and does not migrate again).
  a->reset();
  auto c = SqliteStorage::Open(path);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->GetRun("r1")->status, RunStatus::kCanceling);
}

TEST(SqliteStorageFileTest, UnwritableLocationIsAClearError) {
  testing::TempDir dir;
  dir.Write("file", "x");
  auto s = SqliteStorage::Open((dir.path() / "file" / "arbiter.db").string());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.status().message(), ::testing::HasSubstr("cannot create directory"));
}

}  // namespace
}  // namespace arbiter::storage

namespace arbiter::storage {
namespace {

TEST_F(SqliteStorageTest, RunOutputIsStoredAllOrNothingWithTheCursor) {
  ASSERT_TRUE(db_->CreateRun(MakeRun("r1")).ok());
  RunOutput out;
  out.events.push_back({0, 1, "log", "info", "hello", nullptr});
  out.events.push_back({0, 2, "materialization", "", "", {{"rows", 3}}});
  Materialization m;
  m.asset_key = "commoncrawl/edges";
  m.partition_key = "CC-MAIN-2024-10|seeds-a";
  m.run_id = "r1";
  m.data_version = "v1";
  out.materializations.push_back(m);
  out.reader_cursor = nlohmann::json{{"messages", 120}};
  Result<int64_t> last = db_->AppendRunOutput("r1", &out);
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(*last, 2);
  EXPECT_GT(out.materializations[0].id, 0);
  EXPECT_EQ(db_->GetRun("r1")->reader_cursor["messages"], 120);
  EXPECT_EQ((*db_->LatestMaterialization("commoncrawl/edges", m.partition_key))->data_version,
            "v1");

  // An unknown run stores nothing: not the materialization either.
  RunOutput orphan;
  orphan.events.push_back({0, 3, "log", "info", "x", nullptr});
  orphan.materializations.push_back(m);
  orphan.materializations.back().run_id = "nope";
  EXPECT_EQ(db_->AppendRunOutput("nope", &orphan).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->MaterializationHistory("commoncrawl/edges", m.partition_key, 10)->size(), 1u);
}

TEST_F(SqliteStorageTest, OwnerIsSetByTransitions) {
  ASSERT_TRUE(db_->CreateRun(MakeRun("r1")).ok());
  EXPECT_EQ(db_->GetRun("r1")->owner, "");
  RunUpdate u;
  u.owner = "4242:1000";
  ASSERT_TRUE(*db_->TransitionRun("r1", {RunStatus::kQueued}, RunStatus::kStarting, u));
  EXPECT_EQ(db_->GetRun("r1")->owner, "4242:1000");
  ASSERT_TRUE(*db_->TransitionRun("r1", {RunStatus::kStarting}, RunStatus::kRunning, {}));
  EXPECT_EQ(db_->GetRun("r1")->owner, "4242:1000");  // unchanged when not given
}

TEST_F(SqliteStorageTest, RebuildQueriesSeeMaterializationsAndNewestRuns) {
  for (const char* id : {"a", "b", "c"}) ASSERT_TRUE(db_->CreateRun(MakeRun(id, "x", "p1")).ok());
  ASSERT_TRUE(db_->CreateRun(MakeRun("d", "x", "p2")).ok());
  ASSERT_TRUE(db_->CreateRun(MakeRun("e", "x", std::nullopt)).ok());
  ASSERT_TRUE(*db_->TransitionRun("a", {RunStatus::kQueued}, RunStatus::kFailure, {}));
  ASSERT_TRUE(*db_->TransitionRun("c", {RunStatus::kQueued}, RunStatus::kSuccess, {}));
  ASSERT_TRUE(*db_->TransitionRun("d", {RunStatus::kQueued}, RunStatus::kFailure, {}));
  auto latest = db_->LatestRunStatusByPartition("x");
  ASSERT_TRUE(latest.ok());
  std::map<std::string, RunStatus> by_key(latest->begin(), latest->end());
  EXPECT_EQ(by_key.size(), 2u);
  EXPECT_EQ(by_key["p1"], RunStatus::kSuccess);  // c is newest
  EXPECT_EQ(by_key["p2"], RunStatus::kFailure);

  for (const char* key : {"p1", "p1", "p3"}) {
    Materialization m;
    m.asset_key = "x";
    m.partition_key = key;
    m.run_id = "c";
    ASSERT_TRUE(db_->RecordMaterialization(&m).ok());
  }
  auto keys = db_->MaterializedPartitionKeys("x");
  ASSERT_TRUE(keys.ok());
  EXPECT_THAT(*keys, ::testing::UnorderedElementsAre("p1", "p3"));
  EXPECT_TRUE(db_->MaterializedPartitionKeys("y")->empty());
}

}  // namespace
}  // namespace arbiter::storage

namespace arbiter::storage {
namespace {

TEST_F(SqliteStorageTest, APartitionHasAtMostOneLiveRun) {
  auto first = db_->CreateRunUnlessClaimed(MakeRun("r1"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->has_value());
  // Same asset and partition while r1 is live: nothing created, r1 named.
  auto second = db_->CreateRunUnlessClaimed(MakeRun("r2"));
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(second->has_value());
  EXPECT_EQ((*second)->run_id, "r1");
  EXPECT_EQ(db_->GetRun("r2").status().code(), StatusCode::kNotFound);
  // Another partition, another asset and an unpartitioned asset are free.
  EXPECT_FALSE(db_->CreateRunUnlessClaimed(MakeRun("r3", "commoncrawl/edges", "x|y"))->has_value());
  EXPECT_FALSE(db_->CreateRunUnlessClaimed(MakeRun("r4", "other"))->has_value());
  EXPECT_FALSE(db_->CreateRunUnlessClaimed(MakeRun("u1", "summary", std::nullopt))->has_value());
  EXPECT_EQ((*db_->CreateRunUnlessClaimed(MakeRun("u2", "summary", std::nullopt)))->run_id, "u1");
  // Every live state holds the claim; an ended run releases it.
  for (RunStatus s : {RunStatus::kStarting, RunStatus::kRunning, RunStatus::kCanceling}) {
    ASSERT_TRUE(*db_->TransitionRun("r1", {RunStatus::kQueued, RunStatus::kStarting,
                                           RunStatus::kRunning}, s, {}));
    EXPECT_EQ((*db_->CreateRunUnlessClaimed(MakeRun("r2")))->run_id, "r1");
  }
  ASSERT_TRUE(*db_->TransitionRun("r1", {RunStatus::kCanceling}, RunStatus::kCanceled, {}));
  EXPECT_FALSE(db_->CreateRunUnlessClaimed(MakeRun("r2"))->has_value());
  // A run id in use is still an error, not a claim.
  EXPECT_EQ(db_->CreateRunUnlessClaimed(MakeRun("r2", "new", "p")).status().code(),
            StatusCode::kAlreadyExists);
}

// Two arbiters (two connections to one file), four threads each, all asking
// for the same partitions at once: every partition gets exactly one run.
TEST(SqliteStorageFileTest, ConcurrentClaimsAcrossConnectionsCreateOneRunPerPartition) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "arbiter.db").string();
  auto a = SqliteStorage::Open(path);
  auto b = SqliteStorage::Open(path);
  ASSERT_TRUE(a.ok() && b.ok());
  Storage* storages[] = {a->get(), b->get()};
  constexpr int kPartitions = 20;
  std::atomic<int> created{0};
  std::atomic<int> skipped{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int p = 0; p < kPartitions; ++p) {
        RunRecord r = MakeRun("t" + std::to_string(t) + "p" + std::to_string(p), "x/one",
                              "p" + std::to_string(p));
        auto c = storages[t % 2]->CreateRunUnlessClaimed(r);
        ASSERT_TRUE(c.ok()) << c.status().ToString();
        (c->has_value() ? skipped : created)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), kPartitions);
  EXPECT_EQ(skipped.load(), 7 * kPartitions);
  RunFilter f;
  f.limit = 1000;
  EXPECT_EQ((*a)->ListRuns(f)->size(), static_cast<size_t>(kPartitions));
}

// The same race between separate processes (what two `arbiter materialize`
// commands are): each child claims every partition and reports how many it got.
TEST(SqliteStorageFileTest, ConcurrentClaimsAcrossProcessesCreateOneRunPerPartition) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "arbiter.db").string();
  ASSERT_TRUE(SqliteStorage::Open(path).ok());  // migrated before the race
  constexpr int kPartitions = 15;
  std::vector<pid_t> children;
  for (int c = 0; c < 4; ++c) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto s = SqliteStorage::Open(path);
      if (!s.ok()) _exit(100);
      int got = 0;
      for (int p = 0; p < kPartitions; ++p) {
        auto r = (*s)->CreateRunUnlessClaimed(
            MakeRun("c" + std::to_string(c) + "p" + std::to_string(p), "x/one",
                    "p" + std::to_string(p)));
        if (!r.ok()) _exit(101);
        got += !r->has_value();
      }
      _exit(got);
    }
    children.push_back(pid);
  }
  int total = 0;
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_LE(WEXITSTATUS(status), kPartitions) << "child failed: " << WEXITSTATUS(status);
    total += WEXITSTATUS(status);
  }
  EXPECT_EQ(total, kPartitions);
}

// max_concurrency across arbiters: a start is allowed only while fewer than N
// runs of the runtime are live anywhere in the storage.
TEST(SqliteStorageFileTest, RuntimeLimitCountsLiveRunsOfEveryConnection) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "arbiter.db").string();
  auto a = SqliteStorage::Open(path);
  auto b = SqliteStorage::Open(path);
  ASSERT_TRUE(a.ok() && b.ok());
  Storage* storages[] = {a->get(), b->get()};
  constexpr int kRuns = 24;
  for (int i = 0; i < kRuns; ++i) {
    ASSERT_TRUE((*a)->CreateRun(MakeRun("q" + std::to_string(i), "x/one", "p" + std::to_string(i)))
                    .ok());
  }
  // One run of another runtime does not count.
  RunRecord other = MakeRun("other", "x/one", "o");
  other.runtime = "emr";
  other.status = RunStatus::kRunning;
  ASSERT_TRUE((*b)->CreateRun(other).ok());
  std::atomic<int> started{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kRuns; i += 6) {
        RunUpdate u;
        u.if_runtime_below = 3;
        auto moved = storages[t % 2]->TransitionRun("q" + std::to_string(i), {RunStatus::kQueued},
                                                    RunStatus::kStarting, u);
        ASSERT_TRUE(moved.ok()) << moved.status().ToString();
        started += *moved;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(started.load(), 3);
  // A run ending frees a slot for the next.
  RunFilter f;
  f.status = RunStatus::kStarting;
  auto live = (*b)->ListRuns(f);
  ASSERT_EQ(live->size(), 3u);
  ASSERT_TRUE(*(*b)->TransitionRun(live->front().run_id, {RunStatus::kStarting},
                                   RunStatus::kSuccess, {}));
  f.status = RunStatus::kQueued;
  std::string next = (*a)->ListRuns(f)->front().run_id;
  RunUpdate u;
  u.if_runtime_below = 3;
  EXPECT_TRUE(*(*a)->TransitionRun(next, {RunStatus::kQueued}, RunStatus::kStarting, u));
  f.status = RunStatus::kQueued;
  EXPECT_FALSE(*(*a)->TransitionRun((*a)->ListRuns(f)->front().run_id, {RunStatus::kQueued},
                                    RunStatus::kStarting, u));
}

}  // namespace
}  // namespace arbiter::storage
