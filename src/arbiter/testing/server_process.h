// ServerProcess: a test server (s3rver, the platform emulators) run as a child
// process for the life of the object. It announces its port on stdout after a
// marker ("listening on http://127.0.0.1:"); Start waits for that line with a
// deadline (no sleeping), then keeps draining stdout so the server never blocks
// on a full pipe.
//
// It never outlives the test: the server leads its own process group, the
// destructor (also reached when Start fails or an assertion ends the test)
// sends SIGTERM to that group and SIGKILL after 10 s, and the kernel sends
// SIGTERM if the test process dies first (PR_SET_PDEATHSIG: a crash, a ctest
// timeout). Start it from the thread that lives as long as the test.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace arbiter::testing {

class ServerProcess {
 public:
  struct Options {
    std::string name;                                      // for messages: "s3rver", "emulator emr"
    std::vector<std::string> argv;                         // argv[0] is looked up on PATH
    std::string port_marker;                               // the text just before the port number
    std::vector<std::pair<std::string, std::string>> env;  // added to ours
    std::string stderr_path;                               // empty: stderr goes with stdout
  };

  // nullptr with the reason (and what the server printed) when it does not start in 30 s.
  static std::unique_ptr<ServerProcess> Start(const Options& o, std::string* why_not) {
    int fds[2];
    if (pipe(fds) != 0) {
      *why_not = "pipe failed";
      return nullptr;
    }
    // Everything the child needs is made before fork: after it, only async-signal-safe calls.
    std::vector<std::string> args = o.argv;
    std::vector<char*> c_argv;
    for (std::string& a : args) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry(*e);
      bool replaced = false;
      for (const auto& [k, v] : o.env) replaced |= entry.rfind(k + "=", 0) == 0;
      if (!replaced) env.push_back(std::move(entry));
    }
    for (const auto& [k, v] : o.env) env.push_back(k + "=" + v);
    std::vector<char*> c_env;
    for (std::string& e : env) c_env.push_back(e.data());
    c_env.push_back(nullptr);
    const int err_fd = o.stderr_path.empty()
                           ? fds[1]
                           : open(o.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid == 0) {
      dup2(fds[1], 1);
      dup2(err_fd >= 0 ? err_fd : fds[1], 2);
      close(fds[0]);
      close(fds[1]);
      // Its own group (the test's signals do not reach it; we stop all of it).
      setpgid(0, 0);
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(127);  // the test died before prctl
      execvpe(c_argv[0], c_argv.data(), c_env.data());
      _exit(127);
    }
    if (err_fd >= 0 && err_fd != fds[1]) close(err_fd);
    close(fds[1]);
    if (pid > 0) setpgid(pid, pid);  // also here, so the group exists before any kill
    std::unique_ptr<ServerProcess> s(new ServerProcess());
    s->pid_ = pid;
    s->out_fd_ = fds[0];
    std::string output;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (s->port_ == 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        *why_not = o.name + " did not start within 30 s; output: " + output;
        return nullptr;
      }
      pollfd p{s->out_fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const ssize_t n = read(s->out_fd_, buf, sizeof buf);
      if (n <= 0) {
        *why_not = o.name + " exited during start; output: " + output +
                   (o.stderr_path.empty() ? "" : " (stderr in " + o.stderr_path + ")");
        return nullptr;
      }
      output.append(buf, static_cast<size_t>(n));
      const size_t at = output.find(o.port_marker);
      if (at == std::string::npos) continue;
      size_t end = at + o.port_marker.size();
      while (end < output.size() && std::isdigit(static_cast<unsigned char>(output[end]))) ++end;
      // Only a port followed by something is whole (the rest of it may not have arrived).
      if (end < output.size() && end > at + o.port_marker.size()) {
        s->port_ = std::stoi(output.substr(at + o.port_marker.size()));
      }
    }
    const int fd = s->out_fd_;
    s->drain_ = std::thread([fd] {
      char buf[4096];
      while (read(fd, buf, sizeof buf) > 0) {
      }
    });
    return s;
  }

  ~ServerProcess() {
    if (pid_ > 0) {
      kill(-pid_, SIGTERM);  // the emulators stop the jobs they started first
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      int status = 0;
      while (waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
          kill(-pid_, SIGKILL);
          waitpid(pid_, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      kill(-pid_, SIGKILL);  // anything it left in its group
    }
    if (drain_.joinable()) drain_.join();
    if (out_fd_ >= 0) close(out_fd_);
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }

 private:
  ServerProcess() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  int out_fd_ = -1;
  std::thread drain_;
};

}  // namespace arbiter::testing
