#include "expr/kernels.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace sluice::expr {
namespace {

constexpr int64_t kSecondMs = 1000;

// Sums the non-None entries; *count gets how many there were.
double SumPresent(const double* v, size_t n, size_t* count) {
  double sum = 0;
  size_t c = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!IsNone(v[i])) {
      sum += v[i];
      ++c;
    }
  }
  *count = c;
  return sum;
}

double AggAverage(const double* v, size_t n) {
  size_t c;
  double s = SumPresent(v, n, &c);
  return c ? s / static_cast<double>(c) : kNone;
}

double AggAvgZero(const double* v, size_t n) {
  if (n == 0) return kNone;
  size_t c;
  return SumPresent(v, n, &c) / static_cast<double>(n);
}

double AggSum(const double* v, size_t n) {
  size_t c;
  double s = SumPresent(v, n, &c);
  return c ? s : kNone;
}

double AggMin(const double* v, size_t n) {
  double m = kNone;
  for (size_t i = 0; i < n; ++i) {
    if (!IsNone(v[i]) && (IsNone(m) || v[i] < m)) m = v[i];
  }
  return m;
}

double AggMax(const double* v, size_t n) {
  double m = kNone;
  for (size_t i = 0; i < n; ++i) {
    if (!IsNone(v[i]) && (IsNone(m) || v[i] > m)) m = v[i];
  }
  return m;
}

double AggMedian(const double* v, size_t n) {
  std::vector<double> present;
  present.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (!IsNone(v[i])) present.push_back(v[i]);
  }
  if (present.empty()) return kNone;
  std::sort(present.begin(), present.end());
  size_t mid = present.size() / 2;
  if (present.size() % 2 == 0) return (present[mid - 1] + present[mid]) / 2;
  return present[mid];
}

// The first present value minus every later present one.
double AggDiff(const double* v, size_t n) {
  double out = kNone;
  for (size_t i = 0; i < n; ++i) {
    if (IsNone(v[i])) continue;
    out = IsNone(out) ? v[i] : out - v[i];
  }
  return out;
}

// Population standard deviation of the present values.
double AggStddev(const double* v, size_t n) {
  size_t c;
  double s = SumPresent(v, n, &c);
  if (c == 0) return kNone;
  double mean = s / static_cast<double>(c);
  double sq = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!IsNone(v[i])) sq += (v[i] - mean) * (v[i] - mean);
  }
  return std::sqrt(sq / static_cast<double>(c));
}

// graphite's safeLen: 0 (not None) when nothing is present.
double AggCount(const double* v, size_t n) {
  size_t c;
  SumPresent(v, n, &c);
  return static_cast<double>(c);
}

double AggRange(const double* v, size_t n) {
  double lo = AggMin(v, n), hi = AggMax(v, n);
  return IsNone(lo) ? kNone : hi - lo;
}

// graphite's safeMul(*row): None as soon as one factor is None.
double AggMultiply(const double* v, size_t n) {
  if (n == 0) return kNone;
  double p = 1;
  for (size_t i = 0; i < n; ++i) {
    if (IsNone(v[i])) return kNone;
    p *= v[i];
  }
  return p;
}

double AggLast(const double* v, size_t n) {
  for (size_t i = n; i > 0; --i) {
    if (!IsNone(v[i - 1])) return v[i - 1];
  }
  return kNone;
}

double AggFirst(const double* v, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!IsNone(v[i])) return v[i];
  }
  return kNone;
}

struct NamedAgg {
  std::string_view name;
  AggFn fn;
  bool alias;
};

constexpr NamedAgg kAggFns[] = {
    {"average", AggAverage, false}, {"avg_zero", AggAvgZero, false}, {"median", AggMedian, false},
    {"sum", AggSum, false},         {"min", AggMin, false},          {"max", AggMax, false},
    {"diff", AggDiff, false},       {"stddev", AggStddev, false},    {"count", AggCount, false},
    {"range", AggRange, false},     {"multiply", AggMultiply, false}, {"last", AggLast, false},
    {"rangeOf", AggRange, true},    {"avg", AggAverage, true},       {"total", AggSum, true},
    {"current", AggLast, true},
};

}  // namespace

AggFn FindAggFn(std::string_view name) {
  for (const auto& a : kAggFns) {
    if (a.name == name) return a.fn;
  }
  if (name == "first") return AggFirst;  // consolidateBy only
  return nullptr;
}

const std::vector<std::string>& AggFnNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& a : kAggFns) {
      if (!a.alias) out.emplace_back(a.name);
    }
    return out;
  }();
  return names;
}

const std::vector<std::string>& AggFnNamesWithAliases() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& a : kAggFns) out.emplace_back(a.name);
    return out;
  }();
  return names;
}

Result<int64_t> ParseInterval(std::string_view text) {
  std::string_view rest = text;
  int64_t sign = 1;
  if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
    sign = rest[0] == '-' ? -1 : 1;
    rest.remove_prefix(1);
  }
  if (rest.empty()) return InvalidArgument("invalid interval '{}': no number", text);
  int64_t total = 0;
  while (!rest.empty()) {
    size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    if (digits == 0) return InvalidArgument("invalid interval '{}': expected a number", text);
    int64_t count = 0;
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + digits, count);
    if (ec != std::errc() || count > 1'000'000'000'000) {
      return InvalidArgument("invalid interval '{}': number too large", text);
    }
    rest.remove_prefix(digits);
    size_t letters = 0;
    while (letters < rest.size() && std::isalpha(static_cast<unsigned char>(rest[letters]))) {
      ++letters;
    }
    std::string_view unit = rest.substr(0, letters);
    rest.remove_prefix(letters);
    int64_t unit_ms;
    if (unit.starts_with("s")) {
      unit_ms = kSecondMs;
    } else if (unit.starts_with("min")) {
      unit_ms = 60 * kSecondMs;
    } else if (unit.starts_with("h")) {
      unit_ms = 3600 * kSecondMs;
    } else if (unit.starts_with("d")) {
      unit_ms = 86400 * kSecondMs;
    } else if (unit.starts_with("w")) {
      unit_ms = 7 * 86400 * kSecondMs;
    } else if (unit.starts_with("mon")) {
      unit_ms = 30 * 86400 * kSecondMs;
    } else if (unit.starts_with("y")) {
      unit_ms = 365 * 86400 * kSecondMs;
    } else {
      return InvalidArgument("invalid interval '{}': unknown unit '{}'", text, unit);
    }
    total += count * unit_ms;
    if (total > int64_t{1'000'000'000'000'000}) {
      return InvalidArgument("invalid interval '{}': too long", text);
    }
  }
  return sign * total;
}

bool XffOk(const double* values, size_t n, double xfiles_factor) {
  if (n == 0) return false;
  size_t present = 0;
  for (size_t i = 0; i < n; ++i) present += !IsNone(values[i]);
  if (present == 0) return false;
  return static_cast<double>(present) / static_cast<double>(n) >= xfiles_factor;
}

std::vector<double> ConsolidatedValues(const TimeSeries& series, size_t points_per_bucket) {
  if (points_per_bucket <= 1) return series.values;
  AggFn fn = FindAggFn(series.consolidation);
  if (fn == nullptr) fn = AggAverage;
  const bool avg_zero = series.consolidation == "avg_zero";
  const size_t n = series.values.size();
  std::vector<double> out;
  out.reserve((n + points_per_bucket - 1) / points_per_bucket);
  std::vector<double> buf;
  buf.reserve(points_per_bucket);
  for (size_t start = 0; start < n; start += points_per_bucket) {
    const size_t end = std::min(n, start + points_per_bucket);
    buf.clear();
    size_t present = 0;
    for (size_t i = start; i < end; ++i) {
      double v = series.values[i];
      if (!IsNone(v)) {
        buf.push_back(v);
        ++present;
      } else if (avg_zero) {
        buf.push_back(0);
      }
    }
    const bool ok = present > 0 && static_cast<double>(present) /
                                           static_cast<double>(points_per_bucket) >=
                                       series.xfiles_factor;
    out.push_back(ok ? fn(buf.data(), buf.size()) : kNone);
  }
  return out;
}

Result<Normalized> Normalize(SeriesList* series) {
  if (series->empty()) return InvalidArgument("normalize: no series");
  int64_t step = 1;
  for (const auto& s : *series) {
    step = std::lcm(step, std::max<int64_t>(1, s.step));
    if (step > int64_t{1} << 50) return InvalidArgument("series steps have no usable common step");
  }
  int64_t start = INT64_MAX, end = INT64_MIN;
  for (auto& s : *series) {
    start = std::min(start, s.start);
    end = std::max(end, s.end());
    if (s.step != step) {
      s.values = ConsolidatedValues(s, static_cast<size_t>(step / std::max<int64_t>(1, s.step)));
      s.step = step;
    }
  }
  end -= (end - start) % step;
  return Normalized{start, end, step};
}

std::string FormatPathExpressions(const SeriesList& series) {
  std::vector<std::string_view> seen;
  std::string out;
  for (const auto& s : series) {
    std::string_view p = s.path_expression;
    if (std::find(seen.begin(), seen.end(), p) != seen.end()) continue;
    seen.push_back(p);
    if (!out.empty()) out.push_back(',');
    out += p;
  }
  return out;
}

std::string FormatG(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string FormatPyFloat(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  (void)ec;
  std::string_view sci(buf, static_cast<size_t>(end - buf));  // "-1.2345e+02"
  size_t e = sci.find('e');
  std::string_view mantissa = sci.substr(0, e);
  int exponent = std::atoi(std::string(sci.substr(e + 1)).c_str());
  bool negative = !mantissa.empty() && mantissa[0] == '-';
  if (negative) mantissa.remove_prefix(1);
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits.push_back(c);
  }
  std::string out = negative ? "-" : "";
  if (exponent >= 16 || exponent < -4) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char exp[16];
    std::snprintf(exp, sizeof exp, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out + exp;
  }
  if (exponent < 0) {
    out += "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
    return out;
  }
  const size_t int_digits = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= int_digits) {
    out += digits + std::string(int_digits - digits.size(), '0') + ".0";
  } else {
    out += digits.substr(0, int_digits) + "." + digits.substr(int_digits);
  }
  return out;
}

std::string FormatNumberArg(double v, bool is_integer) {
  if (is_integer && std::fabs(v) < 1e18) return std::to_string(static_cast<int64_t>(v));
  return FormatPyFloat(v);
}

double SafeSum(const std::vector<double>& values) { return AggSum(values.data(), values.size()); }
double SafeAvg(const std::vector<double>& values) {
  return AggAverage(values.data(), values.size());
}
double SafeMin(const std::vector<double>& values) { return AggMin(values.data(), values.size()); }
double SafeMax(const std::vector<double>& values) { return AggMax(values.data(), values.size()); }
double SafeLast(const std::vector<double>& values) {
  return AggLast(values.data(), values.size());
}
size_t SafeLen(const std::vector<double>& values) {
  return static_cast<size_t>(AggCount(values.data(), values.size()));
}

}  // namespace sluice::expr
