#include "arbiter/pipes/channels.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "arbiter/pipes/params.h"
#include "arbiter/pipes/test_handler.h"

namespace arbiter::pipes {
namespace {

const std::string kOpened =
    R"({"__dagster_pipes_version": "0.1", "method": "opened", "params": {}})";
const std::string kClosed =
    R"({"__dagster_pipes_version": "0.1", "method": "closed", "params": {}})";
std::string Log(const std::string& text) {
  return R"({"__dagster_pipes_version": "0.1", "method": "log", "params": {"message": ")" + text +
         R"("}})";
}

// Runs one scripted step per wait, standing in for the job; the last step ends the job.
// Pause() advances the fake clock and runs an optional hook (a late upload, say).
class ScriptedWaiter : public PollWaiter {
 public:
  explicit ScriptedWaiter(std::vector<std::function<void()>> steps, FakeClock* clock = nullptr)
      : steps_(std::move(steps)), clock_(clock) {}
  bool WaitForJob(std::chrono::milliseconds) override {
    ++waits;
    if (next_ < steps_.size()) steps_[next_++]();
    return next_ >= steps_.size();
  }
  void Pause(std::chrono::milliseconds interval) override {
    ++pauses;
    if (clock_ != nullptr)
      clock_->Advance(std::chrono::duration_cast<std::chrono::seconds>(interval));
    if (on_pause) on_pause(pauses);
  }
  std::function<void(int)> on_pause;
  int waits = 0;
  int pauses = 0;

 private:
  std::vector<std::function<void()>> steps_;
  std::size_t next_ = 0;
  FakeClock* clock_;
};

TEST(FileReaderTest, TailsWhileJobRunsAndDrainsAfter) {
  TempDir dir;
  const std::string path = dir.Sub("messages");
  RecordingHandler h;
  MessageProcessor p(&h);
  FileMessageReader reader(path, &p);
  Result<OrderedJson> params = reader.Prepare();
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(DumpPythonStyle(*params),
            "{\"path\": \"" + path + "\", \"include_stdio_in_messages\": false}");
  ASSERT_TRUE(std::filesystem::exists(path));  // exists before launch

  std::size_t seen_after_step1 = 0, seen_after_step2 = 0;
  ScriptedWaiter waiter({
      [&] { AppendToFile(path, kOpened + "\n" + Log("first").substr(0, 30)); },
      [&] {
        seen_after_step1 = h.messages.size();
        AppendToFile(path, Log("first").substr(30) + "\ngarbage\n");
      },
      [&] {
        seen_after_step2 = h.messages.size();
        AppendToFile(path, Log("second") + "\n" + kClosed);  // no final newline
      },
  });
  ReadUntilJobFinished(reader, waiter, std::chrono::milliseconds(10));
  EXPECT_EQ(seen_after_step1, 1u);  // the half-written line was not delivered early
  EXPECT_EQ(seen_after_step2, 2u);
  EXPECT_EQ(h.Methods(), (std::vector<std::string>{"opened", "log", "log", "closed"}));
  EXPECT_EQ(std::get<LogMessage>(h.messages[1].message).message, "first");
  ASSERT_EQ(h.warnings.size(), 1u);
  EXPECT_EQ(h.warnings[0].line_number, 3);
  EXPECT_EQ(h.warnings[0].problem, LineProblem::kNotJson);
  ASSERT_TRUE(reader.Cleanup().ok());
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(FileReaderTest, JobThatNeverWritesGivesMissingOpened) {
  TempDir dir;
  RecordingHandler h;
  MessageProcessor p(&h);
  FileMessageReader reader(dir.Sub("m"), &p, /*cleanup_file=*/false);
  ASSERT_TRUE(reader.Prepare().ok());
  ScriptedWaiter waiter({[] {}});
  ReadUntilJobFinished(reader, waiter, std::chrono::milliseconds(10));
  ASSERT_EQ(h.warnings.size(), 1u);
  EXPECT_EQ(h.warnings[0].kind, WarningKind::kMissingOpened);
  ASSERT_TRUE(reader.Cleanup().ok());
  EXPECT_TRUE(std::filesystem::exists(dir.Sub("m")));  // cleanup_file=false keeps it
}

TEST(StdioReaderTest, SeparatesMessagesFromOutputOnBothStreams) {
  int out[2], err[2];
  ASSERT_EQ(::pipe(out), 0);
  ASSERT_EQ(::pipe(err), 0);
  const std::string out_text = "spark says hi\n" + Log("via stdout") + "\npartial";
  const std::string err_text =
      kOpened + "\nWARN something\n" + Log("via stderr") + "\n" +
      R"({"__dagster_pipes_version": "0.1", "method": "nope", "params": {}})" + "\n" + kClosed +
      "\n";
  ASSERT_EQ(::write(out[1], out_text.data(), out_text.size()),
            static_cast<ssize_t>(out_text.size()));
  ASSERT_EQ(::write(err[1], err_text.data(), err_text.size()),
            static_cast<ssize_t>(err_text.size()));
  ::close(out[1]);
  ::close(err[1]);
  RecordingHandler h;
  MessageProcessor p(&h);
  StdioMessageReader reader(&p);
  EXPECT_EQ(DumpPythonStyle(*reader.Prepare()), "{\"stdio\": \"stderr\"}");
  ASSERT_TRUE(PumpStdio(out[0], err[0], reader).ok());
  ::close(out[0]);
  ::close(err[0]);
  std::vector<std::string> methods = h.Methods();
  std::sort(methods.begin(), methods.end());
  EXPECT_EQ(methods, (std::vector<std::string>{"closed", "log", "log", "opened"}));
  std::vector<std::string> output = h.output;
  std::sort(output.begin(), output.end());
  EXPECT_EQ(output, (std::vector<std::string>{"stderr: WARN something", "stdout: partial",
                                              "stdout: spark says hi"}));
  ASSERT_EQ(h.warnings.size(), 1u);
  EXPECT_EQ(h.warnings[0].problem, LineProblem::kUnknownMethod);
  EXPECT_EQ(h.warnings[0].source, "stderr");
  EXPECT_EQ(h.warnings[0].line_number, 4);
}

TEST(LocalDirBlobStoreTest, PutGetListDelete) {
  TempDir dir;
  LocalDirBlobStore store(dir.path());
  EXPECT_FALSE(store.Get("p/1.json")->has_value());
  ASSERT_TRUE(store.Put("p/1.json", "one").ok());
  ASSERT_TRUE(store.Put("p/sub/2.json", "two").ok());
  EXPECT_EQ(**store.Get("p/1.json"), "one");
  EXPECT_EQ(*store.List("p"), (std::vector<std::string>{"p/1.json", "p/sub/2.json"}));
  EXPECT_FALSE(store.Put("../escape", "x").ok());
  EXPECT_FALSE(store.Get("/abs").ok());
  ASSERT_TRUE(store.Delete("p/1.json").ok());
  ASSERT_TRUE(store.Delete("p/sub/2.json").ok());
  EXPECT_TRUE(store.Delete("p/never").ok());
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("p")));  // empty dirs removed
  EXPECT_TRUE(store.List("p")->empty());
  EXPECT_EQ(DumpPythonStyle(store.MessagesParams("run1")),
            "{\"path\": \"" + dir.Sub("run1") +
                "\", \"include_stdio_in_messages\": false, \"arbiter_blob_chunks\": true}");
}

TEST(BlobReaderTest, PollsChunksInOrderDrainsLateChunksAndCleansUp) {
  TempDir dir;
  LocalDirBlobStore store(dir.path());
  FakeClock clock(TimePoint(std::chrono::seconds(1000)));
  RecordingHandler h;
  MessageProcessor p(&h);
  BlobChunkMessageReader reader(&store, "run1/msgs", &p, &clock);
  ASSERT_TRUE(reader.Prepare().ok());
  ScriptedWaiter waiter(
      {
          [&] { ASSERT_TRUE(store.Put("run1/msgs/1.json", kOpened + "\n" + Log("a")).ok()); },
          [&] {
            ASSERT_TRUE(store.Put("run1/msgs/2.json", Log("b") + "\nnot json").ok());
            ASSERT_TRUE(store.Put("run1/msgs/3.json", Log("c")).ok());
          },
          [] {},  // job ends; its last chunk is uploaded late, during the drain
      },
      &clock);
  waiter.on_pause = [&](int n) {
    if (n == 2) {
      ASSERT_TRUE(store.Put("run1/msgs/4.json", kClosed).ok());
    }
  };
  ReadUntilJobFinished(reader, waiter, std::chrono::milliseconds(1000));
  EXPECT_EQ(h.Methods(), (std::vector<std::string>{"opened", "log", "log", "log", "closed"}));
  EXPECT_EQ(waiter.pauses, 2);  // stopped as soon as `closed` arrived
  ASSERT_EQ(h.warnings.size(), 1u);
  EXPECT_EQ(h.warnings[0].source, "run1/msgs/2.json");
  EXPECT_EQ(h.warnings[0].line_number, 2);
  ASSERT_TRUE(reader.Cleanup().ok());
  EXPECT_TRUE(store.List("run1/msgs")->empty());
}

TEST(BlobReaderTest, AnEmptyChunkIsOneStillBeingWrittenAndIsReadAgain) {
  TempDir dir;
  LocalDirBlobStore store(dir.path());
  FakeClock clock(TimePoint(std::chrono::seconds(1000)));
  RecordingHandler h;
  MessageProcessor p(&h);
  BlobChunkMessageReader reader(&store, "run1/msgs", &p, &clock);
  ScriptedWaiter waiter(
      {
          [&] { ASSERT_TRUE(store.Put("run1/msgs/1.json", "").ok()); },  // created, not written
          [&] {
            ASSERT_TRUE(store.Put("run1/msgs/1.json", kOpened + "\n" + Log("a")).ok());
            ASSERT_TRUE(store.Put("run1/msgs/2.json", kClosed).ok());
          },
      },
      &clock);
  ReadUntilJobFinished(reader, waiter, std::chrono::milliseconds(1000));
  EXPECT_EQ(h.Methods(), (std::vector<std::string>{"opened", "log", "closed"}));
  EXPECT_EQ(reader.next_chunk(), 3);
}

TEST(BlobReaderTest, DrainWindowEndsWithoutClosedAndGapsAreReadOutOfSequence) {
  TempDir dir;
  LocalDirBlobStore store(dir.path());
  FakeClock clock(TimePoint(std::chrono::seconds(1000)));
  RecordingHandler h;
  MessageProcessor p(&h, ProcessorOptions{});
  BlobChunkMessageReader reader(
      &store, "x", &p, &clock,
      BlobReaderOptions{std::chrono::seconds(5), std::chrono::milliseconds(1000)});
  ASSERT_TRUE(store.Put("x/1.json", kOpened).ok());
  ASSERT_TRUE(store.Put("x/3.json", Log("after gap")).ok());  // chunk 2 lost
  ScriptedWaiter waiter({[] {}}, &clock);
  ReadUntilJobFinished(reader, waiter, std::chrono::milliseconds(1000));
  EXPECT_EQ(waiter.pauses, 5);  // 5 s window, 1 s pauses, fake clock
  EXPECT_EQ(h.Methods(), (std::vector<std::string>{"opened", "log"}));
  EXPECT_EQ(h.CountWarnings(WarningKind::kChannel), 1);
  EXPECT_EQ(h.CountWarnings(WarningKind::kMissingClosed), 1);
  EXPECT_EQ(reader.next_chunk(), 4);
}

TEST(InjectorTest, EnvFileAndBlob) {
  OrderedJson ctx = OrderedJson::object();
  ctx["run_id"] = "r1";
  EnvContextInjector env;
  Result<OrderedJson> e = env.Inject(ctx);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)["data"]["run_id"], "r1");
  Result<Json> decoded = DecodeParam(EncodeParam(*e));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ((*decoded)["data"]["run_id"], "r1");

  // Incompressible extras push the encoded value past the env-string limit.
  OrderedJson big = ctx;
  std::string noise;
  uint32_t x = 12345;
  for (int i = 0; i < 200000; ++i) {
    x = x * 1103515245 + 12345;
    noise += static_cast<char>('a' + (x >> 16) % 26);
  }
  big["extras"] = {{"noise", noise}};
  Result<OrderedJson> too_big = env.Inject(big);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), StatusCode::kFailedPrecondition);

  TempDir dir;
  FileContextInjector file(dir.Sub("ctx/context.json"));
  Result<OrderedJson> f = file.Inject(ctx);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)["path"], dir.Sub("ctx/context.json"));
  EXPECT_EQ(ReadWholeFile(dir.Sub("ctx/context.json")), "{\"run_id\": \"r1\"}");
  ASSERT_TRUE(file.Cleanup().ok());
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("ctx/context.json")));

  LocalDirBlobStore store(dir.path());
  BlobContextInjector blob(&store, "run/context.json");
  Result<OrderedJson> b = blob.Inject(ctx);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)["path"], dir.Sub("run/context.json"));
  EXPECT_EQ(**store.Get("run/context.json"), "{\"run_id\": \"r1\"}");
  ASSERT_TRUE(blob.Cleanup().ok());
  EXPECT_FALSE(store.Get("run/context.json")->has_value());
}

}  // namespace
}  // namespace arbiter::pipes
