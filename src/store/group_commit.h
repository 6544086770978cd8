// GroupCommit: concurrent writers committed together by whichever of them is first in line.
//
// The write path of both stores (LevelDB's DBImpl::Write): a writer queues its batch; the writer at
// the front becomes the leader, takes every batch queued behind it (up to a point limit), commits
// them all with one call of the store's commit function, and answers everyone in the group with
// that call's status. N concurrent writers thus cost one transaction (one fsync), not N.
//
// Thread-safe. The commit function runs on the leader's thread, one group at a time.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "common/status.h"
#include "store/time_series_store.h"
#include "store/write_batch.h"

namespace sluice::store {

class GroupCommit {
 public:
  struct Writer {
    WriteBatch* batch;
    WriteResult* result;  // may be null
    Status status;
    bool done = false;
    std::condition_variable cv;
  };
  using CommitFn = std::function<Status(const std::vector<Writer*>& group)>;

  // A group holds at most this many points, unless its first batch alone is larger.
  explicit GroupCommit(size_t max_group_points = 4 << 20) : max_group_points_(max_group_points) {}

  // Queues the batch and returns once a leader (perhaps this caller) has run `commit` on a group
  // containing it: the status of that call. `commit` must be the same function for every caller.
  Status Write(WriteBatch* batch, WriteResult* result, const CommitFn& commit);

 private:
  const size_t max_group_points_;
  std::mutex mu_;
  std::deque<Writer*> writers_;
};

}  // namespace sluice::store
