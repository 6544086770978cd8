#include "sql/sqlite_driver.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <unordered_map>

#include <re2/re2.h>

#include "common/time.h"
#include "sql/shape.h"

namespace sluice::sql {
namespace {

using Clock = std::chrono::steady_clock;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

constexpr size_t kMaxCachedStatements = 64;
constexpr int kProgressSteps = 1000;

// Checked by the progress handler while a statement runs.
struct Interrupt {
  Clock::time_point deadline = Clock::time_point::max();
  const std::atomic<bool>* cancelled = nullptr;
  bool timed_out = false;
  bool was_cancelled = false;
};

int OnProgress(void* arg) {
  auto* state = static_cast<Interrupt*>(arg);
  if (state->cancelled != nullptr && state->cancelled->load(std::memory_order_relaxed)) {
    state->was_cancelled = true;
    return 1;
  }
  if (Clock::now() >= state->deadline) {
    state->timed_out = true;
    return 1;
  }
  return 0;
}

// regexp(pattern, text) for `text REGEXP pattern`, in RE2 (linear time). The compiled pattern is
// kept as auxiliary data while the statement's pattern argument stays the same.
void RegexpFunction(sqlite3_context* context, int argc, sqlite3_value** argv) {
  if (argc != 2 || sqlite3_value_type(argv[0]) == SQLITE_NULL ||
      sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    sqlite3_result_null(context);
    return;
  }
  auto* re = static_cast<re2::RE2*>(sqlite3_get_auxdata(context, 0));
  std::unique_ptr<re2::RE2> fresh;
  if (re == nullptr) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
    re2::RE2::Options options;
    options.set_log_errors(false);
    options.set_max_mem(8 << 20);
    fresh = std::make_unique<re2::RE2>(
        re2::StringPiece(p, static_cast<size_t>(sqlite3_value_bytes(argv[0]))), options);
    if (!fresh->ok()) {
      std::string message = "invalid regex: " + fresh->error();
      sqlite3_result_error(context, message.c_str(), static_cast<int>(message.size()));
      return;
    }
    re = fresh.get();
  }
  const auto* t = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
  bool hit = re2::RE2::PartialMatch(
      re2::StringPiece(t, static_cast<size_t>(sqlite3_value_bytes(argv[1]))), *re);
  if (fresh) {
    sqlite3_set_auxdata(context, 0, fresh.release(),
                        [](void* p) { delete static_cast<re2::RE2*>(p); });
  }
  sqlite3_result_int(context, hit ? 1 : 0);
}

// "file:" URI for a path: %, ? and # would otherwise end or escape the path.
std::string ReadOnlyUri(const std::string& path) {
  std::string uri = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#' || static_cast<unsigned char>(c) < 0x20) {
      uri += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      uri.push_back(c);
    }
  }
  return uri + "?mode=ro";
}

bool Transient(int rc) {
  rc &= 0xff;
  return rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_IOERR || rc == SQLITE_CANTOPEN ||
         rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT || rc == SQLITE_FULL ||
         rc == SQLITE_PROTOCOL || rc == SQLITE_NOMEM;
}

// Declared column type -> kind, by SQLite's own affinity words; kUnknown when undeclared or
// unrecognised (then the first value decides).
ColumnKind DeclaredKind(const char* declared) {
  if (declared == nullptr) return ColumnKind::kUnknown;
  std::string t(declared);
  for (char& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto has = [&](const char* word) { return t.find(word) != std::string::npos; };
  if (has("BOOL")) return ColumnKind::kBool;
  if (has("DATE") || has("TIME")) return ColumnKind::kTimestamp;
  if (has("INT")) return ColumnKind::kNumber;
  if (has("CHAR") || has("CLOB") || has("TEXT")) return ColumnKind::kText;
  if (has("REAL") || has("FLOA") || has("DOUB") || has("NUM") || has("DEC")) {
    return ColumnKind::kNumber;
  }
  return ColumnKind::kUnknown;
}

bool ParseFullDouble(std::string_view s, double* out) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Collects one result column, deciding its kind from the declared type or the first value.
class ColumnBuilder {
 public:
  ColumnBuilder(std::string name, ColumnKind declared) : decided_(declared != ColumnKind::kUnknown) {
    column_.name = std::move(name);
    column_.kind = declared;
  }

  void Add(sqlite3_stmt* stmt, int i) {
    const int type = sqlite3_column_type(stmt, i);
    if (!decided_) {
      if (type == SQLITE_NULL) {
        column_.nulls.push_back(1);
        return;
      }
      Decide(type == SQLITE_INTEGER || type == SQLITE_FLOAT ? ColumnKind::kNumber
             : type == SQLITE_TEXT                          ? ColumnKind::kText
                                                            : ColumnKind::kUnknown);
    }
    if (column_.kind == ColumnKind::kText || column_.kind == ColumnKind::kUnknown) {
      if (type == SQLITE_NULL) {
        column_.texts.emplace_back();
        column_.nulls.push_back(1);
        return;
      }
      const auto* p = type == SQLITE_BLOB
                          ? static_cast<const char*>(sqlite3_column_blob(stmt, i))
                          : reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
      column_.texts.emplace_back(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(stmt, i)));
      column_.nulls.push_back(0);
      return;
    }
    double v = 0;
    bool ok = false;
    if (type == SQLITE_INTEGER) {
      v = static_cast<double>(sqlite3_column_int64(stmt, i));
      ok = true;
    } else if (type == SQLITE_FLOAT) {
      v = sqlite3_column_double(stmt, i);
      ok = true;
    } else if (type == SQLITE_TEXT) {
      std::string_view text(reinterpret_cast<const char*>(sqlite3_column_text(stmt, i)),
                            static_cast<size_t>(sqlite3_column_bytes(stmt, i)));
      if (column_.kind == ColumnKind::kTimestamp) {
        auto parsed = ParseTimeText(text);
        if (parsed.ok()) {
          column_.numbers.push_back(static_cast<double>(*parsed));
          column_.nulls.push_back(0);
          return;
        }
      } else if (column_.kind == ColumnKind::kBool &&
                 (text == "true" || text == "TRUE" || text == "t")) {
        v = 1, ok = true;
      } else if (column_.kind == ColumnKind::kBool &&
                 (text == "false" || text == "FALSE" || text == "f")) {
        v = 0, ok = true;
      } else {
        ok = ParseFullDouble(text, &v);
      }
    }
    if (ok && column_.kind == ColumnKind::kTimestamp) v = static_cast<double>(EpochToMs(v));
    if (ok && column_.kind == ColumnKind::kBool) v = v != 0 ? 1 : 0;
    column_.numbers.push_back(ok ? v : 0);
    column_.nulls.push_back(ok ? 0 : 1);
  }

  ResultColumn Finish() {
    if (!decided_) Decide(ColumnKind::kUnknown);
    return std::move(column_);
  }

 private:
  void Decide(ColumnKind kind) {
    decided_ = true;
    column_.kind = kind;
    const size_t pending = column_.nulls.size();
    if (kind == ColumnKind::kText || kind == ColumnKind::kUnknown) {
      column_.texts.resize(pending);
    } else {
      column_.numbers.resize(pending);
    }
  }

  ResultColumn column_;
  bool decided_;
};

}  // namespace

struct SqliteDriver::Connection {
  DbPtr db;
  std::unordered_map<std::string, StmtPtr> statements;
  Interrupt interrupt;
};

struct SqliteDriver::Pool {
  explicit Pool(int size) : size(size) {}
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::unique_ptr<Connection>> idle;
  int open = 0;
  const int size;
};

SqliteDriver::SqliteDriver(std::string path, int pool_size, int64_t busy_timeout_ms,
                           TimeFormat format)
    : path_(std::move(path)),
      name_("sqlite:" + path_),
      busy_timeout_ms_(busy_timeout_ms),
      time_format_(format),
      pool_(std::make_unique<Pool>(pool_size)) {}

SqliteDriver::~SqliteDriver() = default;

Result<std::unique_ptr<SqliteDriver>> SqliteDriver::Make(const SourceConfig& config) {
  TimeFormat format;
  if (config.time_format == "iso") format = TimeFormat::kIso;
  else if (config.time_format == "sqlite") format = TimeFormat::kSqlite;
  else if (config.time_format == "epoch_s") format = TimeFormat::kEpochS;
  else if (config.time_format == "epoch_ms") format = TimeFormat::kEpochMs;
  else {
    return InvalidArgument(
        "time_format: expected \"iso\", \"sqlite\", \"epoch_s\" or \"epoch_ms\", got \"{}\"",
        config.time_format);
  }
  if (config.pool_size < 1) return InvalidArgument("pool_size: must be at least 1");
  if (config.path.empty()) return InvalidArgument("path: a sqlite source needs the file's path");
  return std::unique_ptr<SqliteDriver>(
      new SqliteDriver(config.path, config.pool_size, config.busy_timeout_ms, format));
}

std::string SqliteDriver::RegexMatch(std::string_view column, std::string_view placeholder) const {
  return fmt::format("{} REGEXP {}", column, placeholder);
}

Status SqliteDriver::Query(std::string_view sql, const std::vector<Param>& params,
                           const QueryOptions& options, ResultSet* out) {
  auto cancelled = [&] {
    return options.cancelled != nullptr && options.cancelled->load(std::memory_order_relaxed);
  };
  // Waits never run past a day, so a "no deadline" max() cannot overflow the clock arithmetic.
  const Clock::time_point deadline = std::min(options.deadline, Clock::now() + std::chrono::hours(24));

  // Take an idle connection, open a new one while under the limit, or wait for one.
  std::unique_ptr<Connection> conn;
  {
    std::unique_lock lock(pool_->mu);
    while (!conn) {
      if (cancelled()) return Unavailable("{}: cancelled (the client went away)", name_);
      if (!pool_->idle.empty()) {
        conn = std::move(pool_->idle.back());
        pool_->idle.pop_back();
        break;
      }
      if (pool_->open < pool_->size) {
        ++pool_->open;
        lock.unlock();
        sqlite3* raw = nullptr;
        const std::string uri = ReadOnlyUri(path_);
        int rc = sqlite3_open_v2(uri.c_str(), &raw,
                                 SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
        DbPtr db(raw);
        if (rc != SQLITE_OK) {
          std::string message = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
          lock.lock();
          --pool_->open;
          pool_->cv.notify_one();
          return Unavailable("sqlite: cannot open {}: {}", path_, message);
        }
        sqlite3_busy_timeout(db.get(), static_cast<int>(std::min<int64_t>(busy_timeout_ms_, INT32_MAX)));
        sqlite3_create_function_v2(db.get(), "regexp", 2,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, &RegexpFunction,
                                   nullptr, nullptr, nullptr);
        conn = std::make_unique<Connection>();
        conn->db = std::move(db);
        sqlite3_progress_handler(conn->db.get(), kProgressSteps, &OnProgress, &conn->interrupt);
        break;
      }
      auto wake = std::min(deadline, Clock::now() + std::chrono::milliseconds(100));
      pool_->cv.wait_until(lock, wake);
      if (Clock::now() >= deadline && pool_->idle.empty()) {
        return MakeStatus(StatusCode::kDeadlineExceeded,
                          "{}: all {} connections stayed busy until the deadline", name_,
                          pool_->size);
      }
    }
  }
  auto release = [&] {
    std::lock_guard lock(pool_->mu);
    pool_->idle.push_back(std::move(conn));
    pool_->cv.notify_one();
  };

  sqlite3* db = conn->db.get();
  auto error = [&](int rc, std::string_view what) {
    std::string message = fmt::format("sqlite {}: {}: {}", path_, what, sqlite3_errmsg(db));
    return Status(Transient(rc) ? StatusCode::kUnavailable : StatusCode::kInvalidArgument,
                  std::move(message));
  };

  std::string key(sql);
  auto cached = conn->statements.find(key);
  sqlite3_stmt* stmt = nullptr;
  if (cached != conn->statements.end()) {
    stmt = cached->second.get();
  } else {
    if (conn->statements.size() >= kMaxCachedStatements) conn->statements.clear();
    int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      Status s = error(rc, fmt::format("cannot prepare \"{}\"", sql));
      sqlite3_finalize(stmt);
      release();
      return s;
    }
    if (stmt == nullptr) {
      release();
      return InvalidArgument("sqlite {}: the statement is empty", path_);
    }
    conn->statements.emplace(std::move(key), StmtPtr(stmt));
  }

  // Bind `$n` by name.
  const int count = sqlite3_bind_parameter_count(stmt);
  for (int i = 1; i <= count; ++i) {
    const char* name = sqlite3_bind_parameter_name(stmt, i);
    size_t n = 0;
    std::string_view text = name ? name : "";
    bool numbered = text.size() > 1 && text[0] == '$';
    if (numbered) {
      auto [p, ec] = std::from_chars(text.data() + 1, text.data() + text.size(), n);
      numbered = ec == std::errc() && p == text.data() + text.size();
    }
    if (!numbered || n < 1 || n > params.size()) {
      sqlite3_clear_bindings(stmt);
      release();
      return InvalidArgument("sqlite {}: parameter \"{}\" has no value ({} given)", path_, text,
                             params.size());
    }
    const Param& p = params[n - 1];
    switch (p.kind) {
      case Param::Kind::kNull: sqlite3_bind_null(stmt, i); break;
      case Param::Kind::kInt: sqlite3_bind_int64(stmt, i, p.int_value); break;
      case Param::Kind::kDouble: sqlite3_bind_double(stmt, i, p.double_value); break;
      case Param::Kind::kText:
        sqlite3_bind_text(stmt, i, p.text.data(), static_cast<int>(p.text.size()), SQLITE_STATIC);
        break;
      case Param::Kind::kTimestampMs: {
        const int64_t ms = p.int_value;
        switch (time_format_) {
          case TimeFormat::kEpochS:
            sqlite3_bind_int64(stmt, i, ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
            break;
          case TimeFormat::kEpochMs: sqlite3_bind_int64(stmt, i, ms); break;
          case TimeFormat::kIso:
          case TimeFormat::kSqlite: {
            std::string t = FormatTimestampMs(ms);  // 2024-05-01T12:00:00.000Z
            if (time_format_ == TimeFormat::kSqlite) {
              t[10] = ' ';
              t.pop_back();                                   // Z
              if (t.compare(t.size() - 4, 4, ".000") == 0) t.resize(t.size() - 4);
            }
            sqlite3_bind_text(stmt, i, t.data(), static_cast<int>(t.size()), SQLITE_TRANSIENT);
            break;
          }
        }
        break;
      }
    }
  }

  conn->interrupt = Interrupt{deadline, options.cancelled, false, false};
  const int columns = sqlite3_column_count(stmt);
  std::vector<ColumnBuilder> builders;
  builders.reserve(columns);
  for (int i = 0; i < columns; ++i) {
    const char* name = sqlite3_column_name(stmt, i);
    builders.emplace_back(name ? name : "", DeclaredKind(sqlite3_column_decltype(stmt, i)));
  }
  size_t rows = 0;
  Status status;
  for (;;) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc == SQLITE_ROW) {
      if (rows == options.max_rows) {
        status = ResourceExhausted(
            "{}: the statement returns more than {} rows (the request's point budget)", name_,
            options.max_rows);
        break;
      }
      for (int i = 0; i < columns; ++i) builders[i].Add(stmt, i);
      ++rows;
      continue;
    }
    if ((rc & 0xff) == SQLITE_INTERRUPT && conn->interrupt.was_cancelled) {
      status = Unavailable("{}: cancelled (the client went away)", name_);
    } else if ((rc & 0xff) == SQLITE_INTERRUPT && conn->interrupt.timed_out) {
      status = MakeStatus(StatusCode::kDeadlineExceeded,
                          "{}: the statement ran past its deadline and was interrupted", name_);
    } else {
      status = error(rc, "statement failed");
    }
    break;
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  conn->interrupt = Interrupt{};
  release();
  if (!status.ok()) return status;

  out->columns.clear();
  out->columns.reserve(columns);
  for (auto& b : builders) out->columns.push_back(b.Finish());
  out->rows = rows;
  return Status::OK();
}

}  // namespace sluice::sql
