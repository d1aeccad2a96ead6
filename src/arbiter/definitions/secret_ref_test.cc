#include "arbiter/definitions/secret_ref.h"

#include <gtest/gtest.h>

namespace arbiter::definitions {
namespace {

Environment FakeEnv(std::map<std::string, std::string> vars, std::map<std::string, std::string> files) {
  Environment env;
  env.get_env = [vars](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  env.read_file = [files](const std::string& p) -> Result<std::string> {
    auto it = files.find(p);
    if (it == files.end()) return NotFoundError("cannot read file '" + p + "'");
    return it->second;
  };
  return env;
}

TEST(ConfigStringTest, LiteralHasNoReferences) {
  auto c = ConfigString::Parse("https://example.com");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->has_references());
  EXPECT_EQ(*c->Resolve(FakeEnv({}, {})), "https://example.com");
}

TEST(ConfigStringTest, ResolvesEnvAndFileReferencesInText) {
  auto c = ConfigString::Parse("https://${env:HOST}/api?t=${file:/run/token}&x=$${literal}");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->references().size(), 2u);
  Environment env = FakeEnv({{"HOST", "dbc.example.com"}}, {{"/run/token", "s3cr3t"}});
  EXPECT_EQ(*c->Resolve(env), "https://dbc.example.com/api?t=s3cr3t&x=${literal}");
  EXPECT_EQ(c->text(), "https://${env:HOST}/api?t=${file:/run/token}&x=$${literal}");
}

TEST(ConfigStringTest, MissingValuesAreNamedNeverShown) {
  auto c = ConfigString::Parse("${env:TOKEN}${file:/nope}");
  ASSERT_TRUE(c.ok());
  Environment env = FakeEnv({}, {});
  EXPECT_EQ(c->Resolve(env).status().message(), "environment variable TOKEN is not set");
  EXPECT_EQ(c->UnresolvableReferences(env),
            (std::vector<std::string>{"environment variable TOKEN is not set",
                                      "file '/nope' cannot be read"}));
}

TEST(ConfigStringTest, MalformedReferences) {
  EXPECT_EQ(ConfigString::Parse("${env:TOKEN").status().message(),
            "unterminated '${' in '${env:TOKEN'; references look like ${env:NAME} or "
            "${file:PATH}");
  EXPECT_EQ(ConfigString::Parse("${vault:x}").status().message(),
            "unknown reference '${vault:x}'; supported: ${env:NAME} and ${file:PATH}");
  EXPECT_FALSE(ConfigString::Parse("${env:1BAD}").ok());
  EXPECT_FALSE(ConfigString::Parse("${env:}").ok());
  EXPECT_FALSE(ConfigString::Parse("${file:}").ok());
}

}  // namespace
}  // namespace arbiter::definitions
