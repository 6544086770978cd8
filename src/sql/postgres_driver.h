// PostgresDriver: the sql::Driver for PostgreSQL, over libpq.
//
// Connections come from a pool of at most `pool_size`, opened on demand and kept open while idle.
// A query that finds every connection busy waits for one until `acquire_timeout_ms` (or its own
// deadline) passes, then fails with Unavailable "all N connections are busy". Each query is sent
// with PQsendQueryParams (values bound as text-format parameters, never spliced into the SQL) and
// waited for in slices of `poll_slice_ms`: when QueryOptions::cancelled becomes true or the deadline
// passes the driver sends a cancel request (PQcancel) so the server stops working on it, and the
// query returns at once (Unavailable "cancelled", DeadlineExceeded).
//
// Failure and recovery: a connection that breaks (the server restarted, the network dropped) is
// discarded with every other idle connection, and a query whose reused connection turned out dead
// before it produced anything is retried once on a fresh one. Opening a connection is bounded by
// `connect_timeout_ms` (ms precision; libpq's own connect_timeout is whole seconds, at least 2).
// When a connection cannot be opened, the query fails with Unavailable "source <name>: cannot
// connect to PostgreSQL: <libpq's reason>", and for the next `retry_interval_ms` queries that need
// a new connection fail with that same error at once instead of each waiting on a connect of its
// own; after that the next query tries again. So a database that is down is reported at once when
// the connection is refused and after connect_timeout_ms when the host does not answer, and
// service returns by itself within retry_interval_ms of the database coming back.
//
// Parameters: Param::kInt binds as int8, kDouble as float8, kTimestampMs as timestamptz, kNull as
// an untyped NULL, and kText untyped, so the server infers its type from where the placeholder
// stands, as for a quoted literal (`device_id = $1` compares as the column's type; write
// `$1::text` where nothing says).
//
// Results: the first run of each distinct statement text asks for text-format results and notes
// the column types; when every column has a type the driver decodes in binary (bool, int2/4/8,
// oid, float4/8, numeric, date, timestamp, timestamptz, and text-like types), later runs ask for
// binary results, which spares the server from formatting timestamps and numbers as text (1M rows
// of (timestamptz, float8): 450 ms instead of 900 ms, server included). Types map to ColumnKind
// as: bool -> kBool; integers, floats, numeric -> kNumber (numeric NaN is NaN, not NULL); date,
// timestamp, timestamptz -> kTimestamp (epoch ms; `timestamp` without time zone is read as UTC;
// +-infinity reads as NULL); text, varchar, char, name, json, jsonb, uuid -> kText; anything else
// -> kUnknown with PostgreSQL's text form. The whole result is received at once (libpq 15's
// single-row mode costs a PGresult per row) and `max_rows` is checked then (ResourceExhausted):
// bound huge results in SQL (LIMIT, aggregation) or with the deadline.
//
// Sessions: each connection runs `SET DateStyle = ISO` (and `statement_timeout` when configured)
// once after connecting; application_name defaults to "sluice". The time zone is the server's or
// the DSN's (`options=-c TimeZone=UTC`); timestamps come back as absolute instants either way.
//
// Thread safety: Query may be called from any number of threads; each call holds one connection.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "sql/driver.h"
#include "sql/source_config.h"

typedef struct pg_conn PGconn;

namespace sluice::sql {

struct PostgresOptions {
  // The source's name, used in every message: "source <name>: …".
  std::string name;
  // A libpq connection string ("host=db port=5432 dbname=x user=y") or URI
  // ("postgresql://user@db/x?sslmode=require").
  std::string dsn;
  // Most connections open at once. Default 8.
  int pool_size = 8;
  // How long a query waits for a free connection before Unavailable. Default 1000 ms.
  int acquire_timeout_ms = 1000;
  // Bound on opening one connection (TCP, TLS, authentication). Default 750 ms, so that a database
  // that is unreachable is reported within 1 s.
  int connect_timeout_ms = 750;
  // The server-side statement_timeout set on every connection; 0 (default) sets none, and only the
  // request's deadline bounds a statement.
  int statement_timeout_ms = 0;
  // After a failed connect, queries fail with the same error without trying again for this long.
  // Default 250 ms.
  int retry_interval_ms = 250;
  // How often a waiting query checks QueryOptions::cancelled. Default 50 ms.
  int poll_slice_ms = 50;
};

class PostgresDriver final : public Driver {
 public:
  // Validates the DSN (libpq parses it; a malformed one is InvalidArgument naming the source) and
  // the options. Opens no connection: a database that is down at startup only makes queries fail
  // until it is up.
  static Result<std::unique_ptr<PostgresDriver>> Open(PostgresOptions options);

  // Closes every idle connection. No query may be running.
  ~PostgresDriver() override;

  std::string_view name() const override { return display_name_; }
  Status Query(std::string_view sql, const std::vector<Param>& params, const QueryOptions& options,
               ResultSet* out) override;
  // "$n::timestamptz".
  std::string TimestampPlaceholder(std::string_view placeholder) const override;
  // "<column> ~ <placeholder>" (POSIX regex match).
  std::string RegexMatch(std::string_view column, std::string_view placeholder) const override;

  // The factory for `kind = "postgresql"` sources (sql/sources.h): name, connection, pool_size,
  // connect_timeout_ms and statement_timeout_ms (also set as the server's statement_timeout, so a
  // statement stops even if Sluice dies while it runs) come from `config`.
  static Result<std::unique_ptr<Driver>> Make(const SourceConfig& config);

  // For tests and metrics: connections open now (busy + idle).
  int OpenConnections();

 private:
  struct ConnDeleter {
    void operator()(PGconn* conn) const;
  };
  using Conn = std::unique_ptr<PGconn, ConnDeleter>;
  using Clock = std::chrono::steady_clock;

  explicit PostgresDriver(PostgresOptions options);

  // A pooled connection (reused == true) or a fresh one, or Unavailable/DeadlineExceeded.
  Status Acquire(const QueryOptions& options, Conn* conn, bool* reused);
  // Returns a connection to the pool, or closes it when `healthy` is false.
  void Release(Conn conn, bool healthy);
  // Closes every idle connection (after one was found broken: the others likely are too).
  void DropIdle();
  Status Connect(Clock::time_point deadline, const std::atomic<bool>* cancelled, Conn* conn);
  // One attempt on `conn`. *broken tells whether the connection is unusable afterwards.
  Status RunOnce(PGconn* conn, std::string_view sql, const std::vector<Param>& params,
                 const QueryOptions& options, ResultSet* out, bool* broken);
  // Whether the statement's results may be asked for in binary; learned on its first run.
  bool BinaryKnownGood(std::string_view sql);
  void NoteFormat(std::string_view sql, bool binary_ok);

  const PostgresOptions options_;
  const std::string display_name_;  // "postgresql:<name>"
  std::string setup_sql_;           // run once per new connection

  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<Conn> idle_;           // guarded by mu_
  int open_ = 0;                     // guarded by mu_: busy + idle + being opened
  Clock::time_point failed_until_;   // guarded by mu_: fail fast until then
  std::string last_connect_error_;   // guarded by mu_

  std::mutex formats_mu_;
  std::unordered_map<std::string, bool> binary_ok_;  // guarded by formats_mu_
};

}  // namespace sluice::sql
