// fuzz_render: Graphite /render parameter handling. The first byte picks what the rest is:
//   0: a /render query string, run through GraphiteApi::Render (FormParams, from/until/now through
//      ParseGraphiteTime, maxDataPoints, format, jsonp, targets through the engine) over the stored
//      MemorySource of fuzz_common.h; "now" is pinned to the fixtures' end unless the input sets
//      it;
//   1: text for ParseGraphiteTime (now = the fixtures' end, or 0 / the int64 ends by the second
//      byte) and for ParseGraphiteOffset;
//   2: text for FormParams::Parse and FormDecode.
// Oracles: no sanitizer report; an OK Render of format=json with no jsonp is valid JSON;
// FormDecode never makes its input longer.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "common/graphite_time.h"
#include "fuzz_common.h"
#include "protocol/graphite_api.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  if (size < 1) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0: {
      static protocol::GraphiteApi* api = [] {
        protocol::ApiOptions options = fuzz::FuzzOptions();
        options.timeout_ms = 1'000;
        return new protocol::GraphiteApi(fuzz::MakeStoredSource(), options);
      }();
      const std::string query =
          "now=" + std::to_string(fuzz::kFixtureEndMs / 1000) + "&" + std::string(rest);
      protocol::GraphiteRequest request;
      request.query = query;
      request.path = "/render";
      protocol::GraphiteResponse response;
      if (!api->Render(request, &response).ok()) return 0;
      if (response.content_type == "application/json") {
        std::string error;
        if (!fuzz::JsonValidator::Valid(response.body, &error)) {
          fuzz::Die("/render answered invalid JSON: " + error, query + "\n" + response.body);
        }
      }
      return 0;
    }
    case 1: {
      if (rest.empty()) return 0;
      constexpr int64_t kNows[] = {fuzz::kFixtureEndMs,
                                   0,
                                   std::numeric_limits<int64_t>::min(),
                                   std::numeric_limits<int64_t>::max(),
                                   -1,
                                   1'700'000'000'123};
      const int64_t now = kNows[static_cast<uint8_t>(rest[0]) % std::size(kNows)];
      (void)ParseGraphiteTime(rest.substr(1), now);
      (void)ParseGraphiteOffset(rest.substr(1));
      return 0;
    }
    default: {
      protocol::FormParams params;
      params.Parse(rest);
      (void)params.GetAll("target");
      const std::string decoded = protocol::FormDecode(rest);
      if (decoded.size() > rest.size()) fuzz::Die("FormDecode made its input longer", rest);
      return 0;
    }
  }
}
