#include "sql/source_config.h"

namespace sluice::sql {
namespace {

constexpr std::pair<TargetType, std::string_view> kTypeNames[] = {
    {TargetType::kTimeseries, "timeseries"}, {TargetType::kTable, "table"},
    {TargetType::kAnnotations, "annotations"}, {TargetType::kVariable, "variable"},
    {TargetType::kTagKeys, "tag_keys"},      {TargetType::kTagValues, "tag_values"},
};

}  // namespace

Result<TargetType> ParseTargetType(std::string_view text) {
  for (const auto& [type, name] : kTypeNames) {
    if (text == name) return type;
  }
  return InvalidArgument(
      "unknown target type \"{}\" (expected timeseries, table, annotations, variable, tag_keys or "
      "tag_values)",
      text);
}

std::string_view TargetTypeName(TargetType type) {
  for (const auto& [t, name] : kTypeNames) {
    if (t == type) return name;
  }
  return "timeseries";
}

}  // namespace sluice::sql
