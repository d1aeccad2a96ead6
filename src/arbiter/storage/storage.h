// Storage: everything Arbiter persists, behind one interface so the embedded
// SQLite backend and a shared PostgreSQL backend are interchangeable. Every
// method is safe to call from several threads; several processes may share a
// database (runs started by one `arbiter`, cancelled from another).
//
// Contract (every backend; checked by storage_conformance_test):
//  - CreateRun fails with kAlreadyExists for a known run id.
//  - CreateRunUnlessClaimed never leaves two live runs of one partition.
//  - Run status changes are compare-and-set (TransitionRun), so two processes
//    cannot both move a run out of the same state.
//  - Events are append-only, numbered 1, 2, ... per run in append order.
//  - Partition status sets are updated when runs start and end, never computed
//    by scanning events or materializations.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "arbiter/common/status.h"
#include "arbiter/storage/records.h"

namespace arbiter::storage {

// Fields a transition may set alongside the new status.
struct RunUpdate {
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> ended_at;
  std::optional<std::string> failure_reason;
  std::optional<std::string> stderr_tail;
  std::optional<int64_t> pid;
  std::optional<int64_t> process_start_ticks;
  std::optional<std::string> external_id;
  std::optional<std::string> owner;
  // Set: the transition applies only if the run's current owner is this
  // (claiming a run whose arbiter went away, without racing another).
  std::optional<std::string> if_owner;
  // Set: the transition applies only if fewer than this many runs of the
  // run's runtime are STARTING, RUNNING or CANCELING, counted over the whole
  // storage (a runtime's max_concurrency holds across every arbiter process).
  std::optional<int> if_runtime_below;
  std::optional<std::string> failure_kind;  // "user" or "system" (RunRecord::failure_kind)
};

class Storage {
 public:
  virtual ~Storage() = default;

  // ---- Runs
  virtual Status CreateRun(const RunRecord& run) = 0;
  // Creates the run unless a live run (QUEUED, STARTING, RUNNING, CANCELING)
  // of the same asset and partition exists; then creates nothing and returns
  // that run. Atomic across processes sharing the storage, so a partition
  // never has two live runs (`materialize` skips what another run holds).
  virtual Result<std::optional<RunRecord>> CreateRunUnlessClaimed(const RunRecord& run) = 0;
  virtual Result<RunRecord> GetRun(const std::string& run_id) = 0;  // kNotFound
  // Newest first.
  virtual Result<std::vector<RunRecord>> ListRuns(const RunFilter& filter) = 0;
  // Moves the run to `to` if its status is one of `from`, applying `update`.
  // Returns false (and changes nothing) if the run is in another state;
  // kNotFound if there is no such run.
  virtual Result<bool> TransitionRun(const std::string& run_id, const std::vector<RunStatus>& from,
                                     RunStatus to, const RunUpdate& update) = 0;
  // Runs not yet in a terminal state (for recovery after a restart).
  virtual Result<std::vector<RunRecord>> ActiveRuns() = 0;

  // ---- Events
  // Appends in order, in one transaction; fills in each event's seq. Returns
  // the last seq. kNotFound if the run does not exist.
  virtual Result<int64_t> AppendEvents(const std::string& run_id,
                                       std::vector<RunEvent>* events) = 0;
  // Appends events, records materializations (filling in their ids) and sets
  // the run's reader cursor, all or nothing. Returns the last event seq.
  virtual Result<int64_t> AppendRunOutput(const std::string& run_id, RunOutput* output) = 0;
  // Events with seq > after_seq, oldest first, at most `limit`.
  virtual Result<std::vector<RunEvent>> ReadEvents(const std::string& run_id, int64_t after_seq,
                                                   int limit) = 0;

  // ---- Materializations
  // Stores it and fills in its id.
  virtual Status RecordMaterialization(Materialization* m) = 0;
  virtual Result<std::optional<Materialization>> LatestMaterialization(
      const std::string& asset_key, const std::optional<std::string>& partition_key) = 0;
  // Newest first.
  virtual Result<std::vector<Materialization>> MaterializationHistory(
      const std::string& asset_key, const std::optional<std::string>& partition_key, int limit) = 0;

  // Distinct partition keys of an asset with at least one materialization
  // (rebuilding partition status after a definition change).
  virtual Result<std::vector<std::string>> MaterializedPartitionKeys(
      const std::string& asset_key) = 0;
  // The status of the newest run of each partition of an asset.
  virtual Result<std::vector<std::pair<std::string, RunStatus>>> LatestRunStatusByPartition(
      const std::string& asset_key) = 0;

  // ---- Partition status
  // The stored sets of an asset. An asset never seen has empty sets and an
  // empty fingerprint.
  virtual Result<PartitionStatus> GetPartitionStatus(const std::string& asset_key) = 0;
  // Moves `indices` into `state` (out of the other states), atomically. If the
  // stored fingerprint differs, the stored sets are discarded first (they
  // describe another definition) and the caller should rebuild them.
  virtual Status SetPartitionState(const std::string& asset_key, const std::string& fingerprint,
                                   const definitions::PartitionSet& indices,
                                   PartitionState state) = 0;
  // Clears `indices` from every state (back to missing).
  virtual Status ClearPartitionState(const std::string& asset_key, const std::string& fingerprint,
                                     const definitions::PartitionSet& indices) = 0;
  // Replaces all sets at once (rebuild after a definition change).
  virtual Status ReplacePartitionStatus(const std::string& asset_key,
                                        const PartitionStatus& status) = 0;

  // ---- Placement and cost (filled in by the cost engine)
  virtual Status PutPlacementDecision(const PlacementDecision& d) = 0;
  virtual Result<std::optional<PlacementDecision>> GetPlacementDecision(
      const std::string& run_id) = 0;
  virtual Status PutCostRecord(const CostRecord& c) = 0;
  virtual Result<std::optional<CostRecord>> GetCostRecord(const std::string& run_id) = 0;
  // Terminal runs matching `filter`, newest first, each with the metadata of
  // its newest materialization and its cost record, in one query (the cost
  // engine's history and the spend reports).
  virtual Result<std::vector<RunHistoryEntry>> RunHistory(const RunHistoryFilter& filter) = 0;
  // The same runs, oldest first, one at a time (the cost engine learning from a
  // long history without holding it). `fn` must not call the storage.
  virtual Status ForEachRunHistory(const RunHistoryFilter& filter,
                                   const std::function<void(const RunHistoryEntry&)>& fn) = 0;

  // ---- Service: schedule ticks, backfills, the service lease
  // Records a tick; false (and nothing changes) if this schedule's tick at
  // that instant is already recorded.
  virtual Result<bool> RecordScheduleTick(const ScheduleTick& tick) = 0;
  // The newest recorded tick of a schedule (by tick_at), if any.
  virtual Result<std::optional<ScheduleTick>> LastScheduleTick(const std::string& schedule) = 0;
  // Newest first (by tick_at), at most `limit`.
  virtual Result<std::vector<ScheduleTick>> ScheduleTicks(const std::string& schedule,
                                                          int limit) = 0;

  // kAlreadyExists for a known id.
  virtual Status CreateBackfill(const BackfillRecord& backfill) = 0;
  virtual Result<BackfillRecord> GetBackfill(const std::string& backfill_id) = 0;  // kNotFound
  // Newest first; only RUNNING and PAUSED ones when `active_only`.
  virtual Result<std::vector<BackfillRecord>> ListBackfills(bool active_only, int limit) = 0;
  // Replaces the stored backfill if its status is one of `if_status`; false
  // (nothing changes) otherwise. kNotFound if there is no such backfill.
  virtual Result<bool> UpdateBackfill(const BackfillRecord& backfill,
                                      const std::vector<BackfillStatus>& if_status) = 0;
  // How many runs of the backfill (tags.backfill) are in each status.
  virtual Result<std::map<RunStatus, int64_t>> BackfillRunCounts(
      const std::string& backfill_id) = 0;

  // The lease of the service serving this storage, if any (fresh or stale).
  virtual Result<std::optional<ServiceLease>> GetServiceLease() = 0;
  // Sets the lease to `lease` if the stored lease's owner is `expected_owner`
  // (nullopt: no lease stored); false otherwise. Compare-and-set, so two
  // services starting at once cannot both take it.
  virtual Result<bool> ReplaceServiceLease(const std::optional<std::string>& expected_owner,
                                           const ServiceLease& lease) = 0;
  // Moves the heartbeat of `owner`'s lease; false if `owner` lost the lease.
  virtual Result<bool> RenewServiceLease(const std::string& owner, TimePoint heartbeat_at) = 0;
  // Removes `owner`'s lease (a clean stop); no-op if another owns it.
  virtual Status ReleaseServiceLease(const std::string& owner) = 0;
};

}  // namespace arbiter::storage
