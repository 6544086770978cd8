#include "store/pg.h"

#include <endian.h>
#include <libpq-fe.h>

#include <cstring>

namespace sluice::store {
namespace {

// Type OIDs (pg_type.oid; fixed since PostgreSQL's first releases).
constexpr Oid kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kText = 25;
constexpr Oid kInt2Array = 1005, kByteaArray = 1001, kInt8Array = 1016;

void PutBe16(std::string* out, uint16_t v) {
  v = htobe16(v);
  out->append(reinterpret_cast<const char*>(&v), 2);
}
void PutBe32(std::string* out, uint32_t v) {
  v = htobe32(v);
  out->append(reinterpret_cast<const char*>(&v), 4);
}
void PutBe64(std::string* out, uint64_t v) {
  v = htobe64(v);
  out->append(reinterpret_cast<const char*>(&v), 8);
}

// The binary array format (array_send): dimensions, null flag, element type, then length-prefixed
// elements. `put` appends element i's bytes.
template <typename Put>
std::string BinaryArray(Oid element_type, size_t n, Put put) {
  std::string out;
  PutBe32(&out, n == 0 ? 0 : 1);  // dimensions
  PutBe32(&out, 0);               // no NULLs
  PutBe32(&out, element_type);
  if (n > 0) {
    PutBe32(&out, static_cast<uint32_t>(n));
    PutBe32(&out, 1);  // lower bound
  }
  for (size_t i = 0; i < n; ++i) put(i, &out);
  return out;
}

std::string TrimMessage(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  return s;
}

// SQLSTATE classes that mean "the server is not there (right now)": connection exceptions,
// operator intervention (shutdown, cannot connect now), insufficient resources.
bool UnavailableState(std::string_view state) {
  return state.starts_with("08") || state.starts_with("57P") || state.starts_with("53");
}

}  // namespace

// --- PgParams ------------------------------------------------------------------------------------

void PgParams::Add(unsigned oid, std::string value) {
  values_.push_back(std::move(value));
  types_.push_back(oid);
}

PgParams& PgParams::Int64(int64_t v) {
  std::string s;
  PutBe64(&s, static_cast<uint64_t>(v));
  Add(kInt8, std::move(s));
  return *this;
}

PgParams& PgParams::Int16(int16_t v) {
  std::string s;
  PutBe16(&s, static_cast<uint16_t>(v));
  Add(kInt2, std::move(s));
  return *this;
}

PgParams& PgParams::Bytes(std::string_view v) {
  Add(kBytea, std::string(v));
  return *this;
}

PgParams& PgParams::Text(std::string_view v) {
  Add(kText, std::string(v));
  return *this;
}

PgParams& PgParams::Int64Array(const std::vector<int64_t>& v) {
  Add(kInt8Array, BinaryArray(kInt8, v.size(), [&](size_t i, std::string* out) {
        PutBe32(out, 8);
        PutBe64(out, static_cast<uint64_t>(v[i]));
      }));
  return *this;
}

PgParams& PgParams::Int16Array(const std::vector<int16_t>& v) {
  Add(kInt2Array, BinaryArray(kInt2, v.size(), [&](size_t i, std::string* out) {
        PutBe32(out, 2);
        PutBe16(out, static_cast<uint16_t>(v[i]));
      }));
  return *this;
}

PgParams& PgParams::BytesArray(const std::vector<std::string_view>& v) {
  Add(kByteaArray, BinaryArray(kBytea, v.size(), [&](size_t i, std::string* out) {
        PutBe32(out, static_cast<uint32_t>(v[i].size()));
        out->append(v[i]);
      }));
  return *this;
}

// --- PgResult ------------------------------------------------------------------------------------

PgResult::~PgResult() {
  if (result_) PQclear(result_);
}

PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    if (result_) PQclear(result_);
    result_ = other.result_;
    other.result_ = nullptr;
  }
  return *this;
}

int PgResult::rows() const { return result_ ? PQntuples(result_) : 0; }

bool PgResult::IsNull(int row, int col) const { return PQgetisnull(result_, row, col) != 0; }

std::string_view PgResult::Bytes(int row, int col) const {
  return {PQgetvalue(result_, row, col), static_cast<size_t>(PQgetlength(result_, row, col))};
}

int64_t PgResult::Int(int row, int col) const {
  if (IsNull(row, col)) return 0;
  const char* p = PQgetvalue(result_, row, col);
  switch (PQgetlength(result_, row, col)) {
    case 2: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      return static_cast<int16_t>(be16toh(v));
    }
    case 4: {
      uint32_t v;
      std::memcpy(&v, p, 4);
      return static_cast<int32_t>(be32toh(v));
    }
    case 8: {
      uint64_t v;
      std::memcpy(&v, p, 8);
      return static_cast<int64_t>(be64toh(v));
    }
    default:
      return 0;
  }
}

int64_t PgResult::AffectedRows() const {
  const char* n = result_ ? PQcmdTuples(result_) : "";
  return *n ? std::strtoll(n, nullptr, 10) : 0;
}

// --- PgCopyWriter --------------------------------------------------------------------------------

PgCopyWriter::PgCopyWriter() {
  data_.append("PGCOPY\n\377\r\n\0", 11);
  PutBe32(&data_, 0);  // flags
  PutBe32(&data_, 0);  // header extension length
}

void PgCopyWriter::Row(int16_t fields) {
  PutBe16(&data_, static_cast<uint16_t>(fields));
  ++rows_;
}

void PgCopyWriter::Int64(int64_t v) {
  PutBe32(&data_, 8);
  PutBe64(&data_, static_cast<uint64_t>(v));
}

void PgCopyWriter::Int32(int32_t v) {
  PutBe32(&data_, 4);
  PutBe32(&data_, static_cast<uint32_t>(v));
}

void PgCopyWriter::Bytes(std::string_view v) {
  PutBe32(&data_, static_cast<uint32_t>(v.size()));
  data_.append(v);
}

std::string PgCopyWriter::Finish() {
  PutBe16(&data_, 0xFFFF);  // trailer: -1
  return std::move(data_);
}

// --- PgConn --------------------------------------------------------------------------------------

Result<std::unique_ptr<PgConn>> PgConn::Open(const std::string& conninfo,
                                             const std::string& display,
                                             const std::vector<std::string>& setup) {
  // Entries before the expanded "dbname" are defaults the connection string may override.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"2", "sluice", conninfo.c_str(), nullptr};
  PGconn* raw = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (raw == nullptr) return Unavailable("{}: cannot connect: out of memory", display);
  std::unique_ptr<PgConn> conn(new PgConn(raw, display));
  // NOTICEs ("relation already exists, skipping") are not for the server's log.
  PQsetNoticeProcessor(
      raw, [](void*, const char*) {}, nullptr);
  if (PQstatus(raw) != CONNECTION_OK) {
    return Unavailable("{}: cannot connect: {}", display, TrimMessage(PQerrorMessage(raw)));
  }
  for (const auto& sql : setup) SLUICE_RETURN_IF_ERROR(conn->Exec(sql));
  return conn;
}

PgConn::~PgConn() { PQfinish(conn_); }

bool PgConn::broken() const { return PQstatus(conn_) != CONNECTION_OK; }

Status PgConn::Failure(PGresult* result, std::string_view what) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = state ? state : "";
  std::string message =
      TrimMessage(result && *PQresultErrorMessage(result) ? PQresultErrorMessage(result)
                                                          : PQerrorMessage(conn_));
  if (result) PQclear(result);
  if (broken() || UnavailableState(last_sqlstate_)) {
    return Unavailable("{}: {}: {}", display_, what, message);
  }
  return Internal("{}: {}: {} (SQLSTATE {})", display_, what, message, last_sqlstate_);
}

Status PgConn::Exec(std::string_view sql) {
  ++exchanges_;
  PGresult* r = PQexec(conn_, std::string(sql).c_str());
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return Failure(r, sql.substr(0, 40));
  PQclear(r);
  return Status::OK();
}

Result<PgResult> PgConn::Query(const std::string& sql, const PgParams& params) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(prepared_.size() + 1);
    ++exchanges_;
    PGresult* r = PQprepare(conn_, name.c_str(), sql.c_str(), params.size(), params.types_.data());
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
      return Failure(r, "preparing \"" + sql.substr(0, 60) + "\"");
    }
    PQclear(r);
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  std::vector<const char*> values(params.values_.size());
  std::vector<int> lengths(params.values_.size());
  std::vector<int> formats(params.values_.size());
  for (size_t i = 0; i < params.values_.size(); ++i) {
    values[i] = params.values_[i].data();
    lengths[i] = static_cast<int>(params.values_[i].size());
    formats[i] = params.types_[i] == kText ? 0 : 1;
  }
  ++exchanges_;
  PGresult* r = PQexecPrepared(conn_, it->second.c_str(), params.size(), values.data(),
                               lengths.data(), formats.data(), /*resultFormat=*/1);
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    return Failure(r, "\"" + sql.substr(0, 60) + "\"");
  }
  return PgResult(r);
}

Status PgConn::Copy(std::string_view copy_sql, std::string_view data) {
  ++exchanges_;
  PGresult* r = PQexec(conn_, std::string(copy_sql).c_str());
  if (!r || PQresultStatus(r) != PGRES_COPY_IN) return Failure(r, copy_sql.substr(0, 40));
  PQclear(r);
  constexpr size_t kPiece = 1 << 20;
  for (size_t at = 0; at < data.size(); at += kPiece) {
    size_t n = std::min(kPiece, data.size() - at);
    if (PQputCopyData(conn_, data.data() + at, static_cast<int>(n)) != 1) {
      return Failure(nullptr, "sending COPY data");
    }
  }
  if (PQputCopyEnd(conn_, nullptr) != 1) return Failure(nullptr, "ending COPY");
  Status status;
  while (PGresult* result = PQgetResult(conn_)) {
    if (PQresultStatus(result) != PGRES_COMMAND_OK && status.ok()) {
      status = Failure(result, copy_sql.substr(0, 40));
    } else {
      PQclear(result);
    }
  }
  return status;
}

// --- PgTransaction -------------------------------------------------------------------------------

PgTransaction::~PgTransaction() {
  if (open_ && !conn_->broken()) (void)conn_->Exec("ROLLBACK");
}

Status PgTransaction::Begin() {
  SLUICE_RETURN_IF_ERROR(conn_->Exec("BEGIN"));
  open_ = true;
  return Status::OK();
}

Status PgTransaction::Commit() {
  open_ = false;  // a failed COMMIT has ended the transaction too
  return conn_->Exec("COMMIT");
}

// --- PgPool --------------------------------------------------------------------------------------

PgPool::PgPool(std::string conninfo, std::string display, std::vector<std::string> setup,
               size_t max, int acquire_timeout_ms, int retry_interval_ms)
    : conninfo_(std::move(conninfo)),
      display_(std::move(display)),
      setup_(std::move(setup)),
      max_(max < 1 ? 1 : max),
      acquire_timeout_ms_(acquire_timeout_ms),
      retry_interval_ms_(retry_interval_ms) {}

PgPool::~PgPool() = default;

PgPool::Lease::~Lease() {
  if (pool_ && conn_) pool_->Release(std::move(conn_));
}

PgPool::Lease& PgPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    if (pool_ && conn_) pool_->Release(std::move(conn_));
    pool_ = other.pool_;
    conn_ = std::move(other.conn_);
    reused_ = other.reused_;
    other.pool_ = nullptr;
  }
  return *this;
}

Result<PgPool::Lease> PgPool::Acquire() {
  using Clock = std::chrono::steady_clock;
  std::unique_lock<std::mutex> lock(mu_);
  const auto deadline = Clock::now() + std::chrono::milliseconds(acquire_timeout_ms_);
  for (;;) {
    if (!idle_.empty()) {
      std::unique_ptr<PgConn> conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn), /*reused=*/true);
    }
    if (open_ < max_) break;
    if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= max_) {
      return Unavailable("{}: all {} connections are busy", display_, max_);
    }
  }
  if (Clock::now() < failed_until_) return last_failure_;
  ++open_;
  lock.unlock();
  auto opened = PgConn::Open(conninfo_, display_, setup_);
  lock.lock();
  if (!opened.ok()) {
    --open_;
    failed_until_ = Clock::now() + std::chrono::milliseconds(retry_interval_ms_);
    last_failure_ = opened.status();
    freed_.notify_one();
    return opened.status();
  }
  return Lease(this, std::move(opened).value(), /*reused=*/false);
}

void PgPool::Release(std::unique_ptr<PgConn> conn) {
  std::unique_ptr<PgConn> dead;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (conn->broken()) {
      --open_;
      dead = std::move(conn);  // closed outside the lock
    } else {
      idle_.push_back(std::move(conn));
    }
  }
  freed_.notify_one();
}

void PgPool::DropIdle() {
  std::vector<std::unique_ptr<PgConn>> dead;
  {
    std::lock_guard<std::mutex> lock(mu_);
    open_ -= idle_.size();
    dead.swap(idle_);
  }
  freed_.notify_all();
}

Result<std::string> PgDisplayName(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    std::string message = TrimMessage(error);
    if (error) PQfreemem(error);
    return InvalidArgument("store URL: {}", message.empty() ? "cannot be parsed" : message);
  }
  std::string host, port, db, user;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    std::string_view k = o->keyword;
    std::string v = o->val ? o->val : "";
    if (k == "host" || (k == "hostaddr" && host.empty())) host = v;
    if (k == "port") port = v;
    if (k == "dbname") db = v;
    if (k == "user") user = v;
  }
  PQconninfoFree(options);
  std::string name = "postgresql://";
  if (!user.empty()) name += user + "@";
  name += host.empty() ? "localhost" : host;
  if (!port.empty()) name += ":" + port;
  name += "/" + db;
  return name;
}

}  // namespace sluice::store
