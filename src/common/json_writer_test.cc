#include "common/json_writer.h"

#include <cmath>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <random>

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

TEST(JsonWriterTest, DoublesRoundTripExactly) {
  // The short-decimal fast path and the general path must both read back bit for bit.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> any(-1e6, 1e6);
  std::uniform_int_distribution<int> decimals(0, 9);
  for (int i = 0; i < 200000; ++i) {
    double v = any(rng);
    int k = decimals(rng);
    if (k < 9) v = std::round(v * std::pow(10, k)) / std::pow(10, k);
    std::string s = Dbl(v);
    double back = std::strtod(s.c_str(), nullptr);
    ASSERT_EQ(back, v) << s;
    std::string shortest(32, '\0');
    shortest.resize(std::to_chars(shortest.data(), shortest.data() + 32, v).ptr - shortest.data());
    // Never longer than the shortest form by more than a leading "0" or an exponent rewrite.
    ASSERT_LE(s.size(), shortest.size() + 4) << s << " vs " << shortest;
  }
  EXPECT_EQ(Dbl(0.125), "0.125");
  EXPECT_EQ(Dbl(-21.5), "-21.5");
  EXPECT_EQ(Dbl(0.001), "0.001");
  EXPECT_EQ(Dbl(1234.567), "1234.567");
  EXPECT_EQ(Dbl(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(Dbl(1e-12), "1e-12");
  EXPECT_EQ(Dbl(-0.0), "-0.0");
  EXPECT_EQ(Dbl(123456789012345683968.0), "1.2345678901234568e+20");
  EXPECT_EQ(Dbl(1e15), "1e+15");
}

TEST(JsonWriterTest, BulkDatapointsMatchOneByOne) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> any(-5000, 5000);
  std::vector<double> values;
  std::vector<int64_t> times;
  int64_t t = -200'000'000;
  for (int i = 0; i < 50000; ++i) {
    int kind = i % 7;
    double v = any(rng);
    if (kind < 4) v = std::round(v * std::pow(10, kind)) / std::pow(10, kind);
    if (kind == 5) v = NAN;
    if (i % 1000 == 999) v = 1e-20 * v;
    values.push_back(v);
    times.push_back(t);
    t += (i % 3 == 0) ? 99'999'989 : 10'000;  // crosses the 10^8 boundaries and zero
  }
  times.push_back(10'000'000'000'000'000);
  values.push_back(1);
  std::string one, bulk;
  JsonWriter a(&one), b(&bulk);
  a.BeginArray();
  b.BeginArray();
  for (size_t i = 0; i < values.size(); ++i) a.Datapoint(values[i], times[i]);
  b.Datapoints(values.data(), times.data(), values.size());
  a.EndArray();
  b.EndArray();
  EXPECT_EQ(one, bulk);
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
