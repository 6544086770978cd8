// Slow, obviously-correct reference implementations of the transform and window function kernels
// (src/expr/functions/{transform,window}.cc), for the differential tests. Test-only.
//
// Each function is a literal transcription of graphite-web 1.1.8's loop into C++ over plain
// vectors (NaN = None): Python list slicing becomes copies, Python's sum() a left-to-right sum,
// round() goes through exact decimal text. Nothing here shares code with the kernels, and nothing
// is fast: windows are re-aggregated from scratch at every point.
#pragma once

#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

namespace sluice::testing::reference {

// A regular series: values[i] at start_ms + i * step_ms.
struct Grid {
  int64_t start_ms = 0;
  int64_t step_ms = 1000;
  std::vector<double> values;
};

// Python's round(x, ndigits) on a float: via printf("%.*f") of the exact value for ndigits >= 0,
// and decimal-string rounding of the exact integer digits for ndigits < 0.
double PyRound(double x, int ndigits);

// graphite's aggFuncs applied to a list that may hold None (NaN), as safe.py defines them:
// average avg avg_zero median sum total min max diff stddev count range rangeOf multiply last
// current. Returns NaN for None.
double Aggregate(std::string_view func, const std::vector<double>& values);

// movingWindow over an already extended series `extended` (the argument fetched from
// from - preview_ms): output i aggregates the present values among extended[i, i + points). Only
// the points graphite renders are kept: those up to the extended series' end.
Grid MovingWindow(const Grid& extended, int64_t preview_ms, int64_t points, std::string_view func,
                  double xfiles_factor);
// exponentialMovingAverage over `extended`, with graphite's constant.
Grid ExponentialMovingAverage(const Grid& extended, int64_t preview_ms, int64_t points,
                              double constant);

Grid Summarize(const Grid& series, int64_t interval_ms, std::string_view func, bool align_to_from,
               double xfiles_factor);
// hitcount; `align_to_interval` only changes the end as graphite does (the caller fetches the
// series from the aligned start).
Grid Hitcount(const Grid& series, int64_t interval_ms, bool align_to_interval);

std::vector<double> Derivative(const std::vector<double>& values);
// has_max / has_min: whether maxValue / minValue were given.
std::vector<double> NonNegativeDerivative(const std::vector<double>& values, bool has_max,
                                          double max_value, bool has_min, double min_value);
std::vector<double> PerSecond(const std::vector<double>& values, int64_t step_ms, bool has_max,
                              double max_value, bool has_min, double min_value);
std::vector<double> Integral(const std::vector<double>& values);
std::vector<double> IntegralByInterval(const Grid& series, int64_t request_from_ms,
                                       int64_t interval_ms);
std::vector<double> Delay(const std::vector<double>& values, int64_t steps);
std::vector<double> KeepLastValue(const std::vector<double>& values, double limit);
std::vector<double> Interpolate(const std::vector<double>& values, double limit);
std::vector<double> Changed(const std::vector<double>& values);
std::vector<double> TransformNull(const std::vector<double>& values, double fill,
                                  const std::vector<std::vector<double>>& references);
std::vector<double> Round(const std::vector<double>& values, int precision);

// Random test values from a fixed-seed generator: None in runs (about `none_fraction` of the
// points), values mixing 3-decimal reals in [-100, 100], small integers (ties for min, max, median
// and changed), halves and eighths (ties for round), and rare 1e12-sized ones; with
// `infinities`, rare +-inf too.
std::vector<double> RandomValues(std::mt19937_64& rng, size_t n, double none_fraction,
                                 bool infinities);

}  // namespace sluice::testing::reference
