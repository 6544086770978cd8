// The demo data set behind `sluice serve --demo`: a few dozen tagged series, a table target and
// annotation events, all computed from the time of each point so that any range, including "now",
// has data and every run answers the same values for the same timestamps.
#pragma once

#include <memory>

#include "source/memory_source.h"

namespace sluice {

// Native resolution of every demo series.
inline constexpr int64_t kDemoStepMs = 10'000;

// Builds the demo source. Cheap: points are computed per request, nothing is stored.
std::shared_ptr<MemorySource> MakeDemoSource();

// The deterministic signals behind the demo, for other demo feeds (ingest/demo_feed.h):
// a closed random walk around `base` with amplitude `scale` (three decimals), and a sine with the
// given period (two decimals).
double DemoWalk(int64_t t_ms, uint64_t seed, double base, double scale);
double DemoSine(int64_t t_ms, double period_ms, double phase, double mid, double amplitude);

}  // namespace sluice
