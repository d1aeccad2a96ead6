#include "arbiter/definitions/secret_ref.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "arbiter/common/strings.h"

namespace arbiter::definitions {
namespace {

bool ValidEnvName(std::string_view n) {
  if (n.empty() || (n[0] >= '0' && n[0] <= '9')) return false;
  for (char c : n) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  return true;
}

// SCOPE/KEY as Databricks names them: letters, digits, - _ . (and @ in a scope).
bool ValidDatabricksSecretPath(std::string_view n) {
  size_t slash = n.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == n.size()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || (c == '@' && i < slash) || i == slash;
    if (!ok) return false;
  }
  return slash <= 128 && n.size() - slash - 1 <= 128;
}

std::string ExpandHome(const std::string& path) {
  if (path.rfind("~/", 0) == 0) {
    if (const char* home = std::getenv("HOME")) return std::string(home) + path.substr(1);
  }
  return path;
}

}  // namespace

Environment Environment::System() {
  Environment env;
  env.get_env = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
  env.read_file = [](const std::string& path) -> Result<std::string> {
    std::ifstream in(ExpandHome(path), std::ios::binary);
    if (!in) return NotFoundError("cannot read file " + Quote(path));
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    // Secret files usually end with a newline that is not part of the secret.
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  };
  return env;
}

Result<ConfigString> ConfigString::Parse(std::string_view text) {
  ConfigString out;
  out.text_ = std::string(text);
  std::string literal;
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      literal += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      literal += text[i++];
      continue;
    }
    size_t close = text.find('}', i);
    if (close == std::string_view::npos) {
      return InvalidArgumentError("unterminated '${' in " + Quote(text) +
                                  "; references look like ${env:NAME} or ${file:PATH}");
    }
    std::string_view body = text.substr(i + 2, close - i - 2);
    size_t colon = body.find(':');
    std::string_view source = colon == std::string_view::npos ? body : body.substr(0, colon);
    std::string_view name = colon == std::string_view::npos ? "" : body.substr(colon + 1);
    SecretReference ref;
    if (source == "env") {
      ref.kind = SecretReference::Kind::kEnv;
      if (!ValidEnvName(name)) {
        return InvalidArgumentError("invalid environment variable name " + Quote(name) + " in " +
                                    Quote(text));
      }
    } else if (source == "file") {
      ref.kind = SecretReference::Kind::kFile;
      if (name.empty()) return InvalidArgumentError("empty file path in " + Quote(text));
    } else if (source == "dbsecret") {
      ref.kind = SecretReference::Kind::kDatabricksSecret;
      if (!ValidDatabricksSecretPath(name)) {
        return InvalidArgumentError("invalid Databricks secret " + Quote(name) + " in " +
                                    Quote(text) + "; write ${dbsecret:SCOPE/KEY}");
      }
    } else {
      return InvalidArgumentError("unknown reference " + Quote(std::string("${") +
                                  std::string(body) + "}") +
                                  "; supported: ${env:NAME}, ${file:PATH} and "
                                  "${dbsecret:SCOPE/KEY}");
    }
    ref.name = std::string(name);
    if (!literal.empty()) out.pieces_.push_back({false, std::move(literal), 0});
    literal.clear();
    out.pieces_.push_back({true, "", out.refs_.size()});
    out.refs_.push_back(std::move(ref));
    i = close + 1;
  }
  if (!literal.empty()) out.pieces_.push_back({false, std::move(literal), 0});
  return out;
}

Result<std::string> ConfigString::ResolveForJob(const Environment& env,
                                                JobEnvTarget target) const {
  const SecretReference* local_ref = nullptr;
  const SecretReference* db_ref = nullptr;
  for (const SecretReference& r : refs_) {
    (r.kind == SecretReference::Kind::kDatabricksSecret ? db_ref : local_ref) = &r;
  }
  auto shown = [](const SecretReference& r) {
    return std::string(r.kind == SecretReference::Kind::kEnv ? "${env:" : "${file:") + r.name +
           "}";
  };
  if (db_ref && target != JobEnvTarget::kDatabricksJob) {
    return FailedPreconditionError(
        "${dbsecret:" + db_ref->name +
        "} is a Databricks secret, resolved by Databricks, so it works only on a databricks "
        "runtime; " +
        (target == JobEnvTarget::kLocalProcess
             ? std::string("for local runs use ${env:NAME} or ${file:PATH}")
             : std::string("on EMR pass the name of an AWS Secrets Manager secret or SSM "
                           "parameter and read it in the job")));
  }
  if (local_ref && target == JobEnvTarget::kDatabricksJob) {
    return FailedPreconditionError(
        "refusing to send the value of " + shown(*local_ref) +
        " to Databricks: job parameters (spark_env_vars) are stored with the run and readable "
        "by anyone who can view it; put the secret in a Databricks secret scope and write "
        "${dbsecret:SCOPE/KEY}");
  }
  if (local_ref && target == JobEnvTarget::kAwsJob) {
    return FailedPreconditionError(
        "refusing to send the value of " + shown(*local_ref) +
        " to EMR: step arguments and EMR Serverless job drivers are stored with the run and "
        "readable by anyone who can describe it; pass the name of an AWS Secrets Manager "
        "secret or SSM parameter instead and read it in the job (its role needs access)");
  }
  if (db_ref) {
    // Databricks substitutes a secret only when it is the whole value.
    if (pieces_.size() != 1) {
      return FailedPreconditionError("${dbsecret:" + db_ref->name +
                                     "} must be the whole value (Databricks resolves "
                                     "{{secrets/SCOPE/KEY}} only on its own)");
    }
    return "{{secrets/" + db_ref->name + "}}";
  }
  return Resolve(env);
}

Result<std::string> ConfigString::Resolve(const Environment& env) const {
  std::string out;
  for (const Piece& p : pieces_) {
    if (!p.is_ref) {
      out += p.literal;
      continue;
    }
    const SecretReference& r = refs_[p.ref];
    if (r.kind == SecretReference::Kind::kEnv) {
      std::optional<std::string> v = env.get_env(r.name);
      if (!v) return NotFoundError("environment variable " + r.name + " is not set");
      out += *v;
    } else if (r.kind == SecretReference::Kind::kFile) {
      ARBITER_ASSIGN_OR_RETURN(std::string v, env.read_file(r.name));
      out += v;
    } else {
      return FailedPreconditionError("${dbsecret:" + r.name +
                                     "} is resolved by Databricks, not by Arbiter; it works "
                                     "only in the job env of a databricks runtime");
    }
  }
  return out;
}

std::vector<std::string> ConfigString::UnresolvableReferences(const Environment& env) const {
  std::vector<std::string> problems;
  for (const SecretReference& r : refs_) {
    if (r.kind == SecretReference::Kind::kEnv) {
      if (!env.get_env(r.name)) problems.push_back("environment variable " + r.name + " is not set");
    } else if (r.kind == SecretReference::Kind::kFile && !env.read_file(r.name).ok()) {
      problems.push_back("file " + Quote(r.name) + " cannot be read");
    }
  }
  return problems;
}

}  // namespace arbiter::definitions
