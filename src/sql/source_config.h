// SourceConfig: one `[[sources]]` entry of the config file (docs/sources.md), as app/config.cc
// parsed it. It is plain data: nothing here is compiled or checked beyond types and required keys;
// sql/sources.h builds a SeriesSource from it and reports what is wrong with the SQL or patterns.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sluice::sql {

// What a target answers (docs/sources.md, "Target types").
enum class TargetType { kTimeseries, kTable, kAnnotations, kVariable, kTagKeys, kTagValues };

// "timeseries", "table", "annotations", "variable", "tag_keys", "tag_values"; InvalidArgument
// listing them otherwise.
Result<TargetType> ParseTargetType(std::string_view text);
std::string_view TargetTypeName(TargetType type);

struct TargetConfig {
  // Exactly one of `name` (a literal target name) and `pattern` (an RE2 regex that must match the
  // whole target text; its capture groups feed $__capture) is set, except for annotations and
  // tag_keys targets, where both are optional.
  std::string name;
  std::string pattern;
  TargetType type = TargetType::kTimeseries;
  std::string sql;
  // Ad-hoc filter key -> SQL column expression, for $__filters. Column text comes only from here.
  std::map<std::string, std::string> filter_columns;
  // Names listed by /search and /metrics for a pattern target (a pattern itself is not listed).
  std::vector<std::string> examples;
  std::string where;  // "sources[0].targets[2]", for messages
};

struct SourceConfig {
  std::string name;  // unique among sources; names the source in every message
  std::string kind;  // "postgresql", "sqlite" or "csv"
  // postgresql: a libpq connection string or URI (usually "${SLUICE_PG_DSN}").
  std::string connection;
  // sqlite, csv: the file.
  std::string path;

  // Database sources. Connections kept open (PostgreSQL) or readers at once (SQLite).
  int pool_size = 4;
  int64_t connect_timeout_ms = 1000;     // PostgreSQL: connecting; SQLite: unused
  int64_t statement_timeout_ms = 30000;  // a statement still running then is cancelled (504)
  int64_t busy_timeout_ms = 1000;        // SQLite: wait this long for a writer's lock
  // SQLite: how a bound timestamp ($__timeFrom, $__timeFilter) is spelled: "iso"
  // (2024-05-01T12:00:00.000Z), "sqlite" (2024-05-01 12:00:00), "epoch_s" or "epoch_ms".
  std::string time_format = "iso";

  // CSV sources.
  std::string time_column = "time";
  std::optional<std::string> name_prefix;  // series are "<prefix>.<column>"; default: the name
  std::vector<std::string> label_columns;  // always labels, even when they look numeric

  std::vector<TargetConfig> targets;  // database sources only
  std::string where;                  // "sources[0]", for messages
};

}  // namespace sluice::sql
