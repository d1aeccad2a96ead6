// Test helper: runs one of the loopback platform emulators (tools/arbiter-emulator, a
// development and test tool) with a port the OS picks, for the life of the object, and
// talks to its admin endpoint (/__emulator/state, /faults, /requests).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "arbiter/testing/server_process.h"

namespace arbiter::emr::testing {

class EmulatorProcess {
 public:
  // `name`: emr | emr-serverless | databricks. nullptr with the reason when it cannot start.
  static std::unique_ptr<EmulatorProcess> Start(const std::string& python, const std::string& name,
                                                const std::vector<std::string>& args,
                                                std::string* why_not);
  ~EmulatorProcess();

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // GET /__emulator/<route> (or POST with `body`); null JSON on failure.
  nlohmann::json Admin(const std::string& route, const std::string& body = "") const;
  const std::string& log_path() const { return log_; }

 private:
  EmulatorProcess() = default;
  int port_ = 0;
  std::string log_;
  std::unique_ptr<arbiter::testing::ServerProcess> server_;
};

}  // namespace arbiter::emr::testing
