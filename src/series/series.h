// Series, tags, tables and annotations: the data model every source produces and every
// protocol encoder consumes.
//
// A Series is columnar: parallel vectors of epoch-ms timestamps (ascending, unique) and double
// values, where NaN means "no value" (written as null). Tags are sorted key/value pairs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice {

// Sorted by key, keys unique. A missing key reads as "" (as Prometheus and InfluxDB treat it).
class Tags {
 public:
  Tags() = default;
  Tags(std::initializer_list<std::pair<std::string, std::string>> pairs);

  // Inserts or replaces.
  void Set(std::string key, std::string value);
  // Removes `key` if present.
  void Erase(std::string_view key);
  // The value for `key`, or "" when absent.
  std::string_view Get(std::string_view key) const;
  bool Has(std::string_view key) const;

  const std::vector<std::pair<std::string, std::string>>& pairs() const { return pairs_; }
  bool empty() const { return pairs_.empty(); }
  size_t size() const { return pairs_.size(); }
  bool operator==(const Tags& other) const { return pairs_ == other.pairs_; }

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;
};

struct Series {
  std::string name;  // the metric name, e.g. "upper_25" or "app.web-1.requests"
  Tags tags;
  std::vector<int64_t> times_ms;  // ascending, unique
  std::vector<double> values;     // same length as times_ms; NaN = null

  size_t size() const { return times_ms.size(); }
  void Append(int64_t time_ms, double value) {
    times_ms.push_back(time_ms);
    values.push_back(value);
  }
};

enum class ColumnType { kTime, kNumber, kString, kBoolean };
std::string_view ColumnTypeName(ColumnType type);

// One table cell: a number (or time in epoch ms), a string, a boolean, or null.
struct Cell {
  enum class Kind { kNull, kNumber, kString, kBool } kind = Kind::kNull;
  double number = 0;
  std::string text;
  bool boolean = false;

  static Cell Null() { return Cell{}; }
  static Cell Number(double v) { return Cell{Kind::kNumber, v, {}, false}; }
  static Cell String(std::string s) { return Cell{Kind::kString, 0, std::move(s), false}; }
  static Cell Bool(bool b) { return Cell{Kind::kBool, 0, {}, b}; }
};

struct Column {
  std::string name;
  ColumnType type = ColumnType::kString;
};

struct Table {
  std::string name;
  std::vector<Column> columns;
  std::vector<std::vector<Cell>> rows;  // each row has columns.size() cells
};

// An annotation event; a region when end_ms > time_ms.
struct Annotation {
  int64_t time_ms = 0;
  int64_t end_ms = 0;  // == time_ms for a point event
  std::string title;
  std::string text;
  std::vector<std::string> tags;
};

}  // namespace sluice
