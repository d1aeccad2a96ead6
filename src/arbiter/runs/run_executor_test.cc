#include "arbiter/runs/run_executor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "arbiter/definitions/partitions/static_partitions.h"
#include "arbiter/runs/local_launcher.h"
#include "arbiter/runs/process.h"
#include "arbiter/storage/sqlite_storage.h"
#include "arbiter/testing/temp_dir.h"
#include "arbiter/testing/wait_until.h"

namespace arbiter::runs {
namespace {

using storage::RunStatus;

class RunExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage_ = std::move(storage::SqliteStorage::Open(":memory:")).value();
    project_.name = "test";
    project_.root = dir_.path().string();
    SetKeys({"a", "b", "c", "d"});
    definitions::AssetDef asset;
    asset.key = *definitions::AssetKey::Parse("demo/parts");
    asset.partitions = "letters";
    asset.job.kind = definitions::JobKind::kCommand;
    // Partition c fails; b reports its own materialization through pipes.
    asset.job.command = {
        "sh", "-c",
        "test \"$ARBITER_PARTITION\" != c || exit 4; "
        "if [ \"$ARBITER_PARTITION\" = b ]; then python3 -c 'import arbiter_pipes as p\n"
        "with p.open_pipes() as c: c.report_asset_materialization(metadata={\"rows\": 1})'; fi"};
    project_.assets[asset.key] = asset;
    definitions::RuntimeConfig local;
    local.name = "local";
    project_.runtimes["local"] = local;
    definitions::RuntimeConfig emr;
    emr.name = "emr";
    emr.type = definitions::RuntimeType::kEmr;
    project_.runtimes["emr"] = emr;
    env_ = definitions::Environment::System();
    LocalLauncherOptions opts;
    opts.runs_dir = (dir_.path() / "runs").string();
    opts.python_client_dir = std::string(ARBITER_SOURCE_DIR) + "/clients/python";
    opts.base_env = {"PATH=" + std::string(getenv("PATH"))};
    opts.poll_interval = std::chrono::milliseconds(10);
    launcher_ = std::make_unique<LocalLauncher>(storage_.get(), opts);
  }

  void SetKeys(std::vector<std::string> keys) {
    project_.partitions["letters"] = {
        "letters", std::move(definitions::StaticPartitions::Create(keys)).value(), {}};
  }

  std::vector<storage::RunRecord> Queue(const std::vector<std::string>& keys,
                                        const std::string& runtime = "local") {
    std::vector<storage::RunRecord> runs;
    for (const std::string& k : keys) {
      storage::RunRecord r;
      r.run_id = NewRunId();
      r.asset_key = "demo/parts";
      r.partition_key = k;
      r.runtime = runtime;
      r.owner = CurrentProcess().ToString();
      EXPECT_TRUE(storage_->CreateRun(r).ok());
      runs.push_back(r);
    }
    return runs;
  }

  RunExecutor Executor(int concurrency) {
    return RunExecutor(
        storage_.get(), &project_, &env_,
        [this](const definitions::RuntimeConfig& rt) -> Launcher* {
          return rt.type == definitions::RuntimeType::kLocal ? launcher_.get() : nullptr;
        },
        concurrency);
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::SqliteStorage> storage_;
  definitions::Project project_;
  definitions::Environment env_;
  std::unique_ptr<LocalLauncher> launcher_;
};

TEST_F(RunExecutorTest, BackfillRunsEveryPartitionAndKeepsStatus) {
  auto runs = Queue({"a", "b", "c", "d"});
  std::vector<RunProgress> seen;
  int max_running = 0;
  CancelSignal cancel;
  auto finals =
      Executor(2).RunToEnd(runs, cancel, [&](const RunProgress& p, const storage::RunRecord*) {
        seen.push_back(p);
        max_running = std::max(max_running, p.running);
      });
  ASSERT_TRUE(finals.ok()) << finals.status().ToString();
  ASSERT_EQ(finals->size(), 4u);
  EXPECT_EQ((*finals)[0].status, RunStatus::kSuccess);
  EXPECT_EQ((*finals)[2].status, RunStatus::kFailure);
  EXPECT_EQ((*finals)[2].failure_reason, "job failed: exit code 4");
  EXPECT_LE(max_running, 2);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().done(), 4);
  EXPECT_EQ(seen.back().succeeded, 3);
  EXPECT_EQ(seen.back().failed, 1);

  PartitionStatusKeeper keeper(storage_.get(), &project_);
  const auto& asset = project_.assets.begin()->second;
  auto status = keeper.Get(asset);
  ASSERT_TRUE(status.ok());
  definitions::PartitionSet done;
  done.Add(0);
  done.Add(1);
  done.Add(3);
  EXPECT_EQ(status->materialized, done);
  EXPECT_TRUE(status->failed.Contains(2));
  EXPECT_TRUE(status->in_progress.Empty());
  // b reported its own materialization; a and d got one for succeeding.
  auto b = *storage_->LatestMaterialization("demo/parts", std::string("b"));
  EXPECT_EQ(b->metadata["rows"]["raw_value"], 1);
  auto a = *storage_->LatestMaterialization("demo/parts", std::string("a"));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->metadata["arbiter/recorded_by"]["raw_value"], "run succeeded");

  // The definition changes (a key inserted first): indices shift, status is rebuilt.
  SetKeys({"0", "a", "b", "c", "d"});
  status = keeper.Get(asset);
  ASSERT_TRUE(status.ok());
  definitions::PartitionSet shifted;
  shifted.Add(1);
  shifted.Add(2);
  shifted.Add(4);
  EXPECT_EQ(status->materialized, shifted);
  EXPECT_TRUE(status->failed.Contains(3));
}

TEST_F(RunExecutorTest, UnimplementedRuntimeFailsTheRunClearly) {
  auto runs = Queue({"a"}, "emr");
  CancelSignal cancel;
  auto finals = Executor(1).RunToEnd(runs, cancel, nullptr);
  ASSERT_TRUE(finals.ok());
  EXPECT_EQ((*finals)[0].status, RunStatus::kFailure);
  EXPECT_EQ((*finals)[0].failure_reason, "runtime emr (type emr) is not implemented yet");
}

TEST_F(RunExecutorTest, CancelBeforeStartCancelsQueuedRuns) {
  auto runs = Queue({"a", "b"});
  CancelSignal cancel;
  cancel.Request("interrupted");
  auto finals = Executor(1).RunToEnd(runs, cancel, nullptr);
  ASSERT_TRUE(finals.ok());
  for (const auto& r : *finals) {
    EXPECT_EQ(r.status, RunStatus::kCanceled);
    EXPECT_EQ(r.failure_reason, "canceled before it started: interrupted");
  }
  auto status =
      PartitionStatusKeeper(storage_.get(), &project_).Get(project_.assets.begin()->second);
  EXPECT_TRUE(status->in_progress.Empty());
  EXPECT_TRUE(status->materialized.Empty());
}

TEST_F(RunExecutorTest, OrphanedRunsAreThoseWhoseOwnerIsGone) {
  auto mine = Queue({"a"});
  storage::RunRecord lost = mine[0];
  lost.run_id = "lost";
  lost.owner = "999999999:1";
  ASSERT_TRUE(storage_->CreateRun(lost).ok());
  auto orphans = OrphanedRuns(*storage_);
  ASSERT_TRUE(orphans.ok());
  ASSERT_EQ(orphans->size(), 1u);
  EXPECT_EQ((*orphans)[0].run_id, "lost");
  // Following it: a queued run whose arbiter died is canceled, never started.
  CancelSignal cancel;
  auto finals = Executor(1).RunToEnd(*orphans, cancel, nullptr);
  ASSERT_TRUE(finals.ok());
  EXPECT_EQ((*finals)[0].status, RunStatus::kCanceled);
  EXPECT_EQ((*finals)[0].failure_reason, "orchestrator stopped before the run started");
}

// max_concurrency is the runtime's, not one process's: with another arbiter's
// run live on the runtime (a second connection to the same file), a queued run
// waits, says why, and starts once that run ends.
TEST_F(RunExecutorTest, MaxConcurrencyCountsOtherArbitersLiveRuns) {
  const std::string path = (dir_.path() / "arbiter.db").string();
  storage_ = std::move(storage::SqliteStorage::Open(path)).value();
  auto other = std::move(storage::SqliteStorage::Open(path)).value();
  LocalLauncherOptions opts;
  opts.runs_dir = (dir_.path() / "runs").string();
  opts.python_client_dir = std::string(ARBITER_SOURCE_DIR) + "/clients/python";
  opts.base_env = {"PATH=" + std::string(getenv("PATH"))};
  opts.poll_interval = std::chrono::milliseconds(10);
  launcher_ = std::make_unique<LocalLauncher>(storage_.get(), opts);
  project_.runtimes["local"].max_concurrency = 1;

  storage::RunRecord foreign;
  foreign.run_id = "foreign";
  foreign.asset_key = "demo/parts";
  foreign.partition_key = "d";
  foreign.runtime = "local";
  foreign.status = RunStatus::kRunning;
  foreign.owner = "1:1";  // init: alive, never us
  ASSERT_TRUE(other->CreateRun(foreign).ok());

  auto runs = Queue({"a"});
  RunExecutor executor = Executor(4);
  executor.SetSlotPollInterval(std::chrono::milliseconds(10));
  CancelSignal cancel;
  Result<std::vector<storage::RunRecord>> finals = std::vector<storage::RunRecord>{};
  std::thread t([&] { finals = executor.RunToEnd(runs, cancel, nullptr); });
  auto waiting = [&] {
    auto events = other->ReadEvents(runs[0].run_id, 0, 10);
    return events.ok() && !events->empty() &&
           events->front().message.find("waiting: runtime local has max_concurrency 1") == 0;
  };
  bool waited = testing::WaitUntil(waiting);
  EXPECT_TRUE(waited);
  EXPECT_EQ(other->GetRun(runs[0].run_id)->status, RunStatus::kQueued);
  ASSERT_TRUE(*other->TransitionRun("foreign", {RunStatus::kRunning}, RunStatus::kSuccess, {}));
  t.join();
  ASSERT_TRUE(finals.ok()) << finals.status().ToString();
  EXPECT_EQ((*finals)[0].status, RunStatus::kSuccess);
}

// A remote platform stand-in: succeeds at once and reports what it used.
class UsageReportingLauncher : public Launcher {
 public:
  explicit UsageReportingLauncher(storage::Storage* storage) : storage_(storage) {}
  Result<RunResult> Execute(const RunRequest& request, const CancelSignal&) override {
    ARBITER_RETURN_IF_ERROR(storage_
                                ->TransitionRun(request.run.run_id, {RunStatus::kQueued},
                                                RunStatus::kSuccess, {})
                                .status());
    RunResult r{RunStatus::kSuccess, ""};
    ResourceUsage u;
    u.runtime_type = "emr";
    u.nodes.push_back({"core", "r5.xlarge", 2, "ON_DEMAND", 0.5});
    r.usage = u;
    return r;
  }
  Result<RunResult> Reattach(const RunRequest& request, const CancelSignal& cancel) override {
    return Execute(request, cancel);
  }

 private:
  storage::Storage* storage_;
};

TEST_F(RunExecutorTest, ReportedUsageIsStoredKeepingThePrediction) {
  UsageReportingLauncher remote(storage_.get());
  auto runs = Queue({"a"}, "emr");
  storage::CostRecord predicted;
  predicted.run_id = runs[0].run_id;
  predicted.runtime = "emr";
  predicted.predicted_usd = 1.25;
  ASSERT_TRUE(storage_->PutCostRecord(predicted).ok());
  RunExecutor executor(
      storage_.get(), &project_, &env_,
      [&](const definitions::RuntimeConfig&) -> Launcher* { return &remote; }, 1);
  std::vector<std::string> ended;
  executor.SetOnRunEnd([&](const storage::RunRecord& final, const RunResult& result) {
    ended.push_back(final.run_id + ":" + std::string(storage::RunStatusName(final.status)) + ":" +
                    (result.usage ? result.usage->runtime_type : "none"));
  });
  CancelSignal cancel;
  ASSERT_TRUE(executor.RunToEnd(runs, cancel, nullptr).ok());
  EXPECT_THAT(ended, ::testing::ElementsAre(runs[0].run_id + ":SUCCESS:emr"));
  auto cost = storage_->GetCostRecord(runs[0].run_id);
  ASSERT_TRUE(cost.ok() && cost->has_value());
  EXPECT_EQ((*cost)->predicted_usd, 1.25);
  auto usage = UsageFromJson((*cost)->usage);
  ASSERT_TRUE(usage.ok()) << usage.status().message();
  ASSERT_EQ(usage->nodes.size(), 1u);
  EXPECT_EQ(usage->nodes[0].instance_type, "r5.xlarge");
  EXPECT_EQ(usage->nodes[0].count, 2);
}

}  // namespace
}  // namespace arbiter::runs
