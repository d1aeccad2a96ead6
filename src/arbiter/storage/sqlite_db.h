// SqliteDb and Statement: a thin RAII layer over the SQLite C API that turns
// every failure into a Status naming the SQL and SQLite's message. Only the
// storage module holds SQL. A SqliteDb is one connection: not thread-safe on
// its own (SqliteStorage serializes access with a mutex).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "arbiter/common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace arbiter::storage {

class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  ~Statement();

  // Parameters are 1-based, as in SQLite.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view text);
  Statement& BindBlob(int index, std::string_view bytes);
  Statement& BindNull(int index);
  Statement& BindOpt(int index, const std::optional<std::string>& text);  // NULL if empty
  Statement& BindOpt(int index, const std::optional<int64_t>& value);

  // Advances: true when a row is available, false when done.
  Result<bool> Step();
  // Runs to completion, ignoring rows.
  Status Run();
  // Clears bindings and rewinds, for reuse.
  void Reset();

  bool IsNull(int column) const;
  int64_t Int(int column) const;
  double Double(int column) const;
  std::string Text(int column) const;
  std::optional<std::string> OptText(int column) const;
  std::optional<int64_t> OptInt(int column) const;

 private:
  friend class SqliteDb;
  Statement(sqlite3* db, sqlite3_stmt* stmt, std::string sql);
  Status Error(int rc) const;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
  Status bind_error_;  // first Bind failure, reported by Step/Run
};

class SqliteDb {
 public:
  // Opens (creating if needed) the database file, with WAL journaling, foreign
  // keys on and a busy timeout so several arbiter processes can share it.
  // ":memory:" opens a private in-memory database.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  Status Exec(std::string_view sql);  // one or more statements, no results
  Result<Statement> Prepare(std::string_view sql);

  // BEGIN IMMEDIATE ... COMMIT; rolls back when `body` fails.
  template <typename Fn>
  Status Transaction(Fn&& body) {
    ARBITER_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status s = body();
    if (!s.ok()) {
      (void)Exec("ROLLBACK");
      return s;
    }
    return Exec("COMMIT");
  }

  int64_t Changes() const;  // rows changed by the last statement
  const std::string& path() const { return path_; }

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

}  // namespace arbiter::storage
