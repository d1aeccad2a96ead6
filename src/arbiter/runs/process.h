// Child processes of the local runtime. A job runs in its own process group
// with stdout and stderr going to files, so it survives an arbiter that dies
// and a restarted arbiter can pick its output up again. A process is named by
// pid and start time, so a reused pid is never mistaken for the job.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arbiter/common/clock.h"
#include "arbiter/common/status.h"

namespace arbiter::runs {

struct ProcessId {
  int64_t pid = 0;
  int64_t start_ticks = 0;  // field 22 of /proc/<pid>/stat: clock ticks after boot

  std::string ToString() const;  // "pid:start_ticks"
  static std::optional<ProcessId> Parse(std::string_view text);
  bool operator==(const ProcessId&) const = default;
};

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] is looked up on the PATH in `env`
  std::string cwd;
  std::vector<std::string> env;  // "NAME=value"; the whole environment of the child
  std::string stdout_path;       // created or truncated
  std::string stderr_path;
};

// Starts the process as the leader of a new process group (stdin is /dev/null).
// Fails with a clear message when the program is not found or cannot run.
Result<ProcessId> SpawnProcess(const SpawnSpec& spec);

// The start time of `pid`, or nullopt when there is no such process.
std::optional<int64_t> ProcessStartTicks(int64_t pid);
// True when the process exists, is not a zombie, and started at id.start_ticks.
bool IsProcessAlive(const ProcessId& id);
ProcessId CurrentProcess();

// Sends `signal` to the process group led by `pgid`; a group that is gone is fine.
Status SignalProcessGroup(int64_t pgid, int signal);

// How many live processes are in the process group `pgid`.
int64_t CountProcessGroup(int64_t pgid);

// Live processes (not this one, not in process group `except_pgid`) whose
// environment holds exactly `entry` ("ARBITER_RUN_DIR=..."): a job's children
// that left its process group (setsid) still carry it. Only processes of our
// user are readable.
// Processes that started before `min_start_ticks` (the job's own start) are not read.
std::vector<int64_t> ProcessesWithEnvironmentEntry(const std::string& entry, int64_t except_pgid,
                                                   int64_t min_start_ticks = 0);

// Finds `program` on `path_env` (a PATH value); a name with a slash is returned as is.
std::optional<std::string> FindOnPath(const std::string& program, const std::string& path_env);

// How a process ended.
struct ExitStatus {
  std::optional<int> exit_code;  // set when it exited
  std::optional<int> signal;     // set when a signal killed it
  // Neither: a process that is not our child (re-attached); its status is unknown.
  std::string ToString() const;  // "exit code 3", "killed by signal 9 (SIGKILL)", ...
};

// Waits for a process to end: a pidfd where the kernel has them, else polling.
// For our own child it also reaps it and reports the exit status.
class ProcessWaiter {
 public:
  ProcessWaiter(ProcessId id, bool is_child);
  ~ProcessWaiter();
  ProcessWaiter(const ProcessWaiter&) = delete;
  ProcessWaiter& operator=(const ProcessWaiter&) = delete;

  // True once the process has ended (waits at most `timeout`: on the process's
  // pidfd, or on `clock` in short pauses where there is none).
  bool WaitFor(std::chrono::milliseconds timeout, const Clock& clock = RealClock());
  const ExitStatus& status() const { return status_; }

 private:
  bool CheckEnded();

  ProcessId id_;
  bool is_child_;
  int pidfd_ = -1;
  bool ended_ = false;
  ExitStatus status_;
};

}  // namespace arbiter::runs
