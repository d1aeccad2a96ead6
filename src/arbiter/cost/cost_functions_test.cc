#include "arbiter/cost/cost_functions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "arbiter/cost/spot_risk.h"
#include "arbiter/cost/test_catalog.h"

namespace arbiter::cost {
namespace {

using definitions::RuntimeType;
using ::testing::HasSubstr;

definitions::RuntimeConfig Runtime(RuntimeType t) {
  definitions::RuntimeConfig rt;
  rt.name = std::string(definitions::RuntimeTypeName(t));
  rt.type = t;
  return rt;
}

TEST(CostFunctionsTest, EmrIsNodesTimesHoursTimesEc2PlusFee) {
  PriceCatalog c = testing::TestCatalog();
  ClusterShape s;
  s.type = RuntimeType::kEmr;
  s.nodes = {{"primary", "m5.xlarge", 1, false}, {"task", "m5.2xlarge", 4, true}};
  // primary 0.2 + fee 0.05; tasks 4 × (spot 0.1 + fee min(0.25 × 0.4, 0.27) = 0.1).
  auto e = PriceShape(c, Runtime(RuntimeType::kEmr), s, 3600);
  ASSERT_TRUE(e.usd.has_value());
  EXPECT_NEAR(*e.usd, 1.05, 1e-9);
  // Billed at least a minute.
  EXPECT_NEAR(*PriceShape(c, Runtime(RuntimeType::kEmr), s, 30).usd, 1.05 / 60, 1e-9);
}

TEST(CostFunctionsTest, DatabricksAddsDbusWithPhotonOnEveryNode) {
  PriceCatalog c = testing::TestCatalog();
  ClusterShape s;
  s.type = RuntimeType::kDatabricks;
  s.photon = true;
  s.nodes = {{"driver", "m5.xlarge", 1, false}, {"worker", "m5.2xlarge", 2, true}};
  // 2 h: driver (0.2 + 0.69 × 2.9 × 0.15) + 2 workers (0.1 + 1.37 × 2.9 × 0.15); DBUs not spot-discounted.
  double expected = 2 * (0.2 + 0.69 * 2.9 * 0.15) + 2 * 2 * (0.1 + 1.37 * 2.9 * 0.15);
  EXPECT_NEAR(*PriceShape(c, Runtime(RuntimeType::kDatabricks), s, 7200).usd, expected, 1e-9);
  s.photon = false;
  expected = 2 * (0.2 + 0.69 * 0.15) + 4 * (0.1 + 1.37 * 0.15);
  EXPECT_NEAR(*PriceShape(c, Runtime(RuntimeType::kDatabricks), s, 7200).usd, expected, 1e-9);
}

TEST(CostFunctionsTest, ServerlessHasAOneMinuteMinimumPerWorker) {
  PriceCatalog c = testing::TestCatalog();
  ClusterShape s;
  s.type = RuntimeType::kEmrServerless;
  s.serverless_workers = 3;
  s.worker_vcpu = 4;
  s.worker_memory_gib = 16;
  // 30 s billed as 60 s: 3 × 60/3600 h × (4 × 0.05 + 16 × 0.005).
  EXPECT_NEAR(*PriceShape(c, Runtime(RuntimeType::kEmrServerless), s, 30).usd, 0.014, 1e-12);
  EXPECT_NEAR(*PriceShape(c, Runtime(RuntimeType::kEmrServerless), s, 3600).usd, 0.84, 1e-12);
}

TEST(CostFunctionsTest, LocalIsHoursTimesConfiguredRate) {
  auto rt = Runtime(RuntimeType::kLocal);
  rt.local.cost_per_hour = 1.5;
  EXPECT_DOUBLE_EQ(*PriceLocalRun(rt, 7200).usd, 3.0);
  rt.local.cost_per_hour = 0;
  EXPECT_DOUBLE_EQ(*PriceShape(testing::TestCatalog(), rt, ClusterShape{}, 7200).usd, 0.0);
}

TEST(CostFunctionsTest, MissingPricesAreUnknownNeverZero) {
  PriceCatalog c = testing::TestCatalog();
  ClusterShape s;
  s.type = RuntimeType::kDatabricks;
  s.nodes = {{"driver", "r5.2xlarge", 1, false}, {"worker", "x1.none", 2, false}};
  auto e = PriceShape(c, Runtime(RuntimeType::kDatabricks), s, 3600);
  EXPECT_FALSE(e.usd.has_value());
  EXPECT_THAT(e.unknown, ::testing::Contains(HasSubstr("DBU rating of r5.2xlarge")));
  EXPECT_THAT(e.unknown, ::testing::Contains(HasSubstr("EC2 on-demand price of x1.none")));
  // No spot price: an explicit upper bound at on-demand, said in a note.
  s.type = RuntimeType::kEmr;
  s.nodes = {{"task", "m5.xlarge", 2, true}};
  auto emr = PriceShape(c, Runtime(RuntimeType::kEmr), s, 3600);
  EXPECT_NEAR(*emr.usd, 2 * (0.2 + 0.05), 1e-12);
  EXPECT_THAT(emr.notes, ::testing::Contains(HasSubstr("priced at on-demand (upper bound)")));
}

TEST(CostFunctionsTest, UsageRecordsArePricedLikeShapes) {
  PriceCatalog c = testing::TestCatalog();
  runs::ResourceUsage db;
  db.runtime_type = "databricks";
  db.region = "us-east-1";
  db.nodes = {{"driver", "m5.xlarge", 1, "ON_DEMAND", 0.5}, {"worker", "m5.2xlarge", 4, "SPOT", 0.5}};
  auto rt = Runtime(RuntimeType::kDatabricks);
  EXPECT_NEAR(*PriceUsage(c, &rt, db).usd,
              0.5 * (0.2 + 0.69 * 0.15) + 4 * 0.5 * (0.1 + 1.37 * 0.15), 1e-12);

  runs::ResourceUsage emr;
  emr.runtime_type = "emr";
  emr.nodes = {{"primary", "m5.xlarge", 1, "ON_DEMAND", 2}};
  emr.details = {{"ebs_gb_hours", 730}};  // one GB-month
  EXPECT_NEAR(*PriceUsage(c, nullptr, emr).usd, 2 * 0.25 + 0.073, 1e-12);

  runs::ResourceUsage sl;
  sl.runtime_type = "emr-serverless";
  sl.vcpu_hours = 10;
  sl.memory_gb_hours = 40;
  sl.storage_gb_hours = 5;
  EXPECT_NEAR(*PriceUsage(c, nullptr, sl).usd, 10 * 0.05 + 40 * 0.005 + 5 * 0.0001, 1e-12);
  sl.vcpu_hours.reset();
  EXPECT_FALSE(PriceUsage(c, nullptr, sl).usd.has_value());

  runs::ResourceUsage local;
  local.runtime_type = "local";
  local.nodes = {{"local", "", 1, "ON_DEMAND", 3}};
  auto lrt = Runtime(RuntimeType::kLocal);
  lrt.local.cost_per_hour = 0.5;
  EXPECT_DOUBLE_EQ(*PriceUsage(c, &lrt, local).usd, 1.5);
}

TEST(CostFunctionsTest, ARunOnASharedClusterHasNoPriceOfItsOwn) {
  PriceCatalog c = testing::TestCatalog();
  runs::ResourceUsage step;  // a step on a long-running EMR cluster: no nodes of its own
  step.runtime_type = "emr";
  step.details = {{"shared_cluster", true}, {"cluster_id", "j-1"}};
  CostEstimate e = PriceUsage(c, nullptr, step);
  EXPECT_FALSE(e.usd.has_value());
  ASSERT_EQ(e.unknown.size(), 1u);
  EXPECT_THAT(e.unknown[0], HasSubstr("share of a shared cluster"));
  runs::ResourceUsage task;  // Databricks, existing_cluster_id
  task.runtime_type = "databricks";
  task.details = {{"existing_cluster_id", "0101-abc"}};
  EXPECT_THAT(PriceUsage(c, nullptr, task).unknown, ::testing::ElementsAre(HasSubstr("shared cluster")));
  task.details = nlohmann::json::object();
  EXPECT_THAT(PriceUsage(c, nullptr, task).unknown, ::testing::ElementsAre(HasSubstr("reported no nodes")));
}

TEST(SpotRiskTest, BandPriorUpdatedByObservedInterruptions) {
  PriceCatalog c = testing::TestCatalog();
  SpotRisk risk(&c, /*prior_node_hours=*/1000);
  EXPECT_DOUBLE_EQ(risk.Hazard("us-east-1", "m5.2xlarge"), 0.001);  // band 0
  EXPECT_DOUBLE_EQ(risk.Hazard("us-east-1", "m5.xlarge"), 0.01);    // no band: the worst
  risk.Observe("m5.2xlarge", 1000, true);
  risk.Observe("m5.2xlarge", 0, true);
  // (0.001 × 1000 + 2) / (1000 + 1000)
  EXPECT_DOUBLE_EQ(risk.Hazard("us-east-1", "m5.2xlarge"), 3.0 / 2000);
  EXPECT_NEAR(risk.InterruptionProbability("us-east-1", "m5.xlarge", 10, 2), 1 - std::exp(-0.2), 1e-12);
  // Interrupted half way: half the spot run lost, then the whole run on on-demand.
  EXPECT_DOUBLE_EQ(ExpectedSpotCost(10, 30, 0.5), 0.5 * 10 + 0.5 * (5 + 30));
}

}  // namespace
}  // namespace arbiter::cost
