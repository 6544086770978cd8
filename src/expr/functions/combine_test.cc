// Tests of the Combine group (combine.cc) and the Special group's constantLine, threshold and
// seriesByTag (special.cc): table tests through the real parser, binder and evaluator over an
// in-memory fetcher, and a differential test of the kernels against testing/reference_combine.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "expr/registry.h"
#include "testing/expr_fixtures.h"
#include "testing/reference_combine.h"

namespace sluice::expr {
namespace {

using testing::DumpSeriesList;
using testing::EvalForTest;
using testing::MemoryFetcher;

constexpr int64_t kMin = 60'000;
const double N = kNone;

// Five points at 1..5 minutes for the window (0, 5min]; lat.fast has 30 points every 10 s.
MemoryFetcher MakeFetcher() {
  MemoryFetcher f;
  f.Add("app.web1.cpu", kMin, kMin, {1, 2, N, 4, 5});
  f.Add("app.web2.cpu", kMin, kMin, {10, N, N, 40, 50});
  f.Add("app.db1.cpu", kMin, kMin, {100, 200, N, 400, -500});
  f.Add("app.web1.req", kMin, kMin, {2, 4, 6, 8, 10});
  f.Add("app.web2.req", kMin, kMin, {0, 1, 2, 3, 4});
  f.Add("app.none.cpu2", kMin, kMin, {N, N, N, N, N});
  std::vector<double> fast;
  for (int i = 1; i <= 30; ++i) fast.push_back(i);
  f.Add("lat.fast", 10'000, 10'000, fast);
  f.Add("cpu;host=a;dc=east", kMin, kMin, {1, 2, 3, 4, 5});
  f.Add("cpu;host=b;dc=east", kMin, kMin, {10, 20, 30, 40, 50});
  f.Add("cpu;host=c;dc=west", kMin, kMin, {100, 200, 300, 400, 500});
  f.Add("mem;host=a;dc=east", kMin, kMin, {7, 7, 7, 7, 7});
  return f;
}

const TimeRange kRange{0, 5 * kMin};

struct Case {
  const char* target;
  const char* want;  // DumpSeriesList, or "error: <substring>"
};

void RunCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    MemoryFetcher fetcher = MakeFetcher();
    auto got = EvalForTest(c.target, fetcher, kRange);
    std::string want = c.want;
    if (want.rfind("error: ", 0) == 0) {
      ASSERT_FALSE(got.ok()) << c.target << " gave\n" << DumpSeriesList(*got);
      EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument) << c.target;
      EXPECT_NE(got.status().message().find(want.substr(7)), std::string::npos)
          << c.target << ": " << got.status().message();
      continue;
    }
    ASSERT_TRUE(got.ok()) << c.target << ": " << got.status().ToString();
    EXPECT_EQ(DumpSeriesList(*got), want) << c.target;
  }
}

TEST(CombineTest, Aggregates) {
  RunCases({
      {"sumSeries(app.*.cpu)", "sumSeries(app.*.cpu) [60000,60000] 111 202 None 444 -445"},
      {"sum(app.*.cpu)", "sumSeries(app.*.cpu) [60000,60000] 111 202 None 444 -445"},
      {"sumSeries(app.web1.cpu, app.web2.cpu)",
       "sumSeries(app.web1.cpu,app.web2.cpu) [60000,60000] 11 2 None 44 55"},
      {"sumSeries(app.web1.cpu, app.web1.cpu)",
       "sumSeries(app.web1.cpu) [60000,60000] 2 4 None 8 10"},
      {"sumSeries(nothing.*)", ""},
      {"sumSeries(nothing.*, app.web1.cpu)", "sumSeries(app.web1.cpu) [60000,60000] 1 2 None 4 5"},
      {"averageSeries(app.*.cpu)",
       "averageSeries(app.*.cpu) [60000,60000] 37 101 None 148 -148.33333333333334"},
      {"avg(app.*.cpu)",
       "averageSeries(app.*.cpu) [60000,60000] 37 101 None 148 -148.33333333333334"},
      {"minSeries(app.*.cpu)", "minSeries(app.*.cpu) [60000,60000] 1 2 None 4 -500"},
      {"maxSeries(app.*.cpu)", "maxSeries(app.*.cpu) [60000,60000] 100 200 None 400 50"},
      {"diffSeries(app.*.cpu)", "diffSeries(app.*.cpu) [60000,60000] 89 198 None 356 -555"},
      {"rangeOfSeries(app.*.cpu)", "rangeOfSeries(app.*.cpu) [60000,60000] 99 198 None 396 550"},
      {"stddevSeries(app.*.req)", "stddevSeries(app.*.req) [60000,60000] 1 1.5 2 2.5 3"},
      {"multiplySeries(app.web1.cpu, app.web2.cpu)",
       "multiplySeries(app.web1.cpu,app.web2.cpu) [60000,60000] 10 None None 160 250"},
      // graphite's legacy behaviour: one series alone comes back as it is.
      {"multiplySeries(app.web1.cpu)", "app.web1.cpu [60000,60000] 1 2 None 4 5"},
      {"aggregate(app.*.cpu, 'median')", "medianSeries(app.*.cpu) [60000,60000] 10 101 None 40 5"},
      {"aggregate(app.*.cpu, 'count')", "countSeries(app.*.cpu) [60000,60000] 3 2 None 3 3"},
      {"aggregate(app.*.cpu, 'avg_zero')",
       "avg_zeroSeries(app.*.cpu) [60000,60000] 37 67.33333333333333 None 148 "
       "-148.33333333333334"},
      {"aggregate(app.*.cpu, 'last')", "lastSeries(app.*.cpu) [60000,60000] 10 2 None 40 50"},
      {"aggregate(app.*.cpu, 'current')", "currentSeries(app.*.cpu) [60000,60000] 10 2 None 40 50"},
      {"aggregate(app.*.cpu, 'multiply')",
       "multiplySeries(app.*.cpu) [60000,60000] 1000 None None 64000 -125000"},
      {"aggregate(app.*.cpu, 'total')",
       "totalSeries(app.*.cpu) [60000,60000] 111 202 None 444 -445"},
      {"aggregate(app.*.cpu, 'sum', 0.7)",
       "sumSeries(app.*.cpu) [60000,60000] 111 None None 444 -445"},
      {"aggregate(app.*.cpu, func='sum', xFilesFactor=0.6)",
       "sumSeries(app.*.cpu) [60000,60000] 111 202 None 444 -445"},
      {"aggregate(app.*.cpu, 'bogus')", "error: must be one of"},
      {"countSeries(app.*.cpu)", "countSeries(app.*.cpu) [60000,60000] 3 3 3 3 3"},
      {"countSeries(app.*.cpu, app.web1.req)",
       "countSeries(app.*.cpu,app.web1.req) [60000,60000] 4 4 4 4 4"},
      {"countSeries(nothing.*)", ""},
      {"countSeries()", "0 [0,150000] 0 0 0"},
      {"group(app.web1.cpu, app.db1.cpu, nothing.*)",
       "app.web1.cpu [60000,60000] 1 2 None 4 5\napp.db1.cpu [60000,60000] 100 200 None 400 -500"},
      {"group()", ""},
  });
}

TEST(CombineTest, MixedStepsConsolidateToTheLeastCommonMultiple) {
  // lat.fast (10 s) is averaged over 6 points; rows align by index from each series' start.
  RunCases({
      {"sumSeries(app.web1.cpu, lat.fast)",
       "sumSeries(app.web1.cpu,lat.fast) [10000,60000] 4.5 11.5 15.5 25.5 32.5"},
      {"divideSeries(lat.fast, app.web1.req)",
       "divideSeries(lat.fast,app.web1.req) [10000,60000] 1.75 2.375 2.5833333333333335 2.6875 "
       "2.75"},
  });
}

TEST(CombineTest, AggregateTags) {
  MemoryFetcher fetcher = MakeFetcher();
  auto got = EvalForTest("sumSeries(seriesByTag('dc=east'))", fetcher, kRange);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 1u);
  // Tags shared by every input survive; the differing name is replaced by the result's name.
  EXPECT_EQ((*got)[0].tags, (Tags{{"aggregatedBy", "sum"},
                                  {"dc", "east"},
                                  {"name", "sumSeries(seriesByTag('dc=east'))"}}));
  got = EvalForTest("aggregate(seriesByTag('name=cpu'), 'avg')", fetcher, kRange);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)[0].name, "avgSeries(seriesByTag('name=cpu'))");
  EXPECT_EQ((*got)[0].tags, (Tags{{"aggregatedBy", "avg"}, {"name", "cpu"}}));
  EXPECT_EQ((*got)[0].path_expression, "avgSeries(seriesByTag('name=cpu'))");
}

TEST(CombineTest, Divide) {
  RunCases({
      {"divideSeries(app.*.req, app.web2.req)",
       "divideSeries(app.web1.req,app.web2.req) [60000,60000] None 4 3 2.6666666666666665 2.5\n"
       "divideSeries(app.web2.req,app.web2.req) [60000,60000] None 1 1 1 1"},
      {"divideSeries(app.web1.cpu, nothing.here)",
       "divideSeries(app.web1.cpu,MISSING) [60000,60000] None None None None None"},
      {"divideSeries(app.web1.cpu, app.*.req)", "error: exactly 1 series, got 2"},
      {"divideSeriesLists(app.web1.cpu, app.web1.req)",
       "divideSeries(app.web1.cpu,app.web1.req) [60000,60000] 0.5 0.5 None 0.5 0.5"},
      {"divideSeriesLists(app.*.cpu, app.web1.req)", "error: same length, got 3 and 1"},
  });
}

TEST(CombineTest, PercentileOfSeries) {
  RunCases({
      {"percentileOfSeries(app.*.cpu, 50)",
       "percentileOfSeries(app.*.cpu,50) [60000,60000] 10 200 None 40 5"},
      {"percentileOfSeries(app.*.cpu, 50, true)",
       "percentileOfSeries(app.*.cpu,50) [60000,60000] 10 101 None 40 5"},
      {"percentileOfSeries(app.*.cpu, 100)",
       "percentileOfSeries(app.*.cpu,100) [60000,60000] 100 200 None 400 50"},
      {"percentileOfSeries(app.*.cpu, 0.5)",
       "percentileOfSeries(app.*.cpu,0.5) [60000,60000] 1 2 None 4 -500"},
      {"percentileOfSeries(app.*.cpu, 0)", "error: must be in (0, 100]"},
  });
}

TEST(CombineTest, Wildcards) {
  RunCases({
      {"sumSeriesWithWildcards(app.*.cpu, 1)", "app.cpu [60000,60000] 111 202 None 444 -445"},
      {"sumSeriesWithWildcards(app.*.*, 1)",
       "app.cpu [60000,60000] 111 202 None 444 -445\n"
       "app.cpu2 [60000,60000] None None None None None\n"
       "app.req [60000,60000] 2 5 8 11 14"},
      {"averageSeriesWithWildcards(app.*.req, 0, 1)", "req [60000,60000] 1 2.5 4 5.5 7"},
      {"multiplySeriesWithWildcards(app.web1.*, 2)", "app.web1 [60000,60000] 2 8 None 32 50"},
      {"aggregateWithWildcards(app.*.req, 'max', 1)", "app.req [60000,60000] 2 4 6 8 10"},
      // Negative positions never match graphite's enumerate() indexes.
      {"sumSeriesWithWildcards(app.web1.cpu, -1)", "app.web1.cpu [60000,60000] 1 2 None 4 5"},
  });
}

TEST(CombineTest, GroupBy) {
  RunCases({
      {"groupByNode(app.*.*, 2, 'sum')",
       "cpu [60000,60000] 111 202 None 444 -445\n"
       "cpu2 [60000,60000] None None None None None\n"
       "req [60000,60000] 2 5 8 11 14"},
      {"groupByNode(app.*.cpu, 1)",
       "db1 [60000,60000] 100 200 None 400 -500\n"
       "web1 [60000,60000] 1 2 None 4 5\n"
       "web2 [60000,60000] 10 None None 40 50"},
      {"groupByNode(app.*.req, -1, 'countSeries')", "req [60000,60000] 2 2 2 2 2"},
      {"groupByNode(app.web*.req, 2, 'asPercent')",
       "req [60000,60000] 100 80 75 72.72727272727273 71.42857142857143"},
      {"groupByNode(app.web1.cpu, 1, 'multiplySeries')", "web1 [60000,60000] 1 2 None 4 5"},
      {"groupByNodes(app.*.*, 'max', 1, 2)",
       "db1.cpu [60000,60000] 100 200 None 400 -500\n"
       "none.cpu2 [60000,60000] None None None None None\n"
       "web1.cpu [60000,60000] 1 2 None 4 5\n"
       "web1.req [60000,60000] 2 4 6 8 10\n"
       "web2.cpu [60000,60000] 10 None None 40 50\n"
       "web2.req [60000,60000] 0 1 2 3 4"},
      {"groupByNodes(app.web1.*, 'sum')", " [60000,60000] 3 6 6 12 15"},
      {"groupByNode(seriesByTag('name=cpu'), 'dc', 'sumSeries')",
       "east [60000,60000] 11 22 33 44 55\nwest [60000,60000] 100 200 300 400 500"},
      {"groupByTags(seriesByTag('name=cpu'), 'sum', 'dc')",
       "cpu;dc=east [60000,60000] 11 22 33 44 55\ncpu;dc=west [60000,60000] 100 200 300 400 500"},
      {"groupByTags(seriesByTag('dc=east'), 'max', 'dc')",
       "max;dc=east [60000,60000] 10 20 30 40 50"},
      {"groupByTags(seriesByTag('dc=east'), 'max', 'name', 'dc')",
       "cpu;dc=east [60000,60000] 10 20 30 40 50\nmem;dc=east [60000,60000] 7 7 7 7 7"},
      {"groupByTags(seriesByTag('name=cpu'), 'sum', 'rack')", "error: has no tag 'rack'"},
  });
  MemoryFetcher fetcher = MakeFetcher();
  auto got = EvalForTest("groupByTags(seriesByTag('name=cpu'), 'average', 'dc')", fetcher, kRange);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)[1].tags, (Tags{{"dc", "west"}, {"name", "cpu"}}));
  EXPECT_EQ((*got)[1].path_expression, "cpu;dc=west");
  got = EvalForTest("groupByNode(app.*.cpu, 2, 'avg')", fetcher, kRange);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)[0].tags.Get("aggregatedBy"), "average");  // avg runs averageSeries
  EXPECT_EQ((*got)[0].path_expression, "averageSeries(app.*.cpu)");
}

TEST(CombineTest, AsPercent) {
  RunCases({
      {"asPercent(app.web1.req)",
       "asPercent(app.web1.req,sumSeries(app.web1.req)) [60000,60000] 100 100 100 100 100"},
      {"asPercent(app.*.req)",
       "asPercent(app.web1.req,sumSeries(app.*.req)) [60000,60000] 100 80 75 72.72727272727273 "
       "71.42857142857143\n"
       "asPercent(app.web2.req,sumSeries(app.*.req)) [60000,60000] 0 20 25 27.27272727272727 "
       "28.57142857142857"},
      {"asPercent(app.*.req, 200)",
       "asPercent(app.web1.req,200) [60000,60000] 1 2 3 4 5\n"
       "asPercent(app.web2.req,200) [60000,60000] 0 0.5 1 1.5 2"},
      {"pct(app.web1.req, 0.5)",
       "asPercent(app.web1.req,0.5) [60000,60000] 400 800 1200 1600 2000"},
      {"asPercent(app.web1.cpu, 0)",
       "asPercent(app.web1.cpu,0) [60000,60000] None None None None None"},
      {"asPercent(app.web2.req, app.web1.req)",
       "asPercent(app.web2.req,app.web1.req) [60000,60000] 0 25 33.33333333333333 37.5 40"},
      {"asPercent(app.*.req, app.web1.req)",
       "asPercent(app.web1.req,app.web1.req) [60000,60000] 100 100 100 100 100\n"
       "asPercent(app.web2.req,app.web1.req) [60000,60000] 0 25 33.33333333333333 37.5 40"},
      {"asPercent(app.web*.cpu, app.web*.req)",
       "asPercent(app.web1.cpu,app.web1.req) [60000,60000] 50 50 None 50 50\n"
       "asPercent(app.web2.cpu,app.web2.req) [60000,60000] None None None 1333.3333333333335 "
       "1250"},
      {"asPercent(app.*.cpu, app.*.req)", "error: got 2 series"},
      {"asPercent(app.*.req, 'x')", "error: must be None, a number or a series list"},
      {"asPercent(app.web*.*, None, 1)",
       "asPercent(app.web1.cpu,sumSeries(app.web*.*)) [60000,60000] 33.33333333333333 "
       "33.33333333333333 None 33.33333333333333 33.33333333333333\n"
       "asPercent(app.web1.req,sumSeries(app.web*.*)) [60000,60000] 66.66666666666666 "
       "66.66666666666666 100 66.66666666666666 66.66666666666666\n"
       "asPercent(app.web2.cpu,sumSeries(app.web*.*)) [60000,60000] 100 None None "
       "93.02325581395348 "
       "92.5925925925926\n"
       "asPercent(app.web2.req,sumSeries(app.web*.*)) [60000,60000] 0 100 100 6.976744186046512 "
       "7.4074074074074066"},
      {"asPercent(app.*.cpu, app.web*.req, 1)",
       "asPercent(app.db1.cpu,MISSING) [60000,60000] None None None None None\n"
       "asPercent(app.web1.cpu,app.web1.req) [60000,60000] 50 50 None 50 50\n"
       "asPercent(app.web2.cpu,app.web2.req) [60000,60000] None None None 1333.3333333333335 "
       "1250"},
      {"asPercent(app.web1.cpu, app.*.req, 1)",
       "asPercent(app.web1.cpu,app.web1.req) [60000,60000] 50 50 None 50 50\n"
       "asPercent(MISSING,app.web2.req) [60000,60000] None None None None None"},
      {"asPercent(app.web1.cpu, 5, 1)", "error: must be None or a series list when nodes"},
      {"asPercent(nothing.*)", ""},
  });
}

TEST(SpecialTest, ConstantLineAndThreshold) {
  RunCases({
      {"constantLine(5)", "5.0 [0,150000] 5 5 5"},
      {"constantLine(-1.5)", "-1.5 [0,150000] -1.5 -1.5 -1.5"},
      {"threshold(5)", "5.0 [0,150000] 5 5 5"},
      {"threshold(5, 'limit', 'red')", "limit [0,150000] 5 5 5"},
  });
  MemoryFetcher fetcher;
  // Whole seconds: (1.5 s, 4.9 s] starts at 1 s with a step of 1 s.
  auto got = EvalForTest("constantLine(1)", fetcher, TimeRange{1'500, 4'900});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(DumpSeriesList(*got), "1.0 [1000,1000] 1 1 1");
  EXPECT_EQ((*got)[0].path_expression, "constantLine(1.0)");
  got = EvalForTest("constantLine(1)", fetcher, TimeRange{1'000, 2'000});
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
}

TEST(SpecialTest, SeriesByTag) {
  RunCases({
      {"seriesByTag('name=cpu')",
       "cpu;dc=east;host=a [60000,60000] 1 2 3 4 5\n"
       "cpu;dc=east;host=b [60000,60000] 10 20 30 40 50\n"
       "cpu;dc=west;host=c [60000,60000] 100 200 300 400 500"},
      {"seriesByTag('name=cpu', 'dc!=east')",
       "cpu;dc=west;host=c [60000,60000] 100 200 300 400 500"},
      {"seriesByTag('name=~cp')",  // regexes match at the start of the value
       "cpu;dc=east;host=a [60000,60000] 1 2 3 4 5\n"
       "cpu;dc=east;host=b [60000,60000] 10 20 30 40 50\n"
       "cpu;dc=west;host=c [60000,60000] 100 200 300 400 500"},
      {"seriesByTag('name=~pu')", ""},
      {"seriesByTag('dc=east', 'host=~a|b', 'name!=~me')",
       "cpu;dc=east;host=a [60000,60000] 1 2 3 4 5\n"
       "cpu;dc=east;host=b [60000,60000] 10 20 30 40 50"},
      {"seriesByTag('name=cpu', 'rack=')",
       "cpu;dc=east;host=a [60000,60000] 1 2 3 4 5\n"
       "cpu;dc=east;host=b [60000,60000] 10 20 30 40 50\n"
       "cpu;dc=west;host=c [60000,60000] 100 200 300 400 500"},
      {"seriesByTag('name=cpu', 'host=~[ab]$', 'host!=a')",
       "cpu;dc=east;host=b [60000,60000] 10 20 30 40 50"},
      {"seriesByTag('host!=')",  // requires the tag: matches no empty value
       "cpu;dc=east;host=a [60000,60000] 1 2 3 4 5\n"
       "cpu;dc=east;host=b [60000,60000] 10 20 30 40 50\n"
       "cpu;dc=west;host=c [60000,60000] 100 200 300 400 500\n"
       "mem;dc=east;host=a [60000,60000] 7 7 7 7 7"},
      {"seriesByTag('dc!=east')", "error: at least one tag expression must require"},
      {"seriesByTag('host=')", "error: at least one tag expression must require"},
      {"seriesByTag('host=~.*')", "error: at least one tag expression must require"},
      {"seriesByTag('host')", "error: invalid tag expression 'host'"},
      {"seriesByTag('=x')", "error: invalid tag expression '=x'"},
      {"seriesByTag('host=~(')", "error: invalid regex '('"},
      {"seriesByTag()", "error: is required"},
  });
  MemoryFetcher fetcher = MakeFetcher();
  auto got = EvalForTest("seriesByTag('name=cpu','dc=east')", fetcher, kRange);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(fetcher.calls().size(), 1u);
  EXPECT_EQ(fetcher.calls()[0].path_expression, "seriesByTag('name=cpu', 'dc=east')");
  EXPECT_EQ(fetcher.calls()[0].filters, 2u);
  EXPECT_EQ((*got)[0].tags, (Tags{{"dc", "east"}, {"host", "a"}, {"name", "cpu"}}));
  EXPECT_EQ((*got)[0].path_expression, "seriesByTag('name=cpu', 'dc=east')");
}

TEST(SpecialTest, SeriesByTagCountsAgainstTheSeriesLimit) {
  MemoryFetcher fetcher = MakeFetcher();
  EvalLimits limits;
  limits.max_series_per_path = 2;
  auto got = EvalForTest("seriesByTag('name=cpu')", fetcher, kRange, limits);
  EXPECT_EQ(got.status().code(), StatusCode::kResourceExhausted);
  limits.max_series_per_path = 10;
  limits.max_points = 12;
  got = EvalForTest("seriesByTag('name=cpu')", fetcher, kRange, limits);
  EXPECT_EQ(got.status().code(), StatusCode::kResourceExhausted);
}

TEST(CombineTest, SpecsAreGraphites) {
  const Registry& r = Registry::Default();
  for (const char* name : {"sumSeries",
                           "sum",
                           "averageSeries",
                           "avg",
                           "minSeries",
                           "maxSeries",
                           "diffSeries",
                           "multiplySeries",
                           "divideSeries",
                           "divideSeriesLists",
                           "stddevSeries",
                           "rangeOfSeries",
                           "percentileOfSeries",
                           "countSeries",
                           "aggregate",
                           "sumSeriesWithWildcards",
                           "averageSeriesWithWildcards",
                           "multiplySeriesWithWildcards",
                           "aggregateWithWildcards",
                           "groupByNode",
                           "groupByNodes",
                           "groupByTags",
                           "group",
                           "asPercent",
                           "pct",
                           "aggregateSeriesLists",
                           "sumSeriesLists",
                           "diffSeriesLists",
                           "multiplySeriesLists"}) {
    const FunctionSpec* spec = r.Find(name);
    ASSERT_NE(spec, nullptr) << name;
    EXPECT_EQ(spec->group, "Combine") << name;
    EXPECT_FALSE(spec->description.empty()) << name;
    EXPECT_FALSE(spec->example.empty()) << name;
  }
  EXPECT_EQ(r.Find("constantLine")->group, "Special");
  EXPECT_EQ(r.Find("seriesByTag")->group, "Special");
  EXPECT_EQ(r.Find("threshold")->group, "Graph");
  const FunctionSpec* by_node = r.Find("groupByNode");
  ASSERT_EQ(by_node->params.size(), 3u);
  EXPECT_EQ(by_node->params[1].name, "nodeNum");
  EXPECT_EQ(by_node->params[2].default_value, "average");
  EXPECT_EQ(ArgTypeName(by_node->params[2].type), "aggOrSeriesFunc");
}

TEST(CombineTest, SeriesListsAggregates) {
  RunCases({
      {"sumSeriesLists(app.web*.cpu, app.web*.req)",
       "sumSeries(app.web1.cpu,app.web1.req) [60000,60000] 3 6 6 12 15\n"
       "sumSeries(app.web2.cpu,app.web2.req) [60000,60000] 10 1 2 43 54"},
      {"aggregateSeriesLists(app.web*.cpu, app.web*.req, 'max')",
       "maxSeries(app.web1.cpu,app.web1.req) [60000,60000] 2 4 6 8 10\n"
       "maxSeries(app.web2.cpu,app.web2.req) [60000,60000] 10 1 2 40 50"},
      {"diffSeriesLists(app.*.cpu, app.*.req)", "error: same length, got 3 and 2"},
  });
}

// The differential test: kernels against testing/reference_combine on random series.

bool SameValue(double got, double want) {
  if (std::isnan(got) || std::isnan(want)) return std::isnan(got) && std::isnan(want);
  if (got == want) return true;
  return std::fabs(got - want) <= 1e-9 * std::max(std::fabs(got), std::fabs(want));
}

void ExpectGrid(const TimeSeries& got, const testing::reference::Grid& want,
                const std::string& what) {
  EXPECT_EQ(got.start, want.start) << what;
  EXPECT_EQ(got.step, want.step) << what;
  ASSERT_EQ(got.values.size(), want.values.size()) << what;
  for (size_t i = 0; i < want.values.size(); ++i) {
    ASSERT_TRUE(SameValue(got.values[i], want.values[i]))
        << what << " at " << i << ": got " << got.values[i] << ", want " << want.values[i];
  }
}

// Random inputs: several steps and starts, gaps, negative values, an all-None series.
MemoryFetcher RandomFetcher(uint32_t seed, int count) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> value(-1000, 1000);
  std::bernoulli_distribution gap(0.25);
  const int64_t steps[] = {10'000, 20'000, 60'000, 30'000};
  MemoryFetcher f;
  for (int k = 0; k < count; ++k) {
    const int64_t step = steps[rng() % 4];
    const int64_t start = step * static_cast<int64_t>(rng() % 7);
    const size_t n = 20 + rng() % 200;
    std::vector<double> values(n);
    for (double& v : values) v = gap(rng) ? kNone : value(rng);
    if (k == 2) std::fill(values.begin(), values.end(), kNone);
    f.Add("r.s" + std::to_string(k) + ".x", start, step, values);
  }
  return f;
}

TEST(CombineDifferentialTest, KernelsMatchTheReference) {
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    MemoryFetcher fetcher = RandomFetcher(seed, 2 + static_cast<int>(seed % 6));
    const TimeRange range{30'000, 3'600'000 + 10'000 * seed};
    auto inputs = EvalForTest("r.*.x", fetcher, range);
    ASSERT_TRUE(inputs.ok()) << inputs.status().ToString();
    const std::string tag = " (seed " + std::to_string(seed) + ")";
    for (const char* func : {"average", "avg_zero", "median", "sum", "min", "max", "diff", "stddev",
                             "count", "range", "multiply", "last"}) {
      for (double xff : {0.0, 0.5}) {
        std::string target =
            "aggregate(r.*.x, '" + std::string(func) + "', " + std::to_string(xff) + ")";
        auto got = EvalForTest(target, fetcher, range);
        ASSERT_TRUE(got.ok()) << target << ": " << got.status().ToString();
        ASSERT_EQ(got->size(), 1u) << target;
        ExpectGrid((*got)[0], testing::reference::Aggregate(*inputs, func, xff), target + tag);
      }
    }
    auto divided = EvalForTest("divideSeries(r.*.x, r.s1.x)", fetcher, range);
    ASSERT_TRUE(divided.ok()) << divided.status().ToString();
    auto want_divided = testing::reference::DivideSeries(*inputs, (*inputs)[1]);
    ASSERT_EQ(divided->size(), want_divided.size());
    for (size_t i = 0; i < want_divided.size(); ++i) {
      ExpectGrid((*divided)[i], want_divided[i], "divideSeries" + tag);
    }
    auto percent = EvalForTest("asPercent(r.*.x)", fetcher, range);
    ASSERT_TRUE(percent.ok()) << percent.status().ToString();
    auto want_percent = testing::reference::AsPercentOfSum(*inputs);
    ASSERT_EQ(percent->size(), want_percent.size());
    for (size_t i = 0; i < want_percent.size(); ++i) {
      ExpectGrid((*percent)[i], want_percent[i], "asPercent" + tag);
    }
    for (double n : {1.0, 25.0, 50.0, 90.0, 99.5, 100.0}) {
      for (bool interpolate : {false, true}) {
        std::string target = "percentileOfSeries(r.*.x, " + std::to_string(n) + ", " +
                             (interpolate ? "true" : "false") + ")";
        auto got = EvalForTest(target, fetcher, range);
        ASSERT_TRUE(got.ok()) << target << ": " << got.status().ToString();
        ExpectGrid((*got)[0], testing::reference::PercentileOfSeries(*inputs, n, interpolate),
                   target + tag);
      }
    }
  }
}

}  // namespace
}  // namespace sluice::expr
