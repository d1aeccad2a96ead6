#include "arbiter/emr/emulator_fixture.h"

#include <unistd.h>

#include "arbiter/http/curl_http_client.h"

namespace arbiter::emr::testing {

std::unique_ptr<EmulatorProcess> EmulatorProcess::Start(const std::string& python,
                                                        const std::string& name,
                                                        const std::vector<std::string>& args,
                                                        std::string* why_not) {
  std::unique_ptr<EmulatorProcess> e(new EmulatorProcess());
  char log_template[] = "/tmp/arbiter-emulator-XXXXXX";
  int log_fd = mkstemp(log_template);
  if (log_fd < 0) {
    *why_not = "mkstemp failed";
    return nullptr;
  }
  e->log_ = log_template;
  close(log_fd);
  arbiter::testing::ServerProcess::Options o;
  o.name = "emulator " + name;
  o.argv = {python, std::string(ARBITER_SOURCE_DIR) + "/tools/arbiter-emulator", name, "--port",
            "0"};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.port_marker = "listening on http://127.0.0.1:";
  o.stderr_path = e->log_;
  e->server_ = arbiter::testing::ServerProcess::Start(o, why_not);
  if (!e->server_) return nullptr;
  e->port_ = e->server_->port();
  return e;
}

EmulatorProcess::~EmulatorProcess() {
  server_.reset();  // it kills the jobs it started on SIGTERM
  if (!log_.empty()) unlink(log_.c_str());
}

nlohmann::json EmulatorProcess::Admin(const std::string& route, const std::string& body) const {
  http::CurlHttpClient client;
  http::HttpRequest req;
  req.method = body.empty() ? "GET" : "POST";
  req.url = endpoint() + "/__emulator/" + route;
  req.body = body;
  if (!body.empty()) req.headers = {{"Content-Type", "application/json"}};
  auto resp = client.Send(req);
  if (!resp.ok() || resp->status != 200) return nullptr;
  return nlohmann::json::parse(resp->body, nullptr, false);
}

}  // namespace arbiter::emr::testing
