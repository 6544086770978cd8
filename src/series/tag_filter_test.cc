#include "series/tag_filter.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

const Tags kBerlin{{"City", "Berlin"}, {"host", "web-1"}, {"cores", "8"}};
const Tags kNoCity{{"host", "db-1"}, {"cores", "16"}};

bool Match(const char* key, const char* op, const char* value, const Tags& tags) {
  auto parsed = ParseFilterOp(op);
  EXPECT_TRUE(parsed.ok()) << op;
  auto f = TagFilter::Make(key, *parsed, value);
  EXPECT_TRUE(f.ok()) << f.status().message();
  return f->Matches(tags);
}

TEST(TagFilterTest, EveryOperator) {
  EXPECT_TRUE(Match("City", "=", "Berlin", kBerlin));
  EXPECT_FALSE(Match("City", "=", "Paris", kBerlin));
  EXPECT_TRUE(Match("City", "!=", "Paris", kBerlin));
  EXPECT_TRUE(Match("City", "=~", "Ber.*", kBerlin));
  EXPECT_FALSE(Match("City", "=~", "Ber", kBerlin));  // anchored
  EXPECT_TRUE(Match("City", "!~", "Par.*", kBerlin));
  EXPECT_TRUE(Match("cores", "<", "10", kBerlin));    // numeric: 8 < 10
  EXPECT_FALSE(Match("cores", "<", "10", kNoCity));   // 16 < 10 is false
  EXPECT_TRUE(Match("cores", ">", "10", kNoCity));
  EXPECT_TRUE(Match("cores", "<=", "8", kBerlin));
  EXPECT_TRUE(Match("cores", ">=", "8", kBerlin));
  EXPECT_TRUE(Match("host", "<", "x", kBerlin));      // strings compare as strings
  EXPECT_TRUE(Match("City", "=|", "Paris|Berlin", kBerlin));
  EXPECT_FALSE(Match("City", "!=|", "Paris|Berlin", kBerlin));
}

TEST(TagFilterTest, MissingKeyReadsAsEmpty) {
  EXPECT_FALSE(Match("City", "=", "Berlin", kNoCity));
  EXPECT_FALSE(Match("City", "=~", "B.*", kNoCity));
  EXPECT_TRUE(Match("City", "!=", "Berlin", kNoCity));
  EXPECT_TRUE(Match("City", "=", "", kNoCity));
}

TEST(TagFilterTest, MultiValueFromValuesArray) {
  auto f = TagFilter::Make("City", FilterOp::kIn, "", {"Tokyo", "Berlin"});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->Matches(kBerlin));
  EXPECT_FALSE(f->Matches(kNoCity));
}

TEST(TagFilterTest, ErrorsNameTheProblem) {
  auto op = ParseFilterOp("<>");
  ASSERT_FALSE(op.ok());
  EXPECT_NE(op.status().message().find("\"<>\""), std::string::npos);
  auto f = TagFilter::Make("City", FilterOp::kRegex, "(");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("City"), std::string::npos);
}

TEST(TagFilterTest, RegexIsLinearTime) {
  // A pattern that is exponential for backtracking engines finishes at once in RE2.
  auto f = TagFilter::Make("host", FilterOp::kRegex, "(a+)+$");
  ASSERT_TRUE(f.ok());
  Tags t{{"host", std::string(50000, 'a') + "!"}};
  EXPECT_FALSE(f->Matches(t));
}

}  // namespace
}  // namespace sluice
