// Assertions on Grafana JSON datasource responses (PROTOCOL.md §3-§13), shared by the conformance
// and fixture-replay tests.
//
// Each check returns a gtest AssertionResult whose failure message quotes what the server sent, so
// a failing test says what is wrong with the response. Parsed views (SeriesView, TableView) copy
// the data out of the JSON document so they outlive it.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "testing/http_client.h"
#include "testing/json.h"

namespace sluice::testing {

// Status `status` (0: any 2xx), media type application/json, and a body that parses as JSON.
::testing::AssertionResult IsJsonResponse(const HttpResponse& r, int status = 200);
// As IsJsonResponse(r, 200) and the body is a JSON array.
::testing::AssertionResult IsJsonArray(const HttpResponse& r);
// The error shape: status `status`, JSON object with a non-empty string "message" and a string
// "error".
::testing::AssertionResult IsJsonError(const HttpResponse& r, int status);
// Access-Control-Allow-Origin equals `origin` and Access-Control-Allow-Credentials is "true".
::testing::AssertionResult HasCorsHeaders(const HttpResponse& r, std::string_view origin);
// Not a 5xx and not a transport failure.
::testing::AssertionResult IsNot5xx(const HttpResponse& r);

// A comma-separated header value as a set of lower-cased, trimmed tokens.
std::set<std::string> HeaderTokens(std::string_view value);

struct Datapoint {
  std::optional<double> value;  // nullopt for JSON null
  int64_t time_ms = 0;
};

struct SeriesView {
  std::string target;
  std::optional<std::string> ref_id;
  std::map<std::string, std::string> tags;
  std::vector<Datapoint> points;
};

// Points as "time:value" strings ("time:null" for a JSON null), for readable comparisons.
std::vector<std::string> PointList(const SeriesView& series);

// A /query body for one target over [from_ms, to_ms] that never consolidates (intervalMs 1 and a
// huge maxDataPoints), so the response holds the raw points.
std::string RawPointsQueryBody(std::string_view target, int64_t from_ms, int64_t to_ms,
                               std::string_view ref_id = "A");

struct TableView {
  std::optional<std::string> ref_id;
  std::optional<std::string> type;                           // the "type" key ("table")
  std::vector<std::pair<std::string, std::string>> columns;  // (text, type)
  std::vector<std::vector<std::string>> rows;                // each cell as minified JSON

  // Index of the column whose text equals `text`, or -1.
  int Column(std::string_view text) const;
};

struct QueryView {
  std::vector<SeriesView> series;
  std::vector<TableView> tables;

  // Series with the given refId / target name.
  std::vector<const SeriesView*> SeriesFor(std::string_view ref_id) const;
  std::vector<const SeriesView*> SeriesNamed(std::string_view target) const;
  std::vector<const TableView*> TablesFor(std::string_view ref_id) const;
  // Sorted target names of all series.
  std::vector<std::string> Targets() const;
};

// Validates a /query response (§5.4, §16 cases 36-42) and fills *view:
// 200 + application/json + array; every element an object that is either a timeserie
// ({target: string, datapoints: [[number|null, integer ms], ...] ascending and unique, refId?:
// string, tags?: {string: string}}) or a table ({columns: [{text: string, type: valid type}], rows:
// arrays as long as columns, cells typed per column}). When `max_points` > 0, no series has more
// points.
::testing::AssertionResult ParseQueryResponse(const HttpResponse& r, QueryView* view,
                                              int64_t max_points = 0);

// Validates one table element on its own.
::testing::AssertionResult CheckTable(JsonElement e, TableView* view);

}  // namespace sluice::testing
