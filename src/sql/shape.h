// Result shaping: the rules that turn a driver's ResultSet into series, a table, annotation events
// or a list of values, the same for every driver (docs/sources.md, "Result shapes").
//
// Time series: the time column is the one named `time` (any case) or else the first timestamp
// column; its values may be timestamps, epoch seconds or epoch milliseconds (EpochToMs) or text
// (ParseTimeText). Numeric and boolean columns are values; text columns are labels, except one
// named `metric`, whose value names the series. NULL values are null points (NaN); rows with a NULL
// time are skipped. Each series comes out sorted by time with unique timestamps (the last row wins)
// and clipped to the range.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "series/series.h"
#include "source/series_source.h"
#include "sql/driver.h"

namespace sluice::sql {

// A numeric time to epoch ms by magnitude: |v| < 1e11 is seconds (up to the year 5138), |v| < 1e14
// milliseconds, |v| < 1e17 microseconds, anything larger nanoseconds. Fractions of a millisecond are
// dropped (floor).
int64_t EpochToMs(double v);

// A time written as text: a number (as EpochToMs) or an RFC 3339 timestamp ("2024-05-01T12:00:00Z",
// "2024-05-01 12:00:00.250", "2024-05-01"). InvalidArgument quoting the text otherwise.
Result<int64_t> ParseTimeText(std::string_view text);

// Decimal text for a value: integers without a fraction ("42"), others shortest round-trip.
std::string FormatNumber(double v);

struct SeriesShape {
  // The series name when there is one value column and no `metric` column.
  std::string default_name;
  // Points outside the range are dropped.
  TimeRange range{INT64_MIN, INT64_MAX};
};

// Appends the series of `result`. InvalidArgument when it has no time column, no value column or
// a text time that does not parse (naming column, row and text).
Status ShapeSeries(const ResultSet& result, const SeriesShape& shape, std::vector<Series>* out);

// The rows as a typed table named `name`: timestamps (and a column named `time` of numbers, or of
// text that parses as times) become time columns, numbers number, booleans boolean, everything
// else string.
Status ShapeTable(const ResultSet& result, std::string name, Table* out);

// Events from columns time (as for series), timeEnd or time_end (optional), title, text and tags
// (optional; comma-separated text, or a PostgreSQL array literal "{a,b}"). Rows with a NULL time
// are skipped; an end before the start is the start.
Status ShapeAnnotations(const ResultSet& result, std::vector<Annotation>* out);

// The first column as text (numbers via FormatNumber, timestamps as RFC 3339); NULLs skipped.
Status ShapeValues(const ResultSet& result, std::vector<std::string>* out);

}  // namespace sluice::sql
