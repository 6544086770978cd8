// The captured plugin requests in shared/fixtures/plugin-requests/ (see its README.md): what the
// OLD (grafana-simple-json-datasource 1.4.3) and NEW (simpod-json-datasource 0.6.5) plugins send,
// one HTTP request per file, for byte-exact replay against the server.
#pragma once

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "testing/http_client.h"

namespace sluice::testing {

// The shared/ directory beside the source tree: $SLUICE_SHARED_DIR if set, else the build's
// default.
std::string SharedDir();

struct PluginFixture {
  std::string name;    // file name without ".json", e.g. "old-query-timeserie"
  std::string plugin;  // as recorded, e.g. "grafana-simple-json-datasource"
  std::string call;
  std::string description;
  std::string method;     // "GET", "POST"
  std::string path;       // "/query", "/prefix/", ...
  Headers headers;        // lower-case names, in file order
  bool has_body = false;  // false when raw_body is null (no body at all)
  std::string raw_body;   // exact bytes; "" with has_body for a POST with content-length 0

  bool IsOld() const { return name.rfind("old-", 0) == 0; }
  // The value of header `name` ("" when absent).
  std::string Header(std::string_view header_name) const;
  // The request exactly as the plugin sent it, with `Host: <host>` added first.
  std::string RequestBytes(std::string_view host) const;
};

// For gtest's parameterised test names and messages: the fixture's file name.
inline void PrintTo(const PluginFixture& fixture, std::ostream* os) { *os << fixture.name; }


// Loads every *.json in the fixture directory, sorted by name. On failure returns an empty list and
// sets *error.
std::vector<PluginFixture> LoadPluginFixtures(std::string* error);

}  // namespace sluice::testing
