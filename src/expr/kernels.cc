#include "expr/kernels.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <numeric>
#include <string>

#include "common/graphite_time.h"

namespace sluice::expr {
namespace {


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
  bool seen = false;  // not IsNone(out): inf - inf is NaN and must stay NaN
  for (size_t i = 0; i < n; ++i) {
    if (IsNone(v[i])) continue;
    out = seen ? out - v[i] : v[i];
    seen = true;
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

// RoundLikePython's slow path, through exact decimal text: glibc prints the exact binary value,
// rounding half to even. For ndigits < 0 it is only reached with |x| >= 2^52, an integer.
double RoundViaDecimal(double x, int ndigits) {
  char buf[800];
  if (ndigits >= 0) {
    std::snprintf(buf, sizeof buf, "%.*f", std::min(ndigits, 400), x);
    return std::strtod(buf, nullptr);
  }
  const auto k = static_cast<size_t>(-ndigits);
  if (std::fabs(x) < 4503599627370496.0) return std::copysign(0.0, x);  // < 2^52 < 10^k / 2
  std::snprintf(buf, sizeof buf, "%.0f", std::fabs(x));
  std::string digits = buf;
  if (digits.size() < k + 1) digits.insert(0, k + 1 - digits.size(), '0');
  std::string keep = digits.substr(0, digits.size() - k);
  const std::string_view tail = std::string_view(digits).substr(digits.size() - k);
  const bool above_half =
      tail[0] > '5' || (tail[0] == '5' && tail.find_first_not_of('0', 1) != std::string_view::npos);
  const bool tie = tail[0] == '5' && !above_half;
  if (above_half || (tie && (keep.back() - '0') % 2 == 1)) {
    size_t i = keep.size();
    while (i > 0 && keep[i - 1] == '9') keep[--i] = '0';
    if (i == 0) {
      keep.insert(0, 1, '1');
    } else {
      ++keep[i - 1];
    }
  }
  keep.append(k, '0');
  return std::copysign(std::strtod(keep.c_str(), nullptr), x);
}

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
  auto ms = ParseGraphiteOffset(text);
  if (!ms.ok()) return InvalidArgument("invalid interval '{}': {}", text, ms.status().message());
  return ms;
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

double RoundLikePython(double x, int ndigits) {
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  constexpr double kFastLimit = 2251799813685248.0;  // 2^51
  constexpr double kMagic = 4503599627370496.0;      // 2^52: (v + 2^52) - 2^52 rounds v to even
  if (!std::isfinite(x)) return x;
  const int k = std::abs(ndigits);
  if (k <= 22) {
    // y = x * 10^ndigits rounded, plus the sign of what the rounding lost (`rest`, exact through
    // fma: the error of a product, or the remainder of a division, is representable).
    const double p = kPow10[k];
    const bool up_scale = ndigits >= 0;
    const double y = up_scale ? x * p : x / p;
    if (std::fabs(y) < kFastLimit) {
      const double rest = up_scale ? std::fma(x, p, -y) : std::fma(-y, p, x);
      const double c = std::copysign(kMagic, y);
      double r = (y + c) - c;  // y rounded to an integer, ties to even
      // y is a multiple of its ulp, so r is the exact answer unless y is itself a tie that the
      // lost part decides.
      const double tie = y - r;
      if (tie == 0.5 && rest > 0) r += 1;
      if (tie == -0.5 && rest < 0) r -= 1;
      const double result = up_scale ? r / p : r * p;  // the double nearest the decimal result
      return result == 0 ? std::copysign(0.0, x) : result;
    }
  }
  return RoundViaDecimal(x, ndigits);
}

}  // namespace sluice::expr
