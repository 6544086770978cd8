#include "testing/reference_transform.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <utility>

namespace sluice::testing::reference {
namespace {

constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
bool None(double v) { return std::isnan(v); }

std::vector<double> Present(const std::vector<double>& values) {
  std::vector<double> out;
  for (double v : values) {
    if (!None(v)) out.push_back(v);
  }
  return out;
}

double PySum(const std::vector<double>& values) {
  double s = 0;
  for (double v : values) s += v;
  return s;
}

// Python's floor division and modulo.
int64_t PyDiv(int64_t a, int64_t b) {
  return static_cast<int64_t>(std::floor(static_cast<long double>(a) / b));
}
int64_t PyMod(int64_t a, int64_t b) { return a - PyDiv(a, b) * b; }

bool Xff(size_t non_null, double total, double xff) {
  if (non_null == 0 || total == 0) return false;
  return static_cast<double>(non_null) / total >= xff;
}

std::vector<double> Slice(const std::vector<double>& v, size_t from, size_t to) {
  to = std::min(to, v.size());
  if (from >= to) return {};
  return std::vector<double>(v.begin() + static_cast<std::ptrdiff_t>(from),
                             v.begin() + static_cast<std::ptrdiff_t>(to));
}

}  // namespace

double PyRound(double x, int ndigits) {
  if (!std::isfinite(x)) return x;
  if (ndigits >= 0) {
    std::vector<char> buf(400 + static_cast<size_t>(ndigits));
    std::snprintf(buf.data(), buf.size(), "%.*f", ndigits, x);
    return std::strtod(buf.data(), nullptr);
  }
  // Exact decimal expansion of |x| (at most 1074 fractional digits), then round the integer part
  // at 10^-ndigits, ties to even, looking at every digit after the cut.
  std::vector<char> buf(1500);
  std::snprintf(buf.data(), buf.size(), "%.1100f", std::fabs(x));
  std::string text = buf.data();
  const size_t dot = text.find('.');
  std::string integer = text.substr(0, dot);
  const std::string fraction = text.substr(dot + 1);
  const auto k = static_cast<size_t>(-ndigits);
  if (integer.size() < k + 1) integer.insert(0, k + 1 - integer.size(), '0');
  std::string keep = integer.substr(0, integer.size() - k);
  const std::string rest = integer.substr(integer.size() - k) + fraction;
  int cmp;  // rest compared with 5000...
  if (rest[0] != '5') {
    cmp = rest[0] > '5' ? 1 : -1;
  } else {
    cmp = rest.find_first_not_of('0', 1) == std::string::npos ? 0 : 1;
  }
  const bool odd = (keep.back() - '0') % 2 == 1;
  if (cmp > 0 || (cmp == 0 && odd)) {
    size_t i = keep.size();
    while (i > 0 && keep[i - 1] == '9') keep[--i] = '0';
    if (i == 0) {
      keep.insert(keep.begin(), '1');
    } else {
      keep[i - 1] = static_cast<char>(keep[i - 1] + 1);
    }
  }
  keep += std::string(k, '0');
  return std::copysign(std::strtod(keep.c_str(), nullptr), x);
}

double Aggregate(std::string_view func, const std::vector<double>& values) {
  const std::vector<double> p = Present(values);
  if (func == "average" || func == "avg") {
    return p.empty() ? kNone : PySum(p) / static_cast<double>(p.size());
  }
  if (func == "avg_zero") {
    if (values.empty()) return kNone;
    double s = 0;
    for (double v : values) s += None(v) ? 0 : v;
    return s / static_cast<double>(values.size());
  }
  if (func == "median") {
    if (p.empty()) return kNone;
    std::vector<double> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    const size_t mid = sorted.size() / 2;
    return sorted.size() % 2 == 0 ? (sorted[mid - 1] + sorted[mid]) / 2 : sorted[mid];
  }
  if (func == "sum" || func == "total") return p.empty() ? kNone : PySum(p);
  if (func == "min") return p.empty() ? kNone : *std::min_element(p.begin(), p.end());
  if (func == "max") return p.empty() ? kNone : *std::max_element(p.begin(), p.end());
  if (func == "diff") {
    if (p.empty()) return kNone;
    double s = 0;
    for (size_t i = 0; i < p.size(); ++i) s += i == 0 ? p[i] : -p[i];
    return s;
  }
  if (func == "stddev") {
    if (p.empty()) return kNone;
    const double avg = PySum(p) / static_cast<double>(p.size());
    double s = 0;
    for (double v : p) s = s + (v - avg) * (v - avg);
    return std::sqrt(s / static_cast<double>(p.size()));
  }
  if (func == "count") return static_cast<double>(p.size());
  if (func == "range" || func == "rangeOf") {
    if (p.empty()) return kNone;
    return *std::max_element(p.begin(), p.end()) - *std::min_element(p.begin(), p.end());
  }
  if (func == "multiply") {
    if (values.empty()) return kNone;
    for (double v : values) {
      if (None(v)) return kNone;
    }
    double product = values[0];
    for (size_t i = 1; i < values.size(); ++i) product = product * values[i];
    return product;
  }
  if (func == "last" || func == "current") return p.empty() ? kNone : p.back();
  std::fprintf(stderr, "reference::Aggregate: unknown function %.*s\n",
               static_cast<int>(func.size()), func.data());
  std::abort();
}

namespace {

// graphite renders zip(values, range(start, end + 1, step)) with `end` the extended series' end.
void KeepRendered(const Grid& extended, Grid* out) {
  const int64_t end =
      extended.start_ms + extended.step_ms * static_cast<int64_t>(extended.values.size());
  size_t timestamps = 0;
  for (int64_t t = out->start_ms; t < end + 1; t += out->step_ms) ++timestamps;
  if (out->values.size() > timestamps) out->values.resize(timestamps);
}

}  // namespace

Grid MovingWindow(const Grid& extended, int64_t preview_ms, int64_t points, std::string_view func,
                  double xfiles_factor) {
  Grid out{extended.start_ms + preview_ms, extended.step_ms, {}};
  const auto n = static_cast<int64_t>(extended.values.size());
  for (int64_t i = points; i < n; ++i) {
    const std::vector<double> window = Slice(extended.values, static_cast<size_t>(i - points),
                                             static_cast<size_t>(i));
    const std::vector<double> present = Present(window);
    const bool ok =
        !present.empty() && Xff(present.size(), static_cast<double>(points), xfiles_factor);
    out.values.push_back(ok ? Aggregate(func, present) : kNone);
  }
  KeepRendered(extended, &out);
  return out;
}

Grid ExponentialMovingAverage(const Grid& extended, int64_t preview_ms, int64_t points,
                              double constant) {
  Grid out{extended.start_ms + preview_ms, extended.step_ms, {}};
  const std::vector<double> seed =
      Present(Slice(extended.values, 0, static_cast<size_t>(points)));
  double ema = seed.empty() ? 0 : PySum(seed) / static_cast<double>(seed.size());
  out.values.push_back(PyRound(ema, 6));
  for (size_t i = static_cast<size_t>(points); i < extended.values.size(); ++i) {
    const double v = extended.values[i];
    if (None(v)) {
      out.values.push_back(kNone);
    } else {
      ema = constant * v + (1 - constant) * ema;
      out.values.push_back(PyRound(ema, 6));
    }
  }
  KeepRendered(extended, &out);
  return out;
}

Grid Summarize(const Grid& series, int64_t interval_ms, std::string_view func, bool align_to_from,
               double xfiles_factor) {
  const int64_t start = series.start_ms;
  const int64_t end = start + series.step_ms * static_cast<int64_t>(series.values.size());
  const int64_t new_start = align_to_from ? start : start - PyMod(start, interval_ms);
  const int64_t new_end = align_to_from ? end : end - PyMod(end, interval_ms) + interval_ms;
  std::vector<int64_t> timestamps;
  for (int64_t t = start; t < end; t += series.step_ms) timestamps.push_back(t);
  const double interval_points =
      static_cast<double>(interval_ms) / static_cast<double>(series.step_ms);
  Grid out{new_start, interval_ms, {}};
  size_t i = 0;
  for (int64_t t = new_start; t < new_end; t += interval_ms) {
    size_t s = i, non_null = 0;
    while (i < timestamps.size() && timestamps[i] < t + interval_ms) {
      if (timestamps[i] <= t) s = i;
      if (timestamps[i] >= t && !None(series.values[i])) ++non_null;
      ++i;
    }
    out.values.push_back(Xff(non_null, interval_points, xfiles_factor)
                             ? Aggregate(func, Slice(series.values, s, i))
                             : kNone);
  }
  return out;
}

Grid Hitcount(const Grid& series, int64_t interval_ms, bool align_to_interval) {
  const int64_t step = series.step_ms;
  int64_t end = series.start_ms + step * static_cast<int64_t>(series.values.size());
  if (align_to_interval) {
    const int64_t count = PyDiv(end - series.start_ms, interval_ms);
    end = series.start_ms + count * interval_ms + interval_ms;
  }
  const auto bucket_count = static_cast<int64_t>(
      std::ceil(static_cast<double>(end - series.start_ms) / static_cast<double>(interval_ms)));
  std::vector<std::vector<double>> buckets(static_cast<size_t>(std::max<int64_t>(0, bucket_count)));
  const int64_t new_start = end - bucket_count * interval_ms;
  const double ms = 1000;
  for (size_t i = 0; i < series.values.size(); ++i) {
    const double v = series.values[i];
    if (None(v)) continue;
    const int64_t start_time = series.start_ms + static_cast<int64_t>(i) * step;
    const int64_t start_bucket = PyDiv(start_time - new_start, interval_ms);
    const int64_t start_mod = PyMod(start_time - new_start, interval_ms);
    const int64_t end_time = start_time + step;
    int64_t end_bucket = PyDiv(end_time - new_start, interval_ms);
    int64_t end_mod = PyMod(end_time - new_start, interval_ms);
    if (end_bucket >= bucket_count) {
      end_bucket = bucket_count - 1;
      end_mod = interval_ms;
    }
    auto at = [&](int64_t b) -> std::vector<double>& {
      return buckets[static_cast<size_t>(b < 0 ? b + bucket_count : b)];  // Python indexing
    };
    if (start_bucket == end_bucket) {
      if (start_bucket >= 0) at(start_bucket).push_back(v * ((end_mod - start_mod) / ms));
    } else {
      if (start_bucket >= 0) at(start_bucket).push_back(v * ((interval_ms - start_mod) / ms));
      const double hits_per_bucket = v * (interval_ms / ms);
      for (int64_t j = start_bucket + 1; j < end_bucket; ++j) at(j).push_back(hits_per_bucket);
      if (end_mod > 0) at(end_bucket).push_back(v * (end_mod / ms));
    }
  }
  Grid out{new_start, interval_ms, {}};
  for (const auto& bucket : buckets) out.values.push_back(bucket.empty() ? kNone : PySum(bucket));
  return out;
}

std::vector<double> Derivative(const std::vector<double>& values) {
  std::vector<double> out;
  double prev = kNone;
  for (double v : values) {
    out.push_back(None(prev) || None(v) ? kNone : v - prev);
    prev = v;
  }
  return out;
}

namespace {

// _nonNegativeDelta: returns (delta, new prev).
std::pair<double, double> NonNegativeDelta(double val, double prev, bool has_max, double max_value,
                                           bool has_min, double min_value) {
  if (has_max && !None(val) && val > max_value) return {kNone, kNone};
  if (has_min && !None(val) && val < min_value) return {kNone, kNone};
  if (None(prev) || None(val)) return {kNone, val};
  if (val >= prev) return {val - prev, val};
  if (has_max) return {max_value + 1 + val - prev - (has_min ? min_value : 0), val};
  if (has_min) return {val - min_value, val};
  return {kNone, val};
}

}  // namespace

std::vector<double> NonNegativeDerivative(const std::vector<double>& values, bool has_max,
                                          double max_value, bool has_min, double min_value) {
  std::vector<double> out;
  double prev = kNone;
  for (double v : values) {
    auto [delta, next] = NonNegativeDelta(v, prev, has_max, max_value, has_min, min_value);
    out.push_back(delta);
    prev = next;
  }
  return out;
}

std::vector<double> PerSecond(const std::vector<double>& values, int64_t step_ms, bool has_max,
                              double max_value, bool has_min, double min_value) {
  std::vector<double> out;
  double prev = kNone;
  const double step = static_cast<double>(step_ms) / 1000;
  for (double v : values) {
    auto [delta, next] = NonNegativeDelta(v, prev, has_max, max_value, has_min, min_value);
    out.push_back(None(delta) ? kNone : PyRound(delta / step, 6));
    prev = next;
  }
  return out;
}

std::vector<double> Integral(const std::vector<double>& values) {
  std::vector<double> out;
  double current = 0;
  for (double v : values) {
    if (None(v)) {
      out.push_back(kNone);
    } else {
      current += v;
      out.push_back(current);
    }
  }
  return out;
}

std::vector<double> IntegralByInterval(const Grid& series, int64_t request_from_ms,
                                       int64_t interval_ms) {
  const int64_t origin = PyDiv(request_from_ms, 1000) * 1000;
  std::vector<double> out;
  int64_t t = series.start_ms;
  double current = 0;
  for (double v : series.values) {
    if (PyDiv(t - origin, interval_ms) != PyDiv(t - origin - series.step_ms, interval_ms)) {
      current = 0;
    }
    if (!None(v)) current += v;
    out.push_back(current);
    t += series.step_ms;
  }
  return out;
}

std::vector<double> Delay(const std::vector<double>& values, int64_t steps) {
  const auto n = static_cast<int64_t>(values.size());
  std::vector<double> out;
  if (steps < 0) {
    for (int64_t i = -steps; i < n; ++i) out.push_back(values[static_cast<size_t>(i)]);
    for (int64_t i = 0; i < std::min(-steps, n); ++i) out.push_back(kNone);
  } else {
    for (int64_t i = 0; i < std::min(steps, n); ++i) out.push_back(kNone);
    // series[:-steps]; with steps == 0 that is series[:0], empty.
    const int64_t keep = steps == 0 ? 0 : std::max<int64_t>(0, n - steps);
    for (int64_t i = 0; i < keep; ++i) out.push_back(values[static_cast<size_t>(i)]);
  }
  return out;
}

std::vector<double> KeepLastValue(const std::vector<double>& values, double limit) {
  std::vector<double> out = values;
  int64_t consecutive = 0;
  double last = kNone;
  for (size_t i = 0; i < out.size(); ++i) {
    if (None(values[i])) {
      ++consecutive;
      continue;
    }
    if (consecutive > 0 && static_cast<double>(consecutive) <= limit && !None(last)) {
      for (size_t j = i - static_cast<size_t>(consecutive); j < i; ++j) out[j] = last;
    }
    consecutive = 0;
    last = values[i];
  }
  if (consecutive > 0 && static_cast<double>(consecutive) <= limit && !None(last)) {
    for (size_t j = out.size() - static_cast<size_t>(consecutive); j < out.size(); ++j) {
      out[j] = last;
    }
  }
  return out;
}

std::vector<double> Interpolate(const std::vector<double>& values, double limit) {
  std::vector<double> s = values;
  int64_t c = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const double value = s[i];
    if (i == 0) continue;
    if (None(value)) {
      ++c;
    } else if (c == 0) {
      continue;
    } else if (None(s[i - static_cast<size_t>(c) - 1])) {
      c = 0;
    } else {
      if (c > 0 && static_cast<double>(c) <= limit) {
        const size_t base = i - static_cast<size_t>(c) - 1;
        for (size_t index = i - static_cast<size_t>(c); index < i; ++index) {
          s[index] = s[base] + static_cast<double>(index - base) * (value - s[base]) /
                                   static_cast<double>(c + 1);
        }
      }
      c = 0;
    }
  }
  return s;
}

std::vector<double> Changed(const std::vector<double>& values) {
  std::vector<double> out;
  double previous = kNone;
  for (double v : values) {
    if (None(previous)) {
      previous = v;
      out.push_back(0);
    } else if (!None(v) && previous != v) {
      out.push_back(1);
      previous = v;
    } else {
      out.push_back(0);
    }
  }
  return out;
}

std::vector<double> TransformNull(const std::vector<double>& values, double fill,
                                  const std::vector<std::vector<double>>& references) {
  std::vector<double> defaults;  // izip_longest over the references
  size_t longest = 0;
  for (const auto& r : references) longest = std::max(longest, r.size());
  for (size_t i = 0; i < longest; ++i) {
    bool any = false;
    for (const auto& r : references) any = any || (i < r.size() && !None(r[i]));
    defaults.push_back(any ? fill : kNone);
  }
  std::vector<double> out;
  if (!defaults.empty()) {
    for (size_t i = 0; i < std::max(values.size(), defaults.size()); ++i) {
      const double v = i < values.size() ? values[i] : kNone;
      const double d = i < defaults.size() ? defaults[i] : kNone;
      out.push_back(None(v) ? d : v);
    }
  } else {
    for (double v : values) out.push_back(None(v) ? fill : v);
  }
  return out;
}

std::vector<double> Round(const std::vector<double>& values, int precision) {
  std::vector<double> out;
  for (double v : values) out.push_back(None(v) ? kNone : PyRound(v, precision));
  return out;
}

std::vector<double> RandomValues(std::mt19937_64& rng, size_t n, double none_fraction,
                                 bool infinities) {
  std::uniform_real_distribution<double> unit(0, 1);
  std::uniform_int_distribution<int> small(-5, 5);
  std::vector<double> out;
  out.reserve(n);
  bool in_gap = false;
  for (size_t i = 0; i < n; ++i) {
    // Gaps start with probability none_fraction / 4 and last 4 points on average.
    in_gap = in_gap ? unit(rng) < 0.75 : unit(rng) < none_fraction / 4;
    if (in_gap) {
      out.push_back(kNone);
      continue;
    }
    const double kind = unit(rng);
    double v;
    if (kind < 0.5) {
      v = std::round((unit(rng) * 200 - 100) * 1000) / 1000;
    } else if (kind < 0.75) {
      v = small(rng);
    } else if (kind < 0.9) {
      v = small(rng) + (unit(rng) < 0.5 ? 0.5 : 0.125);
    } else if (kind < 0.98) {
      v = std::round(unit(rng) * 1e6) / 1000 * (unit(rng) < 0.5 ? -1 : 1);
    } else if (kind < 0.99 || !infinities) {
      v = (unit(rng) < 0.5 ? -1 : 1) * 1e12 * unit(rng);
    } else {
      v = unit(rng) < 0.5 ? -std::numeric_limits<double>::infinity()
                          : std::numeric_limits<double>::infinity();
    }
    out.push_back(v);
  }
  return out;
}

}  // namespace sluice::testing::reference
