// DatabricksLauncher against the Databricks emulator (a real HTTP server running real Python
// jobs) with real SQLite storage: success with pipes, logs and usage; failure; cancel; each
// injected fault; re-attach after the following arbiter stops, without a second submit.
#include "arbiter/databricks/databricks_launcher.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <thread>

#include "arbiter/databricks/emulator_fixture.h"
#include "arbiter/http/curl_http_client.h"
#include "arbiter/storage/sqlite_storage.h"
#include "arbiter/testing/temp_dir.h"
#include "arbiter/testing/wait_until.h"

namespace arbiter::databricks {
namespace {

namespace fs = std::filesystem;
using storage::RunStatus;

using arbiter::testing::WaitUntil;

// A job that imports a sibling module, reports through the pipes client, prints, and then
// waits for a "release" file in its working directory when asked to.
constexpr const char* kJob = R"(import os, sys, time
import helper
from arbiter_pipes import open_pipes
with open_pipes() as pipes:
    mode = sys.argv[1] if len(sys.argv) > 1 else "ok"
    for i in range(int(os.environ.get("LINES", "3"))):
        print(helper.line(i), flush=True)
    pipes.log.info("partition " + str(pipes.partition_key))
    if mode in ("wait", "fail-after-wait"):
        while not os.path.exists("release"):
            time.sleep(0.02)
    if mode.startswith("fail"):
        raise RuntimeError("the job broke on purpose")
    pipes.report_asset_materialization(metadata={"rows": 42}, data_version="v1")
)";

// Blocks every request once frozen, as if the arbiter making it had stopped.
class GateHttpClient final : public http::HttpClient {
 public:
  explicit GateHttpClient(http::HttpClient* inner) : inner_(inner) {}
  Result<http::HttpResponse> Send(const http::HttpRequest& r) override {
    std::unique_lock lock(mu_);
    if (frozen_) {
      cv_.wait(lock, [&] { return !frozen_; });
      return UnavailableError("stopped");
    }
    lock.unlock();
    return inner_->Send(r);
  }
  void Freeze() {
    std::lock_guard lock(mu_);
    frozen_ = true;
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      frozen_ = false;
    }
    cv_.notify_all();
  }

 private:
  http::HttpClient* inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool frozen_ = false;
};

// Delivers runs/submit to Databricks, then holds the answer back until released and
// loses it: the arbiter stopped after Databricks accepted the run, before it stored the id.
class LostSubmitAnswerHttpClient final : public http::HttpClient {
 public:
  explicit LostSubmitAnswerHttpClient(http::HttpClient* inner) : inner_(inner) {}
  Result<http::HttpResponse> Send(const http::HttpRequest& r) override {
    Result<http::HttpResponse> answer = inner_->Send(r);
    if (r.url.find("/runs/submit") == std::string::npos) return answer;
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return released_; });
    return UnavailableError("the arbiter stopped before the answer arrived");
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }

 private:
  http::HttpClient* inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};

class DatabricksLauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("jobs/job.py", kJob);
    dir_.Write("jobs/helper.py", "def line(i):\n    return 'line %d' % i\n");
    std::string why;
    // A run stays PENDING for 1 s (the last --start-delay wins), long enough for the
    // follower's first poll to see it even on a loaded machine.
    emulator_ = testing::Emulator::Start(&why, dir_.str(), {"--start-delay", "1"});
    ASSERT_TRUE(emulator_) << why;
    storage_ = std::move(storage::SqliteStorage::Open(":memory:")).value();
    project_.name = "test";
    project_.root = dir_.str();
    runtime_.name = "databricks";
    runtime_.type = definitions::RuntimeType::kDatabricks;
    runtime_.databricks.host = *definitions::ConfigString::Parse(emulator_->host());
    runtime_.databricks.token = *definitions::ConfigString::Parse("${env:DBX_TEST_TOKEN}");
    runtime_.databricks.spark_version = "15.4.x-scala2.12";
    runtime_.databricks.staging = "dbfs:/arbiter/staging";
    runtime_.databricks.region = "us-east-1";
    env_.get_env = [](const std::string& name) -> std::optional<std::string> {
      if (name == "DBX_TEST_TOKEN") return std::string(testing::Emulator::kToken);
      return std::nullopt;
    };
    asset_.key = *definitions::AssetKey::Parse("demo/edges");
    asset_.job.kind = definitions::JobKind::kPySpark;
    asset_.job.script = "jobs/job.py";
    asset_.compute.workers = 2;
    asset_.compute.instance_types["databricks"] = "m5.xlarge";
    options_.python_client_dir = std::string(ARBITER_SOURCE_DIR) + "/clients/python";
    options_.poll_initial = std::chrono::milliseconds(20);
    options_.poll_max = std::chrono::milliseconds(100);
    options_.cancel_check_interval = std::chrono::milliseconds(20);
    options_.pipes_reader.drain_window = std::chrono::seconds(2);
    options_.pipes_reader.drain_pause = std::chrono::milliseconds(50);
    options_.retry.initial_backoff = std::chrono::milliseconds(5);
    options_.retry.max_backoff = std::chrono::milliseconds(20);
    options_.retry.default_retry_after = std::chrono::milliseconds(5);
  }

  storage::RunRecord NewRun(std::vector<std::string> args) {
    asset_.job.args = std::move(args);
    storage::RunRecord run;
    run.run_id = "run" + std::to_string(++runs_);
    run.asset_key = "demo/edges";
    run.partition_key = "p1";
    run.runtime = "databricks";
    EXPECT_TRUE(storage_->CreateRun(run).ok());
    return run;
  }
  runs::RunRequest Request(const storage::RunRecord& run) {
    return {&project_, &asset_, &runtime_, &env_, run};
  }
  std::string Events(const std::string& run_id) {
    std::string all;
    auto read = storage_->ReadEvents(run_id, 0, 100000);
    if (!read.ok()) return "cannot read events: " + read.status().message();
    std::vector<storage::RunEvent> events = std::move(read).value();
    for (const auto& e : events) {
      all += e.kind + " " + e.level + " " + e.message + "\n";
    }
    return all;
  }
  Result<runs::RunResult> Execute(const storage::RunRecord& run,
                                  const runs::CancelSignal& cancel = {}) {
    DatabricksLauncher launcher(storage_.get(), options_);
    return launcher.Execute(Request(run), cancel);
  }
  bool JobRunning() {
    auto runs = emulator_->Runs();
    return runs.contains("live_processes") && runs["live_processes"] == 1;
  }

  arbiter::testing::TempDir dir_;
  std::unique_ptr<testing::Emulator> emulator_;
  std::unique_ptr<storage::SqliteStorage> storage_;
  definitions::Project project_;
  definitions::RuntimeConfig runtime_;
  definitions::Environment env_;
  definitions::AssetDef asset_;
  DatabricksLauncherOptions options_;
  int runs_ = 0;
};

TEST_F(DatabricksLauncherTest, RunsTheJobWithPipesLogsAndUsage) {
  storage::RunRecord run = NewRun({"ok"});
  auto result = Execute(run);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  std::string events = Events(run.run_id);
  EXPECT_EQ(result->status, RunStatus::kSuccess) << result->reason << "\n" << events;
  EXPECT_TRUE(result->reported_materialization);
  EXPECT_NE(events.find("stdout  line 2"), std::string::npos) << events;  // via cluster logs
  EXPECT_NE(events.find("partition p1"), std::string::npos) << events;    // via pipes chunks
  EXPECT_NE(events.find("Databricks run page: http://127.0.0.1:"), std::string::npos) << events;
  EXPECT_NE(events.find("PENDING"), std::string::npos) << events;
  auto stored = *storage_->GetRun(run.run_id);
  EXPECT_EQ(stored.status, RunStatus::kSuccess);
  EXPECT_EQ(stored.external_id, emulator_->Runs()["runs"][0]["run_id"].dump());
  auto m = *storage_->LatestMaterialization("demo/edges", std::string("p1"));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->data_version, "v1");
  ASSERT_TRUE(result->usage.has_value());
  EXPECT_EQ(result->usage->nodes.size(), 2u);
  EXPECT_EQ(result->usage->nodes[1].market, "SPOT");
  EXPECT_GT(*result->usage->execution_s, 0.0);
  // Code is content-addressed and stays; the run's pipes objects are gone.
  auto code = fs::directory_iterator(emulator_->DbfsFile("/arbiter/staging/code"));
  EXPECT_TRUE(fs::exists(code->path() / "helper.py"));
  EXPECT_TRUE(fs::exists(code->path() / "arbiter_pipes.py"));
  EXPECT_FALSE(
      fs::exists(emulator_->DbfsFile("/arbiter/staging/runs/" + run.run_id + "/context.json")));
  // The same code again uses the same folder.
  storage::RunRecord again = NewRun({"ok"});
  ASSERT_TRUE(Execute(again).ok());
  int folders = 0;
  for ([[maybe_unused]] auto& e :
       fs::directory_iterator(emulator_->DbfsFile("/arbiter/staging/code")))
    ++folders;
  EXPECT_EQ(folders, 1);
}

// A resolved ${env:} secret is never put in spark_env_vars: the run fails before
// anything is submitted. A ${dbsecret:} reference goes as {{secrets/...}} for
// Databricks to resolve (the emulator does not, so the job sees the reference).
TEST_F(DatabricksLauncherTest, JobEnvSecretsGoAsDatabricksReferencesNeverInClear) {
  asset_.job.env["API_KEY"] = *definitions::ConfigString::Parse("${env:DBX_TEST_TOKEN}");
  storage::RunRecord run = NewRun({"ok"});
  auto result = Execute(run);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, RunStatus::kFailure);
  EXPECT_NE(result->reason.find("environment variable API_KEY of the job: refusing to send the value of "
                                "${env:DBX_TEST_TOKEN} to Databricks"),
            std::string::npos)
      << result->reason;
  EXPECT_EQ(emulator_->Runs()["submits"], 0);

  asset_.job.env.clear();
  asset_.job.env["LINES"] = *definitions::ConfigString::Parse("${dbsecret:arbiter/lines}");
  run = NewRun({"ok"});
  result = Execute(run);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, RunStatus::kFailure);  // int("{{secrets/arbiter/lines}}")
  std::string events = Events(run.run_id);
  EXPECT_NE(events.find("{{secrets/arbiter/lines}}"), std::string::npos) << events;
}

TEST_F(DatabricksLauncherTest, AFailingJobReportsItsError) {
  storage::RunRecord run = NewRun({"fail"});
  auto result = Execute(run);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, RunStatus::kFailure);
  EXPECT_NE(result->reason.find("FAILED"), std::string::npos) << result->reason;
  EXPECT_NE(result->reason.find("the job broke on purpose"), std::string::npos) << result->reason;
}

TEST_F(DatabricksLauncherTest, CancelEndsOnlyWhenDatabricksConfirms) {
  storage::RunRecord run = NewRun({"wait"});
  runs::CancelSignal cancel;
  std::thread t([&] {
    ASSERT_TRUE(WaitUntil([&] { return JobRunning(); }));
    cancel.Request("test");
  });
  auto result = Execute(run, cancel);
  t.join();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, RunStatus::kCanceled) << result->reason;
  EXPECT_EQ(emulator_->Runs()["live_processes"], 0);
  EXPECT_EQ(emulator_->Runs()["runs"][0]["result_state"], "CANCELED");
}

TEST_F(DatabricksLauncherTest, ThrottlingAndServerErrorsAreSurvived) {
  // Retry-After: 0 keeps the test fast; honouring the header is tested with RetryPolicy.
  emulator_->SetFaults(
      {{"rate_429", 0.5}, {"retry_after", 0}, {"burst_status", 503}, {"burst_count", 3}});
  storage::RunRecord run = NewRun({"ok"});
  auto result = Execute(run);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, RunStatus::kSuccess) << result->reason << Events(run.run_id);
  EXPECT_EQ(emulator_->Runs()["runs"].size(), 1u);  // retried submits started nothing twice
}

TEST_F(DatabricksLauncherTest, SpotLossFailsTheRunAndIsReportedInUsage) {
  emulator_->SetFaults({{"spot_loss_after", 0.2}});
  storage::RunRecord run = NewRun({"wait"});
  auto result = Execute(run);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, RunStatus::kFailure);
  EXPECT_NE(result->reason.find("SPOT_INSTANCE_TERMINATION"), std::string::npos) << result->reason;
  EXPECT_TRUE(result->usage->spot_interrupted);
}

TEST_F(DatabricksLauncherTest, AVanishedRunIsReportedClearly) {
  emulator_->SetFaults({{"vanish_after", 0.2}});
  storage::RunRecord run = NewRun({"wait"});
  auto result = Execute(run);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, RunStatus::kFailure);
  EXPECT_NE(result->reason.find("no longer exists"), std::string::npos) << result->reason;
}

TEST_F(DatabricksLauncherTest, AnExpiredTokenIsReportedClearly) {
  storage::RunRecord run = NewRun({"wait"});
  std::thread t([&] {
    ASSERT_TRUE(WaitUntil([&] { return JobRunning(); }));
    emulator_->SetFaults({{"expired_tokens", {testing::Emulator::kToken}}});
  });
  auto result = Execute(run);
  t.join();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, RunStatus::kFailure);
  EXPECT_NE(result->reason.find("Invalid access token"), std::string::npos) << result->reason;
  EXPECT_NE(result->reason.find("renew the credentials of runtime databricks"), std::string::npos);
}

TEST_F(DatabricksLauncherTest, TruncatedLogsAreNoted) {
  emulator_->SetFaults({{"truncate_logs", true}});
  storage::RunRecord run = NewRun({"wait"});
  std::thread t([&] {
    // Released once every line was read from the delivered log.
    ASSERT_TRUE(WaitUntil([&] { return Events(run.run_id).find("line 2") != std::string::npos; }));
    dir_.Write("release", "");
  });
  auto result = Execute(run);
  t.join();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, RunStatus::kSuccess) << result->reason;
  EXPECT_NE(Events(run.run_id).find("log delivery truncated it"), std::string::npos)
      << Events(run.run_id);
}

TEST_F(DatabricksLauncherTest, ReattachFollowsTheStoredRunWithoutSubmittingAgain) {
  http::CurlHttpClient curl;
  GateHttpClient gate(&curl);
  DatabricksLauncherOptions first = options_;
  first.transport = &gate;
  storage::RunRecord run = NewRun({"wait"});
  DatabricksLauncher a(storage_.get(), first);
  std::thread t([&] { (void)a.Execute(Request(run), runs::CancelSignal()); });
  ASSERT_TRUE(WaitUntil(
      [&] { return JobRunning() && Events(run.run_id).find("line 2") != std::string::npos; }));
  gate.Freeze();  // the first arbiter stops following
  storage::RunRecord stored = *storage_->GetRun(run.run_id);
  ASSERT_FALSE(stored.external_id.empty());
  const std::string events_before = Events(run.run_id);
  dir_.Write("release", "");
  DatabricksLauncher b(storage_.get(), options_);
  auto result = b.Reattach(Request(stored), runs::CancelSignal());
  gate.Release();
  t.join();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, RunStatus::kSuccess) << result->reason << Events(run.run_id);
  EXPECT_EQ(emulator_->Runs()["submits"], 1);
  std::string events = Events(run.run_id);
  EXPECT_NE(events.find("re-attached to Databricks run " + stored.external_id), std::string::npos);
  // Output read before the restart is not stored twice.
  size_t first_line = events.find("stdout  line 0");
  ASSERT_NE(first_line, std::string::npos) << events;
  EXPECT_EQ(events.find("stdout  line 0", first_line + 1), std::string::npos) << events;
}

TEST_F(DatabricksLauncherTest, ReattachBeforeTheIdWasStoredFindsTheRunByItsToken) {
  http::CurlHttpClient curl;
  LostSubmitAnswerHttpClient lossy(&curl);
  DatabricksLauncherOptions first = options_;
  first.transport = &lossy;
  first.retry.max_attempts = 1;
  storage::RunRecord run = NewRun({"ok"});
  DatabricksLauncher a(storage_.get(), first);
  std::thread t([&] { (void)a.Execute(Request(run), runs::CancelSignal()); });
  ASSERT_TRUE(WaitUntil([&] { return emulator_->Runs()["runs"].size() == 1; }));
  storage::RunRecord stored = *storage_->GetRun(run.run_id);
  ASSERT_EQ(stored.status, RunStatus::kStarting);
  ASSERT_TRUE(stored.external_id.empty());  // accepted by Databricks, id not stored
  DatabricksLauncher b(storage_.get(), options_);
  auto result = b.Reattach(Request(stored), runs::CancelSignal());
  lossy.Release();
  t.join();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, RunStatus::kSuccess) << result->reason << Events(run.run_id);
  nlohmann::json after = emulator_->Runs();
  ASSERT_EQ(after["runs"].size(), 1u) << after.dump();  // the same run, not a second one
  EXPECT_EQ(std::to_string(after["runs"][0]["run_id"].get<int64_t>()),
            storage_->GetRun(run.run_id)->external_id);
  EXPECT_NE(Events(run.run_id).find("submitting again with the same idempotency token"),
            std::string::npos);
}

}  // namespace
}  // namespace arbiter::databricks
