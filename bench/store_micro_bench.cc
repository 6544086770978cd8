// Micro benchmarks of the embedded store's hot paths, without HTTP (bench/store_bench.sh measures the
// same through the server, against InfluxDB):
//
//   BM_StoreWrite/sync:1|0        Store::Write of 5,000-point batches (100 series x 50 timestamps of
//                                 10 s data), synchronous=FULL and NORMAL, in a temp dir; a
//                                 checkpoint every 1,000 batches (5 M points) is included, as the
//                                 server would run one about that often (64 MiB of wal).
//   BM_StoreWriteThreads/sync:1   the same from 4 threads at once (group commit), 400 series.
//   BM_AppendLineProtocol/...     line protocol -> WriteBatch (ingest::AppendLineProtocol) of a
//                                 5,000-line body: one field per line (100 series) or ten.
//   BM_StoreFetch                 Store::Fetch of one series' 30 days of 10 s data (259,200 points)
//                                 after a checkpoint (all in chunks), out of 10 such series.
//   BM_StoreFetchConsolidate      the same, then ConsolidateInPlace to maxDataPoints 1,000.
//   BM_JsonApiQuery               the whole /query request body -> JSON response (protocol::JsonApi)
//                                 for that read: what the server does besides HTTP.
//
// items_per_second is points per second. Run: build-dir/bin/sluice_store_bench.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "ingest/write_api.h"
#include "protocol/json_api.h"
#include "series/consolidate.h"
#include "series/name_matcher.h"
#include "series/tag_filter.h"
#include "store/store.h"
#include "store/write_batch.h"

namespace {

using sluice::store::Store;
using sluice::store::StoreOptions;
using sluice::store::ValueType;
using sluice::store::WriteBatch;
using sluice::store::WriteResult;

constexpr int64_t kStepMs = 10'000;
constexpr size_t kBatchPoints = 5000;
constexpr size_t kCheckpointEvery = 1000;  // batches
// Monday 2026-11-23 00:00:00 UTC: the end of the 30-day read data set.
constexpr int64_t kEndMs = 1'795'392'000'000;
constexpr int64_t kThirtyDaysMs = 30LL * 86'400'000;
constexpr size_t kReadPoints = kThirtyDaysMs / kStepMs;  // 259,200

// A temporary directory removed with everything in it when destroyed.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sluice-store-bench.XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Per-series random walks in [0, 100] rounded to 2 decimals, like tools/lp_load.cc.
class Walks {
 public:
  Walks(size_t n, uint64_t seed) : rng_(seed), values_(n) {
    std::uniform_real_distribution<double> start(5, 95);
    for (auto& v : values_) v = start(rng_);
  }
  double Next(size_t i) {
    double& w = values_[i];
    w += noise_(rng_);
    if (w < 0) w = -w;
    if (w > 100) w = 200 - w;
    return std::round(w * 100) / 100;
  }

 private:
  std::mt19937_64 rng_;
  std::normal_distribution<double> noise_{0, 0.4};
  std::vector<double> values_;
};

std::string CpuKey(const std::string& host, size_t cpu) {
  return sluice::store::SeriesKey(
      "cpu.usage", sluice::Tags{{"cpu", fmt::format("c{}", cpu)}, {"host", host}});
}

// 5,000 points: `series` series x (5000 / series) timestamps, time-major, starting at `t0`.
WriteBatch MakeBatch(const std::vector<std::string>& keys, int64_t t0, Walks* walks) {
  WriteBatch batch;
  std::vector<uint32_t> index;
  for (size_t i = 0; i < keys.size(); ++i) {
    index.push_back(static_cast<uint32_t>(batch.AddSeries(keys[i], ValueType::kFloat, i + 1)));
  }
  const size_t steps = kBatchPoints / keys.size();
  for (size_t s = 0; s < steps; ++s) {
    for (size_t i = 0; i < keys.size(); ++i) {
      batch.Add(index[i], t0 + static_cast<int64_t>(s) * kStepMs, walks->Next(i));
    }
  }
  return batch;
}

StoreOptions BenchOptions(bool sync) {
  StoreOptions o;
  o.retention_ms = 0;
  o.sync_commits = sync;
  o.background = false;
  return o;
}

// Writes batch after batch, each 50 steps (500 s) later than the one before.
void BM_StoreWrite(benchmark::State& state) {
  TempDir dir;
  auto opened = Store::Open(dir.path(), BenchOptions(state.range(0) != 0));
  if (!opened.ok()) {
    state.SkipWithError(opened.status().message().c_str());
    return;
  }
  std::unique_ptr<Store> store = std::move(opened).value();
  std::vector<std::string> keys;
  for (size_t h = 0; h < 10; ++h) {
    for (size_t c = 0; c < 10; ++c) keys.push_back(CpuKey(fmt::format("h{}", h), c));
  }
  Walks walks(keys.size(), 1);
  WriteBatch batch = MakeBatch(keys, kEndMs - kThirtyDaysMs, &walks);
  const int64_t shift = static_cast<int64_t>(kBatchPoints / keys.size()) * kStepMs;
  size_t batches = 0;
  for (auto _ : state) {
    WriteResult result;
    auto status = store->Write(&batch, &result);
    if (!status.ok()) {
      state.SkipWithError(status.message().c_str());
      break;
    }
    for (auto& p : batch.mutable_points()) p.time_ms += shift;
    if (++batches % kCheckpointEvery == 0) (void)store->Checkpoint();
  }
  state.SetItemsProcessed(static_cast<int64_t>(batches * kBatchPoints));
}
BENCHMARK(BM_StoreWrite)->ArgName("sync")->Arg(1)->Arg(0)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Four writers at once; each writes its own 100 series. Group commit joins their transactions.
Store* g_shared_store = nullptr;
TempDir* g_shared_dir = nullptr;

void BM_StoreWriteThreads(benchmark::State& state) {
  if (state.thread_index() == 0) {
    g_shared_dir = new TempDir;
    auto opened = Store::Open(g_shared_dir->path(), BenchOptions(state.range(0) != 0));
    if (!opened.ok()) std::abort();
    g_shared_store = std::move(opened).value().release();
  }
  std::vector<std::string> keys;
  for (size_t h = 0; h < 10; ++h) {
    for (size_t c = 0; c < 10; ++c) {
      keys.push_back(CpuKey(fmt::format("t{}h{}", state.thread_index(), h), c));
    }
  }
  Walks walks(keys.size(), 1 + static_cast<uint64_t>(state.thread_index()));
  WriteBatch batch = MakeBatch(keys, kEndMs - kThirtyDaysMs, &walks);
  const int64_t shift = static_cast<int64_t>(kBatchPoints / keys.size()) * kStepMs;
  size_t batches = 0;
  for (auto _ : state) {
    WriteResult result;
    auto status = g_shared_store->Write(&batch, &result);
    if (!status.ok()) {
      state.SkipWithError(status.message().c_str());
      break;
    }
    for (auto& p : batch.mutable_points()) p.time_ms += shift;
    if (++batches % kCheckpointEvery == 0 && state.thread_index() == 0) {
      (void)g_shared_store->Checkpoint();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(batches * kBatchPoints));
  if (state.thread_index() == 0) {
    delete g_shared_store;
    g_shared_store = nullptr;
    delete g_shared_dir;
    g_shared_dir = nullptr;
  }
}
BENCHMARK(BM_StoreWriteThreads)
    ->ArgName("sync")
    ->Arg(1)
    ->Threads(4)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// A 5,000-line body as tools/lp_load.cc writes it: `fields` fields per line, 100 series per field.
std::string LineProtocolBody(int fields) {
  static const char* kFieldNames[] = {"usage_user",    "usage_system", "usage_idle", "usage_nice",
                                      "usage_iowait",  "usage_irq",    "usage_softirq",
                                      "usage_steal",   "usage_guest",  "usage_guest_nice"};
  Walks walks(100 * static_cast<size_t>(fields), 3);
  std::string body;
  int64_t t = kEndMs / 1000 - 86'400;
  for (size_t line = 0; line < 5000;) {
    for (size_t h = 0; h < 10; ++h) {
      for (size_t c = 0; c < 10; ++c, ++line) {
        body += fmt::format("cpu,cpu=c{},host=h{} ", c, h);
        for (int f = 0; f < fields; ++f) {
          if (f) body.push_back(',');
          body += fields == 1 ? "usage" : kFieldNames[f];
          body += fmt::format("={}", walks.Next((h * 10 + c) * static_cast<size_t>(fields) +
                                                static_cast<size_t>(f)));
        }
        body += fmt::format(" {}\n", t);
      }
    }
    t += 10;
  }
  return body;
}

void BM_AppendLineProtocol(benchmark::State& state) {
  const std::string body = LineProtocolBody(static_cast<int>(state.range(0)));
  size_t points = 0;
  for (auto _ : state) {
    WriteBatch batch;
    std::vector<std::string> messages;
    size_t bad = 0;
    sluice::ingest::AppendLineProtocol(body, sluice::store::Precision::kSeconds, kEndMs, &batch,
                                       &messages, &bad);
    if (bad != 0) {
      state.SkipWithError("bad lines");
      break;
    }
    points += batch.size();
    benchmark::DoNotOptimize(batch);
  }
  state.SetItemsProcessed(static_cast<int64_t>(points));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_AppendLineProtocol)->ArgName("fields")->Arg(1)->Arg(10)->Unit(benchmark::kMicrosecond);

// 10 series (host=h0..h9) x 30 days of 10 s data, written in 5,000-point batches and checkpointed:
// everything is in chunks, as after a restart.
struct ReadFixture {
  TempDir dir;
  std::shared_ptr<Store> store;
  std::string error;

  ReadFixture() {
    auto opened = Store::Open(dir.path(), BenchOptions(false));
    if (!opened.ok()) {
      error = opened.status().message();
      return;
    }
    store = std::move(opened).value();
    std::vector<std::string> keys;
    for (size_t h = 0; h < 10; ++h) {
      keys.push_back(sluice::store::SeriesKey("cpu.usage", sluice::Tags{{"host", fmt::format("h{}", h)}}));
    }
    Walks walks(keys.size(), 2);
    const int64_t first = kEndMs - kThirtyDaysMs + kStepMs;
    for (size_t written = 0; written < kReadPoints * keys.size(); written += kBatchPoints) {
      const int64_t t0 = first + static_cast<int64_t>(written / keys.size()) * kStepMs;
      WriteBatch batch = MakeBatch(keys, t0, &walks);
      WriteResult result;
      auto status = store->Write(&batch, &result);
      if (!status.ok()) {
        error = status.message();
        return;
      }
    }
    auto status = store->Checkpoint();
    if (!status.ok()) error = status.message();
  }
  ~ReadFixture() { store.reset(); }  // before the directory goes
};

ReadFixture& Fixture() {
  static ReadFixture fixture;
  return fixture;
}

struct ReadRequest {
  sluice::NameMatcher matcher = sluice::NameMatcher::Compile("cpu.usage");
  std::vector<sluice::TagFilter> filters;
  sluice::FetchRequest request;
  ReadRequest() {
    filters.push_back(sluice::TagFilter::Make("host", sluice::FilterOp::kEq, "h3").value());
    request.target = "cpu.usage";
    request.matcher = &matcher;
    request.filters = &filters;
    request.range = {kEndMs - kThirtyDaysMs + kStepMs, kEndMs};
    request.max_points = 1000;
    request.interval_ms = kThirtyDaysMs / 1000;
  }
};

void ReadBenchmark(benchmark::State& state, bool consolidate) {
  ReadFixture& f = Fixture();
  if (!f.error.empty()) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  ReadRequest r;
  size_t points = 0;
  for (auto _ : state) {
    sluice::FetchResult result;
    auto status = f.store->Fetch(r.request, &result);
    if (!status.ok() || result.series.size() != 1 || result.series[0].size() != kReadPoints) {
      state.SkipWithError("fetch did not return the 259,200 points of one series");
      break;
    }
    points += result.series[0].size();
    if (consolidate) {
      sluice::ConsolidateInPlace(&result.series[0], r.request.range.from_ms, r.request.range.to_ms,
                                 1000, r.request.interval_ms, sluice::ConsolidationFn::kAverage);
      if (result.series[0].size() > 1000) {
        state.SkipWithError("not consolidated");
        break;
      }
    }
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(static_cast<int64_t>(points));
}

void BM_StoreFetch(benchmark::State& state) { ReadBenchmark(state, false); }
void BM_StoreFetchConsolidate(benchmark::State& state) { ReadBenchmark(state, true); }
BENCHMARK(BM_StoreFetch)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StoreFetchConsolidate)->Unit(benchmark::kMillisecond);

void BM_JsonApiQuery(benchmark::State& state) {
  ReadFixture& f = Fixture();
  if (!f.error.empty()) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  sluice::protocol::JsonApi api(f.store, sluice::protocol::ApiOptions{});
  // 2026-10-24T00:00:10Z .. 2026-11-23T00:00:00Z, as bench/store_bench.sh sends it.
  const std::string body =
      R"({"range":{"from":"2026-10-24T00:00:10.000Z","to":"2026-11-23T00:00:00.000Z"},)"
      R"("intervalMs":2592000,"maxDataPoints":1000,"targets":[{"refId":"A","target":"cpu.usage"}],)"
      R"("adhocFilters":[{"key":"host","operator":"=","value":"h3"}]})";
  std::string out;
  for (auto _ : state) {
    out.clear();
    auto status = api.Query(body, &out);
    if (!status.ok()) {
      state.SkipWithError(status.message().c_str());
      break;
    }
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kReadPoints));
  state.counters["response_bytes"] = static_cast<double>(out.size());
}
BENCHMARK(BM_JsonApiQuery)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
