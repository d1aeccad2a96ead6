// What storage keeps: runs, their events, materializations, partition status,
// placement decisions and cost records. Plain values; safe to copy between
// threads.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/clock.h"
#include "arbiter/definitions/partitions/partition_set.h"

namespace arbiter::storage {

enum class RunStatus { kQueued, kStarting, kRunning, kSuccess, kFailure, kCanceling, kCanceled };

std::string_view RunStatusName(RunStatus s);  // "QUEUED", ...
std::optional<RunStatus> ParseRunStatus(std::string_view name);
bool IsTerminal(RunStatus s);  // SUCCESS, FAILURE, CANCELED

struct RunRecord {
  std::string run_id;
  std::string asset_key;
  std::optional<std::string> partition_key;  // nullopt: unpartitioned asset
  std::string runtime;                       // runtime name from arbiter.yaml
  RunStatus status = RunStatus::kQueued;
  TimePoint created_at{};
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> ended_at;
  int attempt = 0;
  std::string failure_reason;
  std::string stderr_tail;
  // Local runtime: the process group leader and its start time (boot ticks), so
  // a restarted arbiter can tell its own process from a reused pid.
  std::optional<int64_t> pid;
  std::optional<int64_t> process_start_ticks;
  std::string external_id;  // platform run id (Databricks run, EMR cluster/step)
  nlohmann::json tags = nlohmann::json::object();
  // The arbiter process following the run ("pid:start_ticks"); a restarted
  // arbiter re-attaches only runs whose owner is gone.
  std::string owner;
  // Where the run's readers were when its last events were stored (JSON,
  // runtime-specific); stored atomically with those events.
  nlohmann::json reader_cursor = nlohmann::json::object();
  // The service's queue: higher priority starts first; a retry waits until
  // not_before (its backoff).
  int priority = 0;
  std::optional<TimePoint> not_before;
  // Why a FAILURE happened, for retries: "user" (the job's code or its
  // input), "system" (platform, capacity, orchestrator); empty otherwise.
  std::string failure_kind;
};

// The owner of a QUEUED run that waits for `arbiter serve` to launch it (no
// process follows it yet, and no other arbiter may take it as orphaned).
inline constexpr const char* kQueueOwner = "queue";

// One event of a run, in order. `seq` is assigned by storage, from 1.
struct RunEvent {
  int64_t seq = 0;
  int64_t timestamp_ms = 0;  // Unix epoch milliseconds
  std::string kind;          // "log", "stdout", "stderr", "status", "materialization", ...
  std::string level;         // for logs: debug, info, warning, error
  std::string message;
  nlohmann::json data;  // structured payload (pipes params, metadata); null if none
};

struct Materialization {
  int64_t id = 0;
  std::string asset_key;
  std::optional<std::string> partition_key;
  std::string run_id;
  TimePoint timestamp{};
  std::optional<std::string> data_version;
  nlohmann::json metadata = nlohmann::json::object();
};

// Partition states are disjoint; "missing" is every index in no set.
enum class PartitionState { kMaterialized, kFailed, kInProgress };
std::string_view PartitionStateName(PartitionState s);

struct PartitionStatus {
  // Identifies the partitions definition the indices refer to. When the
  // definition changes (a new start date, a reordered key list), indices
  // shift, so stored sets with another fingerprint are not used.
  std::string fingerprint;
  definitions::PartitionSet materialized;
  definitions::PartitionSet failed;
  definitions::PartitionSet in_progress;
};

// What a launcher stores while following a run, in one transaction: events,
// the materializations they report, and the readers' new cursor.
struct RunOutput {
  std::vector<RunEvent> events;
  std::vector<Materialization> materializations;
  std::optional<nlohmann::json> reader_cursor;
};

struct RunFilter {
  std::optional<std::string> asset_key;
  std::optional<RunStatus> status;
  int limit = 50;
  // Paging: only runs created before this run (newest first).
  std::optional<std::string> before_run_id;
};

struct PlacementDecision {
  std::string run_id;
  TimePoint decided_at{};
  std::string policy;  // e.g. "cheapest"
  std::string chosen_runtime;
  nlohmann::json candidates = nlohmann::json::array();  // every candidate and its prediction
};

struct CostRecord {
  std::string run_id;
  std::string runtime;
  std::optional<double> predicted_usd;
  std::optional<double> actual_usd;
  nlohmann::json usage = nlohmann::json::object();            // platform-reported resources
  nlohmann::json counterfactuals = nlohmann::json::object();  // runtime -> estimated $
  TimePoint recorded_at{};
};

// What the cost engine learns from and reports on: finished runs with the
// metadata their newest materialization reported and their cost record.
struct RunHistoryFilter {
  std::optional<std::string> asset_key;
  std::optional<RunStatus> status;        // e.g. SUCCESS for prediction
  std::optional<TimePoint> created_since;  // inclusive
  int limit = 100000;                      // newest first
};

struct RunHistoryEntry {
  RunRecord run;
  nlohmann::json metadata = nlohmann::json::object();  // newest materialization of the run
  std::optional<CostRecord> cost;
};

}  // namespace arbiter::storage

namespace arbiter::storage {

// One instant of a schedule, recorded once: the (schedule, tick_at) pair is
// unique, so a restarted service never fires a tick twice.
struct ScheduleTick {
  std::string schedule;
  TimePoint tick_at{};      // the cron instant
  TimePoint recorded_at{};  // when the service handled it
  // "launched" (runs queued), "skipped" (catch-up policy, nothing missing,
  // disabled) or "failed" (planning failed; `message` says why).
  std::string status;
  std::string message;
  std::vector<std::string> run_ids;
};

enum class BackfillStatus { kRunning, kPaused, kCanceled, kCompleted };
std::string_view BackfillStatusName(BackfillStatus s);  // "RUNNING", ...
std::optional<BackfillStatus> ParseBackfillStatus(std::string_view name);

// A backfill as an object: the partitions it covers are index ranges of the
// assets' (shared) partitions definition, not one row per partition, and runs
// are created from it as slots free. `launched` records, per asset, which
// partitions already have a run, so the service resumes where it stopped.
struct BackfillRecord {
  std::string backfill_id;
  TimePoint created_at{};
  TimePoint updated_at{};
  std::vector<std::string> assets;  // dependency order: upstream first
  std::string partitions_fingerprint;
  definitions::PartitionSet partitions;
  std::map<std::string, definitions::PartitionSet> launched;  // by asset key
  std::string runtime;        // empty: automatic placement
  nlohmann::json options = nlohmann::json::object();  // explore, priority, ...
  BackfillStatus status = BackfillStatus::kRunning;
  std::string message;  // why it was canceled, what it is waiting for
};

// The one `arbiter serve` serving a storage. A second one refuses while the
// lease is held by a live service; `materialize` submits to the queue when
// a fresh lease exists.
struct ServiceLease {
  std::string owner;  // "pid:start_ticks"
  std::string host;   // hostname of the serving machine
  std::string listen; // address the HTTP API listens on (may be empty)
  TimePoint started_at{};
  TimePoint heartbeat_at{};
};

}  // namespace arbiter::storage
