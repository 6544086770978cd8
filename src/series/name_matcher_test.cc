#include "series/name_matcher.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

const std::vector<std::string_view> kNames = {
    "upper_25", "upper_50", "upper_75", "cpu.total", "cpu.user", "a", "b.c", "bxc",
    "app.web-1.requests", "app.web-2.requests", "app.web-1.latency", "prod.1", "host7"};

std::vector<std::string_view> Select(std::string_view text) {
  std::vector<std::string_view> out;
  for (size_t i : NameMatcher::Compile(text).MatchAll(kNames)) out.push_back(kNames[i]);
  return out;
}

using V = std::vector<std::string_view>;

TEST(NameMatcherTest, ResolvesEveryFormGrafanaSends) {
  struct Case {
    const char* text;
    V want;
  } cases[] = {
      {"upper_25", {"upper_25"}},
      {"cpu.total", {"cpu.total"}},
      {"cpu\\.total", {"cpu.total"}},              // regex-escaped single value
      {"prod\\.1", {"prod.1"}},
      {"(a|b\\.c)", {"a", "b.c"}},                 // multi-value alternation, literal dot
      {"(upper_25|upper_50)", {"upper_25", "upper_50"}},
      {"{upper_25,upper_75}", {"upper_25", "upper_75"}},  // glob format
      {"app.*.requests", {"app.web-1.requests", "app.web-2.requests"}},
      {"app.web-?.latency", {"app.web-1.latency"}},
      {"host[0-9]", {"host7"}},
      {"upper_.*", {"upper_25", "upper_50", "upper_75"}},  // custom All value: regex fallback
      {"upper_(25|75)", {"upper_25", "upper_75"}},
      {"nope", {}},
      {"$host", {}},
  };
  for (const auto& c : cases) EXPECT_EQ(Select(c.text), c.want) << c.text;
}

TEST(NameMatcherTest, GlobStarDoesNotCrossDots) {
  EXPECT_EQ(Select("app.web-1.*"), (V{"app.web-1.requests", "app.web-1.latency"}));
  // As a glob "app.*" matches nothing (every app name has three segments), so the text is tried
  // as the regex a custom "All" value would be.
  EXPECT_EQ(Select("app.*"), (V{"app.web-1.requests", "app.web-2.requests", "app.web-1.latency"}));
  EXPECT_EQ(Select("*"), (V{"upper_25", "upper_50", "upper_75", "a", "bxc", "host7"}));
}

TEST(NameMatcherTest, MalformedPatternsAreLiteralNotErrors) {
  EXPECT_EQ(Select("(unclosed"), V{});
  EXPECT_EQ(Select("[x"), V{});
  EXPECT_EQ(NameMatcher::Compile("(unclosed").kind(), NameMatcher::Kind::kExact);
}

TEST(NameMatcherTest, ExactNamesAreExposedForIndexedLookup) {
  auto m = NameMatcher::Compile("(a|b\\.c)");
  EXPECT_EQ(m.kind(), NameMatcher::Kind::kExact);
  EXPECT_EQ(m.exact_names(), (std::vector<std::string>{"a", "b.c"}));
}

TEST(NameMatcherTest, GlobToRegex) {
  std::string re;
  ASSERT_TRUE(NameMatcher::GlobToRegex("a.{b,c}*[0-9]?", &re));
  EXPECT_EQ(re, "a\\.(?:b|c)[^.]*[0-9][^.]");
  EXPECT_FALSE(NameMatcher::GlobToRegex("a{b", &re));
  EXPECT_FALSE(NameMatcher::GlobToRegex("a}b", &re));
}

}  // namespace
}  // namespace sluice
