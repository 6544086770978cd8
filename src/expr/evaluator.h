// Evaluator: the last stage of the expression pipeline. Walks a BoundExpr, fetches paths through a
// Fetcher, evaluates arguments and calls each function's kernel with them.
//
// Budgets: every fetched or computed grid is charged against EvalLimits::max_points (a request
// total), a path may select at most max_series_per_path series, and the deadline is checked between
// calls and inside the fetch; exceeding any of them is ResourceExhausted (422), never a crash.
// Recursion depth is bounded by the parser's depth limit.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "expr/binder.h"
#include "expr/series_list.h"
#include "series/tag_filter.h"
#include "source/series_source.h"

namespace sluice::expr {

// Where paths get their series. The window is graphite-web's: points at step multiples t with
// from < t <= until (whisper's rule; tools/graphite/README.md), None where the source has no point.
class Fetcher {
 public:
  virtual ~Fetcher() = default;
  // Appends the series `matcher` selects (and that pass `tag_filters`, where the key "name" means
  // the series name), each named as graphite names fetched series and with path_expression set to
  // `path_expression`.
  virtual Status Fetch(const NameMatcher& matcher, const std::vector<TagFilter>& tag_filters,
                       std::string_view path_expression, const TimeRange& range,
                       class EvalContext& ctx, SeriesList* out) = 0;
};

struct EvalLimits {
  size_t max_series_per_path = 10'000;
  int64_t max_points = 10'000'000;  // points fetched or computed, per request
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

// An evaluated argument.
struct Value {
  enum class Kind { kNone, kSeries, kString, kNumber, kBool };
  Kind kind = Kind::kNone;
  SeriesList series;
  std::string text;
  double number = 0;
  bool is_integer = false;
  bool boolean = false;
  int column = 0;
};

// Per-request evaluation state. Not thread-safe; one per request.
class EvalContext {
 public:
  EvalContext(Fetcher* fetcher, TimeRange range, int64_t now_ms, EvalLimits limits)
      : fetcher_(fetcher), range_(range), now_ms_(now_ms), limits_(limits) {}

  // The window being evaluated (graphite's startTime/endTime), ms. Functions that evaluate an
  // argument over another window (timeShift, movingAverage) call Evaluate with it.
  const TimeRange& range() const { return range_; }
  int64_t now_ms() const { return now_ms_; }
  const EvalLimits& limits() const { return limits_; }
  Fetcher* fetcher() const { return fetcher_; }
  // Points charged so far.
  int64_t points() const { return points_; }

  // Evaluates `plan` (a series-valued argument) over `range`.
  Status Evaluate(const BoundExpr& plan, const TimeRange& range, SeriesList* out);

  // Charges `points` to the request's budget: ResourceExhausted once the total passes
  // limits().max_points. Kernels that build a new grid charge its size before allocating it.
  Status ChargePoints(int64_t points);
  // ResourceExhausted once limits().deadline has passed.
  Status CheckDeadline() const;

 private:
  Fetcher* fetcher_;
  TimeRange range_;
  int64_t now_ms_;
  EvalLimits limits_;
  int64_t points_ = 0;
};

// A call's arguments, evaluated, indexed by parameter position. Parameters not given read as None.
class CallArgs {
 public:
  CallArgs(const BoundExpr& call, std::vector<Value> fixed, std::vector<Value> rest)
      : call_(call), values_(std::move(fixed)), rest_(std::move(rest)) {}

  const FunctionSpec& function() const { return *call_.function; }
  const BoundExpr& call() const { return call_; }

  // The i-th parameter (0-based); a Value of kind kNone when not given.
  const Value& value(size_t i) const;
  Value& mutable_value(size_t i);
  bool has(size_t i) const { return value(i).kind != Value::Kind::kNone; }

  // Typed reads with the default used when the parameter is absent or None. The binder has
  // checked the types, so these never fail.
  SeriesList& series(size_t i);  // empty when absent
  double number(size_t i, double fallback) const;
  int64_t integer(size_t i, int64_t fallback) const;
  std::string_view string(size_t i, std::string_view fallback) const;
  bool boolean(size_t i, bool fallback) const;

  // The unevaluated plan of a lazy series parameter (ParamSpec::lazy); nullptr when absent.
  const BoundExpr* plan(size_t i) const;

  // The variadic parameter's values (it is always the last parameter), in order. value(i) of the
  // variadic parameter's index reads the first of them.
  std::vector<Value>& rest();
  // The variadic series lists concatenated, in order (sumSeries(a, b) = a's series then b's).
  SeriesList ConcatRest();

 private:
  const BoundExpr& call_;
  std::vector<Value> values_;  // the fixed parameters
  std::vector<Value> rest_;    // the variadic parameter's arguments
};

// Evaluates a series-valued plan (a path or a call) over ctx.range().
Status Evaluate(const BoundExpr& plan, EvalContext& ctx, SeriesList* out);

}  // namespace sluice::expr
