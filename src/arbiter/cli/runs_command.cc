// `arbiter runs`, `arbiter logs RUN_ID [-f]`, `arbiter cancel RUN_ID`, and the
// hidden `arbiter __execute` behind --detach and run recovery.
#include <date/date.h>
#include <signal.h>

#include <cctype>
#include <cstdio>
#include <thread>

#include "arbiter/cli/command_context.h"
#include "arbiter/cli/cost_support.h"
#include "arbiter/cli/run_support.h"
#include "arbiter/cost/catalog_instance_chooser.h"
#include "arbiter/cli/text_table.h"
#include "arbiter/common/strings.h"
#include "arbiter/runs/partition_status.h"
#include "arbiter/runs/process.h"
#include "arbiter/runs/run_executor.h"

namespace arbiter::cli {
namespace {

using storage::RunStatus;

struct Opened {
  std::unique_ptr<definitions::LoadResult> loaded;
  std::unique_ptr<storage::Storage> storage;
};

std::optional<Opened> OpenAll(CommandContext& ctx, bool recover = true) {
  Opened o;
  o.loaded = ctx.LoadOrReport();
  if (!o.loaded) return std::nullopt;
  o.storage = OpenProjectStorage(ctx, *o.loaded->project);
  if (!o.storage) return std::nullopt;
  if (recover) RecoverOrphanedRuns(ctx, *o.loaded->project, *o.storage);
  return o;
}

std::optional<storage::RunRecord> FindRun(CommandContext& ctx, storage::Storage& s,
                                          const std::string& id) {
  auto run = s.GetRun(id);
  if (!run.ok()) {
    ctx.err() << "error: "
              << (run.status().code() == StatusCode::kNotFound
                      ? "no run " + Quote(id) + "\n  hint: 'arbiter runs' lists runs"
                      : run.status().message())
              << "\n";
    return std::nullopt;
  }
  return *run;
}

std::string EventTime(int64_t ms) {
  auto t = std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(ms));
  return date::format("%T", t);
}

// Job output as a terminal may show it: control characters (colour codes,
// title sequences, NUL, C1 controls) become visible escapes instead of acting
// on the terminal. Tabs stay. Stored output is valid UTF-8 (see runs.md).
std::string EscapeForTerminal(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  char buf[16];
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else if (c == 0xc2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(text[++i]));
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

void PrintEvent(std::ostream& out, const storage::RunEvent& e, bool terminal) {
  // One event, one line: no trailing newline of the message (a blank line).
  std::string_view message = e.message;
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
    message.remove_suffix(1);
  }
  const std::string text = terminal ? EscapeForTerminal(message) : std::string(message);
  out << EventTime(e.timestamp_ms) << "  ";
  if (e.kind == "stdout" || e.kind == "stderr") {
    out << e.kind << " | " << text << "\n";
    return;
  }
  std::string label = e.kind;
  if (!e.level.empty() && e.level != "info") label += " " + e.level;
  out << label << ": " << text;
  if (e.kind == "materialization" && e.data.is_object()) {
    std::string md = MetadataSummary(e.data.value("metadata", nlohmann::json::object()), ", ");
    if (!md.empty()) out << " (" << md << ")";
  }
  out << "\n";
}

}  // namespace

int RunRuns(CommandContext& ctx, const RunsArgs& args) {
  auto o = OpenAll(ctx);
  if (!o) return kExitFailure;
  storage::RunFilter filter;
  filter.limit = args.limit;
  if (!args.asset.empty()) filter.asset_key = args.asset;
  if (!args.status.empty()) {
    std::string upper = args.status;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto st = storage::ParseRunStatus(upper);
    if (!st) {
      ctx.err() << "error: unknown status " << Quote(args.status)
                << "\n  hint: QUEUED, STARTING, RUNNING, SUCCESS, FAILURE, CANCELING, CANCELED\n";
      return kExitUsage;
    }
    filter.status = st;
  }
  auto list = o->storage->ListRuns(filter);
  if (!list.ok()) {
    ctx.err() << "error: " << list.status().message() << "\n";
    return kExitFailure;
  }
  if (ctx.flags().json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& r : *list) j.push_back(RunJson(r));
    ctx.out() << j.dump(2) << "\n";
    return kExitOk;
  }
  if (list->empty()) {
    ctx.out() << "no runs yet; start one with 'arbiter materialize ASSET'\n";
    return kExitOk;
  }
  TextTable table(
      {"RUN", "ASSET", "PARTITION", "RUNTIME", "STATUS", "CREATED", "DURATION", "REASON"});
  TimePoint now = ctx.env().clock->Now();
  for (const auto& r : *list) {
    table.AddRow({r.run_id, r.asset_key, r.partition_key.value_or("-"), r.runtime,
                  std::string(storage::RunStatusName(r.status)), FormatTimestamp(r.created_at),
                  FormatRunDuration(r, now), Truncate(r.failure_reason, 60)});
  }
  table.Print(ctx.out());
  return kExitOk;
}

int RunLogs(CommandContext& ctx, const LogsArgs& args) {
  auto o = OpenAll(ctx);
  if (!o) return kExitFailure;
  auto run = FindRun(ctx, *o->storage, args.run_id);
  if (!run) return kExitFailure;
  int64_t after = 0;
  nlohmann::json all = nlohmann::json::array();
  while (true) {
    // Read the status before the events, so the last page after the end is never missed.
    auto latest = o->storage->GetRun(args.run_id);
    bool ended = latest.ok() && storage::IsTerminal(latest->status);
    while (true) {
      auto page = o->storage->ReadEvents(args.run_id, after, 1000);
      if (!page.ok()) {
        ctx.err() << "error: " << page.status().message() << "\n";
        return kExitFailure;
      }
      for (const auto& e : *page) {
        after = e.seq;
        if (ctx.flags().json) {
          all.push_back({{"seq", e.seq},
                         {"timestamp_ms", e.timestamp_ms},
                         {"kind", e.kind},
                         {"level", e.level},
                         {"message", e.message},
                         {"data", e.data}});
        } else {
          PrintEvent(ctx.out(), e, ctx.env().stdout_terminal);
        }
      }
      if (page->size() < 1000) break;
    }
    ctx.out() << std::flush;
    if (!args.follow || ended) {
      if (ctx.flags().json) {
        ctx.out() << nlohmann::json{{"run", RunJson(*latest)}, {"events", all}}.dump(2) << "\n";
      } else if (latest.ok()) {
        ctx.out() << "run " << latest->run_id << ": " << storage::RunStatusName(latest->status);
        if (!latest->failure_reason.empty()) ctx.out() << ": " << latest->failure_reason;
        ctx.out() << "\n";
      }
      return kExitOk;
    }
    ctx.env().clock->SleepFor(std::chrono::milliseconds(200));  // follow: poll for more
  }
}

int RunMaterializations(CommandContext& ctx, const MaterializationsArgs& args) {
  auto o = OpenAll(ctx);
  if (!o) return kExitFailure;
  const definitions::Project& p = *o->loaded->project;
  const definitions::AssetDef* asset = ctx.FindAssetOrReport(p, args.asset);
  if (!asset) return kExitFailure;
  // Latest materialization of each partition asked for, or of each
  // materialized partition (from the stored status, not a scan).
  std::vector<std::optional<std::string>> keys;
  const definitions::PartitionsDef* def = p.PartitionsOf(*asset);
  if (!def) {
    keys.emplace_back(std::nullopt);
  } else if (!args.partitions.empty()) {
    keys.assign(args.partitions.begin(), args.partitions.end());
  } else {
    auto status = runs::PartitionStatusKeeper(o->storage.get(), &p).Get(*asset);
    if (!status.ok()) {
      ctx.err() << "error: " << status.status().message() << "\n";
      return kExitFailure;
    }
    for (const auto& r : status->materialized.ranges()) {
      for (int64_t i = r.begin; i < r.end && static_cast<int>(keys.size()) < args.limit; ++i) {
        keys.emplace_back(def->KeyAt(i));
      }
    }
  }
  nlohmann::json all = nlohmann::json::array();
  TextTable table({"PARTITION", "WHEN", "RUN", "DATA VERSION", "METADATA"});
  for (const auto& key : keys) {
    auto m = o->storage->LatestMaterialization(asset->key.str(), key);
    if (!m.ok()) {
      ctx.err() << "error: " << m.status().message() << "\n";
      return kExitFailure;
    }
    if (!m->has_value()) continue;
    const storage::Materialization& mat = **m;
    all.push_back({{"asset", mat.asset_key},
                   {"partition", key ? nlohmann::json(*key) : nullptr},
                   {"timestamp", FormatTimestamp(mat.timestamp)},
                   {"run_id", mat.run_id},
                   {"data_version", mat.data_version ? nlohmann::json(*mat.data_version) : nullptr},
                   {"metadata", mat.metadata}});
    table.AddRow({key.value_or("-"), FormatTimestamp(mat.timestamp), mat.run_id,
                  mat.data_version.value_or("-"),
                  Truncate(MetadataSummary(mat.metadata, " "), 90)});
  }
  if (ctx.flags().json) {
    ctx.out() << all.dump(2) << "\n";
  } else if (all.empty()) {
    ctx.out() << "no materializations of " << asset->key.str() << " yet\n";
  } else {
    table.Print(ctx.out());
  }
  return kExitOk;
}

int RunCancel(CommandContext& ctx, const CancelArgs& args) {
  auto o = OpenAll(ctx, /*recover=*/false);
  if (!o) return kExitFailure;
  const definitions::Project& p = *o->loaded->project;
  auto run = FindRun(ctx, *o->storage, args.run_id);
  if (!run) return kExitFailure;
  if (storage::IsTerminal(run->status)) {
    // Nothing left to stop: what was asked for holds, so this is not an error.
    ctx.out() << "run " << run->run_id << " already ended: " << storage::RunStatusName(run->status);
    if (!run->failure_reason.empty()) ctx.out() << " (" << run->failure_reason << ")";
    ctx.out() << "\n";
    return kExitOk;
  }
  storage::RunUpdate u;
  u.failure_reason = "canceled by `arbiter cancel` before it started";
  auto moved =
      o->storage->TransitionRun(run->run_id, {RunStatus::kQueued}, RunStatus::kCanceled, u);
  if (moved.ok() && *moved) {
    if (const auto* asset = p.FindAsset(run->asset_key); asset && run->partition_key) {
      (void)runs::PartitionStatusKeeper(o->storage.get(), &p)
          .MarkEnded(*asset, *run->partition_key, RunStatus::kCanceled);
    }
    ctx.out() << "run " << run->run_id << ": CANCELED (it had not started)\n";
    return kExitOk;
  }
  moved = o->storage->TransitionRun(run->run_id, {RunStatus::kStarting, RunStatus::kRunning},
                                    RunStatus::kCanceling, {});
  if (!moved.ok()) {
    ctx.err() << "error: " << moved.status().message() << "\n";
    return kExitFailure;
  }
  // The arbiter following the run sees CANCELING and stops the job. If that
  // arbiter is gone, stop the job here and let a background arbiter finish.
  auto owner = runs::ProcessId::Parse(run->owner);
  if (!owner || !runs::IsProcessAlive(*owner)) {
    if (run->pid && run->process_start_ticks &&
        runs::IsProcessAlive({*run->pid, *run->process_start_ticks})) {
      (void)runs::SignalProcessGroup(*run->pid, SIGTERM);
    }
    RecoverOrphanedRuns(ctx, p, *o->storage);
  }
  ctx.err() << "canceling run " << run->run_id << "...\n";
  const Clock& clock = *ctx.env().clock;
  const MonoTime deadline = clock.Monotonic() + std::chrono::seconds(args.wait_seconds);
  while (clock.Monotonic() < deadline) {
    auto latest = o->storage->GetRun(run->run_id);
    if (latest.ok() && storage::IsTerminal(latest->status)) {
      ctx.out() << "run " << latest->run_id << ": " << storage::RunStatusName(latest->status);
      if (!latest->failure_reason.empty()) ctx.out() << " (" << latest->failure_reason << ")";
      ctx.out() << "\n";
      return latest->status == RunStatus::kCanceled ? kExitOk : kExitFailure;
    }
    clock.SleepFor(std::chrono::milliseconds(100));  // waiting on another process
  }
  ctx.out() << "run " << run->run_id << ": CANCELING (still stopping after " << args.wait_seconds
            << "s; 'arbiter runs' shows when it ends)\n";
  return kExitOk;
}

int RunExecute(CommandContext& ctx, const ExecuteArgs& args) {
  auto o = OpenAll(ctx, /*recover=*/false);
  if (!o) return kExitFailure;
  const definitions::Project& p = *o->loaded->project;
  std::vector<storage::RunRecord> todo;
  for (const std::string& id : args.run_ids) {
    auto r = o->storage->GetRun(id);
    if (r.ok()) todo.push_back(*r);
  }
  if (args.recover) {
    auto orphans = runs::OrphanedRuns(*o->storage);
    if (orphans.ok()) todo.insert(todo.end(), orphans->begin(), orphans->end());
  }
  ctx.out() << "following " << todo.size() << " run(s)\n" << std::flush;
  Launchers launchers(ctx, p, o->storage.get());
  runs::RunExecutor executor(
      o->storage.get(), &p, &ctx.env().env,
      [&](const definitions::RuntimeConfig& rt) { return launchers.For(rt); },
      std::max<int>(args.concurrency, args.recover ? static_cast<int>(todo.size()) : 1));
  executor.SetClock(ctx.env().clock);
  // Runs end here too (detached and recovered ones): price them. Without a
  // catalog they still run; only their cost stays unknown.
  auto engine = OpenCostEngine(ctx, p, o->storage.get());
  AttachLedger(ctx, executor, engine.get(), o->storage.get());
  if (engine) launchers.SetInstanceChooser(cost::CatalogInstanceChooser(engine->shared_catalog()));
  runs::CancelSignal cancel;
  InterruptToCancel interrupts(ctx.env().handle_signals, &cancel);
  auto finals = executor.RunToEnd(
      todo, cancel, [&](const runs::RunProgress&, const storage::RunRecord* finished) {
        if (finished) {
          ctx.out() << finished->run_id << " " << storage::RunStatusName(finished->status) << "\n"
                    << std::flush;
        }
      });
  if (!finals.ok()) {
    ctx.err() << "error: " << finals.status().message() << "\n";
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace arbiter::cli
