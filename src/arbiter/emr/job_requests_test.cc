// The compute spec → EMR / EMR Serverless request mapping, without any I/O.
#include "arbiter/emr/job_requests.h"
#include "arbiter/emr/remote_follower.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace arbiter::emr {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class JobRequestsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    project_.name = "demo";
    runtime_.name = "emr";
    runtime_.type = definitions::RuntimeType::kEmr;
    runtime_.emr.release_label = "emr-7.2.0";
    runtime_.emr.aws.region = "us-east-1";
    runtime_.emr.aws.log_uri = "s3://logs/emr";
    runtime_.emr.subnets = {"subnet-0123456789abcdef0"};
    runtime_.emr_serverless.execution_role_arn = "arn:aws:iam::123456789012:role/r";
    runtime_.emr_serverless.aws.log_uri = "s3://logs/emrs";
    asset_.key = *definitions::AssetKey::Parse("graph/edges");
    asset_.job.kind = definitions::JobKind::kPySpark;
    asset_.job.script = "jobs/edges.py";
    asset_.job.args = {"--input", "data"};
    asset_.compute.workers = 8;
    asset_.tags = {{"team", "graph|web"}};
    request_.project = &project_;
    request_.asset = &asset_;
    request_.runtime = &runtime_;
    request_.run.run_id = "0123456789abcdef";
    request_.run.asset_key = "graph/edges";
    request_.run.partition_key = "2024-01|a";
    plan_.request = &request_;
    plan_.code = {"s3://stage/code/aa/edges.py",
                  {"s3://stage/code/bb/ccgraph.py", "s3://stage/code/cc/arbiter_pipes.py"},
                  0};
    plan_.env = {{"DAGSTER_PIPES_CONTEXT", "eJxx"}, {"ARBITER_RUN_ID", "0123456789abcdef"}};
    plan_.instances = {{"m5.xlarge"}, {"r5.4xlarge", "r5a.4xlarge"}};
  }

  definitions::Project project_;
  definitions::RuntimeConfig runtime_;
  definitions::AssetDef asset_;
  runs::RunRequest request_;
  JobPlan plan_;
};

json Fleet(const json& body, const std::string& type) {
  for (const json& f : body["Instances"]["InstanceFleets"]) {
    if (f["InstanceFleetType"] == type) return f;
  }
  return nullptr;
}

TEST_F(JobRequestsTest, TransientClusterHasOnDemandPrimaryAndCoreAndSpotTasks) {
  json body = BuildRunJobFlow(plan_);
  EXPECT_EQ(body["Name"], "arbiter 0123456789abcdef graph/edges 2024-01|a");
  EXPECT_EQ(body["ReleaseLabel"], "emr-7.2.0");
  EXPECT_EQ(body["LogUri"], "s3://logs/emr");
  EXPECT_EQ(body["Instances"]["KeepJobFlowAliveWhenNoSteps"], false);
  EXPECT_EQ(body["Instances"]["Ec2SubnetIds"][0], "subnet-0123456789abcdef0");
  EXPECT_EQ(body["AutoTerminationPolicy"]["IdleTimeout"], 600);
  json primary = Fleet(body, "MASTER"), core = Fleet(body, "CORE"), task = Fleet(body, "TASK");
  EXPECT_EQ(primary["TargetOnDemandCapacity"], 1);
  EXPECT_EQ(primary["InstanceTypeConfigs"][0]["InstanceType"], "m5.xlarge");
  EXPECT_EQ(core["TargetOnDemandCapacity"], 2);  // a quarter of 8 workers
  EXPECT_FALSE(core.contains("TargetSpotCapacity"));
  EXPECT_EQ(task["TargetSpotCapacity"], 6);
  EXPECT_EQ(task["InstanceTypeConfigs"].size(), 2u);
  const json& spot = task["LaunchSpecifications"]["SpotSpecification"];
  EXPECT_EQ(spot["TimeoutAction"], "SWITCH_TO_ON_DEMAND");
  EXPECT_EQ(spot["AllocationStrategy"], "price-capacity-optimized");
  EXPECT_EQ(spot["TimeoutDurationMinutes"], 10);
  // Tags carry the run, asset and partition (with characters AWS refuses replaced).
  std::map<std::string, std::string> tags;
  for (const json& t : body["Tags"]) tags[t["Key"]] = t["Value"];
  EXPECT_EQ(tags["arbiter:run-id"], "0123456789abcdef");
  EXPECT_EQ(tags["arbiter:partition"], "2024-01_a");
  EXPECT_EQ(tags["team"], "graph_web");
}

TEST_F(JobRequestsTest, SparkConfigurationKeepsTheDriverOnCoreAndOneAttempt) {
  asset_.overrides["emr"].spark_conf = {{"spark.sql.shuffle.partitions", "2000"}};
  json body = BuildRunJobFlow(plan_);
  std::map<std::string, json> conf;
  for (const json& c : body["Configurations"]) conf[c["Classification"]] = c["Properties"];
  EXPECT_EQ(conf["spark"]["maximizeResourceAllocation"], "true");
  EXPECT_EQ(conf["spark-defaults"]["spark.yarn.maxAppAttempts"], "1");
  EXPECT_EQ(conf["spark-defaults"]["spark.sql.shuffle.partitions"], "2000");
  EXPECT_EQ(conf["spark-defaults"]["spark.yarn.appMasterEnv.DAGSTER_PIPES_CONTEXT"], "eJxx");
  EXPECT_EQ(conf["spark-defaults"]["spark.executorEnv.ARBITER_RUN_ID"], "0123456789abcdef");
  EXPECT_EQ(conf["yarn-site"]["yarn.node-labels.am.default-node-label-expression"], "CORE");
  const json& step = body["Steps"][0];
  EXPECT_EQ(step["ActionOnFailure"], "TERMINATE_CLUSTER");
  EXPECT_EQ(step["HadoopJarStep"]["Jar"], "command-runner.jar");
  EXPECT_EQ(step["HadoopJarStep"]["Args"],
            json({"spark-submit", "--deploy-mode", "cluster", "--py-files",
                  "s3://stage/code/bb/ccgraph.py,s3://stage/code/cc/arbiter_pipes.py", "--conf",
                  "spark.sql.shuffle.partitions=2000", "s3://stage/code/aa/edges.py", "--input",
                  "data"}));
}

TEST_F(JobRequestsTest, NoSpotMeansAllCoreAndAutoscalingAddsManagedScaling) {
  asset_.compute.spot = false;
  json body = BuildRunJobFlow(plan_);
  EXPECT_EQ(Fleet(body, "CORE")["TargetOnDemandCapacity"], 8);
  EXPECT_TRUE(Fleet(body, "TASK").is_null());
  EXPECT_FALSE(body.contains("ManagedScalingPolicy"));
  asset_.compute.spot = true;
  asset_.compute.max_workers = 32;
  body = BuildRunJobFlow(plan_);
  const json& limits = body["ManagedScalingPolicy"]["ComputeLimits"];
  EXPECT_EQ(limits["MinimumCapacityUnits"], 8);
  EXPECT_EQ(limits["MaximumCapacityUnits"], 32);
  EXPECT_EQ(limits["MaximumOnDemandCapacityUnits"], 2);
  asset_.compute.workers = 1;
  EXPECT_EQ(SplitWorkers(asset_.compute, runtime_.emr).core, 1);
  EXPECT_EQ(SplitWorkers(asset_.compute, runtime_.emr).task, 0);
}

TEST_F(JobRequestsTest, ExistingClusterStepCarriesTheEnvironmentAsConf) {
  json body = BuildAddJobFlowSteps(plan_, "j-ABC");
  EXPECT_EQ(body["JobFlowId"], "j-ABC");
  const json& step = body["Steps"][0];
  EXPECT_EQ(step["ActionOnFailure"], "CONTINUE");  // a shared cluster survives our failures
  EXPECT_EQ(step["Name"], RunResourceName(request_.run));
  std::string args = step["HadoopJarStep"]["Args"].dump();
  EXPECT_THAT(args, HasSubstr("spark.yarn.appMasterEnv.DAGSTER_PIPES_CONTEXT=eJxx"));
}

TEST_F(JobRequestsTest, ServerlessSizesRoundUpToAllowedWorkers) {
  EXPECT_EQ(ServerlessWorker({}, {4, 16}).vcpu, 4);
  auto w = ServerlessWorker({3.0, 48.0}, {4, 16});  // 4 vCPU allow at most 30 GB
  EXPECT_EQ(w.vcpu, 8);
  EXPECT_EQ(w.memory_gb, 48);
  w = ServerlessWorker({3.0, 64.0}, {4, 16});  // and 8 vCPU at most 60 GB
  EXPECT_EQ(w.vcpu, 16);
  EXPECT_EQ(w.memory_gb, 64);
  w = ServerlessWorker({16.0, 4.0}, {4, 16});  // too little memory for 16 vCPU: the minimum
  EXPECT_EQ(w.vcpu, 16);
  EXPECT_EQ(w.memory_gb, 32);
  w = ServerlessWorker({64.0, 500.0}, {4, 16});  // the largest there is
  EXPECT_EQ(w.vcpu, 16);
  EXPECT_EQ(w.memory_gb, 120);
}

TEST_F(JobRequestsTest, StartJobRunUsesTheRunIdAsClientTokenAndDriverEnv) {
  asset_.compute.worker = {8.0, 32.0};
  asset_.compute.max_duration = std::chrono::seconds(3601);
  json body = BuildStartJobRun(plan_);
  EXPECT_EQ(body["clientToken"], "0123456789abcdef");
  EXPECT_EQ(body["executionRoleArn"], "arn:aws:iam::123456789012:role/r");
  EXPECT_EQ(body["executionTimeoutMinutes"], 61);
  EXPECT_EQ(body["jobDriver"]["sparkSubmit"]["entryPoint"], "s3://stage/code/aa/edges.py");
  EXPECT_EQ(body["jobDriver"]["sparkSubmit"]["entryPointArguments"], json({"--input", "data"}));
  EXPECT_EQ(body["configurationOverrides"]["monitoringConfiguration"]["s3MonitoringConfiguration"]
                ["logUri"],
            "s3://logs/emrs");
  std::string params = body["jobDriver"]["sparkSubmit"]["sparkSubmitParameters"];
  EXPECT_THAT(params, HasSubstr("--conf spark.executor.cores=8"));
  EXPECT_THAT(params, HasSubstr("--conf spark.executor.memory=29g"));  // 32 GB less overhead
  EXPECT_THAT(params, HasSubstr("--conf spark.executor.instances=8"));
  EXPECT_THAT(params, HasSubstr("--conf spark.submit.pyFiles=s3://stage/code/bb/ccgraph.py,"));
  EXPECT_THAT(params,
              HasSubstr("--conf spark.emr-serverless.driverEnv.DAGSTER_PIPES_CONTEXT=eJxx"));
}

TEST_F(JobRequestsTest, NamesAndTagValuesStayWithinWhatAwsAccepts) {
  request_.run.partition_key = std::string(300, 'k');
  EXPECT_EQ(RunResourceName(request_.run).size(), 256u);
  EXPECT_EQ(RunResourceName(request_.run).rfind("arbiter 0123456789abcdef ", 0), 0u);
  EXPECT_EQ(TagValue("a|b\tc/d=e"), "a_b_c/d=e");
}

// A resolved secret never goes into a step's arguments or a job driver: the job
// env refuses it before anything is submitted and says what to use instead.
TEST_F(JobRequestsTest, JobEnvRefusesResolvedSecretsForEmr) {
  definitions::Environment env;
  env.get_env = [](const std::string&) { return std::optional<std::string>("s3cr3t"); };
  request_.env = &env;
  asset_.job.env["MODE"] = *definitions::ConfigString::Parse("fast");
  auto ok = JobEnvironment(request_, {});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->at("MODE"), "fast");
  asset_.job.env["API_KEY"] = *definitions::ConfigString::Parse("${env:API_KEY}");
  auto refused = JobEnvironment(request_, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(),
              HasSubstr("environment variable API_KEY of the job: refusing to send the value "
                        "of ${env:API_KEY} to EMR"));
  EXPECT_THAT(refused.status().message(), HasSubstr("AWS Secrets Manager"));
  EXPECT_THAT(refused.status().message(), ::testing::Not(HasSubstr("s3cr3t")));
}

}  // namespace
}  // namespace arbiter::emr
