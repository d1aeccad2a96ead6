// The local runtime against real child processes: shell one-liners and Python
// jobs using the shipped pipes client.
#include "arbiter/runs/local_launcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <tuple>

#include <fstream>
#include <thread>

#include "arbiter/runs/process.h"
#include "arbiter/storage/sqlite_storage.h"
#include "arbiter/testing/temp_dir.h"
#include "arbiter/testing/wait_until.h"

namespace arbiter::runs {
namespace {

using storage::RunStatus;
using ::testing::HasSubstr;

using arbiter::testing::WaitUntil;

class LocalLauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = storage::SqliteStorage::Open(":memory:");
    ASSERT_TRUE(s.ok());
    storage_ = std::move(s).value();
    project_.name = "test";
    project_.root = dir_.path().string();
    runtime_.name = "local";
    runtime_.type = definitions::RuntimeType::kLocal;
    env_ = definitions::Environment::System();
    options_.runs_dir = (dir_.path() / ".arbiter" / "runs").string();
    options_.python_client_dir = std::string(ARBITER_SOURCE_DIR) + "/clients/python";
    options_.base_env = {"PATH=" + std::string(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin"),
                         "LANG=C.UTF-8"};
    options_.poll_interval = std::chrono::milliseconds(10);
    options_.cancel_check_interval = std::chrono::milliseconds(20);
    options_.cancel_grace = std::chrono::milliseconds(500);
  }

  definitions::AssetDef& Asset(std::vector<std::string> command) {
    asset_.key = *definitions::AssetKey::Parse("demo/asset");
    asset_.job.kind = definitions::JobKind::kCommand;
    asset_.job.command = std::move(command);
    return asset_;
  }
  definitions::AssetDef& PythonAsset(const std::string& code) {
    std::ofstream(dir_.path() / "job.py") << code;
    asset_.key = *definitions::AssetKey::Parse("demo/asset");
    asset_.job.kind = definitions::JobKind::kPython;
    asset_.job.script = "job.py";
    return asset_;
  }

  RunRequest NewRun(const std::string& id, std::optional<std::string> partition = "p1") {
    storage::RunRecord r;
    r.run_id = id;
    r.asset_key = "demo/asset";
    r.partition_key = std::move(partition);
    r.runtime = "local";
    r.created_at = TimePoint(std::chrono::seconds(1700000000));
    EXPECT_TRUE(storage_->CreateRun(r).ok());
    return RunRequest{&project_, &asset_, &runtime_, &env_, r};
  }

  std::vector<storage::RunEvent> Events(const std::string& id) {
    auto e = storage_->ReadEvents(id, 0, 1000000);
    EXPECT_TRUE(e.ok());
    return e.ok() ? *e : std::vector<storage::RunEvent>{};
  }
  std::vector<std::string> Texts(const std::string& id, const std::string& kind) {
    std::vector<std::string> out;
    for (const auto& e : Events(id)) {
      if (e.kind == kind) out.push_back(e.message);
    }
    return out;
  }
  bool HasEvent(const std::string& id, const std::string& kind, const std::string& needle) {
    for (const std::string& m : Texts(id, kind)) {
      if (m.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  Result<RunResult> Execute(const RunRequest& req) {
    LocalLauncher launcher(storage_.get(), options_);
    return launcher.Execute(req, cancel_);
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::SqliteStorage> storage_;
  definitions::Project project_;
  definitions::RuntimeConfig runtime_;
  definitions::AssetDef asset_;
  definitions::Environment env_;
  LocalLauncherOptions options_;
  CancelSignal cancel_;
};

TEST_F(LocalLauncherTest, PythonJobReportsThroughPipes) {
  PythonAsset(R"py(
import arbiter_pipes
print("plain stdout line")
with arbiter_pipes.open_pipes() as pipes:
    pipes.log.info("partition %s" % pipes.partition_key)
    pipes.report_asset_materialization(metadata={"rows": 42, "ratio": 0.5}, data_version="v7")
    pipes.report_asset_check("non_empty", passed=True)
)py");
  asset_.code_version = "3";
  RunRequest req = NewRun("r1");
  auto result = Execute(req);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, RunStatus::kSuccess) << result->reason;
  auto run = *storage_->GetRun("r1");
  EXPECT_EQ(run.status, RunStatus::kSuccess);
  EXPECT_TRUE(run.started_at && run.ended_at);
  EXPECT_GT(*run.pid, 0);
  EXPECT_THAT(Texts("r1", "log"), ::testing::Contains("partition p1"));
  EXPECT_THAT(Texts("r1", "stdout"), ::testing::Contains("plain stdout line"));
  EXPECT_TRUE(HasEvent("r1", "asset_check", "non_empty passed"));
  EXPECT_TRUE(HasEvent("r1", "status", "started: python3 job.py"));
  auto m = storage_->LatestMaterialization("demo/asset", std::string("p1"));
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->data_version, "v7");
  EXPECT_EQ((*m)->metadata["rows"]["type"], "int");
  EXPECT_EQ((*m)->metadata["rows"]["raw_value"], 42);
  EXPECT_EQ((*m)->metadata["ratio"]["type"], "float");
  EXPECT_EQ(Texts("r1", "pipes_warning").size(), 0u);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / ".arbiter/runs/r1"));  // cleaned up
}

// A job reporting other assets (bypassing the client's own scope check) changes
// nothing of theirs: each such report is a warning event, and the run still
// counts as not having reported its own materialization.
TEST_F(LocalLauncherTest, MaterializationsOfOtherAssetsAreIgnoredWithAWarning) {
  PythonAsset(R"py(
import arbiter_pipes
with arbiter_pipes.open_pipes() as pipes:
    for key in ("x/two", "no/such/asset"):
        pipes._write("report_asset_materialization",
                     {"asset_key": key, "data_version": None, "metadata": {}})
)py");
  RunRequest req = NewRun("r1");
  auto result = Execute(req);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, RunStatus::kSuccess) << result->reason;
  EXPECT_FALSE(result->reported_materialization);
  for (const char* key : {"x/two", "no/such/asset"}) {
    EXPECT_FALSE(*storage_->LatestMaterialization(key, std::string("p1"))) << key;
    EXPECT_TRUE(HasEvent("r1", "pipes_warning",
                         std::string("ignored a materialization of ") + key +
                             ": run r1 materializes only demo/asset"));
  }
  EXPECT_FALSE(*storage_->LatestMaterialization("demo/asset", std::string("p1")));
}

TEST_F(LocalLauncherTest, NonZeroExitFailsWithReasonAndStderrTail) {
  Asset({"sh", "-c", "echo first >&2; echo 'it broke' >&2; exit 3"});
  auto result = Execute(NewRun("r1"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, RunStatus::kFailure);
  auto run = *storage_->GetRun("r1");
  EXPECT_EQ(run.failure_reason, "job failed: exit code 3");
  EXPECT_EQ(run.stderr_tail, "first\nit broke\n");
  // A job that never opened pipes: a warning, not a failure cause.
  EXPECT_TRUE(HasEvent("r1", "pipes_warning", "opened"));
}

TEST_F(LocalLauncherTest, ExceptionReportedInClosedFailsTheRun) {
  PythonAsset(R"py(
import arbiter_pipes
with arbiter_pipes.open_pipes() as pipes:
    raise ValueError("bad partition")
)py");
  auto result = Execute(NewRun("r1"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, RunStatus::kFailure);
  EXPECT_THAT(result->reason, HasSubstr("exit code 1"));
  EXPECT_THAT(result->reason, HasSubstr("ValueError: bad partition"));
  // Said once, on one line (the client's message already names the exception).
  EXPECT_THAT(result->reason, ::testing::Not(HasSubstr("ValueError: ValueError")));
  EXPECT_NE(result->reason.back(), '\n');
  EXPECT_THAT(storage_->GetRun("r1")->stderr_tail, HasSubstr("ValueError"));
}

TEST_F(LocalLauncherTest, JobWithoutPipesSucceedsOnExitCode) {
  Asset({"true"});
  auto result = Execute(NewRun("r1"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, RunStatus::kSuccess);
  EXPECT_TRUE(HasEvent("r1", "pipes_warning", "opened"));
}

TEST_F(LocalLauncherTest, TimeoutStopsTheJob) {
  Asset({"sleep", "30"});
  asset_.compute.max_duration = std::chrono::seconds(1);
  auto result = Execute(NewRun("r1"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, RunStatus::kFailure);
  EXPECT_EQ(result->reason, "timed out after 1s (compute.max_duration)");
}

TEST_F(LocalLauncherTest, CancelFromThisProcessAndFromStorage) {
  Asset({"sh", "-c", "echo ready; exec sleep 30"});
  RunRequest a = NewRun("a");
  std::thread t([&] {
    auto r = Execute(a);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r->status, RunStatus::kCanceled);
  });
  ASSERT_TRUE(WaitUntil([&] { return HasEvent("a", "stdout", "ready"); }));
  cancel_.Request("interrupted (Ctrl-C)");
  t.join();
  EXPECT_EQ(storage_->GetRun("a")->status, RunStatus::kCanceled);
  EXPECT_EQ(storage_->GetRun("a")->failure_reason, "canceled: interrupted (Ctrl-C)");

  // `arbiter cancel` in another process only flips the stored status.
  CancelSignal fresh;
  RunRequest b = NewRun("b");
  std::thread u([&] {
    LocalLauncher launcher(storage_.get(), options_);
    auto r = launcher.Execute(b, fresh);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r->status, RunStatus::kCanceled);
  });
  ASSERT_TRUE(WaitUntil([&] { return HasEvent("b", "stdout", "ready"); }));
  ASSERT_TRUE(*storage_->TransitionRun("b", {RunStatus::kRunning}, RunStatus::kCanceling, {}));
  u.join();
  EXPECT_EQ(storage_->GetRun("b")->status, RunStatus::kCanceled);
}

TEST_F(LocalLauncherTest, JobIgnoringSigtermIsKilledAfterTheGracePeriod) {
  Asset({"sh", "-c", "trap '' TERM; echo ready; while :; do :; done"});
  RunRequest req = NewRun("r1");
  std::thread t([&] {
    auto r = Execute(req);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r->status, RunStatus::kCanceled);
  });
  ASSERT_TRUE(WaitUntil([&] { return HasEvent("r1", "stdout", "ready"); }));
  cancel_.Request("test");
  t.join();
  EXPECT_TRUE(HasEvent("r1", "status", "sending SIGKILL"));
  EXPECT_TRUE(HasEvent("r1", "status", "killed by SIGKILL"));
}

TEST_F(LocalLauncherTest, HugeAndBinaryOutputIsBounded) {
  options_.recorder.max_output_lines = 1000;
  options_.recorder.max_output_line_bytes = 1024;
  Asset({"sh", "-c",
         "printf 'bin \\377\\376 end\\n'; head -c 100000 /dev/zero | tr '\\0' x; echo; "
         "seq 1 50000; echo last >&2"});
  auto result = Execute(NewRun("r1"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, RunStatus::kSuccess);
  auto out = Texts("r1", "stdout");
  ASSERT_EQ(out.size(), 1000u);
  EXPECT_EQ(out[0], "bin \xEF\xBF\xBD\xEF\xBF\xBD end");
  EXPECT_THAT(out[1], HasSubstr("[... line cut: 100000 bytes, first 1024 kept]"));
  EXPECT_TRUE(HasEvent("r1", "status", "output truncated: more than 1000"));
  EXPECT_EQ(storage_->GetRun("r1")->stderr_tail, "last\n");  // still current
}

TEST_F(LocalLauncherTest, ChildrenLeftBehindAreKilled) {
  Asset({"sh", "-c", "sleep 60 & echo $! > child.pid; echo spawned"});
  auto result = Execute(NewRun("r1"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, RunStatus::kSuccess);
  EXPECT_TRUE(HasEvent("r1", "status", "left 1 process(es)"));
  int64_t pid = 0;
  std::ifstream(dir_.path() / "child.pid") >> pid;
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(WaitUntil([&] {
    return !ProcessStartTicks(pid).has_value() || !IsProcessAlive({pid, *ProcessStartTicks(pid)});
  }));
}

// setsid() takes a child out of the job's process group; it still carries the
// run's id in its environment, so it is found, killed, and the run says so.
TEST_F(LocalLauncherTest, ChildrenThatLeftTheGroupAreFoundAndKilled) {
  // The job waits until the child has its own session, so it has left the group
  // before the job ends (on a loaded machine setsid may not have run yet).
  Asset({"sh", "-c",
         "setsid sleep 300 & p=$!; echo $p > escaped.pid; "
         "while [ \"$(ps -o sid= -p $p | tr -d ' ')\" != \"$p\" ]; do :; done; echo started"});
  auto result = Execute(NewRun("r1"));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, RunStatus::kSuccess) << result->reason;
  EXPECT_TRUE(HasEvent("r1", "status", "left its process group (setsid?)"));
  int64_t pid = 0;
  std::ifstream(dir_.path() / "escaped.pid") >> pid;
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(WaitUntil([&] {
    auto ticks = ProcessStartTicks(pid);
    return !ticks.has_value() || !IsProcessAlive({pid, *ticks});
  })) << "pid " << pid << " still running";
}

TEST_F(LocalLauncherTest, MissingScriptFailsBeforeStart) {
  asset_.key = *definitions::AssetKey::Parse("demo/asset");
  asset_.job.kind = definitions::JobKind::kPython;
  asset_.job.script = "jobs/missing.py";
  auto result = Execute(NewRun("r1"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, RunStatus::kFailure);
  EXPECT_THAT(result->reason,
              HasSubstr("job script jobs/missing.py of asset demo/asset does not exist"));
}

// An arbiter that died mid-run: its job kept running and kept writing. A new
// arbiter claims the run, resumes from the stored cursor (no duplicates) and
// follows the job to its end.
TEST_F(LocalLauncherTest, ReattachResumesFromTheStoredCursor) {
  std::string run_dir = options_.runs_dir + "/r1";
  std::filesystem::create_directories(run_dir);
  SpawnSpec spec;
  spec.argv = {
      "sh", "-c",
      "echo one; while [ ! -f go ]; do sleep 0.01; done; echo two; "
      "echo '{\"__dagster_pipes_version\": \"0.1\", \"method\": \"opened\", \"params\": {}}' >> " +
          run_dir +
          "/messages.jsonl; "
          "echo '{\"__dagster_pipes_version\": \"0.1\", \"method\": \"closed\", \"params\": {}}' "
          ">> " +
          run_dir + "/messages.jsonl"};
  spec.cwd = dir_.path().string();
  spec.env = options_.base_env;
  spec.stdout_path = run_dir + "/stdout.log";
  spec.stderr_path = run_dir + "/stderr.log";
  Asset({"unused"});
  RunRequest req = NewRun("r1");
  auto pid = SpawnProcess(spec);
  ASSERT_TRUE(pid.ok());
  ASSERT_TRUE(WaitUntil([&] { return std::filesystem::file_size(spec.stdout_path) == 4; }));
  // What the dead arbiter had stored: "one", and the cursor past it.
  storage::RunUpdate u;
  u.pid = pid->pid;
  u.process_start_ticks = pid->start_ticks;
  u.owner = "1:1";
  ASSERT_TRUE(*storage_->TransitionRun("r1", {RunStatus::kQueued}, RunStatus::kRunning, u));
  storage::RunOutput stored;
  stored.events.push_back({0, 1, "stdout", "", "one", nullptr});
  stored.reader_cursor = nlohmann::json{{"stdout", 4}};
  ASSERT_TRUE(storage_->AppendRunOutput("r1", &stored).ok());

  std::ofstream(dir_.path() / "go").close();
  LocalLauncher launcher(storage_.get(), options_);
  auto result = launcher.Reattach(
      RunRequest{&project_, &asset_, &runtime_, &env_, *storage_->GetRun("r1")}, cancel_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, RunStatus::kSuccess) << result->reason;
  EXPECT_EQ(Texts("r1", "stdout"), (std::vector<std::string>{"one", "two"}));
  EXPECT_TRUE(HasEvent("r1", "status", "re-attached to process"));
  EXPECT_NE(storage_->GetRun("r1")->owner, "1:1");
  ProcessWaiter reap(*pid, true);  // the test spawned it, so the test reaps it
  reap.WaitFor(std::chrono::seconds(5));
}

// Jobs started through arbiter-job-monitor leave their exit status behind, so a
// re-attached follower (not the job's parent) reports the real outcome.
TEST_F(LocalLauncherTest, ReattachReadsTheExitStatusAMonitoredJobLeft) {
  Asset({"unused"});
  for (const auto& [id, exit_code, expected] :
       {std::tuple{"m0", 0, RunStatus::kSuccess}, std::tuple{"m3", 3, RunStatus::kFailure}}) {
    const std::string run_dir = options_.runs_dir + "/" + id;
    std::filesystem::create_directories(run_dir);
    std::filesystem::remove(dir_.path() / "go");
    SpawnSpec spec;
    spec.argv = {ARBITER_JOB_MONITOR, run_dir + "/exit_status", "sh", "-c",
                 "while [ ! -f go ]; do sleep 0.01; done; exit " + std::to_string(exit_code)};
    spec.cwd = dir_.path().string();
    spec.env = options_.base_env;
    spec.stdout_path = run_dir + "/stdout.log";
    spec.stderr_path = run_dir + "/stderr.log";
    NewRun(id);
    auto pid = SpawnProcess(spec);
    ASSERT_TRUE(pid.ok());
    storage::RunUpdate u;
    u.pid = pid->pid;
    u.process_start_ticks = pid->start_ticks;
    u.owner = "1:1";  // an arbiter that is gone
    ASSERT_TRUE(*storage_->TransitionRun(id, {RunStatus::kQueued}, RunStatus::kRunning, u));
    std::ofstream(dir_.path() / "go").close();
    LocalLauncher launcher(storage_.get(), options_);
    auto result = launcher.Reattach(
        RunRequest{&project_, &asset_, &runtime_, &env_, *storage_->GetRun(id)}, cancel_);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->status, expected) << id << ": " << result->reason;
    if (exit_code != 0) {
      EXPECT_EQ(result->reason, "job failed: exit code 3");
      EXPECT_EQ(storage_->GetRun(id)->failure_kind, "user");
    }
    ProcessWaiter reap(*pid, true);
    ASSERT_TRUE(reap.WaitFor(std::chrono::seconds(5)));
    EXPECT_EQ(reap.status().exit_code, exit_code) << "the monitor ends as its job did";
  }
}

TEST_F(LocalLauncherTest, ReattachToAGoneProcessFailsAndKeepsWhatWasStored) {
  Asset({"unused"});
  NewRun("r1");
  storage::RunUpdate u;
  u.pid = 999999999;  // no such process
  u.process_start_ticks = 1;
  u.owner = "1:1";
  ASSERT_TRUE(*storage_->TransitionRun("r1", {RunStatus::kQueued}, RunStatus::kRunning, u));
  storage::RunOutput stored;
  stored.events.push_back({0, 1, "log", "info", "halfway", nullptr});
  ASSERT_TRUE(storage_->AppendRunOutput("r1", &stored).ok());
  LocalLauncher launcher(storage_.get(), options_);
  auto result = launcher.Reattach(
      RunRequest{&project_, &asset_, &runtime_, &env_, *storage_->GetRun("r1")}, cancel_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, RunStatus::kFailure);
  EXPECT_THAT(storage_->GetRun("r1")->failure_reason, HasSubstr(kOrchestratorStoppedReason));
  EXPECT_EQ(Texts("r1", "log"), (std::vector<std::string>{"halfway"}));

  // A run someone else already claimed is not taken over.
  NewRun("r2");
  ASSERT_TRUE(*storage_->TransitionRun("r2", {RunStatus::kQueued}, RunStatus::kRunning, u));
  storage::RunRecord stale = *storage_->GetRun("r2");
  storage::RunUpdate other;
  other.owner = "2:2";
  ASSERT_TRUE(*storage_->TransitionRun("r2", {RunStatus::kRunning}, RunStatus::kRunning, other));
  EXPECT_EQ(launcher.Reattach(RunRequest{&project_, &asset_, &runtime_, &env_, stale}, cancel_)
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace arbiter::runs
