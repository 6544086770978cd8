// fuzz_query: the bytes are a /query body for JsonApi::Query, run against a MemorySource of stored
// series (fuzz_common.h) and against the demo source, whose points are generated per request.
//
// Oracles: no sanitizer report; every OK response is valid JSON and an array; every timeseries in it
// has [value-or-null, integer time] points in strictly ascending time, at most maxDataPoints of them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/time.h"
#include "fuzz_common.h"
#include "protocol/request.h"
#include "source/demo.h"

namespace sluice::fuzz {
namespace {

void CheckQueryResponse(std::string_view body, std::string_view out, int64_t max_data_points) {
  static simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (!ParseJsonOrDie(parser, out, body, &root)) return;
  simdjson::dom::array elements;
  if (root.get_array().get(elements) != simdjson::SUCCESS) {
    Die("/query response is not an array", std::string(out));
  }
  for (simdjson::dom::element e : elements) {
    simdjson::dom::array points;
    if (e["datapoints"].get_array().get(points) != simdjson::SUCCESS) continue;
    int64_t count = 0;
    int64_t last = 0;
    for (simdjson::dom::element p : points) {
      simdjson::dom::array pair;
      int64_t t = 0;
      if (p.get_array().get(pair) != simdjson::SUCCESS || pair.size() != 2 ||
          !(pair.at(0).is_null() || pair.at(0).is_number()) ||
          pair.at(1).get_int64().get(t) != simdjson::SUCCESS) {
        Die("datapoint is not [value|null, int64 time]", std::string(out));
      }
      if (count > 0 && t <= last) {
        Die("datapoints not in strictly ascending time",
            "body: " + std::string(body) + "\noutput: " + std::string(out));
      }
      last = t;
      ++count;
    }
    if (max_data_points > 0 && count > max_data_points) {
      Die("series has more points than maxDataPoints (" + std::to_string(count) + " > " +
              std::to_string(max_data_points) + ")",
          "body: " + std::string(body));
    }
  }
}

// maxDataPoints as the server decodes it, or 0 when the body does not decode.
int64_t MaxDataPoints(std::string_view body, const protocol::RequestDefaults& defaults) {
  auto json = protocol::JsonBody::Parse(body, /*empty_ok=*/false);
  if (!json.ok()) return 0;
  auto request = protocol::DecodeQuery(json.value().root(), defaults, NowMs());
  return request.ok() ? request.value().max_data_points : 0;
}

}  // namespace
}  // namespace sluice::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sluice::protocol::JsonApi;
  static JsonApi* const stored = new JsonApi(sluice::fuzz::MakeStoredSource(), sluice::fuzz::FuzzOptions());
  static JsonApi* const demo = new JsonApi(sluice::MakeDemoSource(), sluice::fuzz::FuzzOptions());
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  int64_t max_data_points = -1;
  for (JsonApi* api : {stored, demo}) {
    std::string out;
    sluice::Status status = api->Query(body, &out);
    if (!status.ok()) continue;
    if (max_data_points < 0) max_data_points = sluice::fuzz::MaxDataPoints(body, api->options().defaults);
    sluice::fuzz::CheckQueryResponse(body, out, max_data_points);
  }
  return 0;
}
