// Slow, obviously-correct reference implementations of the filter and sorting functions
// (src/expr/functions/filter.cc), for the differential test in filter_test.cc. Test-only.
//
// Each function follows graphite-web 1.1.8's Python line by line, on values held as
// std::optional (None = nullopt), with Python's list.sort (stable; reverse=True reverses, sorts,
// reverses back) and Python's slicing and negative indexing. Nothing here shares code with the
// kernels. Inputs are taken by value and the result is returned; NaN in a TimeSeries is None.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "expr/series_list.h"

namespace sluice::testing::reference {

// graphite's aggFuncs (and aliases) applied to a whole series: average, avg_zero, median, sum,
// min, max, diff, stddev, count, range, multiply, last; avg, total, current, rangeOf.
// nullopt = None. Aborts on an unknown name (a test bug).
std::optional<double> Aggregate(std::string_view func, const std::vector<double>& values);

// filterSeries(seriesList, func, operator, threshold); op is one of = != > >= < <=.
expr::SeriesList FilterSeries(expr::SeriesList in, std::string_view func, std::string_view op,
                              double threshold);
// highest/lowest(seriesList, n, func).
expr::SeriesList Highest(expr::SeriesList in, int64_t n, std::string_view func);
expr::SeriesList Lowest(expr::SeriesList in, int64_t n, std::string_view func);
// sortBy(seriesList, func, reverse); sortByMaxima, sortByTotal are sortBy with max/sum, reversed.
expr::SeriesList SortBy(expr::SeriesList in, std::string_view func, bool reverse);
expr::SeriesList SortByMinima(expr::SeriesList in);
expr::SeriesList MostDeviant(expr::SeriesList in, int64_t n);

expr::SeriesList RemoveAboveValue(expr::SeriesList in, double n);
expr::SeriesList RemoveBelowValue(expr::SeriesList in, double n);
// n must not be 0 (graphite asserts).
expr::SeriesList RemoveAbovePercentile(expr::SeriesList in, double n);
expr::SeriesList RemoveBelowPercentile(expr::SeriesList in, double n);
// graphite's _getPercentile(points, n, interpolate=False); nullopt for no points or where
// graphite raises IndexError.
std::optional<double> Percentile(std::vector<double> points, double n);

expr::SeriesList RemoveEmptySeries(expr::SeriesList in, double xfiles_factor);
// Python re.search semantics for simple patterns (std::regex ECMAScript).
expr::SeriesList Grep(expr::SeriesList in, const std::string& pattern);
expr::SeriesList Exclude(expr::SeriesList in, const std::string& pattern);
expr::SeriesList Limit(expr::SeriesList in, int64_t n);
expr::SeriesList SortByName(expr::SeriesList in, bool natural, bool reverse);
expr::SeriesList Unique(std::vector<expr::SeriesList> lists);

}  // namespace sluice::testing::reference
