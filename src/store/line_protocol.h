// InfluxDB 1.x line protocol: the text format Telegraf's `influxdb` output and InfluxDB 1.x clients
// POST to /write. This module turns a request body into points for the store's ingest path; it
// knows nothing of HTTP (the caller passes the body and the `precision` query parameter) nor of
// storage.
//
//   measurement[,tag_key=tag_value...] field_key=field_value[,field_key=field_value...] [timestamp]
//
// Lines are separated by '\n' ("\r\n" is accepted); blank lines and lines whose first non-blank
// character is '#' are skipped; spaces and tabs before a line and spaces, tabs and '\r' after it
// are ignored. A string field value may contain raw newlines, so one point can span several
// physical lines.
//
// Escaping (a backslash escapes the character after it only where listed; elsewhere it is literal):
//   measurement          "\," "\ "
//   tag key, tag value   "\," "\=" "\ "
//   field key            "\," "\=" "\ " "\""
//   string field value   "\"" "\\"   (inside double quotes; any other byte, newline included, as
//   is)
// So a name cannot end with a backslash (it would escape the separator after it), as in InfluxDB;
// Telegraf drops such keys before writing.
//
// Field values: float ("1", "-1.5", "1e+10", ".5"; NaN, Inf and overflowing values are rejected,
// underflow gives 0), integer ("12i", int64 range), unsigned ("12u", uint64 range), boolean
// (t T true True TRUE f F false False FALSE), string ("..."). The optional timestamp is an integer
// (may be negative) in the request's precision, converted to epoch milliseconds by floor division.
//
// Deviations from InfluxDB 1.x, all deliberate:
//   * A backslash never escapes a newline outside a string value; the line ends there.
//   * An unterminated string value makes the line end at the first newline after its opening
//     quote, so the lines after it are still parsed (InfluxDB drops the rest of the body).
//   * Timestamps must fit int64 after conversion to milliseconds (InfluxDB: to nanoseconds, i.e.
//     years 1677-2262); "12u" is always accepted (InfluxDB 1.x needs a feature flag).
//   * Trailing tabs and '\r' are tolerated as well as spaces.
//   * Field keys follow the tag-key rule above; InfluxDB scans them in backslash pairs, which
//     differs only for "\\" right before ',', '=' or ' ' in a field key.
// Not checked here (the store's job): InfluxDB's refusal of a field or tag named "time", and its
// 64 KiB limit on a series key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace sluice::store {

enum class Precision { kNanoseconds, kMicroseconds, kMilliseconds, kSeconds, kMinutes, kHours };

// Parses the `precision` query parameter: "", "n", "ns" -> ns; "u", "us", "µ" (U+00B5 or U+03BC)
// -> us; "ms"; "s"; "m"; "h". Anything else is InvalidArgument naming the text.
Result<Precision> ParsePrecision(std::string_view text);

enum class FieldType { kFloat, kInteger, kUnsigned, kBoolean, kString };

// "float", "integer", "unsigned", "boolean", "string".
std::string_view FieldTypeName(FieldType type);

struct LineField {
  std::string key;  // unescaped
  FieldType type = FieldType::kFloat;
  double number = 0;      // the value as a double for every type but kString (boolean: 1 or 0)
  int64_t integer = 0;    // exact for kInteger and kBoolean (1/0); kUnsigned: min(value, INT64_MAX)
  uint64_t uinteger = 0;  // exact for kUnsigned; 0 otherwise
  std::string text;       // kString: the unescaped value; empty otherwise
};

// One parsed line. Meant to be reused from line to line: the parser overwrites it in place, so the
// strings' capacity is recycled and a typical line allocates nothing.
struct LinePoint {
  std::string measurement;                                // unescaped, never empty
  std::vector<std::pair<std::string, std::string>> tags;  // unescaped, sorted by key, keys unique
  // The first `field_count` entries are the fields, in line order, keys unique: when a key repeats
  // on a line the last value wins and keeps the position of the first occurrence (InfluxDB keeps
  // the last value too). Entries past `field_count` are spare capacity with unspecified contents.
  std::vector<LineField> fields;
  size_t field_count = 0;  // >= 1 for a parsed point
  int64_t time_ms = 0;     // epoch milliseconds
  size_t line = 0;         // 1-based number of the physical line the point starts on

  std::span<const LineField> Fields() const { return {fields.data(), field_count}; }
};

struct LineError {
  size_t line = 0;      // 1-based physical line of the offending byte
  size_t column = 0;    // 1-based byte column of the offending byte in that line
  std::string message;  // what is wrong, quoting the offending text, e.g.
                        // invalid value "1.2.3" for field "usage"
  std::string excerpt;  // that physical line without its line break, cut to <= 200 bytes (at a
                        // UTF-8 character boundary)
};

// "line 3, column 14: <message> in \"<excerpt>\"" for logs and HTTP error bodies.
std::string FormatLineError(const LineError& error);

// Pull parser: Next() parses one line at a time. Cheapest way to consume a body; ParseLineProtocol
// below wraps it. Not thread-safe; `body` must outlive the parser. Never reads outside `body`.
class LineParser {
 public:
  enum class Step { kPoint, kBadLine, kEnd };

  // `now_ms` is the time of points without a timestamp.
  LineParser(std::string_view body, Precision precision, int64_t now_ms);

  LineParser(const LineParser&) = delete;
  LineParser& operator=(const LineParser&) = delete;

  // Parses the next non-blank, non-comment line.
  //   kPoint:   *point holds it (see LinePoint for how it is reused).
  //   kBadLine: the line was malformed and is skipped; *error describes it when `error` is not
  //             null (pass null to skip building the message); *point is unspecified.
  //   kEnd:     the body is exhausted; every later call returns kEnd.
  Step Next(LinePoint* point, LineError* error);

 private:
  struct Failure;

  // Parses the line starting at `p` (its first non-blank byte) into *point. Returns the position of
  // the line's terminating '\n' (or the end of the body), or nullptr with *failure set.
  const char* ParseLine(const char* p, LinePoint* point, Failure* failure);
  // Parse the value starting at `p` (not at a separator) into *field; return the byte after it or
  // nullptr. `key` is the field's key as written, for messages.
  const char* ParseFieldValue(const char* p, std::string_view key, LineField* field,
                              Failure* failure);
  const char* ParseNumber(const char* p, std::string_view key, LineField* field, Failure* failure);
  const char* ParseTimestamp(const char* p, int64_t* time_ms, Failure* failure);
  // Sorts point->tags by key; returns the second occurrence of a repeated key, or nullptr.
  const char* SortTags(LinePoint* point);
  // Resolves repeated keys among the first `count` fields; returns the new count.
  size_t DedupFieldsSlow(LinePoint* point, size_t count);
  std::pair<std::string, std::string>& TagAt(LinePoint* point, size_t index);
  void TrimTags(LinePoint* point, size_t count);
  void Describe(const Failure& failure, const char* line_begin, LineError* error) const;

  // Fields up to this index are checked for repeated keys as they are parsed (a 64-bit filter
  // makes that nearly free); a line with more is resolved by sorting.
  static constexpr size_t kQuickFields = 64;

  const char* begin_;
  const char* pos_;
  const char* end_;
  Precision precision_;
  int64_t now_ms_;
  size_t line_ = 1;             // physical line number at pos_
  size_t string_newlines_ = 0;  // newlines inside string values of the current line
  uint64_t field_signatures_[kQuickFields];
  std::vector<size_t> tag_offsets_;         // offset in the body of each tag of the current line
  std::vector<std::string> spare_strings_;  // from dropped tags, reused by later lines
  std::vector<std::pair<std::string, std::string>> tag_scratch_;
  std::vector<size_t> order_;
  std::vector<char> dropped_;
};

// Parses `body` and calls `on_point` (which must not be empty) for every good line; the point is
// only valid during the call. Bad lines are skipped: *bad_lines (if not null) is set to their
// number and *errors (if not null) is cleared and then receives the first `max_errors` of them.
// Never throws (short of std::bad_alloc) and never reads outside `body`. Thread-safe: it keeps no
// state between calls.
void ParseLineProtocol(std::string_view body, Precision precision, int64_t now_ms,
                       const std::function<void(const LinePoint&)>& on_point,
                       std::vector<LineError>* errors, size_t* bad_lines, size_t max_errors = 100);

// Appends `point` (its first field_count fields) to *out as one line of line protocol with a
// millisecond timestamp and a trailing '\n', escaped so that parsing it with Precision::
// kMilliseconds gives back the same point. Floats are written in their shortest round-trip form.
// Every point the parser returns can be written. Other names may not survive: empty names, a
// trailing backslash, a newline, a measurement starting with '#' or a tab, a first field key
// starting with a tab; NaN and Inf floats give a line the parser rejects.
void AppendLineProtocol(const LinePoint& point, std::string* out);

}  // namespace sluice::store
