// The Combine group: functions that merge several series into one or a few (sumSeries and the
// other aggregates, divideSeries, asPercent, percentileOfSeries, countSeries, the *WithWildcards
// and groupBy* families, group), with graphite-web 1.1.8's semantics.
//
// graphite combines series row by row after normalize(): every series is consolidated to the
// least common multiple of the steps, rows are aligned by index from each series' first point
// (izip_longest, a short series reads None past its end), the result starts at the earliest start
// and has as many rows as the longest consolidated series. Aggregates check xFilesFactor per row.
// The row loops here are columnar: each input column is folded into per-row accumulators, so no
// row is gathered except for the median and percentiles.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "expr/functions/naming_util.h"
#include "expr/kernels.h"

namespace sluice::expr {
namespace {

enum class Agg {
  kAverage,
  kAvgZero,
  kMedian,
  kSum,
  kMin,
  kMax,
  kDiff,
  kStddev,
  kCount,
  kRange,
  kMultiply,
  kLast
};

// graphite's aggFuncs and their aliases.
std::optional<Agg> FindAgg(std::string_view name) {
  struct Entry {
    std::string_view name;
    Agg agg;
  };
  static constexpr Entry kEntries[] = {
      {"average", Agg::kAverage}, {"avg", Agg::kAverage},       {"avg_zero", Agg::kAvgZero},
      {"median", Agg::kMedian},   {"sum", Agg::kSum},           {"total", Agg::kSum},
      {"min", Agg::kMin},         {"max", Agg::kMax},           {"diff", Agg::kDiff},
      {"stddev", Agg::kStddev},   {"count", Agg::kCount},       {"range", Agg::kRange},
      {"rangeOf", Agg::kRange},   {"multiply", Agg::kMultiply}, {"last", Agg::kLast},
      {"current", Agg::kLast}};
  for (const Entry& e : kEntries) {
    if (e.name == name) return e.agg;
  }
  return std::nullopt;
}

// graphite strips a trailing "Series" from an aggregation name ("sumSeries" -> "sum").
std::string_view StripSeries(std::string_view func) {
  if (func.size() > 6 && func.ends_with("Series")) func.remove_suffix(6);
  return func;
}

// The grid graphite's normalize() gives a group of series: lcm step, earliest start, latest end
// trimmed to whole steps.
struct Grid {
  int64_t start = 0;
  int64_t end = 0;
  int64_t step = 0;
};

template <typename SeriesRange>
Result<Grid> PlanGrid(const SeriesRange& series) {
  Grid g{std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(), 1};
  for (const TimeSeries& s : series) {
    g.step = std::lcm(g.step, std::max<int64_t>(1, s.step));
    if (g.step > (int64_t{1} << 50)) {
      return InvalidArgument("the steps of the series have no usable common multiple");
    }
    g.start = std::min(g.start, s.start);
    g.end = std::max(g.end, s.end());
  }
  g.end -= (g.end - g.start) % g.step;
  return g;
}

// The values of `s` consolidated to `step` (a multiple of s.step) as normalize() leaves them.
// Returns s.values itself when no consolidation is needed, else fills and returns *scratch.
std::span<const double> ValuesAt(const TimeSeries& s, int64_t step, std::vector<double>* scratch) {
  if (step == s.step) return s.values;
  *scratch = ConsolidatedValues(s, static_cast<size_t>(step / s.step));
  return *scratch;
}

// Every series of `group` consolidated to `step`, as columns.
struct Columns {
  std::vector<std::span<const double>> cols;
  std::vector<std::vector<double>> scratch;
  size_t rows = 0;  // the longest column
};

template <typename SeriesRange>
void MakeColumns(const SeriesRange& group, int64_t step, Columns* c) {
  const size_t n = static_cast<size_t>(std::distance(std::begin(group), std::end(group)));
  c->scratch.assign(n, {});
  c->cols.clear();
  c->rows = 0;
  size_t j = 0;
  for (const TimeSeries& s : group) {
    c->cols.push_back(ValuesAt(s, step, &c->scratch[j++]));
    c->rows = std::max(c->rows, c->cols.back().size());
  }
}

// The row-folding executor: update(acc, x, present, count_so_far) -> new acc, applied to every
// point of every column in column order (so each row folds in series order, as Python's loops
// do). The branch-free form lets the compiler vectorise the inner loop.
template <typename Update>
void FoldColumns(const std::vector<std::span<const double>>& cols, double* acc, uint32_t* count,
                 Update update) {
  for (std::span<const double> col : cols) {
    const double* v = col.data();
    const size_t m = col.size();
    for (size_t i = 0; i < m; ++i) {
      const double x = v[i];
      const bool present = x == x;
      acc[i] = update(acc[i], x, present, count[i]);
      count[i] += present ? 1u : 0u;
    }
  }
}

double MedianOf(std::vector<double>* row) {
  std::sort(row->begin(), row->end());
  const size_t mid = row->size() / 2;
  if (row->size() % 2 == 0) return ((*row)[mid - 1] + (*row)[mid]) / 2;
  return (*row)[mid];
}

// Rows of `cols` combined by `agg` into `out` (rows entries). A row is None unless some entry is
// present and present/columns >= xff (graphite's xffValues).
void CombineRows(Agg agg, const std::vector<std::span<const double>>& cols, size_t rows, double xff,
                 std::vector<double>* out) {
  const size_t total = cols.size();
  out->assign(rows, kNone);
  std::vector<uint32_t> count(rows, 0);
  std::vector<double> acc(rows, 0.0);
  std::vector<double> acc2;
  double* a = acc.data();
  uint32_t* c = count.data();
  const double inf = std::numeric_limits<double>::infinity();
  switch (agg) {
    case Agg::kSum:
    case Agg::kAverage:
    case Agg::kAvgZero:
    case Agg::kStddev:
    case Agg::kCount:
      FoldColumns(cols, a, c,
                  [](double s, double x, bool p, uint32_t) { return s + (p ? x : 0.0); });
      break;
    case Agg::kMin:
      acc.assign(rows, inf);
      FoldColumns(cols, a, c,
                  [](double m, double x, bool p, uint32_t) { return p && x < m ? x : m; });
      break;
    case Agg::kMax:
      acc.assign(rows, -inf);
      FoldColumns(cols, a, c,
                  [](double m, double x, bool p, uint32_t) { return p && x > m ? x : m; });
      break;
    case Agg::kRange: {
      acc.assign(rows, -inf);
      FoldColumns(cols, a, c,
                  [](double m, double x, bool p, uint32_t) { return p && x > m ? x : m; });
      acc2.assign(rows, inf);
      std::vector<uint32_t> unused(rows, 0);
      FoldColumns(cols, acc2.data(), unused.data(),
                  [](double m, double x, bool p, uint32_t) { return p && x < m ? x : m; });
      break;
    }
    case Agg::kDiff:
      FoldColumns(cols, a, c, [](double d, double x, bool p, uint32_t n) {
        return p ? (n == 0 ? x : d - x) : d;
      });
      break;
    case Agg::kMultiply:
      acc.assign(rows, 1.0);
      FoldColumns(cols, a, c,
                  [](double m, double x, bool p, uint32_t) { return m * (p ? x : 1.0); });
      break;
    case Agg::kLast:
      FoldColumns(cols, a, c, [](double l, double x, bool p, uint32_t) { return p ? x : l; });
      break;
    case Agg::kMedian:
      FoldColumns(cols, a, c, [](double s, double, bool, uint32_t) { return s; });
      break;
  }
  if (agg == Agg::kStddev) {
    // Second pass: squared deviations from each row's mean, in series order as graphite sums them.
    std::vector<double> mean(rows);
    for (size_t i = 0; i < rows; ++i) mean[i] = c[i] > 0 ? a[i] / c[i] : 0.0;
    acc2.assign(rows, 0.0);
    double* s2 = acc2.data();
    for (std::span<const double> col : cols) {
      for (size_t i = 0; i < col.size(); ++i) {
        const double d = col[i] - mean[i];
        s2[i] += col[i] == col[i] ? d * d : 0.0;
      }
    }
  }
  std::vector<double> row;
  for (size_t i = 0; i < rows; ++i) {
    const uint32_t n = c[i];
    if (n == 0 || static_cast<double>(n) / static_cast<double>(total) < xff) continue;
    double v = kNone;
    switch (agg) {
      case Agg::kSum:
      case Agg::kMin:
      case Agg::kMax:
      case Agg::kDiff:
      case Agg::kLast:
        v = a[i];
        break;
      case Agg::kAverage:
        v = a[i] / n;
        break;
      case Agg::kAvgZero:
        v = a[i] / static_cast<double>(total);
        break;
      case Agg::kCount:
        v = n;
        break;
      case Agg::kMultiply:
        v = n == total ? a[i] : kNone;
        break;
      case Agg::kRange:
        v = a[i] - acc2[i];
        break;
      case Agg::kStddev:
        v = std::sqrt(acc2[i] / n);
        break;
      case Agg::kMedian:
        row.clear();
        for (std::span<const double> col : cols) {
          if (i < col.size() && !IsNone(col[i])) row.push_back(col[i]);
        }
        v = MedianOf(&row);
        break;
    }
    (*out)[i] = v;
  }
}

Tags CommonTags(const SeriesList& group) {
  Tags common;
  for (const auto& [key, value] : group.front().tags.pairs()) {
    bool everywhere = true;
    for (const TimeSeries& s : group) {
      if (!s.tags.Has(key) || s.tags.Get(key) != value) {
        everywhere = false;
        break;
      }
    }
    if (everywhere) common.Set(key, value);
  }
  return common;
}

// A new series as graphite's TimeSeries(name, start, end, step, values) makes it for a computed
// name: tags {name}, path expression = name, the request's xFilesFactor (0) and average
// consolidation.
TimeSeries NewSeries(std::string name, int64_t start, int64_t step, std::vector<double> values) {
  TimeSeries s;
  s.tags.Set("name", name);
  s.path_expression = name;
  s.name = std::move(name);
  s.start = start;
  s.step = step;
  s.values = std::move(values);
  return s;
}

// graphite's aggregate(group, func, xFilesFactor) for a non-empty group. `label` is the function
// name as graphite writes it ("sum", "avg", "rangeOf"): the name is "<label>Series(<paths>)" and
// the tags are those every input shares plus aggregatedBy=<label>.
Status AggregateGroup(EvalContext& ctx, const SeriesList& group, Agg agg, std::string_view label,
                      double xff, TimeSeries* out) {
  SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
  SLUICE_ASSIGN_OR_RETURN(Grid grid, PlanGrid(group));
  Columns c;
  MakeColumns(group, grid.step, &c);
  SLUICE_RETURN_IF_ERROR(ctx.ChargePoints(static_cast<int64_t>(c.rows)));
  std::vector<double> values;
  CombineRows(agg, c.cols, c.rows, xff, &values);
  std::string name = fmt::format("{}Series({})", label, FormatPathExpressions(group));
  Tags tags = CommonTags(group);
  if (!tags.Has("name")) tags.Set("name", name);
  tags.Set("aggregatedBy", std::string(label));
  *out = NewSeries(std::move(name), grid.start, grid.step, std::move(values));
  out->tags = std::move(tags);
  out->xfiles_factor = xff;
  return Status::OK();
}

// Looks up an aggFunc argument (graphite accepts and strips a "Series" suffix).
Result<Agg> AggArgument(std::string_view function, std::string_view func) {
  std::optional<Agg> agg = FindAgg(StripSeries(func));
  if (!agg) return InvalidArgument("{}: unsupported aggregation function '{}'", function, func);
  return *agg;
}

// The aggregation behind each aggregate-style function name: sumSeries and sum are aggregate(...,
// 'sum'), and so on.
struct NamedAggregate {
  std::string_view function;
  std::string_view label;
};
constexpr NamedAggregate kNamedAggregates[] = {{"sumSeries", "sum"},
                                               {"sum", "sum"},
                                               {"averageSeries", "average"},
                                               {"avg", "average"},
                                               {"minSeries", "min"},
                                               {"maxSeries", "max"},
                                               {"diffSeries", "diff"},
                                               {"stddevSeries", "stddev"},
                                               {"rangeOfSeries", "rangeOf"},
                                               {"multiplySeries", "multiply"},
                                               {"sumSeriesWithWildcards", "sum"},
                                               {"averageSeriesWithWildcards", "average"},
                                               {"multiplySeriesWithWildcards", "multiply"},
                                               {"sumSeriesLists", "sum"},
                                               {"diffSeriesLists", "diff"},
                                               {"multiplySeriesLists", "multiply"}};

std::string_view LabelOf(std::string_view function) {
  for (const NamedAggregate& n : kNamedAggregates) {
    if (n.function == function) return n.label;
  }
  return {};
}

// sumSeries, averageSeries, minSeries, maxSeries, diffSeries, stddevSeries, rangeOfSeries,
// multiplySeries and the sum/avg aliases.
Status AggregateSeriesKernel(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const std::string_view function = args.function().name;
  // graphite's legacy multiplySeries: one argument with one series comes back unchanged.
  if (function == "multiplySeries" && args.rest().size() == 1 &&
      args.rest()[0].series.size() == 1) {
    out->push_back(std::move(args.rest()[0].series[0]));
    return Status::OK();
  }
  SeriesList all = args.ConcatRest();
  if (all.empty()) return Status::OK();
  const std::string_view label = LabelOf(function);
  SLUICE_ASSIGN_OR_RETURN(Agg agg, AggArgument(function, label));
  TimeSeries result;
  SLUICE_RETURN_IF_ERROR(AggregateGroup(ctx, all, agg, label, 0, &result));
  out->push_back(std::move(result));
  return Status::OK();
}

Status AggregateKernel(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  SeriesList& series = args.series(0);
  const std::string_view func = args.string(1, "");
  SLUICE_ASSIGN_OR_RETURN(Agg agg, AggArgument("aggregate", func));
  if (series.empty()) return Status::OK();
  TimeSeries result;
  SLUICE_RETURN_IF_ERROR(
      AggregateGroup(ctx, series, agg, StripSeries(func), args.number(2, 0), &result));
  out->push_back(std::move(result));
  return Status::OK();
}

// aggregateSeriesLists and the sum/diff/multiply SeriesLists aliases: list1[i] with list2[i].
Status AggregateSeriesListsKernel(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const std::string_view function = args.function().name;
  std::string_view func =
      function == "aggregateSeriesLists" ? args.string(2, "") : LabelOf(function);
  SLUICE_ASSIGN_OR_RETURN(Agg agg, AggArgument(function, func));
  func = StripSeries(func);
  const double xff = function == "aggregateSeriesLists" ? args.number(3, 0) : 0;
  SeriesList& first = args.series(0);
  SeriesList& second = args.series(1);
  if (first.size() != second.size()) {
    return InvalidArgument("{}: the two series lists must have the same length, got {} and {}",
                           function, first.size(), second.size());
  }
  for (size_t i = 0; i < first.size(); ++i) {
    std::string name = fmt::format("{}Series({},{})", func, first[i].name, second[i].name);
    SeriesList pair;
    pair.push_back(std::move(first[i]));
    pair.push_back(std::move(second[i]));
    TimeSeries result;
    SLUICE_RETURN_IF_ERROR(AggregateGroup(ctx, pair, agg, func, xff, &result));
    result.name = std::move(name);  // the path expression keeps the aggregate's own name
    out->push_back(std::move(result));
  }
  return Status::OK();
}

// Series grouped by a key, in first-seen key order.
struct Groups {
  std::vector<std::string> keys;
  std::vector<SeriesList> members;
  std::unordered_map<std::string, size_t> index;

  void Add(std::string key, TimeSeries s) {
    auto [it, inserted] = index.try_emplace(key, keys.size());
    if (inserted) {
      keys.push_back(std::move(key));
      members.emplace_back();
    }
    members[it->second].push_back(std::move(s));
  }
};

// graphite's aggregateWithWildcards key: the name's '.'-separated nodes without `positions`.
std::string WithoutPositions(std::string_view name, const std::vector<int64_t>& positions) {
  std::string key;
  int64_t index = 0;
  size_t begin = 0;
  bool first = true;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i < name.size() && name[i] != '.') continue;
    if (std::find(positions.begin(), positions.end(), index) == positions.end()) {
      if (!first) key.push_back('.');
      key.append(name.substr(begin, i - begin));
      first = false;
    }
    ++index;
    begin = i + 1;
  }
  return key;
}

Status WildcardsGroups(EvalContext& ctx, SeriesList series, Agg agg, std::string_view label,
                       const std::vector<int64_t>& positions, SeriesList* out) {
  Groups groups;
  for (TimeSeries& s : series) {
    std::string key = WithoutPositions(s.name, positions);
    groups.Add(std::move(key), std::move(s));
  }
  for (size_t g = 0; g < groups.keys.size(); ++g) {
    TimeSeries result;
    SLUICE_RETURN_IF_ERROR(AggregateGroup(ctx, groups.members[g], agg, label, 0, &result));
    result.name = groups.keys[g];
    out->push_back(std::move(result));
  }
  return Status::OK();
}

// aggregateWithWildcards and the sum/average/multiply SeriesWithWildcards aliases.
Status WildcardsKernel(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const std::string_view function = args.function().name;
  const bool generic = function == "aggregateWithWildcards";
  const std::string_view func = generic ? args.string(1, "") : LabelOf(function);
  SLUICE_ASSIGN_OR_RETURN(Agg agg, AggArgument(function, func));
  std::vector<int64_t> positions;
  for (const Value& v : args.rest()) {
    if (v.kind == Value::Kind::kNumber) positions.push_back(static_cast<int64_t>(v.number));
  }
  return WildcardsGroups(ctx, std::move(args.series(0)), agg, StripSeries(func), positions, out);
}

// graphite's countSeries over a non-empty list: a constant row count, the number of series.
Status CountGroup(EvalContext& ctx, const SeriesList& group, TimeSeries* out) {
  SLUICE_ASSIGN_OR_RETURN(Grid grid, PlanGrid(group));
  size_t rows = 0;
  for (const TimeSeries& s : group) {
    const auto per = static_cast<size_t>(grid.step / s.step);
    rows = std::max(rows, (s.size() + per - 1) / per);
  }
  SLUICE_RETURN_IF_ERROR(ctx.ChargePoints(static_cast<int64_t>(rows)));
  *out = NewSeries(fmt::format("countSeries({})", FormatPathExpressions(group)), grid.start,
                   grid.step, std::vector<double>(rows, static_cast<double>(group.size())));
  return Status::OK();
}

Status CountSeriesKernel(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  if (args.rest().empty()) {
    SLUICE_ASSIGN_OR_RETURN(TimeSeries line, ConstantLineSeries(ctx.range(), 0, "0"));
    line.path_expression = "countSeries()";
    out->push_back(std::move(line));
    return Status::OK();
  }
  SeriesList all = args.ConcatRest();
  if (all.empty()) return Status::OK();
  TimeSeries result;
  SLUICE_RETURN_IF_ERROR(CountGroup(ctx, all, &result));
  out->push_back(std::move(result));
  return Status::OK();
}

Status GroupKernel(EvalContext&, CallArgs& args, SeriesList* out) {
  SeriesList all = args.ConcatRest();
  for (TimeSeries& s : all) out->push_back(std::move(s));
  return Status::OK();
}

// safeDiv(a, b): None when either is None or b is 0 (a None operand makes the quotient NaN by
// itself). As closure types, so that PairSeries' loop inlines them.
constexpr auto SafeDivide = [](double a, double b) { return b == 0 ? kNone : a / b; };
// safeMul(safeDiv(a, b), 100.0)
constexpr auto Percent = [](double a, double b) { return b == 0 ? kNone : a / b * 100.0; };

// out[i] = op(a[i], b[i]) for i < max(|a|, |b|), reading None past the end of the shorter one
// (izip_longest). The common prefix is a plain loop the compiler vectorises.
template <typename Op>
void ZipLongest(std::span<const double> a, std::span<const double> b, Op op, double* out) {
  const size_t common = std::min(a.size(), b.size());
  const size_t rows = std::max(a.size(), b.size());
  const double* pa = a.data();
  const double* pb = b.data();
  for (size_t i = 0; i < common; ++i) out[i] = op(pa[i], pb[i]);
  for (size_t i = common; i < rows; ++i) {
    out[i] = op(i < a.size() ? pa[i] : kNone, i < b.size() ? pb[i] : kNone);
  }
}

// Two series normalized together and combined pointwise by `op` (izip_longest: None past the
// shorter one's end), as divideSeries and asPercent do. Tags {name}.
template <typename Op>
Status PairSeries(EvalContext& ctx, const TimeSeries& a, const TimeSeries& b, std::string name,
                  Op op, TimeSeries* out, Grid* grid_out = nullptr) {
  Grid grid{std::min(a.start, b.start), std::max(a.end(), b.end()),
            std::lcm(std::max<int64_t>(1, a.step), std::max<int64_t>(1, b.step))};
  grid.end -= (grid.end - grid.start) % grid.step;
  std::vector<double> scratch_a, scratch_b;
  std::span<const double> va = ValuesAt(a, grid.step, &scratch_a);
  std::span<const double> vb = ValuesAt(b, grid.step, &scratch_b);
  const size_t rows = std::max(va.size(), vb.size());
  SLUICE_RETURN_IF_ERROR(ctx.ChargePoints(static_cast<int64_t>(rows)));
  std::vector<double> values(rows);
  ZipLongest(va, vb, op, values.data());
  *out = NewSeries(std::move(name), grid.start, grid.step, std::move(values));
  if (grid_out != nullptr) *grid_out = grid;
  return Status::OK();
}

Status DivideSeriesKernel(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  SeriesList& dividends = args.series(0);
  SeriesList& divisors = args.series(1);
  if (divisors.empty()) {
    for (TimeSeries& s : dividends) {
      s.name = "divideSeries(" + s.name + ",MISSING)";
      s.path_expression = s.name;
      std::fill(s.values.begin(), s.values.end(), kNone);
      out->push_back(std::move(s));
    }
    return Status::OK();
  }
  if (divisors.size() > 1) {
    return InvalidArgument(
        "divideSeries: argument 2 (divisorSeries) must select exactly 1 series, got {}",
        divisors.size());
  }
  const TimeSeries& divisor = divisors[0];
  size_t done = 0;
  for (const TimeSeries& s : dividends) {
    if ((++done & 63) == 0) SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
    TimeSeries q;
    SLUICE_RETURN_IF_ERROR(PairSeries(
        ctx, s, divisor, "divideSeries(" + s.name + "," + divisor.name + ")", SafeDivide, &q));
    out->push_back(std::move(q));
  }
  return Status::OK();
}

Status DivideSeriesListsKernel(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  SeriesList& dividends = args.series(0);
  SeriesList& divisors = args.series(1);
  if (dividends.size() != divisors.size()) {
    return InvalidArgument(
        "divideSeriesLists: the dividend and divisor lists must have the same length, got {} "
        "and {}",
        dividends.size(), divisors.size());
  }
  for (size_t i = 0; i < dividends.size(); ++i) {
    if ((i & 63) == 63) SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
    TimeSeries q;
    SLUICE_RETURN_IF_ERROR(PairSeries(
        ctx, dividends[i], divisors[i],
        "divideSeries(" + dividends[i].name + "," + divisors[i].name + ")", SafeDivide, &q));
    out->push_back(std::move(q));
  }
  return Status::OK();
}

// graphite's _getPercentile over one row's present values (sorted in place).
double Percentile(std::vector<double>* points, double n, bool interpolate) {
  if (points->empty()) return kNone;
  std::sort(points->begin(), points->end());
  const size_t len = points->size();
  const double fractional_rank = (n / 100.0) * static_cast<double>(len + 1);
  auto rank = static_cast<size_t>(fractional_rank);
  const double rank_fraction = fractional_rank - static_cast<double>(rank);
  if (!interpolate) rank += static_cast<size_t>(std::ceil(rank_fraction));
  double p;
  if (rank == 0) {
    p = (*points)[0];
  } else if (rank - 1 >= len) {
    p = points->back();
  } else {
    p = (*points)[rank - 1];
  }
  if (interpolate && rank < len) p = p + rank_fraction * ((*points)[rank] - p);
  return p;
}

Status PercentileOfSeriesKernel(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  SeriesList& series = args.series(0);
  const double n = args.number(1, 0);
  const bool interpolate = args.boolean(2, false);
  if (!(n > 0) || n > 100) {
    return InvalidArgument("percentileOfSeries: argument 2 (n) must be in (0, 100], got {}",
                           FormatPyFloat(n));
  }
  if (series.empty()) return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(Grid grid, PlanGrid(series));
  Columns c;
  MakeColumns(series, grid.step, &c);
  SLUICE_RETURN_IF_ERROR(ctx.ChargePoints(static_cast<int64_t>(c.rows)));
  std::vector<double> values(c.rows);
  std::vector<double> row;
  row.reserve(c.cols.size());
  for (size_t i = 0; i < c.rows; ++i) {
    row.clear();
    for (std::span<const double> col : c.cols) {
      if (i < col.size() && !IsNone(col[i])) row.push_back(col[i]);
    }
    values[i] = Percentile(&row, n, interpolate);
  }
  out->push_back(
      NewSeries(fmt::format("percentileOfSeries({},{})", series[0].path_expression, FormatG(n)),
                grid.start, grid.step, std::move(values)));
  return Status::OK();
}

// graphite's datapoints() pairs values with range(start, end + 1, step): values past `end` never
// show. Applied where graphite builds a series whose values can outrun its end (asPercent).
void FitToEnd(int64_t start, int64_t end, int64_t step, std::vector<double>* values) {
  const int64_t slots = end < start ? 0 : (end - start) / step + 1;
  if (static_cast<int64_t>(values->size()) > slots) values->resize(static_cast<size_t>(slots));
}

// Row sums (safeSum: None when the whole row is None) of a non-empty group, on its own grid.
Status SumGroup(EvalContext& ctx, const SeriesList& group, std::string name, TimeSeries* out,
                Grid* grid_out) {
  SLUICE_ASSIGN_OR_RETURN(Grid grid, PlanGrid(group));
  Columns c;
  MakeColumns(group, grid.step, &c);
  SLUICE_RETURN_IF_ERROR(ctx.ChargePoints(static_cast<int64_t>(c.rows)));
  std::vector<double> values;
  CombineRows(Agg::kSum, c.cols, c.rows, 0, &values);
  *out = NewSeries(std::move(name), grid.start, grid.step, std::move(values));
  *grid_out = grid;
  return Status::OK();
}

// asPercent with nodes: series and totals matched by their aggKey.
Status AsPercentByNodes(EvalContext& ctx, SeriesList series, const Value& total,
                        const std::vector<NodeOrTag>& nodes, SeriesList* out) {
  Groups meta;
  for (TimeSeries& s : series) {
    std::string key = AggKey(s, nodes);
    meta.Add(std::move(key), std::move(s));
  }
  std::vector<std::string> keys = meta.keys;
  // graphite reuses the grid of its last normalize() for the MISSING outputs.
  std::optional<Grid> last;
  std::unordered_map<std::string, TimeSeries> totals;
  auto add_total = [&](const std::string& key, SeriesList& group) -> Status {
    if (group.size() == 1) {
      totals.emplace(key, group[0]);
      return Status::OK();
    }
    TimeSeries sum;
    Grid grid;
    SLUICE_RETURN_IF_ERROR(SumGroup(
        ctx, group, fmt::format("sumSeries({})", FormatPathExpressions(group)), &sum, &grid));
    last = grid;
    totals.emplace(key, std::move(sum));
    return Status::OK();
  };
  if (total.kind == Value::Kind::kNone) {
    for (size_t g = 0; g < meta.keys.size(); ++g) {
      SLUICE_RETURN_IF_ERROR(add_total(meta.keys[g], meta.members[g]));
    }
  } else if (total.kind == Value::Kind::kSeries) {
    Groups by_key;
    for (const TimeSeries& s : total.series) {
      std::string key = AggKey(s, nodes);
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
      by_key.Add(std::move(key), s);
    }
    for (size_t g = 0; g < by_key.keys.size(); ++g) {
      SLUICE_RETURN_IF_ERROR(add_total(by_key.keys[g], by_key.members[g]));
    }
  } else {
    return InvalidArgument(
        "asPercent: argument 2 (total) must be None or a series list when "
        "nodes are given");
  }
  auto missing = [&](std::string name, size_t rows, const TimeSeries& like) -> Status {
    const Grid grid = last ? *last : Grid{like.start, like.end(), like.step};
    SLUICE_RETURN_IF_ERROR(ctx.ChargePoints(static_cast<int64_t>(rows)));
    std::vector<double> values(rows, kNone);
    FitToEnd(grid.start, grid.end, grid.step, &values);
    out->push_back(NewSeries(std::move(name), grid.start, grid.step, std::move(values)));
    return Status::OK();
  };
  // The first normalize() over the whole list decides how long an unmatched series reads.
  Grid all_grid{0, 0, 1};
  for (const SeriesList& m : meta.members) {
    for (const TimeSeries& s : m) all_grid.step = std::lcm(all_grid.step, s.step);
  }
  for (const std::string& key : keys) {
    auto t = totals.find(key);
    auto m = meta.index.find(key);
    if (m == meta.index.end()) {
      SLUICE_RETURN_IF_ERROR(
          missing("asPercent(MISSING," + t->second.name + ")", t->second.size(), t->second));
      continue;
    }
    for (const TimeSeries& s : meta.members[m->second]) {
      if (t == totals.end()) {
        const auto per = static_cast<size_t>(all_grid.step / s.step);
        SLUICE_RETURN_IF_ERROR(
            missing("asPercent(" + s.name + ",MISSING)", (s.size() + per - 1) / per, s));
        continue;
      }
      TimeSeries result;
      Grid grid;
      SLUICE_RETURN_IF_ERROR(PairSeries(ctx, s, t->second,
                                        "asPercent(" + s.name + "," + t->second.name + ")", Percent,
                                        &result, &grid));
      last = grid;
      out->push_back(std::move(result));
    }
    SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
  }
  return Status::OK();
}

// graphite's asPercent(seriesList, total, *nodes).
Status AsPercent(EvalContext& ctx, SeriesList series, const Value& total,
                 const std::vector<NodeOrTag>& nodes, SeriesList* out) {
  if (series.empty()) return Status::OK();  // normalize() of nothing: no result
  if (!nodes.empty()) return AsPercentByNodes(ctx, std::move(series), total, nodes, out);

  if (total.kind == Value::Kind::kSeries && total.series.size() == series.size()) {
    // One total per series, matched by sorted name.
    std::vector<size_t> a(series.size()), b(series.size());
    std::iota(a.begin(), a.end(), 0);
    std::iota(b.begin(), b.end(), 0);
    std::stable_sort(a.begin(), a.end(),
                     [&](size_t x, size_t y) { return series[x].name < series[y].name; });
    std::stable_sort(b.begin(), b.end(), [&](size_t x, size_t y) {
      return total.series[x].name < total.series[y].name;
    });
    for (size_t i = 0; i < a.size(); ++i) {
      if ((i & 63) == 63) SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
      const TimeSeries& s = series[a[i]];
      const TimeSeries& t = total.series[b[i]];
      TimeSeries result;
      SLUICE_RETURN_IF_ERROR(
          PairSeries(ctx, s, t, "asPercent(" + s.name + "," + t.name + ")", Percent, &result));
      out->push_back(std::move(result));
    }
    return Status::OK();
  }

  // Every series against one total row vector, on the series' own start and step.
  std::vector<double> total_values;
  std::string total_text;
  Columns c;
  if (total.kind == Value::Kind::kNone) {
    SLUICE_ASSIGN_OR_RETURN(Grid grid, PlanGrid(series));
    MakeColumns(series, grid.step, &c);
    CombineRows(Agg::kSum, c.cols, c.rows, 0, &total_values);
    total_text = fmt::format("sumSeries({})", FormatPathExpressions(series));
  } else if (total.kind == Value::Kind::kSeries) {
    if (total.series.size() != 1) {
      return InvalidArgument(
          "asPercent: argument 2 (total) must be missing, a number, one series or as many "
          "series as argument 1 ({}), got {} series",
          series.size(), total.series.size());
    }
    SeriesList both = series;
    both.push_back(total.series[0]);
    SLUICE_ASSIGN_OR_RETURN(Grid grid, PlanGrid(both));
    MakeColumns(series, grid.step, &c);
    std::vector<double> scratch;
    std::span<const double> t = ValuesAt(total.series[0], grid.step, &scratch);
    total_values.assign(t.begin(), t.end());
    total_text = total.series[0].name;
  } else if (total.kind == Value::Kind::kNumber) {
    SLUICE_ASSIGN_OR_RETURN(Grid grid, PlanGrid(series));
    MakeColumns(series, grid.step, &c);
    total_values.assign(series[0].size(), total.number);
    total_text = FormatNumberArg(total.number, total.is_integer);
  } else {
    return InvalidArgument("asPercent: argument 2 (total) must be None, a number or a series list");
  }
  for (size_t j = 0; j < series.size(); ++j) {
    if ((j & 63) == 63) SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
    const TimeSeries& s = series[j];
    std::span<const double> v = c.cols[j];
    const size_t rows = std::max(v.size(), total_values.size());
    SLUICE_RETURN_IF_ERROR(ctx.ChargePoints(static_cast<int64_t>(rows)));
    std::vector<double> values(rows);
    ZipLongest(v, total_values, Percent, values.data());
    FitToEnd(s.start, s.end(), s.step, &values);
    out->push_back(NewSeries("asPercent(" + s.name + "," + total_text + ")", s.start, s.step,
                             std::move(values)));
  }
  return Status::OK();
}

Status AsPercentKernel(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  return AsPercent(ctx, std::move(args.series(0)), args.value(1), NodesFromValues(args.rest()),
                   out);
}

// The callback of groupByNode(s)/groupByTags applied to one group; graphite keeps the first
// series of its result. Series-function names run that function; aggregation names run
// aggregate().
Status ApplyCallback(EvalContext& ctx, std::string_view callback, SeriesList group,
                     TimeSeries* out) {
  SeriesList result;
  if (callback == "countSeries") {
    result.emplace_back();
    SLUICE_RETURN_IF_ERROR(CountGroup(ctx, group, &result[0]));
  } else if (callback == "asPercent" || callback == "pct") {
    SLUICE_RETURN_IF_ERROR(AsPercent(ctx, std::move(group), Value{}, {}, &result));
  } else if (callback == "multiplySeries" && group.size() == 1) {
    result.push_back(std::move(group[0]));
  } else if (callback.ends_with("WithWildcards")) {
    const std::string_view label = LabelOf(callback);
    SLUICE_ASSIGN_OR_RETURN(Agg agg, AggArgument(callback, label));
    SLUICE_RETURN_IF_ERROR(WildcardsGroups(ctx, std::move(group), agg, label, {}, &result));
  } else if (callback.ends_with("Lists") || callback == "powSeries") {
    return InvalidArgument(
        "'{}' cannot be used as a grouping callback: it needs more than one "
        "series list",
        callback);
  } else {
    std::string_view label = LabelOf(callback);
    if (label.empty()) label = StripSeries(callback);
    SLUICE_ASSIGN_OR_RETURN(Agg agg, AggArgument("callback", label));
    result.emplace_back();
    SLUICE_RETURN_IF_ERROR(AggregateGroup(ctx, group, agg, label, 0, &result[0]));
  }
  if (result.empty()) return InvalidArgument("callback '{}' returned no series", callback);
  *out = std::move(result[0]);
  return Status::OK();
}

Status GroupByNodes(EvalContext& ctx, SeriesList series, std::string_view callback,
                    const std::vector<NodeOrTag>& nodes, SeriesList* out) {
  Groups groups;
  for (TimeSeries& s : series) {
    std::string key = AggKey(s, nodes);
    groups.Add(std::move(key), std::move(s));
  }
  for (size_t g = 0; g < groups.keys.size(); ++g) {
    TimeSeries result;
    SLUICE_RETURN_IF_ERROR(ApplyCallback(ctx, callback, std::move(groups.members[g]), &result));
    result.name = groups.keys[g];
    out->push_back(std::move(result));
  }
  return Status::OK();
}

Status GroupByNodeKernel(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  return GroupByNodes(ctx, std::move(args.series(0)), args.string(2, "average"),
                      {NodeFromValue(args.value(1))}, out);
}

Status GroupByNodesKernel(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  return GroupByNodes(ctx, std::move(args.series(0)), args.string(1, "average"),
                      NodesFromValues(args.rest()), out);
}

Status GroupByTagsKernel(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  SeriesList& series = args.series(0);
  const std::string_view callback = args.string(1, "average");
  std::vector<std::string> tags;
  bool by_name = false;
  for (const Value& v : args.rest()) {
    if (v.kind != Value::Kind::kString) continue;
    if (v.text == "name") by_name = true;
    tags.push_back(v.text);
  }
  if (tags.empty()) return InvalidArgument("groupByTags: no tags specified");
  // Without "name" among the tags, the group's metric name is the inputs' common name, or the
  // callback's name when they differ.
  std::string common_name(callback);
  if (!by_name && !series.empty()) {
    std::string_view first = series[0].tags.Get("name");
    bool same = true;
    for (const TimeSeries& s : series) same = same && s.tags.Get("name") == first;
    if (same) common_name = std::string(first);
  }
  Groups groups;
  for (TimeSeries& s : series) {
    std::vector<std::string> parts;
    for (const std::string& tag : tags) {
      if (by_name && tag == "name") continue;
      std::string_view value = s.tags.Get(tag);
      if (value.empty()) {
        // graphite re-parses the key as a tagged name, which rejects an empty tag value.
        return InvalidArgument("groupByTags: series '{}' has no tag '{}'", s.name, tag);
      }
      parts.push_back(tag + "=" + std::string(value));
    }
    std::sort(parts.begin(), parts.end());
    std::string key = by_name ? std::string(s.tags.Get("name")) : common_name;
    for (const std::string& p : parts) key += ";" + p;
    groups.Add(std::move(key), std::move(s));
  }
  for (size_t g = 0; g < groups.keys.size(); ++g) {
    const std::string& key = groups.keys[g];
    TimeSeries result;
    SLUICE_RETURN_IF_ERROR(ApplyCallback(ctx, callback, std::move(groups.members[g]), &result));
    result.name = key;
    result.path_expression = key;
    result.tags = TagsFromName(key);
    out->push_back(std::move(result));
  }
  return Status::OK();
}

ParamSpec SeriesListParam(std::string name = "seriesList") {
  return ParamSpec{.name = std::move(name), .type = ArgType::kSeriesList, .required = true};
}
ParamSpec SeriesListsParam(bool required) {
  return ParamSpec{
      .name = "seriesLists", .type = ArgType::kSeriesList, .required = required, .multiple = true};
}

std::vector<std::string> AggFuncOptions() {
  std::vector<std::string> options = AggFnNamesWithAliases();
  std::sort(options.begin(), options.end());
  options.erase(std::unique(options.begin(), options.end()), options.end());
  return options;
}

// graphite's aggOrSeriesFunc: the aggregation names plus every series function marked as an
// aggregator.
std::vector<std::string> CallbackOptions() {
  std::vector<std::string> options = AggFuncOptions();
  for (std::string_view f :
       {"asPercent", "averageSeries", "averageSeriesWithWildcards", "avg", "countSeries",
        "diffSeries", "maxSeries", "minSeries", "multiplySeries", "multiplySeriesWithWildcards",
        "pct", "rangeOfSeries", "stddevSeries", "sum", "sumSeries", "sumSeriesWithWildcards"}) {
    options.emplace_back(f);
  }
  std::sort(options.begin(), options.end());
  options.erase(std::unique(options.begin(), options.end()), options.end());
  return options;
}

ParamSpec AggFuncParam() {
  return ParamSpec{
      .name = "func", .type = ArgType::kAggFunc, .required = true, .options = AggFuncOptions()};
}

ParamSpec CallbackParam(bool required) {
  return ParamSpec{.name = "callback",
                   .type = ArgType::kAggOrSeriesFunc,
                   .required = required,
                   .default_value = required ? "" : "average",
                   .options = CallbackOptions()};
}

ParamSpec PositionsParam() {
  return ParamSpec{.name = "position", .type = ArgType::kNode, .multiple = true};
}

void AddAggregateFunction(Registry* registry, std::string name, std::string what,
                          std::string example) {
  AddFunctionOrDie(
      registry,
      {.name = std::move(name),
       .group = "Combine",
       .description = what +
                      " Series with different steps are first consolidated to their least common "
                      "multiple; rows are aligned by position from each series' first point, and a "
                      "row is None when all its inputs are. An empty list gives no series.",
       .example = std::move(example),
       .params = {SeriesListsParam(true)},
       .impl = AggregateSeriesKernel});
}

void AddWildcardsFunction(Registry* registry, std::string name, std::string_view agg) {
  AddFunctionOrDie(
      registry,
      {.name = name,
       .group = "Combine",
       .description = fmt::format(
           "Groups the series by their names with the nodes at `position` removed, and "
           "aggregates each group with `{}` (as aggregate does), named by the remaining nodes. "
           "Groups come in the order their first series appear.",
           agg),
       .example = name + "(host.cpu-[0-7].cpu-{user,system}.value, 1)",
       .params = {SeriesListParam(), PositionsParam()},
       .impl = WildcardsKernel});
}

void AddSeriesListsFunction(Registry* registry, std::string name, std::string_view agg) {
  AddFunctionOrDie(
      registry,
      {.name = name,
       .group = "Combine",
       .description =
           fmt::format("Pairs the two lists by position and aggregates each pair with `{}`, named "
                       "\"{}Series(<first>,<second>)\". The lists must have the same length.",
                       agg, agg),
       .example = name + "(mining.{carbon,graphite}.extracted, mining.{carbon,graphite}.shipped)",
       .params = {SeriesListParam("seriesListFirstPos"), SeriesListParam("seriesListSecondPos")},
       .impl = AggregateSeriesListsKernel});
}

}  // namespace

void RegisterCombineFunctions(Registry* registry) {
  AddAggregateFunction(registry, "sumSeries", "Adds the series together point by point.",
                       "sumSeries(company.server.application*.requestsHandled)");
  AddAggregateFunction(registry, "sum", "Short form of sumSeries.", "sum(app.*.requests)");
  AddAggregateFunction(registry, "averageSeries",
                       "The average of the non-None values of the series at each point.",
                       "averageSeries(company.server.*.threads.busy)");
  AddAggregateFunction(registry, "avg", "Short form of averageSeries.", "avg(app.*.latency)");
  AddAggregateFunction(registry, "minSeries", "The smallest value of the series at each point.",
                       "minSeries(Server*.connections.total)");
  AddAggregateFunction(registry, "maxSeries", "The largest value of the series at each point.",
                       "maxSeries(Server*.connections.total)");
  AddAggregateFunction(registry, "diffSeries",
                       "The first series minus every later one at each point (None values are "
                       "skipped; the first present value is the minuend).",
                       "diffSeries(service.connections.total, service.connections.failed)");
  AddAggregateFunction(registry, "stddevSeries",
                       "The population standard deviation of the series at each point.",
                       "stddevSeries(company.server.*.threads.busy)");
  AddAggregateFunction(registry, "rangeOfSeries",
                       "The largest minus the smallest value of the series at each point.",
                       "rangeOfSeries(Server*.connections.total)");
  AddAggregateFunction(registry, "multiplySeries",
                       "The product of the series at each point; None when any of them is None. "
                       "A single series passed alone comes back unchanged.",
                       "multiplySeries(Series.dividends, Series.divisors)");
  AddFunctionOrDie(
      registry,
      {.name = "aggregate",
       .group = "Combine",
       .description =
           "Combines the series into one with the aggregation function `func` (average, "
           "avg_zero, median, sum, min, max, diff, stddev, count, range, multiply, last and their "
           "aliases avg, total, rangeOf, current), named \"<func>Series(<paths>)\". A row needs "
           "a fraction of at least `xFilesFactor` non-None inputs (default 0: any).",
       .example = "aggregate(host.cpu-[0-7].cpu-{user,system}.value, 'sum')",
       .params = {SeriesListParam(), AggFuncParam(),
                  ParamSpec{.name = "xFilesFactor", .type = ArgType::kFloat}},
       .impl = AggregateKernel});
  AddFunctionOrDie(
      registry,
      {.name = "aggregateSeriesLists",
       .group = "Combine",
       .description = "Pairs the two lists by position and aggregates each pair with `func`, "
                      "named \"<func>Series(<first>,<second>)\". The lists must have the same "
                      "length.",
       .example = "aggregateSeriesLists(mining.{a,b}.extracted, mining.{a,b}.shipped, 'sum')",
       .params = {SeriesListParam("seriesListFirstPos"), SeriesListParam("seriesListSecondPos"),
                  AggFuncParam(), ParamSpec{.name = "xFilesFactor", .type = ArgType::kFloat}},
       .impl = AggregateSeriesListsKernel});
  AddSeriesListsFunction(registry, "sumSeriesLists", "sum");
  AddSeriesListsFunction(registry, "diffSeriesLists", "diff");
  AddSeriesListsFunction(registry, "multiplySeriesLists", "multiply");
  AddWildcardsFunction(registry, "sumSeriesWithWildcards", "sum");
  AddWildcardsFunction(registry, "averageSeriesWithWildcards", "average");
  AddWildcardsFunction(registry, "multiplySeriesWithWildcards", "multiply");
  AddFunctionOrDie(
      registry,
      {.name = "aggregateWithWildcards",
       .group = "Combine",
       .description = "Groups the series by their names with the nodes at `position` removed, "
                      "and aggregates each group with `func` (as aggregate does), named by the "
                      "remaining nodes.",
       .example = "aggregateWithWildcards(host.cpu-[0-7].cpu-{user,system}.value, 'sum', 1)",
       .params = {SeriesListParam(), AggFuncParam(), PositionsParam()},
       .impl = WildcardsKernel});
  AddFunctionOrDie(
      registry,
      {.name = "divideSeries",
       .group = "Combine",
       .description =
           "Divides each series of the first list by the one divisor series, point by point; "
           "None where either is None or the divisor is 0. With no divisor series every "
           "dividend becomes all None, named \"divideSeries(<name>,MISSING)\".",
       .example = "divideSeries(Series.dividends, Series.divisors)",
       .params = {SeriesListParam("dividendSeriesList"), SeriesListParam("divisorSeries")},
       .impl = DivideSeriesKernel});
  AddFunctionOrDie(
      registry,
      {.name = "divideSeriesLists",
       .group = "Combine",
       .description = "Divides the first list's series by the second list's, pairing them by "
                      "position; None where either is None or the divisor is 0. The lists must "
                      "have the same length.",
       .example = "divideSeriesLists(app.{a,b}.errors, app.{a,b}.requests)",
       .params = {SeriesListParam("dividendSeriesList"), SeriesListParam("divisorSeriesList")},
       .impl = DivideSeriesListsKernel});
  AddFunctionOrDie(
      registry,
      {.name = "percentileOfSeries",
       .group = "Combine",
       .description =
           "The `n`th percentile (0 < n <= 100) of the series' values at each point, by the "
           "nearest-rank method, so every value is one of the inputs; with `interpolate` the "
           "value between the two nearest ranks.",
       .example = "percentileOfSeries(app.*.latency, 95)",
       .params = {SeriesListParam(),
                  ParamSpec{.name = "n", .type = ArgType::kFloat, .required = true},
                  ParamSpec{
                      .name = "interpolate", .type = ArgType::kBoolean, .default_value = "false"}},
       .impl = PercentileOfSeriesKernel});
  AddFunctionOrDie(
      registry, {.name = "countSeries",
                 .group = "Combine",
                 .description = "A horizontal line at the number of series in the lists. With no "
                                "argument, a line at 0.",
                 .example = "countSeries(carbon.agents.*.*)",
                 .params = {SeriesListsParam(false)},
                 .impl = CountSeriesKernel});
  AddFunctionOrDie(registry,
                   {.name = "group",
                    .group = "Combine",
                    .description = "Joins several series lists into one, in order, so they can "
                                   "be passed to a function that takes a single list.",
                    .example = "group(app.web.requests, app.db.requests)",
                    .params = {SeriesListsParam(false)},
                    .impl = GroupKernel});
  const std::string as_percent_description =
      "Each series as a percentage of a total: of the sum of all the series (no `total`), of a "
      "number, of one total series, or of the total series with the same name rank (as many "
      "totals as series). With `nodes`, series and totals are matched by those nodes or tags, "
      "as groupByNodes groups them, and unmatched ones give all-None series named with MISSING.";
  for (const char* name : {"asPercent", "pct"}) {
    AddFunctionOrDie(
        registry,
        {.name = name,
         .group = "Combine",
         .description = as_percent_description,
         .example = std::string(name) + "(Server01.connections.{failed,succeeded}, "
                                        "Server01.connections.attempted)",
         .params = {SeriesListParam(), ParamSpec{.name = "total", .type = ArgType::kAny},
                    ParamSpec{.name = "nodes", .type = ArgType::kNodeOrTag, .multiple = true}},
         .impl = AsPercentKernel});
  }
  AddFunctionOrDie(
      registry,
      {.name = "groupByNode",
       .group = "Combine",
       .description =
           "Groups the series by one node of their path (or a tag) and combines each group with "
           "`callback`: an aggregation function or an aggregating series function such as "
           "sumSeries. Each result is named by the node's value.",
       .example = "groupByNode(ganglia.by-function.*.*.cpu.load5, 2, 'sumSeries')",
       .params = {SeriesListParam(),
                  ParamSpec{.name = "nodeNum", .type = ArgType::kNodeOrTag, .required = true},
                  CallbackParam(false)},
       .impl = GroupByNodeKernel});
  AddFunctionOrDie(
      registry,
      {.name = "groupByNodes",
       .group = "Combine",
       .description = "Groups the series by several nodes of their path (or tags) and combines "
                      "each group with `callback`, as groupByNode; each result is named by the "
                      "nodes' values joined with '.'.",
       .example = "groupByNodes(ganglia.server*.*.cpu.load*, 'sum', 1, 4)",
       .params = {SeriesListParam(), CallbackParam(true),
                  ParamSpec{.name = "nodes", .type = ArgType::kNodeOrTag, .multiple = true}},
       .impl = GroupByNodesKernel});
  AddFunctionOrDie(
      registry,
      {.name = "groupByTags",
       .group = "Combine",
       .description =
           "Groups tagged series by the values of the given tags and combines each group with "
           "`callback`. Each result is a tagged name: the common metric name (or the callback's "
           "name when the inputs' names differ; the series' own name when `name` is one of the "
           "tags) followed by the grouping tags.",
       .example = "groupByTags(seriesByTag('name=cpu'), 'average', 'dc')",
       .params = {SeriesListParam(), CallbackParam(true),
                  ParamSpec{
                      .name = "tags", .type = ArgType::kTag, .required = true, .multiple = true}},
       .impl = GroupByTagsKernel});
}

}  // namespace sluice::expr
