// Thin RAII wrappers over the SQLite C API: a connection and a prepared statement.
//
// Every sqlite3* and sqlite3_stmt* Sluice holds lives in one of these; errors become Status values
// that quote SQLite's message. Nothing here is thread-safe: one Database per thread (SQLite's
// multi-thread mode), statements used only by their connection's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace sluice::store {

class Statement;

class Database {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  // Opens (creating in kReadWrite mode) the database file at `path`.
  static Result<std::unique_ptr<Database>> Open(const std::string& path, Mode mode);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements without results (DDL, PRAGMA, BEGIN/COMMIT).
  Status Exec(std::string_view sql);
  // Compiles `sql`; the statement must not outlive the database.
  Result<Statement> Prepare(std::string_view sql);

  int64_t LastInsertRowId() const;
  int Changes() const;
  sqlite3* handle() { return db_; }
  const std::string& path() const { return path_; }

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

class Statement {
 public:
  Statement() = default;
  ~Statement();
  Statement(Statement&& other) noexcept : stmt_(other.stmt_), db_(other.db_) {
    other.stmt_ = nullptr;
  }
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in SQLite. Text and blobs are copied (SQLITE_TRANSIENT) unless
  // `static_data` promises they outlive the step.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view text, bool static_data = false);
  Statement& BindBlob(int index, std::string_view blob, bool static_data = false);
  Statement& BindNull(int index);

  // Advances: true with a row available, false when done; an error Status otherwise.
  Result<bool> Step();
  // Steps to completion, for statements without results.
  Status Run();
  // Resets for re-execution and clears bindings.
  void Reset();

  int64_t ColumnInt(int index) const;
  double ColumnDouble(int index) const;
  bool ColumnIsNull(int index) const;
  // Valid until the next Step/Reset.
  std::string_view ColumnText(int index) const;
  std::string_view ColumnBlob(int index) const;

 private:
  friend class Database;
  Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
};

// BEGIN IMMEDIATE … COMMIT, rolled back when destroyed uncommitted.
class Transaction {
 public:
  explicit Transaction(Database* db) : db_(db) {}
  ~Transaction();
  Status Begin();
  Status Commit();

 private:
  Database* db_;
  bool open_ = false;
};

}  // namespace sluice::store
