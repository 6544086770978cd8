// A program that serves its own targets through Sluice: the C++ equivalent of a hand-written
// Flask backend, with every endpoint, consolidation, filters, auth and CORS for free.
//
//   build/bin/custom_source_example --listen 127.0.0.1:8081
//
// then point a Grafana JSON datasource at http://127.0.0.1:8081 and pick "room.temperature".
#include <cmath>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "app/app.h"
#include "source/memory_source.h"

namespace {

// Stand-in for reading a real sensor or calling an internal API.
double ReadThermometer(std::string_view room, int64_t time_ms) {
  double phase = room == "lab" ? 0.0 : 1.0;
  return 21.0 + 2.5 * std::sin(static_cast<double>(time_ms) / 3'600'000.0 + phase);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"Sluice custom-source example"};
  sluice::Config config;
  config.data_dir.clear();
  cli.add_option("--listen", config.http.listen, "HOST:PORT (port 0 picks a free one)");
  CLI11_PARSE(cli, argc, argv);
  if (!sluice::SetupLogging("info")) return 2;

  auto source = std::make_shared<sluice::MemorySource>("example");

  // A computed target: one point a minute over whatever range Grafana asks for.
  for (std::string room : {"lab", "office"}) {
    source->AddGenerated("room.temperature", {{"room", room}},
                         [room](const sluice::FetchRequest& request, sluice::Series* out) {
                           int64_t step = 60'000;
                           int64_t t = (request.range.from_ms + step - 1) / step * step;
                           for (; t <= request.range.to_ms; t += step) {
                             out->Append(t, ReadThermometer(room, t));
                           }
                           return sluice::Status::OK();
                         });
  }

  // A table target, answered as a table whatever the panel asks for.
  source->AddTable("rooms", [](const sluice::FetchRequest& request, sluice::Table* table) {
    table->columns = {{"room", sluice::ColumnType::kString},
                      {"temperature", sluice::ColumnType::kNumber}};
    for (const char* room : {"lab", "office"}) {
      table->rows.push_back({sluice::Cell::String(room),
                             sluice::Cell::Number(ReadThermometer(room, request.range.to_ms))});
    }
    return sluice::Status::OK();
  });

  // Events for annotations.
  source->AddAnnotations([](const sluice::TimeRange& range, std::vector<sluice::Annotation>* out) {
    const int64_t day = 86'400'000;
    for (int64_t t = range.from_ms / day * day + 9 * 3'600'000; t <= range.to_ms; t += day) {
      if (t >= range.from_ms) out->push_back({t, t + 3'600'000, "Cleaning", "Lab closed", {"lab"}});
    }
    return sluice::Status::OK();
  });

  return sluice::Serve(config, {source});
}
