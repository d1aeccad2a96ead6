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
            "unknown reference '${vault:x}'; supported: ${env:NAME}, ${file:PATH} and "
            "${dbsecret:SCOPE/KEY}");
  EXPECT_FALSE(ConfigString::Parse("${env:1BAD}").ok());
  EXPECT_FALSE(ConfigString::Parse("${env:}").ok());
  EXPECT_FALSE(ConfigString::Parse("${file:}").ok());
}

// Job env on a platform that stores job parameters never gets a resolved
// secret: Databricks gets its own secret reference, EMR a refusal saying what
// to do instead; the local process gets the value.
TEST(ConfigStringTest, JobEnvSecretsNeverReachPlatformsInClear) {
  Environment env = FakeEnv({{"KEY", "s3cr3t"}}, {{"/run/key", "s3cr3t"}});
  auto env_ref = *ConfigString::Parse("${env:KEY}");
  auto file_ref = *ConfigString::Parse("Bearer ${file:/run/key}");
  auto db_ref = *ConfigString::Parse("${dbsecret:team-scope/api.key}");
  auto literal = *ConfigString::Parse("plain");

  EXPECT_EQ(*env_ref.ResolveForJob(env, JobEnvTarget::kLocalProcess), "s3cr3t");
  EXPECT_EQ(*file_ref.ResolveForJob(env, JobEnvTarget::kLocalProcess), "Bearer s3cr3t");
  EXPECT_EQ(*db_ref.ResolveForJob(env, JobEnvTarget::kDatabricksJob),
            "{{secrets/team-scope/api.key}}");
  for (JobEnvTarget t :
       {JobEnvTarget::kLocalProcess, JobEnvTarget::kDatabricksJob, JobEnvTarget::kAwsJob}) {
    EXPECT_EQ(*literal.ResolveForJob(env, t), "plain");
  }

  auto refused = env_ref.ResolveForJob(env, JobEnvTarget::kDatabricksJob);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("refusing to send the value of ${env:KEY} to "
                                            "Databricks"),
            std::string::npos);
  EXPECT_NE(refused.status().message().find("${dbsecret:SCOPE/KEY}"), std::string::npos);
  EXPECT_EQ(refused.status().message().find("s3cr3t"), std::string::npos);
  for (const ConfigString* c : {&env_ref, &file_ref}) {
    auto aws = c->ResolveForJob(env, JobEnvTarget::kAwsJob);
    ASSERT_FALSE(aws.ok());
    EXPECT_NE(aws.status().message().find("to EMR"), std::string::npos);
    EXPECT_NE(aws.status().message().find("AWS Secrets Manager secret or SSM parameter"),
              std::string::npos);
    EXPECT_EQ(aws.status().message().find("s3cr3t"), std::string::npos);
  }
  EXPECT_NE(file_ref.ResolveForJob(env, JobEnvTarget::kDatabricksJob)
                .status()
                .message()
                .find("${file:/run/key}"),
            std::string::npos);
  // A Databricks secret only on Databricks, and only as the whole value.
  EXPECT_NE(db_ref.ResolveForJob(env, JobEnvTarget::kAwsJob).status().message().find(
                "works only on a databricks runtime"),
            std::string::npos);
  EXPECT_FALSE(db_ref.ResolveForJob(env, JobEnvTarget::kLocalProcess).ok());
  EXPECT_FALSE(db_ref.Resolve(env).ok());
  auto mixed = *ConfigString::Parse("x-${dbsecret:s/k}");
  EXPECT_NE(mixed.ResolveForJob(env, JobEnvTarget::kDatabricksJob).status().message().find(
                "must be the whole value"),
            std::string::npos);
  EXPECT_TRUE(db_ref.UnresolvableReferences(env).empty());
  for (const char* bad : {"${dbsecret:nokey}", "${dbsecret:/k}", "${dbsecret:s/}",
                          "${dbsecret:s/k/x}", "${dbsecret:s/k@}"}) {
    EXPECT_FALSE(ConfigString::Parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace arbiter::definitions
