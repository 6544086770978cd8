#include "protocol/json_api.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "common/time.h"
#include "source/memory_source.h"

namespace sluice::protocol {
namespace {

class JsonApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto source = std::make_shared<MemorySource>("test");
    int64_t now = NowMs() / 1000 * 1000;
    for (const char* name : {"upper_25", "upper_50", "cpu.total"}) {
      Series s;
      s.name = name;
      s.tags = Tags{{"City", "Berlin"}, {"host", "web-1"}};
      for (int i = 0; i < 1000; ++i) s.Append(now - (999 - i) * 1000, i % 3 == 0 ? NAN : i);
      source->AddSeries(std::move(s));
    }
    Series paris;
    paris.name = "upper_25";
    paris.tags = Tags{{"City", "Paris"}, {"host", "web-2"}};
    paris.Append(now - 1000, 1);
    source->AddSeries(std::move(paris));
    source->AddAnnotation({now - 5000, now - 2000, "Deploy", "api v2", {"deploys", "prod"}});
    api_ = std::make_unique<JsonApi>(source, ApiOptions{});
  }

  simdjson::dom::element Call(
      Status (JsonApi::*fn)(std::string_view, std::string*, const RequestContext&),
      std::string_view body) {
    out_.clear();
    Status s = ((*api_).*fn)(body, &out_, {});
    EXPECT_TRUE(s.ok()) << s.message();
    simdjson::dom::element e;
    EXPECT_EQ(parser_.parse(out_).get(e), simdjson::SUCCESS) << out_;
    return e;
  }

  std::unique_ptr<JsonApi> api_;
  std::string out_;
  simdjson::dom::parser parser_;
};

TEST_F(JsonApiTest, QueryConsolidatesAndFilters) {
  auto r = Call(&JsonApi::Query, R"j({"maxDataPoints":10,"intervalMs":1000,"targets":[{"target":"(upper_25|upper_50)","refId":"A"}],
    "adhocFilters":[{"key":"City","operator":"=","value":"Berlin"}]})j");
  ASSERT_EQ(r.get_array().size(), 2u);
  for (auto series : r.get_array()) {
    EXPECT_EQ(std::string_view(series["refId"]), "A");
    EXPECT_EQ(std::string_view(series["tags"]["City"]), "Berlin");
    auto points = series["datapoints"].get_array();
    EXPECT_LE(points.size(), 10u);
    int64_t last = INT64_MIN;
    for (auto p : points) {
      int64_t t = int64_t(p.at(1));
      EXPECT_GT(t, last);
      last = t;
    }
  }
}

TEST_F(JsonApiTest, RepeatedNamesGetTagsInTheirDisplayName) {
  auto r = Call(&JsonApi::Query, R"j({"targets":[{"target":"upper_25","refId":"A"}]})j");
  ASSERT_EQ(r.get_array().size(), 2u);
  EXPECT_EQ(std::string_view(r.at(0)["target"]), "upper_25{City=Berlin,host=web-1}");
}

TEST_F(JsonApiTest, ConsolidateByWrapperAndNulls) {
  auto r = Call(&JsonApi::Query,
                R"j({"maxDataPoints":1,"intervalMs":1,"targets":[{"target":"consolidateBy(cpu.total, 'max')"}]})j");
  ASSERT_EQ(r.get_array().size(), 1u);
  EXPECT_EQ(double(r.at(0)["datapoints"].at(0).at(0)), 998);
  auto raw = Call(&JsonApi::Query, R"j({"maxDataPoints":5000,"intervalMs":1,"targets":[{"target":"cpu.total"}]})j");
  EXPECT_TRUE(raw.at(0)["datapoints"].at(0).at(0).is_null());  // NaN is written as null
}

TEST_F(JsonApiTest, TableFormat) {
  auto r = Call(&JsonApi::Query, R"j({"targets":[{"target":"cpu.total","type":"table","refId":"T"}]})j");
  auto t = r.at(0);
  EXPECT_EQ(std::string_view(t["type"]), "table");
  EXPECT_EQ(std::string_view(t["refId"]), "T");
  EXPECT_EQ(std::string_view(t["columns"].at(0)["text"]), "Time");
  EXPECT_EQ(std::string_view(t["columns"].at(0)["type"]), "time");
  for (auto row : t["rows"].get_array()) EXPECT_EQ(row.get_array().size(), t["columns"].get_array().size());
}

TEST_F(JsonApiTest, AnnotationsBothDialects) {
  auto old_style = Call(&JsonApi::Annotations,
                        R"j({"annotation":{"name":"d","datasource":"Simple JSON","query":"prod"}})j");
  ASSERT_EQ(old_style.get_array().size(), 1u);
  EXPECT_EQ(std::string_view(old_style.at(0)["title"]), "Deploy");
  EXPECT_EQ(std::string_view(old_style.at(0)["annotation"]["name"]), "d");
  auto new_style = Call(&JsonApi::Query, R"j({"targets":[{"refId":"Anno","target":"upper_25"}],
      "scopedVars":{"__annotation":{"text":"d"}}})j");
  ASSERT_EQ(new_style.get_array().size(), 1u);
  auto table = new_style.at(0);
  EXPECT_EQ(std::string_view(table["refId"]), "Anno");
  EXPECT_EQ(table["rows"].get_array().size(), 1u);  // "upper_25" names a series: no filter
  EXPECT_EQ(std::string_view(table["rows"].at(0).at(4)), "deploys,prod");
}

TEST_F(JsonApiTest, SearchMetricsVariableTags) {
  EXPECT_EQ(Call(&JsonApi::Search, "").get_array().size(), 3u);
  EXPECT_EQ(Call(&JsonApi::Search, R"j({"target":"UPP"})j").get_array().size(), 2u);
  EXPECT_EQ(Call(&JsonApi::Search, R"j({"target":"cpu\\.total"})j").get_array().size(), 1u);
  EXPECT_EQ(Call(&JsonApi::Search, R"j({"target":"tag_values(City)"})j").get_array().size(), 2u);
  auto metrics = Call(&JsonApi::Metrics, "{}");
  EXPECT_EQ(std::string_view(metrics.at(0)["payloads"].at(0)["name"]), "consolidateBy");
  EXPECT_EQ(metrics.get_array().size(), 3u);
  EXPECT_EQ(Call(&JsonApi::Metrics, R"j({"metric":"upp"})j").get_array().size(), 2u);  // typed text
  EXPECT_EQ(Call(&JsonApi::Metrics, R"j({"metric":"upper_25"})j").get_array().size(), 3u);  // chosen
  EXPECT_EQ(Call(&JsonApi::Metrics, R"j({"metric":"nope","payload":{}})j").get_array().size(), 3u);
  EXPECT_EQ(Call(&JsonApi::MetricPayloadOptions, R"j({"name":"format"})j").get_array().size(), 2u);
  EXPECT_EQ(Call(&JsonApi::MetricPayloadOptions, R"j({"name":"zzz"})j").get_array().size(), 0u);
  auto vars = Call(&JsonApi::Variable, R"j({"payload":{"target":"upper_*"}})j");
  ASSERT_EQ(vars.get_array().size(), 2u);
  EXPECT_EQ(std::string_view(vars.at(0)["__value"]), "upper_25");
  EXPECT_EQ(Call(&JsonApi::Variable, R"j({"payload":{"target":"prod"}})j").get_array().size(), 0u);
  auto keys = Call(&JsonApi::TagKeys, "");
  EXPECT_EQ(std::string_view(keys.at(0)["text"]), "City");
  auto values = Call(&JsonApi::TagValues,
                     R"j({"key":"City","filters":[{"key":"host","operator":"=","value":"web-2"}]})j");
  ASSERT_EQ(values.get_array().size(), 1u);
  EXPECT_EQ(std::string_view(values.at(0)["text"]), "Paris");
}

TEST_F(JsonApiTest, FramesWhenConfigured) {
  ApiOptions options;
  options.frames = true;
  auto source = std::make_shared<MemorySource>("frames");
  Series s;
  s.name = "m";
  s.tags = Tags{{"k", "v"}};
  s.Append(1000, 1.5);
  s.Append(2000, NAN);
  source->AddSeries(s);
  api_ = std::make_unique<JsonApi>(source, options);
  Call(&JsonApi::Query, R"j({"range":{"from":"1970-01-01T00:00:00Z","to":"1970-01-01T00:00:03Z"},
      "maxDataPoints":100,"intervalMs":1,"targets":[{"target":"m","refId":"A"}]})j");
  EXPECT_EQ(out_, R"([{"refId":"A","name":"m","fields":[{"name":"time","type":"time","values":)"
                  R"([1000,2000]},{"name":"value","type":"number","values":[1.5,null],"labels":)"
                  R"({"k":"v"},"config":{"displayNameFromDS":"m"}}]}])");
}

TEST(FilterNamesTest, SubstringPatternAndLimit) {
  std::vector<std::string> names = {"a.x", "a.y", "b.x"};
  EXPECT_EQ(FilterNames("", names, 2), (std::vector<std::string>{"a.x", "a.y"}));
  EXPECT_EQ(FilterNames("A.", names, 10), (std::vector<std::string>{"a.x", "a.y"}));
  EXPECT_EQ(FilterNames("*.x", names, 10), (std::vector<std::string>{"a.x", "b.x"}));
  EXPECT_EQ(FilterNames("(a.x|b.x", names, 10), std::vector<std::string>{});  // invalid: literal
}

}  // namespace
}  // namespace sluice::protocol
