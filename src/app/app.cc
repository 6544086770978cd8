#include "app/app.h"

#include <cstdio>
#include <filesystem>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "http/server.h"
#include "http/status_map.h"
#include "source/catalog.h"
#include "source/demo.h"

namespace sluice {
namespace {

using Endpoint = Status (protocol::JsonApi::*)(std::string_view body, std::string* out);

http::Handler Wrap(std::shared_ptr<protocol::JsonApi> api, Endpoint endpoint) {
  return [api = std::move(api), endpoint](const http::Request& request) {
    http::Response response;
    Status status = ((*api).*endpoint)(request.body, &response.body);
    if (!status.ok()) return http::ErrorResponse(status);
    return response;
  };
}

}  // namespace

http::Router MakeJsonRouter(std::shared_ptr<protocol::JsonApi> api, const std::string& base_path) {
  http::Router router;
  router.SetBasePath(base_path);
  router.SetHealth([api](const http::Request&) {
    http::Response response;
    (void)api->Health(&response.body);
    return response;
  });
  const bool blocking = api->MayBlock();
  const std::pair<const char*, Endpoint> endpoints[] = {
      {"query", &protocol::JsonApi::Query},
      {"annotations", &protocol::JsonApi::Annotations},
      {"search", &protocol::JsonApi::Search},
      {"metrics", &protocol::JsonApi::Metrics},
      {"metric-payload-options", &protocol::JsonApi::MetricPayloadOptions},
      {"variable", &protocol::JsonApi::Variable},
      {"tag-keys", &protocol::JsonApi::TagKeys},
      {"tag-values", &protocol::JsonApi::TagValues},
  };
  for (const auto& [suffix, endpoint] : endpoints) {
    router.Add({suffix, {http::Method::kPost}, Wrap(api, endpoint), blocking});
  }
  return router;
}

bool SetupLogging(const std::string& level) {
  auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") return false;
  auto logger = spdlog::stderr_color_mt("sluice");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  logger->set_level(parsed);
  spdlog::set_default_logger(logger);
  return true;
}

int Serve(const Config& config, std::vector<std::shared_ptr<SeriesSource>> sources) {
  auto catalog = std::make_shared<Catalog>();
  if (config.demo) catalog->Add(MakeDemoSource());
  for (auto& s : sources) catalog->Add(std::move(s));

  std::error_code ec;
  if (!config.data_dir.empty()) std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    spdlog::error("cannot create data directory {}: {}", config.data_dir, ec.message());
    return 2;
  }

  auto api = std::make_shared<protocol::JsonApi>(catalog, config.api);
  http::ServerOptions http_options = config.http;
  http_options.handle_signals = true;  // from before the ready line is printed
  http::Server server(http_options, MakeJsonRouter(api, config.base_path));
  Status started = server.Start();
  if (!started.ok()) {
    spdlog::error("cannot start: {}", started.message());
    return 2;
  }
  std::string host = config.http.listen.substr(0, config.http.listen.rfind(':'));
  std::printf("sluice listening on http://%s:%u\n", host.c_str(), server.port());
  std::fflush(stdout);
  spdlog::info("serving on {}:{} with {} source(s){}", host, server.port(),
               catalog->sources().size(), config.demo ? " (demo data)" : "");
  server.RunUntilSignal();
  spdlog::info("stopped");
  return 0;
}

}  // namespace sluice
