// fuzz_json_writer: the bytes are points for JsonWriter (common/json_writer.h). The first byte holds
// flags; then every 16 bytes are one point: 8 bytes of value, 8 bytes of time.
//   flag 1: times are realistic: kFixtureEndMs + the low 32 bits, signed, as a delta;
//   flag 2: values are realistic: a signed 32-bit integer over 10^(byte 12 % 9), like 21.5 or 0.125;
//   otherwise the 8 bytes are taken as they are (any double, NaN payloads included; any int64).
// The points are written four ways into one document: Datapoints (the bulk hot path), Datapoint per
// point, Double per value, Int per time.
//
// Oracles: no sanitizer report; the document is valid JSON that simdjson parses; every value reads
// back (with simdjson, and independently with strtod) bit-exactly, NaN and ±Inf as null; every time
// reads back exactly (-0.0 too; tolerated as 0 unless SLUICE_FUZZ_STRICT=1, see README.md).
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_writer.h"
#include "fuzz_common.h"

namespace {

using sluice::fuzz::Die;

std::string Hex(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a (%.17g)", v, v);
  return buf;
}

// Whether `got` is an acceptable reading of `want` (both finite).
bool SameDouble(double want, double got) {
  if (std::memcmp(&want, &got, sizeof want) == 0) return true;
  // "-0.0 is written as 0": reported, tolerated unless strict.
  return want == 0 && got == 0 && std::signbit(want) && !sluice::fuzz::Strict();
}

// A minimal reader for exactly what the writer produced: numbers, null, '[' ']' ','. Independent
// of simdjson, so numbers simdjson refuses (integers beyond 64 bits) are still checked.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  void Expect(char c) {
    if (pos_ >= s_.size() || s_[pos_] != c) {
      Die(std::string("unexpected text, wanted '") + c + "' at offset " + std::to_string(pos_),
          std::string(s_));
    }
    ++pos_;
  }
  bool Peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  // Returns false for null.
  bool Value(double* v) {
    if (s_.substr(pos_, 4) == "null") {
      pos_ += 4;
      return false;
    }
    size_t end = pos_;
    while (end < s_.size() && std::strchr("+-0123456789.eE", s_[end]) != nullptr) ++end;
    std::string token(s_.substr(pos_, end - pos_));
    std::string error;
    if (token.empty() || !sluice::fuzz::JsonValidator::Valid(token, &error)) {
      Die("not a JSON number: \"" + token + "\"", std::string(s_));
    }
    errno = 0;
    *v = std::strtod(token.c_str(), nullptr);
    pos_ = end;
    return true;
  }
  int64_t Int() {
    int64_t t = 0;
    auto [p, ec] = std::from_chars(s_.data() + pos_, s_.data() + s_.size(), t);
    if (ec != std::errc()) Die("not an int64 at offset " + std::to_string(pos_), std::string(s_));
    pos_ = p - s_.data();
    return t;
  }
  bool done() const { return pos_ == s_.size(); }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

void CheckValue(double want, bool got_number, double got, std::string_view where, size_t i,
                std::string_view doc) {
  if (!std::isfinite(want)) {
    if (got_number) Die(std::string(where) + ": non-finite value not written as null", doc);
    return;
  }
  if (!got_number) Die(std::string(where) + ": finite value written as null: " + Hex(want), doc);
  if (!SameDouble(want, got)) {
    Die(std::string(where) + "[" + std::to_string(i) + "]: value does not round-trip: wrote " +
            Hex(want) + ", read " + Hex(got),
        doc);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const size_t n = (size - 1) / 16;
  std::vector<double> values(n);
  std::vector<int64_t> times(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = data + 1 + 16 * i;
    std::memcpy(&values[i], p, 8);
    std::memcpy(&times[i], p + 8, 8);
    if (flags & 1) {
      int32_t delta;
      std::memcpy(&delta, p + 8, 4);
      times[i] = sluice::fuzz::kFixtureEndMs + delta;
    }
    if (flags & 2) {
      static constexpr double kPow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
      int32_t mantissa;
      std::memcpy(&mantissa, p, 4);
      values[i] = mantissa / kPow10[p[4] % 9];
    }
  }

  std::string doc;
  sluice::JsonWriter w(&doc);
  w.BeginArray();
  w.BeginArray();
  w.Datapoints(values.data(), times.data(), n);
  w.EndArray();
  w.BeginArray();
  for (size_t i = 0; i < n; ++i) w.Datapoint(values[i], times[i]);
  w.EndArray();
  w.BeginArray();
  for (size_t i = 0; i < n; ++i) w.Double(values[i]);
  w.EndArray();
  w.BeginArray();
  for (size_t i = 0; i < n; ++i) w.Int(times[i]);
  w.EndArray();
  w.EndArray();

  // Independent reading of every number.
  Reader r(doc);
  r.Expect('[');
  for (const char* where : {"Datapoints", "Datapoint"}) {
    r.Expect('[');
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) r.Expect(',');
      r.Expect('[');
      double v = 0;
      bool number = r.Value(&v);
      CheckValue(values[i], number, v, where, i, doc);
      r.Expect(',');
      if (r.Int() != times[i]) Die(std::string(where) + ": time does not round-trip", doc);
      r.Expect(']');
    }
    r.Expect(']');
    r.Expect(',');
  }
  r.Expect('[');
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) r.Expect(',');
    double v = 0;
    bool number = r.Value(&v);
    CheckValue(values[i], number, v, "Double", i, doc);
  }
  r.Expect(']');
  r.Expect(',');
  r.Expect('[');
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) r.Expect(',');
    if (r.Int() != times[i]) Die("Int: does not round-trip", doc);
  }
  r.Expect(']');
  r.Expect(']');
  if (!r.done()) Die("trailing text", doc);

  // simdjson's reading.
  static simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (!sluice::fuzz::ParseJsonOrDie(parser, doc, "(points)", &root)) return 0;
  simdjson::dom::array parts;
  if (root.get_array().get(parts) != simdjson::SUCCESS) Die("not an array", doc);
  auto read = [&](simdjson::dom::element e, double* v) {
    if (e.is_null()) return false;
    int64_t i64;
    uint64_t u64;
    if (e.get_int64().get(i64) == simdjson::SUCCESS) {
      *v = static_cast<double>(i64);
    } else if (e.get_uint64().get(u64) == simdjson::SUCCESS) {
      *v = static_cast<double>(u64);
    } else {
      *v = e.get_double().value_unsafe();
    }
    return true;
  };
  const char* kWhere[] = {"Datapoints (simdjson)", "Datapoint (simdjson)", "Double (simdjson)"};
  for (size_t part = 0; part < 3; ++part) {
    size_t i = 0;
    simdjson::dom::array items;
    if (parts.at(part).get_array().get(items) != simdjson::SUCCESS) Die("lost an array", doc);
    for (simdjson::dom::element e : items) {
      double v = 0;
      simdjson::dom::element value = e;
      if (part < 2 && e.at(0).get(value) != simdjson::SUCCESS) Die("lost a point", doc);
      bool number = read(value, &v);
      CheckValue(values[i], number, v, kWhere[part], i, doc);
      if (part < 2 && int64_t(e.at(1)) != times[i]) Die("time does not round-trip (simdjson)", doc);
      ++i;
    }
  }
  return 0;
}
