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

// Reduces values[begin, end) with `fn`, skipping NaN; NaN when nothing is left (0 for kCount).
template <ConsolidationFn fn>
double Reduce(const double* v, size_t begin, size_t end) {
  double acc = 0;
  int64_t count = 0;
  for (size_t i = begin; i < end; ++i) {
    double x = v[i];
    if (std::isnan(x)) continue;
    if constexpr (fn == ConsolidationFn::kAverage || fn == ConsolidationFn::kSum) {
      acc += x;
    } else if constexpr (fn == ConsolidationFn::kMin) {
      acc = count == 0 ? x : std::min(acc, x);
    } else if constexpr (fn == ConsolidationFn::kMax) {
      acc = count == 0 ? x : std::max(acc, x);
    } else if constexpr (fn == ConsolidationFn::kLast) {
      acc = x;
    } else if constexpr (fn == ConsolidationFn::kFirst) {
      if (count == 0) acc = x;
    }
    ++count;
  }
  if constexpr (fn == ConsolidationFn::kCount) return static_cast<double>(count);
  if (count == 0) return std::numeric_limits<double>::quiet_NaN();
  if constexpr (fn == ConsolidationFn::kAverage) return acc / static_cast<double>(count);
  return acc;
}

// Walks bucket by bucket (one division per bucket, not per point) and compacts in place.
template <ConsolidationFn fn>
void Buckets(Series* series, int64_t bucket_ms) {
  auto& times = series->times_ms;
  auto& values = series->values;
  const size_t n = times.size();
  size_t out = 0;
  size_t i = 0;
  while (i < n) {
    const int64_t start = FloorDiv(times[i], bucket_ms) * bucket_ms;
    size_t j = i;
    // times[j] >= start, so the difference cannot overflow where start + bucket_ms could.
    while (j < n && static_cast<uint64_t>(times[j]) - static_cast<uint64_t>(start) <
                        static_cast<uint64_t>(bucket_ms)) {
      ++j;
    }
    values[out] = Reduce<fn>(values.data(), i, j);
    times[out] = start;
    ++out;
    i = j;
  }
  times.resize(out);
  values.resize(out);
}

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

int64_t NiceWidthMs(int64_t width_ms) {
  static constexpr int64_t kNice[] = {
      1, 2, 5, 10, 20, 50, 100, 200, 500,                              // ms
      1'000, 2'000, 5'000, 10'000, 15'000, 20'000, 30'000,             // s
      60'000, 120'000, 300'000, 600'000, 900'000, 1'200'000, 1'800'000,  // min
      3'600'000, 7'200'000, 10'800'000, 21'600'000, 43'200'000, 86'400'000};
  for (int64_t nice : kNice) {
    if (width_ms <= nice) return nice;
  }
  const int64_t day = 86'400'000;
  if (width_ms > INT64_MAX / 2) return INT64_MAX / 2 / day * day;
  return (width_ms + day - 1) / day * day;
}

int64_t BucketWidthMs(int64_t from_ms, int64_t to_ms, int64_t max_points, int64_t min_interval_ms) {
  if (max_points <= 0) return 0;
  // Spans are computed in unsigned arithmetic and capped, so extreme ranges cannot overflow.
  const uint64_t raw_span = to_ms >= from_ms ? static_cast<uint64_t>(to_ms) - static_cast<uint64_t>(from_ms) : 0;
  const int64_t span = static_cast<int64_t>(std::min<uint64_t>(raw_span, INT64_MAX / 4)) + 1;
  int64_t width = NiceWidthMs(std::max<int64_t>({(span + max_points - 1) / max_points, min_interval_ms, 1}));
  // Alignment can add one partial bucket at the start; widen until the aligned buckets fit.
  while (FloorDiv(to_ms, width) - FloorDiv(from_ms, width) + 1 > max_points) {
    width = NiceWidthMs(width + 1);
  }
  return width;
}

void ConsolidateBuckets(Series* series, int64_t bucket_ms, ConsolidationFn fn) {
  if (series->size() == 0 || bucket_ms <= 0) return;
  switch (fn) {
    case ConsolidationFn::kAverage: return Buckets<ConsolidationFn::kAverage>(series, bucket_ms);
    case ConsolidationFn::kMin: return Buckets<ConsolidationFn::kMin>(series, bucket_ms);
    case ConsolidationFn::kMax: return Buckets<ConsolidationFn::kMax>(series, bucket_ms);
    case ConsolidationFn::kSum: return Buckets<ConsolidationFn::kSum>(series, bucket_ms);
    case ConsolidationFn::kLast: return Buckets<ConsolidationFn::kLast>(series, bucket_ms);
    case ConsolidationFn::kFirst: return Buckets<ConsolidationFn::kFirst>(series, bucket_ms);
    case ConsolidationFn::kCount: return Buckets<ConsolidationFn::kCount>(series, bucket_ms);
  }
}

int64_t ConsolidateInPlace(Series* series, int64_t from_ms, int64_t to_ms, int64_t max_points,
                           int64_t min_interval_ms, ConsolidationFn fn) {
  const auto& times = series->times_ms;
  bool too_many = max_points > 0 && static_cast<int64_t>(times.size()) > max_points;
  bool too_fine = false;
  for (size_t i = 1; i < times.size() && !too_fine && min_interval_ms > 1; ++i) {
    too_fine = times[i] - times[i - 1] < min_interval_ms;
  }
  if (!too_many && !too_fine) return 0;
  int64_t lo = std::min(from_ms, times.front());
  int64_t hi = std::max(to_ms, times.back());
  int64_t width = max_points > 0 ? BucketWidthMs(lo, hi, max_points, min_interval_ms)
                                 : NiceWidthMs(min_interval_ms);
  ConsolidateBuckets(series, width, fn);
  return width;
}

}  // namespace sluice
