// The arbiter executable: wires the real clock and environment into the CLI.
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "arbiter/cli/cli.h"

int main(int argc, char** argv) {
  arbiter::SystemClock clock;
  arbiter::cli::CliEnv env;
  env.clock = &clock;
  std::error_code ec;
  env.self_exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  env.interactive = isatty(STDERR_FILENO) != 0;
  env.stdout_terminal = isatty(STDOUT_FILENO) != 0;
  env.handle_signals = true;
  std::vector<std::string> args(argv + 1, argv + argc);
  return arbiter::cli::RunCli(args, std::cout, std::cerr, env);
}
