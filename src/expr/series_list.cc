#include "expr/series_list.h"

namespace sluice::expr {

Tags TagsFromName(std::string_view name) {
  Tags tags;
  size_t semi = name.find(';');
  if (semi == std::string_view::npos) {
    tags.Set("name", std::string(name));
    return tags;
  }
  tags.Set("name", std::string(name.substr(0, semi)));
  while (semi != std::string_view::npos) {
    size_t start = semi + 1;
    semi = name.find(';', start);
    std::string_view pair = name.substr(start, semi == std::string_view::npos ? semi : semi - start);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    tags.Set(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1)));
  }
  return tags;
}

std::string TaggedName(std::string_view metric, const Tags& tags) {
  std::string out(metric);
  for (const auto& [key, value] : tags.pairs()) {
    if (key == "name") continue;
    out.push_back(';');
    out += key;
    out.push_back('=');
    out += value;
  }
  return out;
}

}  // namespace sluice::expr
