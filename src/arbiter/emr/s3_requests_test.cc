// What the EMR runtimes do in S3, against s3rver: content-addressed staging (uploaded
// once), the pipes session objects, logs read back gunzipped, clean-up. Every S3 request
// sent is turned back into its operation's parameters and validated against botocore's
// S3 model (tools/validate_aws_requests.py), as the emulators' records are for EMR.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "arbiter/aws/s3rver_fixture.h"
#include "arbiter/emr/job_staging.h"
#include "arbiter/emr/remote_follower.h"
#include "arbiter/http/curl_http_client.h"
#include "arbiter/pipes/test_handler.h"
#include "arbiter/testing/temp_dir.h"
#include "arbiter/testing/missing_dependency.h"

namespace arbiter::emr {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Records each request as {"service": "s3", "operation", "body": params} (path style).
class S3Recorder final : public http::HttpClient {
 public:
  explicit S3Recorder(http::HttpClient* inner) : inner_(inner) {}
  Result<http::HttpResponse> Send(const http::HttpRequest& r) override {
    std::string url = r.url.substr(r.url.find('/', r.url.find("//") + 2) + 1);
    std::string query;
    if (auto q = url.find('?'); q != std::string::npos) {
      query = url.substr(q + 1);
      url = url.substr(0, q);
    }
    std::string bucket = url.substr(0, url.find('/'));
    std::string key =
        url.find('/') == std::string::npos ? "" : http::UriDecode(url.substr(url.find('/') + 1));
    std::map<std::string, std::string> q;
    for (size_t at = 0; at < query.size();) {
      size_t amp = query.find('&', at);
      std::string part = query.substr(at, amp == std::string::npos ? std::string::npos : amp - at);
      q[http::UriDecode(part.substr(0, part.find('=')))] =
          part.find('=') == std::string::npos ? ""
                                              : http::UriDecode(part.substr(part.find('=') + 1));
      at = amp == std::string::npos ? query.size() : amp + 1;
    }
    json body = {{"Bucket", bucket}};
    std::string op;
    if (r.method == "PUT" && !q.count("partNumber")) {
      op = "PutObject";
      body["Key"] = key;
      body["Body"] = "<" + std::to_string(r.body.size()) + " bytes>";
      if (auto ct = http::FindHeader(r.headers, "Content-Type")) body["ContentType"] = *ct;
      if (auto m = http::FindHeader(r.headers, "If-None-Match")) body["IfNoneMatch"] = *m;
    } else if (r.method == "HEAD") {
      op = "HeadObject";
      body["Key"] = key;
    } else if (r.method == "GET" && q.count("list-type")) {
      op = "ListObjectsV2";
      if (q.count("prefix")) body["Prefix"] = q["prefix"];
      if (q.count("continuation-token")) body["ContinuationToken"] = q["continuation-token"];
      if (q.count("max-keys")) body["MaxKeys"] = std::stoi(q["max-keys"]);
      if (q.count("delimiter")) body["Delimiter"] = q["delimiter"];
    } else if (r.method == "GET") {
      op = "GetObject";
      body["Key"] = key;
      if (auto range = http::FindHeader(r.headers, "Range")) body["Range"] = *range;
    } else if (r.method == "DELETE") {
      op = "DeleteObject";
      body["Key"] = key;
    } else if (r.method == "POST" && q.count("delete")) {
      op = "DeleteObjects";
      json objects = json::array();
      std::regex k("<Key>([^<]*)</Key>");
      for (auto it = std::sregex_iterator(r.body.begin(), r.body.end(), k);
           it != std::sregex_iterator(); ++it) {
        objects.push_back({{"Key", (*it)[1].str()}});
      }
      body["Delete"] = {{"Objects", objects}};
    } else {
      op = r.method + " (not mapped)";
    }
    records.push_back({{"service", "s3"}, {"operation", op}, {"body", body}});
    return inner_->Send(r);
  }
  std::vector<json> records;

 private:
  http::HttpClient* inner_;
};

std::string Gzip(std::string_view text) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, text.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(S3RequestsTest, StagingPipesAndLogsInS3AreValidAgainstTheModel) {
  bool installed = false;
  std::string why;
  auto s3rver = aws::testing::S3rver::Start(&why, &installed);
  if (!s3rver) {
    if (!installed) ARBITER_MISSING_DEPENDENCY("s3rver unavailable: " << why);
    FAIL() << why;
  }
  testing::TempDir dir;
  fs::create_directories(dir.path() / "proj/jobs");
  std::ofstream(dir.path() / "proj/jobs/main.py") << "import helper\n";
  std::ofstream(dir.path() / "proj/jobs/helper.py") << "X = 1\n";
  std::ofstream(dir.path() / "proj/jobs/notes.txt") << "not code\n";
  std::ofstream(dir.path() / "arbiter_pipes.py") << "# client\n";

  http::CurlHttpClient curl;
  S3Recorder recorder(&curl);
  aws::StaticCredentialsProvider creds(
      {aws::testing::S3rver::kAccessKey, aws::testing::S3rver::kSecretKey, "", std::nullopt});
  SystemClock clock;
  aws::S3Options options;
  options.endpoint = s3rver->endpoint();
  options.path_style = true;
  aws::S3Client s3(&recorder, &creds, &clock, options);
  auto staging =
      S3Location::Parse(std::string("s3://") + aws::testing::S3rver::kBucket + "/stage/");
  ASSERT_TRUE(staging.ok());

  definitions::JobSpec job;
  job.script = "jobs/main.py";
  auto code = StageJobCode(s3, *staging, (dir.path() / "proj").string(), job,
                           (dir.path() / "arbiter_pipes.py").string());
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(code->uploaded, 3);
  EXPECT_THAT(code->entry_point,
              ::testing::MatchesRegex("s3://test-bucket/stage/code/[0-9a-f]{64}/main.py"));
  ASSERT_EQ(code->py_files.size(), 2u);  // helper.py and the client; not notes.txt
  EXPECT_THAT(code->py_files[0], ::testing::EndsWith("/arbiter_pipes.py"));
  EXPECT_THAT(code->py_files[1], ::testing::EndsWith("/helper.py"));
  auto again = StageJobCode(s3, *staging, (dir.path() / "proj").string(), job,
                            (dir.path() / "arbiter_pipes.py").string());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->uploaded, 0);  // content-addressed: nothing new to upload
  EXPECT_EQ(again->entry_point, code->entry_point);
  std::ofstream(dir.path() / "proj/jobs/main.py") << "import helper  # changed\n";
  auto changed = StageJobCode(s3, *staging, (dir.path() / "proj").string(), job, "");
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->uploaded, 1);
  EXPECT_NE(changed->entry_point, code->entry_point);

  // The pipes session: context object, one chunk read, everything removed at the end.
  storage::RunRecord run;
  run.run_id = "feedfacefeedface";
  pipes::RecordingHandler handler;
  pipes::MessageProcessor processor(&handler);
  S3PipesSession session(&s3, options, *staging, run, &processor, &clock, {});
  auto bootstrap = session.Start(pipes::OrderedJson{{"run_id", run.run_id}});
  ASSERT_TRUE(bootstrap.ok()) << bootstrap.status().ToString();
  std::map<std::string, std::string> env;
  for (auto& [k, v] : pipes::BootstrapEnvVars(*bootstrap)) env[k] = v;
  EXPECT_TRUE(env.count("DAGSTER_PIPES_CONTEXT"));
  ASSERT_TRUE(
      s3.PutObject(staging->bucket, staging->Key("runs/feedfacefeedface/messages/1.json"),
                   R"({"__dagster_pipes_version": "0.1", "method": "opened", "params": {}})")
          .ok());
  session.reader().Poll();
  EXPECT_EQ(session.reader().next_chunk(), 2);
  EXPECT_EQ(handler.Methods(), std::vector<std::string>{"opened"});
  ASSERT_TRUE(session.Cleanup().ok());
  auto left = s3.ListAll(staging->bucket, staging->Key("runs/"));
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());

  // Logs as EMR delivers them.
  ASSERT_TRUE(s3.PutObject(staging->bucket, "logs/j-1/steps/s-1/stderr.gz", Gzip("oops\n")).ok());
  auto log = FetchGzipObject(s3, "s3://test-bucket/logs/j-1/steps/s-1/stderr.gz");
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(*log, "oops\n");
  EXPECT_EQ(FetchGzipObject(s3, "s3://test-bucket/logs/none.gz").status().code(),
            StatusCode::kNotFound);

  // Every request, against the S3 model.
  const std::string path = (dir.path() / "s3.jsonl").string();
  {
    std::ofstream out(path);
    for (const json& r : recorder.records) out << r.dump() << "\n";
  }
  std::set<std::string> ops;
  for (const json& r : recorder.records) ops.insert(r["operation"].get<std::string>());
  EXPECT_EQ(ops, (std::set<std::string>{"DeleteObject", "GetObject", "HeadObject", "ListObjectsV2",
                                        "PutObject"}));
  std::string python = ARBITER_PYTHON3;
  std::string report = (dir.path() / "validate.out").string();
  int rc = std::system((python + " " + ARBITER_SOURCE_DIR + "/tools/validate_aws_requests.py " +
                        path + " > " + report + " 2>&1")
                           .c_str());
  std::ifstream in(report);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(rc, 0) << ss.str();
}

}  // namespace
}  // namespace arbiter::emr
