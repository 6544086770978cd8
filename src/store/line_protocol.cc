#include "store/line_protocol.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <iterator>
#include <limits>
#include <numeric>
#include <system_error>

#include <fmt/format.h>

#include "common/strings.h"

namespace sluice::store {
namespace {

// Byte classes of the scanning loops, one bit each.
constexpr uint8_t kMeasurementStop = 1;  // ends a measurement (or starts an escape)
constexpr uint8_t kNameStop = 2;         // ends a tag key, tag value or field key
constexpr uint8_t kMeasurementEscape = 4;
constexpr uint8_t kTagEscape = 8;
constexpr uint8_t kFieldKeyEscape = 16;
constexpr uint8_t kValueEnd = 32;    // ends a number or boolean
constexpr uint8_t kStringStop = 64;  // stops the scan of a string value
constexpr uint8_t kDigit = 128;

constexpr std::array<uint8_t, 256> MakeClasses() {
  std::array<uint8_t, 256> classes{};
  auto set = [&classes](std::string_view chars, uint8_t bit) {
    for (char c : chars) classes[static_cast<unsigned char>(c)] |= bit;
  };
  set(", \\\n", kMeasurementStop);
  set(", =\\\n", kNameStop);
  set(", ", kMeasurementEscape);
  set(", =", kTagEscape);
  set(", =\"", kFieldKeyEscape);
  set(", \t\r\n", kValueEnd);
  set("\"\\\n", kStringStop);
  set("0123456789", kDigit);
  return classes;
}
constexpr std::array<uint8_t, 256> kClasses = MakeClasses();

inline bool Is(char c, uint8_t bits) {
  return (kClasses[static_cast<unsigned char>(c)] & bits) != 0;
}

inline bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Skips spaces, tabs and '\r'.
inline const char* SkipTrailingBlanks(const char* p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) ++p;
  return p;
}

// The first unescaped byte of class `stop` at or after `p`, or `end`. A backslash followed by a
// byte of class `escape` escapes it (and sets *escaped); any other backslash is an ordinary byte.
inline const char* ScanName(const char* p, const char* end, uint8_t stop, uint8_t escape,
                            bool* escaped) {
  for (;;) {
    while (p < end && !Is(*p, stop)) ++p;
    if (p == end || *p != '\\') return p;
    if (p + 1 < end && Is(p[1], escape)) {
      *escaped = true;
      p += 2;
    } else {
      ++p;
    }
  }
}

inline void AssignName(const char* begin, const char* end, bool escaped, uint8_t escape,
                       std::string* out) {
  if (!escaped) {
    out->assign(begin, static_cast<size_t>(end - begin));
    return;
  }
  out->clear();
  const char* run = begin;
  for (const char* p = begin; p < end;) {
    if (*p == '\\' && p + 1 < end && Is(p[1], escape)) {
      out->append(run, static_cast<size_t>(p - run));
      out->push_back(p[1]);
      p += 2;
      run = p;
    } else {
      ++p;
    }
  }
  out->append(run, static_cast<size_t>(end - run));
}

// Unescapes a string value's content: "\\" and "\"" lose their backslash, other pairs stay.
void AssignStringValue(const char* begin, const char* end, std::string* out) {
  out->clear();
  const char* run = begin;
  for (const char* p = begin; p < end;) {
    if (*p != '\\') {
      ++p;
      continue;
    }
    if (p + 1 < end && (p[1] == '\\' || p[1] == '"')) {
      out->append(run, static_cast<size_t>(p - run));
      out->push_back(p[1]);
      run = p + 2;
    }
    p += 2;
  }
  out->append(run, static_cast<size_t>(end - run));
}

// Past the closing quote of the string value whose opening quote is at `quote`, or nullptr when it
// is never closed. Counts the newlines inside into *newlines.
inline const char* ScanString(const char* quote, const char* end, bool* escaped, size_t* newlines) {
  const char* p = quote + 1;
  for (;;) {
    while (p < end && !Is(*p, kStringStop)) ++p;
    if (p == end) return nullptr;
    if (*p == '"') return p + 1;
    if (*p == '\n') {
      ++*newlines;
      ++p;
      continue;
    }
    // A backslash: it and the byte after it form a pair.
    if (p + 1 == end) return nullptr;
    if (p[1] == '\\' || p[1] == '"') *escaped = true;
    if (p[1] == '\n') ++*newlines;
    p += 2;
  }
}

// Where a malformed line starting at `p` ends: at the first newline outside a string value, with
// string values recognised as ParseLine does (a '"' right after a field's '='). A string never
// closed ends the line at the first newline after its quote.
const char* SkipLine(const char* p, const char* end) {
  auto line_end = [end](const char* q) {
    const void* nl = std::memchr(q, '\n', static_cast<size_t>(end - q));
    return nl ? static_cast<const char*>(nl) : end;
  };
  while (p < end && *p != '\n' && *p != ' ')
    p += (*p == '\\' && p + 1 < end && p[1] == ' ') ? 2 : 1;
  if (p == end || *p == '\n') return p;
  ++p;
  while (p < end && IsBlank(*p)) ++p;
  bool in_key = true;
  while (p < end) {
    const char c = *p;
    if (c == '\n') return p;
    if (c == ' ') return line_end(p);  // the timestamp part has no strings
    if (in_key) {
      if (c == '\\' && p + 1 < end && Is(p[1], kFieldKeyEscape)) {
        p += 2;
        continue;
      }
      if (c == '=') {
        in_key = false;
        if (p + 1 < end && p[1] == '"') {
          bool escaped = false;
          size_t newlines = 0;
          const char* after = ScanString(p + 1, end, &escaped, &newlines);
          if (after == nullptr) return line_end(p + 1);
          p = after;
          continue;
        }
      }
    } else if (c == ',') {
      in_key = true;
    }
    ++p;
  }
  return end;
}

constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && a < 0) --q;
  return q;
}

// A cheap summary of a key, equal for equal keys.
inline uint64_t KeySignature(const std::string& key) {
  const size_t n = key.size();
  uint64_t sig = static_cast<uint64_t>(n) << 32;
  if (n > 0) {
    sig |= static_cast<uint64_t>(static_cast<unsigned char>(key[0])) << 16 |
           static_cast<uint64_t>(static_cast<unsigned char>(key[n - 1])) << 8 |
           static_cast<unsigned char>(key[n / 2]);
  }
  return sig;
}

// `text` quoted for a message, cut to 64 bytes at a UTF-8 character boundary.
std::string Quote(std::string_view text) {
  constexpr size_t kMax = 64;
  if (text.size() <= kMax) return fmt::format("{:?}", text);
  size_t n = kMax;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return fmt::format("{:?}…", text.substr(0, n));
}

bool IsNanOrInf(std::string_view text) {
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) text.remove_prefix(1);
  return EqualsIgnoreCase(text, "nan") || EqualsIgnoreCase(text, "inf") ||
         EqualsIgnoreCase(text, "infinity");
}

// [p, first byte of class kValueEnd or end).
std::string_view ValueToken(const char* p, const char* end) {
  const char* q = p;
  while (q < end && !Is(*q, kValueEnd)) ++q;
  return {p, static_cast<size_t>(q - p)};
}

// [p, end of the physical line without trailing blanks).
std::string_view RestOfLine(const char* p, const char* end) {
  const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
  const char* q = nl ? static_cast<const char*>(nl) : end;
  while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r')) --q;
  return {p, static_cast<size_t>(q - p)};
}

void SwapValues(LineField* a, LineField* b) {
  std::swap(a->type, b->type);
  std::swap(a->number, b->number);
  std::swap(a->integer, b->integer);
  std::swap(a->uinteger, b->uinteger);
  a->text.swap(b->text);
}

enum class Problem {
  kMissingMeasurement,
  kMissingTagKey,
  kTagWithoutEquals,
  kMissingTagValue,
  kEqualsInTagValue,
  kDuplicateTag,
  kMissingFields,
  kMissingFieldKey,
  kFieldWithoutEquals,
  kMissingFieldValue,
  kInvalidFieldValue,
  kIntegerRange,
  kUnsignedRange,
  kFloatRange,
  kUnterminatedString,
  kAfterFieldValue,
  kInvalidTimestamp,
  kTimestampRange,
  kAfterTimestamp,
};

}  // namespace

struct LineParser::Failure {
  const char* pos = nullptr;
  Problem problem = Problem::kMissingFields;
  std::string_view key;   // the tag or field key concerned, as written
  std::string_view text;  // the offending text
};

namespace {

// Records a failure; returns nullptr for `return Fail(...)`.
template <typename Failure>
const char* Fail(Failure* failure, const char* pos, Problem problem, std::string_view key = {},
                 std::string_view text = {}) {
  failure->pos = pos;
  failure->problem = problem;
  failure->key = key;
  failure->text = text;
  return nullptr;
}

template <typename Failure>
std::string Message(const Failure& f) {
  switch (f.problem) {
    case Problem::kMissingMeasurement:
      return "missing measurement";
    case Problem::kMissingTagKey:
      return "missing tag key";
    case Problem::kTagWithoutEquals:
      return fmt::format("missing '=' after tag key {}", Quote(f.key));
    case Problem::kMissingTagValue:
      return fmt::format("missing value for tag {}", Quote(f.key));
    case Problem::kEqualsInTagValue:
      return fmt::format("unescaped '=' in value of tag {} (write it as \\=)", Quote(f.key));
    case Problem::kDuplicateTag:
      return fmt::format("duplicate tag key {}", Quote(f.key));
    case Problem::kMissingFields:
      return "missing fields";
    case Problem::kMissingFieldKey:
      return "missing field key";
    case Problem::kFieldWithoutEquals:
      return fmt::format("missing '=' after field key {}", Quote(f.key));
    case Problem::kMissingFieldValue:
      return fmt::format("missing value for field {}", Quote(f.key));
    case Problem::kInvalidFieldValue:
      return fmt::format("invalid field value {} for field {}{}", Quote(f.text), Quote(f.key),
                         IsNanOrInf(f.text) ? ": NaN and Inf are not supported" : "");
    case Problem::kIntegerRange:
      return fmt::format("integer field value {} for field {} is out of the int64 range",
                         Quote(f.text), Quote(f.key));
    case Problem::kUnsignedRange:
      return fmt::format("unsigned field value {} for field {} is out of the uint64 range",
                         Quote(f.text), Quote(f.key));
    case Problem::kFloatRange:
      return fmt::format("float field value {} for field {} is out of the float64 range",
                         Quote(f.text), Quote(f.key));
    case Problem::kUnterminatedString:
      return fmt::format("unterminated string value for field {}", Quote(f.key));
    case Problem::kAfterFieldValue:
      return fmt::format("unexpected {} after the value of field {}", Quote(f.text), Quote(f.key));
    case Problem::kInvalidTimestamp:
      return fmt::format("invalid timestamp {}: expected an integer", Quote(f.text));
    case Problem::kTimestampRange:
      return fmt::format("timestamp {} is out of range", Quote(f.text));
    case Problem::kAfterTimestamp:
      return fmt::format("unexpected {} after the timestamp", Quote(f.text));
  }
  return "malformed line";
}

}  // namespace

Result<Precision> ParsePrecision(std::string_view text) {
  if (text.empty() || text == "n" || text == "ns") return Precision::kNanoseconds;
  if (text == "u" || text == "us" || text == "\xC2\xB5" || text == "\xCE\xBC") {
    return Precision::kMicroseconds;
  }
  if (text == "ms") return Precision::kMilliseconds;
  if (text == "s") return Precision::kSeconds;
  if (text == "m") return Precision::kMinutes;
  if (text == "h") return Precision::kHours;
  return InvalidArgument("unknown precision {}: expected one of n, ns, u, us, µ, ms, s, m, h",
                         Quote(text));
}

std::string_view FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kFloat:
      return "float";
    case FieldType::kInteger:
      return "integer";
    case FieldType::kUnsigned:
      return "unsigned";
    case FieldType::kBoolean:
      return "boolean";
    case FieldType::kString:
      return "string";
  }
  return "unknown";
}

std::string FormatLineError(const LineError& error) {
  return fmt::format("line {}, column {}: {} in {:?}", error.line, error.column, error.message,
                     error.excerpt);
}

LineParser::LineParser(std::string_view body, Precision precision, int64_t now_ms)
    : begin_(body.data()),
      pos_(body.data()),
      end_(body.data() + body.size()),
      precision_(precision),
      now_ms_(now_ms) {}

LineParser::Step LineParser::Next(LinePoint* point, LineError* error) {
  const char* const end = end_;
  const char* p = pos_;
  for (;;) {
    if (p >= end) {
      pos_ = end;
      return Step::kEnd;
    }
    const char* const line_begin = p;
    while (p < end && IsBlank(*p)) ++p;
    const char* q = SkipTrailingBlanks(p, end);
    if (q < end && *q != '\n' && *p == '#') {
      const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
      q = nl ? static_cast<const char*>(nl) : end;
    }
    if (q == end || *q == '\n') {  // blank or comment
      if (q < end) ++line_;
      p = q + (q < end ? 1 : 0);
      continue;
    }

    string_newlines_ = 0;
    Failure failure;
    const char* line_end = ParseLine(p, point, &failure);
    if (line_end != nullptr) {
      point->line = line_;
      line_ += string_newlines_;
      if (line_end < end) {
        ++line_;
        ++line_end;
      }
      pos_ = line_end;
      return Step::kPoint;
    }

    const char* stop = SkipLine(p, end);
    if (stop < failure.pos) {
      const void* nl = std::memchr(failure.pos, '\n', static_cast<size_t>(end - failure.pos));
      stop = nl ? static_cast<const char*>(nl) : end;
    }
    if (error != nullptr) Describe(failure, line_begin, error);
    line_ += static_cast<size_t>(std::count(line_begin, stop, '\n'));
    if (stop < end) {
      ++line_;
      ++stop;
    }
    pos_ = stop;
    return Step::kBadLine;
  }
}

void LineParser::Describe(const Failure& failure, const char* line_begin, LineError* error) const {
  size_t line = line_;
  const char* physical_begin = line_begin;
  for (const char* q = line_begin; q < failure.pos;) {
    const void* nl = std::memchr(q, '\n', static_cast<size_t>(failure.pos - q));
    if (nl == nullptr) break;
    ++line;
    q = static_cast<const char*>(nl) + 1;
    physical_begin = q;
  }
  error->line = line;
  error->column = static_cast<size_t>(failure.pos - physical_begin) + 1;
  error->message = Message(failure);

  const void* nl = std::memchr(physical_begin, '\n', static_cast<size_t>(end_ - physical_begin));
  const char* physical_end = nl ? static_cast<const char*>(nl) : end_;
  if (physical_end > physical_begin && physical_end[-1] == '\r') --physical_end;
  constexpr size_t kMaxExcerpt = 200;
  size_t n = static_cast<size_t>(physical_end - physical_begin);
  if (n > kMaxExcerpt) {
    n = kMaxExcerpt;
    while (n > 0 && (static_cast<unsigned char>(physical_begin[n]) & 0xC0) == 0x80) --n;
  }
  error->excerpt.assign(physical_begin, n);
}

std::pair<std::string, std::string>& LineParser::TagAt(LinePoint* point, size_t index) {
  auto& tags = point->tags;
  if (index < tags.size()) return tags[index];
  auto& tag = tags.emplace_back();
  if (spare_strings_.size() >= 2) {
    tag.first.swap(spare_strings_.back());
    spare_strings_.pop_back();
    tag.second.swap(spare_strings_.back());
    spare_strings_.pop_back();
  }
  return tag;
}

void LineParser::TrimTags(LinePoint* point, size_t count) {
  auto& tags = point->tags;
  while (tags.size() > count) {
    spare_strings_.push_back(std::move(tags.back().first));
    spare_strings_.push_back(std::move(tags.back().second));
    tags.pop_back();
  }
}

const char* LineParser::SortTags(LinePoint* point) {
  auto& tags = point->tags;
  const size_t n = tags.size();
  order_.resize(n);
  std::iota(order_.begin(), order_.end(), size_t{0});
  std::sort(order_.begin(), order_.end(), [&tags](size_t a, size_t b) {
    const int c = tags[a].first.compare(tags[b].first);
    return c < 0 || (c == 0 && a < b);
  });
  size_t duplicate = n;
  for (size_t i = 1; i < n; ++i) {
    if (tags[order_[i]].first == tags[order_[i - 1]].first) {
      duplicate = std::min(duplicate, order_[i]);
    }
  }
  if (duplicate < n) return begin_ + tag_offsets_[duplicate];
  tag_scratch_.resize(n);
  for (size_t i = 0; i < n; ++i) std::swap(tag_scratch_[i], tags[order_[i]]);
  for (size_t i = 0; i < n; ++i) std::swap(tags[i], tag_scratch_[i]);
  return nullptr;
}

size_t LineParser::DedupFieldsSlow(LinePoint* point, size_t count) {
  auto& fields = point->fields;
  order_.resize(count);
  std::iota(order_.begin(), order_.end(), size_t{0});
  std::sort(order_.begin(), order_.end(), [&fields](size_t a, size_t b) {
    const int c = fields[a].key.compare(fields[b].key);
    return c < 0 || (c == 0 && a < b);
  });
  dropped_.assign(count, 0);
  for (size_t i = 0; i < count;) {
    size_t j = i + 1;
    while (j < count && fields[order_[j]].key == fields[order_[i]].key) ++j;
    if (j - i > 1) {
      SwapValues(&fields[order_[i]], &fields[order_[j - 1]]);
      for (size_t k = i + 1; k < j; ++k) dropped_[order_[k]] = 1;
    }
    i = j;
  }
  size_t kept = 0;
  for (size_t i = 0; i < count; ++i) {
    if (dropped_[i]) continue;
    if (kept != i) std::swap(fields[kept], fields[i]);
    ++kept;
  }
  return kept;
}

const char* LineParser::ParseLine(const char* p, LinePoint* point, Failure* failure) {
  const char* const end = end_;

  // Measurement.
  if (*p == ',') return Fail(failure, p, Problem::kMissingMeasurement);
  bool escaped = false;
  const char* begin = p;
  p = ScanName(p, end, kMeasurementStop, kMeasurementEscape, &escaped);
  AssignName(begin, p, escaped, kMeasurementEscape, &point->measurement);

  // Tags.
  size_t tag_count = 0;
  bool sorted = true;
  while (p < end && *p == ',') {
    const char* const key_begin = ++p;
    bool key_escaped = false;
    p = ScanName(p, end, kNameStop, kTagEscape, &key_escaped);
    const std::string_view key(key_begin, static_cast<size_t>(p - key_begin));
    if (key.empty()) return Fail(failure, p, Problem::kMissingTagKey);
    if (p == end || *p != '=') return Fail(failure, p, Problem::kTagWithoutEquals, key);
    const char* const value_begin = ++p;
    escaped = false;
    p = ScanName(p, end, kNameStop, kTagEscape, &escaped);
    if (p == value_begin) return Fail(failure, p, Problem::kMissingTagValue, key);
    if (p < end && *p == '=') return Fail(failure, p, Problem::kEqualsInTagValue, key);

    auto& tag = TagAt(point, tag_count);
    AssignName(key_begin, key.end(), key_escaped, kTagEscape, &tag.first);
    AssignName(value_begin, p, escaped, kTagEscape, &tag.second);
    const size_t offset = static_cast<size_t>(key_begin - begin_);
    if (tag_count < tag_offsets_.size()) {
      tag_offsets_[tag_count] = offset;
    } else {
      tag_offsets_.push_back(offset);
    }
    if (tag_count > 0 && !(point->tags[tag_count - 1].first < tag.first)) sorted = false;
    ++tag_count;
  }
  TrimTags(point, tag_count);
  if (p == end || *p != ' ') return Fail(failure, p, Problem::kMissingFields);
  if (!sorted) {
    if (const char* duplicate = SortTags(point)) {
      bool unused = false;
      const char* key_end = ScanName(duplicate, end, kNameStop, kTagEscape, &unused);
      return Fail(failure, duplicate, Problem::kDuplicateTag,
                  std::string_view(duplicate, static_cast<size_t>(key_end - duplicate)));
    }
  }

  // Fields.
  ++p;
  while (p < end && IsBlank(*p)) ++p;
  {
    const char* q = SkipTrailingBlanks(p, end);
    if (q == end || *q == '\n') return Fail(failure, p, Problem::kMissingFields);
  }
  auto& fields = point->fields;
  size_t field_count = 0;
  uint64_t filter = 0;
  bool many_fields = false;
  std::string_view key;
  for (;;) {
    const char* const key_begin = p;
    escaped = false;
    p = ScanName(p, end, kNameStop, kFieldKeyEscape, &escaped);
    key = std::string_view(key_begin, static_cast<size_t>(p - key_begin));
    if (key.empty()) return Fail(failure, p, Problem::kMissingFieldKey);
    if (p == end || *p != '=') return Fail(failure, p, Problem::kFieldWithoutEquals, key);
    ++p;
    if (p == end || Is(*p, kValueEnd)) return Fail(failure, p, Problem::kMissingFieldValue, key);

    if (field_count == fields.size()) fields.emplace_back();
    LineField* field = &fields[field_count];
    AssignName(key_begin, key.end(), escaped, kFieldKeyEscape, &field->key);
    LineField* target = field;
    if (field_count < kQuickFields) {
      const uint64_t signature = KeySignature(field->key);
      const uint64_t bit = uint64_t{1} << ((signature * 0x9E3779B97F4A7C15ULL) >> 58);
      if ((filter & bit) != 0) {
        for (size_t i = 0; i < field_count; ++i) {
          if (field_signatures_[i] == signature && fields[i].key == field->key) {
            target = &fields[i];
            break;
          }
        }
      }
      filter |= bit;
      field_signatures_[field_count] = signature;
    } else {
      many_fields = true;
    }
    p = ParseFieldValue(p, key, target, failure);
    if (p == nullptr) return nullptr;
    if (target == field) ++field_count;
    if (p < end && *p == ',') {
      ++p;
      continue;
    }
    break;
  }
  point->field_count = many_fields ? DedupFieldsSlow(point, field_count) : field_count;

  // Timestamp.
  point->time_ms = now_ms_;
  if (p < end && *p == ' ') {
    while (p < end && IsBlank(*p)) ++p;
    const char* q = SkipTrailingBlanks(p, end);
    if (q < end && *q != '\n') {
      p = ParseTimestamp(p, &point->time_ms, failure);
      if (p == nullptr) return nullptr;
      p = SkipTrailingBlanks(p, end);
      if (p < end && *p != '\n') {
        return Fail(failure, p, Problem::kAfterTimestamp, {}, RestOfLine(p, end));
      }
      return p;
    }
    return q;
  }
  const char* q = SkipTrailingBlanks(p, end);
  if (q < end && *q != '\n') {
    return Fail(failure, q, Problem::kAfterFieldValue, key, RestOfLine(q, end));
  }
  return q;
}

const char* LineParser::ParseFieldValue(const char* p, std::string_view key, LineField* field,
                                        Failure* failure) {
  const char* const end = end_;
  const char c = *p;
  if (c == '"') {
    bool escaped = false;
    const char* after = ScanString(p, end, &escaped, &string_newlines_);
    if (after == nullptr) return Fail(failure, p, Problem::kUnterminatedString, key);
    field->type = FieldType::kString;
    field->number = 0;
    field->integer = 0;
    field->uinteger = 0;
    if (escaped) {
      AssignStringValue(p + 1, after - 1, &field->text);
    } else {
      field->text.assign(p + 1, static_cast<size_t>(after - 1 - (p + 1)));
    }
    return after;
  }
  if (Is(c, kDigit) || c == '-' || c == '.') return ParseNumber(p, key, field, failure);

  const std::string_view token = ValueToken(p, end);
  bool value = false;
  bool valid = false;
  switch (token.size()) {
    case 1:
      valid = c == 't' || c == 'T' || c == 'f' || c == 'F';
      value = c == 't' || c == 'T';
      break;
    case 4:
      valid = value = token == "true" || token == "True" || token == "TRUE";
      break;
    case 5:
      valid = token == "false" || token == "False" || token == "FALSE";
      break;
    default:
      break;
  }
  if (!valid) return Fail(failure, p, Problem::kInvalidFieldValue, key, token);
  field->type = FieldType::kBoolean;
  field->number = value ? 1 : 0;
  field->integer = value ? 1 : 0;
  field->uinteger = 0;
  field->text.clear();
  return p + token.size();
}

const char* LineParser::ParseNumber(const char* p, std::string_view key, LineField* field,
                                    Failure* failure) {
  const char* const end = end_;
  const char* const begin = p;
  auto invalid = [&] {
    return Fail(failure, begin, Problem::kInvalidFieldValue, key, ValueToken(begin, end));
  };

  // Grammar: -?(digits(.digits?)?|.digits)([eE][+-]?digits)?[iu]?, accumulating the digits into
  // `mantissa`, which is exact when there are at most 19 of them.
  const bool negative = *p == '-';
  if (negative) ++p;
  uint64_t mantissa = 0;
  auto digits = [&mantissa, end](const char* q) {
    for (; q < end; ++q) {
      const unsigned d = static_cast<unsigned>(static_cast<unsigned char>(*q)) - '0';
      if (d > 9) break;
      mantissa = mantissa * 10 + d;
    }
    return q;
  };
  const char* const int_begin = p;
  p = digits(p);
  const char* const int_end = p;
  int64_t fraction_digits = 0;
  bool has_dot = false;
  if (p < end && *p == '.') {
    has_dot = true;
    const char* const fraction_begin = ++p;
    p = digits(p);
    fraction_digits = p - fraction_begin;
  }
  const bool exact_mantissa = (int_end - int_begin) + fraction_digits <= 19;
  if (int_end == int_begin && fraction_digits == 0) return invalid();
  bool has_exponent = false;
  int64_t exponent = 0;
  if (p < end && (*p == 'e' || *p == 'E')) {
    has_exponent = true;
    ++p;
    bool exponent_negative = false;
    if (p < end && (*p == '+' || *p == '-')) exponent_negative = *p++ == '-';
    const char* const exponent_begin = p;
    for (; p < end && Is(*p, kDigit); ++p) {
      if (exponent < 1'000'000'000'000'000) exponent = exponent * 10 + (*p - '0');
    }
    if (p == exponent_begin) return invalid();
    if (exponent_negative) exponent = -exponent;
  }
  const char* const number_end = p;
  char suffix = 0;
  if (p < end && (*p == 'i' || *p == 'u')) {
    if (has_dot || has_exponent) return invalid();
    suffix = *p++;
  }
  if (p < end && !Is(*p, kValueEnd)) return invalid();

  field->text.clear();
  if (suffix != 0) {
    if (suffix == 'u' && negative) return invalid();
    uint64_t value = mantissa;
    bool overflow = false;
    if (!exact_mantissa) {
      value = 0;
      for (const char* q = int_begin; q < int_end; ++q) {
        overflow |= __builtin_mul_overflow(value, 10u, &value);
        overflow |= __builtin_add_overflow(value, static_cast<unsigned>(*q - '0'), &value);
      }
    }
    constexpr uint64_t kInt64Max = std::numeric_limits<int64_t>::max();
    if (suffix == 'i') {
      if (overflow || value > kInt64Max + (negative ? 1 : 0)) {
        return Fail(failure, begin, Problem::kIntegerRange, key, ValueToken(begin, end));
      }
      field->type = FieldType::kInteger;
      field->integer = static_cast<int64_t>(negative ? 0 - value : value);
      field->uinteger = 0;
      field->number = static_cast<double>(field->integer);
    } else {
      if (overflow) {
        return Fail(failure, begin, Problem::kUnsignedRange, key, ValueToken(begin, end));
      }
      field->type = FieldType::kUnsigned;
      field->uinteger = value;
      field->integer = static_cast<int64_t>(std::min(value, kInt64Max));
      field->number = static_cast<double>(value);
    }
    return p;
  }

  field->type = FieldType::kFloat;
  field->integer = 0;
  field->uinteger = 0;
  // Clinger's fast path: both operands are exact doubles, so one rounding gives the right answer.
  const int64_t exponent10 = exponent - fraction_digits;
  if (exact_mantissa && mantissa <= (uint64_t{1} << 53) && exponent10 >= -22 && exponent10 <= 22) {
    double value = static_cast<double>(mantissa);
    value = exponent10 >= 0 ? value * kPow10[exponent10] : value / kPow10[-exponent10];
    field->number = negative ? -value : value;
    return p;
  }
  double value = 0;
  const auto [ptr, ec] = std::from_chars(begin, number_end, value);
  if (ec == std::errc::result_out_of_range) {
    // Out of range means Inf or 0: tell them apart by the decimal magnitude.
    const char* first = int_begin;
    while (first < number_end && (*first == '0' || *first == '.')) ++first;
    int64_t magnitude = exponent;
    if (first < int_end) {
      magnitude += int_end - first;
    } else {
      magnitude -= first - int_end - (has_dot ? 1 : 0);
    }
    if (magnitude > 0) {
      return Fail(failure, begin, Problem::kFloatRange, key, ValueToken(begin, end));
    }
    value = 0;
  } else if (ec != std::errc() || ptr != number_end) {
    return invalid();
  }
  field->number = negative && value == 0 ? -0.0 : value;
  return p;
}

const char* LineParser::ParseTimestamp(const char* p, int64_t* time_ms, Failure* failure) {
  const char* const end = end_;
  const char* const begin = p;
  auto token = [&] {
    const char* q = begin;
    while (q < end && *q != ' ' && *q != '\t' && *q != '\r' && *q != '\n') ++q;
    return std::string_view(begin, static_cast<size_t>(q - begin));
  };
  const bool negative = *p == '-';
  if (negative) ++p;
  const char* const digits_begin = p;
  uint64_t value = 0;
  for (; p < end; ++p) {
    const unsigned d = static_cast<unsigned>(static_cast<unsigned char>(*p)) - '0';
    if (d > 9) break;
    value = value * 10 + d;
  }
  bool overflow = false;
  if (p - digits_begin > 19) {  // 19 digits cannot wrap a uint64; more are checked one by one
    value = 0;
    for (const char* q = digits_begin; q < p; ++q) {
      overflow |= __builtin_mul_overflow(value, 10u, &value);
      overflow |= __builtin_add_overflow(value, static_cast<unsigned>(*q - '0'), &value);
    }
  }
  if (p == digits_begin || (p < end && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')) {
    return Fail(failure, begin, Problem::kInvalidTimestamp, {}, token());
  }
  constexpr uint64_t kInt64Max = std::numeric_limits<int64_t>::max();
  if (overflow || value > kInt64Max + (negative ? 1 : 0)) {
    return Fail(failure, begin, Problem::kTimestampRange, {}, token());
  }
  const int64_t t = static_cast<int64_t>(negative ? 0 - value : value);
  int64_t factor = 1;
  switch (precision_) {
    case Precision::kNanoseconds:
      *time_ms = FloorDiv(t, 1'000'000);
      return p;
    case Precision::kMicroseconds:
      *time_ms = FloorDiv(t, 1'000);
      return p;
    case Precision::kMilliseconds:
      *time_ms = t;
      return p;
    case Precision::kSeconds:
      factor = 1'000;
      break;
    case Precision::kMinutes:
      factor = 60'000;
      break;
    case Precision::kHours:
      factor = 3'600'000;
      break;
  }
  if (__builtin_mul_overflow(t, factor, time_ms)) {
    return Fail(failure, begin, Problem::kTimestampRange, {}, token());
  }
  return p;
}

void ParseLineProtocol(std::string_view body, Precision precision, int64_t now_ms,
                       const std::function<void(const LinePoint&)>& on_point,
                       std::vector<LineError>* errors, size_t* bad_lines, size_t max_errors) {
  if (errors != nullptr) errors->clear();
  LineParser parser(body, precision, now_ms);
  LinePoint point;
  LineError error;
  size_t bad = 0;
  for (;;) {
    const bool keep = errors != nullptr && errors->size() < max_errors;
    switch (parser.Next(&point, keep ? &error : nullptr)) {
      case LineParser::Step::kPoint:
        on_point(point);
        break;
      case LineParser::Step::kBadLine:
        ++bad;
        if (keep) errors->push_back(std::move(error));
        break;
      case LineParser::Step::kEnd:
        if (bad_lines != nullptr) *bad_lines = bad;
        return;
    }
  }
}

namespace {

// Appends `text`, putting a backslash before every byte of class `escape`.
void AppendEscaped(std::string_view text, uint8_t escape, std::string* out) {
  size_t run = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (Is(text[i], escape)) {
      out->append(text.data() + run, i - run);
      out->push_back('\\');
      run = i;
    }
  }
  out->append(text.data() + run, text.size() - run);
}

}  // namespace

void AppendLineProtocol(const LinePoint& point, std::string* out) {
  AppendEscaped(point.measurement, kMeasurementEscape, out);
  for (const auto& [key, value] : point.tags) {
    out->push_back(',');
    AppendEscaped(key, kTagEscape, out);
    out->push_back('=');
    AppendEscaped(value, kTagEscape, out);
  }
  char separator = ' ';
  for (const LineField& field : point.Fields()) {
    out->push_back(separator);
    separator = ',';
    AppendEscaped(field.key, kFieldKeyEscape, out);
    out->push_back('=');
    auto it = std::back_inserter(*out);
    switch (field.type) {
      case FieldType::kFloat:
        fmt::format_to(it, "{}", field.number);
        break;
      case FieldType::kInteger:
        fmt::format_to(it, "{}i", field.integer);
        break;
      case FieldType::kUnsigned:
        fmt::format_to(it, "{}u", field.uinteger);
        break;
      case FieldType::kBoolean:
        out->append(field.number != 0 ? "true" : "false");
        break;
      case FieldType::kString:
        out->push_back('"');
        for (char c : field.text) {
          if (c == '"' || c == '\\') out->push_back('\\');
          out->push_back(c);
        }
        out->push_back('"');
        break;
    }
  }
  fmt::format_to(std::back_inserter(*out), " {}\n", point.time_ms);
}

}  // namespace sluice::store
