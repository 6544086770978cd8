// Ad-hoc filters on series tags (PROTOCOL.md §5.3).
//
// Operators: = != =~ !~ < > <= >= =| !=|. A series that lacks the key has the value "" for it.
// Regexes are anchored and run in RE2. Numeric comparisons compare as numbers when both sides
// parse as numbers, otherwise as strings. Several filters are ANDed.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "series/series.h"

namespace re2 {
class RE2;
}

namespace sluice {

enum class FilterOp { kEq, kNe, kRegex, kNotRegex, kLt, kGt, kLe, kGe, kIn, kNotIn };

// Parses an operator spelling; InvalidArgument naming it when unknown.
Result<FilterOp> ParseFilterOp(std::string_view op);
std::string_view FilterOpName(FilterOp op);

class TagFilter {
 public:
  // `values` is used by =| and !=|; when empty, `value` is split on '|' for them.
  static Result<TagFilter> Make(std::string key, FilterOp op, std::string value,
                                std::vector<std::string> values = {});

  const std::string& key() const { return key_; }
  FilterOp op() const { return op_; }
  const std::string& value() const { return value_; }
  const std::vector<std::string>& values() const { return values_; }

  bool Matches(const Tags& tags) const;
  bool MatchesValue(std::string_view v) const;

  // Same key, operator and value(s): used to merge `adhocFilters` with `filters`.
  bool SameAs(const TagFilter& other) const {
    return key_ == other.key_ && op_ == other.op_ && value_ == other.value_ &&
           values_ == other.values_;
  }

 private:
  std::string key_;
  FilterOp op_ = FilterOp::kEq;
  std::string value_;
  std::vector<std::string> values_;
  std::shared_ptr<const re2::RE2> regex_;
};

// True when every filter matches.
bool MatchesAll(const std::vector<TagFilter>& filters, const Tags& tags);

}  // namespace sluice
