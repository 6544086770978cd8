// The four data shapes of the chunk codec's size goals, shared by store/chunk_test.cc (which
// asserts bytes per point on them) and bench/chunk_bench.cc (which measures them), so the figures
// the benchmark reports are for exactly the data the test holds to the goals. Test and bench only.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <vector>

namespace sluice::store {

inline constexpr int64_t kShapeStartMs = 1'700'000'000'000;

struct ShapePoints {
  std::vector<int64_t> times;
  std::vector<double> values;
  size_t size() const { return times.size(); }
};

// Random walk of 3-decimal values (steps within ±0.5), integer counter growing by 0..100 per
// point, constant, and a 1 h sine with 2 decimals.
enum class Shape { kRandomWalk, kCounter, kConstant, kSine };

// n points 10 s apart from kShapeStartMs; with `jitter`, each time moves by up to ±1 s.
inline ShapePoints MakeShape(Shape shape, size_t n, bool jitter, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> jitter_ms(-1000, 1000);
  std::uniform_real_distribution<double> step(-0.5, 0.5);
  std::uniform_int_distribution<int> increment(0, 100);
  ShapePoints p;
  double walk = 25.0, counter = 1'000'000;
  for (size_t i = 0; i < n; ++i) {
    const int64_t t = kShapeStartMs + static_cast<int64_t>(i) * 10'000;
    p.times.push_back(jitter ? t + jitter_ms(rng) : t);
    double v = 0;
    switch (shape) {
      case Shape::kRandomWalk:
        walk = std::round((walk + step(rng)) * 1000) / 1000;
        v = walk;
        break;
      case Shape::kCounter:
        counter += increment(rng);
        v = counter;
        break;
      case Shape::kConstant:
        v = 42.5;
        break;
      case Shape::kSine:
        v = std::round((20 + 10 * std::sin(2 * std::numbers::pi * static_cast<double>(i) / 360)) *
                       100) /
            100;
        break;
    }
    p.values.push_back(v);
  }
  return p;
}

}  // namespace sluice::store
