#include "query/source_fetcher.h"

#include <algorithm>

namespace sluice::query {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t FloorTo(int64_t t, int64_t step) { return FloorDiv(t, step) * step; }

// The smallest gap between consecutive points: INT64_MAX with fewer than two points, <= 0 when
// the times are not strictly ascending. Four running minima, so the loop is not one long chain.
int64_t MinGap(const Series& s) {
  const int64_t* t = s.times_ms.data();
  const size_t n = s.times_ms.size();
  int64_t m[4] = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX};
  size_t i = 1;
  for (; i + 3 < n; i += 4) {
    m[0] = std::min(m[0], t[i] - t[i - 1]);
    m[1] = std::min(m[1], t[i + 1] - t[i]);
    m[2] = std::min(m[2], t[i + 2] - t[i + 1]);
    m[3] = std::min(m[3], t[i + 3] - t[i + 2]);
  }
  for (; i < n; ++i) m[0] = std::min(m[0], t[i] - t[i - 1]);
  return std::min(std::min(m[0], m[1]), std::min(m[2], m[3]));
}

int64_t StepOf(int64_t min_gap, int64_t fallback) {
  return min_gap == INT64_MAX || min_gap <= 0 ? std::max<int64_t>(1, fallback) : min_gap;
}

// ToGrid with the series' MinGap already known. When `movable` is &series.values the values may
// be moved out (the series is the caller's to discard).
expr::TimeSeries LayOnGrid(const Series& series, std::vector<double>* movable,
                           const TimeRange& range, int64_t min_gap, int64_t default_step_ms) {
  expr::TimeSeries out;
  out.tags = series.tags;
  out.tags.Set("name", series.name);
  out.name = expr::TaggedName(series.name, series.tags);
  const int64_t step = StepOf(min_gap, default_step_ms);
  out.step = step;
  const int64_t first = FloorTo(range.from_ms, step) + step;
  int64_t end = FloorTo(range.to_ms, step) + step;  // exclusive
  if (end <= first) end = first + step;
  out.start = first;
  const size_t slots = static_cast<size_t>((end - first) / step);
  const int64_t* times = series.times_ms.data();
  if (min_gap > 0) {
    // Ascending times (the SeriesSource contract): only the points in [first, end) land, and
    // no two share a slot (gaps >= step). When they fill every slot, which a source at its
    // native step does, they are the grid as they are: no scatter, and often no copy either.
    const size_t lo = std::lower_bound(times, times + series.size(), first) - times;
    const size_t hi = std::lower_bound(times + lo, times + series.size(), end) - times;
    if (hi - lo == slots && times[lo] == first && times[hi - 1] == end - step) {
      if (movable == &series.values && lo == 0 && hi == series.size()) {
        out.values = std::move(*movable);
      } else {
        out.values.assign(series.values.begin() + static_cast<std::ptrdiff_t>(lo),
                          series.values.begin() + static_cast<std::ptrdiff_t>(hi));
      }
      return out;
    }
    out.values.assign(slots, expr::kNone);
    // A point one step after the previous one lands in the next slot: no division.
    int64_t next = INT64_MIN;
    size_t slot = 0;
    for (size_t i = lo; i < hi; ++i) {
      slot = times[i] == next ? slot + 1 : static_cast<size_t>((times[i] - first) / step);
      next = times[i] + step;
      out.values[slot] = series.values[i];
    }
    return out;
  }
  // Times out of order: point by point, the last one wins.
  out.values.assign(slots, expr::kNone);
  for (size_t i = 0; i < series.size(); ++i) {
    const int64_t slot = FloorTo(times[i], step);
    if (slot < first || slot >= end) continue;
    out.values[static_cast<size_t>((slot - first) / step)] = series.values[i];
  }
  return out;
}

}  // namespace

expr::TimeSeries ToGrid(const Series& series, const TimeRange& range, int64_t default_step_ms) {
  return LayOnGrid(series, nullptr, range, MinGap(series), default_step_ms);
}

Status SourceFetcher::Fetch(const NameMatcher& matcher, const std::vector<TagFilter>& tag_filters,
                            std::string_view path_expression, const TimeRange& range,
                            expr::EvalContext& ctx, expr::SeriesList* out) {
  SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
  const size_t before = out->size();
  // "name" filters (seriesByTag) test the metric name; the others go to the source with the
  // request's ad-hoc filters.
  std::vector<TagFilter> filters;
  std::vector<const TagFilter*> name_filters;
  if (filters_ != nullptr) filters = *filters_;
  for (const TagFilter& f : tag_filters) {
    if (f.key() == "name") {
      name_filters.push_back(&f);
    } else {
      filters.push_back(f);
    }
  }
  FetchRequest request;
  request.target = path_expression;
  request.matcher = &matcher;
  request.filters = &filters;
  request.range = range;
  request.point_budget = ctx.limits().max_points;
  request.cancelled = cancelled_;
  request.deadline = ctx.limits().deadline;
  FetchResult result;
  SLUICE_RETURN_IF_ERROR(source_->Fetch(request, &result));
  for (Series& s : result.series) {
    bool keep = true;
    for (const TagFilter* f : name_filters) keep = keep && f->MatchesValue(s.name);
    if (!keep) continue;
    // The evaluator charges the grid to the budget; refuse here a grid too big to build at all.
    const int64_t min_gap = MinGap(s);
    const int64_t step = StepOf(min_gap, default_step_ms_);
    if ((range.to_ms - range.from_ms) / step + 1 > ctx.limits().max_points) {
      return ResourceExhausted("'{}' at a {} ms step over this range is more than {} points; "
                               "narrow the range",
                               s.name, step, ctx.limits().max_points);
    }
    expr::TimeSeries grid = LayOnGrid(s, &s.values, range, min_gap, default_step_ms_);
    grid.path_expression = std::string(path_expression);
    out->push_back(std::move(grid));
  }
  // Series order: by name, as graphite-web returns a glob's matches.
  std::stable_sort(out->begin() + static_cast<std::ptrdiff_t>(before), out->end(),
                   [](const auto& a, const auto& b) { return a.name < b.name; });
  return Status::OK();
}

}  // namespace sluice::query
