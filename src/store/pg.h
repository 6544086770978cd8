// Thin RAII wrappers over libpq for the PostgreSQL store: a connection, a result, bound
// parameters, binary COPY data, and a small connection pool.
//
// Every PGconn* and PGresult* the store holds lives in one of these. Values always travel as bound
// parameters (binary where the type is fixed: int8, int2, bytea and arrays of them) or as binary
// COPY data, never spliced into SQL text. Results are asked for in binary. Errors become Status
// values that name the store (the `display` given at open) and quote PostgreSQL's message:
// kUnavailable when the server cannot be reached or the connection broke (the HTTP layer answers
// 503), kInternal otherwise.
//
// Thread safety: PgConn, PgResult, PgParams and PgCopyWriter are not thread-safe (one thread at a
// time); PgPool is.
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

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace sluice::store {

// Parameters of one statement, numbered $1, $2, ... in the order they are added.
class PgParams {
 public:
  PgParams& Int64(int64_t v);
  PgParams& Int16(int16_t v);
  PgParams& Bytes(std::string_view v);  // bytea
  PgParams& Text(std::string_view v);   // text (any bytes but NUL)
  PgParams& Int64Array(const std::vector<int64_t>& v);
  PgParams& Int16Array(const std::vector<int16_t>& v);
  PgParams& BytesArray(const std::vector<std::string_view>& v);

  int size() const { return static_cast<int>(values_.size()); }

 private:
  friend class PgConn;
  void Add(unsigned oid, std::string value);
  std::vector<std::string> values_;
  std::vector<unsigned> types_;
};

// A query result (binary format). Moves only.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* result) : result_(result) {}
  ~PgResult();
  PgResult(PgResult&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;

  int rows() const;
  bool IsNull(int row, int col) const;
  // The raw bytes of a value (bytea, text); valid while this result lives.
  std::string_view Bytes(int row, int col) const;
  // An int2, int4 or int8 value (by its length); 0 for NULL.
  int64_t Int(int row, int col) const;
  // The number of rows a command affected (DELETE, UPDATE, INSERT).
  int64_t AffectedRows() const;

 private:
  PGresult* result_ = nullptr;
};

// Builds binary COPY data (COPY … FROM STDIN (FORMAT binary)): Row(n), then n fields.
class PgCopyWriter {
 public:
  PgCopyWriter();
  void Row(int16_t fields);
  void Int64(int64_t v);
  void Int32(int32_t v);
  void Bytes(std::string_view v);
  // The data with its trailer; the writer is spent afterwards.
  std::string Finish();
  size_t rows() const { return rows_; }

 private:
  std::string data_;
  size_t rows_ = 0;
};

// One connection. Statements given to Query are prepared once per connection and reused.
class PgConn {
 public:
  // Connects with `conninfo` (a URI or key=value string; connect_timeout and application_name are
  // defaulted to 2 s and "sluice" unless it sets them) and runs `setup` (e.g. SET statements).
  static Result<std::unique_ptr<PgConn>> Open(const std::string& conninfo,
                                              const std::string& display,
                                              const std::vector<std::string>& setup);
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  // Runs one statement without parameters (BEGIN, COMMIT, DDL, SET).
  Status Exec(std::string_view sql);
  // Runs one statement with bound parameters; the result is binary.
  Result<PgResult> Query(const std::string& sql, const PgParams& params);
  // Runs `copy_sql` (COPY … FROM STDIN (FORMAT binary)) and sends `data`.
  Status Copy(std::string_view copy_sql, std::string_view data);

  // True once the connection is unusable (the server went away); the pool then discards it.
  bool broken() const;
  // The SQLSTATE of the last failed statement ("" when it had none, e.g. a broken connection).
  const std::string& last_sqlstate() const { return last_sqlstate_; }
  // Round trips made so far (statements sent), for "did it fail on the first one" checks.
  uint64_t exchanges() const { return exchanges_; }
  // The store's name for messages.
  const std::string& display() const { return display_; }

 private:
  PgConn(PGconn* conn, std::string display) : conn_(conn), display_(std::move(display)) {}
  // Turns a failed result (or none) into a Status and records the SQLSTATE.
  Status Failure(PGresult* result, std::string_view what);

  PGconn* conn_;
  std::string display_;
  std::string last_sqlstate_;
  uint64_t exchanges_ = 0;
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
};

// BEGIN … COMMIT on a connection, rolled back when destroyed uncommitted.
class PgTransaction {
 public:
  explicit PgTransaction(PgConn* conn) : conn_(conn) {}
  ~PgTransaction();
  Status Begin();
  Status Commit();

 private:
  PgConn* conn_;
  bool open_ = false;
};

// At most `max` connections, opened on demand and kept while idle. Acquire waits for a free one up
// to `acquire_timeout_ms`. After a failed connect, Acquire fails with that error for
// `retry_interval_ms` without trying again, so a database that is down costs one connect attempt
// per interval, not one per request.
class PgPool {
 public:
  PgPool(std::string conninfo, std::string display, std::vector<std::string> setup, size_t max,
         int acquire_timeout_ms = 5'000, int retry_interval_ms = 250);
  ~PgPool();

  // A connection lent to one caller; returned to the pool (or discarded when broken) on
  // destruction.
  class Lease {
   public:
    Lease() = default;
    Lease(PgPool* pool, std::unique_ptr<PgConn> conn, bool reused)
        : pool_(pool), conn_(std::move(conn)), reused_(reused) {}
    ~Lease();
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&& other) noexcept;
    PgConn* operator->() const { return conn_.get(); }
    PgConn* get() const { return conn_.get(); }
    // True when the connection had been used before (it may have died since).
    bool reused() const { return reused_; }

   private:
    PgPool* pool_ = nullptr;
    std::unique_ptr<PgConn> conn_;
    bool reused_ = false;
  };

  Result<Lease> Acquire();
  // Closes every idle connection (after one was found dead: the others likely are too).
  void DropIdle();
  const std::string& display() const { return display_; }

 private:
  void Release(std::unique_ptr<PgConn> conn);

  const std::string conninfo_;
  const std::string display_;
  const std::vector<std::string> setup_;
  const size_t max_;
  const int acquire_timeout_ms_;
  const int retry_interval_ms_;

  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<PgConn>> idle_;
  size_t open_ = 0;  // lent + idle + being opened
  std::chrono::steady_clock::time_point failed_until_;
  Status last_failure_;
};

// "postgresql://user@host:port/db" (no password) for a connection URI or key=value string, or
// InvalidArgument when libpq cannot parse it.
Result<std::string> PgDisplayName(const std::string& conninfo);

}  // namespace sluice::store
