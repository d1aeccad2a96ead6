// Typed pipes messages (protocol v0.1) and the parser/validator that turns one wire line into
// one of them. Every method's params key set is checked exactly, every metadata value against
// its type tag, and integer literals stay distinct from float literals (1 vs 1.0).
// Stateless functions; thread-safe.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "arbiter/common/status.h"
#include "arbiter/pipes/context.h"
#include "arbiter/pipes/json_util.h"

namespace arbiter::pipes {

inline constexpr std::string_view kVersionKey = "__dagster_pipes_version";
inline constexpr std::string_view kProtocolVersion = "0.1";

enum class MetadataType {
  kInfer,  // "__infer__": the orchestrator infers the kind from the JSON value
  kText,
  kUrl,
  kPath,
  kNotebook,
  kMd,
  kJson,
  kFloat,
  kInt,
  kBool,
  kDagsterRun,
  kAsset,
  kNull,
  kTimestamp,
  kTable,
  kTableSchema,
  kTableColumnLineage,
};

std::string_view MetadataTypeName(MetadataType type);
std::optional<MetadataType> MetadataTypeFromName(std::string_view name);

struct MetadataValue {
  MetadataType type = MetadataType::kInfer;
  Json raw_value;  // keeps number_integer / number_unsigned apart from number_float

  // What an "__infer__" value resolves to (text, float, int, bool, json or null); other types
  // resolve to themselves.
  MetadataType Resolved() const;
};

using Metadata = std::map<std::string, MetadataValue>;

struct PipesException {
  std::string message;
  std::vector<std::string> stack;
  std::optional<std::string> name;
  std::shared_ptr<const PipesException> cause;    // null when absent
  std::shared_ptr<const PipesException> context;  // null when absent
};

enum class LogLevel { kDebug, kInfo, kWarning, kError, kCritical };
std::string_view LogLevelName(LogLevel level);

enum class CheckSeverity { kWarn, kError };
enum class StdStream { kStdout, kStderr };
std::string_view StdStreamName(StdStream stream);

struct OpenedMessage {
  Json params;  // the whole params object: {} from Python, driver log root from DBFS writers
};
struct ClosedMessage {
  std::optional<PipesException> exception;
};
struct LogMessage {
  std::string message;
  LogLevel level = LogLevel::kInfo;
};
struct AssetMaterializationMessage {
  std::string asset_key;  // as sent (escaped form)
  AssetKeyPath asset_key_path;
  std::optional<std::string> data_version;
  std::optional<Metadata> metadata;  // nullopt when sent as null
};
struct AssetCheckMessage {
  std::string asset_key;
  AssetKeyPath asset_key_path;
  std::string check_name;
  bool passed = false;
  std::optional<Metadata> metadata;
  CheckSeverity severity = CheckSeverity::kError;
};
struct CustomMessage {
  Json payload;
};
struct ExternalStreamMessage {
  StdStream stream = StdStream::kStdout;
  std::string text;
  Json extras = Json::object();
};

using PipesMessage =
    std::variant<OpenedMessage, ClosedMessage, LogMessage, AssetMaterializationMessage,
                 AssetCheckMessage, CustomMessage, ExternalStreamMessage>;

std::string_view MethodName(const PipesMessage& message);

// Why a line was not delivered as a message.
enum class LineProblem {
  kNone,
  kNotJson,
  kInvalidUtf8,
  kNotAMessage,  // valid JSON but not a message object (no version key / not an object)
  kWrongVersion,
  kUnknownMethod,
  kBadParams,  // missing or extra keys, wrong types, bad metadata
};
std::string_view LineProblemName(LineProblem problem);

enum class LineMode {
  kStrict,  // every line must be a message (file and blob channels)
  kMixed,   // stdio: lines without the version key are ordinary output
};

struct ParsedLine {
  enum class Kind { kMessage, kPlainText, kInvalid };
  Kind kind = Kind::kInvalid;
  std::optional<PipesMessage> message;  // set for kMessage
  LineProblem problem = LineProblem::kNone;
  std::string error;  // set for kInvalid
};

// Parses and validates one line (without its newline).
ParsedLine ParseMessageLine(std::string_view line, LineMode mode);

// Same, as a Status for callers that only care whether the line is a valid message.
Result<PipesMessage> ParseMessage(std::string_view line);

// Validation of an already-parsed JSON envelope (used by ParseMessageLine).
Result<PipesMessage> MessageFromJson(const Json& envelope, LineProblem* problem = nullptr);

// Validates one metadata entry {"raw_value": ..., "type": ...}.
Result<MetadataValue> MetadataValueFromJson(const Json& entry);

}  // namespace arbiter::pipes
