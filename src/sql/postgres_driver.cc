#include "sql/postgres_driver.h"

#include <endian.h>
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/time.h"

namespace sluice::sql {
namespace {

using Clock = std::chrono::steady_clock;

// Type OIDs from PostgreSQL's pg_type.dat; stable across versions.
enum Oid : unsigned {
  kBoolOid = 16,
  kCharOid = 18,
  kNameOid = 19,
  kInt8Oid = 20,
  kInt2Oid = 21,
  kInt4Oid = 23,
  kTextOid = 25,
  kOidOid = 26,
  kJsonOid = 114,
  kFloat4Oid = 700,
  kFloat8Oid = 701,
  kUnknownOid = 705,
  kBpcharOid = 1042,
  kVarcharOid = 1043,
  kDateOid = 1082,
  kTimestampOid = 1114,
  kTimestamptzOid = 1184,
  kNumericOid = 1700,
  kUuidOid = 2950,
  kJsonbOid = 3802,
};

// Microseconds (and days) between the Unix epoch and PostgreSQL's, 2000-01-01.
constexpr int64_t kPgEpochMs = 946'684'800'000;
constexpr int64_t kMsPerDay = 86'400'000;

ColumnKind KindFor(unsigned oid) {
  switch (oid) {
    case kBoolOid:
      return ColumnKind::kBool;
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid:
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid:
      return ColumnKind::kNumber;
    case kDateOid:
    case kTimestampOid:
    case kTimestamptzOid:
      return ColumnKind::kTimestamp;
    case kCharOid:
    case kNameOid:
    case kTextOid:
    case kJsonOid:
    case kUnknownOid:
    case kBpcharOid:
    case kVarcharOid:
    case kUuidOid:
    case kJsonbOid:
      return ColumnKind::kText;
    default:
      return ColumnKind::kUnknown;
  }
}

// Every type KindFor knows has a binary form this file decodes.
bool BinaryDecodable(unsigned oid) { return KindFor(oid) != ColumnKind::kUnknown; }

// libpq's messages end in a newline and continue on tab-indented lines; make them one line.
std::string OneLine(const char* message) {
  std::string out;
  for (const char* p = message; p != nullptr && *p != '\0'; ++p) {
    char c = *p;
    if (c == '\n' || c == '\t' || c == '\r') {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out.empty() ? "unknown error" : out;
}

int MsUntil(Clock::time_point deadline) {
  if (deadline == Clock::time_point::max()) return INT32_MAX;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  // Round up so that a wait never ends just before the deadline and spins.
  int64_t ms = left.count() + 1;
  return static_cast<int>(std::clamp<int64_t>(ms, 0, INT32_MAX));
}

bool Cancelled(const std::atomic<bool>* cancelled) {
  return cancelled != nullptr && cancelled->load(std::memory_order_relaxed);
}

enum class WaitEnd { kReady, kBroken, kCancelled, kDeadline };

// Waits until the connection has a whole result (PQisBusy false), polling `cancelled` every
// `slice_ms`.
WaitEnd WaitForResult(PGconn* conn, Clock::time_point deadline,
                      const std::atomic<bool>* cancelled, int slice_ms) {
  for (;;) {
    if (!PQconsumeInput(conn)) return WaitEnd::kBroken;
    if (!PQisBusy(conn)) return WaitEnd::kReady;
    if (Cancelled(cancelled)) return WaitEnd::kCancelled;
    int left = MsUntil(deadline);
    if (left == 0) return WaitEnd::kDeadline;
    pollfd p{PQsocket(conn), POLLIN, 0};
    if (p.fd < 0) return WaitEnd::kBroken;
    int r = ::poll(&p, 1, std::min(left, slice_ms));
    if (r < 0 && errno != EINTR) return WaitEnd::kBroken;
  }
}

// True when an idle connection still looks usable: no pending input announcing its end (a
// server that shut down sends an error and closes).
bool IdleConnectionAlive(PGconn* conn) {
  if (PQstatus(conn) != CONNECTION_OK) return false;
  pollfd p{PQsocket(conn), POLLIN, 0};
  if (p.fd < 0) return false;
  if (::poll(&p, 1, 0) > 0) {
    if (!PQconsumeInput(conn)) return false;
    // Drop notices and notifications; a FATAL from the server shows up as a bad status.
    while (PGnotify* n = PQnotifies(conn)) PQfreemem(n);
  }
  return PQstatus(conn) == CONNECTION_OK;
}

// ---- decoding ----------------------------------------------------------------------------------

uint16_t Be16(const char* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return be16toh(v);
}
uint32_t Be32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return be32toh(v);
}
uint64_t Be64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return be64toh(v);
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// A binary numeric: ndigits, weight, sign, dscale (int16 each), then base-10000 digits. Rendered as
// decimal digits with an exponent and parsed once, so the double is correctly rounded.
bool DecodeNumericBinary(const char* p, int len, double* out) {
  if (len < 8) return false;
  const int ndigits = static_cast<int16_t>(Be16(p));
  const int weight = static_cast<int16_t>(Be16(p + 2));
  const uint16_t sign = Be16(p + 4);
  if (sign == 0xC000) {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (sign == 0xD000 || sign == 0xF000) {
    *out = sign == 0xD000 ? HUGE_VAL : -HUGE_VAL;
    return true;
  }
  if (ndigits < 0 || len < 8 + 2 * ndigits) return false;
  if (ndigits == 0) {
    *out = 0;
    return true;
  }
  char stack[128];
  std::string heap;
  const size_t need = 1 + 4 * static_cast<size_t>(ndigits) + 16;
  char* buf = stack;
  if (need > sizeof(stack)) {
    heap.resize(need);
    buf = heap.data();
  }
  char* w = buf;
  if (sign == 0x4000) *w++ = '-';
  for (int i = 0; i < ndigits; ++i) {
    unsigned d = Be16(p + 8 + 2 * i);
    w[0] = static_cast<char>('0' + d / 1000);
    w[1] = static_cast<char>('0' + d / 100 % 10);
    w[2] = static_cast<char>('0' + d / 10 % 10);
    w[3] = static_cast<char>('0' + d % 10);
    w += 4;
  }
  *w++ = 'e';
  w = std::to_chars(w, buf + need, 4 * (weight - ndigits + 1)).ptr;
  auto [end, ec] = std::from_chars(buf, w, *out);
  if (ec == std::errc::result_out_of_range) {
    *out = buf[0] == '-' ? -HUGE_VAL : HUGE_VAL;  // beyond double: saturate (tiny values are 0)
    return true;
  }
  return ec == std::errc() && end == w;
}

bool DecodeNumberText(const char* p, int len, double* out) {
  const char* end = p + len;
  if (p != end && *p == '+') ++p;
  auto [q, ec] = std::from_chars(p, end, *out);
  if (ec == std::errc::result_out_of_range) {
    *out = (len > 0 && p[0] == '-') ? -HUGE_VAL : HUGE_VAL;
    return true;
  }
  return ec == std::errc() && q == end;
}

bool ReadInt(const char*& p, const char* end, int digits, int* value) {
  if (end - p < digits) return false;
  int v = 0;
  for (int i = 0; i < digits; ++i) {
    if (p[i] < '0' || p[i] > '9') return false;
    v = v * 10 + (p[i] - '0');
  }
  p += digits;
  *value = v;
  return true;
}

enum class TimeParse { kOk, kInfinite, kBad };

// PostgreSQL's ISO output (DateStyle ISO): "2024-01-02", "2024-01-02 03:04:05[.ffffff]", with an
// offset "+05", "-03:30" or "+00:53:28" for timestamptz, years past 9999 with more digits, and a
// trailing " BC"; "infinity" and "-infinity".
TimeParse ParseTimeText(const char* p, int len, int64_t* ms) {
  const char* end = p + len;
  if (len > 0 && (p[0] == 'i' || p[0] == '-') && (std::string_view(p, len) == "infinity" ||
                                                  std::string_view(p, len) == "-infinity")) {
    return TimeParse::kInfinite;
  }
  bool bc = false;
  if (len > 3 && std::string_view(end - 3, 3) == " BC") {
    bc = true;
    end -= 3;
  }
  int64_t year = 0;
  int year_digits = 0;
  while (p < end && *p >= '0' && *p <= '9') {
    year = year * 10 + (*p++ - '0');
    if (++year_digits > 9) return TimeParse::kBad;
  }
  int month, day;
  if (year_digits < 4 || p == end || *p++ != '-' || !ReadInt(p, end, 2, &month) || p == end ||
      *p++ != '-' || !ReadInt(p, end, 2, &day) || month < 1 || month > 12 || day < 1 ||
      day > 31) {
    return TimeParse::kBad;
  }
  if (bc) year = 1 - year;
  int64_t total_ms = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) *
                     kMsPerDay;
  if (p < end && (*p == ' ' || *p == 'T')) {
    ++p;
    int h, mi, s;
    if (!ReadInt(p, end, 2, &h) || p == end || *p++ != ':' || !ReadInt(p, end, 2, &mi) ||
        p == end || *p++ != ':' || !ReadInt(p, end, 2, &s)) {
      return TimeParse::kBad;
    }
    total_ms += (h * 3600 + mi * 60 + s) * int64_t{1000};
    if (p < end && *p == '.') {
      ++p;
      int frac = 0, digits = 0;
      while (p < end && *p >= '0' && *p <= '9') {
        if (digits < 3) frac = frac * 10 + (*p - '0');
        ++digits;
        ++p;
      }
      if (digits == 0) return TimeParse::kBad;
      for (int i = digits; i < 3; ++i) frac *= 10;
      total_ms += frac;
    }
    if (p < end && (*p == '+' || *p == '-')) {
      const int64_t sign = *p++ == '-' ? -1 : 1;
      int oh = 0, om = 0, os = 0;
      if (!ReadInt(p, end, 2, &oh)) return TimeParse::kBad;
      if (p < end && *p == ':') {
        ++p;
        if (!ReadInt(p, end, 2, &om)) return TimeParse::kBad;
        if (p < end && *p == ':') {
          ++p;
          if (!ReadInt(p, end, 2, &os)) return TimeParse::kBad;
        }
      }
      total_ms -= sign * (oh * 3600 + om * 60 + os) * int64_t{1000};
    }
  }
  if (p != end) return TimeParse::kBad;
  *ms = total_ms;
  return TimeParse::kOk;
}

void AppendUuid(const char* p, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out->push_back('-');
    auto b = static_cast<unsigned char>(p[i]);
    out->push_back(kHex[b >> 4]);
    out->push_back(kHex[b & 15]);
  }
}

// Fills `column` (kind and name already set) from column `c` of `result`. On a value it cannot
// read returns InvalidArgument naming the column and row.
Status DecodeColumn(const PGresult* result, int c, const std::string& source, ResultColumn* col) {
  const int rows = PQntuples(result);
  const unsigned oid = PQftype(result, c);
  const bool binary = PQfformat(result, c) == 1;
  col->nulls.assign(static_cast<size_t>(rows), 0);
  auto bad = [&](int r) {
    std::string_view value(PQgetvalue(result, r, c),
                           std::min(PQgetlength(result, r, c), binary ? 0 : 64));
    return InvalidArgument("source {}: cannot read row {} of column \"{}\" (type oid {}){}{}",
                           source, r + 1, col->name, oid, value.empty() ? "" : ": ", value);
  };
  if (col->kind == ColumnKind::kText || col->kind == ColumnKind::kUnknown) {
    col->texts.resize(static_cast<size_t>(rows));
    for (int r = 0; r < rows; ++r) {
      if (PQgetisnull(result, r, c)) {
        col->nulls[r] = 1;
        continue;
      }
      const char* v = PQgetvalue(result, r, c);
      int len = PQgetlength(result, r, c);
      std::string& text = col->texts[r];
      if (binary && oid == kUuidOid) {
        if (len != 16) return bad(r);
        AppendUuid(v, &text);
      } else if (binary && oid == kJsonbOid) {
        if (len < 1 || v[0] != 1) return bad(r);
        text.assign(v + 1, static_cast<size_t>(len - 1));
      } else {
        text.assign(v, static_cast<size_t>(len));
      }
    }
    return Status::OK();
  }

  col->numbers.resize(static_cast<size_t>(rows));
  double* numbers = col->numbers.data();
  for (int r = 0; r < rows; ++r) {
    // No value of these types is empty, so only an empty one can be NULL: one libpq call per cell
    // instead of two in the common case (each does its own bounds checks; this loop is hot).
    const int len = PQgetlength(result, r, c);
    if (len == 0 && PQgetisnull(result, r, c)) {
      col->nulls[r] = 1;
      numbers[r] = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    const char* v = PQgetvalue(result, r, c);
    double& out = numbers[r];
    if (binary) {
      switch (oid) {
        case kBoolOid:
          if (len != 1) return bad(r);
          out = v[0] != 0 ? 1 : 0;
          break;
        case kInt2Oid:
          if (len != 2) return bad(r);
          out = static_cast<int16_t>(Be16(v));
          break;
        case kInt4Oid:
          if (len != 4) return bad(r);
          out = static_cast<int32_t>(Be32(v));
          break;
        case kOidOid:
          if (len != 4) return bad(r);
          out = Be32(v);
          break;
        case kInt8Oid:
          if (len != 8) return bad(r);
          out = static_cast<double>(static_cast<int64_t>(Be64(v)));
          break;
        case kFloat4Oid: {
          if (len != 4) return bad(r);
          uint32_t bits = Be32(v);
          float f;
          std::memcpy(&f, &bits, 4);
          out = f;
          break;
        }
        case kFloat8Oid: {
          if (len != 8) return bad(r);
          uint64_t bits = Be64(v);
          std::memcpy(&out, &bits, 8);
          break;
        }
        case kNumericOid:
          if (!DecodeNumericBinary(v, len, &out)) return bad(r);
          break;
        case kDateOid: {
          if (len != 4) return bad(r);
          auto days = static_cast<int32_t>(Be32(v));
          if (days == INT32_MIN || days == INT32_MAX) {  // -infinity, infinity
            col->nulls[r] = 1;
            out = std::numeric_limits<double>::quiet_NaN();
          } else {
            out = static_cast<double>(kPgEpochMs + int64_t{days} * kMsPerDay);
          }
          break;
        }
        case kTimestampOid:
        case kTimestamptzOid: {
          if (len != 8) return bad(r);
          auto us = static_cast<int64_t>(Be64(v));
          if (us == INT64_MIN || us == INT64_MAX) {
            col->nulls[r] = 1;
            out = std::numeric_limits<double>::quiet_NaN();
          } else {
            out = static_cast<double>(kPgEpochMs + FloorDiv(us, 1000));
          }
          break;
        }
        default:
          return bad(r);
      }
      continue;
    }
    if (col->kind == ColumnKind::kBool) {
      if (len != 1 || (v[0] != 't' && v[0] != 'f')) return bad(r);
      out = v[0] == 't' ? 1 : 0;
    } else if (col->kind == ColumnKind::kTimestamp) {
      int64_t ms = 0;
      TimeParse parsed = ParseTimeText(v, len, &ms);
      if (parsed == TimeParse::kBad) return bad(r);
      if (parsed == TimeParse::kInfinite) {
        col->nulls[r] = 1;
        out = std::numeric_limits<double>::quiet_NaN();
      } else {
        out = static_cast<double>(ms);
      }
    } else if (!DecodeNumberText(v, len, &out)) {
      return bad(r);
    }
  }
  return Status::OK();
}

// ---- parameters --------------------------------------------------------------------------------

// Text-format parameter values for PQsendQueryParams; the pointers stay valid while this lives.
class BoundParams {
 public:
  explicit BoundParams(const std::vector<Param>& params)
      : storage_(params.size()), values_(params.size()), types_(params.size()) {
    for (size_t i = 0; i < params.size(); ++i) {
      const Param& p = params[i];
      std::string& s = storage_[i];
      switch (p.kind) {
        case Param::Kind::kNull:
          types_[i] = 0;
          values_[i] = nullptr;
          continue;
        case Param::Kind::kInt:
          types_[i] = kInt8Oid;
          s = std::to_string(p.int_value);
          break;
        case Param::Kind::kDouble: {
          types_[i] = kFloat8Oid;
          if (std::isnan(p.double_value)) {
            s = "NaN";
          } else if (std::isinf(p.double_value)) {
            s = p.double_value > 0 ? "Infinity" : "-Infinity";
          } else {
            char buf[32];
            s.assign(buf, std::to_chars(buf, buf + sizeof(buf), p.double_value).ptr);
          }
          break;
        }
        case Param::Kind::kText:
          // Untyped, like a quoted literal in SQL text: the server infers the type from where the
          // placeholder stands (`device_id = $1` compares as the column's type). Write `$1::text`
          // where the context says nothing.
          types_[i] = 0;
          s = p.text;
          break;
        case Param::Kind::kTimestampMs:
          types_[i] = kTimestamptzOid;
          s = FormatTimestampMs(p.int_value);
          break;
      }
      values_[i] = s.c_str();
    }
  }
  int count() const { return static_cast<int>(values_.size()); }
  const unsigned* types() const { return types_.data(); }
  const char* const* values() const { return values_.data(); }

 private:
  std::vector<std::string> storage_;
  std::vector<const char*> values_;
  std::vector<unsigned> types_;
};

// The status for a failed statement, by SQLSTATE class.
Status StatementError(const PGresult* result, PGconn* conn, const std::string& source,
                      int statement_timeout_ms) {
  const char* state_field = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  std::string_view state = state_field ? state_field : "";
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  std::string message =
      primary ? std::string(primary) : OneLine(result ? PQresultErrorMessage(result)
                                                      : PQerrorMessage(conn));
  if (const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL)) {
    message += fmt::format(" ({})", detail);
  }
  if (state == "57014") {
    return MakeStatus(StatusCode::kDeadlineExceeded,
                      "source {}: the statement was cancelled by PostgreSQL{}: {}", source,
                      statement_timeout_ms > 0
                          ? fmt::format(" (statement_timeout is {} ms)", statement_timeout_ms)
                          : "",
                      message);
  }
  StatusCode code = StatusCode::kInternal;
  if (state.starts_with("08") || state.starts_with("53") || state.starts_with("57P") ||
      PQstatus(conn) == CONNECTION_BAD) {
    code = StatusCode::kUnavailable;
  } else if (state.starts_with("22") || state.starts_with("42") || state.starts_with("23")) {
    code = StatusCode::kInvalidArgument;
  } else if (state.starts_with("54")) {
    code = StatusCode::kResourceExhausted;
  }
  if (state.empty()) return MakeStatus(code, "source {}: query failed: {}", source, message);
  return MakeStatus(code, "source {}: query failed: {} (SQLSTATE {})", source, message, state);
}

// Asks the server to stop the statement running on `conn`.
void SendCancel(PGconn* conn) {
  PGcancel* cancel = PQgetCancel(conn);
  if (cancel == nullptr) return;
  char error[256];
  (void)PQcancel(cancel, error, sizeof(error));
  PQfreeCancel(cancel);
}

}  // namespace

void PostgresDriver::ConnDeleter::operator()(PGconn* conn) const { PQfinish(conn); }

PostgresDriver::PostgresDriver(PostgresOptions options)
    : options_(std::move(options)), display_name_("postgresql:" + options_.name) {
  setup_sql_ = "SET DateStyle = ISO";
  if (options_.statement_timeout_ms > 0) {
    setup_sql_ += fmt::format("; SET statement_timeout = {}", options_.statement_timeout_ms);
  }
}

PostgresDriver::~PostgresDriver() = default;

Result<std::unique_ptr<PostgresDriver>> PostgresDriver::Open(PostgresOptions options) {
  if (options.dsn.empty()) {
    return InvalidArgument("source {}: the PostgreSQL connection string (dsn) is empty",
                           options.name);
  }
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(options.dsn.c_str(), &error);
  if (parsed == nullptr) {
    std::string why = error ? OneLine(error) : "out of memory";
    if (error) PQfreemem(error);
    return InvalidArgument("source {}: invalid PostgreSQL connection string: {}", options.name,
                           why);
  }
  PQconninfoFree(parsed);
  auto check = [&](int value, int min, const char* key) -> Status {
    if (value < min) {
      return InvalidArgument("source {}: {} must be at least {}, got {}", options.name, key, min,
                             value);
    }
    return Status::OK();
  };
  SLUICE_RETURN_IF_ERROR(check(options.pool_size, 1, "pool_size"));
  SLUICE_RETURN_IF_ERROR(check(options.acquire_timeout_ms, 0, "acquire_timeout_ms"));
  SLUICE_RETURN_IF_ERROR(check(options.connect_timeout_ms, 1, "connect_timeout_ms"));
  SLUICE_RETURN_IF_ERROR(check(options.statement_timeout_ms, 0, "statement_timeout_ms"));
  SLUICE_RETURN_IF_ERROR(check(options.retry_interval_ms, 0, "retry_interval_ms"));
  SLUICE_RETURN_IF_ERROR(check(options.poll_slice_ms, 1, "poll_slice_ms"));
  return std::unique_ptr<PostgresDriver>(new PostgresDriver(std::move(options)));
}

Result<std::unique_ptr<Driver>> PostgresDriver::Make(const SourceConfig& config) {
  PostgresOptions options;
  options.name = config.name;
  options.dsn = config.connection;
  options.pool_size = config.pool_size;
  auto clamp_ms = [](int64_t ms) {
    return static_cast<int>(std::clamp<int64_t>(ms, 0, INT32_MAX));
  };
  options.connect_timeout_ms = clamp_ms(config.connect_timeout_ms);
  options.statement_timeout_ms = clamp_ms(config.statement_timeout_ms);
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<PostgresDriver> driver, Open(std::move(options)));
  return std::unique_ptr<Driver>(std::move(driver));
}

std::string PostgresDriver::TimestampPlaceholder(std::string_view placeholder) const {
  return fmt::format("{}::timestamptz", placeholder);
}

std::string PostgresDriver::RegexMatch(std::string_view column,
                                       std::string_view placeholder) const {
  return fmt::format("{} ~ {}", column, placeholder);
}

int PostgresDriver::OpenConnections() {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

Status PostgresDriver::Connect(Clock::time_point deadline, const std::atomic<bool>* cancelled,
                               Conn* out) {
  const auto connect_deadline =
      std::min(deadline, Clock::now() + std::chrono::milliseconds(options_.connect_timeout_ms));
  const char* keys[] = {"dbname", "fallback_application_name", "client_encoding", nullptr};
  const char* values[] = {options_.dsn.c_str(), "sluice", "UTF8", nullptr};
  Conn conn(PQconnectStartParams(keys, values, /*expand_dbname=*/1));
  if (!conn) return Internal("source {}: out of memory opening a connection", options_.name);
  auto fail = [&](std::string_view why) {
    return Unavailable("source {}: cannot connect to PostgreSQL: {}", options_.name, why);
  };
  if (PQstatus(conn.get()) == CONNECTION_BAD) return fail(OneLine(PQerrorMessage(conn.get())));
  for (PostgresPollingStatusType state = PGRES_POLLING_WRITING;;) {
    if (state == PGRES_POLLING_OK) break;
    if (state == PGRES_POLLING_FAILED) return fail(OneLine(PQerrorMessage(conn.get())));
    if (Cancelled(cancelled)) {
      return Unavailable("source {}: cancelled while connecting: the client went away",
                         options_.name);
    }
    int left = MsUntil(connect_deadline);
    if (left == 0) {
      return fail(fmt::format("no connection within {} ms (connect_timeout_ms)",
                              options_.connect_timeout_ms));
    }
    pollfd p{PQsocket(conn.get()),
             static_cast<short>(state == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
    if (p.fd < 0) return fail(OneLine(PQerrorMessage(conn.get())));
    int r = ::poll(&p, 1, std::min(left, options_.poll_slice_ms));
    if (r < 0 && errno != EINTR) return fail(std::strerror(errno));
    if (r > 0) state = PQconnectPoll(conn.get());
  }
  // One round trip of session settings, bounded like the connect.
  if (!PQsendQuery(conn.get(), setup_sql_.c_str())) {
    return fail(OneLine(PQerrorMessage(conn.get())));
  }
  Status status;
  for (;;) {
    WaitEnd end = WaitForResult(conn.get(), connect_deadline, cancelled, options_.poll_slice_ms);
    if (end != WaitEnd::kReady) {
      return fail(end == WaitEnd::kBroken ? OneLine(PQerrorMessage(conn.get()))
                                          : "the session setup did not finish in time");
    }
    PGresult* result = PQgetResult(conn.get());
    if (result == nullptr) break;
    if (PQresultStatus(result) != PGRES_COMMAND_OK && status.ok()) {
      status = fail(fmt::format("{} failed: {}", setup_sql_, OneLine(PQresultErrorMessage(result))));
    }
    PQclear(result);
  }
  SLUICE_RETURN_IF_ERROR(status);
  // Notices (RAISE NOTICE, the FATAL a server sends before closing an idle connection) would go
  // to stderr; the statuses above already carry what matters.
  PQsetNoticeProcessor(conn.get(), [](void*, const char*) {}, nullptr);
  *out = std::move(conn);
  return Status::OK();
}

Status PostgresDriver::Acquire(const QueryOptions& options, Conn* conn, bool* reused) {
  const auto start = Clock::now();
  const auto wait_deadline =
      std::min(options.deadline, start + std::chrono::milliseconds(options_.acquire_timeout_ms));
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (!idle_.empty()) {
      *conn = std::move(idle_.back());
      idle_.pop_back();
      *reused = true;
      return Status::OK();
    }
    if (open_ < options_.pool_size) {
      if (Clock::now() < failed_until_) return Unavailable("{}", last_connect_error_);
      ++open_;
      lock.unlock();
      Status status = Connect(options.deadline, options.cancelled, conn);
      if (status.ok()) {
        *reused = false;
        return status;
      }
      lock.lock();
      --open_;
      if (status.code() == StatusCode::kUnavailable && !Cancelled(options.cancelled)) {
        failed_until_ = Clock::now() + std::chrono::milliseconds(options_.retry_interval_ms);
        last_connect_error_ = status.message();
      }
      freed_.notify_one();
      return status;
    }
    if (Cancelled(options.cancelled)) {
      return Unavailable("source {}: cancelled while waiting for a connection: the client went "
                         "away",
                         options_.name);
    }
    const auto now = Clock::now();
    if (now >= wait_deadline) {
      auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - start).count();
      if (options.deadline <= now) {
        return MakeStatus(StatusCode::kDeadlineExceeded,
                          "source {}: the request deadline passed while waiting {} ms for a "
                          "connection (all {} are busy)",
                          options_.name, waited, options_.pool_size);
      }
      return Unavailable("source {}: all {} PostgreSQL connections are busy (waited {} ms); try "
                         "again, or raise pool_size",
                         options_.name, options_.pool_size, waited);
    }
    freed_.wait_until(lock, std::min(wait_deadline,
                                     now + std::chrono::milliseconds(options_.poll_slice_ms)));
  }
}

void PostgresDriver::Release(Conn conn, bool healthy) {
  if (healthy && (PQstatus(conn.get()) != CONNECTION_OK ||
                  PQtransactionStatus(conn.get()) != PQTRANS_IDLE)) {
    healthy = false;  // e.g. a target's SQL left a transaction open
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (healthy) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
  }
  freed_.notify_one();
  // An unhealthy `conn` is closed here, outside the lock.
}

void PostgresDriver::DropIdle() {
  std::vector<Conn> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    dropped.swap(idle_);
    open_ -= static_cast<int>(dropped.size());
  }
  freed_.notify_all();
}

bool PostgresDriver::BinaryKnownGood(std::string_view sql) {
  std::lock_guard<std::mutex> lock(formats_mu_);
  auto it = binary_ok_.find(std::string(sql));
  return it != binary_ok_.end() && it->second;
}

void PostgresDriver::NoteFormat(std::string_view sql, bool binary_ok) {
  std::lock_guard<std::mutex> lock(formats_mu_);
  // Statement texts come from configured targets, so this stays small; bound it anyway.
  if (binary_ok_.size() >= 4096) binary_ok_.clear();
  binary_ok_[std::string(sql)] = binary_ok;
}

Status PostgresDriver::RunOnce(PGconn* conn, std::string_view sql,
                               const std::vector<Param>& params, const QueryOptions& options,
                               ResultSet* out, bool* broken) {
  *broken = false;
  const bool binary = BinaryKnownGood(sql);
  const std::string statement(sql);
  BoundParams bound(params);
  if (!PQsendQueryParams(conn, statement.c_str(), bound.count(), bound.types(), bound.values(),
                         nullptr, nullptr, binary ? 1 : 0)) {
    *broken = PQstatus(conn) == CONNECTION_BAD;
    return Unavailable("source {}: cannot send the query: {}", options_.name,
                       OneLine(PQerrorMessage(conn)));
  }

  PGresult* first = nullptr;
  Status stopped;
  for (;;) {
    WaitEnd end = WaitForResult(conn, options.deadline, options.cancelled, options_.poll_slice_ms);
    if (end == WaitEnd::kBroken) {
      *broken = true;
      if (first) PQclear(first);
      return Unavailable("source {}: lost the connection to PostgreSQL: {}", options_.name,
                         OneLine(PQerrorMessage(conn)));
    }
    if (end == WaitEnd::kCancelled || end == WaitEnd::kDeadline) {
      SendCancel(conn);
      stopped = end == WaitEnd::kCancelled
                    ? Unavailable("source {}: query cancelled: the client went away",
                                  options_.name)
                    : MakeStatus(StatusCode::kDeadlineExceeded,
                                 "source {}: the query ran past the request's deadline and was "
                                 "cancelled",
                                 options_.name);
      // Let the server answer the cancel so the connection can be reused; close it otherwise.
      const auto grace = Clock::now() + std::chrono::seconds(1);
      for (;;) {
        if (WaitForResult(conn, grace, nullptr, options_.poll_slice_ms) != WaitEnd::kReady) {
          *broken = true;
          break;
        }
        PGresult* r = PQgetResult(conn);
        if (r == nullptr) break;
        PQclear(r);
      }
      if (first) PQclear(first);
      return stopped;
    }
    PGresult* r = PQgetResult(conn);
    if (r == nullptr) break;
    if (first == nullptr) {
      first = r;
    } else {
      PQclear(r);
    }
  }
  std::unique_ptr<PGresult, void (*)(PGresult*)> result(first, PQclear);
  if (!result) {
    *broken = PQstatus(conn) == CONNECTION_BAD;
    return Unavailable("source {}: no result from PostgreSQL: {}", options_.name,
                       OneLine(PQerrorMessage(conn)));
  }
  ExecStatusType state = PQresultStatus(result.get());
  if (state == PGRES_COMMAND_OK || state == PGRES_EMPTY_QUERY) {
    out->columns.clear();
    out->rows = 0;
    return Status::OK();
  }
  if (state != PGRES_TUPLES_OK) {
    *broken = PQstatus(conn) == CONNECTION_BAD;
    return StatementError(result.get(), conn, options_.name, options_.statement_timeout_ms);
  }

  const int ncols = PQnfields(result.get());
  bool all_binary = true;
  for (int c = 0; c < ncols; ++c) all_binary &= BinaryDecodable(PQftype(result.get(), c));
  if (binary && !all_binary) {
    // The statement's column types changed since its first run (the schema changed): the binary
    // values of an unknown type cannot be shown. Run it again as text from now on.
    NoteFormat(sql, false);
    return RunOnce(conn, sql, params, options, out, broken);
  }
  if (!binary) NoteFormat(sql, all_binary);

  const size_t rows = static_cast<size_t>(PQntuples(result.get()));
  if (rows > options.max_rows) {
    return ResourceExhausted(
        "source {}: the query returned {} rows, more than the {} this request may read; narrow "
        "the time range, lower maxDataPoints, or aggregate in SQL",
        options_.name, rows, options.max_rows);
  }
  out->rows = rows;
  out->columns.clear();
  out->columns.resize(static_cast<size_t>(ncols));
  for (int c = 0; c < ncols; ++c) {
    ResultColumn& col = out->columns[static_cast<size_t>(c)];
    col.name = PQfname(result.get(), c);
    col.kind = KindFor(PQftype(result.get(), c));
    SLUICE_RETURN_IF_ERROR(DecodeColumn(result.get(), c, options_.name, &col));
  }
  return Status::OK();
}

Status PostgresDriver::Query(std::string_view sql, const std::vector<Param>& params,
                             const QueryOptions& options, ResultSet* out) {
  // Pooled connections that turn out dead are dropped (with the rest of the idle ones) and
  // replaced; a statement that broke a reused connection is tried once more on a fresh one.
  bool retried = false;
  for (int attempt = 0;; ++attempt) {
    Conn conn;
    bool reused = false;
    SLUICE_RETURN_IF_ERROR(Acquire(options, &conn, &reused));
    if (reused && !IdleConnectionAlive(conn.get())) {
      Release(std::move(conn), /*healthy=*/false);
      DropIdle();
      if (attempt > options_.pool_size) {
        return Unavailable("source {}: every pooled connection to PostgreSQL was broken",
                           options_.name);
      }
      continue;
    }
    bool broken = false;
    Status status = RunOnce(conn.get(), sql, params, options, out, &broken);
    Release(std::move(conn), !broken);
    if (!broken) return status;
    DropIdle();
    if (!reused || retried || Cancelled(options.cancelled) || Clock::now() >= options.deadline ||
        status.code() == StatusCode::kDeadlineExceeded) {
      return status;
    }
    retried = true;
    out->columns.clear();
    out->rows = 0;
  }
}

}  // namespace sluice::sql
