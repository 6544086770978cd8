// fuzz_expr: the Graphite expression engine end to end. The first two bytes choose the window
// and maxDataPoints, the rest is a target text; it is compiled (lexer -> parser -> binder) and
// evaluated by query::Engine over the stored MemorySource of fuzz_common.h, then consolidated with
// query::ConsolidateForRender as /render does.
//
// Budgets are tight (1e6 points, 1 s deadline, 1000 series per path), so the engine's own limits
// are what must keep one input cheap: libFuzzer's -timeout and -rss_limit_mb catch a kernel that
// ignores them. Oracles: no sanitizer report; an OK evaluation leaves no series with more than
// max_data_points + 1 points after consolidation.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "expr/series_list.h"
#include "fuzz_common.h"
#include "query/engine.h"

namespace {

// Window lengths (ms) the first byte picks from: a minute to a century, plus degenerate ones.
constexpr int64_t kSpansMs[] = {60'000,
                                3'600'000,
                                6 * 3'600'000,
                                86'400'000,
                                7 * 86'400'000LL,
                                30 * 86'400'000LL,
                                365 * 86'400'000LL,
                                100 * 365 * 86'400'000LL,
                                1'000,
                                1,
                                30'000,
                                2 * 86'400'000};
constexpr int64_t kMaxDataPoints[] = {0, 1, 2, 3, 10, 100, 500, 1000, 1'000'000, -1, INT64_MAX, 7};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  if (size < 2) return 0;
  static const std::shared_ptr<MemorySource> source = fuzz::MakeStoredSource();
  static query::Engine* engine = [] {
    query::EngineOptions options;
    options.plan_cache_size = 16;
    options.max_series_per_path = 1'000;
    options.max_points = 1'000'000;
    return new query::Engine(source, options);
  }();

  const uint8_t window = data[0];
  const int64_t span = kSpansMs[(window & 0x7f) % std::size(kSpansMs)];
  const int64_t max_data_points = kMaxDataPoints[data[1] % std::size(kMaxDataPoints)];
  // The high bit of the first byte moves "now" to the epoch, so windows reach negative times.
  const int64_t now_ms = (window & 0x80) ? 0 : fuzz::kFixtureEndMs;
  const std::string_view target(reinterpret_cast<const char*>(data + 2), size - 2);

  query::EvalRequest request;
  request.target = target;
  request.range = TimeRange{now_ms - span, now_ms};
  request.now_ms = now_ms;
  request.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  request.max_points = 1'000'000;
  expr::SeriesList series;
  int64_t points = 0;
  if (!engine->Evaluate(request, &series, &points).ok()) return 0;
  query::ConsolidateForRender(&series, max_data_points);
  if (max_data_points > 0) {
    for (const auto& s : series) {
      if (static_cast<int64_t>(s.size()) - 1 > max_data_points) {
        fuzz::Die("ConsolidateForRender left more than maxDataPoints + 1 points",
                  std::string(target) + "\nseries " + s.name + " has " + std::to_string(s.size()) +
                      " points, maxDataPoints " + std::to_string(max_data_points));
      }
    }
  }
  return 0;
}
