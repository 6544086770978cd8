// Decoded request bodies of the Grafana JSON datasource protocol (PROTOCOL.md §5-§13), both dialects.
//
// Decoding is lenient where the plugins are inconsistent (unknown keys ignored, missing fields
// defaulted, `adhocFilters` and `filters` merged) and strict where a wrong type means a broken
// client: such errors are InvalidArgument and name the field, e.g. "targets[1].target: expected a
// string, got number". String views in the decoded structs point into `JsonBody`, which must outlive
// them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "series/consolidate.h"
#include "series/tag_filter.h"
#include "source/series_source.h"

namespace simdjson::dom {
class element;
}

namespace sluice::protocol {

// Defaults for fields the client may omit.
struct RequestDefaults {
  int64_t range_ms = 6 * 3'600'000;  // a missing range means the last 6 hours
  int64_t max_data_points = 1000;
  size_t max_targets = 10'000;
  size_t max_filters = 1'000;
};

// A parsed JSON body. Owns the parse; views into it stay valid while it lives.
// Not thread-safe; each request parses its own.
class JsonBody {
 public:
  JsonBody();
  ~JsonBody();
  JsonBody(JsonBody&&) noexcept;
  JsonBody& operator=(JsonBody&&) noexcept;

  // Parses `text`. An empty or all-whitespace body parses as `{}` when `empty_ok`, otherwise fails.
  static Result<JsonBody> Parse(std::string_view text, bool empty_ok);
  const simdjson::dom::element& root() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct QueryTarget {
  size_t index = 0;          // position in the request's targets array
  std::string_view text;     // the target text; "" when absent
  std::string ref_id;        // as sent; "A" when absent
  ResultFormat format = ResultFormat::kTimeseries;
  std::optional<ConsolidationFn> consolidate;  // from payload.consolidateBy
  std::string payload_json = "{}";             // minified payload
  bool is_annotation = false;  // refId "Anno" in an annotation request (NEW §6.2)
};

struct QueryRequest {
  TimeRange range;
  int64_t interval_ms = 0;
  int64_t max_data_points = 0;
  std::vector<QueryTarget> targets;  // hidden targets already removed
  std::vector<TagFilter> filters;    // `adhocFilters` ∪ `filters`
  bool annotation_request = false;
  std::string scoped_vars_json = "{}";  // `scopedVars`, minified; "{}" when absent or not an object
};

Result<QueryRequest> DecodeQuery(const simdjson::dom::element& root, const RequestDefaults& defaults,
                                 int64_t now_ms);

struct AnnotationsRequest {
  TimeRange range;
  std::string_view query;            // annotation.query; "" when absent
  std::string annotation_json = "{}";  // the request's `annotation` object, echoed back
};
Result<AnnotationsRequest> DecodeAnnotations(const simdjson::dom::element& root,
                                             const RequestDefaults& defaults, int64_t now_ms);

// /search, /variable and /metrics carry a text to match names against.
struct SearchRequest {
  std::string_view text;
  TimeRange range;
};
// /search: {"target": text} ({} and non-string targets mean "").
Result<SearchRequest> DecodeSearch(const simdjson::dom::element& root);
// /metrics: {"metric": text, "payload": …} ({} means "").
Result<SearchRequest> DecodeMetrics(const simdjson::dom::element& root);
// /variable: {"payload": {"target": text, …} | "text", "range": …}.
Result<SearchRequest> DecodeVariable(const simdjson::dom::element& root,
                                     const RequestDefaults& defaults, int64_t now_ms);

struct MetricPayloadOptionsRequest {
  std::string_view metric;
  std::string_view name;
};
Result<MetricPayloadOptionsRequest> DecodeMetricPayloadOptions(const simdjson::dom::element& root);

struct TagRequest {
  std::string_view key;  // /tag-values only
  std::vector<TagFilter> filters;
};
// /tag-keys (`need_key` false) and /tag-values (`need_key` true).
Result<TagRequest> DecodeTagRequest(const simdjson::dom::element& root, bool need_key,
                                    const RequestDefaults& defaults);

// Parses a `range` object ({from, to}); a missing range is the default window ending at now_ms.
Result<TimeRange> DecodeRange(const simdjson::dom::element& root, std::string_view field,
                              const RequestDefaults& defaults, int64_t now_ms);

}  // namespace sluice::protocol
