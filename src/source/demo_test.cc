#include "source/demo.h"

#include <cmath>

#include <gtest/gtest.h>

namespace sluice {
namespace {

FetchResult Fetch(SeriesSource& source, std::string_view target, TimeRange range) {
  NameMatcher m = NameMatcher::Compile(target);
  std::vector<TagFilter> none;
  FetchRequest r;
  r.target = target;
  r.matcher = &m;
  r.filters = &none;
  r.range = range;
  FetchResult out;
  EXPECT_TRUE(source.Fetch(r, &out).ok());
  return out;
}

TEST(DemoTest, HasTheDocumentedNames) {
  auto demo = MakeDemoSource();
  std::vector<std::string> names;
  ASSERT_TRUE(demo->ListNames(&names).ok());
  for (const char* want : {"upper_25", "upper_50", "upper_75", "upper_90", "upper_95",
                           "app.web-1.requests", "app.db-2.cpu", "cpu.total", "demo.sine",
                           "demo.random_walk", "demo.counter", "hosts"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
  EXPECT_GE(names.size(), 30u);
}

TEST(DemoTest, DeterministicStepAlignedAndCoversAnyRange) {
  auto demo = MakeDemoSource();
  TimeRange six_hours{1'795'440'614'804, 1'795'462'214'804};
  auto a = Fetch(*demo, "upper_25", six_hours);
  auto b = Fetch(*demo, "upper_25", six_hours);
  ASSERT_EQ(a.series.size(), 1u);
  EXPECT_EQ(a.series[0].size(), 2160u);
  EXPECT_EQ(a.series[0].values, b.series[0].values);
  for (int64_t t : a.series[0].times_ms) {
    EXPECT_EQ(t % kDemoStepMs, 0);
    EXPECT_GE(t, six_hours.from_ms);
    EXPECT_LE(t, six_hours.to_ms);
  }
  for (double v : a.series[0].values) EXPECT_TRUE(std::isfinite(v));
  EXPECT_EQ(a.series[0].tags.Get("City"), "Berlin");
}

TEST(DemoTest, HugeRangesAreSampledNotMaterialised) {
  auto demo = MakeDemoSource();
  auto r = Fetch(*demo, "demo.sine", {0, 100LL * 365 * 86'400'000});
  ASSERT_EQ(r.series.size(), 1u);
  EXPECT_LE(r.series[0].size(), 100'000u);
}

TEST(DemoTest, TableAndAnnotations) {
  auto demo = MakeDemoSource();
  auto r = Fetch(*demo, "hosts", {0, 86'400'000});
  ASSERT_EQ(r.tables.size(), 1u);
  EXPECT_EQ(r.tables[0].rows.size(), 6u);
  std::vector<Annotation> events;
  ASSERT_TRUE(demo->Annotations({{0, 86'400'000}, ""}, &events).ok());
  bool region = false, point = false;
  for (const auto& e : events) {
    region |= e.end_ms > e.time_ms;
    point |= e.end_ms == e.time_ms;
    EXPECT_FALSE(e.title.empty());
  }
  EXPECT_TRUE(region);
  EXPECT_TRUE(point);
}

}  // namespace
}  // namespace sluice
