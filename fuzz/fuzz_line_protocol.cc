// fuzz_line_protocol: the bytes after the first go to ParseLineProtocol (store/line_protocol.h) as
// a /write body; the first byte picks the precision.
//
// Oracles: no sanitizer report, and
//   * every point has a measurement, 1..fields.size() fields with unique non-empty keys, tags with
//     non-empty keys and values sorted by strictly increasing key, finite floats, and a line number
//     within the body;
//   * every error has a line within the body, a column >= 1, a message and an excerpt <= 200 bytes;
//     at most max_errors are kept and bad_lines counts at least that many;
//   * parsing without collecting errors finds the same points and bad lines;
//   * every point written back with AppendLineProtocol parses to exactly the same point.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "store/line_protocol.h"

namespace {

using sluice::store::FieldType;
using sluice::store::LineError;
using sluice::store::LineField;
using sluice::store::LinePoint;
using sluice::store::Precision;

[[noreturn]] void Die(std::string_view what, std::string_view detail) {
  std::fprintf(stderr, "\n*** FUZZ ORACLE FAILED: %.*s\n%.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(std::min<size_t>(detail.size(), 4000)), detail.data());
  std::abort();
}

// Everything a point carries, floats as bits, so that equal text means equal points.
std::string Describe(const LinePoint& p) {
  std::string out = fmt::format("{:?} @{}", p.measurement, p.time_ms);
  for (const auto& [k, v] : p.tags) out += fmt::format(" {:?}={:?}", k, v);
  for (const LineField& f : p.Fields()) {
    uint64_t bits;
    std::memcpy(&bits, &f.number, sizeof bits);
    out += fmt::format(" {:?}:{}={:x}/{}/{}/{:?}", f.key, static_cast<int>(f.type), bits, f.integer,
                       f.uinteger, f.text);
  }
  return out;
}

void CheckPoint(const LinePoint& p, size_t body_lines, std::string_view body) {
  auto fail = [&](std::string_view what) {
    Die(what, "point: " + Describe(p) + "\nbody: " + fmt::format("{:?}", body));
  };
  if (p.measurement.empty()) fail("empty measurement");
  if (p.field_count == 0 || p.field_count > p.fields.size()) fail("bad field_count");
  if (p.line == 0 || p.line > body_lines) fail("line number outside the body");
  for (size_t i = 0; i < p.tags.size(); ++i) {
    if (p.tags[i].first.empty() || p.tags[i].second.empty()) fail("empty tag key or value");
    if (i > 0 && !(p.tags[i - 1].first < p.tags[i].first)) fail("tags not strictly sorted");
  }
  auto fields = p.Fields();
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].key.empty()) fail("empty field key");
    if (fields[i].type == FieldType::kFloat && !std::isfinite(fields[i].number)) {
      fail("non-finite float");
    }
    for (size_t j = 0; j < i; ++j) {
      if (fields[i].key == fields[j].key) fail("repeated field key");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr Precision kPrecisions[] = {Precision::kNanoseconds,  Precision::kMicroseconds,
                                              Precision::kMilliseconds, Precision::kSeconds,
                                              Precision::kMinutes,      Precision::kHours};
  const Precision precision = kPrecisions[data[0] % 6];
  // A copy of exactly the body's size, so that AddressSanitizer sees any read past its end.
  std::vector<char> copy(data + 1, data + size);
  const std::string_view body(copy.data(), copy.size());
  const size_t body_lines = static_cast<size_t>(std::count(body.begin(), body.end(), '\n')) + 1;
  constexpr int64_t kNowMs = 1'700'000'000'000;
  constexpr size_t kMaxErrors = 10;

  std::vector<std::string> points;
  std::vector<LineError> errors;
  size_t bad_lines = 0;
  sluice::store::ParseLineProtocol(
      body, precision, kNowMs,
      [&](const LinePoint& p) {
        CheckPoint(p, body_lines, body);
        points.push_back(Describe(p));

        std::string written;
        sluice::store::AppendLineProtocol(p, &written);
        std::vector<std::string> again;
        std::vector<LineError> again_errors;
        size_t again_bad = 0;
        sluice::store::ParseLineProtocol(
            written, Precision::kMilliseconds, 0,
            [&again](const LinePoint& q) { again.push_back(Describe(q)); }, &again_errors,
            &again_bad);
        if (again.size() != 1 || again[0] != Describe(p)) {
          Die("AppendLineProtocol output does not parse back to the point",
              "point: " + Describe(p) + "\nwritten: " + fmt::format("{:?}", written) +
                  "\nreparsed: " + (again.empty() ? std::string("nothing") : again[0]) +
                  (again_errors.empty()
                       ? ""
                       : "\nerror: " + sluice::store::FormatLineError(again_errors[0])));
        }
      },
      &errors, &bad_lines, kMaxErrors);

  if (errors.size() > kMaxErrors) Die("more errors than max_errors", "");
  if (bad_lines < errors.size()) Die("bad_lines < errors.size()", "");
  for (const LineError& e : errors) {
    if (e.line == 0 || e.line > body_lines || e.column == 0 || e.message.empty() ||
        e.excerpt.size() > 200) {
      Die("malformed LineError", sluice::store::FormatLineError(e));
    }
  }

  std::vector<std::string> quiet_points;
  size_t quiet_bad = 0;
  sluice::store::ParseLineProtocol(
      body, precision, kNowMs,
      [&quiet_points](const LinePoint& p) { quiet_points.push_back(Describe(p)); }, nullptr,
      &quiet_bad);
  if (quiet_points != points || quiet_bad != bad_lines) {
    Die("results differ when errors are not collected", fmt::format("{:?}", body));
  }
  return 0;
}
