// The planner in memory: a project built in code, the test price catalog, a
// map for the stored state. No storage, no processes, no clock.
#include "arbiter/planning/planner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "arbiter/cost/test_catalog.h"
#include "arbiter/definitions/partitions/static_partitions.h"

namespace arbiter::planning {
namespace {

using definitions::RuntimeType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Selections as the flags give them.
Selection Sel(std::vector<std::string> partitions, std::string from = "", std::string to = "",
              bool all_missing = false) {
  Selection s;
  s.partitions = std::move(partitions);
  s.from = std::move(from);
  s.to = std::move(to);
  s.all_missing = all_missing;
  return s;
}
Selection Range(std::string from, std::string to) { return Sel({}, from, to); }
Selection AllMissing(std::string from = "", std::string to = "") {
  return Sel({}, from, to, true);
}

// The stored state the planner may read, as plain maps.
class MemoryState final : public PlanningState {
 public:
  Result<storage::PartitionStatus> PartitionStatusOf(const definitions::AssetDef&) override {
    ++status_reads;
    if (!status_error.empty()) return InternalError(status_error);
    return status;
  }
  Result<std::map<std::optional<std::string>, storage::RunRecord>> LiveRunsOf(
      const definitions::AssetDef&) override {
    return live;
  }
  std::optional<double> LastInputBytes(const definitions::AssetDef&,
                                       const std::optional<std::string>& partition) override {
    auto it = input_bytes.find(partition.value_or(""));
    return it == input_bytes.end() ? std::nullopt : std::optional<double>(it->second);
  }
  void Hold(const std::optional<std::string>& partition, const std::string& run_id) {
    storage::RunRecord r;
    r.run_id = run_id;
    r.partition_key = partition;
    r.runtime = "local";
    r.status = storage::RunStatus::kRunning;
    live[partition] = r;
  }

  storage::PartitionStatus status;
  std::string status_error;
  int status_reads = 0;
  std::map<std::optional<std::string>, storage::RunRecord> live;
  std::map<std::string, double> input_bytes;
};

class PlannerTest : public ::testing::Test {
 protected:
  PlannerTest() {
    for (auto [name, type] : {std::pair{"local", RuntimeType::kLocal}, {"emr", RuntimeType::kEmr},
                              {"serverless", RuntimeType::kEmrServerless}}) {
      definitions::RuntimeConfig rt;
      rt.name = name;
      rt.type = type;
      project_.runtimes[name] = rt;
    }
    auto letters = definitions::StaticPartitions::Create({"a", "b", "c", "d", "e", "f"});
    project_.partitions["letters"] = {"letters", std::move(letters).value(), {}};
    AddAsset("demo/parts", "letters");
    AddAsset("demo/single", "");
  }
  void AddAsset(const std::string& key, const std::string& partitions) {
    definitions::AssetDef a;
    a.key = *definitions::AssetKey::Parse(key);
    a.partitions = partitions;
    a.compute.workers = 4;
    a.compute.worker = {8, 32};
    a.compute.spot = false;
    a.expected_duration = std::chrono::seconds(3600);
    project_.assets[a.key] = a;
  }
  const definitions::AssetDef& Asset(const std::string& key) { return *project_.FindAsset(key); }
  cost::Engine& Engine() {
    if (!engine_) engine_ = std::make_unique<cost::Engine>(&project_, cost::testing::TestCatalog());
    return *engine_;
  }
  PlanRequest Request(const std::string& asset, Selection selection = {}) {
    PlanRequest r;
    r.asset = &Asset(asset);
    r.selection = std::move(selection);
    r.now = TimePoint(std::chrono::seconds(1'800'000'000));
    return r;
  }
  Plan MakePlan(const PlanRequest& request, bool with_engine = true) {
    Planner planner(&project_, &state_, availability_, launchable_);
    return planner.MakePlan(request, with_engine ? &Engine() : nullptr);
  }
  static std::vector<std::string> Partitions(const Plan& plan) {
    std::vector<std::string> out;
    for (const PlannedRun& r : plan.runs) out.push_back(r.partition.value_or("-"));
    return out;
  }
  static std::string OnlyError(const Plan& plan) {
    EXPECT_EQ(plan.errors.size(), 1u);
    EXPECT_THAT(plan.runs, IsEmpty());
    return plan.errors.empty() ? "" : plan.errors[0].what + " | " + plan.errors[0].hint;
  }

  definitions::Project project_;
  MemoryState state_;
  AvailabilityProbe availability_;
  LaunchableCheck launchable_;
  std::unique_ptr<cost::Engine> engine_;
};

TEST_F(PlannerTest, ARangeSelectsEveryKeyInItInOrder) {
  Plan plan = MakePlan(Request("demo/parts", Sel({"f"}, "b", "d")));
  ASSERT_TRUE(plan.ok()) << plan.errors[0].what;
  EXPECT_THAT(Partitions(plan), ElementsAre("b", "c", "d", "f"));
  EXPECT_EQ(plan.selected, 4);
  EXPECT_TRUE(plan.backfill());
  EXPECT_EQ(plan.now, TimePoint(std::chrono::seconds(1'800'000'000)));
}

TEST_F(PlannerTest, SelectionErrorsSayWhatAndHowToFix) {
  EXPECT_EQ(OnlyError(MakePlan(Request("demo/parts"))),
            "asset 'demo/parts' is partitioned (letters, 6 keys); choose what to run | --partition "
            "KEY (repeatable), --from KEY --to KEY, or --all-missing; 'arbiter partitions "
            "demo/parts' lists the keys");
  Plan unknown = MakePlan(Request("demo/parts", Sel({"a", "zz"})));
  EXPECT_EQ(OnlyError(unknown),
            "--partition 'zz' is not a partition of 'demo/parts' (letters: static, 6 keys (a ... f)) | keys "
            "look like 'a' ... 'f'");
  EXPECT_EQ(unknown.errors[0].where, "--partition");
  EXPECT_EQ(OnlyError(MakePlan(Request("demo/parts", Sel({}, "b")))),
            "--from and --to go together (both inclusive) | ");
  Plan backwards = MakePlan(Request("demo/parts", Range("d", "b")));
  EXPECT_EQ(OnlyError(backwards), "--from 'd' comes after --to 'b' | ");
  EXPECT_EQ(OnlyError(MakePlan(Request("demo/single", AllMissing()))),
            "asset 'demo/single' is not partitioned; run it without "
            "--partition/--from/--to/--all-missing | ");
}

TEST_F(PlannerTest, AllMissingLeavesOutMaterializedAndInProgressWithinTheRange) {
  state_.status.materialized = definitions::PartitionSet::Range(0, 2);  // a, b
  state_.status.in_progress.Add(3);                                    // d
  EXPECT_THAT(Partitions(MakePlan(Request("demo/parts", AllMissing()))),
              ElementsAre("c", "e", "f"));
  EXPECT_THAT(Partitions(MakePlan(Request("demo/parts", AllMissing("b", "e")))),
              ElementsAre("c", "e"));
  // Without --all-missing the status is not even read.
  state_.status_reads = 0;
  MakePlan(Request("demo/parts", Sel({"a"})));
  EXPECT_EQ(state_.status_reads, 0);
}

TEST_F(PlannerTest, NothingMissingIsAnEmptyPlanNotAnError) {
  state_.status.materialized = definitions::PartitionSet::Range(0, 6);
  Plan plan = MakePlan(Request("demo/parts", AllMissing()));
  EXPECT_TRUE(plan.ok());
  EXPECT_EQ(plan.selected, 0);
  EXPECT_THAT(plan.runs, IsEmpty());
}

TEST_F(PlannerTest, AStatusReadErrorIsAPlanError) {
  state_.status_error = "database is locked";
  Plan plan = MakePlan(Request("demo/parts", AllMissing()));
  EXPECT_EQ(OnlyError(plan), "database is locked | ");
  EXPECT_EQ(plan.errors[0].where, "storage");
}

TEST_F(PlannerTest, PartitionsHeldByLiveRunsAreSkippedWithTheirHolder) {
  state_.Hold("b", "run-b");
  state_.Hold("x-not-selected", "run-x");
  Plan plan = MakePlan(Request("demo/parts", Range("a", "c")));
  ASSERT_TRUE(plan.ok());
  EXPECT_THAT(Partitions(plan), ElementsAre("a", "c"));
  ASSERT_EQ(plan.skipped.size(), 1u);
  EXPECT_EQ(plan.skipped[0].partition, "b");
  EXPECT_EQ(plan.skipped[0].holder.run_id, "run-b");
  EXPECT_EQ(plan.selected, 3);
  // Unpartitioned: its one live run holds it.
  state_.Hold(std::nullopt, "run-single");
  Plan single = MakePlan(Request("demo/single"));
  EXPECT_THAT(single.runs, IsEmpty());
  ASSERT_EQ(single.skipped.size(), 1u);
  EXPECT_EQ(single.skipped[0].holder.run_id, "run-single");
}

TEST_F(PlannerTest, EveryRunIsPlacedAndRecordsItsDecision) {
  // Without history local (free) is the cheapest of the three.
  Plan plan = MakePlan(Request("demo/parts", Range("a", "c")));
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan.runs.size(), 3u);
  for (const PlannedRun& r : plan.runs) {
    EXPECT_EQ(r.runtime, "local");
    ASSERT_TRUE(r.placement);
    EXPECT_EQ(r.placement->chosen, "local");
    EXPECT_EQ(r.placement->candidates.size(), 3u);
  }
  EXPECT_EQ(plan.single_runtime(), "local");
  EXPECT_EQ(plan.policy.ToString(), "cheapest");
}

TEST_F(PlannerTest, EachRunIsPlacedWithItsOwnInputSize) {
  state_.input_bytes["b"] = 5e9;
  Plan plan = MakePlan(Request("demo/parts", Range("a", "b")));
  ASSERT_EQ(plan.runs.size(), 2u);
  EXPECT_TRUE(plan.runs[0].placement->inputs["input_bytes"].is_null());
  EXPECT_EQ(plan.runs[1].placement->inputs["input_bytes"], 5e9);
}

TEST_F(PlannerTest, UnavailableRuntimesAreLeftOutAndListed) {
  int probes = 0;
  availability_ = [&](const definitions::AssetDef&) {
    ++probes;
    return std::map<std::string, std::string>{{"local", "no local runner here"}};
  };
  Plan plan = MakePlan(Request("demo/parts", Sel({"a", "b"})));
  ASSERT_TRUE(plan.ok()) << plan.errors[0].what;
  EXPECT_EQ(probes, 1);  // once per plan, not per run
  ASSERT_EQ(plan.left_out.size(), 1u);
  EXPECT_EQ(plan.left_out[0].runtime, "local");
  EXPECT_EQ(plan.left_out[0].why, "no local runner here");
  for (const PlannedRun& r : plan.runs) {
    EXPECT_NE(r.runtime, "local");
    for (const cost::Candidate& c : r.placement->candidates) {
      if (c.runtime == "local") {
        EXPECT_FALSE(c.feasible);
      }
    }
  }
  // Selection errors come before the probe (it may take a second off EC2).
  probes = 0;
  MakePlan(Request("demo/parts"));
  EXPECT_EQ(probes, 0);
}

TEST_F(PlannerTest, NoRuntimeLeftIsAPlacementErrorPointingAtPlan) {
  availability_ = [](const definitions::AssetDef&) {
    return std::map<std::string, std::string>{
        {"local", "x"}, {"emr", "no AWS credentials"}, {"serverless", "no AWS credentials"}};
  };
  Plan plan = MakePlan(Request("demo/single"));
  ASSERT_EQ(plan.errors.size(), 1u);
  EXPECT_THAT(plan.errors[0].what, HasSubstr("cannot place demo/single: "));
  EXPECT_EQ(plan.errors[0].hint, "'arbiter plan demo/single' shows every candidate");
  EXPECT_EQ(plan.errors[0].where, "placement");
}

TEST_F(PlannerTest, ARuntimeAskedForByNameIsCheckedAndNotProbed) {
  bool probed = false;
  availability_ = [&](const definitions::AssetDef&) {
    probed = true;
    return std::map<std::string, std::string>{{"emr", "no AWS credentials"}};
  };
  PlanRequest r = Request("demo/single");
  r.placement.runtime = "emr";
  Plan plan = MakePlan(r);
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(probed);  // tried by name: it fails saying why when it starts
  EXPECT_EQ(plan.runs[0].runtime, "emr");
  EXPECT_EQ(plan.policy.ToString(), "fixed: emr");
  ASSERT_TRUE(plan.runs[0].placement);  // still priced, so the run records its prediction
  // Without a price catalog it runs unpriced.
  Plan unpriced = MakePlan(r, /*with_engine=*/false);
  ASSERT_TRUE(unpriced.ok());
  EXPECT_EQ(unpriced.runs[0].runtime, "emr");
  EXPECT_FALSE(unpriced.runs[0].placement);

  r.placement.runtime = "emx";
  EXPECT_EQ(OnlyError(MakePlan(r)), "unknown runtime 'emx'; did you mean 'emr'? | ");
  project_.assets[Asset("demo/single").key].runtimes = {"local"};
  r.placement.runtime = "emr";
  EXPECT_EQ(OnlyError(MakePlan(r)),
            "asset 'demo/single' may not run on runtime 'emr' (allowed: local) | ");
}

TEST_F(PlannerTest, AutomaticPlacementWithoutACatalogIsAnError) {
  Plan plan = MakePlan(Request("demo/single"), /*with_engine=*/false);
  ASSERT_EQ(plan.errors.size(), 1u);
  EXPECT_EQ(plan.errors[0].where, "placement");
}

TEST_F(PlannerTest, ARuntimeThisBuildCannotLaunchIsAnError) {
  launchable_ = [](const definitions::RuntimeConfig& rt) { return rt.type != RuntimeType::kLocal; };
  Plan plan = MakePlan(Request("demo/single"));
  EXPECT_EQ(OnlyError(plan),
            "runtime 'local' (type local) has no launcher in this build (placement 'cheapest' "
            "chose it: local is the cheapest feasible runtime ($0.000 expected); next emr at $2.750) "
            "| --runtime NAME picks a runtime yourself");
}

// A backfill is a sequence of the asset's decisions: each run draws anew and
// the budget counts the spend and exploration of the runs placed before it.
// Without history emr is expected at $2.75 a run and serverless at $2.80, so
// an exploring run (serverless drawn below emr) costs $0.05 extra.
TEST_F(PlannerTest, TheExplorationBudgetHoldsAcrossABackfill) {
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i) keys.push_back("k" + std::to_string(100 + i));
  project_.partitions["many"] = {"many", definitions::StaticPartitions::Create(keys).value(), {}};
  AddAsset("demo/many", "many");
  project_.assets[Asset("demo/many").key].runtimes = {"emr", "serverless"};
  struct Outcome {
    std::vector<int> explored;  // indices of exploring runs
    double extra = 0, spent = 0;
  };
  auto backfill = [&](double fraction) {
    PlanRequest r = Request("demo/many", Range("k100", "k119"));
    r.placement.explore = fraction;
    Plan plan = MakePlan(r);
    EXPECT_TRUE(plan.ok());
    Outcome o;
    for (size_t i = 0; i < plan.runs.size(); ++i) {
      const cost::Placement& p = *plan.runs[i].placement;
      o.spent += *p.Chosen()->expected_usd;
      if (p.explored) {
        o.explored.push_back(static_cast<int>(i));
        o.extra += p.explore_extra_usd;
      }
    }
    EXPECT_LE(o.extra, fraction * o.spent + 1e-9) << "fraction " << fraction;
    return o;
  };
  EXPECT_THAT(backfill(0).explored, IsEmpty());
  // A roomy budget: every run whose own draw favours serverless explores
  // (the draws differ run to run).
  Outcome roomy = backfill(0.01);
  EXPECT_EQ(roomy.explored.size(), 8u);
  // 0.3% of spend: $0.05 fits only once six runs' spend has accrued (0.3% of
  // 7 × $2.75 = $0.058), and again only after the first extra is paid off.
  Outcome tight = backfill(0.003);
  EXPECT_THAT(tight.explored, ElementsAre(7, 13));
  EXPECT_LT(roomy.explored.front(), 6);  // the early draws that found no budget
  for (int i : tight.explored) {
    EXPECT_NE(std::find(roomy.explored.begin(), roomy.explored.end(), i), roomy.explored.end());
  }
}

TEST_F(PlannerTest, ThePlanCommandsPreviewUsesTheSameInputs) {
  state_.input_bytes["c"] = 2e9;
  availability_ = [](const definitions::AssetDef&) {
    return std::map<std::string, std::string>{{"emr", "no AWS credentials"}};
  };
  Planner planner(&project_, &state_, availability_);
  Preview p = planner.PreviewPlacement(Asset("demo/parts"), "c", {}, Engine());
  ASSERT_THAT(p.errors, IsEmpty());
  EXPECT_EQ(p.partition, "c");
  EXPECT_EQ(p.placement.inputs["input_bytes"], 2e9);
  for (const cost::Candidate& c : p.placement.candidates) {
    if (c.runtime == "emr") {
      EXPECT_FALSE(c.feasible);
    }
  }
  Preview bad = planner.PreviewPlacement(Asset("demo/parts"), "zz", {}, Engine());
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0].what, "'zz' is not a partition of 'demo/parts'");
}

}  // namespace
}  // namespace arbiter::planning
