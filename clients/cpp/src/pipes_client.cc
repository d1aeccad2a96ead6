// arbiter_pipes_client implementation: bootstrap decoding, context loading, writers, messages.
#include "arbiter_pipes_client/pipes_client.h"

#include <cxxabi.h>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

namespace arbiter::pipes::client {
namespace {

using OJson = nlohmann::ordered_json;

constexpr char kVersionKey[] = "__dagster_pipes_version";
constexpr char kContextEnv[] = "DAGSTER_PIPES_CONTEXT";
constexpr char kMessagesEnv[] = "DAGSTER_PIPES_MESSAGES";
constexpr char kContextFlag[] = "--dagster-pipes-context";
constexpr char kMessagesFlag[] = "--dagster-pipes-messages";
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void WriteAll(int fd, const std::string& data) {
  // One write() in practice; the loop only covers a short write (e.g. a signal).
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw PipesError(std::string("pipes: write failed: ") + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}

class FileWriter final : public MessageWriter {
 public:
  explicit FileWriter(const std::string& path)
      : fd_(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ < 0) throw PipesError("pipes: cannot open " + path + ": " + std::strerror(errno));
  }
  ~FileWriter() override { Close(); }
  void WriteLine(const std::string& line) override { WriteAll(fd_, line); }
  void Close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

class StdioWriter final : public MessageWriter {
 public:
  explicit StdioWriter(int fd) : fd_(fd) {}
  void WriteLine(const std::string& line) override {
    // Push out anything the job printed through buffered streams first.
    if (fd_ == 1) {
      std::cout.flush();
      std::fflush(stdout);
    } else {
      std::cerr.flush();
      std::fflush(stderr);
    }
    WriteAll(fd_, line);
  }

 private:
  int fd_;
};

// ---- JSON output (Python json.dumps style, UTF-8 kept as is) ----

void AppendString(std::string& out, std::string_view s) {
  out += '"';
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      default:
        break;
    }
    if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
      continue;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
      continue;
    }
    // Copy valid UTF-8 sequences; replace invalid bytes so the line stays valid UTF-8.
    std::size_t len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    }
    if (ok && len == 3) {
      const auto b1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xE0 && b1 < 0xA0) && !(c == 0xED && b1 > 0x9F);
    }
    if (ok && len == 4) {
      const auto b1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xF0 && b1 < 0x90) && !(c == 0xF4 && b1 > 0x8F);
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len - 1;
    } else {
      out += "\\ufffd";
    }
  }
  out += '"';
}

template <typename J>
void AppendJson(std::string& out, const J& v) {
  using T = nlohmann::json::value_t;
  switch (v.type()) {
    case T::object: {
      out += '{';
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ", ";
        first = false;
        AppendString(out, it.key());
        out += ": ";
        AppendJson(out, it.value());
      }
      out += '}';
      return;
    }
    case T::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ", ";
        first = false;
        AppendJson(out, e);
      }
      out += ']';
      return;
    }
    case T::string:
      AppendString(out, v.template get_ref<const std::string&>());
      return;
    case T::number_float: {
      const double d = v.template get<double>();
      if (std::isnan(d)) {
        out += "NaN";
      } else if (std::isinf(d)) {
        out += d > 0 ? "Infinity" : "-Infinity";
      } else {
        out += v.dump();  // shortest round-trip form; keeps the ".0" of 1.0
      }
      return;
    }
    case T::binary:
    case T::discarded:
      out += "null";
      return;
    default:
      out += v.dump();
      return;
  }
}

// ---- bootstrap ----

std::string Base64Encode(const std::string& bytes) {
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i < bytes.size()) {
    const bool two = bytes.size() - i == 2;
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (two) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += two ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string Base64Decode(std::string_view text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    const char* p = std::strchr(kAlphabet, c);
    if (c == '\0' || p == nullptr) continue;  // skipped like Python's lenient decoder
    acc = (acc << 6) | static_cast<uint32_t>(p - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

std::string Inflate(const std::string& in) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) throw PipesError("pipes: zlib init failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  std::array<char, 16384> buf;
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf.data());
    zs.avail_out = static_cast<uInt>(buf.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_OK || rc == Z_STREAM_END) out.append(buf.data(), buf.size() - zs.avail_out);
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) rc = Z_BUF_ERROR;
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) throw PipesError("pipes: bootstrap value is not a valid zlib stream");
  return out;
}

nlohmann::json ParseLenient(const std::string& text) {
  // Python may write bare NaN/Infinity; nlohmann rejects them, so map them to null first
  // (only bootstrap data is parsed here, where such values do not matter).
  std::string fixed;
  fixed.reserve(text.size());
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      fixed += c;
      continue;
    }
    if (c == '"') in_string = true;
    if (text.compare(i, 3, "NaN") == 0) {
      fixed += "null";
      i += 2;
    } else if (text.compare(i, 9, "-Infinity") == 0) {
      fixed += "null";
      i += 8;
    } else if (text.compare(i, 8, "Infinity") == 0) {
      fixed += "null";
      i += 7;
    } else {
      fixed += c;
    }
  }
  nlohmann::json j = nlohmann::json::parse(fixed, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw PipesError("pipes: bootstrap value is not valid JSON");
  return j;
}

nlohmann::json LoadContextData(const nlohmann::json& params) {
  if (!params.is_object()) throw PipesError("pipes: context params must be an object");
  if (auto it = params.find("path"); it != params.end() && it->is_string()) {
    std::ifstream in(it->get<std::string>(), std::ios::binary);
    if (!in) throw PipesError("pipes: cannot read context file " + it->get<std::string>());
    return ParseLenient(std::string(std::istreambuf_iterator<char>(in), {}));
  }
  if (auto it = params.find("data"); it != params.end()) {
    if (!it->is_object()) throw PipesError("pipes: context 'data' must be an object");
    return *it;
  }
  throw PipesError("pipes: context params need 'path' or 'data' (this client has no S3 loader)");
}

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "DEBUG";
    case Level::kInfo:
      return "INFO";
    case Level::kWarning:
      return "WARNING";
    case Level::kError:
      return "ERROR";
    case Level::kCritical:
      return "CRITICAL";
  }
  return "INFO";
}

OJson MetadataJson(const Metadata& metadata) {
  if (metadata.empty()) return nullptr;  // the protocol sends an empty map as null
  OJson out = OJson::object();
  for (const auto& [name, value] : metadata) {
    OJson entry = OJson::object();
    entry["raw_value"] = OJson(value.raw());
    entry["type"] = value.type();
    out[name] = std::move(entry);
  }
  return out;
}

std::string Demangle(const char* name) {
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string out = status == 0 && d != nullptr ? d : name;
  std::free(d);
  return out;
}

}  // namespace

MetadataValue MetadataValue::Typed(std::string type, nlohmann::json raw) {
  static const std::set<std::string> kTypes = {"__infer__",
                                               "text",
                                               "url",
                                               "path",
                                               "notebook",
                                               "md",
                                               "json",
                                               "float",
                                               "int",
                                               "bool",
                                               "dagster_run",
                                               "asset",
                                               "null",
                                               "timestamp",
                                               "table",
                                               "table_schema",
                                               "table_column_lineage"};
  if (kTypes.count(type) == 0) throw PipesError("pipes: unknown metadata type '" + type + "'");
  return MetadataValue(std::move(type), std::move(raw), 0);
}

std::unique_ptr<MessageWriter> MakeFileWriter(const std::string& path) {
  return std::make_unique<FileWriter>(path);
}

std::unique_ptr<MessageWriter> MakeStdioWriter(std::string_view stream) {
  if (stream == "stdout") return std::make_unique<StdioWriter>(1);
  if (stream == "stderr") return std::make_unique<StdioWriter>(2);
  throw PipesError("pipes: stdio must be stdout or stderr");
}

std::unique_ptr<MessageWriter> MakeWriter(const nlohmann::json& params) {
  if (!params.is_object()) throw PipesError("pipes: messages params must be an object");
  if (params.contains("arbiter_blob_chunks")) {
    throw PipesError("pipes: blob-chunk channels are not supported by the C++ client");
  }
  if (auto it = params.find("path"); it != params.end() && it->is_string()) {
    return MakeFileWriter(it->get<std::string>());
  }
  if (auto it = params.find("stdio"); it != params.end() && it->is_string()) {
    return MakeStdioWriter(it->get<std::string>());
  }
  throw PipesError("pipes: unsupported messages params " + params.dump());
}

std::string EncodeParam(const nlohmann::json& value) {
  const std::string json = DumpJson(OJson(value));
  uLongf size = compressBound(static_cast<uLong>(json.size()));
  std::string z(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(z.data()), &size,
                reinterpret_cast<const Bytef*>(json.data()), static_cast<uLong>(json.size()),
                Z_DEFAULT_COMPRESSION) != Z_OK) {
    throw PipesError("pipes: zlib compress failed");
  }
  z.resize(size);
  return Base64Encode(z);
}

nlohmann::json DecodeParam(std::string_view encoded) {
  return ParseLenient(Inflate(Base64Decode(encoded)));
}

std::string EscapeAssetKey(const std::vector<std::string>& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '/';
    for (char c : parts[i]) {
      if (c == '/') out += '\\';
      out += c;
    }
  }
  return out;
}

std::string DumpJson(const nlohmann::ordered_json& value) {
  std::string out;
  AppendJson(out, value);
  return out;
}

// ---- Context ----

std::unique_ptr<Context> Context::Open(int argc, const char* const* argv) {
  std::optional<std::string> ctx, msgs;
  if (const char* c = std::getenv(kContextEnv)) {
    ctx = c;
    const char* m = std::getenv(kMessagesEnv);
    if (m == nullptr) throw PipesError("pipes: DAGSTER_PIPES_CONTEXT is set but not _MESSAGES");
    msgs = m;
  } else if (argv != nullptr) {
    for (int i = 0; i + 1 < argc; ++i) {
      if (std::strcmp(argv[i], kContextFlag) == 0) ctx = argv[i + 1];
      if (std::strcmp(argv[i], kMessagesFlag) == 0) msgs = argv[i + 1];
    }
    if (ctx && !msgs) throw PipesError("pipes: --dagster-pipes-messages is missing");
  }
  if (!ctx) {
    std::cerr << "warning: arbiter_pipes_client: not launched under pipes (no " << kContextEnv
              << "); reporting is a no-op\n";
    return NoOp();
  }
  nlohmann::json data = LoadContextData(DecodeParam(*ctx));
  return OpenWith(std::move(data), MakeWriter(DecodeParam(*msgs)));
}

std::unique_ptr<Context> Context::OpenWith(nlohmann::json context_data,
                                           std::unique_ptr<MessageWriter> writer) {
  if (!context_data.is_object()) throw PipesError("pipes: context data must be an object");
  std::unique_ptr<Context> ctx(new Context(std::move(context_data), std::move(writer)));
  ctx->Send("opened", OJson::object());
  return ctx;
}

std::unique_ptr<Context> Context::NoOp() {
  return std::unique_ptr<Context>(new Context(nlohmann::json::object(), nullptr));
}

Context::Context(nlohmann::json data, std::unique_ptr<MessageWriter> writer)
    : data_(std::move(data)), writer_(std::move(writer)) {}

Context::~Context() {
  try {
    Close();
  } catch (...) {  // a destructor must not throw; the orchestrator warns about no `closed`
  }
}

void Context::Send(std::string_view method, OJson params) {
  if (writer_ == nullptr) return;
  OJson message = OJson::object();
  message[kVersionKey] = "0.1";
  message["method"] = method;
  message["params"] = std::move(params);
  std::string line = DumpJson(message);
  line += '\n';
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) throw PipesError("pipes: already closed; cannot send " + std::string(method));
  writer_->WriteLine(line);
}

void Context::SendClosed(OJson params) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
  }
  Send("closed", std::move(params));
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  if (writer_ != nullptr) writer_->Close();
}

void Context::Close() { SendClosed(OJson::object()); }

void Context::CloseWithException(const std::exception& e) {
  OJson exc = OJson::object();
  const std::string name = Demangle(typeid(e).name());
  exc["message"] = name + ": " + e.what() + "\n";
  exc["stack"] = OJson::array();
  exc["name"] = name;
  exc["cause"] = nullptr;
  exc["context"] = nullptr;
  OJson params = OJson::object();
  params["exception"] = std::move(exc);
  SendClosed(std::move(params));
}

bool Context::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

bool Context::is_asset_step() const {
  return data_.contains("asset_keys") && data_["asset_keys"].is_array();
}

std::vector<std::string> Context::asset_keys() const {
  std::vector<std::string> out;
  if (!is_asset_step()) return out;
  for (const auto& k : data_["asset_keys"]) {
    if (k.is_string()) out.push_back(k.get<std::string>());
  }
  return out;
}

std::string Context::asset_key() const {
  std::vector<std::string> keys = asset_keys();
  if (keys.size() != 1) {
    throw PipesError("pipes: asset_key needs exactly one asset in scope, have " +
                     std::to_string(keys.size()));
  }
  return keys[0];
}

std::optional<std::string> Context::code_version() const {
  const std::string key = asset_key();
  const auto it = data_.find("code_version_by_asset_key");
  if (it == data_.end() || !it->is_object() || !it->contains(key) || !(*it)[key].is_string()) {
    return std::nullopt;
  }
  return (*it)[key].get<std::string>();
}

bool Context::is_partition_step() const {
  return data_.contains("partition_key_range") && data_["partition_key_range"].is_object();
}

std::string Context::partition_key() const {
  const auto it = data_.find("partition_key");
  if (it == data_.end() || !it->is_string()) throw PipesError("pipes: no single partition key");
  return it->get<std::string>();
}

namespace {
std::optional<std::pair<std::string, std::string>> RangeOf(const nlohmann::json& data,
                                                           const char* key) {
  const auto it = data.find(key);
  if (it == data.end() || !it->is_object()) return std::nullopt;
  return std::make_pair(it->value("start", ""), it->value("end", ""));
}
}  // namespace

std::optional<std::pair<std::string, std::string>> Context::partition_key_range() const {
  return RangeOf(data_, "partition_key_range");
}

std::optional<std::pair<std::string, std::string>> Context::partition_time_window() const {
  return RangeOf(data_, "partition_time_window");
}

std::string Context::run_id() const { return data_.value("run_id", ""); }

std::optional<std::string> Context::job_name() const {
  const auto it = data_.find("job_name");
  if (it == data_.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

int Context::retry_number() const {
  const auto it = data_.find("retry_number");
  return it != data_.end() && it->is_number_integer() ? it->get<int>() : 0;
}

const nlohmann::json& Context::extras() const {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  const auto it = data_.find("extras");
  return it != data_.end() && it->is_object() ? *it : kEmpty;
}

const nlohmann::json& Context::extra(const std::string& key) const {
  const nlohmann::json& e = extras();
  const auto it = e.find(key);
  if (it == e.end()) throw PipesError("pipes: no extra '" + key + "'");
  return *it;
}

void Context::Log(Level level, std::string_view message) {
  if (is_noop()) {
    std::cerr << LevelName(level) << " " << message << "\n";
    return;
  }
  OJson params = OJson::object();
  params["message"] = std::string(message);
  params["level"] = LevelName(level);
  Send("log", std::move(params));
}

std::string Context::ResolveAssetKey(const std::optional<std::string>& asset_key) const {
  if (is_noop()) return asset_key.value_or("");
  std::vector<std::string> keys = asset_keys();
  if (!asset_key) {
    if (keys.size() != 1) {
      throw PipesError("pipes: asset_key is required with " + std::to_string(keys.size()) +
                       " assets in scope");
    }
    return keys[0];
  }
  if (!keys.empty() && std::find(keys.begin(), keys.end(), *asset_key) == keys.end()) {
    throw PipesError("pipes: asset '" + *asset_key + "' is not in scope");
  }
  return *asset_key;
}

void Context::ReportAssetMaterialization(const Metadata& metadata,
                                         std::optional<std::string> data_version,
                                         std::optional<std::string> asset_key) {
  const std::string key = ResolveAssetKey(asset_key);
  if (is_noop()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!materialized_.insert(key).second) {
      throw PipesError("pipes: asset '" + key + "' already reported as materialized");
    }
  }
  OJson params = OJson::object();
  params["asset_key"] = key;
  params["data_version"] = data_version ? OJson(*data_version) : OJson(nullptr);
  params["metadata"] = MetadataJson(metadata);
  Send("report_asset_materialization", std::move(params));
}

void Context::ReportAssetCheck(const std::string& check_name, bool passed, Severity severity,
                               const Metadata& metadata, std::optional<std::string> asset_key) {
  const std::string key = ResolveAssetKey(asset_key);
  OJson params = OJson::object();
  params["asset_key"] = key;
  params["check_name"] = check_name;
  params["passed"] = passed;
  params["metadata"] = MetadataJson(metadata);
  params["severity"] = severity == Severity::kWarn ? "WARN" : "ERROR";
  Send("report_asset_check", std::move(params));
}

void Context::ReportCustomMessage(const nlohmann::json& payload) {
  OJson params = OJson::object();
  params["payload"] = OJson(payload);
  Send("report_custom_message", std::move(params));
}

void Context::LogExternalStream(std::string_view stream, std::string_view text) {
  if (stream != "stdout" && stream != "stderr") {
    throw PipesError("pipes: stream must be stdout or stderr");
  }
  OJson params = OJson::object();
  params["stream"] = std::string(stream);
  params["text"] = std::string(text);
  params["extras"] = OJson::object();
  Send("log_external_stream", std::move(params));
}

}  // namespace arbiter::pipes::client
