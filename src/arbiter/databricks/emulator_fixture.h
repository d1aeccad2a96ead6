// Test helper: runs the Databricks emulator (tools/arbiter-emulator databricks) on 127.0.0.1
// with a port the OS picks, a fresh state directory and one accepted token, for the life of
// the object; plus its admin endpoints (runs, faults).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "arbiter/http/curl_http_client.h"
#include "arbiter/testing/server_process.h"

namespace arbiter::databricks::testing {

class Emulator {
 public:
  static constexpr const char* kToken = "dapi-emulator-test-token";

  // nullptr with the reason in *why_not when it does not start. `workdir` empty = state dir.
  static std::unique_ptr<Emulator> Start(std::string* why_not, const std::string& workdir = "",
                                         std::vector<std::string> extra_args = {});
  ~Emulator();

  std::string host() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& state_dir() const { return dir_; }
  // <state>/fs/dbfs + path: where the emulator keeps a DBFS path.
  std::string DbfsFile(const std::string& path) const { return dir_ + "/fs/dbfs" + path; }

  nlohmann::json Runs();                                   // GET /__emulator/runs
  nlohmann::json SetFaults(const nlohmann::json& faults);  // POST /__emulator/faults
  nlohmann::json Requests();                               // GET /__emulator/requests

 private:
  Emulator() = default;
  nlohmann::json Admin(const std::string& method, const std::string& path, const std::string& body);
  int port_ = 0;
  std::string dir_;
  std::unique_ptr<arbiter::testing::ServerProcess> server_;
  http::CurlHttpClient http_;
};

}  // namespace arbiter::databricks::testing
