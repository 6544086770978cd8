#include "series/series.h"

#include <algorithm>

namespace sluice {

Tags::Tags(std::initializer_list<std::pair<std::string, std::string>> pairs) {
  for (const auto& [k, v] : pairs) Set(k, v);
}

void Tags::Set(std::string key, std::string value) {
  auto it = std::lower_bound(pairs_.begin(), pairs_.end(), key,
                             [](const auto& p, const std::string& k) { return p.first < k; });
  if (it != pairs_.end() && it->first == key) {
    it->second = std::move(value);
  } else {
    pairs_.insert(it, {std::move(key), std::move(value)});
  }
}

void Tags::Erase(std::string_view key) {
  auto it = std::lower_bound(pairs_.begin(), pairs_.end(), key,
                             [](const auto& pair, std::string_view k) { return pair.first < k; });
  if (it != pairs_.end() && it->first == key) pairs_.erase(it);
}

std::string_view Tags::Get(std::string_view key) const {
  auto it = std::lower_bound(pairs_.begin(), pairs_.end(), key,
                             [](const auto& p, std::string_view k) { return p.first < k; });
  if (it != pairs_.end() && it->first == key) return it->second;
  return {};
}

bool Tags::Has(std::string_view key) const {
  auto it = std::lower_bound(pairs_.begin(), pairs_.end(), key,
                             [](const auto& p, std::string_view k) { return p.first < k; });
  return it != pairs_.end() && it->first == key;
}

std::string_view ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kTime: return "time";
    case ColumnType::kNumber: return "number";
    case ColumnType::kString: return "string";
    case ColumnType::kBoolean: return "boolean";
  }
  return "string";
}

}  // namespace sluice
