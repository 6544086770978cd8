#include "store/store.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>

#include <fcntl.h>
#include <malloc.h>
#include <sys/file.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "common/strings.h"
#include "common/time.h"
#include "store/chunk.h"
#include "store/points.h"

namespace sluice::store {
namespace {

constexpr int kFormatVersion = 1;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS series(
  id INTEGER PRIMARY KEY,
  key BLOB NOT NULL UNIQUE,
  type INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS chunks(
  series_id INTEGER NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  count INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY(series_id, start_ms)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS wal(seq INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS annotations(
  id INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  title TEXT NOT NULL,
  text TEXT NOT NULL,
  tags TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS annotations_by_time ON annotations(time_ms);
)sql";

// --- write-ahead batch encoding (docs/storage.md, "wal.data") ------------------------------------

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    auto byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if (byte < 0x80) {
      *v = result;
      return true;
    }
  }
  return false;
}

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

struct WalPoint {
  uint32_t id;
  int64_t time_ms;
  double value;
};

void EncodeWal(const std::vector<WalPoint>& points, std::string* out) {
  PutVarint(points.size(), out);
  int64_t prev = 0;
  for (const auto& p : points) {
    PutVarint(p.id, out);
    PutVarint(ZigZag(static_cast<int64_t>(static_cast<uint64_t>(p.time_ms) - static_cast<uint64_t>(prev))), out);
    prev = p.time_ms;
    char bytes[8];
    std::memcpy(bytes, &p.value, 8);
    out->append(bytes, 8);
  }
}

Status DecodeWal(std::string_view in, std::vector<WalPoint>* points) {
  uint64_t n;
  if (!GetVarint(&in, &n)) return Internal("wal batch: bad count");
  int64_t prev = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id, delta;
    if (!GetVarint(&in, &id) || !GetVarint(&in, &delta) || in.size() < 8) {
      return Internal("wal batch: truncated at point {}", i);
    }
    WalPoint p;
    p.id = static_cast<uint32_t>(id);
    p.time_ms = static_cast<int64_t>(static_cast<uint64_t>(prev) + static_cast<uint64_t>(UnZigZag(delta)));
    prev = p.time_ms;
    std::memcpy(&p.value, in.data(), 8);
    in.remove_prefix(8);
    points->push_back(p);
  }
  return Status::OK();
}

}  // namespace

// One series: its identity and its head (points committed but not yet in chunks).
struct Store::Entry {
  uint32_t id = 0;
  std::string key;
  std::string name;
  Tags tags;
  ValueType type = ValueType::kFloat;
  std::atomic<bool> deleted{false};

  std::mutex mu;  // guards the four vectors
  std::vector<int64_t> active_t;  // new points
  std::vector<double> active_v;
  std::vector<int64_t> sealing_t;  // points a checkpoint is writing into chunks
  std::vector<double> sealing_v;
};

// Read-only connections, one per concurrent reader, each with its prepared chunk query.
class Store::ReaderPool {
 public:
  struct Conn {
    std::unique_ptr<Database> db;
    Statement chunks;
    Statement count;
  };
  explicit ReaderPool(std::string path) : path_(std::move(path)) {}

  Result<std::unique_ptr<Conn>> Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        auto c = std::move(free_.back());
        free_.pop_back();
        return c;
      }
    }
    auto c = std::make_unique<Conn>();
    SLUICE_ASSIGN_OR_RETURN(c->db, Database::Open(path_, Database::Mode::kReadOnly));
    SLUICE_ASSIGN_OR_RETURN(c->chunks, c->db->Prepare(
        "SELECT data FROM chunks WHERE series_id = ?1 AND start_ms <= ?3 AND end_ms >= ?2 "
        "ORDER BY start_ms"));
    SLUICE_ASSIGN_OR_RETURN(c->count, c->db->Prepare(
        "SELECT total(count) FROM chunks WHERE series_id = ?1 AND start_ms <= ?3 AND end_ms >= ?2"));
    return c;
  }
  void Release(std::unique_ptr<Conn> c) {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.size() < 64) free_.push_back(std::move(c));
  }

 private:
  const std::string path_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Conn>> free_;
};

Store::Store(std::string path, StoreOptions options)
    : path_(std::move(path)), options_(options), readers_(std::make_unique<ReaderPool>(path_)) {}

Result<std::unique_ptr<Store>> Store::Open(const std::string& dir, StoreOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Unavailable("cannot create {}: {}", dir, ec.message());
  if (options.chunk_points < 2 || options.chunk_points > kMaxChunkPoints) {
    return InvalidArgument("chunk_points must be in [2, {}]", kMaxChunkPoints);
  }
  std::unique_ptr<Store> store(new Store(dir + "/sluice.db", options));
  std::string lock_path = dir + "/sluice.lock";
  store->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (store->lock_fd_ < 0) return Unavailable("cannot open {}: {}", lock_path, std::strerror(errno));
  if (::flock(store->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return Unavailable("the store in {} is in use by another Sluice process (stop it, or send the "
                       "data to its /write endpoint)", dir);
  }
  SLUICE_RETURN_IF_ERROR(store->Init());
  SLUICE_RETURN_IF_ERROR(store->Recover());
  if (options.background) store->background_ = std::thread([s = store.get()] { s->Background(); });
  return store;
}

Status Store::Init() {
  SLUICE_ASSIGN_OR_RETURN(writer_db_, Database::Open(path_, Database::Mode::kReadWrite));
  // For a new file (no effect on an existing one): 8 KiB pages keep a ~1 KB chunk row on its B-tree
  // page instead of spilling most of it to a 4 KiB overflow page (1.2 instead of ~5 bytes a point),
  // and incremental auto-vacuum lets checkpoints hand the pages of deleted write-ahead rows back.
  SLUICE_RETURN_IF_ERROR(writer_db_->Exec("PRAGMA page_size=8192; PRAGMA auto_vacuum=INCREMENTAL"));
  SLUICE_RETURN_IF_ERROR(writer_db_->Exec("PRAGMA journal_mode=WAL"));
  SLUICE_RETURN_IF_ERROR(writer_db_->Exec(options_.sync_commits ? "PRAGMA synchronous=FULL"
                                                                : "PRAGMA synchronous=NORMAL"));
  SLUICE_RETURN_IF_ERROR(writer_db_->Exec(kSchema));
  SLUICE_ASSIGN_OR_RETURN(Statement version,
                          writer_db_->Prepare("SELECT value FROM meta WHERE key = 'format_version'"));
  SLUICE_ASSIGN_OR_RETURN(bool has_version, version.Step());
  if (has_version) {
    int found = std::atoi(std::string(version.ColumnText(0)).c_str());
    if (found > kFormatVersion) {
      return Unavailable("{} has format version {}; this Sluice reads up to {}", path_, found,
                         kFormatVersion);
    }
  } else {
    SLUICE_RETURN_IF_ERROR(writer_db_->Exec(
        fmt::format("INSERT INTO meta(key, value) VALUES('format_version', '{}')", kFormatVersion)));
  }
  SLUICE_ASSIGN_OR_RETURN(maintenance_db_, Database::Open(path_, Database::Mode::kReadWrite));
  SLUICE_RETURN_IF_ERROR(maintenance_db_->Exec(options_.sync_commits ? "PRAGMA synchronous=FULL"
                                                                     : "PRAGMA synchronous=NORMAL"));
  return Status::OK();
}

Status Store::Recover() {
  SLUICE_ASSIGN_OR_RETURN(Statement series,
                          writer_db_->Prepare("SELECT id, key, type FROM series ORDER BY id"));
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(bool row, series.Step());
    if (!row) break;
    auto id = static_cast<uint32_t>(series.ColumnInt(0));
    while (entries_.size() < id) entries_.push_back(nullptr);
    auto e = std::make_unique<Entry>();
    e->id = id;
    e->key = std::string(series.ColumnBlob(1));
    ParseSeriesKey(e->key, &e->name, &e->tags);
    e->type = static_cast<ValueType>(series.ColumnInt(2));
    ids_[e->key] = id;
    entries_[id - 1] = std::move(e);
  }
  SLUICE_ASSIGN_OR_RETURN(Statement next, writer_db_->Prepare(
      "SELECT value FROM meta WHERE key = 'next_series_id'"));
  SLUICE_ASSIGN_OR_RETURN(bool has_next, next.Step());
  if (has_next) {
    size_t next_id = std::strtoull(std::string(next.ColumnText(0)).c_str(), nullptr, 10);
    while (entries_.size() + 1 < next_id) entries_.push_back(nullptr);
  }
  // Ids of deleted series leave holes; fill them with tombstones so ids stay indexes.
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (!entries_[i]) {
      entries_[i] = std::make_unique<Entry>();
      entries_[i]->id = static_cast<uint32_t>(i + 1);
      entries_[i]->deleted = true;
    }
  }

  SLUICE_ASSIGN_OR_RETURN(Statement wal, writer_db_->Prepare("SELECT seq, data FROM wal ORDER BY seq"));
  size_t replayed = 0;
  std::vector<WalPoint> points;
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(bool row, wal.Step());
    if (!row) break;
    last_wal_seq_ = wal.ColumnInt(0);
    points.clear();
    std::string_view data = wal.ColumnBlob(1);
    wal_bytes_ += static_cast<int64_t>(data.size());
    SLUICE_RETURN_IF_ERROR(DecodeWal(data, &points).Annotate(fmt::format("wal seq {}", last_wal_seq_)));
    for (const auto& p : points) {
      if (p.id == 0 || p.id > entries_.size() || entries_[p.id - 1]->deleted) continue;
      Entry* e = entries_[p.id - 1].get();
      InsertPoint(&e->active_t, &e->active_v, p.time_ms, p.value);
    }
    replayed += points.size();
  }
  if (replayed > 0) spdlog::info("store: replayed {} points from {}", replayed, path_);
  return Status::OK();
}

Store::~Store() {
  {
    std::lock_guard<std::mutex> lock(background_mu_);
    stopping_ = true;
  }
  background_cv_.notify_all();
  if (background_.joinable()) background_.join();
  if (writer_db_) {
    Status s = Checkpoint();
    if (!s.ok()) spdlog::warn("store: final checkpoint failed: {}", s.message());
  }
  readers_.reset();
  maintenance_db_.reset();
  writer_db_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

Store::Entry* Store::FindEntry(const std::string& key) {
  std::shared_lock lock(catalog_mu_);
  auto it = ids_.find(key);
  if (it == ids_.end()) return nullptr;
  return entries_[it->second - 1].get();
}

// --- writes ---------------------------------------------------------------------------------------

Status Store::Write(WriteBatch* batch, WriteResult* result) {
  return queue_.Write(batch, result, [this](const std::vector<GroupCommit::Writer*>& group) {
    return CommitGroup(group);
  });
}

Status Store::CommitGroup(const std::vector<GroupCommit::Writer*>& group) {
  std::unique_lock<std::mutex> commit(commit_mu_);
  // Resolve every batch series to an id; new series get the next ids but are published to the
  // catalog only after the commit.
  struct NewSeries {
    std::string key;
    ValueType type;
    uint32_t id;
  };
  std::vector<NewSeries> created;
  std::unordered_map<std::string_view, uint32_t> created_ids;
  uint32_t next_id;
  {
    std::shared_lock lock(catalog_mu_);
    next_id = static_cast<uint32_t>(entries_.size()) + 1;
  }
  std::vector<std::vector<uint32_t>> ids(group.size());  // per writer: batch series -> id (0: dropped)
  for (size_t g = 0; g < group.size(); ++g) {
    const WriteBatch& batch = *group[g]->batch;
    WriteResult* result = group[g]->result;
    ids[g].resize(batch.series().size(), 0);
    for (size_t i = 0; i < batch.series().size(); ++i) {
      const auto& s = batch.series()[i];
      ValueType existing_type;
      uint32_t id = 0;
      if (Entry* e = FindEntry(s.key); e && !e->deleted) {
        id = e->id;
        existing_type = e->type;
      } else if (auto it = created_ids.find(s.key); it != created_ids.end()) {
        id = it->second;
        existing_type = created[id - created.front().id].type;
      } else {
        id = next_id++;
        created.push_back({s.key, s.type, id});
        created_ids.emplace(created.back().key, id);
        existing_type = s.type;
      }
      if (existing_type != s.type) {
        if (result && result->errors.size() < 10) {
          result->errors.push_back(TypeConflictError(s.line, s.key, existing_type, s.type));
        }
        continue;
      }
      ids[g][i] = id;
    }
  }

  std::vector<WalPoint> points;
  for (size_t g = 0; g < group.size(); ++g) {
    size_t written = 0, dropped = 0;
    for (const auto& p : group[g]->batch->points()) {
      uint32_t id = ids[g][p.series];
      if (id == 0) {
        ++dropped;
        continue;
      }
      points.push_back({id, p.time_ms, p.value});
      ++written;
    }
    if (group[g]->result) {
      group[g]->result->written += written;
      group[g]->result->dropped += dropped;
    }
  }
  if (points.empty() && created.empty()) return Status::OK();
  // Group the points by series (keeping each series' order, so the last write still wins): the
  // write-ahead row compresses better and each head is locked once, not once per point.
  std::stable_sort(points.begin(), points.end(),
                   [](const WalPoint& a, const WalPoint& b) { return a.id < b.id; });

  std::string blob;
  blob.reserve(points.size() * 12 + 8);
  EncodeWal(points, &blob);
  {
    Transaction txn(writer_db_.get());
    SLUICE_RETURN_IF_ERROR(txn.Begin());
    if (!created.empty()) {
      SLUICE_ASSIGN_OR_RETURN(Statement insert, writer_db_->Prepare(
          "INSERT INTO series(id, key, type) VALUES(?1, ?2, ?3)"));
      for (const auto& c : created) {
        insert.Bind(1, static_cast<int64_t>(c.id)).BindBlob(2, c.key, true);
        insert.Bind(3, static_cast<int64_t>(c.type));
        SLUICE_RETURN_IF_ERROR(insert.Run());
      }
      // Ids are never reused, even when the newest series is deleted: write-ahead rows may still
      // carry a deleted id, and must not be replayed into a new series.
      SLUICE_ASSIGN_OR_RETURN(Statement next, writer_db_->Prepare(
          "INSERT INTO meta(key, value) VALUES('next_series_id', ?1) "
          "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
      next.Bind(1, std::to_string(next_id));
      SLUICE_RETURN_IF_ERROR(next.Run());
    }
    SLUICE_ASSIGN_OR_RETURN(Statement insert, writer_db_->Prepare(
        "INSERT INTO wal(seq, data) VALUES(?1, ?2)"));
    insert.Bind(1, last_wal_seq_ + 1).BindBlob(2, blob, true);
    SLUICE_RETURN_IF_ERROR(insert.Run());
    SLUICE_RETURN_IF_ERROR(txn.Commit());
  }
  ++last_wal_seq_;
  wal_bytes_ += static_cast<int64_t>(blob.size());

  if (!created.empty()) {
    std::unique_lock lock(catalog_mu_);
    for (auto& c : created) {
      auto e = std::make_unique<Entry>();
      e->id = c.id;
      e->key = c.key;
      ParseSeriesKey(e->key, &e->name, &e->tags);
      e->type = c.type;
      ids_[e->key] = c.id;
      entries_.push_back(std::move(e));
    }
  }
  // Apply to the heads, one lock per run of points of the same series.
  {
    std::shared_lock lock(catalog_mu_);
    size_t i = 0;
    while (i < points.size()) {
      Entry* e = entries_[points[i].id - 1].get();
      std::lock_guard<std::mutex> head(e->mu);
      for (; i < points.size() && points[i].id == e->id; ++i) {
        InsertPoint(&e->active_t, &e->active_v, points[i].time_ms, points[i].value);
      }
    }
  }
  if (wal_bytes_ > options_.checkpoint_wal_bytes) background_cv_.notify_all();
  return Status::OK();
}

Status Store::AddAnnotation(const Annotation& event) {
  std::lock_guard<std::mutex> commit(commit_mu_);
  SLUICE_ASSIGN_OR_RETURN(Statement insert, writer_db_->Prepare(
      "INSERT INTO annotations(time_ms, end_ms, title, text, tags) VALUES(?1, ?2, ?3, ?4, ?5)"));
  const std::string tags = JoinAnnotationTags(event.tags);
  insert.Bind(1, event.time_ms).Bind(2, std::max(event.end_ms, event.time_ms));
  insert.Bind(3, event.title).Bind(4, event.text).Bind(5, tags);
  return insert.Run();
}

// --- checkpoint and retention -------------------------------------------------------------------

Status Store::Checkpoint() {
  std::lock_guard<std::mutex> one(checkpoint_mu_);
  // Seal every head: what was active is now being written to chunks; new writes go to active.
  std::vector<Entry*> sealed;
  int64_t sealed_seq;
  {
    std::lock_guard<std::mutex> commit(commit_mu_);
    std::shared_lock lock(catalog_mu_);
    for (auto& e : entries_) {
      std::lock_guard<std::mutex> head(e->mu);
      if (e->active_t.empty() && e->sealing_t.empty()) continue;
      if (e->sealing_t.empty()) {
        e->sealing_t.swap(e->active_t);  // hands the buffer over; no copy
        e->sealing_v.swap(e->active_v);
      } else {
        MergeInto(&e->sealing_t, &e->sealing_v, e->active_t, e->active_v);
        std::vector<int64_t>().swap(e->active_t);
        std::vector<double>().swap(e->active_v);
      }
      sealed.push_back(e.get());
    }
    sealed_seq = last_wal_seq_;
    wal_bytes_ = 0;
  }
  if (sealed.empty() && sealed_seq == 0) return Status::OK();

  Database* db = maintenance_db_.get();
  SLUICE_ASSIGN_OR_RETURN(Statement overlapping, db->Prepare(
      "SELECT start_ms, data FROM chunks WHERE series_id = ?1 AND end_ms >= ?2 AND start_ms <= ?3 "
      "ORDER BY start_ms"));
  SLUICE_ASSIGN_OR_RETURN(Statement previous, db->Prepare(
      "SELECT start_ms, count, data FROM chunks WHERE series_id = ?1 AND end_ms < ?2 "
      "ORDER BY start_ms DESC LIMIT 1"));
  SLUICE_ASSIGN_OR_RETURN(Statement remove, db->Prepare(
      "DELETE FROM chunks WHERE series_id = ?1 AND start_ms = ?2"));
  SLUICE_ASSIGN_OR_RETURN(Statement insert, db->Prepare(
      "INSERT INTO chunks(series_id, start_ms, end_ms, count, data) VALUES(?1, ?2, ?3, ?4, ?5)"));

  Transaction txn(db);
  SLUICE_RETURN_IF_ERROR(txn.Begin());
  std::vector<int64_t> seal_t, old_t;
  std::vector<double> seal_v, old_v;
  std::string blob;
  for (Entry* e : sealed) {
    {
      std::lock_guard<std::mutex> head(e->mu);
      seal_t = e->sealing_t;
      seal_v = e->sealing_v;
    }
    if (e->deleted || seal_t.empty()) continue;
    const int64_t lo = seal_t.front(), hi = seal_t.back();
    old_t.clear();
    old_v.clear();
    std::vector<int64_t> replaced;
    // A partial chunk just before the new points is refilled rather than left small. (One that
    // reaches into the new points is read by `overlapping`, and must not be read twice.)
    previous.Bind(1, static_cast<int64_t>(e->id)).Bind(2, lo);
    SLUICE_ASSIGN_OR_RETURN(bool has_previous, previous.Step());
    if (has_previous && static_cast<size_t>(previous.ColumnInt(1)) < options_.chunk_points) {
      replaced.push_back(previous.ColumnInt(0));
      SLUICE_RETURN_IF_ERROR(DecodeChunk(previous.ColumnBlob(2), INT64_MIN, INT64_MAX, &old_t, &old_v)
                                 .Annotate(fmt::format("series {}", e->id)));
    }
    previous.Reset();
    overlapping.Bind(1, static_cast<int64_t>(e->id)).Bind(2, lo).Bind(3, hi);
    for (;;) {
      SLUICE_ASSIGN_OR_RETURN(bool row, overlapping.Step());
      if (!row) break;
      replaced.push_back(overlapping.ColumnInt(0));
      SLUICE_RETURN_IF_ERROR(DecodeChunk(overlapping.ColumnBlob(1), INT64_MIN, INT64_MAX, &old_t,
                                         &old_v).Annotate(fmt::format("series {}", e->id)));
    }
    overlapping.Reset();
    for (int64_t start : replaced) {
      remove.Bind(1, static_cast<int64_t>(e->id)).Bind(2, start);
      SLUICE_RETURN_IF_ERROR(remove.Run());
    }
    MergeInto(&old_t, &old_v, seal_t, seal_v);
    for (size_t i = 0; i < old_t.size(); i += options_.chunk_points) {
      size_t n = std::min(options_.chunk_points, old_t.size() - i);
      blob.clear();
      EncodeChunk(old_t.data() + i, old_v.data() + i, n, &blob);
      insert.Bind(1, static_cast<int64_t>(e->id)).Bind(2, old_t[i]).Bind(3, old_t[i + n - 1]);
      insert.Bind(4, static_cast<int64_t>(n)).BindBlob(5, blob, true);
      SLUICE_RETURN_IF_ERROR(insert.Run());
    }
  }
  SLUICE_ASSIGN_OR_RETURN(Statement trim, db->Prepare("DELETE FROM wal WHERE seq <= ?1"));
  trim.Bind(1, sealed_seq);
  SLUICE_RETURN_IF_ERROR(trim.Run());
  SLUICE_RETURN_IF_ERROR(txn.Commit());

  for (Entry* e : sealed) {
    std::lock_guard<std::mutex> head(e->mu);
    std::vector<int64_t>().swap(e->sealing_t);  // free the memory, not only the points
    std::vector<double>().swap(e->sealing_v);
  }
  ::malloc_trim(0);  // a bulk load's head can be large: give it back to the system
  // Return the pages of the deleted write-ahead rows to the file system, and keep SQLite's own WAL
  // file from growing without bound.
  (void)db->Exec("PRAGMA incremental_vacuum");
  (void)db->Exec("PRAGMA wal_checkpoint(PASSIVE)");
  return Status::OK();
}

Status Store::EnforceRetention(int64_t now_ms) {
  if (options_.retention_ms <= 0) return Status::OK();
  // maintenance_db_ is shared with Checkpoint(), which another thread may be running.
  std::lock_guard<std::mutex> one(checkpoint_mu_);
  const int64_t cutoff = now_ms - options_.retention_ms;
  std::vector<Entry*> all;
  {
    std::shared_lock lock(catalog_mu_);
    for (auto& e : entries_) all.push_back(e.get());
  }
  for (Entry* e : all) {
    std::lock_guard<std::mutex> head(e->mu);
    for (auto [times, values] : {std::make_pair(&e->active_t, &e->active_v),
                                 std::make_pair(&e->sealing_t, &e->sealing_v)}) {
      auto keep = std::lower_bound(times->begin(), times->end(), cutoff);
      auto n = keep - times->begin();
      times->erase(times->begin(), keep);
      values->erase(values->begin(), values->begin() + n);
    }
  }
  // Small transactions, so writers and checkpoints interleave instead of waiting.
  Database* db = maintenance_db_.get();
  SLUICE_ASSIGN_OR_RETURN(Statement remove, db->Prepare(
      "DELETE FROM chunks WHERE series_id = ?1 AND end_ms < ?2"));
  constexpr size_t kSeriesPerTransaction = 256;
  for (size_t i = 0; i < all.size(); i += kSeriesPerTransaction) {
    Transaction txn(db);
    SLUICE_RETURN_IF_ERROR(txn.Begin());
    for (size_t j = i; j < std::min(all.size(), i + kSeriesPerTransaction); ++j) {
      remove.Bind(1, static_cast<int64_t>(all[j]->id)).Bind(2, cutoff);
      SLUICE_RETURN_IF_ERROR(remove.Run());
    }
    SLUICE_RETURN_IF_ERROR(txn.Commit());
  }
  SLUICE_ASSIGN_OR_RETURN(Statement events, db->Prepare("DELETE FROM annotations WHERE end_ms < ?1"));
  events.Bind(1, cutoff);
  return events.Run();
}

void Store::Background() {
  int64_t next_checkpoint = NowMs() + options_.checkpoint_interval_ms;
  int64_t next_retention = NowMs();
  std::unique_lock<std::mutex> lock(background_mu_);
  while (!stopping_) {
    background_cv_.wait_for(lock, std::chrono::milliseconds(500));
    if (stopping_) break;
    int64_t now = NowMs();
    bool wal_full;
    {
      std::lock_guard<std::mutex> commit(commit_mu_);
      wal_full = wal_bytes_ > options_.checkpoint_wal_bytes;
    }
    lock.unlock();
    if (now >= next_checkpoint || wal_full) {
      Status s = Checkpoint();
      if (!s.ok()) spdlog::warn("store: checkpoint failed: {}", s.message());
      next_checkpoint = now + options_.checkpoint_interval_ms;
    }
    if (now >= next_retention) {
      Status s = EnforceRetention(now);
      if (!s.ok()) spdlog::warn("store: retention failed: {}", s.message());
      next_retention = now + options_.retention_interval_ms;
    }
    lock.lock();
  }
}

// --- reads ----------------------------------------------------------------------------------------

void Store::CopyHead(Entry* e, const TimeRange& range, std::vector<int64_t>* times,
                     std::vector<double>* values) {
  std::lock_guard<std::mutex> head(e->mu);
  CopyRange(e->sealing_t, e->sealing_v, range.from_ms, range.to_ms, times, values);
  if (!e->active_t.empty()) {
    std::vector<int64_t> t;
    std::vector<double> v;
    CopyRange(e->active_t, e->active_v, range.from_ms, range.to_ms, &t, &v);
    MergeInto(times, values, t, v);
  }
}

std::vector<Store::Entry*> Store::Match(const NameMatcher& matcher,
                                        const std::vector<TagFilter>& filters) {
  std::shared_lock lock(catalog_mu_);
  std::vector<std::string_view> names;
  std::vector<Entry*> live;
  names.reserve(entries_.size());
  live.reserve(entries_.size());
  for (auto& e : entries_) {
    if (e->deleted) continue;
    names.push_back(e->name);
    live.push_back(e.get());
  }
  std::vector<Entry*> matched;
  for (size_t i : matcher.MatchAll(names)) {
    if (MatchesAll(filters, live[i]->tags)) matched.push_back(live[i]);
  }
  return matched;
}

Status Store::Fetch(const FetchRequest& request, FetchResult* out) {
  std::vector<Entry*> matched = Match(*request.matcher, *request.filters);
  if (matched.empty()) return Status::OK();
  SLUICE_ASSIGN_OR_RETURN(auto conn, readers_->Acquire());
  int64_t budget = request.point_budget;
  Status status;
  std::vector<int64_t> head_t;
  std::vector<double> head_v;
  for (Entry* e : matched) {
    Series s;
    s.name = e->name;
    s.tags = e->tags;
    // The head is copied before the chunks are read: a checkpoint commits chunks before it clears
    // the head, so every point is in at least one of the two reads (the head wins when in both).
    head_t.clear();
    head_v.clear();
    CopyHead(e, request.range, &head_t, &head_v);
    // Size the result once: growing it chunk by chunk costs more than decoding (page faults).
    conn->count.Bind(1, static_cast<int64_t>(e->id)).Bind(2, request.range.from_ms);
    conn->count.Bind(3, request.range.to_ms);
    auto counted = conn->count.Step();
    if (counted.ok() && *counted) {
      auto n = static_cast<size_t>(conn->count.ColumnInt(0)) + head_t.size();
      s.times_ms.reserve(n);
      s.values.reserve(n);
    }
    conn->count.Reset();
    conn->chunks.Bind(1, static_cast<int64_t>(e->id)).Bind(2, request.range.from_ms);
    conn->chunks.Bind(3, request.range.to_ms);
    for (;;) {
      auto row = conn->chunks.Step();
      if (!row.ok()) {
        status = row.status();
        break;
      }
      if (!*row) break;
      status = DecodeChunk(conn->chunks.ColumnBlob(0), request.range.from_ms, request.range.to_ms,
                           &s.times_ms, &s.values);
      if (!status.ok()) break;
    }
    conn->chunks.Reset();
    if (!status.ok()) break;
    MergeInto(&s.times_ms, &s.values, head_t, head_v);
    budget -= static_cast<int64_t>(s.size());
    if (budget < 0) {
      status = ResourceExhausted("the request reads more than {} points; narrow the range or the "
                                 "targets", request.point_budget);
      break;
    }
    out->series.push_back(std::move(s));
  }
  readers_->Release(std::move(conn));
  return status;
}

Status Store::ListNames(std::vector<std::string>* out) {
  std::shared_lock lock(catalog_mu_);
  std::vector<std::string> names;
  for (auto& e : entries_) {
    if (!e->deleted) names.push_back(e->name);
  }
  SortUnique(&names);
  out->insert(out->end(), names.begin(), names.end());
  return Status::OK();
}

Status Store::TagKeys(const std::vector<TagFilter>& filters, std::vector<std::string>* out) {
  std::shared_lock lock(catalog_mu_);
  std::vector<std::string> keys;
  for (auto& e : entries_) {
    if (e->deleted || !MatchesAll(filters, e->tags)) continue;
    for (const auto& [k, v] : e->tags.pairs()) keys.push_back(k);
  }
  SortUnique(&keys);
  out->insert(out->end(), keys.begin(), keys.end());
  return Status::OK();
}

Status Store::TagValues(std::string_view key, const std::vector<TagFilter>& filters,
                        std::vector<std::string>* out) {
  std::shared_lock lock(catalog_mu_);
  std::vector<std::string> values;
  for (auto& e : entries_) {
    if (e->deleted || !e->tags.Has(key) || !MatchesAll(filters, e->tags)) continue;
    values.emplace_back(e->tags.Get(key));
  }
  SortUnique(&values);
  out->insert(out->end(), values.begin(), values.end());
  return Status::OK();
}

Status Store::Annotations(const AnnotationRequest& request, std::vector<Annotation>* out) {
  SLUICE_ASSIGN_OR_RETURN(auto conn, readers_->Acquire());
  auto query = conn->db->Prepare(
      "SELECT time_ms, end_ms, title, text, tags FROM annotations "
      "WHERE time_ms <= ?2 AND end_ms >= ?1 ORDER BY time_ms");
  if (!query.ok()) {
    readers_->Release(std::move(conn));
    return query.status();
  }
  query->Bind(1, request.range.from_ms).Bind(2, request.range.to_ms);
  const AnnotationQuery matcher(request.query);
  Status status;
  for (;;) {
    auto row = query->Step();
    if (!row.ok()) {
      status = row.status();
      break;
    }
    if (!*row || out->size() >= request.limit) break;
    Annotation a;
    a.time_ms = query->ColumnInt(0);
    a.end_ms = query->ColumnInt(1);
    a.title = std::string(query->ColumnText(2));
    a.text = std::string(query->ColumnText(3));
    SplitAnnotationTags(query->ColumnText(4), &a.tags);
    if (matcher.Matches(a)) out->push_back(std::move(a));
  }
  query = Statement();
  readers_->Release(std::move(conn));
  return status;
}

Status Store::DeleteSeries(const NameMatcher& matcher, const std::vector<TagFilter>& filters,
                           size_t* deleted) {
  *deleted = 0;
  std::vector<Entry*> victims = Match(matcher, filters);
  if (victims.empty()) return Status::OK();
  std::lock_guard<std::mutex> commit(commit_mu_);
  Transaction txn(writer_db_.get());
  SLUICE_RETURN_IF_ERROR(txn.Begin());
  SLUICE_ASSIGN_OR_RETURN(Statement chunks, writer_db_->Prepare("DELETE FROM chunks WHERE series_id = ?1"));
  SLUICE_ASSIGN_OR_RETURN(Statement series, writer_db_->Prepare("DELETE FROM series WHERE id = ?1"));
  for (Entry* e : victims) {
    chunks.Bind(1, static_cast<int64_t>(e->id));
    SLUICE_RETURN_IF_ERROR(chunks.Run());
    series.Bind(1, static_cast<int64_t>(e->id));
    SLUICE_RETURN_IF_ERROR(series.Run());
  }
  SLUICE_RETURN_IF_ERROR(txn.Commit());
  std::unique_lock lock(catalog_mu_);
  for (Entry* e : victims) {
    e->deleted = true;
    ids_.erase(e->key);
    std::lock_guard<std::mutex> head(e->mu);
    e->active_t.clear();
    e->active_v.clear();
    e->sealing_t.clear();
    e->sealing_v.clear();
  }
  *deleted = victims.size();
  return Status::OK();
}

StoreStats Store::Stats() {
  StoreStats stats;
  {
    std::shared_lock lock(catalog_mu_);
    for (auto& e : entries_) {
      if (e->deleted) continue;
      ++stats.series;
      std::lock_guard<std::mutex> head(e->mu);
      stats.head_points += e->active_t.size() + e->sealing_t.size();
    }
  }
  auto conn = readers_->Acquire();
  if (conn.ok()) {
    auto count = (*conn)->db->Prepare("SELECT count(*) FROM chunks");
    if (count.ok() && count->Step().ok()) stats.chunks = static_cast<size_t>(count->ColumnInt(0));
    readers_->Release(std::move(*conn));
  }
  std::error_code ec;
  for (const char* suffix : {"", "-wal"}) {
    auto size = std::filesystem::file_size(path_ + suffix, ec);
    if (!ec) stats.file_bytes += static_cast<int64_t>(size);
  }
  return stats;
}

}  // namespace sluice::store
