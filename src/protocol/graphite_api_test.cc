#include "protocol/graphite_api.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <string>
#include <vector>

#include "source/memory_source.h"

namespace sluice::protocol {
namespace {

// A minute boundary (1699999980 = 28333333 minutes), so the one-minute series line up with
// graphite's step grid.
constexpr int64_t kT0 = 1'699'999'980'000;
constexpr int64_t kT0s = kT0 / 1000;

std::string Range(int64_t from_s, int64_t until_s) {
  return "&from=" + std::to_string(from_s) + "&until=" + std::to_string(until_s);
}

class GraphiteApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto source = std::make_shared<MemorySource>("test");
    auto add = [&](const char* name, Tags tags, double base) {
      Series s;
      s.name = name;
      s.tags = std::move(tags);
      for (int i = 0; i < 60; ++i) {
        s.Append(kT0 + i * 60'000, i % 4 == 3 ? NAN : base + i);
      }
      source->AddSeries(std::move(s));
    };
    add("a.b.c", {}, 0);
    add("a.b.d", {}, 100);
    add("a.b", {}, 200);  // a metric and the parent of a.b.c: a leaf and a branch
    add("a.x.y", {}, 300);
    add("cpu", {{"host", "web-1"}, {"dc", "eu"}}, 400);
    add("cpu", {{"host", "web-2"}, {"dc", "us"}}, 500);
    add("weird;x=1", {}, 600);  // graphite's tagged spelling: not a node of the tree
    Series empty;
    empty.name = "nulls.only";
    for (int i = 0; i < 5; ++i) empty.Append(kT0 + i * 60'000, NAN);
    source->AddSeries(std::move(empty));
    source->AddAnnotation({kT0 + 60'000, kT0 + 60'000, "Deploy", "api v2", {"deploys", "prod"}});
    source->AddAnnotation({kT0 + 1'000, kT0 + 1'000, "Backup", "nightly", {"backup"}});
    source->AddAnnotation({kT0 + 3'600'000 * 5, kT0 + 3'600'000 * 5, "Late", "", {"prod"}});
    api_ = std::make_unique<GraphiteApi>(source, ApiOptions{});
  }

  using Endpoint = Status (GraphiteApi::*)(const GraphiteRequest&, GraphiteResponse*);

  // Calls `fn` with a query string and a form body; expects success and returns the parsed JSON.
  simdjson::dom::element Call(Endpoint fn, std::string_view query, std::string_view body = "",
                              std::string_view path = "") {
    GraphiteRequest request;
    request.query = query;
    request.body = body;
    request.content_type = "application/x-www-form-urlencoded";
    request.path = path;
    out_ = GraphiteResponse();
    Status s = ((*api_).*fn)(request, &out_);
    EXPECT_TRUE(s.ok()) << s.message();
    simdjson::dom::element e;
    EXPECT_EQ(parser_.parse(out_.body).get(e), simdjson::SUCCESS) << out_.body;
    return e;
  }

  Status Fail(Endpoint fn, std::string_view query, std::string_view body = "") {
    GraphiteRequest request;
    request.query = query;
    request.body = body;
    out_ = GraphiteResponse();
    Status s = ((*api_).*fn)(request, &out_);
    EXPECT_FALSE(s.ok()) << out_.body;
    return s;
  }

  static std::vector<std::string> Strings(simdjson::dom::element e) {
    std::vector<std::string> out;
    for (auto v : e.get_array()) out.emplace_back(std::string_view(v));
    return out;
  }

  std::unique_ptr<GraphiteApi> api_;
  GraphiteResponse out_;
  simdjson::dom::parser parser_;
};

TEST(FormParamsTest, DecodesRepeatedKeysEscapesAndPlus) {
  FormParams p;
  p.Parse("target=a%2Bb&target=x+y&empty&k=v%zz&&k2=%41");
  p.Parse("target=z");
  EXPECT_EQ(p.GetAll("target"), (std::vector<std::string>{"a+b", "x y", "z"}));
  EXPECT_EQ(*p.Get("target"), "z");  // the last value, as Django's QueryDict
  ASSERT_TRUE(p.Has("empty"));
  EXPECT_EQ(*p.Get("empty"), "");
  EXPECT_EQ(*p.Get("k"), "v%zz");  // a malformed escape stays as written
  EXPECT_EQ(*p.Get("k2"), "A");
  EXPECT_FALSE(p.Has("missing"));
  EXPECT_EQ(FormDecode("a%2Eb+c"), "a.b c");
}

TEST_F(GraphiteApiTest, RenderAnswersTheShapeGrafanaParses) {
  // As Grafana's frontend posts it: a form body, epoch-second times, format=json.
  auto r = Call(&GraphiteApi::Render, "",
                "target=a.b.c" + Range(kT0s, kT0s + 600) + "&format=json&maxDataPoints=500");
  EXPECT_EQ(out_.content_type, "application/json");
  ASSERT_EQ(r.get_array().size(), 1u);
  auto s = r.at(0);
  EXPECT_EQ(std::string_view(s["target"]), "a.b.c");
  EXPECT_EQ(std::string_view(s["tags"]["name"]), "a.b.c");
  auto points = s["datapoints"].get_array();
  // graphite's window: after `from`, up to and including `until`.
  ASSERT_EQ(points.size(), 10u);
  for (size_t i = 0; i < points.size(); ++i) {
    auto p = points.at(i);
    EXPECT_TRUE(p.at(1).is_int64());
    EXPECT_EQ(int64_t(p.at(1)), kT0s + 60 * static_cast<int64_t>(i + 1));
    if ((i + 1) % 4 == 3) {
      EXPECT_TRUE(p.at(0).is_null()) << i;
    } else {
      EXPECT_EQ(double(p.at(0)), static_cast<double>(i + 1)) << i;
    }
  }
}

TEST_F(GraphiteApiTest, RenderMergesQueryStringAndBodyAndKeepsEveryTarget) {
  auto r = Call(&GraphiteApi::Render, "target=a.b.c&format=json",
                "target=sumSeries(cpu)" + Range(kT0s, kT0s + 120));
  ASSERT_EQ(r.get_array().size(), 2u);
  EXPECT_EQ(std::string_view(r.at(0)["target"]), "a.b.c");
  EXPECT_EQ(std::string_view(r.at(1)["target"]), "sumSeries(cpu)");
  // 401 + 501 and 402 + 502
  EXPECT_EQ(double(r.at(1)["datapoints"].at(0).at(0)), 902);
  EXPECT_EQ(double(r.at(1)["datapoints"].at(1).at(0)), 904);
}

TEST_F(GraphiteApiTest, RenderNamesTaggedSeriesAsGraphiteDoes) {
  auto r = Call(&GraphiteApi::Render,
                "target=seriesByTag('name=cpu','dc=eu')" + Range(kT0s, kT0s + 120));
  ASSERT_EQ(r.get_array().size(), 1u);
  EXPECT_EQ(std::string_view(r.at(0)["target"]), "cpu;dc=eu;host=web-1");
  EXPECT_EQ(std::string_view(r.at(0)["tags"]["host"]), "web-1");
  EXPECT_EQ(std::string_view(r.at(0)["tags"]["name"]), "cpu");
}

TEST_F(GraphiteApiTest, RenderSwapsAReversedRange) {
  Call(&GraphiteApi::Render, "target=a.b.c" + Range(kT0s, kT0s + 600));
  const std::string forward = out_.body;
  Call(&GraphiteApi::Render, "target=a.b.c" + Range(kT0s + 600, kT0s));
  EXPECT_EQ(out_.body, forward);
}

TEST_F(GraphiteApiTest, RenderConsolidatesToMaxDataPoints) {
  auto r =
      Call(&GraphiteApi::Render, "target=a.b.d" + Range(kT0s, kT0s + 3600) + "&maxDataPoints=10");
  auto points = r.at(0)["datapoints"].get_array();
  EXPECT_LE(points.size(), 10u);
  EXPECT_GE(points.size(), 9u);
  const int64_t step = int64_t(points.at(1).at(1)) - int64_t(points.at(0).at(1));
  EXPECT_EQ(step, 360);  // ceil(60 / 10) = 6 points a bucket
}

TEST_F(GraphiteApiTest, RenderNoNullPointsDropsNullsAndEmptySeries) {
  auto r = Call(&GraphiteApi::Render,
                "target=a.b.c&target=nulls.only&noNullPoints" + Range(kT0s, kT0s + 600));
  ASSERT_EQ(r.get_array().size(), 1u);
  auto points = r.at(0)["datapoints"].get_array();
  EXPECT_EQ(points.size(), 8u);
  for (auto p : points) EXPECT_FALSE(p.at(0).is_null());
}

TEST_F(GraphiteApiTest, RenderWritesCsvAsGraphiteDoes) {
  GraphiteRequest request;
  const std::string query = "format=csv&target=a.b.c" + Range(kT0s, kT0s + 240);
  request.query = query;
  GraphiteResponse out;
  ASSERT_TRUE(api_->Render(request, &out).ok());
  EXPECT_EQ(out.content_type, "text/csv");
  EXPECT_EQ(out.body,
            "a.b.c,2023-11-14 22:14:00,1.0\r\n"
            "a.b.c,2023-11-14 22:15:00,2.0\r\n"
            "a.b.c,2023-11-14 22:16:00,\r\n"
            "a.b.c,2023-11-14 22:17:00,4.0\r\n");
}

TEST_F(GraphiteApiTest, RenderWrapsJsonp) {
  GraphiteRequest request;
  const std::string query = "format=json&jsonp=cb&target=a.b.c" + Range(kT0s, kT0s + 60);
  request.query = query;
  GraphiteResponse out;
  ASSERT_TRUE(api_->Render(request, &out).ok());
  EXPECT_EQ(out.content_type, "text/javascript");
  EXPECT_TRUE(out.body.starts_with("cb([{\"target\":\"a.b.c\"")) << out.body;
  EXPECT_TRUE(out.body.ends_with("])")) << out.body;
}

TEST_F(GraphiteApiTest, RenderErrorsNameWhatIsWrong) {
  Status s = Fail(&GraphiteApi::Render, "target=a.b.c&from=now&until=now");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("empty time range"), std::string::npos) << s.message();
  s = Fail(&GraphiteApi::Render, "target=a.b.c&from=-5m");
  EXPECT_NE(s.message().find("from: invalid time \"-5m\""), std::string::npos) << s.message();
  s = Fail(&GraphiteApi::Render, "target=sumSeries(a.b.c");
  EXPECT_NE(s.message().find("target \"sumSeries(a.b.c\""), std::string::npos) << s.message();
  s = Fail(&GraphiteApi::Render, "target=noSuchFunction(a.b.c)" + Range(kT0s, kT0s + 60));
  EXPECT_NE(s.message().find("noSuchFunction"), std::string::npos) << s.message();
  s = Fail(&GraphiteApi::Render, "target=a.b.c&format=png");
  EXPECT_NE(s.message().find("format=png"), std::string::npos) << s.message();
}

TEST_F(GraphiteApiTest, RenderBudgetsAreResourceExhausted) {
  auto source = std::make_shared<MemorySource>("big");
  for (int i = 0; i < 5; ++i) {
    Series s;
    s.name = "m." + std::to_string(i);
    for (int j = 0; j < 100; ++j) s.Append(kT0 + j * 1000, j);
    source->AddSeries(std::move(s));
  }
  ApiOptions options;
  options.max_series_per_target = 3;
  GraphiteApi small(source, options);
  GraphiteRequest request;
  const std::string query = "target=m.*" + Range(kT0s, kT0s + 100);
  request.query = query;
  GraphiteResponse out;
  Status s = small.Render(request, &out);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.message();
  options = ApiOptions();
  options.max_points_per_request = 150;
  GraphiteApi few(source, options);
  s = few.Render(request, &out);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.message();
}

TEST_F(GraphiteApiTest, MetricsFindListsOneLevelOfTheTree) {
  auto r = Call(&GraphiteApi::MetricsFind, "query=*");
  // Branches first, then leaves, each sorted; graphite-style tagged names are not nodes.
  ASSERT_EQ(r.get_array().size(), 3u) << out_.body;
  EXPECT_EQ(out_.body, R"([{"text":"a","id":"a","allowChildren":1,"expandable":1,"leaf":0},)"
                       R"({"text":"nulls","id":"nulls","allowChildren":1,"expandable":1,"leaf":0},)"
                       R"({"text":"cpu","id":"cpu","allowChildren":0,"expandable":0,"leaf":1}])");
  // As Grafana's frontend posts it: the query in the body, from/until in the URL.
  r = Call(&GraphiteApi::MetricsFind, "from=-6h&until=now", "query=a.*");
  EXPECT_EQ(out_.body, R"([{"text":"b","id":"a.b","allowChildren":1,"expandable":1,"leaf":0},)"
                       R"({"text":"x","id":"a.x","allowChildren":1,"expandable":1,"leaf":0}])");
  r = Call(&GraphiteApi::MetricsFind, "query=a.b.*");
  EXPECT_EQ(out_.body, R"([{"text":"c","id":"a.b.c","allowChildren":0,"expandable":0,"leaf":1},)"
                       R"({"text":"d","id":"a.b.d","allowChildren":0,"expandable":0,"leaf":1}])");
  r = Call(&GraphiteApi::MetricsFind, "query=a.{b,x}.[cy]");
  EXPECT_EQ(r.get_array().size(), 2u) << out_.body;
  r = Call(&GraphiteApi::MetricsFind, "query=nothing.*");
  EXPECT_EQ(out_.body, "[]");
}

TEST_F(GraphiteApiTest, MetricsFindOptions) {
  auto r = Call(&GraphiteApi::MetricsFind, "query=a.b.*&wildcards=1");
  ASSERT_EQ(r.get_array().size(), 3u);
  EXPECT_EQ(std::string_view(r.at(0)["text"]), "*");
  EXPECT_EQ(std::string_view(r.at(0)["id"]), "a.b.*");
  EXPECT_EQ(int64_t(r.at(0)["leaf"]), 1);
  r = Call(&GraphiteApi::MetricsFind, "query=a.*&leavesOnly=1");
  ASSERT_EQ(r.get_array().size(), 1u) << out_.body;
  EXPECT_EQ(std::string_view(r.at(0)["id"]), "a.b");
  EXPECT_EQ(int64_t(r.at(0)["leaf"]), 1);
  r = Call(&GraphiteApi::MetricsFind, "query=a.b&format=completer");
  // "a.b" becomes "a.b*": a.b is both a parent and a metric.
  EXPECT_EQ(out_.body, R"({"metrics":[{"path":"a.b.","name":"b","is_leaf":"0"},)"
                       R"({"path":"a.b","name":"b","is_leaf":"1"}]})");
  r = Call(&GraphiteApi::MetricsFind, "query=a.*.*&format=nodelist&position=1");
  EXPECT_EQ(out_.body, R"({"nodes":["b","x"]})");
  EXPECT_EQ(Fail(&GraphiteApi::MetricsFind, "").message(), "Missing required parameter 'query'");
  EXPECT_EQ(Fail(&GraphiteApi::MetricsFind, "query=").message(),
            "Required parameter 'query' is empty");
  EXPECT_NE(Fail(&GraphiteApi::MetricsFind, "query=*&from=yesterdayish").message().find("from"),
            std::string::npos);
  EXPECT_NE(Fail(&GraphiteApi::MetricsFind, "query=*&format=pickle").message().find("format"),
            std::string::npos);
}

TEST_F(GraphiteApiTest, MetricsExpandAndIndex) {
  auto r = Call(&GraphiteApi::MetricsExpand, "query=a.*&query=a.b.*");
  EXPECT_EQ(out_.body, R"({"results":["a.b","a.b.c","a.b.d","a.x"]})");
  r = Call(&GraphiteApi::MetricsExpand, "query=a.*&leavesOnly=1");
  EXPECT_EQ(out_.body, R"({"results":["a.b"]})");
  r = Call(&GraphiteApi::MetricsExpand, "query=a.*&query=a.b.*&groupByExpr=1");
  EXPECT_EQ(out_.body, R"({"results":{"a.*":["a.b","a.x"],"a.b.*":["a.b.c","a.b.d"]}})");
  r = Call(&GraphiteApi::MetricsIndex, "");
  EXPECT_EQ(Strings(r),
            (std::vector<std::string>{"a.b", "a.b.c", "a.b.d", "a.x.y", "cpu", "nulls.only"}));
}

TEST_F(GraphiteApiTest, TagEndpoints) {
  auto r = Call(&GraphiteApi::TagList, "");
  EXPECT_EQ(out_.body, R"([{"id":1,"tag":"dc"},{"id":2,"tag":"host"},{"id":3,"tag":"name"}])");
  r = Call(&GraphiteApi::TagList, "filter=h");
  EXPECT_EQ(out_.body, R"([{"id":2,"tag":"host"}])");

  // The tag editor of seriesByTag('name=cpu'): the other tags, then one tag's values.
  r = Call(&GraphiteApi::AutoCompleteTags, "expr=name%3Dcpu");
  EXPECT_EQ(Strings(r), (std::vector<std::string>{"dc", "host"}));
  r = Call(&GraphiteApi::AutoCompleteTags, "expr=name%3Dcpu&tagPrefix=h");
  EXPECT_EQ(Strings(r), (std::vector<std::string>{"host"}));
  r = Call(&GraphiteApi::AutoCompleteTags, "");
  EXPECT_EQ(Strings(r), (std::vector<std::string>{"dc", "host", "name"}));
  r = Call(&GraphiteApi::AutoCompleteValues, "tag=host&expr=name%3Dcpu");
  EXPECT_EQ(Strings(r), (std::vector<std::string>{"web-1", "web-2"}));
  r = Call(&GraphiteApi::AutoCompleteValues, "tag=host&expr[]=dc%3D~e&valuePrefix=web");
  EXPECT_EQ(Strings(r), (std::vector<std::string>{"web-1"}));
  r = Call(&GraphiteApi::AutoCompleteValues, "tag=name&expr=dc%3D~e");
  EXPECT_EQ(Strings(r), (std::vector<std::string>{"cpu"}));
  r = Call(&GraphiteApi::AutoCompleteValues, "tag=dc&limit=1");
  EXPECT_EQ(Strings(r), (std::vector<std::string>{"eu"}));
  EXPECT_EQ(Fail(&GraphiteApi::AutoCompleteValues, "expr=name%3Dcpu").message(),
            "no tag specified");

  r = Call(&GraphiteApi::FindSeries, "expr=name%3Dcpu&expr=host%3D~web");
  EXPECT_EQ(Strings(r), (std::vector<std::string>{"cpu;dc=eu;host=web-1", "cpu;dc=us;host=web-2"}));
  r = Call(&GraphiteApi::FindSeries, "", "expr=name%3D~a%5C.b");
  EXPECT_EQ(Strings(r), (std::vector<std::string>{"a.b", "a.b.c", "a.b.d"}));
  EXPECT_EQ(Fail(&GraphiteApi::FindSeries, "").message(), "no tag expressions specified");
  EXPECT_NE(Fail(&GraphiteApi::FindSeries, "expr=host!%3Dweb-1").message().find("empty string"),
            std::string::npos);
  EXPECT_NE(Fail(&GraphiteApi::FindSeries, "expr=nooperator").message().find("expr[0]"),
            std::string::npos);

  r = Call(&GraphiteApi::TagDetails, "", "", "/tags/host");
  EXPECT_EQ(out_.body, R"({"id":2,"tag":"host","values":[{"id":1,"value":"web-1","count":1},)"
                       R"({"id":2,"value":"web-2","count":1}]})");
  r = Call(&GraphiteApi::TagDetails, "", "", "/tags/nosuchtag");
  EXPECT_EQ(out_.body, "null");
}

TEST_F(GraphiteApiTest, FunctionsListTheRegistryAsGraphiteDoes) {
  auto r = Call(&GraphiteApi::Functions, "");
  auto sum = r["sumSeries"];
  EXPECT_EQ(std::string_view(sum["name"]), "sumSeries");
  EXPECT_EQ(std::string_view(sum["group"]), "Combine");
  EXPECT_EQ(std::string_view(sum["module"]), "graphite.render.functions");
  EXPECT_EQ(std::string_view(sum["function"]).substr(0, 10), "sumSeries(");
  EXPECT_FALSE(std::string_view(sum["description"]).empty());
  // Grafana's editor drops a first seriesList(s) parameter and reads the rest.
  auto first = sum["params"].at(0);
  EXPECT_EQ(std::string_view(first["name"]), "seriesLists");
  EXPECT_EQ(std::string_view(first["type"]), "seriesList");
  EXPECT_TRUE(bool(first["multiple"]));
  // An infinite default is left out rather than written as invalid JSON.
  simdjson::dom::element limit_default;
  EXPECT_NE(r["keepLastValue"]["params"].at(1)["default"].get(limit_default), simdjson::SUCCESS);
  // Defaults are typed: a boolean stays a boolean.
  auto pct = r["percentileOfSeries"]["params"];
  bool saw_interpolate = false;
  for (auto p : pct.get_array()) {
    if (std::string_view(p["name"]) != "interpolate") continue;
    saw_interpolate = true;
    EXPECT_TRUE(p["default"].is_bool());
  }
  EXPECT_TRUE(saw_interpolate);
  auto grouped = Call(&GraphiteApi::Functions, "grouped=true");
  EXPECT_EQ(std::string_view(grouped["Combine"]["sumSeries"]["name"]), "sumSeries");
  auto alias = Call(&GraphiteApi::Functions, "group=Alias");
  for (auto [name, info] : alias.get_object()) EXPECT_EQ(std::string_view(info["group"]), "Alias");
}

TEST_F(GraphiteApiTest, VersionIsGraphite118) {
  GraphiteResponse out;
  ASSERT_TRUE(api_->Version({}, &out).ok());
  EXPECT_EQ(out.body, "1.1.8");
}

TEST_F(GraphiteApiTest, EventsAnswerGraphiteEventJson) {
  auto r = Call(&GraphiteApi::Events,
                "from=" + std::to_string(kT0s) + "&until=" + std::to_string(kT0s + 3600));
  ASSERT_EQ(r.get_array().size(), 2u) << out_.body;
  auto e = r.at(0);  // ordered by time
  EXPECT_TRUE(e["when"].is_int64());
  EXPECT_EQ(int64_t(e["when"]), kT0s + 1);
  EXPECT_EQ(std::string_view(e["what"]), "Backup");
  EXPECT_EQ(std::string_view(e["data"]), "nightly");
  EXPECT_EQ(Strings(e["tags"]), (std::vector<std::string>{"backup"}));
  EXPECT_TRUE(e["id"].is_int64());
  r = Call(&GraphiteApi::Events, "from=" + std::to_string(kT0s) +
                                     "&until=" + std::to_string(kT0s + 86400) + "&tags=prod");
  ASSERT_EQ(r.get_array().size(), 2u) << out_.body;
  r = Call(&GraphiteApi::Events, "from=" + std::to_string(kT0s) + "&until=" +
                                     std::to_string(kT0s + 86400) + "&tags=prod+deploys");
  ASSERT_EQ(r.get_array().size(), 1u) << out_.body;
  r = Call(&GraphiteApi::Events, "from=" + std::to_string(kT0s) +
                                     "&until=" + std::to_string(kT0s + 86400) +
                                     "&tags=backup+deploys&set=union");
  ASSERT_EQ(r.get_array().size(), 2u) << out_.body;
}

}  // namespace
}  // namespace sluice::protocol
