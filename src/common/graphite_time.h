// Graphite's time forms: the `from`, `until` and `now` parameters of graphite-web's HTTP API
// (/render, /metrics/find, /events/get_data), as its attime.py reads them.
//
// A time is epoch seconds ("1700000000"), or a reference optionally followed by an offset:
//   reference: "now" or nothing (= now); "HH:MM", "Xam", "Xpm", "noon", "midnight", "teatime"
//              (a time of day), optionally followed by a day: "today", "yesterday", "tomorrow",
//              "YYYYMMDD", "MM/DD/YY[YY]", a month name and day ("jan1", "january 15"), or a
//              weekday ("monday": the most recent one, today included);
//   offset:    '+' or '-' and one or more <count><unit>: s.../sec..., min..., h..., d..., w...,
//              mon... (30 days), y... (365 days). "m" alone is not a unit (graphite rejects it;
//              Grafana sends "min").
// Case does not matter and '_', ',' and ' ' are ignored: "12:00_20240101" is "12:0020240101".
// Eight digits that read as a date (year > 1900, month < 13, day < 32) are YYYYMMDD, not epoch
// seconds. All of it in UTC: graphite-web uses its TIME_ZONE setting, Sluice always UTC.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace sluice {

// Parses `text` relative to `now_ms` (epoch ms). Returns epoch milliseconds: whole seconds for
// every form except "now" and now-relative offsets, which keep now_ms's milliseconds.
// InvalidArgument naming the text and the part that is wrong ("unknown day reference 'xyz'",
// "unknown unit 'm'"). Out-of-range dates and times (February 30th, 25:00) are errors, and so is a
// now_ms outside +-kMaxAbsTimeMs (common/time.h), the range every result stays inside.
Result<int64_t> ParseGraphiteTime(std::string_view text, int64_t now_ms);

// graphite's parseTimeOffset: an optional sign, then one or more <count><unit> pairs ("5min",
// "-1d", "1h30min"), units as above. Returns signed milliseconds. InvalidArgument with a short
// reason that callers wrap: "expected a number", "unknown unit 'x' (expected s, min, h, d, w, mon
// or y)", "out of range". Shared by time parsing and the expression language's interval strings.
Result<int64_t> ParseGraphiteOffset(std::string_view text);

}  // namespace sluice
