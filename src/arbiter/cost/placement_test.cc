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
  // serverless has no runs: its hint-based prediction is uncertain, so its
  // optimistic cost can beat emr's.
  asset_.runtimes = {"emr", "serverless"};
  Placement off = placer_.Place(asset_, PlacementPolicy{}, std::nullopt);
  ExplorationBudget none{0.1, 0, 0};  // no spend yet: nothing to explore with
  EXPECT_FALSE(placer_.Place(asset_, PlacementPolicy{}, std::nullopt, {}, none).explored);
  ExplorationBudget plenty{0.5, 1000, 0};
  Placement on = placer_.Place(asset_, PlacementPolicy{}, std::nullopt, {}, plenty);
  EXPECT_TRUE(on.explored);
  EXPECT_NE(on.chosen, off.chosen);
  EXPECT_THAT(on.reason, HasSubstr("exploring"));
}

}  // namespace
}  // namespace arbiter::cost
