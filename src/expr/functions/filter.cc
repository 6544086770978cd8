// The "Filter Series", "Filter Data" and "Sorting" functions of graphite-web 1.1.8: choosing,
// ordering and masking series of a list by a per-series figure.
//
// Three families share one kernel each, driven by a table (as graphite itself routes them through
// filterSeries / highest / lowest with an aggregation function):
//   - threshold filters keep the series whose aggregate passes `op threshold` (filterSeries,
//     maximumAbove, currentBelow, ...);
//   - rankers order the list by a per-series key, stable, and may keep the first n (highest,
//     lowest, sortBy, sortByMaxima, mostDeviant, ...);
//   - value masks set points beyond a value or a percentile to None (removeAboveValue, ...).
// The rest (removeEmptySeries, exclude, grep, limit, sortByName, unique) are small kernels.
//
// Ordering follows Python's list.sort: stable, and `reverse` keeps equal keys in input order. A key
// that is None sorts as -inf (graphite's keyFunc). NaN is None here, so an aggregate that graphite
// would compute as a real NaN (inf - inf) also sorts as -inf.
#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "expr/evaluator.h"
#include "expr/kernels.h"
#include "expr/registry.h"

namespace sluice::expr {
namespace {

constexpr double kMinusInf = -std::numeric_limits<double>::infinity();

ParamSpec SeriesListParam() {
  return ParamSpec{.name = "seriesList", .type = ArgType::kSeriesList, .required = true};
}
ParamSpec RequiredParam(std::string name, ArgType type) {
  return ParamSpec{.name = std::move(name), .type = type, .required = true};
}
ParamSpec OptionalParam(std::string name, ArgType type, std::string default_value) {
  return ParamSpec{
      .name = std::move(name), .type = type, .default_value = std::move(default_value)};
}
ParamSpec AggFuncParam(bool required) {
  return ParamSpec{.name = "func",
                   .type = ArgType::kAggFunc,
                   .required = required,
                   .default_value = required ? "" : "average",
                   .options = AggFnNamesWithAliases()};
}

// Python's seq[:n]: how many leading elements survive, negative n counting from the end.
size_t PySliceEnd(size_t size, int64_t n) {
  if (n >= 0) return std::min(size, static_cast<size_t>(n));
  const int64_t end = static_cast<int64_t>(size) + n;
  return end > 0 ? static_cast<size_t>(end) : 0;
}

// Moves the series of `in` selected by `keep` (indices into `in`, in output order) to `out`.
void MoveSelected(SeriesList& in, const std::vector<size_t>& keep, SeriesList* out) {
  out->reserve(out->size() + keep.size());
  for (size_t i : keep) out->push_back(std::move(in[i]));
}

AggFn AggFnOrDefault(std::string_view name) {
  AggFn fn = FindAggFn(name);
  return fn != nullptr ? fn : FindAggFn("average");
}

// ---------------------------------------------------------------------------------------------
// Threshold filters: keep the series whose aggregate passes `op threshold`.

enum class Op { kEq, kNe, kGt, kGe, kLt, kLe, kFromArg };

constexpr std::pair<std::string_view, Op> kOps[] = {
    {"!=", Op::kNe}, {"<", Op::kLt}, {"<=", Op::kLe},
    {"=", Op::kEq},  {">", Op::kGt}, {">=", Op::kGe},
};

const std::vector<std::string>& OpNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& [name, op] : kOps) out.emplace_back(name);
    return out;
  }();
  return names;
}

// graphite's operatorFuncs: a None aggregate passes !=, < and <=, and fails the others.
bool Passes(Op op, double v, double threshold) {
  switch (op) {
    case Op::kEq:
      return !IsNone(v) && v == threshold;
    case Op::kNe:
      return IsNone(v) || v != threshold;
    case Op::kGt:
      return !IsNone(v) && v > threshold;
    case Op::kGe:
      return !IsNone(v) && v >= threshold;
    case Op::kLt:
      return IsNone(v) || v < threshold;
    case Op::kLe:
      return IsNone(v) || v <= threshold;
    case Op::kFromArg:
      break;
  }
  return false;
}

struct ThresholdRule {
  std::string_view name;
  std::string_view agg;  // empty: the `func` parameter chooses
  Op op;                 // kFromArg: the `operator` parameter chooses
  std::string_view threshold_param;
  std::string_view description;
  std::string_view example;
};

constexpr ThresholdRule kThresholdRules[] = {
    {"filterSeries", "", Op::kFromArg, "threshold",
     "Keeps the series whose aggregate over the whole window, computed by `func` (any aggregation "
     "function), satisfies `operator threshold`; `operator` is one of =, !=, >, >=, <, <=. A "
     "series "
     "whose aggregate is None (no points) fails =, >, >= and passes !=, <, <=.",
     "filterSeries(system.interface.eth*.packetsSent, 'max', '>', 1000)"},
    {"maximumAbove", "max", Op::kGt, "n",
     "Keeps the series whose largest value in the window is above `n`; series without points are "
     "dropped.",
     "maximumAbove(system.interface.eth*.packetsSent, 1000)"},
    {"minimumAbove", "min", Op::kGt, "n",
     "Keeps the series whose smallest value in the window is above `n`; series without points are "
     "dropped.",
     "minimumAbove(system.interface.eth*.packetsSent, 1000)"},
    {"maximumBelow", "max", Op::kLe, "n",
     "Keeps the series whose largest value in the window is at most `n` (below or equal); series "
     "without points are kept.",
     "maximumBelow(system.interface.eth*.packetsSent, 1000)"},
    {"minimumBelow", "min", Op::kLe, "n",
     "Keeps the series whose smallest value in the window is at most `n` (below or equal); series "
     "without points are kept.",
     "minimumBelow(system.interface.eth*.packetsSent, 1000)"},
    {"currentAbove", "last", Op::kGt, "n",
     "Keeps the series whose last non-None value in the window is above `n`; series without points "
     "are dropped.",
     "currentAbove(server*.instance*.threads.busy, 50)"},
    {"currentBelow", "last", Op::kLe, "n",
     "Keeps the series whose last non-None value in the window is at most `n` (below or equal); "
     "series without points are kept.",
     "currentBelow(server*.instance*.threads.busy, 3)"},
    {"averageAbove", "average", Op::kGt, "n",
     "Keeps the series whose average over the window (None points skipped) is above `n`; series "
     "without points are dropped.",
     "averageAbove(server*.instance*.threads.busy, 25)"},
    {"averageBelow", "average", Op::kLe, "n",
     "Keeps the series whose average over the window (None points skipped) is at most `n` (below "
     "or equal); series without points are kept.",
     "averageBelow(server*.instance*.threads.busy, 25)"},
};

Status RunThreshold(const ThresholdRule& rule, EvalContext& ctx, CallArgs& args, SeriesList* out) {
  size_t next = 1;
  AggFn fn =
      rule.agg.empty() ? AggFnOrDefault(args.string(next++, "average")) : FindAggFn(rule.agg);
  Op op = rule.op;
  if (op == Op::kFromArg) {
    std::string_view text = args.string(next, "");
    auto it = std::find_if(std::begin(kOps), std::end(kOps),
                           [&](const auto& entry) { return entry.first == text; });
    if (it == std::end(kOps)) {
      return InvalidArgument(
          "{}: argument {} (operator) must be one of !=, <, <=, =, >, >=, got '{}' at column {}",
          rule.name, next + 1, text, args.value(next).column);
    }
    op = it->second;
    ++next;
  }
  const double threshold = args.number(next, 0);
  SeriesList& in = args.series(0);
  std::vector<size_t> keep;
  keep.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
    if (Passes(op, fn(in[i].values.data(), in[i].size()), threshold)) keep.push_back(i);
  }
  MoveSelected(in, keep, out);
  return Status::OK();
}

FunctionSpec ThresholdSpec(const ThresholdRule& rule, FunctionImpl impl) {
  FunctionSpec spec{.name = std::string(rule.name),
                    .group = "Filter Series",
                    .description = std::string(rule.description),
                    .example = std::string(rule.example),
                    .params = {SeriesListParam()},
                    .impl = impl};
  if (rule.agg.empty()) spec.params.push_back(AggFuncParam(/*required=*/true));
  if (rule.op == Op::kFromArg) {
    ParamSpec op = RequiredParam("operator", ArgType::kString);
    op.options = OpNames();
    spec.params.push_back(std::move(op));
  }
  spec.params.push_back(RequiredParam(std::string(rule.threshold_param), ArgType::kFloat));
  return spec;
}

// ---------------------------------------------------------------------------------------------
// Rankers: order the list by a per-series key (stable; None keys as -inf), optionally drop some
// series first and keep only the first n.

enum class Order { kAscending, kDescending, kFromReverseArg };
// The `n` parameter: keep the first n after sorting (Python's [:n]). highest and lowest declare it
// required in their metadata, yet graphite-web (with its default ENFORCE_INPUT_VALIDATION = False)
// falls back to the Python default n=1 when it is missing, and so do we.
enum class Count { kAll, kRequired, kDefaultOne };
enum class Drop {
  kNothing,
  kNoneKey,         // mostDeviant: series without points are left out
  kMaxNotPositive,  // sortByMinima: only series whose maximum is > 0
};

// graphite's mostDeviant figure: the population variance of the present values (it ranks by
// sum of squared deviations / count, without the square root, so ties are the variance's ties).
double PresentVariance(const double* v, size_t n) {
  double sum = 0;
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!IsNone(v[i])) {
      sum += v[i];
      ++count;
    }
  }
  if (count == 0) return kNone;
  const double mean = sum / static_cast<double>(count);
  double squares = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!IsNone(v[i])) squares += (v[i] - mean) * (v[i] - mean);
  }
  return squares / static_cast<double>(count);
}

struct RankRule {
  std::string_view name;
  std::string_view group;
  // The key: an aggregation name (FindAggFn), "variance" (PresentVariance), or empty for the
  // `func` parameter.
  std::string_view agg;
  Order order;
  Count count;
  Drop drop;
  std::string_view description;
  std::string_view example;
};

constexpr RankRule kRankRules[] = {
    {"highest", "Filter Series", "", Order::kDescending, Count::kDefaultOne, Drop::kNothing,
     "Keeps the `n` series with the highest aggregate over the window, computed by `func` "
     "(default average), highest first. Series without points rank lowest; equal aggregates keep "
     "their input order. A negative `n` drops that many series from the end instead.",
     "highest(server*.instance*.threads.busy, 5, 'max')"},
    {"lowest", "Filter Series", "", Order::kAscending, Count::kDefaultOne, Drop::kNothing,
     "Keeps the `n` series with the lowest aggregate over the window, computed by `func` (default "
     "average), lowest first. Series without points rank lowest of all; equal aggregates keep "
     "their input order. A negative `n` drops that many series from the end instead.",
     "lowest(server*.instance*.threads.busy, 5, 'min')"},
    {"highestMax", "Filter Series", "max", Order::kDescending, Count::kRequired, Drop::kNothing,
     "Keeps the `n` series with the largest maximum in the window, largest first: highest with "
     "func 'max'.",
     "highestMax(server*.instance*.threads.busy, 5)"},
    {"highestAverage", "Filter Series", "average", Order::kDescending, Count::kRequired,
     Drop::kNothing,
     "Keeps the `n` series with the highest average over the window, highest first: highest with "
     "func 'average'.",
     "highestAverage(server*.instance*.threads.busy, 5)"},
    {"highestCurrent", "Filter Series", "last", Order::kDescending, Count::kRequired,
     Drop::kNothing,
     "Keeps the `n` series with the highest last non-None value in the window, highest first: "
     "highest with func 'current'.",
     "highestCurrent(server*.instance*.threads.busy, 5)"},
    {"lowestAverage", "Filter Series", "average", Order::kAscending, Count::kRequired,
     Drop::kNothing,
     "Keeps the `n` series with the lowest average over the window, lowest first: lowest with "
     "func 'average'.",
     "lowestAverage(server*.instance*.threads.busy, 5)"},
    {"lowestCurrent", "Filter Series", "last", Order::kAscending, Count::kRequired, Drop::kNothing,
     "Keeps the `n` series with the lowest last non-None value in the window, lowest first: "
     "lowest with func 'current'.",
     "lowestCurrent(server*.instance*.threads.busy, 5)"},
    {"mostDeviant", "Filter Series", "variance", Order::kDescending, Count::kRequired,
     Drop::kNoneKey,
     "Keeps the `n` series whose values spread most around their own mean (population standard "
     "deviation of the non-None points), most deviant first. Series without points are left "
     "out.",
     "mostDeviant(server*.instance*.memory.free, 5)"},
    {"sortBy", "Sorting", "", Order::kFromReverseArg, Count::kAll, Drop::kNothing,
     "Orders the series by an aggregate over the window, computed by `func` (default average): "
     "ascending, or descending when `reverse` is true. Series without points count as lowest; "
     "equal aggregates keep their input order.",
     "sortBy(server*.instance*.threads.busy, 'max')"},
    {"sortByTotal", "Sorting", "sum", Order::kDescending, Count::kAll, Drop::kNothing,
     "Orders the series by the sum of their values over the window, largest first.",
     "sortByTotal(server*.instance*.memory.free)"},
    {"sortByMaxima", "Sorting", "max", Order::kDescending, Count::kAll, Drop::kNothing,
     "Orders the series by their largest value in the window, largest first.",
     "sortByMaxima(server*.instance*.memory.free)"},
    {"sortByMinima", "Sorting", "min", Order::kAscending, Count::kAll, Drop::kMaxNotPositive,
     "Orders the series by their smallest value in the window, smallest first, keeping only the "
     "series whose largest value is above 0.",
     "sortByMinima(server*.instance*.memory.free)"},
};

Status RunRank(const RankRule& rule, EvalContext& ctx, CallArgs& args, SeriesList* out) {
  size_t next = 1;
  int64_t n = 0;
  if (rule.count != Count::kAll) n = args.integer(next++, 1);
  AggFn fn = nullptr;
  if (rule.agg.empty()) {
    fn = AggFnOrDefault(args.string(next++, "average"));
  } else if (rule.agg == "variance") {
    fn = PresentVariance;
  } else {
    fn = FindAggFn(rule.agg);
  }
  bool descending = rule.order == Order::kDescending;
  if (rule.order == Order::kFromReverseArg) descending = args.boolean(next++, false);

  const AggFn max_fn = FindAggFn("max");
  SeriesList& in = args.series(0);
  std::vector<size_t> order;
  std::vector<double> keys(in.size(), kMinusInf);
  order.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
    const double* v = in[i].values.data();
    const size_t size = in[i].size();
    if (rule.drop == Drop::kMaxNotPositive) {
      const double max = max_fn(v, size);
      if (IsNone(max) || !(max > 0)) continue;
    }
    const double key = fn(v, size);
    if (rule.drop == Drop::kNoneKey && IsNone(key)) continue;
    keys[i] = IsNone(key) ? kMinusInf : key;
    order.push_back(i);
  }
  // Python's sort(reverse=True) keeps equal keys in input order, like a stable sort on '>'.
  if (descending) {
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return keys[a] > keys[b]; });
  } else {
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return keys[a] < keys[b]; });
  }
  if (rule.count != Count::kAll) order.resize(PySliceEnd(order.size(), n));
  MoveSelected(in, order, out);
  return Status::OK();
}

FunctionSpec RankSpec(const RankRule& rule, FunctionImpl impl) {
  FunctionSpec spec{.name = std::string(rule.name),
                    .group = std::string(rule.group),
                    .description = std::string(rule.description),
                    .example = std::string(rule.example),
                    .params = {SeriesListParam()},
                    .impl = impl};
  if (rule.count == Count::kRequired) spec.params.push_back(RequiredParam("n", ArgType::kInteger));
  if (rule.count == Count::kDefaultOne) {
    spec.params.push_back(OptionalParam("n", ArgType::kInteger, "1"));
  }
  if (rule.agg.empty()) spec.params.push_back(AggFuncParam(/*required=*/false));
  if (rule.order == Order::kFromReverseArg) {
    spec.params.push_back(OptionalParam("reverse", ArgType::kBoolean, "false"));
  }
  return spec;
}

// ---------------------------------------------------------------------------------------------
// Value masks: points beyond a bound become None; the series is renamed "<fn>(<name>, %g)".

struct MaskRule {
  std::string_view name;
  bool above;       // true: drop values > bound; false: drop values < bound
  bool percentile;  // the bound is the n-th percentile of the series' own values
  std::string_view description;
  std::string_view example;
};

constexpr MaskRule kMaskRules[] = {
    {"removeAboveValue", true, false,
     "Sets every value above `n` to None. Renames each series to removeAboveValue(name, n).",
     "removeAboveValue(server*.instance*.threads.busy, 50)"},
    {"removeBelowValue", false, false,
     "Sets every value below `n` to None. Renames each series to removeBelowValue(name, n).",
     "removeBelowValue(server*.instance*.threads.busy, 5)"},
    {"removeAbovePercentile", true, true,
     "Sets every value above the `n`-th percentile of the series' own non-None values to None "
     "(nearest-rank percentile, no interpolation) and tags the series nPercentile=n. Renames each "
     "series to removeAbovePercentile(name, n); a series without points, or an `n` beyond the "
     "ranks, is left as it is. `n` must not be 0.",
     "removeAbovePercentile(server*.instance*.threads.busy, 95)"},
    {"removeBelowPercentile", false, true,
     "Sets every value below the `n`-th percentile of the series' own non-None values to None "
     "(nearest-rank percentile, no interpolation) and tags the series nPercentile=n. Renames each "
     "series to removeBelowPercentile(name, n); a series without points, or an `n` beyond the "
     "ranks, is left as it is. `n` must not be 0.",
     "removeBelowPercentile(server*.instance*.threads.busy, 5)"},
};

// graphite's _getPercentile(points, n, interpolate=False) over `count` sorted values, as an
// index: rank = ceil(n/100 * (count + 1)), 1-based, with rank 0 and count + 1 clamped to the ends
// and other ranks indexed the Python way (negative from the end). False where graphite raises
// IndexError (n beyond the ranks), which its callers treat as "no percentile".
bool PercentileIndex(size_t count, double n, size_t* index) {
  const double fractional_rank = (n / 100.0) * static_cast<double>(count + 1);
  const double limit = 2.0 * static_cast<double>(count) + 4.0;
  if (!(std::fabs(fractional_rank) < limit)) return false;  // far outside; also NaN
  int64_t rank = static_cast<int64_t>(fractional_rank);
  const double fraction = fractional_rank - static_cast<double>(rank);
  rank += static_cast<int64_t>(std::ceil(fraction));
  const int64_t c = static_cast<int64_t>(count);
  int64_t i;
  if (rank == 0) {
    i = 0;
  } else if (rank - 1 == c) {
    i = c - 1;
  } else {
    i = rank - 1;
    if (i < 0) i += c;
    if (i < 0 || i >= c) return false;
  }
  *index = static_cast<size_t>(i);
  return true;
}

Status RunMask(const MaskRule& rule, EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const double n = args.number(1, 0);
  SeriesList& in = args.series(0);
  if (rule.percentile && n == 0 && !in.empty()) {
    return InvalidArgument("{}: argument 2 (n) must not be 0 (a percentile above 0 is expected)",
                           rule.name);
  }
  const std::string suffix = ", " + FormatG(n) + ")";
  const std::string tag_value = FormatPyFloat(n);
  std::vector<double> present;
  for (TimeSeries& s : in) {
    SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
    std::string name;
    name.reserve(rule.name.size() + 1 + s.name.size() + suffix.size());
    name.append(rule.name).append("(").append(s.name).append(suffix);
    s.name = std::move(name);
    s.path_expression = s.name;
    double bound = n;
    if (rule.percentile) {
      present.clear();
      for (double v : s.values) {
        if (!IsNone(v)) present.push_back(v);
      }
      size_t index = 0;
      if (present.empty() || !PercentileIndex(present.size(), n, &index)) {
        out->push_back(std::move(s));
        continue;
      }
      std::nth_element(present.begin(), present.begin() + static_cast<std::ptrdiff_t>(index),
                       present.end());
      bound = present[index];
      s.tags.Set("nPercentile", tag_value);
    }
    // None compares false either way, so NaN points stay None.
    double* v = s.values.data();
    const size_t size = s.values.size();
    if (rule.above) {
      for (size_t i = 0; i < size; ++i) v[i] = v[i] > bound ? kNone : v[i];
    } else {
      for (size_t i = 0; i < size; ++i) v[i] = v[i] < bound ? kNone : v[i];
    }
    out->push_back(std::move(s));
  }
  return Status::OK();
}

FunctionSpec MaskSpec(const MaskRule& rule, FunctionImpl impl) {
  return FunctionSpec{.name = std::string(rule.name),
                      .group = "Filter Data",
                      .description = std::string(rule.description),
                      .example = std::string(rule.example),
                      .params = {SeriesListParam(), RequiredParam("n", ArgType::kFloat)},
                      .impl = impl};
}

// ---------------------------------------------------------------------------------------------
// The single kernels.

Status RemoveEmptySeries(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const double xfiles_factor = args.number(1, 0);
  SeriesList& in = args.series(0);
  std::vector<size_t> keep;
  for (size_t i = 0; i < in.size(); ++i) {
    SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
    if (XffOk(in[i].values.data(), in[i].size(), xfiles_factor)) keep.push_back(i);
  }
  MoveSelected(in, keep, out);
  return Status::OK();
}

// grep keeps the series whose name the pattern matches somewhere (Python's re.search); exclude
// keeps the others. RE2 syntax: no backreferences or lookaround.
template <bool kKeepMatches>
Status RegexFilter(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const std::string_view name = kKeepMatches ? "grep" : "exclude";
  const std::string_view pattern = args.string(1, "");
  re2::RE2::Options options;
  options.set_log_errors(false);
  const re2::RE2 regex(pattern, options);
  if (!regex.ok()) {
    return InvalidArgument("{}: argument 2 (pattern) is not a valid regular expression: {} in '{}'",
                           name, regex.error(), pattern);
  }
  SeriesList& in = args.series(0);
  std::vector<size_t> keep;
  for (size_t i = 0; i < in.size(); ++i) {
    SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
    if (re2::RE2::PartialMatch(in[i].name, regex) == kKeepMatches) keep.push_back(i);
  }
  MoveSelected(in, keep, out);
  return Status::OK();
}

Status Limit(EvalContext&, CallArgs& args, SeriesList* out) {
  SeriesList& in = args.series(0);
  const size_t end = PySliceEnd(in.size(), args.integer(1, 0));
  out->reserve(out->size() + end);
  for (size_t i = 0; i < end; ++i) out->push_back(std::move(in[i]));
  return Status::OK();
}

// graphite's natural sort key: every run of digits as its integer value, zero-padded to at least
// ten digits ("web9" -> "web0000000009"), so numbers compare by value up to 10 digits.
// (Python's \d also matches non-ASCII digits; only ASCII digits are treated as digits here.)
std::string NaturalKey(std::string_view name) {
  std::string key;
  key.reserve(name.size() + 16);
  size_t i = 0;
  while (i < name.size()) {
    if (name[i] < '0' || name[i] > '9') {
      key.push_back(name[i++]);
      continue;
    }
    size_t end = i;
    while (end < name.size() && name[end] >= '0' && name[end] <= '9') ++end;
    size_t first = i;
    while (first + 1 < end && name[first] == '0') ++first;  // int() drops leading zeros
    const size_t digits = end - first;
    if (digits < 10) key.append(10 - digits, '0');
    key.append(name.substr(first, digits));
    i = end;
  }
  return key;
}

Status SortByName(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const bool natural = args.boolean(1, false);
  const bool reverse = args.boolean(2, false);
  SeriesList& in = args.series(0);
  std::vector<std::string> keys;
  keys.reserve(in.size());
  for (const TimeSeries& s : in) {
    SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
    keys.push_back(natural ? NaturalKey(s.name) : s.name);
  }
  std::vector<size_t> order(in.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  // std::string compares bytes as unsigned char: UTF-8 byte order is code point order, as Python's.
  if (reverse) {
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return keys[b] < keys[a]; });
  } else {
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return keys[a] < keys[b]; });
  }
  MoveSelected(in, order, out);
  return Status::OK();
}

Status Unique(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  SeriesList in = args.ConcatRest();
  std::unordered_set<std::string_view> seen;
  std::vector<size_t> keep;
  for (size_t i = 0; i < in.size(); ++i) {
    SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
    if (seen.insert(in[i].name).second) keep.push_back(i);
  }
  MoveSelected(in, keep, out);
  return Status::OK();
}

// One kernel per table row: kRun applied to row I of kRules.
template <const auto& kRules, auto kRun, size_t I>
Status TableKernel(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  return kRun(kRules[I], ctx, args, out);
}

template <const auto& kRules, auto kRun, auto kSpec, size_t... I>
void AddTable(Registry* registry, std::index_sequence<I...>) {
  (AddFunctionOrDie(registry, kSpec(kRules[I], &TableKernel<kRules, kRun, I>)), ...);
}

template <const auto& kRules, auto kRun, auto kSpec>
void AddTable(Registry* registry) {
  AddTable<kRules, kRun, kSpec>(registry, std::make_index_sequence<std::size(kRules)>());
}

}  // namespace

void RegisterFilterFunctions(Registry* registry) {
  AddTable<kThresholdRules, RunThreshold, ThresholdSpec>(registry);
  AddTable<kRankRules, RunRank, RankSpec>(registry);
  AddTable<kMaskRules, RunMask, MaskSpec>(registry);

  const ParamSpec series = SeriesListParam();
  AddFunctionOrDie(registry,
           {.name = "removeEmptySeries",
            .group = "Filter Series",
            .description =
                "Keeps the series that have points: at least one non-None value, and at least the "
                "fraction `xFilesFactor` (0 to 1, default 0) of non-None values among all of "
                "their points.",
            .example = "removeEmptySeries(server*.instance*.threads.busy)",
            .params = {series, OptionalParam("xFilesFactor", ArgType::kFloat, "")},
            .impl = RemoveEmptySeries});
  AddFunctionOrDie(registry,
           {.name = "exclude",
            .group = "Filter Series",
            .description =
                "Drops the series whose name the regular expression `pattern` matches anywhere "
                "(an unanchored search; RE2 syntax).",
            .example = "exclude(servers*.instance*.threads.busy, 'server02')",
            .params = {series, RequiredParam("pattern", ArgType::kString)},
            .impl = RegexFilter<false>});
  AddFunctionOrDie(
      registry,
      {.name = "grep",
       .group = "Filter Series",
       .description = "Keeps only the series whose name the regular expression `pattern` matches "
                      "anywhere (an unanchored search; RE2 syntax).",
       .example = "grep(servers*.instance*.threads.busy, 'server02')",
       .params = {series, RequiredParam("pattern", ArgType::kString)},
       .impl = RegexFilter<true>});
  AddFunctionOrDie(registry,
           {.name = "limit",
            .group = "Filter Series",
            .description =
                "Keeps the first `n` series of the list, in their order; a negative `n` drops that "
                "many from the end instead.",
            .example = "limit(server*.instance*.memory.free, 5)",
            .params = {series, RequiredParam("n", ArgType::kInteger)},
            .impl = Limit});
  AddFunctionOrDie(registry,
           {.name = "sortByName",
            .group = "Sorting",
            .description =
                "Orders the series by name, byte-wise, or with `natural` true so that numbers in "
                "names compare by value (server2 before server11); `reverse` true sorts "
                "descending. Equal names keep their input order.",
            .example = "sortByName(server*.instance*.memory.free, true)",
            .params = {series, OptionalParam("natural", ArgType::kBoolean, "false"),
                       OptionalParam("reverse", ArgType::kBoolean, "false")},
            .impl = SortByName});
  AddFunctionOrDie(registry,
           {.name = "unique",
            .group = "Filter Series",
            .description =
                "Concatenates the series lists and keeps the first series of each name, in order.",
            .example =
                "unique(mostDeviant(server.*.disk_free, 5), lowestCurrent(server.*.disk_free, 5))",
            .params = {ParamSpec{.name = "seriesLists",
                                 .type = ArgType::kSeriesList,
                                 .required = true,
                                 .multiple = true}},
            .impl = Unique});
}

}  // namespace sluice::expr
