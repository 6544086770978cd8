#include "common/json_writer.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>

namespace sluice {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid.
size_t Utf8SequenceLength(const unsigned char* s, size_t i, size_t n) {
  unsigned char c = s[i];
  auto cont = [&](size_t k) { return i + k < n && (s[i + k] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    unsigned char c1 = s[i + 1];
    if (c == 0xE0 && c1 < 0xA0) return 0;   // overlong
    if (c == 0xED && c1 >= 0xA0) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    unsigned char c1 = s[i + 1];
    if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
    if (c == 0xF4 && c1 >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

constexpr double kPow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
constexpr uint64_t kPow10Int[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

// Writes a finite double in its shortest round-trip form; needs 32 bytes at p.
//
// Most measured values are short decimals (21.5, 0.125, 1234.567). For those, the smallest k <= 8
// with x = round(v * 10^k) and x / 10^k == v (IEEE division is correctly rounded, so the decimal
// x·10^-k reads back as exactly v) gives the digits with two integer conversions, several times
// faster than a general shortest-form algorithm. Everything else goes to std::to_chars.
char* FormatDouble(char* p, double v) {
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    if (v == 0 && std::signbit(v)) {
      std::memcpy(p, "-0.0", 4);  // "-0" would read back as the integer 0 in some parsers
      return p + 4;
    }
    return std::to_chars(p, p + 32, static_cast<int64_t>(v)).ptr;
  }
  if (std::fabs(v) >= 1e15) {
    // Fixed notation would print integers past 2^64 that some JSON parsers reject.
    return std::to_chars(p, p + 32, v, std::chars_format::scientific).ptr;
  }
  const double a = std::fabs(v);
  if (a < 1e7 && a >= 1e-8) {
    for (int k = 1; k <= 8; ++k) {
      double scaled = a * kPow10[k];
      if (scaled >= 9e15) break;
      auto x = static_cast<uint64_t>(scaled + 0.5);
      if (static_cast<double>(x) / kPow10[k] != a) continue;
      if (v < 0) *p++ = '-';
      p = std::to_chars(p, p + 20, x / kPow10Int[k]).ptr;
      *p++ = '.';
      char digits[20];
      char* end = std::to_chars(digits, digits + sizeof digits, x % kPow10Int[k]).ptr;
      int len = static_cast<int>(end - digits);
      for (int z = len; z < k; ++z) *p++ = '0';
      std::memcpy(p, digits, len);
      return p + len;
    }
  }
  return std::to_chars(p, p + 32, v).ptr;
}

constexpr char kDigitPairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// Writes exactly 8 digits of v (< 10^8), zero-padded.
inline char* Write8Digits(char* p, uint32_t v) {
  uint32_t hi = v / 10000, lo = v % 10000;
  std::memcpy(p, kDigitPairs + 2 * (hi / 100), 2);
  std::memcpy(p + 2, kDigitPairs + 2 * (hi % 100), 2);
  std::memcpy(p + 4, kDigitPairs + 2 * (lo / 100), 2);
  std::memcpy(p + 6, kDigitPairs + 2 * (lo % 100), 2);
  return p + 8;
}

// Writes v in decimal; short numbers (the common case for integer parts) without a loop.
inline char* WriteUint(char* p, uint64_t v) {
  if (v < 10) {
    *p = static_cast<char>('0' + v);
    return p + 1;
  }
  if (v < 100) {
    std::memcpy(p, kDigitPairs + 2 * v, 2);
    return p + 2;
  }
  if (v < 1000) {
    *p = static_cast<char>('0' + v / 100);
    std::memcpy(p + 1, kDigitPairs + 2 * (v % 100), 2);
    return p + 3;
  }
  if (v < 10000) {
    std::memcpy(p, kDigitPairs + 2 * (v / 100), 2);
    std::memcpy(p + 2, kDigitPairs + 2 * (v % 100), 2);
    return p + 4;
  }
  return std::to_chars(p, p + 20, v).ptr;
}

// Formats ascending timestamps: the digits above 10^8 change rarely, so they are kept as text.
class TimeFormatter {
 public:
  char* Write(char* p, int64_t t) {
    if (t < 100'000'000 || t >= 10'000'000'000'000'000) return std::to_chars(p, p + 24, t).ptr;
    const int64_t hi = t / 100'000'000;
    if (hi != hi_) {
      hi_ = hi;
      hi_len_ = static_cast<int>(std::to_chars(hi_text_, hi_text_ + sizeof hi_text_, hi).ptr - hi_text_);
    }
    std::memcpy(p, hi_text_, sizeof hi_text_);
    return Write8Digits(p + hi_len_, static_cast<uint32_t>(t - hi * 100'000'000));
  }

 private:
  int64_t hi_ = -1;
  int hi_len_ = 0;
  char hi_text_[8] = {};
};

// Formats doubles like FormatDouble, starting the decimal search at the previous value's number
// of decimals: consecutive values of a series usually share it, so one check is typical.
class ValueFormatter {
 public:
  char* Write(char* p, double v) {
    if (!std::isfinite(v)) {
      std::memcpy(p, "null", 4);
      return p + 4;
    }
    const double a = std::fabs(v);
    if (k_ > 0 && a < 1e7 && a >= 1e-8 && a != std::trunc(a)) {
      double scaled = a * kPow10[k_];
      if (scaled < 9e15) {
        auto x = static_cast<uint64_t>(scaled + 0.5);
        if (static_cast<double>(x) / kPow10[k_] == a) {
          int k = k_;
          while (x % 10 == 0) {  // the same rational with fewer decimals; k stays >= 1 as a is
            x /= 10;             // not integral
            --k;
          }
          if (v < 0) *p++ = '-';
          return WriteFixed(p, x, k, a);
        }
      }
    }
    char* start = p;
    char* end = FormatDouble(p, v);
    // Remember how many decimals this value had, for the next one.
    const char* dot = static_cast<const char*>(std::memchr(start, '.', end - start));
    bool has_exponent = std::memchr(start, 'e', end - start) != nullptr;
    k_ = (dot && !has_exponent && end - dot - 1 <= 8) ? static_cast<int>(end - dot - 1) : 0;
    return end;
  }

 private:
  // Writes x·10^-k with exactly k decimals (1 <= k <= 8), where a == x / 10^k < 1e7.
  static char* WriteFixed(char* p, uint64_t x, int k, double a) {
    // The integer part is trunc(a): a is the correctly rounded x / 10^k and is not integral.
    uint64_t ip = static_cast<uint64_t>(a);
    uint64_t frac = x - ip * kPow10Int[k];
    if (frac >= kPow10Int[k]) {  // defensive: never taken for a < 1e7, x < 9e15
      ip = x / kPow10Int[k];
      frac = x % kPow10Int[k];
    }
    p = WriteUint(p, ip);
    *p++ = '.';
    auto f = static_cast<uint32_t>(frac);
    char* end = p + k;
    char* q = end;
    while (q - p >= 2) {
      q -= 2;
      std::memcpy(q, kDigitPairs + 2 * (f % 100), 2);
      f /= 100;
    }
    if (q > p) *p = static_cast<char>('0' + f);
    return end;
  }

  int k_ = 0;
};

}  // namespace

void AppendJsonString(std::string_view value, std::string* out) {
  const auto* s = reinterpret_cast<const unsigned char*>(value.data());
  const size_t n = value.size();
  out->reserve(out->size() + n + 2);
  out->push_back('"');
  size_t run_start = 0;
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t len = Utf8SequenceLength(s, i, n);
      if (len != 0) {
        i += len;
        continue;
      }
    }
    out->append(value.data() + run_start, i - run_start);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        if (c < 0x20) {
          char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
          out->append(esc, 6);
        } else {
          out->append("\xEF\xBF\xBD");  // U+FFFD for a byte that is not valid UTF-8
        }
    }
    ++i;
    run_start = i;
  }
  out->append(value.data() + run_start, n - run_start);
  out->push_back('"');
}

void AppendJsonInt(int64_t value, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out->append(buf, end - buf);
}

void AppendJsonDouble(double value, std::string* out) {
  if (!std::isfinite(value)) {
    out->append("null");
    return;
  }
  char buf[40];
  char* end = FormatDouble(buf, value);
  out->append(buf, end - buf);
}

void JsonWriter::Open(char c) {
  if (after_key_) {
    after_key_ = false;
  } else {
    Separate();
  }
  out_->push_back(c);
  assert(depth_ + 1 < kMaxDepth);
  ++depth_;
  need_comma_ &= ~(uint64_t{1} << depth_);
}

void JsonWriter::Close(char c) {
  assert(depth_ > 0);
  --depth_;
  out_->push_back(c);
}

void JsonWriter::Key(std::string_view key) {
  Separate();
  AppendJsonString(key, out_);
  out_->push_back(':');
  after_key_ = true;
}

#define SLUICE_JSON_VALUE_PREFIX() \
  if (after_key_) {                \
    after_key_ = false;            \
  } else {                         \
    Separate();                    \
  }

void JsonWriter::String(std::string_view value) {
  SLUICE_JSON_VALUE_PREFIX();
  AppendJsonString(value, out_);
}

void JsonWriter::Int(int64_t value) {
  SLUICE_JSON_VALUE_PREFIX();
  AppendJsonInt(value, out_);
}

void JsonWriter::Double(double value) {
  SLUICE_JSON_VALUE_PREFIX();
  AppendJsonDouble(value, out_);
}

void JsonWriter::Bool(bool value) {
  SLUICE_JSON_VALUE_PREFIX();
  out_->append(value ? "true" : "false");
}

void JsonWriter::Null() {
  SLUICE_JSON_VALUE_PREFIX();
  out_->append("null");
}

void JsonWriter::Raw(std::string_view json) {
  SLUICE_JSON_VALUE_PREFIX();
  out_->append(json);
}

void JsonWriter::Datapoint(double value, int64_t time_ms) {
  SLUICE_JSON_VALUE_PREFIX();
  // One bounded write: '[' + double (<=24) + ',' + int64 (<=20) + ']'.
  char buf[64];
  char* p = buf;
  *p++ = '[';
  if (!std::isfinite(value)) {
    std::memcpy(p, "null", 4);
    p += 4;
  } else {
    p = FormatDouble(p, value);
  }
  *p++ = ',';
  p = std::to_chars(p, buf + sizeof buf, time_ms).ptr;
  *p++ = ']';
  out_->append(buf, p - buf);
}

void JsonWriter::Datapoints(const double* values, const int64_t* times_ms, size_t n) {
  if (n == 0) return;
  SLUICE_JSON_VALUE_PREFIX();
  // Points are formatted into a small stack block and appended: no zero-filling of the output, and
  // the block stays in L1. A point needs at most '[' + 32 + ',' + 24 + ']' + ',' = 59 bytes.
  constexpr size_t kMaxPoint = 64;
  constexpr size_t kBlockPoints = 128;
  char block[kBlockPoints * kMaxPoint];
  TimeFormatter time;
  ValueFormatter value;
  for (size_t i = 0; i < n;) {
    const size_t end = std::min(n, i + kBlockPoints);
    char* p = block;
    for (; i < end; ++i) {
      *p++ = '[';
      p = value.Write(p, values[i]);
      *p++ = ',';
      p = time.Write(p, times_ms[i]);
      *p++ = ']';
      *p++ = ',';
    }
    if (i == n) --p;  // no ',' after the last point
    out_->append(block, p - block);
  }
}

#undef SLUICE_JSON_VALUE_PREFIX

}  // namespace sluice
