#include "arbiter/emr/emulator_fixture.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "arbiter/http/curl_http_client.h"

namespace arbiter::emr::testing {

std::unique_ptr<EmulatorProcess> EmulatorProcess::Start(const std::string& python,
                                                        const std::string& name,
                                                        const std::vector<std::string>& args,
                                                        std::string* why_not) {
  std::unique_ptr<EmulatorProcess> e(new EmulatorProcess());
  char log_template[] = "/tmp/arbiter-emulator-XXXXXX";
  int log_fd = mkstemp(log_template);
  if (log_fd < 0) {
    *why_not = "mkstemp failed";
    return nullptr;
  }
  e->log_ = log_template;
  int fds[2];
  if (pipe(fds) != 0) {
    *why_not = "pipe failed";
    return nullptr;
  }
  std::vector<std::string> argv = {
      python, std::string(ARBITER_SOURCE_DIR) + "/tools/arbiter-emulator", name, "--port", "0"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> c_argv;
  for (auto& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(log_fd, 2);
    close(fds[0]);
    close(fds[1]);
    setpgid(0, 0);
    execv(c_argv[0], c_argv.data());
    _exit(127);
  }
  close(fds[1]);
  close(log_fd);
  e->pid_ = pid;
  e->out_fd_ = fds[0];
  // The first stdout line is "listening on http://127.0.0.1:PORT"; bounded wait, no sleeping.
  std::string output;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (e->port_ == 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      *why_not = "emulator " + name + " did not start within 30 s; output: " + output;
      return nullptr;
    }
    pollfd p{e->out_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    const ssize_t n = read(e->out_fd_, buf, sizeof buf);
    if (n <= 0) {
      *why_not = "emulator " + name + " exited during start; see " + e->log_;
      return nullptr;
    }
    output.append(buf, static_cast<size_t>(n));
    const std::string marker = "listening on http://127.0.0.1:";
    const size_t at = output.find(marker);
    if (at != std::string::npos && output.find('\n', at) != std::string::npos) {
      e->port_ = std::stoi(output.substr(at + marker.size()));
    }
  }
  const int fd = e->out_fd_;
  e->drain_ = std::thread([fd] {
    char buf[4096];
    while (read(fd, buf, sizeof buf) > 0) {
    }
  });
  return e;
}

EmulatorProcess::~EmulatorProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);  // it kills the jobs it started on SIGTERM
  }
  if (drain_.joinable()) drain_.join();
  if (out_fd_ >= 0) close(out_fd_);
  if (!log_.empty()) unlink(log_.c_str());
}

nlohmann::json EmulatorProcess::Admin(const std::string& route, const std::string& body) const {
  http::CurlHttpClient client;
  http::HttpRequest req;
  req.method = body.empty() ? "GET" : "POST";
  req.url = endpoint() + "/__emulator/" + route;
  req.body = body;
  if (!body.empty()) req.headers = {{"Content-Type", "application/json"}};
  auto resp = client.Send(req);
  if (!resp.ok() || resp->status != 200) return nullptr;
  return nlohmann::json::parse(resp->body, nullptr, false);
}

}  // namespace arbiter::emr::testing
