#include "sql/sql_source.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include <re2/re2.h>
#include <spdlog/spdlog.h>

#include "common/time.h"
#include "sql/macros.h"
#include "sql/shape.h"

namespace sluice::sql {
namespace {

using Clock = std::chrono::steady_clock;

// Time macros of requests without a range (tag keys and values, /search) cover this window.
constexpr int64_t kDefaultWindowMs = 6 * 3'600'000;
// Names one target text with multi-value alternations may stand for.
constexpr size_t kMaxAlternatives = 1000;
// Rows a variable or tag statement may return.
constexpr size_t kMaxListRows = 1'000'000;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

TimeRange DefaultWindow() {
  int64_t now = NowMs();
  return {now - kDefaultWindowMs, now};
}

// The names a target text with embedded multi-value variables stands for: literal text (regex
// escapes removed) with `(a|b)` and `{a,b}` groups of literals, e.g. "orders.(eu|us)" ->
// orders.eu, orders.us. Nullopt when the text has other pattern syntax or more than `limit` names.
std::optional<std::vector<std::string>> ExpandAlternations(std::string_view text, size_t limit) {
  std::vector<std::string> names = {""};
  size_t i = 0;
  auto append = [&](const std::vector<std::string>& options) {
    std::vector<std::string> next;
    if (names.size() * options.size() > limit) return false;
    for (const auto& prefix : names) {
      for (const auto& o : options) next.push_back(prefix + o);
    }
    names = std::move(next);
    return true;
  };
  while (i < text.size()) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      for (auto& name : names) name.push_back(text[i + 1]);
      i += 2;
    } else if (c == '(' || c == '{') {
      const char close = c == '(' ? ')' : '}', sep = c == '(' ? '|' : ',';
      std::vector<std::string> options(1);
      ++i;
      while (i < text.size() && text[i] != close) {
        char d = text[i];
        if (d == '\\' && i + 1 < text.size()) {
          options.back().push_back(text[i + 1]);
          i += 2;
          continue;
        }
        if (d == sep) options.emplace_back();
        else if (std::string_view("()[]{}*?+^$|,").find(d) != std::string_view::npos) return std::nullopt;
        else options.back().push_back(d);
        ++i;
      }
      if (i >= text.size()) return std::nullopt;
      ++i;
      if (!append(options)) return std::nullopt;
    } else if (std::string_view(")[]}*?+^$|").find(c) != std::string_view::npos) {
      return std::nullopt;
    } else {
      for (auto& name : names) name.push_back(c);
      ++i;
    }
  }
  return names;
}

// A table cell as the text an ad-hoc filter compares with ("" for NULL).
std::string CellText(const Cell& cell) {
  switch (cell.kind) {
    case Cell::Kind::kNull: return "";
    case Cell::Kind::kNumber: return FormatNumber(cell.number);
    case Cell::Kind::kString: return cell.text;
    case Cell::Kind::kBool: return cell.boolean ? "true" : "false";
  }
  return "";
}

// Keeps the rows of `table` that pass `filters`, comparing each with the same-named column.
void FilterRows(const std::vector<TagFilter>& filters, Table* table) {
  if (filters.empty()) return;
  std::vector<int> columns;
  for (const auto& f : filters) {
    int index = -1;
    for (size_t c = 0; c < table->columns.size(); ++c) {
      if (table->columns[c].name == f.key()) index = static_cast<int>(c);
    }
    columns.push_back(index);
  }
  std::vector<std::vector<Cell>> kept;
  for (auto& row : table->rows) {
    bool pass = true;
    for (size_t i = 0; i < filters.size() && pass; ++i) {
      pass = filters[i].MatchesValue(columns[i] < 0 ? std::string() : CellText(row[columns[i]]));
    }
    if (pass) kept.push_back(std::move(row));
  }
  table->rows = std::move(kept);
}

}  // namespace

// One target text a statement answers, with the pattern's captures (nullopt: group not matched).
struct SqlSource::Match {
  std::string text;
  std::vector<std::optional<std::string>> captures;
};

// What one statement run needs from the request; views borrow from the caller.
struct SqlSource::Request {
  TimeRange range;
  int64_t interval_ms = 0;
  int64_t max_data_points = 0;
  std::string_view match_text;
  std::vector<std::string_view> captures;
  std::string_view payload_json = "{}";
  std::string_view scoped_vars_json = "{}";
  const std::vector<TagFilter>* filters = nullptr;
  Clock::time_point deadline = Clock::time_point::max();
  const std::atomic<bool>* cancelled = nullptr;
  size_t max_rows = SIZE_MAX;
};

struct SqlSource::Target {
  TargetConfig config;
  std::unique_ptr<re2::RE2> pattern;
  SqlTemplate sql;

  // For messages: the name, or where the target is configured.
  std::string Label() const { return config.name.empty() ? config.where : config.name; }

  // The match of `text` against the literal name or the whole pattern.
  std::optional<Match> MatchText(std::string_view text) const {
    if (!pattern) {
      if (text != config.name) return std::nullopt;
      return Match{std::string(text), {}};
    }
    const int groups = pattern->NumberOfCapturingGroups() + 1;
    std::vector<re2::StringPiece> pieces(groups);
    if (!pattern->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(),
                        re2::RE2::ANCHOR_BOTH, pieces.data(), groups)) {
      return std::nullopt;
    }
    Match m{std::string(text), {}};
    for (const auto& p : pieces) {
      if (p.data() == nullptr) m.captures.emplace_back();
      else m.captures.emplace_back(std::string(p.data(), p.size()));
    }
    return m;
  }
};

SqlSource::SqlSource(std::string name, std::unique_ptr<Driver> driver, int64_t statement_timeout_ms)
    : name_(std::move(name)),
      driver_(std::move(driver)),
      statement_timeout_ms_(statement_timeout_ms) {}

SqlSource::~SqlSource() = default;

Result<std::unique_ptr<SqlSource>> SqlSource::Make(const SourceConfig& config,
                                                   std::unique_ptr<Driver> driver) {
  if (!driver) return InvalidArgument("{}: no driver", config.where);
  std::unique_ptr<SqlSource> source(
      new SqlSource(config.name, std::move(driver), config.statement_timeout_ms));
  for (size_t i = 0; i < config.targets.size(); ++i) {
    auto target = std::make_unique<Target>();
    target->config = config.targets[i];
    TargetConfig& tc = target->config;
    if (tc.where.empty()) tc.where = fmt::format("{}.targets[{}]", config.where, i);
    const std::string& where = tc.where;
    const bool named = !tc.name.empty(), patterned = !tc.pattern.empty();
    const std::string_view type = TargetTypeName(tc.type);
    if (tc.type == TargetType::kAnnotations || tc.type == TargetType::kTagKeys) {
      if (patterned) {
        return InvalidArgument("{}: a {} target takes no `pattern` (a `name` is optional)", where,
                               type);
      }
    } else if (named == patterned) {
      return InvalidArgument("{}: a {} target needs exactly one of `name` and `pattern`", where,
                             type);
    }
    if (Trim(tc.sql).empty()) return InvalidArgument("{}.sql: must not be empty", where);
    std::map<std::string, int> capture_names;
    int capture_count = 0;
    if (patterned) {
      re2::RE2::Options options;
      options.set_log_errors(false);
      target->pattern = std::make_unique<re2::RE2>(tc.pattern, options);
      if (!target->pattern->ok()) {
        return InvalidArgument("{}.pattern: invalid regex \"{}\": {}", where, tc.pattern,
                               target->pattern->error());
      }
      capture_names = target->pattern->NamedCapturingGroups();
      capture_count = target->pattern->NumberOfCapturingGroups() + 1;
    }
    auto parsed = SqlTemplate::Parse(tc.sql, capture_names, capture_count, tc.filter_columns);
    if (!parsed.ok()) return parsed.status().Annotate(where + ".sql");
    target->sql = std::move(parsed).value();
    source->targets_.push_back(std::move(target));
  }
  return source;
}

Status SqlSource::Run(const Target& target, const Request& request, ResultSet* rs,
                      std::vector<size_t>* filters_in_sql) {
  MacroContext context;
  context.range = request.range;
  context.interval_ms = request.interval_ms;
  context.max_data_points = request.max_data_points;
  context.target = request.match_text;
  context.captures = request.captures;
  context.payload_json = request.payload_json;
  context.scoped_vars_json = request.scoped_vars_json;
  context.filters = request.filters;
  SLUICE_ASSIGN_OR_RETURN(ExpandedSql sql, target.sql.Expand(context, *driver_));
  QueryOptions options;
  options.deadline = std::min(request.deadline,
                              Clock::now() + std::chrono::milliseconds(statement_timeout_ms_));
  options.cancelled = request.cancelled;
  options.max_rows = request.max_rows;
  spdlog::debug("{} [{}]: {} ({} parameters)", driver_->name(), request.match_text, sql.text,
                sql.params.size());
  if (filters_in_sql) *filters_in_sql = std::move(sql.filters_in_sql);
  return driver_->Query(sql.text, sql.params, options, rs);
}

Status SqlSource::ListNames(std::vector<std::string>* out) {
  for (const auto& t : targets_) {
    const TargetType type = t->config.type;
    if (type != TargetType::kTimeseries && type != TargetType::kTable &&
        type != TargetType::kVariable) {
      continue;
    }
    if (!t->config.name.empty()) out->push_back(t->config.name);
    out->insert(out->end(), t->config.examples.begin(), t->config.examples.end());
  }
  return Status::OK();
}

Status SqlSource::Fetch(const FetchRequest& request, FetchResult* out) {
  auto answers_query = [](const Target& t) {
    return t.config.type == TargetType::kTimeseries || t.config.type == TargetType::kTable;
  };
  // Literal names are selected as stored series are (globs, regexes, alternations); patterns
  // are matched against each name of an alternation, or else the whole text.
  std::vector<std::string_view> names;
  std::vector<const Target*> named;
  for (const auto& t : targets_) {
    if (answers_query(*t) && !t->pattern) {
      names.push_back(t->config.name);
      named.push_back(t.get());
    }
  }
  std::vector<std::pair<const Target*, Match>> work;
  for (size_t i : request.matcher->MatchAll(names)) {
    work.emplace_back(named[i], Match{named[i]->config.name, {}});
  }
  // Pattern targets: the names an alternation stands for, or else the text itself and the
  // target's examples that the text selects (as a glob or regex).
  std::vector<std::string> candidates;
  const bool exact = request.matcher->kind() == NameMatcher::Kind::kExact;
  auto expanded = exact ? std::nullopt : ExpandAlternations(request.target, kMaxAlternatives);
  if (exact) candidates = request.matcher->exact_names();
  else if (expanded) candidates = std::move(*expanded);
  else candidates.emplace_back(request.target);
  for (const auto& t : targets_) {
    if (!answers_query(*t) || !t->pattern) continue;
    std::vector<std::string> texts = candidates;
    if (!exact && !expanded) {
      std::vector<std::string_view> examples(t->config.examples.begin(), t->config.examples.end());
      for (size_t i : request.matcher->MatchAll(examples)) texts.push_back(t->config.examples[i]);
    }
    std::sort(texts.begin(), texts.end());
    texts.erase(std::unique(texts.begin(), texts.end()), texts.end());
    for (const auto& text : texts) {
      if (auto m = t->MatchText(text)) work.emplace_back(t.get(), std::move(*m));
    }
  }

  const std::vector<TagFilter> no_filters;
  const std::vector<TagFilter>& filters = request.filters ? *request.filters : no_filters;
  int64_t budget = request.point_budget;
  for (auto& [target, match] : work) {
    const std::string& what = match.text;
    if (budget <= 0) {
      return ResourceExhausted("{}: the request's point budget is used up before this target",
                               what);
    }
    Request r;
    r.range = request.range;
    r.interval_ms = request.interval_ms;
    r.max_data_points = request.max_points;
    r.match_text = match.text;
    for (const auto& c : match.captures) {
      r.captures.push_back(c ? std::string_view(*c) : std::string_view());
    }
    r.payload_json = request.payload_json;
    r.scoped_vars_json = request.scoped_vars_json;
    r.filters = &filters;
    r.deadline = request.deadline;
    r.cancelled = request.cancelled;
    r.max_rows = static_cast<size_t>(budget);
    ResultSet rs;
    std::vector<size_t> in_sql;
    SLUICE_RETURN_IF_ERROR(Run(*target, r, &rs, &in_sql).Annotate(what));
    budget -= static_cast<int64_t>(rs.rows);

    // Filters the statement did not apply act on the result, as they do on stored series.
    std::vector<TagFilter> rest;
    for (size_t i = 0; i < filters.size(); ++i) {
      if (std::find(in_sql.begin(), in_sql.end(), i) == in_sql.end()) rest.push_back(filters[i]);
    }
    if (target->config.type == TargetType::kTable) {
      Table table;
      SLUICE_RETURN_IF_ERROR(ShapeTable(rs, match.text, &table).Annotate(what));
      FilterRows(rest, &table);
      out->tables.push_back(std::move(table));
    } else {
      std::vector<Series> series;
      SeriesShape shape;
      shape.default_name = match.text;
      shape.range = request.range;
      SLUICE_RETURN_IF_ERROR(ShapeSeries(rs, shape, &series).Annotate(what));
      for (auto& s : series) {
        if (MatchesAll(rest, s.tags)) out->series.push_back(std::move(s));
      }
    }
  }
  return Status::OK();
}

Status SqlSource::Annotations(const AnnotationRequest& request, std::vector<Annotation>* out) {
  std::vector<const Target*> all, selected;
  for (const auto& t : targets_) {
    if (t->config.type == TargetType::kAnnotations) all.push_back(t.get());
  }
  if (all.empty()) return Status::OK();
  // Words naming annotation targets select them; the other words filter events.
  std::string rest;
  std::string_view query = request.query;
  size_t i = 0;
  while (i < query.size()) {
    while (i < query.size() && std::isspace(static_cast<unsigned char>(query[i]))) ++i;
    size_t start = i;
    while (i < query.size() && !std::isspace(static_cast<unsigned char>(query[i]))) ++i;
    std::string_view word = query.substr(start, i - start);
    if (word.empty()) continue;
    bool names_target = false;
    for (const Target* t : all) {
      if (t->config.name.empty() || t->config.name != word) continue;
      names_target = true;
      if (std::find(selected.begin(), selected.end(), t) == selected.end()) selected.push_back(t);
    }
    if (!names_target) {
      if (!rest.empty()) rest.push_back(' ');
      rest += word;
    }
  }
  if (selected.empty()) selected = all;
  const AnnotationQuery filter(rest);
  for (const Target* t : selected) {
    const std::string what = t->Label();
    Request r;
    r.range = request.range;
    r.match_text = t->config.name;
    r.max_rows = request.limit;
    r.deadline = request.deadline;
    r.cancelled = request.cancelled;
    ResultSet rs;
    SLUICE_RETURN_IF_ERROR(Run(*t, r, &rs, nullptr).Annotate(what));
    std::vector<Annotation> events;
    SLUICE_RETURN_IF_ERROR(ShapeAnnotations(rs, &events).Annotate(what));
    for (auto& e : events) {
      if (out->size() >= request.limit) return Status::OK();
      if (e.end_ms < request.range.from_ms || e.time_ms > request.range.to_ms) continue;
      if (filter.Matches(e)) out->push_back(std::move(e));
    }
  }
  return Status::OK();
}

Status SqlSource::VariableValues(const VariableRequest& request, std::vector<std::string>* out,
                                 bool* handled) {
  const std::string_view text = Trim(request.text);
  if (text.empty()) return Status::OK();
  TimeRange range = request.range;
  if (range.from_ms == 0 && range.to_ms == 0) range = DefaultWindow();
  for (const auto& t : targets_) {
    if (t->config.type != TargetType::kVariable) continue;
    auto match = t->MatchText(text);
    if (!match) continue;
    *handled = true;
    SLUICE_RETURN_IF_ERROR(
        List(*t, *match, range, nullptr, request.cancelled, request.deadline, out));
  }
  return Status::OK();
}

Status SqlSource::TagKeys(const std::vector<TagFilter>& filters, std::vector<std::string>* out) {
  for (const auto& t : targets_) {
    if (t->config.type != TargetType::kTagKeys) continue;
    SLUICE_RETURN_IF_ERROR(List(*t, {t->config.name, {}}, DefaultWindow(), &filters, nullptr,
                                Clock::time_point::max(), out));
  }
  return Status::OK();
}

Status SqlSource::TagValues(std::string_view key, const std::vector<TagFilter>& filters,
                            std::vector<std::string>* out) {
  for (const auto& t : targets_) {
    if (t->config.type != TargetType::kTagValues) continue;
    if (auto match = t->MatchText(key)) {
      SLUICE_RETURN_IF_ERROR(List(*t, *match, DefaultWindow(), &filters, nullptr,
                                  Clock::time_point::max(), out));
    }
  }
  return Status::OK();
}

Status SqlSource::List(const Target& target, const Match& match, const TimeRange& range,
                       const std::vector<TagFilter>* filters, const std::atomic<bool>* cancelled,
                       Clock::time_point deadline, std::vector<std::string>* out) {
  const std::string what = match.text.empty() ? target.Label() : match.text;
  Request r;
  r.range = range;
  r.match_text = match.text;
  for (const auto& c : match.captures) {
    r.captures.push_back(c ? std::string_view(*c) : std::string_view());
  }
  r.filters = filters;
  r.cancelled = cancelled;
  r.deadline = deadline;
  r.max_rows = kMaxListRows;
  ResultSet rs;
  SLUICE_RETURN_IF_ERROR(Run(target, r, &rs, nullptr).Annotate(what));
  return ShapeValues(rs, out).Annotate(what);
}

}  // namespace sluice::sql
