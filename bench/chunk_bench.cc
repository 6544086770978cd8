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
#include "store/chunk_shapes.h"

namespace {

using sluice::store::DecodeChunk;
using sluice::store::EncodeChunk;

using sluice::store::MakeShape;
using sluice::store::Shape;
using Points = sluice::store::ShapePoints;

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
  const Points p = MakeShape(static_cast<Shape>(state.range(0)), state.range(2), state.range(1) != 0, 42);
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
  const Points p = MakeShape(static_cast<Shape>(state.range(0)), state.range(2), state.range(1) != 0, 42);
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
  const Points p = MakeShape(Shape::kRandomWalk, 259'200, false, 42);
  const auto chunk_points = static_cast<size_t>(state.range(0));
  const Encoded e = EncodeAll(p, chunk_points);
  std::mt19937_64 rng(7);
  std::vector<int64_t> times;
  std::vector<double> values;
  size_t points = 0;
  for (auto _ : state) {
    const int64_t from = sluice::store::kShapeStartMs + static_cast<int64_t>(rng() % (259'200 - 360)) * 10'000;
    const int64_t to = from + 3'599'999;
    times.clear();
    values.clear();
    const size_t first = static_cast<size_t>((from - sluice::store::kShapeStartMs) / 10'000) / chunk_points;
    const size_t last = static_cast<size_t>((to - sluice::store::kShapeStartMs) / 10'000) / chunk_points;
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
