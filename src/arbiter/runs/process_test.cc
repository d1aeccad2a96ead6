#include "arbiter/runs/process.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "arbiter/testing/temp_dir.h"

namespace arbiter::runs {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> TestEnv() { return {"PATH=/usr/bin:/bin", "LANG=C"}; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

SpawnSpec Spec(const testing::TempDir& dir, std::vector<std::string> argv) {
  SpawnSpec s;
  s.argv = std::move(argv);
  s.cwd = dir.path().string();
  s.env = TestEnv();
  s.stdout_path = (dir.path() / "out").string();
  s.stderr_path = (dir.path() / "err").string();
  return s;
}

TEST(ProcessTest, RunsInItsOwnGroupWithOutputInFiles) {
  testing::TempDir dir;
  auto id = SpawnProcess(
      Spec(dir, {"sh", "-c", "echo out; echo err >&2; ps -o pgid= -p $$; pwd; exit 7"}));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_GT(id->start_ticks, 0);
  ProcessWaiter waiter(*id, /*is_child=*/true);
  ASSERT_TRUE(waiter.WaitFor(std::chrono::seconds(10)));
  EXPECT_EQ(waiter.status().exit_code, 7);
  std::string out = ReadFile((dir.path() / "out").string());
  EXPECT_THAT(out, HasSubstr("out\n"));
  EXPECT_THAT(out, HasSubstr(std::to_string(id->pid)));  // pgid == its own pid
  EXPECT_THAT(out, HasSubstr(dir.path().string()));
  EXPECT_EQ(ReadFile((dir.path() / "err").string()), "err\n");
  EXPECT_FALSE(IsProcessAlive(*id));
}

TEST(ProcessTest, MissingProgramIsAClearError) {
  testing::TempDir dir;
  auto id = SpawnProcess(Spec(dir, {"no-such-program-xyz"}));
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.status().message(),
              HasSubstr("cannot run 'no-such-program-xyz': not found on PATH"));
  auto bad_cwd = Spec(dir, {"true"});
  bad_cwd.cwd = (dir.path() / "missing").string();
  id = SpawnProcess(bad_cwd);
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.status().message(), HasSubstr("cannot enter working directory"));
}

TEST(ProcessTest, SignalStopsTheGroupAndAReusedPidIsNotAlive) {
  testing::TempDir dir;
  auto id = SpawnProcess(Spec(dir, {"sleep", "30"}));
  ASSERT_TRUE(id.ok());
  EXPECT_TRUE(IsProcessAlive(*id));
  ProcessId other_start = *id;
  other_start.start_ticks += 1;  // same pid, another process
  EXPECT_FALSE(IsProcessAlive(other_start));
  ASSERT_TRUE(SignalProcessGroup(id->pid, SIGTERM).ok());
  ProcessWaiter waiter(*id, true);
  ASSERT_TRUE(waiter.WaitFor(std::chrono::seconds(10)));
  EXPECT_EQ(waiter.status().signal, SIGTERM);
  EXPECT_EQ(waiter.status().ToString(), "killed by SIGTERM");
  EXPECT_TRUE(SignalProcessGroup(id->pid, SIGTERM).ok());  // gone is fine
}

TEST(ProcessTest, WaitingForAProcessThatIsNotOurChild) {
  testing::TempDir dir;
  // sh starts `sleep` in the background and exits; we follow the sleep by pid.
  auto id = SpawnProcess(Spec(dir, {"sh", "-c", "sleep 30 & echo $!"}));
  ASSERT_TRUE(id.ok());
  ProcessWaiter parent(*id, true);
  ASSERT_TRUE(parent.WaitFor(std::chrono::seconds(10)));
  int64_t pid = std::stoll(ReadFile((dir.path() / "out").string()));
  ProcessId sleeper{pid, ProcessStartTicks(pid).value_or(0)};
  ASSERT_TRUE(IsProcessAlive(sleeper));
  EXPECT_EQ(CountProcessGroup(id->pid), 1);
  ProcessWaiter waiter(sleeper, /*is_child=*/false);
  EXPECT_FALSE(waiter.WaitFor(std::chrono::milliseconds(20)));
  ASSERT_TRUE(SignalProcessGroup(id->pid, SIGKILL).ok());
  ASSERT_TRUE(waiter.WaitFor(std::chrono::seconds(10)));
  EXPECT_FALSE(waiter.status().exit_code.has_value());  // not ours: unknown
  EXPECT_EQ(CountProcessGroup(id->pid), 0);
}

TEST(ProcessTest, ProcessIdRoundTripsAsText) {
  ProcessId id{123, 456};
  EXPECT_EQ(id.ToString(), "123:456");
  EXPECT_EQ(ProcessId::Parse("123:456"), id);
  EXPECT_FALSE(ProcessId::Parse("garbage").has_value());
  EXPECT_TRUE(IsProcessAlive(CurrentProcess()));
}

}  // namespace
}  // namespace arbiter::runs
