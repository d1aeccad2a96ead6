// The `runtimes:` section: named platform targets. Every type is parsed and
// validated here, including those whose runtime is implemented by a later
// module, so a project is checked completely before anything runs.
#include <regex>

#include "arbiter/common/strings.h"
#include "arbiter/definitions/project_sections.h"

namespace arbiter::definitions::internal {
namespace {

const std::vector<std::string> kTypes = {"local", "databricks", "emr", "emr-serverless"};
const std::vector<std::string> kCommon = {"type", "max_concurrency", "description"};
const std::vector<std::string> kLocalKeys = {"spark_submit", "python", "cost_per_hour"};
const std::vector<std::string> kDatabricksKeys = {
    "host",   "token",  "client_id", "client_secret", "spark_version", "staging", "pricing_tier",
    "region", "instance_profile_arn", "existing_cluster_id", "spot_bid_price_percent",
    "first_on_demand"};
const std::vector<std::string> kEmrKeys = {
    "region",   "release_label",  "staging",     "log_uri",           "service_role",
    "instance_profile", "subnets", "existing_cluster_id", "spot_task_nodes", "spot_timeout",
    "allocation_strategy", "idle_timeout", "endpoint", "credentials"};
const std::vector<std::string> kServerlessKeys = {"region",   "application_id", "execution_role_arn",
                                                  "staging",  "release_label",  "log_uri",
                                                  "endpoint", "credentials"};
const std::vector<std::string> kCredentialKeys = {"profile", "access_key_id", "secret_access_key",
                                                  "session_token"};

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Checks `value` against `pattern` unless it contains ${...} references,
// which are only known at use.
void CheckPattern(const YamlReader& r, const yaml::Node& map, const char* key,
                  const std::optional<std::string>& value, const std::regex& pattern,
                  const std::string& expected) {
  if (!value || value->find("${") != std::string::npos) return;
  if (!std::regex_match(*value, pattern)) {
    r.Error(r.Get(map, key), "invalid " + std::string(key) + " " + Quote(*value),
            "expected " + expected);
  }
}

// Reads `key` once; checks it against `pattern` (unless it holds references).
std::optional<std::string> Matching(const YamlReader& r, const yaml::Node& n, const char* key,
                                    bool required, const std::regex& pattern,
                                    const std::string& expected) {
  auto v = r.String(n, key, required);
  CheckPattern(r, n, key, v, pattern, expected);
  return v;
}

const std::regex& RegionRe() {
  static const std::regex re("[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]");
  return re;
}
const std::regex& S3Re() {
  static const std::regex re("s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?");
  return re;
}
const std::regex& UrlRe() {
  static const std::regex re("https?://[^/\\s]+(/.*)?");
  return re;
}

bool IsLoopbackUrl(const std::string& url) {
  return url.rfind("http://127.0.0.1", 0) == 0 || url.rfind("http://localhost", 0) == 0 ||
         url.rfind("http://[::1]", 0) == 0;
}

void CheckUrl(const YamlReader& r, const yaml::Node& map, const char* key,
              const std::optional<ConfigString>& value) {
  if (!value || value->has_references()) return;
  const std::string& url = value->text();
  if (!std::regex_match(url, UrlRe())) {
    r.Error(r.Get(map, key), "invalid " + std::string(key) + " " + Quote(url),
            "expected a URL such as https://dbc-1234.cloud.databricks.com");
  } else if (url.rfind("http://", 0) == 0 && !IsLoopbackUrl(url)) {
    r.Error(r.Get(map, key), std::string(key) + " " + Quote(url) + " is not encrypted",
            "use https://; plain http is accepted only for emulators on 127.0.0.1");
  }
}

AwsCredentialsConfig ParseCredentials(const YamlReader& r, const yaml::Node& map) {
  AwsCredentialsConfig c;
  yaml::Node n = r.Get(map, "credentials");
  if (!n.IsDefined() || n.IsNull()) return c;
  if (!r.CheckKeys(n, "'credentials'", kCredentialKeys)) return c;
  c.profile = r.String(n, "profile");
  c.access_key_id = r.Config(n, "access_key_id");
  c.secret_access_key = r.Secret(n, "secret_access_key", "AWS_SECRET_ACCESS_KEY");
  c.session_token = r.Secret(n, "session_token", "AWS_SESSION_TOKEN");
  if (c.access_key_id.has_value() != r.Get(n, "secret_access_key").IsDefined()) {
    r.Error(n, "credentials need both access_key_id and secret_access_key, or neither",
            "or omit them to use the AWS credentials chain (environment, profile, instance role)");
  }
  return c;
}

void ParseDatabricks(const YamlReader& r, const yaml::Node& n, DatabricksRuntimeConfig* c) {
  if (auto host = r.Config(n, "host", true)) {
    c->host = *host;
    CheckUrl(r, n, "host", host);
  }
  c->token = r.Secret(n, "token", "DATABRICKS_TOKEN");
  c->client_id = r.Config(n, "client_id");
  c->client_secret = r.Secret(n, "client_secret", "DATABRICKS_CLIENT_SECRET");
  bool token = r.Get(n, "token").IsDefined();
  bool oauth = r.Get(n, "client_id").IsDefined() || r.Get(n, "client_secret").IsDefined();
  if (token && oauth) {
    r.Error(n, "databricks runtime has both a token and OAuth client credentials",
            "keep one: token (personal access token) or client_id + client_secret (OAuth M2M)");
  } else if (!token && !oauth) {
    r.Error(n, "databricks runtime needs credentials",
            "add token: ${env:DATABRICKS_TOKEN}, or client_id and client_secret for OAuth M2M");
  } else if (oauth && (!r.Get(n, "client_id").IsDefined() ||
                       !r.Get(n, "client_secret").IsDefined())) {
    r.Error(n, "OAuth M2M needs both client_id and client_secret");
  }
  static const std::regex version_re("[0-9]+\\.[0-9]+\\.x-.+");
  c->spark_version = Matching(r, n, "spark_version", true, version_re,
                              "a Databricks runtime version like 15.4.x-scala2.12")
                         .value_or("");
  static const std::regex staging_re("(dbfs:/|/Volumes/)[^\\s]+");
  c->staging = Matching(r, n, "staging", true, staging_re,
                        "a DBFS path (dbfs:/arbiter/staging) or a Unity Catalog volume "
                        "(/Volumes/catalog/schema/volume/arbiter)")
                   .value_or("");
  if (auto t = r.Enum(n, "pricing_tier", {"standard", "premium", "enterprise"})) c->pricing_tier = *t;
  c->region = Matching(r, n, "region", false, RegionRe(), "an AWS region such as us-east-1");
  static const std::regex arn("arn:aws[a-z-]*:iam::[0-9]{12}:instance-profile/.+");
  c->instance_profile_arn = Matching(r, n, "instance_profile_arn", false, arn,
                                     "arn:aws:iam::<account>:instance-profile/<name>");
  c->existing_cluster_id = r.String(n, "existing_cluster_id");
  if (auto p = r.Int(n, "spot_bid_price_percent", 1, 10000)) {
    c->spot_bid_price_percent = static_cast<int>(*p);
  }
  if (auto f = r.Int(n, "first_on_demand", 0, 10000)) {
    if (*f < 1) {
      r.Error(r.Get(n, "first_on_demand"), "first_on_demand must be at least 1",
              "the driver must stay on on-demand capacity; a spot driver loss kills the run");
    }
    c->first_on_demand = static_cast<int>(*f);
  }
}

AwsTarget ParseAwsTarget(const YamlReader& r, const yaml::Node& n) {
  AwsTarget t;
  t.region = Matching(r, n, "region", true, RegionRe(), "an AWS region such as us-east-1")
                 .value_or("");
  t.staging = Matching(r, n, "staging", true, S3Re(), "an S3 URI like s3://bucket/prefix")
                  .value_or("");
  t.log_uri = Matching(r, n, "log_uri", false, S3Re(), "an S3 URI like s3://bucket/logs");
  t.endpoint = r.Config(n, "endpoint");
  CheckUrl(r, n, "endpoint", t.endpoint);
  t.credentials = ParseCredentials(r, n);
  return t;
}

const std::regex& ReleaseLabelRe() {
  static const std::regex re("emr-[0-9]+\\.[0-9]+\\.[0-9]+");
  return re;
}

void ParseEmr(const YamlReader& r, const yaml::Node& n, EmrRuntimeConfig* c) {
  c->aws = ParseAwsTarget(r, n);
  c->release_label = Matching(r, n, "release_label", true, ReleaseLabelRe(),
                              "an EMR release label like emr-7.2.0")
                         .value_or("");
  if (auto v = r.String(n, "service_role")) c->service_role = *v;
  if (auto v = r.String(n, "instance_profile")) c->instance_profile = *v;
  static const std::regex subnet("subnet-[0-9a-f]{8,17}");
  for (const auto& [s, node] : r.StringListNodes(n, "subnets")) {
    if (!std::regex_match(s, subnet) && s.find("${") == std::string::npos) {
      r.Error(node, "invalid subnet id " + Quote(s), "expected subnet-0123456789abcdef0");
    }
    c->subnets.push_back(s);
  }
  c->existing_cluster_id = r.String(n, "existing_cluster_id");
  if (auto b = r.Bool(n, "spot_task_nodes")) c->spot_task_nodes = *b;
  if (auto d = r.Duration(n, "spot_timeout")) c->spot_timeout = *d;
  if (auto s = r.Enum(n, "allocation_strategy", {"price-capacity-optimized", "capacity-optimized",
                                                 "lowest-price", "diversified"})) {
    c->allocation_strategy = *s;
  }
  if (auto d = r.Duration(n, "idle_timeout")) c->idle_timeout = *d;
}

void ParseServerless(const YamlReader& r, const yaml::Node& n, EmrServerlessRuntimeConfig* c) {
  c->aws = ParseAwsTarget(r, n);
  static const std::regex app("[0-9a-z]{1,64}");
  c->application_id = Matching(r, n, "application_id", true, app,
                               "an EMR Serverless application id like 00fabcd1234efg09")
                          .value_or("");
  static const std::regex role("arn:aws[a-z-]*:iam::[0-9]{12}:role/.+");
  c->execution_role_arn = Matching(r, n, "execution_role_arn", true, role,
                                   "arn:aws:iam::<account>:role/<name>")
                              .value_or("");
  c->release_label = Matching(r, n, "release_label", false, ReleaseLabelRe(),
                              "an EMR release label like emr-7.2.0");
}

}  // namespace

void ParseRuntimes(const std::vector<Section>& sections, Project* project) {
  for (const Section& sec : sections) {
    const YamlReader& r = *sec.reader;
    if (!r.ExpectMap(sec.node, "'runtimes'")) continue;
    for (auto it = sec.node.begin(); it != sec.node.end(); ++it) {
      auto name = r.ScalarText(it->first, "a runtime name");
      if (!name) continue;
      if (auto prev = project->runtimes.find(*name); prev != project->runtimes.end()) {
        r.Error(it->first, "runtime " + Quote(*name) + " is defined twice",
                "first defined at " + prev->second.location.ToString());
        continue;
      }
      RuntimeConfig rt;
      rt.name = *name;
      rt.location = r.Loc(it->first);
      const yaml::Node& n = it->second;
      std::string what = "runtime " + Quote(*name);
      if (!r.ExpectMap(n, what)) continue;
      auto type = r.Enum(n, "type", kTypes, /*required=*/true);
      if (!type) {
        project->runtimes[*name] = rt;  // known name, so assets using it do not cascade
        continue;
      }
      if (auto c = r.Int(n, "max_concurrency", 0, 100000)) rt.max_concurrency = static_cast<int>(*c);
      if (*type == "local") {
        rt.type = RuntimeType::kLocal;
        r.CheckKeys(n, what, Concat(kCommon, kLocalKeys));
        rt.local.spark_submit = r.String(n, "spark_submit");
        rt.local.python = r.String(n, "python");
        if (auto c = r.Number(n, "cost_per_hour", 0, 1e6)) rt.local.cost_per_hour = *c;
      } else if (*type == "databricks") {
        rt.type = RuntimeType::kDatabricks;
        r.CheckKeys(n, what, Concat(kCommon, kDatabricksKeys));
        ParseDatabricks(r, n, &rt.databricks);
      } else if (*type == "emr") {
        rt.type = RuntimeType::kEmr;
        r.CheckKeys(n, what, Concat(kCommon, kEmrKeys));
        ParseEmr(r, n, &rt.emr);
      } else {
        rt.type = RuntimeType::kEmrServerless;
        r.CheckKeys(n, what, Concat(kCommon, kServerlessKeys));
        ParseServerless(r, n, &rt.emr_serverless);
      }
      project->runtimes[*name] = std::move(rt);
    }
  }
}

}  // namespace arbiter::definitions::internal
