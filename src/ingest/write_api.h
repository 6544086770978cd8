// WriteApi: the endpoints that put data into the embedded store.
//
//   POST /write?db=…&precision=ns|us|ms|s|m|h   InfluxDB 1.x line protocol, as Telegraf sends it
//   POST /api/v1/write                          JSON series: {"series":[{"name","tags","points"}]}
//   POST /api/v1/annotations                    events: {"time","timeEnd","title","text","tags"}
//   POST /api/v1/delete                         {"target": pattern, "filters": [...]}
//
// Like protocol::JsonApi it knows nothing of HTTP: each call returns OK (with a JSON body, or an
// empty one meaning "204 No Content") or a Status whose message names the line and column or the
// field. A partial write keeps every good line and fails with the bad ones listed.
// Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "store/line_protocol.h"
#include "store/time_series_store.h"

namespace sluice::ingest {

class WriteApi {
 public:
  explicit WriteApi(store::TimeSeriesStore* store) : store_(store) {}

  // `query` is the raw query string (for precision). Empty *out on success: answer 204.
  Status LineProtocol(std::string_view query, std::string_view body, std::string* out);
  Status JsonWrite(std::string_view body, std::string* out);
  Status AddAnnotations(std::string_view body, std::string* out);
  Status Delete(std::string_view body, std::string* out);

 private:
  store::TimeSeriesStore* store_;
};

// Appends the points of line-protocol `body` to *batch: one series per field, named
// "<measurement>.<field>" with the line's tags. Bad lines are skipped and described (at most 10)
// in *messages (line numbers plus `line_offset`); *bad_lines counts them. String fields are not
// stored.
void AppendLineProtocol(std::string_view body, store::Precision precision, int64_t now_ms,
                        store::WriteBatch* batch, std::vector<std::string>* messages,
                        size_t* bad_lines, size_t line_offset = 0);

// The value of `key` in a URL query string ("a=1&precision=s"), percent-decoded; "" when absent.
std::string QueryParam(std::string_view query, std::string_view key);

}  // namespace sluice::ingest
