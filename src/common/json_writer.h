// JsonWriter: a streaming JSON encoder that appends straight into a std::string.
//
// Responses carry up to millions of datapoints, so they are never built as a DOM: callers emit tokens
// in order and the writer inserts commas itself. Numbers use std::to_chars (shortest round-trip form);
// NaN and infinities become null, because JSON has no spelling for them. Strings are escaped and any
// invalid UTF-8 is replaced by U+FFFD, so the output is always valid JSON whatever the input bytes.
// bench/json_writer_bench.cc compares this against fmt-based formatting.
//
// Not thread-safe; one writer per response. Nesting deeper than kMaxDepth is a programmer error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice {

class JsonWriter {
 public:
  static constexpr int kMaxDepth = 64;

  // Appends to *out, which must outlive the writer.
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }

  // Writes an object key; the next value call writes its value.
  void Key(std::string_view key);

  void String(std::string_view value);
  void Int(int64_t value);
  // NaN and +-Inf are written as null.
  void Double(double value);
  void Bool(bool value);
  void Null();
  // Appends already-encoded JSON text as one value. The caller vouches that it is valid.
  void Raw(std::string_view json);

  // Hot path for timeseries: writes one `[value,time_ms]` element.
  void Datapoint(double value, int64_t time_ms);
  // Writes n `[values[i],times_ms[i]]` elements; the bulk form of Datapoint, several times faster
  // because it reserves once and carries formatting state from one point to the next.
  void Datapoints(const double* values, const int64_t* times_ms, size_t n);

  std::string* out() { return out_; }

 private:
  void Open(char c);
  void Close(char c);
  // Inserts a comma when the current container already holds a value.
  void Separate() {
    if (need_comma_ & (uint64_t{1} << depth_)) out_->push_back(',');
    need_comma_ |= uint64_t{1} << depth_;
  }

  std::string* out_;
  int depth_ = 0;
  uint64_t need_comma_ = 0;  // bit d: the container at depth d already has an element
  bool after_key_ = false;
};

// Appends `value` to *out as a quoted, escaped JSON string.
void AppendJsonString(std::string_view value, std::string* out);
// Appends the shortest decimal form of `value` that reads back exactly; "null" for NaN/Inf.
void AppendJsonDouble(double value, std::string* out);
void AppendJsonInt(int64_t value, std::string* out);

}  // namespace sluice
