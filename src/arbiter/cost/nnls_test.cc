#include "arbiter/cost/nnls.h"

#include <gtest/gtest.h>

#include <cmath>

namespace arbiter::cost {
namespace {

TEST(NnlsTest, RecoversNonNegativeCoefficientsExactly) {
  // y = 2 + 3·x1 + 0.5·x2, consistent data.
  std::vector<std::vector<double>> a;
  std::vector<double> b;
  for (double x1 : {0.0, 1.0, 2.0, 5.0}) {
    for (double x2 : {1.0, 4.0, 9.0}) {
      a.push_back({1, x1, x2});
      b.push_back(2 + 3 * x1 + 0.5 * x2);
    }
  }
  NnlsResult r = SolveNnls(a, b);
  ASSERT_EQ(r.x.size(), 3u);
  EXPECT_NEAR(r.x[0], 2, 1e-9);
  EXPECT_NEAR(r.x[1], 3, 1e-9);
  EXPECT_NEAR(r.x[2], 0.5, 1e-9);
  EXPECT_NEAR(r.residual_sq, 0, 1e-12);
}

TEST(NnlsTest, ClampsWhatUnconstrainedLeastSquaresWouldMakeNegative) {
  // Unconstrained: y = 1·x1 − 1·x2 fits exactly; with x ≥ 0 the best is x2 = 0
  // and x1 the least-squares slope on x1 alone.
  std::vector<std::vector<double>> a = {{1, 0}, {2, 1}, {3, 3}};
  std::vector<double> b = {1, 1, 0};
  NnlsResult r = SolveNnls(a, b);
  EXPECT_EQ(r.x[1], 0);
  double slope = (1 * 1 + 2 * 1 + 3 * 0) / (1.0 + 4 + 9);  // Σxy / Σx²
  EXPECT_NEAR(r.x[0], slope, 1e-12);
  for (double v : r.x) EXPECT_GE(v, 0);
}

TEST(NnlsTest, CollinearAndZeroColumnsAreHandled) {
  // Column 2 repeats column 1; column 3 is all zero.
  std::vector<std::vector<double>> a = {{1, 1, 0}, {2, 2, 0}, {3, 3, 0}};
  std::vector<double> b = {2, 4, 6};
  NnlsResult r = SolveNnls(a, b);
  EXPECT_NEAR(r.x[0] + r.x[1], 2, 1e-9);
  EXPECT_EQ(r.x[2], 0);
  EXPECT_NEAR(r.residual_sq, 0, 1e-12);
}

}  // namespace
}  // namespace arbiter::cost
