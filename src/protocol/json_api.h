// JsonApi: every endpoint of Grafana's JSON datasource protocol, both dialects (PROTOCOL.md).
//
// Each method takes the raw request body and either fills `out` with the JSON response body (always
// an array, except Health) or returns a non-OK Status whose message names what was wrong and where.
// The HTTP layer maps the Status to a response; this module knows nothing of HTTP.
//
// Targets are resolved by NameMatcher (plain names, regex-escaped variable values, alternations,
// globs), filtered by ad-hoc filters, fetched from the SeriesSource and consolidated to
// maxDataPoints. Thread-safe: one JsonApi serves all threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/json_writer.h"
#include "common/status.h"
#include "protocol/request.h"
#include "source/series_source.h"

namespace sluice::protocol {

struct ApiOptions {
  RequestDefaults defaults;
  size_t search_limit = 1000;         // cap on /search, /metrics, /variable, tag lists
  size_t max_series_per_target = 10'000;
  int64_t max_points_per_request = 10'000'000;  // raw points fetched, summed over targets
  // Answer timeseries as data frames ({refId, name, fields: [time, value + labels]}) instead of the
  // legacy {target, datapoints}. The NEW plugin (>= 0.3) reads both; OLD needs Grafana >= 7.
  bool frames = false;
};

class JsonApi {
 public:
  JsonApi(std::shared_ptr<SeriesSource> source, ApiOptions options);

  // True when the source may block, so callers should run requests off the I/O threads.
  bool MayBlock() const { return source_->MayBlock(); }
  const ApiOptions& options() const { return options_; }

  Status Health(std::string* out);
  Status Query(std::string_view body, std::string* out);
  Status Annotations(std::string_view body, std::string* out);
  Status Search(std::string_view body, std::string* out);
  Status Metrics(std::string_view body, std::string* out);
  Status MetricPayloadOptions(std::string_view body, std::string* out);
  Status Variable(std::string_view body, std::string* out);
  Status TagKeys(std::string_view body, std::string* out);
  Status TagValues(std::string_view body, std::string* out);

 private:
  // Names for /search and /variable: `tag_keys()`, `tag_values(key)`, or names matching `text`.
  Status FindValues(std::string_view text, std::vector<std::string>* values);
  // Writes one annotation table for a NEW annotation target (PROTOCOL.md §6.2).
  Status AnnotationTarget(const QueryRequest& request, const QueryTarget& target, JsonWriter* w);
  // Fetches events, dropping query words that name series (see AnnotationRequest::query).
  Status FetchAnnotations(const TimeRange& range, std::string_view query,
                          std::vector<Annotation>* events);

  std::shared_ptr<SeriesSource> source_;
  ApiOptions options_;
};

// The names among `names` (sorted) that match what a user typed, in order: an empty text matches
// everything; otherwise a name matches when it contains the (unescaped) text case-insensitively, or
// when the text as a pattern (NameMatcher) selects it. At most `limit` names.
std::vector<std::string> FilterNames(std::string_view text, const std::vector<std::string>& names,
                                     size_t limit);

}  // namespace sluice::protocol
