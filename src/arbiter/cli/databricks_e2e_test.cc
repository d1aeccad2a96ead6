// The shipped example on the Databricks emulator, through the `arbiter` commands: only the
// runtime differs from a local run (its host points at the emulator, the token comes from an
// environment variable). Materializations, logs and partition status arrive; cancel leaves no
// emulated run running; an arbiter killed mid-run is replaced by one that re-attaches without
// a second submit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "arbiter/cli/cli.h"
#include "arbiter/databricks/emulator_fixture.h"
#include "arbiter/runs/process.h"
#include "arbiter/storage/open_storage.h"
#include "arbiter/testing/temp_dir.h"
#include "arbiter/testing/wait_until.h"

namespace arbiter::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

struct Output {
  int code;
  std::string out, err;
};

using arbiter::testing::WaitUntil;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class DatabricksExampleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::copy(std::string(ARBITER_SOURCE_DIR) + "/examples/commoncrawl", dir_.path(),
             fs::copy_options::recursive);
    fs::remove_all(dir_.path() / ".arbiter");
    std::string why;
    emulator_ = databricks::testing::Emulator::Start(&why, dir_.str());
    ASSERT_TRUE(emulator_) << why;
    // Only the runtime changes: its host, and a token from the environment.
    std::string runtimes = ReadAll(dir_.path() / "runtimes.yaml");
    runtimes = std::regex_replace(runtimes, std::regex("https://dbc-[0-9-]+\\.cloud\\.databricks\\.com"),
                                  emulator_->host());
    runtimes = std::regex_replace(runtimes, std::regex("\\$\\{env:DATABRICKS_TOKEN\\}"),
                                  "${env:ARBITER_E2E_DATABRICKS_TOKEN}");
    std::ofstream(dir_.path() / "runtimes.yaml") << runtimes;
    // nodes names no Databricks instance type (the price catalog picks one); name one here.
    std::string project = ReadAll(dir_.path() / "arbiter.yaml");
    project = std::regex_replace(project, std::regex("instance_families: \\[m6i, m5, m5d\\]"),
                                 "instance_families: [m6i, m5, m5d]\n      instance_types: "
                                 "{databricks: m5.xlarge}");
    std::ofstream(dir_.path() / "arbiter.yaml") << project;
    setenv("ARBITER_E2E_DATABRICKS_TOKEN", databricks::testing::Emulator::kToken, 1);
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
  // For tests whose point is the run lifecycle rather than Spark: every job of the copied
  // project gets `--engine python`, so the emulated cluster still launches it through
  // spark-submit, as the service does, but no Spark session starts (on 2 cores that is most
  // of a minute per run). MaterializesLikeLocally keeps real Spark.
  void UsePythonEngine() {
    const std::string before = ReadAll(dir_.path() / "arbiter.yaml");
    const std::string after = std::regex_replace(
        before, std::regex("args: \\[--input, data, --output, \\.arbiter/output\\]"),
        "args: [--input, data, --output, .arbiter/output, --engine, python]");
    ASSERT_NE(after, before) << "the example's job args changed; update UsePythonEngine";
    std::ofstream(dir_.path() / "arbiter.yaml") << after;
  }
  storage::RunRecord StoredRun(const std::string& run_id) {
    auto s = storage::OpenStorage(storage::kDefaultStorageUrl, dir_.str());
    return *(*s)->GetRun(run_id);
  }

  testing::TempDir dir_;
  SystemClock clock_;
  std::unique_ptr<databricks::testing::Emulator> emulator_;
};

TEST_F(DatabricksExampleTest, MaterializesLikeLocally) {
  Output o = Run({"materialize", "commoncrawl/nodes", "--runtime", "databricks", "-p",
                  "CC-MAIN-2024-10|seeds-a", "-p", "CC-MAIN-2024-10|seeds-b"});
  ASSERT_EQ(o.code, kExitOk) << o.out << o.err;
  o = Run({"materialize", "commoncrawl/edges", "--runtime", "databricks", "-p",
           "CC-MAIN-2024-10|seeds-a"});
  ASSERT_EQ(o.code, kExitOk) << o.out << o.err;
  auto mats = Json({"materializations", "commoncrawl/nodes"});
  ASSERT_EQ(mats.size(), 2u);
  std::string remote_version;
  for (const auto& m : mats) {
    EXPECT_GT(m["metadata"]["arbiter/row_count"]["raw_value"].get<int64_t>(), 0);
    EXPECT_FALSE(m["data_version"].is_null());
    // The emulated cluster ran the job with the real spark-submit (the virtualenv's pyspark).
    EXPECT_EQ(m["metadata"]["arbiter/engine"]["raw_value"], "pyspark") << m.dump();
    if (m["partition"] == "CC-MAIN-2024-10|seeds-a") remote_version = m["data_version"];
  }
  ASSERT_FALSE(remote_version.empty()) << mats.dump();
  EXPECT_THAT(Run({"partitions", "commoncrawl/edges"}).out,
              HasSubstr("status: 1 materialized, 0 failed, 0 in progress, 7 missing"));
  auto runs = Json({"runs", "--asset", "commoncrawl/edges", "--limit", "1"});
  o = Run({"logs", runs[0]["run_id"]});
  EXPECT_THAT(o.out, HasSubstr("Databricks run page: " + emulator_->host()));
  EXPECT_THAT(o.out, HasSubstr("stdout | {\"asset\": \"commoncrawl/edges\""));  // driver log
  EXPECT_THAT(o.out, HasSubstr("materialization"));
  EXPECT_EQ(emulator_->Runs()["submits"], 3);
  // The same partition locally, on the plain-Python engine (no spark-submit on this test's
  // PATH): the same rows, so the same data version as Spark's on the emulated cluster.
  o = Run({"materialize", "commoncrawl/nodes", "--runtime", "local", "-p",
           "CC-MAIN-2024-10|seeds-a"});
  ASSERT_EQ(o.code, kExitOk) << o.out << o.err;
  bool compared = false;
  for (const auto& m : Json({"materializations", "commoncrawl/nodes"})) {
    if (m["partition"] != "CC-MAIN-2024-10|seeds-a") continue;
    EXPECT_EQ(m["metadata"]["arbiter/engine"]["raw_value"], "python") << m.dump();
    EXPECT_EQ(m["data_version"], remote_version);
    compared = true;
  }
  EXPECT_TRUE(compared);
  // The ledger priced what the run reported (the driver and workers of m5.xlarge
  // for their billed time, EC2 and DBUs) and what it would have cost elsewhere.
  auto s = storage::OpenStorage(storage::kDefaultStorageUrl, dir_.str());
  auto cost = (*s)->GetCostRecord(runs[0]["run_id"].get<std::string>());
  ASSERT_TRUE(cost.ok() && cost->has_value());
  const storage::CostRecord& c = **cost;
  ASSERT_TRUE(c.actual_usd.has_value()) << c.counterfactuals.dump();
  EXPECT_GT(*c.actual_usd, 0) << c.counterfactuals.dump();
  EXPECT_EQ(c.usage["runtime_type"], "databricks");
  for (const char* other : {"local", "emr", "emr-serverless"}) {
    ASSERT_TRUE(c.counterfactuals.contains(other)) << other << ": " << c.counterfactuals.dump();
    EXPECT_TRUE(c.counterfactuals[other]["usd"].is_number()) << c.counterfactuals.dump();
  }
}

TEST_F(DatabricksExampleTest, CancelLeavesNoEmulatedRunRunning) {
  emulator_->SetFaults({{"start_delay", 30}});  // a slow cluster start
  Output o = Run({"materialize", "commoncrawl/nodes", "--runtime", "databricks", "-p",
                  "CC-MAIN-2024-10|seeds-a", "--detach"});
  ASSERT_EQ(o.code, kExitOk) << o.out << o.err;
  auto runs = Json({"runs", "--limit", "1"});
  const std::string run_id = runs[0]["run_id"];
  ASSERT_TRUE(WaitUntil([&] { return emulator_->Runs()["runs"].size() == 1; }));
  o = Run({"cancel", run_id});
  EXPECT_EQ(o.code, kExitOk) << o.out << o.err;
  EXPECT_THAT(o.out, HasSubstr("CANCELED"));
  auto emulated = emulator_->Runs();
  EXPECT_EQ(emulated["live_processes"], 0);
  EXPECT_EQ(emulated["runs"][0]["result_state"], "CANCELED");
}

TEST_F(DatabricksExampleTest, AKilledArbiterIsReplacedWithoutASecondSubmit) {
  UsePythonEngine();  // about re-attaching, not Spark
  emulator_->SetFaults({{"start_delay", 2}});
  Output o = Run({"materialize", "commoncrawl/nodes", "--runtime", "databricks", "-p",
                  "CC-MAIN-2024-10|seeds-a", "--detach"});
  ASSERT_EQ(o.code, kExitOk) << o.out << o.err;
  const std::string run_id = Json({"runs", "--limit", "1"})[0]["run_id"];
  ASSERT_TRUE(WaitUntil([&] { return !StoredRun(run_id).external_id.empty(); }));
  auto owner = runs::ProcessId::Parse(StoredRun(run_id).owner);
  ASSERT_TRUE(owner.has_value());
  ASSERT_EQ(kill(static_cast<pid_t>(owner->pid), SIGKILL), 0);
  ASSERT_TRUE(WaitUntil([&] { return !runs::IsProcessAlive(*owner); }));
  Run({"runs"});  // any command notices the orphan and hands it to a new arbiter
  // spark-submit still starts a JVM on a possibly loaded machine: a generous deadline.
  ASSERT_TRUE(WaitUntil([&] { return storage::IsTerminal(StoredRun(run_id).status); },
                        std::chrono::seconds(300)));
  storage::RunRecord done = StoredRun(run_id);
  EXPECT_EQ(done.status, storage::RunStatus::kSuccess) << done.failure_reason;
  EXPECT_EQ(emulator_->Runs()["submits"], 1);
  auto mats = Json({"materializations", "commoncrawl/nodes"});
  ASSERT_EQ(mats.size(), 1u);
  EXPECT_EQ(mats[0]["metadata"]["arbiter/engine"]["raw_value"], "python") << mats[0].dump();
  EXPECT_THAT(Run({"logs", run_id}).out, HasSubstr("re-attached to Databricks run " + done.external_id));
}

}  // namespace
}  // namespace arbiter::cli
