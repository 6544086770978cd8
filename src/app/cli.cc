#include "app/cli.h"

#include <cstdio>

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <chrono>

#include "app/app.h"
#include "app/config.h"
#include "common/time.h"
#include "ingest/import.h"
#include "store/open_store.h"

namespace sluice {
namespace {

void DrawProgress(const ingest::ImportProgress& p, int64_t started_ms, bool done) {
  constexpr int kWidth = 30;
  double fraction = p.bytes_total ? static_cast<double>(p.bytes_read) / p.bytes_total : 1;
  int filled = static_cast<int>(fraction * kWidth);
  double seconds = std::max<double>(0.001, (NowMs() - started_ms) / 1000.0);
  std::fprintf(stderr, "\r[%.*s%.*s] %3.0f%%  %llu points  %.0f points/s%s",
               filled, "==============================", kWidth - filled,
               "                              ", fraction * 100,
               static_cast<unsigned long long>(p.points), p.points / seconds, done ? "\n" : "");
  std::fflush(stderr);
}

// Reads the config file (if any) over the defaults; false after printing why it is bad.
bool LoadConfigOrComplain(const std::string& path, Config* config) {
  if (path.empty()) return true;
  Status s = LoadConfigFile(path, config);
  if (!s.ok()) std::fprintf(stderr, "sluice: bad config file: %s\n", s.message().c_str());
  return s.ok();
}

// --store: "sqlite", "none" or a PostgreSQL URL.
void ApplyStoreFlag(const std::string& flag, Config* config) {
  if (flag.empty()) return;
  if (store::IsPostgresUrl(flag)) {
    config->store = "postgresql";
    config->store_url = flag;
  } else {
    config->store = flag;
  }
}

std::string CheckStoreFlag(const std::string& flag) {
  if (flag == "sqlite" || flag == "none" || store::IsPostgresUrl(flag)) return "";
  return "expected sqlite, none or postgresql://user@host:port/db";
}

int RunImport(const std::string& file, const std::string& data_dir, const std::string& config_path,
              const std::string& precision_text, const std::string& store_flag) {
  Config config;
  if (!LoadConfigOrComplain(config_path, &config)) return 2;
  if (!data_dir.empty()) config.data_dir = data_dir;
  ApplyStoreFlag(store_flag, &config);
  if (config.store == "none" || (config.store == "postgresql" && config.store_url.empty())) {
    std::fprintf(stderr, "sluice: import needs a store: sqlite, or postgresql://… with a URL\n");
    return 2;
  }
  if (!SetupLogging("warn")) return 2;
  ingest::ImportOptions options;
  auto precision = store::ParsePrecision(precision_text);
  if (!precision.ok()) {
    std::fprintf(stderr, "sluice: %s\n", precision.status().message().c_str());
    return 2;
  }
  options.precision = *precision;
  config.store_options.background = false;
  auto store = store::OpenStore(
      config.store == "postgresql" ? config.store_url : config.data_dir, config.store_options);
  if (!store.ok()) {
    std::fprintf(stderr, "sluice: %s\n", store.status().message().c_str());
    return 1;
  }
  const bool terminal = ::isatty(STDERR_FILENO) != 0;
  const int64_t started = NowMs();
  int64_t last_draw = 0;
  if (terminal) {
    options.on_progress = [&](const ingest::ImportProgress& p) {
      if (NowMs() - last_draw < 100) return;
      last_draw = NowMs();
      DrawProgress(p, started, false);
    };
  }
  ingest::ImportProgress progress;
  std::vector<std::string> messages;
  Status s = ingest::ImportFile(file, store->get(), options, &progress, &messages);
  if (terminal) DrawProgress(progress, started, true);
  for (const auto& m : messages) std::fprintf(stderr, "sluice: skipped %s\n", m.c_str());
  if (!s.ok()) {
    std::fprintf(stderr, "sluice: import failed: %s\n", s.message().c_str());
    return 1;
  }
  std::printf("imported %llu points from %s (%llu bad lines skipped) in %.1f s\n",
              static_cast<unsigned long long>(progress.points), file.c_str(),
              static_cast<unsigned long long>(progress.bad_lines), (NowMs() - started) / 1000.0);
  return 0;
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{"Sluice: a fast backend for Grafana's JSON datasource plugins."};
  app.set_version_flag("--version", "sluice 0.1.0");
  app.require_subcommand(0, 1);

  std::string listen, data_dir, config_path, log_level, store;
  bool demo = false, access_log = false;
  CLI::App* serve = app.add_subcommand("serve", "Serve the JSON datasource API until SIGINT/SIGTERM.");
  serve->add_option("--listen", listen, "Address to listen on, HOST:PORT (port 0 picks a free one); "
                                        "default 127.0.0.1:8080");
  serve->add_option("--data", data_dir, "Data directory; default ./data");
  serve->add_flag("--demo", demo, "Serve the built-in demo data set");
  serve->add_option("--config", config_path, "TOML config file (see docs/configuration.md)");
  serve->add_option("--store", store,
                    "Embedded store: sqlite (default, DATA/sluice.db), none, or a PostgreSQL URL "
                    "postgresql://user@host:port/db shared by replicas (docs/scaling.md)")
      ->check(CheckStoreFlag);
  serve->add_option("--log-level", log_level, "trace, debug, info, warn, error or off; default info");
  serve->add_flag("--access-log", access_log, "Log one line per request");

  std::string import_file, import_data, import_config, precision_text, import_store;
  CLI::App* import = app.add_subcommand(
      "import", "Load a line-protocol (.lp) or CSV (.csv) file into the embedded store.");
  import->add_option("FILE", import_file, "The file to load")->required();
  import->add_option("--data", import_data, "Data directory of the store; default ./data");
  import->add_option("--config", import_config, "TOML config file (for [store] options)");
  import->add_option("--store", import_store, "sqlite (default, DATA/sluice.db) or a PostgreSQL URL")
      ->check(CheckStoreFlag);
  import->add_option("--precision", precision_text,
                     "Line-protocol timestamp unit: ns (default), us, ms, s, m, h");

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

  if (import->parsed()) {
    return RunImport(import_file, import_data, import_config, precision_text, import_store);
  }
  if (!serve->parsed()) {
    std::fprintf(stderr, "sluice: missing command; expected 'serve' or 'import'\n%s",
                 app.help().c_str());
    return 2;
  }

  Config config;
  if (!LoadConfigOrComplain(config_path, &config)) return 2;
  if (!listen.empty()) config.http.listen = listen;
  if (!data_dir.empty()) config.data_dir = data_dir;
  if (demo) config.demo = true;
  ApplyStoreFlag(store, &config);
  if (access_log) config.http.access_log = true;
  if (!log_level.empty()) config.log_level = log_level;
  if (!SetupLogging(config.log_level)) {
    std::fprintf(stderr, "sluice: unknown log level \"%s\"\n", config.log_level.c_str());
    return 2;
  }
  return Serve(config, {});
}

}  // namespace sluice
