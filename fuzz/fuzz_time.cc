// fuzz_time: the bytes go to ParseTimestampMs and ParseDurationMs (common/time.h) and to
// AppendJsonString (common/json_writer.h).
//
// Oracles: no sanitizer report, and
//   * a parsed timestamp between 0000-01-01 and 9999-12-31 survives FormatTimestampMs → Parse;
//   * a parsed duration is in [1, 1e15] ms;
//   * AppendJsonString's output is one JSON string that simdjson accepts, and when the input is valid
//     UTF-8 it decodes back to exactly the input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/json_writer.h"
#include "common/time.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sluice::fuzz::Die;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const int64_t kMinMs = sluice::DaysFromCivil(0, 1, 1) * 86'400'000;
  static const int64_t kMaxMs = sluice::DaysFromCivil(10000, 1, 1) * 86'400'000 - 1;

  auto ts = sluice::ParseTimestampMs(text);
  if (ts.ok() && ts.value() >= kMinMs && ts.value() <= kMaxMs) {
    const std::string formatted = sluice::FormatTimestampMs(ts.value());
    auto back = sluice::ParseTimestampMs(formatted);
    if (!back.ok() || back.value() != ts.value()) {
      Die("timestamp does not survive Format -> Parse",
          "input: " + std::string(text) + "\nms: " + std::to_string(ts.value()) +
              "\nformatted: " + formatted + "\nreparsed: " +
              (back.ok() ? std::to_string(back.value()) : back.status().message()));
    }
  }

  auto duration = sluice::ParseDurationMs(text);
  if (duration.ok() && (duration.value() < 1 || duration.value() > 1'000'000'000'000'000)) {
    Die("duration out of its documented range", std::string(text));
  }

  std::string json;
  sluice::AppendJsonString(text, &json);
  static simdjson::dom::parser parser;
  simdjson::dom::element root;
  auto err = parser.parse(json).get(root);
  std::string_view decoded;
  if (err != simdjson::SUCCESS || root.get_string().get(decoded) != simdjson::SUCCESS) {
    Die(std::string("AppendJsonString output is not a JSON string: ") +
            simdjson::error_message(err),
        json);
  }
  if (simdjson::validate_utf8(text.data(), text.size()) && decoded != text) {
    Die("AppendJsonString does not round-trip valid UTF-8", json);
  }
  return 0;
}
