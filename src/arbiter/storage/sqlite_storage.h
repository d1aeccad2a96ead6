// SqliteStorage: the embedded Storage backend (default `.arbiter/arbiter.db`
// in the project). One connection per process, serialized by a mutex; WAL
// journaling and a busy timeout let several arbiter processes share the file.
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "arbiter/storage/sqlite_db.h"
#include "arbiter/storage/storage.h"

namespace arbiter::storage {

class SqliteStorage final : public Storage {
 public:
  // Opens or creates the database at `path` (parent directories are created)
  // and migrates it to the current schema. ":memory:" gives a private
  // in-memory database (tests).
  static Result<std::unique_ptr<SqliteStorage>> Open(const std::string& path);

  Status CreateRun(const RunRecord& run) override;
  Result<std::optional<RunRecord>> CreateRunUnlessClaimed(const RunRecord& run) override;
  Result<RunRecord> GetRun(const std::string& run_id) override;
  Result<std::vector<RunRecord>> ListRuns(const RunFilter& filter) override;
  Result<bool> TransitionRun(const std::string& run_id, const std::vector<RunStatus>& from,
                             RunStatus to, const RunUpdate& update) override;
  Result<std::vector<RunRecord>> ActiveRuns() override;

  Result<int64_t> AppendEvents(const std::string& run_id, std::vector<RunEvent>* events) override;
  Result<int64_t> AppendRunOutput(const std::string& run_id, RunOutput* output) override;
  Result<std::vector<RunEvent>> ReadEvents(const std::string& run_id, int64_t after_seq,
                                           int limit) override;

  Status RecordMaterialization(Materialization* m) override;
  Result<std::optional<Materialization>> LatestMaterialization(
      const std::string& asset_key, const std::optional<std::string>& partition_key) override;
  Result<std::vector<Materialization>> MaterializationHistory(
      const std::string& asset_key, const std::optional<std::string>& partition_key,
      int limit) override;
  Result<std::vector<std::string>> MaterializedPartitionKeys(const std::string& asset_key) override;
  Result<std::vector<std::pair<std::string, RunStatus>>> LatestRunStatusByPartition(
      const std::string& asset_key) override;

  Result<PartitionStatus> GetPartitionStatus(const std::string& asset_key) override;
  Status SetPartitionState(const std::string& asset_key, const std::string& fingerprint,
                           const definitions::PartitionSet& indices, PartitionState state) override;
  Status ClearPartitionState(const std::string& asset_key, const std::string& fingerprint,
                             const definitions::PartitionSet& indices) override;
  Status ReplacePartitionStatus(const std::string& asset_key,
                                const PartitionStatus& status) override;

  Status PutPlacementDecision(const PlacementDecision& d) override;
  Result<std::optional<PlacementDecision>> GetPlacementDecision(const std::string& run_id) override;
  Status PutCostRecord(const CostRecord& c) override;
  Result<std::optional<CostRecord>> GetCostRecord(const std::string& run_id) override;
  Result<std::vector<RunHistoryEntry>> RunHistory(const RunHistoryFilter& filter) override;
  Status ForEachRunHistory(const RunHistoryFilter& filter,
                           const std::function<void(const RunHistoryEntry&)>& fn) override;

  Result<bool> RecordScheduleTick(const ScheduleTick& tick) override;
  Result<std::optional<ScheduleTick>> LastScheduleTick(const std::string& schedule) override;
  Result<std::vector<ScheduleTick>> ScheduleTicks(const std::string& schedule, int limit) override;

  Status CreateBackfill(const BackfillRecord& backfill) override;
  Result<BackfillRecord> GetBackfill(const std::string& backfill_id) override;
  Result<std::vector<BackfillRecord>> ListBackfills(bool active_only, int limit) override;
  Result<bool> UpdateBackfill(const BackfillRecord& backfill,
                              const std::vector<BackfillStatus>& if_status) override;
  Result<std::map<RunStatus, int64_t>> BackfillRunCounts(const std::string& backfill_id) override;

  Result<std::optional<ServiceLease>> GetServiceLease() override;
  Result<bool> ReplaceServiceLease(const std::optional<std::string>& expected_owner,
                                   const ServiceLease& lease) override;
  Result<bool> RenewServiceLease(const std::string& owner, TimePoint heartbeat_at) override;
  Status ReleaseServiceLease(const std::string& owner) override;

 private:
  explicit SqliteStorage(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  Status CreateRunLocked(const RunRecord& run);
  Result<int64_t> AppendEventsLocked(const std::string& run_id, std::vector<RunEvent>* events);
  Result<Statement> PrepareMaterializationInsert();
  Status RecordMaterializationLocked(Materialization* m, Statement& q);
  Result<PartitionStatus> LoadStatusLocked(const std::string& asset_key);
  Status WriteStatusLocked(const std::string& asset_key, const PartitionStatus& status);
  Status UpdateStatus(const std::string& asset_key, const std::string& fingerprint,
                      const definitions::PartitionSet& indices,
                      std::optional<PartitionState> state);

  std::mutex mu_;
  std::unique_ptr<SqliteDb> db_;  // guarded by mu_
};

}  // namespace arbiter::storage
