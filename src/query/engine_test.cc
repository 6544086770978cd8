// Engine tests: grid layout of fetched series, the plan cache, budgets end to end over a
// MemorySource, and graphite-web's render-time consolidation.
#include "query/engine.h"

#include <gtest/gtest.h>

#include "query/source_fetcher.h"
#include "source/memory_source.h"

namespace sluice::query {
namespace {

Series Points(std::string name, std::vector<std::pair<int64_t, double>> points, Tags tags = {}) {
  Series s;
  s.name = std::move(name);
  s.tags = std::move(tags);
  for (auto [t, v] : points) s.Append(t, v);
  return s;
}

TEST(ToGridTest, WhisperWindowAndSlots) {
  // Step 10 s inferred; window (5 s, 45 s] -> 10, 20, 30, 40.
  Series s = Points("a", {{0, 1}, {10'000, 2}, {23'000, 3}, {40'000, 4}, {50'000, 5}});
  expr::TimeSeries grid = ToGrid(s, {5'000, 45'000}, 60'000);
  EXPECT_EQ(grid.step, 10'000);
  EXPECT_EQ(grid.start, 10'000);
  ASSERT_EQ(grid.size(), 4u);
  EXPECT_EQ(grid.values[0], 2);
  EXPECT_EQ(grid.values[1], 3);  // 23 s lands on the 20 s slot
  EXPECT_TRUE(expr::IsNone(grid.values[2]));
  EXPECT_EQ(grid.values[3], 4);
  EXPECT_EQ(grid.name, "a");
  EXPECT_EQ(grid.tags.Get("name"), "a");

  // An aligned `from` is excluded, an aligned `until` included.
  grid = ToGrid(s, {10'000, 40'000}, 60'000);
  EXPECT_EQ(grid.start, 20'000);
  EXPECT_EQ(grid.size(), 3u);

  // One point: the default step.
  grid = ToGrid(Points("b", {{120'000, 7}}, {{"host", "x"}}), {0, 300'000}, 60'000);
  EXPECT_EQ(grid.step, 60'000);
  EXPECT_EQ(grid.size(), 5u);
  EXPECT_EQ(grid.values[1], 7);
  EXPECT_EQ(grid.name, "b;host=x");
  EXPECT_EQ(grid.tags.Get("host"), "x");
}

std::shared_ptr<MemorySource> TwoSeries() {
  auto source = std::make_shared<MemorySource>("mem");
  std::vector<std::pair<int64_t, double>> a, b;
  for (int64_t i = 1; i <= 100; ++i) {
    a.push_back({i * 10'000, static_cast<double>(i)});
    b.push_back({i * 10'000, static_cast<double>(2 * i)});
  }
  source->AddSeries(Points("app.web1.cpu", a));
  source->AddSeries(Points("app.web2.cpu", b));
  return source;
}

TEST(EngineTest, EvaluatesPathsOverASource) {
  Engine engine(TwoSeries(), {});
  EvalRequest request;
  request.target = "app.*.cpu";
  request.range = {0, 1'000'000};
  expr::SeriesList out;
  int64_t points = 0;
  ASSERT_TRUE(engine.Evaluate(request, &out, &points).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].name, "app.web1.cpu");
  EXPECT_EQ(out[1].path_expression, "app.*.cpu");
  EXPECT_EQ(out[0].size(), 100u);
  EXPECT_EQ(points, 200);
}

TEST(EngineTest, CachesPlansAndReportsErrorsWithColumns) {
  Engine engine(TwoSeries(), {});
  auto a = engine.Compile("app.*.cpu");
  auto b = engine.Compile("app.*.cpu");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());
  auto bad = engine.Compile("nosuchfunction(app.*.cpu)");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "unknown function 'nosuchfunction' at column 1");
  bad = engine.Compile("a.b)");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(EngineTest, CacheIsBounded) {
  EngineOptions options;
  options.plan_cache_size = 2;
  Engine engine(TwoSeries(), options);
  auto first = engine.Compile("a.x");
  ASSERT_TRUE(engine.Compile("a.y").ok());
  ASSERT_TRUE(engine.Compile("a.z").ok());  // evicts a.x
  auto again = engine.Compile("a.x");
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_NE(first->get(), again->get());
}

TEST(EngineTest, PointBudget) {
  EngineOptions options;
  options.max_points = 150;
  Engine engine(TwoSeries(), options);
  EvalRequest request;
  request.target = "app.*.cpu";
  request.range = {0, 1'000'000};
  expr::SeriesList out;
  Status status = engine.Evaluate(request, &out);
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted) << status.message();
}

TEST(ConsolidateForRenderTest, GraphiteBuckets) {
  expr::TimeSeries s;
  s.name = "a";
  s.start = 60'000;
  s.step = 60'000;
  for (int i = 0; i < 10; ++i) s.values.push_back(i);
  expr::SeriesList list = {s};
  ConsolidateForRender(&list, 4);  // 10 points -> 3 per bucket of 180 s
  const expr::TimeSeries& c = list[0];
  EXPECT_EQ(c.step, 180'000);
  EXPECT_EQ(c.start % 180'000, 0);
  EXPECT_EQ(c.start, 180'000);
  // nudge = 180 + 0 - 60 = 120 s: one value dropped, then buckets of 3.
  ASSERT_GE(c.size(), 3u);
  EXPECT_EQ(c.values[0], 2);  // average(1, 2, 3)
  EXPECT_EQ(c.values[1], 5);

  list = {s};
  ConsolidateForRender(&list, 100);
  EXPECT_EQ(list[0].size(), 10u);
  ConsolidateForRender(&list, 0);
  EXPECT_EQ(list[0].size(), 10u);
}

}  // namespace
}  // namespace sluice::query
