#include "arbiter/pipes/params.h"

#include <gtest/gtest.h>

#include <map>

namespace arbiter::pipes {
namespace {

OrderedJson Obj(std::initializer_list<std::pair<std::string, OrderedJson>> kv) {
  OrderedJson o = OrderedJson::object();
  for (const auto& [k, v] : kv) o[k] = v;
  return o;
}

// The vectors from the spec (made with the real Python module).
TEST(ParamsTest, EncodesSpecVectorsExactly) {
  EXPECT_EQ(EncodeParam(Obj({{"path", "/tmp/ctx.json"}})),
            "eJyrVipILMlQslJQ0i/JLdBPLqnQyyrOz1OqBQBpjQhu");
  EXPECT_EQ(EncodeParam(Obj({{"stdio", "stderr"}})), "eJyrViouScnMV7JSADFSi4qUagFBNAaS");
  EXPECT_EQ(
      EncodeParam(Obj({{"path", "/tmp/msgs"}, {"include_stdio_in_messages", false}})),
      "eJyrVipILMlQslJQ0i/JLdDPLU4vVtJRUMrMS84pTUmNLy5JycyPz8yLz00tLk5MTy0GqkxLzClOrQUAMTMUOQ==");
}

TEST(ParamsTest, DecodesSpecVectors) {
  Result<Json> a = DecodeParam("eJyrVipILMlQslJQ0i/JLdBPLqnQyyrOz1OqBQBpjQhu");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(*a, Json({{"path", "/tmp/ctx.json"}}));
  Result<Json> b = DecodeParam(
      "eJyrVipILMlQslJQ0i/JLdDPLU4vVtJRUMrMS84pTUmNLy5JycyPz8yLz00tLk5MTy0GqkxLzClOrQUAMTMUOQ==");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)["include_stdio_in_messages"], false);
  EXPECT_EQ((*b)["path"], "/tmp/msgs");
}

TEST(ParamsTest, DecodeIsLenientAboutWhitespaceAndPadding) {
  Result<Json> a = DecodeParam("eJyrViouScnMV7JSADFSi4qUagFBNAaS\n");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)["stdio"], "stderr");
  Result<Json> b = DecodeParam("eJyrVipILMlQsl JQ\n0i/JLdBPLqnQyyrOz1OqBQBpjQhu");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
}

TEST(ParamsTest, DecodeRejectsGarbage) {
  EXPECT_FALSE(DecodeParam("").ok());
  EXPECT_FALSE(DecodeParam("not base64 at all!").ok());
  EXPECT_FALSE(DecodeParam(Base64Encode("{\"plain\": \"json, not zlib\"}")).ok());
  // Valid zlib of invalid JSON.
  EXPECT_FALSE(DecodeParam(Base64Encode(*ZlibCompress("{broken"))).ok());
  // Truncated zlib stream.
  std::string z = *ZlibCompress("{\"a\": 1}");
  EXPECT_FALSE(DecodeParam(Base64Encode(z.substr(0, z.size() - 3))).ok());
}

TEST(ParamsTest, DecodeCapsInflatedSize) {
  std::string big = "[" + std::string(1 << 20, ' ') + "]";
  std::string enc = Base64Encode(*ZlibCompress(big));
  EXPECT_TRUE(DecodeParam(enc).ok());
  Result<Json> capped = DecodeParam(enc, DecodeOptions{1000});
  ASSERT_FALSE(capped.ok());
  EXPECT_NE(capped.status().message().find("exceeds"), std::string::npos);
}

TEST(ParamsTest, RoundTripsNonAsciiAndNonFinite) {
  OrderedJson v = Obj({{"name", "caf\xc3\xa9 \xf0\x9f\x98\x80"},
                       {"x", std::numeric_limits<double>::infinity()},
                       {"n", 1},
                       {"f", 1.0}});
  EXPECT_EQ(DumpPythonStyle(v),
            "{\"name\": \"caf\\u00e9 \\ud83d\\ude00\", \"x\": Infinity, \"n\": 1, \"f\": 1.0}");
  Result<Json> back = DecodeParam(EncodeParam(v));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ((*back)["name"], "caf\xc3\xa9 \xf0\x9f\x98\x80");
  EXPECT_TRUE(std::isinf((*back)["x"].get<double>()));
  EXPECT_TRUE((*back)["n"].is_number_integer());
  EXPECT_TRUE((*back)["f"].is_number_float());
}

TEST(ParamsTest, Base64KnownAnswers) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(*Base64Decode("Zm8="), "fo");
  EXPECT_EQ(*Base64Decode("Zm8"), "fo");
  EXPECT_EQ(*Base64Decode("+/8="), "\xfb\xff");
  EXPECT_FALSE(Base64Decode("Zm9vZ").ok());
}

TEST(ParamsTest, EnvAndCliForms) {
  BootstrapParams p{Obj({{"data", Obj({{"run_id", "r1"}})}}), Obj({{"stdio", "stderr"}})};
  auto env = BootstrapEnvVars(p);
  ASSERT_EQ(env.size(), 3u);
  EXPECT_EQ(env[0].first, "DAGSTER_PIPES_CONTEXT");
  EXPECT_EQ(env[1].first, "DAGSTER_PIPES_MESSAGES");
  EXPECT_EQ(env[1].second, "eJyrViouScnMV7JSADFSi4qUagFBNAaS");
  // What dagster-pipes 1.5.0-1.5.2 require (Python: encode_env_var(True)).
  EXPECT_EQ(env[2].first, "DAGSTER_PIPES_IS_DAGSTER_PIPED_PROCESS");
  EXPECT_EQ(env[2].second, "eJwrKSpNBQAEeQHB");
  EXPECT_EQ(EnvVarToCliFlag("DAGSTER_PIPES_CONTEXT"), "--dagster-pipes-context");

  std::map<std::string, std::string> envmap(env.begin(), env.end());
  auto lookup = [&envmap](std::string_view name) -> std::optional<std::string> {
    auto it = envmap.find(std::string(name));
    if (it == envmap.end()) return std::nullopt;
    return it->second;
  };
  auto loaded = LoadBootstrapFromEnv(lookup);
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->first["data"]["run_id"], "r1");
  EXPECT_EQ((*loaded)->second["stdio"], "stderr");

  std::vector<std::string> argv = {"job.py", "--other", "x"};
  for (const std::string& a : BootstrapCliArgs(p)) argv.push_back(a);
  EXPECT_EQ(argv[3], "--dagster-pipes-context");
  auto from_args = LoadBootstrapFromArgs(argv);
  ASSERT_TRUE(from_args.ok());
  ASSERT_TRUE(from_args->has_value());
  EXPECT_EQ((*from_args)->second["stdio"], "stderr");
}

TEST(ParamsTest, DetectionRules) {
  auto none = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  auto r = LoadBootstrapFromEnv(none);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  // Context without messages is an error, not "not under pipes".
  auto only_ctx = [](std::string_view n) -> std::optional<std::string> {
    if (n == kContextEnvVar) return std::string("eJyrViouScnMV7JSADFSi4qUagFBNAaS");
    return std::nullopt;
  };
  EXPECT_FALSE(LoadBootstrapFromEnv(only_ctx).ok());
  // --flag=value is not detected (argparse token rule).
  auto eq = LoadBootstrapFromArgs({"job", "--dagster-pipes-context=abc"});
  ASSERT_TRUE(eq.ok());
  EXPECT_FALSE(eq->has_value());
}

}  // namespace
}  // namespace arbiter::pipes
