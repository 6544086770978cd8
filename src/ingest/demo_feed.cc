#include "ingest/demo_feed.h"

#include <algorithm>
#include <chrono>
#include <functional>

#include <spdlog/spdlog.h>

#include "common/time.h"
#include "source/demo.h"

namespace sluice::ingest {
namespace {

constexpr int64_t kStepMs = 10'000;
constexpr int64_t kEventEveryMs = 3 * 3'600'000;

struct FeedSeries {
  std::string name;
  Tags tags;
  std::function<double(int64_t)> value;
};

std::vector<FeedSeries> MakeSeries() {
  std::vector<FeedSeries> out;
  const char* rooms[] = {"lab", "office", "kitchen", "server-room"};
  uint64_t seed = 300;
  for (const char* room : rooms) {
    Tags tags{{"room", room}, {"City", "Berlin"}};
    double base = std::string_view(room) == "server-room" ? 18 : 21.5;
    out.push_back({"sensors.temperature", tags,
                   [seed, base](int64_t t) { return DemoWalk(t, seed, base, 2.5); }});
    out.push_back({"sensors.humidity", tags,
                   [seed](int64_t t) { return DemoWalk(t, seed + 50, 45, 10); }});
    ++seed;
  }
  const char* hosts[] = {"web-1", "web-2", "db-1", "db-2"};
  for (const char* host : hosts) {
    Tags tags{{"host", host}, {"env", "prod"}};
    double phase = static_cast<double>(seed % 7);
    out.push_back({"system.load1", tags, [seed](int64_t t) {
                     return std::max(0.0, DemoWalk(t, seed, 1.5, 1.2));
                   }});
    out.push_back({"system.mem_used_percent", tags, [phase](int64_t t) {
                     return DemoSine(t, 86'400'000.0, phase, 60, 15);
                   }});
    ++seed;
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<DemoFeed>> DemoFeed::Start(store::TimeSeriesStore* store,
                                                 int64_t backfill_ms) {
  std::unique_ptr<DemoFeed> feed(new DemoFeed(store));
  const int64_t now = NowMs() / kStepMs * kStepMs;
  // Resume after the newest stored point, or backfill the whole window on a fresh store.
  int64_t from = now - backfill_ms;
  NameMatcher matcher = NameMatcher::Compile("sensors.temperature");
  std::vector<TagFilter> no_filters;
  FetchRequest request;
  request.matcher = &matcher;
  request.filters = &no_filters;
  request.range = {now - backfill_ms, now};
  FetchResult existing;
  SLUICE_RETURN_IF_ERROR(store->Fetch(request, &existing));
  for (const auto& s : existing.series) {
    if (!s.times_ms.empty()) from = std::max(from, s.times_ms.back());
  }
  if (from < now) {
    int64_t started = NowMs();
    for (int64_t t = from; t < now; t += 86'400'000) {
      SLUICE_RETURN_IF_ERROR(feed->WriteRange(t, std::min(now, t + 86'400'000)));
    }
    // Into chunks now, so an idle server does not hold the backfill in memory until the first
    // scheduled checkpoint.
    SLUICE_RETURN_IF_ERROR(store->Checkpoint());
    spdlog::info("demo: stored {:.1f} days of sensors.* and system.* data in {} ms",
                 static_cast<double>(now - from) / 86'400'000, NowMs() - started);
  }
  feed->written_to_ms_ = now;
  feed->thread_ = std::thread([f = feed.get()] { f->Run(); });
  return feed;
}

DemoFeed::~DemoFeed() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status DemoFeed::WriteRange(int64_t from_ms, int64_t to_ms) {
  static const std::vector<FeedSeries> kSeries = MakeSeries();
  store::WriteBatch batch;
  for (const auto& s : kSeries) {
    uint32_t index = batch.AddSeries(store::SeriesKey(s.name, s.tags), store::ValueType::kFloat, 0);
    for (int64_t t = (from_ms / kStepMs + 1) * kStepMs; t <= to_ms; t += kStepMs) {
      batch.Add(index, t, s.value(t));
    }
  }
  store::WriteResult result;
  if (!batch.empty()) SLUICE_RETURN_IF_ERROR(store_->Write(&batch, &result));
  for (int64_t t = (from_ms / kEventEveryMs + 1) * kEventEveryMs; t <= to_ms; t += kEventEveryMs) {
    Annotation backup;
    backup.time_ms = t;
    backup.end_ms = t + 15 * 60'000;
    backup.title = "Backup";
    backup.text = "Backup of the sensor database";
    backup.tags = {"backup", "store"};
    SLUICE_RETURN_IF_ERROR(store_->AddAnnotation(backup));
  }
  return Status::OK();
}

void DemoFeed::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    int64_t next = (written_to_ms_ / kStepMs + 1) * kStepMs;
    cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(10, next - NowMs())));
    if (stopping_) break;
    int64_t now = NowMs();
    if (now < next) continue;
    lock.unlock();
    Status s = WriteRange(written_to_ms_, now);
    if (!s.ok()) spdlog::warn("demo: write failed: {}", s.message());
    lock.lock();
    written_to_ms_ = now;
  }
}

}  // namespace sluice::ingest
