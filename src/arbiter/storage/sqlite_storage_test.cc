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

  // The same rows one at a time, oldest first, still within the newest `limit`.
  f = RunHistoryFilter{};
  f.limit = 2;
  std::vector<std::string> seen;
  ASSERT_TRUE(db_->ForEachRunHistory(f, [&](const RunHistoryEntry& e) {
                   seen.push_back(e.run.run_id);
                   if (e.run.run_id == "h1") {
                     EXPECT_EQ(e.cost->actual_usd, 0.5);
                   }
                 }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"h2", "other"}));
  f.limit = 100000;
  seen.clear();
  ASSERT_TRUE(db_->ForEachRunHistory(f, [&](const RunHistoryEntry& e) {
                   seen.push_back(e.run.run_id);
                 }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"h1", "h2", "other"}));
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

namespace arbiter::storage {
namespace {

// ---- The service (issue 18): queue fields, schedule ticks, backfills, lease

TEST_F(SqliteStorageTest, QueueFieldsRoundTripThroughEveryRunRead) {
  RunRecord r = MakeRun("r1");
  r.priority = 7;
  r.not_before = kT0 + std::chrono::seconds(90);
  r.failure_kind = "system";
  ASSERT_TRUE(db_->CreateRun(r).ok());
  ASSERT_TRUE(db_->CreateRun(MakeRun("r2", "other")).ok());
  auto check = [](const RunRecord& got) {
    EXPECT_EQ(got.priority, 7);
    EXPECT_EQ(got.not_before, kT0 + std::chrono::seconds(90));
    EXPECT_EQ(got.failure_kind, "system");
  };
  check(*db_->GetRun("r1"));
  RunFilter f;
  f.asset_key = "commoncrawl/edges";
  check(db_->ListRuns(f)->at(0));
  auto active = *db_->ActiveRuns();
  ASSERT_EQ(active.size(), 2u);
  check(active[0]);
  // Defaults: no priority, may start now, no failure.
  EXPECT_EQ(active[1].priority, 0);
  EXPECT_FALSE(active[1].not_before.has_value());
  EXPECT_EQ(active[1].failure_kind, "");
  // Claims read the same columns.
  check(**db_->CreateRunUnlessClaimed(MakeRun("r3")));
}

TEST_F(SqliteStorageTest, TransitionSetsFailureKindOnlyWhenGiven) {
  ASSERT_TRUE(db_->CreateRun(MakeRun("r1")).ok());
  ASSERT_TRUE(*db_->TransitionRun("r1", {RunStatus::kQueued}, RunStatus::kRunning, {}));
  EXPECT_EQ(db_->GetRun("r1")->failure_kind, "");
  RunUpdate fail;
  fail.failure_kind = "user";
  fail.failure_reason = "exit code 1";
  ASSERT_TRUE(*db_->TransitionRun("r1", {RunStatus::kRunning}, RunStatus::kFailure, fail));
  EXPECT_EQ(db_->GetRun("r1")->failure_kind, "user");
  ASSERT_TRUE(*db_->TransitionRun("r1", {RunStatus::kFailure}, RunStatus::kQueued, {}));
  EXPECT_EQ(db_->GetRun("r1")->failure_kind, "user");  // kept: update left it unset
  // RunHistory reads its own columns after the run's.
  ASSERT_TRUE(*db_->TransitionRun("r1", {RunStatus::kQueued}, RunStatus::kFailure, {}));
  CostRecord c;
  c.run_id = "r1";
  c.runtime = "local";
  c.actual_usd = 0.25;
  ASSERT_TRUE(db_->PutCostRecord(c).ok());
  auto history = *db_->RunHistory({});
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].run.failure_kind, "user");
  EXPECT_EQ(history[0].cost->actual_usd, 0.25);
}

ScheduleTick MakeTick(const std::string& schedule, int minutes, std::string status = "launched") {
  ScheduleTick t;
  t.schedule = schedule;
  t.tick_at = kT0 + std::chrono::minutes(minutes);
  t.recorded_at = t.tick_at + std::chrono::seconds(2);
  t.status = std::move(status);
  t.run_ids = {"run-" + std::to_string(minutes)};
  return t;
}

TEST_F(SqliteStorageTest, ScheduleTickIsRecordedOnce) {
  EXPECT_FALSE(db_->LastScheduleTick("daily")->has_value());
  EXPECT_TRUE(*db_->RecordScheduleTick(MakeTick("daily", 0)));
  ScheduleTick again = MakeTick("daily", 0, "failed");
  again.message = "a second service";
  EXPECT_FALSE(*db_->RecordScheduleTick(again));
  auto last = *db_->LastScheduleTick("daily");
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->status, "launched");  // the first record stands
  EXPECT_EQ(last->message, "");
  EXPECT_EQ(last->tick_at, kT0);
  EXPECT_EQ(last->recorded_at, kT0 + std::chrono::seconds(2));
  EXPECT_EQ(last->run_ids, std::vector<std::string>{"run-0"});
  // Another schedule at the same instant is another tick.
  EXPECT_TRUE(*db_->RecordScheduleTick(MakeTick("hourly", 0)));
}

TEST_F(SqliteStorageTest, ScheduleTicksAreNewestFirstByTickTime) {
  // Recorded out of order (a catch-up fills an older instant last).
  for (int m : {60, 0, 180, 120}) ASSERT_TRUE(*db_->RecordScheduleTick(MakeTick("daily", m)));
  ScheduleTick skipped = MakeTick("daily", 30, "skipped");
  skipped.run_ids.clear();
  ASSERT_TRUE(*db_->RecordScheduleTick(skipped));
  ASSERT_TRUE(*db_->RecordScheduleTick(MakeTick("other", 999)));
  EXPECT_EQ((*db_->LastScheduleTick("daily"))->tick_at, kT0 + std::chrono::minutes(180));
  auto ticks = *db_->ScheduleTicks("daily", 3);
  ASSERT_EQ(ticks.size(), 3u);
  EXPECT_EQ(ticks[0].tick_at, kT0 + std::chrono::minutes(180));
  EXPECT_EQ(ticks[1].tick_at, kT0 + std::chrono::minutes(120));
  EXPECT_EQ(ticks[2].tick_at, kT0 + std::chrono::minutes(60));
  auto all = *db_->ScheduleTicks("daily", 100);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[3].status, "skipped");
  EXPECT_TRUE(all[3].run_ids.empty());
  EXPECT_TRUE(db_->ScheduleTicks("never", 10)->empty());
}

BackfillRecord MakeBackfill(const std::string& id,
                            BackfillStatus status = BackfillStatus::kRunning) {
  BackfillRecord b;
  b.backfill_id = id;
  b.created_at = kT0;
  b.updated_at = kT0;
  b.assets = {"raw/pages", "commoncrawl/edges"};
  b.partitions_fingerprint = "daily:2024-01-01:UTC";
  b.partitions = PartitionSet::Range(0, 1'000'000);
  b.partitions.RemoveRange(500, 700);
  b.runtime = "emr";
  b.options = {{"priority", 3}, {"explore", false}};
  b.status = status;
  return b;
}

TEST_F(SqliteStorageTest, BackfillsRoundTripAndListNewestFirst) {
  BackfillRecord b = MakeBackfill("b1");
  b.launched["raw/pages"] = PartitionSet::Range(0, 100);
  b.launched["raw/pages"].AddRange(200, 250);
  b.launched["commoncrawl/edges"] = PartitionSet();  // nothing yet, still listed
  b.message = "waiting for a slot";
  ASSERT_TRUE(db_->CreateBackfill(b).ok());
  Status dup = db_->CreateBackfill(b);
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.message(), "backfill b1 already exists");
  Result<BackfillRecord> back = db_->GetBackfill("b1");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->created_at, kT0);
  EXPECT_EQ(back->assets, b.assets);
  EXPECT_EQ(back->partitions_fingerprint, "daily:2024-01-01:UTC");
  EXPECT_EQ(back->partitions, b.partitions);
  EXPECT_EQ(back->launched, b.launched);
  EXPECT_EQ(back->runtime, "emr");
  EXPECT_EQ(back->options["priority"], 3);
  EXPECT_EQ(back->status, BackfillStatus::kRunning);
  EXPECT_EQ(back->message, "waiting for a slot");
  EXPECT_EQ(db_->GetBackfill("nope").status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(db_->CreateBackfill(MakeBackfill("b2", BackfillStatus::kCompleted)).ok());
  ASSERT_TRUE(db_->CreateBackfill(MakeBackfill("b3", BackfillStatus::kPaused)).ok());
  ASSERT_TRUE(db_->CreateBackfill(MakeBackfill("b4", BackfillStatus::kCanceled)).ok());
  auto ids = [](const std::vector<BackfillRecord>& v) {
    std::vector<std::string> out;
    for (const auto& r : v) out.push_back(r.backfill_id);
    return out;
  };
  EXPECT_EQ(ids(*db_->ListBackfills(false, 10)),
            (std::vector<std::string>{"b4", "b3", "b2", "b1"}));
  EXPECT_EQ(ids(*db_->ListBackfills(false, 2)), (std::vector<std::string>{"b4", "b3"}));
  EXPECT_EQ(ids(*db_->ListBackfills(true, 10)), (std::vector<std::string>{"b3", "b1"}));
}

TEST_F(SqliteStorageTest, UpdateBackfillIsCompareAndSetOnStatus) {
  ASSERT_TRUE(db_->CreateBackfill(MakeBackfill("b1")).ok());
  BackfillRecord b = *db_->GetBackfill("b1");
  b.launched["raw/pages"] = PartitionSet::Range(0, 40);
  b.updated_at = kT0 + std::chrono::seconds(30);
  b.status = BackfillStatus::kPaused;
  b.message = "paused by alice";
  EXPECT_TRUE(*db_->UpdateBackfill(b, {BackfillStatus::kRunning}));
  // A second writer that read it RUNNING loses, and changes nothing.
  BackfillRecord stale = b;
  stale.status = BackfillStatus::kCompleted;
  stale.launched["raw/pages"] = PartitionSet::Range(0, 1'000'000);
  EXPECT_FALSE(*db_->UpdateBackfill(stale, {BackfillStatus::kRunning}));
  EXPECT_FALSE(*db_->UpdateBackfill(stale, {}));
  BackfillRecord now = *db_->GetBackfill("b1");
  EXPECT_EQ(now.status, BackfillStatus::kPaused);
  EXPECT_EQ(now.message, "paused by alice");
  EXPECT_EQ(now.updated_at, kT0 + std::chrono::seconds(30));
  EXPECT_EQ(now.launched.at("raw/pages"), PartitionSet::Range(0, 40));
  // Either of several states will do.
  b.status = BackfillStatus::kCanceled;
  EXPECT_TRUE(*db_->UpdateBackfill(b, {BackfillStatus::kRunning, BackfillStatus::kPaused}));
  EXPECT_EQ(db_->GetBackfill("b1")->status, BackfillStatus::kCanceled);
  Result<bool> ghost = db_->UpdateBackfill(MakeBackfill("ghost"), {BackfillStatus::kRunning});
  EXPECT_EQ(ghost.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ghost.status().message(), "no backfill ghost");
}

TEST_F(SqliteStorageTest, BackfillRunCountsGroupRunsByStatus) {
  // MakeRun tags runs with backfill b1.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(db_->CreateRun(MakeRun("b1-" + std::to_string(i), "x", std::to_string(i))).ok());
  }
  ASSERT_TRUE(*db_->TransitionRun("b1-0", {RunStatus::kQueued}, RunStatus::kSuccess, {}));
  ASSERT_TRUE(*db_->TransitionRun("b1-1", {RunStatus::kQueued}, RunStatus::kSuccess, {}));
  ASSERT_TRUE(*db_->TransitionRun("b1-2", {RunStatus::kQueued}, RunStatus::kRunning, {}));
  RunRecord other = MakeRun("b2-0", "x", "9");
  other.tags = {{"backfill", "b2"}};
  ASSERT_TRUE(db_->CreateRun(other).ok());
  RunRecord untagged = MakeRun("plain", "x", "8");
  untagged.tags = nlohmann::json::object();
  ASSERT_TRUE(db_->CreateRun(untagged).ok());
  auto counts = db_->BackfillRunCounts("b1");
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(*counts,
            (std::map<RunStatus, int64_t>{
                {RunStatus::kQueued, 2}, {RunStatus::kRunning, 1}, {RunStatus::kSuccess, 2}}));
  EXPECT_EQ(*db_->BackfillRunCounts("b2"), (std::map<RunStatus, int64_t>{{RunStatus::kQueued, 1}}));
  EXPECT_TRUE(db_->BackfillRunCounts("none")->empty());
}

ServiceLease MakeLease(const std::string& owner) {
  return ServiceLease{owner, "host-" + owner, "127.0.0.1:8080", kT0, kT0};
}

TEST_F(SqliteStorageTest, ServiceLeaseIsCompareAndSetOnItsOwner) {
  EXPECT_FALSE(db_->GetServiceLease()->has_value());
  EXPECT_TRUE(*db_->ReplaceServiceLease(std::nullopt, MakeLease("1:10")));
  // A second service starting from "no lease" loses.
  EXPECT_FALSE(*db_->ReplaceServiceLease(std::nullopt, MakeLease("2:20")));
  auto lease = *db_->GetServiceLease();
  ASSERT_TRUE(lease.has_value());
  EXPECT_EQ(lease->owner, "1:10");
  EXPECT_EQ(lease->host, "host-1:10");
  EXPECT_EQ(lease->listen, "127.0.0.1:8080");
  EXPECT_EQ(lease->started_at, kT0);

  EXPECT_TRUE(*db_->RenewServiceLease("1:10", kT0 + std::chrono::seconds(15)));
  EXPECT_FALSE(*db_->RenewServiceLease("2:20", kT0 + std::chrono::seconds(99)));
  EXPECT_EQ((*db_->GetServiceLease())->heartbeat_at, kT0 + std::chrono::seconds(15));
  ASSERT_TRUE(db_->ReleaseServiceLease("2:20").ok());  // not its lease: no-op
  EXPECT_EQ((*db_->GetServiceLease())->owner, "1:10");

  // Taking over a stale lease names the owner it saw; a wrong guess loses.
  EXPECT_FALSE(*db_->ReplaceServiceLease("3:30", MakeLease("2:20")));
  EXPECT_TRUE(*db_->ReplaceServiceLease("1:10", MakeLease("2:20")));
  EXPECT_FALSE(*db_->RenewServiceLease("1:10", kT0 + std::chrono::seconds(30)));  // lost it
  EXPECT_EQ((*db_->GetServiceLease())->owner, "2:20");
  ASSERT_TRUE(db_->ReleaseServiceLease("2:20").ok());
  EXPECT_FALSE(db_->GetServiceLease()->has_value());
  EXPECT_FALSE(*db_->ReplaceServiceLease("2:20", MakeLease("2:20")));  // nothing to replace
  EXPECT_TRUE(*db_->ReplaceServiceLease(std::nullopt, MakeLease("4:40")));
}

// Two connections to one file, as two `arbiter serve` processes hold it.
class SqliteSharedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = (dir_.path() / "arbiter.db").string();
    for (std::unique_ptr<SqliteStorage>* s : {&a_, &b_}) {
      auto opened = SqliteStorage::Open(path);
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      *s = std::move(opened).value();
    }
  }
  testing::TempDir dir_;
  std::unique_ptr<SqliteStorage> a_;
  std::unique_ptr<SqliteStorage> b_;
};

// What each service sees of the other's ticks, backfills and lease.
TEST_F(SqliteSharedFileTest, TicksBackfillsAndTheLeaseAreShared) {
  SqliteStorage* a = a_.get();
  SqliteStorage* b = b_.get();
  ASSERT_TRUE(*a->RecordScheduleTick(MakeTick("daily", 0)));
  EXPECT_FALSE(*b->RecordScheduleTick(MakeTick("daily", 0)));
  EXPECT_EQ((*b->LastScheduleTick("daily"))->run_ids, std::vector<std::string>{"run-0"});

  ASSERT_TRUE(a->CreateBackfill(MakeBackfill("bf")).ok());
  BackfillRecord paused = *b->GetBackfill("bf");
  paused.status = BackfillStatus::kPaused;
  EXPECT_TRUE(*b->UpdateBackfill(paused, {BackfillStatus::kRunning}));
  EXPECT_EQ(a->GetBackfill("bf")->status, BackfillStatus::kPaused);

  ASSERT_TRUE(*a->ReplaceServiceLease(std::nullopt, MakeLease("a")));
  EXPECT_EQ((*b->GetServiceLease())->owner, "a");
  EXPECT_FALSE(*b->ReplaceServiceLease(std::nullopt, MakeLease("b")));
  EXPECT_FALSE(*b->RenewServiceLease("b", kT0));
  ASSERT_TRUE(b->ReleaseServiceLease("b").ok());
  EXPECT_TRUE(*a->RenewServiceLease("a", kT0 + std::chrono::seconds(5)));
  EXPECT_EQ((*b->GetServiceLease())->heartbeat_at, kT0 + std::chrono::seconds(5));
  ASSERT_TRUE(a->ReleaseServiceLease("a").ok());
  EXPECT_TRUE(*b->ReplaceServiceLease(std::nullopt, MakeLease("b")));
}

// Services starting at once on two connections: exactly one takes the lease
// and exactly one records each tick.
TEST_F(SqliteSharedFileTest, ConcurrentLeaseAndTickContendersHaveOneWinner) {
  Storage* storages[] = {a_.get(), b_.get()};
  constexpr int kTicks = 10;
  std::atomic<int> leases{0};
  std::atomic<int> ticks{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      auto won =
          storages[t % 2]->ReplaceServiceLease(std::nullopt, MakeLease("svc" + std::to_string(t)));
      ASSERT_TRUE(won.ok()) << won.status().ToString();
      leases += *won;
      for (int m = 0; m < kTicks; ++m) {
        auto recorded = storages[t % 2]->RecordScheduleTick(MakeTick("daily", m));
        ASSERT_TRUE(recorded.ok()) << recorded.status().ToString();
        ticks += *recorded;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(leases.load(), 1);
  EXPECT_EQ(ticks.load(), kTicks);
  EXPECT_EQ(b_->ScheduleTicks("daily", 100)->size(), static_cast<size_t>(kTicks));
}

}  // namespace
}  // namespace arbiter::storage
