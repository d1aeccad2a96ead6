// ConfigString: a configuration value that may contain references to secrets
// or to the environment: "${env:DATABRICKS_TOKEN}", "${file:~/.arbiter/token}",
// or text around them ("https://${env:DBX_HOST}"); and "${dbsecret:SCOPE/KEY}",
// a Databricks secret that only Databricks resolves (job env on Databricks).
//
// Only the template is ever stored, logged or shown; the value is resolved at
// the moment of use through an injected Environment, so a missing variable is a
// warning at check time and an error at use. "$${" escapes a literal "${".
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/status.h"

namespace arbiter::definitions {

// The seam to the process environment and file system, for tests.
struct Environment {
  std::function<std::optional<std::string>(const std::string&)> get_env;
  std::function<Result<std::string>(const std::string&)> read_file;

  static Environment System();  // getenv and the real file system
};

struct SecretReference {
  enum class Kind { kEnv, kFile, kDatabricksSecret };
  Kind kind;
  std::string name;  // variable name, path, or "scope/key"
};

// Where a job's env value goes. Platforms that store job parameters show them
// to anyone who can view the run, so a resolved ${env:}/${file:} value must
// never go there; they get references their platform resolves instead.
enum class JobEnvTarget {
  kLocalProcess,   // the local runtime: resolved here, never stored
  kDatabricksJob,  // spark_env_vars of a Databricks run
  kAwsJob,         // EMR step arguments, EMR Serverless job driver
};

class ConfigString {
 public:
  ConfigString() = default;
  // kInvalidArgument on malformed references ("unterminated '${'", unknown
  // source "${vault:x}", bad variable name).
  static Result<ConfigString> Parse(std::string_view text);

  const std::string& text() const { return text_; }  // the template, safe to show
  bool has_references() const { return !refs_.empty(); }
  const std::vector<SecretReference>& references() const { return refs_; }

  // Substitutes every reference. Errors name the reference, never a value:
  // "environment variable DATABRICKS_TOKEN is not set".
  Result<std::string> Resolve(const Environment& env) const;

  // The value to give a job on `target`: literals as written; ${env:}/${file:}
  // resolved only for a local process (refused otherwise, saying what to use);
  // ${dbsecret:S/K} becomes "{{secrets/S/K}}" for Databricks (the whole value)
  // and is refused elsewhere.
  Result<std::string> ResolveForJob(const Environment& env, JobEnvTarget target) const;

  // Problems Resolve would hit, without resolving (for `arbiter check`).
  std::vector<std::string> UnresolvableReferences(const Environment& env) const;

 private:
  struct Piece {
    bool is_ref = false;
    std::string literal;  // when !is_ref
    size_t ref = 0;       // index into refs_ when is_ref
  };
  std::string text_;
  std::vector<Piece> pieces_;
  std::vector<SecretReference> refs_;
};

}  // namespace arbiter::definitions
