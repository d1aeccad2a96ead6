#include "arbiter/databricks/emulator_fixture.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

namespace arbiter::databricks::testing {

namespace fs = std::filesystem;

std::unique_ptr<Emulator> Emulator::Start(std::string* why_not, const std::string& workdir,
                                          std::vector<std::string> extra_args) {
  const std::string tool = std::string(ARBITER_SOURCE_DIR) + "/tools/arbiter-emulator";
  std::unique_ptr<Emulator> e(new Emulator());
  char dir_template[] = "/tmp/arbiter-dbx-emulator-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    *why_not = "mkdtemp failed";
    return nullptr;
  }
  e->dir_ = dir_template;
  std::vector<std::string> args = {"python3", tool, "databricks", "--port", "0", "--state-dir",
                                   e->dir_, "--token", kToken, "--start-delay", "0.05",
                                   "--terminate-delay", "0.05", "--retry-after", "0"};
  if (!workdir.empty()) {
    args.push_back("--workdir");
    args.push_back(workdir);
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  int fds[2];
  if (pipe(fds) != 0) {
    *why_not = "pipe failed";
    return nullptr;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp("python3", argv.data());
    _exit(127);
  }
  close(fds[1]);
  e->pid_ = pid;
  e->out_fd_ = fds[0];
  std::string output;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (e->port_ == 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      *why_not = "the emulator did not start within 30 s; output: " + output;
      return nullptr;
    }
    pollfd p{e->out_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    const ssize_t n = read(e->out_fd_, buf, sizeof buf);
    if (n <= 0) {
      *why_not = "the emulator exited during start; output: " + output;
      return nullptr;
    }
    output.append(buf, static_cast<size_t>(n));
    const std::string marker = "listening on http://127.0.0.1:";
    const size_t at = output.find(marker);
    const size_t eol = at == std::string::npos ? at : output.find('\n', at);
    if (eol != std::string::npos) e->port_ = std::stoi(output.substr(at + marker.size()));
  }
  const int fd = e->out_fd_;
  e->drain_ = std::thread([fd] {
    char buf[4096];
    while (read(fd, buf, sizeof buf) > 0) {
    }
  });
  return e;
}

Emulator::~Emulator() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);  // it stops its jobs' process groups first
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (drain_.joinable()) drain_.join();
  if (out_fd_ >= 0) close(out_fd_);
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

nlohmann::json Emulator::Admin(const std::string& method, const std::string& path,
                               const std::string& body) {
  http::HttpRequest r;
  r.method = method;
  r.url = host() + path;
  r.body = body;
  auto response = http_.Send(r);
  if (!response.ok()) return {{"error", response.status().message()}};
  return nlohmann::json::parse(response->body, nullptr, false);
}

nlohmann::json Emulator::Runs() { return Admin("GET", "/__emulator/runs", ""); }
nlohmann::json Emulator::Requests() { return Admin("GET", "/__emulator/requests", ""); }
nlohmann::json Emulator::SetFaults(const nlohmann::json& faults) {
  return Admin("POST", "/__emulator/faults", faults.dump());
}

}  // namespace arbiter::databricks::testing
