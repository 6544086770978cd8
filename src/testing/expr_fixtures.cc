#include "testing/expr_fixtures.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "expr/binder.h"
#include "expr/parser.h"
#include "expr/registry.h"

namespace sluice::testing {

namespace {

int64_t FloorMod(int64_t a, int64_t b) {
  int64_t m = a % b;
  return m < 0 ? m + b : m;
}

std::string Normalise(std::string_view name) {
  if (name.find(';') == std::string_view::npos) return std::string(name);
  Tags tags = expr::TagsFromName(name);
  return expr::TaggedName(tags.Get("name"), tags);
}

bool MatchesInput(const NameMatcher& matcher, const std::string& name) {
  if (matcher.Matches(name)) return true;
  if (name.find(';') == std::string::npos || matcher.kind() != NameMatcher::Kind::kExact) {
    return false;
  }
  for (const auto& exact : matcher.exact_names()) {
    if (exact.find(';') != std::string::npos && Normalise(exact) == name) return true;
  }
  return false;
}

}  // namespace

void MemoryFetcher::Add(std::string_view name, int64_t start_ms, int64_t step_ms,
                        std::vector<double> values) {
  Input input{Normalise(name), start_ms, step_ms, std::move(values)};
  auto it = std::lower_bound(inputs_.begin(), inputs_.end(), input.name,
                             [](const Input& a, const std::string& b) { return a.name < b; });
  if (it != inputs_.end() && it->name == input.name) {
    *it = std::move(input);
  } else {
    inputs_.insert(it, std::move(input));
  }
}

std::vector<double> FetchWindow(int64_t start_ms, int64_t step_ms,
                                const std::vector<double>& values, const TimeRange& range,
                                int64_t* grid_start_ms) {
  int64_t from = range.from_ms - FloorMod(range.from_ms, step_ms) + step_ms;
  int64_t until = range.to_ms - FloorMod(range.to_ms, step_ms) + step_ms;
  if (from == until) until += step_ms;
  *grid_start_ms = from;
  std::vector<double> out;
  if (until <= from) return out;
  out.assign(static_cast<size_t>((until - from) / step_ms), expr::kNone);
  // Every grid time is from + k * step, so either all of them fall on input points or none do.
  if (FloorMod(from - start_ms, step_ms) != 0) return out;
  const int64_t offset = (from - start_ms) / step_ms;  // input index of out[0]; may be negative
  const int64_t n = static_cast<int64_t>(values.size());
  const int64_t first = std::max<int64_t>(0, -offset);
  const int64_t last = std::min<int64_t>(static_cast<int64_t>(out.size()), n - offset);
  for (int64_t k = first; k < last; ++k) {
    out[static_cast<size_t>(k)] = values[static_cast<size_t>(k + offset)];
  }
  return out;
}

Status MemoryFetcher::Fetch(const NameMatcher& matcher, const std::vector<TagFilter>& tag_filters,
                            std::string_view path_expression, const TimeRange& range,
                            expr::EvalContext& ctx, expr::SeriesList* out) {
  calls_.push_back(Call{std::string(path_expression), tag_filters.size(), range});
  SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
  for (const Input& input : inputs_) {
    if (!MatchesInput(matcher, input.name)) continue;
    Tags tags = expr::TagsFromName(input.name);
    if (!MatchesAll(tag_filters, tags)) continue;
    expr::TimeSeries series;
    series.values = FetchWindow(input.start_ms, input.step_ms, input.values, range, &series.start);
    series.name = input.name;
    series.path_expression = std::string(path_expression);
    series.tags = std::move(tags);
    series.step = input.step_ms;
    out->push_back(std::move(series));
  }
  return Status::OK();
}

Result<expr::SeriesList> EvalForTest(std::string_view target, expr::Fetcher& fetcher,
                                     TimeRange range, const expr::EvalLimits& limits) {
  SLUICE_ASSIGN_OR_RETURN(auto parsed, ParseExpression(target));
  SLUICE_ASSIGN_OR_RETURN(auto bound, expr::Bind(*parsed, expr::Registry::Default()));
  expr::EvalContext ctx(&fetcher, range, range.to_ms, limits);
  expr::SeriesList out;
  SLUICE_RETURN_IF_ERROR(expr::Evaluate(*bound, ctx, &out));
  return out;
}

std::string DumpSeries(const expr::TimeSeries& series) {
  std::string out = series.name;
  out += " [" + std::to_string(series.start) + "," + std::to_string(series.step) + "]";
  for (double v : series.values) {
    out.push_back(' ');
    if (std::isnan(v)) {
      out += "None";
      continue;
    }
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
    out.append(buf, end);
  }
  return out;
}

std::string DumpSeriesList(const expr::SeriesList& list) {
  std::string out;
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out.push_back('\n');
    out += DumpSeries(list[i]);
  }
  return out;
}

}  // namespace sluice::testing
