// Consolidation: reduce a series to at most maxDataPoints points for the browser.
//
// Buckets are aligned to multiples of the bucket width since the epoch, so the same data gives the
// same points on every refresh. Width = the smallest nice width (NiceWidthMs) that is at least
// intervalMs and fits the range in maxDataPoints buckets. A bucket is stamped with its start time and emitted only if it holds at
// least one raw point; its value is the consolidation function over the non-null values, or null
// when all are null. A series that already fits (few enough points, none closer than intervalMs)
// is returned as it is.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "series/series.h"

namespace sluice {

enum class ConsolidationFn { kAverage, kMin, kMax, kSum, kLast, kFirst, kCount };

// Accepts Graphite's and Grafana's spellings: avg/average, min, max, sum/total, last, first, count.
std::optional<ConsolidationFn> ParseConsolidationFn(std::string_view name);
std::string_view ConsolidationFnName(ConsolidationFn fn);

// The smallest "nice" width >= width_ms (1, 2, 5, 10 … ms; 1, 2, 5, 10, 15, 20, 30 s; 1, 2, 5, 10,
// 15, 20, 30 min; 1, 2, 3, 6, 12 h; whole days), as Grafana rounds intervals.
int64_t NiceWidthMs(int64_t width_ms);

// The bucket width (ms) for a range [from_ms, to_ms] so that at most `max_points` aligned buckets
// cover it, and no narrower than `min_interval_ms`. max_points <= 0 means "no limit" (returns 0).
int64_t BucketWidthMs(int64_t from_ms, int64_t to_ms, int64_t max_points, int64_t min_interval_ms);

// Consolidates `series` in place when it holds more than `max_points` points, or when two of its
// points are closer than `min_interval_ms` (a panel's minimum interval is a floor on resolution).
// Returns the bucket width used, or 0 when nothing was done.
int64_t ConsolidateInPlace(Series* series, int64_t from_ms, int64_t to_ms, int64_t max_points,
                           int64_t min_interval_ms, ConsolidationFn fn);

// Consolidates into fixed buckets of `bucket_ms` (> 0), unconditionally.
void ConsolidateBuckets(Series* series, int64_t bucket_ms, ConsolidationFn fn);

}  // namespace sluice
