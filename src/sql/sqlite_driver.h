// SqliteDriver: runs SQL targets against a SQLite file, read-only, with many readers at once.
//
// The file is opened with SQLITE_OPEN_READONLY and the URI parameter mode=ro, lazily: a missing or
// unreadable file makes each query fail with Unavailable naming the path (HTTP 503), and is picked
// up once it exists. Up to `pool_size` connections run queries in parallel (SQLite's multi-thread
// mode: one connection per query at a time); a query that finds them all busy waits until its
// deadline. Each connection keeps its prepared statements.
//
// Parameters `$1`, `$2`, ... are bound by name. A timestamp parameter is bound as the source's
// time_format says (SourceConfig::time_format). Column kinds come from the declared type of the
// column (INT/REAL/NUMERIC... number, BOOL boolean, DATE/TIME timestamp, CHAR/TEXT text) or, for
// expressions, from the storage class of the first non-NULL value; a value that does not fit its
// column's kind (text in a numeric column that is not a number) reads as NULL. Timestamp values
// stored as numbers follow EpochToMs, as text ParseTimeText (sql/shape.h).
//
// Deadlines and cancellation: a progress handler checks QueryOptions::deadline and ::cancelled
// every 1000 virtual-machine steps and interrupts the statement (DeadlineExceeded, or Unavailable
// "cancelled"). The driver registers regexp(pattern, text) on RE2, so `col REGEXP $1` works.
// Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "sql/driver.h"
#include "sql/source_config.h"

namespace sluice::sql {

class SqliteDriver : public Driver {
 public:
  // InvalidArgument for an unknown time_format or a pool_size < 1.
  static Result<std::unique_ptr<SqliteDriver>> Make(const SourceConfig& config);
  ~SqliteDriver() override;

  std::string_view name() const override { return name_; }
  Status Query(std::string_view sql, const std::vector<Param>& params,
               const QueryOptions& options, ResultSet* out) override;
  std::string RegexMatch(std::string_view column, std::string_view placeholder) const override;

 private:
  struct Connection;
  struct Pool;
  enum class TimeFormat { kIso, kSqlite, kEpochS, kEpochMs };
  SqliteDriver(std::string path, int pool_size, int64_t busy_timeout_ms, TimeFormat format);

  const std::string path_;
  const std::string name_;  // "sqlite:<path>"
  const int64_t busy_timeout_ms_;
  const TimeFormat time_format_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace sluice::sql
