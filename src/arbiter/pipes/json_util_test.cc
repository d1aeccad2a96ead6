#include "arbiter/pipes/json_util.h"

#include <gtest/gtest.h>

#include <cmath>

namespace arbiter::pipes {
namespace {

Json P(std::string_view text) {
  Result<Json> j = ParseJsonLenient(text);
  EXPECT_TRUE(j.ok()) << text << ": " << j.status().ToString();
  return j.ok() ? *j : Json();
}

JsonErrorKind ErrorOf(std::string_view text) {
  JsonErrorKind kind = JsonErrorKind::kNone;
  EXPECT_FALSE(ParseJsonLenient(text, &kind).ok()) << text;
  return kind;
}

TEST(JsonReaderTest, NumbersKeepIntegerAndFloatApart) {
  EXPECT_TRUE(P("1").is_number_unsigned());
  EXPECT_TRUE(P("-1").is_number_integer());
  EXPECT_EQ(P("-9223372036854775808").get<int64_t>(), INT64_MIN);
  EXPECT_EQ(P("18446744073709551615").get<uint64_t>(), UINT64_MAX);
  EXPECT_TRUE(P("18446744073709551616").is_number_float());  // beyond 64 bits
  EXPECT_TRUE(P("1.0").is_number_float());
  EXPECT_TRUE(P("1e2").is_number_float());
  EXPECT_EQ(P("-0.5E-1").get<double>(), -0.05);
  EXPECT_EQ(P("1e999").get<double>(), INFINITY);  // as Python reads it
  EXPECT_EQ(P("1e-999").get<double>(), 0.0);
  EXPECT_TRUE(std::isnan(P("NaN").get<double>()));
  EXPECT_EQ(P("[Infinity, -Infinity]")[1].get<double>(), -INFINITY);
  for (const char* bad : {"01", "1.", ".5", "-", "1e", "+1", "0x10", "Nan", "-Inf", "infinity"}) {
    EXPECT_EQ(ErrorOf(bad), JsonErrorKind::kSyntax) << bad;
  }
}

TEST(JsonReaderTest, StringsAndEscapes) {
  EXPECT_EQ(P(R"("a\"b\\c\/d\b\f\n\r\t")").get<std::string>(), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(P(R"("caf\u00e9 \ud83d\ude00")").get<std::string>(), "caf\xc3\xa9 \xf0\x9f\x98\x80");
  EXPECT_EQ(P("\"caf\xc3\xa9\"").get<std::string>(), "caf\xc3\xa9");
  EXPECT_EQ(P(R"("\ud800x")").get<std::string>(), "\xef\xbf\xbdx");  // lone surrogate -> U+FFFD
  EXPECT_EQ(P(R"("\u0000")").get<std::string>(), std::string(1, '\0'));
  EXPECT_EQ(ErrorOf("\"a\tb\""), JsonErrorKind::kSyntax);  // raw control character
  EXPECT_EQ(ErrorOf(R"("\x")"), JsonErrorKind::kSyntax);
  EXPECT_EQ(ErrorOf(R"("\u12")"), JsonErrorKind::kSyntax);
  EXPECT_EQ(ErrorOf("\"open"), JsonErrorKind::kSyntax);
  EXPECT_EQ(ErrorOf("\"\xff\""), JsonErrorKind::kInvalidUtf8);
  EXPECT_EQ(ErrorOf("\"\xed\xa0\x80\""), JsonErrorKind::kInvalidUtf8);  // encoded surrogate
  EXPECT_EQ(ErrorOf("\"\xc0\xaf\""), JsonErrorKind::kInvalidUtf8);      // overlong
}

TEST(JsonReaderTest, StructureDepthAndTrailingInput) {
  Json j = P(R"( {"a": [1, {"b": null}], "a": true, "c": {}} )");
  EXPECT_EQ(j["a"], true);  // the last duplicate wins, as in Python
  EXPECT_EQ(j["c"], Json::object());
  EXPECT_EQ(P("[]"), Json::array());
  EXPECT_EQ(ErrorOf("{} x"), JsonErrorKind::kSyntax);
  EXPECT_EQ(ErrorOf("{\"a\" 1}"), JsonErrorKind::kSyntax);
  EXPECT_EQ(ErrorOf("[1,]"), JsonErrorKind::kSyntax);
  EXPECT_EQ(ErrorOf("{\"a\":1,}"), JsonErrorKind::kSyntax);
  EXPECT_EQ(ErrorOf(""), JsonErrorKind::kSyntax);
  EXPECT_EQ(ErrorOf(std::string(300, '[') + std::string(300, ']')), JsonErrorKind::kTooDeep);
  EXPECT_TRUE(ParseJsonLenient(std::string(256, '[') + std::string(256, ']')).ok());
  Result<Json> r = ParseJsonLenient("[1, 2");
  EXPECT_NE(r.status().message().find("at byte 5"), std::string::npos) << r.status().message();
}

TEST(JsonReaderTest, ObjectMemberWalk) {
  JsonReader reader(R"({"a": 1, "b": [true]})");
  ASSERT_TRUE(reader.BeginObject());
  std::string key;
  std::vector<std::string> keys;
  Json v;
  while (reader.NextMember(key)) {
    keys.push_back(key);
    ASSERT_TRUE(reader.ParseValue(v));
  }
  EXPECT_FALSE(reader.failed());
  EXPECT_TRUE(reader.AtEnd());
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b"}));
}

TEST(JsonUtilTest, PythonStyleOutput) {
  OrderedJson o = OrderedJson::object();
  o["b"] = 1;
  o["a"] = OrderedJson::array({1.5, nullptr, true, "x\n\x7f"});
  o["n"] = -std::numeric_limits<double>::infinity();
  EXPECT_EQ(DumpPythonStyle(o), R"({"b": 1, "a": [1.5, null, true, "x\n\u007f"], "n": -Infinity})");
  EXPECT_TRUE(IsValidUtf8("plain ascii and caf\xc3\xa9"));
  EXPECT_FALSE(IsValidUtf8("12345678\x80"));
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
}

}  // namespace
}  // namespace arbiter::pipes
