#include "source/series_source.h"

#include <algorithm>
#include <cctype>

#include "common/strings.h"

namespace sluice {
AnnotationQuery::AnnotationQuery(std::string_view query) {
  size_t i = 0;
  while (i < query.size()) {
    while (i < query.size() && (std::isspace(static_cast<unsigned char>(query[i])) || query[i] == ',')) {
      ++i;
    }
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
    if (word.empty()) continue;
    Word w;
    w.text = std::string(word);
    w.glob = word.find_first_of("*?[{") != std::string_view::npos;
    if (w.glob) w.matcher = NameMatcher::Compile(word);
    words_.push_back(std::move(w));
  }
}

bool AnnotationQuery::Matches(const Annotation& event) const {
  for (const Word& w : words_) {
    bool hit = false;
    for (const auto& tag : event.tags) {
      hit = w.glob ? w.matcher.Matches(tag) : EqualsIgnoreCase(tag, w.text);
      if (hit) break;
    }
    if (!hit && !w.glob) {
      hit = ContainsIgnoreCase(event.title, w.text) || ContainsIgnoreCase(event.text, w.text);
    }
    if (!hit) return false;
  }
  return true;
}

}  // namespace sluice
