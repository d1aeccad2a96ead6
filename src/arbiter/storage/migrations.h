// Versioned schema migrations. Each migration moves the schema from version
// N-1 to N in one transaction; the applied version lives in the database, so
// any older database upgrades in place on open, and a database written by a
// newer arbiter is refused rather than damaged.
#pragma once

#include <string>
#include <vector>

#include "arbiter/common/status.h"
#include "arbiter/storage/sqlite_db.h"

namespace arbiter::storage {

struct Migration {
  int version;              // 1, 2, ... without gaps
  std::string description;  // shown when it is applied
  std::string sql;
};

// The SQLite schema of this version of Arbiter.
const std::vector<Migration>& SqliteMigrations();

// Brings `db` up to the last of `migrations`. Returns the version before.
// kFailedPrecondition if the database is newer than the last migration.
Result<int> Migrate(SqliteDb& db, const std::vector<Migration>& migrations);

// The schema version recorded in `db` (0 for an empty database).
Result<int> SchemaVersion(SqliteDb& db);

}  // namespace arbiter::storage
