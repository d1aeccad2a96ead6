#include "arbiter/storage/migrations.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "arbiter/testing/temp_dir.h"

namespace arbiter::storage {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<SqliteDb> OpenDb(const std::string& path) {
  auto db = SqliteDb::Open(path);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return std::move(db).value();
}

// A database file at `path` written by the arbiter whose schema was the first
// `version` migrations, holding the rows `insert_sql` adds.
void WriteAtVersion(const std::string& path, int version, const std::string& insert_sql) {
  auto db = OpenDb(path);
  std::vector<Migration> old(SqliteMigrations().begin(), SqliteMigrations().begin() + version);
  ASSERT_EQ(*Migrate(*db, old), 0);
  ASSERT_TRUE(db->Exec(insert_sql).ok()) << insert_sql;
}

TEST(MigrationsTest, EmptyDatabaseGetsTheWholeSchema) {
  auto db = OpenDb(":memory:");
  EXPECT_EQ(*Migrate(*db, SqliteMigrations()), 0);
  EXPECT_EQ(*SchemaVersion(*db), SqliteMigrations().back().version);
  for (const char* table :
       {"runs", "run_events", "materializations", "partition_status", "placement_decisions",
        "cost_records", "schedule_ticks", "backfills", "service_lease"}) {
    auto q = db->Prepare(std::string("SELECT COUNT(*) FROM ") + table);
    ASSERT_TRUE(q.ok()) << table << ": " << q.status().ToString();
    EXPECT_TRUE(*q->Step());
  }
  // Running again is a no-op.
  EXPECT_EQ(*Migrate(*db, SqliteMigrations()), SqliteMigrations().back().version);
}

// The upgrade path, with a schema history defined here: a database written by
// the previous version keeps its data when opened by the next.
TEST(MigrationsTest, OlderDatabaseUpgradesInPlaceAndKeepsData) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "a.db").string();
  std::vector<Migration> v1 = {{1, "notes", "CREATE TABLE notes (id INTEGER, body TEXT)"}};
  std::vector<Migration> v2 = v1;
  v2.push_back({2, "note authors", "ALTER TABLE notes ADD COLUMN author TEXT DEFAULT 'unknown'"});
  {
    auto db = OpenDb(path);
    ASSERT_EQ(*Migrate(*db, v1), 0);
    ASSERT_TRUE(db->Exec("INSERT INTO notes (id, body) VALUES (1, 'kept')").ok());
  }
  auto db = OpenDb(path);
  EXPECT_EQ(*Migrate(*db, v2), 1);
  EXPECT_EQ(*SchemaVersion(*db), 2);
  auto q = db->Prepare("SELECT body, author FROM notes WHERE id=1");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Text(0), "kept");
  EXPECT_EQ(q->Text(1), "unknown");
}

TEST(MigrationsTest, FailedMigrationRollsBackAndSaysWhich) {
  auto db = OpenDb(":memory:");
  std::vector<Migration> bad = {{1, "ok", "CREATE TABLE t (x INTEGER)"},
                                {2, "broken step", "CREATE TABLE u (x INTEGER); SELEKT 1"}};
  Result<int> r = Migrate(*db, bad);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("to schema version 2 (broken step)"));
  EXPECT_EQ(*SchemaVersion(*db), 1);
  EXPECT_FALSE(db->Prepare("SELECT * FROM u").ok());  // rolled back
}

TEST(MigrationsTest, NewerDatabaseIsRefused) {
  auto db = OpenDb(":memory:");
  ASSERT_TRUE(Migrate(*db, SqliteMigrations()).ok());
  ASSERT_TRUE(db->Exec("INSERT INTO schema_version(version) VALUES (99)").ok());
  Result<int> r = Migrate(*db, SqliteMigrations());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("schema version 99, newer than this arbiter"));
}

}  // namespace
}  // namespace arbiter::storage

namespace arbiter::storage {
namespace {

// The real history: a database written at schema version 1 (before runs had
// an owner and a reader cursor) opens with today's schema and keeps its runs.
TEST(MigrationsTest, VersionOneDatabaseUpgradesToTheCurrentSchema) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "v1.db").string();
  ASSERT_NO_FATAL_FAILURE(
      WriteAtVersion(path, 1,
                     "INSERT INTO runs (run_id, asset_key, runtime, status, created_at, seq) "
                     "VALUES ('r1', 'a', 'local', 'RUNNING', 1, 1)"));
  auto db = OpenDb(path);
  EXPECT_EQ(*Migrate(*db, SqliteMigrations()), 1);
  EXPECT_EQ(*SchemaVersion(*db), SqliteMigrations().back().version);
  auto q = db->Prepare("SELECT status, owner, reader_cursor FROM runs WHERE run_id='r1'");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Text(0), "RUNNING");
  EXPECT_EQ(q->Text(1), "");
  EXPECT_EQ(q->Text(2), "{}");
}

}  // namespace
}  // namespace arbiter::storage

#include "arbiter/storage/open_storage.h"

namespace arbiter::storage {
namespace {

TEST(OpenStorageTest, UrlsResolveAgainstTheProject) {
  EXPECT_EQ(*SqlitePathFromUrl("", "/p"), "/p/.arbiter/arbiter.db");
  EXPECT_EQ(*SqlitePathFromUrl("sqlite:state/a.db", "/p"), "/p/state/a.db");
  EXPECT_EQ(*SqlitePathFromUrl("sqlite:///var/a.db", "/p"), "/var/a.db");
  EXPECT_EQ(*SqlitePathFromUrl("/tmp/x.db", "/p"), "/tmp/x.db");
  auto pg = SqlitePathFromUrl("postgresql://db/arbiter", "/p");
  EXPECT_EQ(pg.status().code(), StatusCode::kUnimplemented);
  EXPECT_THAT(pg.status().message(), HasSubstr("PostgreSQL storage is not implemented yet"));
  EXPECT_EQ(SqlitePathFromUrl("mysql://x", "/p").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace arbiter::storage

namespace arbiter::storage {
namespace {

// A database written at schema version 2 (before `arbiter serve`) gains the
// queue fields with their defaults and the service's tables, keeping its runs.
TEST(MigrationsTest, VersionTwoDatabaseUpgradesToTheServiceSchema) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "v2.db").string();
  ASSERT_NO_FATAL_FAILURE(WriteAtVersion(
      path, 2,
      "INSERT INTO runs (run_id, asset_key, runtime, status, created_at, seq, tags, owner) "
      "VALUES ('r1', 'a', 'local', 'QUEUED', 1, 1, '{\"backfill\":\"b1\"}', '42:7')"));
  auto db = OpenDb(path);
  EXPECT_EQ(*Migrate(*db, SqliteMigrations()), 2);
  EXPECT_EQ(*SchemaVersion(*db), SqliteMigrations().back().version);
  auto q =
      db->Prepare("SELECT owner, priority, not_before, failure_kind FROM runs WHERE run_id='r1'");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Text(0), "42:7");
  EXPECT_EQ(q->Int(1), 0);
  EXPECT_TRUE(q->IsNull(2));
  EXPECT_EQ(q->Text(3), "");
  for (const char* table : {"schedule_ticks", "backfills", "service_lease"}) {
    auto count = db->Prepare(std::string("SELECT COUNT(*) FROM ") + table);
    ASSERT_TRUE(count.ok()) << table << ": " << count.status().ToString();
    ASSERT_TRUE(*count->Step());
    EXPECT_EQ(count->Int(0), 0) << table;
  }
  // The existing run is found through the backfill index's expression.
  auto by_backfill =
      db->Prepare("SELECT COUNT(*) FROM runs WHERE json_extract(tags, '$.backfill')='b1'");
  ASSERT_TRUE(by_backfill.ok());
  ASSERT_TRUE(*by_backfill->Step());
  EXPECT_EQ(by_backfill->Int(0), 1);
}

// The queue and backfill queries use their indexes, not a scan of every run.
TEST(MigrationsTest, ServiceQueriesUseTheirIndexes) {
  auto db = OpenDb(":memory:");
  ASSERT_TRUE(Migrate(*db, SqliteMigrations()).ok());
  auto plan = [&](const std::string& sql) {
    auto q = db->Prepare("EXPLAIN QUERY PLAN " + sql);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    std::string out;
    while (*q->Step()) out += q->Text(3) + "\n";
    return out;
  };
  EXPECT_THAT(plan("SELECT status, COUNT(*) FROM runs WHERE json_extract(tags, '$.backfill')=?1 "
                   "GROUP BY status"),
              HasSubstr("USING INDEX runs_by_backfill"));
  std::string queue =
      plan("SELECT run_id FROM runs WHERE status='QUEUED' ORDER BY priority DESC, seq LIMIT 10");
  EXPECT_THAT(queue, HasSubstr("USING INDEX runs_queue"));
  EXPECT_THAT(queue, ::testing::Not(HasSubstr("TEMP B-TREE")));
}

}  // namespace
}  // namespace arbiter::storage
