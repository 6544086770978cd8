// SourceFetcher: the expression evaluator's view of a SeriesSource. Fetches the series a path or a
// seriesByTag() selects and lays each on a regular grid, graphite-web's way:
//   - step: the series' smallest gap between points (a source's native resolution), or
//     `default_step_ms` for a series with fewer than two points;
//   - window: the step multiples t with from < t <= until (whisper's rule; when that is empty, the
//     one step after `from`), None where the source has no point;
//   - a point between two multiples lands on the multiple at or before it; the last one wins;
//   - name: the metric name, then ";key=value" per tag (graphite's tagged-series form).
#pragma once

#include <vector>

#include "expr/evaluator.h"
#include "source/series_source.h"

namespace sluice::query {

class SourceFetcher : public expr::Fetcher {
 public:
  // `source` and `filters` (ad-hoc filters every fetch must pass; may be empty) must outlive this.
  SourceFetcher(SeriesSource* source, const std::vector<TagFilter>* filters,
                int64_t default_step_ms, const std::atomic<bool>* cancelled = nullptr)
      : source_(source),
        filters_(filters),
        default_step_ms_(default_step_ms),
        cancelled_(cancelled) {}

  Status Fetch(const NameMatcher& matcher, const std::vector<TagFilter>& tag_filters,
               std::string_view path_expression, const TimeRange& range, expr::EvalContext& ctx,
               expr::SeriesList* out) override;

 private:
  SeriesSource* source_;
  const std::vector<TagFilter>* filters_;
  int64_t default_step_ms_;
  const std::atomic<bool>* cancelled_;
};

// Lays `series` on the grid described above. Exposed for tests.
expr::TimeSeries ToGrid(const Series& series, const TimeRange& range, int64_t default_step_ms);

}  // namespace sluice::query
