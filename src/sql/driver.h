// Driver: the seam between SQL-defined targets (sql/sql_source.h) and a database engine.
//
// A SqlSource turns a request into one statement text plus bound parameters (macros expand to
// placeholders, never to request values) and hands both to a Driver; the driver runs it and returns
// the rows in columnar form. Drivers: SQLite files (sql/sqlite_driver.h) and PostgreSQL through
// libpq (sql/postgres_driver.h). Every method may be called from several threads at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sluice::sql {

// A value bound to a placeholder. Placeholders are written `$1`, `$2`, ... in statement text for
// every driver (SQLite accepts `$1` as a parameter name; the driver binds by that name).
struct Param {
  enum class Kind { kNull, kInt, kDouble, kText, kTimestampMs };
  Kind kind = Kind::kNull;
  int64_t int_value = 0;  // kInt; kTimestampMs: epoch milliseconds
  double double_value = 0;
  std::string text;

  static Param Null() { return {}; }
  static Param Int(int64_t v) { return {Kind::kInt, v, 0, {}}; }
  static Param Double(double v) { return {Kind::kDouble, 0, v, {}}; }
  static Param Text(std::string v) { return {Kind::kText, 0, 0, std::move(v)}; }
  // A point in time; PostgreSQL binds it as timestamptz, SQLite as ISO-8601 text.
  static Param TimestampMs(int64_t ms) { return {Kind::kTimestampMs, ms, 0, {}}; }
};

// What a column of a result holds, as the driver learned it from the database's declared or
// dynamic type. kTimestamp values are epoch milliseconds in `numbers`.
enum class ColumnKind { kNumber, kTimestamp, kText, kBool, kUnknown };

// One result column, columnar: `numbers` for kNumber/kTimestamp/kBool (1/0), `texts` for kText and
// kUnknown. `nulls[i]` is 1 when row i is NULL. Exactly one of numbers/texts has `rows` entries.
struct ResultColumn {
  std::string name;
  ColumnKind kind = ColumnKind::kUnknown;
  std::vector<double> numbers;
  std::vector<std::string> texts;
  std::vector<uint8_t> nulls;
};

struct ResultSet {
  std::vector<ResultColumn> columns;
  size_t rows = 0;
};

struct QueryOptions {
  // Absolute deadline; the driver cancels the statement (PostgreSQL: PQcancel) when it passes and
  // returns DeadlineExceeded.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // Set by the caller when the client went away; the driver polls it and cancels the statement.
  const std::atomic<bool>* cancelled = nullptr;
  // Most rows to return; more is ResourceExhausted (the request's point budget).
  size_t max_rows = SIZE_MAX;
};

class Driver {
 public:
  virtual ~Driver() = default;

  // For messages: "postgresql:orders_db", "sqlite:/srv/plant.db".
  virtual std::string_view name() const = 0;

  // Runs one statement with `$n` placeholders bound to params[n-1]. A database that cannot be
  // reached is Unavailable naming the source (the HTTP layer answers 503).
  virtual Status Query(std::string_view sql, const std::vector<Param>& params,
                       const QueryOptions& options, ResultSet* out) = 0;

  // How this engine spells a bound timestamp in SQL, for macro expansion: PostgreSQL
  // "$1::timestamptz", SQLite "$1". `placeholder` is "$n".
  virtual std::string TimestampPlaceholder(std::string_view placeholder) const {
    return std::string(placeholder);
  }

  // How this engine spells "`column` matches the regex bound to `placeholder`", for ad-hoc filters
  // with =~ and !~ (the bound pattern is anchored as ^(?:...)$). Empty when the engine has no regex
  // match: such filters are then an InvalidArgument naming the operator. PostgreSQL:
  // "col ~ $1"; SQLite (the driver registers an RE2 regexp() function): "col REGEXP $1".
  virtual std::string RegexMatch(std::string_view column, std::string_view placeholder) const {
    (void)column;
    (void)placeholder;
    return {};
  }
};

}  // namespace sluice::sql
