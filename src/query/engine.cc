#include "query/engine.h"

#include <cmath>

#include "expr/evaluator.h"
#include "expr/kernels.h"
#include "query/source_fetcher.h"

namespace sluice::query {

Engine::Engine(std::shared_ptr<SeriesSource> source, EngineOptions options)
    : source_(std::move(source)), options_(options) {}

Result<std::shared_ptr<const Plan>> Engine::Compile(std::string_view text) {
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = cache_.find(text);
    if (it != cache_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return *it->second;
    }
  }
  auto plan = std::make_shared<Plan>();
  plan->text = std::string(text);
  SLUICE_ASSIGN_OR_RETURN(plan->ast, ParseExpression(text, options_.parse));
  SLUICE_ASSIGN_OR_RETURN(plan->bound, expr::Bind(*plan->ast, expr::Registry::Default()));
  std::shared_ptr<const Plan> shared = std::move(plan);
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (options_.plan_cache_size == 0 || cache_.count(shared->text)) return shared;
  lru_.push_front(shared);
  cache_[lru_.front()->text] = lru_.begin();
  while (lru_.size() > options_.plan_cache_size) {
    cache_.erase(lru_.back()->text);
    lru_.pop_back();
  }
  return shared;
}

Status Engine::Evaluate(const EvalRequest& request, expr::SeriesList* out, int64_t* points) {
  SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> plan, Compile(request.target));
  SourceFetcher fetcher(source_.get(), request.filters, options_.default_step_ms,
                        request.cancelled);
  expr::EvalLimits limits;
  limits.max_series_per_path = options_.max_series_per_path;
  limits.max_points = std::min(options_.max_points, request.max_points);
  limits.deadline = request.deadline;
  expr::EvalContext ctx(&fetcher, request.range, request.now_ms, limits);
  SLUICE_RETURN_IF_ERROR(expr::Evaluate(*plan->bound, ctx, out));
  if (points != nullptr) *points += ctx.points();
  return Status::OK();
}

void ConsolidateForRender(expr::SeriesList* list, int64_t max_data_points) {
  if (max_data_points <= 0 || list->empty()) return;
  int64_t start = INT64_MAX, end = INT64_MIN;
  for (const auto& s : *list) {
    start = std::min(start, s.start);
    end = std::max(end, s.end());
  }
  const int64_t span = end - start;
  for (auto& s : *list) {
    if (s.step <= 0) continue;
    if (max_data_points == 1) {
      // graphite-web: one bucket of everything, no nudge.
      const size_t n = std::max<size_t>(1, s.size());
      const int64_t original_end = s.end();
      s.values = expr::ConsolidatedValues(s, n);
      s.step *= static_cast<int64_t>(n);
      const int64_t stamps = (original_end - s.start) / s.step + 1;
      if (static_cast<int64_t>(s.values.size()) > stamps) s.values.resize(stamps);
      continue;
    }
    const double points = static_cast<double>(span) / static_cast<double>(s.step);
    if (static_cast<double>(max_data_points) >= points) continue;
    const int64_t per_point =
        static_cast<int64_t>(std::ceil(points / static_cast<double>(max_data_points)));
    const int64_t bucket = per_point * s.step;
    // Shift the start so buckets fall on multiples of the bucket width, dropping the points
    // before it (graphite drops one fewer than it skips: its first bucket starts a point early).
    auto mod = [](int64_t a, int64_t b) { return ((a % b) + b) % b; };
    const int64_t nudge = bucket + mod(s.start, s.step) - mod(s.start, bucket);
    const int64_t lose = nudge / s.step - 1;
    const int64_t original_end = s.end();
    if (lose > 0) {
      s.values.erase(s.values.begin(),
                     s.values.begin() + std::min<int64_t>(lose, static_cast<int64_t>(s.size())));
    }
    s.start += nudge;
    std::vector<double> values = expr::ConsolidatedValues(s, static_cast<size_t>(per_point));
    // Timestamps run from the new start to the old end (inclusive) by `bucket`; the shorter of
    // the two lists wins, as graphite zips them.
    const int64_t stamps = original_end < s.start ? 0 : (original_end - s.start) / bucket + 1;
    if (static_cast<int64_t>(values.size()) > stamps) values.resize(static_cast<size_t>(stamps));
    s.values = std::move(values);
    s.step = bucket;
  }
}

Series ToSeries(expr::TimeSeries&& ts) {
  Series s;
  s.name = std::move(ts.name);
  s.tags = std::move(ts.tags);
  s.times_ms.resize(ts.values.size());
  for (size_t i = 0; i < ts.values.size(); ++i) s.times_ms[i] = ts.time_at(i);
  s.values = std::move(ts.values);
  return s;
}

}  // namespace sluice::query
