// materialize, runs, logs, cancel and partition status, in-process on a small
// project whose jobs are shell one-liners; and the real binary for what only a
// separate process can show (Ctrl-C, a killed arbiter, cancel from elsewhere).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "arbiter/cli/cli.h"
#include "arbiter/runs/process.h"
#include "arbiter/storage/sqlite_storage.h"
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
  demo/noisy:
    job: {kind: command, command: [printf, 'a\033[31mred\033]0;title\007 nul\000 c1\302\233 tab\tend\n']}
    runtimes: [local]
  demo/crlf:
    job: {kind: command, command: [printf, 'one\r\n']}
    runtimes: [local]
  demo/stubborn:
    job: {kind: command, command: [sh, -c, 'trap "" TERM; echo ready; exec sleep 60']}
    runtimes: [local]
  demo/gated:
    partitions: letters
    job: {kind: command, command: [sh, -c, 'echo ready; for i in $(seq 1200); do [ -f release ] && exit 0; sleep 0.05; done; exit 1']}
    runtimes: [local]
  demo/counted:
    partitions: letters
    job: {kind: command, command: [sh, -c, 'echo "$ARBITER_PARTITION" >> starts.txt; echo ready; for i in $(seq 1200); do [ -f release ] && exit 0; sleep 0.05; done; exit 1']}
    runtimes: [local]
  demo/after_counted:
    partitions: letters
    deps: [demo/counted]
    job: {kind: command, command: [sh, -c, 'echo "after $ARBITER_PARTITION" >> starts.txt']}
    runtimes: [local]
schedules:
  nightly: {cron: "0 3 * * *", timezone: Europe/Vienna, assets: [demo/single]}
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
    env.stdout_terminal = terminal_;
    env.interactive = terminal_;
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
  bool terminal_ = false;  // stdout is a terminal
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

// A job's escape sequences reach a terminal as visible text, never as
// commands to it; --json and a pipe keep the bytes as the job wrote them.
TEST_F(RunCommandsTest, LogsEscapeControlCharactersOnATerminal) {
  auto runs = Json({"materialize", "demo/noisy"});
  ASSERT_EQ(runs.size(), 1u);
  const std::string id = runs[0]["run_id"];
  terminal_ = true;
  Output o = Run({"logs", id});
  EXPECT_THAT(o.out, HasSubstr("stdout | a\\x1b[31mred\\x1b]0;title\\x07 nul\\x00 c1\\u009b "
                               "tab\tend\n"));
  EXPECT_EQ(o.out.find('\x1b'), std::string::npos);
  auto events = Json({"logs", id})["events"];
  bool raw = false;
  for (const auto& e : events) {
    raw |= e["message"] == std::string("a\x1b[31mred\x1b]0;title\x07 nul\0 c1\xc2\x9b tab\tend", 37);
  }
  EXPECT_TRUE(raw) << events.dump();
  terminal_ = false;
  EXPECT_THAT(Run({"logs", id}).out, HasSubstr("stdout | a\x1b[31mred"));
}

// One event, one line: a message's own line ending adds no blank line. On a
// terminal, a finished run's line names its run.
TEST_F(RunCommandsTest, EventsAreOneLineAndFinishedRunsNameTheirRun) {
  terminal_ = true;
  Output o = Run({"materialize", "demo/crlf"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  const std::string id = Json({"runs"})[0]["run_id"];
  EXPECT_THAT(o.err, HasSubstr("  SUCCESS  demo/crlf  (run " + id + ")\n"));
  terminal_ = false;
  o = Run({"logs", id});
  EXPECT_THAT(o.out, HasSubstr("stdout | one\n"));
  EXPECT_EQ(o.out.find('\r'), std::string::npos);
}

TEST_F(RunCommandsTest, CancelOfAnEndedRunSaysSoAndSucceeds) {
  auto runs = Json({"materialize", "demo/single"});
  const std::string id = runs[0]["run_id"];
  Output o = Run({"cancel", id});
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("run " + id + " already ended: SUCCESS"));
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

// The example README's command, as written, on a machine without cloud
// credentials: placement leaves out the runtimes that cannot start (saying
// why) and the partition runs locally.
TEST(ExampleProjectTest, ReadmeCommandWorksWithoutCloudCredentials) {
  testing::TempDir dir;
  std::filesystem::copy(std::string(ARBITER_SOURCE_DIR) + "/examples/commoncrawl", dir.path(),
                        std::filesystem::copy_options::recursive);
  std::filesystem::remove_all(dir.path() / ".arbiter");
  SystemClock clock;
  CliEnv env;
  env.clock = &clock;
  env.cwd = dir.path().string();
  const std::string home = dir.str();
  env.env.get_env = [home](const std::string& name) -> std::optional<std::string> {
    if (name == "HOME") return home;  // no ~/.aws
    if (name == "PATH") return std::string(getenv("PATH"));
    // Nothing listens there: no instance metadata, as off EC2.
    if (name == "AWS_EC2_METADATA_SERVICE_ENDPOINT") return std::string("http://127.0.0.1:9");
    return std::nullopt;
  };
  std::ostringstream out, err;
  int code = RunCli({"materialize", "commoncrawl/nodes", "--partition", "CC-MAIN-2024-10|seeds-a"},
                    out, err, env);
  ASSERT_EQ(code, kExitOk) << out.str() << err.str();
  EXPECT_THAT(err.str(), HasSubstr("note: runtime emr left out: no AWS credentials: env, profile, "
                                   "ECS, IMDS — or use --runtime local\n"));
  EXPECT_THAT(err.str(), HasSubstr("note: runtime databricks left out: no Databricks credentials: "
                                   "environment variable DATABRICKS_TOKEN is not set"));
  EXPECT_THAT(err.str(), HasSubstr("1 run(s) on local"));
}

// `cost`'s predicted spend counts runs that started; one that failed before
// its job ran (no credentials, a bad request) was never spent.
TEST_F(RunCommandsTest, PredictedSpendLeavesOutRunsThatNeverStarted) {
  {
    auto db = storage::SqliteStorage::Open((dir_.path() / ".arbiter" / "arbiter.db").string());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    for (const char* id : {"ran", "never"}) {
      storage::RunRecord r;
      r.run_id = id;
      r.asset_key = "demo/single";
      r.runtime = "local";
      r.created_at = clock_.Now();
      r.status = std::string(id) == "ran" ? storage::RunStatus::kSuccess
                                          : storage::RunStatus::kFailure;
      if (std::string(id) == "ran") r.started_at = r.created_at;
      r.ended_at = r.created_at;
      ASSERT_TRUE((*db)->CreateRun(r).ok());
      storage::CostRecord c;
      c.run_id = id;
      c.runtime = "local";
      c.predicted_usd = std::string(id) == "ran" ? 1.5 : 40.0;
      c.actual_usd = std::string(id) == "ran" ? std::optional<double>(1.0) : std::nullopt;
      c.recorded_at = r.created_at;
      ASSERT_TRUE((*db)->PutCostRecord(c).ok());
    }
  }
  auto cost = Json({"cost", "--by", "runtime"});
  ASSERT_EQ(cost["groups"].size(), 1u) << cost.dump();
  EXPECT_EQ(cost["groups"][0]["predicted_usd"], 1.5) << cost.dump();
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
    started_.push_back(static_cast<pid_t>(id->pid));
    return static_cast<pid_t>(id->pid);
  }
  int Wait(pid_t pid) {
    int st = 0;
    waitpid(pid, &st, 0);
    started_.erase(std::remove(started_.begin(), started_.end(), pid), started_.end());
    return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
  }
  // A test that failed half-way leaves no arbiter behind: SIGTERM cancels the
  // runs it started (and so stops their jobs), then it is reaped.
  void TearDown() override {
    for (pid_t pid : std::vector<pid_t>(started_)) {
      kill(pid, SIGTERM);
      Wait(pid);
    }
  }
  std::vector<pid_t> started_;
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
  EXPECT_EQ(Wait(arbiter), 130);  // 128 + SIGINT, as shells report an interrupted command
  auto run = Json({"runs"})[0];
  EXPECT_EQ(run["status"], "CANCELED");
  EXPECT_EQ(run["failure_reason"], "canceled: interrupted (Ctrl-C)");
}

// The first Ctrl-C says what it waits for; a second one kills the job that
// ignores SIGTERM at once instead of after the grace period.
TEST_F(ArbiterProcessTest, SecondCtrlCKillsAtOnce) {
  pid_t arbiter = Start({"materialize", "demo/stubborn"});
  std::string id = RunningId();
  ASSERT_FALSE(id.empty());
  kill(arbiter, SIGINT);
  auto stderr_text = [&] {
    std::ifstream in(dir_.path() / "arbiter.out.err");
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_TRUE(WaitUntil([&] {
    return stderr_text().find("canceling: waiting for 1 job(s) to stop (Ctrl-C again to kill)") !=
           std::string::npos;
  })) << stderr_text();
  kill(arbiter, SIGINT);
  EXPECT_EQ(Wait(arbiter), 130);
  EXPECT_THAT(stderr_text(), HasSubstr("killing 1 job(s) now"));
  EXPECT_THAT(Run({"logs", id}).out, HasSubstr("asked again to stop (Ctrl-C twice)"));
  EXPECT_EQ(Json({"runs"})[0]["status"], "CANCELED");
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
  // The re-attached run still holds its partition: asking again starts nothing.
  o = Run({"materialize", "demo/slow"});
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.err, HasSubstr("skipped demo/slow: run " + id + " (RUNNING on local) holds it"));
  EXPECT_EQ(Json({"runs"}).size(), 1u);
  o = Run({"cancel", id});
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("CANCELED"));
  o = Run({"logs", id});
  EXPECT_THAT(o.out, HasSubstr("stdout | ready"));  // kept from before the kill, once
  EXPECT_EQ(o.out.find("stdout | ready"), o.out.rfind("stdout | ready"));
}

// Two arbiters asked for the same partitions: the second starts none of them
// (each is held by a run of the first), and a runtime's max_concurrency counts
// the first arbiter's runs too.
TEST_F(ArbiterProcessTest, SecondMaterializeSkipsHeldPartitionsAndSharesTheRuntimeLimit) {
  pid_t first = Start({"materialize", "demo/gated", "-p", "a", "-p", "b", "-p", "c"});
  // local has max_concurrency 2: a and b run, c waits in QUEUED, all three held.
  ASSERT_TRUE(WaitUntil([&] { return Json({"runs", "--status", "running"}).size() == 2; }));
  Output o = Run({"materialize", "demo/gated", "-p", "a", "-p", "b", "-p", "c"});
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.err, HasSubstr("skipped a: run "));
  EXPECT_THAT(o.err, HasSubstr("skipped c: run "));
  EXPECT_THAT(o.err, HasSubstr("nothing to do: every partition is held by a live run"));
  EXPECT_EQ(Json({"runs"}).size(), 3u);

  // d is free, but local already has two live runs (the first arbiter's).
  Output second;
  std::thread t([&] { second = Run({"materialize", "demo/gated", "-p", "d"}); });
  std::string d_id;
  bool waited = WaitUntil([&] {
    for (const auto& r : Json({"runs", "--asset", "demo/gated"})) {
      if (r["partition"] == "d") d_id = r["run_id"];
    }
    return !d_id.empty() &&
           Run({"logs", d_id}).out.find("waiting: runtime local has max_concurrency 2") !=
               std::string::npos;
  });
  EXPECT_TRUE(waited);
  EXPECT_EQ(Json({"runs", "--status", "running"}).size(), 2u);
  std::ofstream(dir_.path() / "release").close();
  t.join();
  EXPECT_EQ(second.code, kExitOk) << second.err;
  EXPECT_EQ(Wait(first), kExitOk);
  auto runs = Json({"runs", "--asset", "demo/gated"});
  ASSERT_EQ(runs.size(), 4u);
  for (const auto& r : runs) EXPECT_EQ(r["status"], "SUCCESS") << r.dump();
}

// `arbiter serve` as a separate process, as a team runs it: materialize and
// backfill hand it their runs, a second service refuses, SIGTERM leaves jobs
// running, and kill -9 loses nothing and launches nothing twice.
class ServeTest : public ArbiterProcessTest {
 protected:
  pid_t StartServe() {
    pid_t pid = Start({"serve"});
    EXPECT_TRUE(WaitUntil([&] { return ServeLog().find("service.started") != std::string::npos; }))
        << ServeLog();
    return pid;
  }
  std::string ServeLog() {
    std::ifstream in(dir_.path() / "arbiter.out.err");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // The partitions whose jobs started, one line per start.
  std::vector<std::string> Starts() {
    std::ifstream in(dir_.path() / "starts.txt");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::sort(lines.begin(), lines.end());
    return lines;
  }
  nlohmann::json Backfill(const std::string& id) {
    for (const auto& b : Json({"backfills", "--all"})) {
      if (b["backfill_id"] == id) return b;
    }
    return nullptr;
  }
};

TEST_F(ServeTest, MaterializeAndBackfillGoToTheServiceAndASecondServiceRefuses) {
  pid_t serve = StartServe();
  Output o = Run({"serve"});
  EXPECT_EQ(o.code, kExitFailure);
  EXPECT_THAT(o.err, HasSubstr("another `arbiter serve` already serves this storage (pid " +
                               std::to_string(serve)));

  o = Run({"materialize", "demo/parts", "-p", "a", "--wait"});
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.err, HasSubstr("for the service (pid " + std::to_string(serve) + ")"));
  EXPECT_THAT(o.out, HasSubstr("1 of 1 run(s) succeeded"));

  auto created = Json({"backfill", "demo/counted", "demo/after_counted", "--from", "a", "--to",
                       "d"});
  const std::string id = created["backfill_id"];
  EXPECT_EQ(created["partitions"], 4);
  EXPECT_EQ(created["assets"], nlohmann::json({"demo/counted", "demo/after_counted"}));
  ASSERT_TRUE(WaitUntil([&] { return Json({"runs", "--status", "running"}).size() == 2; }));
  // local's max_concurrency 2 holds: the other partitions wait in the queue.
  EXPECT_EQ(Backfill(id)["status"], "RUNNING");
  o = Run({"backfill", "pause", id});
  EXPECT_EQ(o.code, kExitOk) << o.err;
  std::ofstream(dir_.path() / "release").close();
  ASSERT_TRUE(WaitUntil([&] { return Json({"runs", "--status", "running"}).empty(); }));
  EXPECT_EQ(Run({"backfills"}).out.find(id) != std::string::npos, true);
  EXPECT_EQ(Backfill(id)["status"], "PAUSED");
  o = Run({"backfill", "resume", id});
  EXPECT_EQ(o.code, kExitOk) << o.err;
  ASSERT_TRUE(WaitUntil([&] { return Backfill(id)["status"] == "COMPLETED"; })) << ServeLog();
  EXPECT_EQ(Backfill(id)["runs"]["SUCCESS"], 8);
  EXPECT_EQ(Starts(), (std::vector<std::string>{"a", "after a", "after b", "after c", "after d",
                                                "b", "c", "d"}));
  EXPECT_THAT(Run({"schedules"}).out, HasSubstr("nightly"));

  kill(serve, SIGTERM);
  EXPECT_EQ(Wait(serve), 0);
  EXPECT_THAT(ServeLog(), HasSubstr("\"event\":\"service.stopped\""));
  // Without a service, materialize runs in this process again.
  o = Run({"materialize", "demo/single"});
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.err, HasSubstr("materializing demo/single: 1 run(s) on local"));
}

TEST_F(ServeTest, KillDashNineLosesNothingAndLaunchesNothingTwice) {
  pid_t serve = StartServe();
  auto created = Json({"backfill", "demo/counted", "--from", "a", "--to", "d"});
  const std::string id = created["backfill_id"];
  ASSERT_TRUE(WaitUntil([&] { return Json({"runs", "--status", "running"}).size() == 2; }));
  ASSERT_TRUE(WaitUntil([&] { return Starts().size() == 2; }));
  kill(serve, SIGKILL);
  Wait(serve);
  // The two jobs run on without their service; the next one re-attaches them.
  serve = StartServe();
  EXPECT_TRUE(WaitUntil([&] { return ServeLog().find("run.reattach") != std::string::npos; }));
  std::ofstream(dir_.path() / "release").close();
  ASSERT_TRUE(WaitUntil([&] { return Backfill(id)["status"] == "COMPLETED"; })) << ServeLog();
  EXPECT_EQ(Starts(), (std::vector<std::string>{"a", "b", "c", "d"}));
  auto runs = Json({"runs", "--asset", "demo/counted"});
  ASSERT_EQ(runs.size(), 4u);
  for (const auto& r : runs) EXPECT_EQ(r["status"], "SUCCESS") << r.dump();
  kill(serve, SIGTERM);
  EXPECT_EQ(Wait(serve), 0);
}

}  // namespace
}  // namespace arbiter::cli
