#include "series/consolidate.h"

#include <cmath>

#include <gtest/gtest.h>

namespace sluice {
namespace {

Series Ramp(int64_t start, int64_t step, int n) {
  Series s;
  for (int i = 0; i < n; ++i) s.Append(start + i * step, i);
  return s;
}

TEST(ConsolidateTest, NeverMoreThanMaxPoints) {
  for (int64_t max_points : {1, 2, 3, 7, 10, 99, 500, 999}) {
    for (int64_t from : {0LL, 1234LL, 1450754160123LL}) {
      Series s = Ramp(from, 1000, 1000);
      ConsolidateInPlace(&s, from, from + 999'000, max_points, 1, ConsolidationFn::kAverage);
      EXPECT_LE(static_cast<int64_t>(s.size()), max_points) << max_points << " " << from;
      EXPECT_GE(s.size(), 1u);
      for (size_t i = 1; i < s.size(); ++i) EXPECT_LT(s.times_ms[i - 1], s.times_ms[i]);
    }
  }
}

TEST(ConsolidateTest, BucketsAreAtLeastTheInterval) {
  Series s = Ramp(0, 1000, 1000);
  int64_t width = ConsolidateInPlace(&s, 0, 999'000, 500, 30'000, ConsolidationFn::kAverage);
  EXPECT_GE(width, 30'000);
  EXPECT_EQ(width, 30'000);
  EXPECT_EQ(s.size(), 34u);  // ceil(1000 s / 30 s)
  EXPECT_EQ(s.times_ms[1] - s.times_ms[0], 30'000);
}

TEST(ConsolidateTest, WidthsAreNice) {
  EXPECT_EQ(NiceWidthMs(7'542'801), 10'800'000);
  EXPECT_EQ(NiceWidthMs(11'000), 15'000);
  EXPECT_EQ(NiceWidthMs(1), 1);
  EXPECT_EQ(NiceWidthMs(86'400'001), 2 * 86'400'000);
  // Six hours into 500 points: 43.2 s rounds to 1 min.
  EXPECT_EQ(BucketWidthMs(0, 21'600'000, 500, 30'000), 60'000);
}

TEST(ConsolidateTest, FitsAreUntouched) {
  Series s = Ramp(0, 1000, 10);
  EXPECT_EQ(ConsolidateInPlace(&s, 0, 9000, 10, 1000, ConsolidationFn::kAverage), 0);
  EXPECT_EQ(s.size(), 10u);
}

TEST(ConsolidateTest, DataFinerThanTheIntervalIsBucketedEvenWhenItFits) {
  Series s = Ramp(0, 10'000, 100);  // 10 s data, 100 points
  EXPECT_EQ(ConsolidateInPlace(&s, 0, 990'000, 1000, 60'000, ConsolidationFn::kAverage), 60'000);
  EXPECT_EQ(s.size(), 17u);
}

TEST(ConsolidateTest, Functions) {
  auto run = [](ConsolidationFn fn) {
    Series s;
    s.Append(0, 1);
    s.Append(1, NAN);
    s.Append(2, 5);
    s.Append(3, 3);
    s.Append(10, NAN);
    ConsolidateBuckets(&s, 10, fn);
    return s;
  };
  EXPECT_DOUBLE_EQ(run(ConsolidationFn::kAverage).values[0], 3);
  EXPECT_DOUBLE_EQ(run(ConsolidationFn::kMin).values[0], 1);
  EXPECT_DOUBLE_EQ(run(ConsolidationFn::kMax).values[0], 5);
  EXPECT_DOUBLE_EQ(run(ConsolidationFn::kSum).values[0], 9);
  EXPECT_DOUBLE_EQ(run(ConsolidationFn::kLast).values[0], 3);
  EXPECT_DOUBLE_EQ(run(ConsolidationFn::kFirst).values[0], 1);
  EXPECT_DOUBLE_EQ(run(ConsolidationFn::kCount).values[0], 3);
  Series s = run(ConsolidationFn::kAverage);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_TRUE(std::isnan(s.values[1]));  // an all-null bucket stays null
  EXPECT_EQ(s.times_ms[1], 10);
}

TEST(ConsolidateTest, AlignedToEpochSoRefreshesAgree) {
  Series a = Ramp(0, 1000, 3600), b = Ramp(0, 1000, 3600);
  ConsolidateInPlace(&a, 0, 3'599'000, 100, 1, ConsolidationFn::kAverage);
  ConsolidateInPlace(&b, 5000, 3'599'000, 100, 1, ConsolidationFn::kAverage);
  EXPECT_EQ(a.times_ms[1], b.times_ms[1]);
  for (int64_t t : a.times_ms) EXPECT_EQ(t % (a.times_ms[1] - a.times_ms[0]), 0);
}

TEST(ConsolidateTest, NegativeTimesAndNames) {
  Series s = Ramp(-10'000, 1000, 20);
  ConsolidateBuckets(&s, 5000, ConsolidationFn::kMax);
  EXPECT_EQ(s.times_ms.front(), -10'000);
  EXPECT_EQ(s.size(), 4u);
  EXPECT_EQ(ParseConsolidationFn("average"), ConsolidationFn::kAverage);
  EXPECT_EQ(ParseConsolidationFn("nope"), std::nullopt);
  EXPECT_EQ(ConsolidationFnName(ConsolidationFn::kLast), "last");
}

}  // namespace
}  // namespace sluice
