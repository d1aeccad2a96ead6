// `arbiter materialize ASSET [--partition KEY]... [--from A --to B]
// [--all-missing] [--runtime NAME] [--concurrency N] [--detach]`: runs the
// asset for the chosen partitions (several = a backfill) with live progress
// and a summary. Ctrl-C cancels the runs this command started.
#include <atomic>
#include <mutex>
#include <sstream>

#include "arbiter/cli/command_context.h"
#include "arbiter/cli/cost_support.h"
#include "arbiter/cli/planning_support.h"
#include "arbiter/cli/run_support.h"
#include "arbiter/cli/service_support.h"
#include "arbiter/cli/text_table.h"
#include "arbiter/common/duration.h"
#include "arbiter/common/strings.h"
#include "arbiter/cost/catalog_instance_chooser.h"
#include "arbiter/planning/enqueue.h"
#include "arbiter/planning/storage_planning_state.h"
#include "arbiter/runs/process.h"
#include "arbiter/runs/run_executor.h"

namespace arbiter::cli {
namespace {

using definitions::AssetDef;
using definitions::RuntimeConfig;
using storage::RunStatus;

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

// The summary table of finished runs and the exit code for them.
int PrintFinals(CommandContext& ctx, const std::vector<storage::RunRecord>& finals,
                const runs::CancelSignal* cancel) {
  int ok = 0;
  for (const auto& r : finals) ok += r.status == RunStatus::kSuccess;
  if (ctx.flags().json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& r : finals) j.push_back(RunJson(r));
    ctx.out() << j.dump(2) << "\n";
  } else {
    TextTable table({"PARTITION", "STATUS", "DURATION", "RUN", "REASON"});
    TimePoint now = ctx.env().clock->Now();
    for (const auto& r : finals) {
      table.AddRow({r.partition_key.value_or("-"), std::string(storage::RunStatusName(r.status)),
                    FormatRunDuration(r, now), r.run_id, Truncate(r.failure_reason, 70)});
    }
    table.Print(ctx.out());
    ctx.out() << ok << " of " << finals.size() << " run(s) succeeded";
    if (cancel && cancel->requested()) ctx.out() << " (" << cancel->reason() << ")";
    ctx.out() << "\n";
    if (ok < static_cast<int>(finals.size())) ctx.out() << "details: arbiter logs RUN_ID\n";
  }
  return ok == static_cast<int>(finals.size()) ? kExitOk : kExitFailure;
}

// `arbiter serve` serves the storage: the runs are in its queue. Says so and
// returns, or with --wait follows them in storage until each has ended (Ctrl-C
// stops waiting; the runs go on).
int HandedToService(CommandContext& ctx, storage::Storage& storage,
                    const storage::ServiceLease& service, const AssetDef& asset,
                    const std::vector<storage::RunRecord>& queued, bool wait) {
  const std::string pid = service.owner.substr(0, service.owner.find(':'));
  if (!wait) {
    if (ctx.flags().json) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& r : queued) j.push_back(RunJson(r));
      ctx.out() << j.dump(2) << "\n";
      return kExitOk;
    }
    ctx.out() << "queued " << queued.size() << " run(s) of " << asset.key.str()
              << " for the service (pid " << pid << "):\n";
    for (const auto& r : queued) {
      ctx.out() << "  " << r.run_id << "  " << r.partition_key.value_or("-") << "  on "
                << r.runtime << "\n";
    }
    ctx.out() << "follow with 'arbiter runs' or 'arbiter logs -f RUN_ID' (or materialize --wait)\n";
    return kExitOk;
  }
  ctx.err() << "queued " << queued.size() << " run(s) of " << asset.key.str()
            << " for the service (pid " << pid << "); waiting for them to end\n";
  runs::CancelSignal stop_waiting;
  InterruptToCancel interrupts(ctx.env().handle_signals, &stop_waiting);
  std::vector<storage::RunRecord> finals = queued;
  std::vector<bool> reported(queued.size(), false);
  size_t ended = 0;
  while (ended < finals.size() && !stop_waiting.requested()) {
    for (size_t i = 0; i < finals.size(); ++i) {
      if (reported[i]) continue;
      Result<storage::RunRecord> now = storage.GetRun(finals[i].run_id);
      if (!now.ok() || !storage::IsTerminal(now->status)) continue;
      finals[i] = *now;
      reported[i] = true;
      ++ended;
      ctx.err() << "  " << storage::RunStatusName(now->status) << "  "
                << now->partition_key.value_or(now->asset_key) << "  (run " << now->run_id
                << ")  [" << ended << "/" << finals.size() << "]\n";
    }
    if (ended < finals.size()) ctx.env().clock->SleepFor(std::chrono::milliseconds(500));
  }
  if (ended < finals.size()) {
    ctx.err() << "stopped waiting; the service goes on with " << finals.size() - ended
              << " run(s)\n";
    return 128 + interrupts.received();
  }
  return PrintFinals(ctx, finals, nullptr);
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
  planning::PlanRequest request;
  request.asset = asset;
  request.selection = {args.partitions, args.from, args.to, args.all_missing};
  request.placement.runtime = args.runtime;
  request.placement.explore = args.explore;
  request.now = ctx.env().clock->Now();
  const bool automatic = request.placement.automatic();
  if (!automatic) {
    if (auto e = planning::CheckRequestedRuntime(p, *asset, args.runtime)) {
      PrintPlanErrors(ctx.err(), {*e});
      return kExitFailure;
    }
  }
  auto storage = OpenProjectStorage(ctx, p);
  if (!storage) return kExitFailure;
  RecoverOrphanedRuns(ctx, p, *storage);

  // What to run and where: the planner (arbiter/planning), in two steps so the
  // cost engine is opened only when there is something to place.
  planning::StoragePlanningState state(storage.get(), &p);
  Launchers launchers(ctx, p, storage.get());
  planning::Planner planner = MakePlanner(ctx, p, &state, &launchers);
  planning::Plan plan = planner.Select(request);
  if (!plan.ok()) {
    PrintPlanErrors(ctx.err(), plan.errors);
    return kExitFailure;
  }
  if (plan.selected == 0) {
    ctx.err() << "nothing to do: no missing partitions of " << asset->key.str() << "\n";
    if (ctx.flags().json) ctx.out() << "[]\n";
    return kExitOk;
  }
  std::unique_ptr<cost::Engine> engine;
  if (!plan.runs.empty()) {
    engine = OpenCostEngine(ctx, p, storage.get());
    if (!engine) {
      if (automatic) return kExitFailure;
      ctx.err() << "warning: without a price catalog, the cost of these runs is not recorded\n";
    }
    if (engine) launchers.SetInstanceChooser(cost::CatalogInstanceChooser(engine->shared_catalog()));
    planner.Place(request, engine.get(), &plan);
    if (!ctx.flags().json) {
      for (const planning::RuntimeLeftOut& l : plan.left_out) {
        ctx.err() << "note: runtime " << l.runtime << " left out: " << l.why << "\n";
      }
    }
    if (!plan.ok()) {
      PrintPlanErrors(ctx.err(), plan.errors);
      return kExitFailure;
    }
    if (automatic && plan.runs.front().placement && !ctx.flags().json) {
      ctx.err() << "placement " << plan.policy.ToString() << ": "
                << plan.runs.front().placement->reason << "\n";
    }
  }
  PrintSkipped(ctx.err(), *asset, plan.skipped);

  // Queue one run per planned partition, owned by this process, or by the
  // service's queue when `arbiter serve` serves the storage.
  const std::optional<storage::ServiceLease> service =
      args.local || args.detach ? std::nullopt : ServingService(ctx, *storage);
  const std::string owner =
      service ? std::string(storage::kQueueOwner) : runs::CurrentProcess().ToString();
  planning::EnqueueOptions enqueue_options;
  enqueue_options.owner = owner;
  planning::EnqueueResult enqueued = planning::Enqueue(*storage, plan, enqueue_options);
  PrintSkipped(ctx.err(), *asset, enqueued.skipped);
  for (const std::string& w : enqueued.warnings) ctx.err() << "warning: " << w << "\n";
  if (enqueued.error) {
    PrintPlanErrors(ctx.err(), {*enqueued.error});
    return kExitFailure;
  }
  std::vector<storage::RunRecord>& queued = enqueued.queued;
  if (queued.empty()) {
    const size_t skipped = plan.skipped.size() + enqueued.skipped.size();
    ctx.err() << "nothing to do: " << (skipped == 1 ? "the partition is" : "every partition is")
              << " held by a live run\n"
              << "  hint: 'arbiter logs -f RUN_ID' follows it to the end\n";
    if (ctx.flags().json) ctx.out() << "[]\n";
    return kExitOk;
  }
  if (service) return HandedToService(ctx, *storage, *service, *asset, queued, args.wait);
  const RuntimeConfig* runtime = &p.runtimes.at(queued.front().runtime);
  const bool one_runtime = !plan.single_runtime().empty();
  const std::string backfill =
      queued.front().tags.contains("backfill") ? queued.front().tags["backfill"].get<std::string>() : "";
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
  executor.SetClock(ctx.env().clock);
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
  const int code = PrintFinals(ctx, *finals, &cancel);
  // Interrupted: 128 + the signal (130 after Ctrl-C), as shells report it.
  if (interrupted_by != 0) return 128 + interrupted_by;
  return code;
}

}  // namespace arbiter::cli
