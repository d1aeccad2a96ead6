#include "arbiter/aws/s3rver_fixture.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

namespace arbiter::aws::testing {
namespace {

namespace fs = std::filesystem;

std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  std::string p(path);
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    fs::path candidate = fs::path(p.substr(start, end - start)) / name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return "";
}

}  // namespace

std::unique_ptr<S3rver> S3rver::Start(std::string* why_not, bool* installed) {
  *installed = false;
  const std::string node = FindOnPath("node");
  const std::string script =
      std::string(ARBITER_SOURCE_DIR) + "/third_party/node/node_modules/s3rver/bin/s3rver.js";
  if (node.empty()) {
    *why_not = "node is not installed (scripts/setup.sh installs it)";
    return nullptr;
  }
  if (!fs::exists(script)) {
    *why_not = "s3rver is not installed at " + script + " (run scripts/setup.sh)";
    return nullptr;
  }
  *installed = true;
  std::unique_ptr<S3rver> s(new S3rver());
  char dir_template[] = "/tmp/arbiter-s3rver-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    *why_not = "mkdtemp failed";
    return nullptr;
  }
  s->dir_ = dir_template;
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
    // s3rver's continuation tokens use single DES, which OpenSSL 3 keeps in its legacy provider.
    setenv("NODE_OPTIONS", "--openssl-legacy-provider", 1);
    execl(node.c_str(), node.c_str(), script.c_str(), "-d", s->dir_.c_str(), "-a", "127.0.0.1", "-p",
          "0", "--configure-bucket", kBucket, static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  s->pid_ = pid;
  s->out_fd_ = fds[0];
  // Wait for "S3rver listening on 127.0.0.1:<port>", bounded, without sleeping.
  std::string output;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (s->port_ == 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      *why_not = "s3rver did not start within 30 s; output: " + output;
      return nullptr;
    }
    pollfd p{s->out_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    const ssize_t n = read(s->out_fd_, buf, sizeof buf);
    if (n <= 0) {
      *why_not = "s3rver exited during start; output: " + output;
      return nullptr;
    }
    output.append(buf, static_cast<size_t>(n));
    const std::string marker = "listening on 127.0.0.1:";
    const size_t at = output.find(marker);
    if (at != std::string::npos) {
      const size_t digits = at + marker.size();
      size_t end = digits;
      while (end < output.size() && std::isdigit(static_cast<unsigned char>(output[end]))) ++end;
      if (end < output.size()) s->port_ = std::stoi(output.substr(digits, end - digits));
    }
  }
  // Keep reading its (request log) output so it never blocks on a full pipe.
  const int fd = s->out_fd_;
  s->drain_ = std::thread([fd] {
    char buf[4096];
    while (read(fd, buf, sizeof buf) > 0) {
    }
  });
  return s;
}

S3rver::~S3rver() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
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

}  // namespace arbiter::aws::testing
