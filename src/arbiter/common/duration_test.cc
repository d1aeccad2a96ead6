#include "arbiter/common/duration.h"

#include <gtest/gtest.h>

namespace arbiter {
namespace {

using std::chrono::seconds;

TEST(DurationTest, ParsesUnitsAndCombinations) {
  EXPECT_EQ(*ParseDuration("90s"), seconds(90));
  EXPECT_EQ(*ParseDuration("45m"), seconds(45 * 60));
  EXPECT_EQ(*ParseDuration("2h"), seconds(7200));
  EXPECT_EQ(*ParseDuration("1h30m"), seconds(5400));
  EXPECT_EQ(*ParseDuration("1d2h3m4s"), seconds(86400 + 7200 + 180 + 4));
}

TEST(DurationTest, RejectsMalformedInput) {
  for (const char* bad : {"", "h", "10", "10x", "1m1h", "1h1h", "-5m", "0s", "1.5h", "1 h"}) {
    Result<seconds> r = ParseDuration(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(ParseDuration("99999999999999999999d").ok());
}

TEST(DurationTest, FormatRoundTrips) {
  for (int64_t s : {1, 59, 60, 3599, 3600, 5400, 86400, 90061}) {
    std::string text = FormatDuration(seconds(s));
    EXPECT_EQ(*ParseDuration(text), seconds(s)) << text;
  }
  EXPECT_EQ(FormatDuration(seconds(5400)), "1h30m");
}

}  // namespace
}  // namespace arbiter
