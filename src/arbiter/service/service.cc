#include "arbiter/service/service.h"

#include <algorithm>
#include <random>

#include "arbiter/cost/ledger.h"
#include "arbiter/definitions/partitions/time_window_partitions.h"
#include "arbiter/planning/enqueue.h"
#include "arbiter/planning/storage_planning_state.h"
#include "arbiter/runs/process.h"
#include "arbiter/service/backfills.h"
#include "arbiter/service/derived_id.h"
#include "arbiter/service/dispatcher.h"
#include "arbiter/service/retry_policy.h"
#include "arbiter/service/schedule_ticks.h"
#include "arbiter/time/cron.h"

namespace arbiter::service {

using definitions::AssetDef;
using definitions::Project;
using definitions::ScheduleDef;
using storage::RunRecord;
using storage::RunStatus;

namespace {

// How long a loaded cost engine is used before the run history is read again
// (also read again after runs ended).
constexpr std::chrono::seconds kEngineFor{60};
// Partitions a backfill may have queued ahead of the runs that can start.
constexpr int kBackfillLookahead = 2;
// Failed queue runs whose end a stopped service missed are retried on start
// when they ended this recently.
constexpr std::chrono::hours kRetryLookback{24};
// How often runs of arbiters that went away are looked for while serving.
constexpr std::chrono::seconds kRecoverEvery{30};

// What a tick of `schedule` runs of `asset`: its newest complete time window
// at the tick (`partitions: latest`), every missing partition (`all_missing`,
// and `latest` for keys that are not time windows), or the asset itself.
planning::Selection TickSelection(const Project& project, const AssetDef& asset,
                                  const ScheduleDef& schedule, TimePoint tick) {
  planning::Selection sel;
  const definitions::PartitionsDef* def = project.PartitionsOf(asset);
  if (!def) return sel;
  auto* windows = dynamic_cast<const definitions::TimeWindowPartitions*>(def);
  if (schedule.target == ScheduleDef::Target::kLatest && windows) {
    std::optional<int64_t> i = windows->IndexContaining(tick - std::chrono::seconds(1));
    if (i && windows->WindowAt(*i).end > tick) --*i;  // still open at the tick
    if (i && *i >= 0 && *i < def->Size()) {
      sel.partitions.push_back(def->KeyAt(*i));
      return sel;
    }
    sel.partitions.push_back("");  // no window has ended yet: planning says so
    return sel;
  }
  sel.all_missing = true;
  return sel;
}

}  // namespace

Service::Service(ServiceOptions options) : o_(std::move(options)), log_(*o_.log) {}

Service::~Service() {
  Stop();
  WaitForFollowers();
  ReapFollowers();
}

int Service::following() const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const Follower& f : followers_) n += !f.done;
  return n;
}

Status Service::Reload(bool force) {
  const TimePoint now = o_.clock->Now();
  if (!force && bundle_ && now - loaded_at_ < o_.reload_every) return Status::Ok();
  loaded_at_ = now;
  Result<std::shared_ptr<const Project>> loaded = o_.load_project();
  if (!loaded.ok()) {
    if (!bundle_) return loaded.status();
    log_.Event("project.reload_failed", {{"error", loaded.status().message()}}, "warning");
    return Status::Ok();
  }
  auto b = std::make_shared<Bundle>();
  b->project = *loaded;
  b->executor = std::make_unique<runs::RunExecutor>(o_.storage, b->project.get(), o_.env,
                                                    o_.launcher_for, 1);
  b->executor->SetClock(o_.clock);
  b->executor->SetOnRunEnd(
      [this](const RunRecord& final, const runs::RunResult& result) { RecordCost(final, result); });
  bundle_ = std::move(b);
  engine_stale_ = true;
  next_tick_.clear();
  return Status::Ok();
}

std::shared_ptr<const cost::Engine> Service::Engine(std::string* why) {
  const TimePoint now = o_.clock->Now();
  std::lock_guard lock(engine_mu_);
  if (engine_ && !engine_stale_ && now - engine_at_ < kEngineFor) return engine_;
  if (!o_.open_engine) {
    *why = "no cost engine";
    return engine_;
  }
  std::unique_ptr<cost::Engine> e = o_.open_engine(*bundle_->project, why);
  if (e) {
    // The engine points into the project it was built on; that project may be
    // reloaded away while the engine still prices runs, so the engine keeps it alive.
    engine_ = std::shared_ptr<const cost::Engine>(
        e.release(), [project = bundle_->project](const cost::Engine* engine) { delete engine; });
    engine_at_ = now;
    engine_stale_ = false;
  }
  return engine_;
}

void Service::RecordCost(const RunRecord& final, const runs::RunResult& result) {
  std::shared_ptr<const cost::Engine> engine;
  {
    std::lock_guard lock(engine_mu_);
    engine = engine_;
  }
  if (!engine) return;  // no price catalog: the run's cost stays unknown, as in the CLI
  Status s = cost::RecordRunEnd(*engine, *o_.storage, final, result, o_.clock->Now());
  if (!s.ok()) {
    log_.Event("cost.error", {{"run", final.run_id}, {"error", s.message()}}, "warning");
  }
}

Status Service::Start() {
  started_at_ = o_.clock->Now();
  storage::ServiceLease me = o_.lease;
  me.started_at = me.heartbeat_at = started_at_;
  ARBITER_RETURN_IF_ERROR(AcquireServiceLease(*o_.storage, me, o_.owner_alive, started_at_));
  last_renew_ = started_at_;
  ARBITER_RETURN_IF_ERROR(Reload(true));
  log_.Event("service.started", {{"owner", me.owner},
                                 {"host", me.host},
                                 {"schedules", bundle_->project->schedules.size()},
                                 {"assets", bundle_->project->assets.size()}});
  Recover(started_at_, true);
  return Status::Ok();
}

void Service::Recover(TimePoint now, bool at_start) {
  last_recover_ = now;
  Result<std::vector<RunRecord>> orphans = runs::OrphanedRuns(*o_.storage);
  if (!orphans.ok()) {
    log_.Event("recovery.failed", {{"error", orphans.status().message()}}, "error");
    return;
  }
  int requeued = 0, reattached = 0;
  for (RunRecord& r : *orphans) {
    if (r.status == RunStatus::kQueued) {
      // Claimed by a service (or queued by a CLI) that went away before it
      // started: back to the queue, never started twice.
      storage::RunUpdate u;
      u.if_owner = r.owner;
      u.owner = storage::kQueueOwner;
      Result<bool> moved = o_.storage->TransitionRun(r.run_id, {RunStatus::kQueued},
                                                     RunStatus::kQueued, u);
      if (moved.ok() && *moved) ++requeued;
      continue;
    }
    ++reattached;
    log_.Event("run.reattach", {{"run", r.run_id}, {"asset", r.asset_key},
                                {"runtime", r.runtime},
                                {"status", storage::RunStatusName(r.status)}});
    Follow(std::move(r));
  }
  if (!at_start) {
    if (requeued || reattached) {
      log_.Event("service.recovered", {{"reattached", reattached}, {"requeued", requeued}});
    }
    return;
  }
  // Failed queue runs whose end a stopped service did not see: their retries.
  storage::RunFilter failed;
  failed.status = RunStatus::kFailure;
  failed.limit = 1000;
  Result<std::vector<RunRecord>> recent = o_.storage->ListRuns(failed);
  int retried = 0;
  if (recent.ok()) {
    for (const RunRecord& r : *recent) {
      if (!r.tags.value("queue", false) || !r.ended_at || *r.ended_at < now - kRetryLookback) {
        continue;
      }
      std::string why;
      const AssetDef* asset = bundle_->project->FindAsset(r.asset_key);
      if (!asset) continue;
      std::optional<RunRecord> retry = RetryOf(*asset, r, now, 0.5, &why);
      if (retry && o_.storage->GetRun(retry->run_id).status().code() == StatusCode::kNotFound) {
        CreateRetry(r, now);
        ++retried;
      }
    }
  }
  if (requeued || reattached || retried) {
    log_.Event("service.recovered",
               {{"reattached", reattached}, {"requeued", requeued}, {"retries", retried}});
  }
}

void Service::Follow(RunRecord run) {
  std::shared_ptr<Bundle> bundle = bundle_;
  std::lock_guard lock(mu_);
  followers_.emplace_back();
  Follower* f = &followers_.back();
  f->thread = std::thread([this, bundle, run = std::move(run), f] {
    if (run.status == RunStatus::kQueued) (void)bundle->executor->MarkInProgress({run});
    Result<RunRecord> final_record = bundle->executor->FollowOne(run, cancel_);
    if (!final_record.ok()) {
      log_.Event("run.error", {{"run", run.run_id}, {"error", final_record.status().message()}},
                 "error");
    } else if (storage::IsTerminal(final_record->status)) {
      const RunRecord& r = *final_record;
      nlohmann::json fields = {{"run", r.run_id},
                               {"asset", r.asset_key},
                               {"runtime", r.runtime},
                               {"status", storage::RunStatusName(r.status)}};
      if (r.partition_key) fields["partition"] = *r.partition_key;
      if (!r.failure_reason.empty()) fields["reason"] = r.failure_reason;
      if (!r.failure_kind.empty()) fields["failure_kind"] = r.failure_kind;
      log_.Event("run.ended", fields, r.status == RunStatus::kFailure ? "warning" : "info");
    }
    std::lock_guard l(mu_);
    if (final_record.ok() && storage::IsTerminal(final_record->status)) {
      ended_.push_back(*final_record);
    }
    f->done = true;
    wake_ = true;
    followers_done_.notify_all();
  });
}

void Service::ReapFollowers() {
  std::list<Follower> finished;
  {
    std::lock_guard lock(mu_);
    for (auto it = followers_.begin(); it != followers_.end();) {
      if (it->done) {
        finished.splice(finished.end(), followers_, it++);
      } else {
        ++it;
      }
    }
  }
  for (Follower& f : finished) f.thread.join();
}

void Service::WaitForFollowers() {
  std::unique_lock lock(mu_);
  followers_done_.wait(lock, [&] {
    return std::all_of(followers_.begin(), followers_.end(),
                       [](const Follower& f) { return f.done; });
  });
}

void Service::Stop() {
  if (stopping_.exchange(true)) return;
  cancel_.Detach();
  wake_ = true;
}

Result<TimePoint> Service::Step() {
  TimePoint now = o_.clock->Now();
  if (now - last_renew_ >= kLeaseRenewEvery) {
    ARBITER_ASSIGN_OR_RETURN(bool held, o_.storage->RenewServiceLease(o_.lease.owner, now));
    if (!held) {
      return FailedPreconditionError(
          "this service lost its lease on the storage (another `arbiter serve` took it over)");
    }
    last_renew_ = now;
  }
  ARBITER_RETURN_IF_ERROR(Reload(false));
  ReapFollowers();
  TimePoint next = now + std::chrono::duration_cast<std::chrono::seconds>(o_.idle_wait);
  if (o_.idle_wait < std::chrono::seconds(1)) next = now + std::chrono::seconds(1);
  if (stopping_) return next;
  // A `materialize` or background arbiter that died while this service runs.
  if (now - last_recover_ >= kRecoverEvery) Recover(now, false);
  FireSchedules(now);
  AdvanceBackfills(now);
  RetryEnded(now);
  if (std::optional<TimePoint> wake = StartQueued(now); wake && *wake < next) next = *wake;
  for (const auto& [name, t] : next_tick_) {
    if (t && *t < next) next = *t;
  }
  return next;
}

void Service::FireSchedules(TimePoint now) {
  const Project& project = *bundle_->project;
  for (const auto& [name, schedule] : project.schedules) {
    if (!schedule.enabled) continue;
    if (auto cached = next_tick_.find(name);
        cached != next_tick_.end() && (!cached->second || *cached->second > now)) {
      continue;
    }
    Result<time::CronExpression> cron = time::CronExpression::Parse(schedule.cron);
    Result<std::shared_ptr<const time::TimeZone>> zone = time::LookupTimeZone(schedule.timezone);
    if (!cron.ok() || !zone.ok()) continue;  // the loader reported it
    Result<std::optional<storage::ScheduleTick>> last = o_.storage->LastScheduleTick(name);
    if (!last.ok()) {
      log_.Event("schedule.error", {{"schedule", name}, {"error", last.status().message()}},
                 "error");
      continue;
    }
    TimePoint after;
    if (*last) {
      after = (*last)->tick_at;
    } else {
      after = watch_since_.emplace(name, started_at_).first->second;
    }
    DueTicks due = ComputeDueTicks(*cron, **zone, schedule.catchup, after, now);
    if (due.newest_skipped) {
      storage::ScheduleTick t;
      t.schedule = name;
      t.tick_at = *due.newest_skipped;
      t.recorded_at = now;
      t.status = "skipped";
      t.message = std::to_string(due.skipped) + " missed tick(s) from " +
                  Iso8601(*due.oldest_skipped) + " to " + Iso8601(*due.newest_skipped) +
                  " not run (catchup: " +
                  (schedule.catchup == ScheduleDef::Catchup::kNone ? "none" : "latest") + ")";
      (void)o_.storage->RecordScheduleTick(t);
      log_.Event("schedule.skipped", {{"schedule", name}, {"ticks", due.skipped},
                                      {"message", t.message}});
    }
    for (TimePoint tick : due.fire) FireTick(schedule, tick, now);
    next_tick_[name] = due.next;
  }
}

void Service::FireTick(const ScheduleDef& schedule, TimePoint tick, TimePoint now) {
  const Project& project = *bundle_->project;
  storage::ScheduleTick record;
  record.schedule = schedule.name;
  record.tick_at = tick;
  record.recorded_at = now;
  record.status = "launched";
  planning::StoragePlanningState state(o_.storage, &project);
  planning::Planner planner(&project, &state, o_.availability, o_.launchable);
  std::vector<const AssetDef*> assets;
  for (const auto& key : schedule.assets) {
    if (const AssetDef* a = project.FindAsset(key.str())) assets.push_back(a);
  }
  QueuedRuns queued;  // (asset, partition) -> run
  std::vector<std::string> problems;
  int held = 0;
  for (const AssetDef* asset : DependencyOrder(assets)) {
    planning::PlanRequest request;
    request.asset = asset;
    request.selection = TickSelection(project, *asset, schedule, tick);
    request.now = now;
    planning::Plan plan = planner.Select(request);
    if (plan.ok() && !plan.runs.empty()) {
      std::string why;
      std::shared_ptr<const cost::Engine> engine = Engine(&why);
      if (!engine) {
        problems.push_back(asset->key.str() + ": cannot place its runs: " + why);
        continue;
      }
      planner.Place(request, engine.get(), &plan);
    }
    if (!plan.ok()) {
      problems.push_back(asset->key.str() + ": " + plan.errors.front().what);
      continue;
    }
    held += static_cast<int>(plan.skipped.size());
    planning::EnqueueOptions options;
    options.owner = storage::kQueueOwner;
    options.decorate = [&](RunRecord& r) {
      r.run_id = DerivedRunId("schedule/" + schedule.name + "/" + Iso8601(tick) + "/" + r.asset_key +
                              "/" + r.partition_key.value_or(""));
      r.tags["schedule"] = schedule.name;
      r.tags["tick"] = Iso8601(tick);
      LinkToUpstream(*asset, queued, r);
    };
    planning::EnqueueResult result = planning::Enqueue(*o_.storage, plan, options);
    if (result.error) problems.push_back(asset->key.str() + ": " + result.error->what);
    held += static_cast<int>(result.skipped.size());
    for (const RunRecord& r : result.queued) {
      queued[{r.asset_key, r.partition_key.value_or("")}] = r.run_id;
      record.run_ids.push_back(r.run_id);
    }
    for (const std::string& id : result.existing) record.run_ids.push_back(id);
  }
  if (!problems.empty()) {
    record.status = record.run_ids.empty() ? "failed" : "launched";
    for (const std::string& p : problems) record.message += (record.message.empty() ? "" : "; ") + p;
  } else if (record.run_ids.empty()) {
    record.status = "skipped";
    record.message = held > 0 ? "every partition is held by a live run" : "nothing missing";
  }
  Result<bool> stored = o_.storage->RecordScheduleTick(record);
  // How late the tick's runs were queued (the scheduler's latency), to the millisecond.
  const auto late = std::chrono::duration_cast<std::chrono::milliseconds>(o_.clock->WallTime() -
                                                                          tick);
  nlohmann::json fields = {{"schedule", schedule.name}, {"tick", Iso8601(tick)},
                           {"runs", record.run_ids.size()}, {"late_ms", late.count()}};
  if (!record.message.empty()) fields["message"] = record.message;
  if (!stored.ok()) fields["error"] = "tick not recorded: " + stored.status().message();
  log_.Event("tick." + record.status, fields, record.status == "failed" ? "error" : "info");
  wake_ = true;
}

void Service::AdvanceBackfills(TimePoint now) {
  Result<std::vector<storage::BackfillRecord>> active = o_.storage->ListBackfills(true, 1000);
  if (!active.ok()) {
    log_.Event("backfill.error", {{"error", active.status().message()}}, "error");
    return;
  }
  const Project& project = *bundle_->project;
  const int max_runs = std::max(1, project.service.max_concurrent_runs);
  for (storage::BackfillRecord& b : *active) {
    if (b.status != storage::BackfillStatus::kRunning) continue;
    Result<std::map<RunStatus, int64_t>> counts = o_.storage->BackfillRunCounts(b.backfill_id);
    if (!counts.ok()) continue;
    const int64_t waiting = (*counts)[RunStatus::kQueued];
    const int assets = std::max<int>(1, static_cast<int>(b.assets.size()));
    const int room = static_cast<int>(
        std::max<int64_t>(0, (kBackfillLookahead * max_runs - waiting) / assets));
    planning::StoragePlanningState state(o_.storage, &project);
    planning::Planner planner(&project, &state, o_.availability, o_.launchable);
    std::string why;
    std::shared_ptr<const cost::Engine> engine = Engine(&why);
    if (b.runtime.empty() && !engine) {
      log_.Event("backfill.waiting", {{"backfill", b.backfill_id}, {"why", why}}, "warning");
      continue;
    }
    Result<BackfillStep> step = AdvanceBackfill(*o_.storage, project, planner, engine.get(), b,
                                                room > 0 ? room : 0, now);
    if (!step.ok()) {
      log_.Event("backfill.error", {{"backfill", b.backfill_id},
                                    {"error", step.status().message()}}, "error");
      continue;
    }
    for (const std::string& w : step->warnings) {
      log_.Event("backfill.warning", {{"backfill", b.backfill_id}, {"message", w}}, "warning");
    }
    if (step->runs > 0) {
      log_.Event("backfill.queued", {{"backfill", b.backfill_id}, {"partitions", step->partitions},
                                     {"runs", step->runs}});
    }
    if (step->completed) {
      log_.Event("backfill.completed", {{"backfill", b.backfill_id}, {"message", b.message}});
    }
  }
}

void Service::CreateRetry(const RunRecord& failed, TimePoint now) {
  const AssetDef* asset = bundle_->project->FindAsset(failed.asset_key);
  if (!asset) return;
  std::mt19937_64 rng(o_.seed ^ std::hash<std::string>()(failed.run_id));
  const double u = std::uniform_real_distribution<double>(0, 1)(rng);
  std::string why;
  std::optional<RunRecord> retry = RetryOf(*asset, failed, now, u, &why);
  if (!retry) return;
  if (asset->retries.other_runtime && failed.failure_kind == "system") {
    // The next-cheapest runtime the asset allows, by the same placement.
    const Project& project = *bundle_->project;
    planning::StoragePlanningState state(o_.storage, &project);
    planning::Planner planner(&project, &state, o_.availability, o_.launchable);
    planning::PlanRequest request;
    request.asset = asset;
    if (failed.partition_key) request.selection.partitions = {*failed.partition_key};
    request.placement.constraints.excluded_runtimes = {failed.runtime};
    request.placement.explore = 0;
    request.now = now;
    std::string engine_why;
    std::shared_ptr<const cost::Engine> engine = Engine(&engine_why);
    planning::Plan plan = planner.Select(request);
    // The failed run still holds its partition in the plan's eyes only if it were live; it ended.
    if (engine && plan.ok() && !plan.runs.empty()) planner.Place(request, engine.get(), &plan);
    if (plan.ok() && !plan.runs.empty() && !plan.runs.front().runtime.empty()) {
      retry->runtime = plan.runs.front().runtime;
      why += ", moved from " + failed.runtime + " to " + retry->runtime + " (retries.other_runtime)";
    } else {
      why += "; no other runtime is allowed or available, so on " + failed.runtime + " again";
    }
  }
  Status s = o_.storage->CreateRun(*retry);
  if (!s.ok() && s.code() != StatusCode::kAlreadyExists) {
    log_.Event("retry.error", {{"run", failed.run_id}, {"error", s.message()}}, "error");
    return;
  }
  if (s.ok()) {
    std::vector<storage::RunEvent> note(1);
    note[0].timestamp_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    note[0].kind = "status";
    note[0].level = "info";
    note[0].message = "retry of run " + failed.run_id + " (" + why + "): " + failed.failure_reason +
                      "; starts at " + Iso8601(*retry->not_before) + " or later";
    (void)o_.storage->AppendEvents(retry->run_id, &note);
    log_.Event("retry.queued", {{"run", retry->run_id}, {"retry_of", failed.run_id},
                                {"why", why}, {"not_before", Iso8601(*retry->not_before)}});
  }
}

void Service::RetryEnded(TimePoint now) {
  std::vector<RunRecord> ended;
  {
    std::lock_guard lock(mu_);
    ended.swap(ended_);
  }
  if (!ended.empty()) {
    std::lock_guard lock(engine_mu_);
    engine_stale_ = true;  // history grew: placement learns from it
  }
  for (const RunRecord& r : ended) {
    if (r.status == RunStatus::kFailure) CreateRetry(r, now);
  }
}

std::optional<TimePoint> Service::StartQueued(TimePoint now) {
  wake_ = false;
  Result<std::vector<RunRecord>> active = o_.storage->ActiveRuns();
  if (!active.ok()) {
    log_.Event("queue.error", {{"error", active.status().message()}}, "error");
    return std::nullopt;
  }
  QueueSnapshot q;
  for (RunRecord& r : *active) {
    if (r.status == RunStatus::kQueued && r.owner == storage::kQueueOwner) {
      q.queued.push_back(std::move(r));
    } else {
      q.live.push_back(std::move(r));  // a run another arbiter is starting counts too
    }
  }
  if (q.queued.empty()) return std::nullopt;
  if (Result<std::vector<storage::BackfillRecord>> b = o_.storage->ListBackfills(true, 1000);
      b.ok()) {
    for (const auto& r : *b) {
      if (r.status == storage::BackfillStatus::kPaused) q.paused_backfills.insert(r.backfill_id);
    }
  }
  q.status_of = [&](const std::string& id) -> std::optional<RunStatus> {
    Result<RunRecord> r = o_.storage->GetRun(id);
    if (!r.ok()) return std::nullopt;
    return r->status;
  };
  const Project& project = *bundle_->project;
  Dispatch d = PlanDispatch(project, q, now, project.service.max_concurrent_runs);
  for (const auto& [run, why] : d.cancel) {
    storage::RunUpdate u;
    u.ended_at = now;
    u.failure_reason = "not started: " + why;
    Result<bool> moved =
        o_.storage->TransitionRun(run.run_id, {RunStatus::kQueued}, RunStatus::kCanceled, u);
    if (moved.ok() && *moved) {
      log_.Event("run.canceled", {{"run", run.run_id}, {"asset", run.asset_key}, {"why", why}});
    }
  }
  for (RunRecord& run : d.start) {
    storage::RunUpdate claim;
    claim.if_owner = storage::kQueueOwner;
    claim.owner = o_.lease.owner;
    Result<bool> moved =
        o_.storage->TransitionRun(run.run_id, {RunStatus::kQueued}, RunStatus::kQueued, claim);
    if (!moved.ok() || !*moved) continue;  // canceled meanwhile
    run.owner = o_.lease.owner;
    nlohmann::json fields = {{"run", run.run_id}, {"asset", run.asset_key},
                             {"runtime", run.runtime}, {"priority", run.priority}};
    if (run.partition_key) fields["partition"] = *run.partition_key;
    if (run.attempt > 0) fields["attempt"] = run.attempt + 1;
    log_.Event("run.launch", fields);
    Follow(std::move(run));
  }
  return d.wake_at;
}

Status Service::Run() {
  while (!stopping_) {
    Result<TimePoint> next = Step();
    if (!next.ok()) {
      log_.Event("service.error", {{"error", next.status().message()}}, "error");
      Stop();
      break;
    }
    // Sleep in short slices: a stop, an ended run or a due tick cut it short.
    while (!stopping_ && !wake_ && o_.clock->Now() < *next) {
      o_.clock->SleepFor(std::min<std::chrono::milliseconds>(
          std::chrono::milliseconds(200), std::chrono::duration_cast<std::chrono::milliseconds>(
                                              *next - o_.clock->Now())));
    }
  }
  const int left = following();
  log_.Event("service.stopping", {{"following", left},
                                  {"note", "running jobs are left running; the next start "
                                           "re-attaches them"}});
  WaitForFollowers();
  ReapFollowers();
  (void)o_.storage->ReleaseServiceLease(o_.lease.owner);
  log_.Event("service.stopped");
  return Status::Ok();
}

}  // namespace arbiter::service
