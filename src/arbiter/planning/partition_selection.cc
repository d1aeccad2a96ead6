#include "arbiter/planning/partition_selection.h"

#include <sstream>

#include "arbiter/common/strings.h"

namespace arbiter::planning {

using definitions::PartitionSet;

std::optional<PartitionSet> SelectPartitionIndices(const definitions::AssetDef& asset,
                                                   const definitions::PartitionsDef& def,
                                                   const Selection& sel, PlanningState& state,
                                                   std::vector<PlanError>* errors) {
  const std::string name = asset.key.str();
  if (sel.empty()) {
    std::ostringstream what;
    what << "asset " << Quote(name) << " is partitioned (" << asset.partitions << ", "
         << def.Size() << " keys); choose what to run";
    errors->push_back({what.str(), "selection",
                       "--partition KEY (repeatable), --from KEY --to KEY, or --all-missing; "
                       "'arbiter partitions " + name + "' lists the keys"});
    return std::nullopt;
  }
  auto index_of = [&](const std::string& flag, const std::string& key) -> std::optional<int64_t> {
    std::optional<int64_t> i = def.IndexOf(key);
    if (!i) {
      std::string hint;
      if (def.Size() > 0) {
        hint = "keys look like " + Quote(def.KeyAt(0)) + " ... " + Quote(def.KeyAt(def.Size() - 1));
      }
      errors->push_back({flag + " " + Quote(key) + " is not a partition of " + Quote(name) + " (" +
                             asset.partitions + ": " + def.Describe() + ")",
                         flag, hint});
    }
    return i;
  };
  PartitionSet chosen;
  for (const std::string& key : sel.partitions) {
    std::optional<int64_t> i = index_of("--partition", key);
    if (!i) return std::nullopt;
    chosen.Add(*i);
  }
  if (!sel.from.empty() || !sel.to.empty()) {
    if (sel.from.empty() || sel.to.empty()) {
      errors->push_back({"--from and --to go together (both inclusive)",
                         sel.from.empty() ? "--from" : "--to", ""});
      return std::nullopt;
    }
    std::optional<int64_t> b = index_of("--from", sel.from);
    std::optional<int64_t> e = index_of("--to", sel.to);
    if (!b || !e) return std::nullopt;
    if (*b > *e) {
      errors->push_back(
          {"--from " + Quote(sel.from) + " comes after --to " + Quote(sel.to), "--from", ""});
      return std::nullopt;
    }
    chosen = chosen.Union(PartitionSet::Range(*b, *e + 1));
  }
  if (sel.all_missing) {
    Result<storage::PartitionStatus> status = state.PartitionStatusOf(asset);
    if (!status.ok()) {
      errors->push_back({status.status().message(), "storage", ""});
      return std::nullopt;
    }
    PartitionSet missing = PartitionSet::Range(0, def.Size())
                               .Difference(status->materialized)
                               .Difference(status->in_progress);
    // With keys or a range, only the missing ones among them.
    chosen = (sel.partitions.empty() && sel.from.empty()) ? missing : chosen.Intersect(missing);
  }
  return chosen;
}

void SelectTargets(const definitions::Project& project, const definitions::AssetDef& asset,
                   const Selection& selection, PlanningState& state, Plan* plan) {
  plan->asset = &asset;
  std::vector<std::optional<std::string>> targets;
  if (const definitions::PartitionsDef* def = project.PartitionsOf(asset)) {
    std::optional<PartitionSet> chosen = SelectPartitionIndices(asset, *def, selection, state, &plan->errors);
    if (!chosen) return;
    for (const auto& r : chosen->ranges()) {
      for (int64_t i = r.begin; i < r.end; ++i) targets.emplace_back(def->KeyAt(i));
    }
  } else {
    if (!selection.empty()) {
      plan->errors.push_back({"asset " + Quote(asset.key.str()) +
                                  " is not partitioned; run it without "
                                  "--partition/--from/--to/--all-missing",
                              "selection", ""});
      return;
    }
    targets.emplace_back(std::nullopt);
  }
  plan->selected = static_cast<int>(targets.size());
  if (targets.empty()) return;
  // A partition a live run holds is left to it (storage checks again,
  // atomically, when the runs are queued).
  auto live = state.LiveRunsOf(asset);
  if (!live.ok()) {
    plan->errors.push_back({"cannot read live runs: " + live.status().message(), "storage", ""});
    return;
  }
  for (std::optional<std::string>& key : targets) {
    if (auto it = live->find(key); it != live->end()) {
      plan->skipped.push_back({std::move(key), it->second});
    } else {
      plan->runs.push_back({std::move(key), "", std::nullopt});
    }
  }
}

}  // namespace arbiter::planning
