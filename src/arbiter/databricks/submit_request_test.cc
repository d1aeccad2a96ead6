// The runs/submit body against fixtures written from the Jobs API documentation.
#include "arbiter/databricks/submit_request.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace arbiter::databricks {
namespace {

nlohmann::json Fixture(const std::string& name) {
  std::ifstream in(std::string(ARBITER_SOURCE_DIR) + "/src/arbiter/databricks/testdata/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return nlohmann::json::parse(s.str());
}

class SubmitRequestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.spark_version = "15.4.x-scala2.12";
    config_.spot_bid_price_percent = 90;
    config_.instance_profile_arn = "arn:aws:iam::123456789012:instance-profile/arbiter";
    asset_.key = *definitions::AssetKey::Parse("demo/edges");
    asset_.job.args = {"--input", "data"};
    asset_.compute.workers = 2;
    asset_.compute.max_workers = 8;
    asset_.compute.spot = true;
    asset_.compute.photon = true;
    asset_.compute.max_duration = std::chrono::hours(2);
    asset_.overrides["databricks"].spark_conf["spark.sql.shuffle.partitions"] = "200";
    asset_.overrides["databricks"].cluster = {{"enable_elastic_disk", true}};
    spec_.run_id = "0123456789abcdef";
    spec_.asset_key = "demo/edges";
    spec_.runtime_name = "databricks";
    spec_.config = &config_;
    spec_.asset = &asset_;
    spec_.instances = {{"m5.xlarge"}, {"r5d.4xlarge"}};
    spec_.python_file = "dbfs:/arbiter/staging/code/abcd/edges.py";
    spec_.code_dir = "/dbfs/arbiter/staging/code/abcd";
    spec_.bootstrap = {{"DAGSTER_PIPES_CONTEXT", "ctx"}, {"DAGSTER_PIPES_MESSAGES", "msgs"}};
  }
  definitions::DatabricksRuntimeConfig config_;
  definitions::AssetDef asset_;
  SubmitSpec spec_;
};

TEST_F(SubmitRequestTest, NewClusterMatchesTheDocumentedShape) {
  spec_.partition_key = "CC-MAIN-2024-10|seeds-a";
  spec_.job_env = {{"MODE", "full"}};
  spec_.cluster_log_conf = {
      {"dbfs", {{"destination", "dbfs:/arbiter/staging/logs/0123456789abcdef"}}}};
  nlohmann::json body = BuildSubmitRequest(spec_);
  EXPECT_EQ(body, Fixture("submit_new_cluster.json")) << body.dump(2);
}

TEST_F(SubmitRequestTest, ExistingClusterPassesTheBootstrapAsParameters) {
  config_.existing_cluster_id = "0923-164208-meows279";
  asset_.compute.max_duration.reset();
  nlohmann::json body = BuildSubmitRequest(spec_);
  EXPECT_EQ(body, Fixture("submit_existing_cluster.json")) << body.dump(2);
}

TEST_F(SubmitRequestTest, FixedSizeOnDemandStandard) {
  asset_.compute.max_workers.reset();
  asset_.compute.spot = false;
  asset_.compute.photon = false;
  config_.first_on_demand = 0;  // never below 1: the driver is never on spot
  nlohmann::json cluster = BuildSubmitRequest(spec_)["tasks"][0]["new_cluster"];
  EXPECT_EQ(cluster["num_workers"], 2);
  EXPECT_FALSE(cluster.contains("autoscale"));
  EXPECT_EQ(cluster["aws_attributes"]["availability"], "ON_DEMAND");
  EXPECT_EQ(cluster["aws_attributes"]["first_on_demand"], 1);
  EXPECT_EQ(cluster["runtime_engine"], "STANDARD");
}

TEST(TagValueTest, KeepsWhatAwsAllowsAndReplacesTheRest) {
  EXPECT_EQ(TagValue("a-b_c.d:e/f@g h+i=j"), "a-b_c.d:e/f@g h+i=j");
  EXPECT_EQ(TagValue("x|y,z"), "x_y_z");
  EXPECT_EQ(TagValue(std::string(300, 'a')).size(), 256u);
}

}  // namespace
}  // namespace arbiter::databricks
