// The Special group's constantLine and seriesByTag, and the Graph group's threshold, with
// graphite-web 1.1.8's semantics. (substr, also "Special" in graphite, lives with the aliases in
// naming.cc.)
#include <re2/re2.h>

#include <string>
#include <string_view>
#include <vector>

#include "expr/functions/naming_util.h"
#include "expr/kernels.h"
#include "expr/tag_expression.h"

namespace sluice::expr {

Result<TimeSeries> ConstantLineSeries(const TimeRange& range, double value, std::string name) {
  // graphite works in whole seconds here: start/end are the request's epoch seconds.
  auto seconds = [](int64_t ms) { return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); };
  const int64_t start = seconds(range.from_ms);
  const int64_t end = seconds(range.to_ms);
  const int64_t step = (end - start) / 2;
  if (step <= 0) {
    return InvalidArgument("constantLine: the time range must span at least 2 seconds, got {} ms",
                           range.to_ms - range.from_ms);
  }
  TimeSeries s;
  s.tags.Set("name", name);
  s.name = std::move(name);
  s.start = start * 1000;
  s.step = step * 1000;
  s.values.assign(3, value);
  return s;
}

namespace {

Status ConstantLine(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const double value = args.number(0, 0);
  std::string text = FormatPyFloat(value);  // graphite validates the value to a float first
  SLUICE_ASSIGN_OR_RETURN(TimeSeries s, ConstantLineSeries(ctx.range(), value, text));
  SLUICE_RETURN_IF_ERROR(ctx.ChargePoints(static_cast<int64_t>(s.size())));
  s.path_expression = "constantLine(" + text + ")";
  out->push_back(std::move(s));
  return Status::OK();
}

Status Threshold(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const double value = args.number(0, 0);
  std::string text = FormatPyFloat(value);
  std::string_view label = args.string(1, "");
  SLUICE_ASSIGN_OR_RETURN(TimeSeries s, ConstantLineSeries(ctx.range(), value, text));
  SLUICE_RETURN_IF_ERROR(ctx.ChargePoints(static_cast<int64_t>(s.size())));
  s.path_expression = "constantLine(" + text + ")";
  if (!label.empty()) s.name = std::string(label);  // the tags keep the value, as in graphite
  out->push_back(std::move(s));
  return Status::OK();
}

}  // namespace

// One graphite tag expression ("tag=value", "tag!=value", "tag=~regex", "tag!=~regex") as a
// TagFilter. graphite's regexes match at the start of the value (re.match of '^(regex)'), so the
// pattern becomes "(?:regex).*" under TagFilter's full-match anchoring.
Result<TagFilter> ParseTagExpression(std::string_view text) {
  size_t op_pos = text.find_first_of("!=");
  std::string_view tag = text.substr(0, op_pos);
  if (op_pos == std::string_view::npos || op_pos == 0 || tag.find(';') != std::string_view::npos) {
    return InvalidArgument(
        "seriesByTag: invalid tag expression '{}': expected tag=value, "
        "tag!=value, tag=~regex or tag!=~regex",
        text);
  }
  std::string_view rest = text.substr(op_pos);
  FilterOp op;
  size_t op_len;
  if (rest.starts_with("!=~")) {
    op = FilterOp::kNotRegex, op_len = 3;
  } else if (rest.starts_with("!=")) {
    op = FilterOp::kNe, op_len = 2;
  } else if (rest.starts_with("=~")) {
    op = FilterOp::kRegex, op_len = 2;
  } else if (rest.starts_with("=")) {
    op = FilterOp::kEq, op_len = 1;
  } else {
    return InvalidArgument(
        "seriesByTag: invalid tag expression '{}': expected tag=value, "
        "tag!=value, tag=~regex or tag!=~regex",
        text);
  }
  std::string_view spec = rest.substr(op_len);
  if (spec.find(';') != std::string_view::npos) {
    return InvalidArgument("seriesByTag: invalid tag expression '{}': a value may not contain ';'",
                           text);
  }
  std::string value(spec);
  if (op == FilterOp::kRegex || op == FilterOp::kNotRegex) {
    re2::RE2::Options options;
    options.set_log_errors(false);
    re2::RE2 check(value, options);
    if (!check.ok()) {
      return InvalidArgument("seriesByTag: invalid regex '{}' in tag expression '{}': {}", value,
                             text, check.error());
    }
    value = "(?:" + value + ")(?s:.*)";
  }
  return TagFilter::Make(std::string(tag), op, std::move(value));
}

namespace {

// The text graphite uses as the path expression of seriesByTag's series: the call as written.
// The bound plan does not keep the source text, so it is rebuilt in the form Grafana writes.
std::string SeriesByTagText(const std::vector<Value>& exprs) {
  std::string text = "seriesByTag(";
  for (size_t i = 0; i < exprs.size(); ++i) {
    if (i > 0) text += ", ";
    text += "'" + exprs[i].text + "'";
  }
  text += ")";
  return text;
}

Status SeriesByTag(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  std::vector<TagFilter> filters;
  bool selective = false;
  for (const Value& v : args.rest()) {
    if (v.kind != Value::Kind::kString) continue;  // graphite only reads the string arguments
    SLUICE_ASSIGN_OR_RETURN(TagFilter f, ParseTagExpression(v.text));
    selective = selective || !f.MatchesValue("");
    filters.push_back(std::move(f));
  }
  if (!selective) {
    return InvalidArgument(
        "seriesByTag: at least one tag expression must require a non-empty value, such as "
        "'name=cpu' or 'host=~web.*'");
  }
  static const NameMatcher kAll = NameMatcher::Compile("^.*$");
  const size_t before = out->size();
  SLUICE_RETURN_IF_ERROR(
      ctx.fetcher()->Fetch(kAll, filters, SeriesByTagText(args.rest()), ctx.range(), ctx, out));
  const size_t found = out->size() - before;
  if (found > ctx.limits().max_series_per_path) {
    return ResourceExhausted("seriesByTag matches {} series, more than the limit of {}", found,
                             ctx.limits().max_series_per_path);
  }
  int64_t points = 0;
  for (size_t i = before; i < out->size(); ++i) points += static_cast<int64_t>((*out)[i].size());
  return ctx.ChargePoints(points);
}

}  // namespace

void RegisterSpecialFunctions(Registry* registry) {
  AddFunctionOrDie(
      registry,
      {.name = "constantLine",
       .group = "Special",
       .description = "A horizontal line at `value` across the requested range: three points, at "
                      "the start, the middle and the end (in whole seconds), named after the "
                      "value.",
       .example = "constantLine(123.456)",
       .params = {ParamSpec{.name = "value", .type = ArgType::kFloat, .required = true}},
       .impl = ConstantLine});
  AddFunctionOrDie(
      registry,
      {.name = "threshold",
       .group = "Graph",
       .description = "A horizontal line at `value`, as constantLine, named `label` when one is "
                      "given. `color` is accepted for compatibility and ignored: Grafana "
                      "chooses colors.",
       .example = "threshold(123.456, 'omgwtfbbq', 'red')",
       .params = {ParamSpec{.name = "value", .type = ArgType::kFloat, .required = true},
                  ParamSpec{.name = "label", .type = ArgType::kString},
                  ParamSpec{.name = "color", .type = ArgType::kString}},
       .impl = Threshold});
  AddFunctionOrDie(
      registry,
      {.name = "seriesByTag",
       .group = "Special",
       .description =
           "The tagged series that match every tag expression: `tag=value` (equal), "
           "`tag!=value` (not equal), `tag=~regex` and `tag!=~regex` (the regex matches, or "
           "not, at the start of the value). A series without the tag has the empty value for "
           "it. At least one expression must require a non-empty value. `name` is the metric "
           "name.",
       .example = "seriesByTag('name=cpu.usage', 'host=~web-.*')",
       .params = {ParamSpec{
           .name = "tagExpressions", .type = ArgType::kString, .required = true, .multiple = true}},
       .impl = SeriesByTag});
}

}  // namespace sluice::expr
