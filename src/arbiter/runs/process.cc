#include "arbiter/runs/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "arbiter/common/strings.h"

namespace arbiter::runs {

std::string ProcessId::ToString() const {
  return std::to_string(pid) + ":" + std::to_string(start_ticks);
}

std::optional<ProcessId> ProcessId::Parse(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  try {
    ProcessId id;
    id.pid = std::stoll(std::string(text.substr(0, colon)));
    id.start_ticks = std::stoll(std::string(text.substr(colon + 1)));
    return id;
  } catch (...) {
    return std::nullopt;
  }
}

namespace {

// Fields of /proc/<pid>/stat after the command name (which may hold spaces
// and parentheses, so parse from the last ')').
std::optional<std::vector<std::string>> StatFields(int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return std::nullopt;
  size_t close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(close + 1));
  std::vector<std::string> fields;
  std::string f;
  while (rest >> f) fields.push_back(f);
  return fields;  // fields[0] is the state (field 3)
}

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

}  // namespace

std::optional<int64_t> ProcessStartTicks(int64_t pid) {
  auto fields = StatFields(pid);
  if (!fields || fields->size() < 20) return std::nullopt;
  try {
    return std::stoll((*fields)[19]);  // field 22
  } catch (...) {
    return std::nullopt;
  }
}

bool IsProcessAlive(const ProcessId& id) {
  auto fields = StatFields(id.pid);
  if (!fields || fields->size() < 20) return false;
  if ((*fields)[0] == "Z" || (*fields)[0] == "X") return false;
  return (*fields)[19] == std::to_string(id.start_ticks);
}

ProcessId CurrentProcess() {
  ProcessId id;
  id.pid = getpid();
  id.start_ticks = ProcessStartTicks(id.pid).value_or(0);
  return id;
}

Status SignalProcessGroup(int64_t pgid, int signal) {
  if (pgid <= 1)
    return InvalidArgumentError("refusing to signal process group " + std::to_string(pgid));
  if (kill(-static_cast<pid_t>(pgid), signal) == 0 || errno == ESRCH) return Status::Ok();
  return InternalError("cannot send " + SignalName(signal) + " to process group " +
                       std::to_string(pgid) + ": " + std::strerror(errno));
}

int64_t CountProcessGroup(int64_t pgid) {
  int64_t n = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto fields = StatFields(std::stoll(name));
    // fields[0]: state (field 3); fields[2]: process group (field 5)
    if (fields && fields->size() > 2 && (*fields)[0] != "Z" && (*fields)[0] != "X" &&
        (*fields)[2] == std::to_string(pgid)) {
      ++n;
    }
  }
  return n;
}

std::optional<std::string> FindOnPath(const std::string& program, const std::string& path_env) {
  if (program.empty()) return std::nullopt;
  if (program.find('/') != std::string::npos) return program;
  for (const std::string& dir : Split(path_env, ':')) {
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) {
      struct stat st {};
      if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return candidate;
    }
  }
  return std::nullopt;
}

Result<ProcessId> SpawnProcess(const SpawnSpec& spec) {
  if (spec.argv.empty()) return InvalidArgumentError("empty command");
  std::string path_env = "/usr/local/bin:/usr/bin:/bin";
  for (const std::string& kv : spec.env) {
    if (kv.rfind("PATH=", 0) == 0) path_env = kv.substr(5);
  }
  std::optional<std::string> exe = FindOnPath(spec.argv[0], path_env);
  if (!exe) {
    return NotFoundError("cannot run '" + spec.argv[0] + "': not found on PATH (" + path_env + ")");
  }
  // Everything the child touches is prepared before fork: after fork only
  // async-signal-safe calls are allowed.
  std::vector<char*> argv, envp;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  int out_fd = open(spec.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out_fd < 0)
    return InternalError("cannot create " + spec.stdout_path + ": " + std::strerror(errno));
  int err_fd = open(spec.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (err_fd < 0) {
    close(out_fd);
    return InternalError("cannot create " + spec.stderr_path + ": " + std::strerror(errno));
  }
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int report[2];  // the child writes errno here if exec fails; CLOEXEC closes it on success
  if (null_fd < 0 || pipe2(report, O_CLOEXEC) != 0) {
    close(out_fd);
    close(err_fd);
    if (null_fd >= 0) close(null_fd);
    return InternalError(std::string("cannot set up the child process: ") + std::strerror(errno));
  }
  const char* cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();

  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(out_fd);
    close(err_fd);
    close(null_fd);
    close(report[0]);
    close(report[1]);
    return InternalError(std::string("fork failed: ") + std::strerror(e));
  }
  if (pid == 0) {
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGCHLD}) signal(sig, SIG_DFL);
    int stage = 0;  // 0: chdir, 1: redirect, 2: exec
    if (cwd != nullptr && chdir(cwd) != 0) goto fail;
    stage = 1;
    if (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) goto fail;
    stage = 2;
    execve(exe->c_str(), argv.data(), envp.data());
  fail:
    int codes[2] = {stage, errno};
    ssize_t ignored = write(report[1], codes, sizeof(codes));
    (void)ignored;
    _exit(127);
  }
  setpgid(pid, pid);  // also in the parent, so signals sent right away reach the group
  close(out_fd);
  close(err_fd);
  close(null_fd);
  close(report[1]);
  int codes[2] = {0, 0};
  ssize_t n;
  do {
    n = read(report[0], codes, sizeof(codes));
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n == static_cast<ssize_t>(sizeof(codes))) {
    waitpid(pid, nullptr, 0);
    std::string what = codes[0] == 0   ? "cannot enter working directory " + spec.cwd
                       : codes[0] == 1 ? std::string("cannot redirect the output of ") + *exe
                                       : std::string("cannot execute ") + *exe;
    return FailedPreconditionError(what + ": " + std::strerror(codes[1]));
  }
  ProcessId id;
  id.pid = pid;
  id.start_ticks = ProcessStartTicks(pid).value_or(0);
  return id;
}

std::string ExitStatus::ToString() const {
  if (exit_code) return "exit code " + std::to_string(*exit_code);
  if (signal) return "killed by " + SignalName(*signal);
  return "exit status unknown (not a child of this arbiter)";
}

ProcessWaiter::ProcessWaiter(ProcessId id, bool is_child) : id_(id), is_child_(is_child) {
#ifdef SYS_pidfd_open
  pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, static_cast<pid_t>(id.pid), 0));
#endif
  // A process gone before we looked: nothing to wait for (a child is reaped below).
  if (pidfd_ < 0 && !is_child_ && !IsProcessAlive(id_)) ended_ = true;
}

ProcessWaiter::~ProcessWaiter() {
  if (pidfd_ >= 0) close(pidfd_);
}

bool ProcessWaiter::CheckEnded() {
  if (ended_) return true;
  if (is_child_) {
    int st = 0;
    pid_t r = waitpid(static_cast<pid_t>(id_.pid), &st, WNOHANG);
    if (r == static_cast<pid_t>(id_.pid)) {
      if (WIFEXITED(st)) status_.exit_code = WEXITSTATUS(st);
      if (WIFSIGNALED(st)) status_.signal = WTERMSIG(st);
      ended_ = true;
    } else if (r < 0 && errno == ECHILD) {
      ended_ = true;  // reaped elsewhere; status unknown
    }
  } else {
    ended_ = !IsProcessAlive(id_);
  }
  return ended_;
}

bool ProcessWaiter::WaitFor(std::chrono::milliseconds timeout) {
  if (CheckEnded()) return true;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return CheckEnded();
    if (pidfd_ >= 0) {
      pollfd p{pidfd_, POLLIN, 0};
      int r = poll(&p, 1, static_cast<int>(left.count()));
      if (r > 0) {
        // Readable means the process ended; reaping a child may race by a hair.
        for (int i = 0; i < 1000 && !CheckEnded(); ++i) std::this_thread::yield();
        if (ended_ || !is_child_) return ended_ = true;
      }
      if (CheckEnded()) return true;
      if (r < 0 && errno != EINTR) {
        close(pidfd_);
        pidfd_ = -1;
      }
    } else {
      // No pidfd (old kernel): poll with short pauses.
      std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(5)));
      if (CheckEnded()) return true;
    }
  }
}

}  // namespace arbiter::runs
