// The arbiter executable: wires the real clock and environment into the CLI.
#include <iostream>

#include "arbiter/cli/cli.h"

int main(int argc, char** argv) {
  arbiter::SystemClock clock;
  arbiter::cli::CliEnv env;
  env.clock = &clock;
  std::vector<std::string> args(argv + 1, argv + argc);
  return arbiter::cli::RunCli(args, std::cout, std::cerr, env);
}
