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

TEST(MigrationsTest, EmptyDatabaseGetsTheWholeSchema) {
  auto db = OpenDb(":memory:");
  EXPECT_EQ(*Migrate(*db, SqliteMigrations()), 0);
  EXPECT_EQ(*SchemaVersion(*db), SqliteMigrations().back().version);
  for (const char* table : {"runs", "run_events", "materializations", "partition_status",
                            "placement_decisions", "cost_records"}) {
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
  {
    auto db = OpenDb(path);
    std::vector<Migration> v1(SqliteMigrations().begin(), SqliteMigrations().begin() + 1);
    ASSERT_EQ(*Migrate(*db, v1), 0);
    ASSERT_TRUE(db->Exec("INSERT INTO runs (run_id, asset_key, runtime, status, created_at, seq) "
                         "VALUES ('r1', 'a', 'local', 'RUNNING', 1, 1)")
                    .ok());
  }
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
