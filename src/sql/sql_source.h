// SqlSource: targets defined in SQL (docs/sources.md), served as a SeriesSource over any Driver.
//
// Each configured target has a literal name or an RE2 pattern, a type and a statement with macros.
// A request runs the statements of the targets it names: the macros expand to bound parameters
// (sql/macros.h), the driver runs the statement, and sql/shape.h turns the rows into series, a
// table, events or values. Nothing here depends on the database engine, so PostgreSQL and SQLite
// share every rule.
//
//   timeseries / table   Fetch, for targets whose name (or pattern) the request's target selects.
//                         Literal names are listed by ListNames (patterns list their `examples`).
//   annotations          Annotations: every annotation target, or only those whose name is a word
//                         of the annotation query; the other words filter events as usual.
//   variable             VariableValues, for /search and /variable texts equal to the name (or
//                         matching the pattern); the names are listed by ListNames too.
//   tag_keys/tag_values  TagKeys, and TagValues for a key equal to the name (or matching the
//                         pattern). Results of all such targets are merged.
//
// Budgets: a statement may return at most FetchRequest::point_budget rows (more is 422), runs until
// the earlier of the request's deadline and now + statement_timeout_ms (then 504), and is cancelled
// when FetchRequest::cancelled is set. Errors name the target ("orders.total: ...").
//
// Thread safety: immutable after Make; every method may run on many threads at once (as far as the
// driver allows, which drivers must). MayBlock() is true: calls come from the worker pool.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "source/series_source.h"
#include "sql/driver.h"
#include "sql/source_config.h"

namespace sluice::sql {

class SqlSource : public SeriesSource {
 public:
  // Compiles every target of `config` (patterns, macros, filter columns). Does not touch the
  // database: a database that is down fails requests (503), not startup. InvalidArgument naming
  // the target (config.targets[i].where) when a target is malformed.
  static Result<std::unique_ptr<SqlSource>> Make(const SourceConfig& config,
                                                 std::unique_ptr<Driver> driver);
  ~SqlSource() override;

  std::string_view name() const override { return name_; }
  bool MayBlock() const override { return true; }
  Driver* driver() const { return driver_.get(); }

  Status ListNames(std::vector<std::string>* out) override;
  Status TagKeys(const std::vector<TagFilter>& filters, std::vector<std::string>* out) override;
  Status TagValues(std::string_view key, const std::vector<TagFilter>& filters,
                   std::vector<std::string>* out) override;
  Status Fetch(const FetchRequest& request, FetchResult* out) override;
  Status Annotations(const AnnotationRequest& request, std::vector<Annotation>* out) override;
  Status VariableValues(const VariableRequest& request, std::vector<std::string>* out,
                        bool* handled) override;

 private:
  struct Target;
  struct Match;
  struct Request;
  SqlSource(std::string name, std::unique_ptr<Driver> driver, int64_t statement_timeout_ms);

  // Expands and runs one target's statement; `filters_in_sql` (when not null) receives the indexes
  // of the filters the statement applied.
  Status Run(const Target& target, const Request& request, ResultSet* rs,
             std::vector<size_t>* filters_in_sql);
  // Runs a variable or tag target and appends its first column.
  Status List(const Target& target, const Match& match, const TimeRange& range,
              const std::vector<TagFilter>* filters, const std::atomic<bool>* cancelled,
              std::chrono::steady_clock::time_point deadline, std::vector<std::string>* out);

  const std::string name_;
  const std::unique_ptr<Driver> driver_;
  const int64_t statement_timeout_ms_;
  std::vector<std::unique_ptr<Target>> targets_;
};

}  // namespace sluice::sql
