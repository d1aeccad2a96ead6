// Pipes over S3 end to end: the Python client (boto3) writes chunks to s3rver while the
// S3 blob store reader polls; the last chunk lands only after the job process has ended.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <filesystem>
#include <thread>

#include "arbiter/aws/s3_blob_store.h"
#include "arbiter/aws/s3rver_fixture.h"
#include "arbiter/http/curl_http_client.h"
#include "arbiter/pipes/context.h"
#include "arbiter/pipes/params.h"
#include "arbiter/pipes/test_handler.h"
#include "arbiter/testing/missing_dependency.h"

extern char** environ;

namespace arbiter::aws {
namespace {

using pipes::OrderedJson;

// Runs argv with `extra_env` added; stdout/stderr go to `log`. Returns the pid.
pid_t Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
            const std::string& log) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "DAGSTER_PIPES_", 14) != 0 && std::strncmp(*e, "AWS_", 4) != 0) env.emplace_back(*e);
  }
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (auto& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> c_argv;
  for (auto& s : args) c_argv.push_back(s.data());
  c_argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, c_argv[0], &actions, nullptr, c_argv.data(), envp.data()), 0);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Delegates to the job signal; the first drain pause runs `late` (the delayed upload), so the
// reader is provably draining when the last chunk appears.
class LateChunkWaiter final : public pipes::PollWaiter {
 public:
  LateChunkWaiter(pipes::JobFinishedSignal* signal, std::function<void()> late)
      : signal_(signal), late_(std::move(late)) {}
  bool WaitForJob(std::chrono::milliseconds interval) override { return signal_->WaitForJob(interval); }
  void Pause(std::chrono::milliseconds interval) override {
    if (late_) {
      auto late = std::move(late_);
      late_ = nullptr;
      late();
      return;
    }
    signal_->Pause(interval);
  }

 private:
  pipes::JobFinishedSignal* signal_;
  std::function<void()> late_;
};

class S3PipesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bool installed = false;
    std::string why;
    server_ = testing::S3rver::Start(&why, &installed);
    if (!server_) {
      if (!installed) ARBITER_MISSING_DEPENDENCY("s3rver unavailable: " << why);
      FAIL() << why;
    }
    if (std::string(ARBITER_PYTHON3).empty()) ARBITER_MISSING_DEPENDENCY("no python3");
    const int rc = std::system((std::string(ARBITER_PYTHON3) + " -c 'import boto3' 2>/dev/null").c_str());
    if (rc != 0) ARBITER_MISSING_DEPENDENCY("boto3 is not importable by " << ARBITER_PYTHON3 << " (scripts/setup.sh installs it in .venv)");
    options_.endpoint = server_->endpoint();
    options_.path_style = true;
    s3_ = std::make_unique<S3Client>(&http_, &creds_, &clock_, options_);
    char tmpl[] = "/tmp/arbiter-s3pipes-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<testing::S3rver> server_;
  http::CurlHttpClient http_;
  StaticCredentialsProvider creds_{Credentials{testing::S3rver::kAccessKey, testing::S3rver::kSecretKey, "", std::nullopt}};
  SystemClock clock_;
  S3Options options_;
  std::unique_ptr<S3Client> s3_;
  std::string dir_;
};

TEST_F(S3PipesTest, PythonJobWritesChunksIncludingOneAfterItEnded) {
  S3BlobStore store(s3_.get(), testing::S3rver::kBucket, options_);
  const std::string run = RandomRunPrefix("arbiter/runs");
  pipes::RecordingHandler handler;
  pipes::MessageProcessor processor(&handler);
  pipes::BlobReaderOptions reader_options;
  reader_options.drain_window = std::chrono::seconds(60);  // an upper bound; "closed" ends it
  reader_options.drain_pause = std::chrono::milliseconds(20);
  pipes::BlobChunkMessageReader reader(&store, run + "/messages", &processor, &clock_, reader_options);
  pipes::BlobContextInjector injector(&store, run + "/context.json");

  pipes::ContextData data;
  data.assets.push_back({{"crawl", "edges"}, "v1", std::nullopt});
  data.partition_key = "2024-01-01";
  data.run_id = "run-s3";
  data.job_name = "daily";
  auto context = pipes::BuildContextPayload(data);
  ASSERT_TRUE(context.ok());
  auto context_params = injector.Inject(*context);
  ASSERT_TRUE(context_params.ok()) << context_params.status().ToString();
  auto messages_params = reader.Prepare();
  ASSERT_TRUE(messages_params.ok());
  EXPECT_EQ((*messages_params)["bucket"], testing::S3rver::kBucket);
  EXPECT_EQ((*messages_params)["key_prefix"], run + "/messages");

  std::vector<std::string> env = {
      "AWS_ACCESS_KEY_ID=S3RVER", "AWS_SECRET_ACCESS_KEY=S3RVER", "AWS_DEFAULT_REGION=us-east-1",
      std::string("ARBITER_PYTHON_CLIENT_DIR=") + ARBITER_SOURCE_DIR + "/clients/python"};
  for (const auto& [name, value] : pipes::BootstrapEnvVars({*context_params, *messages_params})) {
    env.push_back(name + "=" + value);
  }
  const std::string job = std::string(ARBITER_SOURCE_DIR) + "/src/arbiter/aws/testdata/s3_pipes_job.py";
  const std::string deferred = dir_ + "/deferred.json";
  const std::string log = dir_ + "/job.log";
  const pid_t pid = Spawn({ARBITER_PYTHON3, "-B", job, deferred}, env, log);

  pipes::JobFinishedSignal finished;
  int exit_code = -1;
  std::thread waiter([&] {
    exit_code = Wait(pid);
    finished.Notify();
  });
  int late_exit = -1;
  LateChunkWaiter late_waiter(&finished, [&] {
    // The job has ended and the reader is draining: now the last chunk lands.
    late_exit = Wait(Spawn({ARBITER_PYTHON3, "-B", job, "--upload-deferred", deferred, server_->endpoint()},
                           env, log));
  });
  pipes::ReadUntilJobFinished(reader, late_waiter, std::chrono::milliseconds(20));
  waiter.join();
  ASSERT_EQ(exit_code, 0) << ReadAll(log);
  ASSERT_EQ(late_exit, 0) << ReadAll(log);

  // Every message, in order, exactly once.
  std::vector<std::string> expected = {"opened"};
  for (int i = 0; i < 12; ++i) expected.push_back("log");
  expected.push_back("report_asset_materialization");
  expected.push_back("closed");
  EXPECT_EQ(handler.Methods(), expected) << ReadAll(log);
  int n = 0;
  for (const auto& m : handler.messages) {
    if (const auto* l = std::get_if<pipes::LogMessage>(&m.message)) {
      EXPECT_EQ(l->message, "chunk " + std::to_string(n / 4) + " message " + std::to_string(n % 4));
      ++n;
    }
  }
  EXPECT_EQ(n, 12);
  EXPECT_TRUE(handler.warnings.empty());
  EXPECT_EQ(reader.next_chunk(), 5);  // chunks 1-3 while running, 4 after the end
  const auto& mat = std::get<pipes::AssetMaterializationMessage>(handler.messages[13].message);
  EXPECT_EQ(mat.data_version, "2024-01-01");  // the job read its context from S3

  ASSERT_TRUE(reader.Cleanup().ok());
  ASSERT_TRUE(injector.Cleanup().ok());
  auto left = s3_->ListAll(testing::S3rver::kBucket, run + "/");
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
}

TEST_F(S3PipesTest, StoreBasicsAndParams) {
  S3BlobStore store(s3_.get(), testing::S3rver::kBucket, options_);
  EXPECT_FALSE(store.Get("p/none.json")->has_value());
  ASSERT_TRUE(store.Put("p/x/1.json", "{}").ok());
  ASSERT_TRUE(store.Put("p/x/2.json", "{}").ok());
  ASSERT_TRUE(store.Put("p/xy/1.json", "{}").ok());  // a sibling prefix, not under "p/x/"
  EXPECT_EQ(*store.List("p/x"), (std::vector<std::string>{"p/x/1.json", "p/x/2.json"}));
  EXPECT_EQ(**store.Get("p/x/1.json"), "{}");
  ASSERT_TRUE(store.Delete("p/x/1.json").ok());
  EXPECT_FALSE(store.Get("p/x/1.json")->has_value());
  const OrderedJson ctx = store.ContextParams("run/context.json");
  EXPECT_EQ(ctx["key"], "run/context.json");
  EXPECT_EQ(ctx["arbiter_s3_endpoint_url"], server_->endpoint());
  EXPECT_EQ(ctx["arbiter_s3_path_style"], true);
  const std::string a = RandomRunPrefix("runs/"), b = RandomRunPrefix("runs");
  EXPECT_EQ(a.size(), std::string("runs/").size() + 16);
  EXPECT_TRUE(a.starts_with("runs/"));
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace arbiter::aws
