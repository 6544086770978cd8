#include "common/json_writer.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace sluice {
namespace {

std::string Str(std::string_view in) {
  std::string out;
  AppendJsonString(in, &out);
  return out;
}

std::string Dbl(double v) {
  std::string out;
  AppendJsonDouble(v, &out);
  return out;
}

TEST(JsonWriterTest, NestedStructureGetsCommas) {
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  w.BeginObject();
  w.Key("a");
  w.Int(1);
  w.Key("b");
  w.BeginArray();
  w.Bool(true);
  w.Null();
  w.String("x");
  w.EndArray();
  w.EndObject();
  w.BeginObject();
  w.EndObject();
  w.Datapoint(1.5, 1000);
  w.Raw("{\"r\":1}");
  w.EndArray();
  EXPECT_EQ(out, R"([{"a":1,"b":[true,null,"x"]},{},[1.5,1000],{"r":1}])");
}

TEST(JsonWriterTest, NumbersAreShortestAndNonFiniteIsNull) {
  EXPECT_EQ(Dbl(0.1), "0.1");
  EXPECT_EQ(Dbl(42), "42");
  EXPECT_EQ(Dbl(-3), "-3");
  EXPECT_EQ(Dbl(1e300), "1e+300");
  EXPECT_EQ(Dbl(std::nan("")), "null");
  EXPECT_EQ(Dbl(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(Dbl(-std::numeric_limits<double>::infinity()), "null");
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  w.Datapoint(std::nan(""), 1);
  w.Datapoint(2.25, -5);
  w.EndArray();
  EXPECT_EQ(out, "[[null,1],[2.25,-5]]");
}

TEST(JsonWriterTest, StringsAreEscaped) {
  EXPECT_EQ(Str("plain"), "\"plain\"");
  EXPECT_EQ(Str("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Str("\n\t\r\b\f"), R"("\n\t\r\b\f")");
  EXPECT_EQ(Str(std::string_view("\x01\x1f", 2)), R"("\u0001\u001f")");
  EXPECT_EQ(Str("Zürich 東京 🚀"), "\"Zürich 東京 🚀\"");
}

TEST(JsonWriterTest, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(Str("a\xff" "b"), "\"a\xEF\xBF\xBD" "b\"");
  EXPECT_EQ(Str("\xc3"), "\"\xEF\xBF\xBD\"");          // truncated sequence
  EXPECT_EQ(Str("\xc0\xaf"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");  // overlong
  EXPECT_EQ(Str("\xed\xa0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
}

}  // namespace
}  // namespace sluice
