// Shared building blocks of the function kernels, with graphite-web 1.1.8's semantics: interval
// strings, the aggregation functions (aggFunc), normalisation of lists with different steps,
// consolidation by points per bucket, xFilesFactor, and how names format numbers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "expr/series_list.h"

namespace sluice::expr {

// graphite's parseTimeOffset: an optional sign, then one or more <digits><unit> pairs ("5min",
// "-1d", "1h30min"). Units by prefix: s(econds), min(utes), h(ours), d(ays), w(eeks), mon(ths) =
// 30 days, y(ears) = 365 days. Returns signed milliseconds; InvalidArgument naming the text.
Result<int64_t> ParseInterval(std::string_view text);

// An aggregation over one row or window of values, NaN (None) entries included. Returns NaN when
// the function has nothing to aggregate (every entry None, or empty), as graphite's safe* do.
using AggFn = double (*)(const double* values, size_t n);

// The aggFunc names graphite-web 1.1.8 accepts, aliases included: average avg avg_zero median sum
// total min max diff stddev count range rangeOf multiply last current. nullptr when unknown.
AggFn FindAggFn(std::string_view name);
// The canonical names, for ParamSpec::options (no aliases).
const std::vector<std::string>& AggFnNames();
// The same plus aliases, for parameters that accept them.
const std::vector<std::string>& AggFnNamesWithAliases();

// graphite's xff(): true when some entry is not None and the fraction of non-None entries is at
// least `xfiles_factor`.
bool XffOk(const double* values, size_t n, double xfiles_factor);

// graphite's TimeSeries.consolidate(points_per_bucket) followed by iteration: groups of
// `points_per_bucket` values from the first one (the last group may be short but its xff still
// divides by points_per_bucket), each combined by series.consolidation when enough are non-None
// (series.xfiles_factor), else None. Returns the new values; does not change `series`.
std::vector<double> ConsolidatedValues(const TimeSeries& series, size_t points_per_bucket);

// graphite's normalize(): every series brought to the least common multiple of the steps by
// consolidation, start = the earliest start, end = the latest end trimmed to a whole number of
// steps. Modifies the series in place (values consolidated, step set); returns start/end/step.
// InvalidArgument when `series` is empty (graphite's NormalizeEmptyResultError; callers that
// should return nothing check emptiness first).
struct Normalized {
  int64_t start = 0;
  int64_t end = 0;
  int64_t step = 0;
};
Result<Normalized> Normalize(SeriesList* series);

// graphite's formatPathExpressions(): the distinct path expressions in first-seen order, joined
// with ','.
std::string FormatPathExpressions(const SeriesList& series);

// Python's "%g" of a double (as in "scale(x,%g)"): 6 significant digits, no trailing zeros.
std::string FormatG(double v);
// Python's repr/str of a float: shortest round trip, "1.0" for whole numbers, "1e+16" style
// exponents, "inf", "nan".
std::string FormatPyFloat(double v);
// What graphite writes for a number argument in a name: an integer as written ("5"), a float as
// Python's str ("0.5").
std::string FormatNumberArg(double v, bool is_integer);

// Python's round(x, ndigits) for a float: the double nearest to x rounded to `ndigits` decimal
// places (negative: to tens, hundreds, ...), ties to even on x's exact binary value. graphite
// rounds perSecond, scaleToSeconds and exponentialMovingAverage outputs with it.
double RoundLikePython(double x, int ndigits);

// Per-point helpers that skip None, as graphite's safe* functions.
double SafeSum(const std::vector<double>& values);   // None when all None
double SafeAvg(const std::vector<double>& values);   // None when all None
double SafeMin(const std::vector<double>& values);
double SafeMax(const std::vector<double>& values);
double SafeLast(const std::vector<double>& values);  // the last non-None
size_t SafeLen(const std::vector<double>& values);   // non-None count

}  // namespace sluice::expr
