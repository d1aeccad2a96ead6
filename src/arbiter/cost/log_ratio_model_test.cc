#include "arbiter/cost/log_ratio_model.h"

#include <cmath>

#include <gtest/gtest.h>

namespace arbiter::cost {
namespace {

TEST(LogRatioModelTest, CatalogIsThePriorUntilRunsSayOtherwise) {
  LogRatioModel m;
  LogRatioBelief b = m.Estimate("a", "databricks");
  EXPECT_DOUBLE_EQ(b.mean, 0);
  EXPECT_NEAR(b.sd, std::hypot(0.7, 0.3), 1e-9);
  for (int i = 0; i < 20; ++i) m.Observe("a", "databricks", std::log(3.0));
  b = m.Estimate("a", "databricks");
  EXPECT_NEAR(b.Factor(), 3.0, 0.05);
  EXPECT_LT(b.sd, 0.06);
  EXPECT_EQ(b.runs, 20);
}

TEST(LogRatioModelTest, NewAssetBorrowsItsRuntimesLevel) {
  LogRatioModel m;
  for (const char* a : {"a", "b", "c", "d"}) {
    for (int i = 0; i < 10; ++i) m.Observe(a, "emr", std::log(0.5));
  }
  LogRatioBelief fresh = m.Estimate("new", "emr");
  EXPECT_NEAR(fresh.Factor(), 0.5, 0.03);
  EXPECT_EQ(fresh.shared_assets, 4);
  EXPECT_GT(fresh.sd, 0.25);  // an asset may differ from the others
  // Another runtime learned nothing.
  EXPECT_DOUBLE_EQ(m.Estimate("new", "databricks").mean, 0);
}

TEST(LogRatioModelTest, FewRunsShrinkTowardTheRuntimeManyStandAlone) {
  LogRatioModel m;
  for (const char* a : {"a", "b", "c"}) {
    for (int i = 0; i < 10; ++i) m.Observe(a, "emr", i % 2 ? 0.15 : -0.15);
  }
  m.Observe("odd", "emr", std::log(2.0));
  double one = m.Estimate("odd", "emr").mean;
  EXPECT_GT(one, 0.1);
  EXPECT_LT(one, std::log(2.0) - 0.05);
  for (int i = 0; i < 15; ++i) m.Observe("odd", "emr", std::log(2.0));
  EXPECT_NEAR(m.Estimate("odd", "emr").Factor(), 2.0, 0.1);
}

TEST(LogRatioModelTest, SustainedShiftIsDetectedAndLearnedFast) {
  LogRatioModel m;
  for (int i = 0; i < 40; ++i) m.Observe("a", "emr", 0.02 * ((i % 3) - 1));
  int alarms = 0;
  int runs_to_alarm = 0;
  for (int i = 0; i < 5 && alarms == 0; ++i) {
    alarms += m.Observe("a", "emr", std::log(2.0)) != 0;
    runs_to_alarm = i + 1;
  }
  EXPECT_EQ(alarms, 1);
  EXPECT_LE(runs_to_alarm, 2);
  EXPECT_GT(m.Estimate("a", "emr").Factor(), 1.6);
}

TEST(LogRatioModelTest, DiscountForgetsThePast) {
  LogRatioModel m;
  for (int i = 0; i < 30; ++i) m.Observe("a", "emr", i % 2 ? 0.15 : -0.15);
  LogRatioModel kept = m;
  m.Discount("a", "emr", 0.05);
  m.Observe("a", "emr", std::log(1.5));
  kept.Observe("a", "emr", std::log(1.5));
  EXPECT_LT(kept.Estimate("a", "emr").Factor(), 1.05);
  EXPECT_GT(m.Estimate("a", "emr").Factor(), 1.15);
}

}  // namespace
}  // namespace arbiter::cost
