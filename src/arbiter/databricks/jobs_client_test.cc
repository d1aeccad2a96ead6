// Jobs API responses parsed from documented examples; requests checked on the wire through
// a scripted transport.
#include "arbiter/databricks/jobs_client.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "arbiter/databricks/databricks_launcher.h"
#include "arbiter/http/fake_http_client.h"

namespace arbiter::databricks {
namespace {

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(ARBITER_SOURCE_DIR) + "/src/arbiter/databricks/testdata/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class StaticToken final : public AuthProvider {
 public:
  Result<std::string> Authorization() override { return std::string("Bearer t"); }
};

class JobsClientTest : public ::testing::Test {
 protected:
  http::FakeHttpClient http_;
  StaticToken auth_;
  RestClient rest_{&http_, "https://dbc-1.cloud.databricks.com/", &auth_};
  JobsClient jobs_{&rest_};
};

TEST_F(JobsClientTest, ParsesTheDocumentedRun) {
  http_.Enqueue(200, Fixture("runs_get_terminated.json"));
  Result<RunState> s = jobs_.GetRun(455644833);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const std::vector<http::HttpRequest> sent = http_.requests();
  EXPECT_EQ(sent[0].url,
            "https://dbc-1.cloud.databricks.com/api/2.1/jobs/runs/get?run_id=455644833");
  EXPECT_EQ(http::FindHeader(sent[0].headers, "Authorization"), "Bearer t");
  EXPECT_TRUE(s->terminal());
  EXPECT_EQ(s->result_state, "SUCCESS");
  EXPECT_EQ(s->task_run_id, 455644834);
  EXPECT_EQ(s->cluster_id, "0520-101010-abcd123");
  EXPECT_EQ(s->setup_ms, 240000);  // per task: the top level says 0 for multi-task runs
  EXPECT_EQ(s->execution_ms, 350000);
  EXPECT_EQ(s->run_page_url,
            "https://dbc-a1b2345c-d6e7.cloud.databricks.com/?o=1234#job/99/run/455644833");

  runs::ResourceUsage u = UsageOf(*s, "us-east-1");
  EXPECT_EQ(u.runtime_type, "databricks");
  EXPECT_TRUE(u.photon);
  ASSERT_EQ(u.nodes.size(), 2u);
  EXPECT_EQ(u.nodes[0], (runs::NodeGroupUsage{"driver", "m5.xlarge", 1, "ON_DEMAND", 600000 / 3.6e6}));
  EXPECT_EQ(u.nodes[1], (runs::NodeGroupUsage{"worker", "r5d.4xlarge", 8, "SPOT", 600000 / 3.6e6}));
  EXPECT_EQ(u.setup_s, 240.0);
  EXPECT_EQ(u.details["cluster_id"], "0520-101010-abcd123");
  EXPECT_FALSE(u.spot_interrupted);
}

TEST_F(JobsClientTest, SubmitIsMarkedIdempotentAndReturnsTheRunId) {
  http_.Enqueue(200, R"({"run_id": 455644833})");
  Result<int64_t> id = jobs_.Submit(nlohmann::json::object({{"idempotency_token", "r1"}}));
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, 455644833);
  const std::vector<http::HttpRequest> sent = http_.requests();
  const http::HttpRequest& r = sent[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://dbc-1.cloud.databricks.com/api/2.1/jobs/runs/submit");
  EXPECT_EQ(r.idempotent, true);
  EXPECT_EQ(nlohmann::json::parse(r.body)["idempotency_token"], "r1");
}

TEST_F(JobsClientTest, ParsesRunOutputAndErrors) {
  http_.Enqueue(200, Fixture("runs_get_output_failed.json"));
  Result<RunOutput> o = jobs_.GetOutput(455644834);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->error, "ZeroDivisionError: division by zero");
  EXPECT_TRUE(o->logs_truncated);
  EXPECT_NE(o->error_trace.find("Traceback"), std::string::npos);

  http_.Enqueue(400, R"({"error_code":"INVALID_PARAMETER_VALUE","message":"Run 7 does not exist."})");
  Result<RunState> missing = jobs_.GetRun(7);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("Run 7 does not exist."), std::string::npos);

  http_.Enqueue(200, R"({"run_id": 1, "state": {}})");
  EXPECT_FALSE(jobs_.GetRun(1).ok());  // no life cycle state: not a run we can follow
}

}  // namespace
}  // namespace arbiter::databricks
