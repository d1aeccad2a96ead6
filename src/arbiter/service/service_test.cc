// The service in simulated time on real SQLite storage: schedules fire once
// per tick across restarts and catch up after downtime, backfills run in
// dependency order and pause/resume/cancel, retries fire after their backoff,
// limits and pools hold under load, and a restart after a crash re-attaches
// what was running, re-queues what was claimed, and launches nothing twice.
// Launches go to a scripted launcher that moves runs through storage as a
// real one does (claim, RUNNING, end) and counts what it started.
#include "arbiter/service/service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <set>
#include <sstream>

#include "arbiter/cost/test_catalog.h"
#include "arbiter/definitions/partitions/static_partitions.h"
#include "arbiter/planning/enqueue.h"
#include "arbiter/planning/storage_planning_state.h"
#include "arbiter/runs/process.h"
#include "arbiter/runs/run_claim.h"
#include "arbiter/service/backfills.h"
#include "arbiter/storage/sqlite_storage.h"
#include "arbiter/testing/temp_dir.h"
#include "arbiter/testing/wait_until.h"

namespace arbiter::service {
namespace {

using storage::RunRecord;
using storage::RunStatus;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TimePoint At(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  std::chrono::sys_days day{std::chrono::year{y} / std::chrono::month{mo} / std::chrono::day{d}};
  return TimePoint(day) + hours(h) + minutes(mi) + seconds(s);
}

// What a scripted job does: end at once (succeed, fail), or hold until released.
enum class Outcome { kSucceed, kFailSystem, kFailUser, kHold };

class ScriptedLauncher final : public runs::Launcher {
 public:
  explicit ScriptedLauncher(storage::Storage* storage) : storage_(storage) {}

  // Outcomes of an asset's runs, in launch order; afterwards kSucceed.
  void Script(const std::string& asset, std::vector<Outcome> outcomes) {
    std::lock_guard lock(mu_);
    script_[asset] = std::deque<Outcome>(outcomes.begin(), outcomes.end());
  }
  void HoldAll(bool hold) {
    std::lock_guard lock(mu_);
    hold_all_ = hold;
  }
  void Release(const std::string& run_id) {
    std::lock_guard lock(mu_);
    released_.insert(run_id);
    cv_.notify_all();
  }
  void ReleaseAll() {
    std::lock_guard lock(mu_);
    for (const auto& [id, asset] : holding_) released_.insert(id);
    cv_.notify_all();
  }

  Result<runs::RunResult> Execute(const runs::RunRequest& req,
                                  const runs::CancelSignal& cancel) override {
    ARBITER_ASSIGN_OR_RETURN(std::optional<runs::RunResult> not_started,
                             runs::BeginRun(*storage_, req.run));
    if (not_started) return *not_started;
    storage::RunUpdate u;
    u.started_at = req.run.created_at;
    ARBITER_RETURN_IF_ERROR(storage_->TransitionRun(req.run.run_id, {RunStatus::kStarting},
                                                    RunStatus::kRunning, u)
                                .status());
    Outcome outcome = Outcome::kSucceed;
    {
      std::lock_guard lock(mu_);
      starts_.push_back(req.run.run_id);
      ++start_count_[req.run.run_id];
      spot_[req.run.run_id] = req.asset->compute.spot;
      auto& q = script_[req.run.asset_key];
      if (!q.empty()) {
        outcome = q.front();
        q.pop_front();
      } else if (hold_all_) {
        outcome = Outcome::kHold;
      }
    }
    return Follow(req, cancel, outcome);
  }

  Result<runs::RunResult> Reattach(const runs::RunRequest& req,
                                   const runs::CancelSignal& cancel) override {
    ARBITER_ASSIGN_OR_RETURN(std::optional<runs::RunResult> ended,
                             runs::ClaimOrphanedRun(*storage_, req.run, RealClock()));
    if (ended) return *ended;
    {
      std::lock_guard lock(mu_);
      reattached_.push_back(req.run.run_id);
    }
    return Follow(req, cancel, Outcome::kSucceed);
  }

  std::vector<std::string> starts() const {
    std::lock_guard lock(mu_);
    return starts_;
  }
  std::vector<std::string> reattached() const {
    std::lock_guard lock(mu_);
    return reattached_;
  }
  int max_start_count() const {
    std::lock_guard lock(mu_);
    int m = 0;
    for (const auto& [id, n] : start_count_) m = std::max(m, n);
    return m;
  }
  // The most runs live at once, by a key of the run ("" = all).
  int max_live(const std::string& key) const {
    std::lock_guard lock(mu_);
    auto it = max_live_.find(key);
    return it == max_live_.end() ? 0 : it->second;
  }
  std::function<std::vector<std::string>(const RunRecord&)> keys_of = [](const RunRecord&) {
    return std::vector<std::string>{};
  };
  // Whether the run's job was launched with spot capacity allowed.
  bool spot(const std::string& run_id) const {
    std::lock_guard lock(mu_);
    return spot_.at(run_id);
  }
  int holding() const {
    std::lock_guard lock(mu_);
    return static_cast<int>(holding_.size());
  }

 private:
  Result<runs::RunResult> Follow(const runs::RunRequest& req, const runs::CancelSignal& cancel,
                                 Outcome outcome) {
    const std::string& id = req.run.run_id;
    std::vector<std::string> keys = keys_of(req.run);
    keys.push_back("");
    {
      std::lock_guard lock(mu_);
      for (const std::string& k : keys) max_live_[k] = std::max(max_live_[k], ++live_[k]);
    }
    runs::RunResult result{RunStatus::kSuccess, ""};
    if (outcome == Outcome::kHold) {
      std::unique_lock lock(mu_);
      holding_[id] = req.run.asset_key;
      while (!released_.count(id) && !cancel.detached()) {
        lock.unlock();
        // `arbiter cancel` and backfill cancel go through storage.
        Result<RunRecord> now = storage_->GetRun(id);
        lock.lock();
        if (now.ok() && now->status == RunStatus::kCanceling) {
          result = {RunStatus::kCanceled, "canceled"};
          break;
        }
        cv_.wait_for(lock, std::chrono::milliseconds(5));
      }
      holding_.erase(id);
      if (cancel.detached() && !released_.count(id)) {
        for (const std::string& k : keys) --live_[k];
        return runs::RunResult{RunStatus::kRunning, "left running"};
      }
    } else if (outcome == Outcome::kFailSystem) {
      result = {RunStatus::kFailure, "spot capacity lost"};
      result.system_failure = true;
    } else if (outcome == Outcome::kFailUser) {
      result = {RunStatus::kFailure, "job failed: exit code 1"};
    }
    {
      std::lock_guard lock(mu_);
      for (const std::string& k : keys) --live_[k];
    }
    storage::RunUpdate end;
    end.ended_at = req.run.created_at;
    end.failure_reason = result.reason;
    if (*runs::FailureKindOf(result)) end.failure_kind = runs::FailureKindOf(result);
    ARBITER_RETURN_IF_ERROR(storage_->TransitionRun(id, runs::ActiveStatuses(), result.status, end)
                                .status());
    return result;
  }

  storage::Storage* storage_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::deque<Outcome>> script_;
  bool hold_all_ = false;
  std::set<std::string> released_;
  std::map<std::string, std::string> holding_;
  std::vector<std::string> starts_, reattached_;
  std::map<std::string, int> start_count_;
  std::map<std::string, bool> spot_;
  std::map<std::string, int> live_, max_live_;
};

class ServiceTest : public ::testing::Test {
 protected:
  ServiceTest() : clock_(At(2026, 1, 5, 9, 30)), log_(&log_text_, false, &clock_) {
    storage_ = std::move(storage::SqliteStorage::Open(dir_.str() + "/arbiter.db")).value();
    launcher_ = std::make_unique<ScriptedLauncher>(storage_.get());
    auto project = std::make_shared<definitions::Project>();
    project->name = "svc";
    definitions::RuntimeConfig local;
    local.name = "local";
    project->runtimes["local"] = local;
    std::vector<std::string> keys;
    for (int i = 0; i < 10; ++i) keys.push_back("p" + std::to_string(i));
    project->partitions["parts"] = {"parts", std::move(definitions::StaticPartitions::Create(keys)).value(), {}};
    AddAsset(*project, "up", "parts", {});
    AddAsset(*project, "mid", "parts", {"up"});
    AddAsset(*project, "down", "parts", {"mid"});
    AddAsset(*project, "single", "", {});
    definitions::ScheduleDef hourly;
    hourly.name = "hourly";
    hourly.cron = "0 * * * *";
    hourly.assets = {*definitions::AssetKey::Parse("single")};
    project->schedules["hourly"] = hourly;
    project_ = project;
  }

  static void AddAsset(definitions::Project& p, const std::string& key, const std::string& parts,
                       std::vector<std::string> deps) {
    definitions::AssetDef a;
    a.key = *definitions::AssetKey::Parse(key);
    a.partitions = parts;
    for (const auto& d : deps) a.deps.push_back(*definitions::AssetKey::Parse(d));
    a.runtimes = {"local"};
    a.placement.kind = definitions::PlacementPolicy::Kind::kFixed;
    a.placement.runtime = "local";
    p.assets[a.key] = a;
  }
  definitions::AssetDef& Asset(const std::string& key) {
    return project_->assets.at(*definitions::AssetKey::Parse(key));
  }

  // `fresh_projects`: every load returns a new copy and every pass reloads, as
  // a long-running service sees after editing arbiter.yaml.
  std::unique_ptr<Service> MakeService(bool fresh_projects = false) {
    ServiceOptions o;
    o.storage = storage_.get();
    o.load_project = [this, fresh_projects]() -> Result<std::shared_ptr<const definitions::Project>> {
      if (fresh_projects) {
        auto copy = std::make_shared<const definitions::Project>(*project_);
        loaded_.push_back(copy);
        return copy;
      }
      return std::shared_ptr<const definitions::Project>(project_);
    };
    if (fresh_projects) o.reload_every = seconds(0);
    o.env = &env_;
    o.launcher_for = [this](const definitions::RuntimeConfig&) { return launcher_.get(); };
    o.open_engine = [](const definitions::Project& p, std::string*) {
      return std::make_unique<cost::Engine>(&p, cost::testing::TestCatalog());
    };
    o.lease.owner = runs::CurrentProcess().ToString();
    o.lease.host = "test-host";
    o.owner_alive = [](const std::string& owner) {
      return owner == runs::CurrentProcess().ToString();
    };
    o.clock = &clock_;
    o.log = &log_;
    o.seed = 7;
    return std::make_unique<Service>(std::move(o));
  }

  // Steps until `done` holds, letting followers finish between passes.
  void StepUntil(Service& s, const std::function<bool()>& done, int max_passes = 200) {
    for (int i = 0; i < max_passes && !done(); ++i) {
      ASSERT_TRUE(s.Step().ok());
      s.WaitForFollowers();
    }
    ASSERT_TRUE(done()) << log_text_.str();
  }
  std::vector<RunRecord> Runs(std::optional<RunStatus> status = std::nullopt) {
    storage::RunFilter f;
    f.status = status;
    f.limit = 10000;
    return *storage_->ListRuns(f);
  }
  // Queues a run for the service, as `materialize` does when a service serves the storage.
  RunRecord Submit(const std::string& asset, std::optional<std::string> partition = {},
                   const std::string& runtime = "") {
    planning::StoragePlanningState state(storage_.get(), project_.get());
    planning::Planner planner(project_.get(), &state);
    planning::PlanRequest req;
    req.asset = &Asset(asset);
    if (partition) req.selection.partitions = {*partition};
    req.placement.runtime = runtime;
    req.now = clock_.Now();
    cost::Engine engine(project_.get(), cost::testing::TestCatalog());
    planning::Plan plan = planner.MakePlan(req, &engine);
    EXPECT_TRUE(plan.ok()) << (plan.ok() ? "" : plan.errors.front().what);
    planning::EnqueueOptions options;
    options.owner = storage::kQueueOwner;
    planning::EnqueueResult q = planning::Enqueue(*storage_, plan, options);
    EXPECT_EQ(q.queued.size(), 1u);
    return q.queued.front();
  }

  testing::TempDir dir_;
  FakeClock clock_;
  std::ostringstream log_text_;
  ServiceLog log_;
  definitions::Environment env_;
  std::unique_ptr<storage::SqliteStorage> storage_;
  std::unique_ptr<ScriptedLauncher> launcher_;
  std::shared_ptr<definitions::Project> project_;
  std::vector<std::weak_ptr<const definitions::Project>> loaded_;
};

TEST_F(ServiceTest, AScheduleFiresAtItsTickOnceAcrossRestartsAndCatchesUpAfterDowntime) {
  {
    auto s = MakeService();
    ASSERT_TRUE(s->Start().ok());
    Result<TimePoint> next = s->Step();
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(*next, At(2026, 1, 5, 9, 30, 1));  // idle: look again in a second
    EXPECT_TRUE(Runs().empty());
    clock_.Set(At(2026, 1, 5, 9, 59, 59));
    ASSERT_TRUE(s->Step().ok());
    EXPECT_TRUE(Runs().empty());
    clock_.Set(At(2026, 1, 5, 10));
    ASSERT_TRUE(s->Step().ok());
    s->WaitForFollowers();
    ASSERT_EQ(Runs().size(), 1u);
    EXPECT_EQ(Runs().front().status, RunStatus::kSuccess);
    EXPECT_EQ(Runs().front().tags["tick"], "2026-01-05T10:00:00Z");
    clock_.Set(At(2026, 1, 5, 10, 0, 30));
    ASSERT_TRUE(s->Step().ok());
    EXPECT_EQ(Runs().size(), 1u);
  }
  {
    // A restart within the hour fires nothing again.
    clock_.Set(At(2026, 1, 5, 10, 0, 40));
    auto s = MakeService();
    ASSERT_TRUE(s->Start().ok());
    ASSERT_TRUE(s->Step().ok());
    EXPECT_EQ(Runs().size(), 1u);
  }
  {
    // Down from 10:01 to 13:20: catchup latest runs 13:00, skips 11:00 and 12:00.
    clock_.Set(At(2026, 1, 5, 13, 20));
    auto s = MakeService();
    ASSERT_TRUE(s->Start().ok());
    ASSERT_TRUE(s->Step().ok());
    s->WaitForFollowers();
    ASSERT_EQ(Runs().size(), 2u);
    EXPECT_EQ(Runs().front().tags["tick"], "2026-01-05T13:00:00Z");
  }
  std::vector<storage::ScheduleTick> ticks = *storage_->ScheduleTicks("hourly", 10);
  ASSERT_EQ(ticks.size(), 3u);
  EXPECT_EQ(ticks[0].status, "launched");
  EXPECT_EQ(Iso8601(ticks[0].tick_at), "2026-01-05T13:00:00Z");
  EXPECT_EQ(ticks[1].status, "skipped");
  EXPECT_THAT(ticks[1].message, HasSubstr("2 missed tick(s)"));
  EXPECT_EQ(Iso8601(ticks[2].tick_at), "2026-01-05T10:00:00Z");
  EXPECT_EQ(launcher_->max_start_count(), 1);
}

TEST_F(ServiceTest, ABackfillRunsEachPartitionInDependencyOrderAndCompletes) {
  project_->service.max_concurrent_runs = 4;
  planning::StoragePlanningState state(storage_.get(), project_.get());
  BackfillRequest req;
  req.assets = {&Asset("down"), &Asset("up"), &Asset("mid")};
  req.selection.from = "p0";
  req.selection.to = "p9";
  req.now = clock_.Now();
  req.backfill_id = "bf1";
  std::vector<planning::PlanError> errors;
  std::optional<storage::BackfillRecord> b = NewBackfill(*project_, state, req, &errors);
  ASSERT_TRUE(b) << errors.front().what;
  EXPECT_THAT(b->assets, ElementsAre("up", "mid", "down"));
  ASSERT_TRUE(storage_->CreateBackfill(*b).ok());

  auto s = MakeService();
  ASSERT_TRUE(s->Start().ok());
  StepUntil(*s, [&] {
    return storage_->GetBackfill("bf1")->status == storage::BackfillStatus::kCompleted;
  });
  EXPECT_EQ(Runs(RunStatus::kSuccess).size(), 30u);
  EXPECT_EQ(launcher_->max_start_count(), 1);
  // Per partition: up before mid before down.
  std::map<std::string, int> position;
  std::vector<std::string> starts = launcher_->starts();
  for (size_t i = 0; i < starts.size(); ++i) position[starts[i]] = static_cast<int>(i);
  for (const RunRecord& r : Runs()) {
    for (const auto& up : r.tags.value("after", nlohmann::json::array())) {
      EXPECT_LT(position.at(up.get<std::string>()), position.at(r.run_id)) << r.run_id;
    }
    if (r.asset_key != "up") {
      EXPECT_TRUE(r.tags.contains("after")) << r.asset_key;
    }
  }
  EXPECT_THAT(storage_->GetBackfill("bf1")->message, HasSubstr("30 run(s) succeeded"));
}

TEST_F(ServiceTest, ABackfillPausesResumesAndCancels) {
  project_->service.max_concurrent_runs = 2;
  launcher_->HoldAll(true);
  planning::StoragePlanningState state(storage_.get(), project_.get());
  BackfillRequest req;
  req.assets = {&Asset("up")};
  req.selection.all_missing = true;
  req.now = clock_.Now();
  req.backfill_id = "bf2";
  std::vector<planning::PlanError> errors;
  ASSERT_TRUE(storage_->CreateBackfill(*NewBackfill(*project_, state, req, &errors)).ok());
  auto s = MakeService();
  ASSERT_TRUE(s->Start().ok());
  ASSERT_TRUE(s->Step().ok());
  ASSERT_TRUE(arbiter::testing::WaitUntil([&] { return launcher_->holding() == 2; }));

  storage::BackfillRecord b = *storage_->GetBackfill("bf2");
  b.status = storage::BackfillStatus::kPaused;
  ASSERT_TRUE(*storage_->UpdateBackfill(b, {storage::BackfillStatus::kRunning}));
  launcher_->ReleaseAll();
  ASSERT_TRUE(arbiter::testing::WaitUntil([&] { return Runs(RunStatus::kSuccess).size() == 2; }));
  ASSERT_TRUE(s->Step().ok());
  EXPECT_EQ(launcher_->starts().size(), 2u) << "a paused backfill starts nothing";

  b = *storage_->GetBackfill("bf2");
  b.status = storage::BackfillStatus::kRunning;
  ASSERT_TRUE(*storage_->UpdateBackfill(b, {storage::BackfillStatus::kPaused}));
  ASSERT_TRUE(s->Step().ok());
  ASSERT_TRUE(arbiter::testing::WaitUntil([&] { return launcher_->holding() == 2; }));
  EXPECT_EQ(launcher_->starts().size(), 4u);

  b = *storage_->GetBackfill("bf2");
  Result<int> touched = CancelBackfill(*storage_, b, "enough", clock_.Now());
  ASSERT_TRUE(touched.ok()) << touched.status().ToString();
  s->WaitForFollowers();
  ASSERT_TRUE(s->Step().ok());
  s->WaitForFollowers();
  EXPECT_EQ(launcher_->starts().size(), 4u) << "a canceled backfill starts nothing";
  EXPECT_EQ(Runs(RunStatus::kSuccess).size(), 2u);
  EXPECT_EQ(Runs(RunStatus::kCanceled).size(), Runs().size() - 2);
  for (const RunRecord& r : Runs()) EXPECT_TRUE(storage::IsTerminal(r.status)) << r.run_id;
  Result<BackfillProgress> p = ProgressOf(*storage_, *storage_->GetBackfill("bf2"));
  EXPECT_EQ(p->partitions, 10);
}

TEST_F(ServiceTest, ASystemFailureIsRetriedAfterItsBackoffAndAUserFailureIsNot) {
  Asset("single").retries.max_attempts = 3;
  Asset("single").retries.backoff = seconds(60);
  Asset("single").retries.jitter = 0;
  launcher_->Script("single", {Outcome::kFailSystem, Outcome::kSucceed});
  Asset("up").retries.max_attempts = 3;
  launcher_->Script("up", {Outcome::kFailUser});
  auto s = MakeService();
  ASSERT_TRUE(s->Start().ok());
  RunRecord first = Submit("single");
  RunRecord user = Submit("up", "p1");
  ASSERT_TRUE(s->Step().ok());
  s->WaitForFollowers();
  EXPECT_EQ(storage_->GetRun(first.run_id)->failure_kind, "system");
  EXPECT_EQ(storage_->GetRun(user.run_id)->failure_kind, "user");
  ASSERT_TRUE(s->Step().ok());  // sees the ends: queues the retry, not yet due
  s->WaitForFollowers();
  Result<RunRecord> retry = storage_->GetRun(first.run_id + ".2");
  ASSERT_TRUE(retry.ok()) << log_text_.str();
  EXPECT_EQ(retry->status, RunStatus::kQueued);
  EXPECT_EQ(*retry->not_before, clock_.Now() + seconds(60));
  EXPECT_EQ(retry->tags["retry_of"], first.run_id);
  EXPECT_EQ(launcher_->starts().size(), 2u);
  clock_.Advance(seconds(59));
  ASSERT_TRUE(s->Step().ok());
  EXPECT_EQ(launcher_->starts().size(), 2u) << "started before its backoff ended";
  clock_.Advance(seconds(1));
  ASSERT_TRUE(s->Step().ok());
  s->WaitForFollowers();
  EXPECT_EQ(storage_->GetRun(retry->run_id)->status, RunStatus::kSuccess);
  EXPECT_EQ(storage_->GetRun(retry->run_id)->attempt, 1);
  EXPECT_EQ(storage_->GetRun(user.run_id + ".2").status().code(), StatusCode::kNotFound);
  EXPECT_THAT(log_text_.str(), HasSubstr("retry.queued"));
}

TEST_F(ServiceTest, ARetryAfterLostCapacityRunsOnDemandAndMayMoveToAnotherRuntime) {
  definitions::RuntimeConfig spare;
  spare.name = "spare";
  project_->runtimes["spare"] = spare;
  definitions::AssetDef& a = Asset("single");
  a.runtimes = {"local", "spare"};
  a.placement = {};  // cheapest
  a.retries.max_attempts = 2;
  a.retries.backoff = seconds(1);
  a.retries.other_runtime = true;
  launcher_->Script("single", {Outcome::kFailSystem});
  auto s = MakeService();
  ASSERT_TRUE(s->Start().ok());
  RunRecord first = Submit("single", std::nullopt, "local");
  ASSERT_TRUE(s->Step().ok());
  s->WaitForFollowers();
  ASSERT_TRUE(s->Step().ok());
  clock_.Advance(seconds(2));
  ASSERT_TRUE(s->Step().ok());
  s->WaitForFollowers();
  Result<RunRecord> retry = storage_->GetRun(first.run_id + ".2");
  ASSERT_TRUE(retry.ok()) << log_text_.str();
  EXPECT_EQ(retry->status, RunStatus::kSuccess);
  EXPECT_EQ(retry->runtime, "spare");
  EXPECT_EQ(retry->tags["on_demand"], true);
  EXPECT_TRUE(launcher_->spot(first.run_id));
  EXPECT_FALSE(launcher_->spot(retry->run_id)) << "the retry ran without spot capacity";
  EXPECT_THAT(log_text_.str(), HasSubstr("moved from local to spare"));
}

// The cost engine opened for a tick prices runs that end after the project was
// reloaded (and the tick's project dropped): it keeps its own project alive.
TEST_F(ServiceTest, TheCostEngineOutlivesReloadsOfTheProject) {
  clock_.Set(At(2026, 1, 5, 9, 59, 59));
  auto s = MakeService(/*fresh_projects=*/true);
  ASSERT_TRUE(s->Start().ok());
  clock_.Set(At(2026, 1, 5, 10));
  ASSERT_TRUE(s->Step().ok());  // the tick opens the engine on the project loaded now
  s->WaitForFollowers();
  ASSERT_EQ(Runs(RunStatus::kSuccess).size(), 1u);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(s->Step().ok());  // reloads drop that bundle
  RunRecord later = Submit("up", "p1");
  ASSERT_TRUE(s->Step().ok());
  s->WaitForFollowers();
  EXPECT_EQ(storage_->GetRun(later.run_id)->status, RunStatus::kSuccess);
  Result<std::optional<storage::CostRecord>> cost = storage_->GetCostRecord(later.run_id);
  ASSERT_TRUE(cost.ok() && cost->has_value()) << log_text_.str();
  EXPECT_EQ((*cost)->runtime, "local");
  EXPECT_TRUE((*cost)->actual_usd.has_value());
  int alive = 0;
  for (const auto& p : loaded_) alive += !p.expired();
  EXPECT_GE(alive, 2) << "the engine's project and the current one";
  EXPECT_LT(alive, static_cast<int>(loaded_.size())) << "older projects are freed";
}

TEST_F(ServiceTest, PoolsAndLimitsHoldUnderLoad) {
  project_->service.max_concurrent_runs = 4;
  project_->runtimes["local"].max_concurrency = 3;
  project_->pools["warehouse"] = {"warehouse", 2, {}};
  Asset("mid").pool = "warehouse";
  Asset("down").pool = "warehouse";
  Asset("up").max_concurrency = 1;
  launcher_->keys_of = [this](const RunRecord& r) {
    std::vector<std::string> k = {"runtime:" + r.runtime, "asset:" + r.asset_key};
    if (const auto* a = project_->FindAsset(r.asset_key); a && !a->pool.empty()) {
      k.push_back("pool:" + a->pool);
    }
    return k;
  };
  launcher_->HoldAll(true);
  auto s = MakeService();
  ASSERT_TRUE(s->Start().ok());
  for (int i = 0; i < 10; ++i) {
    for (const char* asset : {"up", "mid", "down"}) Submit(asset, "p" + std::to_string(i));
  }
  // Release one held run per pass, in launch order, until all 30 ran.
  for (int pass = 0; pass < 200 && Runs(RunStatus::kSuccess).size() < 30; ++pass) {
    ASSERT_TRUE(s->Step().ok());
    std::vector<std::string> started = launcher_->starts();
    for (const std::string& id : started) {
      if (storage_->GetRun(id)->status == RunStatus::kRunning) {
        launcher_->Release(id);
        break;
      }
    }
    ASSERT_TRUE(arbiter::testing::WaitUntil([&] {
      int live = 0;
      for (const RunRecord& r : Runs()) live += r.status == RunStatus::kRunning;
      return live == launcher_->holding();
    }));
  }
  EXPECT_EQ(Runs(RunStatus::kSuccess).size(), 30u);
  EXPECT_LE(launcher_->max_live(""), 3);  // the runtime's 3 bind before the service's 4
  EXPECT_EQ(launcher_->max_live("runtime:local"), 3);
  EXPECT_EQ(launcher_->max_live("pool:warehouse"), 2);
  EXPECT_EQ(launcher_->max_live("asset:up"), 1);
  EXPECT_EQ(launcher_->max_start_count(), 1);
}

TEST_F(ServiceTest, ARestartAfterACrashReattachesRequeuesAndLaunchesNothingTwice) {
  // What a service killed with kill -9 leaves: its lease, runs it followed,
  // a run it had claimed but not started, and runs still in the queue.
  const std::string dead = "999999:12345";
  storage::ServiceLease lease{dead, "test-host", "", clock_.Now(), clock_.Now()};
  ASSERT_TRUE(*storage_->ReplaceServiceLease(std::nullopt, lease));
  std::vector<std::string> running, claimed, queued;
  for (int i = 0; i < 10; ++i) {
    RunRecord r = Submit("up", "p" + std::to_string(i));
    storage::RunUpdate u;
    u.owner = dead;
    if (i < 4) {
      u.started_at = clock_.Now();
      ASSERT_TRUE(*storage_->TransitionRun(r.run_id, {RunStatus::kQueued}, RunStatus::kRunning, u));
      running.push_back(r.run_id);
    } else if (i < 6) {
      ASSERT_TRUE(*storage_->TransitionRun(r.run_id, {RunStatus::kQueued}, RunStatus::kQueued, u));
      claimed.push_back(r.run_id);
    } else {
      queued.push_back(r.run_id);
    }
  }
  auto s = MakeService();
  ASSERT_TRUE(s->Start().ok()) << "a dead holder's lease is taken over at once";
  EXPECT_EQ(storage_->GetServiceLease()->value().owner, runs::CurrentProcess().ToString());
  StepUntil(*s, [&] { return Runs(RunStatus::kSuccess).size() == 10; });
  std::vector<std::string> reattached = launcher_->reattached();
  std::sort(reattached.begin(), reattached.end());
  std::sort(running.begin(), running.end());
  EXPECT_EQ(reattached, running);
  std::vector<std::string> started = launcher_->starts();
  std::sort(started.begin(), started.end());
  std::vector<std::string> expected = claimed;
  expected.insert(expected.end(), queued.begin(), queued.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(started, expected);
  EXPECT_EQ(launcher_->max_start_count(), 1);
}

TEST_F(ServiceTest, ASecondServiceOnTheSameStorageRefusesWhileTheFirstLives) {
  auto first = MakeService();
  ASSERT_TRUE(first->Start().ok());
  ServiceOptions o;
  o.storage = storage_.get();
  o.lease.owner = "424242:1";
  o.lease.host = "test-host";
  o.owner_alive = [](const std::string& owner) {
    return owner == runs::CurrentProcess().ToString();
  };
  o.clock = &clock_;
  o.log = &log_;
  o.load_project = [this]() -> Result<std::shared_ptr<const definitions::Project>> {
    return std::shared_ptr<const definitions::Project>(project_);
  };
  Service second(std::move(o));
  Status s = second.Start();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("already serves this storage"));
  EXPECT_THAT(s.message(), HasSubstr("kill -TERM"));
}

TEST_F(ServiceTest, StopDetachesFromRunningJobsAndTheRunsStayLive) {
  launcher_->HoldAll(true);
  auto s = MakeService();
  ASSERT_TRUE(s->Start().ok());
  RunRecord r = Submit("single");
  ASSERT_TRUE(s->Step().ok());
  ASSERT_TRUE(arbiter::testing::WaitUntil([&] { return launcher_->holding() == 1; }));
  std::thread runner([&] { EXPECT_TRUE(s->Run().ok()); });
  s->Stop();
  runner.join();
  EXPECT_EQ(storage_->GetRun(r.run_id)->status, RunStatus::kRunning)
      << "a stopping service leaves the job running for the next start";
  EXPECT_FALSE(storage_->GetServiceLease()->has_value()) << "a clean stop releases the lease";
  EXPECT_THAT(log_text_.str(), HasSubstr("service.stopped"));
}

}  // namespace
}  // namespace arbiter::service
