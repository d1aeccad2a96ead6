#include "arbiter/runs/usage.h"

#include <gtest/gtest.h>

namespace arbiter::runs {
namespace {

TEST(UsageTest, RoundTripsEveryField) {
  ResourceUsage u;
  u.runtime_type = "databricks";
  u.region = "us-east-1";
  u.nodes = {{"driver", "m5.xlarge", 1, "ON_DEMAND", 0.25}, {"worker", "r5d.4xlarge", 8, "SPOT", 0.25}};
  u.photon = true;
  u.setup_s = 240;
  u.execution_s = 600;
  u.cleanup_s = 30;
  u.vcpu_hours = 1.5;
  u.memory_gb_hours = 6;
  u.storage_gb_hours = 20;
  u.normalized_instance_hours = 16;
  u.spot_interrupted = true;
  u.details = {{"cluster_id", "0123-abc"}};
  auto back = UsageFromJson(UsageToJson(u));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, u);
}

TEST(UsageTest, AbsentQuantitiesStayAbsent) {
  auto u = UsageFromJson({{"runtime_type", "local"}});
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->vcpu_hours.has_value());
  EXPECT_TRUE(u->nodes.empty());
  EXPECT_FALSE(UsageToJson(*u).contains("vcpu_hours"));
}

TEST(UsageTest, RejectsMalformedRecords) {
  EXPECT_FALSE(UsageFromJson(nlohmann::json::array()).ok());
  EXPECT_FALSE(UsageFromJson({{"photon", true}}).ok());
  EXPECT_FALSE(UsageFromJson({{"runtime_type", "emr"}, {"nodes", {{{"count", "2"}}}}}).ok());
  EXPECT_FALSE(UsageFromJson({{"runtime_type", "emr"}, {"setup_s", "slow"}}).ok());
}

}  // namespace
}  // namespace arbiter::runs
