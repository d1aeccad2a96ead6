// materialize, runs, logs, cancel and partition status, in-process on a small
// project whose jobs are shell one-liners; and the real binary for what only a
// separate process can show (Ctrl-C, a killed arbiter, cancel from elsewhere).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "arbiter/cli/cli.h"
#include "arbiter/runs/process.h"
#include "arbiter/testing/temp_dir.h"
#include "arbiter/testing/wait_until.h"

namespace arbiter::cli {
namespace {

using ::testing::HasSubstr;

constexpr const char* kProject = R"yaml(
project: demo
runtimes:
  local: {type: local, max_concurrency: 2}
  emr: {type: emr, region: us-east-1, release_label: emr-7.2.0, staging: "s3://bkt/p",
        log_uri: "s3://bkt/logs", subnets: [subnet-0123456789abcdef0]}
partitions:
  letters:
    static: [a, b, c, d]
assets:
  demo/parts:
    partitions: letters
    job: {kind: command, command: [sh, -c, 'echo "part $ARBITER_PARTITION"; test "$ARBITER_PARTITION" != c']}
    runtimes: [local, emr]
  demo/single:
    job: {kind: command, command: [sh, -c, 'echo hello']}
    runtimes: [local]
  demo/slow:
    job: {kind: command, command: [sh, -c, 'echo ready; exec sleep 60']}
    runtimes: [local]
)yaml";

struct Output {
  int code;
  std::string out, err;
};

using arbiter::testing::WaitUntil;

class RunCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override { std::ofstream(dir_.path() / "arbiter.yaml") << kProject; }

  Output Run(std::vector<std::string> args) {
    std::ostringstream out, err;
    CliEnv env;
    env.clock = &clock_;
    env.cwd = dir_.path().string();
    env.self_exe = ARBITER_EXE;
    int code = RunCli(args, out, err, env);
    return {code, out.str(), err.str()};
  }
  nlohmann::json Json(std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    Output o = Run(args);
    EXPECT_EQ(o.code, 0) << o.err;
    return nlohmann::json::parse(o.out);
  }

  testing::TempDir dir_;
  SystemClock clock_;
};

TEST_F(RunCommandsTest, BackfillThenStatusRunsAndLogs) {
  Output o = Run({"materialize", "demo/parts", "--from", "a", "--to", "d"});
  EXPECT_EQ(o.code, kExitFailure) << o.err;  // c fails
  EXPECT_THAT(o.err, HasSubstr("materializing demo/parts: 4 run(s) on local, concurrency 2"));
  EXPECT_THAT(o.err, HasSubstr("[4/4] 3 succeeded, 1 failed"));
  EXPECT_THAT(o.out, HasSubstr("3 of 4 run(s) succeeded"));
  EXPECT_THAT(o.out, HasSubstr("job failed: exit code 1"));

  o = Run({"partitions", "demo/parts"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("status: 3 materialized, 1 failed, 0 in progress, 0 missing"));
  EXPECT_THAT(o.out, HasSubstr("materialized: a ... b, d"));
  EXPECT_THAT(o.out, HasSubstr("failed: c"));

  auto runs = Json({"runs", "--asset", "demo/parts"});
  ASSERT_EQ(runs.size(), 4u);
  auto failed = Json({"runs", "--status", "failure"});
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["partition"], "c");
  const std::string id = failed[0]["run_id"];
  o = Run({"logs", id});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("stdout | part c"));
  EXPECT_THAT(o.out, HasSubstr("run " + id + ": FAILURE: job failed: exit code 1"));

  auto mats = Json({"materializations", "demo/parts"});
  ASSERT_EQ(mats.size(), 3u);
  EXPECT_EQ(mats[2]["partition"], "d");
  EXPECT_EQ(mats[2]["metadata"]["arbiter/recorded_by"]["raw_value"], "run succeeded");
  EXPECT_THAT(Run({"materializations", "demo/parts", "-p", "c"}).out,
              HasSubstr("no materializations"));

  // --all-missing now means just the failed one.
  o = Run({"materialize", "demo/parts", "--all-missing"});
  EXPECT_THAT(o.err, HasSubstr("1 run(s)"));
  EXPECT_THAT(o.out, HasSubstr("0 of 1 run(s) succeeded"));
}

TEST_F(RunCommandsTest, UnpartitionedAssetAndJsonOutput) {
  auto runs = Json({"materialize", "demo/single"});
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["status"], "SUCCESS");
  EXPECT_TRUE(runs[0]["partition"].is_null());
  Output o = Run({"logs", runs[0]["run_id"]});
  EXPECT_THAT(o.out, HasSubstr("stdout | hello"));
}

TEST_F(RunCommandsTest, BadRequestsGetOneClearLineAndExitOne) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{"materialize", "demo/part"}, "unknown asset 'demo/part'; did you mean 'demo/parts'?"},
      {{"materialize", "demo/parts", "-p", "z"},
       "--partition 'z' is not a partition of 'demo/parts'"},
      {{"materialize", "demo/parts"}, "is partitioned (letters, 4 keys); choose what to run"},
      {{"materialize", "demo/single", "-p", "a"}, "asset 'demo/single' is not partitioned"},
      {{"materialize", "demo/single", "--runtime", "emr"},
       "asset 'demo/single' may not run on runtime 'emr' (allowed: local)"},
      {{"materialize", "demo/parts", "-p", "a", "--runtime", "gpu"}, "unknown runtime 'gpu'"},
      {{"logs", "nope"}, "no run 'nope'"},
      {{"cancel", "nope"}, "no run 'nope'"},
  };
  for (const Case& c : cases) {
    Output o = Run(c.args);
    EXPECT_EQ(o.code, kExitFailure) << c.args[0] << " " << c.args[1];
    EXPECT_THAT(o.err, HasSubstr(c.message));
  }
  EXPECT_EQ(Run({"runs", "--status", "bogus"}).code, kExitUsage);
  EXPECT_EQ(Json({"runs"}).size(), 0u);  // nothing was queued by the bad requests
}

TEST_F(RunCommandsTest, DetachedRunIsCanceledFromAnotherCommand) {
  Output o = Run({"materialize", "demo/slow", "--detach"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("in the background"));
  auto runs = Json({"runs"});
  ASSERT_EQ(runs.size(), 1u);
  const std::string id = runs[0]["run_id"];
  ASSERT_TRUE(WaitUntil([&] {
    return Run({"logs", id}).out.find("stdout | ready") != std::string::npos;
  }));
  o = Run({"cancel", id});
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("run " + id + ": CANCELED (canceled by `arbiter cancel`)"));
}

// The shipped example, copied out of the source tree so its outputs land in a
// scratch directory: the real jobs on the sample data, nodes → edges → summary.
TEST(ExampleProjectTest, MaterializesTheCommonCrawlChain) {
  testing::TempDir dir;
  std::filesystem::copy(std::string(ARBITER_SOURCE_DIR) + "/examples/commoncrawl", dir.path(),
                        std::filesystem::copy_options::recursive);
  std::filesystem::remove_all(dir.path() / ".arbiter");
  SystemClock clock;
  auto run = [&](std::vector<std::string> args) {
    std::ostringstream out, err;
    CliEnv env;
    env.clock = &clock;
    env.cwd = dir.path().string();
    int code = RunCli(args, out, err, env);
    return Output{code, out.str(), err.str()};
  };
  // Placement would send the cluster-sized assets to a cloud runtime.
  Output o = run({"materialize", "commoncrawl/nodes", "--runtime", "local", "-p",
                  "CC-MAIN-2024-10|seeds-a", "-p", "CC-MAIN-2024-10|seeds-b"});
  ASSERT_EQ(o.code, kExitOk) << o.out << o.err;
  o = run({"materialize", "commoncrawl/edges", "--runtime", "local", "--from", "CC-MAIN-2024-10|seeds-a", "--to",
           "CC-MAIN-2024-10|seeds-b"});
  ASSERT_EQ(o.code, kExitOk) << o.out << o.err;
  o = run({"materialize", "commoncrawl/summary", "-p", "CC-MAIN-2024-10"});
  ASSERT_EQ(o.code, kExitOk) << o.out << o.err;

  o = run({"--json", "materializations", "commoncrawl/edges"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  auto mats = nlohmann::json::parse(o.out);
  ASSERT_EQ(mats.size(), 2u);
  for (const auto& m : mats) {
    EXPECT_GT(m["metadata"]["arbiter/row_count"]["raw_value"].get<int64_t>(), 0);
    EXPECT_GT(m["metadata"]["arbiter/input_bytes"]["raw_value"].get<int64_t>(), 0);
    EXPECT_FALSE(m["data_version"].is_null());
  }
  o = run({"partitions", "commoncrawl/summary"});
  EXPECT_THAT(o.out, HasSubstr("status: 1 materialized, 0 failed, 0 in progress, 3 missing"));
  auto runs = nlohmann::json::parse(
      run({"--json", "runs", "--asset", "commoncrawl/edges", "--limit", "1"}).out);
  o = run({"logs", runs[0]["run_id"]});
  EXPECT_THAT(o.out, HasSubstr("status: engine: "));  // which launcher ran, said in the events
}

// The real binary in its own process: Ctrl-C, and kill -9 followed by recovery.
class ArbiterProcessTest : public RunCommandsTest {
 protected:
  pid_t Start(std::vector<std::string> args) {
    args.insert(args.begin(), ARBITER_EXE);
    args.insert(args.begin() + 1, {"-C", dir_.path().string()});
    std::string log = (dir_.path() / "arbiter.out").string();
    runs::SpawnSpec spec;
    spec.argv = args;
    spec.cwd = dir_.path().string();
    spec.env = {"PATH=" + std::string(getenv("PATH"))};
    spec.stdout_path = log;
    spec.stderr_path = log + ".err";
    auto id = runs::SpawnProcess(spec);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return static_cast<pid_t>(id->pid);
  }
  int Wait(pid_t pid) {
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
  }
  std::string RunningId() {
    std::string id;
    WaitUntil([&] {
      auto runs = Json({"runs", "--status", "running"});
      if (runs.empty()) return false;
      id = runs[0]["run_id"];
      return Run({"logs", id}).out.find("stdout | ready") != std::string::npos;
    });
    return id;
  }
};

TEST_F(ArbiterProcessTest, CtrlCCancelsTheRunsItStarted) {
  pid_t arbiter = Start({"materialize", "demo/slow"});
  std::string id = RunningId();
  ASSERT_FALSE(id.empty());
  kill(arbiter, SIGINT);
  EXPECT_EQ(Wait(arbiter), kExitFailure);
  auto run = Json({"runs"})[0];
  EXPECT_EQ(run["status"], "CANCELED");
  EXPECT_EQ(run["failure_reason"], "canceled: interrupted (Ctrl-C)");
}

TEST_F(ArbiterProcessTest, KilledArbiterLeavesARunThatIsReattachedAndFollowed) {
  pid_t arbiter = Start({"materialize", "demo/slow"});
  std::string id = RunningId();
  ASSERT_FALSE(id.empty());
  kill(arbiter, SIGKILL);
  Wait(arbiter);
  // The job survived its arbiter. The next command hands it to a background
  // arbiter, which follows it; cancel then goes through that follower.
  Output o = Run({"runs"});
  EXPECT_THAT(o.err, HasSubstr("1 run(s) lost their arbiter"));
  ASSERT_TRUE(WaitUntil([&] {
    return Run({"logs", id}).out.find("re-attached to process") != std::string::npos;
  }));
  o = Run({"cancel", id});
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("CANCELED"));
  o = Run({"logs", id});
  EXPECT_THAT(o.out, HasSubstr("stdout | ready"));  // kept from before the kill, once
  EXPECT_EQ(o.out.find("stdout | ready"), o.out.rfind("stdout | ready"));
}

}  // namespace
}  // namespace arbiter::cli
