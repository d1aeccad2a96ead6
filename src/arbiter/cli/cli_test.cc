// The CLI run in-process: exit codes, human and JSON output, on the shipped
// example project and on broken projects.
#include "arbiter/cli/cli.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "arbiter/testing/temp_dir.h"

namespace arbiter::cli {
namespace {

using ::testing::HasSubstr;

struct Output {
  int code;
  std::string out, err;
};

class CliTest : public ::testing::Test {
 protected:
  Output Run(std::vector<std::string> args, const std::string& cwd = "") {
    std::ostringstream out, err;
    CliEnv env;
    env.clock = &clock_;
    env.cwd = cwd.empty() ? ARBITER_SOURCE_DIR : cwd;
    env.env.get_env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    env.env.read_file = [](const std::string& p) -> Result<std::string> {
      return NotFoundError(p);
    };
    // Run state goes to a scratch database, never into the source tree.
    args.insert(args.begin(), {"--storage", "sqlite:" + (scratch_.path() / "a.db").string()});
    int code = RunCli(args, out, err, env);
    return {code, out.str(), err.str()};
  }

  testing::TempDir scratch_;
  FakeClock clock_{TimePoint(std::chrono::seconds(1717200000))};  // 2024-06-01T00:00:00Z
  const std::string example_ = "examples/commoncrawl";
};

TEST_F(CliTest, CheckExampleProjectPasses) {
  Output o = Run({"check", example_});
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("ok: commoncrawl: 3 assets, 4 runtimes"));
  // DATABRICKS_TOKEN is not set in this environment: a warning, not an error.
  EXPECT_THAT(o.err, HasSubstr("warning: runtime 'databricks': token: environment variable "
                               "DATABRICKS_TOKEN is not set"));
}

TEST_F(CliTest, AssetsTableInDependencyOrder) {
  Output o = Run({"-C", example_, "assets"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  size_t nodes = o.out.find("commoncrawl/nodes"), edges = o.out.find("commoncrawl/edges  ");
  ASSERT_NE(nodes, std::string::npos);
  ASSERT_NE(edges, std::string::npos);
  EXPECT_LT(nodes, edges);
  EXPECT_THAT(o.out, HasSubstr("ASSET"));
  EXPECT_THAT(o.out, HasSubstr("crawl_seed (8)"));
  EXPECT_THAT(o.out, HasSubstr("fixed: local"));
}

TEST_F(CliTest, AssetsJson) {
  Output o = Run({"assets", "--json", "-C", example_});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  auto j = nlohmann::json::parse(o.out);
  ASSERT_EQ(j["assets"].size(), 3u);
  EXPECT_EQ(j["assets"][0]["key"], "commoncrawl/nodes");
  EXPECT_EQ(j["assets"][0]["partitions"]["count"], 8);
  EXPECT_EQ(j["assets"][1]["deps"][0], "commoncrawl/nodes");
  EXPECT_EQ(j["assets"][2]["placement"], "fixed: local");
}

TEST_F(CliTest, PartitionsRangeAndLimit) {
  Output o = Run({"-C", example_, "partitions", "commoncrawl/edges", "--from",
                  "CC-MAIN-2024-18|seeds-a", "--to", "CC-MAIN-2024-22|seeds-b"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out,
              HasSubstr("CC-MAIN-2024-18|seeds-a  missing\nCC-MAIN-2024-18|seeds-b  missing\n"
                        "CC-MAIN-2024-22|seeds-a  missing\nCC-MAIN-2024-22|seeds-b  missing\n"));
  EXPECT_THAT(o.out, HasSubstr("status: 0 materialized, 0 failed, 0 in progress, 8 missing"));
  EXPECT_THAT(o.out, HasSubstr("(4 shown of 4 selected, 8 in total)"));

  Output limited =
      Run({"-C", example_, "--json", "partitions", "commoncrawl/nodes", "--limit", "3"});
  ASSERT_EQ(limited.code, kExitOk) << limited.err;
  auto j = nlohmann::json::parse(limited.out);
  EXPECT_EQ(j["total"], 8);
  EXPECT_EQ(j["shown"], 3);
  EXPECT_EQ(j["truncated"], true);
  EXPECT_EQ(j["keys"][2]["key"], "CC-MAIN-2024-18|seeds-a");
  EXPECT_EQ(j["keys"][2]["status"], "missing");
  EXPECT_EQ(j["status"]["missing"], 8);
}

TEST_F(CliTest, PartitionsErrors) {
  Output unknown = Run({"-C", example_, "partitions", "commoncrawl/edgs"});
  EXPECT_EQ(unknown.code, kExitFailure);
  EXPECT_THAT(unknown.err, HasSubstr("unknown asset 'commoncrawl/edgs'; did you mean "
                                     "'commoncrawl/edges'?"));
  Output badkey = Run({"-C", example_, "partitions", "commoncrawl/summary", "--from", "CC-X"});
  EXPECT_EQ(badkey.code, kExitFailure);
  EXPECT_THAT(badkey.err, HasSubstr("--from: 'CC-X' is not a partition of 'commoncrawl/summary'"));
  EXPECT_THAT(badkey.err, HasSubstr("keys look like 'CC-MAIN-2024-10'"));
  Output reversed = Run({"-C", example_, "partitions", "commoncrawl/summary", "--from",
                         "CC-MAIN-2024-26", "--to", "CC-MAIN-2024-10"});
  EXPECT_EQ(reversed.code, kExitFailure);
  EXPECT_THAT(reversed.err, HasSubstr("comes after --to"));
}

TEST_F(CliTest, TimePartitionsShowWindowsAcrossDst) {
  testing::TempDir dir;
  dir.Write("jobs/a.py", "");
  dir.Write("arbiter.yaml", R"(
runtimes: {local: {type: local}}
partitions:
  hours:
    time: {cadence: hourly, start: 2024-10-27T01:00, end: 2024-10-27T04:00, timezone: Europe/Vienna}
assets:
  a: {partitions: hours, job: {script: jobs/a.py}}
)");
  Output o = Run({"--json", "partitions", "a"}, dir.str());
  ASSERT_EQ(o.code, kExitOk) << o.err;
  auto j = nlohmann::json::parse(o.out);
  // 01:00 CEST, 02:00 CEST, 02:00 CET (the repeated hour), 03:00 CET: four real hours.
  ASSERT_EQ(j["total"], 4);
  EXPECT_EQ(j["keys"][1]["start"], "2024-10-27T02:00:00+02:00");
  EXPECT_EQ(j["keys"][2]["start"], "2024-10-27T02:00:00+01:00");
  EXPECT_NE(j["keys"][1]["key"], j["keys"][2]["key"]);
}

TEST_F(CliTest, BrokenProjectExitsOneWithPreciseErrors) {
  testing::TempDir dir;
  dir.Write("arbiter.yaml", "runtimes: {local: {type: local}}\nassets:\n  a:\n    partitons: x\n");
  Output o = Run({"check"}, dir.str());
  EXPECT_EQ(o.code, kExitFailure);
  EXPECT_THAT(o.err, HasSubstr("arbiter.yaml:4:5: error: unknown key 'partitons' in asset 'a'; "
                               "did you mean 'partitions'?\n      partitons: x\n      ^\n"));
  EXPECT_THAT(o.err, HasSubstr("2 errors, 0 warnings"));

  Output json = Run({"check", "--json"}, dir.str());
  EXPECT_EQ(json.code, kExitFailure);
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["diagnostics"][0]["line"], 3);
  EXPECT_EQ(j["diagnostics"][1]["column"], 5);

  Output assets = Run({"assets"}, dir.str());
  EXPECT_EQ(assets.code, kExitFailure);
  EXPECT_THAT(assets.err, HasSubstr("the project has 2 errors"));

  // With --json, the error is one JSON object on stderr.
  Output json_assets = Run({"--json", "assets"}, dir.str());
  EXPECT_EQ(json_assets.code, kExitFailure);
  auto e = nlohmann::json::parse(json_assets.err);
  EXPECT_EQ(e["error"], "the project has 2 errors; fix them and run again");
  EXPECT_EQ(e["exit_code"], 1);
  ASSERT_EQ(e["details"].size(), 2u) << e.dump();
  EXPECT_THAT(e["details"][1].get<std::string>(),
              HasSubstr("arbiter.yaml:4:5: unknown key 'partitons' in asset 'a'"));
}

TEST_F(CliTest, ErrorsAreJsonWithJson) {
  Output o = Run({"--json", "-C", example_, "materialize", "no/such"});
  EXPECT_EQ(o.code, kExitFailure);
  auto e = nlohmann::json::parse(o.err);
  EXPECT_THAT(e["error"].get<std::string>(), HasSubstr("unknown asset 'no/such'"));
  EXPECT_EQ(e["details"], nlohmann::json::array({"hint: 'arbiter assets' lists them"}));
  o = Run({"runs", "--limit", "0", "--json"});
  EXPECT_EQ(o.code, kExitUsage);
  e = nlohmann::json::parse(o.err);
  EXPECT_THAT(e["error"].get<std::string>(), HasSubstr("must be a whole number of at least 1"));
  EXPECT_EQ(e["exit_code"], 2);
}

TEST_F(CliTest, LiteralSecretIsNeverPrinted) {
  testing::TempDir dir;
  dir.Write("arbiter.yaml", R"(
runtimes:
  dbx:
    type: databricks
    host: https://dbc-1.cloud.databricks.com
    token: dapi0123456789abcdef
    spark_version: 15.4.x-scala2.12
    staging: dbfs:/arbiter
)");
  for (auto args : {std::vector<std::string>{"check"}, {"check", "--json"}, {"assets"}}) {
    Output o = Run(args, dir.str());
    EXPECT_EQ(o.code, kExitFailure);
    EXPECT_THAT(o.err + o.out, HasSubstr("must reference a secret"));
    EXPECT_EQ((o.err + o.out).find("dapi0123"), std::string::npos) << o.err << o.out;
  }
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Run({}).code, kExitUsage);
  Output o = Run({"frobnicate"});
  EXPECT_EQ(o.code, kExitUsage);
  EXPECT_THAT(o.err, HasSubstr("arbiter --help"));
  EXPECT_EQ(Run({"partitions"}).code, kExitUsage);  // ASSET is required
  EXPECT_EQ(Run({"partitions", "a", "--limit", "-1"}).code, kExitUsage);
}

TEST_F(CliTest, HelpAndVersion) {
  Output help = Run({"--help"});
  EXPECT_EQ(help.code, kExitOk);
  EXPECT_THAT(help.out, HasSubstr("check"));
  EXPECT_THAT(help.out, HasSubstr("Exit codes"));
  Output sub = Run({"partitions", "--help"});
  EXPECT_EQ(sub.code, kExitOk);
  EXPECT_THAT(sub.out, HasSubstr("--from"));
  Output v = Run({"--version"});
  EXPECT_EQ(v.code, kExitOk);
  EXPECT_THAT(v.out, HasSubstr("arbiter 0.1.0"));
}

TEST_F(CliTest, InitCreatesAProjectThatChecksClean) {
  testing::TempDir dir;
  Output o = Run({"init", "newproj"}, dir.str());
  ASSERT_EQ(o.code, kExitOk) << o.err;
  Output check = Run({"-C", "newproj", "check"}, dir.str());
  EXPECT_EQ(check.code, kExitOk) << check.err;
  EXPECT_THAT(check.out, HasSubstr("2 assets, 1 runtime"));
  EXPECT_EQ(check.err, "");  // no warnings either
  Output again = Run({"init", "newproj"}, dir.str());
  EXPECT_EQ(again.code, kExitFailure);
  EXPECT_THAT(again.err, HasSubstr("already exists"));
  // The second suggested step works as printed.
  const std::string suggested = "materialize example/events --partition 2024-01-01";
  ASSERT_THAT(o.out, HasSubstr("arbiter -C " + (dir.path() / "newproj").string() + " " +
                               suggested));
  Output run = Run({"-C", "newproj", "materialize", "example/events", "--partition", "2024-01-01"},
                   dir.str());
  EXPECT_EQ(run.code, kExitOk) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("1 of 1 run(s) succeeded"));
}

// DATABRICKS_TOKEN unset is news only when Databricks is used: `check` lists
// it, other commands stay quiet about it.
TEST_F(CliTest, UnsetRuntimeSecretsWarnOnlyInCheck) {
  Output check = Run({"check", example_});
  EXPECT_THAT(check.err, HasSubstr("environment variable DATABRICKS_TOKEN is not set"));
  Output assets = Run({"-C", example_, "assets"});
  EXPECT_EQ(assets.code, kExitOk) << assets.err;
  EXPECT_EQ(assets.err.find("warning"), std::string::npos) << assets.err;
}

TEST_F(CliTest, CommandLineMistakesSayWhatIsWrong) {
  testing::TempDir dir;
  Output o = Run({"-C", "/nonexistent/dir", "assets"}, dir.str());
  EXPECT_EQ(o.code, kExitUsage);
  EXPECT_THAT(o.err, HasSubstr("error: -C /nonexistent/dir: no such directory"));
  o = Run({"materialize", "a/b", "-j", "0"}, dir.str());
  EXPECT_EQ(o.code, kExitUsage);
  EXPECT_THAT(o.err, HasSubstr("must be a whole number of at least 1, not '0'"));
  EXPECT_LT(o.err.size(), 200u) << o.err;  // not CLI11's 300-digit range
}

TEST_F(CliTest, NoProjectFound) {
  testing::TempDir dir;
  Output o = Run({"assets"}, dir.str());
  EXPECT_EQ(o.code, kExitFailure);
  EXPECT_THAT(o.err, HasSubstr("no arbiter.yaml in"));
}

// Issue 13 item 5: an unknown fixed runtime is a bad command line that names
// the runtimes there are.
TEST_F(CliTest, FixedPolicyNamesTheRuntimesThatExist) {
  const std::string dir = "examples/traces/families";
  for (std::vector<std::string> args :
       {std::vector<std::string>{"-C", dir, "plan", "crossover/tiny0", "--policy", "fixed:nope"},
        std::vector<std::string>{"-C", dir, "simulate", "--trace", "crossover.jsonl", "--policy",
                                 "fixed:nope"}}) {
    Output o = Run(args);
    EXPECT_EQ(o.code, kExitUsage) << o.err;
    EXPECT_THAT(o.err, HasSubstr("unknown runtime 'nope'"));
    EXPECT_THAT(o.err, HasSubstr("databricks, emr, emr-serverless"));
    EXPECT_EQ(o.out, "");
  }
}

TEST_F(CliTest, SimulateReportsRegretsExplorationAndChanges) {
  Output o = Run({"-C", "examples/traces/families", "--json", "simulate", "--trace", "shift.jsonl"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  nlohmann::json r = nlohmann::json::parse(o.out);
  EXPECT_EQ(r["records"], 1200);
  EXPECT_TRUE(r["catalog_only_usd"].is_number());
  EXPECT_LT(r["policy_usd"].get<double>(), r["catalog_only_usd"].get<double>());
  EXPECT_TRUE(r["regret_vs_best_single_pct"].is_number());
  EXPECT_GT(r["explored"].get<int>(), 0);
  EXPECT_TRUE(r["cost_error_median_pct"].is_number());
  ASSERT_FALSE(r["changes"].empty());  // EMR's spot prices double half way
  EXPECT_EQ(r["changes"][0]["runtime"], "emr");
  EXPECT_EQ(r["changes"][0]["what"], "cost");
  EXPECT_TRUE(r["asset_decisions"].contains("shift/job0"));
  // The same seed replays exactly; text output has the same figures.
  Output again = Run({"-C", "examples/traces/families", "--json", "simulate", "--trace", "shift.jsonl"});
  EXPECT_EQ(again.out, o.out);
  Output text = Run({"-C", "examples/traces/families", "simulate", "--trace", "shift.jsonl"});
  EXPECT_THAT(text.out, HasSubstr("catalog prices only, no exploration"));
  EXPECT_THAT(text.out, HasSubstr("detected changes: "));
  EXPECT_THAT(text.out, HasSubstr("sustained rise of cost"));
  // --explore 0: no exploring run.
  Output greedy = Run({"-C", "examples/traces/families", "--json", "simulate", "--trace",
                       "crossover.jsonl", "--explore", "0"});
  ASSERT_EQ(greedy.code, kExitOk) << greedy.err;
  EXPECT_EQ(nlohmann::json::parse(greedy.out)["explored"], 0);
}

TEST_F(CliTest, PlanShowsCostCalibrationOfEveryCandidate) {
  Output o = Run({"-C", "examples/traces/families", "--json", "plan", "crossover/tiny0"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  nlohmann::json p = nlohmann::json::parse(o.out);
  ASSERT_EQ(p["candidates"].size(), 3u);
  for (const auto& c : p["candidates"]) {
    EXPECT_DOUBLE_EQ(c["cost_calibration"]["factor"].get<double>(), 1.0);  // no runs: the catalog
    EXPECT_GT(c["cost_log_sd"].get<double>(), 0.5);
  }
  EXPECT_EQ(p["inputs"]["exploration_budget"], 0.05);  // the project's placement.explore_budget
}

}  // namespace
}  // namespace arbiter::cli
