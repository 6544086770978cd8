// Shared pieces of the libFuzzer targets: the sources the protocol targets drive, the server options
// that bound their work, and the oracles that decide whether an output is acceptable.
//
// An oracle that fails calls Die(), which prints what was wrong and aborts, so libFuzzer saves the
// input as a crash. Findings already reported upstream can be tolerated (the default, so a fuzzing
// run keeps exploring past them) or made fatal with SLUICE_FUZZ_STRICT=1 in the environment; the
// saved inputs under fuzz/regressions/ are meant to be replayed in strict mode.
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "protocol/json_api.h"
#include "source/memory_source.h"

namespace sluice::fuzz {

[[noreturn]] inline void Die(std::string_view what, std::string_view detail) {
  std::fprintf(stderr, "\n*** FUZZ ORACLE FAILED: %.*s\n", static_cast<int>(what.size()),
               what.data());
  constexpr size_t kMaxDetail = 2000;
  std::fprintf(stderr, "%.*s%s\n", static_cast<int>(std::min(detail.size(), kMaxDetail)),
               detail.data(), detail.size() > kMaxDetail ? "…" : "");
  std::abort();
}

// True when known findings should abort instead of being tolerated.
inline bool Strict() {
  static const bool strict = [] {
    const char* v = std::getenv("SLUICE_FUZZ_STRICT");
    return v != nullptr && v[0] != '\0' && v[0] != '0';
  }();
  return strict;
}

// The limits every protocol target runs with: small enough that one input cannot make the fuzzer
// allocate gigabytes, so a run that does anyway has found a request the server's own budget does not
// protect against.
inline protocol::ApiOptions FuzzOptions() {
  protocol::ApiOptions options;
  options.max_points_per_request = 200'000;
  options.max_series_per_target = 1'000;
  options.search_limit = 100;
  return options;
}

// 2026-11-23T19:30:14.000Z, the end of the plugin fixtures' ranges, so the seed bodies find data.
inline constexpr int64_t kFixtureEndMs = 1'795'462'214'000;

// A MemorySource whose stored series cover the fixtures' 6-hour window, plus a series with extreme
// timestamps and values (NaN, ±Inf, -0, subnormals, the int64 ends), names that need escaping,
// a table and annotation events.
inline std::shared_ptr<MemorySource> MakeStoredSource() {
  auto source = std::make_shared<MemorySource>("fuzz");
  const char* names[] = {"upper_25", "upper_50", "cpu.total", "app.web-1.requests", "prod.1"};
  int n = 0;
  for (const char* name : names) {
    Series s;
    s.name = name;
    s.tags = Tags{{"City", n % 2 ? "Paris" : "Berlin"}, {"host", "web-" + std::to_string(n)}};
    for (int i = 0; i < 1000; ++i) {
      s.Append(kFixtureEndMs - (999 - i) * 30'000, i % 7 == 0 ? NAN : i * 0.25 + n);
    }
    source->AddSeries(std::move(s));
    ++n;
  }
  Series paris;
  paris.name = "upper_25";
  paris.tags = Tags{{"City", "Paris"}, {"host", "web-9"}, {"n", "10"}};
  paris.Append(kFixtureEndMs - 1000, 1);
  source->AddSeries(std::move(paris));

  Series edge;
  edge.name = "edge.values";
  edge.tags = Tags{{"kind", "edge"}, {"quote\"key", "back\\slash\n"}};
  const int64_t times[] = {std::numeric_limits<int64_t>::min(),
                           std::numeric_limits<int64_t>::min() / 2,
                           -10'000'000'000'000'000,
                           -1,
                           0,
                           1,
                           99'999'999,
                           100'000'000,
                           kFixtureEndMs - 5000,
                           9'999'999'999'999'999,
                           10'000'000'000'000'000,
                           std::numeric_limits<int64_t>::max() / 2,
                           std::numeric_limits<int64_t>::max()};
  const double values[] = {NAN, INFINITY, -INFINITY, -0.0, 5e-324, -2.2250738585072014e-308,
                           1.7976931348623157e308, 0.1, 1e15, 123.456, 1e-9, -1234567.125, 42};
  for (size_t i = 0; i < std::size(times); ++i) edge.Append(times[i], values[i]);
  source->AddSeries(std::move(edge));

  Series odd;
  odd.name = "odd name/ü\xff";
  odd.tags = Tags{{"env", "prod"}};
  for (int i = 0; i < 50; ++i) odd.Append(kFixtureEndMs - i * 1000, i);
  source->AddSeries(std::move(odd));

  source->AddTable("table.hosts", [](const FetchRequest& req, Table* table) {
    table->columns = {{"host", ColumnType::kString}, {"cpu", ColumnType::kNumber},
                      {"up", ColumnType::kBoolean}, {"seen", ColumnType::kTime}};
    table->rows.push_back({Cell::String("web-1"), Cell::Number(0.5), Cell::Bool(true),
                           Cell::Number(static_cast<double>(req.range.to_ms))});
    table->rows.push_back({Cell::String("web-\x01\""), Cell::Number(NAN)});  // short row
    return Status::OK();
  });
  source->AddAnnotation({kFixtureEndMs - 5000, kFixtureEndMs - 2000, "Deploy", "api v2",
                         {"deploys", "prod"}});
  source->AddAnnotation({std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                         "Forever", "spans everything", {"forever"}});
  return source;
}

// RFC 8259 validator, independent of simdjson: simdjson 3.0.1 rejects integers outside the 64-bit
// range ("123456789012345680000"), which are valid JSON, so it cannot be the only judge.
class JsonValidator {
 public:
  static bool Valid(std::string_view text, std::string* error) {
    JsonValidator v(text);
    v.SkipSpace();
    if (!v.Value(0)) {
      *error = v.error_;
      return false;
    }
    v.SkipSpace();
    if (v.pos_ != text.size()) {
      *error = "trailing text at offset " + std::to_string(v.pos_);
      return false;
    }
    return true;
  }

 private:
  explicit JsonValidator(std::string_view text) : s_(text) {}

  bool Fail(const char* why) {
    error_ = std::string(why) + " at offset " + std::to_string(pos_);
    return false;
  }
  bool At(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  void SkipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return Fail("bad literal");
    pos_ += word.size();
    return true;
  }
  bool Digits() {
    size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    return pos_ > start;
  }
  bool Number() {
    if (At('-')) ++pos_;
    if (At('0')) {
      ++pos_;
    } else if (!Digits()) {
      return Fail("bad number");
    }
    if (At('.')) {
      ++pos_;
      if (!Digits()) return Fail("no digits after '.'");
    }
    if (At('e') || At('E')) {
      ++pos_;
      if (At('+') || At('-')) ++pos_;
      if (!Digits()) return Fail("no exponent digits");
    }
    return true;
  }
  bool String() {
    ++pos_;  // '"'
    while (pos_ < s_.size()) {
      auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return Fail("control character in string");
      if (c == '\\') {
        ++pos_;
        if (pos_ >= s_.size()) return Fail("unterminated escape");
        char e = s_[pos_];
        if (e == 'u') {
          if (pos_ + 4 >= s_.size()) return Fail("short \\u escape");
          for (int i = 1; i <= 4; ++i) {
            if (!std::isxdigit(static_cast<unsigned char>(s_[pos_ + i]))) return Fail("bad \\u");
          }
          pos_ += 5;
          continue;
        }
        if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return Fail("bad escape");
        }
        ++pos_;
        continue;
      }
      ++pos_;
    }
    return Fail("unterminated string");
  }
  bool Value(int depth) {
    if (depth > 256) return Fail("too deep");
    if (pos_ >= s_.size()) return Fail("unexpected end");
    char c = s_[pos_];
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++pos_;
      SkipSpace();
      if (At(close)) {
        ++pos_;
        return true;
      }
      while (true) {
        if (c == '{') {
          if (!At('"')) return Fail("expected key");
          if (!String()) return false;
          SkipSpace();
          if (!At(':')) return Fail("expected ':'");
          ++pos_;
          SkipSpace();
        }
        if (!Value(depth + 1)) return false;
        SkipSpace();
        if (At(',')) {
          ++pos_;
          SkipSpace();
          continue;
        }
        if (At(close)) {
          ++pos_;
          return true;
        }
        return Fail("expected ',' or close");
      }
    }
    if (c == '"') return String();
    if (c == 't') return Literal("true");
    if (c == 'f') return Literal("false");
    if (c == 'n') return Literal("null");
    return Number();
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;
};

// Checks that `out` is valid JSON (and valid UTF-8) and parses it with simdjson into *root. Returns
// false (tolerated) only when simdjson's sole objection is a number outside the 64-bit range and the
// text is valid JSON; aborts otherwise, or in strict mode.
inline bool ParseJsonOrDie(simdjson::dom::parser& parser, std::string_view out, std::string_view input,
                           simdjson::dom::element* root) {
  auto err = parser.parse(out.data(), out.size()).get(*root);
  if (err == simdjson::SUCCESS) return true;
  std::string why;
  bool valid = JsonValidator::Valid(out, &why) &&
               simdjson::validate_utf8(out.data(), out.size());
  if (err == simdjson::NUMBER_ERROR && valid && !Strict()) return false;
  Die(std::string("output is not JSON simdjson accepts: ") + simdjson::error_message(err) +
          (valid ? " (but it is valid RFC 8259 JSON)" : " (" + why + ")"),
      std::string("input: ") + std::string(input) + "\noutput: " + std::string(out));
}

}  // namespace sluice::fuzz
