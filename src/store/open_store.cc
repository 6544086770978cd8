#include "store/open_store.h"

#include "store/pg_store.h"
#include "store/store.h"

namespace sluice::store {

bool IsPostgresUrl(std::string_view location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

Result<std::unique_ptr<TimeSeriesStore>> OpenStore(const std::string& location,
                                                   const StoreOptions& options) {
  if (IsPostgresUrl(location)) {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<PgStore> store, PgStore::Open(location, options));
    return std::unique_ptr<TimeSeriesStore>(std::move(store));
  }
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(location, options));
  return std::unique_ptr<TimeSeriesStore>(std::move(store));
}

}  // namespace sluice::store
