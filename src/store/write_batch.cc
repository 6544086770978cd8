#include "store/write_batch.h"

namespace sluice::store {

std::string_view ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kFloat: return "float";
    case ValueType::kInteger: return "integer";
    case ValueType::kBoolean: return "boolean";
  }
  return "float";
}

std::string SeriesKey(std::string_view name, const Tags& tags) {
  std::string key(name);
  for (const auto& [k, v] : tags.pairs()) {
    key.push_back('\0');
    key += k;
    key.push_back('\0');
    key += v;
  }
  return key;
}

void ParseSeriesKey(std::string_view key, std::string* name, Tags* tags) {
  size_t end = key.find('\0');
  *name = std::string(key.substr(0, end));
  *tags = Tags();
  while (end != std::string_view::npos) {
    size_t k_start = end + 1;
    size_t k_end = key.find('\0', k_start);
    if (k_end == std::string_view::npos) break;
    size_t v_start = k_end + 1;
    end = key.find('\0', v_start);
    std::string_view value =
        key.substr(v_start, end == std::string_view::npos ? std::string_view::npos : end - v_start);
    tags->Set(std::string(key.substr(k_start, k_end - k_start)), std::string(value));
  }
}

std::string JoinAnnotationTags(const std::vector<std::string>& tags) {
  std::string joined;
  for (const auto& t : tags) {
    if (!joined.empty()) joined.push_back('\x1f');
    joined += t;
  }
  return joined;
}

void SplitAnnotationTags(std::string_view joined, std::vector<std::string>* out) {
  while (!joined.empty()) {
    size_t end = joined.find('\x1f');
    out->emplace_back(joined.substr(0, end));
    if (end == std::string_view::npos) break;
    joined.remove_prefix(end + 1);
  }
}

uint32_t WriteBatch::AddSeries(const std::string& key, ValueType type, size_t line) {
  scratch_.assign(key);
  scratch_.push_back(static_cast<char>(type));
  auto it = index_.find(scratch_);  // no allocation on the common path: the series is known
  if (it != index_.end()) return it->second;
  auto index = static_cast<uint32_t>(series_.size());
  index_.emplace(scratch_, index);
  series_.push_back({key, type, line});
  return index;
}

void WriteBatch::Clear() {
  series_.clear();
  points_.clear();
  index_.clear();
}

}  // namespace sluice::store
