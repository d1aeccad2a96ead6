// A test server never outlives its test: not when the fixture is destroyed
// (even if the server left a child behind), not when the test process dies
// without running any destructor.
#include "arbiter/testing/server_process.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "arbiter/testing/temp_dir.h"
#include "arbiter/testing/wait_until.h"

namespace arbiter::testing {
namespace {

bool Alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

pid_t ReadPid(const std::filesystem::path& file) {
  pid_t pid = 0;
  WaitUntil([&] {
    std::ifstream in(file);
    return static_cast<bool>(in >> pid);
  });
  return pid;
}

ServerProcess::Options Server(const std::string& script) {
  ServerProcess::Options o;
  o.name = "test server";
  o.argv = {"sh", "-c", script};
  o.port_marker = "listening on http://127.0.0.1:";
  return o;
}

TEST(ServerProcessTest, StoppingTheServerStopsWhatItLeftInItsGroup) {
  TempDir dir;
  const auto child_file = dir.path() / "child.pid";
  std::string why;
  // The child ignores SIGTERM and would outlive a server that is only TERMed.
  auto server = ServerProcess::Start(
      Server("(trap '' TERM; exec sleep 1000) & echo $! > " + child_file.string() +
             "; echo 'listening on http://127.0.0.1:4242 up'; wait"),
      &why);
  ASSERT_TRUE(server) << why;
  EXPECT_EQ(server->port(), 4242);
  pid_t child = ReadPid(child_file);
  ASSERT_GT(child, 0);
  EXPECT_TRUE(Alive(child));
  server.reset();
  EXPECT_TRUE(WaitUntil([&] { return !Alive(child); })) << "pid " << child << " left running";
}

TEST(ServerProcessTest, ServerStopsWhenTheTestProcessDies) {
  TempDir dir;
  const auto server_file = dir.path() / "server.pid";
  pid_t test = fork();
  ASSERT_GE(test, 0);
  if (test == 0) {
    // A test that crashes: the fixture is never destroyed.
    std::string why;
    auto server = ServerProcess::Start(
        Server("echo $$ > " + server_file.string() +
               "; echo 'listening on http://127.0.0.1:4242 up'; exec sleep 1000"),
        &why);
    _exit(server ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(test, &status, 0), test);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  pid_t server = ReadPid(server_file);
  ASSERT_GT(server, 0);
  EXPECT_TRUE(WaitUntil([&] { return !Alive(server); })) << "pid " << server << " left running";
}

}  // namespace
}  // namespace arbiter::testing
