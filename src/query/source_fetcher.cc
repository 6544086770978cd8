#include "query/source_fetcher.h"

#include <algorithm>

namespace sluice::query {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t FloorTo(int64_t t, int64_t step) { return FloorDiv(t, step) * step; }

int64_t InferStep(const Series& s, int64_t fallback) {
  int64_t step = INT64_MAX;
  for (size_t i = 1; i < s.times_ms.size(); ++i) {
    step = std::min(step, s.times_ms[i] - s.times_ms[i - 1]);
  }
  return step == INT64_MAX || step <= 0 ? std::max<int64_t>(1, fallback) : step;
}

}  // namespace

expr::TimeSeries ToGrid(const Series& series, const TimeRange& range, int64_t default_step_ms) {
  expr::TimeSeries out;
  out.tags = series.tags;
  out.tags.Set("name", series.name);
  out.name = expr::TaggedName(series.name, series.tags);
  const int64_t step = InferStep(series, default_step_ms);
  out.step = step;
  const int64_t first = FloorTo(range.from_ms, step) + step;
  int64_t end = FloorTo(range.to_ms, step) + step;  // exclusive
  if (end <= first) end = first + step;
  out.start = first;
  out.values.assign(static_cast<size_t>((end - first) / step), expr::kNone);
  for (size_t i = 0; i < series.size(); ++i) {
    const int64_t slot = FloorTo(series.times_ms[i], step);
    if (slot < first || slot >= end) continue;
    out.values[static_cast<size_t>((slot - first) / step)] = series.values[i];
  }
  return out;
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
  for (const Series& s : result.series) {
    bool keep = true;
    for (const TagFilter* f : name_filters) keep = keep && f->MatchesValue(s.name);
    if (!keep) continue;
    // The evaluator charges the grid to the budget; refuse here a grid too big to build at all.
    const int64_t step = InferStep(s, default_step_ms_);
    if ((range.to_ms - range.from_ms) / step + 1 > ctx.limits().max_points) {
      return ResourceExhausted("'{}' at a {} ms step over this range is more than {} points; "
                               "narrow the range",
                               s.name, step, ctx.limits().max_points);
    }
    expr::TimeSeries grid = ToGrid(s, range, default_step_ms_);
    grid.path_expression = std::string(path_expression);
    out->push_back(std::move(grid));
  }
  // Series order: by name, as graphite-web returns a glob's matches.
  std::stable_sort(out->begin() + static_cast<std::ptrdiff_t>(before), out->end(),
                   [](const auto& a, const auto& b) { return a.name < b.name; });
  return Status::OK();
}

}  // namespace sluice::query
