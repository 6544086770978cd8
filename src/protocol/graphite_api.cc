#include "protocol/graphite_api.h"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "common/graphite_time.h"
#include "common/json_writer.h"
#include "common/strings.h"
#include "common/time.h"
#include "expr/docs.h"
#include "expr/kernels.h"
#include "expr/registry.h"
#include "expr/series_list.h"
#include "expr/tag_expression.h"
#include "query/engine.h"

namespace sluice::protocol {
namespace {

constexpr std::string_view kGraphiteVersion = "1.1.8";
// graphite-web's TAGDB_AUTOCOMPLETE_LIMIT.
constexpr size_t kAutoCompleteLimit = 100;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

FormParams ReadParams(const GraphiteRequest& request) {
  FormParams params;
  params.Parse(request.query);
  // Django reads a POST body as a form; so do we, and also when the client sent no type.
  std::string_view type = request.content_type.substr(0, request.content_type.find(';'));
  type = Trim(type);
  if (!request.body.empty() &&
      (type.empty() || EqualsIgnoreCase(type, "application/x-www-form-urlencoded"))) {
    params.Parse(request.body);
  }
  return params;
}

// An integer parameter as graphite's int(): InvalidArgument naming it when it is not one.
Result<int64_t> IntParam(const FormParams& params, std::string_view key, int64_t fallback) {
  const std::string* value = params.Get(key);
  if (value == nullptr) return fallback;
  std::string_view text = Trim(*value);
  int64_t v = 0;
  const bool negative = text.starts_with('-');
  std::string_view digits = negative || text.starts_with('+') ? text.substr(1) : text;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size()) {
    return InvalidArgument("invalid integer '{}' for parameter {}", *value, key);
  }
  return negative ? -v : v;
}

// The `limit` of tag endpoints: a positive count, or `fallback` when absent or empty.
Result<size_t> LimitParam(const FormParams& params, size_t fallback) {
  const std::string* value = params.Get("limit");
  if (value == nullptr || Trim(*value).empty()) return fallback;
  SLUICE_ASSIGN_OR_RETURN(int64_t limit, IntParam(params, "limit", 0));
  if (limit <= 0) return fallback;
  return static_cast<size_t>(limit);
}

// `expr` values, or the `expr[]` spelling of jQuery and PHP clients.
std::vector<std::string> ListParam(const FormParams& params, std::string_view key) {
  std::vector<std::string> values = params.GetAll(key);
  if (values.empty()) values = params.GetAll(std::string(key) + "[]");
  return values;
}

Result<std::vector<TagFilter>> ParseExpressions(const std::vector<std::string>& exprs) {
  std::vector<TagFilter> filters;
  for (size_t i = 0; i < exprs.size(); ++i) {
    auto f = expr::ParseTagExpression(Trim(exprs[i]));
    if (!f.ok()) return f.status().Annotate(fmt::format("expr[{}]", i));
    filters.push_back(*std::move(f));
  }
  return filters;
}

// graphite's rule for tag queries: something must require a non-empty value.
Status CheckSelective(const std::vector<TagFilter>& filters) {
  for (const TagFilter& f : filters) {
    if (!f.MatchesValue("")) return Status::OK();
  }
  return InvalidArgument(
      "at least one tag expression must not match the empty string, such as 'name=cpu' or "
      "'host=~web.*'");
}

// A regex filter of /tags and /tags/<tag>, anchored at the start as graphite anchors it.
Result<std::unique_ptr<re2::RE2>> AnchoredFilter(const FormParams& params) {
  const std::string* text = params.Get("filter");
  if (text == nullptr || text->empty()) return std::unique_ptr<re2::RE2>();
  std::string pattern = text->starts_with('^') ? *text : "^(" + *text + ")";
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<re2::RE2>(pattern, options);
  if (!re->ok()) return InvalidArgument("filter: invalid regex '{}': {}", *text, re->error());
  return re;
}

// Wraps `json` in "callback(...)" when the request asks for JSONP.
void FinishJson(const FormParams& params, std::string json, GraphiteResponse* out) {
  const std::string* jsonp = params.Get("jsonp");
  if (jsonp != nullptr && !jsonp->empty()) {
    out->body.reserve(jsonp->size() + json.size() + 2);
    out->body = *jsonp;
    out->body.push_back('(');
    out->body += json;
    out->body.push_back(')');
    out->content_type = "text/javascript";
    return;
  }
  out->body = std::move(json);
  out->content_type = "application/json";
}

// A time parameter; `fallback` when absent.
Result<int64_t> TimeParam(const FormParams& params, std::string_view key, int64_t now_ms,
                          int64_t fallback) {
  const std::string* text = params.Get(key);
  if (text == nullptr) return fallback;
  auto t = ParseGraphiteTime(*text, now_ms);
  if (!t.ok()) return t.status().Annotate(key);
  return *t;
}

// A sub-second time as decimal seconds; whole seconds as an integer.
void WriteSeconds(int64_t ms, JsonWriter* w) {
  if (ms % 1000 == 0) {
    w->Int(ms / 1000);
  } else {
    w->Double(static_cast<double>(ms) / 1000.0);
  }
}

void WriteTimeSeries(const expr::TimeSeries& s, bool no_null_points, std::vector<int64_t>* times,
                     std::vector<double>* values, JsonWriter* w) {
  w->BeginObject();
  w->Key("target");
  w->String(s.name);
  w->Key("tags");
  w->BeginObject();
  for (const auto& [k, v] : s.tags.pairs()) {
    w->Key(k);
    w->String(v);
  }
  w->EndObject();
  w->Key("datapoints");
  w->BeginArray();
  if (s.start % 1000 == 0 && s.step % 1000 == 0) {
    // The common case: whole seconds, written by the bulk writer.
    times->clear();
    values->clear();
    const int64_t start = s.start / 1000, step = s.step / 1000;
    if (!no_null_points) {
      times->resize(s.size());
      for (size_t i = 0; i < s.size(); ++i) (*times)[i] = start + step * static_cast<int64_t>(i);
      w->Datapoints(s.values.data(), times->data(), s.size());
    } else {
      for (size_t i = 0; i < s.size(); ++i) {
        if (std::isnan(s.values[i])) continue;
        times->push_back(start + step * static_cast<int64_t>(i));
        values->push_back(s.values[i]);
      }
      w->Datapoints(values->data(), times->data(), times->size());
    }
  } else {
    for (size_t i = 0; i < s.size(); ++i) {
      if (no_null_points && std::isnan(s.values[i])) continue;
      w->BeginArray();
      w->Double(s.values[i]);
      WriteSeconds(s.time_at(i), w);
      w->EndArray();
    }
  }
  w->EndArray();
  w->EndObject();
}

// One CSV field as Python's csv module writes it (excel dialect, minimal quoting).
void AppendCsvField(std::string_view field, std::string* out) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(field);
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

// "YYYY-MM-DD HH:MM:SS" in UTC.
void AppendCsvTime(int64_t ms, std::string* out) {
  std::string iso = FormatTimestampMs(FloorDiv(ms, 1000) * 1000);  // 2015-12-22T03:16:00.000Z
  iso = iso.substr(0, 19);
  if (iso.size() == 19) iso[10] = ' ';
  out->append(iso);
}

// A parameter default as graphite's /functions writes it: typed by the parameter's type.
void WriteDefault(const expr::ParamSpec& p, JsonWriter* w) {
  const std::string& d = p.default_value;
  switch (p.type) {
    case expr::ArgType::kBoolean:
      if (EqualsIgnoreCase(d, "true") || EqualsIgnoreCase(d, "false")) {
        w->Bool(EqualsIgnoreCase(d, "true"));
        return;
      }
      break;
    case expr::ArgType::kInteger:
    case expr::ArgType::kFloat:
    case expr::ArgType::kNode:
    case expr::ArgType::kNodeOrTag:
    case expr::ArgType::kIntOrInterval:
    case expr::ArgType::kIntOrInf:
    case expr::ArgType::kAny: {
      double v = 0;
      auto [ptr, ec] = std::from_chars(d.data(), d.data() + d.size(), v);
      if (ec == std::errc() && ptr == d.data() + d.size()) {
        w->Double(v);
        return;
      }
      break;
    }
    default:
      break;
  }
  w->String(d);
}

void WriteFunctionInfo(const expr::FunctionSpec& spec, JsonWriter* w) {
  w->BeginObject();
  w->Key("name");
  w->String(spec.name);
  w->Key("function");
  w->String(expr::Signature(spec));
  w->Key("description");
  std::string description = spec.description;
  if (!spec.example.empty()) {
    description += "\n\nExample:\n\n.. code-block:: none\n\n  &target=" + spec.example;
  }
  w->String(description);
  w->Key("module");
  w->String("graphite.render.functions");
  w->Key("group");
  w->String(spec.group);
  w->Key("params");
  w->BeginArray();
  for (const expr::ParamSpec& p : spec.params) {
    w->BeginObject();
    w->Key("name");
    w->String(p.name);
    w->Key("type");
    w->String(expr::ArgTypeName(p.type));
    if (p.required) {
      w->Key("required");
      w->Bool(true);
    }
    // An infinite default (keepLastValue's limit) is left out: graphite-web 1.1.8 writes it as
    // the invalid JSON `Infinity`, which strict parsers (Go's, Grafana's server) reject.
    if (!p.default_value.empty() && p.default_value != "None" &&
        !EqualsIgnoreCase(p.default_value, "inf")) {
      w->Key("default");
      WriteDefault(p, w);
    }
    if (p.multiple) {
      w->Key("multiple");
      w->Bool(true);
    }
    if (!p.options.empty()) {
      std::vector<std::string> options = p.options;
      std::sort(options.begin(), options.end());
      w->Key("options");
      w->BeginArray();
      for (const auto& o : options) w->String(o);
      w->EndArray();
    }
    w->EndObject();
  }
  w->EndArray();
  w->EndObject();
}

// The number of path levels of a find query, counting only the dots outside {..}, [..] and (..)
// groups and not escaped.
size_t CountLevels(std::string_view pattern) {
  size_t levels = 1;
  int depth = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      ++i;
    } else if (c == '{' || c == '[' || c == '(') {
      ++depth;
    } else if ((c == '}' || c == ']' || c == ')') && depth > 0) {
      --depth;
    } else if (c == '.' && depth == 0) {
      ++levels;
    }
  }
  return levels;
}

// One node of the metric tree under a find query: a path that is a metric (leaf), the parent of
// metrics (branch), or both.
struct TreeNode {
  std::string path;
  bool leaf = false;
  bool branch = false;

  // The last level of the path.
  std::string_view name() const {
    const size_t dot = path.rfind('.');
    return std::string_view(path).substr(dot == std::string::npos ? 0 : dot + 1);
  }
};

}  // namespace

std::string FormDecode(std::string_view text) { return PercentDecode(text, true); }

void FormParams::Parse(std::string_view text) {
  while (!text.empty()) {
    size_t amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key = FormDecode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : FormDecode(pair.substr(eq + 1));
    pairs_.emplace_back(std::move(key), std::move(value));
  }
}

bool FormParams::Has(std::string_view key) const { return Get(key) != nullptr; }

const std::string* FormParams::Get(std::string_view key) const {
  for (auto it = pairs_.rbegin(); it != pairs_.rend(); ++it) {
    if (it->first == key) return &it->second;
  }
  return nullptr;
}

std::vector<std::string> FormParams::GetAll(std::string_view key) const {
  std::vector<std::string> values;
  for (const auto& [k, v] : pairs_) {
    if (k == key) values.push_back(v);
  }
  return values;
}

GraphiteApi::GraphiteApi(std::shared_ptr<SeriesSource> source, ApiOptions options)
    : source_(std::move(source)), options_(std::move(options)) {
  query::EngineOptions engine;
  engine.max_series_per_path = options_.max_series_per_target;
  engine.max_points = options_.max_points_per_request;
  engine_ = std::make_unique<query::Engine>(source_, engine);
}

GraphiteApi::~GraphiteApi() = default;

RequestContext GraphiteApi::Bound(const RequestContext& context) const {
  RequestContext bound = context;
  if (options_.timeout_ms > 0) {
    bound.deadline = std::min(bound.deadline, std::chrono::steady_clock::now() +
                                                  std::chrono::milliseconds(options_.timeout_ms));
  }
  return bound;
}

Status GraphiteApi::Render(const GraphiteRequest& request, GraphiteResponse* out) {
  const RequestContext context = Bound(request.context);
  const FormParams params = ReadParams(request);
  std::vector<std::string> targets = ListParam(params, "target");

  // graphite-web draws a PNG without `format`; Sluice has no renderer and answers JSON.
  std::string format = "json";
  if (const std::string* f = params.Get("format")) format = *f;
  if (format != "json" && format != "csv") {
    return InvalidArgument("format={}: Sluice answers format=json and csv only (it draws no images)",
                           format);
  }

  const int64_t real_now_ms = NowMs();
  SLUICE_ASSIGN_OR_RETURN(int64_t now_ms, TimeParam(params, "now", real_now_ms, real_now_ms));
  SLUICE_ASSIGN_OR_RETURN(int64_t until_ms, TimeParam(params, "until", now_ms, now_ms));
  SLUICE_ASSIGN_OR_RETURN(int64_t from_ms, TimeParam(params, "from", now_ms, now_ms - 86'400'000));
  if (from_ms == until_ms) {
    return InvalidArgument("Invalid empty time range: from and until are both {}",
                           FormatTimestampMs(from_ms));
  }
  // A reversed range is swapped, and times are whole seconds, as in graphite-web.
  TimeRange range;
  range.from_ms = FloorDiv(std::min(from_ms, until_ms), 1000) * 1000;
  range.to_ms = FloorDiv(std::max(from_ms, until_ms), 1000) * 1000;

  int64_t max_data_points = 0;
  if (const std::string* m = params.Get("maxDataPoints"); m != nullptr && IsDigits(*m)) {
    auto [p, ec] = std::from_chars(m->data(), m->data() + m->size(), max_data_points);
    if (ec != std::errc()) max_data_points = INT64_MAX;
  }
  const bool no_null_points = params.Has("noNullPoints");

  expr::SeriesList series;
  int64_t points = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    std::string_view text = Trim(targets[i]);
    if (text.empty()) continue;
    query::EvalRequest eval;
    eval.target = text;
    eval.range = range;
    eval.now_ms = now_ms;
    eval.deadline = context.deadline;
    eval.cancelled = context.cancelled;
    eval.max_points = options_.max_points_per_request - points;
    SLUICE_RETURN_IF_ERROR(
        engine_->Evaluate(eval, &series, &points).Annotate(fmt::format("target \"{}\"", text)));
  }
  if (max_data_points > 0) query::ConsolidateForRender(&series, max_data_points);

  if (format == "csv") {
    std::string csv;
    size_t rows = 0;
    for (const auto& s : series) rows += s.size();
    csv.reserve(rows * 40);
    for (const auto& s : series) {
      for (size_t i = 0; i < s.size(); ++i) {
        AppendCsvField(s.name, &csv);
        csv.push_back(',');
        AppendCsvTime(s.time_at(i), &csv);
        csv.push_back(',');
        if (!std::isnan(s.values[i])) csv += expr::FormatPyFloat(s.values[i]);
        csv += "\r\n";
      }
    }
    out->body = std::move(csv);
    out->content_type = "text/csv";
    return Status::OK();
  }

  std::string json;
  size_t bytes = 2;
  for (const auto& s : series) bytes += 96 + s.name.size() * 2 + s.size() * 24;
  json.reserve(bytes);
  JsonWriter w(&json);
  w.BeginArray();
  std::vector<int64_t> times;
  std::vector<double> values;
  for (const auto& s : series) {
    if (no_null_points &&
        std::all_of(s.values.begin(), s.values.end(), [](double v) { return std::isnan(v); })) {
      continue;
    }
    WriteTimeSeries(s, no_null_points, &times, &values, &w);
  }
  w.EndArray();
  FinishJson(params, std::move(json), out);
  return Status::OK();
}

Status GraphiteApi::MetricNames(std::vector<std::string>* names) {
  SLUICE_RETURN_IF_ERROR(source_->ListNames(names));
  SortUnique(names);
  names->erase(std::remove_if(names->begin(), names->end(),
                              [](const std::string& n) {
                                return n.empty() || n.find(';') != std::string::npos;
                              }),
               names->end());
  return Status::OK();
}

namespace {

// The nodes one level below a find query: every path of as many levels as the query that the
// query matches and that is a metric name or the start of one, sorted by path. ResourceExhausted
// when more than `max_leaves` metrics match.
Status FindNodes(std::string_view query, const std::vector<std::string>& names, size_t max_leaves,
                 std::vector<TreeNode>* out) {
  const size_t levels = CountLevels(query);
  const NameMatcher matcher = NameMatcher::CompilePath(query);
  std::map<std::string_view, TreeNode> nodes;  // keys point into `names`
  std::string_view last_prefix;
  bool last_match = false;
  size_t leaves = 0;
  for (const std::string& name : names) {
    // The prefix of `levels` levels: up to the levels-th dot, or the whole name (a leaf).
    size_t from = 0, cut = std::string::npos;
    bool enough = true;
    for (size_t k = 1; k <= levels; ++k) {
      const size_t dot = name.find('.', from);
      if (k < levels) {
        if (dot == std::string::npos) {
          enough = false;
          break;
        }
        from = dot + 1;
      } else {
        cut = dot;
      }
    }
    if (!enough) continue;
    const bool leaf = cut == std::string::npos;
    const std::string_view prefix = std::string_view(name).substr(0, cut);
    // Names are sorted, so the children of one node come together: match each prefix once.
    if (prefix != last_prefix || last_prefix.empty()) {
      last_prefix = prefix;
      last_match = matcher.Matches(prefix);
    }
    if (!last_match) continue;
    TreeNode& node = nodes[prefix];
    if (node.path.empty()) node.path = std::string(prefix);
    if (leaf) {
      node.leaf = true;
      if (++leaves > max_leaves) {
        return ResourceExhausted("query '{}' matches more than {} metrics; narrow it", query,
                                 max_leaves);
      }
    } else {
      node.branch = true;
    }
  }
  out->reserve(nodes.size());
  for (auto& [path, node] : nodes) out->push_back(std::move(node));
  return Status::OK();
}

}  // namespace

Status GraphiteApi::MetricsFind(const GraphiteRequest& request, GraphiteResponse* out) {
  const FormParams params = ReadParams(request);
  std::string format = "treejson";
  if (const std::string* f = params.Get("format")) format = *f;
  SLUICE_ASSIGN_OR_RETURN(int64_t leaves_only, IntParam(params, "leavesOnly", 0));
  SLUICE_ASSIGN_OR_RETURN(int64_t wildcards, IntParam(params, "wildcards", 0));
  SLUICE_ASSIGN_OR_RETURN(int64_t position, IntParam(params, "position", -1));
  SLUICE_ASSIGN_OR_RETURN(int64_t automatic_variants, IntParam(params, "automatic_variants", 0));
  // from / until only narrow graphite's search to metrics with data then; they are checked and
  // otherwise ignored (every name is listed).
  const int64_t now_ms = NowMs();
  for (std::string_view key : {"from", "until"}) {
    const std::string* t = params.Get(key);
    if (t != nullptr && *t != "-1") {
      SLUICE_RETURN_IF_ERROR(TimeParam(params, key, now_ms, 0).status());
    }
  }
  const std::string* query_param = params.Get("query");
  if (query_param == nullptr) return InvalidArgument("Missing required parameter 'query'");
  std::string query = *query_param;
  if (query.empty()) return InvalidArgument("Required parameter 'query' is empty");
  const std::string base_path =
      query.find('.') == std::string::npos ? "" : query.substr(0, query.rfind('.') + 1);

  if (format == "completer") {
    for (size_t i = 0; (i = query.find("..", i)) != std::string::npos;) query.replace(i, 2, "*.");
    if (!query.ends_with('*')) query.push_back('*');
    if (automatic_variants != 0) {
      std::string rebuilt;
      size_t start = 0;
      while (true) {
        size_t dot = query.find('.', start);
        std::string part = query.substr(start, dot == std::string::npos ? dot : dot - start);
        if (part.find(',') != std::string::npos && part.find('{') == std::string::npos) {
          part = "{" + part + "}";
        }
        rebuilt += part;
        if (dot == std::string::npos) break;
        rebuilt.push_back('.');
        start = dot + 1;
      }
      query = std::move(rebuilt);
    }
  } else if (format != "treejson" && format != "nodelist") {
    return InvalidArgument(
        "Invalid value for 'format' parameter: {} (Sluice answers treejson, "
        "completer and nodelist)",
        format);
  }

  std::vector<std::string> names;
  SLUICE_RETURN_IF_ERROR(MetricNames(&names));
  std::vector<TreeNode> nodes;
  SLUICE_RETURN_IF_ERROR(FindNodes(query, names, options_.max_series_per_target, &nodes));
  if (leaves_only != 0) {
    nodes.erase(
        std::remove_if(nodes.begin(), nodes.end(), [](const TreeNode& n) { return !n.leaf; }),
        nodes.end());
    for (TreeNode& n : nodes) n.branch = false;
  }
  // graphite sorts the matches by their last level; paths are unique, so the order is total.
  std::stable_sort(nodes.begin(), nodes.end(),
                   [](const TreeNode& a, const TreeNode& b) { return a.name() < b.name(); });

  std::string json;
  JsonWriter w(&json);
  if (format == "nodelist") {
    std::set<std::string> found;
    for (const TreeNode& n : nodes) {
      std::vector<std::string_view> parts;
      size_t start = 0;
      while (true) {
        size_t dot = n.path.find('.', start);
        parts.push_back(
            std::string_view(n.path).substr(start, dot == std::string::npos ? dot : dot - start));
        if (dot == std::string::npos) break;
        start = dot + 1;
      }
      const int64_t size = static_cast<int64_t>(parts.size());
      const int64_t at = position < 0 ? size + position : position;
      if (at < 0 || at >= size) {
        return InvalidArgument("position {} is outside the path '{}'", position, n.path);
      }
      found.insert(std::string(parts[static_cast<size_t>(at)]));
    }
    w.BeginObject();
    w.Key("nodes");
    w.BeginArray();
    for (const auto& f : found) w.String(f);
    w.EndArray();
    w.EndObject();
  } else if (format == "completer") {
    w.BeginObject();
    w.Key("metrics");
    w.BeginArray();
    size_t count = 0;
    for (const TreeNode& n : nodes) {
      for (int leaf = 0; leaf < 2; ++leaf) {  // a path that is both comes twice, as in graphite
        if (leaf == 1 ? !n.leaf : !n.branch) continue;
        ++count;
        w.BeginObject();
        w.Key("path");
        w.String(leaf == 1 ? n.path : n.path + ".");
        w.Key("name");
        w.String(n.name());
        w.Key("is_leaf");
        w.String(leaf == 1 ? "1" : "0");
        w.EndObject();
      }
    }
    if (count > 1 && wildcards != 0) {
      w.BeginObject();
      w.Key("name");
      w.String("*");
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  } else {
    auto write_node = [&](std::string_view text, const std::string& id, bool leaf) {
      w.BeginObject();
      w.Key("text");
      w.String(text);
      w.Key("id");
      w.String(id);
      w.Key("allowChildren");
      w.Int(leaf ? 0 : 1);
      w.Key("expandable");
      w.Int(leaf ? 0 : 1);
      w.Key("leaf");
      w.Int(leaf ? 1 : 0);
      w.EndObject();
    };
    w.BeginArray();
    size_t matches = 0;
    bool any_branch = false;
    for (const TreeNode& n : nodes) {
      matches += (n.leaf ? 1 : 0) + (n.branch ? 1 : 0);
      any_branch = any_branch || n.branch;
    }
    if (matches > 1 && wildcards != 0) write_node("*", base_path + "*", !any_branch);
    // One entry per name (graphite keeps the first it sees; a name that is both a metric and a
    // parent is listed as a branch here, so that it can be expanded). Branches first, then leaves.
    std::set<std::string_view> seen;
    std::vector<const TreeNode*> leaves;
    for (const TreeNode& n : nodes) {
      if (!seen.insert(n.name()).second) continue;
      if (n.branch) {
        write_node(FormDecode(n.name()), base_path + std::string(n.name()), false);
      } else {
        leaves.push_back(&n);
      }
    }
    for (const TreeNode* n : leaves) {
      write_node(FormDecode(n->name()), base_path + std::string(n->name()), true);
    }
    w.EndArray();
  }
  FinishJson(params, std::move(json), out);
  return Status::OK();
}

Status GraphiteApi::MetricsExpand(const GraphiteRequest& request, GraphiteResponse* out) {
  const FormParams params = ReadParams(request);
  SLUICE_ASSIGN_OR_RETURN(int64_t leaves_only, IntParam(params, "leavesOnly", 0));
  SLUICE_ASSIGN_OR_RETURN(int64_t group_by_expr, IntParam(params, "groupByExpr", 0));
  std::vector<std::string> names;
  SLUICE_RETURN_IF_ERROR(MetricNames(&names));
  // Queries in first-seen order, each with its sorted paths.
  std::vector<std::pair<std::string, std::vector<std::string>>> results;
  for (const std::string& query : params.GetAll("query")) {
    std::vector<TreeNode> nodes;
    SLUICE_RETURN_IF_ERROR(FindNodes(query, names, options_.max_series_per_target, &nodes));
    std::vector<std::string> paths;
    for (TreeNode& n : nodes) {
      if (n.leaf || leaves_only == 0) paths.push_back(std::move(n.path));
    }
    auto it = std::find_if(results.begin(), results.end(),
                           [&](const auto& r) { return r.first == query; });
    if (it == results.end()) results.emplace_back(query, std::move(paths));
  }
  std::string json;
  JsonWriter w(&json);
  w.BeginObject();
  w.Key("results");
  if (group_by_expr != 0) {
    w.BeginObject();
    for (const auto& [query, paths] : results) {
      w.Key(query);
      w.BeginArray();
      for (const auto& p : paths) w.String(p);
      w.EndArray();
    }
    w.EndObject();
  } else {
    std::set<std::string> all;
    for (auto& [query, paths] : results) all.insert(paths.begin(), paths.end());
    w.BeginArray();
    for (const auto& p : all) w.String(p);
    w.EndArray();
  }
  w.EndObject();
  FinishJson(params, std::move(json), out);
  return Status::OK();
}

Status GraphiteApi::MetricsIndex(const GraphiteRequest& request, GraphiteResponse* out) {
  const FormParams params = ReadParams(request);
  std::vector<std::string> names;
  SLUICE_RETURN_IF_ERROR(MetricNames(&names));
  std::string json;
  JsonWriter w(&json);
  w.BeginArray();
  for (const auto& n : names) w.String(n);
  w.EndArray();
  FinishJson(params, std::move(json), out);
  return Status::OK();
}

Status GraphiteApi::ListSeries(const std::vector<TagFilter>& filters, const RequestContext& context,
                               std::vector<SeriesId>* out) {
  // The source filters the tags; "name" filters test the metric name afterwards. A name that must
  // equal a value, or match a regex, narrows what the source looks at.
  std::vector<TagFilter> tag_filters;
  std::vector<const TagFilter*> name_filters;
  std::string pattern = "^.*$";
  for (const TagFilter& f : filters) {
    if (f.key() != "name") {
      tag_filters.push_back(f);
      continue;
    }
    name_filters.push_back(&f);
    if (pattern == "^.*$" && f.op() == FilterOp::kEq && !f.value().empty()) {
      pattern = "^" + re2::RE2::QuoteMeta(f.value()) + "$";
    } else if (pattern == "^.*$" && f.op() == FilterOp::kRegex) {
      pattern = "^" + f.value() + "$";
    }
  }
  const NameMatcher matcher = NameMatcher::Compile(pattern);
  FetchRequest fetch;
  fetch.target = pattern;
  fetch.matcher = &matcher;
  fetch.filters = &tag_filters;
  // Only the series' identities are wanted: an empty range reads (almost) no points.
  fetch.range = {0, 0};
  fetch.point_budget = options_.max_points_per_request;
  fetch.cancelled = context.cancelled;
  fetch.deadline = context.deadline;
  FetchResult result;
  SLUICE_RETURN_IF_ERROR(source_->Fetch(fetch, &result));
  std::vector<std::pair<std::string, SeriesId>> found;
  for (Series& s : result.series) {
    bool keep = true;
    for (const TagFilter* f : name_filters) keep = keep && f->MatchesValue(s.name);
    if (!keep) continue;
    std::string path = expr::TaggedName(s.name, s.tags);
    found.emplace_back(std::move(path), SeriesId{std::move(s.name), std::move(s.tags)});
    if (found.size() > options_.max_series_per_target) {
      return ResourceExhausted("the tag expressions match more than {} series; narrow them",
                               options_.max_series_per_target);
    }
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  found.erase(std::unique(found.begin(), found.end(),
                          [](const auto& a, const auto& b) { return a.first == b.first; }),
              found.end());
  out->reserve(found.size());
  for (auto& [path, id] : found) out->push_back(std::move(id));
  return Status::OK();
}

Status GraphiteApi::TagList(const GraphiteRequest& request, GraphiteResponse* out) {
  const FormParams params = ReadParams(request);
  SLUICE_ASSIGN_OR_RETURN(size_t limit, LimitParam(params, SIZE_MAX));
  SLUICE_ASSIGN_OR_RETURN(auto filter, AnchoredFilter(params));
  std::vector<std::string> tags;
  SLUICE_RETURN_IF_ERROR(source_->TagKeys({}, &tags));
  tags.push_back("name");
  SortUnique(&tags);
  std::string json;
  JsonWriter w(&json);
  w.BeginArray();
  size_t count = 0;
  for (size_t i = 0; i < tags.size() && count < limit; ++i) {
    if (filter != nullptr && !re2::RE2::PartialMatch(tags[i], *filter)) continue;
    ++count;
    w.BeginObject();
    w.Key("id");
    w.Int(static_cast<int64_t>(i + 1));
    w.Key("tag");
    w.String(tags[i]);
    w.EndObject();
  }
  w.EndArray();
  FinishJson(params, std::move(json), out);
  return Status::OK();
}

Status GraphiteApi::TagDetails(const GraphiteRequest& request, GraphiteResponse* out) {
  const RequestContext context = Bound(request.context);
  const FormParams params = ReadParams(request);
  SLUICE_ASSIGN_OR_RETURN(size_t limit, LimitParam(params, SIZE_MAX));
  SLUICE_ASSIGN_OR_RETURN(auto filter, AnchoredFilter(params));
  std::string_view path = request.path;
  const std::string tag = PercentDecode(path.substr(path.rfind('/') + 1), false);
  std::vector<SeriesId> series;
  if (tag == "name") {
    SLUICE_RETURN_IF_ERROR(ListSeries({}, context, &series));
  } else {
    auto has_tag = expr::ParseTagExpression(tag + "!=");
    if (!has_tag.ok()) return InvalidArgument("invalid tag name '{}'", tag);
    SLUICE_RETURN_IF_ERROR(ListSeries({*has_tag}, context, &series));
  }
  std::map<std::string, int64_t> counts;
  for (const SeriesId& s : series) {
    ++counts[tag == "name" ? s.name : std::string(s.tags.Get(tag))];
  }
  std::string json;
  JsonWriter w(&json);
  if (counts.empty()) {
    w.Null();
  } else {
    std::vector<std::string> tags;
    SLUICE_RETURN_IF_ERROR(source_->TagKeys({}, &tags));
    tags.push_back("name");
    SortUnique(&tags);
    const auto at = std::lower_bound(tags.begin(), tags.end(), tag);
    w.BeginObject();
    w.Key("id");
    w.Int(at - tags.begin() + 1);
    w.Key("tag");
    w.String(tag);
    w.Key("values");
    w.BeginArray();
    int64_t id = 0;
    size_t written = 0;
    for (const auto& [value, count] : counts) {
      ++id;
      if (written >= limit) break;
      if (filter != nullptr && !re2::RE2::PartialMatch(value, *filter)) continue;
      ++written;
      w.BeginObject();
      w.Key("id");
      w.Int(id);
      w.Key("value");
      w.String(value);
      w.Key("count");
      w.Int(count);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  FinishJson(params, std::move(json), out);
  return Status::OK();
}

Status GraphiteApi::FindSeries(const GraphiteRequest& request, GraphiteResponse* out) {
  const RequestContext context = Bound(request.context);
  const FormParams params = ReadParams(request);
  const std::vector<std::string> exprs = ListParam(params, "expr");
  if (exprs.empty()) return InvalidArgument("no tag expressions specified");
  SLUICE_ASSIGN_OR_RETURN(std::vector<TagFilter> filters, ParseExpressions(exprs));
  SLUICE_RETURN_IF_ERROR(CheckSelective(filters));
  std::vector<SeriesId> series;
  SLUICE_RETURN_IF_ERROR(ListSeries(filters, context, &series));
  std::string json;
  JsonWriter w(&json);
  w.BeginArray();
  for (const SeriesId& s : series) w.String(expr::TaggedName(s.name, s.tags));
  w.EndArray();
  FinishJson(params, std::move(json), out);
  return Status::OK();
}

Status GraphiteApi::AutoCompleteTags(const GraphiteRequest& request, GraphiteResponse* out) {
  const RequestContext context = Bound(request.context);
  const FormParams params = ReadParams(request);
  const std::vector<std::string> exprs = ListParam(params, "expr");
  SLUICE_ASSIGN_OR_RETURN(size_t limit, LimitParam(params, kAutoCompleteLimit));
  const std::string* prefix_param = params.Get("tagPrefix");
  const std::string prefix = prefix_param == nullptr ? "" : *prefix_param;
  std::set<std::string> tags;
  if (exprs.empty()) {
    std::vector<std::string> keys;
    SLUICE_RETURN_IF_ERROR(source_->TagKeys({}, &keys));
    keys.push_back("name");
    tags.insert(keys.begin(), keys.end());
  } else {
    SLUICE_ASSIGN_OR_RETURN(std::vector<TagFilter> filters, ParseExpressions(exprs));
    SLUICE_RETURN_IF_ERROR(CheckSelective(filters));
    std::vector<SeriesId> series;
    SLUICE_RETURN_IF_ERROR(ListSeries(filters, context, &series));
    for (const SeriesId& s : series) {
      tags.insert("name");
      for (const auto& [k, v] : s.tags.pairs()) tags.insert(k);
    }
    for (const TagFilter& f : filters) tags.erase(f.key());  // the tags already searched
  }
  std::string json;
  JsonWriter w(&json);
  w.BeginArray();
  size_t count = 0;
  for (const auto& t : tags) {
    if (count >= limit) break;
    if (!t.starts_with(prefix)) continue;
    ++count;
    w.String(t);
  }
  w.EndArray();
  FinishJson(params, std::move(json), out);
  return Status::OK();
}

Status GraphiteApi::AutoCompleteValues(const GraphiteRequest& request, GraphiteResponse* out) {
  const RequestContext context = Bound(request.context);
  const FormParams params = ReadParams(request);
  const std::vector<std::string> exprs = ListParam(params, "expr");
  const std::string* tag_param = params.Get("tag");
  if (tag_param == nullptr || tag_param->empty()) return InvalidArgument("no tag specified");
  const std::string tag = std::string(Trim(*tag_param));
  SLUICE_ASSIGN_OR_RETURN(size_t limit, LimitParam(params, kAutoCompleteLimit));
  const std::string* prefix_param = params.Get("valuePrefix");
  const std::string prefix = prefix_param == nullptr ? "" : *prefix_param;
  std::set<std::string> values;
  if (exprs.empty() && tag != "name") {
    std::vector<std::string> found;
    SLUICE_RETURN_IF_ERROR(source_->TagValues(tag, {}, &found));
    values.insert(found.begin(), found.end());
  } else if (exprs.empty()) {
    std::vector<std::string> names;
    SLUICE_RETURN_IF_ERROR(MetricNames(&names));
    values.insert(names.begin(), names.end());
  } else {
    SLUICE_ASSIGN_OR_RETURN(std::vector<TagFilter> filters, ParseExpressions(exprs));
    auto has_tag = expr::ParseTagExpression(tag + "!=");
    if (!has_tag.ok()) return InvalidArgument("invalid tag name '{}'", tag);
    filters.push_back(*std::move(has_tag));
    std::vector<SeriesId> series;
    SLUICE_RETURN_IF_ERROR(ListSeries(filters, context, &series));
    for (const SeriesId& s : series) {
      values.insert(tag == "name" ? s.name : std::string(s.tags.Get(tag)));
    }
  }
  values.erase("");
  std::string json;
  JsonWriter w(&json);
  w.BeginArray();
  size_t count = 0;
  for (const auto& v : values) {
    if (count >= limit) break;
    if (!v.starts_with(prefix)) continue;
    ++count;
    w.String(v);
  }
  w.EndArray();
  FinishJson(params, std::move(json), out);
  return Status::OK();
}

Status GraphiteApi::Functions(const GraphiteRequest& request, GraphiteResponse* out) {
  const FormParams params = ReadParams(request);
  const std::string* group = params.Get("group");
  const std::string* grouped_param = params.Get("grouped");
  const bool grouped = grouped_param != nullptr &&
                       (*grouped_param == "1" || EqualsIgnoreCase(*grouped_param, "true"));
  const std::string* type = params.Get("type");
  std::vector<const expr::FunctionSpec*> functions;
  if (type == nullptr || *type != "pie") {  // Sluice has no pie functions
    for (const expr::FunctionSpec* f : expr::Registry::Default().All()) {
      if (group == nullptr || f->group == *group) functions.push_back(f);
    }
  }
  std::string json;
  JsonWriter w(&json);
  w.BeginObject();
  if (grouped) {
    std::map<std::string_view, std::vector<const expr::FunctionSpec*>> by_group;
    for (const auto* f : functions) by_group[f->group].push_back(f);
    for (const auto& [name, specs] : by_group) {
      w.Key(name);
      w.BeginObject();
      for (const auto* f : specs) {
        w.Key(f->name);
        WriteFunctionInfo(*f, &w);
      }
      w.EndObject();
    }
  } else {
    for (const auto* f : functions) {
      w.Key(f->name);
      WriteFunctionInfo(*f, &w);
    }
  }
  w.EndObject();
  FinishJson(params, std::move(json), out);
  return Status::OK();
}

Status GraphiteApi::Version(const GraphiteRequest& /*request*/, GraphiteResponse* out) {
  out->body = std::string(kGraphiteVersion);
  out->content_type = "text/plain; charset=utf-8";
  return Status::OK();
}

Status GraphiteApi::Events(const GraphiteRequest& request, GraphiteResponse* out) {
  const RequestContext context = Bound(request.context);
  const FormParams params = ReadParams(request);
  const int64_t now_ms = NowMs();
  SLUICE_ASSIGN_OR_RETURN(int64_t from_ms, TimeParam(params, "from", now_ms, 0));
  SLUICE_ASSIGN_OR_RETURN(int64_t until_ms, TimeParam(params, "until", now_ms, now_ms));
  std::vector<std::string> tags;
  if (const std::string* t = params.Get("tags")) {
    std::string_view rest = *t;
    while (!rest.empty()) {
      size_t space = rest.find(' ');
      std::string_view word = rest.substr(0, space);
      if (!word.empty()) tags.emplace_back(word);
      rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    }
  }
  const std::string* set_param = params.Get("set");
  const bool any = set_param != nullptr && *set_param == "union";

  std::vector<Annotation> events;
  if (from_ms <= until_ms) {
    AnnotationRequest fetch;
    fetch.range = {from_ms, until_ms};
    fetch.limit = options_.search_limit * 10;
    fetch.cancelled = context.cancelled;
    fetch.deadline = context.deadline;
    SLUICE_RETURN_IF_ERROR(source_->Annotations(fetch, &events));
  }
  // graphite's events are points: `when` inside [from, until], every tag (or, with set=union,
  // any tag) present.
  std::vector<const Annotation*> shown;
  for (const Annotation& e : events) {
    if (e.time_ms < from_ms || e.time_ms > until_ms) continue;
    if (!tags.empty()) {
      size_t present = 0;
      for (const auto& t : tags) {
        present += std::find(e.tags.begin(), e.tags.end(), t) != e.tags.end() ? 1 : 0;
      }
      if (any ? present == 0 : present < tags.size()) continue;
    }
    shown.push_back(&e);
  }
  std::stable_sort(shown.begin(), shown.end(), [](const Annotation* a, const Annotation* b) {
    return a->time_ms < b->time_ms;
  });
  std::string json;
  JsonWriter w(&json);
  w.BeginArray();
  int64_t id = 0;
  for (const Annotation* e : shown) {
    w.BeginObject();
    w.Key("when");
    w.Int(FloorDiv(e->time_ms, 1000));  // an integer: Grafana's server reads it as int64
    w.Key("what");
    w.String(e->title);
    w.Key("data");
    w.String(e->text);
    w.Key("tags");
    w.BeginArray();
    for (const auto& t : e->tags) w.String(t);
    w.EndArray();
    w.Key("id");
    w.Int(++id);
    w.EndObject();
  }
  w.EndArray();
  FinishJson(params, std::move(json), out);
  return Status::OK();
}

}  // namespace sluice::protocol
