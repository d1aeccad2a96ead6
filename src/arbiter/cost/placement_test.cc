#include "arbiter/cost/placement.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "arbiter/cost/catalog_instance_chooser.h"
#include "arbiter/cost/test_catalog.h"

namespace arbiter::cost {
namespace {

using definitions::PlacementPolicy;
using definitions::RuntimeType;
using ::testing::HasSubstr;

class PlacementTest : public ::testing::Test {
 protected:
  PlacementTest()
      : catalog_(std::make_shared<const PriceCatalog>(testing::TestCatalog())),
        risk_(catalog_.get()),
        placer_(&project_, catalog_.get(), &predictor_, &risk_, CatalogInstanceChooser(catalog_)) {
    for (auto [name, type] : {std::pair{"local", RuntimeType::kLocal}, {"emr", RuntimeType::kEmr},
                              {"serverless", RuntimeType::kEmrServerless}}) {
      definitions::RuntimeConfig rt;
      rt.name = name;
      rt.type = type;
      project_.runtimes[name] = rt;
    }
    asset_.key = *definitions::AssetKey::Parse("a/b");
    asset_.compute.workers = 4;
    asset_.compute.worker = {8, 32};
    asset_.compute.spot = false;
    asset_.expected_duration = std::chrono::seconds(3600);
    project_.assets[asset_.key] = asset_;
  }
  // Each runtime learns at its own core count, as the engine does (local: 8).
  void Learn(const std::string& rt, double seconds, int n = 4) {
    double cores = rt == "local" ? 8 : 32;
    for (int i = 0; i < n; ++i) predictor_.Add({"a/b", rt, std::nullopt, cores, seconds, std::nullopt});
  }
  definitions::Project project_;
  definitions::AssetDef asset_;
  std::shared_ptr<const PriceCatalog> catalog_;
  RuntimePredictor predictor_;
  SpotRisk risk_;
  Placer placer_;
};

TEST_F(PlacementTest, CheapestPicksTheLowestExpectedCostAndExplains) {
  // Local is free but 4× slower than the 32-core cluster: 4 h p50.
  Learn("emr", 3600);
  Learn("serverless", 3000);
  Learn("local", 4 * 3600);
  Placement p = placer_.Place(asset_, PlacementPolicy{}, std::nullopt);
  EXPECT_EQ(p.chosen, "local");
  EXPECT_THAT(p.reason, HasSubstr("local is the cheapest feasible runtime ($0.000 expected)"));
  ASSERT_EQ(p.candidates.size(), 3u);
  // emr: 5 nodes of m5.2xlarge... 1 primary + 4 core, on-demand, 3600 s + 360 s overhead.
  const Candidate& emr = p.candidates[0];
  EXPECT_EQ(emr.runtime, "emr");
  EXPECT_EQ(emr.shape.Describe(), "1 × m5.2xlarge + 4 × m5.2xlarge");
  EXPECT_NEAR(*emr.expected_usd, 5 * (0.4 + 0.1) * 3960 / 3600, 1e-9);
  EXPECT_EQ(emr.prediction.basis, "model");
  EXPECT_EQ(p.ToJson()["candidates"].size(), 3u);
}

// Without history, a guessed duration (the asset's hint scaled to this
// machine, or the prior) never makes a runtime infeasible: the only way to
// learn is to run it.
TEST_F(PlacementTest, AGuessedDurationDoesNotRuleOutARuntime) {
  asset_.compute.max_duration = std::chrono::minutes(10);
  Placement p = placer_.Place(asset_, PlacementPolicy{}, std::nullopt);
  for (const Candidate& c : p.candidates) {
    ASSERT_TRUE(c.prediction.basis == "hint" || c.prediction.basis == "prior") << c.runtime;
    EXPECT_TRUE(c.feasible) << c.runtime << ": " << c.why_not;
  }
  EXPECT_FALSE(p.chosen.empty());
}

TEST_F(PlacementTest, MaxDurationAndDeadlineMakeCandidatesInfeasible) {
  Learn("emr", 3600);
  Learn("serverless", 3000);
  Learn("local", 4 * 3600);
  asset_.compute.max_duration = std::chrono::hours(3);
  Placement p = placer_.Place(asset_, PlacementPolicy{}, std::nullopt);
  EXPECT_NE(p.chosen, "local");
  const Candidate& local = p.candidates[1];
  EXPECT_FALSE(local.feasible);
  EXPECT_THAT(local.why_not, HasSubstr("exceeds max_duration 3h00m"));

  asset_.compute.max_duration.reset();
  PlacementPolicy within;
  within.kind = PlacementPolicy::Kind::kCheapestWithin;
  within.deadline = std::chrono::hours(2);
  p = placer_.Place(asset_, within, std::nullopt);
  EXPECT_NE(p.chosen, "local");
  EXPECT_THAT(p.candidates[1].why_not, HasSubstr("misses the deadline 2h00m"));
  within.deadline = std::chrono::seconds(60);  // nobody makes it: the fastest runs
  p = placer_.Place(asset_, within, std::nullopt);
  EXPECT_EQ(p.chosen, "serverless");
  EXPECT_THAT(p.reason, HasSubstr("no runtime is predicted to meet the deadline"));
}

TEST_F(PlacementTest, FastestFixedAndConstraints) {
  Learn("emr", 3600);
  Learn("serverless", 3000);
  Learn("local", 4 * 3600);
  PlacementPolicy fastest;
  fastest.kind = PlacementPolicy::Kind::kFastest;
  EXPECT_EQ(placer_.Place(asset_, fastest, std::nullopt).chosen, "serverless");
  PlacementPolicy fixed;
  fixed.kind = PlacementPolicy::Kind::kFixed;
  fixed.runtime = "emr";
  EXPECT_EQ(placer_.Place(asset_, fixed, std::nullopt).chosen, "emr");
  fixed.runtime = "nowhere";
  EXPECT_THAT(placer_.Place(asset_, fixed, std::nullopt).reason, HasSubstr("not allowed"));

  PlacementConstraints c;
  c.excluded_runtimes = {"local"};
  c.max_nodes = 4;  // emr needs 5, serverless 5 workers
  Placement p = placer_.Place(asset_, PlacementPolicy{}, std::nullopt, c);
  EXPECT_TRUE(p.chosen.empty());
  EXPECT_THAT(p.reason, HasSubstr("emr (5 nodes exceed the maximum of 4)"));
  EXPECT_THAT(p.reason, HasSubstr("local (excluded by constraint)"));
  c = {};
  c.require_photon = true;
  p = placer_.Place(asset_, PlacementPolicy{}, std::nullopt, c);
  EXPECT_THAT(p.reason, HasSubstr("Photon required"));
}

TEST_F(PlacementTest, ExplorationTriesAYoungModelWithinItsBudget) {
  Learn("emr", 3600);
  // serverless has no runs: its hint-based prediction is uncertain, so a
  // posterior draw of its cost can beat emr's.
  asset_.runtimes = {"emr", "serverless"};
  Placement off = placer_.Place(asset_, PlacementPolicy{}, std::nullopt);
  ExplorationBudget none{0.1, 1000, 100.3};  // the budget is used up
  ExplorationBudget plenty{0.5, 1000, 0};
  int explored = 0;
  for (uint64_t draw = 0; draw < 40; ++draw) {
    none.draw = plenty.draw = draw;
    EXPECT_FALSE(placer_.Place(asset_, PlacementPolicy{}, std::nullopt, {}, none).explored);
    Placement on = placer_.Place(asset_, PlacementPolicy{}, std::nullopt, {}, plenty);
    // The same draw gives the same decision (plan shows what materialize does).
    EXPECT_EQ(on.chosen, placer_.Place(asset_, PlacementPolicy{}, std::nullopt, {}, plenty).chosen);
    if (!on.explored) {
      EXPECT_EQ(on.chosen, off.chosen);
      continue;
    }
    ++explored;
    EXPECT_NE(on.chosen, off.chosen);
    EXPECT_EQ(on.cheapest, off.chosen);
    EXPECT_GT(on.explore_extra_usd, 0);
    EXPECT_THAT(on.reason, HasSubstr("exploring serverless: it might be cheaper"));
  }
  EXPECT_GT(explored, 0);
  EXPECT_LT(explored, 40);
}

TEST_F(PlacementTest, DeadlineUsesThePredictiveQuantileAtItsLevel) {
  Learn("emr", 3000, 10);
  asset_.runtimes = {"emr"};
  PlacementPolicy within;
  within.kind = PlacementPolicy::Kind::kCheapestWithin;
  within.deadline = std::chrono::seconds(3300);
  within.level = 0.5;
  Placement p = placer_.Place(asset_, within, std::nullopt);
  const Candidate* c = p.Chosen();
  ASSERT_NE(c, nullptr);
  EXPECT_LT(c->deadline_total_s, c->p90_total_s);
  within.level = 0.99;
  p = placer_.Place(asset_, within, std::nullopt);
  EXPECT_GT(p.candidates[0].deadline_total_s, c->deadline_total_s);
}

TEST(NormalQuantileTest, KnownValues) {
  EXPECT_NEAR(NormalQuantile(0.5), 0, 1e-9);
  EXPECT_NEAR(NormalQuantile(0.9), 1.2815515655446004, 1e-8);
  EXPECT_NEAR(NormalQuantile(0.01), -2.3263478740408408, 1e-8);
}

PlacementPolicy Fastest() {
  PlacementPolicy p;
  p.kind = PlacementPolicy::Kind::kFastest;
  return p;
}

TEST_F(PlacementTest, CommandJobsOnlyGoWhereALauncherRunsThem) {
  for (auto [name, type] : {std::pair{"dbx", RuntimeType::kDatabricks}}) {
    definitions::RuntimeConfig rt;
    rt.name = name;
    rt.type = type;
    project_.runtimes[name] = rt;
  }
  // Serverless and Databricks would be far cheaper than EMR, but refuse commands.
  Learn("emr", 36000);
  Learn("serverless", 60);
  Learn("dbx", 60);
  asset_.runtimes = {"emr", "serverless", "dbx"};
  asset_.job.kind = definitions::JobKind::kCommand;
  asset_.job.command = {"./run.sh"};
  Placement p = placer_.Place(asset_, PlacementPolicy{}, std::nullopt);
  EXPECT_EQ(p.chosen, "emr");
  ASSERT_EQ(p.candidates.size(), 3u);
  for (const Candidate& c : p.candidates) {
    if (c.runtime == "emr") {
      EXPECT_TRUE(c.feasible) << c.why_not;
    } else {
      EXPECT_FALSE(c.feasible) << c.runtime;
      EXPECT_THAT(c.why_not, HasSubstr("a command job: "));
      EXPECT_THAT(c.why_not, HasSubstr("runs pyspark and python jobs only"));
    }
  }
  // The fastest policy and exploration must not pick them either.
  EXPECT_EQ(placer_.Place(asset_, Fastest(), std::nullopt).chosen,
            "emr");
  EXPECT_FALSE(placer_.Place(asset_, PlacementPolicy{}, std::nullopt, {}, {0.9, 1e6, 0}).explored);
  // A pyspark job may use all three.
  asset_.job.kind = definitions::JobKind::kPySpark;
  EXPECT_NE(placer_.Place(asset_, PlacementPolicy{}, std::nullopt).chosen, "emr");
}

TEST_F(PlacementTest, WithoutExplanationTheChoiceAndNumbersAreTheSame) {
  // The simulator places without explanations; it must choose exactly as the
  // explained placement would, in every learning state it passes through.
  asset_.compute.spot = true;  // spot risk and the on-demand fallback too
  project_.assets[asset_.key] = asset_;
  const std::vector<std::pair<std::string, double>> runs = {
      {"emr", 3600}, {"serverless", 2500}, {"emr", 3900}, {"local", 20000},
      {"serverless", 2700}, {"emr", 3300}, {"serverless", 2600}, {"local", 19000}};
  for (size_t i = 0; i <= runs.size(); ++i) {
    for (const auto& policy : {PlacementPolicy{}, Fastest()}) {
      for (double budget_spent : {0.0, 1000.0}) {
        ExplorationBudget budget{0.3, budget_spent, 0};
        Placement full = placer_.Place(asset_, policy, 5e9, {}, budget);
        Placement lean = placer_.Place(asset_, policy, 5e9, {}, budget, /*explain=*/false);
        SCOPED_TRACE("after " + std::to_string(i) + " runs, " + full.policy);
        EXPECT_EQ(lean.chosen, full.chosen);
        EXPECT_EQ(lean.explored, full.explored);
        ASSERT_EQ(lean.candidates.size(), full.candidates.size());
        for (size_t k = 0; k < full.candidates.size(); ++k) {
          const Candidate& f = full.candidates[k];
          const Candidate& l = lean.candidates[k];
          EXPECT_EQ(l.runtime, f.runtime);
          EXPECT_EQ(l.expected_usd, f.expected_usd);
          EXPECT_EQ(l.cost.usd, f.cost.usd);
          EXPECT_EQ(l.prediction.p50_s, f.prediction.p50_s);
          EXPECT_EQ(l.prediction.p90_s, f.prediction.p90_s);
          EXPECT_EQ(l.feasible, f.feasible);
          EXPECT_TRUE(l.cost.lines.empty());
          EXPECT_FALSE(f.cost.lines.empty());
        }
        EXPECT_TRUE(lean.reason.empty());
      }
    }
    if (i < runs.size()) Learn(runs[i].first, runs[i].second, 1);
  }
}

}  // namespace
}  // namespace arbiter::cost
