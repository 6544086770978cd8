// End-to-end /query cost inside the process (decode, fetch from the demo source, consolidate,
// encode) for the workloads of bench/run.sh, without the network.
#include <string>

#include <benchmark/benchmark.h>

#include "common/time.h"
#include "protocol/json_api.h"
#include "series/consolidate.h"
#include "source/catalog.h"
#include "source/demo.h"

namespace {

std::string Body(int64_t span_ms, int max_points, std::initializer_list<const char*> targets) {
  int64_t to = 1'795'462'214'804;
  std::string body = "{\"range\":{\"from\":\"" + sluice::FormatTimestampMs(to - span_ms) +
                     "\",\"to\":\"" + sluice::FormatTimestampMs(to) + "\"},\"intervalMs\":" +
                     std::to_string(std::max<int64_t>(1, span_ms / max_points)) +
                     ",\"maxDataPoints\":" + std::to_string(max_points) + ",\"targets\":[";
  char ref = 'A';
  for (const char* t : targets) {
    if (ref != 'A') body += ",";
    body += std::string("{\"refId\":\"") + ref++ + "\",\"target\":\"" + t + "\"}";
  }
  return body + "]}";
}

void Run(benchmark::State& state, const std::string& body) {
  sluice::protocol::JsonApi api(sluice::MakeDemoSource(), {});
  std::string out;
  for (auto _ : state) {
    out.clear();
    auto s = api.Query(body, &out);
    if (!s.ok()) state.SkipWithError(s.message().c_str());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * out.size());
  state.counters["response_bytes"] = static_cast<double>(out.size());
}

// One target, 6 h, maxDataPoints 2: 2,160 points generated and consolidated to 2.
void BM_QueryTiny(benchmark::State& state) { Run(state, Body(6 * 3'600'000, 2, {"upper_25"})); }
BENCHMARK(BM_QueryTiny);

// Four targets, 24 h of 10 s data (8,640 points each), maxDataPoints 10,000: nothing consolidated.
void BM_QueryWide(benchmark::State& state) {
  Run(state, Body(24 * 3'600'000 - 1, 10'000, {"upper_25", "upper_50", "upper_75", "upper_90"}));
}
BENCHMARK(BM_QueryWide);

void BM_Consolidate259k(benchmark::State& state) {
  sluice::Series base;
  for (int i = 0; i < 259'200; ++i) base.Append(i * 10'000LL, i % 100);
  for (auto _ : state) {
    state.PauseTiming();
    sluice::Series s = base;
    state.ResumeTiming();
    sluice::ConsolidateInPlace(&s, 0, 2'592'000'000, 1000, 1, sluice::ConsolidationFn::kAverage);
    benchmark::DoNotOptimize(s.values.data());
  }
  state.SetItemsProcessed(state.iterations() * 259'200);
}
BENCHMARK(BM_Consolidate259k);

}  // namespace
