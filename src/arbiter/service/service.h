// `arbiter serve`: the always-on service. One loop, in passes: renew the
// lease, fire due schedule ticks, advance backfills, queue retries of failed
// runs, then start queued runs as the limits allow (dispatcher.h). Each
// started run is followed on its own thread by the one run lifecycle
// (RunExecutor::FollowOne: the same claim, launch, follow and bookkeeping as
// `materialize`). On start, runs left in flight by a service or CLI that went
// away are re-attached and queued runs it had claimed go back to the queue;
// nothing is launched twice (schedule and backfill runs have derived ids, and
// every state change is compare-and-set in storage). Stop() stops launches
// and detaches from running jobs, which the next start re-attaches.
// Runtime-agnostic: launchers, the cost engine and the project come in
// through ServiceOptions; all time goes through the Clock.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "arbiter/common/clock.h"
#include "arbiter/cost/engine.h"
#include "arbiter/planning/planner.h"
#include "arbiter/runs/run_executor.h"
#include "arbiter/service/service_lease.h"
#include "arbiter/service/service_log.h"
#include "arbiter/storage/storage.h"

namespace arbiter::service {

struct ServiceOptions {
  storage::Storage* storage = nullptr;
  // The project as it is now (arbiter.yaml is read again: new partitions of
  // time windows appear, edited schedules apply). Called at start and every
  // `reload_every`; an error keeps the last good project and is logged.
  std::function<Result<std::shared_ptr<const definitions::Project>>()> load_project;
  std::chrono::seconds reload_every{60};
  const definitions::Environment* env = nullptr;
  // The launcher of a runtime (nullptr: not implemented), for a given project.
  std::function<runs::Launcher*(const definitions::RuntimeConfig&)> launcher_for;
  // The cost engine over the run history (null with *why when it cannot be
  // opened: runs with automatic placement then wait, runs with a named
  // runtime go ahead).
  std::function<std::unique_ptr<cost::Engine>(const definitions::Project&, std::string* why)>
      open_engine;
  planning::AvailabilityProbe availability;
  planning::LaunchableCheck launchable;
  storage::ServiceLease lease;  // who this service is (owner = this process)
  OwnerAlive owner_alive;
  const Clock* clock = &RealClock();
  ServiceLog* log = nullptr;
  // How often the queue and backfills are looked at when nothing wakes the loop.
  std::chrono::milliseconds idle_wait{1000};
  uint64_t seed = 0;  // retry jitter draws
};

class Service {
 public:
  explicit Service(ServiceOptions options);
  ~Service();  // Stop() and waits for the followers
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Takes the lease (a live service holding it: kFailedPrecondition), loads
  // the project and recovers what was in flight.
  Status Start();
  // One pass; returns when the next pass is due.
  Result<TimePoint> Step();
  // Passes until Stop(); then detaches from running jobs, waits for the
  // followers and releases the lease.
  Status Run();
  // Safe from any thread (the signal handler's): no new launches from now on.
  void Stop();
  // Waits until no run is being followed (tests).
  void WaitForFollowers();
  int following() const;

 private:
  // The project and the executor built on it; followers keep theirs alive
  // while a newer project is loaded.
  struct Bundle {
    std::shared_ptr<const definitions::Project> project;
    std::unique_ptr<runs::RunExecutor> executor;
  };
  Status Reload(bool force);
  // The cost engine, opened again when old or when runs ended since.
  std::shared_ptr<const cost::Engine> Engine(std::string* why);
  // Prices a run that ended (the ledger), on the follower's thread.
  void RecordCost(const storage::RunRecord& final, const runs::RunResult& result);
  void FireSchedules(TimePoint now);
  void FireTick(const definitions::ScheduleDef& schedule, TimePoint tick, TimePoint now);
  void AdvanceBackfills(TimePoint now);
  void RetryEnded(TimePoint now);
  std::optional<TimePoint> StartQueued(TimePoint now);  // the dispatcher's choices
  void Follow(storage::RunRecord run);
  // Runs whose arbiter went away: re-attached, or back to the queue. At
  // start also the retries a stopped service did not create.
  void Recover(TimePoint now, bool at_start);
  void CreateRetry(const storage::RunRecord& failed, TimePoint now);
  void ReapFollowers();

  ServiceOptions o_;
  ServiceLog& log_;
  std::shared_ptr<Bundle> bundle_;
  TimePoint loaded_at_{};
  std::mutex engine_mu_;
  // Keeps the project it was built on alive (a reload may replace bundle_).
  std::shared_ptr<const cost::Engine> engine_;  // guarded by engine_mu_
  TimePoint engine_at_{};
  TimePoint last_recover_{};
  bool engine_stale_ = true;
  TimePoint started_at_{};
  TimePoint last_renew_{};
  std::map<std::string, TimePoint> watch_since_;  // schedules that never ticked
  std::map<std::string, std::optional<TimePoint>> next_tick_;  // cache: nothing due before
  uint64_t draws_ = 0;

  runs::CancelSignal cancel_;  // Detach() on stop
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::condition_variable followers_done_;
  struct Follower {
    std::thread thread;
    bool done = false;
  };
  std::list<Follower> followers_;           // guarded by mu_
  std::vector<storage::RunRecord> ended_;  // guarded by mu_: runs to consider for retry
  std::atomic<bool> wake_{false};
};

}  // namespace arbiter::service
