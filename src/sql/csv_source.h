// CsvSource: a CSV file served as series (docs/sources.md, "CSV files").
//
// The file has a header row, a time column (SourceConfig::time_column, default `time`; RFC 3339
// timestamps, epoch seconds or epoch milliseconds, see ParseTimeText) and other columns. A column
// is a label when it is listed in label_columns or its first non-empty value is not a number;
// every other column is a value column, served as the series "<prefix>.<column>" (prefix: the
// source name unless name_prefix says otherwise), one series per combination of label values.
// Empty value cells are null points. Fields follow RFC 4180 (quotes, doubled quotes, commas and
// line breaks inside quotes; CRLF or LF).
//
// A malformed file (a row with the wrong number of fields, an unterminated quote, a bad time, a
// non-number in a value column) is an error naming the file, line and column, returned for every
// request until the file changes; nothing of it is served. The file is read on first use and again
// whenever its size or modification time changed, checked at most once a second.
//
// Requests are matched as for stored series: target names by NameMatcher, ad-hoc filters on the
// labels. There is no SQL: every request value is data. Thread-safe; MayBlock() is true.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "source/memory_source.h"
#include "source/series_source.h"
#include "sql/source_config.h"

namespace sluice::sql {

class CsvSource : public SeriesSource {
 public:
  // Does not read the file yet.
  explicit CsvSource(const SourceConfig& config);

  std::string_view name() const override { return name_; }
  bool MayBlock() const override { return true; }

  Status ListNames(std::vector<std::string>* out) override;
  Status TagKeys(const std::vector<TagFilter>& filters, std::vector<std::string>* out) override;
  Status TagValues(std::string_view key, const std::vector<TagFilter>& filters,
                   std::vector<std::string>* out) override;
  Status Fetch(const FetchRequest& request, FetchResult* out) override;

  // Parses CSV text into series (as described above); `file` names it in messages. Exposed for
  // tests.
  static Status Parse(std::string_view text, const std::string& file, const SourceConfig& config,
                      std::vector<Series>* out);

 private:
  // The data of the file as it is now (re-reading it when it changed), or the error reading it.
  Result<std::shared_ptr<MemorySource>> Current();

  const SourceConfig config_;
  const std::string name_;

  std::mutex mu_;
  std::chrono::steady_clock::time_point checked_{};  // last stat of the file
  bool have_stat_ = false;
  int64_t mtime_ns_ = 0;
  int64_t size_ = -1;
  std::shared_ptr<MemorySource> data_;  // null until a read succeeded
  Status error_;                        // the last read's failure; OK after a success
};

}  // namespace sluice::sql
