#include "source/series_source.h"

#include <algorithm>
#include <cctype>

#include "common/strings.h"

namespace sluice {
namespace {

bool WordMatches(std::string_view word, const Annotation& event) {
  bool has_glob = word.find_first_of("*?[{") != std::string_view::npos;
  NameMatcher glob;
  if (has_glob) glob = NameMatcher::Compile(word);
  for (const auto& tag : event.tags) {
    if (has_glob ? glob.Matches(tag) : EqualsIgnoreCase(tag, word)) return true;
  }
  if (has_glob) return false;
  return ContainsIgnoreCase(event.title, word) || ContainsIgnoreCase(event.text, word);
}

}  // namespace

bool MatchesAnnotationQuery(std::string_view query, const Annotation& event) {
  size_t i = 0;
  while (i < query.size()) {
    while (i < query.size() && (std::isspace(static_cast<unsigned char>(query[i])) || query[i] == ','))
      ++i;
    size_t start = i;
    int braces = 0;
    while (i < query.size()) {
      char c = query[i];
      if (c == '{') ++braces;
      if (c == '}') --braces;
      if (braces <= 0 && (std::isspace(static_cast<unsigned char>(c)) || c == ',')) break;
      ++i;
    }
    std::string_view word = query.substr(start, i - start);
    if (!word.empty() && word.front() == '#') word.remove_prefix(1);
    if (!word.empty() && !WordMatches(word, event)) return false;
  }
  return true;
}

}  // namespace sluice
