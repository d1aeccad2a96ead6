#include "arbiter/cost/predictor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace arbiter::cost {
namespace {

Observation Obs(const std::string& asset, const std::string& rt, double gb, double cores, double d) {
  return Observation{asset, rt, gb * 1e9, cores, d, std::nullopt};
}

TEST(PredictorTest, ErnestModelFittedFromRunsExtrapolatesInSize) {
  PredictorOptions o;
  o.forgetting = 1;  // exact fit on consistent data
  RuntimePredictor p(o);
  // T = 60 + 40·s/c on 32 cores.
  for (double gb : {10.0, 20.0, 40.0, 80.0}) p.Add(Obs("a", "emr", gb, 32, 60 + 40 * gb / 32));
  PredictionQuery q{"a", "emr", 32, 160e9, std::nullopt, 1};
  Prediction r = p.Predict(q);
  EXPECT_EQ(r.basis, "model");
  EXPECT_EQ(r.observations, 4);
  EXPECT_NEAR(r.p50_s, 60 + 40 * 160 / 32.0, 1e-6);
  EXPECT_GT(r.p90_s, r.p50_s);
}

TEST(PredictorTest, FallsBackToSpeedRatioThenFewRunsThenHintThenPrior) {
  RuntimePredictor p;
  PredictionQuery q{"new", "databricks", 32, std::nullopt, std::nullopt, 1};
  EXPECT_EQ(p.Predict(q).basis, "prior");
  q.hint_s = 600;
  q.hint_factor = 2;
  Prediction hint = p.Predict(q);
  EXPECT_EQ(hint.basis, "hint");
  EXPECT_DOUBLE_EQ(hint.p50_s, 1200);
  // "other" ran on both runtimes: databricks takes half as long.
  for (int i = 0; i < 4; ++i) {
    p.Add(Obs("other", "emr", 10, 32, 1000));
    p.Add(Obs("other", "databricks", 10, 32, 500));
    p.Add(Obs("new", "emr", 10, 32, 3000));
  }
  Prediction borrowed = p.Predict(q);
  EXPECT_EQ(borrowed.basis, "speed_ratio");
  EXPECT_NEAR(borrowed.inputs["speed_ratio"].get<double>(), 0.5, 1e-9);
  EXPECT_NEAR(borrowed.p50_s, 1500, 1e-6);
  p.Add(Obs("new", "databricks", 10, 32, 1400));
  // One own run does not yet beat the borrowed model (min_runs = 3)...
  EXPECT_EQ(p.Predict(q).basis, "speed_ratio");
  // ...and without a partner runtime, a few runs give their typical duration.
  PredictionQuery lonely{"solo", "local", 8, std::nullopt, 900.0, 1};
  p.Add(Obs("solo", "local", 1, 8, 100));
  EXPECT_EQ(p.Predict(lonely).basis, "few_runs");
  EXPECT_NEAR(p.Predict(lonely).p50_s, 100, 1e-9);
}

TEST(PredictorTest, ForgettingFollowsDriftAndSpreadIsLearned) {
  RuntimePredictor p;
  for (int i = 0; i < 40; ++i) p.Add(Obs("a", "emr", 10, 32, 1000));
  for (int i = 0; i < 100; ++i) p.Add(Obs("a", "emr", 10, 32, 2000));  // the job got slower
  PredictionQuery q{"a", "emr", 32, 10e9, std::nullopt, 1};
  EXPECT_NEAR(p.Predict(q).p50_s, 2000, 50);  // the old level has faded to a few %
  // Noisy runs widen p90 against steady ones.
  RuntimePredictor steady, noisy;
  for (int i = 0; i < 60; ++i) {
    steady.Add(Obs("a", "emr", 10, 32, 1000));
    noisy.Add(Obs("a", "emr", 10, 32, i % 2 ? 600 : 1600));
  }
  EXPECT_GT(noisy.Predict(q).p90_s / noisy.Predict(q).p50_s,
            steady.Predict(q).p90_s / steady.Predict(q).p50_s);
}

TEST(PredictorTest, OverheadShrinksTowardReportedValues) {
  RuntimePredictor p;  // prior weight 3
  EXPECT_DOUBLE_EQ(p.OverheadSeconds("emr", 420), 420);
  Observation o = Obs("a", "emr", 1, 8, 100);
  o.overhead_s = 120;
  p.Add(o);
  EXPECT_DOUBLE_EQ(p.OverheadSeconds("emr", 420), (3 * 420 + 120) / 4.0);
}

}  // namespace
}  // namespace arbiter::cost
