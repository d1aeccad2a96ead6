// The `pools:` section (named slot pools that assets opt into) and the
// project's `service:` settings: what `arbiter serve` reads to decide which
// queued runs it may launch.
#include "arbiter/common/strings.h"
#include "arbiter/definitions/project_sections.h"

namespace arbiter::definitions::internal {
namespace {

const std::vector<std::string> kPoolKeys = {"slots"};
const std::vector<std::string> kServiceKeys = {"max_concurrent_runs"};
constexpr int64_t kMaxSlots = 100000;  // as a runtime's max_concurrency

}  // namespace

void ParsePools(const std::vector<Section>& sections, Project* project) {
  for (const Section& sec : sections) {
    const YamlReader& r = *sec.reader;
    if (!r.ExpectMap(sec.node, "'pools'")) continue;
    for (auto it = sec.node.begin(); it != sec.node.end(); ++it) {
      auto name = r.ScalarText(it->first, "a pool name");
      if (!name) continue;
      if (auto prev = project->pools.find(*name); prev != project->pools.end()) {
        r.Error(it->first, "pool " + Quote(*name) + " is defined twice",
                "first defined at " + prev->second.location.ToString());
        continue;
      }
      PoolDef pool;
      pool.name = *name;
      pool.location = r.Loc(it->first);
      const std::string what = "pool " + Quote(*name);
      const std::string hint = "write " + *name + ": N or " + *name + ": {slots: N}, N >= 1";
      const yaml::Node& n = it->second;
      std::optional<int64_t> slots;
      if (n.IsScalar()) {
        slots = r.Int(sec.node, *name, 1, kMaxSlots, "the slots of " + what);
      } else if (n.IsMap()) {
        r.CheckKeys(n, what, kPoolKeys);
        yaml::Node s = r.Get(n, "slots");
        if (!s.IsDefined() || s.IsNull()) r.Error(it->first, what + " has no 'slots'", hint);
        slots = r.Int(n, "slots", 1, kMaxSlots);
      } else {
        r.Error(n.IsNull() ? it->first : n, what + " must be a number of slots or a mapping", hint);
      }
      if (slots) pool.slots = static_cast<int>(*slots);
      // Kept even when invalid, so assets naming it do not add errors of their own.
      project->pools[*name] = std::move(pool);
    }
  }
}

void ParseService(const Section& sec, Project* project) {
  const YamlReader& r = *sec.reader;
  if (!r.CheckKeys(sec.node, "'service' (project settings)", kServiceKeys)) return;
  project->service.location = r.Loc(sec.node);
  if (auto v = r.Int(sec.node, "max_concurrent_runs", 1, kMaxSlots)) {
    project->service.max_concurrent_runs = static_cast<int>(*v);
  }
}

}  // namespace arbiter::definitions::internal
