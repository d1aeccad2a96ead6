// ARBITER_MISSING_DEPENDENCY: what a test does when something it needs (s3rver, the
// project virtualenv's boto3, Java) is absent. On a developer's machine it skips with
// the reason; on CI (CI=true) it fails, since scripts/setup.sh must have installed it
// and a silent skip would hide a broken setup.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace arbiter::testing {

inline bool OnCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

}  // namespace arbiter::testing

#define ARBITER_MISSING_DEPENDENCY(why)                                                 \
  do {                                                                                  \
    if (::arbiter::testing::OnCi()) {                                                   \
      GTEST_FAIL() << "missing dependency on CI (scripts/setup.sh installs it): " << why; \
    } else {                                                                            \
      GTEST_SKIP() << why;                                                              \
    }                                                                                   \
  } while (0)
