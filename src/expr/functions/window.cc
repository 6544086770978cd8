// The moving-window functions of graphite-web 1.1.8 (its "Calculate" group): movingAverage,
// movingSum, movingMin, movingMax, movingMedian, movingWindow and exponentialMovingAverage.
//
// graphite evaluates the series argument again over the window extended back by the window length
// (the "preview", so the first output points have full windows), then emits, for each point of the
// extended series after the first `windowPoints`, the aggregate of the `windowPoints` points before
// it. The output therefore starts `preview` after the extended start — not necessarily on a step
// multiple when the window is an interval that is not a whole number of steps — and its
// xFilesFactor counts non-None points against windowPoints.
//
// One sliding loop (SlideWindow) serves the moving* family; the aggregation is a policy:
//   average, sum  a compensated running sum (O(1) per point), infinities counted apart;
//   min, max      a monotonic queue of (index, value) (amortised O(1));
//   median        two heaps with positions (O(log w));
//   the rest      the kernels.h aggregation over the window's present points (O(w)).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "expr/evaluator.h"
#include "expr/kernels.h"
#include "expr/registry.h"

namespace sluice::expr {
namespace {

constexpr int64_t kSecondMs = 1000;
// Longest preview accepted: about 31 years, far beyond any retention, and small enough that
// `from - preview` cannot overflow.
constexpr int64_t kMaxPreviewMs = int64_t{1'000'000'000} * kSecondMs;

// A windowSize argument: a point count or an interval string.
struct WindowSize {
  bool is_interval = false;
  int64_t points = 0;      // !is_interval: int(windowSize)
  int64_t preview_ms = 0;  // is_interval: |interval|
  std::string name_arg;    // how graphite prints it in the output name: 5 or "5min"
  std::string tag;         // the tag value: 5 or 5min
};

Result<WindowSize> WindowSizeArg(const CallArgs& args, std::string_view function) {
  const Value& v = args.value(1);
  WindowSize w;
  if (v.kind == Value::Kind::kString) {
    Result<int64_t> ms = ParseInterval(v.text);
    if (!ms.ok()) return ms.status().Annotate(function);
    w.is_interval = true;
    w.preview_ms = std::abs(*ms);
    if (w.preview_ms > kMaxPreviewMs) {
      return InvalidArgument("{}: windowSize '{}' is longer than 1000000000s", function, v.text);
    }
    w.name_arg = "\"" + v.text + "\"";
    w.tag = v.text;
    return w;
  }
  const double n = args.number(1, 0);
  if (!(std::fabs(n) <= 1e9)) {
    return InvalidArgument("{}: windowSize must be a point count within +-1e9 or an interval, got {}",
                           function, FormatG(n));
  }
  w.points = static_cast<int64_t>(n);
  w.name_arg = w.tag = FormatNumberArg(n, v.is_integer);
  return w;
}

// Prepends each head series to the matching one of `list` when they line up exactly (same names,
// steps, and the head ending where the list starts). Returns false, changing nothing, otherwise.
bool PrependHeads(SeriesList& head, SeriesList* list) {
  if (head.size() != list->size()) return false;
  for (size_t i = 0; i < head.size(); ++i) {
    const TimeSeries &h = head[i], &s = (*list)[i];
    if (h.name != s.name || h.step != s.step || h.end() != s.start) return false;
  }
  for (size_t i = 0; i < head.size(); ++i) {
    TimeSeries& s = (*list)[i];
    s.values.insert(s.values.begin(), head[i].values.begin(), head[i].values.end());
    s.start = head[i].start;
  }
  return true;
}

// graphite's bootstrap: the series argument (a lazy parameter) evaluated over the request window
// extended back by the preview. *preview_ms receives the extension.
//
// For a point count graphite needs the steps first: the preview is windowSize times the largest
// step of the argument over the request window, so that window is evaluated first (as graphite
// does). For a path only the missing head (from - preview, from] is then fetched and prepended —
// a path's points do not depend on the window — falling back to a full evaluation when the two
// fetches do not line up.
Status EvaluateWithPreview(EvalContext& ctx, const CallArgs& args, const WindowSize& w,
                           SeriesList* list, int64_t* preview_ms) {
  const BoundExpr& plan = *args.plan(0);
  const TimeRange range = ctx.range();
  if (w.is_interval) {
    *preview_ms = w.preview_ms;
    return ctx.Evaluate(plan, TimeRange{range.from_ms - w.preview_ms, range.to_ms}, list);
  }
  SLUICE_RETURN_IF_ERROR(ctx.Evaluate(plan, range, list));
  int64_t max_step = 0;
  for (const TimeSeries& s : *list) max_step = std::max(max_step, s.step);
  if (list->empty() || w.points == 0) {
    *preview_ms = 0;
    return Status::OK();
  }
  if (std::abs(w.points) > kMaxPreviewMs / max_step) {
    return InvalidArgument("{}: windowSize {} at a {} ms step is longer than 1000000000s",
                           args.function().name, w.points, max_step);
  }
  *preview_ms = w.points * max_step;
  const TimeRange extended{range.from_ms - *preview_ms, range.to_ms};
  if (plan.kind == BoundExpr::Kind::kPath && *preview_ms > 0) {
    SeriesList head;
    SLUICE_RETURN_IF_ERROR(
        ctx.Evaluate(plan, TimeRange{extended.from_ms, range.from_ms}, &head));
    if (PrependHeads(head, list)) return Status::OK();
  }
  list->clear();
  return ctx.Evaluate(plan, extended, list);
}

// The smallest count c in [1, window] with c / window >= xff (graphite's xff test); window + 1
// when there is none.
size_t MinPresent(size_t window, double xff) {
  const auto w = static_cast<double>(window);
  if (!(xff > 0)) return 1;
  if (xff > 1) return window + 1;
  auto c = static_cast<size_t>(std::clamp(std::ceil(xff * w), 1.0, w));
  while (c > 1 && static_cast<double>(c - 1) / w >= xff) --c;
  while (c <= window && !(static_cast<double>(c) / w >= xff)) ++c;
  return c;
}

// The sliding loop, for 0 < window < values.size(). Output j aggregates values[j, j + window) and
// is written over values[j] once that point has left the window, so the loop runs in place; the
// result has size - window points.
// Agg: Add(i, v) / Remove(i, v) for present points entering and leaving, Result(window start,
// window, present) when enough are present, Clear() when none are.
template <class Agg>
void SlideWindow(std::vector<double>& values, size_t window, double xff, Agg& agg) {
  const size_t n = values.size();
  const size_t need = MinPresent(window, xff);
  double* v = values.data();
  size_t present = 0;
  for (size_t i = 0; i < window; ++i) {
    if (!IsNone(v[i])) {
      agg.Add(i, v[i]);
      ++present;
    }
  }
  for (size_t j = 0; j + window < n; ++j) {
    const double out = present >= need ? agg.Result(v + j, window, present) : kNone;
    if (!IsNone(v[j])) {
      agg.Remove(j, v[j]);
      if (--present == 0) agg.Clear();
    }
    const double in = v[j + window];
    if (!IsNone(in)) {
      agg.Add(j + window, in);
      ++present;
    }
    v[j] = out;
  }
  values.resize(n - window);
}

// A running sum with Neumaier's compensation, so values leaving the window leave no rounding
// residue behind (beyond ~1e-32 relative); infinities are counted apart so they can leave at all.
class SumWindow {
 public:
  explicit SumWindow(bool average) : average_(average) {}

  void Add(size_t, double x) {
    if (std::isfinite(x)) {
      Accumulate(x);
    } else {
      ++(x > 0 ? pos_inf_ : neg_inf_);
    }
  }
  void Remove(size_t, double x) {
    if (std::isfinite(x)) {
      Accumulate(-x);
    } else {
      --(x > 0 ? pos_inf_ : neg_inf_);
    }
  }
  void Clear() { sum_ = comp_ = 0; }

  double Result(const double* window, size_t n, size_t present) {
    double s;
    if (pos_inf_ > 0 || neg_inf_ > 0) {
      s = pos_inf_ > 0 && neg_inf_ > 0 ? kNone : (pos_inf_ > 0 ? 1 : -1) * kInfinity;
    } else {
      s = sum_ + comp_;
      if (!std::isfinite(s)) {
        // The finite values overflowed somewhere: start again from this window, in order, as
        // graphite's sum() does.
        Clear();
        for (size_t i = 0; i < n; ++i) {
          if (!IsNone(window[i])) sum_ += window[i];
        }
        s = sum_;
      }
    }
    return average_ ? s / static_cast<double>(present) : s;
  }

 private:
  static constexpr double kInfinity = std::numeric_limits<double>::infinity();

  void Accumulate(double x) {
    const double t = sum_ + x;
    // Both candidates are computed so that the choice compiles to a select, not a branch.
    const double big_sum = (sum_ - t) + x, big_x = (x - t) + sum_;
    comp_ += std::fabs(sum_) >= std::fabs(x) ? big_sum : big_x;
    sum_ = t;
  }

  bool average_;
  double sum_ = 0, comp_ = 0;
  int64_t pos_inf_ = 0, neg_inf_ = 0;
};

// The window's minimum (Better = std::less) or maximum (std::greater): a queue of the points that
// can still become the extreme, in a ring of `window` slots.
template <class Better>
class ExtremeWindow {
 public:
  explicit ExtremeWindow(size_t window) : ring_(window) {}

  void Add(size_t i, double x) {
    while (size_ > 0 && !Better()(ring_[Back()].value, x)) --size_;
    ring_[Wrap(head_ + size_)] = {i, x};
    ++size_;
  }
  void Remove(size_t i, double) {
    if (size_ > 0 && ring_[head_].index == i) {
      head_ = Wrap(head_ + 1);
      --size_;
    }
  }
  void Clear() { head_ = size_ = 0; }
  double Result(const double*, size_t, size_t) const { return ring_[head_].value; }

 private:
  struct Entry {
    size_t index;
    double value;
  };
  size_t Wrap(size_t i) const { return i >= ring_.size() ? i - ring_.size() : i; }
  size_t Back() const { return Wrap(head_ + size_ - 1); }

  std::vector<Entry> ring_;
  size_t head_ = 0, size_ = 0;
};

// The window's median (Python's: the middle present value, or the mean of the two middle ones):
// the lower half in a max-heap and the upper half in a min-heap, each point knowing its heap
// position so that it can leave in O(log w).
class MedianWindow {
 public:
  explicit MedianWindow(size_t window) : slots_(window) {
    lower_.reserve(window);
    upper_.reserve(window);
  }

  void Add(size_t i, double x) {
    const size_t id = i % slots_.size();
    slots_[id].value = x;
    if (lower_.empty() || x <= Top(lower_)) {
      Push(lower_, true, id);
    } else {
      Push(upper_, false, id);
    }
    Rebalance();
  }
  void Remove(size_t i, double) {
    const Slot& slot = slots_[i % slots_.size()];
    if (slot.lower) {
      Erase(lower_, true, slot.pos);
    } else {
      Erase(upper_, false, slot.pos);
    }
    Rebalance();
  }
  void Clear() {
    lower_.clear();
    upper_.clear();
  }
  double Result(const double*, size_t, size_t) const {
    if (lower_.size() > upper_.size()) return Top(lower_);
    return (Top(lower_) + Top(upper_)) / 2;
  }

 private:
  struct Slot {
    double value = 0;
    bool lower = false;
    size_t pos = 0;
  };
  using Heap = std::vector<size_t>;  // slot ids; lower: largest first, upper: smallest first

  double Top(const Heap& h) const { return slots_[h[0]].value; }
  // True when slot a belongs above slot b in the heap.
  bool Above(bool lower, size_t a, size_t b) const {
    return lower ? slots_[a].value > slots_[b].value : slots_[a].value < slots_[b].value;
  }
  void Place(Heap& h, bool lower, size_t pos, size_t id) {
    h[pos] = id;
    slots_[id].lower = lower;
    slots_[id].pos = pos;
  }
  void SiftUp(Heap& h, bool lower, size_t pos) {
    const size_t id = h[pos];
    while (pos > 0) {
      const size_t parent = (pos - 1) / 2;
      if (!Above(lower, id, h[parent])) break;
      Place(h, lower, pos, h[parent]);
      pos = parent;
    }
    Place(h, lower, pos, id);
  }
  void SiftDown(Heap& h, bool lower, size_t pos) {
    const size_t id = h[pos], n = h.size();
    for (;;) {
      size_t child = 2 * pos + 1;
      if (child >= n) break;
      if (child + 1 < n && Above(lower, h[child + 1], h[child])) ++child;
      if (!Above(lower, h[child], id)) break;
      Place(h, lower, pos, h[child]);
      pos = child;
    }
    Place(h, lower, pos, id);
  }
  void Push(Heap& h, bool lower, size_t id) {
    h.push_back(id);
    SiftUp(h, lower, h.size() - 1);
  }
  size_t Pop(Heap& h, bool lower) {
    const size_t top = h[0];
    Erase(h, lower, 0);
    return top;
  }
  void Erase(Heap& h, bool lower, size_t pos) {
    const size_t last = h.back();
    h.pop_back();
    if (pos == h.size()) return;
    Place(h, lower, pos, last);
    SiftUp(h, lower, pos);
    SiftDown(h, lower, slots_[last].pos);
  }
  void Rebalance() {
    if (lower_.size() > upper_.size() + 1) {
      Push(upper_, false, Pop(lower_, true));
    } else if (upper_.size() > lower_.size()) {
      Push(lower_, true, Pop(upper_, false));
    }
  }

  std::vector<Slot> slots_;  // indexed by point index mod window
  Heap lower_, upper_;
};

// Any other aggregation function: applied to the window's present points, as graphite does.
class GenericWindow {
 public:
  GenericWindow(AggFn fn, size_t window) : fn_(fn) { present_.reserve(window); }
  void Add(size_t, double) {}
  void Remove(size_t, double) {}
  void Clear() {}
  double Result(const double* window, size_t n, size_t) {
    present_.clear();
    for (size_t i = 0; i < n; ++i) {
      if (!IsNone(window[i])) present_.push_back(window[i]);
    }
    return fn_(present_.data(), present_.size());
  }

 private:
  AggFn fn_;
  std::vector<double> present_;
};

// Runs the sliding loop with the policy for `func` (an aggFunc name, validated by the caller).
// A negative window is graphite's too: its windows are empty or fail the xFilesFactor test (a
// negative fraction), so every one of the size + |window| points is None.
Status SlideWithFunction(EvalContext& ctx, std::string_view func, AggFn fn,
                         std::vector<double>& values, int64_t signed_window, double xff) {
  if (signed_window < 0) {
    SLUICE_RETURN_IF_ERROR(ctx.ChargePoints(-signed_window));
    values.assign(values.size() + static_cast<size_t>(-signed_window), kNone);
    return Status::OK();
  }
  const auto window = static_cast<size_t>(signed_window);
  if (window == 0) {
    std::fill(values.begin(), values.end(), kNone);  // an empty window is never good enough
    return Status::OK();
  }
  if (values.size() <= window) {
    values.clear();
    return Status::OK();
  }
  if (func == "average" || func == "avg" || func == "sum" || func == "total") {
    SumWindow agg(func == "average" || func == "avg");
    SlideWindow(values, window, xff, agg);
  } else if (func == "min") {
    ExtremeWindow<std::less<double>> agg(window);
    SlideWindow(values, window, xff, agg);
  } else if (func == "max") {
    ExtremeWindow<std::greater<double>> agg(window);
    SlideWindow(values, window, xff, agg);
  } else if (func == "median") {
    MedianWindow agg(window);
    SlideWindow(values, window, xff, agg);
  } else {
    GenericWindow agg(fn, window);
    SlideWindow(values, window, xff, agg);
  }
  return Status::OK();
}

// graphite's results keep the extended series' `end` while their start moves forward by the
// preview, and its renderer shows the points from start up to and including that end. With one
// step for the whole list that is every point; a point count over a list with several steps
// leaves the finer series more points than that, and they are cut where graphite's output ends.
void CapAtExtendedEnd(TimeSeries& s, int64_t extended_end) {
  const int64_t shown = extended_end >= s.start ? (extended_end - s.start) / s.step + 1 : 0;
  if (static_cast<int64_t>(s.values.size()) > shown) s.values.resize(static_cast<size_t>(shown));
}

// graphite's movingWindow, which the other moving* functions call with their function.
Status MovingWindowWith(EvalContext& ctx, CallArgs& args, SeriesList* out, std::string_view func,
                        size_t xff_param) {
  const std::string_view function = args.function().name;
  const AggFn fn = func == "first" ? nullptr : FindAggFn(func);
  if (fn == nullptr) {
    return InvalidArgument("{}: unknown aggregation function '{}'", function, func);
  }
  SLUICE_ASSIGN_OR_RETURN(const WindowSize w, WindowSizeArg(args, function));
  SeriesList list;
  int64_t preview_ms = 0;
  SLUICE_RETURN_IF_ERROR(EvaluateWithPreview(ctx, args, w, &list, &preview_ms));

  // Python's str.capitalize: the first letter upper-cased, the rest lower-cased.
  std::string tag_name = "moving";
  for (size_t i = 0; i < func.size(); ++i) {
    const auto c = static_cast<unsigned char>(func[i]);
    tag_name.push_back(static_cast<char>(i == 0 ? std::toupper(c) : std::tolower(c)));
  }
  for (TimeSeries& s : list) {
    SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
    const int64_t points = w.is_interval ? preview_ms / s.step : w.points;
    const double xff = args.has(xff_param) ? args.number(xff_param, 0) : s.xfiles_factor;
    const int64_t extended_end = s.end();
    SLUICE_RETURN_IF_ERROR(SlideWithFunction(ctx, func, fn, s.values, points, xff));
    s.start += preview_ms;
    CapAtExtendedEnd(s, extended_end);
    s.tags.Set(tag_name, w.tag);
    s.name = fmt::format("{}({},{})", tag_name, s.name, w.name_arg);
    s.path_expression = s.name;
    out->push_back(std::move(s));
  }
  return Status::OK();
}

template <const char* kFunc>
Status MovingFixed(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  return MovingWindowWith(ctx, args, out, kFunc, 2);
}

constexpr char kAverage[] = "average";
constexpr char kSum[] = "sum";
constexpr char kMin[] = "min";
constexpr char kMax[] = "max";
constexpr char kMedian[] = "median";

Status MovingWindow(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const std::string func(args.string(2, "average"));
  return MovingWindowWith(ctx, args, out, func, 3);
}

// exponentialMovingAverage: seeded with the average of the first windowPoints points of the
// extended series (0 when there is none), then ema = c * value + (1 - c) * ema at every present
// point, c = 2 / (window + 1) with the window in points, or in seconds for an interval (graphite's
// choice). Values are rounded to 6 decimals; the output has one more point than movingAverage's.
Status ExponentialMovingAverage(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  SLUICE_ASSIGN_OR_RETURN(const WindowSize w, WindowSizeArg(args, "exponentialMovingAverage"));
  if (w.points < 0) {
    return InvalidArgument("exponentialMovingAverage: windowSize must not be negative, got {}",
                           w.name_arg);
  }
  SeriesList list;
  int64_t preview_ms = 0;
  SLUICE_RETURN_IF_ERROR(EvaluateWithPreview(ctx, args, w, &list, &preview_ms));
  const double constant =
      2.0 / (static_cast<double>(w.is_interval ? w.preview_ms / kSecondMs : w.points) + 1);
  for (TimeSeries& s : list) {
    SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
    const size_t n = s.size();
    const auto points =
        std::min(n, static_cast<size_t>(w.is_interval ? preview_ms / s.step : w.points));
    SLUICE_RETURN_IF_ERROR(ctx.ChargePoints(static_cast<int64_t>(n - points + 1)));
    std::vector<double> ema_values;
    ema_values.reserve(n - points + 1);
    double sum = 0;
    size_t present = 0;
    for (size_t i = 0; i < points; ++i) {
      if (!IsNone(s.values[i])) {
        sum += s.values[i];
        ++present;
      }
    }
    double ema = present > 0 ? sum / static_cast<double>(present) : 0;
    ema_values.push_back(RoundLikePython(ema, 6));
    for (size_t i = points; i < n; ++i) {
      const double v = s.values[i];
      if (IsNone(v)) {
        ema_values.push_back(kNone);
        continue;
      }
      ema = constant * v + (1 - constant) * ema;
      ema_values.push_back(RoundLikePython(ema, 6));
    }
    const int64_t extended_end = s.end();
    s.values = std::move(ema_values);
    s.start += preview_ms;
    CapAtExtendedEnd(s, extended_end);
    s.tags.Set("exponentialMovingAverage", w.tag);
    s.name = fmt::format("exponentialMovingAverage({},{})", s.name, w.name_arg);
    s.path_expression = s.name;
    out->push_back(std::move(s));
  }
  return Status::OK();
}

ParamSpec LazySeries() {
  return ParamSpec{
      .name = "seriesList", .type = ArgType::kSeriesList, .required = true, .lazy = true};
}
ParamSpec WindowSizeParam() {
  return ParamSpec{.name = "windowSize", .type = ArgType::kIntOrInterval, .required = true};
}
ParamSpec XffParam() { return ParamSpec{.name = "xFilesFactor", .type = ArgType::kFloat}; }

// The shared description of the moving* functions with a fixed aggregation.
FunctionSpec MovingSpec(std::string name, std::string_view what, FunctionImpl impl) {
  return FunctionSpec{
      .name = name,
      .group = "Calculate",
      .description = fmt::format(
          "The {} of the `windowSize` points before each point: a point count, or an interval "
          "such as '5min' (that long divided by the step). The series are fetched again from "
          "one window before the start, so the first points have full windows. A point is None "
          "unless at least the fraction `xFilesFactor` of its window (default: the series' own, "
          "0) is non-None.",
          what),
      .example = fmt::format("{}(Server.instance01.threads.busy, '5min')", name),
      .params = {LazySeries(), WindowSizeParam(), XffParam()},
      .impl = impl};
}

}  // namespace

void RegisterWindowFunctions(Registry* registry) {
  AddFunctionOrDie(registry, MovingSpec("movingAverage", "average", MovingFixed<kAverage>));
  AddFunctionOrDie(registry, MovingSpec("movingSum", "sum", MovingFixed<kSum>));
  AddFunctionOrDie(registry, MovingSpec("movingMin", "minimum", MovingFixed<kMin>));
  AddFunctionOrDie(registry, MovingSpec("movingMax", "maximum", MovingFixed<kMax>));
  AddFunctionOrDie(registry, MovingSpec("movingMedian", "median", MovingFixed<kMedian>));
  AddFunctionOrDie(registry,
           {.name = "movingWindow",
            .group = "Calculate",
            .description =
                "Applies the aggregation function `func` (default average) to the `windowSize` "
                "points before each point: a point count or an interval such as '5min'. As "
                "movingAverage: refetched from one window before the start, and None unless at "
                "least the fraction `xFilesFactor` of the window is non-None. The output is named "
                "after the function, e.g. movingMax(x,5).",
            .example = "movingWindow(Server.instance*.threads.idle, '5min', 'median', 0.5)",
            .params = {LazySeries(), WindowSizeParam(),
                       ParamSpec{.name = "func",
                                 .type = ArgType::kAggFunc,
                                 .default_value = "average",
                                 .options = AggFnNamesWithAliases()},
                       XffParam()},
            .impl = MovingWindow});
  AddFunctionOrDie(registry,
           {.name = "exponentialMovingAverage",
            .group = "Calculate",
            .description =
                "An exponential moving average: ema = c * value + (1 - c) * ema with "
                "c = 2 / (windowSize + 1), seeded with the plain average of the first window (the "
                "series are fetched from one window before the start). For an interval such as "
                "'5min', windowSize in c is its length in seconds, as in graphite-web. Values are "
                "rounded to 6 decimals; None points stay None.",
            .example = "exponentialMovingAverage(*.transactions.count, 10)",
            .params = {LazySeries(), WindowSizeParam()},
            .impl = ExponentialMovingAverage});
}

}  // namespace sluice::expr
