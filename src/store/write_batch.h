// WriteBatch: points on their way into the Store, grouped by series.
//
// The ingest decoders (line protocol, JSON) fill a batch; Store::Write commits it. A series is
// identified by its name and sorted tags, encoded once as a SeriesKey string so that a line's
// lookup is one hash probe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "series/series.h"

namespace sluice::store {

enum class ValueType : uint8_t { kFloat = 0, kInteger = 1, kBoolean = 2 };
std::string_view ValueTypeName(ValueType type);

// "name\0k1\0v1\0k2\0v2" with tags sorted by key: unique per series, and what the catalog stores.
std::string SeriesKey(std::string_view name, const Tags& tags);
// Splits a SeriesKey back into name and tags.
void ParseSeriesKey(std::string_view key, std::string* name, Tags* tags);

// An annotation's tags as the stores keep them: joined by the byte 0x1F (docs/storage.md).
std::string JoinAnnotationTags(const std::vector<std::string>& tags);
// Appends the tags of a joined string to *out.
void SplitAnnotationTags(std::string_view joined, std::vector<std::string>* out);

class WriteBatch {
 public:
  struct BatchSeries {
    std::string key;
    ValueType type;
    size_t line;  // where the series first appeared, for error messages
  };
  struct Point {
    uint32_t series;  // index into series()
    int64_t time_ms;
    double value;
  };

  // The batch-local index of a series of `type`, added on first use. `key` is a SeriesKey. The same
  // key with another type is another batch series: the store keeps the one whose type matches what
  // it holds (for a new series, the first to appear) and reports the other as a type conflict.
  uint32_t AddSeries(const std::string& key, ValueType type, size_t line);
  void Add(uint32_t series, int64_t time_ms, double value) {
    points_.push_back({series, time_ms, value});
  }

  const std::vector<BatchSeries>& series() const { return series_; }
  const std::vector<Point>& points() const { return points_; }
  std::vector<Point>& mutable_points() { return points_; }
  size_t size() const { return points_.size(); }
  bool empty() const { return points_.empty(); }
  void Clear();

 private:
  std::vector<BatchSeries> series_;
  std::vector<Point> points_;
  std::unordered_map<std::string, uint32_t> index_;  // SeriesKey + type byte -> index
  std::string scratch_;
};

}  // namespace sluice::store
