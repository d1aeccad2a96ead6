// Test helper: runs the npm package s3rver (installed by scripts/setup.sh under
// third_party/node) on 127.0.0.1 with a port the OS picks, for the life of the object.
#pragma once

#include <memory>
#include <string>

#include "arbiter/testing/server_process.h"

namespace arbiter::aws::testing {

class S3rver {
 public:
  // nullptr, with the reason in *why_not, when node or s3rver is not installed; a start
  // failure of an installed s3rver is reported the same way with its output.
  static std::unique_ptr<S3rver> Start(std::string* why_not, bool* installed);
  ~S3rver();

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  static constexpr const char* kBucket = "test-bucket";
  static constexpr const char* kAccessKey = "S3RVER";
  static constexpr const char* kSecretKey = "S3RVER";

 private:
  S3rver() = default;
  int port_ = 0;
  std::string dir_;
  std::unique_ptr<arbiter::testing::ServerProcess> server_;
};

}  // namespace arbiter::aws::testing
