// Bulk loads from files into the embedded store (`sluice import`).
//
// Line protocol (.lp, .txt, or anything not .csv) is read in blocks of whole lines and committed
// a block at a time. CSV (.csv) has a header row: the first column is the time (RFC 3339, or an
// integer whose size says its unit: up to 11 digits seconds, 14 milliseconds, 17 microseconds,
// more nanoseconds), every other column is one series, named by its header; a header may carry tags
// Graphite-style, "sensors.temp;room=lab;floor=2". Empty cells are skipped.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "store/line_protocol.h"
#include "store/time_series_store.h"

namespace sluice::ingest {

struct ImportProgress {
  uint64_t bytes_read = 0;
  uint64_t bytes_total = 0;
  uint64_t points = 0;
  uint64_t bad_lines = 0;
};

struct ImportOptions {
  store::Precision precision = store::Precision::kNanoseconds;  // line protocol only
  size_t block_bytes = 4 << 20;
  // Called after every committed block.
  std::function<void(const ImportProgress&)> on_progress;
};

// Imports `path`. Bad lines are skipped and the first ones described in *messages; the import
// fails only when the file cannot be read or the store cannot commit.
Status ImportFile(const std::string& path, store::TimeSeriesStore* store,
                  const ImportOptions& options, ImportProgress* progress,
                  std::vector<std::string>* messages);

}  // namespace sluice::ingest
