// Message parsing and validation (protocol v0.1).
#include "arbiter/pipes/message.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <utility>

namespace arbiter::pipes {
namespace {

struct TypeName {
  MetadataType type;
  std::string_view name;
};
constexpr TypeName kTypeNames[] = {
    {MetadataType::kInfer, "__infer__"},
    {MetadataType::kText, "text"},
    {MetadataType::kUrl, "url"},
    {MetadataType::kPath, "path"},
    {MetadataType::kNotebook, "notebook"},
    {MetadataType::kMd, "md"},
    {MetadataType::kJson, "json"},
    {MetadataType::kFloat, "float"},
    {MetadataType::kInt, "int"},
    {MetadataType::kBool, "bool"},
    {MetadataType::kDagsterRun, "dagster_run"},
    {MetadataType::kAsset, "asset"},
    {MetadataType::kNull, "null"},
    {MetadataType::kTimestamp, "timestamp"},
    {MetadataType::kTable, "table"},
    {MetadataType::kTableSchema, "table_schema"},
    {MetadataType::kTableColumnLineage, "table_column_lineage"},
};

std::string TypeOf(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "bool";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "int";
    case Json::value_t::number_float:
      return "float";
    case Json::value_t::string:
      return "string";
    case Json::value_t::array:
      return "array";
    case Json::value_t::object:
      return "object";
    default:
      return "unknown";
  }
}

Status Bad(std::string message) { return InvalidArgumentError(std::move(message)); }

// Checks that `params` is an object whose keys are all of `required` plus any of `optional`.
Status CheckKeys(std::string_view what, const Json& params,
                 std::initializer_list<std::string_view> required,
                 std::initializer_list<std::string_view> optional = {}) {
  if (!params.is_object()) {
    return Bad(std::string(what) + ": expected an object, got " + TypeOf(params));
  }
  for (std::string_view key : required) {
    if (!params.contains(key))
      return Bad(std::string(what) + ": missing key '" + std::string(key) + "'");
  }
  for (const auto& [key, value] : params.items()) {
    const bool known = std::find(required.begin(), required.end(), key) != required.end() ||
                       std::find(optional.begin(), optional.end(), key) != optional.end();
    if (!known) return Bad(std::string(what) + ": unexpected key '" + key + "'");
  }
  return Status::Ok();
}

Result<std::string> GetString(Json& obj, std::string_view key, std::string_view what) {
  Json& v = obj.at(key);
  if (!v.is_string()) {
    return Bad(std::string(what) + "." + std::string(key) + ": expected string, got " + TypeOf(v));
  }
  return std::move(v.get_ref<std::string&>());
}

Result<std::optional<std::string>> GetOptionalString(Json& obj, std::string_view key,
                                                     std::string_view what) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) {
    return Bad(std::string(what) + "." + std::string(key) + ": expected string or null, got " +
               TypeOf(*it));
  }
  return std::optional<std::string>(std::move(it->get_ref<std::string&>()));
}

Status CheckColumnSpec(const Json& col, std::string_view what) {
  ARBITER_RETURN_IF_ERROR(
      CheckKeys(what, col, {"name", "type"}, {"description", "tags", "constraints"}));
  if (!col["name"].is_string() || !col["type"].is_string()) {
    return Bad(std::string(what) + ": name and type must be strings");
  }
  if (col.contains("description") && !col["description"].is_string() &&
      !col["description"].is_null()) {
    return Bad(std::string(what) + ": description must be a string");
  }
  if (col.contains("tags") && !col["tags"].is_null()) {
    if (!col["tags"].is_object()) return Bad(std::string(what) + ": tags must be an object");
    for (const auto& tag : col["tags"]) {
      if (!tag.is_string()) return Bad(std::string(what) + ": tag values must be strings");
    }
  }
  if (col.contains("constraints") && !col["constraints"].is_object() &&
      !col["constraints"].is_null()) {
    return Bad(std::string(what) + ": constraints must be an object");
  }
  return Status::Ok();
}

Status CheckColumns(const Json& columns, std::string_view what) {
  if (!columns.is_array()) return Bad(std::string(what) + ": columns must be an array");
  for (const Json& col : columns) ARBITER_RETURN_IF_ERROR(CheckColumnSpec(col, what));
  return Status::Ok();
}

Status CheckRawValue(MetadataType type, const Json& v) {
  auto want = [&](bool ok, std::string_view expected) -> Status {
    if (ok) return Status::Ok();
    return Bad("metadata of type '" + std::string(MetadataTypeName(type)) + "' needs " +
               std::string(expected) + ", got " + TypeOf(v));
  };
  switch (type) {
    case MetadataType::kInfer:
      return Status::Ok();
    case MetadataType::kText:
    case MetadataType::kUrl:
    case MetadataType::kPath:
    case MetadataType::kNotebook:
    case MetadataType::kMd:
    case MetadataType::kDagsterRun:
    case MetadataType::kAsset:
      return want(v.is_string(), "a string");
    case MetadataType::kJson:
      return want(v.is_object() || v.is_array(), "an object or array");
    case MetadataType::kFloat:
    case MetadataType::kTimestamp:
      return want(v.is_number(), "a number");
    case MetadataType::kInt:
      return want(v.is_number_integer(), "an integer literal");
    case MetadataType::kBool:
      return want(v.is_boolean(), "a bool");
    case MetadataType::kNull:
      return want(v.is_null(), "null");
    case MetadataType::kTable: {
      ARBITER_RETURN_IF_ERROR(want(v.is_object(), "an object"));
      ARBITER_RETURN_IF_ERROR(CheckKeys("table", v, {"records"}, {"schema"}));
      if (!v["records"].is_array()) return Bad("table: records must be an array");
      for (const Json& r : v["records"]) {
        if (!r.is_object()) return Bad("table: each record must be an object");
      }
      if (v.contains("schema") && !v["schema"].is_null()) {
        const Json& s = v["schema"];
        if (s.is_object()) {
          ARBITER_RETURN_IF_ERROR(CheckKeys("table.schema", s, {"columns"}));
          return CheckColumns(s["columns"], "table.schema");
        }
        return CheckColumns(s, "table.schema");
      }
      return Status::Ok();
    }
    case MetadataType::kTableSchema:
      ARBITER_RETURN_IF_ERROR(want(v.is_object(), "an object"));
      ARBITER_RETURN_IF_ERROR(CheckKeys("table_schema", v, {"columns"}));
      return CheckColumns(v["columns"], "table_schema");
    case MetadataType::kTableColumnLineage:
      ARBITER_RETURN_IF_ERROR(want(v.is_object(), "an object"));
      ARBITER_RETURN_IF_ERROR(CheckKeys("table_column_lineage", v, {"deps_by_column"}));
      if (!v["deps_by_column"].is_object()) {
        return Bad("table_column_lineage: deps_by_column must be an object");
      }
      for (const Json& deps : v["deps_by_column"]) {
        if (!deps.is_array()) return Bad("table_column_lineage: each column needs an array");
        for (const Json& dep : deps) {
          ARBITER_RETURN_IF_ERROR(
              CheckKeys("table_column_lineage dep", dep, {"asset_key", "column_name"}));
          if (!dep["asset_key"].is_string() || !dep["column_name"].is_string()) {
            return Bad("table_column_lineage: asset_key and column_name must be strings");
          }
        }
      }
      return Status::Ok();
  }
  return Bad("unknown metadata type");
}

// Validates one metadata entry and moves its raw value out.
Result<MetadataValue> TakeMetadataValue(Json& entry) {
  ARBITER_RETURN_IF_ERROR(CheckKeys("metadata value", entry, {"raw_value", "type"}));
  const Json& type = entry["type"];
  if (!type.is_string()) return Bad("metadata value: type must be a string");
  std::optional<MetadataType> t = MetadataTypeFromName(type.get_ref<const std::string&>());
  if (!t) return Bad("metadata value: unknown type '" + type.get<std::string>() + "'");
  Json& raw = entry["raw_value"];
  ARBITER_RETURN_IF_ERROR(CheckRawValue(*t, raw));
  return MetadataValue{*t, std::move(raw)};
}

Result<std::optional<Metadata>> ParseMetadata(Json& v) {
  if (v.is_null()) return std::optional<Metadata>();
  if (!v.is_object()) return Bad("metadata: expected an object or null, got " + TypeOf(v));
  Metadata out;
  for (auto it = v.begin(); it != v.end(); ++it) {
    Result<MetadataValue> value = TakeMetadataValue(it.value());
    if (!value.ok()) return value.status().WithContext("metadata '" + it.key() + "'");
    out.emplace(it.key(), std::move(value).value());
  }
  return std::optional<Metadata>(std::move(out));
}

Result<PipesException> ParseException(Json& v) {
  ARBITER_RETURN_IF_ERROR(
      CheckKeys("exception", v, {"message"}, {"stack", "name", "cause", "context"}));
  PipesException e;
  ARBITER_ASSIGN_OR_RETURN(e.message, GetString(v, "message", "exception"));
  if (auto it = v.find("stack"); it != v.end() && !it->is_null()) {
    if (!it->is_array()) return Bad("exception.stack: expected an array of strings");
    for (const Json& frame : *it) {
      if (!frame.is_string()) return Bad("exception.stack: expected an array of strings");
      e.stack.push_back(frame.get<std::string>());
    }
  }
  ARBITER_ASSIGN_OR_RETURN(e.name, GetOptionalString(v, "name", "exception"));
  for (auto [key, slot] : {std::pair{"cause", &e.cause}, std::pair{"context", &e.context}}) {
    auto it = v.find(key);
    if (it == v.end() || it->is_null()) continue;
    Result<PipesException> nested = ParseException(*it);
    if (!nested.ok()) return nested.status().WithContext(std::string("exception.") + key);
    *slot = std::make_shared<const PipesException>(std::move(nested).value());
  }
  return e;
}

std::optional<LogLevel> ParseLevel(std::string_view s) {
  std::string up;
  for (char c : s) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (up == "INFO") return LogLevel::kInfo;
  if (up == "DEBUG") return LogLevel::kDebug;
  if (up == "WARNING" || up == "WARN") return LogLevel::kWarning;
  if (up == "ERROR") return LogLevel::kError;
  if (up == "CRITICAL" || up == "FATAL") return LogLevel::kCritical;
  return std::nullopt;
}

Result<std::string> GetAssetKey(Json& params, std::string_view what, AssetKeyPath* path) {
  ARBITER_ASSIGN_OR_RETURN(std::string key, GetString(params, "asset_key", what));
  *path = ParseEscapedAssetKey(key);
  if (path->empty()) return Bad(std::string(what) + ".asset_key: empty asset key");
  return key;
}

Result<PipesMessage> ParseParams(std::string_view method, Json& params, LineProblem* problem) {
  *problem = LineProblem::kBadParams;
  if (method == "log") {
    ARBITER_RETURN_IF_ERROR(CheckKeys("log params", params, {"message"}, {"level"}));
    LogMessage m;
    ARBITER_ASSIGN_OR_RETURN(m.message, GetString(params, "message", "log"));
    ARBITER_ASSIGN_OR_RETURN(std::optional<std::string> level,
                             GetOptionalString(params, "level", "log"));
    if (level) {
      std::optional<LogLevel> parsed = ParseLevel(*level);
      if (!parsed) return Bad("log.level: unknown level '" + *level + "'");
      m.level = *parsed;
    }
    return PipesMessage(std::move(m));
  }
  if (method == "report_asset_materialization") {
    ARBITER_RETURN_IF_ERROR(CheckKeys("report_asset_materialization params", params,
                                      {"asset_key", "data_version", "metadata"}));
    AssetMaterializationMessage m;
    ARBITER_ASSIGN_OR_RETURN(
        m.asset_key, GetAssetKey(params, "report_asset_materialization", &m.asset_key_path));
    ARBITER_ASSIGN_OR_RETURN(
        m.data_version, GetOptionalString(params, "data_version", "report_asset_materialization"));
    ARBITER_ASSIGN_OR_RETURN(m.metadata, ParseMetadata(params["metadata"]));
    return PipesMessage(std::move(m));
  }
  if (method == "report_asset_check") {
    ARBITER_RETURN_IF_ERROR(
        CheckKeys("report_asset_check params", params,
                  {"asset_key", "check_name", "passed", "metadata", "severity"}));
    AssetCheckMessage m;
    ARBITER_ASSIGN_OR_RETURN(m.asset_key,
                             GetAssetKey(params, "report_asset_check", &m.asset_key_path));
    ARBITER_ASSIGN_OR_RETURN(m.check_name, GetString(params, "check_name", "report_asset_check"));
    if (!params["passed"].is_boolean()) return Bad("report_asset_check.passed: expected bool");
    m.passed = params["passed"].get<bool>();
    ARBITER_ASSIGN_OR_RETURN(m.metadata, ParseMetadata(params["metadata"]));
    ARBITER_ASSIGN_OR_RETURN(std::string severity,
                             GetString(params, "severity", "report_asset_check"));
    if (severity == "WARN") {
      m.severity = CheckSeverity::kWarn;
    } else if (severity == "ERROR") {
      m.severity = CheckSeverity::kError;
    } else {
      return Bad("report_asset_check.severity: expected WARN or ERROR, got '" + severity + "'");
    }
    return PipesMessage(std::move(m));
  }
  if (method == "opened") {
    // Any object: Python sends {}, DBFS writers add cluster_driver_log_root.
    if (params.is_null()) return PipesMessage(OpenedMessage{Json::object()});
    if (!params.is_object()) return Bad("opened params: expected an object, got " + TypeOf(params));
    return PipesMessage(OpenedMessage{std::move(params)});
  }
  if (method == "closed") {
    ClosedMessage m;
    if (params.is_null()) return PipesMessage(std::move(m));
    ARBITER_RETURN_IF_ERROR(CheckKeys("closed params", params, {}, {"exception"}));
    if (auto it = params.find("exception"); it != params.end() && !it->is_null()) {
      ARBITER_ASSIGN_OR_RETURN(m.exception, ParseException(*it));
    }
    return PipesMessage(std::move(m));
  }
  if (method == "report_custom_message") {
    ARBITER_RETURN_IF_ERROR(CheckKeys("report_custom_message params", params, {"payload"}));
    return PipesMessage(CustomMessage{std::move(params["payload"])});
  }
  if (method == "log_external_stream") {
    ARBITER_RETURN_IF_ERROR(
        CheckKeys("log_external_stream params", params, {"stream", "text"}, {"extras"}));
    ExternalStreamMessage m;
    ARBITER_ASSIGN_OR_RETURN(std::string stream,
                             GetString(params, "stream", "log_external_stream"));
    if (stream == "stdout") {
      m.stream = StdStream::kStdout;
    } else if (stream == "stderr") {
      m.stream = StdStream::kStderr;
    } else {
      return Bad("log_external_stream.stream: expected stdout or stderr, got '" + stream + "'");
    }
    ARBITER_ASSIGN_OR_RETURN(m.text, GetString(params, "text", "log_external_stream"));
    if (auto it = params.find("extras"); it != params.end() && !it->is_null()) {
      if (!it->is_object()) return Bad("log_external_stream.extras: expected an object");
      m.extras = std::move(*it);
    }
    return PipesMessage(std::move(m));
  }
  *problem = LineProblem::kUnknownMethod;
  return Bad("unknown method '" + std::string(method) + "'");
}

}  // namespace

std::string_view MetadataTypeName(MetadataType type) {
  for (const TypeName& t : kTypeNames) {
    if (t.type == type) return t.name;
  }
  return "?";
}

std::optional<MetadataType> MetadataTypeFromName(std::string_view name) {
  for (const TypeName& t : kTypeNames) {
    if (t.name == name) return t.type;
  }
  return std::nullopt;
}

MetadataType MetadataValue::Resolved() const {
  if (type != MetadataType::kInfer) return type;
  switch (raw_value.type()) {
    case Json::value_t::string:
      return MetadataType::kText;
    case Json::value_t::number_float:
      return MetadataType::kFloat;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return MetadataType::kInt;
    case Json::value_t::boolean:
      return MetadataType::kBool;
    case Json::value_t::array:
    case Json::value_t::object:
      return MetadataType::kJson;
    default:
      return MetadataType::kNull;
  }
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR";
    case LogLevel::kCritical:
      return "CRITICAL";
  }
  return "INFO";
}

std::string_view StdStreamName(StdStream stream) {
  return stream == StdStream::kStdout ? "stdout" : "stderr";
}

std::string_view MethodName(const PipesMessage& message) {
  struct Visitor {
    std::string_view operator()(const OpenedMessage&) const { return "opened"; }
    std::string_view operator()(const ClosedMessage&) const { return "closed"; }
    std::string_view operator()(const LogMessage&) const { return "log"; }
    std::string_view operator()(const AssetMaterializationMessage&) const {
      return "report_asset_materialization";
    }
    std::string_view operator()(const AssetCheckMessage&) const { return "report_asset_check"; }
    std::string_view operator()(const CustomMessage&) const { return "report_custom_message"; }
    std::string_view operator()(const ExternalStreamMessage&) const {
      return "log_external_stream";
    }
  };
  return std::visit(Visitor{}, message);
}

std::string_view LineProblemName(LineProblem problem) {
  switch (problem) {
    case LineProblem::kNone:
      return "none";
    case LineProblem::kNotJson:
      return "not_json";
    case LineProblem::kInvalidUtf8:
      return "invalid_utf8";
    case LineProblem::kNotAMessage:
      return "not_a_message";
    case LineProblem::kWrongVersion:
      return "wrong_version";
    case LineProblem::kUnknownMethod:
      return "unknown_method";
    case LineProblem::kBadParams:
      return "bad_params";
  }
  return "?";
}

Result<MetadataValue> MetadataValueFromJson(const Json& entry) {
  Json copy = entry;
  return TakeMetadataValue(copy);
}

namespace {

// The envelope's pieces, however they were read (DOM or streaming).
struct Envelope {
  const Json* version = nullptr;
  const Json* method = nullptr;
  Json* params = nullptr;
  std::string unexpected_key;
};

Result<PipesMessage> MessageFromEnvelope(const Envelope& e, LineProblem* problem) {
  *problem = LineProblem::kNotAMessage;
  if (e.version == nullptr) return Bad("message: no __dagster_pipes_version key");
  *problem = LineProblem::kWrongVersion;
  if (!e.version->is_string() || e.version->get_ref<const std::string&>() != kProtocolVersion) {
    return Bad("message: unsupported protocol version " + e.version->dump() +
               " (expected \"0.1\")");
  }
  *problem = LineProblem::kBadParams;
  if (e.method == nullptr || !e.method->is_string()) {
    return Bad("message: 'method' missing or not a string");
  }
  if (e.params == nullptr) return Bad("message: no 'params' key");
  if (!e.unexpected_key.empty()) {
    return Bad("message: unexpected top-level key '" + e.unexpected_key + "'");
  }
  Result<PipesMessage> m = ParseParams(e.method->get_ref<const std::string&>(), *e.params, problem);
  if (m.ok()) *problem = LineProblem::kNone;
  return m;
}

}  // namespace

Result<PipesMessage> MessageFromJson(const Json& envelope, LineProblem* problem) {
  LineProblem ignored;
  if (problem == nullptr) problem = &ignored;
  *problem = LineProblem::kNotAMessage;
  if (!envelope.is_object()) return Bad("message: expected a JSON object, got " + TypeOf(envelope));
  Envelope e;
  Json params;
  for (const auto& [key, value] : envelope.items()) {
    if (key == kVersionKey) {
      e.version = &value;
    } else if (key == "method") {
      e.method = &value;
    } else if (key == "params") {
      params = value;  // validation moves values out, so work on a copy
      e.params = &params;
    } else if (e.unexpected_key.empty()) {
      e.unexpected_key = key;
    }
  }
  return MessageFromEnvelope(e, problem);
}

ParsedLine ParseMessageLine(std::string_view line, LineMode mode) {
  ParsedLine out;
  // Mixed streams: a message is a JSON object carrying the version key, so ordinary output
  // is recognised without parsing it.
  const bool mentions_version = line.find(kVersionKey) != std::string_view::npos;
  if (mode == LineMode::kMixed && !mentions_version) {
    out.kind = ParsedLine::Kind::kPlainText;
    return out;
  }
  auto plain_or_invalid = [&](LineProblem problem, std::string error) {
    if (mode == LineMode::kMixed && problem == LineProblem::kNotAMessage) {
      out.kind = ParsedLine::Kind::kPlainText;
    } else {
      out.problem = problem;
      out.error = std::move(error);
    }
    return std::move(out);
  };
  if (!IsValidUtf8(line)) return plain_or_invalid(LineProblem::kInvalidUtf8, "invalid UTF-8");

  // Stream the top-level object: only the member values become DOMs.
  JsonReader reader(line);
  if (!reader.BeginObject()) {
    // Not an object: still tell "valid JSON, but not a message" from "not JSON".
    JsonReader whole(line);
    Json ignored;
    if (whole.ParseValue(ignored) && whole.AtEnd()) {
      return plain_or_invalid(LineProblem::kNotAMessage, "message: expected a JSON object");
    }
    return plain_or_invalid(LineProblem::kNotJson, "not JSON: " + whole.error());
  }
  Envelope e;
  Json version, method, params, ignored;
  std::string key;
  while (reader.NextMember(key)) {
    Json* slot = &ignored;
    if (key == kVersionKey) {
      e.version = slot = &version;
    } else if (key == "method") {
      e.method = slot = &method;
    } else if (key == "params") {
      e.params = slot = &params;
    } else if (e.unexpected_key.empty()) {
      e.unexpected_key = key;
    }
    if (!reader.ParseValue(*slot)) break;
  }
  if (!reader.failed() && !reader.AtEnd())
    reader.Fail(JsonErrorKind::kSyntax, "trailing characters");
  if (reader.failed())
    return plain_or_invalid(LineProblem::kNotJson, "not JSON: " + reader.error());
  if (e.version == nullptr) {
    return plain_or_invalid(LineProblem::kNotAMessage, "message: no __dagster_pipes_version key");
  }
  Result<PipesMessage> message = MessageFromEnvelope(e, &out.problem);
  if (!message.ok()) {
    out.error = message.status().message();
    return out;
  }
  out.kind = ParsedLine::Kind::kMessage;
  out.message = std::move(message).value();
  return out;
}

Result<PipesMessage> ParseMessage(std::string_view line) {
  ParsedLine parsed = ParseMessageLine(line, LineMode::kStrict);
  if (parsed.kind != ParsedLine::Kind::kMessage) return Bad(parsed.error);
  return std::move(*parsed.message);
}

}  // namespace arbiter::pipes
