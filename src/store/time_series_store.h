// TimeSeriesStore: what the rest of Sluice needs from the embedded store, whatever keeps it.
//
// The ingest endpoints (ingest/write_api.h), `sluice import`, the demo feed and the server wiring
// talk to this interface only. Two implementations: Store (store/store.h), one SQLite file owned by
// one process, and PgStore (store/pg_store.h), PostgreSQL shared by several Sluice replicas.
// OpenStore (store/open_store.h) picks one from a location. docs/storage.md describes both.
//
// Contract common to both: Write returns OK only once the batch is durable (committed), and from
// then on every read through this object sees it (PgStore: every replica's reads). Every method may
// be called from any thread. A backend that cannot be reached is kUnavailable naming the store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "source/series_source.h"
#include "store/write_batch.h"

namespace sluice::store {

struct StoreOptions {
  // Points older than this are deleted in the background; 0 keeps everything.
  int64_t retention_ms = 30LL * 86'400'000;
  // Points per sealed chunk. Larger chunks compress better and decode faster; a checkpoint rewrites
  // the last, partial chunk of every series written since the previous one.
  size_t chunk_points = 1000;
  // How often the head is moved into chunks, and the write-ahead size that forces it sooner.
  // (PostgreSQL: how often a replica tries to compact recent rows, and the bytes it has written
  // since its last try that make it try sooner.)
  int64_t checkpoint_interval_ms = 60'000;
  int64_t checkpoint_wal_bytes = 64LL << 20;
  // How often retention runs.
  int64_t retention_interval_ms = 60'000;
  // synchronous=FULL: a commit survives power loss, not only a process crash. NORMAL is faster.
  // (PostgreSQL: false sets synchronous_commit = off; a commit then survives a Sluice crash but
  // not a PostgreSQL crash.)
  bool sync_commits = true;
  // Run the checkpoint and retention threads (tests may drive them by hand).
  bool background = true;

  // PostgreSQL only. How old the series catalog (names for matching) may be when a request uses
  // it: a series created by another replica is matched at most this long after it was
  // acknowledged. 0 checks on every request (one extra round trip).
  int64_t catalog_refresh_ms = 1'000;
  // PostgreSQL only. Most connections a replica opens (readers, the writer, maintenance).
  size_t max_connections = 8;
};

// What a write did. Points of lines that failed are counted in `dropped`.
struct WriteResult {
  size_t written = 0;
  size_t dropped = 0;
  std::vector<std::string> errors;  // at most a few, each naming the line
};

struct StoreStats {
  size_t series = 0;
  size_t head_points = 0;  // SQLite: points in memory heads; PostgreSQL: points in recent rows
  size_t chunks = 0;
  int64_t file_bytes = 0;  // SQLite: file sizes; PostgreSQL: the tables' total relation size
};

class TimeSeriesStore : public SeriesSource {
 public:
  // Commits the batch durably and makes it visible. Lines whose series already exists with another
  // value type are dropped and reported in `result` (the rest is kept). On error nothing of the
  // batch is acknowledged (it may or may not have been stored when the connection broke).
  virtual Status Write(WriteBatch* batch, WriteResult* result) = 0;
  virtual Status AddAnnotation(const Annotation& event) = 0;
  // Deletes matching series with all their points; *deleted counts them.
  virtual Status DeleteSeries(const NameMatcher& matcher, const std::vector<TagFilter>& filters,
                              size_t* deleted) = 0;
  // Moves recent points into chunks now (PostgreSQL: unless another replica is doing it).
  virtual Status Checkpoint() = 0;
  // Deletes points older than now_ms - retention.
  virtual Status EnforceRetention(int64_t now_ms) = 0;
  virtual StoreStats Stats() = 0;

  bool MayBlock() const override { return true; }
};

}  // namespace sluice::store
