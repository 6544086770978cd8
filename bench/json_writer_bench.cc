// Why Sluice has its own JSON writer: datapoints are the bulk of every response, and writing them
// with std::to_chars straight into the output beats fmt and a DOM library-style approach.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "common/json_writer.h"

namespace {

struct Points {
  std::vector<int64_t> times;
  std::vector<double> values;
};

// 8,640 points: one day at 10 s, values with three decimals (sensor-like) and some nulls.
const Points& Data() {
  static const Points p = [] {
    Points p;
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> d(0, 1000);
    for (int i = 0; i < 8640; ++i) {
      p.times.push_back(1'795'462'214'000 + i * 10'000LL);
      p.values.push_back(i % 97 == 0 ? NAN : std::round(d(rng) * 1000) / 1000);
    }
    return p;
  }();
  return p;
}

void BM_JsonWriterDatapoints(benchmark::State& state) {
  const Points& p = Data();
  std::string out;
  for (auto _ : state) {
    out.clear();
    sluice::JsonWriter w(&out);
    w.BeginArray();
    for (size_t i = 0; i < p.times.size(); ++i) w.Datapoint(p.values[i], p.times[i]);
    w.EndArray();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * p.times.size());
  state.SetBytesProcessed(state.iterations() * out.size());
}
BENCHMARK(BM_JsonWriterDatapoints);

void BM_JsonWriterDatapointsBulk(benchmark::State& state) {
  const Points& p = Data();
  std::string out;
  for (auto _ : state) {
    out.clear();
    sluice::JsonWriter w(&out);
    w.BeginArray();
    w.Datapoints(p.values.data(), p.times.data(), p.times.size());
    w.EndArray();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * p.times.size());
  state.SetBytesProcessed(state.iterations() * out.size());
}
BENCHMARK(BM_JsonWriterDatapointsBulk);

void BM_FmtDatapoints(benchmark::State& state) {
  const Points& p = Data();
  std::string out;
  for (auto _ : state) {
    out.clear();
    auto it = std::back_inserter(out);
    out.push_back('[');
    for (size_t i = 0; i < p.times.size(); ++i) {
      if (i) out.push_back(',');
      if (std::isnan(p.values[i])) {
        fmt::format_to(it, "[null,{}]", p.times[i]);
      } else {
        fmt::format_to(it, "[{},{}]", p.values[i], p.times[i]);
      }
    }
    out.push_back(']');
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * p.times.size());
  state.SetBytesProcessed(state.iterations() * out.size());
}
BENCHMARK(BM_FmtDatapoints);

void BM_SnprintfDatapoints(benchmark::State& state) {
  const Points& p = Data();
  std::string out;
  char buf[64];
  for (auto _ : state) {
    out.clear();
    out.push_back('[');
    for (size_t i = 0; i < p.times.size(); ++i) {
      if (i) out.push_back(',');
      int n = std::isnan(p.values[i])
                  ? std::snprintf(buf, sizeof buf, "[null,%lld]", static_cast<long long>(p.times[i]))
                  : std::snprintf(buf, sizeof buf, "[%.17g,%lld]", p.values[i],
                                  static_cast<long long>(p.times[i]));
      out.append(buf, n);
    }
    out.push_back(']');
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * p.times.size());
}
BENCHMARK(BM_SnprintfDatapoints);

}  // namespace
