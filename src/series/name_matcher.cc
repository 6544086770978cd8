#include "series/name_matcher.h"

#include <re2/re2.h>

namespace sluice {
namespace {

constexpr std::string_view kRegexMeta = "\\^$*+?.()|[]{}/";
constexpr std::string_view kRegexOperators = "()|^$+";
constexpr std::string_view kGlobChars = "*?[{";

bool IsIn(char c, std::string_view set) { return set.find(c) != std::string_view::npos; }

// True when `text` has a character from `set` that is not escaped by a backslash.
bool HasUnescaped(std::string_view text, std::string_view set) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
      continue;
    }
    if (IsIn(text[i], set)) return true;
  }
  return false;
}

std::shared_ptr<const re2::RE2> CompileAnchored(const std::string& pattern) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(8 << 20);
  auto re = std::make_shared<re2::RE2>("^(?:" + pattern + ")$", options);
  if (!re->ok()) return nullptr;
  return re;
}

// Splits "(a|b\.c)" or "a|b" at top-level '|' into literal alternatives; false if any is not a
// literal.
bool SplitLiteralAlternation(std::string_view text, std::vector<std::string>* out) {
  if (text.size() >= 2 && text.front() == '(' && text.back() == ')') {
    text = text.substr(1, text.size() - 2);
  }
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] == '\\') {
      ++i;
      continue;
    }
    if (i == text.size() || text[i] == '|') {
      std::string literal;
      if (!NameMatcher::UnescapeLiteral(text.substr(start, i - start), &literal)) return false;
      out->push_back(std::move(literal));
      start = i + 1;
    }
  }
  return true;
}

}  // namespace

bool NameMatcher::UnescapeLiteral(std::string_view text, std::string* literal) {
  literal->clear();
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\') {
      if (i + 1 >= text.size() || !IsIn(text[i + 1], kRegexMeta)) return false;
      literal->push_back(text[++i]);
      continue;
    }
    // '.' and '/' are ordinary characters in metric names.
    if (c != '.' && c != '/' && IsIn(c, kRegexMeta)) return false;
    literal->push_back(c);
  }
  return true;
}

bool NameMatcher::GlobToRegex(std::string_view glob, std::string* regex) {
  regex->clear();
  int brace_depth = 0;
  for (size_t i = 0; i < glob.size(); ++i) {
    char c = glob[i];
    switch (c) {
      case '*': regex->append("[^.]*"); break;
      case '?': regex->append("[^.]"); break;
      case '[': {
        size_t end = glob.find(']', i + 1);
        if (end == std::string_view::npos || end == i + 1) return false;
        regex->push_back('[');
        for (size_t j = i + 1; j < end; ++j) {
          char k = glob[j];
          if (k == '!' && j == i + 1) {
            regex->push_back('^');
          } else if (k == '\\' || k == '[') {
            regex->push_back('\\');
            regex->push_back(k);
          } else {
            regex->push_back(k);
          }
        }
        regex->push_back(']');
        i = end;
        break;
      }
      case '{': regex->append("(?:"); ++brace_depth; break;
      case '}':
        if (brace_depth == 0) return false;
        regex->push_back(')');
        --brace_depth;
        break;
      case ',':
        if (brace_depth > 0) {
          regex->push_back('|');
        } else {
          regex->push_back(',');
        }
        break;
      case '\\':
        if (i + 1 < glob.size()) {
          regex->append(re2::RE2::QuoteMeta(std::string(1, glob[++i])));
        } else {
          regex->append("\\\\");
        }
        break;
      default: regex->append(re2::RE2::QuoteMeta(std::string(1, c)));
    }
  }
  return brace_depth == 0;
}

NameMatcher NameMatcher::Compile(std::string_view text) {
  NameMatcher m;
  std::string literal;
  if (UnescapeLiteral(text, &literal)) {
    m.kind_ = Kind::kExact;
    m.exact_.push_back(std::move(literal));
    return m;
  }
  std::string source(text);
  if (HasUnescaped(text, kRegexOperators)) {
    std::vector<std::string> alternatives;
    if (SplitLiteralAlternation(text, &alternatives)) {
      m.kind_ = Kind::kExact;
      m.exact_ = std::move(alternatives);
      return m;
    }
    if (auto re = CompileAnchored(source)) {
      m.kind_ = Kind::kRegex;
      m.primary_ = std::move(re);
      return m;
    }
  }
  std::string glob_regex;
  if (HasUnescaped(text, kGlobChars) && GlobToRegex(text, &glob_regex)) {
    if (auto re = CompileAnchored(glob_regex)) {
      m.kind_ = Kind::kGlob;
      m.primary_ = std::move(re);
      m.fallback_ = CompileAnchored(source);
      return m;
    }
  }
  m.kind_ = Kind::kExact;
  m.exact_.push_back(source);
  return m;
}

namespace {

// GlobToRegex's rules plus '(' '|' ')' alternation groups; false when groups are unbalanced.
bool PathToRegex(std::string_view path, std::string* regex, bool* literal) {
  regex->clear();
  *literal = true;
  int group_depth = 0;
  int brace_depth = 0;
  size_t piece_start = 0;
  auto flush_glob = [&](size_t end) {
    std::string part;
    std::string_view piece = path.substr(piece_start, end - piece_start);
    if (!NameMatcher::GlobToRegex(piece, &part)) return false;
    if (HasUnescaped(piece, kGlobChars)) *literal = false;
    regex->append(part);
    return true;
  };
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '\\') {
      ++i;
      continue;
    }
    if (c == '{') ++brace_depth;
    if (c == '}') --brace_depth;
    if (brace_depth > 0) continue;
    if (c == '(' || c == ')' || (c == '|' && group_depth > 0)) {
      if (!flush_glob(i)) return false;
      piece_start = i + 1;
      if (c == '(') {
        regex->append("(?:");
        ++group_depth;
      } else if (c == ')') {
        if (group_depth == 0) return false;
        regex->push_back(')');
        --group_depth;
      } else {
        regex->push_back('|');
      }
      *literal = false;
    }
  }
  return group_depth == 0 && flush_glob(path.size());
}

}  // namespace

NameMatcher NameMatcher::CompilePath(std::string_view path) {
  NameMatcher m;
  std::string regex;
  bool literal = false;
  if (PathToRegex(path, &regex, &literal)) {
    if (literal) {
      // No globs or groups: the unescaped text is the one name.
      std::string name;
      for (size_t i = 0; i < path.size(); ++i) {
        if (path[i] == '\\' && i + 1 < path.size()) ++i;
        name.push_back(path[i]);
      }
      m.kind_ = Kind::kExact;
      m.exact_.push_back(std::move(name));
      return m;
    }
    if (auto re = CompileAnchored(regex)) {
      m.kind_ = Kind::kGlob;
      m.primary_ = std::move(re);
      return m;
    }
  }
  m.kind_ = Kind::kExact;
  m.exact_.emplace_back(path);
  return m;
}

bool NameMatcher::Matches(std::string_view name) const {
  if (kind_ == Kind::kExact) {
    for (const auto& e : exact_) {
      if (e == name) return true;
    }
    return false;
  }
  return re2::RE2::FullMatch(re2::StringPiece(name.data(), name.size()), *primary_);
}

std::vector<size_t> NameMatcher::MatchAll(const std::vector<std::string_view>& names) const {
  std::vector<size_t> hits;
  for (size_t i = 0; i < names.size(); ++i) {
    if (Matches(names[i])) hits.push_back(i);
  }
  if (hits.empty() && fallback_) {
    for (size_t i = 0; i < names.size(); ++i) {
      if (re2::RE2::FullMatch(re2::StringPiece(names[i].data(), names[i].size()), *fallback_)) {
        hits.push_back(i);
      }
    }
  }
  return hits;
}

}  // namespace sluice
