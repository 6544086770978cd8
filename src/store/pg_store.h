// PgStore: the embedded store kept in PostgreSQL, shared by several Sluice replicas.
//
// The same logical store as Store (store/store.h): a series catalog, chunks in the chunk codec
// (store/chunk.h), annotations and write-ahead ("recent") rows, in tables prefixed `sluice_`
// (docs/storage.md, "The store on PostgreSQL", has the schema and the design). Nothing is owned by
// one process: every replica writes, reads, and may compact.
//
// Writes: Write() group-commits concurrent batches in one transaction (new series via INSERT … ON
// CONFLICT, points as one recent row per series via binary COPY) and returns OK only after COMMIT.
// Reads: Fetch() reads, in one statement, the chunks and the recent rows of the matched series and
// merges them (newest write wins), so it sees every acknowledged write of every replica; it reads
// 256 series per statement and checks FetchRequest::cancelled and the deadline between them. The
// catalog used for name matching is cached and refreshed at most every
// StoreOptions::catalog_refresh_ms (the staleness bound for series created by other replicas).
// Compaction (recent rows -> chunks, Checkpoint()) and retention run on at most one replica at a
// time, under a PostgreSQL advisory lock, in transactions: a crash anywhere loses nothing
// acknowledged.
//
// Availability: Open succeeds while PostgreSQL is down (after validating the URL); until it is
// reachable, and whenever it goes away later, calls fail with kUnavailable naming the store
// ("store: postgresql://user@host:port/db: …"; reads get the "store: " prefix from the Catalog
// that serves them), and service resumes by itself when it is back.
//
// Thread safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "store/group_commit.h"
#include "store/pg.h"
#include "store/time_series_store.h"

namespace sluice::store {

class PgStore : public TimeSeriesStore {
 public:
  // `url` is a libpq connection URI (postgresql://user:password@host:port/db?…) or key=value
  // string. InvalidArgument when it cannot be parsed or an option is out of range; kInternal when
  // the database holds a newer store format. PostgreSQL being unreachable is not an error here.
  static Result<std::unique_ptr<PgStore>> Open(const std::string& url, StoreOptions options);
  // Stops the background thread and closes the connections. Recent rows stay for any replica to
  // compact; nothing is lost.
  ~PgStore() override;

  Status Write(WriteBatch* batch, WriteResult* result) override;
  Status AddAnnotation(const Annotation& event) override;
  Status DeleteSeries(const NameMatcher& matcher, const std::vector<TagFilter>& filters,
                      size_t* deleted) override;
  // Compacts every recent row into chunks, unless another replica holds the maintenance lock (then
  // OK without doing anything: that replica is compacting).
  Status Checkpoint() override;
  // Deletes chunks and recent rows that end before now_ms - retention, and expired annotations;
  // skipped (OK) while another replica holds the maintenance lock.
  Status EnforceRetention(int64_t now_ms) override;
  // Series known to this replica, points in recent rows, chunks, and the tables' size on disk;
  // zeros for what PostgreSQL could not be asked.
  StoreStats Stats() override;
  // "postgresql://user@host:port/db" (no password), as in every message.
  const std::string& display_name() const { return display_; }

  // SeriesSource
  std::string_view name() const override { return "store"; }
  Status ListNames(std::vector<std::string>* out) override;
  Status TagKeys(const std::vector<TagFilter>& filters, std::vector<std::string>* out) override;
  Status TagValues(std::string_view key, const std::vector<TagFilter>& filters,
                   std::vector<std::string>* out) override;
  Status Fetch(const FetchRequest& request, FetchResult* out) override;
  Status Annotations(const AnnotationRequest& request, std::vector<Annotation>* out) override;

 private:
  struct Entry {
    int64_t id = 0;
    std::string key;
    std::string name;
    Tags tags;
    ValueType type = ValueType::kFloat;
  };
  using EntryPtr = std::shared_ptr<const Entry>;
  using Clock = std::chrono::steady_clock;

  PgStore(std::string display, StoreOptions options, std::unique_ptr<PgPool> pool);

  // Creates the schema and loads the catalog once PostgreSQL is reachable; OK after that.
  Status Ready();
  Status InitSchema(PgConn* conn);
  // Brings the catalog up to date when it is older than catalog_refresh_ms (or always, `force`).
  Status RefreshCatalog(bool force);
  // Runs `fn` on a pooled connection, once more on a fresh one when a pooled connection turns out
  // to have died before its first statement was answered (the server restarted meanwhile).
  template <typename Fn>
  Status WithConnection(Fn&& fn);

  Status CommitGroup(const std::vector<GroupCommit::Writer*>& group);
  // One attempt at committing the group; *sqlstate tells a retryable failure.
  Status CommitOnce(PgConn* conn, const std::vector<GroupCommit::Writer*>& group,
                    std::string* sqlstate);
  // Runs `pass` holding the maintenance lock on one connection; OK without running it when
  // another replica holds the lock.
  template <typename Fn>
  Status UnderMaintenanceLock(Fn&& pass);
  Status CompactSeries(PgConn* conn, const std::vector<int64_t>& ids);
  void Background();

  std::vector<EntryPtr> Match(const NameMatcher& matcher, const std::vector<TagFilter>& filters);
  EntryPtr FindKey(const std::string& key);

  const std::string display_;
  const StoreOptions options_;
  std::unique_ptr<PgPool> pool_;

  std::mutex ready_mu_;
  std::atomic<bool> ready_{false};

  // The catalog cache: every series this replica knows, by id (ordered) and by key.
  std::shared_mutex catalog_mu_;
  std::map<int64_t, EntryPtr> by_id_;
  std::unordered_map<std::string, EntryPtr> by_key_;
  int64_t loaded_max_id_ = 0;    // ids up to here are known (guarded by catalog_mu_)
  int64_t deletions_seen_ = -1;  // sluice_meta 'deletions' as last read (guarded by catalog_mu_)
  std::mutex refresh_mu_;        // one refresh at a time
  std::atomic<int64_t> refreshed_at_ns_{INT64_MIN / 2};  // steady clock, when the last one began

  GroupCommit queue_;
  std::atomic<int64_t> recent_bytes_{0};  // written since this replica last compacted

  std::mutex background_mu_;
  std::condition_variable background_cv_;
  bool stopping_ = false;
  std::thread background_;
};

}  // namespace sluice::store
