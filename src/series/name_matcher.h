// NameMatcher: resolves a target text to the series names the user meant.
//
// Target text reaches the server in several forms (PROTOCOL.md §7): a plain name ("upper_25",
// "app.web-1.requests"), a regex-escaped value from a template variable ("prod\.1"), a multi-value
// alternation ("(a|b\.c)"), a Graphite glob ("app.*.requests", "{a,b}", "host[0-9]") or a raw regex
// from a custom "All" value ("upper_.*"). Resolution order:
//   1. a literal (after removing regex escapes) or an alternation of literals: exact names;
//   2. text with regex operators ( ( ) | ^ $ + ): an anchored RE2 regex;
//   3. text with glob characters ( * ? [ { ): a Graphite glob, where * and ? never cross a '.';
//      when the glob matches nothing and the text is also a valid regex, the regex is tried.
// Regexes run in RE2 (linear time), never std::regex. Matching is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace re2 {
class RE2;
}

namespace sluice {

class NameMatcher {
 public:
  enum class Kind { kExact, kRegex, kGlob };

  // Never fails: text that is neither a valid regex nor a valid glob is matched literally.
  static NameMatcher Compile(std::string_view text);

  // A path inside a Graphite expression, with graphite-web's semantics and no regex fallback:
  // globs (* ? [..] {a,b}) never cross a '.', backslash escapes are literals ("prod\.1"), and a
  // parenthesised group with '|' is an alternation of such pieces ("app.(web\-1|db).cpu", as
  // Grafana interpolates multi-value variables). Anything else, '+', '^' and '$' included, is a
  // literal character. Unbalanced groups match literally.
  static NameMatcher CompilePath(std::string_view path);

  Kind kind() const { return kind_; }
  // For kExact, the names to look up; empty otherwise.
  const std::vector<std::string>& exact_names() const { return exact_; }

  // Whether `name` matches the primary pattern.
  bool Matches(std::string_view name) const;
  // Indexes into `names` of the matching names, applying the fallback rule above.
  std::vector<size_t> MatchAll(const std::vector<std::string_view>& names) const;

  // Converts a Graphite glob to an anchored RE2 pattern; false when the glob is malformed
  // (unbalanced [ or {).
  static bool GlobToRegex(std::string_view glob, std::string* regex);
  // Removes regex escapes ("prod\.1" -> "prod.1") when the text is a literal; false otherwise.
  static bool UnescapeLiteral(std::string_view text, std::string* literal);

 private:
  Kind kind_ = Kind::kExact;
  std::vector<std::string> exact_;
  std::shared_ptr<const re2::RE2> primary_;
  std::shared_ptr<const re2::RE2> fallback_;
};

}  // namespace sluice
