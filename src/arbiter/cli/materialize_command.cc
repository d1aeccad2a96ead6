// `arbiter materialize ASSET [--partition KEY]... [--from A --to B]
// [--all-missing] [--runtime NAME] [--concurrency N] [--detach]`: runs the
// asset for the chosen partitions (several = a backfill) with live progress
// and a summary. Ctrl-C cancels the runs this command started.
#include <atomic>
#include <mutex>
#include <sstream>

#include "arbiter/cli/command_context.h"
#include "arbiter/cli/cost_support.h"
#include "arbiter/cli/run_support.h"
#include "arbiter/cost/catalog_instance_chooser.h"
#include "arbiter/cost/ledger.h"
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

// Checks an explicitly requested runtime; prints why it cannot be used.
const RuntimeConfig* CheckRequestedRuntime(CommandContext& ctx, const definitions::Project& p,
                                           const AssetDef& asset, const std::string& requested) {
  auto it = p.runtimes.find(requested);
  if (it == p.runtimes.end()) {
    std::vector<std::string> names;
    for (const auto& [n, rt] : p.runtimes) names.push_back(n);
    ctx.err() << "error: unknown runtime " << Quote(requested) << DidYouMean(requested, names)
              << "\n";
    return nullptr;
  }
  if (!asset.runtimes.empty() &&
      std::find(asset.runtimes.begin(), asset.runtimes.end(), requested) == asset.runtimes.end()) {
    ctx.err() << "error: asset " << Quote(asset.key.str()) << " may not run on runtime "
              << Quote(requested) << " (allowed: " << Join(asset.runtimes, ", ") << ")\n";
    return nullptr;
  }
  return &it->second;
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
  const bool automatic = args.runtime.empty() || args.runtime == "auto";
  if (!automatic && !CheckRequestedRuntime(ctx, p, *asset, args.runtime)) return kExitFailure;
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

  // Place every run: the asset's policy, or the runtime asked for (then the
  // candidates are still evaluated, so the run records its predicted cost).
  std::unique_ptr<cost::Engine> engine = OpenCostEngine(ctx, p, storage.get());
  if (!engine) {
    if (automatic) return kExitFailure;
    ctx.err() << "warning: without a price catalog, the cost of these runs is not recorded\n";
  }
  Launchers launchers(ctx, p, storage.get());
  if (engine) launchers.SetInstanceChooser(cost::CatalogInstanceChooser(engine->shared_catalog()));
  definitions::PlacementPolicy policy = asset->placement;
  if (!automatic) {
    policy.kind = definitions::PlacementPolicy::Kind::kFixed;
    policy.runtime = args.runtime;
  }
  std::vector<cost::Placement> placements;
  std::vector<const RuntimeConfig*> chosen;
  const double explore = args.explore >= 0 ? args.explore : p.placement.explore_budget;
  cost::ExplorationBudget budget =
      engine ? engine->Budget(explore, asset->key.str(), p.placement.seed) : cost::ExplorationBudget{};
  // A runtime without credentials here cannot run anything: placement leaves
  // it out (a runtime asked for by name is tried, and fails saying why).
  cost::PlacementConstraints constraints;
  if (engine && automatic) {
    constraints.unavailable = UnavailableRuntimes(ctx, p, *asset);
    if (!ctx.flags().json) {
      for (const auto& [name, why] : constraints.unavailable) {
        ctx.err() << "note: runtime " << name << " left out: " << why << "\n";
      }
    }
  }
  for (size_t i = 0; i < (def ? keys->size() : 1); ++i) {
    const RuntimeConfig* rt = nullptr;
    if (engine) {
      std::optional<double> input_bytes;
      if (def) {
        if (auto m = storage->LatestMaterialization(asset->key.str(), (*keys)[i]); m.ok() && *m) {
          input_bytes = cost::InputBytesOf((*m)->metadata);
        }
      }
      cost::Placement pl = engine->placer().Place(*asset, policy, input_bytes, constraints, budget);
      budget.draw += 1;  // the next partition is the asset's next decision
      if (pl.chosen.empty()) {
        ctx.err() << "error: cannot place " << asset->key.str() << ": " << pl.reason << "\n"
                  << "  hint: 'arbiter plan " << asset->key.str() << "' shows every candidate\n";
        return kExitFailure;
      }
      if (const cost::Candidate* c = pl.Chosen(); c && c->expected_usd) {
        budget.spent_usd += *c->expected_usd;
        if (pl.explored) budget.explored_usd += pl.explore_extra_usd;
      }
      rt = &p.runtimes.at(pl.chosen);
      placements.push_back(std::move(pl));
    } else {
      rt = &p.runtimes.at(args.runtime);
    }
    if (!launchers.For(*rt)) {
      ctx.err() << "error: runtime " << Quote(rt->name) << " (type "
                << definitions::RuntimeTypeName(rt->type)
                << ") has no launcher in this build";
      if (automatic) ctx.err() << " (placement " << Quote(policy.ToString()) << " chose it: " << placements.back().reason << ")";
      ctx.err() << "\n  hint: --runtime NAME picks a runtime yourself\n";
      return kExitFailure;
    }
    chosen.push_back(rt);
  }
  const RuntimeConfig* runtime = chosen.front();
  bool one_runtime = std::all_of(chosen.begin(), chosen.end(),
                                 [&](const RuntimeConfig* r) { return r == runtime; });
  if (automatic && !placements.empty() && !ctx.flags().json) {
    ctx.err() << "placement " << policy.ToString() << ": " << placements.front().reason << "\n";
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
  int skipped = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    const auto& key = targets[i];
    storage::RunRecord r;
    r.run_id = runs::NewRunId();
    r.asset_key = asset->key.str();
    r.partition_key = key;
    r.runtime = chosen[i]->name;
    if (!placements.empty() && placements[i].explored) {
      r.tags[cost::kPlacementTag] = cost::kExploreTagValue;
      r.tags[cost::kExploreExtraTag] = std::to_string(placements[i].explore_extra_usd);
    }
    if (!asset->code_version.empty()) r.tags[cost::kCodeVersionTag] = asset->code_version;
    r.created_at = ctx.env().clock->Now();
    r.owner = owner;
    if (!backfill.empty()) r.tags["backfill"] = backfill;
    // Atomic in storage: a partition another run (any arbiter's) holds is
    // skipped, never started twice.
    Result<std::optional<storage::RunRecord>> holder = storage->CreateRunUnlessClaimed(r);
    if (!holder.ok()) {
      ctx.err() << "error: cannot queue a run: " << holder.status().message() << "\n";
      return kExitFailure;
    }
    if (*holder) {
      const storage::RunRecord& h = **holder;
      ctx.err() << "skipped " << (key ? *key : asset->key.str()) << ": run " << h.run_id << " ("
                << storage::RunStatusName(h.status) << " on " << h.runtime << ") holds it\n";
      ++skipped;
      continue;
    }
    if (!placements.empty()) {
      Status placed = cost::RecordPlacement(*storage, r, placements[i], r.created_at);
      if (!placed.ok()) ctx.err() << "warning: placement of run " << r.run_id << " not stored: " << placed.message() << "\n";
    }
    queued.push_back(std::move(r));
  }
  if (queued.empty()) {
    ctx.err() << "nothing to do: " << (skipped == 1 ? "the partition is" : "every partition is")
              << " held by a live run\n"
              << "  hint: 'arbiter logs -f RUN_ID' follows it to the end\n";
    if (ctx.flags().json) ctx.out() << "[]\n";
    return kExitOk;
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
                << (one_runtime ? runtime->name : "several runtimes") << " in the background (pid " << child->pid << "):\n";
      for (const auto& r : queued) {
        ctx.out() << "  " << r.run_id << "  " << r.partition_key.value_or("-") << "\n";
      }
      ctx.out() << "follow with 'arbiter runs' or 'arbiter logs -f RUN_ID'\n";
    }
    return kExitOk;
  }

  ctx.err() << "materializing " << asset->key.str() << ": " << queued.size() << " run(s) on "
            << (one_runtime ? runtime->name : "several runtimes") << ", concurrency " << concurrency;
  if (!backfill.empty()) ctx.err() << ", backfill " << backfill;
  ctx.err() << "\n";

  runs::RunExecutor executor(
      storage.get(), &p, &ctx.env().env,
      [&](const definitions::RuntimeConfig& rt) { return launchers.For(rt); },
      concurrency);
  AttachLedger(ctx, executor, engine.get(), storage.get());
  runs::CancelSignal cancel;
  Result<std::vector<storage::RunRecord>> finals = std::vector<storage::RunRecord>{};
  int interrupted_by = 0;
  {
    // Progress lines and the Ctrl-C notice come from different threads.
    std::mutex err_mu;
    std::atomic<int> running{0};
    bool interactive = ctx.env().interactive;
    InterruptToCancel interrupts(ctx.env().handle_signals, &cancel, [&](bool forced) {
      std::lock_guard lock(err_mu);
      ctx.err() << (interactive ? "\r\033[K" : "");
      if (forced) {
        ctx.err() << "killing " << running.load() << " job(s) now\n";
      } else {
        ctx.err() << "canceling: waiting for " << running.load()
                  << " job(s) to stop (Ctrl-C again to kill)\n";
      }
      ctx.err() << std::flush;
    });
    finals = executor.RunToEnd(
        queued, cancel, [&](const runs::RunProgress& pr, const storage::RunRecord* finished) {
          std::lock_guard lock(err_mu);
          running = pr.running;
          if (interactive) {
            if (finished) {
              ctx.err() << "\r\033[K  " << storage::RunStatusName(finished->status) << "  "
                        << finished->partition_key.value_or(finished->asset_key) << "  (run "
                        << finished->run_id << ")\n";
            }
            ctx.err() << "\r\033[K" << ProgressLine(pr) << std::flush;
          } else if (finished) {
            ctx.err() << "  " << storage::RunStatusName(finished->status) << "  "
                      << finished->partition_key.value_or(finished->asset_key) << "  (run "
                      << finished->run_id << ")  " << ProgressLine(pr) << "\n";
          }
        });
    if (interactive) ctx.err() << "\n";
    interrupted_by = interrupts.received();
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
  // Interrupted: 128 + the signal (130 after Ctrl-C), as shells report it.
  if (interrupted_by != 0) return 128 + interrupted_by;
  return ok == static_cast<int>(finals->size()) ? kExitOk : kExitFailure;
}

}  // namespace arbiter::cli
