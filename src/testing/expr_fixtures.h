// Test fixtures for the expression engine (src/expr): an in-memory Fetcher over fixed input series
// and a one-call "parse, bind, evaluate" helper, so function tests read as tables of
// target -> output. Test-only; never linked into the server.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "expr/evaluator.h"
#include "expr/series_list.h"
#include "series/name_matcher.h"
#include "series/tag_filter.h"
#include "source/series_source.h"

namespace sluice::testing {

// A Fetcher over input series held in memory, with graphite-web's fetch rule (the rule of
// tools/graphite/memfinder.py, in milliseconds): for a window (from, until] and an input
// (start, step, values), the output grid starts at the first step multiple > from and ends at the
// last step multiple <= until (one point at the first multiple when that would be empty); each
// point takes the input's value where the input has a point at that time, None elsewhere.
//
// Matching: an input whose name has no ';' matches when `matcher.Matches(name)`; a tagged input
// ("cpu;host=a") is stored under its normalised name (tags sorted, as graphite's TaggedSeries
// does) and matches when the matcher matches that name or names it exactly in another tag order.
// Every tag filter must pass on the input's tags (TagsFromName: "name" is the metric name).
// Outputs are sorted by name (as graphite-web's fetchData returns them), named by their normalised
// name, with tags = TagsFromName(name), path_expression = the given text, xfiles_factor 0 and
// consolidation "average". Like a real source it leaves the budgets to its caller (the evaluator
// charges the points and counts the series of a path); it checks the deadline once per call.
//
// Not thread-safe: add inputs before evaluating; Fetch records every call for tests to inspect.
class MemoryFetcher : public expr::Fetcher {
 public:
  struct Call {
    std::string path_expression;
    size_t filters = 0;
    TimeRange range;
  };

  // Adds an input series with points at start_ms + i * step_ms (NaN = no point). A tagged name is
  // normalised. Adding a name twice replaces the earlier series.
  void Add(std::string_view name, int64_t start_ms, int64_t step_ms, std::vector<double> values);

  Status Fetch(const NameMatcher& matcher, const std::vector<TagFilter>& tag_filters,
               std::string_view path_expression, const TimeRange& range, expr::EvalContext& ctx,
               expr::SeriesList* out) override;

  // Every Fetch call so far, in order.
  const std::vector<Call>& calls() const { return calls_; }

 private:
  struct Input {
    std::string name;  // normalised
    int64_t start_ms = 0;
    int64_t step_ms = 1000;
    std::vector<double> values;
  };
  std::vector<Input> inputs_;  // sorted by name
  std::vector<Call> calls_;
};

// graphite's fetch window for one input: the values of `values` (starting at start_ms, one every
// step_ms) laid on the grid described at MemoryFetcher. *grid_start_ms receives the first time.
std::vector<double> FetchWindow(int64_t start_ms, int64_t step_ms,
                                const std::vector<double>& values, const TimeRange& range,
                                int64_t* grid_start_ms);

// Parses `target`, binds it against Registry::Default() and evaluates it over `range` (now =
// range.to_ms) with `fetcher`. Returns the evaluated list or the first error of any stage.
Result<expr::SeriesList> EvalForTest(std::string_view target, expr::Fetcher& fetcher,
                                     TimeRange range, const expr::EvalLimits& limits = {});

// A compact dump for assertions: "name [start,step] v0 v1 None ..." with values as %.17g trimmed
// (shortest round trip), one line per series joined by '\n'.
std::string DumpSeries(const expr::TimeSeries& series);
std::string DumpSeriesList(const expr::SeriesList& list);

}  // namespace sluice::testing
