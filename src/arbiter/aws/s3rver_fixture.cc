#include "arbiter/aws/s3rver_fixture.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace arbiter::aws::testing {
namespace {

namespace fs = std::filesystem;

std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  std::string p(path);
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    fs::path candidate = fs::path(p.substr(start, end - start)) / name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return "";
}

}  // namespace

std::unique_ptr<S3rver> S3rver::Start(std::string* why_not, bool* installed) {
  *installed = false;
  const std::string node = FindOnPath("node");
  const std::string script =
      std::string(ARBITER_SOURCE_DIR) + "/third_party/node/node_modules/s3rver/bin/s3rver.js";
  if (node.empty()) {
    *why_not = "node is not installed (scripts/setup.sh installs it)";
    return nullptr;
  }
  if (!fs::exists(script)) {
    *why_not = "s3rver is not installed at " + script + " (run scripts/setup.sh)";
    return nullptr;
  }
  *installed = true;
  std::unique_ptr<S3rver> s(new S3rver());
  char dir_template[] = "/tmp/arbiter-s3rver-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    *why_not = "mkdtemp failed";
    return nullptr;
  }
  s->dir_ = dir_template;
  arbiter::testing::ServerProcess::Options o;
  o.name = "s3rver";
  o.argv = {node,   script, "-d", s->dir_, "-a", "127.0.0.1", "-p", "0", "--configure-bucket",
            kBucket};
  o.port_marker = "listening on 127.0.0.1:";
  // s3rver's continuation tokens use single DES, which OpenSSL 3 keeps in its legacy provider.
  o.env = {{"NODE_OPTIONS", "--openssl-legacy-provider"}};
  s->server_ = arbiter::testing::ServerProcess::Start(o, why_not);
  if (!s->server_) return nullptr;
  s->port_ = s->server_->port();
  return s;
}

S3rver::~S3rver() {
  server_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

}  // namespace arbiter::aws::testing
