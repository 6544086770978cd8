#include "app/cli.h"

#include <cstdio>

#include <CLI/CLI.hpp>

#include "app/app.h"
#include "app/config.h"

namespace sluice {

int RunCli(int argc, char** argv) {
  CLI::App app{"Sluice: a fast backend for Grafana's JSON datasource plugins."};
  app.set_version_flag("--version", "sluice 0.1.0");
  app.require_subcommand(0, 1);

  std::string listen, data_dir, config_path, log_level;
  bool demo = false, access_log = false;
  CLI::App* serve = app.add_subcommand("serve", "Serve the JSON datasource API until SIGINT/SIGTERM.");
  serve->add_option("--listen", listen, "Address to listen on, HOST:PORT (port 0 picks a free one); "
                                        "default 127.0.0.1:8080");
  serve->add_option("--data", data_dir, "Data directory; default ./data");
  serve->add_flag("--demo", demo, "Serve the built-in demo data set");
  serve->add_option("--config", config_path, "TOML config file (see docs/configuration.md)");
  serve->add_option("--log-level", log_level, "trace, debug, info, warn, error or off; default info");
  serve->add_flag("--access-log", access_log, "Log one line per request");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "sluice: %s\nRun 'sluice --help' or 'sluice serve --help' for usage.\n",
                 e.what());
    return 2;
  }

  if (!serve->parsed()) {
    std::fprintf(stderr, "sluice: missing command; expected 'serve'\n%s", app.help().c_str());
    return 2;
  }

  Config config;
  if (!config_path.empty()) {
    Status s = LoadConfigFile(config_path, &config);
    if (!s.ok()) {
      std::fprintf(stderr, "sluice: bad config file: %s\n", s.message().c_str());
      return 2;
    }
  }
  if (!listen.empty()) config.http.listen = listen;
  if (!data_dir.empty()) config.data_dir = data_dir;
  if (demo) config.demo = true;
  if (access_log) config.http.access_log = true;
  if (!log_level.empty()) config.log_level = log_level;
  if (!SetupLogging(config.log_level)) {
    std::fprintf(stderr, "sluice: unknown log level \"%s\"\n", config.log_level.c_str());
    return 2;
  }
  return Serve(config, {});
}

}  // namespace sluice
