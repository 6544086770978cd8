// Tests of the moving-window functions (window.cc) through the real parser, binder and evaluator:
// tables of target -> output (hand-computed from graphite-web 1.1.8's movingWindow), the refetch
// over the extended window, errors, the registry entries, and a differential test of every
// aggregation policy against the slow reference in testing/reference_transform.h.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "expr/kernels.h"
#include "expr/registry.h"
#include "testing/expr_fixtures.h"
#include "testing/reference_transform.h"

namespace sluice::expr {
namespace {

using sluice::testing::DumpSeriesList;
using sluice::testing::EvalForTest;
using sluice::testing::FetchWindow;
using sluice::testing::MemoryFetcher;
namespace ref = sluice::testing::reference;

constexpr int64_t kStep = 60'000;
constexpr double N = kNone;
const TimeRange kRange{0, 10 * kStep};  // (0, 600 s]: ten points at 60 s .. 600 s

// a.b   1 2 None 4 -5 6 None None 9 10 at 60 s .. 600 s; nothing before
// w.x   0 .. 19 at 60 s steps from -540 s, so windows reaching before the request have data
MemoryFetcher& Fixture() {
  static MemoryFetcher* fetcher = [] {
    auto* f = new MemoryFetcher();
    f->Add("a.b", kStep, kStep, {1, 2, N, 4, -5, 6, N, N, 9, 10});
    std::vector<double> ramp;
    for (int i = 0; i < 20; ++i) ramp.push_back(i);
    f->Add("w.x", -9 * kStep, kStep, ramp);
    return f;
  }();
  return *fetcher;
}

struct Case {
  const char* target;
  const char* want;  // DumpSeriesList
};

class WindowTableTest : public ::testing::TestWithParam<Case> {};

TEST_P(WindowTableTest, MatchesGraphite) {
  const Case& c = GetParam();
  auto out = EvalForTest(c.target, Fixture(), kRange);
  ASSERT_TRUE(out.ok()) << c.target << ": " << out.status().message();
  EXPECT_EQ(DumpSeriesList(*out), c.want) << c.target;
}

// Output point t aggregates the window of points before t (not t itself).
const Case kCases[] = {
    {"movingAverage(a.b, 2)",
     "movingAverage(a.b,2) [60000,60000] None 1 1.5 2 4 -0.5 0.5 6 None 9"},
    {"movingAverage(a.b, '2min')",
     "movingAverage(a.b,\"2min\") [60000,60000] None 1 1.5 2 4 -0.5 0.5 6 None 9"},
    {"movingAverage(a.b, 2, 1)",
     "movingAverage(a.b,2) [60000,60000] None None 1.5 None None -0.5 0.5 None None None"},
    {"movingAverage(w.x, 3)", "movingAverage(w.x,3) [60000,60000] 8 9 10 11 12 13 14 15 16 17"},
    {"movingSum(a.b, 3)", "movingSum(a.b,3) [60000,60000] None 1 3 3 6 -1 5 1 6 9"},
    {"movingMin(a.b, 3)", "movingMin(a.b,3) [60000,60000] None 1 1 1 2 -5 -5 -5 6 9"},
    {"movingMax(a.b, 3)", "movingMax(a.b,3) [60000,60000] None 1 2 2 4 4 6 6 6 9"},
    {"movingMedian(a.b, 3)",
     "movingMedian(a.b,3) [60000,60000] None 1 1.5 1.5 3 -0.5 4 0.5 6 9"},
    {"movingMedian(a.b, 3, 0.5)",
     "movingMedian(a.b,3) [60000,60000] None None 1.5 1.5 3 -0.5 4 0.5 None None"},
    {"movingWindow(a.b, 3, 'count')", "movingCount(a.b,3) [60000,60000] None 1 2 2 2 2 3 2 1 1"},
    {"movingWindow(a.b, 3, 'avg')",
     "movingAvg(a.b,3) [60000,60000] None 1 1.5 1.5 3 -0.5 1.6666666666666667 0.5 6 9"},
    {"movingWindow(a.b, 3)",
     "movingAverage(a.b,3) [60000,60000] None 1 1.5 1.5 3 -0.5 1.6666666666666667 0.5 6 9"},
    {"movingWindow(a.b, 3, 'rangeOf')",
     "movingRangeof(a.b,3) [60000,60000] None 0 1 1 2 9 11 11 0 0"},
    {"movingWindow(a.b, 2, 'last')", "movingLast(a.b,2) [60000,60000] None 1 2 2 4 -5 6 6 None 9"},
    // an interval that is not a whole number of steps: 90 s = 1 point, the output starts 90 s
    // after the extended fetch (at 30 s), off the step grid, with one more point
    {"movingSum(a.b, '90s')",
     "movingSum(a.b,\"90s\") [30000,60000] None None 1 2 None 4 -5 6 None None 9"},
    {"movingAverage(a.b, 0)",
     "movingAverage(a.b,0) [60000,60000] None None None None None None None None None None"},
    {"movingAverage(a.b, '30s')",
     "movingAverage(a.b,\"30s\") [30000,60000] None None None None None None None None None None "
     "None"},
    // graphite-web evaluates a negative count too: every window is empty or fails xff
    {"movingMax(a.b, -2)",
     "movingMax(a.b,-2) [60000,60000] None None None None None None None None None None"},
    {"movingAverage(a.b, 20)",
     "movingAverage(a.b,20) [60000,60000] None 1 1.5 1.5 2.3333333333333335 0.5 1.6 1.6 1.6 "
     "2.8333333333333335"},
    {"exponentialMovingAverage(a.b, 2)",
     "exponentialMovingAverage(a.b,2) [60000,60000] 0 0.666667 1.555556 None 3.185185 -2.271605 "
     "3.242798 None None 7.080933 9.026978"},
    {"exponentialMovingAverage(w.x, '2min')",
     "exponentialMovingAverage(w.x,\"2min\") [60000,60000] 8.5 8.524793 8.565706 8.622471 "
     "8.694827 8.782516 8.885284 9.002883 9.135066 9.281594 9.442229"},
    {"movingAverage(scale(w.x, 2), 2)",
     "movingAverage(scale(w.x,2),2) [60000,60000] 17 19 21 23 25 27 29 31 33 35"},
};
INSTANTIATE_TEST_SUITE_P(Graphite, WindowTableTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::to_string(info.index); });

TEST(WindowTest, TagsNamesAndPathExpressions) {
  auto out = EvalForTest("movingWindow(a.b, '5min', 'median', 0.5)", Fixture(), kRange);
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].name, "movingMedian(a.b,\"5min\")");
  EXPECT_EQ((*out)[0].path_expression, "movingMedian(a.b,\"5min\")");
  EXPECT_EQ((*out)[0].tags.Get("movingMedian"), "5min");
  EXPECT_EQ((*out)[0].tags.Get("name"), "a.b");
  out = EvalForTest("exponentialMovingAverage(a.b, 4)", Fixture(), kRange);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].tags.Get("exponentialMovingAverage"), "4");
}

TEST(WindowTest, RefetchesOverTheExtendedWindow) {
  MemoryFetcher f;
  f.Add("a.b", kStep, kStep, {1, 2, 3});
  // An interval needs no steps: one fetch from `from - 5 min`.
  ASSERT_TRUE(EvalForTest("movingAverage(a.b, '5min')", f, kRange).ok());
  ASSERT_EQ(f.calls().size(), 1u);
  EXPECT_EQ(f.calls()[0].range.from_ms, -300'000);
  EXPECT_EQ(f.calls()[0].range.to_ms, kRange.to_ms);

  // A point count takes the steps from the request window first (as graphite-web does); a path
  // then only needs the head before it.
  MemoryFetcher g;
  g.Add("a.b", kStep, kStep, {1, 2, 3});
  ASSERT_TRUE(EvalForTest("movingAverage(a.b, 4)", g, kRange).ok());
  ASSERT_EQ(g.calls().size(), 2u);
  EXPECT_EQ(g.calls()[0].range.from_ms, kRange.from_ms);
  EXPECT_EQ(g.calls()[1].range.from_ms, -240'000);
  EXPECT_EQ(g.calls()[1].range.to_ms, kRange.from_ms);

  // A computed argument is evaluated again over the whole extended window.
  MemoryFetcher h;
  h.Add("a.b", kStep, kStep, {1, 2, 3});
  ASSERT_TRUE(EvalForTest("movingAverage(scale(a.b, 2), 4)", h, kRange).ok());
  ASSERT_EQ(h.calls().size(), 2u);
  EXPECT_EQ(h.calls()[1].range.from_ms, -240'000);
  EXPECT_EQ(h.calls()[1].range.to_ms, kRange.to_ms);

  // The largest step of the list (5 min) sets the preview of a point count (2 x 5 min), while
  // each series' window stays 2 points: m.a is fetched from -9 min, its first output is at 1 min
  // and aggregates the points at -9 and -8 min. graphite-web keeps the extended end, so only the
  // points up to it show (11 of m.a's 18); the same happens here.
  MemoryFetcher k;
  k.Add("m.a", kStep, kStep, {1, 2, 3});
  k.Add("m.b", 5 * kStep, 5 * kStep, {1, 2});
  auto out = EvalForTest("movingSum(m.*, 2)", k, kRange);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(DumpSeriesList(*out),
            "movingSum(m.a,2) [60000,60000] None None None None None None None None None 1 3\n"
            "movingSum(m.b,2) [300000,300000] None 1");
}

TEST(WindowTest, Errors) {
  struct ErrorCase {
    const char* target;
    const char* message;  // a prefix of the error
  };
  const ErrorCase cases[] = {
      {"movingAverage(a.b, 'abc')", "movingAverage: invalid interval 'abc'"},
      {"movingSum(a.b, '5x')", "movingSum: invalid interval '5x': unknown unit 'x' "
       "(expected s, min, h, d, w, mon or y)"},
      {"movingAverage(a.b, 1e12)", "movingAverage: windowSize must be a point count"},
      {"movingAverage(a.b, '100y')", "movingAverage: windowSize '100y' is longer than"},
      {"movingWindow(a.b, 3, 'nope')", "movingWindow: argument 3 (func) must be one of"},
      {"movingAverage(a.b)", "movingAverage: argument 2 (windowSize) is required"},
      {"movingAverage(a.b, a.c)", "movingAverage: argument 2 (windowSize) must be"},
      {"exponentialMovingAverage(a.b, -3)",
       "exponentialMovingAverage: windowSize must not be negative"},
  };
  for (const auto& c : cases) {
    auto out = EvalForTest(c.target, Fixture(), kRange);
    ASSERT_FALSE(out.ok()) << c.target;
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument) << c.target;
    EXPECT_EQ(out.status().message().rfind(c.message, 0), 0u)
        << c.target << ": " << out.status().message();
  }
  EvalLimits limits;
  limits.max_points = 25;  // the request window (10) and the head (up to 30) do not both fit
  auto out = EvalForTest("movingAverage(a.b, 30)", Fixture(), kRange, limits);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
}

TEST(WindowTest, Signatures) {
  const Registry& registry = Registry::Default();
  for (const char* name :
       {"movingAverage", "movingSum", "movingMin", "movingMax", "movingMedian"}) {
    const FunctionSpec* spec = registry.Find(name);
    ASSERT_NE(spec, nullptr) << name;
    EXPECT_EQ(spec->group, "Calculate");
    ASSERT_EQ(spec->params.size(), 3u) << name;
    EXPECT_EQ(spec->params[0].name, "seriesList");
    EXPECT_TRUE(spec->params[0].lazy) << name;
    EXPECT_EQ(spec->params[1].name, "windowSize");
    EXPECT_EQ(spec->params[1].type, ArgType::kIntOrInterval);
    EXPECT_TRUE(spec->params[1].required);
    EXPECT_EQ(spec->params[2].name, "xFilesFactor");
    EXPECT_EQ(spec->params[2].type, ArgType::kFloat);
    EXPECT_NE(spec->example.find(name), std::string::npos);
  }
  const FunctionSpec* window = registry.Find("movingWindow");
  ASSERT_NE(window, nullptr);
  ASSERT_EQ(window->params.size(), 4u);
  EXPECT_EQ(window->params[2].name, "func");
  EXPECT_EQ(window->params[2].type, ArgType::kAggFunc);
  EXPECT_EQ(window->params[2].default_value, "average");
  const FunctionSpec* ema = registry.Find("exponentialMovingAverage");
  ASSERT_NE(ema, nullptr);
  ASSERT_EQ(ema->params.size(), 2u);
  EXPECT_TRUE(ema->params[0].lazy);
}

// Every aggregation policy against the reference's from-scratch windows, on random series (gaps,
// negatives, ties, huge values, infinities) with several steps and unaligned request windows.
class WindowDifferentialTest : public ::testing::TestWithParam<uint64_t> {
 protected:
  struct Input {
    std::string name;
    int64_t start_ms, step_ms;
    std::vector<double> values;
  };

  void SetUp() override {
    std::mt19937_64 rng(GetParam());
    const int64_t steps[] = {10'000, 60'000, 300'000};
    const double gaps[] = {0, 0.15, 0.5};
    const bool mixed = GetParam() % 2 == 0;  // one step for all, or one per series
    const int64_t common = steps[rng() % 3];
    for (const char* name : {"r.a", "r.b"}) {
      const int64_t step = mixed ? steps[rng() % 3] : common;
      const int64_t start = 1'700'000'000'000 - 2000 * step;
      inputs_.push_back(
          {name, start, step, ref::RandomValues(rng, 2200, gaps[rng() % 3], rng() % 2 == 0)});
      fetcher_.Add(name, start, step, inputs_.back().values);
    }
    const int64_t from = 1'700'000'000'000 + static_cast<int64_t>(rng() % 1'000'000) - 500'000;
    range_ = TimeRange{from, from + 300'000 + static_cast<int64_t>(rng() % 3'000'000)};
  }

  // windowSize as written, and the points / preview graphite derives from it for `in`.
  struct Window {
    std::string text;
    bool interval;
    int64_t value;  // points, or interval ms
  };

  void CheckMoving(const std::string& target, const Window& w, const std::string& func,
                   double xff) {
    auto out = EvalForTest(target, fetcher_, range_);
    ASSERT_TRUE(out.ok()) << target << ": " << out.status().message();
    ASSERT_EQ(out->size(), inputs_.size()) << target;
    int64_t max_step = 0;
    for (const Input& in : inputs_) max_step = std::max(max_step, in.step_ms);
    for (size_t i = 0; i < inputs_.size(); ++i) {
      const Input& in = inputs_[i];
      const int64_t preview = w.interval ? w.value : w.value * max_step;
      const int64_t points = w.interval ? preview / in.step_ms : w.value;
      ref::Grid ext;
      ext.step_ms = in.step_ms;
      ext.values = FetchWindow(in.start_ms, in.step_ms, in.values,
                               TimeRange{range_.from_ms - preview, range_.to_ms}, &ext.start_ms);
      const ref::Grid want = func == "ema"
                                 ? ref::ExponentialMovingAverage(
                                       ext, preview, points,
                                       2.0 / (static_cast<double>(w.interval ? w.value / 1000
                                                                             : w.value) +
                                              1))
                                 : ref::MovingWindow(ext, preview, points, func, xff);
      ExpectSame((*out)[i], want, target + " on " + in.name);
    }
  }

  static void ExpectSame(const TimeSeries& got, const ref::Grid& want, const std::string& what) {
    ASSERT_EQ(got.start, want.start_ms) << what;
    ASSERT_EQ(got.step, want.step_ms) << what;
    ASSERT_EQ(got.values.size(), want.values.size()) << what;
    for (size_t j = 0; j < want.values.size(); ++j) {
      const double a = got.values[j], b = want.values[j];
      if (std::isnan(a) || std::isnan(b) || std::isinf(a) || std::isinf(b)) {
        ASSERT_TRUE(std::isnan(a) ? std::isnan(b) : a == b)
            << what << " point " << j << ": " << a << " vs " << b;
        continue;
      }
      ASSERT_LE(std::fabs(a - b), 1e-9 * std::max({1.0, std::fabs(a), std::fabs(b)}))
          << what << " point " << j << ": " << a << " vs " << b;
    }
  }

  MemoryFetcher fetcher_;
  std::vector<Input> inputs_;
  TimeRange range_;
};

TEST_P(WindowDifferentialTest, EveryAggregation) {
  const Window windows[] = {{"1", false, 1},          {"3", false, 3},
                            {"17", false, 17},        {"'5min'", true, 300'000},
                            {"'90s'", true, 90'000},  {"'1h'", true, 3'600'000},
                            {"'1d'", true, 86'400'000}};
  const char* funcs[] = {"average", "sum",   "min",   "max",      "median",   "count",
                         "last",    "diff",  "range", "multiply", "avg_zero", "stddev"};
  for (const Window& w : windows) {
    for (const char* func : funcs) {
      CheckMoving(fmt::format("movingWindow(r.*, {}, '{}')", w.text, func), w, func, 0);
    }
    for (double xff : {0.3, 1.0}) {
      CheckMoving(fmt::format("movingAverage(r.*, {}, {})", w.text, xff), w, "average", xff);
      CheckMoving(fmt::format("movingSum(r.*, {}, {})", w.text, xff), w, "sum", xff);
      CheckMoving(fmt::format("movingMin(r.*, {}, {})", w.text, xff), w, "min", xff);
      CheckMoving(fmt::format("movingMax(r.*, {}, {})", w.text, xff), w, "max", xff);
      CheckMoving(fmt::format("movingMedian(r.*, {}, {})", w.text, xff), w, "median", xff);
    }
    CheckMoving(fmt::format("exponentialMovingAverage(r.*, {})", w.text), w, "ema", 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, WindowDifferentialTest, ::testing::Values(1, 2, 3, 4, 42, 1234));

}  // namespace
}  // namespace sluice::expr
