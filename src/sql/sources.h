// Building configured sources: `[[sources]]` entries (sql/source_config.h) become SeriesSources.
//
// kind = "csv" is a CsvSource; every other kind names a database driver, and the source is a
// SqlSource over the driver that kind's factory builds. The built-in kinds are listed in one table
// in sources.cc ("sqlite", and "postgresql" when its driver is compiled in); a program built on
// the library may register more with RegisterDriver before calling Serve.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "source/series_source.h"
#include "sql/driver.h"
#include "sql/source_config.h"

namespace sluice::sql {

// Builds a driver for one source. Must not fail because the database is unreachable (that is a
// per-request 503); fail only for a configuration the driver cannot use.
using DriverFactory = std::function<Result<std::unique_ptr<Driver>>(const SourceConfig& config)>;

// Adds or replaces the factory for `kind`. Thread-safe, but meant for startup.
void RegisterDriver(std::string kind, DriverFactory factory);

// The kinds MakeSource accepts, sorted ("csv" included).
std::vector<std::string> SourceKinds();

// Builds the source for `config`. InvalidArgument naming config.where for an unknown kind or a
// malformed target; no database or file is opened here.
Result<std::shared_ptr<SeriesSource>> MakeSource(const SourceConfig& config);

}  // namespace sluice::sql
