// The Alias group (alias, aliasByNode, aliasByMetric, aliasByTags, aliasSub) and substr, with
// graphite-web 1.1.8's semantics: they rename series and leave values, tags and path expressions
// alone. Also the node/tag key helpers of naming_util.h.
#include <re2/re2.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "expr/functions/naming_util.h"
#include "expr/kernels.h"

namespace sluice::expr {

NodeOrTag NodeFromValue(const Value& value) {
  NodeOrTag n;
  if (value.kind == Value::Kind::kNumber && std::isfinite(value.number) &&
      value.number == std::trunc(value.number) && std::fabs(value.number) < 1e15) {
    n.is_node = true;
    n.node = static_cast<int64_t>(value.number);
  } else if (value.kind == Value::Kind::kBool) {
    n.is_node = true;  // Python: True == int(True), so a boolean indexes like 0/1
    n.node = value.boolean ? 1 : 0;
  } else if (value.kind == Value::Kind::kString) {
    n.tag = value.text;
  } else if (value.kind == Value::Kind::kNumber) {
    n.tag = FormatPyFloat(value.number);
  }
  return n;
}

std::vector<NodeOrTag> NodesFromValues(const std::vector<Value>& values) {
  std::vector<NodeOrTag> out;
  out.reserve(values.size());
  for (const Value& v : values) out.push_back(NodeFromValue(v));
  return out;
}

namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// A graphite literal argument: a number, boolean, None or inf (case-insensitive keywords).
bool IsLiteralArgument(std::string_view arg) {
  static const re2::RE2 kLiteral(R"((?i)-?\d+(\.\d+)?([eE]-?\d+)?|true|false|none|inf)");
  return re2::RE2::FullMatch(re2::StringPiece(arg.data(), arg.size()), kLiteral);
}

}  // namespace

std::optional<std::string> FirstPathExpression(std::string_view name) {
  // Scanned rather than parsed: names carry what graphite's grammar accepts in paths but ours
  // does not (tagged names such as "scale(cpu;dc=east,2)").
  std::string_view rest = name;
  while (true) {
    while (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
    size_t i = 0;
    while (i < rest.size() && IsNameChar(rest[i])) ++i;
    if (i == 0 || i == rest.size() || rest[i] != '(' || (rest[0] >= '0' && rest[0] <= '9')) break;
    rest.remove_prefix(i + 1);
  }
  size_t end = 0;
  int braces = 0;
  for (; end < rest.size(); ++end) {
    const char c = rest[end];
    if (c == '\\') {
      ++end;
    } else if (c == '{') {
      ++braces;
    } else if (c == '}') {
      --braces;
    } else if (braces <= 0 && (c == ',' || c == ')')) {
      break;
    }
  }
  std::string_view arg = rest.substr(0, std::min(end, rest.size()));
  while (!arg.empty() && arg.back() == ' ') arg.remove_suffix(1);
  if (arg.empty() || arg[0] == '\'' || arg[0] == '"' || arg[0] == '(' || IsLiteralArgument(arg)) {
    return std::nullopt;
  }
  // graphite's grammar drops the backslash of an escaped path character.
  std::string path;
  path.reserve(arg.size());
  for (size_t i = 0; i < arg.size(); ++i) {
    if (arg[i] == '\\' && i + 1 < arg.size()) ++i;
    path.push_back(arg[i]);
  }
  return path;
}

std::string AggKey(const TimeSeries& series, const std::vector<NodeOrTag>& nodes) {
  std::optional<std::string> first;
  if (!series.name.empty() && series.name.back() == ')') first = FirstPathExpression(series.name);
  std::string_view base = first ? std::string_view(*first) : std::string_view(series.name);
  base = base.substr(0, base.find(';'));
  std::vector<std::string_view> parts;
  size_t begin = 0;
  for (size_t i = 0; i <= base.size(); ++i) {
    if (i == base.size() || base[i] == '.') {
      parts.push_back(base.substr(begin, i - begin));
      begin = i + 1;
    }
  }
  const auto count = static_cast<int64_t>(parts.size());
  std::string key;
  for (size_t k = 0; k < nodes.size(); ++k) {
    if (k > 0) key.push_back('.');
    const NodeOrTag& n = nodes[k];
    if (n.is_node) {
      int64_t index = n.node < 0 ? n.node + count : n.node;
      if (index >= 0 && index < count) {
        key += parts[static_cast<size_t>(index)];
      } else {
        key += series.tags.Get(std::to_string(n.node));  // graphite falls back to a tag lookup
      }
    } else {
      key += series.tags.Get(n.tag);
    }
  }
  return key;
}

namespace {

// One piece of a parsed Python replacement template: literal text, or a group's match.
struct TemplatePiece {
  std::string literal;
  int group = -1;  // >= 0: the group's text (empty when the group did not participate)
};

void AppendCodePoint(unsigned cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else {  // octal escapes stop at 0o377
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsOctal(char c) { return c >= '0' && c <= '7'; }
bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsIdentifier(std::string_view s) {
  if (s.empty() || IsDigit(s[0])) return false;
  for (char c : s) {
    if (!IsAsciiLetter(c) && !IsDigit(c) && c != '_' && static_cast<unsigned char>(c) < 0x80) {
      return false;
    }
  }
  return true;
}

// Python's sre_parse.parse_template: \1..\99 and \g<n>/\g<name> are groups, \0 and three-digit
// octal escapes are characters, \n \t \r \f \v \a \b \\ are control characters, any other escaped
// non-letter stays as written (backslash included), and an escaped ASCII letter is an error.
Result<std::vector<TemplatePiece>> ParseTemplate(std::string_view repl, const re2::RE2& re) {
  std::vector<TemplatePiece> pieces(1);
  const int groups = re.NumberOfCapturingGroups();
  auto add_group = [&](int64_t index) -> Status {
    if (index > groups) {
      return InvalidArgument("aliasSub: invalid group reference {} in replacement '{}'", index,
                             repl);
    }
    pieces.push_back(TemplatePiece{{}, static_cast<int>(index)});
    pieces.emplace_back();
    return Status::OK();
  };
  for (size_t i = 0; i < repl.size(); ++i) {
    std::string& lit = pieces.back().literal;
    if (repl[i] != '\\') {
      lit.push_back(repl[i]);
      continue;
    }
    if (i + 1 == repl.size()) {
      return InvalidArgument("aliasSub: bad escape (end of pattern) in replacement '{}'", repl);
    }
    const char c = repl[++i];
    if (c == 'g') {
      if (i + 1 >= repl.size() || repl[i + 1] != '<') {
        return InvalidArgument("aliasSub: missing < after \\g in replacement '{}'", repl);
      }
      size_t close = repl.find('>', i + 2);
      if (close == std::string_view::npos) {
        return InvalidArgument("aliasSub: missing >, unterminated name in replacement '{}'", repl);
      }
      std::string_view name = repl.substr(i + 2, close - i - 2);
      i = close;
      if (IsIdentifier(name)) {
        const auto& named = re.NamedCapturingGroups();
        auto it = named.find(std::string(name));
        if (it == named.end()) {
          return InvalidArgument("aliasSub: unknown group name '{}' in replacement '{}'", name,
                                 repl);
        }
        SLUICE_RETURN_IF_ERROR(add_group(it->second));
        continue;
      }
      int64_t index = 0;
      bool ok = !name.empty() && name.size() < 10;
      for (char d : name) ok = ok && IsDigit(d);
      if (!ok) {
        return InvalidArgument("aliasSub: bad character in group name '{}' in replacement '{}'",
                               name, repl);
      }
      for (char d : name) index = index * 10 + (d - '0');
      SLUICE_RETURN_IF_ERROR(add_group(index));
      continue;
    }
    if (c == '0') {
      unsigned value = 0;
      for (int k = 0; k < 2 && i + 1 < repl.size() && IsOctal(repl[i + 1]); ++k) {
        value = value * 8 + static_cast<unsigned>(repl[++i] - '0');
      }
      AppendCodePoint(value, &lit);
      continue;
    }
    if (IsDigit(c)) {
      if (i + 1 < repl.size() && IsDigit(repl[i + 1])) {
        const char d = repl[++i];
        if (IsOctal(c) && IsOctal(d) && i + 1 < repl.size() && IsOctal(repl[i + 1])) {
          const char e = repl[++i];
          unsigned value = static_cast<unsigned>((c - '0') * 64 + (d - '0') * 8 + (e - '0'));
          if (value > 0377) {
            return InvalidArgument(
                "aliasSub: octal escape value \\{}{}{} outside of range 0-0o377 "
                "in replacement '{}'",
                c, d, e, repl);
          }
          AppendCodePoint(value, &lit);
          continue;
        }
        SLUICE_RETURN_IF_ERROR(add_group((c - '0') * 10 + (d - '0')));
        continue;
      }
      SLUICE_RETURN_IF_ERROR(add_group(c - '0'));
      continue;
    }
    switch (c) {
      case 'a':
        lit.push_back('\a');
        continue;
      case 'b':
        lit.push_back('\b');
        continue;
      case 'f':
        lit.push_back('\f');
        continue;
      case 'n':
        lit.push_back('\n');
        continue;
      case 'r':
        lit.push_back('\r');
        continue;
      case 't':
        lit.push_back('\t');
        continue;
      case 'v':
        lit.push_back('\v');
        continue;
      case '\\':
        lit.push_back('\\');
        continue;
      default:
        break;
    }
    if (IsAsciiLetter(c)) {
      return InvalidArgument("aliasSub: bad escape \\{} in replacement '{}'", c, repl);
    }
    lit.push_back('\\');
    lit.push_back(c);
  }
  return pieces;
}

size_t Utf8Length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

// Python's re.sub(pattern, template, text) with every match replaced: empty matches count, except
// one at the position where the previous match (an empty one) ended.
std::string PythonSub(const re2::RE2& re, const std::vector<TemplatePiece>& pieces,
                      std::string_view text, std::vector<re2::StringPiece>* groups) {
  std::string out;
  const int n = static_cast<int>(groups->size());
  size_t pos = 0;
  size_t copied = 0;
  bool must_advance = false;
  while (pos <= text.size()) {
    re2::StringPiece whole(text.data(), text.size());
    if (!re.Match(whole, pos, text.size(), re2::RE2::UNANCHORED, groups->data(), n)) break;
    size_t begin = static_cast<size_t>((*groups)[0].data() - text.data());
    size_t end = begin + (*groups)[0].size();
    if (must_advance && begin == pos && end == pos) {
      if (pos == text.size()) break;
      size_t next = pos + Utf8Length(static_cast<unsigned char>(text[pos]));
      if (!re.Match(whole, next, text.size(), re2::RE2::UNANCHORED, groups->data(), n)) break;
      begin = static_cast<size_t>((*groups)[0].data() - text.data());
      end = begin + (*groups)[0].size();
    }
    out.append(text.substr(copied, begin - copied));
    for (const TemplatePiece& p : pieces) {
      if (p.group < 0) {
        out += p.literal;
      } else {
        const re2::StringPiece& g = (*groups)[static_cast<size_t>(p.group)];
        if (g.data() != nullptr) out.append(g.data(), g.size());
      }
    }
    copied = end;
    must_advance = begin == end;
    pos = end;
  }
  out.append(text.substr(copied));
  return out;
}

// Python's list slicing [start:stop] (stop absent when !has_stop) of '.'-separated parts.
std::string SliceParts(std::string_view text, int64_t start, int64_t stop, bool has_stop) {
  std::vector<std::string_view> parts;
  size_t begin = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '.') {
      parts.push_back(text.substr(begin, i - begin));
      begin = i + 1;
    }
  }
  const auto n = static_cast<int64_t>(parts.size());
  auto clamp = [n](int64_t i) {
    if (i < 0) i += n;
    return i < 0 ? 0 : (i > n ? n : i);
  };
  const int64_t from = clamp(start);
  const int64_t to = has_stop ? clamp(stop) : n;
  std::string out;
  for (int64_t i = from; i < to; ++i) {
    if (i > from) out.push_back('.');
    out += parts[static_cast<size_t>(i)];
  }
  return out;
}

// graphite's substr(): the call's innermost argument text, sliced by '.'-separated parts, cut at
// the first ','.
std::string SubstrName(std::string_view name, int64_t start, int64_t stop) {
  const size_t open = name.rfind('(');
  const size_t left = open == std::string_view::npos ? 0 : open + 1;
  const size_t close = name.find(')');
  const size_t right = close == std::string_view::npos ? name.size() : close;
  std::string_view clean = right > left ? name.substr(left, right - left) : std::string_view();
  std::string out = SliceParts(clean, start, stop, stop != 0);
  const size_t comma = out.find(',');
  if (comma != std::string::npos) out.resize(comma);
  return out;
}

Status Alias(EvalContext&, CallArgs& args, SeriesList* out) {
  std::string_view name = args.string(1, "");
  for (TimeSeries& s : args.series(0)) {
    s.name = std::string(name);
    out->push_back(std::move(s));
  }
  return Status::OK();
}

Status AliasByNodes(EvalContext&, CallArgs& args, SeriesList* out) {
  const std::vector<NodeOrTag> nodes = NodesFromValues(args.rest());
  for (TimeSeries& s : args.series(0)) {
    s.name = AggKey(s, nodes);
    out->push_back(std::move(s));
  }
  return Status::OK();
}

Status Substr(EvalContext&, CallArgs& args, SeriesList* out) {
  const int64_t start = args.integer(1, 0);
  const int64_t stop = args.integer(2, 0);
  for (TimeSeries& s : args.series(0)) {
    s.name = SubstrName(s.name, start, stop);
    out->push_back(std::move(s));
  }
  return Status::OK();
}

Status AliasByMetric(EvalContext&, CallArgs& args, SeriesList* out) {
  for (TimeSeries& s : args.series(0)) {
    s.name = SubstrName(s.name, -1, 0);
    out->push_back(std::move(s));
  }
  return Status::OK();
}

Status AliasSub(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  const std::string search(args.string(1, ""));
  const std::string_view replace = args.string(2, "");
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(8 << 20);
  re2::RE2 re(search, options);
  if (!re.ok()) {
    return InvalidArgument("aliasSub: invalid regex '{}' in argument 2 (search): {}", search,
                           re.error());
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<TemplatePiece> pieces, ParseTemplate(replace, re));
  std::vector<re2::StringPiece> groups(static_cast<size_t>(re.NumberOfCapturingGroups()) + 1);
  size_t done = 0;
  for (TimeSeries& s : args.series(0)) {
    if ((++done & 255) == 0) SLUICE_RETURN_IF_ERROR(ctx.CheckDeadline());
    s.name = PythonSub(re, pieces, s.name, &groups);
    out->push_back(std::move(s));
  }
  return Status::OK();
}

ParamSpec SeriesListParam() {
  return ParamSpec{.name = "seriesList", .type = ArgType::kSeriesList, .required = true};
}

ParamSpec NodesParam(std::string name) {
  return ParamSpec{
      .name = std::move(name), .type = ArgType::kNodeOrTag, .required = true, .multiple = true};
}

}  // namespace

void RegisterNamingFunctions(Registry* registry) {
  AddFunctionOrDie(
      registry,
      {.name = "alias",
       .group = "Alias",
       .description = "Renames every series of the list to `newName`. Values, tags and the path "
                      "expression stay as they were.",
       .example = "alias(Sales.widgets.largeBlue, 'Large Blue Widgets')",
       .params = {SeriesListParam(),
                  ParamSpec{.name = "newName", .type = ArgType::kString, .required = true}},
       .impl = Alias});
  AddFunctionOrDie(
      registry,
      {.name = "aliasByNode",
       .group = "Alias",
       .description =
           "Renames each series to the given nodes of its path joined with '.'. A node is a "
           "0-based position in the dot-separated path (negative positions count from the end) or "
           "a tag name; for a series computed by a function the path is the first path inside "
           "its name, and a position outside the path reads the tag of that number (empty when "
           "absent).",
       .example = "aliasByNode(ganglia.*.cpu.load5, 1)",
       .params = {SeriesListParam(), NodesParam("nodes")},
       .impl = AliasByNodes});
  AddFunctionOrDie(
      registry,
      {.name = "aliasByTags",
       .group = "Alias",
       .description = "Renames each series to the values of the given tags (or path nodes, as "
                      "aliasByNode reads them) joined with '.'. A tag the series lacks reads as "
                      "empty.",
       .example = "aliasByTags(seriesByTag('name=cpu'), 'server', 'name')",
       .params = {SeriesListParam(), NodesParam("tags")},
       .impl = AliasByNodes});
  AddFunctionOrDie(
      registry,
      {.name = "aliasByMetric",
       .group = "Alias",
       .description = "Renames each series to the last node of its path: the metric name, "
                      "without the nodes before it or the function calls around it.",
       .example = "aliasByMetric(carbon.agents.graphite.creates)",
       .params = {SeriesListParam()},
       .impl = AliasByMetric});
  AddFunctionOrDie(
      registry,
      {.name = "aliasSub",
       .group = "Alias",
       .description =
           "Renames each series by a regular-expression search and replace over its name, every "
           "match replaced, as Python's re.sub does. The replacement may refer to groups as "
           "`\\1` or `\\g<name>`. Regexes run in RE2: look-around and back-references are not "
           "supported.",
       .example = "aliasSub(ip.*TCP*, '^.*TCP(\\d+)', '\\1')",
       .params = {SeriesListParam(),
                  ParamSpec{.name = "search", .type = ArgType::kString, .required = true},
                  ParamSpec{.name = "replace", .type = ArgType::kString, .required = true}},
       .impl = AliasSub});
  AddFunctionOrDie(
      registry,
      {.name = "substr",
       .group = "Special",
       .description =
           "Renames each series to a slice of the dot-separated nodes of its path: nodes `start` "
           "up to but not including `stop` (0 = to the end; negative values count from the end). "
           "For a series computed by a function, the innermost argument of its name is sliced.",
       .example = "substr(carbon.agents.hostname.avgUpdateTime, 2, 4)",
       .params = {SeriesListParam(),
                  ParamSpec{.name = "start", .type = ArgType::kNode, .default_value = "0"},
                  ParamSpec{.name = "stop", .type = ArgType::kNode, .default_value = "0"}},
       .impl = Substr});
}

}  // namespace sluice::expr
