#include "arbiter/cost/change_detector.h"

#include <gtest/gtest.h>

#include "arbiter/cost/seeded_normal.h"

namespace arbiter::cost {
namespace {

TEST(ChangeDetectorTest, NoiseRarelyAlarms) {
  // Pure noise: on average thousands of runs between false alarms.
  ChangeDetector d;
  int alarms = 0;
  for (uint64_t i = 0; i < 100000; ++i) alarms += d.Add(SeededNormal(1, "noise", "", i)) != 0;
  EXPECT_LT(alarms, 30);
}

TEST(ChangeDetectorTest, SustainedShiftAlarmsWithItsDirection) {
  ChangeDetector d;
  EXPECT_EQ(d.Add(0.2), 0);
  EXPECT_EQ(d.Add(3.5), 0);  // one large residual may be an outlier
  EXPECT_EQ(d.Add(3.5), 1);  // the second makes it a change
  EXPECT_EQ(d.Add(-6.0), -1);
}

TEST(SeededNormalTest, PureFunctionOfItsArguments) {
  EXPECT_EQ(SeededNormal(7, "a", "emr", 3), SeededNormal(7, "a", "emr", 3));
  EXPECT_NE(SeededNormal(7, "a", "emr", 3), SeededNormal(7, "a", "emr", 4));
  EXPECT_NE(SeededNormal(7, "a", "emr", 3), SeededNormal(8, "a", "emr", 3));
  double sum = 0, sq = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    double z = SeededNormal(1, "x", "y", static_cast<uint64_t>(i));
    sum += z;
    sq += z * z;
  }
  EXPECT_NEAR(sum / n, 0, 0.03);
  EXPECT_NEAR(sq / n, 1, 0.05);
}

}  // namespace
}  // namespace arbiter::cost
