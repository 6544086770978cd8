// Slow, obviously-correct reference implementations of the combine group's kernels
// (src/expr/functions/combine.cc) and of the name slicing of naming.cc, for the differential tests.
// Each follows graphite-web 1.1.8's Python step by step — normalize() with its consolidating
// iterator, izip_longest rows, the safe* helpers — with plain loops and no code shared with the
// kernels. Test-only; never linked into the server.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "expr/series_list.h"

namespace sluice::testing::reference {

// The values, start and step a reference function computes (names are checked by table tests).
struct Grid {
  int64_t start = 0;
  int64_t step = 0;
  std::vector<double> values;  // NaN = None
};

// graphite's aggregate(series, func, xFilesFactor) for the aggFunc names (aliases included) over
// fetched series (average consolidation, xFilesFactor 0). `series` must not be empty.
Grid Aggregate(const expr::SeriesList& series, std::string_view func, double xfiles_factor);

// graphite's divideSeries(dividends, [divisor]): one grid per dividend.
std::vector<Grid> DivideSeries(const expr::SeriesList& dividends, const expr::TimeSeries& divisor);

// graphite's asPercent(series) with no total and no nodes: one grid per series.
std::vector<Grid> AsPercentOfSum(const expr::SeriesList& series);

// graphite's percentileOfSeries(series, n, interpolate), for 0 < n <= 100.
Grid PercentileOfSeries(const expr::SeriesList& series, double n, bool interpolate);

// graphite's substr(name, start, stop) renaming.
std::string Substr(std::string_view name, int start, int stop);

}  // namespace sluice::testing::reference
