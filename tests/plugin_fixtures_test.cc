// Replays the 40 captured plugin requests (shared/fixtures/plugin-requests/) byte for byte and
// checks that each response has the shape the sending plugin needs (PROTOCOL.md §3-§13).
//
// Fixtures carrying an Authorization header go to a server with basic auth user:secret; the others
// to a server without auth (the plugin would not send credentials there). Both serve --demo.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "testing/annotations.h"
#include "testing/demo_data.h"
#include "testing/fixtures.h"
#include "testing/http_client.h"
#include "testing/json.h"
#include "testing/protocol_checks.h"
#include "testing/server_process.h"

namespace sluice::testing {
namespace {

using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;

constexpr std::string_view kAuthConfig = R"toml(
[auth]
basic = [{ user = "user", password = "secret" }]
)toml";

constexpr size_t kExpectedFixtures = 40;

std::vector<PluginFixture> AllFixtures() {
  static const std::vector<PluginFixture>* fixtures = [] {
    std::string error;
    auto* out = new std::vector<PluginFixture>(LoadPluginFixtures(&error));
    return out;
  }();
  return *fixtures;
}

HttpResponse Replay(uint16_t port, const PluginFixture& f) {
  RawConnection c;
  std::string error;
  HttpResponse failed;
  if (!c.Connect(port, &error) ||
      !c.Send(f.RequestBytes(fmt::format("127.0.0.1:{}", port)), &error)) {
    failed.error = error;
    return failed;
  }
  return c.ReadResponse(f.method == "HEAD");
}

// The last non-empty path segment: "query" for "/prefix/query", "" for "/" and "prefix" for
// "/prefix/".
std::string Endpoint(std::string_view path) {
  std::string p(path);
  while (!p.empty() && p.back() == '/') p.pop_back();
  return p.substr(p.rfind('/') + 1);
}

class PluginFixtureTest : public ::testing::TestWithParam<PluginFixture> {
 protected:
  static void SetUpTestSuite() {
    RaiseFileLimit();
    plain_ = ServerProcess::Start(ServerConfig{}, &plain_error_);
    ServerConfig auth;
    auth.config_toml = std::string(kAuthConfig);
    auth_ = ServerProcess::Start(auth, &auth_error_);
  }

  static void TearDownTestSuite() {
    for (auto* s : {&plain_, &auth_}) {
      if (!*s) continue;
      bool alive = (*s)->Alive();
      int code = (*s)->Stop();
      if (!alive || code != 0) {
        ADD_FAILURE() << "server ended with code " << code
                      << (alive ? " after SIGTERM" : " before the suite ended (crash?)")
                      << "; stderr: " << (*s)->StderrText();
      }
      s->reset();
    }
  }

  void SetUp() override {
    ASSERT_NE(plain_, nullptr) << plain_error_;
    ASSERT_NE(auth_, nullptr) << auth_error_;
  }

  static inline std::unique_ptr<ServerProcess> plain_;
  static inline std::string plain_error_;
  static inline std::unique_ptr<ServerProcess> auth_;
  static inline std::string auth_error_;
};

// ---- per-endpoint shape checks ----

void CheckHealth(const HttpResponse& r) {
  JsonDoc doc = JsonDoc::Parse(r.body);
  EXPECT_TRUE(IsObject(doc.root())) << "health body: " << r.body;
}

// Splits a target as the plugins send it ("upper_25", "(upper_25|upper_50)") into series names.
std::vector<std::string> NamesInTarget(std::string target) {
  if (target.size() >= 2 && target.front() == '(' && target.back() == ')') {
    target = target.substr(1, target.size() - 2);
  }
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= target.size()) {
    size_t bar = target.find('|', pos);
    if (bar == std::string::npos) bar = target.size();
    out.push_back(target.substr(pos, bar - pos));
    pos = bar + 1;
  }
  return out;
}

void CheckQuery(const PluginFixture& f, const HttpResponse& r) {
  JsonDoc request = JsonDoc::Parse(f.raw_body);
  ASSERT_TRUE(request.ok()) << request.error();
  JsonElement req = request.root();
  int64_t max_points = IntField(req, "maxDataPoints").value_or(0);
  ASSERT_GT(max_points, 0);

  bool annotation = false;
  if (auto vars = Field(req, "scopedVars")) annotation = Field(*vars, "__annotation").has_value();
  std::set<std::string> ref_ids;
  for (JsonElement t : Elements(*Field(req, "targets"))) {
    ref_ids.insert(StringField(t, "refId").value_or(""));
    annotation = annotation || StringField(t, "refId").value_or("") == "Anno";
  }

  QueryView view;
  ASSERT_TRUE(ParseQueryResponse(r, &view, max_points));
  for (const SeriesView& s : view.series) {
    EXPECT_TRUE(s.ref_id && ref_ids.count(*s.ref_id))
        << "series " << s.target << " has refId " << s.ref_id.value_or("(none)");
  }
  for (const TableView& t : view.tables) {
    EXPECT_TRUE(t.ref_id && ref_ids.count(*t.ref_id))
        << "table has refId " << t.ref_id.value_or("(none)");
  }

  if (annotation) {
    // NEW annotation: one table the annotation mapper reads (time, timeEnd, title, text, tags).
    ASSERT_EQ(view.tables.size(), 1u) << r.body.substr(0, 300);
    EXPECT_TRUE(view.series.empty());
    EXPECT_EQ(view.tables[0].ref_id.value_or(""), "Anno");
    std::vector<Event> events;
    ASSERT_TRUE(AnnotationTableEvents(view.tables[0], &events));
    EXPECT_FALSE(events.empty()) << "a 6 h range holds deploy events (every 2 h)";
    for (const Event& e : events) {
      EXPECT_GE(e.time_end, e.time);
      EXPECT_FALSE(e.text.empty());
    }
    return;
  }

  bool filtered_berlin = false;
  for (const char* key : {"adhocFilters", "filters"}) {
    if (auto filters = Field(req, key)) {
      for (JsonElement fl : Elements(*filters)) {
        filtered_berlin = filtered_berlin || (StringField(fl, "key").value_or("") == "City" &&
                                              StringField(fl, "value").value_or("") == "Berlin");
      }
    }
  }

  for (JsonElement t : Elements(*Field(req, "targets"))) {
    if (auto hide = Field(t, "hide"); hide && AsBool(*hide).value_or(false)) continue;
    std::string ref = StringField(t, "refId").value_or("");
    std::string target = StringField(t, "target").value_or("");
    bool table = StringField(t, "type").value_or("") == "table";
    if (auto payload = Field(t, "payload")) {
      table = table || StringField(*payload, "format").value_or("") == "table";
    }
    if (table) {
      auto tables = view.TablesFor(ref);
      ASSERT_EQ(tables.size(), 1u) << "table target " << ref << " (" << target << ")";
      EXPECT_FALSE(tables[0]->rows.empty());
      continue;
    }
    auto series = view.SeriesFor(ref);
    EXPECT_FALSE(series.empty()) << "no series for target " << ref << " (" << target << ")";
    std::vector<std::string> got;
    for (const SeriesView* s : series) got.push_back(s->target);
    EXPECT_THAT(got, ::testing::UnorderedElementsAreArray(NamesInTarget(target)))
        << "each named series once for " << ref;
    for (const SeriesView* s : series) EXPECT_FALSE(s->points.empty()) << s->target;
  }

  if (filtered_berlin) {
    for (const SeriesView& s : view.series) {
      auto city = s.tags.find("City");
      EXPECT_TRUE(city != s.tags.end() && city->second == "Berlin")
          << s.target << " passed the City=Berlin filter without City=Berlin";
    }
    for (const TableView& t : view.tables) {
      int city = t.Column("City");
      ASSERT_GE(city, 0) << "table without City column";
      for (const auto& row : t.rows) EXPECT_EQ(row[city], "\"Berlin\"");
    }
  }
}

void CheckOldAnnotations(const PluginFixture& f, const HttpResponse& r) {
  JsonDoc request = JsonDoc::Parse(f.raw_body);
  ASSERT_TRUE(request.ok());
  JsonElement annotation = *Field(request.root(), "annotation");
  std::string query = StringField(annotation, "query").value_or("");
  std::vector<Event> events;
  std::vector<std::string> echoes;
  ASSERT_TRUE(ParseOldAnnotations(r, &events, &echoes));
  for (const Event& e : events) {
    EXPECT_GE(e.time_end, e.time);
    EXPECT_TRUE(EventMatches(e, query)) << e.title << " does not match \"" << query << "\"";
  }
  for (size_t i = 1; i < events.size(); ++i) EXPECT_GE(events[i].time, events[i - 1].time);
  for (const std::string& echo : echoes) EXPECT_EQ(echo, CanonicalJson(annotation));
}

void CheckStringArray(const HttpResponse& r, bool want_upper_25) {
  JsonDoc doc = JsonDoc::Parse(r.body);
  std::vector<std::string> names;
  for (JsonElement e : Elements(doc.root())) {
    auto s = AsString(e);
    ASSERT_TRUE(s.has_value()) << "/search element not a string: " << ToJson(e);
    names.push_back(*s);
  }
  if (want_upper_25) {
    EXPECT_THAT(names, ::testing::Contains("upper_25"));
  }
}

void CheckMetrics(const HttpResponse& r) {
  JsonDoc doc = JsonDoc::Parse(r.body);
  std::vector<std::string> values;
  for (JsonElement m : Elements(doc.root())) {
    auto value = StringField(m, "value");
    ASSERT_TRUE(value.has_value()) << ToJson(m);
    values.push_back(*value);
    auto payloads = Field(m, "payloads");
    ASSERT_TRUE(payloads && IsArray(*payloads)) << ToJson(m);
    for (JsonElement p : Elements(*payloads)) {
      auto name = StringField(p, "name");
      EXPECT_TRUE(name && !name->empty())
          << "payload name (the builder validates it): " << ToJson(p);
    }
  }
  EXPECT_THAT(values, ::testing::Contains("upper_25"));
}

void CheckPayloadOptions(const PluginFixture& f, const HttpResponse& r) {
  JsonDoc request = JsonDoc::Parse(f.raw_body);
  std::string name = StringField(request.root(), "name").value_or("");
  JsonDoc doc = JsonDoc::Parse(r.body);
  std::set<std::string> values;
  for (JsonElement o : Elements(doc.root())) {
    auto value = Field(o, "value");
    ASSERT_TRUE(value && (IsString(*value) || IsNumber(*value))) << ToJson(o);
    EXPECT_TRUE(StringField(o, "label").has_value()) << ToJson(o);
    if (IsString(*value)) values.insert(*AsString(*value));
  }
  if (name == "format") {
    EXPECT_TRUE(values.count("table")) << r.body;
  } else if (name != "consolidateBy") {
    EXPECT_TRUE(values.empty()) << "unknown payload name " << name << " should give []: " << r.body;
  }
}

void CheckVariable(const PluginFixture& f, const HttpResponse& r) {
  JsonDoc request = JsonDoc::Parse(f.raw_body);
  std::string target;
  if (auto payload = Field(request.root(), "payload"))
    target = StringField(*payload, "target").value_or("");
  JsonDoc doc = JsonDoc::Parse(r.body);
  std::vector<std::string> texts;
  for (JsonElement o : Elements(doc.root())) {
    auto text = StringField(o, "__text");
    auto value = StringField(o, "__value");
    ASSERT_TRUE(text && value) << "need string __text and __value: " << ToJson(o);
    texts.push_back(*text);
  }
  if (target.empty()) {
    EXPECT_THAT(texts, ::testing::IsSupersetOf(demo::AllSeriesNames()));
  } else if (target == "upper_*") {
    std::vector<std::string> upper(demo::kUpperSeries.begin(), demo::kUpperSeries.end());
    EXPECT_THAT(texts, ::testing::UnorderedElementsAreArray(upper));
  }
}

void CheckTagKeys(const HttpResponse& r) {
  JsonDoc doc = JsonDoc::Parse(r.body);
  std::vector<std::string> keys;
  for (JsonElement o : Elements(doc.root())) {
    EXPECT_EQ(StringField(o, "type").value_or(""), "string") << ToJson(o);
    auto text = StringField(o, "text");
    ASSERT_TRUE(text.has_value()) << ToJson(o);
    keys.push_back(*text);
  }
  EXPECT_THAT(keys, ::testing::IsSupersetOf({"City", "host", "env", "region"}));
}

void CheckTagValues(const HttpResponse& r) {
  JsonDoc doc = JsonDoc::Parse(r.body);
  std::vector<std::string> values;
  for (JsonElement o : Elements(doc.root())) {
    auto text = StringField(o, "text");
    ASSERT_TRUE(text.has_value()) << ToJson(o);
    values.push_back(*text);
  }
  EXPECT_THAT(values,
              ::testing::UnorderedElementsAreArray({"Berlin", "London", "New York", "Tokyo"}));
}

void CheckResponse(const PluginFixture& f, const HttpResponse& r) {
  ASSERT_EQ(r.status, 200) << f.name << ": " << r.Describe();
  ASSERT_EQ(r.MediaType(), "application/json") << r.Describe();
  JsonDoc doc = JsonDoc::Parse(r.body);
  ASSERT_TRUE(doc.ok()) << doc.error();
  std::string endpoint = Endpoint(f.path);
  if (f.method == "GET") {
    CheckHealth(r);
    return;
  }
  ASSERT_TRUE(IsArray(doc.root())) << "every endpoint but health answers an array: " << r.body;
  if (endpoint == "query") {
    CheckQuery(f, r);
  } else if (endpoint == "annotations") {
    CheckOldAnnotations(f, r);
  } else if (endpoint == "search") {
    CheckStringArray(r, /*want_upper_25=*/true);
  } else if (endpoint == "metrics") {
    CheckMetrics(r);
  } else if (endpoint == "metric-payload-options") {
    CheckPayloadOptions(f, r);
  } else if (endpoint == "variable") {
    CheckVariable(f, r);
  } else if (endpoint == "tag-keys") {
    CheckTagKeys(r);
  } else if (endpoint == "tag-values") {
    CheckTagValues(r);
  } else {
    FAIL() << "fixture for an endpoint this test does not know: " << f.path;
  }
}

TEST_P(PluginFixtureTest, Replay) {
  const PluginFixture& f = GetParam();
  bool with_auth = !f.Header("authorization").empty();
  ServerProcess* server = with_auth ? auth_.get() : plain_.get();
  SCOPED_TRACE(f.name + ": " + f.description);
  HttpResponse r = Replay(server->port(), f);
  CheckResponse(f, r);
  if (with_auth) {
    // The same request without credentials must be refused: the auth server really checks.
    PluginFixture anonymous = f;
    anonymous.headers.erase(
        std::remove_if(anonymous.headers.begin(), anonymous.headers.end(),
                       [](const auto& h) { return h.first == "authorization"; }),
        anonymous.headers.end());
    EXPECT_TRUE(IsJsonError(Replay(server->port(), anonymous), 401));
  }
}

std::string FixtureName(const ::testing::TestParamInfo<PluginFixture>& info) {
  std::string name = info.param.name;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Plugins, PluginFixtureTest, ::testing::ValuesIn(AllFixtures()),
                         FixtureName);

TEST(PluginFixtureFiles, AllFortyLoad) {
  std::string error;
  std::vector<PluginFixture> fixtures = LoadPluginFixtures(&error);
  ASSERT_TRUE(error.empty()) << error << " (SharedDir() = " << SharedDir() << ")";
  EXPECT_EQ(fixtures.size(), kExpectedFixtures);
  for (const PluginFixture& f : fixtures) {
    std::string length = f.Header("content-length");
    if (f.has_body) {
      EXPECT_EQ(length, std::to_string(f.raw_body.size())) << f.name << ": content-length as given";
    } else {
      EXPECT_TRUE(length.empty()) << f.name;
    }
  }
}

class PluginFixtureSequenceTest : public PluginFixtureTest {};

// All no-auth fixtures, in file order, on one keep-alive connection (as a browser reuses one).
TEST_F(PluginFixtureSequenceTest, AllOnOneKeepAliveConnection) {
  RawConnection c;
  std::string error;
  ASSERT_TRUE(c.Connect(plain_->port(), &error)) << error;
  std::string host = fmt::format("127.0.0.1:{}", plain_->port());
  int replayed = 0;
  for (const PluginFixture& f : AllFixtures()) {
    if (!f.Header("authorization").empty()) continue;
    SCOPED_TRACE(f.name);
    ASSERT_TRUE(c.Send(f.RequestBytes(host), &error)) << error;
    HttpResponse r = c.ReadResponse(f.method == "HEAD");
    CheckResponse(f, r);
    ASSERT_TRUE(r.keep_alive) << "server closed the connection after " << f.name;
    ++replayed;
  }
  EXPECT_GE(replayed, 30);
}

}  // namespace
}  // namespace sluice::testing
