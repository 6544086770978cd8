// Store: Sluice's embedded time-series store in one SQLite file (a TimeSeriesStore; PgStore in
// store/pg_store.h keeps the same store in PostgreSQL for several replicas).
//
// Layout (docs/storage.md has every on-disk value): a series catalog (name + tags -> id), sealed
// chunks of compressed points per series (store/chunk.h), and a write-ahead table of committed but
// not yet chunked batches. Writes go to that table and to in-memory heads; a background checkpoint
// moves head points into chunks and deletes the batches it covered, in one transaction. Reads merge
// a series' chunks with its head, so everything acknowledged is visible at once.
//
// Durability: Write() returns OK only after its transaction has committed (WAL mode,
// synchronous=FULL by default), so an acknowledged point survives a crash; on open, the batches
// still in the write-ahead table are replayed into the heads. Concurrent writers are committed
// together by whichever of them is first in line (group commit, as LevelDB's DBImpl::Write).
// Readers use their own connections and never block writers.
//
// Thread safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "source/series_source.h"
#include "store/group_commit.h"
#include "store/sqlite.h"
#include "store/time_series_store.h"
#include "store/write_batch.h"

namespace sluice::store {

class Store : public TimeSeriesStore {
 public:
  // Opens or creates `dir`/sluice.db and replays unfinished batches. Fails when the file belongs to
  // a newer format, or (kUnavailable) when another process has the store open.
  static Result<std::unique_ptr<Store>> Open(const std::string& dir, StoreOptions options);
  // Stops the background threads and checkpoints.
  ~Store() override;

  // Commits the batch durably and makes it visible. Lines whose series already exists with another
  // value type are dropped and reported in `result` (the rest is kept). Thread-safe.
  Status Write(WriteBatch* batch, WriteResult* result) override;

  Status AddAnnotation(const Annotation& event) override;
  // Deletes matching series with all their points; *deleted counts them.
  Status DeleteSeries(const NameMatcher& matcher, const std::vector<TagFilter>& filters,
                      size_t* deleted) override;
  // Moves every head into chunks now.
  Status Checkpoint() override;
  // Deletes points older than now_ms - retention.
  Status EnforceRetention(int64_t now_ms) override;
  StoreStats Stats() override;
  const std::string& path() const { return path_; }

  // SeriesSource
  std::string_view name() const override { return "store"; }
  Status ListNames(std::vector<std::string>* out) override;
  Status TagKeys(const std::vector<TagFilter>& filters, std::vector<std::string>* out) override;
  Status TagValues(std::string_view key, const std::vector<TagFilter>& filters,
                   std::vector<std::string>* out) override;
  Status Fetch(const FetchRequest& request, FetchResult* out) override;
  Status Annotations(const AnnotationRequest& request, std::vector<Annotation>* out) override;

 private:
  struct Entry;
  class ReaderPool;

  Store(std::string path, StoreOptions options);
  Status Init();
  Status Recover();
  Status CommitGroup(const std::vector<GroupCommit::Writer*>& group);
  Status CheckpointLocked();
  void Background();
  Entry* FindEntry(const std::string& key);
  // The live series whose name `matcher` selects and whose tags pass `filters`.
  std::vector<Entry*> Match(const NameMatcher& matcher, const std::vector<TagFilter>& filters);
  // Appends the head points of `entry` inside `range`, sorted, newest write winning.
  static void CopyHead(Entry* entry, const TimeRange& range, std::vector<int64_t>* times,
                       std::vector<double>* values);

  const std::string path_;
  const StoreOptions options_;

  // The catalog: entries by id (index id - 1), never removed (deleted ones are marked).
  mutable std::shared_mutex catalog_mu_;
  std::vector<std::unique_ptr<Entry>> entries_;
  std::unordered_map<std::string, uint32_t> ids_;  // SeriesKey -> id

  GroupCommit queue_;
  std::mutex commit_mu_;  // held by the leader while committing and by checkpoints
  std::mutex checkpoint_mu_;  // one checkpoint or retention pass (maintenance_db_) at a time
  std::unique_ptr<Database> writer_db_;
  std::unique_ptr<Database> maintenance_db_;
  int64_t last_wal_seq_ = 0;        // guarded by commit_mu_
  int64_t wal_bytes_ = 0;           // since the last checkpoint; guarded by commit_mu_
  std::unique_ptr<ReaderPool> readers_;

  int lock_fd_ = -1;  // flock on dir/sluice.lock: one process per store

  std::mutex background_mu_;
  std::condition_variable background_cv_;
  bool stopping_ = false;
  std::thread background_;
};

}  // namespace sluice::store
