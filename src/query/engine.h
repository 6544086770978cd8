// Engine: target text -> cached bound plan -> evaluated SeriesList, with the request's budgets.
//
// The one entry point for Graphite expressions, used by the JSON API (/query) and the Graphite API
// (/render). Plans are cached per distinct target text (an LRU of `plan_cache_size` entries), so a
// dashboard that refreshes re-binds nothing. Thread-safe: one Engine serves all threads.
#pragma once

#include <atomic>
#include <chrono>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "expr/binder.h"
#include "expr/parser.h"
#include "expr/series_list.h"
#include "source/series_source.h"

namespace sluice::query {

struct EngineOptions {
  ParseLimits parse;
  size_t plan_cache_size = 1024;
  size_t max_series_per_path = 10'000;
  int64_t max_points = 10'000'000;  // fetched or computed points per evaluation
  // The step given to a fetched series with fewer than two points (nothing to infer it from).
  int64_t default_step_ms = 60'000;
};

// A parsed and bound target.
struct Plan {
  std::string text;
  std::unique_ptr<Expr> ast;
  std::unique_ptr<expr::BoundExpr> bound;
};

struct EvalRequest {
  std::string_view target;
  TimeRange range;
  int64_t now_ms = 0;
  const std::vector<TagFilter>* filters = nullptr;  // ad-hoc filters; may be null
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  const std::atomic<bool>* cancelled = nullptr;
  int64_t max_points = INT64_MAX;  // tightens EngineOptions::max_points for this request
};

class Engine {
 public:
  Engine(std::shared_ptr<SeriesSource> source, EngineOptions options);

  // The bound plan for `text`: from the cache, or parsed and bound now. InvalidArgument with the
  // column on a syntax or binding error.
  Result<std::shared_ptr<const Plan>> Compile(std::string_view text);

  // Evaluates `request.target`; appends the result series. Points charged are added to *points.
  Status Evaluate(const EvalRequest& request, expr::SeriesList* out, int64_t* points = nullptr);

  const EngineOptions& options() const { return options_; }

 private:
  std::shared_ptr<SeriesSource> source_;
  const EngineOptions options_;

  std::mutex cache_mu_;
  std::list<std::shared_ptr<const Plan>> lru_;  // most recent first
  std::unordered_map<std::string_view, std::list<std::shared_ptr<const Plan>>::iterator> cache_;
};

// graphite-web's render-time consolidation of a result to at most `max_data_points` per series:
// over the time span of the whole list, a series with more points is consolidated by
// ceil(points / max_data_points) values per point with its consolidation function, its start
// nudged so buckets align across refreshes. Does nothing when max_data_points <= 0.
void ConsolidateForRender(expr::SeriesList* series, int64_t max_data_points);

// The series as the protocol encoders take them: timestamps at start + i * step.
Series ToSeries(expr::TimeSeries&& series);

}  // namespace sluice::query
