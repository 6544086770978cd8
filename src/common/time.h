// Time values as Sluice uses them: int64_t epoch milliseconds everywhere.
//
// Parsers for the forms that reach the server: RFC 3339 / ISO-8601 timestamps from Grafana
// ("2015-12-22T03:16:00.000Z", "2016-10-31T06:33:44+02:00"), and durations ("30s", "5min", "1h").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice {

// Milliseconds since the Unix epoch, from the system clock.
int64_t NowMs();

// The largest |timestamp| Sluice accepts: about year 318,857. Arithmetic on times within this
// bound (spans, bucket edges, steps) cannot overflow int64.
inline constexpr int64_t kMaxAbsTimeMs = 10'000'000'000'000'000;

// Parses an RFC 3339 timestamp: date, 'T' or ' ', time with optional fraction (any number of
// digits, truncated to ms), and 'Z', "+hh:mm", "-hh:mm" or "+hhmm". A bare date means midnight UTC.
// A string of only digits is taken as epoch milliseconds (at most kMaxAbsTimeMs). Impossible dates
// (February 30th) are errors. Errors name the offending text.
Result<int64_t> ParseTimestampMs(std::string_view text);

// Parses a duration: an integer (or decimal) count followed by a unit. Units: ms; s, sec, second(s);
// m, min, minute(s); h, hour(s); d, day(s); w, week(s); mon, month(s) (30 d); y, year(s) (365 d).
// A bare number is seconds. Must be positive.
Result<int64_t> ParseDurationMs(std::string_view text);

// "2015-12-22T03:16:00.000Z" for logs and messages.
std::string FormatTimestampMs(int64_t ms);

// Days since 1970-01-01 for a proleptic Gregorian date (month 1-12).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

}  // namespace sluice
