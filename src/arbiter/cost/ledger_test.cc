#include "arbiter/cost/ledger.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "arbiter/cost/test_catalog.h"
#include "arbiter/storage/sqlite_storage.h"

namespace arbiter::cost {
namespace {

constexpr TimePoint kT0{std::chrono::seconds(1767225600)};

TEST(LedgerTest, RunsRecordPredictedActualAndCounterfactualCosts) {
  definitions::Project project;
  definitions::RuntimeConfig local;
  local.name = "local";
  local.local.cost_per_hour = 2;
  project.runtimes["local"] = local;
  definitions::RuntimeConfig emr;
  emr.name = "emr";
  emr.type = definitions::RuntimeType::kEmr;
  project.runtimes["emr"] = emr;
  definitions::AssetDef a;
  a.key = *definitions::AssetKey::Parse("x/y");
  a.compute.workers = 2;
  a.compute.worker = {8, 32};
  a.compute.spot = false;
  a.expected_duration = std::chrono::seconds(1800);
  project.assets[a.key] = a;
  auto db = std::move(storage::SqliteStorage::Open(":memory:")).value();
  Engine engine(&project, testing::TestCatalog());

  definitions::PlacementPolicy fixed;
  fixed.kind = definitions::PlacementPolicy::Kind::kFixed;
  fixed.runtime = "local";
  Placement p = engine.placer().Place(a, fixed, std::nullopt);
  storage::RunRecord run;
  run.run_id = "r1";
  run.asset_key = "x/y";
  run.runtime = "local";
  run.created_at = kT0;
  ASSERT_TRUE(db->CreateRun(run).ok());
  ASSERT_TRUE(RecordPlacement(*db, run, p, kT0).ok());
  auto stored = *db->GetPlacementDecision("r1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->policy, "fixed: local");
  EXPECT_EQ(stored->candidates["candidates"].size(), 2u);

  storage::RunUpdate end;
  end.started_at = kT0;
  end.ended_at = kT0 + std::chrono::seconds(5400);  // 1.5 h × $2
  ASSERT_TRUE(*db->TransitionRun("r1", {storage::RunStatus::kQueued}, storage::RunStatus::kSuccess, end));
  storage::RunRecord final = *db->GetRun("r1");
  ASSERT_TRUE(RecordRunEnd(engine, *db, final, runs::RunResult(storage::RunStatus::kSuccess, ""), kT0).ok());
  auto cost = **db->GetCostRecord("r1");
  ASSERT_TRUE(cost.actual_usd.has_value());
  EXPECT_DOUBLE_EQ(*cost.actual_usd, 3.0);
  ASSERT_TRUE(cost.predicted_usd.has_value());  // kept from placement
  // The hint × 2 (16 cluster cores over 8 local ones) at $2/h.
  EXPECT_DOUBLE_EQ(*cost.predicted_usd, 2.0 * (1800 * 2) / 3600);
  EXPECT_EQ(cost.usage["runtime_type"], "local");
  // EMR counterfactual: 3 × m5.2xlarge (0.4 + 0.1) for the hint 30 m + 6 m overhead.
  ASSERT_TRUE(cost.counterfactuals.contains("emr"));
  EXPECT_NEAR(cost.counterfactuals["emr"]["usd"].get<double>(), 3 * 0.5 * 2160 / 3600, 1e-9);

  // A remote usage report is what gets priced.
  runs::RunResult remote(storage::RunStatus::kSuccess, "");
  remote.usage = runs::ResourceUsage{};
  remote.usage->runtime_type = "emr";
  remote.usage->nodes = {{"primary", "m5.xlarge", 1, "ON_DEMAND", 2}};
  EXPECT_NEAR(*ActualCost(engine, final, remote.usage).usd, 2 * (0.2 + 0.05), 1e-12);
  // Nothing to price: unknown, never zero.
  final.runtime = "emr";
  EXPECT_FALSE(ActualCost(engine, final, std::nullopt).usd.has_value());

  // What was learned: the run's duration feeds the next prediction.
  Engine later(&project, testing::TestCatalog());
  ASSERT_TRUE(later.Learn(*db).ok());
  EXPECT_EQ(later.predictor().Runs("x/y", "local"), 1);
  EXPECT_DOUBLE_EQ(later.Budget(0.1).spent_usd, 3.0);
}

TEST(LedgerTest, LearningHistoryCalibratesCostAndCountsExplorationExtra) {
  // Two local runtimes at the same list rate; stored runs on "b" cost twice
  // what the catalog says (say, the bill came in higher).
  definitions::Project project;
  for (const char* name : {"a", "b"}) {
    definitions::RuntimeConfig rt;
    rt.name = name;
    rt.local.cost_per_hour = 1;
    project.runtimes[name] = rt;
  }
  definitions::AssetDef asset;
  asset.key = *definitions::AssetKey::Parse("x/y");
  project.assets[asset.key] = asset;
  Engine engine(&project, testing::TestCatalog());
  for (int i = 0; i < 10; ++i) {
    storage::RunHistoryEntry e;
    e.run.run_id = "r" + std::to_string(i);
    e.run.asset_key = "x/y";
    e.run.runtime = "b";
    e.run.status = storage::RunStatus::kSuccess;
    e.run.started_at = kT0;
    e.run.ended_at = kT0 + std::chrono::hours(1);
    e.run.tags = {{"placement", "explore"}, {"explore_extra_usd", "0.25"}, {"code_version", "1"}};
    storage::CostRecord c;
    c.runtime = "b";
    c.actual_usd = 2.0;
    e.cost = c;
    engine.Learn(e);
  }
  LogRatioBelief b = engine.cost_calibration().Estimate("x/y", "b");
  EXPECT_NEAR(b.Factor(), 2.0, 0.05);
  EXPECT_EQ(b.runs, 10);
  EXPECT_DOUBLE_EQ(engine.cost_calibration().Estimate("x/y", "a").mean, 0);
  ExplorationBudget budget = engine.Budget(0.05, "x/y");
  EXPECT_DOUBLE_EQ(budget.spent_usd, 20);
  EXPECT_DOUBLE_EQ(budget.explored_usd, 2.5);
  EXPECT_EQ(budget.draw, 10u);
  // Placement prices "b" at twice the catalog.
  Placement p = engine.placer().Place(project.assets.begin()->second, {}, std::nullopt);
  for (const Candidate& c : p.candidates) {
    if (c.runtime == "b") {
      EXPECT_NEAR(*c.expected_usd / *c.catalog_usd, 2.0, 0.05);
    }
  }
  EXPECT_EQ(p.chosen, "a");
}

}  // namespace
}  // namespace arbiter::cost
