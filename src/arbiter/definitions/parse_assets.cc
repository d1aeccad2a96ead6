// The `assets:` section, and the `defaults:` that fill in what assets omit.
#include <filesystem>
#include <regex>

#include "arbiter/common/duration.h"
#include "arbiter/common/strings.h"
#include "arbiter/definitions/project_sections.h"

namespace arbiter::definitions::internal {
namespace {

const std::vector<std::string> kAssetKeys = {
    "description", "deps",      "partitions",        "job",          "compute", "runtimes",
    "placement",   "overrides", "expected_duration", "code_version", "owners",  "tags",
    "priority",    "pool",      "max_concurrency",   "retries"};
const std::vector<std::string> kJobKeys = {"kind", "script", "command", "args", "env"};
const std::vector<std::string> kJobKinds = {"pyspark", "python", "command"};
const std::vector<std::string> kComputeKeys = {"workers",   "max_workers",       "worker",
                                               "driver",    "instance_types",    "instance_families",
                                               "spot",      "photon",            "max_duration"};
const std::vector<std::string> kShapeKeys = {"vcpu", "memory_gib"};
const std::vector<std::string> kRuntimeTypes = {"local", "databricks", "emr", "emr-serverless"};
const std::vector<std::string> kOverrideKeys = {"spark_conf", "cluster"};
const std::vector<std::string> kDefaultsKeys = {"runtimes", "placement", "retries", "priority"};
const std::vector<std::string> kRetryKeys = {"max_attempts", "backoff",           "max_backoff",
                                             "jitter",       "retry_user_errors", "other_runtime"};
constexpr int64_t kMaxAttempts = 100;
constexpr int64_t kMaxPriority = 1000;

WorkerShape ParseShape(const YamlReader& r, const yaml::Node& map, const char* key) {
  WorkerShape s;
  yaml::Node n = r.Get(map, key);
  if (!n.IsDefined() || n.IsNull()) return s;
  if (!r.CheckKeys(n, Quote(key), kShapeKeys)) return s;
  s.vcpu = r.Number(n, "vcpu", 0, 1024, /*min_exclusive=*/true);
  s.memory_gib = r.Number(n, "memory_gib", 0, 24576, /*min_exclusive=*/true);
  return s;
}

JobSpec ParseJob(const YamlReader& r, const yaml::Node& n, const std::string& asset,
                 const std::string& root) {
  JobSpec job;
  std::string what = "the job of " + Quote(asset);
  if (!r.CheckKeys(n, what, kJobKeys)) return job;
  auto script = r.String(n, "script");
  bool has_command = r.Get(n, "command").IsDefined();
  auto kind = r.Enum(n, "kind", kJobKinds);
  if (kind == "command" || (!kind && has_command)) {
    job.kind = JobKind::kCommand;
  } else if (kind == "python") {
    job.kind = JobKind::kPython;
  } else {
    job.kind = JobKind::kPySpark;
  }
  if (job.kind == JobKind::kCommand) {
    yaml::Node cmd = r.Get(n, "command");
    if (!cmd.IsDefined()) {
      r.Error(n, what + " is of kind 'command' but has no 'command'",
              "e.g. command: [./bin/compact, --fast]");
    } else if (cmd.IsScalar()) {
      r.Error(cmd, "'command' must be a list of arguments, not one string",
              "write command: [" + cmd.Scalar() + "] and split arguments into list items; "
              "no shell is involved");
    } else if (auto argv = r.StringList(n, "command")) {
      if (argv->empty()) r.Error(cmd, "'command' is empty");
      job.command = *argv;
    }
    if (script) r.Error(r.Get(n, "script"), "'script' is not used by jobs of kind 'command'");
  } else {
    if (has_command) {
      r.Error(r.Get(n, "command"), "'command' is only for jobs of kind 'command'",
              "use script: PATH for " + std::string(JobKindName(job.kind)) + " jobs");
    }
    if (!script) {
      if (!r.Get(n, "script").IsDefined()) {
        r.Error(n, what + " needs a 'script' (a path inside the project)");
      }
    } else {
      job.script = *script;
      namespace fs = std::filesystem;
      fs::path p = fs::path(root) / *script;
      std::error_code ec;
      std::string rel = fs::relative(fs::weakly_canonical(p), fs::weakly_canonical(root), ec).string();
      if (fs::path(*script).is_absolute() || rel.rfind("..", 0) == 0) {
        r.Error(r.Get(n, "script"), "job script " + Quote(*script) + " is outside the project",
                "keep job code in the project so it is versioned with the definitions");
      } else if (!fs::is_regular_file(p, ec)) {
        r.Error(r.Get(n, "script"), "job script " + Quote(*script) + " not found",
                "paths are relative to the project directory");
      }
    }
  }
  if (auto args = r.StringList(n, "args")) job.args = *args;
  yaml::Node env = r.Get(n, "env");
  if (auto m = r.StringMap(n, "env")) {
    for (const auto& [k, v] : *m) {
      Result<ConfigString> c = ConfigString::Parse(v);
      if (!c.ok()) {
        r.Error(r.Get(env, k), c.status().message());
        continue;
      }
      job.env[k] = std::move(c).value();
    }
  }
  return job;
}

ComputeSpec ParseCompute(const YamlReader& r, const yaml::Node& n, const std::string& asset) {
  ComputeSpec c;
  if (!n.IsDefined() || n.IsNull()) return c;
  if (!r.CheckKeys(n, "the compute of " + Quote(asset), kComputeKeys)) return c;
  if (auto w = r.Int(n, "workers", 0, 10000)) c.workers = static_cast<int>(*w);
  if (auto w = r.Int(n, "max_workers", 1, 10000)) {
    c.max_workers = static_cast<int>(*w);
    if (*w < c.workers) {
      r.Error(r.Get(n, "max_workers"), "max_workers (" + std::to_string(*w) +
                                           ") is below workers (" + std::to_string(c.workers) + ")",
              "workers is the minimum when autoscaling");
    }
  }
  c.worker = ParseShape(r, n, "worker");
  c.driver = ParseShape(r, n, "driver");
  yaml::Node types = r.Get(n, "instance_types");
  if (auto m = r.StringMap(n, "instance_types")) {
    static const std::regex re("[a-z][a-z0-9-]*\\.[a-z0-9]+");
    for (const auto& [platform, type] : *m) {
      bool known = false;
      for (const auto& t : kRuntimeTypes) known = known || t == platform;
      if (!known) {
        r.Error(r.Get(types, platform).IsDefined() ? r.Get(types, platform) : types,
                "instance_types: unknown runtime type " + Quote(platform) +
                    DidYouMean(platform, kRuntimeTypes),
                "keys are runtime types: " + Join(kRuntimeTypes, ", "));
      } else if (!std::regex_match(type, re)) {
        r.Error(r.Get(types, platform), "invalid instance type " + Quote(type),
                "expected an EC2 instance type like m5.2xlarge");
      }
      c.instance_types[platform] = type;
    }
  }
  if (auto f = r.StringList(n, "instance_families")) c.instance_families = *f;
  if (auto b = r.Bool(n, "spot")) c.spot = *b;
  if (auto b = r.Bool(n, "photon")) c.photon = *b;
  c.max_duration = r.Duration(n, "max_duration");
  return c;
}

}  // namespace

std::optional<PlacementPolicy> ParsePlacement(const YamlReader& r, const yaml::Node& node) {
  PlacementPolicy p;
  const std::string hint = "write placement: cheapest | fastest | {fixed: RUNTIME} | "
                           "{cheapest_within: DURATION}";
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (s == "cheapest") return p;
    if (s == "fastest") {
      p.kind = PlacementPolicy::Kind::kFastest;
      return p;
    }
    if (s == "fixed" || s == "cheapest_within") {
      r.Error(node, "placement " + Quote(s) + " needs a value", hint);
      return std::nullopt;
    }
    r.Error(node, "unknown placement " + Quote(s) +
                      DidYouMean(s, {"cheapest", "fastest", "fixed", "cheapest_within"}),
            hint);
    return std::nullopt;
  }
  if (node.IsMap() && node.size() == 1) {
    std::string kind = node.begin()->first.Scalar();
    yaml::Node value = node.begin()->second;
    if (kind == "fixed") {
      auto name = r.ScalarText(value, "the runtime of placement 'fixed'");
      if (!name) return std::nullopt;
      p.kind = PlacementPolicy::Kind::kFixed;
      p.runtime = *name;
      return p;
    }
    if (kind == "cheapest_within") {
      auto text = r.ScalarText(value, "the deadline of 'cheapest_within'");
      if (!text) return std::nullopt;
      Result<std::chrono::seconds> d = ParseDuration(*text);
      if (!d.ok()) {
        r.Error(value, "cheapest_within: " + d.status().message());
        return std::nullopt;
      }
      p.kind = PlacementPolicy::Kind::kCheapestWithin;
      p.deadline = *d;
      return p;
    }
    r.Error(node.begin()->first,
            "unknown placement " + Quote(kind) + DidYouMean(kind, {"fixed", "cheapest_within"}),
            hint);
    return std::nullopt;
  }
  r.Error(node, "invalid placement", hint);
  return std::nullopt;
}

std::optional<RetryPolicy> ParseRetries(const YamlReader& r, const yaml::Node& map) {
  yaml::Node n = r.Get(map, "retries");
  if (!n.IsDefined() || n.IsNull()) return std::nullopt;
  const std::string hint =
      "write retries: N (attempts in all, the first included) or "
      "retries: {max_attempts: N, backoff: 1m, max_backoff: 30m}";
  RetryPolicy p;
  if (n.IsScalar()) {
    auto attempts = r.Int(map, "retries", 1, kMaxAttempts);
    if (!attempts) return std::nullopt;
    p.max_attempts = static_cast<int>(*attempts);
    return p;
  }
  if (!n.IsMap()) {
    r.Error(n, "'retries' must be a number of attempts or a mapping, not a list", hint);
    return std::nullopt;
  }
  r.CheckKeys(n, "'retries'", kRetryKeys);
  yaml::Node attempts_node = r.Get(n, "max_attempts");
  if (!attempts_node.IsDefined() || attempts_node.IsNull()) {
    r.Error(n, "'retries' needs 'max_attempts'", hint);
  } else if (auto attempts = r.Int(n, "max_attempts", 1, kMaxAttempts)) {
    p.max_attempts = static_cast<int>(*attempts);
  }
  auto backoff = r.Duration(n, "backoff");
  if (backoff) p.backoff = *backoff;
  if (auto max_backoff = r.Duration(n, "max_backoff")) {
    if (*max_backoff < p.backoff) {
      r.Error(r.Get(n, "max_backoff"),
              "max_backoff (" + FormatDuration(*max_backoff) + ") is below backoff (" +
                  FormatDuration(p.backoff) + (backoff ? ")" : ", the default)"),
              "the wait doubles from backoff after each attempt and stops at max_backoff");
    } else {
      p.max_backoff = *max_backoff;
    }
  } else if (p.backoff > p.max_backoff) {
    p.max_backoff = p.backoff;  // a long first wait raises the default cap, never lowers it
  }
  if (auto j = r.Number(n, "jitter", 0, 1)) p.jitter = *j;
  if (auto b = r.Bool(n, "retry_user_errors")) p.retry_user_errors = *b;
  if (auto b = r.Bool(n, "other_runtime")) p.other_runtime = *b;
  return p;
}

std::optional<int> ParsePriority(const YamlReader& r, const yaml::Node& map) {
  auto v = r.Int(map, "priority", -kMaxPriority, kMaxPriority);
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

void ParseDefaults(const Section& sec, Defaults* d) {
  const YamlReader& r = *sec.reader;
  if (!r.CheckKeys(sec.node, "'defaults'", kDefaultsKeys)) return;
  for (const auto& [name, node] : r.StringListNodes(sec.node, "runtimes")) {
    d->runtimes.push_back(name);
    d->runtime_locations.push_back(r.Loc(node));
  }
  yaml::Node p = r.Get(sec.node, "placement");
  if (p.IsDefined() && !p.IsNull()) {
    d->placement = ParsePlacement(r, p);
    d->placement_location = r.Loc(p);
  }
  d->retries = ParseRetries(r, sec.node);
  d->priority = ParsePriority(r, sec.node);
}

void ParseAssets(const std::vector<Section>& sections, const std::string& root, Project* project,
                 std::map<AssetKey, AssetRefs>* refs) {
  for (const Section& sec : sections) {
    const YamlReader& r = *sec.reader;
    if (!r.ExpectMap(sec.node, "'assets'")) continue;
    for (auto it = sec.node.begin(); it != sec.node.end(); ++it) {
      auto text = r.ScalarText(it->first, "an asset key");
      if (!text) continue;
      Result<AssetKey> key = AssetKey::Parse(*text);
      if (!key.ok()) {
        r.Error(it->first, key.status().message());
        continue;
      }
      // A second definition is still checked (its own mistakes are reported in
      // the same pass), but only the first is kept.
      const auto prev = project->assets.find(*key);
      const bool duplicate = prev != project->assets.end();
      if (duplicate) {
        r.Error(it->first, "asset " + Quote(*text) + " is defined twice",
                "first defined at " + prev->second.location.ToString());
      }
      AssetDef a;
      AssetRefs ar;
      a.key = *key;
      a.location = r.Loc(it->first);
      const yaml::Node& n = it->second;
      std::string what = "asset " + Quote(*text);
      if (!r.CheckKeys(n, what, kAssetKeys)) continue;
      if (auto d = r.String(n, "description")) a.description = *d;
      for (const auto& [dep, node] : r.StringListNodes(n, "deps")) {
        Result<AssetKey> dk = AssetKey::Parse(dep);
        if (!dk.ok()) {
          r.Error(node, dk.status().message());
          continue;
        }
        a.deps.push_back(*dk);
        ar.deps.push_back(r.Loc(node));
      }
      if (auto p = r.String(n, "partitions")) {
        a.partitions = *p;
        ar.partitions = r.Loc(r.Get(n, "partitions"));
      }
      yaml::Node job = r.Get(n, "job");
      if (!job.IsDefined() || job.IsNull()) {
        r.Error(it->first, what + " has no 'job'",
                "add job: {script: jobs/" + a.key.parts().back() + ".py}");
      } else {
        a.job = ParseJob(r, job, *text, root);
      }
      a.compute = ParseCompute(r, r.Get(n, "compute"), *text);
      yaml::Node rts = r.Get(n, "runtimes");
      if (rts.IsDefined()) {
        ar.runtimes_explicit = true;
        for (const auto& [name, node] : r.StringListNodes(n, "runtimes")) {
          a.runtimes.push_back(name);
          ar.runtimes.push_back(r.Loc(node));
        }
      }
      yaml::Node placement = r.Get(n, "placement");
      if (placement.IsDefined() && !placement.IsNull()) {
        ar.placement_explicit = true;
        ar.placement = r.Loc(placement);
        if (auto p = ParsePlacement(r, placement)) a.placement = *p;
      }
      yaml::Node overrides = r.Get(n, "overrides");
      if (overrides.IsDefined() && !overrides.IsNull() &&
          r.ExpectMap(overrides, "'overrides' (by runtime name)")) {
        for (auto o = overrides.begin(); o != overrides.end(); ++o) {
          std::string rt = o->first.Scalar();
          ar.overrides[rt] = r.Loc(o->first);
          RuntimeOverride ov;
          if (!r.CheckKeys(o->second, "overrides for " + Quote(rt), kOverrideKeys)) continue;
          if (auto conf = r.StringMap(o->second, "spark_conf")) ov.spark_conf = *conf;
          yaml::Node cluster = r.Get(o->second, "cluster");
          if (cluster.IsDefined() && !cluster.IsNull() &&
              r.ExpectMap(cluster, "'cluster' overrides")) {
            ov.cluster = YamlReader::ToJson(cluster);
          }
          a.overrides[rt] = std::move(ov);
        }
      }
      a.expected_duration = r.Duration(n, "expected_duration");
      if (auto v = r.String(n, "code_version")) a.code_version = *v;
      if (auto o = r.StringList(n, "owners")) a.owners = *o;
      if (auto t = r.StringMap(n, "tags")) a.tags = *t;
      if (auto v = ParsePriority(r, n)) {
        a.priority = *v;
        ar.priority_explicit = true;
      }
      if (auto pool = r.String(n, "pool")) {
        if (pool->empty()) r.Error(r.Get(n, "pool"), "'pool' must name a pool, not be empty");
        a.pool = *pool;
        ar.pool = r.Loc(r.Get(n, "pool"));
      }
      if (auto c = r.Int(n, "max_concurrency", 0, 100000)) a.max_concurrency = static_cast<int>(*c);
      if (auto p = ParseRetries(r, n)) {
        a.retries = *p;
        ar.retries_explicit = true;
      }
      if (duplicate) continue;
      (*refs)[a.key] = std::move(ar);
      project->assets[a.key] = std::move(a);
    }
  }
}

}  // namespace arbiter::definitions::internal
