#include "store/group_commit.h"

namespace sluice::store {

Status GroupCommit::Write(WriteBatch* batch, WriteResult* result, const CommitFn& commit) {
  Writer w;
  w.batch = batch;
  w.result = result;
  std::unique_lock<std::mutex> lock(mu_);
  writers_.push_back(&w);
  while (!w.done && &w != writers_.front()) w.cv.wait(lock);
  if (w.done) return w.status;

  // This writer leads: commit it with everyone queued behind it.
  std::vector<Writer*> group;
  size_t points = 0;
  for (Writer* x : writers_) {
    if (!group.empty() && points + x->batch->size() > max_group_points_) break;
    group.push_back(x);
    points += x->batch->size();
  }
  lock.unlock();
  Status status = commit(group);
  lock.lock();
  for (Writer* x : group) {
    writers_.pop_front();
    x->status = status;
    x->done = true;
    if (x != &w) x->cv.notify_one();
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  return status;
}

}  // namespace sluice::store
