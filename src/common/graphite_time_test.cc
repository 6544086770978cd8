#include "common/graphite_time.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "common/time.h"

namespace sluice {
namespace {

// 2024-03-13T15:47:31Z, a Wednesday. The expected values were produced by graphite-web 1.1.8's
// attime.parseATTime with TIME_ZONE = UTC and the same "now".
constexpr int64_t kNowMs = 1'710'344'851'000;

struct Case {
  const char* text;
  int64_t seconds;
};

TEST(GraphiteTimeTest, ParsesEveryFormAsGraphiteWebDoes) {
  const Case cases[] = {
      {"now", 1710344851},
      {"-6h", 1710323251},
      {"now-1h", 1710341251},
      {"-5min", 1710344551},
      {"1700000000", 1700000000},
      {"12:00_20240101", 1704110400},
      {"20240101", 1704067200},
      {"yesterday", 1710201600},
      {"today", 1710288000},
      {"tomorrow", 1710374400},
      {"noon", 1710331200},
      {"midnight", 1710288000},
      {"teatime", 1710345600},
      {"8am", 1710316800},
      {"8pm", 1710360000},
      {"12pm", 1710288000},  // graphite's arithmetic: (12 + 12) % 24
      {"12am", 1710331200},
      {"monday", 1710115200},
      {"wed", 1710288000},
      {"thursday", 1709769600},
      {"jan1", 1704067200},
      {"march 5", 1709596800},
      {"02/29/24", 1709164800},
      {"1/2/69", 3124310400},
      {"-1d2h", 1710251251},
      {"now+1h", 1710348451},
      {"+1d", 1710431251},
      {"-2w", 1709135251},
      {"-1mon", 1707752851},
      {"-1y", 1678808851},
      {"-30s", 1710344821},
      {"-1h30min", 1710339451},
      {"16:30_yesterday", 1710261000},
      {"noon_tomorrow", 1710417600},
      {"6pm_today", 1710352800},
      {"10:15am", 1710324900},
      {"  NOW ", 1710344851},
      {"-1hours", 1710341251},
      {"19700101", 0},
      {"1234", 1234},
      {"now-", 1710344851},
      {"", 1710344851},
  };
  for (const Case& c : cases) {
    auto t = ParseGraphiteTime(c.text, kNowMs);
    ASSERT_TRUE(t.ok()) << c.text << ": " << t.status().message();
    EXPECT_EQ(*t / 1000, c.seconds) << c.text;
  }
}

TEST(GraphiteTimeTest, NowKeepsItsMilliseconds) {
  auto t = ParseGraphiteTime("-1h", kNowMs + 250);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, kNowMs + 250 - 3'600'000);
}

TEST(GraphiteTimeTest, ErrorsNameTheTextAndThePart) {
  const std::pair<const char*, const char*> cases[] = {
      {"-5m", "unknown unit 'm'"},
      {"xyz", "unknown day reference 'xyz'"},
      {"-1", "unknown unit ''"},
      {"25:00_20240101", "no such time of day"},
      {"20240230", "no such date"},
      {"-1h-30min", "expected a number"},
      {"feb30", "no such date"},
      {"jan", "day of month required"},
      {"99999999999999999999", "out of range"},
      {"-999999999999y", "out of range"},
  };
  for (const auto& [text, why] : cases) {
    auto t = ParseGraphiteTime(text, kNowMs);
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_NE(t.status().message().find(why), std::string::npos) << t.status().message();
    EXPECT_NE(t.status().message().find(text), std::string::npos) << t.status().message();
  }
}

// fuzz/regressions/fuzz_render/now-at-int64-ends: day and offset arithmetic overflowed int64
// (UBSan) for a "now" at the ends of the range; such a now is now an error.
TEST(GraphiteTimeTest, NowOutsideTheTimeRangeIsAnError) {
  for (int64_t now : {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                      kMaxAbsTimeMs + 1, -kMaxAbsTimeMs - 1}) {
    for (const char* text : {"-24h", "-1y", "noon+1d", "yesterday", "now"}) {
      auto t = ParseGraphiteTime(text, now);
      ASSERT_FALSE(t.ok()) << text << " at " << now;
      EXPECT_NE(t.status().message().find("now is out of range"), std::string::npos)
          << t.status().message();
    }
  }
  auto t = ParseGraphiteTime("-1y", kMaxAbsTimeMs);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(*t, kMaxAbsTimeMs - 365 * 86'400'000LL);
}

}  // namespace
}  // namespace sluice
