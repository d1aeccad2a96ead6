#include "arbiter/runs/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
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
  // Cheap answer for the common case: no process left in the group at all.
  if (pgid <= 1 || (kill(-static_cast<pid_t>(pgid), 0) != 0 && errno == ESRCH)) return 0;
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

std::vector<int64_t> ProcessesWithEnvironmentEntry(const std::string& entry,
                                                   int64_t except_pgid,
                                                   int64_t min_start_ticks) {
  std::vector<int64_t> out;
  const std::string self = std::to_string(getpid());
  const std::string except = std::to_string(except_pgid);
  std::error_code ec;
  for (const auto& dir : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = dir.path().filename().string();
    if (name.empty() || name == self || name.find_first_not_of("0123456789") != std::string::npos)
      continue;
    // The small stat file first: most processes are ruled out without reading their
    // environment (older than the job, dead, or in the group being killed anyway).
    auto fields = StatFields(std::stoll(name));
    // fields[0]: state; fields[2]: process group; fields[19]: start time
    if (!fields || fields->size() < 20 || (*fields)[0] == "Z" || (*fields)[0] == "X" ||
        (*fields)[2] == except) {
      continue;
    }
    if (min_start_ticks > 0) {
      try {
        if (std::stoll((*fields)[19]) < min_start_ticks) continue;
      } catch (...) {
        continue;
      }
    }
    std::ifstream in(dir.path() / "environ", std::ios::binary);
    if (!in) continue;  // gone, or not ours to read
    for (std::string var; std::getline(in, var, '\0');) {
      if (var == entry) {
        out.push_back(std::stoll(name));
        break;
      }
    }
  }
  return out;
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
  if (!spec.cwd.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(spec.cwd, ec)) {
      return FailedPreconditionError("cannot enter working directory " + spec.cwd +
                                     ": not a directory");
    }
  }
  std::vector<char*> argv, envp;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  // posix_spawn (vfork-fast, and exec errors come back as its result): a new
  // process group, default signal handling and an empty signal mask (the
  // caller may block SIGINT to route Ctrl-C), stdin from /dev/null, output
  // into the two files, and the working directory.
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, spec.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&fa, 2, spec.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, spec.cwd.c_str());
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGCHLD, SIGQUIT}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_USEVFORK);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, exe->c_str(), &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return FailedPreconditionError("cannot start " + *exe + ": " + std::strerror(rc) +
                                   " (output files " + spec.stdout_path + ", " + spec.stderr_path +
                                   ")");
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

bool ProcessWaiter::WaitFor(std::chrono::milliseconds timeout, const Clock& clock) {
  if (CheckEnded()) return true;
  auto deadline = clock.Monotonic() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock.Monotonic());
    if (left.count() <= 0) return CheckEnded();
    if (pidfd_ >= 0) {
      pollfd p{pidfd_, POLLIN, 0};
      int r = poll(&p, 1, static_cast<int>(left.count()));
      if (r > 0) {
        // Readable: the process has ended. A child is a zombie by now, so a
        // blocking wait reaps it at once and gives its status.
        if (is_child_) {
          int st = 0;
          if (waitpid(static_cast<pid_t>(id_.pid), &st, 0) == static_cast<pid_t>(id_.pid)) {
            if (WIFEXITED(st)) status_.exit_code = WEXITSTATUS(st);
            if (WIFSIGNALED(st)) status_.signal = WTERMSIG(st);
          }
        }
        return ended_ = true;
      }
      if (CheckEnded()) return true;
      if (r < 0 && errno != EINTR) {
        close(pidfd_);
        pidfd_ = -1;
      }
    } else {
      // No pidfd (old kernel): poll with short pauses.
      clock.SleepFor(std::min(left, std::chrono::milliseconds(5)));
      if (CheckEnded()) return true;
    }
  }
}

}  // namespace arbiter::runs
