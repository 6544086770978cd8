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

}  // namespace sluice
