#include "source/memory_source.h"

#include <cmath>

#include <gtest/gtest.h>

#include "source/catalog.h"

namespace sluice {
namespace {

Series Make(std::string name, Tags tags, std::vector<std::pair<int64_t, double>> points) {
  Series s;
  s.name = std::move(name);
  s.tags = std::move(tags);
  for (auto [t, v] : points) s.Append(t, v);
  return s;
}

FetchResult Fetch(SeriesSource& source, std::string_view target, std::vector<TagFilter> filters = {},
                  TimeRange range = {0, 1'000'000}) {
  NameMatcher m = NameMatcher::Compile(target);
  FetchRequest r;
  r.target = target;
  r.matcher = &m;
  r.filters = &filters;
  r.range = range;
  FetchResult out;
  EXPECT_TRUE(source.Fetch(r, &out).ok());
  return out;
}

TEST(MemorySourceTest, StoresMergesAndClipsToRange) {
  MemorySource source("mem");
  source.AddSeries(Make("cpu", {{"host", "a"}}, {{30, 3}, {10, 1}, {20, 2}, {20, 2.5}}));
  source.AddSeries(Make("cpu", {{"host", "a"}}, {{20, 9}, {40, 4}}));
  source.AddSeries(Make("cpu", {{"host", "b"}}, {{10, 7}}));
  auto all = Fetch(source, "cpu");
  ASSERT_EQ(all.series.size(), 2u);
  EXPECT_EQ(all.series[0].times_ms, (std::vector<int64_t>{10, 20, 30, 40}));
  EXPECT_EQ(all.series[0].values, (std::vector<double>{1, 9, 3, 4}));  // last write wins
  auto clipped = Fetch(source, "cpu", {}, {15, 35});
  EXPECT_EQ(clipped.series[0].times_ms, (std::vector<int64_t>{20, 30}));
  auto filtered = Fetch(source, "cpu", {*TagFilter::Make("host", FilterOp::kEq, "b")});
  ASSERT_EQ(filtered.series.size(), 1u);
  EXPECT_EQ(filtered.series[0].tags.Get("host"), "b");
}

TEST(MemorySourceTest, GeneratedTablesTagsAndAnnotations) {
  MemorySource source("mem");
  source.AddGenerated("gen", {{"k", "v"}}, [](const FetchRequest& r, Series* s) {
    s->Append(r.range.from_ms, 1);
    return Status::OK();
  });
  source.AddGenerated("broken", {}, [](const FetchRequest&, Series*) {
    return Unavailable("sensor offline");
  });
  source.AddTable("t", [](const FetchRequest&, Table* t) {
    t->columns = {{"a", ColumnType::kNumber}};
    t->rows = {{Cell::Number(1)}};
    return Status::OK();
  });
  source.AddAnnotation({100, 200, "deploy", "v1", {"deploys", "prod"}});
  source.AddAnnotation({5000, 5000, "other", "x", {"misc"}});

  EXPECT_EQ(Fetch(source, "gen").series.at(0).times_ms.at(0), 0);
  EXPECT_EQ(Fetch(source, "t").tables.size(), 1u);

  NameMatcher m = NameMatcher::Compile("broken");
  std::vector<TagFilter> none;
  FetchRequest r;
  r.matcher = &m;
  r.filters = &none;
  FetchResult out;
  Status s = source.Fetch(r, &out);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "broken: sensor offline");

  std::vector<std::string> keys, values, names;
  ASSERT_TRUE(source.TagKeys({}, &keys).ok());
  EXPECT_EQ(keys, std::vector<std::string>{"k"});
  ASSERT_TRUE(source.TagValues("k", {}, &values).ok());
  EXPECT_EQ(values, std::vector<std::string>{"v"});
  ASSERT_TRUE(source.ListNames(&names).ok());
  EXPECT_EQ(names.size(), 3u);

  std::vector<Annotation> events;
  ASSERT_TRUE(source.Annotations({{0, 1000}, "prod"}, &events).ok());
  ASSERT_EQ(events.size(), 1u);
  events.clear();
  ASSERT_TRUE(source.Annotations({{150, 160}, ""}, &events).ok());  // overlaps the region
  EXPECT_EQ(events.size(), 1u);
}

TEST(AnnotationQueryTest, WordsMustAllMatch) {
  Annotation a{0, 0, "Deployed api v1.2", "api rolled out to prod", {"deploys", "prod", "api"}};
  EXPECT_TRUE(AnnotationQuery("").Matches(a));
  EXPECT_TRUE(AnnotationQuery("prod").Matches(a));
  EXPECT_TRUE(AnnotationQuery("#deploys prod").Matches(a));
  EXPECT_TRUE(AnnotationQuery("PROD").Matches(a));
  EXPECT_TRUE(AnnotationQuery("{staging,prod}").Matches(a));
  EXPECT_TRUE(AnnotationQuery("rolled").Matches(a));
  EXPECT_FALSE(AnnotationQuery("staging").Matches(a));
  EXPECT_FALSE(AnnotationQuery("prod staging").Matches(a));
}

TEST(CatalogTest, MergesSources) {
  auto a = std::make_shared<MemorySource>("a");
  auto b = std::make_shared<MemorySource>("b");
  a->AddSeries(Make("x", {}, {{1, 1}}));
  b->AddSeries(Make("x", {{"k", "v"}}, {{1, 2}}));
  b->AddSeries(Make("y", {}, {{1, 3}}));
  Catalog c;
  c.Add(a);
  c.Add(b);
  std::vector<std::string> names;
  ASSERT_TRUE(c.ListNames(&names).ok());
  EXPECT_EQ(names, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(Fetch(c, "x").series.size(), 2u);
  EXPECT_FALSE(c.MayBlock());
}

}  // namespace
}  // namespace sluice
