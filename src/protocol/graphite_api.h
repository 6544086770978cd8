// GraphiteApi: the part of graphite-web 1.1.8's HTTP API that Grafana's built-in Graphite
// datasource calls, from the browser and from Grafana's server (alerting, recorded queries,
// public dashboards), answered over a SeriesSource with the expression engine (query/engine.h).
//
//   /render                 targets -> [{"target", "tags", "datapoints": [[value, epoch_s]]}]
//                           (format=json, or csv); from/until in graphite's forms
//                           (common/graphite_time.h); maxDataPoints; noNullPoints; jsonp
//   /metrics/find           one level of the metric tree: [{text, id, allowChildren, expandable,
//                           leaf}] (format=treejson), or completer / nodelist
//   /metrics/expand         the paths a pattern matches: {"results": [...]}
//   /metrics/index.json     every metric name
//   /tags, /tags/<tag>      tag names; one tag's values with series counts
//   /tags/findSeries        the series matching tag expressions, as "name;tag=value" paths
//   /tags/autoComplete/tags, /tags/autoComplete/values   the tag editor's suggestions
//   /functions              the function registry as graphite's function index
//   /version                "1.1.8"
//   /events/get_data        the source's annotations as graphite events
//
// Every endpoint reads its parameters from the URL query string and, for POST, from an
// application/x-www-form-urlencoded body, merged as Django does (a repeated key keeps every value;
// a single value is the last one). Sluice's series are named paths with tags: a path is a node of
// the metric tree whether the series is tagged or not, and seriesByTag/tag expressions see every
// series (its name is the "name" tag). Times are UTC.
//
// Errors come back as a non-OK Status whose message names the parameter; the HTTP layer answers
// with {"message": ..., "error": ...}. Budgets are ApiOptions' (series per path, points per
// request, timeout). This module knows nothing of HTTP. Thread-safe: one GraphiteApi serves all
// threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "protocol/json_api.h"
#include "source/series_source.h"

namespace sluice::query {
class Engine;
}  // namespace sluice::query

namespace sluice::protocol {

// A URL query string merged with a form body, as Django's request.GET + request.POST.
class FormParams {
 public:
  // Appends the pairs of "a=1&b=x+y&a=2": '+' is a space, %XX a byte (a malformed escape stays as
  // written), a key without '=' has the value "".
  void Parse(std::string_view text);

  bool Has(std::string_view key) const;
  // The last value of `key`, or null.
  const std::string* Get(std::string_view key) const;
  // Every value of `key`, in order (query string first, then body).
  std::vector<std::string> GetAll(std::string_view key) const;

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;
};

// Percent-decodes `text` as a form value ('+' is a space), as Python's unquote_plus.
std::string FormDecode(std::string_view text);

// What the transport knows about one Graphite request.
struct GraphiteRequest {
  std::string_view query;         // the URL query string, without '?'
  std::string_view body;          // the request body (read as a form unless it is JSON)
  std::string_view content_type;  // the Content-Type header; "" when absent
  std::string_view path;          // the normalised path (for /tags/<tag>)
  RequestContext context;
};

struct GraphiteResponse {
  std::string body;
  std::string content_type = "application/json";
};

class GraphiteApi {
 public:
  GraphiteApi(std::shared_ptr<SeriesSource> source, ApiOptions options);
  ~GraphiteApi();

  // True when the source may block, so callers should run requests off the I/O threads.
  bool MayBlock() const { return source_->MayBlock(); }

  Status Render(const GraphiteRequest& request, GraphiteResponse* out);
  Status MetricsFind(const GraphiteRequest& request, GraphiteResponse* out);
  Status MetricsExpand(const GraphiteRequest& request, GraphiteResponse* out);
  Status MetricsIndex(const GraphiteRequest& request, GraphiteResponse* out);
  Status TagList(const GraphiteRequest& request, GraphiteResponse* out);
  // /tags/<tag>: the tag is the last segment of request.path. "null" for an unknown tag.
  Status TagDetails(const GraphiteRequest& request, GraphiteResponse* out);
  Status FindSeries(const GraphiteRequest& request, GraphiteResponse* out);
  Status AutoCompleteTags(const GraphiteRequest& request, GraphiteResponse* out);
  Status AutoCompleteValues(const GraphiteRequest& request, GraphiteResponse* out);
  Status Functions(const GraphiteRequest& request, GraphiteResponse* out);
  Status Version(const GraphiteRequest& request, GraphiteResponse* out);
  Status Events(const GraphiteRequest& request, GraphiteResponse* out);

 private:
  struct SeriesId {
    std::string name;
    Tags tags;
  };
  // The series (name and tags) that pass every tag expression filter; "name" filters test the
  // name. Ordered by graphite path ("name;k=v;..."), at most max_series_per_target of them.
  Status ListSeries(const std::vector<TagFilter>& filters, const RequestContext& context,
                    std::vector<SeriesId>* out);
  // Every metric name of the source, sorted, without graphite-style tagged names ("a;b=c").
  Status MetricNames(std::vector<std::string>* names);
  RequestContext Bound(const RequestContext& context) const;

  std::shared_ptr<SeriesSource> source_;
  ApiOptions options_;
  std::unique_ptr<query::Engine> engine_;
};

}  // namespace sluice::protocol
