#include "arbiter/service/dispatcher.h"

#include <algorithm>

namespace arbiter::service {

using storage::RunRecord;
using storage::RunStatus;

namespace {

// Live runs by what limits them.
struct Counts {
  int total = 0;
  std::map<std::string, int> by_runtime, by_asset, by_pool;
  void Add(const definitions::Project& project, const RunRecord& r) {
    ++total;
    ++by_runtime[r.runtime];
    ++by_asset[r.asset_key];
    if (const definitions::AssetDef* a = project.FindAsset(r.asset_key); a && !a->pool.empty()) {
      ++by_pool[a->pool];
    }
  }
};

// Why `r` cannot start with these counts, or empty when it can.
std::string HeldBack(const definitions::Project& project, const RunRecord& r, const Counts& c,
                     int max_concurrent_runs) {
  if (max_concurrent_runs > 0 && c.total >= max_concurrent_runs) {
    return "the service runs " + std::to_string(c.total) + " runs (service.max_concurrent_runs " +
           std::to_string(max_concurrent_runs) + ")";
  }
  if (auto rt = project.runtimes.find(r.runtime); rt != project.runtimes.end()) {
    int cap = rt->second.max_concurrency;
    auto n = c.by_runtime.find(r.runtime);
    if (cap > 0 && n != c.by_runtime.end() && n->second >= cap) {
      return "runtime " + r.runtime + " is at its max_concurrency " + std::to_string(cap);
    }
  }
  const definitions::AssetDef* asset = project.FindAsset(r.asset_key);
  if (!asset) return "";  // the launch fails and says why
  if (asset->max_concurrency > 0) {
    auto n = c.by_asset.find(r.asset_key);
    if (n != c.by_asset.end() && n->second >= asset->max_concurrency) {
      return "asset " + r.asset_key + " is at its max_concurrency " +
             std::to_string(asset->max_concurrency);
    }
  }
  if (!asset->pool.empty()) {
    auto pool = project.pools.find(asset->pool);
    auto n = c.by_pool.find(asset->pool);
    if (pool != project.pools.end() && n != c.by_pool.end() && n->second >= pool->second.slots) {
      return "pool " + asset->pool + " has all " + std::to_string(pool->second.slots) +
             " slots taken";
    }
  }
  return "";
}

}  // namespace

void LinkToUpstream(const definitions::AssetDef& asset, const QueuedRuns& queued,
                    RunRecord& run) {
  nlohmann::json after = nlohmann::json::array();
  for (const auto& dep : asset.deps) {
    auto up = queued.find({dep.str(), run.partition_key.value_or("")});
    if (up != queued.end()) after.push_back(up->second);
  }
  if (!after.empty()) run.tags[kAfterTag] = after;
}

Dispatch PlanDispatch(const definitions::Project& project, const QueueSnapshot& queue,
                      TimePoint now, int max_concurrent_runs) {
  Dispatch out;
  Counts counts;
  for (const RunRecord& r : queue.live) counts.Add(project, r);

  std::vector<const RunRecord*> order;
  for (const RunRecord& r : queue.queued) order.push_back(&r);
  std::stable_sort(order.begin(), order.end(), [](const RunRecord* a, const RunRecord* b) {
    if (a->priority != b->priority) return a->priority > b->priority;
    return a->created_at < b->created_at;
  });
  for (const RunRecord* r : order) {
    if (r->not_before && *r->not_before > now) {
      out.waiting[r->run_id] = "retry backoff";
      if (!out.wake_at || *r->not_before < *out.wake_at) out.wake_at = r->not_before;
      continue;
    }
    if (auto b = r->tags.find("backfill");
        b != r->tags.end() && b->is_string() && queue.paused_backfills.count(b->get<std::string>())) {
      out.waiting[r->run_id] = "backfill " + b->get<std::string>() + " is paused";
      continue;
    }
    std::string blocked;
    std::string failed_upstream;
    if (auto after = r->tags.find(kAfterTag); after != r->tags.end() && after->is_array()) {
      for (const auto& id : *after) {
        if (!id.is_string()) continue;
        std::optional<RunStatus> s = queue.status_of ? queue.status_of(id.get<std::string>())
                                                     : std::nullopt;
        if (!s) {
          failed_upstream = "upstream run " + id.get<std::string>() + " no longer exists";
        } else if (*s == RunStatus::kFailure || *s == RunStatus::kCanceled) {
          failed_upstream = "upstream run " + id.get<std::string>() + " ended " +
                            std::string(storage::RunStatusName(*s));
        } else if (*s != RunStatus::kSuccess) {
          blocked = "waiting for upstream run " + id.get<std::string>();
        }
        if (!failed_upstream.empty()) break;
      }
    }
    if (!failed_upstream.empty()) {
      out.cancel.emplace_back(*r, failed_upstream);
      continue;
    }
    if (!blocked.empty()) {
      out.waiting[r->run_id] = blocked;
      continue;
    }
    std::string held = HeldBack(project, *r, counts, max_concurrent_runs);
    if (!held.empty()) {
      out.waiting[r->run_id] = held;
      continue;
    }
    counts.Add(project, *r);
    out.start.push_back(*r);
  }
  return out;
}

}  // namespace arbiter::service
