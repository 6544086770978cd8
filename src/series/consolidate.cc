#include "series/consolidate.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sluice {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Running state of one bucket; one instance reused for every bucket.
struct Accumulator {
  double sum = 0, min = 0, max = 0, first = 0, last = 0;
  int64_t count = 0;

  void Reset() { count = 0; sum = 0; }
  void Add(double v) {
    if (std::isnan(v)) return;
    if (count == 0) {
      min = max = first = v;
    } else {
      min = std::min(min, v);
      max = std::max(max, v);
    }
    last = v;
    sum += v;
    ++count;
  }
  double Result(ConsolidationFn fn) const {
    if (count == 0) return fn == ConsolidationFn::kCount ? 0 : std::numeric_limits<double>::quiet_NaN();
    switch (fn) {
      case ConsolidationFn::kAverage: return sum / static_cast<double>(count);
      case ConsolidationFn::kMin: return min;
      case ConsolidationFn::kMax: return max;
      case ConsolidationFn::kSum: return sum;
      case ConsolidationFn::kLast: return last;
      case ConsolidationFn::kFirst: return first;
      case ConsolidationFn::kCount: return static_cast<double>(count);
    }
    return sum / static_cast<double>(count);
  }
};

}  // namespace

std::optional<ConsolidationFn> ParseConsolidationFn(std::string_view name) {
  if (name == "avg" || name == "average" || name == "mean") return ConsolidationFn::kAverage;
  if (name == "min") return ConsolidationFn::kMin;
  if (name == "max") return ConsolidationFn::kMax;
  if (name == "sum" || name == "total") return ConsolidationFn::kSum;
  if (name == "last") return ConsolidationFn::kLast;
  if (name == "first") return ConsolidationFn::kFirst;
  if (name == "count") return ConsolidationFn::kCount;
  return std::nullopt;
}

std::string_view ConsolidationFnName(ConsolidationFn fn) {
  switch (fn) {
    case ConsolidationFn::kAverage: return "avg";
    case ConsolidationFn::kMin: return "min";
    case ConsolidationFn::kMax: return "max";
    case ConsolidationFn::kSum: return "sum";
    case ConsolidationFn::kLast: return "last";
    case ConsolidationFn::kFirst: return "first";
    case ConsolidationFn::kCount: return "count";
  }
  return "avg";
}

int64_t BucketWidthMs(int64_t from_ms, int64_t to_ms, int64_t max_points, int64_t min_interval_ms) {
  if (max_points <= 0) return 0;
  const int64_t span = std::max<int64_t>(to_ms - from_ms, 0) + 1;
  int64_t width = std::max<int64_t>({(span + max_points - 1) / max_points, min_interval_ms, 1});
  // Alignment can add one partial bucket at the start; widen until the aligned buckets fit.
  for (;;) {
    int64_t first = FloorDiv(from_ms, width);
    int64_t last = FloorDiv(to_ms, width);
    if (last - first + 1 <= max_points) return width;
    width += std::max<int64_t>(1, width / 64);
  }
}

void ConsolidateBuckets(Series* series, int64_t bucket_ms, ConsolidationFn fn) {
  const size_t n = series->size();
  if (n == 0 || bucket_ms <= 0) return;
  auto& times = series->times_ms;
  auto& values = series->values;
  size_t out = 0;
  Accumulator acc;
  int64_t current = FloorDiv(times[0], bucket_ms);
  for (size_t i = 0; i < n; ++i) {
    int64_t b = FloorDiv(times[i], bucket_ms);
    if (b != current) {
      times[out] = current * bucket_ms;
      values[out] = acc.Result(fn);
      ++out;
      acc.Reset();
      current = b;
    }
    acc.Add(values[i]);
  }
  times[out] = current * bucket_ms;
  values[out] = acc.Result(fn);
  ++out;
  times.resize(out);
  values.resize(out);
}

int64_t ConsolidateInPlace(Series* series, int64_t from_ms, int64_t to_ms, int64_t max_points,
                           int64_t min_interval_ms, ConsolidationFn fn) {
  if (max_points <= 0 || static_cast<int64_t>(series->size()) <= max_points) return 0;
  int64_t lo = from_ms, hi = to_ms;
  if (!series->times_ms.empty()) {
    lo = std::min(lo, series->times_ms.front());
    hi = std::max(hi, series->times_ms.back());
  }
  int64_t width = BucketWidthMs(lo, hi, max_points, min_interval_ms);
  ConsolidateBuckets(series, width, fn);
  return width;
}

}  // namespace sluice
