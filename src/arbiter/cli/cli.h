// The `arbiter` command line: parses arguments and runs one subcommand.
// Everything the commands touch outside the process comes in through CliEnv,
// so tests run the real CLI in-process with a fixed clock and environment.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "arbiter/common/clock.h"
#include "arbiter/definitions/secret_ref.h"

namespace arbiter::cli {

// Exit codes, stable for scripts.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the project or the operation has errors
inline constexpr int kExitUsage = 2;    // bad command line

struct CliEnv {
  const Clock* clock = nullptr;  // required
  definitions::Environment env = definitions::Environment::System();
  std::string cwd;  // where relative paths and project discovery start; empty = process cwd
  // The environment jobs inherit ("NAME=value"); empty = this process's environ.
  std::vector<std::string> process_env;
  // The arbiter executable, to start background executors (--detach, and
  // following runs whose arbiter died). Empty disables both.
  std::string self_exe;
  bool interactive = false;     // stderr is a terminal: redraw progress in place
  bool stdout_terminal = false; // stdout is a terminal: job output's control characters escaped
  bool handle_signals = false;  // Ctrl-C / SIGTERM cancel the runs this process started
};

// Runs `arbiter args...` (args excludes the program name). Normal output goes
// to `out`, diagnostics and errors to `err`. Returns the exit code.
int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
           const CliEnv& env);

}  // namespace arbiter::cli
