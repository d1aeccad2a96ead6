// The service commands: `arbiter serve` (the always-on service), `arbiter
// schedules` (next ticks and tick history), `arbiter backfill ASSET...`
// (create a backfill object), `arbiter backfills` (progress) and
// `arbiter backfill pause|resume|cancel ID`.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <sstream>

#include "arbiter/cli/command_context.h"
#include "arbiter/cli/cost_support.h"
#include "arbiter/cli/planning_support.h"
#include "arbiter/cli/run_support.h"
#include "arbiter/cli/service_support.h"
#include "arbiter/cli/text_table.h"
#include "arbiter/common/strings.h"
#include "arbiter/cost/catalog_instance_chooser.h"
#include "arbiter/cost/ledger.h"
#include "arbiter/planning/storage_planning_state.h"
#include "arbiter/runs/process.h"
#include "arbiter/runs/run_executor.h"
#include "arbiter/service/backfills.h"
#include "arbiter/service/schedule_ticks.h"
#include "arbiter/service/service.h"
#include "arbiter/time/cron.h"

namespace arbiter::cli {

namespace {

using storage::BackfillStatus;
using storage::RunStatus;

struct ServeArgs {};

struct SchedulesArgs {
  std::string name;  // one schedule: its tick history
  int limit = 10;
};

struct BackfillArgs {
  std::vector<std::string> assets;
  std::vector<std::string> partitions;
  std::string from, to;
  bool all_missing = false;
  std::string runtime;
  double explore = -1;
};

struct BackfillsArgs {
  bool all = false;
  int limit = 20;
};

struct BackfillControlArgs {
  std::string id;
  std::string reason = "canceled from the command line";
};

int RunServe(CommandContext& ctx, const ServeArgs&) {
  auto loaded = ctx.LoadOrReport();
  if (!loaded) return kExitFailure;
  std::shared_ptr<const definitions::Project> first(std::move(loaded->project));
  const definitions::Project& p = *first;
  auto storage = OpenProjectStorage(ctx, p);
  if (!storage) return kExitFailure;
  // Runtime settings are read once: the launchers keep the project they started with.
  Launchers launchers(ctx, p, storage.get());
  // Instance types come from the price catalog (the learned engine is opened by the
  // service when it places runs).
  if (std::optional<cost::PriceCatalog> catalog = LoadCatalogOrReport(ctx, &p)) {
    launchers.SetInstanceChooser(cost::CatalogInstanceChooser(
        std::make_shared<const cost::PriceCatalog>(std::move(*catalog))));
  }
  service::ServiceLog log(&ctx.err(), ctx.env().interactive, ctx.env().clock);
  service::ServiceOptions o;
  o.storage = storage.get();
  o.load_project = [&ctx, first]() -> Result<std::shared_ptr<const definitions::Project>> {
    Result<std::string> root = definitions::FindProjectRoot(first->root);
    if (!root.ok()) return root.status();
    definitions::LoadOptions options;
    options.now = ctx.env().clock->Now();
    options.env = ctx.env().env;
    options.warn_unresolved_runtime_references = false;
    definitions::LoadResult r = definitions::LoadProject(*root, options);
    if (!r.project) {
      std::string first_error = "the project has errors";
      for (const Diagnostic& d : r.diagnostics.all()) {
        if (d.severity == Severity::kError) {
          first_error = d.location.ToString() + ": " + d.message;
          break;
        }
      }
      return InvalidArgumentError(first_error + " (arbiter check shows all); keeping the last good "
                                                "project");
    }
    return std::shared_ptr<const definitions::Project>(std::move(r.project));
  };
  o.env = &ctx.env().env;
  o.launcher_for = [&launchers](const definitions::RuntimeConfig& rt) { return launchers.For(rt); };
  o.open_engine = [&ctx, &storage](const definitions::Project& project, std::string* why)
      -> std::unique_ptr<cost::Engine> {
    std::ostringstream errors;
    CommandContext quiet(ctx.flags(), errors, errors, ctx.env());
    auto engine = OpenCostEngine(quiet, project, storage.get());
    if (!engine) *why = Trim(errors.str());
    return engine;
  };
  o.availability = [&ctx, first](const definitions::AssetDef& a) {
    return UnavailableRuntimes(ctx, *first, a);
  };
  o.launchable = [&launchers](const definitions::RuntimeConfig& rt) {
    return launchers.For(rt) != nullptr;
  };
  o.lease = ThisServiceLease();
  o.owner_alive = OwnerAlive;
  o.clock = ctx.env().clock;
  o.log = &log;
  o.seed = p.placement.seed;
  service::Service svc(std::move(o));
  Status started = svc.Start();
  if (!started.ok()) {
    ctx.err() << "error: " << started.message() << "\n";
    return kExitFailure;
  }
  runs::CancelSignal unused;
  InterruptToCancel interrupts(ctx.env().handle_signals, &unused, [&svc](bool) { svc.Stop(); });
  Status ran = svc.Run();
  if (!ran.ok()) {
    ctx.err() << "error: " << ran.message() << "\n";
    return kExitFailure;
  }
  return kExitOk;
}

int RunSchedules(CommandContext& ctx, const SchedulesArgs& args) {
  auto loaded = ctx.LoadOrReport();
  if (!loaded) return kExitFailure;
  const definitions::Project& p = *loaded->project;
  auto storage = OpenProjectStorage(ctx, p);
  if (!storage) return kExitFailure;
  const TimePoint now = ctx.env().clock->Now();
  if (!args.name.empty()) {
    if (!p.schedules.count(args.name)) {
      ctx.err() << "error: unknown schedule " << Quote(args.name) << "\n  hint: 'arbiter schedules' "
                << "lists them\n";
      return kExitFailure;
    }
    Result<std::vector<storage::ScheduleTick>> ticks = storage->ScheduleTicks(args.name, args.limit);
    if (!ticks.ok()) {
      ctx.err() << "error: " << ticks.status().message() << "\n";
      return kExitFailure;
    }
    nlohmann::json rows = nlohmann::json::array();
    TextTable table({"TICK", "STATUS", "RUNS", "RECORDED", "MESSAGE"});
    for (const storage::ScheduleTick& t : *ticks) {
      rows.push_back({{"tick", service::Iso8601(t.tick_at)}, {"status", t.status},
                      {"runs", t.run_ids}, {"recorded_at", service::Iso8601(t.recorded_at)},
                      {"message", t.message}});
      table.AddRow({FormatTimestamp(t.tick_at), t.status, std::to_string(t.run_ids.size()),
                    FormatTimestamp(t.recorded_at), Truncate(t.message, 70)});
    }
    if (ctx.flags().json) {
      ctx.out() << rows.dump(2) << "\n";
    } else if (ticks->empty()) {
      ctx.out() << "schedule " << args.name << " has not ticked yet\n";
    } else {
      table.Print(ctx.out());
    }
    return kExitOk;
  }
  nlohmann::json rows = nlohmann::json::array();
  TextTable table({"SCHEDULE", "CRON", "TIMEZONE", "ASSETS", "NEXT TICK", "LAST TICK", "STATUS"});
  for (const auto& [name, s] : p.schedules) {
    auto cron = time::CronExpression::Parse(s.cron);
    auto zone = time::LookupTimeZone(s.timezone);
    std::optional<TimePoint> next;
    if (cron.ok() && zone.ok()) next = cron->NextAfter(now, **zone);
    Result<std::optional<storage::ScheduleTick>> last = storage->LastScheduleTick(name);
    std::string assets;
    for (const auto& a : s.assets) assets += (assets.empty() ? "" : ",") + a.str();
    std::string last_text = "-", status = s.enabled ? "" : "disabled";
    nlohmann::json row = {{"schedule", name}, {"cron", s.cron}, {"timezone", s.timezone},
                          {"enabled", s.enabled}, {"assets", assets}};
    if (next) row["next_tick"] = service::Iso8601(*next);
    if (last.ok() && *last) {
      last_text = FormatTimestamp((*last)->tick_at);
      if (status.empty()) status = (*last)->status;
      row["last_tick"] = {{"tick", service::Iso8601((*last)->tick_at)},
                          {"status", (*last)->status},
                          {"runs", (*last)->run_ids},
                          {"message", (*last)->message}};
    }
    rows.push_back(row);
    table.AddRow({name, s.cron, s.timezone, assets,
                  next && s.enabled ? FormatTimestamp(*next) : "-", last_text, status});
  }
  if (ctx.flags().json) {
    ctx.out() << rows.dump(2) << "\n";
    return kExitOk;
  }
  if (p.schedules.empty()) {
    ctx.out() << "no schedules in this project (docs/project-file.md: `schedules:`)\n";
    return kExitOk;
  }
  table.Print(ctx.out());
  PrintServiceNote(ctx, *storage, "schedules fire");
  return kExitOk;
}

int RunBackfillCreate(CommandContext& ctx, const BackfillArgs& args) {
  auto loaded = ctx.LoadOrReport();
  if (!loaded) return kExitFailure;
  const definitions::Project& p = *loaded->project;
  service::BackfillRequest request;
  for (const std::string& key : args.assets) {
    const definitions::AssetDef* a = ctx.FindAssetOrReport(p, key);
    if (!a) return kExitFailure;
    request.assets.push_back(a);
  }
  request.selection = {args.partitions, args.from, args.to, args.all_missing};
  if (request.selection.empty()) {
    ctx.err() << "error: choose the partitions to backfill\n"
              << "  hint: --from KEY --to KEY, --partition KEY (repeatable) or --all-missing\n";
    return kExitUsage;
  }
  request.runtime = args.runtime;
  request.explore = args.explore;
  request.now = ctx.env().clock->Now();
  request.backfill_id = runs::NewRunId();
  auto storage = OpenProjectStorage(ctx, p);
  if (!storage) return kExitFailure;
  planning::StoragePlanningState state(storage.get(), &p);
  std::vector<planning::PlanError> errors;
  std::optional<storage::BackfillRecord> b = service::NewBackfill(p, state, request, &errors);
  if (!b) {
    PrintPlanErrors(ctx.err(), errors);
    return kExitFailure;
  }
  const int64_t n = b->partitions.Count();
  if (n == 0) {
    ctx.err() << "nothing to do: no partitions selected"
              << (args.all_missing ? " (none is missing)" : "") << "\n";
    if (ctx.flags().json) ctx.out() << "null\n";
    return kExitOk;
  }
  Status s = storage->CreateBackfill(*b);
  if (!s.ok()) {
    ctx.err() << "error: cannot store the backfill: " << s.message() << "\n";
    return kExitFailure;
  }
  if (ctx.flags().json) {
    ctx.out() << BackfillJson(*storage, *b).dump(2) << "\n";
    return kExitOk;
  }
  std::string assets;
  for (const std::string& a : b->assets) assets += (assets.empty() ? "" : ", ") + a;
  ctx.out() << "backfill " << b->backfill_id << ": " << n << " partition(s) of " << assets
            << (b->runtime.empty() ? "" : " on " + b->runtime) << "\n"
            << "progress: arbiter backfills; pause/resume/cancel: arbiter backfill pause "
            << b->backfill_id << "\n";
  PrintServiceNote(ctx, *storage, "the backfill starts");
  return kExitOk;
}

int RunBackfills(CommandContext& ctx, const BackfillsArgs& args) {
  auto loaded = ctx.LoadOrReport();
  if (!loaded) return kExitFailure;
  auto storage = OpenProjectStorage(ctx, *loaded->project);
  if (!storage) return kExitFailure;
  Result<std::vector<storage::BackfillRecord>> list = storage->ListBackfills(!args.all, args.limit);
  if (!list.ok()) {
    ctx.err() << "error: " << list.status().message() << "\n";
    return kExitFailure;
  }
  nlohmann::json rows = nlohmann::json::array();
  TextTable table({"BACKFILL", "STATUS", "ASSETS", "PARTITIONS", "STARTED", "SUCCEEDED", "FAILED",
                   "RUNNING", "QUEUED", "CREATED", "MESSAGE"});
  for (const storage::BackfillRecord& b : *list) {
    nlohmann::json j = BackfillJson(*storage, b);
    rows.push_back(j);
    std::string assets;
    for (const std::string& a : b.assets) assets += (assets.empty() ? "" : ",") + a;
    const nlohmann::json& runs = j["runs"];
    table.AddRow({b.backfill_id, std::string(storage::BackfillStatusName(b.status)), assets,
                  std::to_string(j["partitions"].get<int64_t>()),
                  std::to_string(j["handed_out"].get<int64_t>()),
                  std::to_string(runs.value("SUCCESS", 0)), std::to_string(runs.value("FAILURE", 0)),
                  std::to_string(runs.value("RUNNING", 0) + runs.value("STARTING", 0) +
                                 runs.value("CANCELING", 0)),
                  std::to_string(runs.value("QUEUED", 0)), FormatTimestamp(b.created_at),
                  Truncate(b.message, 50)});
  }
  if (ctx.flags().json) {
    ctx.out() << rows.dump(2) << "\n";
    return kExitOk;
  }
  if (list->empty()) {
    ctx.out() << (args.all ? "no backfills yet" : "no running or paused backfills (--all lists "
                                                  "finished ones too)")
              << "\n";
    return kExitOk;
  }
  table.Print(ctx.out());
  return kExitOk;
}

int RunBackfillControl(CommandContext& ctx, const std::string& action,
                       const BackfillControlArgs& args) {
  auto loaded = ctx.LoadOrReport();
  if (!loaded) return kExitFailure;
  auto storage = OpenProjectStorage(ctx, *loaded->project);
  if (!storage) return kExitFailure;
  Result<storage::BackfillRecord> b = storage->GetBackfill(args.id);
  if (!b.ok()) {
    ctx.err() << "error: no backfill " << Quote(args.id) << " in this project's storage\n"
              << "  hint: 'arbiter backfills --all' lists them\n";
    return kExitFailure;
  }
  const TimePoint now = ctx.env().clock->Now();
  if (action == "cancel") {
    Result<int> touched = service::CancelBackfill(*storage, *b, args.reason, now);
    if (!touched.ok()) {
      ctx.err() << "error: " << touched.status().message() << "\n";
      return kExitFailure;
    }
    ctx.out() << "backfill " << args.id << " canceled; " << *touched
              << " queued or running run(s) canceled\n";
    return kExitOk;
  }
  const bool pause = action == "pause";
  const BackfillStatus from = pause ? BackfillStatus::kRunning : BackfillStatus::kPaused;
  if (b->status != from) {
    ctx.err() << "error: backfill " << args.id << " is "
              << storage::BackfillStatusName(b->status) << "; only a "
              << storage::BackfillStatusName(from) << " backfill can be " << action << "d\n";
    return kExitFailure;
  }
  b->status = pause ? BackfillStatus::kPaused : BackfillStatus::kRunning;
  b->message = pause ? "paused from the command line" : "";
  b->updated_at = now;
  Result<bool> moved = storage->UpdateBackfill(*b, {from});
  if (!moved.ok() || !*moved) {
    ctx.err() << "error: backfill " << args.id << " changed meanwhile; look again with "
              << "'arbiter backfills'\n";
    return kExitFailure;
  }
  ctx.out() << "backfill " << args.id << (pause ? " paused: its queued runs wait, running ones "
                                                  "finish"
                                                : " resumed")
            << "\n";
  return kExitOk;
}

}  // namespace

std::function<std::optional<int>(CommandContext&)> AddServiceCommands(CLI::App& app) {
  auto serve = std::make_shared<ServeArgs>();
  auto sched = std::make_shared<SchedulesArgs>();
  auto bf = std::make_shared<BackfillArgs>();
  auto bfs = std::make_shared<BackfillsArgs>();
  auto control = std::make_shared<BackfillControlArgs>();

  auto* serve_cmd = app.add_subcommand(
      "serve", "Run the service: fire schedules, run queued runs and backfills, retry, recover");
  serve_cmd->footer(
      "Runs in the foreground; logs one line per event (text on a terminal, JSON otherwise).\n"
      "SIGTERM or Ctrl-C stops launches and leaves running jobs for the next start.\n"
      "One service per storage. docs/service.md explains the queue, limits and recovery.");

  auto* sched_cmd = app.add_subcommand("schedules", "List schedules with their next and last tick");
  sched_cmd->add_option("NAME", sched->name, "One schedule: its tick history");
  sched_cmd->add_option("--limit", sched->limit, "Ticks to show for NAME")
      ->option_text("N")
      ->default_str("10");

  auto* bf_cmd = app.add_subcommand(
      "backfill", "Create a backfill the service runs as slots free (or pause/resume/cancel one)");
  bf_cmd->add_option("ASSET", bf->assets,
                     "Assets (sharing a partitions definition); run upstream first per partition");
  bf_cmd->add_option("--partition,-p", bf->partitions, "Partition key (repeatable)")
      ->option_text("KEY");
  bf_cmd->add_option("--from", bf->from, "First partition (inclusive)")->option_text("KEY");
  bf_cmd->add_option("--to", bf->to, "Last partition (inclusive)")->option_text("KEY");
  bf_cmd->add_flag("--all-missing", bf->all_missing,
                   "Partitions not materialized yet (within --from/--to if given)");
  bf_cmd->add_option("--runtime", bf->runtime, "Runtime for every run (default: placement)")
      ->option_text("NAME|auto");
  bf_cmd->add_option("--explore", bf->explore, "Exploration budget, as for materialize")
      ->option_text("F")
      ->check(CLI::Range(0.0, 0.99));
  auto* pause_cmd = bf_cmd->add_subcommand("pause", "Stop starting runs of a backfill");
  pause_cmd->add_option("ID", control->id, "Backfill id")->required();
  auto* resume_cmd = bf_cmd->add_subcommand("resume", "Start runs of a paused backfill again");
  resume_cmd->add_option("ID", control->id, "Backfill id")->required();
  auto* cancel_cmd =
      bf_cmd->add_subcommand("cancel", "Cancel a backfill: its queued and running runs");
  cancel_cmd->add_option("ID", control->id, "Backfill id")->required();

  auto* bfs_cmd = app.add_subcommand("backfills", "List backfills with their progress");
  bfs_cmd->add_flag("--all", bfs->all, "Also completed and canceled ones");
  bfs_cmd->add_option("--limit", bfs->limit, "At most N")->option_text("N")->default_str("20");

  return [=](CommandContext& ctx) -> std::optional<int> {
    if (*serve_cmd) return RunServe(ctx, *serve);
    if (*sched_cmd) return RunSchedules(ctx, *sched);
    if (*bfs_cmd) return RunBackfills(ctx, *bfs);
    if (*pause_cmd) return RunBackfillControl(ctx, "pause", *control);
    if (*resume_cmd) return RunBackfillControl(ctx, "resume", *control);
    if (*cancel_cmd) return RunBackfillControl(ctx, "cancel", *control);
    if (*bf_cmd) {
      if (bf->assets.empty()) {
        ctx.err() << "error: name the assets to backfill\n"
                  << "  hint: arbiter backfill ASSET... --from KEY --to KEY\n";
        return kExitUsage;
      }
      return RunBackfillCreate(ctx, *bf);
    }
    return std::nullopt;
  };
}

}  // namespace arbiter::cli
