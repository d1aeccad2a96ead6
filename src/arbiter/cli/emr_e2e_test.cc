// The example project end to end on emulated EMR and EMR Serverless (tools/emulators, a
// development and test tool) with s3rver as S3: the same definitions and job code as the
// local runtime, through `arbiter materialize --runtime emr|emr-serverless`. Cancel, a
// killed arbiter and every injected fault; each test validates every request body Arbiter
// sent against botocore's service models (tools/validate_aws_requests.py).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "arbiter/aws/s3rver_fixture.h"
#include "arbiter/cli/cli.h"
#include "arbiter/emr/aws_api_client.h"
#include "arbiter/emr/emulator_fixture.h"
#include "arbiter/http/curl_http_client.h"
#include "arbiter/runs/process.h"
#include "arbiter/storage/open_storage.h"
#include "arbiter/testing/temp_dir.h"
#include "arbiter/testing/wait_until.h"
#include "arbiter/testing/missing_dependency.h"

namespace arbiter::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

// One key pair for EMR, EMR Serverless and S3, as on AWS: s3rver's fixed test account.
constexpr const char* kKey = aws::testing::S3rver::kAccessKey;
constexpr const char* kSecret = aws::testing::S3rver::kSecretKey;
const std::string kNodesKey = "CC-MAIN-2024-10|seeds-a";

using arbiter::testing::WaitUntil;

std::string Python() {
  // The project virtualenv: pinned botocore for the emulators and the validator.
  return ARBITER_PYTHON3;
}

struct Output {
  int code;
  std::string out, err;
};

class EmrEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bool installed = false;
    std::string why;
    s3_ = aws::testing::S3rver::Start(&why, &installed);
    if (!s3_) {
      if (!installed) ARBITER_MISSING_DEPENDENCY("s3rver unavailable: " << why);
      FAIL() << why;
    }
    if (std::system((Python() + " -c 'import boto3, botocore' 2>/dev/null").c_str()) != 0) {
      ARBITER_MISSING_DEPENDENCY("boto3 is not importable by " << Python() << " (scripts/setup.sh installs it)");
    }
    fs::copy(fs::path(ARBITER_SOURCE_DIR) / "examples/commoncrawl", project_,
             fs::copy_options::recursive);
    fs::remove_all(project_ / ".arbiter");  // runs of the source tree's example are not ours
    record_ = (dir_.path() / "requests.jsonl").string();
    std::vector<std::string> common = {"--access-key",  kKey,
                                       "--secret-key",  kSecret,
                                       "--s3-endpoint", s3_->endpoint(),
                                       "--workdir",     project_.string(),
                                       "--state-dir",   (dir_.path() / "emulator").string(),
                                       "--record",      record_};
    std::vector<std::string> emr_args = common;
    emr_args.insert(emr_args.end(), {"--provision-delay", "0.1", "--bootstrap-delay", "0.05",
                                     "--terminate-delay", "0.05"});
    emr_ = emr::testing::EmulatorProcess::Start(Python(), "emr", emr_args, &why);
    ASSERT_TRUE(emr_) << why;
    serverless_ = emr::testing::EmulatorProcess::Start(Python(), "emr-serverless", common, &why);
    ASSERT_TRUE(serverless_) << why;
    WriteRuntimes();
    // Read through ${env:} references, and inherited by background arbiters.
    setenv("ARBITER_E2E_AWS_KEY", kKey, 1);
    setenv("ARBITER_E2E_AWS_SECRET", kSecret, 1);
    setenv("AWS_ENDPOINT_URL_S3", s3_->endpoint().c_str(), 1);
    setenv("ARBITER_POLL_INTERVAL_MS", "50", 1);
  }

  void TearDown() override {
    if (HasFatalFailure() || IsSkipped() || !fs::exists(record_)) return;
    // Every request body Arbiter sent, against the service models.
    std::string out = (dir_.path() / "validate.out").string();
    int rc = std::system((Python() + " " + ARBITER_SOURCE_DIR + "/tools/validate_aws_requests.py " +
                          record_ + " > " + out + " 2>&1")
                             .c_str());
    std::ifstream in(out);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(rc, 0) << ss.str();
    EXPECT_THAT(ss.str(), HasSubstr("validated "));
  }

  void WriteRuntimes(const std::string& existing_cluster = "") {
    std::ofstream(project_ / "runtimes.yaml")
        << R"(runtimes:
  local: {type: local, max_concurrency: 2}
  databricks:
    type: databricks
    host: https://dbc-00000000-0000.cloud.databricks.com
    token: ${env:DATABRICKS_TOKEN}
    spark_version: 15.4.x-scala2.12
    staging: dbfs:/arbiter/commoncrawl/staging
  emr:
    type: emr
    region: us-east-1
    release_label: emr-7.2.0
    staging: s3://test-bucket/staging
    log_uri: s3://test-bucket/logs
    subnets: [subnet-0123456789abcdef0]
    endpoint: )" +
               emr_->endpoint() +
               (existing_cluster.empty() ? "" : "\n    existing_cluster_id: " + existing_cluster) +
               R"(
    credentials:
      access_key_id: ${env:ARBITER_E2E_AWS_KEY}
      secret_access_key: ${env:ARBITER_E2E_AWS_SECRET}
    max_concurrency: 4
  emr-serverless:
    type: emr-serverless
    region: us-east-1
    application_id: 00fabcd1234efg09
    execution_role_arn: arn:aws:iam::123456789012:role/arbiter-emr-serverless
    staging: s3://test-bucket/staging
    log_uri: s3://test-bucket/logs
    endpoint: )" +
               serverless_->endpoint() + R"(
    credentials:
      access_key_id: ${env:ARBITER_E2E_AWS_KEY}
      secret_access_key: ${env:ARBITER_E2E_AWS_SECRET}
)";
  }

  // For tests whose point is the run lifecycle (faults, kill and re-attach, cancel, orphans,
  // an existing cluster) rather than Spark: every job of the copied project gets
  // `--engine python`, so the emulators still launch it through spark-submit, as the
  // services do, but no Spark session starts (on 2 cores that is most of a minute per run).
  // ExampleRunsOnEmrAndServerlessAsItDoesLocally keeps real Spark.
  void UsePythonEngine() {
    std::stringstream before;
    before << std::ifstream(project_ / "arbiter.yaml").rdbuf();
    const std::string after = std::regex_replace(
        before.str(), std::regex("args: \\[--input, data, --output, \\.arbiter/output\\]"),
        "args: [--input, data, --output, .arbiter/output, --engine, python]");
    ASSERT_NE(after, before.str()) << "the example's job args changed; update UsePythonEngine";
    std::ofstream(project_ / "arbiter.yaml") << after;
  }
  // The engine the latest materialization of `asset` reports ("pyspark" or "python").
  std::string EngineOf(const std::string& asset) {
    json mats = Json({"materializations", asset});
    if (mats.empty()) return "";
    return mats[0]["metadata"]["arbiter/engine"]["raw_value"].get<std::string>();
  }

  Output Run(std::vector<std::string> args) {
    std::ostringstream out, err;
    CliEnv env;
    env.clock = &clock_;
    env.cwd = project_.string();
    env.self_exe = ARBITER_EXE;
    int code = RunCli(args, out, err, env);
    return {code, out.str(), err.str()};
  }
  json Json(std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    Output o = Run(args);
    EXPECT_EQ(o.code, 0) << o.err;
    return json::parse(o.out, nullptr, false);
  }
  json LatestRun() {
    json runs = Json({"runs", "--limit", "1"});
    return runs.empty() ? json() : runs[0];
  }
  Output Materialize(const std::string& asset, const std::string& key, const std::string& runtime) {
    return Run({"materialize", asset, "-p", key, "--runtime", runtime});
  }
  std::optional<storage::CostRecord> CostOf(const std::string& run_id) {
    auto storage = storage::OpenStorage("", project_.string());
    if (!storage.ok()) return std::nullopt;
    auto cost = (*storage)->GetCostRecord(run_id);
    return cost.ok() ? *cost : std::nullopt;
  }
  // The ledger priced the run's reported usage and predicted every other allowed runtime.
  void ExpectPriced(const std::string& run_id, const std::vector<std::string>& others) {
    std::optional<storage::CostRecord> c = CostOf(run_id);
    ASSERT_TRUE(c.has_value()) << "no cost record for " << run_id;
    ASSERT_TRUE(c->actual_usd.has_value()) << c->counterfactuals.dump();
    EXPECT_GT(*c->actual_usd, 0) << c->counterfactuals.dump();
    for (const std::string& other : others) {
      ASSERT_TRUE(c->counterfactuals.contains(other)) << other << ": " << c->counterfactuals.dump();
      EXPECT_TRUE(c->counterfactuals[other]["usd"].is_number()) << c->counterfactuals.dump();
    }
  }
  json Usage(const std::string& run_id) {
    auto storage = storage::OpenStorage("", project_.string());
    if (!storage.ok()) return nullptr;
    auto cost = (*storage)->GetCostRecord(run_id);
    if (!cost.ok() || !cost->has_value()) return nullptr;
    return (**cost).usage;
  }
  std::string ExternalId(const std::string& run_id) {
    auto storage = storage::OpenStorage("", project_.string());
    if (!storage.ok()) return "";
    auto run = (*storage)->GetRun(run_id);
    return run.ok() ? run->external_id : "";
  }
  // A cluster made outside Arbiter's runs that stays up (KeepJobFlowAliveWhenNoSteps).
  std::string LongLivedCluster(const std::string& name, const json& tags) {
    aws::StaticCredentialsProvider creds({kKey, kSecret, "", std::nullopt});
    http::CurlHttpClient http;
    emr::AwsApiClient api(&http, &creds, &clock_,
                          {emr_->endpoint(), "us-east-1", "elasticmapreduce", "ElasticMapReduce"});
    json body = {
        {"Name", name},
        {"ReleaseLabel", "emr-7.2.0"},
        {"Instances",
         {{"KeepJobFlowAliveWhenNoSteps", true},
          {"InstanceFleets", json::array({{{"InstanceFleetType", "MASTER"},
                                           {"TargetOnDemandCapacity", 1},
                                           {"InstanceTypeConfigs",
                                            json::array({{{"InstanceType", "m5.xlarge"}}})}}})}}},
        {"Tags", tags}};
    auto r = api.Call("RunJobFlow", body, false);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? (*r)["JobFlowId"].get<std::string>() : "";
  }
  // The latest run of `asset` once its platform id is stored (its cluster exists); "" if never.
  std::string WaitForPlatformId(const std::string& asset) {
    std::string id;
    bool stored = WaitUntil([&] {
      json run = LatestRun();
      if (!run.is_object() || run["asset"] != asset) return false;
      id = run["run_id"];
      return !ExternalId(id).empty();
    });
    return stored ? id : "";
  }
  // Materializes `asset` (partition kNodesKey) on `runtime` in a separate arbiter, kills it
  // with SIGKILL once the platform id is stored, lets `arbiter runs` hand the run to a
  // background arbiter and waits for it to succeed. The run id, or "" after a failure.
  std::string KillArbiterMidRunAndRecover(const std::string& asset, const std::string& runtime) {
    // The project's storage exists before two processes use it: two arbiters creating a
    // new database at once can fail with "database is locked" (the switch to WAL), a storage
    // problem of its own that is not what this test is about.
    Output created = Run({"runs"});
    EXPECT_EQ(created.code, kExitOk) << created.err;
    if (created.code != kExitOk) return "";
    runs::SpawnSpec spec;
    spec.argv = {ARBITER_EXE, "-C",      project_.string(), "materialize", asset,
                 "-p",        kNodesKey, "--runtime",       runtime};
    spec.cwd = project_.string();
    for (char** e = environ; *e; ++e) spec.env.emplace_back(*e);
    spec.stdout_path = (dir_.path() / "arbiter.out").string();
    spec.stderr_path = (dir_.path() / "arbiter.err").string();
    auto arbiter = runs::SpawnProcess(spec);
    EXPECT_TRUE(arbiter.ok()) << arbiter.status().ToString();
    if (!arbiter.ok()) return "";
    const std::string id = WaitForPlatformId(asset);
    kill(static_cast<pid_t>(arbiter->pid), SIGKILL);
    int st = 0;
    waitpid(static_cast<pid_t>(arbiter->pid), &st, 0);
    EXPECT_FALSE(id.empty()) << "the platform id was never stored";
    if (id.empty()) return "";
    Output o = Run({"runs"});  // hands the orphaned run to a background arbiter
    EXPECT_THAT(o.err, HasSubstr("1 run(s) lost their arbiter"));
    const bool done =
        WaitUntil([&] { return LatestRun()["status"] == "SUCCESS"; }, std::chrono::seconds(90));
    EXPECT_TRUE(done) << LatestRun().dump() << Run({"logs", id}).out;
    return done ? id : "";
  }
  void Fault(emr::testing::EmulatorProcess& e, const json& faults) {
    ASSERT_FALSE(e.Admin("faults", faults.dump()).is_null());
  }
  // nodes for `key` on the local runtime: the input edges jobs read.
  void NodesLocally(const std::string& key) {
    Output o = Materialize("commoncrawl/nodes", key, "local");
    ASSERT_EQ(o.code, kExitOk) << o.err;
  }

  testing::TempDir dir_;
  fs::path project_ = dir_.path() / "commoncrawl";
  std::string record_;
  SystemClock clock_;
  std::unique_ptr<aws::testing::S3rver> s3_;
  std::unique_ptr<emr::testing::EmulatorProcess> emr_;
  std::unique_ptr<emr::testing::EmulatorProcess> serverless_;
};

TEST_F(EmrEndToEndTest, ExampleRunsOnEmrAndServerlessAsItDoesLocally) {
  // nodes on EMR Serverless, then edges (which reads those nodes) on EMR.
  Output o = Materialize("commoncrawl/nodes", kNodesKey, "emr-serverless");
  ASSERT_EQ(o.code, kExitOk) << o.out << o.err;
  json nodes_run = LatestRun();
  EXPECT_EQ(nodes_run["status"], "SUCCESS");
  EXPECT_EQ(nodes_run["runtime"], "emr-serverless");
  const json remote_nodes = Json({"materializations", "commoncrawl/nodes"})[0];
  const std::string remote_version = remote_nodes["data_version"];
  // EMR Serverless (emulated) ran the job with the real spark-submit of the virtualenv.
  EXPECT_EQ(remote_nodes["metadata"]["arbiter/engine"]["raw_value"], "pyspark")
      << remote_nodes.dump();

  o = Materialize("commoncrawl/edges", kNodesKey, "emr");
  ASSERT_EQ(o.code, kExitOk) << o.out << o.err;
  json edges_run = LatestRun();
  EXPECT_EQ(edges_run["status"], "SUCCESS") << edges_run.dump();
  const std::string edges_id = edges_run["run_id"];

  // Logs: the platform's states, the job's pipes logs and its stdout from the log bucket.
  o = Run({"logs", edges_id});
  EXPECT_THAT(o.out, HasSubstr("step s-"));
  EXPECT_THAT(o.out, HasSubstr("TERMINATED"));
  EXPECT_THAT(o.out, HasSubstr("commoncrawl/edges " + kNodesKey + ": "));  // pipes log line
  EXPECT_THAT(o.out, HasSubstr("stdout | {\"asset\": \"commoncrawl/edges\""));
  o = Run({"logs", nodes_run["run_id"]});
  EXPECT_THAT(o.out, HasSubstr("job run 00f"));
  EXPECT_THAT(o.out, HasSubstr("SUCCESS"));

  // Status and materializations, as for a local run.
  o = Run({"partitions", "commoncrawl/edges"});
  EXPECT_THAT(o.out, HasSubstr("materialized"));
  json mats = Json({"materializations", "commoncrawl/edges"});
  ASSERT_EQ(mats.size(), 1u);
  EXPECT_EQ(mats[0]["run_id"], edges_id);
  EXPECT_EQ(mats[0]["metadata"]["arbiter/engine"]["raw_value"], "pyspark") << mats[0].dump();

  // The same job, locally on the plain-Python engine (no spark-submit on this test's PATH),
  // computes the same rows, so the same data version as Spark did.
  o = Materialize("commoncrawl/nodes", kNodesKey, "local");
  ASSERT_EQ(o.code, kExitOk) << o.err;
  const json local_nodes = Json({"materializations", "commoncrawl/nodes"})[0];
  EXPECT_EQ(local_nodes["metadata"]["arbiter/engine"]["raw_value"], "python");
  EXPECT_EQ(local_nodes["data_version"], remote_version);

  // One cluster, gone; usage per fleet for the ledger.
  json state = emr_->Admin("state");
  ASSERT_EQ(state["clusters"].size(), 1u);
  EXPECT_EQ(state["clusters"][0]["Status"]["State"], "TERMINATED");
  EXPECT_EQ(state["counts"]["RunJobFlow"], 1);
  EXPECT_TRUE(state["live_processes"].empty());
  EXPECT_EQ(ExternalId(edges_id), state["clusters"][0]["Id"]);
  json usage = Usage(edges_id);
  ASSERT_TRUE(usage.is_object()) << "no usage stored";
  EXPECT_EQ(usage["runtime_type"], "emr");
  std::set<std::string> roles;
  for (const json& n : usage["nodes"]) {
    roles.insert(n["role"].get<std::string>());
    EXPECT_EQ(n["instance_type"], "r5.4xlarge");
    EXPECT_EQ(n["market"], n["role"] == "task" ? "SPOT" : "ON_DEMAND");
  }
  EXPECT_EQ(roles, (std::set<std::string>{"primary", "core", "task"}));
  EXPECT_TRUE(usage.contains("normalized_instance_hours"));
  json s_usage = Usage(nodes_run["run_id"]);
  ASSERT_TRUE(s_usage.is_object());
  EXPECT_GT(s_usage["vcpu_hours"].get<double>(), 0);
  EXPECT_GT(s_usage["memory_gb_hours"].get<double>(), 0);
  ExpectPriced(edges_id, {"local", "databricks", "emr-serverless"});
  ExpectPriced(nodes_run["run_id"], {"local", "databricks", "emr"});
}

TEST_F(EmrEndToEndTest, CancelTerminatesTheClusterAndLeavesNone) {
  UsePythonEngine();  // cancel while the cluster provisions: no job should run at all
  NodesLocally(kNodesKey);
  Fault(*emr_, {{"provision_delay", 30}});
  Output result;
  std::thread materialize([&] { result = Materialize("commoncrawl/edges", kNodesKey, "emr"); });
  const std::string id = WaitForPlatformId("commoncrawl/edges");
  ASSERT_FALSE(id.empty());
  Output c = Run({"cancel", id});
  materialize.join();
  EXPECT_EQ(c.code, kExitOk) << c.err;
  EXPECT_THAT(c.out, HasSubstr("CANCELED"));
  EXPECT_EQ(result.code, kExitFailure);
  json state = emr_->Admin("state");
  ASSERT_EQ(state["clusters"].size(), 1u);
  EXPECT_EQ(state["clusters"][0]["Status"]["State"], "TERMINATED");
  EXPECT_EQ(state["clusters"][0]["Status"]["StateChangeReason"]["Code"], "USER_REQUEST");
  EXPECT_GE(state["counts"]["TerminateJobFlows"].get<int>(), 1);
}

TEST_F(EmrEndToEndTest, KilledArbiterIsFollowedByANewOneWithoutASecondCluster) {
  UsePythonEngine();  // about re-attaching, not Spark
  NodesLocally(kNodesKey);
  Fault(*emr_, {{"provision_delay", 3}});
  const std::string id = KillArbiterMidRunAndRecover("commoncrawl/edges", "emr");
  ASSERT_FALSE(id.empty());
  EXPECT_THAT(Run({"logs", id}).out, HasSubstr("re-attached to cluster j-"));
  json state = emr_->Admin("state");
  EXPECT_EQ(state["counts"]["RunJobFlow"], 1);
  EXPECT_EQ(state["clusters"].size(), 1u);
  EXPECT_EQ(Json({"materializations", "commoncrawl/edges"}).size(), 1u);
  EXPECT_EQ(EngineOf("commoncrawl/edges"), "python");
}

TEST_F(EmrEndToEndTest, KilledArbiterIsFollowedWithoutASecondServerlessJobRun) {
  UsePythonEngine();  // about re-attaching, not Spark
  Fault(*serverless_, {{"provision_delay", 3}});
  const std::string id = KillArbiterMidRunAndRecover("commoncrawl/nodes", "emr-serverless");
  ASSERT_FALSE(id.empty());
  EXPECT_THAT(Run({"logs", id}).out, HasSubstr("re-attached to job run " + ExternalId(id)));
  json state = serverless_->Admin("state");
  EXPECT_EQ(state["counts"]["StartJobRun"], 1) << state.dump();
  EXPECT_EQ(state["job_runs"].size(), 1u);
  EXPECT_EQ(Json({"materializations", "commoncrawl/nodes"}).size(), 1u)
      << Json({"materializations", "commoncrawl/nodes"}).dump(1);
  EXPECT_EQ(EngineOf("commoncrawl/nodes"), "python");
}

TEST_F(EmrEndToEndTest, InjectedFaultsAreSurvivedOrReportedWithTheirReason) {
  const std::vector<std::string> keys = {"CC-MAIN-2024-10|seeds-a", "CC-MAIN-2024-10|seeds-b",
                                         "CC-MAIN-2024-18|seeds-a", "CC-MAIN-2024-18|seeds-b"};
  UsePythonEngine();  // about faults and their reasons, not Spark
  for (const auto& k : keys) NodesLocally(k);

  // Throttling and a burst of 500s: retried, the run succeeds.
  Fault(*emr_, {{"throttle_rate", 0.3}, {"error_burst", 3}});
  Output o = Materialize("commoncrawl/edges", keys[0], "emr");
  EXPECT_EQ(o.code, kExitOk) << o.err << Run({"logs", LatestRun()["run_id"]}).out;
  json faults = emr_->Admin("state")["faults"];
  EXPECT_GT(faults["injected"]["throttled"].get<int>(), 0);
  EXPECT_EQ(faults["injected"]["errors"], 3);
  Fault(*emr_, {{"throttle_rate", 0}});

  // A failing step: FailureDetails and the stderr tail from the log bucket.
  Fault(*emr_, {{"step_failure", {{"stderr", "java.lang.OutOfMemoryError: Java heap space"}}}});
  o = Materialize("commoncrawl/edges", keys[1], "emr");
  EXPECT_EQ(o.code, kExitFailure);
  json run = LatestRun();
  EXPECT_EQ(run["status"], "FAILURE");
  EXPECT_THAT(run["failure_reason"].get<std::string>(), HasSubstr("java.lang.OutOfMemoryError"));
  EXPECT_THAT(run["failure_reason"].get<std::string>(), HasSubstr("/steps/s-"));
  EXPECT_THAT(run["stderr_tail"].get<std::string>(), HasSubstr("Java heap space"));

  // Bootstrap failure: the cluster's own reason.
  Fault(*emr_, {{"bootstrap_failure", true}});
  o = Materialize("commoncrawl/edges", keys[2], "emr");
  EXPECT_EQ(o.code, kExitFailure);
  EXPECT_THAT(LatestRun()["failure_reason"].get<std::string>(), HasSubstr("BOOTSTRAP_FAILURE"));

  // Spot task nodes lost mid-run: the run carries on, and usage says so.
  Fault(*emr_, {{"spot_loss", "task"}});
  o = Materialize("commoncrawl/edges", keys[3], "emr");
  EXPECT_EQ(o.code, kExitOk) << o.err;
  json usage = Usage(LatestRun()["run_id"]);
  ASSERT_TRUE(usage.is_object());
  EXPECT_EQ(usage["spot_interrupted"], true);
  EXPECT_EQ(EngineOf("commoncrawl/edges"), "python");

  // The whole cluster lost: reported with the platform's reason.
  Fault(*emr_, {{"spot_loss", "cluster"}});
  o = Materialize("commoncrawl/edges", keys[3], "emr");
  EXPECT_EQ(o.code, kExitFailure);
  EXPECT_THAT(LatestRun()["failure_reason"].get<std::string>(), HasSubstr("INSTANCE_FAILURE"));

  // EMR Serverless: a failing job run keeps the service's state details.
  Fault(*serverless_, {{"job_failure", {{"stderr", "Exception in thread main: boom"}}}});
  o = Materialize("commoncrawl/nodes", keys[0], "emr-serverless");
  EXPECT_EQ(o.code, kExitFailure);
  run = LatestRun();
  EXPECT_THAT(run["failure_reason"].get<std::string>(), HasSubstr("boom"));
  EXPECT_THAT(run["stderr_tail"].get<std::string>(), HasSubstr("boom"));

  // No cluster is left behind by any of it.
  const json final_state = emr_->Admin("state");
  for (const json& c : final_state["clusters"]) {
    EXPECT_THAT(c["Status"]["State"].get<std::string>(), HasSubstr("TERMINATED"));
  }
}

TEST_F(EmrEndToEndTest, OrphansAreClustersOfEndedOrUnknownRunsOfThisProject) {
  UsePythonEngine();  // about clusters left running, not Spark
  NodesLocally(kNodesKey);
  Output o = Materialize("commoncrawl/edges", kNodesKey, "emr");  // a finished run, cluster gone
  ASSERT_EQ(o.code, kExitOk) << o.err;
  const std::string finished = LatestRun()["run_id"];
  // Clusters left running: one for that finished run, one for a run this storage never saw,
  // one of another project and one not made by Arbiter.
  auto make = [&](const std::string& name, json tags) { return LongLivedCluster(name, tags); };
  auto tags = [](const std::string& run, const std::string& project) {
    return json::array({{{"Key", "arbiter:run-id"}, {"Value", run}},
                        {{"Key", "arbiter:project"}, {"Value", project}}});
  };
  const std::string of_finished = make("arbiter " + finished + " x", tags(finished, "commoncrawl"));
  const std::string of_unknown =
      make("arbiter 0123456789abcdef x", tags("0123456789abcdef", "commoncrawl"));
  const std::string other_project =
      make("arbiter fedcba9876543210 x", tags("fedcba9876543210", "other"));
  const std::string not_ours = make("nightly-etl", json::array());

  json listed = Json({"runtimes", "orphans"});
  std::set<std::string> ids;
  for (const json& r : listed) ids.insert(r["cluster_id"].get<std::string>());
  EXPECT_EQ(ids, (std::set<std::string>{of_finished, of_unknown})) << listed.dump();
  for (const json& r : listed) {
    EXPECT_EQ(r["why"], r["cluster_id"] == of_finished ? "run ended SUCCESS"
                                                       : "run unknown to this project's storage");
  }
  o = Run({"runtimes", "orphans", "--terminate"});
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_THAT(o.out, HasSubstr("terminating"));
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::map<std::string, std::string> state;
        const json now = emr_->Admin("state");
        for (const json& c : now["clusters"])
          state[c["Id"].get<std::string>()] = c["Status"]["State"].get<std::string>();
        return state[of_finished] == "TERMINATED" && state[of_unknown] == "TERMINATED";
      },
      std::chrono::seconds(10)))
      << emr_->Admin("state").dump();
  std::map<std::string, std::string> state;
  const json after = emr_->Admin("state");
  for (const json& c : after["clusters"])
    state[c["Id"].get<std::string>()] = c["Status"]["State"].get<std::string>();
  EXPECT_EQ(state[other_project], "WAITING");
  EXPECT_EQ(state[not_ours], "WAITING");
  EXPECT_THAT(Run({"runtimes", "orphans"}).out, HasSubstr("no orphaned clusters"));
}

TEST_F(EmrEndToEndTest, ExistingClusterRunsAStepAndStaysUp) {
  UsePythonEngine();  // about a step on a shared cluster, not Spark
  NodesLocally(kNodesKey);
  const std::string shared = LongLivedCluster("nightly shared cluster", json::array());
  ASSERT_FALSE(shared.empty());
  WriteRuntimes(shared);
  Output o = Materialize("commoncrawl/edges", kNodesKey, "emr");
  ASSERT_EQ(o.code, kExitOk) << o.err << Run({"logs", LatestRun()["run_id"]}).out;
  const std::string id = LatestRun()["run_id"];
  EXPECT_EQ(ExternalId(id), shared);
  json state = emr_->Admin("state");
  EXPECT_EQ(state["counts"]["AddJobFlowSteps"], 1);
  EXPECT_EQ(state["counts"]["RunJobFlow"], 1);  // only the test's own cluster
  ASSERT_EQ(state["clusters"].size(), 1u);
  EXPECT_EQ(state["clusters"][0]["Status"]["State"], "WAITING");  // shared: left running
  EXPECT_EQ(state["clusters"][0]["Steps"][0]["Status"]["State"], "COMPLETED");
  EXPECT_EQ(Json({"materializations", "commoncrawl/edges"})[0]["run_id"], id);
  EXPECT_EQ(EngineOf("commoncrawl/edges"), "python");
  json usage = Usage(id);
  ASSERT_TRUE(usage.is_object());
  EXPECT_EQ(usage["details"]["shared_cluster"], true);
  EXPECT_TRUE(usage["nodes"].empty());
}

}  // namespace
}  // namespace arbiter::cli
