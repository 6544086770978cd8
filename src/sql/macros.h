// SqlTemplate: a target's SQL with its macros ($__timeFrom, $__filters, ...) parsed once, at
// startup, and expanded per request into statement text plus bound parameters.
//
// The security rule of SQL targets lives here: a value that comes from a request (time range,
// captures of the target text, payload fields, scoped variables, ad-hoc filter values) becomes a
// `$n` placeholder and a Param, never text. The only text a macro writes is fixed SQL (operators,
// BETWEEN, IN lists of placeholders) and column expressions from the config file. docs/sources.md
// lists every macro with an example.
//
// Parsing skips comments (-- and /* */); a macro inside a quoted string is an error (it would not
// be expanded), and so is a `$1`-style placeholder written by hand (numbering is ours).
// Thread safety: a built template is immutable; Expand may run on many threads at once.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "series/tag_filter.h"
#include "source/series_source.h"
#include "sql/driver.h"

namespace sluice::sql {

// Everything a request contributes to a statement. Views must outlive the Expand call.
struct MacroContext {
  TimeRange range;
  int64_t interval_ms = 0;
  int64_t max_data_points = 0;
  std::string_view target;  // the target text the statement answers ($__target)
  // Captures of the target's pattern, group 0 (the whole match) first; empty for literal names.
  std::vector<std::string_view> captures;
  std::string_view payload_json = "{}";      // $__payload(field)
  std::string_view scoped_vars_json = "{}";  // $__var(name)
  const std::vector<TagFilter>* filters = nullptr;  // $__filters; null means none
};

struct ExpandedSql {
  std::string text;
  std::vector<Param> params;  // params[n-1] binds `$n`
  // Indexes into MacroContext::filters of the filters $__filters turned into SQL; the caller
  // applies the others to the result (docs/sources.md, "Ad-hoc filters").
  std::vector<size_t> filters_in_sql;
};

class SqlTemplate {
 public:
  // Parses `sql`. `capture_names` maps named groups of the target's pattern to group numbers and
  // `capture_count` is the number of groups counting group 0, the whole match (0 for a literal
  // name: then $__capture is an error).
  // `filter_columns` is the target's key -> column map. Errors are InvalidArgument quoting the
  // offending fragment and its offset, e.g. `unknown macro "$__timeFrm" at offset 41`.
  static Result<SqlTemplate> Parse(std::string_view sql,
                                   const std::map<std::string, int>& capture_names,
                                   int capture_count,
                                   const std::map<std::string, std::string>& filter_columns);

  // Expands the macros for one request. `driver` spells timestamps and regex matches. Fails only
  // on a filter operator the driver cannot express (InvalidArgument naming it).
  Result<ExpandedSql> Expand(const MacroContext& context, const Driver& driver) const;

  // Whether the text uses $__filters.
  bool uses_filters() const { return uses_filters_; }

 private:
  enum class Macro {
    kTimeFrom, kTimeTo, kTimeFilter,
    kEpochFrom, kEpochTo, kEpochFilter,
    kEpochMsFrom, kEpochMsTo, kEpochMsFilter,
    kIntervalMs, kIntervalS, kMaxDataPoints,
    kTarget, kCapture, kPayload, kVar, kFilters,
  };
  struct Piece {
    std::string text;  // literal SQL before the macro
    bool has_macro = false;
    Macro macro = Macro::kTimeFrom;
    std::string arg;  // column expression, payload path or variable name
    int group = 0;    // $__capture
  };
  std::vector<Piece> pieces_;
  std::map<std::string, std::string> filter_columns_;
  bool uses_filters_ = false;
};

}  // namespace sluice::sql
