// Small string helpers shared across modules.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

// Sorts and removes duplicates.
inline void SortUnique(std::vector<std::string>* values) {
  std::sort(values->begin(), values->end());
  values->erase(std::unique(values->begin(), values->end()), values->end());
}

// Case-insensitive (ASCII) substring test.
bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle);
// Case-insensitive (ASCII) equality.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace sluice
