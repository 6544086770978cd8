// The chunk codec of the embedded store (store/chunk.h): encode and decode speed, and bytes per
// point (timestamps included) for the four data shapes of the size goals, with regular 10 s times
// or times jittered by ±1 s, as one 1,000-point chunk or as 30 days of 10 s data (259,200 points)
// cut into chunks of 120, 1,000 or 4,000 points.
//
// Arguments: shape (0 random walk of 3-decimal values, steps within ±0.5; 1 integer counter
// growing by 0..100 per point; 2 constant; 3 sine with 2 decimals, 1 h period), jitter (0/1),
// points, chunk size. items_per_second is points/s; bytes_per_point is the encoded size.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "store/chunk.h"

namespace {

using sluice::store::DecodeChunk;
using sluice::store::EncodeChunk;

constexpr int64_t kStartMs = 1'700'000'000'000;

struct Points {
  std::vector<int64_t> times;
  std::vector<double> values;
};

// The same shapes as chunk_test.cc's size goals.
Points MakeShape(int shape, size_t n, bool jitter) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> jitter_ms(-1000, 1000);
  std::uniform_real_distribution<double> step(-0.5, 0.5);
  std::uniform_int_distribution<int> increment(0, 100);
  Points p;
  double walk = 25.0, counter = 1'000'000;
  for (size_t i = 0; i < n; ++i) {
    const int64_t t = kStartMs + static_cast<int64_t>(i) * 10'000;
    p.times.push_back(jitter ? t + jitter_ms(rng) : t);
    double v = 42.5;
    if (shape == 0) {
      walk = std::round((walk + step(rng)) * 1000) / 1000;
      v = walk;
    } else if (shape == 1) {
      counter += increment(rng);
      v = counter;
    } else if (shape == 3) {
      v = std::round((20 + 10 * std::sin(2 * M_PI * static_cast<double>(i) / 360)) * 100) / 100;
    }
    p.values.push_back(v);
  }
  return p;
}

struct Encoded {
  std::vector<std::string> chunks;
  size_t bytes = 0;
};

Encoded EncodeAll(const Points& p, size_t chunk_points) {
  Encoded e;
  for (size_t s = 0; s < p.times.size(); s += chunk_points) {
    const size_t n = std::min(chunk_points, p.times.size() - s);
    std::string chunk;
    EncodeChunk(p.times.data() + s, p.values.data() + s, n, &chunk);
    e.bytes += chunk.size();
    e.chunks.push_back(std::move(chunk));
  }
  return e;
}

void SetCounters(benchmark::State& state, size_t points, size_t bytes) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * points));
  state.counters["bytes_per_point"] = static_cast<double>(bytes) / static_cast<double>(points);
}

void BM_ChunkEncode(benchmark::State& state) {
  const Points p = MakeShape(static_cast<int>(state.range(0)), state.range(2), state.range(1) != 0);
  const auto chunk_points = static_cast<size_t>(state.range(3));
  std::string out;
  size_t bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    for (size_t s = 0; s < p.times.size(); s += chunk_points) {
      const size_t n = std::min(chunk_points, p.times.size() - s);
      out.clear();
      EncodeChunk(p.times.data() + s, p.values.data() + s, n, &out);
      bytes += out.size();
      benchmark::DoNotOptimize(out.data());
    }
  }
  SetCounters(state, p.times.size(), bytes);
}

void BM_ChunkDecode(benchmark::State& state) {
  const Points p = MakeShape(static_cast<int>(state.range(0)), state.range(2), state.range(1) != 0);
  const Encoded e = EncodeAll(p, static_cast<size_t>(state.range(3)));
  std::vector<int64_t> times;
  std::vector<double> values;
  for (auto _ : state) {
    times.clear();
    values.clear();
    for (const std::string& chunk : e.chunks) {
      if (!DecodeChunk(chunk, INT64_MIN, INT64_MAX, &times, &values).ok()) {
        state.SkipWithError("decode failed");
        return;
      }
    }
    benchmark::DoNotOptimize(times.data());
    benchmark::DoNotOptimize(values.data());
  }
  if (times != p.times) state.SkipWithError("decoded times differ");
  SetCounters(state, p.times.size(), e.bytes);
}

// A one-hour range (360 points) at a random place in 30 days of random walk: what a dashboard
// panel that zooms in pays per chunk size. items_per_second counts the points returned.
void BM_ChunkDecodeHour(benchmark::State& state) {
  const Points p = MakeShape(0, 259'200, false);
  const auto chunk_points = static_cast<size_t>(state.range(0));
  const Encoded e = EncodeAll(p, chunk_points);
  std::mt19937_64 rng(7);
  std::vector<int64_t> times;
  std::vector<double> values;
  size_t points = 0;
  for (auto _ : state) {
    const int64_t from = kStartMs + static_cast<int64_t>(rng() % (259'200 - 360)) * 10'000;
    const int64_t to = from + 3'599'999;
    times.clear();
    values.clear();
    const size_t first = static_cast<size_t>((from - kStartMs) / 10'000) / chunk_points;
    const size_t last = static_cast<size_t>((to - kStartMs) / 10'000) / chunk_points;
    for (size_t c = first; c <= last && c < e.chunks.size(); ++c) {
      if (!DecodeChunk(e.chunks[c], from, to, &times, &values).ok()) {
        state.SkipWithError("decode failed");
        return;
      }
    }
    points += times.size();
    benchmark::DoNotOptimize(values.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(points));
}

void ShapeArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"shape", "jitter", "points", "chunk"});
  for (int shape = 0; shape < 4; ++shape) {
    for (int jitter = 0; jitter < 2; ++jitter) {
      b->Args({shape, jitter, 1000, 1000});
      for (int chunk : {120, 1000, 4000}) b->Args({shape, jitter, 259'200, chunk});
    }
  }
}

BENCHMARK(BM_ChunkEncode)->Apply(ShapeArgs);
BENCHMARK(BM_ChunkDecode)->Apply(ShapeArgs);
BENCHMARK(BM_ChunkDecodeHour)->ArgName("chunk")->Arg(120)->Arg(1000)->Arg(4000)->Arg(16000);

}  // namespace
