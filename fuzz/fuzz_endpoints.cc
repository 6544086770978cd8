// fuzz_endpoints: every JsonApi endpoint except /query. The first byte picks the endpoint (modulo 7:
// Search, Metrics, MetricPayloadOptions, Variable, TagKeys, TagValues, Annotations); the rest is the
// request body. Each body runs against the stored MemorySource and the demo source.
//
// Oracles: no sanitizer report; every OK response is valid JSON and an array.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_common.h"
#include "source/demo.h"

namespace {

using sluice::protocol::JsonApi;
using Endpoint = sluice::Status (JsonApi::*)(std::string_view, std::string*,
                                             const sluice::protocol::RequestContext&);

constexpr Endpoint kEndpoints[] = {&JsonApi::Search,  &JsonApi::Metrics,   &JsonApi::MetricPayloadOptions,
                                   &JsonApi::Variable, &JsonApi::TagKeys,  &JsonApi::TagValues,
                                   &JsonApi::Annotations};
constexpr const char* kNames[] = {"search", "metrics", "metric-payload-options", "variable",
                                  "tag-keys", "tag-values", "annotations"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static JsonApi* const stored = new JsonApi(sluice::fuzz::MakeStoredSource(), sluice::fuzz::FuzzOptions());
  static JsonApi* const demo = new JsonApi(sluice::MakeDemoSource(), sluice::fuzz::FuzzOptions());
  static simdjson::dom::parser parser;
  if (size == 0) return 0;
  const size_t which = data[0] % std::size(kEndpoints);
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  for (JsonApi* api : {stored, demo}) {
    std::string out;
    sluice::Status status = (api->*kEndpoints[which])(body, &out, {});
    if (!status.ok()) continue;
    simdjson::dom::element root;
    if (!sluice::fuzz::ParseJsonOrDie(parser, out, body, &root)) continue;
    if (!root.is_array()) {
      sluice::fuzz::Die(std::string("/") + kNames[which] + " response is not an array", out);
    }
  }
  return 0;
}
