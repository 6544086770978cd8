#include "common/time.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(TimeTest, ParsesGrafanaTimestamps) {
  struct Case {
    const char* text;
    int64_t ms;
  } cases[] = {
      {"2015-12-22T03:16:00.000Z", 1450754160000},
      {"2015-12-22T03:16:00Z", 1450754160000},
      {"2016-10-31T06:33:44Z", 1477895624000},
      {"2016-10-31T08:33:44+02:00", 1477895624000},
      {"2016-10-31T08:33:44+0200", 1477895624000},
      {"2016-10-31T01:33:44-05:00", 1477895624000},
      {"2016-10-31T06:33:44.123456Z", 1477895624123},
      {"2016-10-31T06:33:44.5Z", 1477895624500},
      {"1970-01-01", 0},
      {"2024-02-29", 1709164800000},
      {"1450754160000", 1450754160000},
  };
  for (const auto& c : cases) {
    auto r = ParseTimestampMs(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.status().message();
    EXPECT_EQ(*r, c.ms) << c.text;
  }
}

TEST(TimeTest, RejectsMalformedTimestampsWithTheText) {
  for (const char* bad : {"", "now-6h", "2015-13-01T00:00:00Z", "2015-12-22T25:00:00Z",
                          "2015-12-22T03:16:00.Z", "2015-12-22X03:16", "2015-12-22T03:16:00Zjunk",
                          "2021-02-31", "2021-02-29", "2021-04-31", "9223372036854775807",
                          "10000000000000001"}) {
    auto r = ParseTimestampMs(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok() && *bad) {
      EXPECT_NE(r.status().message().find(bad), std::string::npos);
    }
  }
}

TEST(TimeTest, FormatsRoundTrip) {
  EXPECT_EQ(FormatTimestampMs(1450754160123), "2015-12-22T03:16:00.123Z");
  EXPECT_EQ(*ParseTimestampMs(FormatTimestampMs(-1)), -1);
}

TEST(TimeTest, ParsesDurations) {
  EXPECT_EQ(*ParseDurationMs("20ms"), 20);
  EXPECT_EQ(*ParseDurationMs("30s"), 30'000);
  EXPECT_EQ(*ParseDurationMs("1m"), 60'000);
  EXPECT_EQ(*ParseDurationMs("5min"), 300'000);
  EXPECT_EQ(*ParseDurationMs("1h"), 3'600'000);
  EXPECT_EQ(*ParseDurationMs("1d"), 86'400'000);
  EXPECT_EQ(*ParseDurationMs("1w"), 604'800'000);
  EXPECT_EQ(*ParseDurationMs("1.5h"), 5'400'000);
  EXPECT_EQ(*ParseDurationMs("10"), 10'000);
  EXPECT_FALSE(ParseDurationMs("").ok());
  EXPECT_FALSE(ParseDurationMs("5 parsecs").ok());
  EXPECT_FALSE(ParseDurationMs("0s").ok());
}

}  // namespace
}  // namespace sluice
