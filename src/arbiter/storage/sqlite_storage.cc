#include "arbiter/storage/sqlite_storage.h"

#include <algorithm>
#include <filesystem>

#include "arbiter/storage/migrations.h"

namespace arbiter::storage {
namespace {

using definitions::PartitionSet;

constexpr const char* kRunColumns =
    "run_id, asset_key, partition_key, runtime, status, created_at, started_at, ended_at, "
    "attempt, failure_reason, stderr_tail, pid, process_start_ticks, external_id, tags, owner, "
    "reader_cursor, priority, not_before, failure_kind";

int64_t Seconds(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint FromSeconds(int64_t s) { return TimePoint(std::chrono::seconds(s)); }
std::optional<int64_t> OptSeconds(const std::optional<TimePoint>& t) {
  if (!t) return std::nullopt;
  return Seconds(*t);
}
std::optional<TimePoint> OptTime(const std::optional<int64_t>& s) {
  if (!s) return std::nullopt;
  return FromSeconds(*s);
}

// kRunColumns, qualified for a query that joins runs as `r`.
constexpr const char* kRunColumnsOfR =
    "r.run_id, r.asset_key, r.partition_key, r.runtime, r.status, r.created_at, r.started_at, "
    "r.ended_at, r.attempt, r.failure_reason, r.stderr_tail, r.pid, r.process_start_ticks, "
    "r.external_id, r.tags, r.owner, r.reader_cursor, r.priority, r.not_before, r.failure_kind";

constexpr int ColumnCount(std::string_view columns) {
  return static_cast<int>(std::count(columns.begin(), columns.end(), ',')) + 1;
}
// Where a query's own columns start after kRunColumns (RunHistory).
constexpr int kRunColumnCount = ColumnCount(kRunColumns);
static_assert(ColumnCount(kRunColumnsOfR) == kRunColumnCount);

// JSON stored by us; unparseable text means the database was edited by hand.
nlohmann::json ParseJson(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? nlohmann::json(text) : j;
}

Result<RunRecord> ReadRun(const Statement& q) {
  RunRecord r;
  r.run_id = q.Text(0);
  r.asset_key = q.Text(1);
  r.partition_key = q.OptText(2);
  r.runtime = q.Text(3);
  std::optional<RunStatus> status = ParseRunStatus(q.Text(4));
  if (!status) return InternalError("run " + r.run_id + " has unknown status " + q.Text(4));
  r.status = *status;
  r.created_at = FromSeconds(q.Int(5));
  r.started_at = OptTime(q.OptInt(6));
  r.ended_at = OptTime(q.OptInt(7));
  r.attempt = static_cast<int>(q.Int(8));
  r.failure_reason = q.Text(9);
  r.stderr_tail = q.Text(10);
  r.pid = q.OptInt(11);
  r.process_start_ticks = q.OptInt(12);
  r.external_id = q.Text(13);
  r.tags = ParseJson(q.Text(14));
  r.owner = q.Text(15);
  r.reader_cursor = ParseJson(q.Text(16));
  r.priority = static_cast<int>(q.Int(17));
  r.not_before = OptTime(q.OptInt(18));
  r.failure_kind = q.Text(19);
  return r;
}

// Every row of `q`, each read by `read`.
template <typename T>
Result<std::vector<T>> ReadRows(Statement& q, Result<T> (*read)(const Statement&)) {
  std::vector<T> out;
  while (true) {
    ARBITER_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    ARBITER_ASSIGN_OR_RETURN(T r, read(q));
    out.push_back(std::move(r));
  }
  return out;
}

// Every row of a query over kRunColumns.
Result<std::vector<RunRecord>> ReadRuns(Statement& q) { return ReadRows(q, ReadRun); }

// The first of `rows`, if any (the newest, for newest-first queries).
template <typename T>
std::optional<T> FirstOf(std::vector<T> rows) {
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

// 'A','B' for `status IN (...)`: the names are our enums', never input. An
// empty list gives '', which matches nothing.
template <typename E>
std::string QuotedNames(const std::vector<E>& values, std::string_view (*name)(E)) {
  std::string in;
  for (E v : values) in += (in.empty() ? "'" : ",'") + std::string(name(v)) + "'";
  return in.empty() ? "''" : in;
}

// The row keyed `id` (parameter 1 of `sql`), read by `read`; kNotFound naming
// `what` if there is none.
template <typename T>
Result<T> ReadById(SqliteDb& db, const std::string& sql, const std::string& id,
                   const std::string& what, Result<T> (*read)(const Statement&)) {
  ARBITER_ASSIGN_OR_RETURN(Statement q, db.Prepare(sql));
  q.Bind(1, id);
  ARBITER_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return NotFoundError("no " + what + " " + id);
  return read(q);
}

// An insert's constraint failure, said as `what` (e.g. "run r1") already existing.
Status AlreadyExistsAs(Status s, const std::string& what) {
  if (s.code() == StatusCode::kAlreadyExists) return AlreadyExistsError(what + " already exists");
  return s;
}

// After a compare-and-set UPDATE changed nothing: false if the row exists (it
// was in another state), kNotFound naming `what` if it does not.
Result<bool> LostOrNotFound(SqliteDb& db, const char* exists_sql, const std::string& id,
                            const std::string& what) {
  ARBITER_ASSIGN_OR_RETURN(Statement q, db.Prepare(exists_sql));
  q.Bind(1, id);
  ARBITER_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return NotFoundError("no " + what + " " + id);
  return false;
}

// A JSON array of strings we wrote (backfill assets, tick run ids).
Result<std::vector<std::string>> ReadStrings(const std::string& text, const std::string& where) {
  nlohmann::json j = ParseJson(text);
  if (!j.is_array()) return InternalError(where + " is not a JSON array: " + text);
  std::vector<std::string> out;
  for (const nlohmann::json& e : j) {
    if (!e.is_string()) return InternalError(where + " holds a non-string: " + e.dump());
    out.push_back(e.get<std::string>());
  }
  return out;
}

constexpr const char* kTickColumns = "schedule, tick_at, recorded_at, status, message, run_ids";

Result<ScheduleTick> ReadTick(const Statement& q) {
  ScheduleTick t;
  t.schedule = q.Text(0);
  t.tick_at = FromSeconds(q.Int(1));
  t.recorded_at = FromSeconds(q.Int(2));
  t.status = q.Text(3);
  t.message = q.Text(4);
  ARBITER_ASSIGN_OR_RETURN(t.run_ids,
                           ReadStrings(q.Text(5), "run ids of schedule " + t.schedule + " tick " +
                                                      std::to_string(q.Int(1))));
  return t;
}

// Parameters ?1 to ?11 of a backfill statement, in this order.
constexpr const char* kBackfillColumns =
    "backfill_id, created_at, updated_at, assets, partitions_fingerprint, partitions, launched, "
    "runtime, options, status, message";

// `launched` is stored as {"asset": [[begin, end], ...]}: each set's ranges as
// JSON, so the column stays readable in sqlite3 (see migration 3).
std::string EncodeLaunched(const std::map<std::string, PartitionSet>& launched) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [asset, set] : launched) {
    nlohmann::json ranges = nlohmann::json::array();
    for (const definitions::IndexRange& r : set.ranges()) {
      ranges.push_back(nlohmann::json::array({r.begin, r.end}));
    }
    out[asset] = std::move(ranges);
  }
  return out.dump();
}

Result<std::map<std::string, PartitionSet>> DecodeLaunched(const std::string& text,
                                                           const std::string& backfill_id) {
  auto corrupt = [&](const std::string& why) {
    return InternalError("launched partitions of backfill " + backfill_id + " are corrupt: " + why);
  };
  nlohmann::json j = ParseJson(text);
  if (!j.is_object()) return corrupt("not a JSON object: " + text);
  std::map<std::string, PartitionSet> out;
  for (const auto& [asset, ranges] : j.items()) {
    if (!ranges.is_array()) return corrupt(asset + " is not a list of ranges");
    PartitionSet& set = out[asset];
    for (const nlohmann::json& r : ranges) {
      if (!r.is_array() || r.size() != 2 || !r[0].is_number_integer() ||
          !r[1].is_number_integer() || r[0].get<int64_t>() >= r[1].get<int64_t>()) {
        return corrupt(asset + " has the range " + r.dump());
      }
      set.AddRange(r[0].get<int64_t>(), r[1].get<int64_t>());
    }
  }
  return out;
}

void BindBackfill(Statement& q, const BackfillRecord& b) {
  q.Bind(1, b.backfill_id)
      .Bind(2, Seconds(b.created_at))
      .Bind(3, Seconds(b.updated_at))
      .Bind(4, nlohmann::json(b.assets).dump())
      .Bind(5, b.partitions_fingerprint)
      .BindBlob(6, b.partitions.Encode())
      .Bind(7, EncodeLaunched(b.launched))
      .Bind(8, b.runtime)
      .Bind(9, b.options.dump())
      .Bind(10, BackfillStatusName(b.status))
      .Bind(11, b.message);
}

Result<BackfillRecord> ReadBackfill(const Statement& q) {
  BackfillRecord b;
  b.backfill_id = q.Text(0);
  b.created_at = FromSeconds(q.Int(1));
  b.updated_at = FromSeconds(q.Int(2));
  ARBITER_ASSIGN_OR_RETURN(b.assets, ReadStrings(q.Text(3), "assets of backfill " + b.backfill_id));
  b.partitions_fingerprint = q.Text(4);
  Result<PartitionSet> partitions = PartitionSet::Decode(q.Text(5));
  if (!partitions.ok()) {
    return InternalError("partitions of backfill " + b.backfill_id +
                         " are corrupt: " + partitions.status().message());
  }
  b.partitions = std::move(partitions).value();
  ARBITER_ASSIGN_OR_RETURN(b.launched, DecodeLaunched(q.Text(6), b.backfill_id));
  b.runtime = q.Text(7);
  b.options = ParseJson(q.Text(8));
  std::optional<BackfillStatus> status = ParseBackfillStatus(q.Text(9));
  if (!status) {
    return InternalError("backfill " + b.backfill_id + " has unknown status " + q.Text(9));
  }
  b.status = *status;
  b.message = q.Text(10);
  return b;
}

constexpr const char* kLeaseColumns = "owner, host, listen, started_at, heartbeat_at";

// Parameters ?1 to ?5, in kLeaseColumns order.
void BindLease(Statement& q, const ServiceLease& l) {
  q.Bind(1, l.owner)
      .Bind(2, l.host)
      .Bind(3, l.listen)
      .Bind(4, Seconds(l.started_at))
      .Bind(5, Seconds(l.heartbeat_at));
}

Materialization ReadMaterialization(const Statement& q) {
  Materialization m;
  m.id = q.Int(0);
  m.asset_key = q.Text(1);
  m.partition_key = q.OptText(2);
  m.run_id = q.Text(3);
  m.timestamp = FromSeconds(q.Int(4));
  m.data_version = q.OptText(5);
  m.metadata = ParseJson(q.Text(6));
  return m;
}

}  // namespace

Result<std::unique_ptr<SqliteStorage>> SqliteStorage::Open(const std::string& path) {
  if (path != ":memory:") {
    std::error_code ec;
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) {
      return FailedPreconditionError("cannot create directory " + parent.string() + ": " +
                                     ec.message());
    }
  }
  ARBITER_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path));
  ARBITER_RETURN_IF_ERROR(Migrate(*db, SqliteMigrations()).status());
  return std::unique_ptr<SqliteStorage>(new SqliteStorage(std::move(db)));
}

Status SqliteStorage::CreateRun(const RunRecord& run) {
  std::lock_guard lock(mu_);
  return CreateRunLocked(run);
}

Result<std::optional<RunRecord>> SqliteStorage::CreateRunUnlessClaimed(const RunRecord& run) {
  std::lock_guard lock(mu_);
  std::optional<RunRecord> holder;
  // BEGIN IMMEDIATE takes the write lock before the lookup, so two processes
  // cannot both see the partition free and both insert.
  Status s = db_->Transaction([&]() -> Status {
    ARBITER_ASSIGN_OR_RETURN(
        Statement q, db_->Prepare(std::string("SELECT ") + kRunColumns +
                                  " FROM runs WHERE asset_key=?1 AND partition_key IS ?2 AND "
                                  "status IN ('QUEUED','STARTING','RUNNING','CANCELING') "
                                  "ORDER BY seq LIMIT 1"));
    q.Bind(1, run.asset_key).BindOpt(2, run.partition_key);
    ARBITER_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) {
      ARBITER_ASSIGN_OR_RETURN(RunRecord r, ReadRun(q));
      holder = std::move(r);
      return Status::Ok();
    }
    return CreateRunLocked(run);
  });
  if (!s.ok()) return s;
  return holder;
}

Status SqliteStorage::CreateRunLocked(const RunRecord& run) {
  ARBITER_ASSIGN_OR_RETURN(Statement q,
                           db_->Prepare(std::string("INSERT INTO runs (") + kRunColumns +
                                        ", seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?, "
                                        "(SELECT COALESCE(MAX(seq), 0) + 1 FROM runs))"));
  q.Bind(1, run.run_id)
      .Bind(2, run.asset_key)
      .BindOpt(3, run.partition_key)
      .Bind(4, run.runtime)
      .Bind(5, RunStatusName(run.status))
      .Bind(6, Seconds(run.created_at))
      .BindOpt(7, OptSeconds(run.started_at))
      .BindOpt(8, OptSeconds(run.ended_at))
      .Bind(9, static_cast<int64_t>(run.attempt))
      .Bind(10, run.failure_reason)
      .Bind(11, run.stderr_tail)
      .BindOpt(12, run.pid)
      .BindOpt(13, run.process_start_ticks)
      .Bind(14, run.external_id)
      .Bind(15, run.tags.dump())
      .Bind(16, run.owner)
      .Bind(17, run.reader_cursor.dump())
      .Bind(18, static_cast<int64_t>(run.priority))
      .BindOpt(19, OptSeconds(run.not_before))
      .Bind(20, run.failure_kind);
  return AlreadyExistsAs(q.Run(), "run " + run.run_id);
}

Result<RunRecord> SqliteStorage::GetRun(const std::string& run_id) {
  std::lock_guard lock(mu_);
  return ReadById(*db_, std::string("SELECT ") + kRunColumns + " FROM runs WHERE run_id=?", run_id,
                  "run", ReadRun);
}

Result<std::vector<RunRecord>> SqliteStorage::ListRuns(const RunFilter& filter) {
  std::lock_guard lock(mu_);
  std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE 1=1";
  if (filter.asset_key) sql += " AND asset_key=?1";
  if (filter.status) sql += " AND status=?2";
  if (filter.before_run_id) sql += " AND seq < (SELECT seq FROM runs WHERE run_id=?3)";
  sql += " ORDER BY seq DESC LIMIT ?4";
  ARBITER_ASSIGN_OR_RETURN(Statement q, db_->Prepare(sql));
  if (filter.asset_key) q.Bind(1, *filter.asset_key);
  if (filter.status) q.Bind(2, RunStatusName(*filter.status));
  if (filter.before_run_id) q.Bind(3, *filter.before_run_id);
  q.Bind(4, static_cast<int64_t>(filter.limit));
  return ReadRuns(q);
}

Result<bool> SqliteStorage::TransitionRun(const std::string& run_id,
                                          const std::vector<RunStatus>& from, RunStatus to,
                                          const RunUpdate& u) {
  std::lock_guard lock(mu_);
  ARBITER_ASSIGN_OR_RETURN(
      Statement q,
      db_->Prepare("UPDATE runs SET status=?1, started_at=COALESCE(?2, started_at), "
                   "ended_at=COALESCE(?3, ended_at), failure_reason=COALESCE(?4, failure_reason), "
                   "stderr_tail=COALESCE(?5, stderr_tail), pid=COALESCE(?6, pid), "
                   "process_start_ticks=COALESCE(?7, process_start_ticks), "
                   "external_id=COALESCE(?8, external_id), owner=COALESCE(?10, owner), "
                   "failure_kind=COALESCE(?13, failure_kind) "
                   "WHERE run_id=?9 AND (?11 IS NULL OR owner=?11) AND (?12 IS NULL OR "
                   "(SELECT COUNT(*) FROM runs AS o WHERE o.runtime=runs.runtime AND "
                   "o.status IN ('STARTING','RUNNING','CANCELING')) < ?12) AND status IN (" +
                   QuotedNames(from, RunStatusName) + ")"));
  q.Bind(1, RunStatusName(to))
      .BindOpt(2, OptSeconds(u.started_at))
      .BindOpt(3, OptSeconds(u.ended_at))
      .BindOpt(4, u.failure_reason)
      .BindOpt(5, u.stderr_tail)
      .BindOpt(6, u.pid)
      .BindOpt(7, u.process_start_ticks)
      .BindOpt(8, u.external_id)
      .Bind(9, run_id)
      .BindOpt(10, u.owner)
      .BindOpt(11, u.if_owner)
      .BindOpt(12, u.if_runtime_below ? std::optional<int64_t>(*u.if_runtime_below) : std::nullopt)
      .BindOpt(13, u.failure_kind);
  // One UPDATE statement holds the write lock from its start, so the count
  // and the change are one atomic step across processes.
  ARBITER_RETURN_IF_ERROR(q.Run());
  if (db_->Changes() > 0) return true;
  return LostOrNotFound(*db_, "SELECT 1 FROM runs WHERE run_id=?", run_id, "run");
}

Result<std::vector<RunRecord>> SqliteStorage::ActiveRuns() {
  std::lock_guard lock(mu_);
  ARBITER_ASSIGN_OR_RETURN(
      Statement q, db_->Prepare(std::string("SELECT ") + kRunColumns +
                                " FROM runs WHERE status NOT IN ('SUCCESS','FAILURE','CANCELED') "
                                "ORDER BY seq"));
  return ReadRuns(q);
}

Result<int64_t> SqliteStorage::AppendEvents(const std::string& run_id,
                                            std::vector<RunEvent>* events) {
  std::lock_guard lock(mu_);
  int64_t last = 0;
  Status s = db_->Transaction([&]() -> Status {
    ARBITER_ASSIGN_OR_RETURN(last, AppendEventsLocked(run_id, events));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return last;
}

Result<int64_t> SqliteStorage::AppendRunOutput(const std::string& run_id, RunOutput* output) {
  std::lock_guard lock(mu_);
  int64_t last = 0;
  Status s = db_->Transaction([&]() -> Status {
    ARBITER_ASSIGN_OR_RETURN(last, AppendEventsLocked(run_id, &output->events));
    if (!output->materializations.empty()) {
      ARBITER_ASSIGN_OR_RETURN(Statement q, PrepareMaterializationInsert());
      for (Materialization& m : output->materializations) {
        ARBITER_RETURN_IF_ERROR(RecordMaterializationLocked(&m, q));
      }
    }
    if (output->reader_cursor) {
      ARBITER_ASSIGN_OR_RETURN(Statement q,
                               db_->Prepare("UPDATE runs SET reader_cursor=? WHERE run_id=?"));
      q.Bind(1, output->reader_cursor->dump()).Bind(2, run_id);
      ARBITER_RETURN_IF_ERROR(q.Run());
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return last;
}

// Inside a transaction, with mu_ held.
Result<int64_t> SqliteStorage::AppendEventsLocked(const std::string& run_id,
                                                  std::vector<RunEvent>* events) {
  int64_t last = 0;
  ARBITER_ASSIGN_OR_RETURN(
      Statement q, db_->Prepare("SELECT (SELECT last_seq FROM run_event_counters WHERE run_id=?1), "
                                "EXISTS(SELECT 1 FROM runs WHERE run_id=?1)"));
  q.Bind(1, run_id);
  ARBITER_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row || q.Int(1) == 0) return NotFoundError("no run " + run_id);
  last = q.IsNull(0) ? 0 : q.Int(0);
  ARBITER_ASSIGN_OR_RETURN(Statement ins,
                           db_->Prepare("INSERT INTO run_events (run_id, seq, timestamp_ms, kind, "
                                        "level, message, data) VALUES (?,?,?,?,?,?,?)"));
  for (RunEvent& e : *events) {
    e.seq = ++last;
    ins.Bind(1, run_id)
        .Bind(2, e.seq)
        .Bind(3, e.timestamp_ms)
        .Bind(4, e.kind)
        .Bind(5, e.level)
        .Bind(6, e.message);
    if (e.data.is_null()) {
      ins.BindNull(7);
    } else {
      ins.Bind(7, e.data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    ARBITER_RETURN_IF_ERROR(ins.Run());
    ins.Reset();
  }
  ARBITER_ASSIGN_OR_RETURN(
      Statement up,
      db_->Prepare("INSERT INTO run_event_counters (run_id, last_seq) VALUES (?1, ?2) "
                   "ON CONFLICT(run_id) DO UPDATE SET last_seq=?2"));
  up.Bind(1, run_id).Bind(2, last);
  ARBITER_RETURN_IF_ERROR(up.Run());
  return last;
}

Result<std::vector<RunEvent>> SqliteStorage::ReadEvents(const std::string& run_id,
                                                        int64_t after_seq, int limit) {
  std::lock_guard lock(mu_);
  ARBITER_ASSIGN_OR_RETURN(
      Statement q, db_->Prepare("SELECT seq, timestamp_ms, kind, level, message, data FROM "
                                "run_events WHERE run_id=? AND seq>? ORDER BY seq LIMIT ?"));
  q.Bind(1, run_id).Bind(2, after_seq).Bind(3, static_cast<int64_t>(limit));
  std::vector<RunEvent> out;
  while (true) {
    ARBITER_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    RunEvent e;
    e.seq = q.Int(0);
    e.timestamp_ms = q.Int(1);
    e.kind = q.Text(2);
    e.level = q.Text(3);
    e.message = q.Text(4);
    if (!q.IsNull(5)) e.data = ParseJson(q.Text(5));
    out.push_back(std::move(e));
  }
  return out;
}

Status SqliteStorage::RecordMaterialization(Materialization* m) {
  std::lock_guard lock(mu_);
  ARBITER_ASSIGN_OR_RETURN(Statement q, PrepareMaterializationInsert());
  return RecordMaterializationLocked(m, q);
}

Result<Statement> SqliteStorage::PrepareMaterializationInsert() {
  return db_->Prepare(
      "INSERT INTO materializations (asset_key, partition_key, run_id, timestamp, data_version, "
      "metadata) VALUES (?,?,?,?,?,?) RETURNING id");
}

// `q` comes from PrepareMaterializationInsert; one statement serves a whole batch.
Status SqliteStorage::RecordMaterializationLocked(Materialization* m, Statement& q) {
  q.Bind(1, m->asset_key)
      .BindOpt(2, m->partition_key)
      .Bind(3, m->run_id)
      .Bind(4, Seconds(m->timestamp))
      .BindOpt(5, m->data_version)
      .Bind(6, m->metadata.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  ARBITER_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return InternalError("inserting a materialization returned no id");
  m->id = q.Int(0);
  q.Reset();
  return Status::Ok();
}

Result<std::optional<Materialization>> SqliteStorage::LatestMaterialization(
    const std::string& asset_key, const std::optional<std::string>& partition_key) {
  ARBITER_ASSIGN_OR_RETURN(std::vector<Materialization> v,
                           MaterializationHistory(asset_key, partition_key, 1));
  return FirstOf(std::move(v));
}

Result<std::vector<Materialization>> SqliteStorage::MaterializationHistory(
    const std::string& asset_key, const std::optional<std::string>& partition_key, int limit) {
  std::lock_guard lock(mu_);
  ARBITER_ASSIGN_OR_RETURN(
      Statement q,
      db_->Prepare("SELECT id, asset_key, partition_key, run_id, timestamp, data_version, metadata "
                   "FROM materializations WHERE asset_key=? AND partition_key IS ? "
                   "ORDER BY id DESC LIMIT ?"));
  q.Bind(1, asset_key).BindOpt(2, partition_key).Bind(3, static_cast<int64_t>(limit));
  std::vector<Materialization> out;
  while (true) {
    ARBITER_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(ReadMaterialization(q));
  }
  return out;
}

Result<std::vector<std::string>> SqliteStorage::MaterializedPartitionKeys(
    const std::string& asset_key) {
  std::lock_guard lock(mu_);
  ARBITER_ASSIGN_OR_RETURN(Statement q,
                           db_->Prepare("SELECT DISTINCT partition_key FROM materializations "
                                        "WHERE asset_key=? AND partition_key IS NOT NULL"));
  q.Bind(1, asset_key);
  std::vector<std::string> out;
  while (true) {
    ARBITER_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(q.Text(0));
  }
  return out;
}

Result<std::vector<std::pair<std::string, RunStatus>>> SqliteStorage::LatestRunStatusByPartition(
    const std::string& asset_key) {
  std::lock_guard lock(mu_);
  // SQLite returns the bare columns of the row holding MAX(seq).
  ARBITER_ASSIGN_OR_RETURN(Statement q,
                           db_->Prepare("SELECT partition_key, status, MAX(seq) FROM runs "
                                        "WHERE asset_key=? AND partition_key IS NOT NULL "
                                        "GROUP BY partition_key"));
  q.Bind(1, asset_key);
  std::vector<std::pair<std::string, RunStatus>> out;
  while (true) {
    ARBITER_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    std::optional<RunStatus> status = ParseRunStatus(q.Text(1));
    if (status) out.emplace_back(q.Text(0), *status);
  }
  return out;
}

Result<PartitionStatus> SqliteStorage::LoadStatusLocked(const std::string& asset_key) {
  ARBITER_ASSIGN_OR_RETURN(
      Statement q, db_->Prepare("SELECT fingerprint, materialized, failed, in_progress FROM "
                                "partition_status WHERE asset_key=?"));
  q.Bind(1, asset_key);
  PartitionStatus out;
  ARBITER_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return out;
  out.fingerprint = q.Text(0);
  PartitionSet* sets[] = {&out.materialized, &out.failed, &out.in_progress};
  for (int i = 0; i < 3; ++i) {
    Result<PartitionSet> s = PartitionSet::Decode(q.Text(i + 1));
    if (!s.ok()) {
      return InternalError("partition status of " + asset_key +
                           " is corrupt: " + s.status().message());
    }
    *sets[i] = std::move(s).value();
  }
  return out;
}

Status SqliteStorage::WriteStatusLocked(const std::string& asset_key,
                                        const PartitionStatus& status) {
  ARBITER_ASSIGN_OR_RETURN(
      Statement q, db_->Prepare("INSERT OR REPLACE INTO partition_status (asset_key, fingerprint, "
                                "materialized, failed, in_progress) VALUES (?,?,?,?,?)"));
  q.Bind(1, asset_key)
      .Bind(2, status.fingerprint)
      .BindBlob(3, status.materialized.Encode())
      .BindBlob(4, status.failed.Encode())
      .BindBlob(5, status.in_progress.Encode());
  return q.Run();
}

Result<PartitionStatus> SqliteStorage::GetPartitionStatus(const std::string& asset_key) {
  std::lock_guard lock(mu_);
  return LoadStatusLocked(asset_key);
}

Status SqliteStorage::UpdateStatus(const std::string& asset_key, const std::string& fingerprint,
                                   const PartitionSet& indices,
                                   std::optional<PartitionState> state) {
  std::lock_guard lock(mu_);
  return db_->Transaction([&]() -> Status {
    ARBITER_ASSIGN_OR_RETURN(PartitionStatus st, LoadStatusLocked(asset_key));
    if (st.fingerprint != fingerprint) st = PartitionStatus{fingerprint, {}, {}, {}};
    auto apply = [&](PartitionSet& set, PartitionState s) {
      set = (state == s) ? set.Union(indices) : set.Difference(indices);
    };
    apply(st.materialized, PartitionState::kMaterialized);
    apply(st.failed, PartitionState::kFailed);
    apply(st.in_progress, PartitionState::kInProgress);
    return WriteStatusLocked(asset_key, st);
  });
}

Status SqliteStorage::SetPartitionState(const std::string& asset_key,
                                        const std::string& fingerprint, const PartitionSet& indices,
                                        PartitionState state) {
  return UpdateStatus(asset_key, fingerprint, indices, state);
}

Status SqliteStorage::ClearPartitionState(const std::string& asset_key,
                                          const std::string& fingerprint,
                                          const PartitionSet& indices) {
  return UpdateStatus(asset_key, fingerprint, indices, std::nullopt);
}

Status SqliteStorage::ReplacePartitionStatus(const std::string& asset_key,
                                             const PartitionStatus& status) {
  std::lock_guard lock(mu_);
  return db_->Transaction([&] { return WriteStatusLocked(asset_key, status); });
}

Status SqliteStorage::PutPlacementDecision(const PlacementDecision& d) {
  std::lock_guard lock(mu_);
  ARBITER_ASSIGN_OR_RETURN(
      Statement q, db_->Prepare("INSERT OR REPLACE INTO placement_decisions (run_id, decided_at, "
                                "policy, chosen_runtime, candidates) VALUES (?,?,?,?,?)"));
  q.Bind(1, d.run_id)
      .Bind(2, Seconds(d.decided_at))
      .Bind(3, d.policy)
      .Bind(4, d.chosen_runtime)
      .Bind(5, d.candidates.dump());
  return q.Run();
}

Result<std::optional<PlacementDecision>> SqliteStorage::GetPlacementDecision(
    const std::string& run_id) {
  std::lock_guard lock(mu_);
  ARBITER_ASSIGN_OR_RETURN(
      Statement q, db_->Prepare("SELECT decided_at, policy, chosen_runtime, candidates FROM "
                                "placement_decisions WHERE run_id=?"));
  q.Bind(1, run_id);
  ARBITER_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<PlacementDecision>();
  PlacementDecision d{run_id, FromSeconds(q.Int(0)), q.Text(1), q.Text(2), ParseJson(q.Text(3))};
  return std::optional<PlacementDecision>(std::move(d));
}

Status SqliteStorage::PutCostRecord(const CostRecord& c) {
  std::lock_guard lock(mu_);
  ARBITER_ASSIGN_OR_RETURN(
      Statement q, db_->Prepare("INSERT OR REPLACE INTO cost_records (run_id, runtime, "
                                "predicted_usd, actual_usd, usage, counterfactuals, recorded_at) "
                                "VALUES (?,?,?,?,?,?,?)"));
  q.Bind(1, c.run_id).Bind(2, c.runtime);
  c.predicted_usd ? q.Bind(3, *c.predicted_usd) : q.BindNull(3);
  c.actual_usd ? q.Bind(4, *c.actual_usd) : q.BindNull(4);
  q.Bind(5, c.usage.dump()).Bind(6, c.counterfactuals.dump()).Bind(7, Seconds(c.recorded_at));
  return q.Run();
}

Result<std::optional<CostRecord>> SqliteStorage::GetCostRecord(const std::string& run_id) {
  std::lock_guard lock(mu_);
  ARBITER_ASSIGN_OR_RETURN(
      Statement q, db_->Prepare("SELECT runtime, predicted_usd, actual_usd, usage, "
                                "counterfactuals, recorded_at FROM cost_records WHERE run_id=?"));
  q.Bind(1, run_id);
  ARBITER_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<CostRecord>();
  CostRecord c;
  c.run_id = run_id;
  c.runtime = q.Text(0);
  if (!q.IsNull(1)) c.predicted_usd = q.Double(1);
  if (!q.IsNull(2)) c.actual_usd = q.Double(2);
  c.usage = ParseJson(q.Text(3));
  c.counterfactuals = ParseJson(q.Text(4));
  c.recorded_at = FromSeconds(q.Int(5));
  return std::optional<CostRecord>(std::move(c));
}

namespace {

// The newest `filter.limit` finished runs matching `filter` with their newest
// materialization's metadata and cost record, newest first; `hseq` orders them.
std::string RunHistorySql(const RunHistoryFilter& filter) {
  std::string sql =
      std::string("SELECT ") + kRunColumnsOfR +
      ", (SELECT metadata FROM materializations m WHERE m.run_id=r.run_id ORDER BY m.id DESC "
      "LIMIT 1), c.runtime, c.predicted_usd, c.actual_usd, c.usage, c.counterfactuals, "
      "c.recorded_at, r.seq AS hseq FROM runs r LEFT JOIN cost_records c ON c.run_id=r.run_id "
      "WHERE r.status IN ('SUCCESS','FAILURE','CANCELED')";
  if (filter.asset_key) sql += " AND r.asset_key=?1";
  if (filter.status) sql += " AND r.status=?2";
  if (filter.created_since) sql += " AND r.created_at>=?3";
  sql += " ORDER BY r.seq DESC LIMIT ?4";
  return sql;
}

void BindRunHistory(Statement& q, const RunHistoryFilter& filter) {
  if (filter.asset_key) q.Bind(1, *filter.asset_key);
  if (filter.status) q.Bind(2, RunStatusName(*filter.status));
  if (filter.created_since) q.Bind(3, Seconds(*filter.created_since));
  q.Bind(4, static_cast<int64_t>(filter.limit));
}

Result<RunHistoryEntry> ReadRunHistoryEntry(const Statement& q) {
  RunHistoryEntry e;
  ARBITER_ASSIGN_OR_RETURN(e.run, ReadRun(q));
  const int k = kRunColumnCount;  // the columns after the run's
  if (auto meta = q.OptText(k)) e.metadata = ParseJson(*meta);
  if (!q.IsNull(k + 1)) {
    CostRecord c;
    c.run_id = e.run.run_id;
    c.runtime = q.Text(k + 1);
    if (!q.IsNull(k + 2)) c.predicted_usd = q.Double(k + 2);
    if (!q.IsNull(k + 3)) c.actual_usd = q.Double(k + 3);
    c.usage = ParseJson(q.Text(k + 4));
    c.counterfactuals = ParseJson(q.Text(k + 5));
    c.recorded_at = FromSeconds(q.Int(k + 6));
    e.cost = std::move(c);
  }
  return e;
}

}  // namespace

Result<std::vector<RunHistoryEntry>> SqliteStorage::RunHistory(const RunHistoryFilter& filter) {
  std::lock_guard lock(mu_);
  ARBITER_ASSIGN_OR_RETURN(Statement q, db_->Prepare(RunHistorySql(filter)));
  BindRunHistory(q, filter);
  return ReadRows(q, ReadRunHistoryEntry);
}

Status SqliteStorage::ForEachRunHistory(const RunHistoryFilter& filter,
                                        const std::function<void(const RunHistoryEntry&)>& fn) {
  std::lock_guard lock(mu_);
  // The same runs, oldest first, one row in memory at a time.
  ARBITER_ASSIGN_OR_RETURN(
      Statement q, db_->Prepare("SELECT * FROM (" + RunHistorySql(filter) + ") ORDER BY hseq"));
  BindRunHistory(q, filter);
  while (true) {
    ARBITER_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::Ok();
    ARBITER_ASSIGN_OR_RETURN(RunHistoryEntry e, ReadRunHistoryEntry(q));
    fn(e);
  }
}

// The service's writes below are single statements, so each check-and-write
// (tick uniqueness, backfill status, lease owner) is atomic across processes
// without an explicit transaction.

Result<bool> SqliteStorage::RecordScheduleTick(const ScheduleTick& tick) {
  std::lock_guard lock(mu_);
  // The primary key decides: a tick already recorded (by this or another
  // service) changes nothing.
  ARBITER_ASSIGN_OR_RETURN(
      Statement q,
      db_->Prepare(std::string("INSERT INTO schedule_ticks (") + kTickColumns +
                   ") VALUES (?,?,?,?,?,?) ON CONFLICT (schedule, tick_at) DO NOTHING"));
  q.Bind(1, tick.schedule)
      .Bind(2, Seconds(tick.tick_at))
      .Bind(3, Seconds(tick.recorded_at))
      .Bind(4, tick.status)
      .Bind(5, tick.message)
      .Bind(6, nlohmann::json(tick.run_ids).dump());
  ARBITER_RETURN_IF_ERROR(q.Run());
  return db_->Changes() > 0;
}

Result<std::optional<ScheduleTick>> SqliteStorage::LastScheduleTick(const std::string& schedule) {
  ARBITER_ASSIGN_OR_RETURN(std::vector<ScheduleTick> v, ScheduleTicks(schedule, 1));
  return FirstOf(std::move(v));
}

Result<std::vector<ScheduleTick>> SqliteStorage::ScheduleTicks(const std::string& schedule,
                                                               int limit) {
  std::lock_guard lock(mu_);
  ARBITER_ASSIGN_OR_RETURN(
      Statement q, db_->Prepare(std::string("SELECT ") + kTickColumns +
                                " FROM schedule_ticks WHERE schedule=? ORDER BY tick_at DESC "
                                "LIMIT ?"));
  q.Bind(1, schedule).Bind(2, static_cast<int64_t>(limit));
  return ReadRows(q, ReadTick);
}

Status SqliteStorage::CreateBackfill(const BackfillRecord& backfill) {
  std::lock_guard lock(mu_);
  ARBITER_ASSIGN_OR_RETURN(Statement q,
                           db_->Prepare(std::string("INSERT INTO backfills (") + kBackfillColumns +
                                        ", seq) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11, "
                                        "(SELECT COALESCE(MAX(seq), 0) + 1 FROM backfills))"));
  BindBackfill(q, backfill);
  return AlreadyExistsAs(q.Run(), "backfill " + backfill.backfill_id);
}

Result<BackfillRecord> SqliteStorage::GetBackfill(const std::string& backfill_id) {
  std::lock_guard lock(mu_);
  return ReadById(*db_,
                  std::string("SELECT ") + kBackfillColumns + " FROM backfills WHERE backfill_id=?",
                  backfill_id, "backfill", ReadBackfill);
}

Result<std::vector<BackfillRecord>> SqliteStorage::ListBackfills(bool active_only, int limit) {
  std::lock_guard lock(mu_);
  std::string sql = std::string("SELECT ") + kBackfillColumns + " FROM backfills";
  if (active_only) sql += " WHERE status IN ('RUNNING','PAUSED')";
  sql += " ORDER BY seq DESC LIMIT ?";
  ARBITER_ASSIGN_OR_RETURN(Statement q, db_->Prepare(sql));
  q.Bind(1, static_cast<int64_t>(limit));
  return ReadRows(q, ReadBackfill);
}

Result<bool> SqliteStorage::UpdateBackfill(const BackfillRecord& backfill,
                                           const std::vector<BackfillStatus>& if_status) {
  std::lock_guard lock(mu_);
  // Everything but the id and the creation order is replaced.
  ARBITER_ASSIGN_OR_RETURN(
      Statement q,
      db_->Prepare("UPDATE backfills SET created_at=?2, updated_at=?3, assets=?4, "
                   "partitions_fingerprint=?5, partitions=?6, launched=?7, runtime=?8, "
                   "options=?9, status=?10, message=?11 WHERE backfill_id=?1 AND status IN (" +
                   QuotedNames(if_status, BackfillStatusName) + ")"));
  BindBackfill(q, backfill);
  ARBITER_RETURN_IF_ERROR(q.Run());
  if (db_->Changes() > 0) return true;
  return LostOrNotFound(*db_, "SELECT 1 FROM backfills WHERE backfill_id=?", backfill.backfill_id,
                        "backfill");
}

Result<std::map<RunStatus, int64_t>> SqliteStorage::BackfillRunCounts(
    const std::string& backfill_id) {
  std::lock_guard lock(mu_);
  // The expression is runs_by_backfill's (migration 3), so the index serves it.
  ARBITER_ASSIGN_OR_RETURN(
      Statement q, db_->Prepare("SELECT status, COUNT(*) FROM runs "
                                "WHERE json_extract(tags, '$.backfill')=? GROUP BY status"));
  q.Bind(1, backfill_id);
  std::map<RunStatus, int64_t> out;
  while (true) {
    ARBITER_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    std::optional<RunStatus> status = ParseRunStatus(q.Text(0));
    if (!status) {
      return InternalError("runs of backfill " + backfill_id + " have unknown status " + q.Text(0));
    }
    out[*status] = q.Int(1);
  }
  return out;
}

Result<std::optional<ServiceLease>> SqliteStorage::GetServiceLease() {
  std::lock_guard lock(mu_);
  ARBITER_ASSIGN_OR_RETURN(Statement q, db_->Prepare(std::string("SELECT ") + kLeaseColumns +
                                                     " FROM service_lease WHERE id=1"));
  ARBITER_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<ServiceLease>();
  return std::optional<ServiceLease>(
      ServiceLease{q.Text(0), q.Text(1), q.Text(2), FromSeconds(q.Int(3)), FromSeconds(q.Int(4))});
}

Result<bool> SqliteStorage::ReplaceServiceLease(const std::optional<std::string>& expected_owner,
                                                const ServiceLease& lease) {
  std::lock_guard lock(mu_);
  // No lease expected: the one-row key turns the INSERT away if any exists.
  std::string sql = expected_owner
                        ? "UPDATE service_lease SET owner=?1, host=?2, listen=?3, started_at=?4, "
                          "heartbeat_at=?5 WHERE id=1 AND owner=?6"
                        : std::string("INSERT INTO service_lease (id, ") + kLeaseColumns +
                              ") VALUES (1, ?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING";
  ARBITER_ASSIGN_OR_RETURN(Statement q, db_->Prepare(sql));
  BindLease(q, lease);
  if (expected_owner) q.Bind(6, *expected_owner);
  ARBITER_RETURN_IF_ERROR(q.Run());
  return db_->Changes() > 0;
}

Result<bool> SqliteStorage::RenewServiceLease(const std::string& owner, TimePoint heartbeat_at) {
  std::lock_guard lock(mu_);
  ARBITER_ASSIGN_OR_RETURN(
      Statement q, db_->Prepare("UPDATE service_lease SET heartbeat_at=? WHERE id=1 AND owner=?"));
  q.Bind(1, Seconds(heartbeat_at)).Bind(2, owner);
  ARBITER_RETURN_IF_ERROR(q.Run());
  return db_->Changes() > 0;
}

Status SqliteStorage::ReleaseServiceLease(const std::string& owner) {
  std::lock_guard lock(mu_);
  ARBITER_ASSIGN_OR_RETURN(Statement q,
                           db_->Prepare("DELETE FROM service_lease WHERE id=1 AND owner=?"));
  q.Bind(1, owner);
  return q.Run();
}

}  // namespace arbiter::storage
