// Round trips: the Python and C++ clients run as real child processes against the
// orchestration-side readers, over every channel, exercising every method.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <thread>

#include "arbiter/pipes/channels.h"
#include "arbiter/pipes/context.h"
#include "arbiter/pipes/params.h"
#include "arbiter/pipes/test_handler.h"
#include "arbiter/testing/missing_dependency.h"

extern char** environ;

namespace arbiter::pipes {
namespace {

struct Child {
  pid_t pid = -1;
  int stdout_fd = -1;  // read ends when the output is piped
  int stderr_fd = -1;
};

// Starts argv with the bootstrap env vars added. Output goes to pipes (pipe_output) or to
// files in `dir` (so an unread pipe can never block the child).
Child Spawn(const std::vector<std::string>& argv, const BootstrapParams& bootstrap,
            bool pipe_output, const TempDir& dir, bool use_env = true) {
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "DAGSTER_PIPES_", 14) != 0) env_storage.emplace_back(*e);
  }
  if (use_env) {
    for (const auto& [name, value] : BootstrapEnvVars(bootstrap)) {
      env_storage.push_back(name + "=" + value);
    }
  }
  std::vector<char*> envp;
  for (std::string& s : env_storage) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> c_argv;
  for (std::string& s : args) c_argv.push_back(s.data());
  c_argv.push_back(nullptr);

  Child child;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  int out[2] = {-1, -1}, err[2] = {-1, -1};
  if (pipe_output) {
    EXPECT_EQ(::pipe(out), 0);
    EXPECT_EQ(::pipe(err), 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    for (int fd : {out[0], out[1], err[0], err[1]}) posix_spawn_file_actions_addclose(&actions, fd);
  } else {
    const std::string o = dir.Sub("child.stdout"), e = dir.Sub("child.stderr");
    posix_spawn_file_actions_addopen(&actions, 1, o.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, e.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  const int rc = posix_spawn(&child.pid, c_argv[0], &actions, nullptr, c_argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0) << "spawn " << argv[0];
  if (pipe_output) {
    ::close(out[1]);
    ::close(err[1]);
    child.stdout_fd = out[0];
    child.stderr_fd = err[0];
  }
  return child;
}

int Wait(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs `reader` on this thread while a helper thread waits for the child and signals.
int ReadWhileRunning(const Child& child, MessageReader& reader) {
  JobFinishedSignal finished;
  int exit_code = -1;
  std::thread waiter([&] {
    exit_code = Wait(child.pid);
    finished.Notify();
  });
  ReadUntilJobFinished(reader, finished, std::chrono::milliseconds(20));
  waiter.join();
  return exit_code;
}

OrderedJson TestContext() {
  ContextData d;
  d.assets.push_back({{"crawl", "edges"}, "v7", std::nullopt});
  d.partition_key = "2024-01-01";
  d.partition_time_window = KeyRange{"2024-01-01T00:00:00+00:00", "2024-01-02T00:00:00+00:00"};
  d.run_id = "run-42";
  d.job_name = "daily";
  d.retry_number = 1;
  d.extras = {{"seed", 7}, {"tags", {"a", "b"}}};
  return *BuildContextPayload(d);
}

std::string PythonJob() {
  return std::string(ARBITER_SOURCE_DIR) + "/clients/python/example_job.py";
}

const std::vector<std::string> kEveryMethod = {"opened",
                                               "log",
                                               "log",
                                               "log",
                                               "log",
                                               "log",
                                               "report_asset_materialization",
                                               "report_asset_check",
                                               "report_custom_message",
                                               "log_external_stream",
                                               "closed"};

// Checks the messages the example jobs send (both clients send the same sequence).
void ExpectEveryMethod(const RecordingHandler& h, bool python) {
  ASSERT_EQ(h.Methods(), kEveryMethod);
  const LogLevel levels[] = {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning,
                             LogLevel::kError, LogLevel::kCritical};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(std::get<LogMessage>(h.messages[1 + i].message).level, levels[i]);
  }
  const auto& mat = std::get<AssetMaterializationMessage>(h.messages[6].message);
  EXPECT_EQ(mat.asset_key_path, (AssetKeyPath{"crawl", "edges"}));
  EXPECT_EQ(mat.data_version, "dv-2024-01-01");
  const Metadata& md = *mat.metadata;
  EXPECT_EQ(md.at("rows").Resolved(), MetadataType::kInt);
  EXPECT_EQ(md.at("rows").raw_value, 42);
  EXPECT_EQ(md.at("ratio").Resolved(), MetadataType::kFloat);  // 1.0 stayed a float
  EXPECT_EQ(md.at("name").Resolved(), MetadataType::kText);
  EXPECT_EQ(md.at("ok").Resolved(), MetadataType::kBool);
  EXPECT_TRUE(std::isnan(md.at("nan").raw_value.get<double>()));
  EXPECT_EQ(md.at("cfg").type, MetadataType::kJson);
  EXPECT_EQ(md.at("doc").type, MetadataType::kMd);
  EXPECT_EQ(md.at("link").type, MetadataType::kUrl);
  EXPECT_EQ(md.at("when").type, MetadataType::kTimestamp);
  EXPECT_EQ(md.at("none").type, MetadataType::kNull);
  EXPECT_EQ(md.at("schema").type, MetadataType::kTableSchema);
  const auto& check = std::get<AssetCheckMessage>(h.messages[7].message);
  EXPECT_EQ(check.check_name, "row_count_positive");
  EXPECT_TRUE(check.passed);
  EXPECT_EQ(check.severity, CheckSeverity::kWarn);
  const auto& custom = std::get<CustomMessage>(h.messages[8].message);
  if (python) {
    // The job echoes what it read from the context: the context made the round trip too.
    EXPECT_EQ(custom.payload["asset_keys"], Json({"crawl/edges"}));
    EXPECT_EQ(custom.payload["partition_key"], "2024-01-01");
    EXPECT_EQ(custom.payload["partition_key_range"]["end"], "2024-01-01");
    EXPECT_EQ(custom.payload["partition_time_window"]["start"], "2024-01-01T00:00:00+00:00");
    EXPECT_EQ(custom.payload["run_id"], "run-42");
    EXPECT_EQ(custom.payload["job_name"], "daily");
    EXPECT_EQ(custom.payload["retry_number"], 1);
    EXPECT_EQ(custom.payload["extras"]["tags"], Json({"a", "b"}));
  } else {
    EXPECT_EQ(custom.payload["extras_seen"]["seed"], 7);
    EXPECT_EQ(custom.payload["retry"], 1);
  }
  const auto& stream = std::get<ExternalStreamMessage>(h.messages[9].message);
  EXPECT_EQ(stream.stream, StdStream::kStderr);
  EXPECT_EQ(stream.text, "captured text\n");
}

class RoundTripTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string(ARBITER_PYTHON3).empty()) python_missing_ = true;
  }
  bool python_missing_ = false;
  TempDir dir_;
  RecordingHandler handler_;
  MessageProcessor processor_{&handler_};
};

TEST_F(RoundTripTest, PythonOverFileWithEnvContext) {
  if (python_missing_) ARBITER_MISSING_DEPENDENCY("no python3");
  FileMessageReader reader(dir_.Sub("messages"), &processor_);
  EnvContextInjector injector;
  BootstrapParams bootstrap{*injector.Inject(TestContext()), *reader.Prepare()};
  Child child = Spawn({ARBITER_PYTHON3, "-B", PythonJob()}, bootstrap, false, dir_);
  EXPECT_EQ(ReadWhileRunning(child, reader), 0) << ReadWholeFile(dir_.Sub("child.stderr"));
  ExpectEveryMethod(handler_, true);
  EXPECT_TRUE(handler_.warnings.empty());
  EXPECT_TRUE(std::get<ClosedMessage>(handler_.messages.back().message).exception == std::nullopt);
  EXPECT_TRUE(reader.Cleanup().ok());
}

TEST_F(RoundTripTest, PythonGarbageLinesDoNotStopTheReader) {
  if (python_missing_) ARBITER_MISSING_DEPENDENCY("no python3");
  FileMessageReader reader(dir_.Sub("messages"), &processor_);
  EnvContextInjector injector;
  BootstrapParams bootstrap{*injector.Inject(TestContext()), *reader.Prepare()};
  Child child = Spawn({ARBITER_PYTHON3, "-B", PythonJob(), "--garbage"}, bootstrap, false, dir_);
  EXPECT_EQ(ReadWhileRunning(child, reader), 0) << ReadWholeFile(dir_.Sub("child.stderr"));
  ExpectEveryMethod(handler_, true);  // everything after the junk still arrived
  ASSERT_EQ(handler_.warnings.size(), 3u);
  EXPECT_EQ(handler_.warnings[0].problem, LineProblem::kNotJson);
  EXPECT_EQ(handler_.warnings[1].problem, LineProblem::kUnknownMethod);
  EXPECT_EQ(handler_.warnings[2].problem, LineProblem::kInvalidUtf8);
  EXPECT_EQ(handler_.warnings[0].line_number, 7);
}

TEST_F(RoundTripTest, PythonOverStdioWithFileContextAndFailure) {
  if (python_missing_) ARBITER_MISSING_DEPENDENCY("no python3");
  StdioMessageReader reader(&processor_);
  FileContextInjector injector(dir_.Sub("context.json"));
  BootstrapParams bootstrap{*injector.Inject(TestContext()), *reader.Prepare()};
  Child child = Spawn({ARBITER_PYTHON3, "-B", PythonJob(), "--fail"}, bootstrap, true, dir_);
  ASSERT_TRUE(PumpStdio(child.stdout_fd, child.stderr_fd, reader).ok());
  ::close(child.stdout_fd);
  ::close(child.stderr_fd);
  EXPECT_NE(Wait(child.pid), 0);
  ExpectEveryMethod(handler_, true);
  const auto& closed = std::get<ClosedMessage>(handler_.messages.back().message);
  ASSERT_TRUE(closed.exception.has_value());
  EXPECT_EQ(closed.exception->name, "ValueError");
  EXPECT_EQ(closed.exception->message, "ValueError: python job failed on purpose\n");
  EXPECT_FALSE(closed.exception->stack.empty());
  // Ordinary output was separated from the messages, not lost and not warned about.
  EXPECT_NE(std::find(handler_.output.begin(), handler_.output.end(),
                      "stdout: ordinary stdout from the python job"),
            handler_.output.end());
  EXPECT_NE(std::find(handler_.output.begin(), handler_.output.end(),
                      "stderr: ordinary stderr from the python job"),
            handler_.output.end());
  EXPECT_TRUE(handler_.warnings.empty());
  EXPECT_TRUE(injector.Cleanup().ok());
}

TEST_F(RoundTripTest, PythonOverBlobChunksWithBlobContext) {
  if (python_missing_) ARBITER_MISSING_DEPENDENCY("no python3");
  LocalDirBlobStore store(dir_.Sub("blobs"));
  SystemClock clock;
  BlobChunkMessageReader reader(&store, "run-42/messages", &processor_, &clock);
  BlobContextInjector injector(&store, "run-42/context.json");
  BootstrapParams bootstrap{*injector.Inject(TestContext()), *reader.Prepare()};
  Child child = Spawn({ARBITER_PYTHON3, "-B", PythonJob()}, bootstrap, false, dir_);
  EXPECT_EQ(ReadWhileRunning(child, reader), 0) << ReadWholeFile(dir_.Sub("child.stderr"));
  ExpectEveryMethod(handler_, true);
  EXPECT_TRUE(handler_.warnings.empty());
  EXPECT_TRUE(reader.Cleanup().ok());
  EXPECT_TRUE(injector.Cleanup().ok());
  EXPECT_TRUE(store.List("run-42")->empty());
}

TEST_F(RoundTripTest, PythonWithCliArguments) {
  if (python_missing_) ARBITER_MISSING_DEPENDENCY("no python3");
  FileMessageReader reader(dir_.Sub("messages"), &processor_);
  EnvContextInjector injector;
  BootstrapParams bootstrap{*injector.Inject(TestContext()), *reader.Prepare()};
  std::vector<std::string> argv = {ARBITER_PYTHON3, "-B", PythonJob()};
  for (const std::string& a : BootstrapCliArgs(bootstrap)) argv.push_back(a);
  Child child = Spawn(argv, bootstrap, false, dir_, /*use_env=*/false);
  EXPECT_EQ(ReadWhileRunning(child, reader), 0) << ReadWholeFile(dir_.Sub("child.stderr"));
  ExpectEveryMethod(handler_, true);
}

TEST_F(RoundTripTest, CppOverFile) {
  FileMessageReader reader(dir_.Sub("messages"), &processor_);
  EnvContextInjector injector;
  BootstrapParams bootstrap{*injector.Inject(TestContext()), *reader.Prepare()};
  Child child = Spawn({ARBITER_PIPES_EXAMPLE_JOB}, bootstrap, false, dir_);
  EXPECT_EQ(ReadWhileRunning(child, reader), 0) << ReadWholeFile(dir_.Sub("child.stderr"));
  ExpectEveryMethod(handler_, false);
  EXPECT_TRUE(handler_.warnings.empty());
  const auto& md = *std::get<AssetMaterializationMessage>(handler_.messages[6].message).metadata;
  EXPECT_EQ(md.at("big").raw_value.get<uint64_t>(), 18446744073709551615ull);
}

TEST_F(RoundTripTest, CppOverStdioWithCliArgumentsAndFailure) {
  StdioMessageReader reader(&processor_, StdStream::kStdout);
  FileContextInjector injector(dir_.Sub("context.json"));
  BootstrapParams bootstrap{*injector.Inject(TestContext()), *reader.Prepare()};
  std::vector<std::string> argv = {ARBITER_PIPES_EXAMPLE_JOB, "--fail"};
  for (const std::string& a : BootstrapCliArgs(bootstrap)) argv.push_back(a);
  Child child = Spawn(argv, bootstrap, true, dir_, /*use_env=*/false);
  ASSERT_TRUE(PumpStdio(child.stdout_fd, child.stderr_fd, reader).ok());
  ::close(child.stdout_fd);
  ::close(child.stderr_fd);
  EXPECT_EQ(Wait(child.pid), 1);
  ExpectEveryMethod(handler_, false);
  const auto& closed = std::get<ClosedMessage>(handler_.messages.back().message);
  ASSERT_TRUE(closed.exception.has_value());
  EXPECT_EQ(closed.exception->name, "std::invalid_argument");
  EXPECT_EQ(closed.exception->message, "std::invalid_argument: native job failed on purpose\n");
  EXPECT_NE(std::find(handler_.output.begin(), handler_.output.end(),
                      "stdout: ordinary stdout from the native job"),
            handler_.output.end());
  EXPECT_TRUE(handler_.warnings.empty());
}

TEST_F(RoundTripTest, JobWithoutPipesGivesMissingOpenedWarning) {
  FileMessageReader reader(dir_.Sub("messages"), &processor_);
  BootstrapParams bootstrap{*EnvContextInjector().Inject(TestContext()), *reader.Prepare()};
  Child child = Spawn({"/bin/true"}, bootstrap, false, dir_);
  EXPECT_EQ(ReadWhileRunning(child, reader), 0);
  ASSERT_EQ(handler_.warnings.size(), 1u);
  EXPECT_EQ(handler_.warnings[0].kind, WarningKind::kMissingOpened);
}

}  // namespace
}  // namespace arbiter::pipes
