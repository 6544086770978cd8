#include "sql/csv_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "sql/shape.h"

namespace sluice::sql {
namespace {

constexpr int64_t kT0 = 1'714'564'800'000;  // 2024-05-01T12:00:00Z

SourceConfig Config(std::string name = "power") {
  SourceConfig c;
  c.name = std::move(name);
  c.kind = "csv";
  c.path = "meter.csv";
  return c;
}

// "name{k=v}: t:v ..." with times in seconds after kT0.
std::vector<std::string> Dump(const std::vector<Series>& series) {
  std::vector<std::string> out;
  for (const auto& s : series) {
    std::string line = s.name + "{";
    bool first = true;
    for (const auto& [k, v] : s.tags.pairs()) {
      line += (first ? "" : ",") + k + "=" + v;
      first = false;
    }
    line += "}:";
    for (size_t i = 0; i < s.size(); ++i) {
      line += fmt::format(" {}:{}", (s.times_ms[i] - kT0) / 1000,
                          std::isnan(s.values[i]) ? "null" : FormatNumber(s.values[i]));
    }
    out.push_back(line);
  }
  return out;
}

std::vector<std::string> ParseOk(std::string_view text, const SourceConfig& config = Config()) {
  std::vector<Series> series;
  Status s = CsvSource::Parse(text, "meter.csv", config, &series);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return Dump(series);
}

std::string ParseError(std::string_view text, const SourceConfig& config = Config()) {
  std::vector<Series> series;
  Status s = CsvSource::Parse(text, "meter.csv", config, &series);
  EXPECT_FALSE(s.ok()) << text;
  return s.message();
}

TEST(CsvParse, ValueColumnsAndLabels) {
  EXPECT_EQ(ParseOk("time,meter,kwh,volts\n"
                    "2024-05-01T12:00:00Z,north,1.5,229.8\n"
                    "2024-05-01T12:00:00Z,south,2.25,231\n"
                    "2024-05-01T12:01:00Z,north,,230\n"),
            (std::vector<std::string>{"power.kwh{meter=north}: 0:1.5 60:null",
                                      "power.volts{meter=north}: 0:229.8 60:230",
                                      "power.kwh{meter=south}: 0:2.25",
                                      "power.volts{meter=south}: 0:231"}));
}

TEST(CsvParse, EveryTimeForm) {
  EXPECT_EQ(ParseOk("time,v\n1714564800,1\n1714564860000,2\n2024-05-01 12:02:00,3\n"),
            std::vector<std::string>{"power.v{}: 0:1 60:2 120:3"});
}

TEST(CsvParse, NamesAndLabelColumns) {
  SourceConfig c = Config();
  c.name_prefix = "";
  c.label_columns = {"id"};
  c.time_column = "ts";
  EXPECT_EQ(ParseOk("ts,id,v\n1714564800,7,1\n1714564800,8,2\n", c),
            (std::vector<std::string>{"v{id=7}: 0:1", "v{id=8}: 0:2"}));
  c.name_prefix = "plant.a";
  EXPECT_EQ(ParseOk("TS,id,v\n1714564800,7,1\n", c),
            std::vector<std::string>{"plant.a.v{id=7}: 0:1"});
}

TEST(CsvParse, Rfc4180Quoting) {
  // Quoted commas, doubled quotes, a line break inside quotes, CRLF, a BOM and blank lines.
  std::string text =
      "\xEF\xBB\xBF" "time,\"site, name\",v\r\n"
      "\r\n"
      "1714564800,\"Plant \"\"A\"\", north\",1\r\n"
      "1714564860,\"two\nlines\",2\r\n"
      "\n"
      "1714564920,plain,\"3\"";
  EXPECT_EQ(ParseOk(text), (std::vector<std::string>{"power.v{site, name=Plant \"A\", north}: 0:1",
                                                     "power.v{site, name=two\nlines}: 60:2",
                                                     "power.v{site, name=plain}: 120:3"}));
}

TEST(CsvParse, ValuesAreData) {
  // What would be SQL injection elsewhere is just a label value here.
  EXPECT_EQ(ParseOk("time,who,v\n1714564800,\"x'); DROP TABLE t; --\",1\n"),
            std::vector<std::string>{"power.v{who=x'); DROP TABLE t; --}: 0:1"});
}

TEST(CsvParse, ErrorsNameFileLineAndColumn) {
  struct Case {
    std::string text;
    const char* message;
  };
  SourceConfig labels = Config();
  labels.label_columns = {"nope"};
  const Case cases[] = {
      {"time,a,b\n1714564800,1,2\n1714564860,1\n", "meter.csv:3: 2 fields, but the header has 3"},
      {"time,a,v\n1714564800,\"x\ny\",1\n1714564860,1\n", "meter.csv:4: 2 fields"},
      {"time,a\n1714564800,\"open\n", "meter.csv:2: column 2: unterminated quoted field"},
      {"time,a\n1714564800,\"x\"y\n", "meter.csv:2: column 2: unexpected character after"},
      {"time,a\nsoon,1\n", "meter.csv:2: column 1 (time): \"soon\" is not a time"},
      {"time,a\n,1\n", "meter.csv:2: column 1 (time): the time is empty"},
      {"time,kwh\n1714564800,1\n1714564860,1,5\n", "meter.csv:3: 3 fields"},
      {"time,kwh\n1714564800,1\n1714564860,\"1,5\"\n",
       "meter.csv:3: column 2 (kwh): \"1,5\" is not a number"},
      {"when,a\n1,2\n", "meter.csv:1: no column named \"time\" in the header (when, a)"},
      {"time,a,a\n", "meter.csv:1: column 3: \"a\" appears twice"},
      {"", "meter.csv: the file is empty"},
      {"time,name\n1714564800,x\n", "meter.csv:1: no value column"},
  };
  for (const auto& c : cases) {
    std::string message = ParseError(c.text);
    EXPECT_NE(message.find(c.message), std::string::npos) << c.text << " -> " << message;
  }
  EXPECT_NE(ParseError("time,a\n", labels).find("label column \"nope\" is not in the header"),
            std::string::npos);
}

class CsvSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-csv-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& text) {
    std::string path = dir_ + "/meter.csv";
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::string dir_;
};

TEST_F(CsvSourceTest, ServesTheFileAsSeries) {
  SourceConfig c = Config();
  c.path = Write("time,meter,kwh\n1714564800,north,1\n1714564800,\"it's; --\",2\n");
  CsvSource source(c);
  EXPECT_TRUE(source.MayBlock());
  std::vector<std::string> names;
  ASSERT_TRUE(source.ListNames(&names).ok());
  EXPECT_EQ(names, (std::vector<std::string>{"power.kwh", "power.kwh"}));
  std::vector<std::string> keys, values;
  ASSERT_TRUE(source.TagKeys({}, &keys).ok());
  EXPECT_EQ(keys, std::vector<std::string>{"meter"});
  ASSERT_TRUE(source.TagValues("meter", {}, &values).ok());
  EXPECT_EQ(values, (std::vector<std::string>{"it's; --", "north"}));

  NameMatcher matcher = NameMatcher::Compile("power.kwh");
  std::vector<TagFilter> filters = {*TagFilter::Make("meter", FilterOp::kEq, "it's; --")};
  FetchRequest request;
  request.target = "power.kwh";
  request.matcher = &matcher;
  request.filters = &filters;
  request.range = {kT0, kT0};
  FetchResult result;
  ASSERT_TRUE(source.Fetch(request, &result).ok());
  ASSERT_EQ(result.series.size(), 1u);
  EXPECT_EQ(result.series[0].values, std::vector<double>{2});
}

TEST_F(CsvSourceTest, MissingAndMalformedFilesAreErrors) {
  SourceConfig c = Config();
  c.path = dir_ + "/absent.csv";
  CsvSource missing(c);
  std::vector<std::string> names;
  Status s = missing.ListNames(&names);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find(c.path), std::string::npos) << s.message();

  c.path = Write("time,v\n1714564800,1\n1714564860,oops\n");
  CsvSource bad(c);
  s = bad.ListNames(&names);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(c.path + ":3: column 2 (v): \"oops\""), std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace sluice::sql
