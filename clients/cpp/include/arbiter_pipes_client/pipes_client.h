// arbiter_pipes_client: the job side of the pipes protocol for native (C++) jobs.
// Wire-compatible with Dagster Pipes 0.1, standalone (nlohmann_json + zlib, C++17), installable.
// Unlike Arbiter's own modules this library reports misuse and bad bootstrap data by throwing
// PipesError: it is linked into job code that does not know Arbiter's Status type.
// Thread-safety: a Context may be shared by threads; each message is one locked write().
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace arbiter::pipes::client {

class PipesError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Level { kDebug, kInfo, kWarning, kError, kCritical };
enum class Severity { kWarn, kError };

// One metadata value. Integers and floats stay distinct on the wire (1 vs 1.0).
class MetadataValue {
 public:
  MetadataValue(int v) : raw_(v) {}       // NOLINT: implicit for {"rows", 5} style lists
  MetadataValue(int64_t v) : raw_(v) {}   // NOLINT
  MetadataValue(uint64_t v) : raw_(v) {}  // NOLINT
  MetadataValue(double v) : raw_(v) {}    // NOLINT
  MetadataValue(bool v) : raw_(v) {}      // NOLINT
  MetadataValue(const char* v) : raw_(std::string(v)) {}  // NOLINT
  MetadataValue(std::string v) : raw_(std::move(v)) {}    // NOLINT

  // Explicitly typed values. `type` must be a protocol tag ("url", "md", "table", ...).
  static MetadataValue Typed(std::string type, nlohmann::json raw);
  static MetadataValue Json(nlohmann::json v) { return Typed("json", std::move(v)); }
  static MetadataValue Url(std::string v) { return Typed("url", std::move(v)); }
  static MetadataValue Path(std::string v) { return Typed("path", std::move(v)); }
  static MetadataValue Markdown(std::string v) { return Typed("md", std::move(v)); }
  static MetadataValue Timestamp(double seconds) { return Typed("timestamp", seconds); }
  static MetadataValue Null() { return Typed("null", nullptr); }

  const std::string& type() const { return type_; }
  const nlohmann::json& raw() const { return raw_; }

 private:
  MetadataValue(std::string type, nlohmann::json raw, int)
      : type_(std::move(type)), raw_(std::move(raw)) {}
  std::string type_ = "__infer__";
  nlohmann::json raw_;
};

using Metadata = std::vector<std::pair<std::string, MetadataValue>>;

// Where message lines go. Implementations write each line with one write() call.
class MessageWriter {
 public:
  virtual ~MessageWriter() = default;
  virtual void WriteLine(const std::string& line_with_newline) = 0;
  virtual void Close() {}
};

// Appends to a file opened O_APPEND: concurrent readers never see half a line.
std::unique_ptr<MessageWriter> MakeFileWriter(const std::string& path);
// "stdout" or "stderr"; flushes C and C++ stream buffers first so prints never split a line.
std::unique_ptr<MessageWriter> MakeStdioWriter(std::string_view stream);
// The writer the messages params ask for ({"path"}, {"stdio"}); PipesError otherwise.
std::unique_ptr<MessageWriter> MakeWriter(const nlohmann::json& messages_params);

// Bootstrap codec (base64(zlib(JSON))).
std::string EncodeParam(const nlohmann::json& value);
nlohmann::json DecodeParam(std::string_view encoded);

std::string EscapeAssetKey(const std::vector<std::string>& parts);

// Serializes like Python's json.dumps (", " / ": ", NaN/Infinity tokens), one line, UTF-8.
std::string DumpJson(const nlohmann::ordered_json& value);

class Context {
 public:
  // Opens pipes from DAGSTER_PIPES_* env vars, else from --dagster-pipes-* argv entries. Not
  // under pipes: returns a no-op context after one warning on stderr.
  static std::unique_ptr<Context> Open(int argc = 0, const char* const* argv = nullptr);
  // For tests and custom loaders: a context over given data and writer (sends `opened`).
  static std::unique_ptr<Context> OpenWith(nlohmann::json context_data,
                                           std::unique_ptr<MessageWriter> writer);
  static std::unique_ptr<Context> NoOp();

  ~Context();  // sends `closed` if Close was not called
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  bool is_noop() const { return writer_ == nullptr; }

  // ---- accessors ----
  bool is_asset_step() const;
  std::vector<std::string> asset_keys() const;  // empty when not an asset step
  std::string asset_key() const;                // exactly one asset in scope, else PipesError
  std::optional<std::string> code_version() const;
  bool is_partition_step() const;
  std::string partition_key() const;  // PipesError when there is none
  std::optional<std::pair<std::string, std::string>> partition_key_range() const;
  std::optional<std::pair<std::string, std::string>> partition_time_window() const;
  std::string run_id() const;
  std::optional<std::string> job_name() const;
  int retry_number() const;
  const nlohmann::json& extras() const;
  const nlohmann::json& extra(const std::string& key) const;  // PipesError if missing
  const nlohmann::json& data() const { return data_; }

  // ---- reports ----
  void Log(Level level, std::string_view message);
  void Debug(std::string_view m) { Log(Level::kDebug, m); }
  void Info(std::string_view m) { Log(Level::kInfo, m); }
  void Warning(std::string_view m) { Log(Level::kWarning, m); }
  void Error(std::string_view m) { Log(Level::kError, m); }
  void Critical(std::string_view m) { Log(Level::kCritical, m); }

  void ReportAssetMaterialization(const Metadata& metadata = {},
                                  std::optional<std::string> data_version = std::nullopt,
                                  std::optional<std::string> asset_key = std::nullopt);
  void ReportAssetCheck(const std::string& check_name, bool passed,
                        Severity severity = Severity::kError, const Metadata& metadata = {},
                        std::optional<std::string> asset_key = std::nullopt);
  void ReportCustomMessage(const nlohmann::json& payload);
  void LogExternalStream(std::string_view stream, std::string_view text);

  // Sends `closed` once; later calls do nothing. Writing after Close is a PipesError.
  void Close();
  void CloseWithException(const std::exception& e);
  bool closed() const;

 private:
  Context(nlohmann::json data, std::unique_ptr<MessageWriter> writer);
  void Send(std::string_view method, nlohmann::ordered_json params);
  void SendClosed(nlohmann::ordered_json params);
  std::string ResolveAssetKey(const std::optional<std::string>& asset_key) const;

  nlohmann::json data_;
  std::unique_ptr<MessageWriter> writer_;
  mutable std::mutex mu_;
  bool closed_ = false;
  std::set<std::string> materialized_;
};

// Opens pipes, runs fn(context), closes — with the exception if fn throws (then rethrows).
template <typename Fn>
void RunWithPipes(int argc, const char* const* argv, Fn&& fn) {
  std::unique_ptr<Context> ctx = Context::Open(argc, argv);
  try {
    fn(*ctx);
  } catch (const std::exception& e) {
    ctx->CloseWithException(e);
    throw;
  }
  ctx->Close();
}

}  // namespace arbiter::pipes::client
