// Config: everything `sluice serve` can be told, from a TOML file and command-line flags.
// docs/configuration.md lists every key with its default; this struct is the source of truth.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "http/server.h"
#include "protocol/json_api.h"
#include "sql/source_config.h"
#include "store/time_series_store.h"

namespace sluice {

struct Config {
  http::ServerOptions http;
  std::string base_path;        // mount prefix; "" serves any prefix
  protocol::ApiOptions api;
  std::string data_dir = "data";
  bool demo = false;
  // The embedded store: "sqlite" (data_dir/sluice.db), "postgresql" (in the database at
  // store_url, shared by replicas; docs/scaling.md) or "none" (no write API).
  std::string store = "sqlite";
  std::string store_url;  // libpq URI, postgresql://user@host:port/db, when store == "postgresql"
  store::StoreOptions store_options;
  std::string log_level = "info";  // trace, debug, info, warn, error, off
  // [[sources]]: PostgreSQL, SQLite and CSV sources (docs/sources.md), served next to the store.
  std::vector<sql::SourceConfig> sources;
};

// Reads a TOML file over `config`. Unknown keys and wrong types are errors naming the key.
// "${NAME}" in string values is replaced by the environment variable NAME (an unset variable is
// an error), so secrets can stay out of files.
Status LoadConfigFile(const std::string& path, Config* config);

// Same, from TOML text; `origin` names it in messages.
Status LoadConfigText(std::string_view text, std::string_view origin, Config* config);

// "8MiB", "512KiB", "1GB", "1000" -> bytes.
Result<uint64_t> ParseByteSize(std::string_view text);

}  // namespace sluice
