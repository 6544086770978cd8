#include "app/app.h"

#include <cstdio>
#include <filesystem>
#include <tuple>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "common/json_writer.h"
#include "http/server.h"
#include "http/status_map.h"
#include "ingest/demo_feed.h"
#include "ingest/write_api.h"
#include "protocol/graphite_api.h"
#include "source/catalog.h"
#include "source/demo.h"
#include "sql/sources.h"
#include "store/open_store.h"

namespace sluice {
namespace {

using Endpoint = Status (protocol::JsonApi::*)(std::string_view body, std::string* out,
                                               const protocol::RequestContext& context);

http::Handler Wrap(std::shared_ptr<protocol::JsonApi> api, Endpoint endpoint) {
  return [api = std::move(api), endpoint](const http::Request& request) {
    http::Response response;
    protocol::RequestContext context;
    context.cancelled = request.cancelled;
    Status status = ((*api).*endpoint)(request.body, &response.body, context);
    if (!status.ok()) return http::ErrorResponse(status);
    return response;
  };
}

// InfluxDB clients read the error text from "error": put the message there too.
http::Response InfluxError(const Status& status) {
  return http::JsonError(http::HttpStatusFor(status.code()), status.message(), status.message());
}

using WriteEndpoint = Status (ingest::WriteApi::*)(std::string_view body, std::string* out);

http::Handler WrapWrite(std::shared_ptr<ingest::WriteApi> api, WriteEndpoint endpoint) {
  return [api = std::move(api), endpoint](const http::Request& request) {
    http::Response response;
    Status status = ((*api).*endpoint)(request.body, &response.body);
    if (!status.ok()) return http::ErrorResponse(status);
    return response;
  };
}

using GraphiteEndpoint = Status (protocol::GraphiteApi::*)(const protocol::GraphiteRequest&,
                                                           protocol::GraphiteResponse*);

// Graphite clients read the error text from "error" (graphite-web's tag endpoints), Grafana from
// "message": both carry the message.
http::Handler WrapGraphite(std::shared_ptr<protocol::GraphiteApi> api, GraphiteEndpoint endpoint) {
  return [api = std::move(api), endpoint](const http::Request& request) {
    protocol::GraphiteRequest in;
    in.query = request.query;
    in.body = request.body;
    in.content_type = request.header ? request.header("Content-Type") : std::string_view();
    in.path = request.path;
    in.context.cancelled = request.cancelled;
    protocol::GraphiteResponse out;
    Status status = ((*api).*endpoint)(in, &out);
    if (!status.ok()) return InfluxError(status);
    http::Response response;
    response.body = std::move(out.body);
    response.content_type = std::move(out.content_type);
    return response;
  };
}

// graphite-web's HTTP API (protocol/graphite_api.h) for Grafana's built-in Graphite datasource.
// GET /metrics is graphite's find; POST /metrics stays the JSON plugins' endpoint. graphite's
// /tags/<tag> is not routed: the router matches fixed suffixes only (Grafana no longer calls it).
void AddGraphiteRoutes(std::shared_ptr<protocol::GraphiteApi> api, http::Router* router) {
  using http::Method;
  const bool blocking = api->MayBlock();
  const std::vector<Method> get_post = {Method::kGet, Method::kPost};
  const std::tuple<const char*, std::vector<Method>, GraphiteEndpoint> routes[] = {
      {"render", get_post, &protocol::GraphiteApi::Render},
      {"metrics/find", get_post, &protocol::GraphiteApi::MetricsFind},
      {"metrics/expand", get_post, &protocol::GraphiteApi::MetricsExpand},
      {"metrics/index.json", get_post, &protocol::GraphiteApi::MetricsIndex},
      {"metrics", {Method::kGet}, &protocol::GraphiteApi::MetricsFind},
      {"tags", {Method::kGet}, &protocol::GraphiteApi::TagList},
      {"tags/findSeries", get_post, &protocol::GraphiteApi::FindSeries},
      {"tags/autoComplete/tags", get_post, &protocol::GraphiteApi::AutoCompleteTags},
      {"tags/autoComplete/values", get_post, &protocol::GraphiteApi::AutoCompleteValues},
      {"functions", {Method::kGet}, &protocol::GraphiteApi::Functions},
      {"version", {Method::kGet}, &protocol::GraphiteApi::Version},
      {"events/get_data", get_post, &protocol::GraphiteApi::Events},
  };
  for (const auto& [suffix, methods, endpoint] : routes) {
    router->Add({suffix, methods, WrapGraphite(api, endpoint), blocking});
  }
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
    http::Handler handler = Wrap(api, endpoint);
    if (std::string_view(suffix) == "query") {
      // Telegraf's InfluxDB output first sends "CREATE DATABASE" as InfluxQL to /query; say yes.
      handler = [inner = std::move(handler)](const http::Request& request) {
        if (request.query.find("q=") != std::string_view::npos ||
            request.body.substr(0, 2) == "q=") {
          http::Response response;
          response.body = R"({"results":[{"statement_id":0}]})";
          return response;
        }
        return inner(request);
      };
    }
    router.Add({suffix, {http::Method::kPost}, std::move(handler), blocking});
  }
  return router;
}

void AddWriteRoutes(std::shared_ptr<ingest::WriteApi> api, http::Router* router) {
  router->Add({"write", {http::Method::kPost},
               [api](const http::Request& request) {
                 http::Response response;
                 Status status = api->LineProtocol(request.query, request.body, &response.body);
                 if (!status.ok()) return InfluxError(status);
                 response.status = 204;
                 return response;
               },
               /*blocking=*/true});
  router->Add({"ping", {http::Method::kGet, http::Method::kHead},
               [](const http::Request&) {
                 http::Response response;
                 response.status = 204;
                 response.headers.emplace_back("X-Influxdb-Version", "1.8.10-sluice");
                 return response;
               },
               false});
  router->Add({"api/v1/write", {http::Method::kPost}, WrapWrite(api, &ingest::WriteApi::JsonWrite),
               true});
  router->Add({"api/v1/annotations", {http::Method::kPost},
               WrapWrite(api, &ingest::WriteApi::AddAnnotations), true});
  router->Add({"api/v1/delete", {http::Method::kPost}, WrapWrite(api, &ingest::WriteApi::Delete),
               true});
  // The REST spelling: DELETE /api/v1/series?target=<pattern> (or the same JSON body as above).
  router->Add({"api/v1/series", {http::Method::kDelete},
               [api](const http::Request& request) {
                 http::Response response;
                 std::string body(request.body);
                 if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
                   body.clear();
                   JsonWriter w(&body);
                   w.BeginObject();
                   w.Key("target");
                   w.String(ingest::QueryParam(request.query, "target"));
                   w.EndObject();
                 }
                 Status status = api->Delete(body, &response.body);
                 if (!status.ok()) return http::ErrorResponse(status);
                 return response;
               },
               true});
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
  for (const auto& source_config : config.sources) {
    auto source = sql::MakeSource(source_config);
    if (!source.ok()) {
      spdlog::error("cannot set up source \"{}\": {}", source_config.name,
                    source.status().message());
      return 2;
    }
    catalog->Add(std::move(source).value());
  }

  std::error_code ec;
  if (!config.data_dir.empty()) std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    spdlog::error("cannot create data directory {}: {}", config.data_dir, ec.message());
    return 2;
  }

  std::shared_ptr<store::TimeSeriesStore> store;
  std::unique_ptr<ingest::DemoFeed> demo_feed;
  const bool postgres = config.store == "postgresql";
  if (postgres && config.store_url.empty()) {
    spdlog::error("the postgresql store needs a URL: --store postgresql://user@host:port/db or "
                  "[store] url");
    return 2;
  }
  if (postgres || (config.store == "sqlite" && !config.data_dir.empty())) {
    auto opened =
        store::OpenStore(postgres ? config.store_url : config.data_dir, config.store_options);
    if (!opened.ok()) {
      spdlog::error("cannot open the store: {}", opened.status().message());
      return 2;
    }
    store = std::move(opened).value();
    catalog->Add(store);
    if (config.demo) {
      auto feed = ingest::DemoFeed::Start(store.get());
      if (!feed.ok()) {
        spdlog::error("cannot seed the demo data: {}", feed.status().message());
        return 2;
      }
      demo_feed = std::move(feed).value();
    }
  }

  auto api = std::make_shared<protocol::JsonApi>(catalog, config.api);
  http::Router router = MakeJsonRouter(api, config.base_path);
  if (store) AddWriteRoutes(std::make_shared<ingest::WriteApi>(store.get()), &router);
  AddGraphiteRoutes(std::make_shared<protocol::GraphiteApi>(catalog, config.api), &router);
  http::ServerOptions http_options = config.http;
  http_options.handle_signals = true;  // from before the ready line is printed
  http::Server server(http_options, std::move(router));
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
  demo_feed.reset();
  spdlog::info("stopped");
  return 0;
}

}  // namespace sluice
