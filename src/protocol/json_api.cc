#include "protocol/json_api.h"

#include "expr/parser.h"
#include "expr/registry.h"
#include "query/engine.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <simdjson.h>

#include "common/json_writer.h"
#include "common/strings.h"
#include "common/time.h"
#include "series/consolidate.h"

namespace sluice::protocol {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Recognises `consolidateBy(<inner>, '<fn>')` around a target. Leaves `inner` as the whole text and
// `fn` untouched when the wrapper is absent.
Status UnwrapConsolidateBy(std::string_view text, std::string_view* inner,
                           std::optional<ConsolidationFn>* fn) {
  *inner = text;
  constexpr std::string_view kPrefix = "consolidateBy(";
  if (text.substr(0, kPrefix.size()) != kPrefix || text.back() != ')') return Status::OK();
  std::string_view args = text.substr(kPrefix.size(), text.size() - kPrefix.size() - 1);
  size_t comma = args.rfind(',');
  if (comma == std::string_view::npos) {
    return InvalidArgument("consolidateBy: expected two arguments in \"{}\"", text);
  }
  std::string_view name = Trim(args.substr(comma + 1));
  if (name.size() >= 2 && (name.front() == '\'' || name.front() == '"') &&
      name.back() == name.front()) {
    name = name.substr(1, name.size() - 2);
  }
  *fn = ParseConsolidationFn(name);
  if (!*fn) {
    return InvalidArgument(
        "consolidateBy: unknown function \"{}\" at column {} in \"{}\" (expected avg, min, max, "
        "sum, last, first or count)",
        name, kPrefix.size() + comma + 2, text);
  }
  *inner = Trim(args.substr(0, comma));
  return Status::OK();
}

void WriteTags(const Tags& tags, JsonWriter* w) {
  w->BeginObject();
  for (const auto& [k, v] : tags.pairs()) {
    w->Key(k);
    w->String(v);
  }
  w->EndObject();
}

// "name{k=v,k2=v2}": tells series apart when several share a name within one target.
std::string NameWithTags(const Series& s) {
  std::string out = s.name;
  out.push_back('{');
  bool first = true;
  for (const auto& [k, v] : s.tags.pairs()) {
    if (!first) out.push_back(',');
    first = false;
    out += k;
    out.push_back('=');
    out += v;
  }
  out.push_back('}');
  return out;
}

void WriteTimeserie(const Series& s, std::string_view display_name, std::string_view ref_id,
                    JsonWriter* w) {
  w->BeginObject();
  w->Key("target");
  w->String(display_name);
  if (!s.tags.empty()) {
    w->Key("tags");
    WriteTags(s.tags, w);
  }
  w->Key("datapoints");
  w->BeginArray();
  w->Datapoints(s.values.data(), s.times_ms.data(), s.size());
  w->EndArray();
  w->Key("refId");
  w->String(ref_id);
  w->EndObject();
}

// A timeseries as a data frame (PROTOCOL.md §5.4): a time field and a value field carrying the tags
// as labels; the frame's name is the display name.
void WriteFrame(const Series& s, std::string_view display_name, std::string_view ref_id,
                JsonWriter* w) {
  w->BeginObject();
  w->Key("refId");
  w->String(ref_id);
  w->Key("name");
  w->String(display_name);
  w->Key("fields");
  w->BeginArray();
  w->BeginObject();
  w->Key("name");
  w->String("time");
  w->Key("type");
  w->String("time");
  w->Key("values");
  w->BeginArray();
  for (int64_t t : s.times_ms) w->Int(t);
  w->EndArray();
  w->EndObject();
  w->BeginObject();
  w->Key("name");
  w->String("value");
  w->Key("type");
  w->String("number");
  w->Key("values");
  w->BeginArray();
  for (double v : s.values) w->Double(v);
  w->EndArray();
  if (!s.tags.empty()) {
    w->Key("labels");
    WriteTags(s.tags, w);
  }
  w->Key("config");
  w->BeginObject();
  w->Key("displayNameFromDS");
  w->String(display_name);
  w->EndObject();
  w->EndObject();
  w->EndArray();
  w->EndObject();
}

void WriteColumns(const std::vector<Column>& columns, JsonWriter* w) {
  w->Key("columns");
  w->BeginArray();
  for (const auto& c : columns) {
    w->BeginObject();
    w->Key("text");
    w->String(c.name);
    w->Key("type");
    w->String(ColumnTypeName(c.type));
    w->EndObject();
  }
  w->EndArray();
}

void WriteTable(const Table& table, std::string_view ref_id, JsonWriter* w) {
  w->BeginObject();
  w->Key("type");
  w->String("table");
  w->Key("refId");
  w->String(ref_id);
  if (!table.name.empty()) {
    w->Key("name");
    w->String(table.name);
  }
  WriteColumns(table.columns, w);
  w->Key("rows");
  w->BeginArray();
  for (const auto& row : table.rows) {
    w->BeginArray();
    for (size_t i = 0; i < table.columns.size(); ++i) {
      if (i >= row.size()) {
        w->Null();
        continue;
      }
      const Cell& c = row[i];
      switch (c.kind) {
        case Cell::Kind::kNull: w->Null(); break;
        case Cell::Kind::kNumber: w->Double(c.number); break;
        case Cell::Kind::kString: w->String(c.text); break;
        case Cell::Kind::kBool: w->Bool(c.boolean); break;
      }
    }
    w->EndArray();
  }
  w->EndArray();
  w->EndObject();
}

// Series as one table: Time, Value, Metric (when names differ), then one column per tag key.
void WriteSeriesTable(const std::vector<Series>& series, std::string_view ref_id, JsonWriter* w) {
  std::set<std::string_view> names;
  std::set<std::string_view> keys;
  for (const auto& s : series) {
    names.insert(s.name);
    for (const auto& [k, v] : s.tags.pairs()) keys.insert(k);
  }
  const bool with_metric = names.size() > 1;
  std::vector<Column> columns = {{"Time", ColumnType::kTime}, {"Value", ColumnType::kNumber}};
  if (with_metric) columns.push_back({"Metric", ColumnType::kString});
  for (auto k : keys) columns.push_back({std::string(k), ColumnType::kString});

  w->BeginObject();
  w->Key("type");
  w->String("table");
  w->Key("refId");
  w->String(ref_id);
  WriteColumns(columns, w);
  w->Key("rows");
  w->BeginArray();
  for (const auto& s : series) {
    for (size_t i = 0; i < s.size(); ++i) {
      w->BeginArray();
      w->Int(s.times_ms[i]);
      w->Double(s.values[i]);
      if (with_metric) w->String(s.name);
      for (auto k : keys) w->String(s.tags.Get(k));
      w->EndArray();
    }
  }
  w->EndArray();
  w->EndObject();
}

std::string JoinTags(const std::vector<std::string>& tags) {
  std::string out;
  for (const auto& t : tags) {
    if (!out.empty()) out.push_back(',');
    out += t;
  }
  return out;
}

}  // namespace

std::vector<std::string> FilterNames(std::string_view text, const std::vector<std::string>& names,
                                     size_t limit) {
  std::vector<std::string> out;
  text = Trim(text);
  if (text.empty()) {
    for (size_t i = 0; i < names.size() && out.size() < limit; ++i) out.push_back(names[i]);
    return out;
  }
  std::vector<bool> hit(names.size(), false);
  std::string literal;
  if (NameMatcher::UnescapeLiteral(text, &literal)) {
    for (size_t i = 0; i < names.size(); ++i) hit[i] = ContainsIgnoreCase(names[i], literal);
  }
  NameMatcher matcher = NameMatcher::Compile(text);
  std::vector<std::string_view> views(names.begin(), names.end());
  for (size_t i : matcher.MatchAll(views)) hit[i] = true;
  for (size_t i = 0; i < names.size() && out.size() < limit; ++i) {
    if (hit[i]) out.push_back(names[i]);
  }
  return out;
}

JsonApi::JsonApi(std::shared_ptr<SeriesSource> source, ApiOptions options)
    : source_(std::move(source)), options_(std::move(options)) {
  query::EngineOptions engine;
  engine.max_series_per_path = options_.max_series_per_target;
  engine.max_points = options_.max_points_per_request;
  engine_ = std::make_unique<query::Engine>(source_, engine);
}

JsonApi::~JsonApi() = default;

void JsonApi::WriteSeries(const std::vector<Series>& series, const QueryTarget& target,
                          std::string* out, JsonWriter* w) const {
  size_t bytes = 0;
  for (const auto& s : series) bytes += 128 + s.size() * 24;
  out->reserve(out->size() + bytes);
  if (target.format == ResultFormat::kTable) {
    if (!series.empty()) WriteSeriesTable(series, target.ref_id, w);
    return;
  }
  std::set<std::string_view> seen, repeated;
  for (const auto& s : series) {
    if (!seen.insert(s.name).second) repeated.insert(s.name);
  }
  auto write = options_.frames ? WriteFrame : WriteTimeserie;
  for (const auto& s : series) {
    write(s, repeated.count(s.name) ? NameWithTags(s) : s.name, target.ref_id, w);
  }
}

Status JsonApi::ExpressionPlan(std::string_view text,
                               std::shared_ptr<const query::Plan>* plan) const {
  // Only calls are expressions: a plain name, glob, alternation or regex keeps its JSON-plugin
  // meaning (NameMatcher), and so does consolidateBy(<plain target>, 'fn'). Without a '(' there
  // is no call: plain targets skip the parser and stay out of the plan cache.
  if (text.find('(') == std::string_view::npos) return Status::OK();
  auto compiled = engine_->Compile(text);
  if (!compiled.ok()) {
    // A call of a known function with an error is an error. So is a call of an unknown one, unless
    // it has a '|': then it is a regex or alternation such as "upper_(25|50)".
    size_t name_end = 0;
    while (name_end < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[name_end])) || text[name_end] == '_')) {
      ++name_end;
    }
    const bool call_like = name_end > 0 && Trim(text.substr(name_end)).starts_with('(');
    if (call_like && expr::Registry::Default().Find(text.substr(0, name_end)) != nullptr) {
      return compiled.status();
    }
    auto ast = ParseExpression(text);
    if (ast.ok() && (*ast)->kind == ExprKind::kCall && text.find('|') == std::string_view::npos) {
      return compiled.status();
    }
    return Status::OK();
  }
  const expr::BoundExpr& root = *(*compiled)->bound;
  if (root.kind != expr::BoundExpr::Kind::kCall) return Status::OK();
  if (root.function->name == "consolidateBy" && !root.args.empty() && root.args[0] != nullptr &&
      root.args[0]->kind == expr::BoundExpr::Kind::kPath) {
    return Status::OK();
  }
  *plan = *std::move(compiled);
  return Status::OK();
}

Status JsonApi::ExpressionTarget(const QueryRequest& request, const QueryTarget& target,
                                 const query::Plan& plan, const RequestContext& context,
                                 int64_t* points, std::string* out, JsonWriter* w) {
  query::EvalRequest eval;
  eval.target = plan.text;
  eval.range = request.range;
  eval.now_ms = NowMs();
  eval.filters = &request.filters;
  eval.deadline = context.deadline;
  eval.cancelled = context.cancelled;
  eval.max_points = options_.max_points_per_request - *points;
  expr::SeriesList result;
  SLUICE_RETURN_IF_ERROR(engine_->Evaluate(eval, &result, points));
  query::ConsolidateForRender(&result, request.max_data_points);
  std::vector<Series> series;
  series.reserve(result.size());
  for (auto& ts : result) {
    series.push_back(query::ToSeries(std::move(ts)));
    series.back().tags.Erase("name");  // the name is the series' name here, not a label
  }
  WriteSeries(series, target, out, w);
  return Status::OK();
}

Status JsonApi::Health(std::string* out) {
  out->append(R"({"status":"ok"})");
  return Status::OK();
}

RequestContext JsonApi::Bound(const RequestContext& context) const {
  RequestContext bound = context;
  if (options_.timeout_ms > 0) {
    bound.deadline = std::min(bound.deadline, std::chrono::steady_clock::now() +
                                                  std::chrono::milliseconds(options_.timeout_ms));
  }
  return bound;
}

Status JsonApi::Query(std::string_view body, std::string* out, const RequestContext& outer) {
  const RequestContext context = Bound(outer);
  SLUICE_ASSIGN_OR_RETURN(JsonBody json, JsonBody::Parse(body, /*empty_ok=*/false));
  SLUICE_ASSIGN_OR_RETURN(QueryRequest request,
                          DecodeQuery(json.root(), options_.defaults, NowMs()));
  JsonWriter w(out);
  w.BeginArray();
  int64_t points = 0;
  for (const QueryTarget& target : request.targets) {
    if (target.is_annotation) {
      SLUICE_RETURN_IF_ERROR(AnnotationTarget(request, target, context, &w));
      continue;
    }
    std::string_view text = Trim(target.text);
    if (text.empty()) continue;
    const std::string where = fmt::format("targets[{}] (refId {})", target.index, target.ref_id);
    std::shared_ptr<const query::Plan> plan;
    SLUICE_RETURN_IF_ERROR(ExpressionPlan(text, &plan).Annotate(where));
    if (plan != nullptr) {
      SLUICE_RETURN_IF_ERROR(
          ExpressionTarget(request, target, *plan, context, &points, out, &w).Annotate(where));
      continue;
    }
    std::string_view inner;
    std::optional<ConsolidationFn> fn = target.consolidate;
    SLUICE_RETURN_IF_ERROR(UnwrapConsolidateBy(text, &inner, &fn).Annotate(where));
    NameMatcher matcher = NameMatcher::Compile(inner);

    FetchRequest fetch;
    fetch.target = inner;
    fetch.matcher = &matcher;
    fetch.filters = &request.filters;
    fetch.range = request.range;
    fetch.max_points = request.max_data_points;
    fetch.interval_ms = request.interval_ms;
    fetch.payload_json = target.payload_json;
    fetch.scoped_vars_json = request.scoped_vars_json;
    fetch.format = target.format;
    fetch.point_budget = options_.max_points_per_request - points;
    fetch.cancelled = context.cancelled;
    fetch.deadline = context.deadline;
    FetchResult result;
    SLUICE_RETURN_IF_ERROR(source_->Fetch(fetch, &result).Annotate(where));

    if (result.series.size() > options_.max_series_per_target) {
      return ResourceExhausted("{}: \"{}\" matches {} series, more than the limit of {}", where,
                               text, result.series.size(), options_.max_series_per_target);
    }
    for (auto& s : result.series) {
      points += static_cast<int64_t>(s.size());
      if (points > options_.max_points_per_request) {
        return ResourceExhausted("{}: the request reads more than {} points; narrow the range or "
                                 "the targets",
                                 where, options_.max_points_per_request);
      }
      ConsolidateInPlace(&s, request.range.from_ms, request.range.to_ms, request.max_data_points,
                         request.interval_ms, fn.value_or(ConsolidationFn::kAverage));
    }

    WriteSeries(result.series, target, out, &w);
    for (const auto& table : result.tables) WriteTable(table, target.ref_id, &w);
  }
  w.EndArray();
  return Status::OK();
}

Status JsonApi::FetchAnnotations(const TimeRange& range, std::string_view query,
                                 const RequestContext& context, std::vector<Annotation>* events) {
  // Words that name series are metric selections (NEW's annotation editor), not event filters.
  std::string filtered;
  query = Trim(query);
  if (!query.empty()) {
    std::vector<std::string> names;
    SLUICE_RETURN_IF_ERROR(source_->ListNames(&names));
    SortUnique(&names);
    std::vector<std::string_view> views(names.begin(), names.end());
    size_t i = 0;
    while (i < query.size()) {
      while (i < query.size() && std::isspace(static_cast<unsigned char>(query[i]))) ++i;
      size_t start = i;
      while (i < query.size() && !std::isspace(static_cast<unsigned char>(query[i]))) ++i;
      std::string_view word = query.substr(start, i - start);
      if (word.empty()) continue;
      if (!NameMatcher::Compile(word).MatchAll(views).empty()) continue;
      if (!filtered.empty()) filtered.push_back(' ');
      filtered += word;
    }
  }
  AnnotationRequest request;
  request.range = range;
  request.query = filtered;
  request.limit = options_.search_limit * 10;
  request.cancelled = context.cancelled;
  request.deadline = context.deadline;
  return source_->Annotations(request, events);
}

Status JsonApi::AnnotationTarget(const QueryRequest& request, const QueryTarget& target,
                                 const RequestContext& context, JsonWriter* w) {
  std::vector<Annotation> events;
  SLUICE_RETURN_IF_ERROR(FetchAnnotations(request.range, target.text, context, &events)
                             .Annotate(fmt::format("targets[{}] (annotation)", target.index)));
  Table table;
  table.columns = {{"time", ColumnType::kTime},
                   {"timeEnd", ColumnType::kTime},
                   {"title", ColumnType::kString},
                   {"text", ColumnType::kString},
                   {"tags", ColumnType::kString}};
  table.rows.reserve(events.size());
  for (auto& e : events) {
    table.rows.push_back({Cell::Number(static_cast<double>(e.time_ms)),
                          Cell::Number(static_cast<double>(std::max(e.end_ms, e.time_ms))),
                          Cell::String(std::move(e.title)), Cell::String(std::move(e.text)),
                          Cell::String(JoinTags(e.tags))});
  }
  WriteTable(table, target.ref_id, w);
  return Status::OK();
}

Status JsonApi::Annotations(std::string_view body, std::string* out,
                            const RequestContext& outer) {
  const RequestContext context = Bound(outer);
  SLUICE_ASSIGN_OR_RETURN(JsonBody json, JsonBody::Parse(body, /*empty_ok=*/true));
  SLUICE_ASSIGN_OR_RETURN(AnnotationsRequest request,
                          DecodeAnnotations(json.root(), options_.defaults, NowMs()));
  std::vector<Annotation> events;
  SLUICE_RETURN_IF_ERROR(FetchAnnotations(request.range, request.query, context, &events));
  JsonWriter w(out);
  w.BeginArray();
  for (const auto& e : events) {
    w.BeginObject();
    w.Key("annotation");
    w.Raw(request.annotation_json);
    w.Key("time");
    w.Int(e.time_ms);
    w.Key("timeEnd");
    w.Int(std::max(e.end_ms, e.time_ms));
    w.Key("title");
    w.String(e.title);
    w.Key("text");
    w.String(e.text);
    w.Key("tags");
    w.BeginArray();
    for (const auto& t : e.tags) w.String(t);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  return Status::OK();
}

Status JsonApi::FindValues(std::string_view text, const TimeRange& range,
                           const RequestContext& context, std::vector<std::string>* values) {
  text = Trim(text);
  auto call_arg = [&](std::string_view fn) -> std::optional<std::string_view> {
    if (text.size() < fn.size() + 2 || text.substr(0, fn.size()) != fn) return std::nullopt;
    std::string_view rest = Trim(text.substr(fn.size()));
    if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') return std::nullopt;
    rest = Trim(rest.substr(1, rest.size() - 2));
    if (rest.size() >= 2 && (rest.front() == '\'' || rest.front() == '"') &&
        rest.back() == rest.front()) {
      rest = rest.substr(1, rest.size() - 2);
    }
    return rest;
  };
  std::vector<TagFilter> no_filters;
  if (call_arg("tag_keys")) {
    SLUICE_RETURN_IF_ERROR(source_->TagKeys(no_filters, values));
  } else if (auto key = call_arg("tag_values")) {
    if (key->empty()) return InvalidArgument("tag_values(): expected a tag key, as in tag_values(host)");
    SLUICE_RETURN_IF_ERROR(source_->TagValues(*key, no_filters, values));
  } else {
    // A variable query keeps the order its source gave (SQL's ORDER BY).
    bool handled = false;
    SLUICE_RETURN_IF_ERROR(source_->VariableValues(
        {text, range, context.cancelled, context.deadline}, values, &handled));
    if (handled) {
      if (values->size() > options_.search_limit) values->resize(options_.search_limit);
      return Status::OK();
    }
    std::vector<std::string> names;
    SLUICE_RETURN_IF_ERROR(source_->ListNames(&names));
    SortUnique(&names);
    *values = FilterNames(text, names, options_.search_limit);
    return Status::OK();
  }
  SortUnique(values);
  if (values->size() > options_.search_limit) values->resize(options_.search_limit);
  return Status::OK();
}

Status JsonApi::Search(std::string_view body, std::string* out, const RequestContext& outer) {
  const RequestContext context = Bound(outer);
  SLUICE_ASSIGN_OR_RETURN(JsonBody json, JsonBody::Parse(body, /*empty_ok=*/true));
  SLUICE_ASSIGN_OR_RETURN(SearchRequest request, DecodeSearch(json.root()));
  std::vector<std::string> values;
  const int64_t now_ms = NowMs();
  SLUICE_RETURN_IF_ERROR(
      FindValues(request.text, {now_ms - options_.defaults.range_ms, now_ms}, context, &values));
  JsonWriter w(out);
  w.BeginArray();
  for (const auto& v : values) w.String(v);
  w.EndArray();
  return Status::OK();
}

Status JsonApi::Metrics(std::string_view body, std::string* out,
                        const RequestContext& /*context*/) {
  SLUICE_ASSIGN_OR_RETURN(JsonBody json, JsonBody::Parse(body, /*empty_ok=*/true));
  SLUICE_ASSIGN_OR_RETURN(SearchRequest request, DecodeMetrics(json.root()));
  std::vector<std::string> names;
  SLUICE_RETURN_IF_ERROR(source_->ListNames(&names));
  SortUnique(&names);
  // `metric` is what the builder shows: partial text narrows the list, but a chosen name (or text
  // that matches nothing) must not, or the dropdown would offer nothing else to switch to.
  std::string_view text = Trim(request.text);
  bool chosen = std::binary_search(names.begin(), names.end(), text);
  std::vector<std::string> shown;
  if (!text.empty() && !chosen) shown = FilterNames(text, names, options_.search_limit);
  if (shown.empty()) shown = FilterNames("", names, options_.search_limit);
  JsonWriter w(out);
  w.BeginArray();
  for (const auto& n : shown) {
    w.BeginObject();
    w.Key("value");
    w.String(n);
    w.Key("label");
    w.String(n);
    w.Key("payloads");
    w.Raw(R"([{"name":"consolidateBy","label":"Consolidate by","type":"select","placeholder":"avg","width":20},)"
          R"({"name":"format","label":"Format","type":"select","placeholder":"timeseries","width":20}])");
    w.EndObject();
  }
  w.EndArray();
  return Status::OK();
}

Status JsonApi::MetricPayloadOptions(std::string_view body, std::string* out,
                                     const RequestContext& /*context*/) {
  SLUICE_ASSIGN_OR_RETURN(JsonBody json, JsonBody::Parse(body, /*empty_ok=*/true));
  SLUICE_ASSIGN_OR_RETURN(MetricPayloadOptionsRequest request,
                          DecodeMetricPayloadOptions(json.root()));
  if (request.name == "consolidateBy") {
    out->append(R"([{"label":"avg","value":"avg"},{"label":"min","value":"min"},)"
                R"({"label":"max","value":"max"},{"label":"sum","value":"sum"},)"
                R"({"label":"last","value":"last"},{"label":"first","value":"first"},)"
                R"({"label":"count","value":"count"}])");
  } else if (request.name == "format") {
    out->append(R"([{"label":"Time series","value":"timeseries"},{"label":"Table","value":"table"}])");
  } else {
    out->append("[]");
  }
  return Status::OK();
}

Status JsonApi::Variable(std::string_view body, std::string* out, const RequestContext& outer) {
  const RequestContext context = Bound(outer);
  SLUICE_ASSIGN_OR_RETURN(JsonBody json, JsonBody::Parse(body, /*empty_ok=*/true));
  SLUICE_ASSIGN_OR_RETURN(SearchRequest request,
                          DecodeVariable(json.root(), options_.defaults, NowMs()));
  std::vector<std::string> values;
  SLUICE_RETURN_IF_ERROR(FindValues(request.text, request.range, context, &values));
  JsonWriter w(out);
  w.BeginArray();
  for (const auto& v : values) {
    w.BeginObject();
    w.Key("__text");
    w.String(v);
    w.Key("__value");
    w.String(v);
    w.EndObject();
  }
  w.EndArray();
  return Status::OK();
}

Status JsonApi::TagKeys(std::string_view body, std::string* out,
                        const RequestContext& /*context*/) {
  SLUICE_ASSIGN_OR_RETURN(JsonBody json, JsonBody::Parse(body, /*empty_ok=*/true));
  SLUICE_ASSIGN_OR_RETURN(TagRequest request,
                          DecodeTagRequest(json.root(), /*need_key=*/false, options_.defaults));
  std::vector<std::string> keys;
  SLUICE_RETURN_IF_ERROR(source_->TagKeys(request.filters, &keys));
  SortUnique(&keys);
  if (keys.size() > options_.search_limit) keys.resize(options_.search_limit);
  JsonWriter w(out);
  w.BeginArray();
  for (const auto& k : keys) {
    w.BeginObject();
    w.Key("type");
    w.String("string");
    w.Key("text");
    w.String(k);
    w.EndObject();
  }
  w.EndArray();
  return Status::OK();
}

Status JsonApi::TagValues(std::string_view body, std::string* out,
                          const RequestContext& /*context*/) {
  SLUICE_ASSIGN_OR_RETURN(JsonBody json, JsonBody::Parse(body, /*empty_ok=*/true));
  SLUICE_ASSIGN_OR_RETURN(TagRequest request,
                          DecodeTagRequest(json.root(), /*need_key=*/true, options_.defaults));
  std::vector<std::string> values;
  SLUICE_RETURN_IF_ERROR(source_->TagValues(request.key, request.filters, &values));
  SortUnique(&values);
  if (values.size() > options_.search_limit) values.resize(options_.search_limit);
  JsonWriter w(out);
  w.BeginArray();
  for (const auto& v : values) {
    w.BeginObject();
    w.Key("text");
    w.String(v);
    w.EndObject();
  }
  w.EndArray();
  return Status::OK();
}

}  // namespace sluice::protocol
