#include "arbiter/storage/migrations.h"

namespace arbiter::storage {

const std::vector<Migration>& SqliteMigrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "runs, events, materializations, partition status, placement and cost", R"sql(
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY,
  asset_key TEXT NOT NULL,
  partition_key TEXT,
  runtime TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  ended_at INTEGER,
  attempt INTEGER NOT NULL DEFAULT 0,
  failure_reason TEXT NOT NULL DEFAULT '',
  stderr_tail TEXT NOT NULL DEFAULT '',
  pid INTEGER,
  process_start_ticks INTEGER,
  external_id TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT '{}',
  seq INTEGER NOT NULL              -- creation order, for stable newest-first paging
);
CREATE UNIQUE INDEX runs_by_seq ON runs(seq);
CREATE INDEX runs_by_asset ON runs(asset_key, seq);
CREATE INDEX runs_by_status ON runs(status, seq);
CREATE INDEX runs_by_partition ON runs(asset_key, partition_key, seq);

CREATE TABLE run_events (
  run_id TEXT NOT NULL REFERENCES runs(run_id),
  seq INTEGER NOT NULL,
  timestamp_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  level TEXT NOT NULL DEFAULT '',
  message TEXT NOT NULL DEFAULT '',
  data TEXT,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE run_event_counters (
  run_id TEXT PRIMARY KEY REFERENCES runs(run_id),
  last_seq INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE materializations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  asset_key TEXT NOT NULL,
  partition_key TEXT,
  run_id TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  data_version TEXT,
  metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX materializations_latest ON materializations(asset_key, partition_key, id);

CREATE TABLE partition_status (
  asset_key TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  materialized BLOB NOT NULL,
  failed BLOB NOT NULL,
  in_progress BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE placement_decisions (
  run_id TEXT PRIMARY KEY,
  decided_at INTEGER NOT NULL,
  policy TEXT NOT NULL,
  chosen_runtime TEXT NOT NULL,
  candidates TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE cost_records (
  run_id TEXT PRIMARY KEY,
  runtime TEXT NOT NULL,
  predicted_usd REAL,
  actual_usd REAL,
  usage TEXT NOT NULL,
  counterfactuals TEXT NOT NULL,
  recorded_at INTEGER NOT NULL
) WITHOUT ROWID;
)sql"},
      // v2: the launcher follows runs across arbiter restarts. `owner` names the
      // arbiter process following a run ("pid:start_ticks"); `reader_cursor`
      // is where its readers were (byte offsets), committed with the events.
      {2, "run owner and reader cursor", R"sql(
ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN reader_cursor TEXT NOT NULL DEFAULT '{}';
CREATE INDEX materializations_by_run ON materializations(run_id);
)sql"},
      // v3: `arbiter serve` (issue 18). Runs gain queue fields; the service
      // records each schedule tick once, keeps backfills as objects and holds
      // a single-row lease so only one service serves a storage.
      {3, "service: run queue fields, schedule ticks, backfills, service lease", R"sql(
ALTER TABLE runs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN not_before INTEGER;  -- unix seconds; NULL: may start now
ALTER TABLE runs ADD COLUMN failure_kind TEXT NOT NULL DEFAULT '';
-- The queue reads QUEUED runs highest priority first, then oldest first.
CREATE INDEX runs_queue ON runs(status, priority DESC, seq);
-- BackfillRunCounts; the expression must match the query's to the letter.
CREATE INDEX runs_by_backfill ON runs(json_extract(tags, '$.backfill'), status)
  WHERE json_extract(tags, '$.backfill') IS NOT NULL;

CREATE TABLE schedule_ticks (
  schedule TEXT NOT NULL,
  tick_at INTEGER NOT NULL,
  recorded_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '',
  run_ids TEXT NOT NULL DEFAULT '[]',  -- JSON array of run ids
  PRIMARY KEY (schedule, tick_at)
) WITHOUT ROWID;

CREATE TABLE backfills (
  backfill_id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  assets TEXT NOT NULL,                 -- JSON array, upstream first
  partitions_fingerprint TEXT NOT NULL,
  partitions BLOB NOT NULL,             -- PartitionSet::Encode
  -- JSON object: asset key -> [[begin, end], ...], the set's half-open index
  -- ranges in order; readable with sqlite3 and json_each when debugging.
  launched TEXT NOT NULL DEFAULT '{}',
  runtime TEXT NOT NULL DEFAULT '',
  options TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '',
  seq INTEGER NOT NULL                  -- creation order, for newest-first listing
);
CREATE UNIQUE INDEX backfills_by_seq ON backfills(seq);
CREATE INDEX backfills_by_status ON backfills(status, seq);

CREATE TABLE service_lease (
  id INTEGER PRIMARY KEY CHECK (id = 1),  -- at most one row: one service per storage
  owner TEXT NOT NULL,
  host TEXT NOT NULL DEFAULT '',
  listen TEXT NOT NULL DEFAULT '',
  started_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL
);
)sql"},
  };
  return kMigrations;
}

Result<int> SchemaVersion(SqliteDb& db) {
  ARBITER_RETURN_IF_ERROR(
      db.Exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
  ARBITER_ASSIGN_OR_RETURN(Statement q, db.Prepare("SELECT MAX(version) FROM schema_version"));
  ARBITER_ASSIGN_OR_RETURN(bool row, q.Step());
  return row && !q.IsNull(0) ? static_cast<int>(q.Int(0)) : 0;
}

Result<int> Migrate(SqliteDb& db, const std::vector<Migration>& migrations) {
  ARBITER_ASSIGN_OR_RETURN(int before, SchemaVersion(db));
  int latest = migrations.empty() ? 0 : migrations.back().version;
  if (before > latest) {
    return FailedPreconditionError("database " + db.path() + " has schema version " +
                                   std::to_string(before) + ", newer than this arbiter supports (" +
                                   std::to_string(latest) +
                                   "); upgrade arbiter, or point --storage at another database");
  }
  for (const Migration& m : migrations) {
    if (m.version <= before) continue;
    Status s = db.Transaction([&]() -> Status {
      // Re-check inside the write lock: another process may have migrated.
      ARBITER_ASSIGN_OR_RETURN(int current, SchemaVersion(db));
      if (current >= m.version) return Status::Ok();
      ARBITER_RETURN_IF_ERROR(db.Exec(m.sql));
      ARBITER_ASSIGN_OR_RETURN(Statement ins,
                               db.Prepare("INSERT INTO schema_version(version) VALUES (?)"));
      ins.Bind(1, static_cast<int64_t>(m.version));
      return ins.Run();
    });
    if (!s.ok()) {
      return s.WithContext("migrating " + db.path() + " to schema version " +
                           std::to_string(m.version) + " (" + m.description + ")");
    }
  }
  return before;
}

}  // namespace arbiter::storage
