// `arbiter materialize ASSET [--partition KEY]... [--from A --to B]
// [--all-missing] [--runtime NAME] [--concurrency N] [--detach]`: runs the
// asset for the chosen partitions (several = a backfill) with live progress
// and a summary. Ctrl-C cancels the runs this command started.
#include <sstream>

#include "arbiter/cli/command_context.h"
#include "arbiter/cli/run_support.h"
#include "arbiter/cli/text_table.h"
#include "arbiter/common/duration.h"
#include "arbiter/common/strings.h"
#include "arbiter/runs/partition_status.h"
#include "arbiter/runs/process.h"
#include "arbiter/runs/run_executor.h"

namespace arbiter::cli {
namespace {

using definitions::AssetDef;
using definitions::PartitionsDef;
using definitions::RuntimeConfig;
using storage::RunStatus;

// The partition keys to run, or an error already printed (nullopt).
std::optional<std::vector<std::string>> SelectPartitions(CommandContext& ctx,
                                                         const MaterializeArgs& args,
                                                         const AssetDef& asset,
                                                         const PartitionsDef* def,
                                                         runs::PartitionStatusKeeper& keeper) {
  const std::string name = asset.key.str();
  bool any = !args.partitions.empty() || !args.from.empty() || !args.to.empty() || args.all_missing;
  if (!def) {
    if (any) {
      ctx.err() << "error: asset " << Quote(name)
                << " is not partitioned; run it without --partition/--from/--to/--all-missing\n";
      return std::nullopt;
    }
    return std::vector<std::string>{};
  }
  if (!any) {
    ctx.err() << "error: asset " << Quote(name) << " is partitioned (" << asset.partitions << ", "
              << def->Size() << " keys); choose what to run\n"
              << "  hint: --partition KEY (repeatable), --from KEY --to KEY, or --all-missing; "
                 "'arbiter partitions "
              << name << "' lists the keys\n";
    return std::nullopt;
  }
  auto index_of = [&](const std::string& flag, const std::string& key) -> std::optional<int64_t> {
    auto i = def->IndexOf(key);
    if (!i) {
      ctx.err() << "error: " << flag << " " << Quote(key) << " is not a partition of "
                << Quote(name) << " (" << asset.partitions << ": " << def->Describe() << ")\n";
      if (def->Size() > 0) {
        ctx.err() << "  hint: keys look like " << Quote(def->KeyAt(0)) << " ... "
                  << Quote(def->KeyAt(def->Size() - 1)) << "\n";
      }
    }
    return i;
  };
  definitions::PartitionSet chosen;
  for (const std::string& key : args.partitions) {
    auto i = index_of("--partition", key);
    if (!i) return std::nullopt;
    chosen.Add(*i);
  }
  if (!args.from.empty() || !args.to.empty()) {
    if (args.from.empty() || args.to.empty()) {
      ctx.err() << "error: --from and --to go together (both inclusive)\n";
      return std::nullopt;
    }
    auto b = index_of("--from", args.from);
    auto e = index_of("--to", args.to);
    if (!b || !e) return std::nullopt;
    if (*b > *e) {
      ctx.err() << "error: --from " << Quote(args.from) << " comes after --to " << Quote(args.to)
                << "\n";
      return std::nullopt;
    }
    chosen = chosen.Union(definitions::PartitionSet::Range(*b, *e + 1));
  }
  if (args.all_missing) {
    auto status = keeper.Get(asset);
    if (!status.ok()) {
      ctx.err() << "error: " << status.status().message() << "\n";
      return std::nullopt;
    }
    definitions::PartitionSet missing = definitions::PartitionSet::Range(0, def->Size())
                                            .Difference(status->materialized)
                                            .Difference(status->in_progress);
    // With a range, only the missing keys inside it.
    chosen = (args.partitions.empty() && args.from.empty()) ? missing : chosen.Intersect(missing);
  }
  std::vector<std::string> keys;
  for (const auto& r : chosen.ranges()) {
    for (int64_t i = r.begin; i < r.end; ++i) keys.push_back(def->KeyAt(i));
  }
  return keys;
}

// The runtime to use, or nullptr after printing why none can be.
const RuntimeConfig* ChooseRuntime(CommandContext& ctx, const definitions::Project& p,
                                   const AssetDef& asset, const std::string& requested) {
  const std::string name = asset.key.str();
  auto allowed = [&](const std::string& rt) {
    return asset.runtimes.empty() ||
           std::find(asset.runtimes.begin(), asset.runtimes.end(), rt) != asset.runtimes.end();
  };
  auto not_implemented = [&](const RuntimeConfig& rt) {
    ctx.err() << "error: runtime " << Quote(rt.name) << " (type "
              << definitions::RuntimeTypeName(rt.type)
              << ") is not implemented yet; only local runtimes can run today\n";
    return nullptr;
  };
  std::string chosen = requested;
  if (chosen.empty() && asset.placement.kind == definitions::PlacementPolicy::Kind::kFixed) {
    chosen = asset.placement.runtime;
  }
  if (!chosen.empty()) {
    auto it = p.runtimes.find(chosen);
    if (it == p.runtimes.end()) {
      std::vector<std::string> names;
      for (const auto& [n, rt] : p.runtimes) names.push_back(n);
      ctx.err() << "error: unknown runtime " << Quote(chosen) << DidYouMean(chosen, names) << "\n";
      return nullptr;
    }
    if (!allowed(chosen)) {
      ctx.err() << "error: asset " << Quote(name) << " may not run on runtime " << Quote(chosen)
                << " (allowed: " << Join(asset.runtimes, ", ") << ")\n";
      return nullptr;
    }
    if (it->second.type == definitions::RuntimeType::kDatabricks) return not_implemented(it->second);
    return &it->second;
  }
  // Placement by cost needs the cost engine; until then the first allowed
  // local runtime runs, and we say so.
  for (const auto& [n, rt] : p.runtimes) {
    if (rt.type == definitions::RuntimeType::kLocal && allowed(n)) {
      ctx.err() << "note: placement " << Quote(asset.placement.ToString())
                << " needs the cost engine, which is not built yet; running on local runtime "
                << Quote(n) << "\n";
      return &rt;
    }
  }
  ctx.err() << "error: asset " << Quote(name) << " may run only on " << Join(asset.runtimes, ", ")
            << ", and only local runtimes are implemented yet\n";
  return nullptr;
}

std::string ProgressLine(const runs::RunProgress& p) {
  double secs = std::chrono::duration<double>(p.elapsed).count();
  std::ostringstream s;
  s << "[" << p.done() << "/" << p.total << "] " << p.succeeded << " succeeded, " << p.failed
    << " failed, " << p.canceled << " canceled, " << p.running << " running · "
    << FormatDuration(std::chrono::seconds(static_cast<int64_t>(secs))) << " elapsed";
  if (secs > 0.5 && p.done() > 0) {
    s.precision(2);
    s << std::fixed << " · " << p.done() / secs * 60.0 << " runs/min";
  }
  return s.str();
}

}  // namespace

int RunMaterialize(CommandContext& ctx, const MaterializeArgs& args) {
  auto loaded = ctx.LoadOrReport();
  if (!loaded) return kExitFailure;
  const definitions::Project& p = *loaded->project;
  const AssetDef* asset = ctx.FindAssetOrReport(p, args.asset);
  if (!asset) return kExitFailure;
  if (args.concurrency < 0) {
    ctx.err() << "error: --concurrency must be at least 1\n";
    return kExitUsage;
  }
  const RuntimeConfig* runtime = ChooseRuntime(ctx, p, *asset, args.runtime);
  if (!runtime) return kExitFailure;
  auto storage = OpenProjectStorage(ctx, p);
  if (!storage) return kExitFailure;
  RecoverOrphanedRuns(ctx, p, *storage);
  runs::PartitionStatusKeeper keeper(storage.get(), &p);
  const PartitionsDef* def = p.PartitionsOf(*asset);
  auto keys = SelectPartitions(ctx, args, *asset, def, keeper);
  if (!keys) return kExitFailure;
  if (def && keys->empty()) {
    ctx.err() << "nothing to do: no missing partitions of " << asset->key.str() << "\n";
    if (ctx.flags().json) ctx.out() << "[]\n";
    return kExitOk;
  }

  // Queue one run per partition, owned by this process.
  const std::string owner = runs::CurrentProcess().ToString();
  std::vector<storage::RunRecord> queued;
  std::vector<std::optional<std::string>> targets;
  if (def) {
    for (const std::string& k : *keys) targets.emplace_back(k);
  } else {
    targets.emplace_back(std::nullopt);
  }
  const std::string backfill = targets.size() > 1 ? runs::NewRunId() : "";
  for (const auto& key : targets) {
    storage::RunRecord r;
    r.run_id = runs::NewRunId();
    r.asset_key = asset->key.str();
    r.partition_key = key;
    r.runtime = runtime->name;
    r.created_at = ctx.env().clock->Now();
    r.owner = owner;
    if (!backfill.empty()) r.tags["backfill"] = backfill;
    Status s = storage->CreateRun(r);
    if (!s.ok()) {
      ctx.err() << "error: cannot queue a run: " << s.message() << "\n";
      return kExitFailure;
    }
    queued.push_back(std::move(r));
  }
  int concurrency = args.concurrency > 0           ? args.concurrency
                    : runtime->max_concurrency > 0 ? runtime->max_concurrency
                                                   : 1;

  if (args.detach) {
    std::vector<std::string> exec_args = {"--concurrency", std::to_string(concurrency)};
    for (const auto& r : queued) exec_args.push_back(r.run_id);
    auto child = StartBackgroundExecutor(ctx, p, exec_args);
    if (child.ok()) {
      // Hand the queued runs to the background executor while we are alive,
      // so nothing can mistake them for runs of a dead arbiter.
      for (const auto& r : queued) {
        storage::RunUpdate u;
        u.owner = child->ToString();
        u.if_owner = owner;
        (void)storage->TransitionRun(r.run_id, {RunStatus::kQueued}, RunStatus::kQueued, u);
      }
    } else {
      for (const auto& r : queued) {
        storage::RunUpdate u;
        u.failure_reason = "could not start a background executor: " + child.status().message();
        (void)storage->TransitionRun(r.run_id, {RunStatus::kQueued}, RunStatus::kCanceled, u);
      }
      ctx.err() << "error: cannot detach: " << child.status().message() << "\n";
      return kExitFailure;
    }
    if (ctx.flags().json) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& r : queued) j.push_back(RunJson(r));
      ctx.out() << j.dump(2) << "\n";
    } else {
      ctx.out() << "started " << queued.size() << " run(s) of " << asset->key.str() << " on "
                << runtime->name << " in the background (pid " << child->pid << "):\n";
      for (const auto& r : queued) {
        ctx.out() << "  " << r.run_id << "  " << r.partition_key.value_or("-") << "\n";
      }
      ctx.out() << "follow with 'arbiter runs' or 'arbiter logs -f RUN_ID'\n";
    }
    return kExitOk;
  }

  ctx.err() << "materializing " << asset->key.str() << ": " << queued.size() << " run(s) on "
            << runtime->name << ", concurrency " << concurrency;
  if (!backfill.empty()) ctx.err() << ", backfill " << backfill;
  ctx.err() << "\n";

  Launchers launchers(ctx, p, storage.get());
  runs::RunExecutor executor(
      storage.get(), &p, &ctx.env().env,
      [&](const definitions::RuntimeConfig& rt) { return launchers.For(rt); },
      concurrency);
  runs::CancelSignal cancel;
  Result<std::vector<storage::RunRecord>> finals = std::vector<storage::RunRecord>{};
  {
    InterruptToCancel interrupts(ctx.env().handle_signals, &cancel);
    bool interactive = ctx.env().interactive;
    finals = executor.RunToEnd(
        queued, cancel, [&](const runs::RunProgress& pr, const storage::RunRecord* finished) {
          if (interactive) {
            if (finished) {
              ctx.err() << "\r\033[K  " << storage::RunStatusName(finished->status) << "  "
                        << finished->partition_key.value_or(finished->asset_key) << "\n";
            }
            ctx.err() << "\r\033[K" << ProgressLine(pr) << std::flush;
          } else if (finished) {
            ctx.err() << "  " << storage::RunStatusName(finished->status) << "  "
                      << finished->partition_key.value_or(finished->asset_key) << "  (run "
                      << finished->run_id << ")  " << ProgressLine(pr) << "\n";
          }
        });
    if (interactive) ctx.err() << "\n";
  }
  if (!finals.ok()) {
    ctx.err() << "error: " << finals.status().message() << "\n";
    return kExitFailure;
  }
  int ok = 0;
  for (const auto& r : *finals) ok += r.status == RunStatus::kSuccess;
  if (ctx.flags().json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& r : *finals) j.push_back(RunJson(r));
    ctx.out() << j.dump(2) << "\n";
  } else {
    TextTable table({"PARTITION", "STATUS", "DURATION", "RUN", "REASON"});
    TimePoint now = ctx.env().clock->Now();
    for (const auto& r : *finals) {
      table.AddRow({r.partition_key.value_or("-"), std::string(storage::RunStatusName(r.status)),
                    FormatRunDuration(r, now), r.run_id, Truncate(r.failure_reason, 70)});
    }
    table.Print(ctx.out());
    ctx.out() << ok << " of " << finals->size() << " run(s) succeeded";
    if (cancel.requested()) ctx.out() << " (" << cancel.reason() << ")";
    ctx.out() << "\n";
    if (ok < static_cast<int>(finals->size())) {
      ctx.out() << "details: arbiter logs RUN_ID\n";
    }
  }
  return ok == static_cast<int>(finals->size()) ? kExitOk : kExitFailure;
}

}  // namespace arbiter::cli
