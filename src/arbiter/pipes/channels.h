// Pipes channels on the orchestration side. Message readers (local file tailed while the job
// runs, stdio, blob chunks over a BlobStore) feed a MessageProcessor; context injectors (env,
// local file, blob) place the context where the job's client finds it. Waiting between polls
// goes through PollWaiter so tests script it instead of sleeping.
// Readers and injectors are not thread-safe: one thread drives each. JobFinishedSignal and
// LocalDirBlobStore are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/clock.h"
#include "arbiter/common/status.h"
#include "arbiter/pipes/handler.h"
#include "arbiter/pipes/json_util.h"

namespace arbiter::pipes {

// How a reader waits between polls.
class PollWaiter {
 public:
  virtual ~PollWaiter() = default;
  // Waits up to `interval`; returns true (possibly early) once the job has finished.
  virtual bool WaitForJob(std::chrono::milliseconds interval) = 0;
  // A plain pause, used while draining after the job finished.
  virtual void Pause(std::chrono::milliseconds interval) = 0;
};

// The production waiter: the runner calls Notify() when the process/platform run ended.
class JobFinishedSignal final : public PollWaiter {
 public:
  // Pauses while draining go through `clock`, which must outlive the signal.
  explicit JobFinishedSignal(const Clock* clock = &RealClock()) : clock_(clock) {}
  void Notify();
  bool finished() const;
  bool WaitForJob(std::chrono::milliseconds interval) override;
  void Pause(std::chrono::milliseconds interval) override;

 private:
  const Clock* clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool finished_ = false;
};

class MessageReader {
 public:
  virtual ~MessageReader() = default;
  // Before launch: creates what the job writes into; returns the messages params.
  virtual Result<OrderedJson> Prepare() = 0;
  // Reads whatever is available now. Problems become channel warnings.
  virtual void Poll() = 0;
  // After the job finished: reads the rest, then ends the processor's session.
  virtual void Drain(PollWaiter& waiter) = 0;
  // Removes what Prepare created.
  virtual Status Cleanup() = 0;
};

// Polls `reader` every `interval` until the job finishes, then drains it.
void ReadUntilJobFinished(MessageReader& reader, PollWaiter& waiter,
                          std::chrono::milliseconds interval);

// ---- local file ----

class FileMessageReader final : public MessageReader {
 public:
  FileMessageReader(std::string path, MessageProcessor* processor, bool cleanup_file = true);
  ~FileMessageReader() override;

  Result<OrderedJson> Prepare() override;
  void Poll() override;
  void Drain(PollWaiter& waiter) override;
  Status Cleanup() override;

 private:
  std::string path_;
  MessageProcessor* processor_;
  bool cleanup_file_;
  LineSplitter splitter_;
  int fd_ = -1;
  bool reported_open_error_ = false;
};

// ---- stdio ----

// Messages arrive on the job's stdout/stderr mixed with ordinary output; lines that are not
// messages go to PipesMessageHandler::OnOutputLine. Both streams are scanned.
class StdioMessageReader final : public MessageReader {
 public:
  StdioMessageReader(MessageProcessor* processor, StdStream message_stream = StdStream::kStderr);

  Result<OrderedJson> Prepare() override;  // {"stdio": "stderr"}
  void Feed(StdStream stream, std::string_view bytes);
  void Poll() override {}
  void Drain(PollWaiter& waiter) override;
  Status Cleanup() override { return Status::Ok(); }

 private:
  MessageProcessor* processor_;
  StdStream message_stream_;
  LineSplitter stdout_;
  LineSplitter stderr_;
};

// Reads both descriptors until both reach EOF, feeding `reader`; then drains it. Blocking.
Status PumpStdio(int stdout_fd, int stderr_fd, StdioMessageReader& reader);

// ---- blob store ----

// The small storage surface blob channels need; S3, DBFS and UC volumes implement it later.
class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // nullopt when the object does not exist.
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  virtual Status Put(std::string_view key, std::string_view data) = 0;
  // Keys directly or indirectly under "<prefix>/".
  virtual Result<std::vector<std::string>> List(std::string_view prefix) = 0;
  virtual Status Delete(std::string_view key) = 0;
  // What the job's client needs to find chunks under `prefix` / the object `key`.
  virtual OrderedJson MessagesParams(std::string_view prefix) const = 0;
  virtual OrderedJson ContextParams(std::string_view key) const = 0;
};

// Keys are relative paths under a root directory (a local disk, or a FUSE mount such as /dbfs
// or /Volumes). Put writes a temp file and renames it, so a reader never sees half an object.
class LocalDirBlobStore final : public BlobStore {
 public:
  explicit LocalDirBlobStore(std::string root);

  Result<std::optional<std::string>> Get(std::string_view key) override;
  Status Put(std::string_view key, std::string_view data) override;
  Result<std::vector<std::string>> List(std::string_view prefix) override;
  Status Delete(std::string_view key) override;
  // {"path": "<root>/<prefix>", "include_stdio_in_messages": false, "arbiter_blob_chunks": true}
  OrderedJson MessagesParams(std::string_view prefix) const override;
  // {"path": "<root>/<key>"}
  OrderedJson ContextParams(std::string_view key) const override;

  std::string PathOf(std::string_view key) const;

 private:
  Status CheckKey(std::string_view key) const;
  std::string root_;
};

struct BlobReaderOptions {
  // After the job ended, keep polling this long for late chunks unless `closed` arrived.
  std::chrono::seconds drain_window{10};
  std::chrono::milliseconds drain_pause{1000};
  // The chunk to read first: 1, or where a reader before a restart stopped.
  int64_t first_chunk = 1;
};

// Reads "<prefix>/1.json", "2.json", ... in order; each chunk is message lines joined by '\n'.
class BlobChunkMessageReader final : public MessageReader {
 public:
  BlobChunkMessageReader(BlobStore* store, std::string prefix, MessageProcessor* processor,
                         const Clock* clock, BlobReaderOptions options = {});

  Result<OrderedJson> Prepare() override;
  void Poll() override;
  void Drain(PollWaiter& waiter) override;
  Status Cleanup() override;  // deletes every object under the prefix

  int64_t next_chunk() const { return next_chunk_; }

 private:
  void ProcessChunk(int64_t index, const std::string& body);
  void ProcessStragglers();

  BlobStore* store_;
  std::string prefix_;
  MessageProcessor* processor_;
  const Clock* clock_;
  BlobReaderOptions options_;
  int64_t next_chunk_ = 1;
};

// ---- context injectors ----

class ContextInjector {
 public:
  virtual ~ContextInjector() = default;
  // Places the context and returns the context params for the bootstrap payload.
  virtual Result<OrderedJson> Inject(const OrderedJson& context) = 0;
  virtual Status Cleanup() = 0;
};

// {"data": context}, inline in DAGSTER_PIPES_CONTEXT. Refuses contexts whose encoded form would
// pass Linux's 128 KiB limit for one environment string.
class EnvContextInjector final : public ContextInjector {
 public:
  Result<OrderedJson> Inject(const OrderedJson& context) override;
  Status Cleanup() override { return Status::Ok(); }
};

// Writes the context JSON to `path`; {"path": path}. Cleanup deletes the file.
class FileContextInjector final : public ContextInjector {
 public:
  explicit FileContextInjector(std::string path) : path_(std::move(path)) {}
  Result<OrderedJson> Inject(const OrderedJson& context) override;
  Status Cleanup() override;

 private:
  std::string path_;
};

// Puts the context at `key` in a BlobStore; the store says how the client finds it.
class BlobContextInjector final : public ContextInjector {
 public:
  BlobContextInjector(BlobStore* store, std::string key) : store_(store), key_(std::move(key)) {}
  Result<OrderedJson> Inject(const OrderedJson& context) override;
  Status Cleanup() override;

 private:
  BlobStore* store_;
  std::string key_;
  bool injected_ = false;
};

}  // namespace arbiter::pipes
