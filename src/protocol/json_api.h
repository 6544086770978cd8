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

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/json_writer.h"
#include "common/status.h"
#include "protocol/request.h"
#include "source/series_source.h"

namespace sluice::query {
class Engine;
struct Plan;
}  // namespace sluice::query

namespace sluice::protocol {

struct ApiOptions {
  RequestDefaults defaults;
  size_t search_limit = 1000;         // cap on /search, /metrics, /variable, tag lists
  size_t max_series_per_target = 10'000;
  int64_t max_points_per_request = 10'000'000;  // raw points fetched, summed over targets
  // Answer timeseries as data frames ({refId, name, fields: [time, value + labels]}) instead of the
  // legacy {target, datapoints}. The NEW plugin (>= 0.3) reads both; OLD needs Grafana >= 7.
  bool frames = false;
  // Every request's deadline, from when it starts (`[query] timeout`): sources see it as
  // FetchRequest::deadline and cancel work still running then (504). 0: no deadline.
  int64_t timeout_ms = 30'000;
};

// What the transport knows about one request, handed to the sources it reaches.
struct RequestContext {
  // Becomes true when the client went away (http::Request::cancelled); null when nobody can tell.
  const std::atomic<bool>* cancelled = nullptr;
  // The caller's own deadline; the earlier of it and now + ApiOptions::timeout_ms applies.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

class JsonApi {
 public:
  JsonApi(std::shared_ptr<SeriesSource> source, ApiOptions options);
  ~JsonApi();

  // True when the source may block, so callers should run requests off the I/O threads.
  bool MayBlock() const { return source_->MayBlock(); }
  const ApiOptions& options() const { return options_; }

  Status Health(std::string* out);
  Status Query(std::string_view body, std::string* out,
               const RequestContext& context = {});
  Status Annotations(std::string_view body, std::string* out,
                     const RequestContext& context = {});
  Status Search(std::string_view body, std::string* out,
                const RequestContext& context = {});
  Status Metrics(std::string_view body, std::string* out,
                 const RequestContext& context = {});
  Status MetricPayloadOptions(std::string_view body, std::string* out,
                              const RequestContext& context = {});
  Status Variable(std::string_view body, std::string* out,
                  const RequestContext& context = {});
  Status TagKeys(std::string_view body, std::string* out,
                 const RequestContext& context = {});
  Status TagValues(std::string_view body, std::string* out,
                   const RequestContext& context = {});

 private:
  // The bound plan when `text` is a Graphite expression (a call of a known function), else null.
  // A call that does not parse or bind is an error naming the column.
  Status ExpressionPlan(std::string_view text, std::shared_ptr<const query::Plan>* plan) const;
  // Evaluates an expression target and writes its series (graphite-web's consolidation).
  Status ExpressionTarget(const QueryRequest& request, const QueryTarget& target,
                          const query::Plan& plan, const RequestContext& context, int64_t* points,
                          std::string* out, JsonWriter* w);
  // Writes series as the target's format asks: one table, or timeseries / frames.
  void WriteSeries(const std::vector<Series>& series, const QueryTarget& target, std::string* out,
                   JsonWriter* w) const;
  // Values for /search and /variable: `tag_keys()`, `tag_values(key)`, the values of a variable
  // query a source defines (SeriesSource::VariableValues, over `range`), or names matching `text`.
  Status FindValues(std::string_view text, const TimeRange& range,
                    const RequestContext& context, std::vector<std::string>* values);
  // Writes one annotation table for a NEW annotation target (PROTOCOL.md §6.2).
  Status AnnotationTarget(const QueryRequest& request, const QueryTarget& target,
                          const RequestContext& context, JsonWriter* w);
  // Fetches events, dropping query words that name series (see AnnotationRequest::query).
  Status FetchAnnotations(const TimeRange& range, std::string_view query,
                          const RequestContext& context, std::vector<Annotation>* events);
  // `context` with its deadline lowered to now + options_.timeout_ms.
  RequestContext Bound(const RequestContext& context) const;

  std::shared_ptr<SeriesSource> source_;
  ApiOptions options_;
  std::unique_ptr<query::Engine> engine_;
};

// The names among `names` (sorted) that match what a user typed, in order: an empty text matches
// everything; otherwise a name matches when it contains the (unescaped) text case-insensitively, or
// when the text as a pattern (NameMatcher) selects it. At most `limit` names.
std::vector<std::string> FilterNames(std::string_view text, const std::vector<std::string>& names,
                                     size_t limit);

}  // namespace sluice::protocol
