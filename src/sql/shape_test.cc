#include "sql/shape.h"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>

namespace sluice::sql {
namespace {

constexpr int64_t kT0 = 1'714'564'800'000;  // 2024-05-01T12:00:00Z

ResultColumn Numbers(std::string name, std::vector<std::optional<double>> values,
                     ColumnKind kind = ColumnKind::kNumber) {
  ResultColumn c;
  c.name = std::move(name);
  c.kind = kind;
  for (auto v : values) {
    c.numbers.push_back(v.value_or(0));
    c.nulls.push_back(v ? 0 : 1);
  }
  return c;
}

ResultColumn Times(std::string name, std::vector<std::optional<double>> ms) {
  return Numbers(std::move(name), std::move(ms), ColumnKind::kTimestamp);
}

ResultColumn Texts(std::string name, std::vector<std::optional<std::string>> values) {
  ResultColumn c;
  c.name = std::move(name);
  c.kind = ColumnKind::kText;
  for (auto& v : values) {
    c.texts.push_back(v.value_or(""));
    c.nulls.push_back(v ? 0 : 1);
  }
  return c;
}

ResultSet Rows(std::vector<ResultColumn> columns) {
  ResultSet rs;
  rs.rows = columns.empty() ? 0 : columns[0].nulls.size();
  rs.columns = std::move(columns);
  return rs;
}

// "name{k=v}: t:v t:null ..." with times relative to kT0 in seconds.
std::string Dump(const Series& s) {
  std::string out = s.name + "{";
  bool first = true;
  for (const auto& [k, v] : s.tags.pairs()) {
    out += (first ? "" : ",") + k + "=" + v;
    first = false;
  }
  out += "}:";
  for (size_t i = 0; i < s.size(); ++i) {
    out += fmt::format(" {}:{}", (s.times_ms[i] - kT0) / 1000,
                       std::isnan(s.values[i]) ? std::string("null") : FormatNumber(s.values[i]));
  }
  return out;
}

std::vector<std::string> Shape(const ResultSet& rs, TimeRange range = {INT64_MIN, INT64_MAX}) {
  std::vector<Series> series;
  SeriesShape shape;
  shape.default_name = "target";
  shape.range = range;
  Status s = ShapeSeries(rs, shape, &series);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::vector<std::string> out;
  for (const auto& x : series) out.push_back(Dump(x));
  return out;
}

TEST(EpochToMs, MagnitudeRule) {
  EXPECT_EQ(EpochToMs(1'714'564'800), kT0);                 // seconds
  EXPECT_EQ(EpochToMs(1'714'564'800.25), kT0 + 250);        // fractional seconds
  EXPECT_EQ(EpochToMs(1'714'564'800.001), kT0 + 1);         // no 0.999... truncation
  EXPECT_EQ(EpochToMs(1'714'564'800'000), kT0);             // milliseconds
  EXPECT_EQ(EpochToMs(1'714'564'800'000'000), kT0);         // microseconds
  EXPECT_EQ(EpochToMs(1'714'564'800'000'000'000.0), kT0);   // nanoseconds
  EXPECT_EQ(EpochToMs(0), 0);
  EXPECT_EQ(EpochToMs(-86400), -86'400'000);                // seconds before 1970
  EXPECT_EQ(EpochToMs(99'999'999'999), 99'999'999'999'000);  // the largest seconds value
  EXPECT_EQ(EpochToMs(100'000'000'000), 100'000'000'000);    // the smallest milliseconds value
}

TEST(ParseTimeText, Forms) {
  EXPECT_EQ(*ParseTimeText("2024-05-01T12:00:00Z"), kT0);
  EXPECT_EQ(*ParseTimeText("2024-05-01 12:00:00.250"), kT0 + 250);
  EXPECT_EQ(*ParseTimeText(" 2024-05-01T14:00:00+02:00 "), kT0);
  EXPECT_EQ(*ParseTimeText("2024-05-01"), kT0 - 12 * 3'600'000);
  EXPECT_EQ(*ParseTimeText("1714564800"), kT0);
  EXPECT_EQ(*ParseTimeText("1714564800000"), kT0);
  EXPECT_EQ(*ParseTimeText("1714564800.5"), kT0 + 500);
  auto bad = ParseTimeText("yesterday");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("\"yesterday\""), std::string::npos);
}

TEST(FormatNumber, IntegersAndFractions) {
  EXPECT_EQ(FormatNumber(42), "42");
  EXPECT_EQ(FormatNumber(-3), "-3");
  EXPECT_EQ(FormatNumber(2.5), "2.5");
  EXPECT_EQ(FormatNumber(0.1), "0.1");
}

TEST(ShapeSeries, OneSeriesFromEveryTimeForm) {
  const std::vector<ResultColumn> time_columns = {
      Times("t", {kT0, kT0 + 60'000}),
      Numbers("time", {kT0 / 1000, kT0 / 1000 + 60}),
      Numbers("time", {kT0, kT0 + 60'000}),
      Texts("time", {"2024-05-01T12:00:00Z", "2024-05-01 12:01:00"}),
      Texts("TIME", {"1714564800", "1714564860000"}),
  };
  for (const auto& time : time_columns) {
    auto rs = Rows({time, Numbers("value", {1.5, 2})});
    EXPECT_EQ(Shape(rs), std::vector<std::string>{"target{}: 0:1.5 60:2"}) << time.name;
  }
}

TEST(ShapeSeries, NamedTimeColumnWinsOverFirstTimestamp) {
  auto rs = Rows({Times("created", {kT0 - 1000}), Numbers("time", {kT0 / 1000}),
                  Numbers("v", {1})});
  EXPECT_EQ(Shape(rs), std::vector<std::string>{"target{}: 0:1"});
}

TEST(ShapeSeries, NullsAreNullPointsAndNullTimesAreSkipped) {
  auto rs = Rows({Times("time", {kT0, std::nullopt, kT0 + 2000}),
                  Numbers("value", {std::nullopt, 5, 7})});
  EXPECT_EQ(Shape(rs), std::vector<std::string>{"target{}: 0:null 2:7"});
}

TEST(ShapeSeries, SortsAndKeepsTheLastOfEqualTimes) {
  auto rs = Rows({Times("time", {kT0 + 3000, kT0, kT0 + 3000, kT0 + 1000}),
                  Numbers("value", {1, 2, 3, 4})});
  EXPECT_EQ(Shape(rs), std::vector<std::string>{"target{}: 0:2 1:4 3:3"});
}

TEST(ShapeSeries, ClipsToTheRange) {
  auto rs = Rows({Times("time", {kT0 - 1000, kT0, kT0 + 1000, kT0 + 2000}),
                  Numbers("value", {1, 2, 3, 4})});
  EXPECT_EQ(Shape(rs, {kT0, kT0 + 1000}), std::vector<std::string>{"target{}: 0:2 1:3"});
}

TEST(ShapeSeries, TextColumnsAreLabels) {
  auto rs = Rows({Times("time", {kT0, kT0, kT0 + 1000, kT0 + 1000}),
                  Texts("region", {"eu", "us", "eu", std::nullopt}),
                  Texts("shop", {"a", "a", "a", "a"}), Numbers("value", {1, 2, 3, 4})});
  EXPECT_EQ(Shape(rs), (std::vector<std::string>{"target{region=eu,shop=a}: 0:1 1:3",
                                                 "target{region=us,shop=a}: 0:2",
                                                 "target{shop=a}: 1:4"}));
}

TEST(ShapeSeries, SeveralValueColumnsAreNamedByColumn) {
  auto rs = Rows({Times("time", {kT0, kT0 + 1000}), Texts("device", {"d1", "d2"}),
                  Numbers("celsius", {20, 21}), Numbers("humidity", {40, 41})});
  EXPECT_EQ(Shape(rs), (std::vector<std::string>{
                           "celsius{device=d1}: 0:20", "humidity{device=d1}: 0:40",
                           "celsius{device=d2}: 1:21", "humidity{device=d2}: 1:41"}));
}

TEST(ShapeSeries, MetricColumnNamesTheSeries) {
  auto rs = Rows({Times("time", {kT0, kT0}), Texts("metric", {"eu", "us"}),
                  Numbers("value", {1, 2})});
  EXPECT_EQ(Shape(rs), (std::vector<std::string>{"eu{}: 0:1", "us{}: 0:2"}));
  rs = Rows({Times("time", {kT0}), Texts("Metric", {"eu"}), Numbers("min", {1}),
             Numbers("max", {2})});
  EXPECT_EQ(Shape(rs), (std::vector<std::string>{"eu min{}: 0:1", "eu max{}: 0:2"}));
}

TEST(ShapeSeries, BooleansAreValues) {
  auto rs = Rows({Times("time", {kT0, kT0 + 1000}),
                  Numbers("up", {1, 0}, ColumnKind::kBool)});
  EXPECT_EQ(Shape(rs), std::vector<std::string>{"target{}: 0:1 1:0"});
}

TEST(ShapeSeries, Errors) {
  std::vector<Series> out;
  auto no_time = Rows({Numbers("value", {1}), Texts("name", {"x"})});
  Status s = ShapeSeries(no_time, {}, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no time column"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("value (number), name (text)"), std::string::npos) << s.message();

  auto no_value = Rows({Times("time", {kT0}), Texts("name", {"x"})});
  s = ShapeSeries(no_value, {}, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no numeric value column"), std::string::npos) << s.message();

  auto bad_time = Rows({Texts("time", {"2024-05-01", "soon"}), Numbers("v", {1, 2})});
  s = ShapeSeries(bad_time, {}, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("column \"time\", row 2"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("\"soon\""), std::string::npos) << s.message();
}

TEST(ShapeTable, TypedColumns) {
  auto rs = Rows({Times("created", {kT0, std::nullopt}), Numbers("time", {kT0 / 1000, 0}),
                  Numbers("amount", {12.5, std::nullopt}),
                  Numbers("paid", {1, 0}, ColumnKind::kBool), Texts("region", {"eu", "us"})});
  Table t;
  ASSERT_TRUE(ShapeTable(rs, "orders", &t).ok());
  EXPECT_EQ(t.name, "orders");
  ASSERT_EQ(t.columns.size(), 5u);
  EXPECT_EQ(t.columns[0].type, ColumnType::kTime);
  EXPECT_EQ(t.columns[1].type, ColumnType::kTime);
  EXPECT_EQ(t.columns[2].type, ColumnType::kNumber);
  EXPECT_EQ(t.columns[3].type, ColumnType::kBoolean);
  EXPECT_EQ(t.columns[4].type, ColumnType::kString);
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0][0].number, static_cast<double>(kT0));
  EXPECT_EQ(t.rows[0][1].number, static_cast<double>(kT0));
  EXPECT_EQ(t.rows[0][2].number, 12.5);
  EXPECT_TRUE(t.rows[0][3].boolean);
  EXPECT_EQ(t.rows[0][4].text, "eu");
  EXPECT_EQ(t.rows[1][0].kind, Cell::Kind::kNull);
  EXPECT_EQ(t.rows[1][2].kind, Cell::Kind::kNull);
  EXPECT_FALSE(t.rows[1][3].boolean);
}

TEST(ShapeTable, TextTimeColumn) {
  Table t;
  ASSERT_TRUE(ShapeTable(Rows({Texts("time", {"2024-05-01T12:00:00Z", std::nullopt})}), "x", &t)
                  .ok());
  EXPECT_EQ(t.columns[0].type, ColumnType::kTime);
  EXPECT_EQ(t.rows[0][0].number, static_cast<double>(kT0));
  EXPECT_EQ(t.rows[1][0].kind, Cell::Kind::kNull);
  ASSERT_TRUE(ShapeTable(Rows({Texts("time", {"2024-05-01T12:00:00Z", "later"})}), "x", &t).ok());
  EXPECT_EQ(t.columns[0].type, ColumnType::kString);
  EXPECT_EQ(t.rows[1][0].text, "later");
}

TEST(ShapeAnnotations, Columns) {
  auto rs = Rows({Times("time", {kT0, std::nullopt, kT0 + 5000}),
                  Times("timeEnd", {kT0 + 60'000, kT0, kT0}),
                  Texts("title", {"deploy", "x", std::nullopt}),
                  Texts("text", {"v1.2", "x", "rollback"}),
                  Texts("tags", {"deploy, web ,", "x", "{prod,\"two words\"}"})});
  std::vector<Annotation> events;
  ASSERT_TRUE(ShapeAnnotations(rs, &events).ok());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].time_ms, kT0);
  EXPECT_EQ(events[0].end_ms, kT0 + 60'000);
  EXPECT_EQ(events[0].title, "deploy");
  EXPECT_EQ(events[0].text, "v1.2");
  EXPECT_EQ(events[0].tags, (std::vector<std::string>{"deploy", "web"}));
  EXPECT_EQ(events[1].end_ms, kT0 + 5000);  // an end before the start is the start
  EXPECT_EQ(events[1].title, "");
  EXPECT_EQ(events[1].tags, (std::vector<std::string>{"prod", "two words"}));
}

TEST(ShapeValues, FirstColumnAsText) {
  std::vector<std::string> values;
  ASSERT_TRUE(ShapeValues(Rows({Texts("region", {"eu", std::nullopt, "us"}), Numbers("n", {1, 2, 3})}),
                          &values)
                  .ok());
  ASSERT_TRUE(ShapeValues(Rows({Numbers("id", {7, 2.5})}), &values).ok());
  EXPECT_EQ(values, (std::vector<std::string>{"eu", "us", "7", "2.5"}));
}

}  // namespace
}  // namespace sluice::sql
