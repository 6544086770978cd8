// Grafana's built-in Graphite datasource against the real server: every request below has the
// shape Grafana sends (public/app/plugins/datasource/graphite/datasource.ts for the browser,
// pkg/tsdb/graphite for its server: alerting, recorded queries, health checks), and the
// assertions check exactly the fields Grafana parses from the answers:
//   - /render: an array of {target: string, tags: {string: string}, datapoints: [[number|null,
//     number]]}; the browser splits the refId off the target's last space (its aliasSub wrapper),
//     Grafana's server does the same or reads `target` whole, and both multiply or read the
//     timestamp as epoch seconds;
//   - /metrics/find: text, expandable (and id, leaf, allowChildren as integers for Go);
//     /metrics/expand: results; /tags/autoComplete/*: arrays of strings;
//   - /functions: an object of {name, description, group, params: [{name, type, ...}]} that
//     parses as JSON; /version: a semantic version; /events/get_data: when (integer), what, data,
//     tags (array).
// The server runs with --demo plus a few series written through /write (tagged and untagged).
// Errors answer 4xx with a JSON `message` (what Grafana shows) and leave the server serving.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "testing/http_client.h"
#include "testing/json.h"
#include "testing/server_process.h"

namespace sluice::testing {
namespace {

using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;

// JavaScript's encodeURIComponent: what Grafana's browser code uses for /render parameters.
std::string EncodeURIComponent(std::string_view s) {
  static constexpr std::string_view kKeep = "-_.!~*'()";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || kKeep.find(static_cast<char>(c)) != std::string_view::npos) {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// Go's url.QueryEscape: what url.Values.Encode() uses in Grafana's server.
std::string QueryEscape(std::string_view s) {
  static constexpr std::string_view kKeep = "-_.~";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || kKeep.find(static_cast<char>(c)) != std::string_view::npos) {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// url.Values{...}.Encode(): keys sorted, each value escaped.
std::string GoFormEncode(std::vector<std::pair<std::string, std::string>> values) {
  std::stable_sort(values.begin(), values.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [k, v] : values) {
    if (!out.empty()) out.push_back('&');
    out += QueryEscape(k) + "=" + QueryEscape(v);
  }
  return out;
}

const Headers kFormHeaders = {{"Content-Type", "application/x-www-form-urlencoded"},
                              {"Accept", "application/json, text/plain, */*"}};

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What Grafana's series parsing needs from one /render answer: an array of objects with a string
// target, a tags object of strings, and [number|null, integer] datapoints with ascending times
// around [from, until].
AssertionResult CheckRenderShape(const JsonDoc& doc, int64_t from_s, int64_t until_s) {
  if (!doc.ok()) return AssertionFailure() << "not JSON: " << doc.error();
  if (!IsArray(doc.root())) return AssertionFailure() << "not an array";
  for (JsonElement s : Elements(doc.root())) {
    auto target = StringField(s, "target");
    if (!target) return AssertionFailure() << "no string target in " << ToJson(s);
    auto tags = Field(s, "tags");
    if (!tags || !IsObject(*tags)) return AssertionFailure() << "no tags object in " << *target;
    for (const auto& key : Keys(*tags)) {
      if (!IsString(*Field(*tags, key))) {
        return AssertionFailure() << *target << ": tag " << key << " is not a string";
      }
    }
    auto points = Field(s, "datapoints");
    if (!points || !IsArray(*points)) return AssertionFailure() << "no datapoints in " << *target;
    int64_t last = INT64_MIN;
    for (JsonElement p : Elements(*points)) {
      auto pair = Elements(p);
      if (pair.size() != 2) return AssertionFailure() << *target << ": point " << ToJson(p);
      if (!IsNull(pair[0]) && !IsNumber(pair[0])) {
        return AssertionFailure() << *target << ": value " << ToJson(pair[0]);
      }
      if (!IsInteger(pair[1])) return AssertionFailure() << *target << ": time " << ToJson(p);
      const int64_t t = *AsInt(pair[1]);
      // Consolidated buckets are stamped as graphite stamps them: up to a bucket (< 1 h here)
      // before `from` or past `until`.
      if (t <= last || t > until_s + 3600 || t < from_s - 3600) {
        return AssertionFailure() << *target << ": time " << t << " out of order or outside ["
                                  << from_s << ", " << until_s << "]";
      }
      last = t;
    }
  }
  return AssertionSuccess();
}

// The value at epoch second `t` in one series of a /render answer; nullopt when absent or null.
std::optional<double> ValueAt(JsonElement series, int64_t t) {
  for (JsonElement p : Elements(*Field(series, "datapoints"))) {
    auto pair = Elements(p);
    if (pair.size() == 2 && AsInt(pair[1]) == t) return AsDouble(pair[0]);
  }
  return std::nullopt;
}

class GraphiteApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ServerConfig config;
    config.demo = true;
    std::string error;
    server_ = ServerProcess::Start(config, &error).release();
    ASSERT_NE(server_, nullptr) << error;
    // A few series of our own, through the write API: one untagged, two tagged.
    now_s_ = NowSeconds() / 60 * 60;
    std::string lines;
    for (int i = 0; i < 30; ++i) {
      const int64_t t = now_s_ - 60 * (29 - i);
      lines += fmt::format("gtest_plain value={} {}\n", i, t);
      lines += fmt::format("gtest_tagged,host=h1,dc=eu value={} {}\n", 100 + i, t);
      lines += fmt::format("gtest_tagged,host=h2,dc=us value={} {}\n", 200 + i, t);
    }
    HttpClient client(server_->port());
    HttpResponse r = client.Request("POST", "/write?db=gtest&precision=s", lines);
    ASSERT_EQ(r.status, 204) << r.Describe();
  }

  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  HttpResponse Post(std::string_view target, std::string_view body) {
    return client_->Request("POST", target, body, kFormHeaders);
  }
  HttpResponse Get(std::string_view target) {
    return client_->Request("GET", target, {}, {{"Accept", "application/json, text/plain, */*"}});
  }

  // An error as Grafana reads it: 4xx with a JSON body whose `message` it shows.
  static AssertionResult IsGrafanaError(const HttpResponse& r, int status,
                                        std::string_view message_part) {
    if (r.status != status) return AssertionFailure() << "status " << r.Describe();
    JsonDoc doc = JsonDoc::Parse(r.body);
    auto message = doc.ok() ? StringField(doc.root(), "message") : std::nullopt;
    if (!message) return AssertionFailure() << "no message in " << r.body;
    if (message->find(message_part) == std::string::npos) {
      return AssertionFailure() << "message \"" << *message << "\" lacks \"" << message_part
                                << "\"";
    }
    return AssertionSuccess();
  }

  // Proof that the server still answers a good request after an error.
  void ExpectStillServing() {
    HttpResponse r = Post("/render", "target=gtest_plain.value&from=-10min&until=now&format=json");
    ASSERT_EQ(r.status, 200) << r.Describe();
    EXPECT_TRUE(server_->Alive());
  }

  static ServerProcess* server_;
  static int64_t now_s_;
  std::unique_ptr<HttpClient> client_;
};

ServerProcess* GraphiteApiTest::server_ = nullptr;
int64_t GraphiteApiTest::now_s_ = 0;

// The browser's panel query (datasource.ts query()/buildGraphiteParams): each target wrapped in
// aliasSub(..., "(^.*$)", "\1 <refId>"), encodeURIComponent'ed, then from, until, format and
// maxDataPoints; POSTed as a form.
TEST_F(GraphiteApiTest, BrowserPanelQuery) {
  const std::string targets[] = {"aliasSub(app.web-1.cpu, \"(^.*$)\", \"\\1 A\")",
                                 "aliasSub(sumSeries(app.*.requests), \"(^.*$)\", \"\\1 B\")",
                                 "aliasSub(gtest_plain.value, \"(^.*$)\", \"\\1 C\")"};
  std::string body;
  for (const auto& t : targets) body += "target=" + EncodeURIComponent(t) + "&";
  body += "from=-1h&until=now&format=json&maxDataPoints=300";
  HttpResponse r = Post("/render", body);
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(r.MediaType(), "application/json");
  JsonDoc doc = JsonDoc::Parse(r.body);
  ASSERT_TRUE(CheckRenderShape(doc, NowSeconds() - 3600, NowSeconds() + 1));
  auto series = Elements(doc.root());
  ASSERT_EQ(series.size(), 3u) << r.body.substr(0, 500);
  // convertResponseToDataFrames: the refId is what follows the last space.
  const char* ref_ids[] = {"A", "B", "C"};
  const char* names[] = {"app.web-1.cpu;", "sumSeries(app.*.requests)", "gtest_plain.value"};
  for (size_t i = 0; i < series.size(); ++i) {
    const std::string target = *StringField(series[i], "target");
    const size_t space = target.rfind(' ');
    ASSERT_NE(space, std::string::npos) << target;
    EXPECT_EQ(target.substr(space + 1), ref_ids[i]);
    EXPECT_TRUE(target.starts_with(names[i])) << target;
    auto points = Elements(*Field(series[i], "datapoints"));
    EXPECT_GT(points.size(), 0u) << target;
    EXPECT_LE(points.size(), 300u) << target;
  }
  // The tags carry the metric name and the series' tags, as strings.
  auto tags = *Field(series[0], "tags");
  EXPECT_EQ(StringField(tags, "name"), "app.web-1.cpu");
  EXPECT_EQ(StringField(tags, "host"), "web-1");
  // Our own written series: its values are back, one a minute, newest last.
  EXPECT_EQ(ValueAt(series[2], now_s_), 29.0);
  EXPECT_EQ(ValueAt(series[2], now_s_ - 600), 19.0);
}

// The browser's data source test (testDatasource): constantLine(100) over now-1h.
TEST_F(GraphiteApiTest, BrowserHealthCheck) {
  HttpResponse r =
      Post("/render",
           "target=" + EncodeURIComponent("aliasSub(constantLine(100), \"(^.*$)\", \"\\1 A\")") +
               "&from=-1h&until=now&format=json&maxDataPoints=300");
  ASSERT_EQ(r.status, 200) << r.Describe();
  JsonDoc doc = JsonDoc::Parse(r.body);
  ASSERT_TRUE(CheckRenderShape(doc, NowSeconds() - 3600, NowSeconds() + 1));
  ASSERT_EQ(Elements(doc.root()).size(), 1u);
  for (JsonElement p : Elements(*Field(Elements(doc.root())[0], "datapoints"))) {
    EXPECT_EQ(AsDouble(Elements(p)[0]), 100.0);
  }
}

// Grafana's server, one request per query (pkg/tsdb/graphite query.go, used by alerting and the
// health check): url.Values{from, until, format, maxDataPoints, target}.Encode(), epoch seconds.
TEST_F(GraphiteApiTest, ServerSideQueryAsAlertingSendsIt) {
  const int64_t until = NowSeconds(), from = until - 900;
  for (const std::string target :
       {"gtest_tagged.value", "seriesByTag('name=gtest_tagged.value', 'dc=eu')",
        "movingAverage(app.web-*.latency, '5min')", "constantLine(100)"}) {
    HttpResponse r = Post("/render", GoFormEncode({{"from", std::to_string(from)},
                                                   {"until", std::to_string(until)},
                                                   {"format", "json"},
                                                   {"maxDataPoints", "100"},
                                                   {"target", target}}));
    ASSERT_EQ(r.status, 200) << target << ": " << r.Describe();
    JsonDoc doc = JsonDoc::Parse(r.body);
    ASSERT_TRUE(CheckRenderShape(doc, from, until)) << target;
    EXPECT_FALSE(Elements(doc.root()).empty()) << target;
  }
  HttpResponse r = Post("/render", GoFormEncode({{"from", std::to_string(from)},
                                                 {"until", std::to_string(until)},
                                                 {"format", "json"},
                                                 {"maxDataPoints", "100"},
                                                 {"target", "gtest_tagged.value"}}));
  JsonDoc doc = JsonDoc::Parse(r.body);
  auto series = Elements(doc.root());
  ASSERT_EQ(series.size(), 2u) << r.body.substr(0, 300);
  // Tagged series are named as graphite names them; their tags are label strings.
  EXPECT_EQ(StringField(series[0], "target"), "gtest_tagged.value;dc=eu;host=h1");
  EXPECT_EQ(StringField(*Field(series[1], "tags"), "host"), "h2");
  EXPECT_EQ(StringField(*Field(series[1], "tags"), "name"), "gtest_tagged.value");
}

// Grafana's server, all queries in one request (the multi-target form of pkg/tsdb/graphite):
// aliasSub(<target>,"(^.*$)","\1 <refId>") per query, maxDataPoints=500; the refId is what follows
// the last space of each target.
TEST_F(GraphiteApiTest, ServerSideMultiQueryWithRefIds) {
  const int64_t until = NowSeconds(), from = until - 3600;
  std::vector<std::pair<std::string, std::string>> form = {{"from", std::to_string(from)},
                                                           {"until", std::to_string(until)},
                                                           {"format", "json"},
                                                           {"maxDataPoints", "500"}};
  form.emplace_back("target", "aliasSub(gtest_plain.value,\"(^.*$)\",\"\\1 A\")");
  form.emplace_back("target",
                    "aliasSub(averageSeries(gtest_tagged.value),\"(^.*$)\",\"\\1 my_query\")");
  HttpResponse r = Post("/render", GoFormEncode(form));
  ASSERT_EQ(r.status, 200) << r.Describe();
  JsonDoc doc = JsonDoc::Parse(r.body);
  ASSERT_TRUE(CheckRenderShape(doc, from, until));
  auto series = Elements(doc.root());
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(StringField(series[0], "target"), "gtest_plain.value A");
  EXPECT_EQ(StringField(series[1], "target"), "averageSeries(gtest_tagged.value) my_query");
  // (100 + i) and (200 + i) average to 150 + i.
  EXPECT_EQ(ValueAt(series[1], now_s_), 179.0);
}

TEST_F(GraphiteApiTest, RenderGetCsvAndNoNullPoints) {
  HttpResponse r = Get(fmt::format("/render?target=gtest_plain.value&from={}&until={}&format=csv",
                                   now_s_ - 120, now_s_));
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(r.MediaType(), "text/csv");
  EXPECT_NE(r.body.find("gtest_plain.value,"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(",29.0\r\n"), std::string::npos) << r.body;
  // A window reaching past the data: null points, dropped with noNullPoints.
  r = Get(fmt::format("/render?target=gtest_plain.value&from={}&until={}&format=json", now_s_ - 120,
                      now_s_ + 600));
  EXPECT_NE(r.body.find("null"), std::string::npos) << r.body;
  r = Get(fmt::format("/render?target=gtest_plain.value&from={}&until={}&format=json&noNullPoints",
                      now_s_ - 120, now_s_ + 600));
  EXPECT_EQ(r.body.find("null"), std::string::npos) << r.body;
  // Graphite's time forms, including a reversed range (swapped).
  for (const char* range : {"from=-1h&until=now", "from=now-1h&until=now", "from=now&until=-1h",
                            "from=00:00_20240101&until=20240102"}) {
    r = Get(std::string("/render?target=constantLine(1)&format=json&") + range);
    EXPECT_EQ(r.status, 200) << range << ": " << r.Describe();
  }
}

// The browser's metric tree (requestMetricFind): POST /metrics/find?from&until with the query
// in a form body, unescaped; older Grafanas GET /metrics/find?query=.
TEST_F(GraphiteApiTest, MetricTree) {
  HttpResponse r = Post("/metrics/find?from=-6h&until=now", "query=*");
  ASSERT_EQ(r.status, 200) << r.Describe();
  JsonDoc doc = JsonDoc::Parse(r.body);
  ASSERT_TRUE(doc.ok() && IsArray(doc.root())) << r.body;
  std::vector<std::string> texts;
  for (JsonElement n : Elements(doc.root())) {
    texts.push_back(StringField(n, "text").value_or("?"));
    // Grafana's server decodes these as Go ints; the browser tests expandable's truth.
    for (const char* key : {"expandable", "leaf", "allowChildren"}) {
      auto v = Field(n, key);
      ASSERT_TRUE(v && IsInteger(*v)) << key << " in " << ToJson(n);
    }
    ASSERT_TRUE(StringField(n, "id").has_value());
  }
  for (const char* expected : {"app", "gtest_plain", "gtest_tagged", "upper_25"}) {
    EXPECT_NE(std::find(texts.begin(), texts.end(), expected), texts.end()) << expected;
  }
  r = Post("/metrics/find", "query=app.web-{1,2}.*");
  doc = JsonDoc::Parse(r.body);
  ASSERT_TRUE(doc.ok()) << r.body;
  std::vector<std::string> ids;
  for (JsonElement n : Elements(doc.root())) {
    ids.push_back(*StringField(n, "id"));
    EXPECT_EQ(IntField(n, "expandable"), 0);
    EXPECT_EQ(IntField(n, "leaf"), 1);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"app.web-{1,2}.cpu", "app.web-{1,2}.latency",
                                           "app.web-{1,2}.requests"}));
  r = Get("/metrics/find?query=gtest_tagged.*");
  doc = JsonDoc::Parse(r.body);
  ASSERT_EQ(Elements(doc.root()).size(), 1u) << r.body;
  EXPECT_EQ(StringField(Elements(doc.root())[0], "id"), "gtest_tagged.value");
  // GET /metrics is graphite's find too; POST /metrics stays the JSON plugins' endpoint.
  r = Get("/metrics?query=gtest_plain.*");
  EXPECT_EQ(r.status, 200) << r.Describe();
  EXPECT_NE(r.body.find("\"leaf\":1"), std::string::npos) << r.body;
  r = client_->Request("POST", "/metrics", R"({"metric":""})", GrafanaHeaders());
  EXPECT_EQ(r.status, 200) << r.Describe();
  EXPECT_NE(r.body.find("\"payloads\""), std::string::npos) << r.body.substr(0, 200);
}

// Template variables with expand(...) (requestMetricExpand): GET /metrics/expand?query=&from&until.
TEST_F(GraphiteApiTest, MetricExpand) {
  HttpResponse r = Get("/metrics/expand?query=app.*.cpu&from=-6h&until=now");
  ASSERT_EQ(r.status, 200) << r.Describe();
  JsonDoc doc = JsonDoc::Parse(r.body);
  auto results = Field(doc.root(), "results");
  ASSERT_TRUE(results && IsArray(*results)) << r.body;
  std::vector<std::string> paths;
  for (JsonElement p : Elements(*results)) paths.push_back(*AsString(p));
  ASSERT_GE(paths.size(), 6u);
  EXPECT_EQ(paths[0], "app.db-1.cpu");
  EXPECT_TRUE(std::is_sorted(paths.begin(), paths.end()));
}

// The seriesByTag editor and tag template variables (getTagsAutoComplete,
// getTagValuesAutoComplete): GET with repeated expr=, tagPrefix / valuePrefix, limit.
TEST_F(GraphiteApiTest, TagEditor) {
  auto strings = [&](std::string_view target) {
    HttpResponse r = Get(target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.Describe();
    JsonDoc doc = JsonDoc::Parse(r.body);
    std::vector<std::string> out;
    EXPECT_TRUE(doc.ok() && IsArray(doc.root())) << r.body;
    if (!doc.ok()) return out;
    for (JsonElement e : Elements(doc.root())) {
      out.push_back(AsString(e).value_or("<not a string>"));
    }
    return out;
  };
  EXPECT_EQ(
      strings("/tags/autoComplete/tags?expr=" + EncodeURIComponent("name=gtest_tagged.value")),
      (std::vector<std::string>{"dc", "host"}));
  EXPECT_EQ(strings("/tags/autoComplete/tags?expr=" +
                    EncodeURIComponent("name=gtest_tagged.value") + "&tagPrefix=h"),
            (std::vector<std::string>{"host"}));
  auto all_tags = strings("/tags/autoComplete/tags?limit=10000");
  for (const char* t : {"City", "dc", "host", "name", "region"}) {
    EXPECT_NE(std::find(all_tags.begin(), all_tags.end(), t), all_tags.end()) << t;
  }
  EXPECT_EQ(strings("/tags/autoComplete/values?expr=" +
                    EncodeURIComponent("name=gtest_tagged.value") + "&tag=host"),
            (std::vector<std::string>{"h1", "h2"}));
  EXPECT_EQ(strings("/tags/autoComplete/values?expr=" + EncodeURIComponent("name=~gtest_tagged") +
                    "&expr=" + EncodeURIComponent("dc!=us") + "&tag=host&valuePrefix=h"),
            (std::vector<std::string>{"h1"}));
  // tag_values(host, env=prod) as a template variable: limit=10000.
  auto hosts = strings("/tags/autoComplete/values?expr=" + EncodeURIComponent("env=prod") +
                       "&tag=host&limit=10000");
  EXPECT_NE(std::find(hosts.begin(), hosts.end(), "web-1"), hosts.end());
  EXPECT_EQ(std::find(hosts.begin(), hosts.end(), "h1"), hosts.end());
  EXPECT_EQ(strings("/tags/findSeries?expr=" + EncodeURIComponent("name=gtest_tagged.value") +
                    "&expr=" + EncodeURIComponent("host=h2")),
            (std::vector<std::string>{"gtest_tagged.value;dc=us;host=h2"}));
  HttpResponse r = Get("/tags");
  JsonDoc doc = JsonDoc::Parse(r.body);
  ASSERT_TRUE(doc.ok() && IsArray(doc.root())) << r.body;
  for (JsonElement t : Elements(doc.root())) {
    EXPECT_TRUE(StringField(t, "tag").has_value()) << ToJson(t);
    EXPECT_TRUE(IntField(t, "id").has_value()) << ToJson(t);
  }
}

// The function editor (getFuncDefs): GET /functions as text, JSON.parse'd after a fix for
// graphite's `"default": Infinity`; parseFuncDefs reads name, description, group and params.
TEST_F(GraphiteApiTest, FunctionIndex) {
  HttpResponse r = Get("/functions");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(r.body.find("Infinity"), std::string::npos);
  JsonDoc doc = JsonDoc::Parse(r.body);  // strict JSON, as Grafana's server needs it
  ASSERT_TRUE(doc.ok()) << doc.error();
  ASSERT_TRUE(IsObject(doc.root()));
  const auto names = Keys(doc.root());
  EXPECT_GE(names.size(), 100u);
  for (const std::string& name : names) {
    JsonElement f = *Field(doc.root(), name);
    EXPECT_EQ(StringField(f, "name"), name);
    EXPECT_TRUE(StringField(f, "description").has_value()) << name;
    EXPECT_TRUE(StringField(f, "group").has_value()) << name;
    auto params = Field(f, "params");
    ASSERT_TRUE(params && IsArray(*params)) << name;
    for (JsonElement p : Elements(*params)) {
      EXPECT_TRUE(StringField(p, "name").has_value()) << name;
      EXPECT_TRUE(StringField(p, "type").has_value()) << name;
    }
  }
  // Functions taking series start with a seriesList parameter, which the editor drops.
  for (const char* name : {"aliasByNode", "movingAverage", "sumSeries", "seriesByTag"}) {
    JsonElement f = *Field(doc.root(), name);
    auto first = Elements(*Field(f, "params"))[0];
    if (std::string_view(name) == "seriesByTag") {
      EXPECT_EQ(StringField(first, "type"), "string");
    } else {
      EXPECT_EQ(StringField(first, "type"), "seriesList") << name;
    }
  }
}

TEST_F(GraphiteApiTest, VersionIsASemanticVersion) {
  HttpResponse r = Get("/version");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(r.body, "1.1.8");
}

// Annotations from graphite events (events()): GET /events/get_data?from&until[&tags].
TEST_F(GraphiteApiTest, EventsAsAnnotations) {
  HttpResponse r = Get("/events/get_data?from=-7d&until=now");
  ASSERT_EQ(r.status, 200) << r.Describe();
  JsonDoc doc = JsonDoc::Parse(r.body);
  ASSERT_TRUE(doc.ok() && IsArray(doc.root())) << r.body;
  auto events = Elements(doc.root());
  ASSERT_FALSE(events.empty()) << "the demo has events";
  int64_t last = INT64_MIN;
  for (JsonElement e : events) {
    auto when = Field(e, "when");
    ASSERT_TRUE(when && IsInteger(*when)) << ToJson(e);  // Grafana's server: int64
    EXPECT_GE(*AsInt(*when), last);
    last = *AsInt(*when);
    EXPECT_TRUE(StringField(e, "what").has_value());
    EXPECT_TRUE(StringField(e, "data").has_value());
    auto tags = Field(e, "tags");
    ASSERT_TRUE(tags && IsArray(*tags)) << ToJson(e);
  }
  // Tags as the annotation editor sends them: space-separated, every one required.
  const std::string tag = *AsString(Elements(*Field(events[0], "tags"))[0]);
  r = Get("/events/get_data?from=-7d&until=now&tags=" + tag);
  doc = JsonDoc::Parse(r.body);
  ASSERT_FALSE(Elements(doc.root()).empty());
  for (JsonElement e : Elements(doc.root())) {
    std::vector<std::string> tags;
    for (JsonElement t : Elements(*Field(e, "tags"))) tags.push_back(*AsString(t));
    EXPECT_NE(std::find(tags.begin(), tags.end(), tag), tags.end());
  }
}

TEST_F(GraphiteApiTest, ErrorsAreMessagesAndTheServerKeepsServing) {
  EXPECT_TRUE(IsGrafanaError(Post("/render", "target=sumSeries(app.*.cpu&from=-1h&until=now"), 400,
                             "expected"));
  ExpectStillServing();
  EXPECT_TRUE(
      IsGrafanaError(Post("/render", "target=" + EncodeURIComponent("noSuchFunction(app.*.cpu)") +
                                         "&from=-1h&until=now&format=json"),
                     400, "noSuchFunction"));
  ExpectStillServing();
  EXPECT_TRUE(IsGrafanaError(Post("/render", "target=app.*.cpu&from=lastweek&until=now"), 400,
                             "from: invalid time"));
  EXPECT_TRUE(IsGrafanaError(Post("/render", "target=app.*.cpu&from=-5m&until=now"), 400,
                             "unknown unit 'm'"));
  EXPECT_TRUE(IsGrafanaError(Post("/render", "target=app.*.cpu&from=now&until=now"), 400,
                             "empty time range"));
  EXPECT_TRUE(IsGrafanaError(Post("/render", "target=app.*.cpu&format=png"), 400, "format=png"));
  EXPECT_TRUE(IsGrafanaError(Get("/metrics/find"), 400, "query"));
  EXPECT_TRUE(IsGrafanaError(Get("/tags/autoComplete/values?expr=name%3Dx"), 400, "no tag"));
  EXPECT_TRUE(IsGrafanaError(Get("/tags/findSeries?expr=host!%3Dx"), 400, "empty string"));
  // Graphite's error bodies keep the text in "error" too.
  HttpResponse r = Get("/tags/findSeries");
  JsonDoc doc = JsonDoc::Parse(r.body);
  EXPECT_EQ(StringField(doc.root(), "error"), "no tag expressions specified");
  ExpectStillServing();
}

TEST(GraphiteApiLimitsTest, BudgetsAnswer422AndBasePathIsHonoured) {
  ServerConfig config;
  config.demo = true;
  config.config_toml =
      "[http]\nbase_path = \"/graphite\"\n[query]\nmax_points_per_request = 2000\n";
  std::string error;
  auto server = ServerProcess::Start(config, &error);
  ASSERT_NE(server, nullptr) << error;
  HttpClient client(server->port());
  HttpResponse r = client.Request("POST", "/graphite/render",
                                  "target=app.*.cpu&from=-1d&until=now&format=json", kFormHeaders);
  EXPECT_EQ(r.status, 422) << r.Describe();
  EXPECT_NE(r.body.find("2000"), std::string::npos) << r.body;
  r = client.Request("POST", "/graphite/render",
                     "target=app.web-1.cpu&from=-10min&until=now&format=json", kFormHeaders);
  EXPECT_EQ(r.status, 200) << r.Describe();
  r = client.Request("GET", "/graphite/metrics/find?query=app.*");
  EXPECT_EQ(r.status, 200) << r.Describe();
  r = client.Request("GET", "/render?target=app.web-1.cpu&from=-10min&format=json");
  EXPECT_EQ(r.status, 404) << r.Describe();
  EXPECT_EQ(server->Stop(), 0);
}

}  // namespace
}  // namespace sluice::testing
