#include "arbiter/aws/credentials.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "arbiter/common/strings.h"
#include "arbiter/http/redact.h"

namespace arbiter::aws {
namespace {

using Ini = std::map<std::string, std::map<std::string, std::string>>;

// The AWS shared files are INI: [section], key = value, '#' or ';' comments.
std::optional<Ini> ReadIni(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  Ini ini;
  std::string line;
  std::string section;
  while (std::getline(in, line)) {
    std::string_view l = Trim(line);
    if (l.empty() || l[0] == '#' || l[0] == ';') continue;
    if (l.front() == '[' && l.back() == ']') {
      section = std::string(Trim(l.substr(1, l.size() - 2)));
      continue;
    }
    const size_t eq = l.find('=');
    if (eq == std::string_view::npos || section.empty()) continue;
    ini[section][std::string(Trim(l.substr(0, eq)))] = std::string(Trim(l.substr(eq + 1)));
  }
  return ini;
}

std::string EnvOr(const EnvLookup& env, const std::string& name, std::string fallback) {
  auto v = env(name);
  return v && !v->empty() ? *v : fallback;
}

std::string HomeFile(const EnvLookup& env, const char* file) {
  return EnvOr(env, "HOME", "") + "/.aws/" + file;
}

std::string ProfileName(const EnvLookup& env) { return EnvOr(env, "AWS_PROFILE", "default"); }

// The profile's settings from the config file ("[profile x]", or "[default]").
std::map<std::string, std::string> ConfigProfile(const EnvLookup& env) {
  const std::string path = EnvOr(env, "AWS_CONFIG_FILE", HomeFile(env, "config"));
  auto ini = ReadIni(path);
  if (!ini) return {};
  const std::string profile = ProfileName(env);
  auto it = ini->find(profile == "default" ? "default" : "profile " + profile);
  if (it == ini->end() && profile == "default") it = ini->find("profile default");
  return it == ini->end() ? std::map<std::string, std::string>{} : it->second;
}

Credentials Register(Credentials c) {
  http::RegisterSecret(c.secret_access_key);
  http::RegisterSecret(c.session_token);
  return c;
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::optional<TimePoint> ParseIso8601(std::string_view s) {
  int y, mo, d, h, mi, sec;
  const std::string str(s);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return TimePoint(std::chrono::seconds(timegm(&tm)));
}

Result<Credentials> ParseCredentialsJson(std::string_view body, std::string_view source) {
  const std::string where(source);
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return UnavailableError(where + ": credentials response is not a JSON object");
  }
  if (j.contains("Code") && j["Code"].is_string() && j["Code"] != "Success") {
    return Status(StatusCode::kPermissionDenied,
                  where + ": credentials request failed: " + j["Code"].get<std::string>() +
                      (j.contains("Message") && j["Message"].is_string()
                           ? ": " + j["Message"].get<std::string>()
                           : ""));
  }
  auto str = [&](const char* k) -> std::string {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : "";
  };
  Credentials c;
  c.access_key_id = str("AccessKeyId");
  c.secret_access_key = str("SecretAccessKey");
  c.session_token = str("Token");
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return UnavailableError(where + ": credentials response lacks AccessKeyId/SecretAccessKey");
  }
  const std::string exp = str("Expiration");
  if (!exp.empty()) {
    c.expiration = ParseIso8601(exp);
    if (!c.expiration) return UnavailableError(where + ": unparsable Expiration '" + exp + "'");
  }
  return Register(std::move(c));
}

Result<Credentials> EnvironmentCredentialsProvider::Get() {
  const std::string id = EnvOr(env_, "AWS_ACCESS_KEY_ID", "");
  const std::string secret = EnvOr(env_, "AWS_SECRET_ACCESS_KEY", "");
  if (id.empty() && secret.empty()) return NotFoundError("AWS_ACCESS_KEY_ID is not set");
  if (id.empty() || secret.empty()) {
    return InvalidArgumentError(
        "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set; set both or neither");
  }
  Credentials c{id, secret, EnvOr(env_, "AWS_SESSION_TOKEN", EnvOr(env_, "AWS_SECURITY_TOKEN", "")),
                std::nullopt};
  return Register(std::move(c));
}

Result<Credentials> ProfileCredentialsProvider::Get() {
  const std::string profile = ProfileName(env_);
  const std::string cred_path =
      EnvOr(env_, "AWS_SHARED_CREDENTIALS_FILE", HomeFile(env_, "credentials"));
  std::map<std::string, std::string> settings;
  if (auto ini = ReadIni(cred_path)) {
    if (auto it = ini->find(profile); it != ini->end()) settings = it->second;
  }
  for (const auto& [k, v] : ConfigProfile(env_)) settings.emplace(k, v);  // credentials file wins
  const std::string id = settings["aws_access_key_id"];
  const std::string secret = settings["aws_secret_access_key"];
  if (id.empty() && secret.empty()) {
    if (!settings["role_arn"].empty() || !settings["sso_start_url"].empty() ||
        !settings["credential_process"].empty() || !settings["sso_session"].empty()) {
      return UnimplementedError("profile '" + profile +
                                "' uses role_arn/SSO/credential_process, which Arbiter does not "
                                "support; export static or session keys instead");
    }
    if (env_("AWS_PROFILE")) {
      return NotFoundError("profile '" + profile + "' has no keys in " + cred_path +
                           " or the config file");
    }
    return NotFoundError("no keys for profile 'default' in " + cred_path);
  }
  if (id.empty() || secret.empty()) {
    return InvalidArgumentError("profile '" + profile +
                                "' sets only one of aws_access_key_id/aws_secret_access_key");
  }
  return Register(Credentials{id, secret, settings["aws_session_token"], std::nullopt});
}

Result<Credentials> EcsCredentialsProvider::Get() {
  std::string url;
  if (auto rel = env_("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); rel && !rel->empty()) {
    url = "http://169.254.170.2" + *rel;
  } else if (auto full = env_("AWS_CONTAINER_CREDENTIALS_FULL_URI"); full && !full->empty()) {
    url = *full;
  } else {
    return NotFoundError("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set");
  }
  http::HttpRequest req;
  req.url = url;
  req.timeout = std::chrono::seconds(5);
  req.secret_response_body = true;
  std::string token = EnvOr(env_, "AWS_CONTAINER_AUTHORIZATION_TOKEN", "");
  if (auto file = env_("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); file && !file->empty()) {
    std::ifstream in(*file);
    if (!in) return FailedPreconditionError("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + *file);
    std::getline(in, token);
  }
  if (!token.empty()) {
    http::RegisterSecret(token);
    req.headers.emplace_back("Authorization", token);
  }
  auto resp = client_->Send(req);
  if (!resp.ok()) return resp.status().WithContext("ECS credentials endpoint");
  if (resp->status != 200) {
    return UnavailableError("ECS credentials endpoint returned HTTP " + std::to_string(resp->status));
  }
  return ParseCredentialsJson(resp->body, "ECS credentials endpoint");
}

Result<Credentials> ImdsCredentialsProvider::Get() {
  if (http::EqualsIgnoreCase(EnvOr(env_, "AWS_EC2_METADATA_DISABLED", ""), "true")) {
    return NotFoundError("AWS_EC2_METADATA_DISABLED=true");
  }
  std::string base = EnvOr(env_, "AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://169.254.169.254");
  while (!base.empty() && base.back() == '/') base.pop_back();
  http::HttpRequest token_req;
  token_req.method = "PUT";
  token_req.url = base + "/latest/api/token";
  token_req.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
  token_req.timeout = std::chrono::seconds(1);  // off EC2 this must fail fast
  token_req.secret_response_body = true;
  auto token = client_->Send(token_req);
  if (!token.ok()) return NotFoundError("no instance metadata service: " + token.status().message());
  if (token->status != 200 || token->body.empty()) {
    return UnavailableError("IMDSv2 token request returned HTTP " + std::to_string(token->status));
  }
  http::RegisterSecret(token->body);
  const std::string path = base + "/latest/meta-data/iam/security-credentials/";
  http::HttpRequest role_req;
  role_req.url = path;
  role_req.headers = {{"X-aws-ec2-metadata-token", token->body}};
  role_req.timeout = std::chrono::seconds(2);
  auto role = client_->Send(role_req);
  if (!role.ok()) return role.status().WithContext("IMDSv2 role lookup");
  if (role->status == 404) return NotFoundError("the EC2 instance has no IAM role attached");
  if (role->status != 200) {
    return UnavailableError("IMDSv2 role lookup returned HTTP " + std::to_string(role->status));
  }
  std::string name(Trim(role->body.substr(0, role->body.find('\n'))));
  if (name.empty() || name.find('/') != std::string::npos) {
    return UnavailableError("IMDSv2 returned no usable role name");
  }
  http::HttpRequest creds_req = role_req;
  creds_req.url = path + http::UriEncode(name, false);
  creds_req.secret_response_body = true;
  auto creds = client_->Send(creds_req);
  if (!creds.ok()) return creds.status().WithContext("IMDSv2 credentials");
  if (creds->status != 200) {
    return UnavailableError("IMDSv2 credentials returned HTTP " + std::to_string(creds->status));
  }
  return ParseCredentialsJson(creds->body, "IMDSv2");
}

CredentialsChain::CredentialsChain(std::vector<std::unique_ptr<CredentialsProvider>> providers,
                                   const Clock* clock, std::chrono::seconds refresh_before)
    : providers_(std::move(providers)), clock_(clock), refresh_before_(refresh_before) {}

Result<Credentials> CredentialsChain::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  const TimePoint now = clock_->Now();
  if (cached_ && (!cached_->expiration || *cached_->expiration - refresh_before_ > now)) {
    return *cached_;
  }
  std::string tried;
  for (const auto& p : providers_) {
    Result<Credentials> c = p->Get();
    if (!c.ok()) {
      if (c.status().code() != StatusCode::kNotFound) return c.status().WithContext(p->Name());
      tried += "\n  " + p->Name() + ": " + c.status().message();
      continue;
    }
    if (c->expiration && *c->expiration <= now) {
      return FailedPreconditionError(p->Name() + " gave credentials that already expired; "
                                     "refresh them (or check the system clock)");
    }
    cached_ = *c;
    return *c;
  }
  cached_.reset();
  return NotFoundError("no AWS credentials found; tried:" + tried);
}

std::unique_ptr<CredentialsChain> DefaultCredentialsChain(http::HttpClient* client, EnvLookup env,
                                                          const Clock* clock) {
  std::vector<std::unique_ptr<CredentialsProvider>> p;
  p.push_back(std::make_unique<EnvironmentCredentialsProvider>(env));
  p.push_back(std::make_unique<ProfileCredentialsProvider>(env));
  p.push_back(std::make_unique<EcsCredentialsProvider>(client, env));
  p.push_back(std::make_unique<ImdsCredentialsProvider>(client, env));
  return std::make_unique<CredentialsChain>(std::move(p), clock);
}

Result<std::string> ResolveRegion(const EnvLookup& env) {
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (auto v = env(name); v && !v->empty()) return *v;
  }
  auto profile = ConfigProfile(env);
  if (auto it = profile.find("region"); it != profile.end() && !it->second.empty()) {
    return it->second;
  }
  return NotFoundError("no AWS region: set AWS_REGION or `region` in the config file profile '" +
                       ProfileName(env) + "'");
}

}  // namespace arbiter::aws
