#include "arbiter/pipes/message.h"

#include <gtest/gtest.h>

#include <cmath>

namespace arbiter::pipes {
namespace {

std::string Msg(std::string_view method, std::string_view params) {
  return "{\"__dagster_pipes_version\": \"0.1\", \"method\": \"" + std::string(method) +
         "\", \"params\": " + std::string(params) + "}";
}

template <typename T>
T Expect(std::string_view line) {
  Result<PipesMessage> m = ParseMessage(line);
  EXPECT_TRUE(m.ok()) << m.status().ToString() << "\n" << line;
  if (!m.ok()) return T{};
  EXPECT_TRUE(std::holds_alternative<T>(*m)) << MethodName(*m);
  if (!std::holds_alternative<T>(*m)) return T{};
  return std::get<T>(*m);
}

LineProblem ProblemOf(std::string_view line) {
  ParsedLine p = ParseMessageLine(line, LineMode::kStrict);
  EXPECT_EQ(p.kind, ParsedLine::Kind::kInvalid) << line;
  EXPECT_FALSE(p.error.empty());
  return p.problem;
}

TEST(MessageTest, OpenedAndClosed) {
  EXPECT_TRUE(Expect<OpenedMessage>(Msg("opened", "{}")).params.empty());
  auto dbfs = Expect<OpenedMessage>(Msg("opened", R"({"cluster_driver_log_root": "/x/driver"})"));
  EXPECT_EQ(dbfs.params["cluster_driver_log_root"], "/x/driver");
  EXPECT_FALSE(Expect<ClosedMessage>(Msg("closed", "{}")).exception.has_value());
  EXPECT_FALSE(Expect<ClosedMessage>(Msg("closed", "null")).exception.has_value());
}

TEST(MessageTest, ClosedWithSpecExceptionExample) {
  const std::string line =
      R"({"__dagster_pipes_version": "0.1", "method": "closed", "params": {"exception": {"message": "ValueError: boom\n", "stack": ["  File \"/tmp/ext.py\", line 9, in <module>\n    raise ValueError(\"boom\")\n"], "name": "ValueError", "cause": null, "context": {"message": "KeyError: 'k'\n", "stack": [], "name": "KeyError", "cause": null, "context": null}}}})";
  ClosedMessage m = Expect<ClosedMessage>(line);
  ASSERT_TRUE(m.exception.has_value());
  EXPECT_EQ(m.exception->message, "ValueError: boom\n");
  EXPECT_EQ(m.exception->name, "ValueError");
  ASSERT_EQ(m.exception->stack.size(), 1u);
  EXPECT_EQ(m.exception->cause, nullptr);
  ASSERT_NE(m.exception->context, nullptr);
  EXPECT_EQ(m.exception->context->name, "KeyError");
}

TEST(MessageTest, LogLevels) {
  EXPECT_EQ(Expect<LogMessage>(Msg("log", R"({"message": "hi"})")).level, LogLevel::kInfo);
  const std::pair<const char*, LogLevel> cases[] = {
      {"DEBUG", LogLevel::kDebug},   {"info", LogLevel::kInfo},   {"WARNING", LogLevel::kWarning},
      {"warn", LogLevel::kWarning},  {"ERROR", LogLevel::kError}, {"CRITICAL", LogLevel::kCritical},
      {"Fatal", LogLevel::kCritical}};
  for (const auto& [name, level] : cases) {
    LogMessage m = Expect<LogMessage>(
        Msg("log", std::string(R"({"message": "x\ny", "level": ")") + name + "\"}"));
    EXPECT_EQ(m.level, level) << name;
    EXPECT_EQ(m.message, "x\ny");
  }
  EXPECT_EQ(ProblemOf(Msg("log", R"({"message": "x", "level": "LOUD"})")), LineProblem::kBadParams);
}

TEST(MessageTest, MaterializationWithEveryMetadataType) {
  const std::string params = R"({"asset_key": "a/b\\/c", "data_version": "dv9", "metadata": {
    "i": {"raw_value": 1, "type": "__infer__"},
    "f": {"raw_value": 1.0, "type": "__infer__"},
    "s": {"raw_value": "x", "type": "__infer__"},
    "b": {"raw_value": true, "type": "__infer__"},
    "j": {"raw_value": [1, 2], "type": "__infer__"},
    "n": {"raw_value": null, "type": "__infer__"},
    "nan": {"raw_value": NaN, "type": "float"},
    "inf": {"raw_value": -Infinity, "type": "__infer__"},
    "text": {"raw_value": "t", "type": "text"},
    "url": {"raw_value": "https://x", "type": "url"},
    "path": {"raw_value": "/p", "type": "path"},
    "notebook": {"raw_value": "/nb.ipynb", "type": "notebook"},
    "md": {"raw_value": "# h", "type": "md"},
    "json": {"raw_value": {"k": [1]}, "type": "json"},
    "float": {"raw_value": 2.5, "type": "float"},
    "float_from_int": {"raw_value": 2, "type": "float"},
    "int": {"raw_value": 12345678901234, "type": "int"},
    "big": {"raw_value": 18446744073709551615, "type": "int"},
    "bool": {"raw_value": false, "type": "bool"},
    "run": {"raw_value": "2716d101", "type": "dagster_run"},
    "asset": {"raw_value": "x/y", "type": "asset"},
    "null": {"raw_value": null, "type": "null"},
    "ts": {"raw_value": 1704067200.5, "type": "timestamp"},
    "table": {"raw_value": {"records": [{"a": 1}], "schema": [{"name": "a", "type": "int"}]}, "type": "table"},
    "schema": {"raw_value": {"columns": [{"name": "a", "type": "int", "description": "d", "tags": {"pii": "no"}, "constraints": {"nullable": false}}]}, "type": "table_schema"},
    "lineage": {"raw_value": {"deps_by_column": {"a": [{"asset_key": "up", "column_name": "b"}]}}, "type": "table_column_lineage"}
  }})";
  auto m = Expect<AssetMaterializationMessage>(Msg("report_asset_materialization", params));
  EXPECT_EQ(m.asset_key, "a/b\\/c");
  EXPECT_EQ(m.asset_key_path, (AssetKeyPath{"a", "b/c"}));
  EXPECT_EQ(m.data_version, "dv9");
  ASSERT_TRUE(m.metadata.has_value());
  const Metadata& md = *m.metadata;
  EXPECT_EQ(md.size(), 26u);
  // Integer and float literals stay apart.
  EXPECT_EQ(md.at("i").Resolved(), MetadataType::kInt);
  EXPECT_TRUE(md.at("i").raw_value.is_number_integer());
  EXPECT_EQ(md.at("f").Resolved(), MetadataType::kFloat);
  EXPECT_TRUE(md.at("f").raw_value.is_number_float());
  EXPECT_EQ(md.at("s").Resolved(), MetadataType::kText);
  EXPECT_EQ(md.at("b").Resolved(), MetadataType::kBool);
  EXPECT_EQ(md.at("j").Resolved(), MetadataType::kJson);
  EXPECT_EQ(md.at("n").Resolved(), MetadataType::kNull);
  EXPECT_TRUE(std::isnan(md.at("nan").raw_value.get<double>()));
  EXPECT_EQ(md.at("inf").raw_value.get<double>(), -INFINITY);
  EXPECT_EQ(md.at("int").raw_value.get<int64_t>(), 12345678901234);
  EXPECT_EQ(md.at("big").raw_value.get<uint64_t>(), 18446744073709551615ull);
  EXPECT_EQ(md.at("table").type, MetadataType::kTable);
  EXPECT_EQ(md.at("schema").type, MetadataType::kTableSchema);
  EXPECT_EQ(md.at("lineage").type, MetadataType::kTableColumnLineage);
  EXPECT_EQ(md.at("asset").type, MetadataType::kAsset);
  EXPECT_EQ(md.at("ts").type, MetadataType::kTimestamp);
}

TEST(MessageTest, MaterializationNulls) {
  auto m = Expect<AssetMaterializationMessage>(
      Msg("report_asset_materialization",
          R"({"asset_key": "x", "data_version": null, "metadata": null})"));
  EXPECT_FALSE(m.data_version.has_value());
  EXPECT_FALSE(m.metadata.has_value());
}

TEST(MessageTest, MetadataTypeMismatchesAreBadParams) {
  const char* bad[] = {
      R"({"raw_value": 1.0, "type": "int"})",
      R"({"raw_value": "1", "type": "int"})",
      R"({"raw_value": 1, "type": "bool"})",
      R"({"raw_value": 1, "type": "text"})",
      R"({"raw_value": "x", "type": "json"})",
      R"({"raw_value": 0, "type": "null"})",
      R"({"raw_value": "x", "type": "timestamp"})",
      R"({"raw_value": {"records": {}}, "type": "table"})",
      R"({"raw_value": {"columns": [{"name": "a"}]}, "type": "table_schema"})",
      R"({"raw_value": {"deps_by_column": {"a": [{"asset_key": "u"}]}}, "type": "table_column_lineage"})",
      R"({"raw_value": 1, "type": "job"})",
      R"({"raw_value": 1})",
      R"({"raw_value": 1, "type": "int", "extra": 1})",
      R"(5)",
  };
  for (const char* entry : bad) {
    const std::string params =
        std::string(R"({"asset_key": "x", "data_version": null, "metadata": {"m": )") + entry +
        "}}";
    EXPECT_EQ(ProblemOf(Msg("report_asset_materialization", params)), LineProblem::kBadParams)
        << entry;
  }
}

TEST(MessageTest, AssetCheck) {
  auto m = Expect<AssetCheckMessage>(Msg(
      "report_asset_check",
      R"({"asset_key": "a/b", "check_name": "no_nulls", "passed": false, "metadata": {"rows": {"raw_value": 3, "type": "int"}}, "severity": "WARN"})"));
  EXPECT_EQ(m.asset_key_path, (AssetKeyPath{"a", "b"}));
  EXPECT_EQ(m.check_name, "no_nulls");
  EXPECT_FALSE(m.passed);
  EXPECT_EQ(m.severity, CheckSeverity::kWarn);
  EXPECT_EQ(m.metadata->at("rows").raw_value, 3);
  EXPECT_EQ(
      ProblemOf(Msg(
          "report_asset_check",
          R"({"asset_key": "a", "check_name": "c", "passed": true, "metadata": null, "severity": "INFO"})")),
      LineProblem::kBadParams);
  EXPECT_EQ(
      ProblemOf(Msg(
          "report_asset_check",
          R"({"asset_key": "a", "check_name": "c", "passed": "yes", "metadata": null, "severity": "ERROR"})")),
      LineProblem::kBadParams);
}

TEST(MessageTest, CustomAndExternalStream) {
  EXPECT_EQ(Expect<CustomMessage>(Msg("report_custom_message", R"({"payload": {"a": [1, 2.0]}})"))
                .payload["a"][1],
            2.0);
  EXPECT_TRUE(Expect<CustomMessage>(Msg("report_custom_message", R"({"payload": null})"))
                  .payload.is_null());
  auto s = Expect<ExternalStreamMessage>(
      Msg("log_external_stream", R"({"stream": "stderr", "text": "warn: x\n"})"));
  EXPECT_EQ(s.stream, StdStream::kStderr);
  EXPECT_EQ(s.text, "warn: x\n");
  auto e = Expect<ExternalStreamMessage>(
      Msg("log_external_stream", R"({"stream": "stdout", "text": "", "extras": {"k": 1}})"));
  EXPECT_EQ(e.extras["k"], 1);
  EXPECT_EQ(ProblemOf(Msg("log_external_stream", R"({"stream": "stdlog", "text": ""})")),
            LineProblem::kBadParams);
}

TEST(MessageTest, MissingAndExtraParams) {
  EXPECT_EQ(ProblemOf(Msg("log", R"({"level": "INFO"})")), LineProblem::kBadParams);
  EXPECT_EQ(ProblemOf(Msg("log", R"({"message": "x", "colour": "red"})")), LineProblem::kBadParams);
  EXPECT_EQ(
      ProblemOf(Msg("report_asset_materialization", R"({"asset_key": "x", "metadata": null})")),
      LineProblem::kBadParams);
  EXPECT_EQ(ProblemOf(Msg("report_custom_message", "{}")), LineProblem::kBadParams);
  EXPECT_EQ(ProblemOf(Msg("closed", R"({"exception": null, "x": 1})")), LineProblem::kBadParams);
  EXPECT_EQ(ProblemOf(Msg("closed", R"({"exception": {"stack": []}})")), LineProblem::kBadParams);
  EXPECT_EQ(ProblemOf(Msg("log", "null")), LineProblem::kBadParams);
  EXPECT_EQ(ProblemOf(Msg("report_asset_materialization",
                          R"({"asset_key": "", "data_version": null, "metadata": null})")),
            LineProblem::kBadParams);
}

TEST(MessageTest, EnvelopeProblems) {
  EXPECT_EQ(ProblemOf("not json"), LineProblem::kNotJson);
  EXPECT_EQ(ProblemOf("{\"a\": 1"), LineProblem::kNotJson);
  EXPECT_EQ(ProblemOf("[1, 2]"), LineProblem::kNotAMessage);
  EXPECT_EQ(ProblemOf(R"({"method": "log", "params": {"message": "x"}})"),
            LineProblem::kNotAMessage);
  EXPECT_EQ(
      ProblemOf(
          R"({"__dagster_pipes_version": "0.2", "method": "log", "params": {"message": "x"}})"),
      LineProblem::kWrongVersion);
  EXPECT_EQ(
      ProblemOf(R"({"__dagster_pipes_version": 0.1, "method": "log", "params": {"message": "x"}})"),
      LineProblem::kWrongVersion);
  EXPECT_EQ(ProblemOf(Msg("explode", "{}")), LineProblem::kUnknownMethod);
  EXPECT_EQ(ProblemOf(R"({"__dagster_pipes_version": "0.1", "method": "log"})"),
            LineProblem::kBadParams);
  EXPECT_EQ(ProblemOf("{\"__dagster_pipes_version\": \"0.1\", \"method\": \"log\", \"params\": "
                      "{\"message\": \"\xff\xfe\"}}"),
            LineProblem::kInvalidUtf8);
  EXPECT_EQ(ProblemOf(std::string(1000, '[') + std::string(1000, ']')), LineProblem::kNotJson);
}

TEST(MessageTest, NonFiniteTokensOnlyOutsideStrings) {
  auto m = Expect<LogMessage>(Msg("log", R"({"message": "NaN Infinity -Infinity \"NaN\""})"));
  EXPECT_EQ(m.message, "NaN Infinity -Infinity \"NaN\"");
  EXPECT_EQ(ProblemOf(Msg("report_custom_message", R"({"payload": Nan})")), LineProblem::kNotJson);
  EXPECT_EQ(ProblemOf(Msg("report_custom_message", R"({"payload": NaNa})")), LineProblem::kNotJson);
  auto c = Expect<CustomMessage>(
      Msg("report_custom_message", R"({"payload": [NaN,Infinity,-Infinity]})"));
  EXPECT_TRUE(std::isnan(c.payload[0].get<double>()));
  EXPECT_EQ(c.payload[1].get<double>(), INFINITY);
  EXPECT_EQ(c.payload[2].get<double>(), -INFINITY);
}

TEST(MessageTest, MixedModeSeparatesOrdinaryOutput) {
  EXPECT_EQ(ParseMessageLine("hello world", LineMode::kMixed).kind, ParsedLine::Kind::kPlainText);
  EXPECT_EQ(
      ParseMessageLine(R"({"level": "info", "msg": "structured app log"})", LineMode::kMixed).kind,
      ParsedLine::Kind::kPlainText);
  EXPECT_EQ(ParseMessageLine("[1,2]", LineMode::kMixed).kind, ParsedLine::Kind::kPlainText);
  EXPECT_EQ(ParseMessageLine("\xff binary", LineMode::kMixed).kind, ParsedLine::Kind::kPlainText);
  EXPECT_EQ(ParseMessageLine(Msg("log", R"({"message": "x"})"), LineMode::kMixed).kind,
            ParsedLine::Kind::kMessage);
  // Looks like a message but is broken: a warning, not output.
  ParsedLine broken =
      ParseMessageLine(R"({"__dagster_pipes_version": "0.1", "method": "log", )", LineMode::kMixed);
  EXPECT_EQ(broken.kind, ParsedLine::Kind::kInvalid);
  EXPECT_EQ(ParseMessageLine(Msg("log", "{}"), LineMode::kMixed).kind, ParsedLine::Kind::kInvalid);
}

TEST(MessageTest, MetadataTypeNamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(MetadataType::kTableColumnLineage); ++i) {
    auto t = static_cast<MetadataType>(i);
    EXPECT_EQ(MetadataTypeFromName(MetadataTypeName(t)), t);
  }
  EXPECT_EQ(MetadataTypeFromName("job"), std::nullopt);
}

}  // namespace
}  // namespace arbiter::pipes
