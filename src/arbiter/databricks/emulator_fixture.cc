#include "arbiter/databricks/emulator_fixture.h"

#include <unistd.h>

#include <filesystem>

namespace arbiter::databricks::testing {

namespace fs = std::filesystem;

std::unique_ptr<Emulator> Emulator::Start(std::string* why_not, const std::string& workdir,
                                          std::vector<std::string> extra_args) {
  const std::string tool = std::string(ARBITER_SOURCE_DIR) + "/tools/arbiter-emulator";
  std::unique_ptr<Emulator> e(new Emulator());
  char dir_template[] = "/tmp/arbiter-dbx-emulator-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    *why_not = "mkdtemp failed";
    return nullptr;
  }
  e->dir_ = dir_template;
  std::vector<std::string> args = {ARBITER_PYTHON3, tool,
                                   "databricks", "--port",
                                   "0",          "--state-dir",
                                   e->dir_,      "--token",
                                   kToken,       "--start-delay",
                                   "0.05",       "--terminate-delay",
                                   "0.05",       "--retry-after",
                                   "0"};
  if (!workdir.empty()) {
    args.push_back("--workdir");
    args.push_back(workdir);
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  arbiter::testing::ServerProcess::Options o;
  o.name = "the Databricks emulator";
  o.argv = std::move(args);
  o.port_marker = "listening on http://127.0.0.1:";
  e->server_ = arbiter::testing::ServerProcess::Start(o, why_not);
  if (!e->server_) return nullptr;
  e->port_ = e->server_->port();
  return e;
}

Emulator::~Emulator() {
  server_.reset();  // it stops its jobs' process groups first
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

nlohmann::json Emulator::Admin(const std::string& method, const std::string& path,
                               const std::string& body) {
  http::HttpRequest r;
  r.method = method;
  r.url = host() + path;
  r.body = body;
  auto response = http_.Send(r);
  if (!response.ok()) return {{"error", response.status().message()}};
  return nlohmann::json::parse(response->body, nullptr, false);
}

nlohmann::json Emulator::Runs() { return Admin("GET", "/__emulator/runs", ""); }
nlohmann::json Emulator::Requests() { return Admin("GET", "/__emulator/requests", ""); }
nlohmann::json Emulator::SetFaults(const nlohmann::json& faults) {
  return Admin("POST", "/__emulator/faults", faults.dump());
}

}  // namespace arbiter::databricks::testing
