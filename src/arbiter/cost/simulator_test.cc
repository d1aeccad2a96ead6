#include "arbiter/cost/simulator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "arbiter/cost/test_catalog.h"

namespace arbiter::cost {
namespace {

using ::testing::HasSubstr;

definitions::Project TwoLocalRates() {
  definitions::Project p;
  p.name = "sim";
  for (auto [name, rate] : {std::pair{"cheap", 1.0}, {"dear", 3.0}}) {
    definitions::RuntimeConfig rt;
    rt.name = name;
    rt.local.cost_per_hour = rate;
    p.runtimes[name] = rt;
  }
  return p;
}

TEST(SimulatorTest, KnownAnswerTrace) {
  // Same durations everywhere; "cheap" costs a third: the policy should match the oracle.
  std::ostringstream t;
  for (int i = 0; i < 20; ++i) {
    t << R"({"asset": "s/a", "partition": "p)" << i
      << R"(", "input_bytes": 1000, "outcomes": {"cheap": {"duration_s": 3600}, "dear": {"duration_s": 3600}}})" << "\n";
  }
  std::istringstream in(t.str());
  auto trace = ParseTrace(in, "t.jsonl");
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  SimulationOptions o;
  auto r = Simulate(TwoLocalRates(), testing::TestCatalog(), *trace, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->records, 20);
  EXPECT_DOUBLE_EQ(r->oracle_usd, 20.0);
  EXPECT_DOUBLE_EQ(r->policy_usd, 20.0);
  EXPECT_DOUBLE_EQ(*r->always_usd["dear"], 60.0);
  EXPECT_DOUBLE_EQ(r->regret_pct(), 0);
  EXPECT_EQ(r->decisions["cheap"], 20);
  EXPECT_NEAR(r->ToJson()["savings_pct"]["dear"].get<double>(), 100 * (1 - 20.0 / 60), 1e-9);
}

TEST(SimulatorTest, PolicyLearnsOnlyFromItsOwnChoicesAndUsesGivenCosts) {
  // Given costs say "dear" is actually cheaper; with no exploration the
  // policy never sees that (it never runs "dear"), so it pays the regret.
  std::ostringstream t;
  for (int i = 0; i < 10; ++i) {
    t << R"({"asset": "s/a", "outcomes": {"cheap": {"duration_s": 3600, "cost_usd": 2}, "dear": {"duration_s": 3600, "cost_usd": 1}}})" << "\n";
  }
  std::istringstream in(t.str());
  auto r = Simulate(TwoLocalRates(), testing::TestCatalog(), *ParseTrace(in, "t"), {});
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->policy_usd, 20);
  EXPECT_DOUBLE_EQ(r->oracle_usd, 10);
  EXPECT_DOUBLE_EQ(r->regret_pct(), 100);
}

TEST(SimulatorTest, ExplorationLearnsTheCostsTheCatalogGetsWrong) {
  // The catalog says "dear" costs three times "cheap"; the billed costs say
  // it costs half. Exploring by default, the policy tries "dear", learns its
  // actual cost, and stays there; list-price placement never does.
  std::ostringstream t;
  for (int i = 0; i < 200; ++i) {
    t << R"({"asset": "s/a", "outcomes": {"cheap": {"duration_s": 3600, "cost_usd": 2}, "dear": {"duration_s": 3600, "cost_usd": 1}}})" << "\n";
  }
  std::istringstream in(t.str());
  SimulationOptions o;
  o.explore = 0.05;
  auto r = Simulate(TwoLocalRates(), testing::TestCatalog(), *ParseTrace(in, "t"), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_DOUBLE_EQ(r->oracle_usd, 200);
  EXPECT_DOUBLE_EQ(*r->catalog_only_usd, 400);
  // The budget delays the first try until spend covers its predicted extra
  // (the catalog says "dear" is dearer): about a dozen runs on "cheap".
  EXPECT_LT(r->regret_pct(), 10);
  EXPECT_GT(r->explored, 0);
  EXPECT_GT(r->decisions["dear"], 180);
  ASSERT_TRUE(r->cost_error_median.has_value());
  EXPECT_LT(*r->cost_error_median, 0.01);
  // Seeded: the same options give the same report.
  std::istringstream again(t.str());
  auto r2 = Simulate(TwoLocalRates(), testing::TestCatalog(), *ParseTrace(again, "t"), o);
  EXPECT_EQ(r2->ToJson(), r->ToJson());
}

TEST(SimulatorTest, DetectsAPriceShiftAndMovesAway) {
  // "cheap" is cheapest until its price triples; the policy notices and moves.
  std::ostringstream t;
  for (int i = 0; i < 200; ++i) {
    double cheap = i < 100 ? 1.0 : 3.0;
    t << R"({"asset": "s/a", "outcomes": {"cheap": {"duration_s": 3600, "cost_usd": )" << cheap
      << R"(}, "dear": {"duration_s": 3600, "cost_usd": 2}}})" << "\n";
  }
  std::istringstream in(t.str());
  SimulationOptions o;
  o.explore = 0.05;
  o.choices = true;
  auto r = Simulate(TwoLocalRates(), testing::TestCatalog(), *ParseTrace(in, "t"), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_FALSE(r->changes.empty());
  EXPECT_EQ(r->changes[0]["runtime"], "cheap");
  EXPECT_EQ(r->changes[0]["what"], "cost");
  EXPECT_EQ(r->changes[0]["direction"], 1);
  int back_on_dear = -1;
  for (size_t i = 100; i < r->choices.size(); ++i) {
    if (r->choices[i].cheapest_expected == "dear") {
      back_on_dear = static_cast<int>(i) - 100;
      break;
    }
  }
  EXPECT_GE(back_on_dear, 0);
  EXPECT_LE(back_on_dear, 5);
}

TEST(SimulatorTest, BadTracesNameTheLine) {
  std::istringstream in("{\"asset\": \"s/a\", \"outcomes\": {\"cheap\": {\"duration_s\": 1}}}\n\n{\"asset\": 3}\n");
  auto r = ParseTrace(in, "bad.jsonl");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("bad.jsonl:3: \"asset\" must be a string"));
  std::istringstream neg("{\"asset\": \"s/a\", \"outcomes\": {\"x\": {\"duration_s\": -1}}}\n");
  EXPECT_THAT(ParseTrace(neg, "n").status().message(), HasSubstr("needs \"duration_s\""));
  std::istringstream unknown("{\"asset\": \"s/a\", \"outcomes\": {\"gpu\": {\"duration_s\": 5}}}\n");
  auto trace = ParseTrace(unknown, "u");
  ASSERT_TRUE(trace.ok());
  EXPECT_THAT(Simulate(TwoLocalRates(), testing::TestCatalog(), *trace, {}).status().message(),
              HasSubstr("runtime gpu is not a runtime of project sim"));
}

}  // namespace
}  // namespace arbiter::cost
