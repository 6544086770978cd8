#include "sql/macros.h"

#include <cctype>
#include <charconv>

#include <simdjson.h>

namespace sluice::sql {
namespace {

struct MacroInfo {
  std::string_view name;
  int macro;  // SqlTemplate::Macro, as int (the enum is private)
  bool takes_arg;
};

bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

bool ParseDouble(std::string_view s, double* out) {
  s = Trim(s);
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Appends `$n` for each value and binds it; the text is "$1, $2" for several values and "NULL" for
// none.
class Binder {
 public:
  explicit Binder(ExpandedSql* out) : out_(out) {}
  std::string Bind(Param p) {
    out_->params.push_back(std::move(p));
    return "$" + std::to_string(out_->params.size());
  }
  std::string BindList(std::vector<Param> params) {
    if (params.empty()) return "NULL";
    std::string text;
    for (auto& p : params) {
      if (!text.empty()) text += ", ";
      text += Bind(std::move(p));
    }
    return text;
  }

 private:
  ExpandedSql* out_;
};

Param JsonScalar(const simdjson::dom::element& e) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::STRING: return Param::Text(std::string(e.get_string().value()));
    case element_type::INT64: return Param::Int(e.get_int64().value());
    case element_type::UINT64: {
      uint64_t v = e.get_uint64().value();
      return v <= static_cast<uint64_t>(INT64_MAX) ? Param::Int(static_cast<int64_t>(v))
                                                    : Param::Double(static_cast<double>(v));
    }
    case element_type::DOUBLE: return Param::Double(e.get_double().value());
    case element_type::BOOL: return Param::Int(e.get_bool().value() ? 1 : 0);
    case element_type::NULL_VALUE: return Param::Null();
    default: return Param::Text(simdjson::minify(e));
  }
}

// The values of `e`: its elements for an array, itself otherwise.
std::vector<Param> JsonParams(const simdjson::dom::element& e) {
  std::vector<Param> out;
  if (e.type() == simdjson::dom::element_type::ARRAY) {
    for (auto item : e.get_array()) out.push_back(JsonScalar(item));
  } else {
    out.push_back(JsonScalar(e));
  }
  return out;
}

// Walks a dotted path ("a.b.0") from `root`; nullopt when any step is missing.
std::optional<simdjson::dom::element> Lookup(simdjson::dom::element root, std::string_view path) {
  simdjson::dom::element e = root;
  while (!path.empty()) {
    size_t dot = path.find('.');
    std::string_view step = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    if (e.type() == simdjson::dom::element_type::OBJECT) {
      simdjson::dom::element next;
      if (e.get_object().value().at_key(step).get(next) != simdjson::SUCCESS) return std::nullopt;
      e = next;
    } else if (e.type() == simdjson::dom::element_type::ARRAY) {
      size_t index = 0;
      auto [p, ec] = std::from_chars(step.data(), step.data() + step.size(), index);
      if (ec != std::errc() || p != step.data() + step.size()) return std::nullopt;
      simdjson::dom::element next;
      if (e.get_array().value().at(index).get(next) != simdjson::SUCCESS) return std::nullopt;
      e = next;
    } else {
      return std::nullopt;
    }
  }
  return e;
}

// The params for `path` in a JSON document; one NULL when the document or the path is missing.
// `unwrap_value` reads {"text": …, "value": v} objects (Grafana's scopedVars) as v.
std::vector<Param> ParamsFromJson(std::string_view json, std::string_view path,
                                  bool unwrap_value) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (json.empty() || parser.parse(json.data(), json.size(), true).get(root) != simdjson::SUCCESS) {
    return {Param::Null()};
  }
  auto e = Lookup(root, path);
  if (!e) return {Param::Null()};
  if (unwrap_value && e->type() == simdjson::dom::element_type::OBJECT) {
    simdjson::dom::element value;
    if (e->get_object().value().at_key("value").get(value) == simdjson::SUCCESS) e = value;
  }
  return JsonParams(*e);
}

}  // namespace

Result<SqlTemplate> SqlTemplate::Parse(std::string_view sql,
                                       const std::map<std::string, int>& capture_names,
                                       int capture_count,
                                       const std::map<std::string, std::string>& filter_columns) {
  static const MacroInfo kMacros[] = {
      {"timeFrom", static_cast<int>(Macro::kTimeFrom), false},
      {"timeTo", static_cast<int>(Macro::kTimeTo), false},
      {"timeFilter", static_cast<int>(Macro::kTimeFilter), true},
      {"unixEpochFrom", static_cast<int>(Macro::kEpochFrom), false},
      {"unixEpochTo", static_cast<int>(Macro::kEpochTo), false},
      {"unixEpochFilter", static_cast<int>(Macro::kEpochFilter), true},
      {"unixEpochMsFrom", static_cast<int>(Macro::kEpochMsFrom), false},
      {"unixEpochMsTo", static_cast<int>(Macro::kEpochMsTo), false},
      {"unixEpochMsFilter", static_cast<int>(Macro::kEpochMsFilter), true},
      {"interval_ms", static_cast<int>(Macro::kIntervalMs), false},
      {"interval_s", static_cast<int>(Macro::kIntervalS), false},
      {"maxDataPoints", static_cast<int>(Macro::kMaxDataPoints), false},
      {"target", static_cast<int>(Macro::kTarget), false},
      {"capture", static_cast<int>(Macro::kCapture), true},
      {"payload", static_cast<int>(Macro::kPayload), true},
      {"var", static_cast<int>(Macro::kVar), true},
      {"filters", static_cast<int>(Macro::kFilters), false},
  };

  SqlTemplate t;
  t.filter_columns_ = filter_columns;
  Piece piece;
  const size_t n = sql.size();
  size_t i = 0;
  while (i < n) {
    char c = sql[i];
    if (c == '\'' || c == '"') {
      size_t start = i++;
      for (;;) {
        if (i >= n) {
          return InvalidArgument("unterminated {} starting at offset {}",
                                 c == '\'' ? "string" : "quoted identifier", start);
        }
        if (sql[i] == c) {
          if (i + 1 < n && sql[i + 1] == c) {
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (sql.compare(i, 3, "$__") == 0) {
          return InvalidArgument(
              "macro at offset {} is inside a quoted string, where it would not be expanded; "
              "write it outside the quotes",
              i);
        }
        ++i;
      }
      piece.text.append(sql.substr(start, i - start));
      continue;
    }
    if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      size_t end = sql.find('\n', i);
      end = end == std::string_view::npos ? n : end;
      piece.text.append(sql.substr(i, end - i));
      i = end;
      continue;
    }
    if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      size_t end = sql.find("*/", i + 2);
      if (end == std::string_view::npos) {
        return InvalidArgument("unterminated comment starting at offset {}", i);
      }
      piece.text.append(sql.substr(i, end + 2 - i));
      i = end + 2;
      continue;
    }
    if (c == '$' && i + 1 < n && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      size_t end = i + 1;
      while (end < n && std::isdigit(static_cast<unsigned char>(sql[end]))) ++end;
      return InvalidArgument(
          "placeholder \"{}\" at offset {} is written by hand; use a macro (Sluice numbers the "
          "placeholders)",
          sql.substr(i, end - i), i);
    }
    if (c != '$' || sql.compare(i, 3, "$__") != 0) {
      piece.text.push_back(c);
      ++i;
      continue;
    }

    const size_t start = i;
    size_t end = i + 3;
    while (end < n && IsIdentChar(sql[end])) ++end;
    std::string_view name = sql.substr(i + 3, end - i - 3);
    const MacroInfo* info = nullptr;
    for (const auto& m : kMacros) {
      if (m.name == name) info = &m;
    }
    if (info == nullptr) {
      return InvalidArgument(
          "unknown macro \"$__{}\" at offset {} (known: $__timeFrom, $__timeTo, $__timeFilter(), "
          "$__unixEpochFrom, $__unixEpochTo, $__unixEpochFilter(), $__unixEpochMsFrom, "
          "$__unixEpochMsTo, $__unixEpochMsFilter(), $__interval_ms, $__interval_s, "
          "$__maxDataPoints, $__target, $__capture(), $__payload(), $__var(), $__filters)",
          name, start);
    }
    std::string arg;
    if (end < n && sql[end] == '(') {
      int depth = 1;
      size_t j = end + 1;
      while (j < n && depth > 0) {
        if (sql[j] == '(') ++depth;
        if (sql[j] == ')') --depth;
        ++j;
      }
      if (depth != 0) {
        return InvalidArgument("unclosed \"(\" after \"$__{}\" at offset {}", name, start);
      }
      arg = std::string(Trim(sql.substr(end + 1, j - end - 2)));
      end = j;
      if (!info->takes_arg && !arg.empty()) {
        return InvalidArgument("\"$__{}\" at offset {} takes no argument", name, start);
      }
    }
    if (info->takes_arg && arg.empty()) {
      return InvalidArgument("\"$__{}\" at offset {} needs an argument, as in $__{}(x)", name,
                             start, name);
    }
    piece.has_macro = true;
    piece.macro = static_cast<Macro>(info->macro);
    piece.arg = arg;
    if (piece.macro == Macro::kCapture) {
      if (capture_count == 0) {
        return InvalidArgument(
            "\"$__capture({})\" at offset {} needs a target `pattern`", arg, start);
      }
      int group = -1;
      auto [p, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), group);
      if (ec == std::errc() && p == arg.data() + arg.size()) {
        if (group < 0 || group >= capture_count) {
          return InvalidArgument("\"$__capture({})\" at offset {}: the pattern has {} group(s)",
                                 arg, start, capture_count - 1);
        }
      } else {
        auto it = capture_names.find(arg);
        if (it == capture_names.end()) {
          return InvalidArgument("\"$__capture({})\" at offset {}: the pattern has no group "
                                 "named \"{}\"",
                                 arg, start, arg);
        }
        group = it->second;
      }
      piece.group = group;
    }
    if (piece.macro == Macro::kFilters) {
      if (filter_columns.empty()) {
        return InvalidArgument(
            "\"$__filters\" at offset {} needs `filter_columns` (ad-hoc filter key -> column)",
            start);
      }
      t.uses_filters_ = true;
    }
    t.pieces_.push_back(std::move(piece));
    piece = Piece();
    i = end;
  }
  if (!piece.text.empty()) t.pieces_.push_back(std::move(piece));
  if (!filter_columns.empty() && !t.uses_filters_) {
    return InvalidArgument("`filter_columns` is set but the SQL does not use $__filters");
  }
  return t;
}

Result<ExpandedSql> SqlTemplate::Expand(const MacroContext& context, const Driver& driver) const {
  ExpandedSql out;
  Binder binder(&out);
  auto timestamp = [&](int64_t ms) {
    return driver.TimestampPlaceholder(binder.Bind(Param::TimestampMs(ms)));
  };
  const TimeRange& range = context.range;
  for (const Piece& piece : pieces_) {
    out.text += piece.text;
    if (!piece.has_macro) continue;
    std::string& text = out.text;
    switch (piece.macro) {
      case Macro::kTimeFrom: text += timestamp(range.from_ms); break;
      case Macro::kTimeTo: text += timestamp(range.to_ms); break;
      case Macro::kTimeFilter: {
        text += piece.arg + " BETWEEN " + timestamp(range.from_ms);
        text += " AND " + timestamp(range.to_ms);
        break;
      }
      case Macro::kEpochFrom: text += binder.Bind(Param::Int(FloorDiv(range.from_ms, 1000))); break;
      case Macro::kEpochTo: text += binder.Bind(Param::Int(FloorDiv(range.to_ms, 1000))); break;
      case Macro::kEpochFilter: {
        text += piece.arg + " >= " + binder.Bind(Param::Int(FloorDiv(range.from_ms, 1000)));
        text += " AND " + piece.arg + " <= " + binder.Bind(Param::Int(FloorDiv(range.to_ms, 1000)));
        break;
      }
      case Macro::kEpochMsFrom: text += binder.Bind(Param::Int(range.from_ms)); break;
      case Macro::kEpochMsTo: text += binder.Bind(Param::Int(range.to_ms)); break;
      case Macro::kEpochMsFilter: {
        text += piece.arg + " >= " + binder.Bind(Param::Int(range.from_ms));
        text += " AND " + piece.arg + " <= " + binder.Bind(Param::Int(range.to_ms));
        break;
      }
      case Macro::kIntervalMs: text += binder.Bind(Param::Int(context.interval_ms)); break;
      case Macro::kIntervalS:
        text += binder.Bind(Param::Int(std::max<int64_t>(1, context.interval_ms / 1000)));
        break;
      case Macro::kMaxDataPoints: text += binder.Bind(Param::Int(context.max_data_points)); break;
      case Macro::kTarget: text += binder.Bind(Param::Text(std::string(context.target))); break;
      case Macro::kCapture: {
        size_t g = static_cast<size_t>(piece.group);
        bool present = g < context.captures.size() && context.captures[g].data() != nullptr;
        text += binder.Bind(present ? Param::Text(std::string(context.captures[g]))
                                    : Param::Null());
        break;
      }
      case Macro::kPayload:
        text += binder.BindList(ParamsFromJson(context.payload_json, piece.arg, false));
        break;
      case Macro::kVar:
        text += binder.BindList(ParamsFromJson(context.scoped_vars_json, piece.arg, true));
        break;
      case Macro::kFilters: {
        std::string conditions;
        const size_t count = context.filters ? context.filters->size() : 0;
        for (size_t i = 0; i < count; ++i) {
          const TagFilter& f = (*context.filters)[i];
          auto column = filter_columns_.find(f.key());
          if (column == filter_columns_.end()) continue;
          const std::string& col = column->second;
          std::string cond;
          auto scalar = [&](const std::string& v) {
            double d;
            return ParseDouble(v, &d) ? Param::Double(d) : Param::Text(v);
          };
          switch (f.op()) {
            case FilterOp::kEq: cond = col + " = " + binder.Bind(Param::Text(f.value())); break;
            case FilterOp::kNe: cond = col + " <> " + binder.Bind(Param::Text(f.value())); break;
            case FilterOp::kLt: cond = col + " < " + binder.Bind(scalar(f.value())); break;
            case FilterOp::kGt: cond = col + " > " + binder.Bind(scalar(f.value())); break;
            case FilterOp::kLe: cond = col + " <= " + binder.Bind(scalar(f.value())); break;
            case FilterOp::kGe: cond = col + " >= " + binder.Bind(scalar(f.value())); break;
            case FilterOp::kIn:
            case FilterOp::kNotIn: {
              std::vector<Param> values;
              for (const auto& v : f.values()) values.push_back(Param::Text(v));
              if (values.empty()) {
                cond = f.op() == FilterOp::kIn ? "1=0" : "1=1";
              } else {
                cond = col + (f.op() == FilterOp::kIn ? " IN (" : " NOT IN (") +
                       binder.BindList(std::move(values)) + ")";
              }
              break;
            }
            case FilterOp::kRegex:
            case FilterOp::kNotRegex: {
              std::string match =
                  driver.RegexMatch(col, binder.Bind(Param::Text("^(?:" + f.value() + ")$")));
              if (match.empty()) {
                return InvalidArgument("ad-hoc filter {} {} \"{}\": {} has no regex match",
                                       f.key(), FilterOpName(f.op()), f.value(), driver.name());
              }
              cond = f.op() == FilterOp::kRegex ? match : "NOT (" + match + ")";
              break;
            }
          }
          if (!conditions.empty()) conditions += " AND ";
          conditions += cond;
          out.filters_in_sql.push_back(i);
        }
        text += conditions.empty() ? "1=1" : "(" + conditions + ")";
        break;
      }
    }
  }
  return out;
}

}  // namespace sluice::sql
