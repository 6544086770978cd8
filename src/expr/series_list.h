// TimeSeries: the evaluator's series, as graphite-web's TimeSeries: a regular grid (start, step)
// of values where NaN means None. Every function of the expression language works on these.
//
// Sources hand out irregular Series (series/series.h); the fetch stage (expr/fetch.h) lays them on a
// grid, and the engine turns results back into Series for the protocol encoders. Times are epoch
// milliseconds throughout (graphite-web uses seconds; every figure here is 1000× its figure).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "series/series.h"

namespace sluice::expr {

inline constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
inline bool IsNone(double v) { return std::isnan(v); }

struct TimeSeries {
  // The display name graphite-web would give: the path for fetched series ("app.web1.cpu", or
  // "cpu;host=a" for tagged ones), the call text for computed ones ("sumSeries(app.*.cpu)").
  std::string name;
  // The path expression this series was fetched by (graphite's pathExpression); functions that
  // rename keep it. Used by functions that refetch or group by the query.
  std::string path_expression;
  // graphite-web's series.tags: the tags of a tagged path plus "name"; for a computed series, what
  // the function leaves (most keep the input's; aggregates keep the common ones).
  Tags tags;
  int64_t start = 0;  // time of values[0], ms
  int64_t step = 1000;  // ms, > 0
  std::vector<double> values;  // NaN = None
  // Fraction of non-None inputs a consolidation needs (graphite's xFilesFactor), in [0, 1].
  double xfiles_factor = 0;
  // How maxDataPoints consolidation combines points: average, sum, min, max, first, last, median,
  // multiply, diff, stddev, count, range, avg_zero (graphite's consolidateBy names).
  std::string consolidation = "average";

  size_t size() const { return values.size(); }
  // One step past the last point: start + step * size (graphite's `end` for fetched series).
  int64_t end() const { return start + step * static_cast<int64_t>(values.size()); }
  int64_t time_at(size_t i) const { return start + step * static_cast<int64_t>(i); }
};

using SeriesList = std::vector<TimeSeries>;

// Graphite's tag parsing of a series name: "cpu;host=a;dc=x" -> {name: cpu, host: a, dc: x};
// an untagged name -> {name: <name>}.
Tags TagsFromName(std::string_view name);

// The name graphite gives a fetched series with tags: the metric name, then ";key=value" for each
// tag other than "name", in key order. Plain names come back unchanged.
std::string TaggedName(std::string_view metric, const Tags& tags);

}  // namespace sluice::expr
