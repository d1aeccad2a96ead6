// The launcher conformance suite: the same cases, through the `arbiter` commands, on every
// runtime — local processes and the Databricks, EMR and EMR Serverless emulators — so the
// one run lifecycle (runs/run_follower.h) is held to one behaviour everywhere: success with
// pipes messages and logs, failure with the job's reason, cancel, compute.max_duration,
// an arbiter killed mid-run replaced without a second start, usage reported.
//
// The jobs (tests/conformance/jobs/) are small Python scripts; every start appends a line
// with its pid to a marker file, so "started once" and "stopped" are checked the same way
// on every platform (the emulators run jobs as processes of this machine).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "arbiter/aws/s3rver_fixture.h"
#include "arbiter/cli/cli.h"
#include "arbiter/databricks/emulator_fixture.h"
#include "arbiter/emr/emulator_fixture.h"
#include "arbiter/runs/process.h"
#include "arbiter/storage/open_storage.h"
#include "arbiter/testing/missing_dependency.h"
#include "arbiter/testing/temp_dir.h"
#include "arbiter/testing/wait_until.h"

namespace arbiter::cli {
namespace {

namespace fs = std::filesystem;
using arbiter::testing::WaitUntil;
using ::testing::HasSubstr;

constexpr const char* kKey = aws::testing::S3rver::kAccessKey;
constexpr const char* kSecret = aws::testing::S3rver::kSecretKey;

struct Output {
  int code;
  std::string out, err;
};

std::vector<std::string> Lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The platforms, started once for the whole suite.
struct Platforms {
  arbiter::testing::TempDir dir;
  std::unique_ptr<aws::testing::S3rver> s3;
  std::unique_ptr<emr::testing::EmulatorProcess> emr, serverless;
  std::unique_ptr<databricks::testing::Emulator> databricks;
  std::string why_not;
  bool missing = false;  // a dependency is not installed (vs. failed to start)
};
Platforms* platforms = nullptr;

class LauncherConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  // Starts only what this test's runtime needs (ctest runs each test in its own process).
  static void StartPlatformsFor(const std::string& runtime) {
    if (platforms) return;
    platforms = new Platforms;
    Platforms& p = *platforms;
    fs::create_directories(p.dir.path() / "work");
    if (runtime == "databricks") {
      p.databricks =
          databricks::testing::Emulator::Start(&p.why_not, (p.dir.path() / "work").string());
      return;
    }
    if (runtime != "emr" && runtime != "emr-serverless") return;
    bool installed = false;
    p.s3 = aws::testing::S3rver::Start(&p.why_not, &installed);
    if (!p.s3) {
      p.missing = !installed;
      return;
    }
    std::vector<std::string> args = {"--access-key",  kKey,
                                     "--secret-key",  kSecret,
                                     "--s3-endpoint", p.s3->endpoint(),
                                     "--workdir",     (p.dir.path() / "work").string(),
                                     "--state-dir",   (p.dir.path() / "aws").string()};
    if (runtime == "emr") {
      args.insert(args.end(), {"--provision-delay", "0.1", "--bootstrap-delay", "0.05",
                               "--terminate-delay", "0.05"});
      p.emr = emr::testing::EmulatorProcess::Start(ARBITER_PYTHON3, "emr", args, &p.why_not);
    } else {
      p.serverless =
          emr::testing::EmulatorProcess::Start(ARBITER_PYTHON3, "emr-serverless", args, &p.why_not);
    }
  }
  bool Started() const {
    const std::string& r = GetParam();
    const Platforms& p = *platforms;
    return r == "local" || (r == "databricks" && p.databricks) || (r == "emr" && p.emr) ||
           (r == "emr-serverless" && p.serverless);
  }
  static void TearDownTestSuite() {
    delete platforms;
    platforms = nullptr;
  }

  void SetUp() override {
    StartPlatformsFor(GetParam());
    Platforms& p = *platforms;
    if (!Started()) {
      if (p.missing) ARBITER_MISSING_DEPENDENCY("s3rver unavailable: " << p.why_not);
      FAIL() << GetParam() << " did not start: " << p.why_not;
    }
    const fs::path source = fs::path(ARBITER_SOURCE_DIR) / "tests/conformance";
    fs::copy(source / "jobs", dir_.path() / "jobs", fs::copy_options::recursive);
    marker_ = dir_.path() / "starts.txt";
    std::ofstream(dir_.path() / "arbiter.yaml") << Project();
    setenv("ARBITER_CONF_AWS_KEY", kKey, 1);
    setenv("ARBITER_CONF_AWS_SECRET", kSecret, 1);
    setenv("ARBITER_CONF_DATABRICKS_TOKEN", databricks::testing::Emulator::kToken, 1);
    if (p.s3) setenv("AWS_ENDPOINT_URL_S3", p.s3->endpoint().c_str(), 1);
    setenv("ARBITER_POLL_INTERVAL_MS", "50", 1);
  }

  std::string Project() const {
    const Platforms& p = *platforms;
    // Runtimes not under test point at a closed port; they are never used.
    const std::string nowhere = "http://127.0.0.1:9";
    auto at = [&](const auto& server) { return server ? server->endpoint() : nowhere; };
    auto asset = [&](const std::string& name, const std::string& script,
                     const std::string& extra, const std::string& args = "") {
      return "  conformance/" + name + ":\n    job:\n      kind: python\n      script: jobs/" +
             script + "\n      args: [--marker, " + marker_.string() + args +
             "]\n    compute:\n      workers: 1\n      worker: {vcpu: 4, memory_gib: 16}\n"
             "      instance_types: {databricks: m5.xlarge, emr: m5.xlarge}\n" + extra;
    };
    return "project: conformance\n"
           "runtimes:\n"
           "  local: {type: local}\n"
           "  databricks:\n"
           "    type: databricks\n"
           "    host: " + (p.databricks ? p.databricks->host() : nowhere) + "\n"
           "    token: ${env:ARBITER_CONF_DATABRICKS_TOKEN}\n"
           "    spark_version: 15.4.x-scala2.12\n"
           "    staging: dbfs:/arbiter/conformance/staging\n"
           "  emr:\n"
           "    type: emr\n"
           "    region: us-east-1\n"
           "    release_label: emr-7.2.0\n"
           "    staging: s3://test-bucket/conformance/staging\n"
           "    log_uri: s3://test-bucket/conformance/logs\n"
           "    subnets: [subnet-0123456789abcdef0]\n"
           "    endpoint: " + at(p.emr) + "\n"
           "    credentials:\n"
           "      access_key_id: ${env:ARBITER_CONF_AWS_KEY}\n"
           "      secret_access_key: ${env:ARBITER_CONF_AWS_SECRET}\n"
           "  emr-serverless:\n"
           "    type: emr-serverless\n"
           "    region: us-east-1\n"
           "    application_id: 00fabcd1234efg09\n"
           "    execution_role_arn: arn:aws:iam::123456789012:role/arbiter-emr-serverless\n"
           "    staging: s3://test-bucket/conformance/staging\n"
           "    log_uri: s3://test-bucket/conformance/logs\n"
           "    endpoint: " + at(p.serverless) + "\n"
           "    credentials:\n"
           "      access_key_id: ${env:ARBITER_CONF_AWS_KEY}\n"
           "      secret_access_key: ${env:ARBITER_CONF_AWS_SECRET}\n"
           "assets:\n" +
           asset("ok", "ok.py", "") + asset("fail", "fail.py", "") +
           asset("slow", "slow.py", "") +
           asset("timeout", "slow.py", "      max_duration: 8s\n") +
           asset("held", "ok.py", "", ", --hold, \"6\"");
  }

  Output Run(std::vector<std::string> args) {
    std::ostringstream out, err;
    CliEnv env;
    env.clock = &clock_;
    env.cwd = dir_.str();
    env.self_exe = ARBITER_EXE;
    int code = RunCli(args, out, err, env);
    return {code, out.str(), err.str()};
  }
  nlohmann::json Json(std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    Output o = Run(args);
    EXPECT_EQ(o.code, 0) << o.err;
    return nlohmann::json::parse(o.out, nullptr, false);
  }
  storage::RunRecord StoredRun(const std::string& run_id) {
    auto s = storage::OpenStorage(storage::kDefaultStorageUrl, dir_.str());
    return *(*s)->GetRun(run_id);
  }
  std::string LastRunId() { return Json({"runs", "--limit", "1"})[0]["run_id"]; }
  // Pids of the job's starts so far (one line per start: "started <pid>").
  std::vector<int64_t> Starts() {
    std::vector<int64_t> pids;
    for (const std::string& l : Lines(marker_)) {
      if (l.rfind("started ", 0) == 0) pids.push_back(std::stoll(l.substr(8)));
    }
    return pids;
  }
  bool Running(int64_t pid) {
    auto ticks = runs::ProcessStartTicks(pid);
    return ticks && runs::IsProcessAlive({pid, *ticks});
  }
  Output Materialize(const std::string& asset, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"materialize", "conformance/" + asset, "--runtime",
                                     GetParam()};
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(args);
  }

  arbiter::testing::TempDir dir_;
  fs::path marker_;
  SystemClock clock_;
};

TEST_P(LauncherConformanceTest, SuccessRecordsPipesMessagesLogsAndUsage) {
  Output o = Materialize("ok");
  ASSERT_EQ(o.code, kExitOk) << o.out << o.err;
  auto mats = Json({"materializations", "conformance/ok"});
  ASSERT_EQ(mats.size(), 1u) << mats.dump();
  EXPECT_EQ(mats[0]["metadata"]["rows"]["raw_value"], 3) << mats.dump();
  EXPECT_EQ(mats[0]["data_version"], "v-conformance") << mats.dump();
  const std::string run_id = LastRunId();
  storage::RunRecord run = StoredRun(run_id);
  EXPECT_EQ(run.status, storage::RunStatus::kSuccess);
  ASSERT_TRUE(run.started_at && run.ended_at);
  EXPECT_EQ(Starts().size(), 1u);
  o = Run({"logs", run_id});
  EXPECT_THAT(o.out, HasSubstr("hello from the conformance job"));  // stdout, however shipped
  EXPECT_THAT(o.out, HasSubstr("a warning on stderr"));
  EXPECT_THAT(o.out, HasSubstr("ended: SUCCESS"));
  if (GetParam() != "local") {
    // Remote platforms say what the run used; the ledger prices it from that.
    auto s = storage::OpenStorage(storage::kDefaultStorageUrl, dir_.str());
    auto cost = (*s)->GetCostRecord(run_id);
    ASSERT_TRUE(cost.ok() && cost->has_value());
    EXPECT_EQ((**cost).usage["runtime_type"], GetParam()) << (**cost).usage.dump();
  }
}

TEST_P(LauncherConformanceTest, AFailingJobFailsTheRunWithItsReason) {
  Output o = Materialize("fail");
  EXPECT_NE(o.code, kExitOk);
  storage::RunRecord run = StoredRun(LastRunId());
  EXPECT_EQ(run.status, storage::RunStatus::kFailure);
  EXPECT_THAT(run.failure_reason, HasSubstr("bad input row 7")) << run.failure_reason;
  EXPECT_TRUE(Json({"materializations", "conformance/fail"}).empty());
}

TEST_P(LauncherConformanceTest, CancelStopsTheJobOnThePlatform) {
  Output o = Materialize("slow", {"--detach"});
  ASSERT_EQ(o.code, kExitOk) << o.out << o.err;
  const std::string run_id = LastRunId();
  ASSERT_TRUE(WaitUntil([&] { return !Starts().empty(); }, std::chrono::seconds(120)))
      << Run({"logs", run_id}).out;
  const int64_t pid = Starts()[0];
  o = Run({"cancel", run_id, "--wait", "120"});
  EXPECT_EQ(o.code, kExitOk) << o.out << o.err;
  storage::RunRecord run = StoredRun(run_id);
  EXPECT_EQ(run.status, storage::RunStatus::kCanceled) << run.failure_reason;
  // Nothing of the job keeps running once the platform confirmed the stop.
  EXPECT_TRUE(WaitUntil([&] { return !Running(pid); }, std::chrono::seconds(30)));
}

TEST_P(LauncherConformanceTest, MaxDurationEndsTheRunAsTimedOut) {
  Output o = Materialize("timeout");
  EXPECT_NE(o.code, kExitOk);
  storage::RunRecord run = StoredRun(LastRunId());
  EXPECT_EQ(run.status, storage::RunStatus::kFailure);
  EXPECT_THAT(run.failure_reason, HasSubstr("timed")) << run.failure_reason;
  // On a slow platform the limit may pass before the job starts; whatever started is stopped.
  for (int64_t pid : Starts()) {
    EXPECT_TRUE(WaitUntil([&] { return !Running(pid); }, std::chrono::seconds(30))) << pid;
  }
}

TEST_P(LauncherConformanceTest, AKilledArbiterIsReplacedWithoutASecondStart) {
  Output o = Materialize("held", {"--detach"});
  ASSERT_EQ(o.code, kExitOk) << o.out << o.err;
  const std::string run_id = LastRunId();
  ASSERT_TRUE(WaitUntil([&] { return !Starts().empty(); }, std::chrono::seconds(120)));
  auto owner = runs::ProcessId::Parse(StoredRun(run_id).owner);
  ASSERT_TRUE(owner.has_value());
  ASSERT_EQ(kill(static_cast<pid_t>(owner->pid), SIGKILL), 0);
  ASSERT_TRUE(WaitUntil([&] { return !runs::IsProcessAlive(*owner); }));
  Run({"runs"});  // any command notices the orphan and hands it to a new arbiter
  ASSERT_TRUE(WaitUntil([&] { return storage::IsTerminal(StoredRun(run_id).status); },
                        std::chrono::seconds(180)));
  storage::RunRecord done = StoredRun(run_id);
  EXPECT_EQ(done.status, storage::RunStatus::kSuccess) << done.failure_reason;
  EXPECT_EQ(Starts().size(), 1u);
  EXPECT_THAT(Run({"logs", run_id}).out, HasSubstr("re-attached"));
  EXPECT_EQ(Json({"materializations", "conformance/held"}).size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Runtimes, LauncherConformanceTest,
                         ::testing::Values("local", "databricks", "emr", "emr-serverless"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           n.erase(std::remove(n.begin(), n.end(), '-'), n.end());
                           return n;
                         });

}  // namespace
}  // namespace arbiter::cli
