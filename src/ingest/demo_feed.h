// DemoFeed: real stored data for `sluice serve --demo`.
//
// Writes a small set of sensor and host series into the embedded store — backfilling up to
// `backfill_ms` at 10 s (only what is missing, so a restart fills the gap), plus a few events — and
// then appends one point per series every 10 s until destroyed, so dashboards move. Its names
// (sensors.*, system.*) do not collide with the computed demo series of source/demo.h.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "common/status.h"
#include "store/time_series_store.h"

namespace sluice::ingest {

class DemoFeed {
 public:
  static Result<std::unique_ptr<DemoFeed>> Start(store::TimeSeriesStore* store,
                                                 int64_t backfill_ms = 7 * 86'400'000LL);
  ~DemoFeed();
  DemoFeed(const DemoFeed&) = delete;
  DemoFeed& operator=(const DemoFeed&) = delete;

  // Writes every point and event due in (from_ms, to_ms]; used by the ticker and the backfill.
  Status WriteRange(int64_t from_ms, int64_t to_ms);

 private:
  explicit DemoFeed(store::TimeSeriesStore* store) : store_(store) {}
  void Run();

  store::TimeSeriesStore* store_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  int64_t written_to_ms_ = 0;
  std::thread thread_;
};

}  // namespace sluice::ingest
