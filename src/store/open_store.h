// OpenStore: the embedded store for a location, SQLite or PostgreSQL.
//
// A location that starts with "postgresql://" or "postgres://" (a libpq connection URI) opens a
// PgStore (store/pg_store.h); anything else is a data directory holding sluice.db (store/store.h).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/time_series_store.h"

namespace sluice::store {

// True for "postgresql://…" and "postgres://…".
bool IsPostgresUrl(std::string_view location);

// Opens the store at `location` with `options`; the errors of Store::Open or PgStore::Open.
Result<std::unique_ptr<TimeSeriesStore>> OpenStore(const std::string& location,
                                                   const StoreOptions& options);

}  // namespace sluice::store
