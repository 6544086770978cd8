#include "sql/sources.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "sql/csv_source.h"
#include "sql/postgres_driver.h"
#include "sql/sql_source.h"
#include "sql/sqlite_driver.h"

namespace sluice::sql {
namespace {

Result<std::unique_ptr<Driver>> MakeSqlite(const SourceConfig& config) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDriver> driver, SqliteDriver::Make(config));
  return std::unique_ptr<Driver>(std::move(driver));
}

// The drivers compiled in. A driver added to the build gets one line here.
const std::pair<const char*, DriverFactory> kBuiltinDrivers[] = {
    {"sqlite", &MakeSqlite},
    {"postgresql", &PostgresDriver::Make},
};

struct Registry {
  std::mutex mu;
  std::map<std::string, DriverFactory> factories;
};

Registry& GetRegistry() {
  static Registry* registry = [] {
    auto* r = new Registry;
    for (const auto& [kind, factory] : kBuiltinDrivers) r->factories.emplace(kind, factory);
    return r;
  }();
  return *registry;
}

}  // namespace

void RegisterDriver(std::string kind, DriverFactory factory) {
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  r.factories[std::move(kind)] = std::move(factory);
}

std::vector<std::string> SourceKinds() {
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  std::vector<std::string> kinds = {"csv"};
  for (const auto& [kind, factory] : r.factories) kinds.push_back(kind);
  std::sort(kinds.begin(), kinds.end());
  return kinds;
}

Result<std::shared_ptr<SeriesSource>> MakeSource(const SourceConfig& config) {
  if (config.kind == "csv") {
    if (!config.targets.empty()) {
      return InvalidArgument("{}: a csv source has no targets (its columns are the series)",
                             config.where);
    }
    return std::shared_ptr<SeriesSource>(std::make_shared<CsvSource>(config));
  }
  DriverFactory factory;
  {
    Registry& r = GetRegistry();
    std::lock_guard lock(r.mu);
    auto it = r.factories.find(config.kind);
    if (it != r.factories.end()) factory = it->second;
  }
  if (!factory) {
    std::string kinds;
    for (const auto& k : SourceKinds()) kinds += (kinds.empty() ? "" : ", ") + k;
    return InvalidArgument("{}.kind: \"{}\" is not available in this build (available: {})",
                           config.where, config.kind, kinds);
  }
  auto driver = factory(config);
  if (!driver.ok()) return driver.status().Annotate(config.where);
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<SqlSource> source,
                          SqlSource::Make(config, std::move(driver).value()));
  return std::shared_ptr<SeriesSource>(std::move(source));
}

}  // namespace sluice::sql
