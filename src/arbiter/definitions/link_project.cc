// Cross-section checks, run after every file's sections are parsed: defaults,
// deps, runtime, partitions and pool names, schedule targets, dependency cycles, and
// references to the environment that cannot be resolved right now.
#include <set>

#include "arbiter/common/strings.h"
#include "arbiter/definitions/asset_graph.h"
#include "arbiter/definitions/project_sections.h"

namespace arbiter::definitions::internal {
namespace {

template <typename Map>
std::vector<std::string> Names(const Map& m) {
  std::vector<std::string> out;
  for (const auto& [k, v] : m) out.push_back(k);
  return out;
}

std::vector<std::string> AssetNames(const Project& p) {
  std::vector<std::string> out;
  for (const auto& [k, v] : p.assets) out.push_back(k.str());
  return out;
}

void WarnUnresolvable(const std::optional<ConfigString>& value, const std::string& field,
                      const RuntimeConfig& rt, const Environment& env, Diagnostics* diags) {
  if (!value) return;
  for (const std::string& problem : value->UnresolvableReferences(env)) {
    diags->Warning(rt.location,
                   "runtime " + Quote(rt.name) + ": " + field + ": " + problem,
                   "it must be available when an asset runs on '" + rt.name + "'");
  }
}

}  // namespace

void CheckRuntimeReferences(const Project& p, const Environment& env, Diagnostics* diags) {
  for (const auto& [name, rt] : p.runtimes) {
    switch (rt.type) {
      case RuntimeType::kDatabricks:
        WarnUnresolvable(rt.databricks.host, "host", rt, env, diags);
        WarnUnresolvable(rt.databricks.token, "token", rt, env, diags);
        WarnUnresolvable(rt.databricks.client_id, "client_id", rt, env, diags);
        WarnUnresolvable(rt.databricks.client_secret, "client_secret", rt, env, diags);
        break;
      case RuntimeType::kEmr:
      case RuntimeType::kEmrServerless: {
        const AwsTarget& aws =
            rt.type == RuntimeType::kEmr ? rt.emr.aws : rt.emr_serverless.aws;
        WarnUnresolvable(aws.endpoint, "endpoint", rt, env, diags);
        WarnUnresolvable(aws.credentials.access_key_id, "credentials.access_key_id", rt, env, diags);
        WarnUnresolvable(aws.credentials.secret_access_key, "credentials.secret_access_key", rt, env,
                         diags);
        WarnUnresolvable(aws.credentials.session_token, "credentials.session_token", rt, env, diags);
        break;
      }
      case RuntimeType::kLocal:
        break;
    }
  }
}

void LinkProject(const Defaults& defaults, std::map<AssetKey, AssetRefs>& refs,
                 const std::map<std::string, std::vector<std::pair<std::string, SourceLocation>>>&
                     schedule_assets,
                 const Environment& env, Project* p, Diagnostics* diags) {
  const std::vector<std::string> runtime_names = Names(p->runtimes);
  const std::vector<std::string> asset_names = AssetNames(*p);
  const std::vector<std::string> pool_names = Names(p->pools);

  for (size_t i = 0; i < defaults.runtimes.size(); ++i) {
    if (!p->runtimes.count(defaults.runtimes[i])) {
      diags->Error(defaults.runtime_locations[i],
                   "defaults: unknown runtime " + Quote(defaults.runtimes[i]) +
                       DidYouMean(defaults.runtimes[i], runtime_names),
                   runtime_names.empty() ? "the project defines no runtimes"
                                         : "defined runtimes: " + Join(runtime_names, ", "));
    }
  }
  if (p->runtimes.empty() && !p->assets.empty()) {
    diags->Error(p->assets.begin()->second.location, "the project defines no runtimes",
                 "add e.g. runtimes: {local: {type: local}}");
  }

  for (auto& [key, a] : p->assets) {
    AssetRefs& ar = refs[key];
    const std::string what = "asset " + Quote(key.str());
    if (!ar.runtimes_explicit) {
      a.runtimes = defaults.runtimes.empty() ? runtime_names : defaults.runtimes;
      ar.runtimes.assign(a.runtimes.size(), a.location);
    }
    if (!ar.placement_explicit) {
      if (defaults.placement) a.placement = *defaults.placement;
      ar.placement = defaults.placement ? defaults.placement_location : a.location;
    }
    if (!ar.retries_explicit && defaults.retries) a.retries = *defaults.retries;
    if (!ar.priority_explicit && defaults.priority) a.priority = *defaults.priority;
    std::set<std::string> seen_rt;
    for (size_t i = 0; i < a.runtimes.size(); ++i) {
      const std::string& rt = a.runtimes[i];
      if (!seen_rt.insert(rt).second) {
        diags->Error(ar.runtimes[i], what + " lists runtime " + Quote(rt) + " twice");
      } else if (ar.runtimes_explicit && !p->runtimes.count(rt)) {
        diags->Error(ar.runtimes[i], what + ": unknown runtime " + Quote(rt) +
                                         DidYouMean(rt, runtime_names),
                     runtime_names.empty() ? "the project defines no runtimes"
                                           : "defined runtimes: " + Join(runtime_names, ", "));
      }
    }
    if (ar.runtimes_explicit && a.runtimes.empty()) {
      diags->Error(a.location, what + " may run on no runtime ('runtimes' is empty)");
    }
    if (a.placement.kind == PlacementPolicy::Kind::kFixed) {
      const std::string& rt = a.placement.runtime;
      if (!p->runtimes.count(rt)) {
        diags->Error(ar.placement, what + ": placement is fixed to unknown runtime " + Quote(rt) +
                                       DidYouMean(rt, runtime_names));
      } else if (!seen_rt.count(rt)) {
        diags->Error(ar.placement,
                     what + ": placement is fixed to " + Quote(rt) +
                         ", which is not among the asset's runtimes (" + Join(a.runtimes, ", ") + ")",
                     "add it to the asset's 'runtimes' or choose another placement");
      }
    }
    for (const auto& [rt, loc] : ar.overrides) {
      if (!p->runtimes.count(rt)) {
        diags->Error(loc, what + ": overrides for unknown runtime " + Quote(rt) +
                              DidYouMean(rt, runtime_names));
      } else if (!seen_rt.count(rt)) {
        diags->Warning(loc, what + ": overrides for runtime " + Quote(rt) +
                                " have no effect; the asset does not run there");
      }
    }
    if (!a.partitions.empty() && !p->partitions.count(a.partitions)) {
      diags->Error(ar.partitions, what + ": unknown partitions " + Quote(a.partitions) +
                                      DidYouMean(a.partitions, Names(p->partitions)),
                   p->partitions.empty() ? "define them under 'partitions:'"
                                         : "defined partitions: " + Join(Names(p->partitions), ", "));
    }
    if (!a.pool.empty() && !p->pools.count(a.pool)) {
      diags->Error(ar.pool,
                   what + ": unknown pool " + Quote(a.pool) + DidYouMean(a.pool, pool_names),
                   pool_names.empty() ? "define it under 'pools:', e.g. pools: {" + a.pool + ": 4}"
                                      : "defined pools: " + Join(pool_names, ", "));
    }
    std::set<AssetKey> seen_deps;
    for (size_t i = 0; i < a.deps.size(); ++i) {
      const AssetKey& d = a.deps[i];
      if (!seen_deps.insert(d).second) {
        diags->Error(ar.deps[i], what + " lists dependency " + Quote(d.str()) + " twice");
      } else if (!p->assets.count(d)) {
        diags->Error(ar.deps[i], what + " depends on unknown asset " + Quote(d.str()) +
                                     DidYouMean(d.str(), asset_names));
      }
    }
    for (const auto& [name, value] : a.job.env) {
      for (const std::string& problem : value.UnresolvableReferences(env)) {
        diags->Warning(a.location, what + ": job env " + name + ": " + problem,
                       "it must be available when the asset runs");
      }
      // A value a runtime would refuse at launch (a resolved secret in a
      // platform's stored job parameters), said now. A warning: placement may
      // still choose a runtime that takes it.
      for (const auto& [rt_name, rt] : p->runtimes) {
        if (!a.runtimes.empty() && !seen_rt.count(rt_name)) continue;
        const JobEnvTarget target = rt.type == RuntimeType::kLocal ? JobEnvTarget::kLocalProcess
                                    : rt.type == RuntimeType::kDatabricks
                                        ? JobEnvTarget::kDatabricksJob
                                        : JobEnvTarget::kAwsJob;
        Result<std::string> v = value.ResolveForJob(env, target);
        if (!v.ok() && v.status().code() == StatusCode::kFailedPrecondition) {
          diags->Warning(a.location,
                         what + ": job env " + name + " on runtime " + Quote(rt_name) + ": " +
                             v.status().message(),
                         "a run placed there fails before it starts");
        }
      }
    }
  }

  for (const auto& [name, assets] : schedule_assets) {
    for (const auto& [key, loc] : assets) {
      Result<AssetKey> k = AssetKey::Parse(key);
      if (!k.ok()) {
        diags->Error(loc, "schedule " + Quote(name) + ": " + k.status().message());
      } else if (!p->assets.count(*k)) {
        diags->Error(loc, "schedule " + Quote(name) + " targets unknown asset " + Quote(key) +
                              DidYouMean(key, asset_names));
      } else if (p->schedules.count(name)) {
        p->schedules[name].assets.push_back(*k);
      }
    }
  }

  AssetGraph graph(p->assets);
  for (const auto& cycle : graph.Cycles()) {
    std::vector<std::string> names;
    for (const auto& k : cycle) names.push_back(k.str());
    diags->Error(p->assets.at(cycle.front()).location,
                 "dependency cycle: " + Join(names, " -> "),
                 "each asset depends on the next; remove one of these deps to break the cycle");
  }
}

}  // namespace arbiter::definitions::internal
