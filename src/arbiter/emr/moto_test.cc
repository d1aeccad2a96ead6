// Arbiter's EMR, EMR Serverless and S3 clients against two independent implementations of
// those APIs: moto (pinned in requirements/dev.txt, run by tools/moto-server) and our own
// loopback emulators. Each scenario asserts what AWS documents, on both servers, so a
// disagreement shows which one (or our client) is wrong. docs/emr.md lists what moto does
// not model.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "arbiter/aws/credentials.h"
#include "arbiter/aws/s3_blob_store.h"
#include "arbiter/aws/s3_client.h"
#include "arbiter/aws/s3rver_fixture.h"
#include "arbiter/common/clock.h"
#include "arbiter/emr/aws_api_client.h"
#include "arbiter/emr/emulator_fixture.h"
#include "arbiter/emr/job_requests.h"
#include "arbiter/http/curl_http_client.h"
#include "arbiter/testing/missing_dependency.h"
#include "arbiter/testing/server_process.h"

namespace arbiter::emr {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kAccessKey = "AKIDMOTOTEST";
constexpr const char* kSecretKey = "moto-and-emulator-secret";
constexpr const char* kEmulatorApplication = "00fabcd1234efg09";

// One server for all three services (moto) or one of ours per service (emulators, s3rver).
struct Backend {
  std::string emr, serverless, s3;
  std::unique_ptr<arbiter::testing::ServerProcess> moto;
  std::unique_ptr<testing::EmulatorProcess> emr_emulator, serverless_emulator;
  std::unique_ptr<aws::testing::S3rver> s3rver;
};

bool StartBackend(const std::string& name, Backend* b, std::string* why) {
  if (name == "moto") {
    arbiter::testing::ServerProcess::Options o;
    o.name = "moto";
    o.argv = {ARBITER_PYTHON3, std::string(ARBITER_SOURCE_DIR) + "/tools/moto-server"};
    o.port_marker = "listening on http://127.0.0.1:";
    b->moto = arbiter::testing::ServerProcess::Start(o, why);
    if (!b->moto) return false;
    b->emr = b->serverless = b->s3 = "http://127.0.0.1:" + std::to_string(b->moto->port());
    return true;
  }
  const std::vector<std::string> keys = {"--access-key", kAccessKey, "--secret-key", kSecretKey,
                                         "--workdir", "/tmp"};
  b->emr_emulator = testing::EmulatorProcess::Start(ARBITER_PYTHON3, "emr", keys, why);
  if (!b->emr_emulator) return false;
  std::vector<std::string> serverless_args = keys;
  serverless_args.insert(serverless_args.end(), {"--application", kEmulatorApplication});
  b->serverless_emulator =
      testing::EmulatorProcess::Start(ARBITER_PYTHON3, "emr-serverless", serverless_args, why);
  if (!b->serverless_emulator) return false;
  bool installed = false;
  b->s3rver = aws::testing::S3rver::Start(why, &installed);
  if (!b->s3rver) return false;
  b->emr = b->emr_emulator->endpoint();
  b->serverless = b->serverless_emulator->endpoint();
  b->s3 = b->s3rver->endpoint();
  return true;
}

class AwsPeersTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string why;
    if (!StartBackend(GetParam(), &backend_, &why)) {
      ARBITER_MISSING_DEPENDENCY(GetParam() << " did not start: " << why);
    }
    emr_ = std::make_unique<AwsApiClient>(
        &http_, &creds_, &clock_,
        AwsApiOptions{backend_.emr, "us-east-1", "elasticmapreduce", "ElasticMapReduce"});
    serverless_ = std::make_unique<AwsApiClient>(
        &http_, &creds_, &clock_, AwsApiOptions{backend_.serverless, "us-east-1", "emr-serverless", ""});
    // Secret keys are the s3rver's own for the emulator backend (it checks them).
    s3_options_.endpoint = backend_.s3;
    s3_options_.path_style = true;
    s3_ = std::make_unique<aws::S3Client>(&http_, GetParam() == "moto" ? &creds_ : &s3rver_creds_,
                                          &clock_, s3_options_);

    project_.name = "peers";
    runtime_.name = "emr";
    runtime_.type = definitions::RuntimeType::kEmr;
    runtime_.emr.release_label = "emr-7.2.0";
    runtime_.emr.aws.region = "us-east-1";
    runtime_.emr.aws.log_uri = "s3://logs/emr";
    runtime_.emr_serverless.execution_role_arn = "arn:aws:iam::123456789012:role/arbiter";
    runtime_.emr_serverless.release_label = "emr-7.2.0";
    asset_.key = *definitions::AssetKey::Parse("graph/edges");
    asset_.job.kind = definitions::JobKind::kPySpark;
    asset_.job.script = "jobs/edges.py";
    asset_.compute.workers = 4;
    request_.project = &project_;
    request_.asset = &asset_;
    request_.runtime = &runtime_;
    request_.run.run_id = "0123456789abcdef";
    request_.run.asset_key = "graph/edges";
    request_.run.partition_key = "2024-01|a";
    plan_.request = &request_;
    plan_.code = {"s3://stage/code/aa/edges.py", {"s3://stage/code/bb/ccgraph.py"}, 0};
    plan_.env = {{"ARBITER_RUN_ID", "0123456789abcdef"}};
    plan_.instances = {{"m5.xlarge"}, {"r5.4xlarge", "r5a.4xlarge"}};
  }

  std::string ServerlessApplication() {
    if (GetParam() != "moto") return kEmulatorApplication;  // the emulator's are given at start
    auto created = serverless_->Rest(
        "CreateApplication", "POST", "/applications",
        {{"name", "arbiter-peers"}, {"releaseLabel", "emr-7.2.0"}, {"type", "SPARK"},
         {"clientToken", "peers-app"}},
        false);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? (*created)["applicationId"].get<std::string>() : "";
  }

  Backend backend_;
  http::CurlHttpClient http_;
  SystemClock clock_;
  aws::StaticCredentialsProvider creds_{{kAccessKey, kSecretKey, "", std::nullopt}};
  aws::StaticCredentialsProvider s3rver_creds_{
      {aws::testing::S3rver::kAccessKey, aws::testing::S3rver::kSecretKey, "", std::nullopt}};
  aws::S3Options s3_options_;
  std::unique_ptr<AwsApiClient> emr_, serverless_;
  std::unique_ptr<aws::S3Client> s3_;
  definitions::Project project_;
  definitions::RuntimeConfig runtime_;
  definitions::AssetDef asset_;
  runs::RunRequest request_;
  JobPlan plan_;
};

TEST_P(AwsPeersTest, TransientClusterIsCreatedTaggedListedStepsAddedAndTerminated) {
  auto created = emr_->Call("RunJobFlow", BuildRunJobFlow(plan_), false);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string id = (*created)["JobFlowId"];
  EXPECT_EQ(id.rfind("j-", 0), 0u) << id;

  auto described = emr_->Call("DescribeCluster", {{"ClusterId", id}}, true);
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  const json& cluster = (*described)["Cluster"];
  EXPECT_EQ(cluster["Id"], id);
  EXPECT_EQ(cluster["Name"], "arbiter 0123456789abcdef graph/edges 2024-01|a");
  EXPECT_EQ(cluster["ReleaseLabel"], "emr-7.2.0");
  // moto 5.2.5 gap (docs/emr.md): it leaves InstanceCollectionType out and answers
  // ListInstanceFleets with a 500; our emulator models both as AWS documents.
  const bool moto = GetParam() == "moto";
  if (!moto) {
    EXPECT_EQ(cluster["InstanceCollectionType"], "INSTANCE_FLEET");
  }
  std::map<std::string, std::string> tags;
  for (const json& t : cluster["Tags"]) tags[t["Key"]] = t["Value"];
  EXPECT_EQ(tags[kRunIdTag], "0123456789abcdef");  // how a restarted arbiter finds it

  // Listed among active clusters, as orphan detection expects.
  auto listed = emr_->Call(
      "ListClusters",
      {{"ClusterStates", json::array({"STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING"})}}, true);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::set<std::string> ids;
  for (const json& c : (*listed)["Clusters"]) ids.insert(c["Id"]);
  EXPECT_TRUE(ids.count(id)) << listed->dump();

  if (!moto) {
    auto fleets = emr_->Call("ListInstanceFleets", {{"ClusterId", id}}, true);
    ASSERT_TRUE(fleets.ok()) << fleets.status().ToString();
    std::set<std::string> types;
    for (const json& f : (*fleets)["InstanceFleets"]) types.insert(f["InstanceFleetType"]);
    EXPECT_EQ(types, (std::set<std::string>{"MASTER", "CORE", "TASK"}));
  }

  auto added = emr_->Call("AddJobFlowSteps", BuildAddJobFlowSteps(plan_, id), false);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  ASSERT_EQ((*added)["StepIds"].size(), 1u);
  const std::string step = (*added)["StepIds"][0];
  auto steps = emr_->Call("ListSteps", {{"ClusterId", id}}, true);
  ASSERT_TRUE(steps.ok()) << steps.status().ToString();
  std::set<std::string> step_ids;
  for (const json& s : (*steps)["Steps"]) step_ids.insert(s["Id"]);
  EXPECT_TRUE(step_ids.count(step));
  auto one_step = emr_->Call("DescribeStep", {{"ClusterId", id}, {"StepId", step}}, true);
  ASSERT_TRUE(one_step.ok()) << one_step.status().ToString();
  EXPECT_EQ((*one_step)["Step"]["Config"]["Jar"], "command-runner.jar");

  ASSERT_TRUE(emr_->Call("TerminateJobFlows", {{"JobFlowIds", json::array({id})}}, true).ok());
  auto after = emr_->Call("DescribeCluster", {{"ClusterId", id}}, true);
  ASSERT_TRUE(after.ok());
  const std::string state = (*after)["Cluster"]["Status"]["State"];
  EXPECT_TRUE(state == "TERMINATING" || state == "TERMINATED") << state;
}

TEST_P(AwsPeersTest, UnknownClusterIsAnInvalidRequest) {
  // AWS answers DescribeCluster for an id it does not know with InvalidRequestException.
  auto missing = emr_->Call("DescribeCluster", {{"ClusterId", "j-NOSUCHCLUSTER0"}}, true);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument) << missing.status().ToString();
  EXPECT_THAT(missing.status().message(), HasSubstr("InvalidRequestException"));
}

TEST_P(AwsPeersTest, ServerlessJobRunIsStartedDescribedListedAndCancelled) {
  const std::string app = ServerlessApplication();
  ASSERT_FALSE(app.empty());
  runtime_.emr_serverless.application_id = app;
  auto started = serverless_->Rest("StartJobRun", "POST", "/applications/" + app + "/jobruns",
                                   BuildStartJobRun(plan_), false);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ((*started)["applicationId"], app);
  const std::string run = (*started)["jobRunId"];
  const std::string path = "/applications/" + app + "/jobruns/" + run;

  auto got = serverless_->Rest("GetJobRun", "GET", path, nullptr, true);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  const json& job_run = (*got)["jobRun"];
  EXPECT_EQ(job_run["jobRunId"], run);
  EXPECT_EQ(job_run["executionRole"], "arn:aws:iam::123456789012:role/arbiter");
  EXPECT_EQ(job_run["jobDriver"]["sparkSubmit"]["entryPoint"], "s3://stage/code/aa/edges.py");
  EXPECT_EQ(job_run["tags"][kRunIdTag], "0123456789abcdef");

  auto listed = serverless_->Rest("ListJobRuns", "GET", "/applications/" + app + "/jobruns",
                                  nullptr, true);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::set<std::string> runs;
  for (const json& r : (*listed)["jobRuns"]) runs.insert(r["id"]);
  EXPECT_TRUE(runs.count(run)) << listed->dump();

  auto cancelled = serverless_->Rest("CancelJobRun", "DELETE", path, nullptr, true);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  auto after = serverless_->Rest("GetJobRun", "GET", path, nullptr, true);
  ASSERT_TRUE(after.ok());
  const std::string state = (*after)["jobRun"]["state"];
  EXPECT_TRUE(state == "CANCELLING" || state == "CANCELLED") << state;

  auto missing = serverless_->Rest("GetJobRun", "GET", "/applications/" + app + "/jobruns/nope",
                                   nullptr, true);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
}

TEST_P(AwsPeersTest, S3ObjectsAndPipesChunksRoundTrip) {
  ASSERT_TRUE(s3_->CreateBucket("peers-bucket").ok());
  ASSERT_TRUE(s3_->PutObject("peers-bucket", "code/a/job.py", "print('hi')\n").ok());
  auto got = s3_->GetObject("peers-bucket", "code/a/job.py");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "print('hi')\n");
  auto head = s3_->HeadObject("peers-bucket", "code/a/job.py");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size, 12u);
  EXPECT_EQ(s3_->HeadObject("peers-bucket", "code/none.py").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s3_->GetObject("peers-bucket", "code/none.py").status().code(), StatusCode::kNotFound);

  // The pipes-over-S3 store: chunks listed in key order across pages, then deleted.
  aws::S3BlobStore store(s3_.get(), "peers-bucket", s3_options_);
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(store.Put("runs/r1/messages/" + std::to_string(i) + ".json", "{}\n").ok());
  }
  auto keys = store.List("runs/r1/messages");
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->size(), 3u);
  auto one = store.Get("runs/r1/messages/2.json");
  ASSERT_TRUE(one.ok() && one->has_value());
  EXPECT_EQ(**one, "{}\n");
  auto none = store.Get("runs/r1/messages/9.json");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  for (const std::string& k : *keys) ASSERT_TRUE(store.Delete(k).ok());
  auto after = store.List("runs/r1/messages");
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->empty());

  aws::ListRequest page;
  page.prefix = "code/";
  page.max_keys = 1;
  ASSERT_TRUE(s3_->PutObject("peers-bucket", "code/b/x.py", "x").ok());
  auto first = s3_->ListObjectsV2("peers-bucket", page);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->objects.size(), 1u);
  ASSERT_TRUE(first->next_continuation_token.has_value());
  page.continuation_token = *first->next_continuation_token;
  auto second = s3_->ListObjectsV2("peers-bucket", page);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->objects.size(), 1u);
  EXPECT_NE(first->objects[0].key, second->objects[0].key);
}

INSTANTIATE_TEST_SUITE_P(Servers, AwsPeersTest, ::testing::Values("moto", "emulators"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace arbiter::emr
