// The library entry point: wire sources, the JSON API and the HTTP core into a running server.
//
// `sluice serve` is a thin main around this, and so is a user's own program that registers custom
// targets (examples/custom_source/):
//
//   sluice::Config config;
//   config.http.listen = "127.0.0.1:8081";
//   auto source = std::make_shared<sluice::MemorySource>("mine");
//   ... register targets ...
//   return sluice::Serve(config, {source});
#pragma once

#include <memory>
#include <vector>

#include "app/config.h"
#include "http/handler.h"
#include "ingest/write_api.h"
#include "protocol/json_api.h"
#include "source/series_source.h"

namespace sluice {

// The routes of Grafana's JSON datasource protocol over `api`.
http::Router MakeJsonRouter(std::shared_ptr<protocol::JsonApi> api, const std::string& base_path);

// The write routes of the embedded store (/write, /ping, /api/v1/write, /api/v1/annotations,
// /api/v1/delete) over `api`.
void AddWriteRoutes(std::shared_ptr<ingest::WriteApi> api, http::Router* router);

// Starts the server on `config` with `sources` (plus the demo source when config.demo), prints
// "sluice listening on http://HOST:PORT" on stdout once bound, serves until SIGINT or SIGTERM,
// drains and returns 0. Returns 2 when the server cannot start (the reason is logged).
int Serve(const Config& config, std::vector<std::shared_ptr<SeriesSource>> sources);

// Applies config.log_level to the default logger (stderr); false when the level is unknown.
bool SetupLogging(const std::string& level);

}  // namespace sluice
