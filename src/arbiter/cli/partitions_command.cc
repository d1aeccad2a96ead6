// `arbiter partitions ASSET [--from A] [--to B] [--limit N]`: the partition
// keys of an asset (a range of them), without enumerating the whole
// definition: only the printed keys are materialized.
#include "arbiter/cli/command_context.h"
#include "arbiter/cli/run_support.h"
#include "arbiter/cli/text_table.h"
#include "arbiter/common/strings.h"
#include "arbiter/definitions/partitions/partition_set.h"
#include "arbiter/definitions/partitions/time_window_partitions.h"
#include "arbiter/runs/partition_status.h"
#include "arbiter/time/local_date_time.h"

namespace arbiter::cli {
namespace {

using definitions::PartitionsDef;

std::optional<int64_t> Bound(CommandContext& ctx, const PartitionsDef& def,
                             const std::string& asset, const char* flag, const std::string& key) {
  auto index = def.IndexOf(key);
  if (!index) {
    ctx.err() << "error: " << flag << ": " << Quote(key) << " is not a partition of "
              << Quote(asset) << "\n";
    if (def.Size() > 0) {
      ctx.err() << "  hint: keys look like " << Quote(def.KeyAt(0)) << " ... "
                << Quote(def.KeyAt(def.Size() - 1)) << "\n";
    }
  }
  return index;
}

struct StatusView {
  definitions::PartitionSet materialized, failed, in_progress, missing;
  std::string StateOf(int64_t i) const {
    if (materialized.Contains(i)) return "materialized";
    if (failed.Contains(i)) return "failed";
    if (in_progress.Contains(i)) return "in progress";
    return "missing";
  }
};

// "a ... c, e" for the first few ranges of a set.
std::string DescribeRanges(const PartitionsDef& def, const definitions::PartitionSet& set,
                           size_t max_ranges) {
  std::vector<std::string> parts;
  for (const auto& r : set.ranges()) {
    if (parts.size() == max_ranges) {
      parts.push_back("... (" + std::to_string(set.ranges().size() - max_ranges) + " more ranges)");
      break;
    }
    parts.push_back(r.end - r.begin == 1 ? def.KeyAt(r.begin)
                                         : def.KeyAt(r.begin) + " ... " + def.KeyAt(r.end - 1));
  }
  return Join(parts, ", ");
}

}  // namespace

int RunPartitions(CommandContext& ctx, const PartitionsArgs& args) {
  auto loaded = ctx.LoadOrReport();
  if (!loaded) return kExitFailure;
  const definitions::Project& p = *loaded->project;
  const definitions::AssetDef* asset = ctx.FindAssetOrReport(p, args.asset);
  if (!asset) return kExitFailure;
  const PartitionsDef* def = p.PartitionsOf(*asset);
  if (!def) {
    ctx.err() << "error: asset " << Quote(args.asset) << " is not partitioned\n";
    return kExitFailure;
  }
  int64_t begin = 0, end = def->Size();
  if (!args.from.empty()) {
    auto b = Bound(ctx, *def, args.asset, "--from", args.from);
    if (!b) return kExitFailure;
    begin = *b;
  }
  if (!args.to.empty()) {
    auto e = Bound(ctx, *def, args.asset, "--to", args.to);
    if (!e) return kExitFailure;
    end = *e + 1;  // --to is inclusive
  }
  if (begin >= end) {
    ctx.err() << "error: --from " << Quote(args.from) << " comes after --to " << Quote(args.to)
              << "\n";
    return kExitFailure;
  }
  // Status comes from the stored sets, never from scanning runs or events.
  auto storage = OpenProjectStorage(ctx, p);
  if (!storage) return kExitFailure;
  RecoverOrphanedRuns(ctx, p, *storage);
  auto stored = runs::PartitionStatusKeeper(storage.get(), &p).Get(*asset);
  if (!stored.ok()) {
    ctx.err() << "error: " << stored.status().message() << "\n";
    return kExitFailure;
  }
  StatusView sv{stored->materialized, stored->failed, stored->in_progress, {}};
  sv.missing = definitions::PartitionSet::Range(0, def->Size())
                   .Difference(sv.materialized)
                   .Difference(sv.failed)
                   .Difference(sv.in_progress);

  const auto selection = definitions::PartitionSet::Range(begin, end);
  const int64_t selected = selection.Count();
  const int64_t shown = args.limit == 0 ? selected : std::min(selected, args.limit);
  const auto* windows = dynamic_cast<const definitions::TimeWindowPartitions*>(def);

  if (ctx.flags().json) {
    nlohmann::json keys = nlohmann::json::array();
    for (int64_t i = begin; i < begin + shown; ++i) {
      nlohmann::json k = {{"key", def->KeyAt(i)}, {"status", sv.StateOf(i)}};
      if (windows) {
        definitions::TimeWindow w = windows->WindowAt(i);
        k["start"] = time::FormatIso8601(w.start, windows->zone());
        k["end"] = time::FormatIso8601(w.end, windows->zone());
      }
      keys.push_back(std::move(k));
    }
    nlohmann::json j = {{"asset", asset->key.str()},
                        {"partitions", asset->partitions},
                        {"kind", definitions::PartitionsKindName(def->kind())},
                        {"description", def->Describe()},
                        {"total", def->Size()},
                        {"selected", selected},
                        {"shown", shown},
                        {"truncated", shown < selected},
                        {"status",
                         {{"materialized", sv.materialized.Count()},
                          {"failed", sv.failed.Count()},
                          {"in_progress", sv.in_progress.Count()},
                          {"missing", sv.missing.Count()}}},
                        {"keys", keys}};
    ctx.out() << j.dump(2) << "\n";
    return kExitOk;
  }
  ctx.out() << asset->key.str() << ": " << asset->partitions << ", " << def->Describe() << "\n";
  ctx.out() << "status: " << sv.materialized.Count() << " materialized, " << sv.failed.Count()
            << " failed, " << sv.in_progress.Count() << " in progress, " << sv.missing.Count()
            << " missing\n";
  for (const auto& [label, set] :
       {std::pair<const char*, const definitions::PartitionSet*>{"materialized", &sv.materialized},
        {"failed", &sv.failed},
        {"in progress", &sv.in_progress}}) {
    if (!set->Empty()) ctx.out() << "  " << label << ": " << DescribeRanges(*def, *set, 8) << "\n";
  }
  if (windows) {
    TextTable table({"KEY", "STATUS", "START", "END"});
    for (int64_t i = begin; i < begin + shown; ++i) {
      definitions::TimeWindow w = windows->WindowAt(i);
      table.AddRow({def->KeyAt(i), sv.StateOf(i), time::FormatIso8601(w.start, windows->zone()),
                    time::FormatIso8601(w.end, windows->zone())});
    }
    table.Print(ctx.out());
  } else {
    TextTable table({"KEY", "STATUS"});
    for (int64_t i = begin; i < begin + shown; ++i) table.AddRow({def->KeyAt(i), sv.StateOf(i)});
    table.Print(ctx.out());
  }
  ctx.out() << "(" << shown << " shown of " << selected << " selected, " << def->Size()
            << " in total";
  if (shown < selected) ctx.out() << "; --limit 0 shows all";
  ctx.out() << ")\n";
  return kExitOk;
}

}  // namespace arbiter::cli
