// The "Transform" functions of graphite-web 1.1.8 (and the two it files under "Special" that change
// a series in place: changed, consolidateBy): point-wise maps, deltas, running sums, gap filling,
// time shifts and bucketing (summarize, hitcount).
//
// Every kernel mirrors graphite-web's function of the same name: the output name and the tag it
// adds, the None handling, and the grid (start/step) of the result. Most work in place on the
// evaluated argument (graphite mutates its series too), so they allocate no new grid; summarize and
// hitcount build one and charge it first. Python's float formatting, round() and floor division are
// reproduced where graphite's output depends on them.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
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

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int64_t kSecondMs = 1000;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }
int64_t CeilDiv(int64_t a, int64_t b) { return -FloorDiv(-a, b); }

ParamSpec SeriesParam(bool lazy = false) {
  return ParamSpec{
      .name = "seriesList", .type = ArgType::kSeriesList, .required = true, .lazy = lazy};
}
ParamSpec Required(std::string name, ArgType type) {
  return ParamSpec{.name = std::move(name), .type = type, .required = true};
}
ParamSpec Optional(std::string name, ArgType type, std::string default_value,
                   std::vector<std::string> options = {}) {
  return ParamSpec{.name = std::move(name),
                   .type = type,
                   .default_value = std::move(default_value),
                   .options = std::move(options)};
}

// graphite's safePow: None when either side is None or when math.pow raises (a domain error such
// as 0 ** -1 or (-8) ** 0.5, or an overflow), which shows as a non-finite result from finite inputs.
double SafePow(double base, double exponent) {
  const double r = std::pow(base, exponent);
  if (!std::isfinite(r) && std::isfinite(base) && std::isfinite(exponent)) return kNone;
  return r;
}

// What graphite writes for a float-typed argument in a tag: graphite's validator turns the value
// into a Python float, so 2 shows as "2.0".
std::string FloatTag(double v) { return FormatPyFloat(v); }

// A number argument as the user wrote it, for names and tags of untyped parameters.
std::string NumberText(const CallArgs& args, size_t i, double fallback, bool fallback_is_integer) {
  const Value& v = args.value(i);
  if (v.kind == Value::Kind::kNumber) return FormatNumberArg(v.number, v.is_integer);
  return FormatNumberArg(fallback, fallback_is_integer);
}

// A limit of type intOrInf (keepLastValue, interpolate): a number, or the string "inf".
double LimitArg(const CallArgs& args, size_t i) {
  const Value& v = args.value(i);
  if (v.kind == Value::Kind::kString) return kInf;
  return args.number(i, kInf);
}

// Parses an interval argument; errors name the function.
Result<int64_t> IntervalArg(std::string_view function, std::string_view text) {
  Result<int64_t> ms = ParseInterval(text);
  if (!ms.ok()) return ms.status().Annotate(function);
  return ms;
}
Result<int64_t> PositiveIntervalArg(std::string_view function, std::string_view param,
                                    std::string_view text) {
  SLUICE_ASSIGN_OR_RETURN(int64_t ms, IntervalArg(function, text));
  if (ms <= 0) {
    return InvalidArgument("{}: {} must be a positive interval, got '{}'", function, param, text);
  }
  return ms;
}

void Rename(TimeSeries& s, std::string name) {
  s.name = std::move(name);
  s.path_expression = s.name;
}

// Applies `fn(series)` to every series of argument 0 and moves them to `out`: the shape shared by
// every in-place transform. `fn` is a template parameter, so the point loops inside it inline.
template <class Fn>
Status EachSeries(EvalContext& ctx, CallArgs& args, SeriesList* out, Fn fn) {
  for (TimeSeries& s : args.series(0)) {
    SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
    SLUICE_RETURN_IF_ERROR(fn(s));
    out->push_back(std::move(s));
  }
  return Status::OK();
}

// One point-wise map: values[i] = op(values[i]), None in -> whatever op returns (NaN propagates
// through arithmetic, which is graphite's None handling for these).
template <class Op>
void MapPoints(std::vector<double>& values, Op op) {
  double* v = values.data();
  const size_t n = values.size();
  for (size_t i = 0; i < n; ++i) v[i] = op(v[i]);
}

// The rename + tag + map shape of scale, offset, pow, absolute, invert, squareRoot, isNonNull.
template <class Op>
Status MapEach(EvalContext& ctx, CallArgs& args, SeriesList* out, std::string_view function,
               const std::string& name_suffix, std::string_view tag, const std::string& tag_value,
               Op op) {
  return EachSeries(ctx, args, out, [&](TimeSeries& s) {
    MapPoints(s.values, op);
    s.tags.Set(std::string(tag), tag_value);
    Rename(s, fmt::format("{}({}{})", function, s.name, name_suffix));
    return Status::OK();
  });
}

Status Scale(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const double factor = args.number(1, 1);
  return MapEach(ctx, args, out, "scale", "," + FormatG(factor), "scale", FloatTag(factor),
                 [factor](double v) { return v * factor; });
}

Status Offset(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const double factor = args.number(1, 0);
  return MapEach(ctx, args, out, "offset", "," + FormatG(factor), "offset", FloatTag(factor),
                 [factor](double v) { return v + factor; });
}

Status Pow(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const double factor = args.number(1, 1);
  return MapEach(ctx, args, out, "pow", "," + FormatG(factor), "pow", FloatTag(factor),
                 [factor](double v) { return SafePow(v, factor); });
}

Status Absolute(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  return MapEach(ctx, args, out, "absolute", "", "absolute", "1",
                 [](double v) { return std::fabs(v); });
}

Status Invert(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  return MapEach(ctx, args, out, "invert", "", "invert", "1",
                 [](double v) { return SafePow(v, -1); });
}

Status SquareRoot(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  return MapEach(ctx, args, out, "squareRoot", "", "squareRoot", "1",
                 [](double v) { return SafePow(v, 0.5); });
}

Status IsNonNull(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  return MapEach(ctx, args, out, "isNonNull", "", "isNonNull", "1",
                 [](double v) { return IsNone(v) ? 0.0 : 1.0; });
}

Status ScaleToSeconds(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const double seconds = args.number(1, 1);
  // Python's "%d" % seconds raises for inf and NaN (graphite answers 500). The parser already
  // rejects numbers beyond double's range, so this only guards the formatting below.
  if (!std::isfinite(seconds)) {
    return InvalidArgument("scaleToSeconds: seconds must be a finite number, got {}",
                           FormatG(seconds));
  }
  // Python's "%d" % seconds truncates toward zero and prints the whole integer, however large
  // ("+ 0.0" makes -0 print as 0).
  const std::string suffix = fmt::format(",{:.0f}", std::trunc(seconds) + 0.0);
  return EachSeries(ctx, args, out, [&](TimeSeries& s) {
    const double factor = seconds / (static_cast<double>(s.step) / kSecondMs);
    MapPoints(s.values, [factor](double v) { return RoundLikePython(v * factor, 6); });
    s.tags.Set("scaleToSeconds", FloatTag(seconds));
    Rename(s, fmt::format("scaleToSeconds({}{})", s.name, suffix));
    return Status::OK();
  });
}

Status OffsetToZero(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  return EachSeries(ctx, args, out, [](TimeSeries& s) {
    const double minimum = SafeMin(s.values);
    MapPoints(s.values, [minimum](double v) { return v - minimum; });
    s.tags.Set("offsetToZero", IsNone(minimum) ? "None" : FormatPyFloat(minimum));
    Rename(s, fmt::format("offsetToZero({})", s.name));
    return Status::OK();
  });
}

Status Logarithm(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const double base = args.number(1, 10);
  if (!(base > 0) || base == 1) {
    return InvalidArgument("log: base must be positive and not 1, got {}", FormatG(base));
  }
  const std::string base_text = NumberText(args, 1, 10, true);
  const double log_base = std::log(base);
  return EachSeries(ctx, args, out, [&](TimeSeries& s) {
    // CPython's math.log(x, base) is log(x) / log(base); x <= 0 is None here.
    MapPoints(s.values, [log_base](double v) { return v > 0 ? std::log(v) / log_base : kNone; });
    s.tags.Set("log", base_text);
    s.name = fmt::format("log({}, {})", s.name, base_text);
    s.path_expression = s.name;
    return Status::OK();
  });
}

Status Round(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const bool given = args.has(1);
  const int64_t precision = std::clamp<int64_t>(args.integer(1, 0), -400, 400);
  const std::string suffix = given ? "," + FormatG(static_cast<double>(precision)) : "";
  return EachSeries(ctx, args, out, [&](TimeSeries& s) {
    const int digits = static_cast<int>(precision);
    MapPoints(s.values, [digits](double v) { return RoundLikePython(v, digits); });
    s.tags.Set("round", std::to_string(precision));
    Rename(s, fmt::format("round({}{})", s.name, suffix));
    return Status::OK();
  });
}

// derivative, nonNegativeDerivative and perSecond: out[i] from (values[i-1], values[i]), with a
// per-function rule for the delta. `Delta` returns the output and updates the carried `prev` the
// way graphite's loops do.
template <class Delta>
void DeltaPoints(std::vector<double>& values, Delta delta) {
  double prev = kNone;
  for (double& v : values) v = delta(v, prev);
}

Status Derivative(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  return EachSeries(ctx, args, out, [](TimeSeries& s) {
    DeltaPoints(s.values, [](double v, double& prev) {
      const double d = v - prev;  // None when either is None
      prev = v;
      return d;
    });
    s.tags.Set("derivative", "1");
    Rename(s, fmt::format("derivative({})", s.name));
    return Status::OK();
  });
}

// graphite's _nonNegativeDelta. A None value is treated as within [minValue, maxValue] (graphite
// 1.1.8 on Python 3 raises a TypeError there instead).
struct NonNegativeDelta {
  bool has_max = false, has_min = false;
  double max_value = 0, min_value = 0;

  double operator()(double v, double& prev) const {
    if ((has_max && v > max_value) || (has_min && v < min_value)) {
      prev = kNone;
      return kNone;
    }
    const double p = prev;
    prev = v;
    if (IsNone(p) || IsNone(v)) return kNone;
    if (v >= p) return v - p;
    if (has_max) return max_value + 1 + v - p - (has_min ? min_value : 0);
    if (has_min) return v - min_value;
    return kNone;
  }
};

NonNegativeDelta NonNegativeDeltaArgs(const CallArgs& args) {
  NonNegativeDelta d;
  d.has_max = args.has(1);
  d.max_value = args.number(1, 0);
  d.has_min = args.has(2);
  d.min_value = args.number(2, 0);
  return d;
}

Status NonNegativeDerivative(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const NonNegativeDelta delta = NonNegativeDeltaArgs(args);
  return EachSeries(ctx, args, out, [&](TimeSeries& s) {
    DeltaPoints(s.values, delta);
    s.tags.Set("nonNegativeDerivative", "1");
    Rename(s, fmt::format("nonNegativeDerivative({})", s.name));
    return Status::OK();
  });
}

Status PerSecond(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const NonNegativeDelta delta = NonNegativeDeltaArgs(args);
  return EachSeries(ctx, args, out, [&](TimeSeries& s) {
    const double step_s = static_cast<double>(s.step) / kSecondMs;
    DeltaPoints(s.values, [&](double v, double& prev) {
      return RoundLikePython(delta(v, prev) / step_s, 6);
    });
    s.tags.Set("perSecond", "1");
    Rename(s, fmt::format("perSecond({})", s.name));
    return Status::OK();
  });
}

Status Integral(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  return EachSeries(ctx, args, out, [](TimeSeries& s) {
    double total = 0;
    for (double& v : s.values) {
      if (!IsNone(v)) v = total += v;
    }
    s.tags.Set("integral", "1");
    Rename(s, fmt::format("integral({})", s.name));
    return Status::OK();
  });
}

Status IntegralByInterval(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const std::string_view unit = args.string(1, "");
  SLUICE_ASSIGN_OR_RETURN(int64_t interval, IntervalArg("integralByInterval", unit));
  interval = std::abs(interval);
  if (interval == 0) {
    return InvalidArgument("integralByInterval: intervalUnit must not be zero, got '{}'", unit);
  }
  // graphite counts intervals from the request's start time, in whole seconds.
  const int64_t origin = FloorDiv(ctx.range().from_ms, kSecondMs) * kSecondMs;
  return EachSeries(ctx, args, out, [&](TimeSeries& s) {
    double total = 0;
    int64_t t = s.start;
    for (double& v : s.values) {
      if (FloorDiv(t - origin, interval) != FloorDiv(t - origin - s.step, interval)) total = 0;
      if (!IsNone(v)) total += v;
      v = total;  // a None point shows the running total
      t += s.step;
    }
    s.tags.Set("integralByInterval", std::string(unit));
    Rename(s, fmt::format("integralByInterval({},'{}')", s.name, unit));
    return Status::OK();
  });
}

Status Delay(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const int64_t steps = args.integer(1, 0);
  return EachSeries(ctx, args, out, [&](TimeSeries& s) {
    auto& v = s.values;
    const auto n = static_cast<int64_t>(v.size());
    if (steps == 0) {
      v.clear();  // graphite: series[:-0] is empty
    } else if (steps > 0) {
      const int64_t k = std::min(steps, n);
      std::move_backward(v.begin(), v.end() - k, v.end());
      std::fill(v.begin(), v.begin() + k, kNone);
    } else {
      const int64_t k = std::min(-steps, n);
      std::move(v.begin() + k, v.end(), v.begin());
      std::fill(v.end() - k, v.end(), kNone);
    }
    s.tags.Set("delay", std::to_string(steps));
    Rename(s, fmt::format("delay({},{})", s.name, steps));
    return Status::OK();
  });
}

// graphite's timeShift: the argument evaluated over the window moved by the offset (an unsigned
// offset means back in time), laid on the grid of the unshifted list's first series.
Status TimeShift(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const BoundExpr* plan = args.plan(0);
  std::string shift(args.string(1, ""));
  if (!shift.empty() && std::isdigit(static_cast<unsigned char>(shift[0]))) shift.insert(0, "-");
  SLUICE_ASSIGN_OR_RETURN(int64_t delta, IntervalArg("timeShift", shift));
  const TimeRange range = ctx.range();
  SeriesList shifted;
  SLUICE_RETURN_IF_ERROR(
      ctx.Evaluate(*plan, TimeRange{range.from_ms + delta, range.to_ms + delta}, &shifted));
  if (shifted.empty()) return Status::OK();

  // graphite takes the start from the first series of the argument over the request window. For a
  // path that is the fetch rule's first step multiple after `from`, so only a computed argument is
  // evaluated a second time.
  int64_t start;
  if (plan->kind == BoundExpr::Kind::kPath) {
    const int64_t step = shifted[0].step;
    start = range.from_ms - FloorMod(range.from_ms, step) + step;
  } else {
    SeriesList unshifted;
    SLUICE_RETURN_IF_ERROR(ctx.Evaluate(*plan, range, &unshifted));
    if (unshifted.empty()) return Status::OK();
    start = unshifted[0].start;
  }
  // resetEnd and alignDst change only graphite's `end`, which this model derives from start, step
  // and size; with UTC (the only zone here) alignDst never moves the window.
  for (TimeSeries& s : shifted) {
    SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
    s.tags.Set("timeShift", shift);
    s.name = fmt::format("timeShift({}, \"{}\")", s.name, shift);
    s.start = start;
    out->push_back(std::move(s));
  }
  return Status::OK();
}

Status TransformNull(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const double fill = args.number(1, 0);
  const std::string tag = args.has(1) ? FloatTag(fill) : "0";
  // graphite pairs reference points by position (izip_longest), not by time: a point gets `fill`
  // when some reference series has a value at the same index.
  std::vector<char> referenced;
  const bool with_reference = args.has(2) && !args.series(2).empty();
  if (with_reference) {
    for (const TimeSeries& r : args.series(2)) {
      if (r.size() > referenced.size()) referenced.resize(r.size(), 0);
      for (size_t i = 0; i < r.size(); ++i) referenced[i] |= !IsNone(r.values[i]);
    }
  }
  const std::string suffix =
      fmt::format(",{}{}", FormatG(fill), with_reference ? ",referenceSeries" : "");
  return EachSeries(ctx, args, out, [&](TimeSeries& s) {
    if (referenced.empty()) {
      MapPoints(s.values, [fill](double v) { return IsNone(v) ? fill : v; });
    } else {
      if (referenced.size() > s.values.size()) {
        SLUICE_RETURN_IF_ERROR(
            ctx.ChargePoints(static_cast<int64_t>(referenced.size() - s.values.size())));
        s.values.resize(referenced.size(), kNone);
      }
      for (size_t i = 0; i < s.values.size(); ++i) {
        if (IsNone(s.values[i]) && i < referenced.size() && referenced[i]) s.values[i] = fill;
      }
    }
    s.tags.Set("transformNull", tag);
    if (with_reference) s.tags.Set("referenceSeries", "1");
    Rename(s, fmt::format("transformNull({}{})", s.name, suffix));
    return Status::OK();
  });
}

Status KeepLastValue(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const double limit = LimitArg(args, 1);
  return EachSeries(ctx, args, out, [&](TimeSeries& s) {
    auto& v = s.values;
    double last = kNone;
    size_t gap = 0;  // None points since the last value
    auto fill = [&](size_t end) {
      if (gap > 0 && static_cast<double>(gap) <= limit && !IsNone(last)) {
        std::fill(v.begin() + static_cast<std::ptrdiff_t>(end - gap),
                  v.begin() + static_cast<std::ptrdiff_t>(end), last);
      }
    };
    for (size_t i = 0; i < v.size(); ++i) {
      if (IsNone(v[i])) {
        ++gap;
        continue;
      }
      fill(i);
      gap = 0;
      last = v[i];
    }
    fill(v.size());
    Rename(s, fmt::format("keepLastValue({})", s.name));
    return Status::OK();
  });
}

Status Interpolate(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const double limit = LimitArg(args, 1);
  return EachSeries(ctx, args, out, [&](TimeSeries& s) {
    auto& v = s.values;
    size_t gap = 0;  // None points since the last value; the first point never counts
    for (size_t i = 1; i < v.size(); ++i) {
      if (IsNone(v[i])) {
        ++gap;
        continue;
      }
      if (gap == 0) continue;
      const size_t base = i - gap - 1;
      if (!IsNone(v[base]) && static_cast<double>(gap) <= limit) {
        const double from = v[base], rise = v[i] - from;
        const auto parts = static_cast<double>(gap + 1);
        for (size_t k = base + 1; k < i; ++k) {
          v[k] = from + static_cast<double>(k - base) * rise / parts;
        }
      }
      gap = 0;
    }
    Rename(s, fmt::format("interpolate({})", s.name));
    return Status::OK();
  });
}

Status Changed(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  return EachSeries(ctx, args, out, [](TimeSeries& s) {
    double previous = kNone;
    for (double& v : s.values) {
      const double value = v;
      if (IsNone(previous)) {
        previous = value;
        v = 0;
      } else if (!IsNone(value) && value != previous) {
        previous = value;
        v = 1;
      } else {
        v = 0;
      }
    }
    Rename(s, fmt::format("changed({})", s.name));
    return Status::OK();
  });
}

const std::vector<std::string>& ConsolidationNames() {
  static const std::vector<std::string> names = {"sum", "average", "avg", "avg_zero",
                                                 "min", "max",     "first", "last"};
  return names;
}

Status ConsolidateBy(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const std::string func(args.string(1, ""));
  const auto& names = ConsolidationNames();
  if (std::find(names.begin(), names.end(), func) == names.end()) {
    return InvalidArgument(
        "consolidateBy: consolidationFunc must be one of sum, average, avg, avg_zero, min, max, "
        "first, last; got '{}'",
        func);
  }
  return EachSeries(ctx, args, out, [&](TimeSeries& s) {
    s.consolidation = func;
    s.tags.Set("consolidateBy", func);
    Rename(s, fmt::format("consolidateBy({},\"{}\")", s.name, func));
    return Status::OK();
  });
}

// summarize: buckets of `interval` from the series start (alignToFrom) or from the epoch-aligned
// multiple at or before it; each bucket aggregates the points with time in [t, t + interval) when
// enough of them are present (xFilesFactor counted against interval / step points).
Status Summarize(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const std::string_view interval_text = args.string(1, "");
  SLUICE_ASSIGN_OR_RETURN(const int64_t interval,
                          PositiveIntervalArg("summarize", "intervalString", interval_text));
  const std::string func(args.string(2, "sum"));
  const AggFn fn = func == "first" ? nullptr : FindAggFn(func);
  if (fn == nullptr) return InvalidArgument("summarize: unknown aggregation function '{}'", func);
  const bool align_to_from = args.boolean(3, false);
  const std::string name_tail =
      fmt::format(", \"{}\", \"{}\"{})", interval_text, func, align_to_from ? ", true" : "");

  return EachSeries(ctx, args, out, [&](TimeSeries& s) {
    const int64_t start = s.start, end = s.end(), step = s.step;
    const int64_t new_start = align_to_from ? start : start - FloorMod(start, interval);
    const int64_t new_end = align_to_from ? end : end - FloorMod(end, interval) + interval;
    const int64_t buckets = new_end > new_start ? CeilDiv(new_end - new_start, interval) : 0;
    SLUICE_RETURN_IF_ERROR(ctx.ChargePoints(buckets));
    const auto n = static_cast<int64_t>(s.size());
    // First index whose time is >= t.
    auto index_at = [&](int64_t t) { return std::clamp<int64_t>(CeilDiv(t - start, step), 0, n); };
    const double points_per_interval = static_cast<double>(interval) / static_cast<double>(step);
    std::vector<double> values(static_cast<size_t>(buckets));
    for (int64_t b = 0; b < buckets; ++b) {
      const int64_t t = new_start + b * interval;
      const int64_t lo = index_at(t), hi = index_at(t + interval);
      const double* p = s.values.data() + lo;
      size_t present = 0;
      for (int64_t i = 0; i < hi - lo; ++i) present += !IsNone(p[i]);
      values[static_cast<size_t>(b)] =
          present > 0 && static_cast<double>(present) / points_per_interval >= s.xfiles_factor
              ? fn(p, static_cast<size_t>(hi - lo))
              : kNone;
    }
    s.tags.Set("summarize", std::string(interval_text));
    s.tags.Set("summarizeFunction", func);
    Rename(s, fmt::format("summarize({}{}", s.name, name_tail));
    s.values = std::move(values);
    s.start = new_start;
    s.step = interval;
    return Status::OK();
  });
}

// hitcount: values are rates per second; each point's hits (value x seconds) are spread over the
// buckets its step overlaps, buckets ending at the series end.
Status Hitcount(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const std::string_view interval_text = args.string(1, "");
  SLUICE_ASSIGN_OR_RETURN(const int64_t interval,
                          PositiveIntervalArg("hitcount", "intervalString", interval_text));
  const bool align = args.boolean(2, false);
  TimeRange range = ctx.range();
  if (align) {
    // graphite truncates the start to the day, hour or minute (in the request's zone: UTC here).
    for (int64_t unit : {int64_t{86400}, int64_t{3600}, int64_t{60}}) {
      if (interval >= unit * kSecondMs) {
        range.from_ms -= FloorMod(range.from_ms, unit * kSecondMs);
        break;
      }
    }
  }
  SeriesList list;
  SLUICE_RETURN_IF_ERROR(ctx.Evaluate(*args.plan(0), range, &list));
  const std::string name_tail =
      fmt::format(", \"{}\"{})", interval_text, align ? ", true" : "");
  const double interval_s = static_cast<double>(interval) / kSecondMs;

  for (TimeSeries& s : list) {
    SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
    int64_t end = s.end();
    if (align) end = s.start + FloorDiv(end - s.start, interval) * interval + interval;
    const int64_t buckets = end > s.start ? CeilDiv(end - s.start, interval) : 0;
    SLUICE_RETURN_IF_ERROR(ctx.ChargePoints(buckets));
    const int64_t new_start = end - buckets * interval;
    std::vector<double> sums(static_cast<size_t>(buckets), kNone);
    std::vector<char> filled(static_cast<size_t>(buckets), 0);
    auto add = [&](int64_t b, double hits) {
      auto i = static_cast<size_t>(b);
      sums[i] = filled[i] ? sums[i] + hits : hits;
      filled[i] = 1;
    };
    for (size_t i = 0; i < s.size(); ++i) {
      const double v = s.values[i];
      if (IsNone(v)) continue;
      const int64_t t0 = s.time_at(i) - new_start, t1 = t0 + s.step;
      const int64_t b0 = FloorDiv(t0, interval), m0 = FloorMod(t0, interval);
      int64_t b1 = FloorDiv(t1, interval), m1 = FloorMod(t1, interval);
      if (b1 >= buckets) {
        b1 = buckets - 1;
        m1 = interval;
      }
      if (b0 == b1) {
        if (b0 >= 0) add(b0, v * (static_cast<double>(m1 - m0) / kSecondMs));
        continue;
      }
      if (b0 >= 0) add(b0, v * (static_cast<double>(interval - m0) / kSecondMs));
      for (int64_t b = std::max<int64_t>(b0 + 1, 0); b < b1; ++b) add(b, v * interval_s);
      if (m1 > 0) add(b1, v * (static_cast<double>(m1) / kSecondMs));
    }
    s.tags.Set("hitcount", std::string(interval_text));
    Rename(s, fmt::format("hitcount({}{}", s.name, name_tail));
    s.values = std::move(sums);
    s.start = new_start;
    s.step = interval;
    out->push_back(std::move(s));
  }
  return Status::OK();
}

}  // namespace

void RegisterTransformFunctions(Registry* registry) {
  const ParamSpec series = SeriesParam();
  const std::vector<std::string> agg_options = AggFnNamesWithAliases();
  const std::vector<FunctionSpec> specs = {
      {.name = "scale",
       .group = "Transform",
       .description = "Multiplies every point by `factor`; None stays None.",
       .example = "scale(Server.instance01.threads.busy, 10)",
       .params = {series, Required("factor", ArgType::kFloat)},
       .impl = Scale},
      {.name = "scaleToSeconds",
       .group = "Transform",
       .description =
           "Turns per-step values into per-`seconds` values: each point is multiplied by "
           "`seconds` / step (in seconds) and rounded to 6 decimals. Useful after derivative or "
           "integral to normalise across retentions.",
       .example = "scaleToSeconds(nonNegativeDerivative(app.requests), 1)",
       .params = {series, Required("seconds", ArgType::kFloat)},
       .impl = ScaleToSeconds},
      {.name = "offset",
       .group = "Transform",
       .description = "Adds `factor` to every point; None stays None.",
       .example = "offset(Server.instance01.threads.busy, 10)",
       .params = {series, Required("factor", ArgType::kFloat)},
       .impl = Offset},
      {.name = "offsetToZero",
       .group = "Transform",
       .description =
           "Subtracts each series' minimum from its points, so every series starts its range at "
           "0: handy to compare the shape of series with different baselines.",
       .example = "offsetToZero(Server.instance*.responseTime)",
       .params = {series},
       .impl = OffsetToZero},
      {.name = "absolute",
       .group = "Transform",
       .description = "Replaces every point by its absolute value.",
       .example = "absolute(Server.instance01.threads.busy)",
       .params = {series},
       .impl = Absolute},
      {.name = "invert",
       .group = "Transform",
       .description = "Replaces every point x by 1/x; 0 becomes None.",
       .example = "invert(Server.instance01.threads.busy)",
       .params = {series},
       .impl = Invert},
      {.name = "pow",
       .group = "Transform",
       .description =
           "Raises every point to the power `factor`. Points where the result is undefined or "
           "overflows (a negative base with a fractional power, 0 to a negative power) become "
           "None.",
       .example = "pow(Server.instance01.threads.busy, 2)",
       .params = {series, Required("factor", ArgType::kFloat)},
       .impl = Pow},
      {.name = "squareRoot",
       .group = "Transform",
       .description = "Replaces every point by its square root; negative points become None.",
       .example = "squareRoot(Server.instance01.threads.busy)",
       .params = {series},
       .impl = SquareRoot},
      {.name = "log",
       .group = "Transform",
       .description =
           "Replaces every point by its logarithm in `base` (default 10); points <= 0 become "
           "None. (graphite's Python function is called logarithm; the expression name is log.)",
       .example = "log(carbon.agents.hostname.avgUpdateTime, 2)",
       .params = {series, Optional("base", ArgType::kInteger, "10")},
       .impl = Logarithm},
      {.name = "logarithm",
       .group = "Transform",
       .description =
           "The same as log (graphite-web 1.1.8 knows only log; later Graphite releases and "
           "their docs also call it logarithm). Series are named log(...).",
       .example = "logarithm(carbon.agents.hostname.avgUpdateTime, 2)",
       .params = {series, Optional("base", ArgType::kInteger, "10")},
       .impl = Logarithm},
      {.name = "derivative",
       .group = "Transform",
       .description =
           "The difference between each point and the one before it (None when either is "
           "None). Not divided by the step: see perSecond for a rate.",
       .example = "derivative(company.server.application01.ifconfig.TXPackets)",
       .params = {series},
       .impl = Derivative},
      {.name = "nonNegativeDerivative",
       .group = "Transform",
       .description =
           "Like derivative, for counters: a decrease gives None, or, with `maxValue`, the "
           "distance wrapped around maxValue (maxValue + 1 + value - previous - minValue); with "
           "only `minValue`, value - minValue. Points above maxValue or below minValue are None "
           "and restart the count.",
       .example = "nonNegativeDerivative(company.server.application01.ifconfig.TXPackets)",
       .params = {series, Optional("maxValue", ArgType::kFloat, ""),
                  Optional("minValue", ArgType::kFloat, "")},
       .impl = NonNegativeDerivative},
      {.name = "perSecond",
       .group = "Transform",
       .description =
           "nonNegativeDerivative divided by the step in seconds (rounded to 6 decimals): the "
           "per-second rate of a counter. `maxValue` and `minValue` as for "
           "nonNegativeDerivative.",
       .example = "perSecond(company.server.application01.ifconfig.TXPackets)",
       .params = {series, Optional("maxValue", ArgType::kFloat, ""),
                  Optional("minValue", ArgType::kFloat, "")},
       .impl = PerSecond},
      {.name = "integral",
       .group = "Transform",
       .description =
           "The running total of the points from the start of the window; None points stay "
           "None and add nothing.",
       .example = "integral(company.sales.perMinute)",
       .params = {series},
       .impl = Integral},
      {.name = "integralByInterval",
       .group = "Transform",
       .description =
           "Like integral, but the total restarts at 0 every `intervalUnit` counted from the "
           "request's start time. None points show the running total.",
       .example = "integralByInterval(company.sales.perMinute, '1d')",
       .params = {series, Required("intervalUnit", ArgType::kString)},
       .impl = IntegralByInterval},
      {.name = "delay",
       .group = "Transform",
       .description =
           "Shifts the points `steps` positions later (earlier when negative), padding with "
           "None; the timestamps stay. As in graphite-web 1.1.8, a delay of 0 leaves no points.",
       .example = "divideSeries(server.FreeSpace, delay(server.FreeSpace, 1))",
       .params = {series, Required("steps", ArgType::kInteger)},
       .impl = Delay},
      {.name = "timeShift",
       .group = "Transform",
       .description =
           "Draws the series as they were `timeShift` earlier ('1d', '7d'; a leading '+' shifts "
           "forward): the argument is evaluated over the shifted window and laid on the current "
           "one. `resetEnd` and `alignDst` are accepted for compatibility; times are UTC, so "
           "alignDst never moves the window.",
       .example = "timeShift(Sales.widgets.largeBlue, '7d')",
       .params = {SeriesParam(/*lazy=*/true), Required("timeShift", ArgType::kInterval),
                  Optional("resetEnd", ArgType::kBoolean, "true"),
                  Optional("alignDst", ArgType::kBoolean, "false")},
       .impl = TimeShift},
      {.name = "transformNull",
       .group = "Transform",
       .description =
           "Replaces None with `default` (0). With `referenceSeries`, only at the positions "
           "where at least one reference series has a value.",
       .example = "transformNull(webapp.pages.*.views, -1)",
       .params = {series, Optional("default", ArgType::kFloat, "0"),
                  Optional("referenceSeries", ArgType::kSeriesList, "")},
       .impl = TransformNull},
      {.name = "keepLastValue",
       .group = "Transform",
       .description =
           "Fills runs of None with the last value before them, for runs of at most `limit` "
           "points (default: any length), including a run at the end.",
       .example = "keepLastValue(Server01.connections.handled, 10)",
       .params = {series, Optional("limit", ArgType::kIntOrInf, "inf")},
       .impl = KeepLastValue},
      {.name = "isNonNull",
       .group = "Transform",
       .description = "1 where the series has a value, 0 where it is None.",
       .example = "isNonNull(webapp.pages.*.views)",
       .params = {series},
       .impl = IsNonNull},
      {.name = "changed",
       .group = "Special",
       .description =
           "1 where the value differs from the last non-None value before it, else 0 "
           "(including None points and the first value).",
       .example = "changed(Server01.connections.handled)",
       .params = {series},
       .impl = Changed},
      {.name = "round",
       .group = "Transform",
       .description =
           "Rounds every point to `precision` decimal places (negative: to tens, hundreds, ...), "
           "halves to even as Python's round does.",
       .example = "round(Server.instance01.threads.busy, 2)",
       .params = {series, Optional("precision", ArgType::kInteger, "0")},
       .impl = Round},
      {.name = "interpolate",
       .group = "Transform",
       .description =
           "Fills runs of None between two values with the straight line between them, for runs "
           "of at most `limit` points (default: any length). Leading and trailing None stay.",
       .example = "interpolate(Server01.connections.handled, 10)",
       .params = {series, Optional("limit", ArgType::kIntOrInf, "inf")},
       .impl = Interpolate},
      {.name = "summarize",
       .group = "Transform",
       .description =
           "Aggregates the points into buckets of `intervalString` with `func` (default sum). "
           "Buckets are aligned to multiples of the interval since the epoch, or start at the "
           "series start when `alignToFrom` is true. A bucket is None when too few of its points "
           "are present (xFilesFactor, counted against interval / step points).",
       .example = "summarize(counter.errors, '1h', 'sum')",
       .params = {series, Required("intervalString", ArgType::kInterval),
                  Optional("func", ArgType::kAggFunc, "sum", agg_options),
                  Optional("alignToFrom", ArgType::kBoolean, "false")},
       .impl = Summarize},
      {.name = "hitcount",
       .group = "Transform",
       .description =
           "Treats the points as hits per second and counts hits per `intervalString` bucket, "
           "splitting a point's hits between the buckets its step overlaps. Buckets end at the "
           "series end; `alignToInterval` first moves the start back to a whole day, hour or "
           "minute (UTC).",
       .example = "hitcount(app.requests.rate, '1h')",
       .params = {SeriesParam(/*lazy=*/true), Required("intervalString", ArgType::kInterval),
                  Optional("alignToInterval", ArgType::kBoolean, "false")},
       .impl = Hitcount},
      {.name = "consolidateBy",
       .group = "Special",
       .description =
           "Chooses how points are combined when the result is consolidated to maxDataPoints: "
           "sum, average (avg), avg_zero, min, max, first or last. The values are unchanged.",
       .example = "consolidateBy(Sales.widgets.largeBlue, 'sum')",
       .params = {series, ParamSpec{.name = "consolidationFunc",
                                    .type = ArgType::kString,
                                    .required = true,
                                    .options = ConsolidationNames()}},
       .impl = ConsolidateBy},
  };
  for (const FunctionSpec& spec : specs) AddFunctionOrDie(registry, spec);
}

}  // namespace sluice::expr
