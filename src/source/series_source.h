// SeriesSource: the seam between the query engine and the data.
//
// Every place data can come from (the in-memory fake, the demo generator, the embedded store, SQL
// databases, CSV files, user code) implements this interface; the HTTP and protocol layers only
// ever talk to it. It is also the C++ API for users whose data needs code: subclass it, or register
// callbacks on a FunctionSource (source/function_source.h), and hand it to sluice::Server.
//
// Thread safety: every method may be called from several threads at once.
// Blocking: a source whose MayBlock() is true (it waits on I/O) is only ever called from the worker
// pool, never from an HTTP I/O thread, so slow databases cannot stall health checks.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "series/name_matcher.h"
#include "series/series.h"
#include "series/tag_filter.h"

namespace sluice {

struct TimeRange {
  int64_t from_ms = 0;  // inclusive
  int64_t to_ms = 0;    // inclusive
};

enum class ResultFormat { kTimeseries, kTable };

// One target of a /query request, resolved and validated by the protocol layer.
struct FetchRequest {
  std::string_view target;              // the text as sent (after Grafana's interpolation)
  const NameMatcher* matcher = nullptr;  // compiled from `target`; never null
  const std::vector<TagFilter>* filters = nullptr;  // ad-hoc filters, ANDed; never null
  TimeRange range;
  int64_t max_points = 0;   // the client's maxDataPoints; a source may consolidate early
  int64_t interval_ms = 0;  // the client's suggested bucket width
  std::string_view payload_json = "{}";  // the target's payload, minified JSON
  // The request's `scopedVars` object, minified JSON ("{}" when absent): template variables a
  // source may bind as values (the $__var macro of SQL targets).
  std::string_view scoped_vars_json = "{}";
  ResultFormat format = ResultFormat::kTimeseries;
  // Raw points the request may still read. A source should stop (kResourceExhausted) or sample
  // more coarsely rather than materialise more; the engine enforces it after the fetch as well.
  int64_t point_budget = INT64_MAX;
  // Set when the client went away (the HTTP layer saw the connection close); a source waiting on
  // I/O should poll it and give up with any error (nobody reads the answer). Null when nobody can
  // cancel.
  const std::atomic<bool>* cancelled = nullptr;
  // The request's deadline; a source should cancel work still running then (kDeadlineExceeded).
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

// What a fetch produced. Series must have ascending unique timestamps inside the range.
struct FetchResult {
  std::vector<Series> series;
  std::vector<Table> tables;
};

struct AnnotationRequest {
  TimeRange range;
  // The annotation query text, as typed (glob-interpolated). Empty means every event. Otherwise each
  // whitespace-separated word (a leading '#' ignored) must match: a tag equal to it (globs allowed),
  // or the title or text containing it, case-insensitively. See AnnotationQuery.
  std::string_view query;
  size_t limit = 10000;
  // As in FetchRequest.
  const std::atomic<bool>* cancelled = nullptr;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

// A /search or /variable text that a source may answer with values of its own (a variable query
// defined in SQL) rather than with the names that match it.
struct VariableRequest {
  std::string_view text;
  TimeRange range;  // the dashboard's range (/variable) or the default window (/search)
  // As in FetchRequest.
  const std::atomic<bool>* cancelled = nullptr;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

class SeriesSource {
 public:
  virtual ~SeriesSource() = default;

  // A short name for messages and logs, e.g. "demo" or "postgres:orders".
  virtual std::string_view name() const = 0;

  // True when calls may wait on I/O; see the header comment.
  virtual bool MayBlock() const { return false; }

  // Appends the names of the targets this source serves (order free, duplicates allowed).
  virtual Status ListNames(std::vector<std::string>* out) = 0;

  // Appends the tag keys of series that pass `filters`.
  virtual Status TagKeys(const std::vector<TagFilter>& filters, std::vector<std::string>* out) = 0;

  // Appends the values of `key` among series that pass `filters` (filters on `key` itself excluded by
  // the caller when appropriate).
  virtual Status TagValues(std::string_view key, const std::vector<TagFilter>& filters,
                           std::vector<std::string>* out) = 0;

  // Appends the series (and tables) matching request.matcher and request.filters over request.range.
  // A source that knows nothing of the target appends nothing and returns OK.
  virtual Status Fetch(const FetchRequest& request, FetchResult* out) = 0;

  // Appends annotation events overlapping request.range that match request.query.
  virtual Status Annotations(const AnnotationRequest& request, std::vector<Annotation>* out) {
    (void)request;
    (void)out;
    return Status::OK();
  }

  // Answers request.text when it names one of this source's variable queries: appends the values
  // in the source's order and sets *handled. A source without variable queries leaves both alone
  // (the default), and the caller lists the names that match the text instead.
  virtual Status VariableValues(const VariableRequest& request, std::vector<std::string>* out,
                                bool* handled) {
    (void)request;
    (void)out;
    (void)handled;
    return Status::OK();
  }
};

// The annotation query rule described at AnnotationRequest::query, parsed once (globs compiled
// once) and then matched against many events.
class AnnotationQuery {
 public:
  explicit AnnotationQuery(std::string_view query);
  bool Matches(const Annotation& event) const;

 private:
  struct Word {
    std::string text;
    bool glob = false;
    NameMatcher matcher;  // when glob
  };
  std::vector<Word> words_;
};

}  // namespace sluice
