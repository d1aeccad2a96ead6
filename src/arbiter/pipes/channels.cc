// Orchestration-side channels: file, stdio and blob-chunk readers; env, file, blob injectors.
#include "arbiter/pipes/channels.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include "arbiter/common/strings.h"
#include "arbiter/pipes/params.h"

namespace arbiter::pipes {
namespace fs = std::filesystem;

namespace {

std::string ErrnoText(std::string_view what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

// Writes all of `data` to `path` (truncating), via a temp file and rename.
Status WriteFileAtomically(const std::string& path, std::string_view data) {
  std::error_code ec;
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (ec) return UnavailableError("create directory " + parent.string() + ": " + ec.message());
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return UnavailableError(ErrnoText("open", tmp));
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = UnavailableError(ErrnoText("write", tmp));
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = UnavailableError(ErrnoText("rename to", path));
    ::unlink(tmp.c_str());
    return s;
  }
  return Status::Ok();
}

}  // namespace

// ---- waiting ----

void JobFinishedSignal::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
  }
  cv_.notify_all();
}

bool JobFinishedSignal::finished() const {
  std::lock_guard<std::mutex> lock(mu_);
  return finished_;
}

bool JobFinishedSignal::WaitForJob(std::chrono::milliseconds interval) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, interval, [this] { return finished_; });
  return finished_;
}

void JobFinishedSignal::Pause(std::chrono::milliseconds interval) { clock_->SleepFor(interval); }

void ReadUntilJobFinished(MessageReader& reader, PollWaiter& waiter,
                          std::chrono::milliseconds interval) {
  while (true) {
    reader.Poll();
    if (waiter.WaitForJob(interval)) break;
  }
  reader.Drain(waiter);
}

// ---- file ----

FileMessageReader::FileMessageReader(std::string path, MessageProcessor* processor,
                                     bool cleanup_file)
    : path_(std::move(path)),
      processor_(processor),
      cleanup_file_(cleanup_file),
      splitter_(processor, path_, LineMode::kStrict) {}

FileMessageReader::~FileMessageReader() {
  if (fd_ >= 0) ::close(fd_);
}

Result<OrderedJson> FileMessageReader::Prepare() {
  // Created (and truncated) before launch so the job appends to a file we already follow.
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return UnavailableError(ErrnoText("create messages file", path_));
  OrderedJson params = OrderedJson::object();
  params["path"] = path_;
  params["include_stdio_in_messages"] = false;
  return params;
}

void FileMessageReader::Poll() {
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      if (!reported_open_error_) processor_->ReportChannelWarning(path_, ErrnoText("open", path_));
      reported_open_error_ = true;
      return;
    }
  }
  char buf[64 * 1024];
  while (true) {
    const ssize_t n = ::read(fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      processor_->ReportChannelWarning(path_, ErrnoText("read", path_));
      return;
    }
    if (n == 0) return;  // EOF for now; the job may append more
    splitter_.Feed(std::string_view(buf, static_cast<std::size_t>(n)));
  }
}

void FileMessageReader::Drain(PollWaiter& /*waiter*/) {
  // The job has exited, so the file is complete: read the rest, including a last line
  // without a newline.
  Poll();
  splitter_.Flush();
  processor_->Finish();
}

Status FileMessageReader::Cleanup() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (cleanup_file_ && ::unlink(path_.c_str()) != 0 && errno != ENOENT) {
    return UnavailableError(ErrnoText("delete messages file", path_));
  }
  return Status::Ok();
}

// ---- stdio ----

StdioMessageReader::StdioMessageReader(MessageProcessor* processor, StdStream message_stream)
    : processor_(processor),
      message_stream_(message_stream),
      stdout_(processor, "stdout", LineMode::kMixed),
      stderr_(processor, "stderr", LineMode::kMixed) {}

Result<OrderedJson> StdioMessageReader::Prepare() {
  OrderedJson params = OrderedJson::object();
  params["stdio"] = std::string(StdStreamName(message_stream_));
  return params;
}

void StdioMessageReader::Feed(StdStream stream, std::string_view bytes) {
  (stream == StdStream::kStdout ? stdout_ : stderr_).Feed(bytes);
}

void StdioMessageReader::Drain(PollWaiter& /*waiter*/) {
  stdout_.Flush();
  stderr_.Flush();
  processor_->Finish();
}

Status PumpStdio(int stdout_fd, int stderr_fd, StdioMessageReader& reader) {
  struct pollfd fds[2] = {{stdout_fd, POLLIN, 0}, {stderr_fd, POLLIN, 0}};
  const StdStream streams[2] = {StdStream::kStdout, StdStream::kStderr};
  int open_count = 0;
  for (auto& p : fds) open_count += p.fd >= 0;
  char buf[64 * 1024];
  Status status;
  while (open_count > 0) {
    const int rc = ::poll(fds, 2, -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) {
      status = UnavailableError(std::string("poll: ") + std::strerror(errno));
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {  // EOF or error: this stream is done
        fds[i].fd = -1;
        --open_count;
        continue;
      }
      reader.Feed(streams[i], std::string_view(buf, static_cast<std::size_t>(n)));
    }
  }
  class Finished final : public PollWaiter {
   public:
    bool WaitForJob(std::chrono::milliseconds) override { return true; }
    void Pause(std::chrono::milliseconds) override {}
  } finished;
  reader.Drain(finished);
  return status;
}

// ---- local directory blob store ----

LocalDirBlobStore::LocalDirBlobStore(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Status LocalDirBlobStore::CheckKey(std::string_view key) const {
  // Keys must stay inside the root.
  if (key.empty() || key.front() == '/') return InvalidArgumentError("blob key must be relative");
  for (const std::string& part : Split(key, '/')) {
    if (part.empty() || part == "." || part == "..") {
      return InvalidArgumentError("bad blob key '" + std::string(key) + "'");
    }
  }
  return Status::Ok();
}

std::string LocalDirBlobStore::PathOf(std::string_view key) const {
  return root_ + "/" + std::string(key);
}

Result<std::optional<std::string>> LocalDirBlobStore::Get(std::string_view key) {
  ARBITER_RETURN_IF_ERROR(CheckKey(key));
  const std::string path = PathOf(key);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return UnavailableError(ErrnoText("open", path));
  }
  std::string body;
  char buf[64 * 1024];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = UnavailableError(ErrnoText("read", path));
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    body.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return std::optional<std::string>(std::move(body));
}

Status LocalDirBlobStore::Put(std::string_view key, std::string_view data) {
  ARBITER_RETURN_IF_ERROR(CheckKey(key));
  return WriteFileAtomically(PathOf(key), data);
}

Result<std::vector<std::string>> LocalDirBlobStore::List(std::string_view prefix) {
  ARBITER_RETURN_IF_ERROR(CheckKey(prefix));
  std::vector<std::string> keys;
  const fs::path dir = PathOf(prefix);
  std::error_code ec;
  if (!fs::exists(dir, ec)) return keys;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec)) {
      keys.push_back(std::string(prefix) + "/" + fs::relative(it->path(), dir, ec).string());
    }
  }
  if (ec) return UnavailableError("list " + dir.string() + ": " + ec.message());
  std::sort(keys.begin(), keys.end());
  return keys;
}

Status LocalDirBlobStore::Delete(std::string_view key) {
  ARBITER_RETURN_IF_ERROR(CheckKey(key));
  const std::string path = PathOf(key);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return UnavailableError(ErrnoText("delete", path));
  }
  // Remove now-empty parent directories up to the root, so cleanup leaves nothing behind.
  std::error_code ec;
  for (fs::path p = fs::path(path).parent_path(); p.string().size() > root_.size();
       p = p.parent_path()) {
    if (!fs::is_empty(p, ec) || ec || !fs::remove(p, ec)) break;
  }
  return Status::Ok();
}

OrderedJson LocalDirBlobStore::MessagesParams(std::string_view prefix) const {
  OrderedJson params = OrderedJson::object();
  params["path"] = PathOf(prefix);
  params["include_stdio_in_messages"] = false;
  params["arbiter_blob_chunks"] = true;  // our extension: "path" names a chunk directory
  return params;
}

OrderedJson LocalDirBlobStore::ContextParams(std::string_view key) const {
  OrderedJson params = OrderedJson::object();
  params["path"] = PathOf(key);
  return params;
}

// ---- blob chunk reader ----

BlobChunkMessageReader::BlobChunkMessageReader(BlobStore* store, std::string prefix,
                                               MessageProcessor* processor, const Clock* clock,
                                               BlobReaderOptions options)
    : store_(store),
      prefix_(std::move(prefix)),
      processor_(processor),
      clock_(clock),
      options_(options),
      next_chunk_(std::max<int64_t>(1, options.first_chunk)) {}

Result<OrderedJson> BlobChunkMessageReader::Prepare() {
  // Nothing to create: chunk objects appear as the job uploads them.
  return store_->MessagesParams(prefix_);
}

void BlobChunkMessageReader::ProcessChunk(int64_t index, const std::string& body) {
  LineSplitter splitter(processor_, prefix_ + "/" + std::to_string(index) + ".json",
                        LineMode::kStrict);
  splitter.Feed(body);
  splitter.Flush();
}

void BlobChunkMessageReader::Poll() {
  // Chunks are numbered without gaps, so read forward until the next one is missing.
  while (true) {
    const std::string key = prefix_ + "/" + std::to_string(next_chunk_) + ".json";
    Result<std::optional<std::string>> body = store_->Get(key);
    if (!body.ok()) {
      processor_->ReportChannelWarning(key, body.status().ToString());
      return;
    }
    // Writers never upload an empty chunk; an empty object is one still being written
    // by a store whose PUT is not atomic (s3rver, a FUSE mount): read it next time.
    if (!body->has_value() || (*body)->empty()) return;
    ProcessChunk(next_chunk_, **body);
    ++next_chunk_;
  }
}

void BlobChunkMessageReader::ProcessStragglers() {
  // A writer that lost a chunk leaves a gap; read what lies beyond it rather than drop it.
  Result<std::vector<std::string>> keys = store_->List(prefix_);
  if (!keys.ok()) {
    processor_->ReportChannelWarning(prefix_, keys.status().ToString());
    return;
  }
  std::map<int64_t, std::string> later;
  for (const std::string& key : *keys) {
    std::string_view name = std::string_view(key).substr(prefix_.size() + 1);
    if (name.size() < 6 || name.substr(name.size() - 5) != ".json") continue;
    name.remove_suffix(5);
    if (name.empty() || name.size() > 15 ||
        !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    const int64_t index = std::stoll(std::string(name));
    if (index >= next_chunk_) later.emplace(index, key);
  }
  for (const auto& [index, key] : later) {
    processor_->ReportChannelWarning(key, "chunk " + std::to_string(next_chunk_) +
                                              " is missing; reading chunk " +
                                              std::to_string(index) + " out of sequence");
    Result<std::optional<std::string>> body = store_->Get(key);
    if (body.ok() && body->has_value()) ProcessChunk(index, **body);
    next_chunk_ = index + 1;
  }
}

void BlobChunkMessageReader::Drain(PollWaiter& waiter) {
  const TimePoint finished_at = clock_->Now();
  while (true) {
    Poll();
    if (processor_->received_closed()) break;
    if (clock_->Now() - finished_at >= options_.drain_window) break;
    waiter.Pause(options_.drain_pause);
  }
  ProcessStragglers();
  processor_->Finish();
}

Status BlobChunkMessageReader::Cleanup() {
  ARBITER_ASSIGN_OR_RETURN(std::vector<std::string> keys, store_->List(prefix_));
  for (const std::string& key : keys) ARBITER_RETURN_IF_ERROR(store_->Delete(key));
  return Status::Ok();
}

// ---- injectors ----

Result<OrderedJson> EnvContextInjector::Inject(const OrderedJson& context) {
  OrderedJson params = OrderedJson::object();
  params["data"] = context;
  constexpr std::size_t kMaxEnvString = 128 * 1024 - 1;  // MAX_ARG_STRLEN, incl. "NAME="
  const std::size_t size = kContextEnvVar.size() + 1 + EncodeParam(params).size();
  if (size > kMaxEnvString) {
    return FailedPreconditionError("pipes context too large for an environment variable (" +
                                   std::to_string(size) +
                                   " bytes encoded); use a file or blob context injector");
  }
  return params;
}

Result<OrderedJson> FileContextInjector::Inject(const OrderedJson& context) {
  ARBITER_RETURN_IF_ERROR(WriteFileAtomically(path_, DumpPythonStyle(context)));
  OrderedJson params = OrderedJson::object();
  params["path"] = path_;
  return params;
}

Status FileContextInjector::Cleanup() {
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
    return UnavailableError(ErrnoText("delete context file", path_));
  }
  return Status::Ok();
}

Result<OrderedJson> BlobContextInjector::Inject(const OrderedJson& context) {
  ARBITER_RETURN_IF_ERROR(store_->Put(key_, DumpPythonStyle(context)));
  injected_ = true;
  return store_->ContextParams(key_);
}

Status BlobContextInjector::Cleanup() {
  if (!injected_) return Status::Ok();
  return store_->Delete(key_);
}

}  // namespace arbiter::pipes
