#include "sql/shape.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <unordered_map>

#include "common/strings.h"
#include "common/time.h"

namespace sluice::sql {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsNumberColumn(const ResultColumn& c) {
  return c.kind == ColumnKind::kNumber || c.kind == ColumnKind::kTimestamp ||
         c.kind == ColumnKind::kBool;
}

std::string_view KindName(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kNumber: return "number";
    case ColumnKind::kTimestamp: return "timestamp";
    case ColumnKind::kText: return "text";
    case ColumnKind::kBool: return "boolean";
    case ColumnKind::kUnknown: return "unknown";
  }
  return "unknown";
}

// "a (number), b (text)": what the statement returned, for messages.
std::string DescribeColumns(const ResultSet& result) {
  std::string out;
  for (const auto& c : result.columns) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{} ({})", c.name, KindName(c.kind));
  }
  return out.empty() ? "none" : out;
}

int FindColumn(const ResultSet& result, std::initializer_list<std::string_view> names) {
  for (size_t i = 0; i < result.columns.size(); ++i) {
    for (auto n : names) {
      if (EqualsIgnoreCase(result.columns[i].name, n)) return static_cast<int>(i);
    }
  }
  return -1;
}

// The time column: `time` (any case), else the first timestamp column; -1 when there is none.
int FindTimeColumn(const ResultSet& result) {
  int named = FindColumn(result, {"time"});
  if (named >= 0) return named;
  for (size_t i = 0; i < result.columns.size(); ++i) {
    if (result.columns[i].kind == ColumnKind::kTimestamp) return static_cast<int>(i);
  }
  return -1;
}

// Row `row` of `c` as epoch ms; nullopt for NULL (and non-finite numbers).
Result<std::optional<int64_t>> TimeAt(const ResultColumn& c, size_t row) {
  if (c.nulls[row]) return std::optional<int64_t>();
  if (c.kind == ColumnKind::kTimestamp) {
    double v = c.numbers[row];
    if (!std::isfinite(v)) return std::optional<int64_t>();
    return std::optional<int64_t>(static_cast<int64_t>(v));
  }
  if (IsNumberColumn(c)) {
    double v = c.numbers[row];
    if (!std::isfinite(v)) return std::optional<int64_t>();
    return std::optional<int64_t>(EpochToMs(v));
  }
  auto parsed = ParseTimeText(c.texts[row]);
  if (!parsed.ok()) {
    return parsed.status().Annotate(fmt::format("column \"{}\", row {}", c.name, row + 1));
  }
  return std::optional<int64_t>(*parsed);
}

std::optional<std::string> TextAt(const ResultColumn& c, size_t row) {
  if (c.nulls[row]) return std::nullopt;
  switch (c.kind) {
    case ColumnKind::kNumber: return FormatNumber(c.numbers[row]);
    case ColumnKind::kBool: return std::string(c.numbers[row] != 0 ? "true" : "false");
    case ColumnKind::kTimestamp:
      return FormatTimestampMs(static_cast<int64_t>(c.numbers[row]));
    default: return c.texts[row];
  }
}

// Sorts by time (stable: of equal times the last row wins) and drops points outside `range`.
void NormalizeSeries(Series* s, const TimeRange& range) {
  const size_t n = s->size();
  bool sorted = true;
  bool inside = true;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && s->times_ms[i] <= s->times_ms[i - 1]) sorted = false;
    if (s->times_ms[i] < range.from_ms || s->times_ms[i] > range.to_ms) inside = false;
  }
  if (sorted && inside) return;
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  if (!sorted) {
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return s->times_ms[a] < s->times_ms[b]; });
  }
  std::vector<int64_t> times;
  std::vector<double> values;
  times.reserve(n);
  values.reserve(n);
  for (size_t i : order) {
    int64_t t = s->times_ms[i];
    if (t < range.from_ms || t > range.to_ms) continue;
    if (!times.empty() && times.back() == t) {
      values.back() = s->values[i];
    } else {
      times.push_back(t);
      values.push_back(s->values[i]);
    }
  }
  s->times_ms = std::move(times);
  s->values = std::move(values);
}

}  // namespace

int64_t EpochToMs(double v) {
  const double a = std::fabs(v);
  double ms;
  if (a < 1e11) ms = v * 1000;
  else if (a < 1e14) ms = v;
  else if (a < 1e17) ms = v / 1e3;
  else ms = v / 1e6;
  // Seconds with a fraction rarely multiply to an exact integer (1.001 * 1000 = 1000.9999...).
  double r = std::round(ms);
  ms = std::fabs(ms - r) < 1e-3 ? r : std::floor(ms);
  ms = std::clamp(ms, -static_cast<double>(kMaxAbsTimeMs), static_cast<double>(kMaxAbsTimeMs));
  return static_cast<int64_t>(ms);
}

Result<int64_t> ParseTimeText(std::string_view text) {
  std::string_view t = Trim(text);
  bool numeric = !t.empty();
  for (char c : t) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' ||
          c == 'e' || c == 'E')) {
      numeric = false;
      break;
    }
  }
  // "2024-05-01" is all digits and dashes: a date, not a number.
  if (numeric && t.size() >= 8 && t[4] == '-') numeric = false;
  if (numeric) {
    std::string copy(t);
    char* end = nullptr;
    double v = std::strtod(copy.c_str(), &end);
    if (end == copy.c_str() + copy.size() && std::isfinite(v)) return EpochToMs(v);
  }
  auto parsed = ParseTimestampMs(t);
  if (!parsed.ok()) {
    return InvalidArgument("\"{}\" is not a time (expected RFC 3339, epoch seconds or epoch "
                           "milliseconds)",
                           text);
  }
  return parsed;
}

std::string FormatNumber(double v) {
  if (std::isfinite(v) && v == std::trunc(v) && std::fabs(v) < 1e15) {
    return fmt::format("{}", static_cast<int64_t>(v));
  }
  return fmt::format("{}", v);
}

Status ShapeSeries(const ResultSet& result, const SeriesShape& shape, std::vector<Series>* out) {
  const int time_col = FindTimeColumn(result);
  if (time_col < 0) {
    return InvalidArgument(
        "the result has no time column (name one `time`, or return a timestamp); columns: {}",
        DescribeColumns(result));
  }
  int metric_col = -1;
  std::vector<size_t> value_cols, label_cols;
  for (size_t i = 0; i < result.columns.size(); ++i) {
    if (static_cast<int>(i) == time_col) continue;
    const ResultColumn& c = result.columns[i];
    if (c.kind == ColumnKind::kNumber || c.kind == ColumnKind::kBool) {
      value_cols.push_back(i);
    } else if (c.kind == ColumnKind::kText || c.kind == ColumnKind::kUnknown) {
      if (metric_col < 0 && EqualsIgnoreCase(c.name, "metric")) {
        metric_col = static_cast<int>(i);
      } else {
        label_cols.push_back(i);
      }
    }
  }
  if (value_cols.empty()) {
    return InvalidArgument("the result has no numeric value column; columns: {}",
                           DescribeColumns(result));
  }

  const ResultColumn& time = result.columns[time_col];
  const size_t nv = value_cols.size();
  const bool grouped = metric_col >= 0 || !label_cols.empty();
  std::vector<Series> series;  // group g, value column k at g * nv + k
  std::vector<std::string> metrics;
  std::unordered_map<std::string, size_t> groups;
  std::string key, last_key;
  size_t group = 0;
  bool have_last = false;
  for (size_t row = 0; row < result.rows; ++row) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<int64_t> t, TimeAt(time, row));
    if (!t) continue;
    if (grouped) {
      // Label and metric columns hold text; each part of the key is its length, then its bytes
      // (NULL: a length no text has), so no text can be mistaken for another combination.
      key.clear();
      auto add = [&](const ResultColumn& c) {
        const uint32_t size = c.nulls[row] ? UINT32_MAX : static_cast<uint32_t>(c.texts[row].size());
        key.append(reinterpret_cast<const char*>(&size), sizeof(size));
        if (!c.nulls[row]) key += c.texts[row];
      };
      if (metric_col >= 0) add(result.columns[metric_col]);
      for (size_t c : label_cols) add(result.columns[c]);
      if (!have_last || key != last_key) {
        auto [it, inserted] = groups.try_emplace(key, groups.size());
        group = it->second;
        if (inserted) {
          Tags tags;
          for (size_t c : label_cols) {
            if (auto v = TextAt(result.columns[c], row)) tags.Set(result.columns[c].name, *v);
          }
          metrics.push_back(metric_col >= 0
                                ? TextAt(result.columns[metric_col], row).value_or("")
                                : std::string());
          for (size_t k = 0; k < nv; ++k) series.emplace_back().tags = tags;
        }
        last_key = key;
        have_last = true;
      }
    } else if (series.empty()) {
      series.resize(nv);
      metrics.emplace_back();
      for (auto& s : series) s.times_ms.reserve(result.rows), s.values.reserve(result.rows);
    }
    for (size_t k = 0; k < nv; ++k) {
      const ResultColumn& c = result.columns[value_cols[k]];
      series[group * nv + k].Append(*t, c.nulls[row] ? NAN : c.numbers[row]);
    }
  }

  for (size_t i = 0; i < series.size(); ++i) {
    Series& s = series[i];
    const std::string& column = result.columns[value_cols[i % nv]].name;
    const std::string& metric = metrics[i / nv];
    if (metric_col >= 0) {
      s.name = nv == 1 ? metric : metric + " " + column;
    } else {
      s.name = nv == 1 ? shape.default_name : column;
    }
    NormalizeSeries(&s, shape.range);
    out->push_back(std::move(s));
  }
  return Status::OK();
}

Status ShapeTable(const ResultSet& result, std::string name, Table* out) {
  out->name = std::move(name);
  out->columns.clear();
  out->rows.assign(result.rows, {});
  // A column named `time` holding numbers or text times is a time column too.
  std::vector<bool> epoch(result.columns.size(), false);
  std::vector<std::vector<int64_t>> text_times(result.columns.size());
  for (size_t i = 0; i < result.columns.size(); ++i) {
    const ResultColumn& c = result.columns[i];
    const bool named_time = EqualsIgnoreCase(c.name, "time");
    ColumnType type = ColumnType::kString;
    switch (c.kind) {
      case ColumnKind::kTimestamp: type = ColumnType::kTime; break;
      case ColumnKind::kNumber:
        epoch[i] = named_time;
        type = epoch[i] ? ColumnType::kTime : ColumnType::kNumber;
        break;
      case ColumnKind::kBool: type = ColumnType::kBoolean; break;
      default:
        if (named_time) {
          std::vector<int64_t> times(result.rows, 0);
          bool all = true;
          for (size_t row = 0; row < result.rows && all; ++row) {
            if (c.nulls[row]) continue;
            auto t = ParseTimeText(c.texts[row]);
            all = t.ok();
            if (all) times[row] = *t;
          }
          if (all) {
            text_times[i] = std::move(times);
            type = ColumnType::kTime;
          }
        }
        break;
    }
    out->columns.push_back({c.name, type});
  }
  for (size_t row = 0; row < result.rows; ++row) {
    auto& cells = out->rows[row];
    cells.reserve(result.columns.size());
    for (size_t i = 0; i < result.columns.size(); ++i) {
      const ResultColumn& c = result.columns[i];
      if (c.nulls[row]) {
        cells.push_back(Cell::Null());
        continue;
      }
      switch (c.kind) {
        case ColumnKind::kTimestamp: cells.push_back(Cell::Number(c.numbers[row])); break;
        case ColumnKind::kNumber:
          cells.push_back(Cell::Number(
              epoch[i] && std::isfinite(c.numbers[row])
                  ? static_cast<double>(EpochToMs(c.numbers[row]))
                  : c.numbers[row]));
          break;
        case ColumnKind::kBool: cells.push_back(Cell::Bool(c.numbers[row] != 0)); break;
        default:
          if (out->columns[i].type == ColumnType::kTime) {
            cells.push_back(Cell::Number(static_cast<double>(text_times[i][row])));
          } else {
            cells.push_back(Cell::String(c.texts[row]));
          }
          break;
      }
    }
  }
  return Status::OK();
}

Status ShapeAnnotations(const ResultSet& result, std::vector<Annotation>* out) {
  const int time_col = FindTimeColumn(result);
  if (time_col < 0) {
    return InvalidArgument(
        "the result has no time column (name one `time`, or return a timestamp); columns: {}",
        DescribeColumns(result));
  }
  const int end_col = FindColumn(result, {"timeEnd", "time_end"});
  const int title_col = FindColumn(result, {"title"});
  const int text_col = FindColumn(result, {"text"});
  const int tags_col = FindColumn(result, {"tags"});
  for (size_t row = 0; row < result.rows; ++row) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<int64_t> t, TimeAt(result.columns[time_col], row));
    if (!t) continue;
    Annotation e;
    e.time_ms = *t;
    e.end_ms = *t;
    if (end_col >= 0) {
      SLUICE_ASSIGN_OR_RETURN(std::optional<int64_t> end, TimeAt(result.columns[end_col], row));
      if (end && *end > e.time_ms) e.end_ms = *end;
    }
    if (title_col >= 0) e.title = TextAt(result.columns[title_col], row).value_or("");
    if (text_col >= 0) e.text = TextAt(result.columns[text_col], row).value_or("");
    if (tags_col >= 0) {
      std::string tags = TextAt(result.columns[tags_col], row).value_or("");
      std::string_view list = Trim(tags);
      if (list.size() >= 2 && list.front() == '{' && list.back() == '}') {
        list = list.substr(1, list.size() - 2);
      }
      size_t start = 0;
      for (size_t i = 0; i <= list.size(); ++i) {
        if (i < list.size() && list[i] != ',') continue;
        std::string_view tag = Trim(list.substr(start, i - start));
        if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"') {
          tag = tag.substr(1, tag.size() - 2);
        }
        if (!tag.empty()) e.tags.emplace_back(tag);
        start = i + 1;
      }
    }
    out->push_back(std::move(e));
  }
  return Status::OK();
}

Status ShapeValues(const ResultSet& result, std::vector<std::string>* out) {
  if (result.columns.empty()) return Status::OK();
  const ResultColumn& c = result.columns[0];
  for (size_t row = 0; row < result.rows; ++row) {
    if (auto v = TextAt(c, row)) out->push_back(std::move(*v));
  }
  return Status::OK();
}

}  // namespace sluice::sql
