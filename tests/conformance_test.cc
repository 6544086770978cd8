// PROTOCOL.md §16: the 70 conformance cases, one TEST per case (CaseNN_...), against the real
// server.
//
// The suite starts `sluice serve --demo` once on 127.0.0.1:0; the auth cases use a second server
// whose config enables basic auth, tokens and a 64 KiB body limit, and the mount-prefix case a
// third with base_path "/prefix" (both started on first use). Requests use fixed absolute ranges,
// so the deterministic demo data makes responses comparable byte for byte between equivalent
// requests.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "testing/annotations.h"
#include "testing/demo_data.h"
#include "testing/http_client.h"
#include "testing/json.h"
#include "testing/protocol_checks.h"
#include "testing/server_process.h"

namespace sluice::testing {
namespace {

using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;
using ::testing::IsSupersetOf;
using ::testing::UnorderedElementsAreArray;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kFrom = "2026-11-23T13:30:00.000Z";
constexpr std::string_view kTo = "2026-11-23T19:30:00.000Z";
constexpr int64_t kFromMs = 1795440600000;
constexpr int64_t kToMs = 1795462200000;
constexpr std::string_view kDayFrom = "2026-11-23T00:00:00.000Z";
constexpr std::string_view kDayTo = "2026-11-24T00:00:00.000Z";
constexpr int64_t kDayFromMs = 1795392000000;
constexpr int64_t kDayToMs = 1795478400000;
constexpr std::string_view kOrigin = "http://grafana:3000";
constexpr std::string_view kBasicGood = "Basic dXNlcjpzZWNyZXQ=";  // user:secret
constexpr std::string_view kBasicBad = "Basic dXNlcjp3cm9uZw==";   // user:wrong

constexpr std::string_view kAuthConfig = R"toml(
[http]
body_limit = 65536
[auth]
basic = [{ user = "user", password = "secret" }]
tokens = ["tok-123"]
api_key_header = "X-API-Key"
[cors]
allowed_origins = ["*"]
)toml";

constexpr std::string_view kPrefixConfig = R"toml(
[http]
base_path = "/prefix"
)toml";

std::string RangeJson(std::string_view from = kFrom, std::string_view to = kTo,
                      std::string_view raw_from = "now-6h", std::string_view raw_to = "now") {
  return fmt::format(R"("range":{{"from":"{}","to":"{}","raw":{{"from":"{}","to":"{}"}}}})", from,
                     to, raw_from, raw_to);
}

// A /query body over [kFrom, kTo]. `targets` is the inside of the targets array; `extra` holds more
// top-level members, each starting with ','.
std::string QueryBody(std::string_view targets, std::string_view extra = "", int max_points = 500,
                      int64_t interval_ms = 30'000, std::string_view range = "") {
  return fmt::format(R"({{{},"intervalMs":{},"maxDataPoints":{},"targets":[{}]{}}})",
                     range.empty() ? RangeJson() : std::string(range), interval_ms, max_points,
                     targets, extra);
}

std::string TargetJson(std::string_view target, std::string_view ref_id,
                       std::string_view extra = "") {
  return fmt::format(R"({{"target":{},"refId":{}{}}})", JsonQuote(target), JsonQuote(ref_id),
                     extra);
}

std::string FilterJson(std::string_view key, std::string_view op, std::string_view value) {
  return fmt::format(R"({{"key":{},"operator":{},"value":{}}})", JsonQuote(key), JsonQuote(op),
                     JsonQuote(value));
}

HttpResponse TransportFailure(std::string error) {
  HttpResponse r;
  r.error = std::move(error);
  return r;
}

// Sends exact bytes on a fresh connection and reads one response.
HttpResponse RawExchange(uint16_t port, const std::string& bytes, bool head = false,
                         int timeout_ms = 30'000) {
  RawConnection c;
  std::string error;
  if (!c.Connect(port, &error)) return TransportFailure(error);
  if (!c.Send(bytes, &error)) {
    HttpResponse early = c.ReadResponse(head, 5'000);  // e.g. 413 before the body was read
    return early.status != 0 ? early : TransportFailure(error);
  }
  return c.ReadResponse(head, timeout_ms);
}

// The elements of a JSON array body, each in canonical form, sorted: compares two responses while
// ignoring element order (PROTOCOL.md §5.4: order across series is free).
std::vector<std::string> SortedElements(const std::string& body) {
  JsonDoc doc = JsonDoc::Parse(body);
  std::vector<std::string> out;
  for (JsonElement e : Elements(doc.root())) out.push_back(CanonicalJson(e));
  std::sort(out.begin(), out.end());
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Host names of the app.<host>.<kind> series in a response.
std::set<std::string> AppHosts(const QueryView& view) {
  std::set<std::string> out;
  for (const SeriesView& s : view.series) {
    if (s.target.rfind("app.", 0) != 0) continue;
    size_t dot = s.target.find('.', 4);
    out.insert(s.target.substr(4, dot - 4));
  }
  return out;
}

std::string AnnotationsBody(std::string_view annotation, std::string_view from = kDayFrom,
                            std::string_view to = kDayTo) {
  return fmt::format(R"({{{},"annotation":{},"rangeRaw":{{"from":"now-24h","to":"now"}}}})",
                     RangeJson(from, to, "now-24h", "now"), annotation);
}

// ---- the fixture ----

class ConformanceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RaiseFileLimit();
    server_ = ServerProcess::Start(ServerConfig{}, &start_error_);
  }

  static void TearDownTestSuite() {
    for (auto* s : {&server_, &auth_server_, &prefix_server_}) {
      if (!*s) continue;
      bool alive = (*s)->Alive();
      int code = (*s)->Stop();
      if (!alive || code != 0) {
        ADD_FAILURE() << "server " << (*s)->ready_line() << " ended with code " << code
                      << (alive ? " after SIGTERM" : " before the suite ended (crash?)")
                      << "; stderr: " << (*s)->StderrText();
      }
      s->reset();
    }
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr) << start_error_;
    ASSERT_TRUE(server_->Alive()) << "the demo server died; stderr: " << server_->StderrText();
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  static ServerProcess* AuthServer() {
    if (!auth_server_ && auth_error_.empty()) {
      ServerConfig config;
      config.config_toml = std::string(kAuthConfig);
      auth_server_ = ServerProcess::Start(config, &auth_error_);
    }
    return auth_server_.get();
  }

  static ServerProcess* PrefixServer() {
    if (!prefix_server_ && prefix_error_.empty()) {
      ServerConfig config;
      config.config_toml = std::string(kPrefixConfig);
      prefix_server_ = ServerProcess::Start(config, &prefix_error_);
    }
    return prefix_server_.get();
  }

  uint16_t port() const { return server_->port(); }

  HttpResponse Post(std::string_view path, std::string_view body, const Headers& extra = {}) {
    Headers headers = GrafanaHeaders();
    headers.insert(headers.end(), extra.begin(), extra.end());
    return client_->Request("POST", path, body, headers);
  }

  HttpResponse Get(std::string_view path, const Headers& extra = {}) {
    Headers headers = GrafanaHeaders();
    headers.insert(headers.end(), extra.begin(), extra.end());
    return client_->Request("GET", path, "", headers);
  }

  // POSTs a /query body and validates the response shape; failures are recorded, and the view is
  // empty then.
  QueryView Query(std::string_view body, int64_t max_points = 0) {
    HttpResponse r = Post("/query", body);
    QueryView view;
    AssertionResult ok = ParseQueryResponse(r, &view, max_points);
    EXPECT_TRUE(ok) << "request: " << body.substr(0, 400);
    if (!ok) return QueryView();
    return view;
  }

  // The /search result as a list of strings (validated: array of strings).
  std::vector<std::string> Search(std::string_view body) {
    HttpResponse r = Post("/search", body);
    EXPECT_TRUE(IsJsonArray(r)) << "request: " << body;
    JsonDoc doc = JsonDoc::Parse(r.body);
    std::vector<std::string> out;
    for (JsonElement e : Elements(doc.root())) {
      auto s = AsString(e);
      EXPECT_TRUE(s.has_value()) << "/search element is not a string: " << ToJson(e);
      if (s) out.push_back(*s);
    }
    return out;
  }

  std::vector<Event> OldAnnotations(std::string_view annotation) {
    std::vector<Event> events;
    HttpResponse r = Post("/annotations", AnnotationsBody(annotation));
    EXPECT_TRUE(ParseOldAnnotations(r, &events)) << annotation;
    return events;
  }

  static inline std::unique_ptr<ServerProcess> server_;
  static inline std::string start_error_;
  static inline std::unique_ptr<ServerProcess> auth_server_;
  static inline std::string auth_error_;
  static inline std::unique_ptr<ServerProcess> prefix_server_;
  static inline std::string prefix_error_;
  std::unique_ptr<HttpClient> client_;
};

HttpResponse Preflight(HttpClient& client, std::string_view path) {
  return client.Request(
      "OPTIONS", path, "",
      {{"Origin", std::string(kOrigin)},
       {"Access-Control-Request-Method", "POST"},
       {"Access-Control-Request-Headers", "content-type,authorization,x-grafana-device-id"}});
}

AssertionResult IsGoodPreflight(const HttpResponse& r) {
  if (r.status != 200 && r.status != 204) {
    return AssertionFailure() << "preflight status not 200/204: " << r.Describe();
  }
  AssertionResult cors = HasCorsHeaders(r, kOrigin);
  if (!cors) return cors;
  std::set<std::string> methods = HeaderTokens(r.Header("Access-Control-Allow-Methods"));
  for (const char* m : {"get", "post", "options"}) {
    if (!methods.count(m)) {
      return AssertionFailure() << "Access-Control-Allow-Methods lacks " << m << ": \""
                                << r.Header("Access-Control-Allow-Methods") << "\"";
    }
  }
  std::set<std::string> headers = HeaderTokens(r.Header("Access-Control-Allow-Headers"));
  for (const char* h : {"content-type", "authorization", "x-grafana-device-id"}) {
    if (!headers.count(h)) {
      return AssertionFailure() << "Access-Control-Allow-Headers lacks " << h << ": \""
                                << r.Header("Access-Control-Allow-Headers") << "\"";
    }
  }
  return AssertionSuccess();
}

const std::string kUpper25A = TargetJson("upper_25", "A");

// ================= Health / routing =================

TEST_F(ConformanceTest, Case01_GetRootWithoutBodyIsJson200) {
  HttpResponse r =
      client_->Request("GET", "/", "", {{"Accept", "application/json, text/plain, */*"}});
  ASSERT_TRUE(IsJsonResponse(r, 200));
  JsonDoc doc = JsonDoc::Parse(r.body);
  EXPECT_TRUE(IsObject(doc.root())) << "health body should be an object like {}: " << r.body;
}

TEST_F(ConformanceTest, Case02_GetRootWithJsonContentTypeAndNoBody) {
  std::string bytes = fmt::format(
      "GET / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n"
      "Accept: application/json, text/plain, */*\r\n\r\n",
      port());
  HttpResponse r = RawExchange(port(), bytes);
  EXPECT_TRUE(IsJsonResponse(r, 200));
  // The same on a keep-alive connection: the server must not wait for (or eat) a body.
  for (int i = 0; i < 3; ++i) {
    HttpResponse again = Get("/");
    EXPECT_TRUE(IsJsonResponse(again, 200)) << "request " << i;
  }
  EXPECT_EQ(client_->connects(), 1);
}

TEST_F(ConformanceTest, Case03_PrefixWithAndWithoutTrailingSlash) {
  // Default server: any mount prefix works.
  for (const char* path : {"/prefix", "/prefix/", "/api/grafana/json", "/api/grafana/json/"}) {
    EXPECT_TRUE(IsJsonResponse(Get(path), 200)) << path;
  }
  // A server mounted at /prefix by configuration.
  ServerProcess* prefixed = PrefixServer();
  ASSERT_NE(prefixed, nullptr) << prefix_error_;
  HttpClient client(prefixed->port());
  for (const char* path : {"/prefix", "/prefix/"}) {
    EXPECT_TRUE(IsJsonResponse(client.Request("GET", path, "", GrafanaHeaders()), 200)) << path;
  }
  HttpResponse q = client.Request("POST", "/prefix/query", QueryBody(kUpper25A), GrafanaHeaders());
  QueryView view;
  ASSERT_TRUE(ParseQueryResponse(q, &view));
  EXPECT_FALSE(view.SeriesNamed("upper_25").empty()) << q.body.substr(0, 300);
}

TEST_F(ConformanceTest, Case04_PostRootWithEmptyObject) {
  HttpResponse r = Post("/", "{}");
  EXPECT_TRUE(IsJsonResponse(r, 200));
}

TEST_F(ConformanceTest, Case05_HeadRootIs200Or405) {
  HttpResponse r = client_->Request("HEAD", "/", "", GrafanaHeaders());
  ASSERT_NE(r.status, 0) << r.error;
  EXPECT_TRUE(r.status == 200 || r.status == 405) << r.Describe();
  EXPECT_TRUE(r.body.empty()) << "HEAD response carries a body";
  // Framing was right if the connection still works.
  EXPECT_TRUE(IsJsonResponse(Get("/"), 200));
}

TEST_F(ConformanceTest, Case06_DoubleAndTrailingSlashRouteToQuery) {
  std::string body = QueryBody(kUpper25A);
  HttpResponse base = Post("/query", body);
  QueryView view;
  ASSERT_TRUE(ParseQueryResponse(base, &view));
  ASSERT_FALSE(view.SeriesNamed("upper_25").empty());
  for (const char* path : {"//query", "/query/", "///query//", "/prefix//query/"}) {
    HttpResponse r = Post(path, body);
    EXPECT_TRUE(IsJsonArray(r)) << path;
    EXPECT_EQ(r.body, base.body) << path;
  }
}

TEST_F(ConformanceTest, Case07_UnknownPathIs404Json) {
  HttpResponse r = Post("/nope", "{}");
  EXPECT_TRUE(IsJsonError(r, 404));
}

TEST_F(ConformanceTest, Case08_GetQueryIs405Json) {
  HttpResponse r = Get("/query");
  ASSERT_NE(r.status, 0) << r.error;
  ASSERT_TRUE(r.status == 405 || r.status == 400) << r.Describe();
  EXPECT_TRUE(IsJsonError(r, r.status));
  if (r.status == 405) {
    EXPECT_TRUE(HeaderTokens(r.Header("Allow")).count("post")) << "Allow: " << r.Header("Allow");
  }
}

TEST_F(ConformanceTest, Case09_QueryStringIgnored) {
  std::string body = QueryBody(kUpper25A);
  HttpResponse plain = Post("/query", body);
  HttpResponse with_query = Post("/query?x=1&orgId=1", body);
  ASSERT_TRUE(IsJsonArray(plain));
  EXPECT_EQ(with_query.body, plain.body);
  EXPECT_EQ(Post("/search?x=1", R"({"target":"upper"})").body,
            Post("/search", R"({"target":"upper"})").body);
  EXPECT_TRUE(IsJsonResponse(Get("/?x=1"), 200));
}

// ================= CORS / auth =================

TEST_F(ConformanceTest, Case10_PreflightForQueryWithoutAuthorization) {
  EXPECT_TRUE(IsGoodPreflight(Preflight(*client_, "/query"))) << "demo server";
  ServerProcess* auth = AuthServer();
  ASSERT_NE(auth, nullptr) << auth_error_;
  HttpClient client(auth->port());
  EXPECT_TRUE(IsGoodPreflight(Preflight(client, "/query"))) << "auth server, no credentials";
}

TEST_F(ConformanceTest, Case11_PreflightOnEveryEndpoint) {
  ServerProcess* auth = AuthServer();
  ASSERT_NE(auth, nullptr) << auth_error_;
  HttpClient auth_client(auth->port());
  for (const char* path : {"/", "/search", "/annotations", "/metrics", "/metric-payload-options",
                           "/variable", "/tag-keys", "/tag-values", "/nope", "/prefix/query"}) {
    EXPECT_TRUE(IsGoodPreflight(Preflight(*client_, path))) << "demo server " << path;
    EXPECT_TRUE(IsGoodPreflight(Preflight(auth_client, path))) << "auth server " << path;
  }
}

TEST_F(ConformanceTest, Case12_ActualResponsesCarryCorsHeaders) {
  Headers origin = {{"Origin", std::string(kOrigin)}};
  HttpResponse ok = Post("/query", QueryBody(kUpper25A), origin);
  EXPECT_TRUE(IsJsonArray(ok));
  EXPECT_TRUE(HasCorsHeaders(ok, kOrigin)) << "200";
  HttpResponse bad = Post("/query", "{not json", origin);
  EXPECT_TRUE(IsJsonError(bad, 400));
  EXPECT_TRUE(HasCorsHeaders(bad, kOrigin)) << "400";
  HttpResponse missing = Post("/nope", "{}", origin);
  EXPECT_TRUE(IsJsonError(missing, 404));
  EXPECT_TRUE(HasCorsHeaders(missing, kOrigin)) << "404";
  HttpResponse health = Get("/", origin);
  EXPECT_TRUE(HasCorsHeaders(health, kOrigin)) << "GET /";

  ServerProcess* auth = AuthServer();
  ASSERT_NE(auth, nullptr) << auth_error_;
  HttpClient client(auth->port());
  Headers headers = GrafanaHeaders();
  headers.insert(headers.end(), origin.begin(), origin.end());
  HttpResponse unauthorized = client.Request("POST", "/query", QueryBody(kUpper25A), headers);
  EXPECT_TRUE(IsJsonError(unauthorized, 401));
  EXPECT_TRUE(HasCorsHeaders(unauthorized, kOrigin)) << "401";
}

TEST_F(ConformanceTest, Case13_BasicAuth) {
  ServerProcess* auth = AuthServer();
  ASSERT_NE(auth, nullptr) << auth_error_;
  HttpClient client(auth->port());
  auto with = [](std::string_view authorization) {
    Headers h = GrafanaHeaders();
    if (!authorization.empty()) h.emplace_back("Authorization", std::string(authorization));
    return h;
  };
  EXPECT_TRUE(IsJsonResponse(client.Request("GET", "/", "", with(kBasicGood)), 200));
  HttpResponse q = client.Request("POST", "/query", QueryBody(kUpper25A), with(kBasicGood));
  QueryView view;
  EXPECT_TRUE(ParseQueryResponse(q, &view));
  EXPECT_FALSE(view.SeriesNamed("upper_25").empty());
  EXPECT_TRUE(IsJsonArray(client.Request("POST", "/search", "{}", with("Bearer tok-123"))))
      << "bearer token";

  struct Bad {
    const char* what;
    std::string authorization;
  };
  for (const Bad& bad : {Bad{"missing", ""}, Bad{"wrong password", std::string(kBasicBad)},
                         Bad{"garbage", "Basic !!!notbase64"}, Bad{"wrong token", "Bearer nope"}}) {
    for (const char* path : {"/", "/query", "/search"}) {
      HttpResponse r = client.Request(path[1] == 0 ? "GET" : "POST", path, path[1] == 0 ? "" : "{}",
                                      with(bad.authorization));
      EXPECT_TRUE(IsJsonError(r, 401)) << bad.what << " " << path;
      EXPECT_FALSE(Lower(r.Header("WWW-Authenticate")).find("basic") != std::string::npos)
          << "401 must not prompt the browser: WWW-Authenticate: " << r.Header("WWW-Authenticate");
    }
  }
}

TEST_F(ConformanceTest, Case14_ApiKeyHeaderNameIsCaseInsensitive) {
  ServerProcess* auth = AuthServer();
  ASSERT_NE(auth, nullptr) << auth_error_;
  HttpClient client(auth->port());
  for (const char* name : {"X-API-Key", "x-api-key", "X-Api-KEY"}) {
    Headers h = GrafanaHeaders();
    h.emplace_back(name, "tok-123");
    EXPECT_TRUE(IsJsonArray(client.Request("POST", "/query", QueryBody(kUpper25A), h))) << name;
    Headers wrong = GrafanaHeaders();
    wrong.emplace_back(name, "tok-999");
    EXPECT_TRUE(IsJsonError(client.Request("POST", "/query", QueryBody(kUpper25A), wrong), 401))
        << name;
  }
}

TEST_F(ConformanceTest, Case15_GrafanaProxyHeadersDoNotMatter) {
  std::string body = QueryBody(kUpper25A);
  HttpResponse plain = Post("/query", body);
  ASSERT_TRUE(IsJsonArray(plain));
  HttpResponse proxied =
      Post("/query", body,
           {{"X-Grafana-Org-Id", "1"},
            {"X-Grafana-User", "admin"},
            {"X-Forwarded-For", "10.1.2.3, 127.0.0.1"},
            {"User-Agent", "Grafana/11.6.0"},
            {"X-Grafana-Device-Id", "3f2a9c"},
            {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}});
  EXPECT_TRUE(IsJsonArray(proxied));
  EXPECT_EQ(proxied.body, plain.body);
}

// ================= /query requests =================

std::string OldQueryBody() {
  return fmt::format(
      R"({{"panelId":1,{},"rangeRaw":{{"from":"now-6h","to":"now"}},"interval":"30s",)"
      R"("intervalMs":30000,"maxDataPoints":550,"format":"json","scopedVars":{{}},)"
      R"("targets":[{{"target":"upper_25","refId":"A","type":"timeserie"}},)"
      R"({{"target":"upper_50","refId":"B","type":"timeserie"}}],"adhocFilters":[]}})",
      RangeJson());
}

std::string NewQueryBody() {
  return fmt::format(
      R"({{"requestId":"Q1","app":"dashboard","timezone":"browser",{},)"
      R"("rangeRaw":{{"from":"now-6h","to":"now"}},"interval":"30s","intervalMs":30000,)"
      R"("maxDataPoints":550,"startTime":0,"liveStreaming":false,"groupByKeys":[],"scopes":[],)"
      R"("scopedVars":{{"env":{{"selected":false,"text":"prod","value":"prod"}},)"
      R"("__interval":{{"text":"30s","value":"30s"}}}},"filters":[],)"
      R"("targets":[{{"refId":"A","target":"upper_25","payload":{{"hosts":["a","b"],"e":"prod"}},)"
      R"("editorMode":"code","datasource":{{"type":"simpod-json-datasource","uid":"u"}},"key":"Q-1"}},)"
      R"({{"refId":"B","target":"upper_50","payload":{{}},"hide":false,"editorMode":"builder",)"
      R"("datasource":{{"type":"simpod-json-datasource","uid":"u"}}}}]}})",
      RangeJson());
}

TEST_F(ConformanceTest, Case16_OldBodyTwoTimeseriesTargets) {
  QueryView view = Query(OldQueryBody(), 550);
  for (auto [ref, name] : {std::pair{"A", "upper_25"}, std::pair{"B", "upper_50"}}) {
    auto series = view.SeriesFor(ref);
    ASSERT_GE(series.size(), 1u) << "no series for refId " << ref;
    for (const SeriesView* s : series) {
      EXPECT_EQ(s->target, name);
      EXPECT_FALSE(s->points.empty()) << name;
    }
  }
}

TEST_F(ConformanceTest, Case17_NewBodyWithExtraKeysSameAsOld) {
  QueryView view = Query(NewQueryBody(), 550);
  EXPECT_EQ(view.SeriesFor("A").size(), 1u);
  EXPECT_EQ(view.SeriesFor("B").size(), 1u);
  HttpResponse old_r = Post("/query", OldQueryBody());
  HttpResponse new_r = Post("/query", NewQueryBody());
  ASSERT_TRUE(IsJsonArray(new_r));
  EXPECT_EQ(SortedElements(new_r.body), SortedElements(old_r.body));
}

TEST_F(ConformanceTest, Case18_TableAndTimeseriesTypes) {
  QueryView table = Query(QueryBody(TargetJson("upper_25", "T", R"(,"type":"table")")));
  ASSERT_EQ(table.tables.size(), 1u);
  EXPECT_TRUE(table.series.empty());
  const TableView& t = table.tables[0];
  EXPECT_EQ(t.ref_id.value_or(""), "T");
  EXPECT_EQ(t.type.value_or(""), "table");
  ASSERT_GE(t.columns.size(), 2u);
  EXPECT_EQ(t.columns[0], (std::pair<std::string, std::string>("Time", "time")));
  EXPECT_EQ(t.columns[1], (std::pair<std::string, std::string>("Value", "number")));
  std::set<std::string> tag_columns;
  for (size_t i = 2; i < t.columns.size(); ++i) {
    EXPECT_EQ(t.columns[i].second, "string") << t.columns[i].first;
    tag_columns.insert(t.columns[i].first);
  }
  EXPECT_THAT(tag_columns, IsSupersetOf({"City", "host", "env", "region"}));
  EXPECT_FALSE(t.rows.empty());
  int city = t.Column("City");
  for (const auto& row : t.rows) {
    if (city >= 0) {
      EXPECT_EQ(row[city], "\"Berlin\"");
    }
  }

  // payload {"format":"table"} is the NEW plugin's way to ask for a table.
  QueryView by_payload =
      Query(QueryBody(TargetJson("upper_25", "T", R"(,"payload":{"format":"table"})")));
  ASSERT_EQ(by_payload.tables.size(), 1u);
  EXPECT_EQ(by_payload.tables[0].columns, t.columns);
  EXPECT_EQ(by_payload.tables[0].rows, t.rows);

  // "timeserie", no type, and NEW 0.2's "timeseries" all give the same timeseries.
  std::vector<std::string> bodies;
  for (const char* extra : {R"(,"type":"timeserie")", "", R"(,"type":"timeseries")"}) {
    HttpResponse r = Post("/query", QueryBody(TargetJson("upper_25", "A", extra)));
    QueryView view;
    ASSERT_TRUE(ParseQueryResponse(r, &view)) << extra;
    EXPECT_TRUE(view.tables.empty()) << extra;
    EXPECT_EQ(view.SeriesFor("A").size(), 1u) << extra;
    bodies.push_back(r.body);
  }
  EXPECT_EQ(bodies[0], bodies[1]);
  EXPECT_EQ(bodies[0], bodies[2]);
}

TEST_F(ConformanceTest, Case19_HiddenTargetsSkipped) {
  QueryView view =
      Query(QueryBody(kUpper25A + "," + TargetJson("upper_50", "H", R"(,"hide":true)")));
  EXPECT_EQ(view.SeriesFor("A").size(), 1u);
  EXPECT_TRUE(view.SeriesFor("H").empty()) << "hidden target H was answered";
  EXPECT_TRUE(view.SeriesNamed("upper_50").empty());

  HttpResponse all_hidden =
      Post("/query", QueryBody(TargetJson("upper_25", "A", R"(,"hide":true)") + "," +
                               TargetJson("upper_50", "B", R"(,"hide":true)")));
  ASSERT_TRUE(IsJsonArray(all_hidden));
  EXPECT_EQ(CanonicalJson(all_hidden.body), "[]");
}

TEST_F(ConformanceTest, Case20_EmptyTargets) {
  HttpResponse r = Post("/query", QueryBody(""));
  ASSERT_TRUE(IsJsonArray(r));
  EXPECT_EQ(CanonicalJson(r.body), "[]");
}

TEST_F(ConformanceTest, Case21_MinimalBodyUsesDefaultRange) {
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  QueryView view = Query(R"({"targets":[{"target":"upper_25"}]})");
  auto series = view.SeriesNamed("upper_25");
  ASSERT_EQ(series.size(), 1u);
  const SeriesView& s = *series[0];
  EXPECT_TRUE(!s.ref_id || *s.ref_id == "A") << "refId " << *s.ref_id;
  ASSERT_FALSE(s.points.empty());
  // A default range ending now (e.g. the last 6 h): data up to about now, nothing from the future,
  // nothing older than a day.
  EXPECT_LE(s.points.back().time_ms, now_ms + 60'000);
  EXPECT_GE(s.points.back().time_ms, now_ms - 3'600'000);
  EXPECT_GE(s.points.front().time_ms, now_ms - 25 * 3'600'000LL);
}

TEST_F(ConformanceTest, Case22_RangeFormats) {
  auto body_for = [](std::string_view from, std::string_view to) {
    return QueryBody(kUpper25A, "", 500, 10'000, RangeJson(from, to));
  };
  HttpResponse with_ms =
      Post("/query", body_for("2026-11-23T13:30:00.000Z", "2026-11-23T14:30:00.000Z"));
  QueryView view;
  ASSERT_TRUE(ParseQueryResponse(with_ms, &view));
  ASSERT_EQ(view.series.size(), 1u);
  ASSERT_FALSE(view.series[0].points.empty());
  for (const Datapoint& p : view.series[0].points) {
    EXPECT_GE(p.time_ms, kFromMs);
    EXPECT_LE(p.time_ms, kFromMs + 3'600'000);
  }
  HttpResponse no_ms = Post("/query", body_for("2026-11-23T13:30:00Z", "2026-11-23T14:30:00Z"));
  EXPECT_EQ(no_ms.body, with_ms.body) << "without milliseconds";
  HttpResponse offset =
      Post("/query", body_for("2026-11-23T15:30:00+02:00", "2026-11-23T16:30:00.000+02:00"));
  EXPECT_EQ(offset.body, with_ms.body) << "with +02:00 offsets";
  HttpResponse spec_example =
      Post("/query", body_for("2016-10-31T06:33:44Z", "2016-10-31T07:33:44Z"));
  QueryView old_view;
  EXPECT_TRUE(ParseQueryResponse(spec_example, &old_view));
  EXPECT_EQ(old_view.series.size(), 1u) << "2016 range";

  HttpResponse reversed = Post("/query", body_for("2026-11-23T14:30:00Z", "2026-11-23T13:30:00Z"));
  ASSERT_TRUE(IsNot5xx(reversed));
  if (reversed.status == 400) {
    EXPECT_TRUE(IsJsonError(reversed, 400));
  } else {
    QueryView rv;
    ASSERT_TRUE(ParseQueryResponse(reversed, &rv));
    for (const SeriesView& s : rv.series) EXPECT_TRUE(s.points.empty()) << "from > to gave data";
  }
}

TEST_F(ConformanceTest, Case23_RawRangeDoesNotMatter) {
  std::string relative =
      QueryBody(kUpper25A, "", 500, 30'000, RangeJson(kFrom, kTo, "now-6h", "now"));
  std::string absolute = QueryBody(kUpper25A, "", 500, 30'000, RangeJson(kFrom, kTo, kFrom, kTo));
  std::string with_raw_root =
      QueryBody(kUpper25A, R"(,"rangeRaw":{"from":"now-1d/d","to":"now/d"})");
  HttpResponse a = Post("/query", relative);
  ASSERT_TRUE(IsJsonArray(a));
  EXPECT_EQ(Post("/query", absolute).body, a.body);
  EXPECT_EQ(Post("/query", with_raw_root).body, a.body);
}

// 1000 raw points: [kFromMs, kFromMs + 9990 s] at the 10 s demo step.
std::string ThousandPointRange() {
  return RangeJson("2026-11-23T13:30:00.000Z", "2026-11-23T16:16:30.000Z");
}

TEST_F(ConformanceTest, Case24_MaxDataPointsAndMinimumInterval) {
  QueryView raw = Query(QueryBody(kUpper25A, "", 5000, 10'000, ThousandPointRange()));
  ASSERT_EQ(raw.series.size(), 1u);
  EXPECT_NEAR(static_cast<double>(raw.series[0].points.size()), 1000.0, 1.0)
      << "premise: 1000 raw points at a 10 s step";

  QueryView ten = Query(QueryBody(kUpper25A, "", 10, 1'000, ThousandPointRange()), 10);
  ASSERT_EQ(ten.series.size(), 1u);
  EXPECT_LE(ten.series[0].points.size(), 10u);
  EXPECT_GE(ten.series[0].points.size(), 5u) << "consolidated far below maxDataPoints";

  // intervalMs is the minimum bucket width, even when maxDataPoints would allow more points.
  QueryView wide = Query(QueryBody(kUpper25A, "", 1000, 60'000, ThousandPointRange()), 1000);
  ASSERT_EQ(wide.series.size(), 1u);
  const auto& points = wide.series[0].points;
  ASSERT_GE(points.size(), 2u);
  EXPECT_LE(points.size(), 10'000'000u / 60'000u + 2);
  for (size_t i = 1; i < points.size(); ++i) {
    EXPECT_GE(points[i].time_ms - points[i - 1].time_ms, 60'000) << "at point " << i;
  }
}

TEST_F(ConformanceTest, Case24_ConsolidateByPayloadAndTargetFunction) {
  auto run = [&](std::string_view target, std::string_view extra) {
    QueryView v =
        Query(QueryBody(TargetJson(target, "A", extra), "", 10, 1'000, ThousandPointRange()), 10);
    EXPECT_EQ(v.series.size(), 1u) << target << extra;
    return v.series.empty() ? std::vector<Datapoint>() : v.series[0].points;
  };
  std::vector<Datapoint> avg_default = run("upper_25", "");
  std::vector<Datapoint> avg = run("upper_25", R"(,"payload":{"consolidateBy":"avg"})");
  std::vector<Datapoint> min = run("upper_25", R"(,"payload":{"consolidateBy":"min"})");
  std::vector<Datapoint> max = run("upper_25", R"(,"payload":{"consolidateBy":"max"})");
  std::vector<Datapoint> sum = run("upper_25", R"(,"payload":{"consolidateBy":"sum"})");
  std::vector<Datapoint> last = run("upper_25", R"(,"payload":{"consolidateBy":"last"})");
  std::vector<Datapoint> max_fn = run("consolidateBy(upper_25, 'max')", "");
  ASSERT_FALSE(avg.empty());
  for (const auto* other : {&avg_default, &min, &max, &sum, &last, &max_fn}) {
    ASSERT_EQ(other->size(), avg.size());
  }
  bool any_spread = false;
  for (size_t i = 0; i < avg.size(); ++i) {
    ASSERT_TRUE(avg[i].value && min[i].value && max[i].value && sum[i].value && last[i].value);
    EXPECT_EQ(avg_default[i].value, avg[i].value) << "avg is the default";
    EXPECT_EQ(max_fn[i].value, max[i].value) << "consolidateBy(upper_25, 'max') == payload max";
    EXPECT_EQ(min[i].time_ms, avg[i].time_ms);
    EXPECT_LE(*min[i].value, *avg[i].value + 1e-9);
    EXPECT_LE(*avg[i].value, *max[i].value + 1e-9);
    EXPECT_GE(*last[i].value, *min[i].value - 1e-9);
    EXPECT_LE(*last[i].value, *max[i].value + 1e-9);
    // sum = avg * samples in the bucket (~100 raw points per bucket here).
    double samples = *sum[i].value / *avg[i].value;
    if (*avg[i].value != 0) {
      EXPECT_GE(samples, 1.0 - 1e-6) << "sum/avg at bucket " << i;
      EXPECT_NEAR(samples, std::round(samples), 1e-6) << "sum/avg at bucket " << i;
    }
    any_spread = any_spread || *max[i].value > *min[i].value;
  }
  EXPECT_TRUE(any_spread) << "min == max in every bucket: nothing was consolidated";
}

TEST_F(ConformanceTest, Case25_MissingOrZeroIntervalAndMaxDataPoints) {
  std::vector<std::string> bodies = {
      fmt::format(R"({{{},"targets":[{}]}})", RangeJson(), kUpper25A),
      fmt::format(R"({{{},"intervalMs":0,"maxDataPoints":0,"targets":[{}]}})", RangeJson(),
                  kUpper25A),
      fmt::format(R"({{{},"intervalMs":0,"maxDataPoints":500,"targets":[{}]}})", RangeJson(),
                  kUpper25A),
      fmt::format(R"({{{},"intervalMs":30000,"maxDataPoints":0,"targets":[{}]}})", RangeJson(),
                  kUpper25A),
      fmt::format(R"({{{},"interval":"0s","intervalMs":0,"targets":[{}]}})", RangeJson(),
                  kUpper25A),
  };
  for (const std::string& body : bodies) {
    QueryView view = Query(body);
    ASSERT_EQ(view.series.size(), 1u) << body;
    EXPECT_FALSE(view.series[0].points.empty()) << body;
  }
  EXPECT_TRUE(server_->Alive());
}

TEST_F(ConformanceTest, Case26_RegexEscapedTargets) {
  QueryView escaped = Query(QueryBody(TargetJson(R"(cpu\.total)", "A")));
  EXPECT_THAT(escaped.Targets(), UnorderedElementsAreArray({"cpu.total"}));

  QueryView multi = Query(QueryBody(TargetJson(R"((upper_25|cpu\.total))", "A")));
  EXPECT_THAT(multi.Targets(), UnorderedElementsAreArray({"cpu.total", "upper_25"}))
      << "each named series exactly once";
  for (const SeriesView& s : multi.series) EXPECT_EQ(s.ref_id.value_or(""), "A");

  QueryView two = Query(QueryBody(TargetJson(R"((cpu\.user|cpu\.system))", "A")));
  EXPECT_THAT(two.Targets(), UnorderedElementsAreArray({"cpu.system", "cpu.user"}));

  QueryView glob = Query(QueryBody(TargetJson("{cpu.user,cpu.system}", "A")));
  EXPECT_THAT(glob.Targets(), UnorderedElementsAreArray({"cpu.system", "cpu.user"}));
}

TEST_F(ConformanceTest, Case27_UnresolvedVariable) {
  HttpResponse r = Post("/query", QueryBody(TargetJson("$host", "A")));
  ASSERT_TRUE(IsNot5xx(r));
  if (r.status == 400) {
    EXPECT_TRUE(IsJsonError(r, 400));
  } else {
    QueryView view;
    ASSERT_TRUE(ParseQueryResponse(r, &view));
    EXPECT_TRUE(view.series.empty() && view.tables.empty()) << r.body.substr(0, 300);
  }
  HttpResponse braces = Post("/query", QueryBody(TargetJson("app.${host}.cpu", "A")));
  EXPECT_TRUE(IsNot5xx(braces));
}

TEST_F(ConformanceTest, Case28_UnknownMetricOmittedConsistently) {
  std::string body = QueryBody(kUpper25A + "," + TargetJson("no.such.metric", "U"));
  HttpResponse first = Post("/query", body);
  QueryView view;
  ASSERT_TRUE(ParseQueryResponse(first, &view));
  EXPECT_TRUE(view.SeriesFor("U").empty()) << "unknown metric produced output";
  EXPECT_TRUE(view.TablesFor("U").empty());
  EXPECT_EQ(view.SeriesFor("A").size(), 1u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Post("/query", body).body, first.body) << "call " << i;
  HttpResponse only_unknown = Post("/query", QueryBody(TargetJson("no.such.metric", "U")));
  ASSERT_TRUE(IsJsonArray(only_unknown));
  EXPECT_EQ(CanonicalJson(only_unknown.body), "[]");
}

TEST_F(ConformanceTest, Case29_AdhocFiltersAndFiltersAreEquivalent) {
  std::string target = TargetJson("app.*.cpu", "A");
  std::string berlin = FilterJson("City", "=", "Berlin");
  std::string old_filter = fmt::format(
      R"(,"adhocFilters":[{{"key":"City","operator":"=","value":"Berlin","condition":""}}])");
  HttpResponse old_r = Post("/query", QueryBody(target, old_filter));
  HttpResponse new_r = Post("/query", QueryBody(target, ",\"filters\":[" + berlin + "]"));
  HttpResponse both =
      Post("/query", QueryBody(target, old_filter + ",\"filters\":[" + berlin + "]"));
  QueryView view;
  ASSERT_TRUE(ParseQueryResponse(old_r, &view));
  EXPECT_EQ(AppHosts(view), (std::set<std::string>{"db-1", "web-1"}));
  for (const SeriesView& s : view.series) EXPECT_EQ(s.tags.at("City"), "Berlin") << s.target;
  EXPECT_EQ(new_r.body, old_r.body) << "filters vs adhocFilters";
  EXPECT_EQ(both.body, old_r.body) << "both keys with the same filter: no duplicates";

  // Different filters under the two keys are all applied (ANDed).
  HttpResponse mixed = Post("/query", QueryBody(target, old_filter + ",\"filters\":[" +
                                                            FilterJson("host", "=", "db-1") + "]"));
  QueryView mixed_view;
  ASSERT_TRUE(ParseQueryResponse(mixed, &mixed_view));
  EXPECT_EQ(AppHosts(mixed_view), (std::set<std::string>{"db-1"}));
}

TEST_F(ConformanceTest, Case30_FilterOperators) {
  struct Case {
    std::string filter;
    std::set<std::string> hosts;
  };
  std::vector<Case> cases = {
      {FilterJson("City", "=", "Berlin"), {"web-1", "db-1"}},
      {FilterJson("City", "!=", "Berlin"), {"web-2", "web-3", "web-4", "db-2"}},
      {FilterJson("region", "=~", "eu-.*"), {"web-1", "web-2", "db-1"}},
      {FilterJson("region", "!~", "eu-.*"), {"web-3", "web-4", "db-2"}},
      {FilterJson("host", "<", "web"), {"db-1", "db-2"}},
      {FilterJson("host", ">", "web-2"), {"web-3", "web-4"}},
      {FilterJson("host", "<=", "web-2"), {"db-1", "db-2", "web-1", "web-2"}},
      {FilterJson("host", ">=", "web-3"), {"web-3", "web-4"}},
      {R"({"key":"City","operator":"=|","value":"Berlin","values":["Berlin","Tokyo"]})",
       {"web-1", "db-1", "web-4"}},
      {R"({"key":"City","operator":"!=|","value":"Berlin","values":["Berlin","Tokyo"]})",
       {"web-2", "web-3", "db-2"}},
  };
  for (const Case& c : cases) {
    QueryView view =
        Query(QueryBody(TargetJson("app.*.cpu", "A"), ",\"filters\":[" + c.filter + "]"));
    EXPECT_EQ(AppHosts(view), c.hosts) << c.filter;
  }
  // A series without the key has "" for it: = and =~ drop it, != keeps it (demo.* has no City).
  QueryView keep = Query(QueryBody(TargetJson("demo.*", "A"),
                                   ",\"filters\":[" + FilterJson("City", "!=", "Berlin") + "]"));
  EXPECT_EQ(keep.series.size(), 3u) << "!= keeps series lacking the key";
  QueryView drop = Query(QueryBody(TargetJson("demo.*", "A"),
                                   ",\"filters\":[" + FilterJson("City", "=~", "B.*") + "]"));
  EXPECT_TRUE(drop.series.empty()) << "=~ drops series lacking the key";

  HttpResponse unknown =
      Post("/query", QueryBody(TargetJson("app.*.cpu", "A"),
                               ",\"filters\":[" + FilterJson("City", "~~", "B") + "]"));
  EXPECT_TRUE(IsJsonError(unknown, 400)) << "unknown operator";

  HttpResponse bad_regex =
      Post("/query", QueryBody(TargetJson("app.*.cpu", "A"),
                               ",\"filters\":[" + FilterJson("region", "=~", "eu-(") + "]"));
  ASSERT_TRUE(IsJsonError(bad_regex, 400)) << "invalid filter regex";
  EXPECT_NE(bad_regex.body.find("region"), std::string::npos)
      << "the error should name the filter: " << bad_regex.body;
}

TEST_F(ConformanceTest, Case31_OddScopedVarsIgnored) {
  HttpResponse plain = Post("/query", QueryBody(kUpper25A));
  ASSERT_TRUE(IsJsonArray(plain));
  HttpResponse odd = Post(
      "/query",
      QueryBody(
          kUpper25A,
          R"(,"scopedVars":{"undefined":{"selected":false,"text":["a","b"],"value":["a","b"]},)"
          R"("__sceneObject":{"text":"__sceneObject"},"host":{"text":["x"],"value":["x"]},)"
          R"("__interval_ms":{"text":"30000","value":30000},"n":{"value":null},"o":{"value":{"deep":[1,{}]}}})"));
  EXPECT_EQ(odd.body, plain.body);
}

TEST_F(ConformanceTest, Case32_PayloadShapes) {
  for (const char* payload :
       {R"(,"payload":{})", R"(,"payload":[1,"a",{}])", R"(,"payload":42)",
        R"(,"payload":"some text")", "", R"(,"payload":null)",
        R"(,"payload":{"nested":{"a":[1,2,{"b":null}]},"hosts":["a","b"]})"}) {
    QueryView view = Query(QueryBody(TargetJson("upper_25", "A", payload)));
    EXPECT_EQ(view.SeriesFor("A").size(), 1u) << payload;
  }
}

TEST_F(ConformanceTest, Case33_LargeRequestAndChunkedBody) {
  std::string pad(2000, 'x');
  std::string targets;
  for (int i = 0; i < 500; ++i) {
    if (i > 0) targets += ',';
    targets += TargetJson("upper_25", fmt::format("R{}", i),
                          fmt::format(R"(,"payload":{{"pad":"{}"}})", pad));
  }
  std::string body = QueryBody(targets, "", 10, 1'000);
  ASSERT_GE(body.size(), 1'000'000u);
  HttpResponse r = Post("/query", body);
  QueryView view;
  ASSERT_TRUE(ParseQueryResponse(r, &view, 10));
  std::set<std::string> refs;
  for (const SeriesView& s : view.series) refs.insert(s.ref_id.value_or(""));
  EXPECT_EQ(refs.size(), 500u) << "every target answered";

  std::string chunked_request =
      BuildRequest("POST", "/query", fmt::format("127.0.0.1:{}", port()),
                   {{"Content-Type", "application/json"}, {"Transfer-Encoding", "chunked"}},
                   ChunkBody(body, 7919));
  HttpResponse chunked = RawExchange(port(), chunked_request);
  ASSERT_TRUE(IsJsonArray(chunked));
  EXPECT_EQ(chunked.body, r.body) << "chunked body gives the same result";
}

TEST_F(ConformanceTest, Case34_MalformedAndEmptyBodies) {
  for (const char* body : {"{not json", R"({"targets":[)", "{\"targets\":[]}}", "\x01\x02"}) {
    HttpResponse r = Post("/query", body);
    ASSERT_TRUE(IsJsonError(r, 400)) << body;
    JsonDoc doc = JsonDoc::Parse(r.body);
    EXPECT_NE(Lower(StringField(doc.root(), "message").value_or("")).find("json"),
              std::string::npos)
        << "message should say the JSON is invalid: " << r.body;
  }
  std::string empty = fmt::format(
      "POST /query HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n"
      "Content-Length: 0\r\n\r\n",
      port());
  EXPECT_TRUE(IsJsonError(RawExchange(port(), empty), 400)) << "empty body";
}

TEST_F(ConformanceTest, Case35_LenientContentTypes) {
  std::string body = QueryBody(kUpper25A);
  HttpResponse base = Post("/query", body);
  ASSERT_TRUE(IsJsonArray(base));
  for (const char* type :
       {"application/json; charset=utf-8", "text/plain", "text/plain;charset=UTF-8"}) {
    HttpResponse r = client_->Request("POST", "/query", body,
                                      {{"Content-Type", type}, {"Accept", "application/json"}});
    EXPECT_EQ(r.body, base.body) << type;
  }
  HttpResponse none = client_->Request("POST", "/query", body, {});
  EXPECT_EQ(none.body, base.body) << "no Content-Type";
}

// ================= /query responses =================

TEST_F(ConformanceTest, Case36_AlwaysJsonArray) {
  for (const std::string& body :
       {QueryBody(kUpper25A), QueryBody(""), QueryBody(TargetJson("no.such.metric", "A")),
        QueryBody(TargetJson("upper_25", "A", R"(,"hide":true)")),
        QueryBody(TargetJson("hosts", "T", R"(,"type":"table")"))}) {
    HttpResponse r = Post("/query", body);
    EXPECT_TRUE(IsJsonArray(r)) << body.substr(0, 200);
    EXPECT_EQ(r.MediaType(), "application/json");
  }
}

TEST_F(ConformanceTest, Case37_DatapointsAreValueThenIntegerMsAscending) {
  QueryView view =
      Query(QueryBody(TargetJson("app.*.latency", "A") + "," + TargetJson("demo.*", "B")));
  EXPECT_EQ(view.series.size(), 9u);
  for (const SeriesView& s : view.series) {
    ASSERT_FALSE(s.points.empty()) << s.target;
    EXPECT_GE(s.points.front().time_ms, kFromMs - 60'000) << s.target;
    EXPECT_LE(s.points.back().time_ms, kToMs) << s.target;
    // Epoch milliseconds, not seconds.
    EXPECT_GT(s.points.front().time_ms, 1'000'000'000'000LL) << s.target;
  }
}

TEST_F(ConformanceTest, Case38_ValuesAreNumbersOrNull) {
  for (const char* fn : {"avg", "min", "max", "sum", "last"}) {
    std::string extra = fmt::format(R"(,"payload":{{"consolidateBy":"{}"}})", fn);
    // Graphite-style globs: '*' stays within one dot-separated segment.
    std::string targets = TargetJson("*", "A", extra) + "," + TargetJson("*.*", "B", extra) + "," +
                          TargetJson("*.*.*", "C", extra);
    HttpResponse r = Post("/query", QueryBody(targets, "", 37, 1'000));
    QueryView view;
    ASSERT_TRUE(ParseQueryResponse(r, &view, 37)) << fn;
    EXPECT_GE(view.series.size(), demo::AllSeriesNames().size()) << fn;
    for (const char* bad : {"NaN", "Infinity"}) {
      EXPECT_EQ(r.body.find(bad), std::string::npos) << fn << " body contains " << bad;
    }
  }
}

TEST_F(ConformanceTest, Case39_TableCells) {
  QueryView view = Query(QueryBody(TargetJson("hosts", "T", R"(,"type":"table")")));
  ASSERT_EQ(view.tables.size(), 1u);
  const TableView& t = view.tables[0];
  EXPECT_EQ(t.ref_id.value_or(""), "T");
  std::vector<std::pair<std::string, std::string>> want = {
      {"host", "string"}, {"region", "string"}, {"env", "string"},    {"City", "string"},
      {"cpu", "number"},  {"up", "boolean"},    {"last_seen", "time"}};
  EXPECT_EQ(t.columns, want);
  ASSERT_EQ(t.rows.size(), demo::kHosts.size());
  std::set<std::string> hosts;
  for (const auto& row : t.rows) {
    ASSERT_EQ(row.size(), t.columns.size());
    hosts.insert(row[0]);
  }
  std::set<std::string> want_hosts;
  for (const demo::Host& h : demo::kHosts) want_hosts.insert(JsonQuote(h.host));
  EXPECT_EQ(hosts, want_hosts);
  // The table target without type: table still works through the NEW payload form.
  QueryView by_payload =
      Query(QueryBody(TargetJson("hosts", "T", R"(,"payload":{"format":"table"})")));
  EXPECT_EQ(by_payload.tables.size(), 1u);
}

TEST_F(ConformanceTest, Case40_SeriesOfOneTargetShareRefId) {
  QueryView view = Query(QueryBody(TargetJson("app.*.cpu", "X")));
  ASSERT_EQ(view.series.size(), 6u);
  std::set<std::string> names;
  for (const SeriesView& s : view.series) {
    EXPECT_EQ(s.ref_id.value_or(""), "X") << s.target;
    names.insert(s.target);
  }
  EXPECT_EQ(names.size(), 6u) << "each series once";
  EXPECT_EQ(AppHosts(view).size(), 6u);
}

TEST_F(ConformanceTest, Case41_DefaultOutputIsLegacyNotFrames) {
  HttpResponse r =
      Post("/query", QueryBody(kUpper25A + "," + TargetJson("hosts", "T", R"(,"type":"table")")));
  ASSERT_TRUE(IsJsonArray(r));
  JsonDoc doc = JsonDoc::Parse(r.body);
  for (JsonElement e : Elements(doc.root())) {
    EXPECT_FALSE(Field(e, "fields").has_value())
        << "frame output by default: " << ToJson(e).substr(0, 200);
  }
  QueryView view;
  ASSERT_TRUE(ParseQueryResponse(r, &view));
  EXPECT_EQ(view.series.size(), 1u);
  EXPECT_EQ(view.tables.size(), 1u);
}

TEST_F(ConformanceTest, Case42_NoNullStringNumberOrEmptyElements) {
  std::string annotation =
      R"(,"scopedVars":{"__annotation":{"text":"a","value":{"name":"a","enable":true}}})";
  for (const std::string& body :
       {QueryBody(kUpper25A + "," + TargetJson("no.such", "B") + "," + TargetJson("", "C")),
        QueryBody(TargetJson("hosts", "T", R"(,"type":"table")") + "," + TargetJson("*", "D")),
        QueryBody(TargetJson("deploys", "Anno", R"(,"payload":{})"), annotation),
        QueryBody(R"({"refId":"Z"},{"target":null,"refId":"Y"})")}) {
    HttpResponse r = Post("/query", body);
    ASSERT_TRUE(IsNot5xx(r)) << body.substr(0, 300);
    if (r.status == 400) {
      EXPECT_TRUE(IsJsonError(r, 400));
      continue;
    }
    QueryView view;
    EXPECT_TRUE(ParseQueryResponse(r, &view)) << body.substr(0, 300);
  }
}

TEST_F(ConformanceTest, Case43_NonAsciiRoundTrips) {
  std::string ref = "Ä-温度-🚀";
  QueryView view = Query(QueryBody(TargetJson("upper_25", ref)));
  ASSERT_EQ(view.series.size(), 1u);
  EXPECT_EQ(view.series[0].ref_id.value_or(""), ref);

  std::string annotation =
      R"({"name":"Über-Deploy ✓","datasource":"Simple JSON","enable":true,"query":""})";
  std::vector<Event> events;
  std::vector<std::string> echoes;
  HttpResponse r = Post("/annotations", AnnotationsBody(annotation));
  ASSERT_TRUE(ParseOldAnnotations(r, &events, &echoes));
  ASSERT_FALSE(echoes.empty());
  EXPECT_EQ(echoes[0], CanonicalJson(annotation));

  HttpResponse search = Post("/search", R"({"target":"温度"})");
  EXPECT_TRUE(IsJsonArray(search));
  HttpResponse values = Post("/tag-values", R"({"key":"Städte"})");
  ASSERT_TRUE(IsJsonArray(values));
  EXPECT_EQ(CanonicalJson(values.body), "[]");
  QueryView zurich = Query(QueryBody(TargetJson("app.*.cpu", "A"),
                                     ",\"filters\":[" + FilterJson("City", "=", "Zürich") + "]"));
  EXPECT_TRUE(zurich.series.empty());
}

TEST_F(ConformanceTest, Case44_ErrorsAreJsonWithMessageAndError) {
  EXPECT_TRUE(IsJsonError(Post("/query", "{\"targets\":"), 400));
  EXPECT_TRUE(
      IsJsonError(Post("/query", QueryBody(TargetJson("app.*.cpu", "A"),
                                           ",\"filters\":[" + FilterJson("a", "??", "b") + "]")),
                  400));
  EXPECT_TRUE(IsJsonError(Post("/nope", "{}"), 404));
  // The demo server has no auth: never 401.
  for (const char* path : {"/", "/query", "/search", "/tag-keys"}) {
    HttpResponse r = Post(path, "{}", {{"Authorization", "Basic Zm9vOmJhcg=="}});
    EXPECT_NE(r.status, 401) << path;
  }
}

TEST_F(ConformanceTest, Case45_HeavyQueryAnswersWellUnder30s) {
  std::string range = RangeJson("2026-11-16T00:00:00.000Z", "2026-11-23T00:00:00.000Z");
  std::string body = QueryBody(TargetJson("app.*.*", "A") + "," + TargetJson("upper_*", "B"), "",
                               1000, 1'000, range);
  auto start = Clock::now();
  HttpResponse r = Post("/query", body);
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  EXPECT_LT(elapsed.count(), 30'000);
  ASSERT_TRUE(IsNot5xx(r) || r.status == 503 || r.status == 504) << r.Describe();
  if (r.status == 200) {
    QueryView view;
    EXPECT_TRUE(ParseQueryResponse(r, &view, 1000));
    EXPECT_EQ(view.series.size(), 23u);
  } else {
    EXPECT_TRUE(IsJsonError(r, r.status));
  }
}

// ================= Annotations =================

constexpr std::string_view kOldAnnotationByName =
    R"js({"name":"deploys","datasource":"Simple JSON","enable":true,"iconColor":"rgba(255, 96, 96, 1)","query":""})js";
constexpr std::string_view kOldAnnotationByRef =
    R"js({"name":"deploys","datasource":{"type":"grafana-simple-json-datasource","uid":"simplejson"},"enable":true,"iconColor":"rgba(255, 96, 96, 1)","query":""})js";

TEST_F(ConformanceTest, Case46_OldAnnotationsWithDatasourceName) {
  HttpResponse r = Post("/annotations", AnnotationsBody(kOldAnnotationByName));
  std::vector<Event> events;
  std::vector<std::string> echoes;
  ASSERT_TRUE(ParseOldAnnotations(r, &events, &echoes));
  int deploys = 0;
  int incidents = 0;
  for (const Event& e : events) {
    EXPECT_LE(e.time, kDayToMs) << e.title;
    EXPECT_GE(e.time_end, kDayFromMs) << e.title;
    if (e.HasTag("deploys")) {
      ++deploys;
      EXPECT_EQ(e.time_end, e.time) << "deploys are point events";
      EXPECT_GE(e.tags.size(), 3u) << "deploy tags: deploys, env, service";
    }
    if (e.HasTag("incidents")) {
      ++incidents;
      EXPECT_TRUE(e.HasTag("outage"));
      EXPECT_EQ(e.time_end - e.time, demo::kIncidentLengthMs) << "incidents last 20 min";
    }
  }
  EXPECT_GE(deploys, 12) << "a deploy every 2 h over 24 h";
  EXPECT_LE(deploys, 13);
  EXPECT_GE(incidents, 4) << "an incident every 6 h over 24 h";
  EXPECT_LE(incidents, 5);
  for (const std::string& echo : echoes) EXPECT_EQ(echo, CanonicalJson(kOldAnnotationByName));
}

TEST_F(ConformanceTest, Case47_OldAnnotationsWithDatasourceObject) {
  std::vector<Event> by_name = OldAnnotations(kOldAnnotationByName);
  std::vector<Event> events;
  std::vector<std::string> echoes;
  HttpResponse r = Post("/annotations", AnnotationsBody(kOldAnnotationByRef));
  ASSERT_TRUE(ParseOldAnnotations(r, &events, &echoes));
  EXPECT_FALSE(events.empty());
  EXPECT_EQ(EventKeys(events), EventKeys(by_name));
  for (const std::string& echo : echoes) EXPECT_EQ(echo, CanonicalJson(kOldAnnotationByRef));
}

TEST_F(ConformanceTest, Case48_AnnotationQueryFiltering) {
  std::vector<Event> all = OldAnnotations(kOldAnnotationByName);
  ASSERT_FALSE(all.empty());
  std::vector<Event> absent =
      OldAnnotations(R"({"name":"x","datasource":"Simple JSON","enable":true})");
  EXPECT_EQ(EventKeys(absent), EventKeys(all)) << "absent query = all events";

  for (const char* query : {"#{deploys,incidents}", "#deploys", "deploys", "DEPLOYS", "#incidents",
                            "{outage,nothing}", "deploys prod", "#deploys #staging", "outage",
                            "upper_25", "nothing-matches-this", "#{a,b}"}) {
    std::string annotation = fmt::format(
        R"({{"name":"q","datasource":"Simple JSON","enable":true,"query":{}}})", JsonQuote(query));
    std::vector<Event> got = OldAnnotations(annotation);
    std::vector<Event> want;
    for (const Event& e : all) {
      if (EventMatches(e, query)) want.push_back(e);
    }
    EXPECT_EQ(EventKeys(got), EventKeys(want)) << "query \"" << query << "\"";
  }
  // Sanity of the premise: the filters select proper, non-empty subsets.
  size_t deploys = 0;
  for (const Event& e : all) deploys += e.HasTag("deploys");
  EXPECT_GT(deploys, 0u);
  EXPECT_LT(deploys, all.size());
}

std::string NewAnnotationBody(std::string_view target, std::string_view ref_id = "Anno") {
  return fmt::format(
      R"({{"requestId":"Q9","app":"dashboard",{},"interval":"30s","intervalMs":30000,)"
      R"("maxDataPoints":1920,"scopedVars":{{"__interval":{{"text":"30s","value":"30s"}},)"
      R"("__annotation":{{"text":"deploys","value":{{"name":"deploys","enable":true,"iconColor":"red",)"
      R"("target":{{"refId":"Anno","target":{},"payload":""}}}}}}}},)"
      R"("targets":[{{"refId":{},"target":{},"payload":{{}},"editorMode":"code",)"
      R"("datasource":{{"type":"simpod-json-datasource","uid":"u"}}}}]}})",
      RangeJson(kDayFrom, kDayTo, "now-24h", "now"), JsonQuote(target), JsonQuote(ref_id),
      JsonQuote(target));
}

TEST_F(ConformanceTest, Case49_NewAnnotationsThroughQuery) {
  HttpResponse r = Post("/query", NewAnnotationBody("deploys"));
  QueryView view;
  ASSERT_TRUE(ParseQueryResponse(r, &view));
  ASSERT_EQ(view.tables.size(), 1u) << r.body.substr(0, 300);
  EXPECT_TRUE(view.series.empty());
  const TableView& t = view.tables[0];
  EXPECT_EQ(t.ref_id.value_or(""), "Anno");
  std::vector<Event> events;
  ASSERT_TRUE(AnnotationTableEvents(t, &events));
  std::vector<Event> old_deploys =
      OldAnnotations(R"({"name":"d","datasource":"Simple JSON","enable":true,"query":"deploys"})");
  EXPECT_FALSE(events.empty());
  EXPECT_EQ(EventKeys(events), EventKeys(old_deploys)) << "same events as /annotations";
  for (const Event& e : events) {
    EXPECT_TRUE(e.HasTag("deploys")) << e.title;
    EXPECT_FALSE(e.title.empty());
    EXPECT_FALSE(e.text.empty());
  }

  // The NEW editor picks a metric as target: series names are ignored, so all events come back.
  HttpResponse by_metric = Post("/query", NewAnnotationBody("upper_25"));
  QueryView metric_view;
  ASSERT_TRUE(ParseQueryResponse(by_metric, &metric_view));
  ASSERT_EQ(metric_view.tables.size(), 1u);
  std::vector<Event> all_events;
  ASSERT_TRUE(AnnotationTableEvents(metric_view.tables[0], &all_events));
  EXPECT_EQ(EventKeys(all_events), EventKeys(OldAnnotations(kOldAnnotationByName)));

  // scopedVars.__annotation alone (another refId) also marks an annotation query.
  HttpResponse other_ref = Post("/query", NewAnnotationBody("deploys", "A"));
  QueryView other_view;
  ASSERT_TRUE(ParseQueryResponse(other_ref, &other_view));
  ASSERT_EQ(other_view.tables.size(), 1u);
  std::vector<Event> other_events;
  EXPECT_TRUE(AnnotationTableEvents(other_view.tables[0], &other_events));
  EXPECT_EQ(EventKeys(other_events), EventKeys(events));
}

TEST_F(ConformanceTest, Case50_AnnotationsSortedAndWellFormed) {
  std::vector<Event> old_events = OldAnnotations(kOldAnnotationByName);
  ASSERT_FALSE(old_events.empty());
  for (size_t i = 0; i < old_events.size(); ++i) {
    EXPECT_GE(old_events[i].time_end, old_events[i].time);
    if (i > 0) {
      EXPECT_GE(old_events[i].time, old_events[i - 1].time) << "not sorted at " << i;
    }
  }
  QueryView view = Query(NewAnnotationBody("upper_25"));
  ASSERT_EQ(view.tables.size(), 1u);
  std::vector<Event> new_events;
  ASSERT_TRUE(AnnotationTableEvents(view.tables[0], &new_events));
  for (size_t i = 0; i < new_events.size(); ++i) {
    EXPECT_GE(new_events[i].time_end, new_events[i].time);
    EXPECT_FALSE(new_events[i].tags.empty());
    if (i > 0) {
      EXPECT_GE(new_events[i].time, new_events[i - 1].time) << "not sorted at " << i;
    }
  }
}

// ================= /search =================

TEST_F(ConformanceTest, Case51_SearchFiltersBySubstring) {
  std::vector<std::string> want(demo::kUpperSeries.begin(), demo::kUpperSeries.end());
  EXPECT_THAT(Search(R"({"target":"upper"})"), UnorderedElementsAreArray(want));
  EXPECT_THAT(Search(R"({"target":"upp"})"), UnorderedElementsAreArray(want));
  EXPECT_THAT(Search(R"({"target":"UPPER"})"), UnorderedElementsAreArray(want))
      << "case-insensitive";
  std::vector<std::string> cpu = Search(R"({"target":"app.*.cpu"})");
  EXPECT_EQ(cpu.size(), 6u) << "glob";
}

TEST_F(ConformanceTest, Case52_SearchEmptyTargetListsEverything) {
  std::vector<std::string> all = Search(R"({"target":""})");
  std::vector<std::string> want = demo::AllSeriesNames();
  want.emplace_back(demo::kTableTarget);
  EXPECT_THAT(all, IsSupersetOf(want));
  EXPECT_THAT(Search("{}"), UnorderedElementsAreArray(all)) << "{}";
  std::string empty = fmt::format(
      "POST /search HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n"
      "Content-Length: 0\r\n\r\n",
      port());
  HttpResponse r = RawExchange(port(), empty);
  ASSERT_TRUE(IsJsonArray(r)) << "empty body";
  EXPECT_EQ(SortedElements(r.body).size(), all.size());
  std::set<std::string> unique(all.begin(), all.end());
  EXPECT_EQ(unique.size(), all.size()) << "duplicates in /search";
}

TEST_F(ConformanceTest, Case53_SearchRegexAlternativesAndInvalidRegex) {
  std::vector<std::string> got = Search(R"js({"target":"(upper_25|cpu\\.total)"})js");
  EXPECT_THAT(got, IsSupersetOf({"upper_25", "cpu.total"}));
  EXPECT_THAT(got, ::testing::Not(::testing::Contains("upper_50")));
  for (const char* body :
       {R"({"target":"upper_("})", R"({"target":"[z-a"})", R"({"target":"*+"})"}) {
    HttpResponse r = Post("/search", body);
    EXPECT_TRUE(IsJsonArray(r)) << body;
  }
}

TEST_F(ConformanceTest, Case54_SearchWithTypeTable) {
  EXPECT_THAT(Search(R"({"type":"table","target":""})"),
              UnorderedElementsAreArray(Search(R"({"target":""})")));
  EXPECT_THAT(Search(R"({"type":"timeseries","target":"upper"})"),
              UnorderedElementsAreArray(Search(R"({"target":"upper"})")));
}

// ================= /metrics, /metric-payload-options =================

// Validates a /metrics response and returns the metric values.
std::vector<std::string> CheckMetrics(const HttpResponse& r, bool check_payload_schema) {
  std::vector<std::string> values;
  EXPECT_TRUE(IsJsonArray(r));
  JsonDoc doc = JsonDoc::Parse(r.body);
  for (JsonElement m : Elements(doc.root())) {
    auto value = StringField(m, "value");
    EXPECT_TRUE(value.has_value()) << "metric without string value: " << ToJson(m);
    EXPECT_TRUE(StringField(m, "label").has_value()) << ToJson(m);
    auto payloads = Field(m, "payloads");
    EXPECT_TRUE(payloads && IsArray(*payloads)) << ToJson(m);
    if (!value || !payloads) continue;
    values.push_back(*value);
    std::map<std::string, JsonElement> by_name;
    for (JsonElement p : Elements(*payloads)) {
      auto name = StringField(p, "name");
      EXPECT_TRUE(name && !name->empty()) << "payload without name: " << ToJson(p);
      if (name) by_name[*name] = p;
    }
    if (!check_payload_schema) continue;
    for (auto [name, want_values] :
         {std::pair<std::string, std::vector<std::string>>{"consolidateBy",
                                                           {"avg", "min", "max", "sum", "last"}},
          std::pair<std::string, std::vector<std::string>>{"format", {"table"}}}) {
      auto it = by_name.find(name);
      if (it == by_name.end()) {
        ADD_FAILURE() << *value << " lacks the " << name << " payload: " << ToJson(m);
        continue;
      }
      EXPECT_EQ(StringField(it->second, "type").value_or(""), "select") << *value << " " << name;
      std::set<std::string> options;
      if (auto opts = Field(it->second, "options")) {
        for (JsonElement o : Elements(*opts)) options.insert(StringField(o, "value").value_or(""));
      }
      // Options may instead come from /metric-payload-options.
      if (!options.empty()) {
        EXPECT_THAT(options, IsSupersetOf(want_values)) << *value << " " << name;
      }
    }
  }
  return values;
}

TEST_F(ConformanceTest, Case55_MetricsListWithPayloadSchema) {
  std::vector<std::string> empty_body = CheckMetrics(Post("/metrics", "{}"), true);
  EXPECT_THAT(empty_body, IsSupersetOf(demo::AllSeriesNames()));
  std::vector<std::string> with_keys =
      CheckMetrics(Post("/metrics", R"({"metric":"","payload":{}})"), true);
  EXPECT_THAT(with_keys, UnorderedElementsAreArray(empty_body));
}

TEST_F(ConformanceTest, Case56_MetricsWithForeignMetricAndPayload) {
  HttpResponse r =
      Post("/metrics", R"({"metric":"DescribeMetricList","payload":{"namespace":"acs_rds"}})");
  CheckMetrics(r, false);
  HttpResponse known = Post("/metrics", R"({"metric":"upper_25","payload":{"format":"table"}})");
  CheckMetrics(known, false);
}

TEST_F(ConformanceTest, Case57_MetricsUnknownMetricIsArray) {
  HttpResponse r = Post("/metrics", R"({"metric":"unknown"})");
  ASSERT_TRUE(IsJsonArray(r));
  CheckMetrics(r, false);
}

std::vector<std::pair<std::string, std::string>> PayloadOptions(const HttpResponse& r) {
  std::vector<std::pair<std::string, std::string>> out;
  EXPECT_TRUE(IsJsonArray(r));
  JsonDoc doc = JsonDoc::Parse(r.body);
  for (JsonElement o : Elements(doc.root())) {
    auto label = StringField(o, "label");
    auto value = Field(o, "value");
    EXPECT_TRUE(label.has_value()) << ToJson(o);
    EXPECT_TRUE(value && (IsString(*value) || IsNumber(*value))) << ToJson(o);
    out.emplace_back(label.value_or(""),
                     value ? (IsString(*value) ? *AsString(*value) : ToJson(*value)) : "");
  }
  return out;
}

TEST_F(ConformanceTest, Case58_MetricPayloadOptions) {
  HttpResponse unknown =
      Post("/metric-payload-options",
           R"({"metric":"m","payload":{"a":"x","b":["y","z"]},"name":"instanceId"})");
  EXPECT_TRUE(PayloadOptions(unknown).empty()) << unknown.body;
  std::set<std::string> values;
  for (const auto& [label, value] :
       PayloadOptions(Post("/metric-payload-options",
                           R"({"metric":"upper_25","payload":{},"name":"consolidateBy"})"))) {
    values.insert(value);
  }
  EXPECT_THAT(values, IsSupersetOf({"avg", "min", "max", "sum", "last"}));
  std::set<std::string> formats;
  for (const auto& [label, value] : PayloadOptions(
           Post("/metric-payload-options",
                R"({"metric":"upper_25","payload":{"format":"table"},"name":"format"})"))) {
    formats.insert(value);
  }
  EXPECT_TRUE(formats.count("table")) << "format options lack table";
}

// ================= /variable =================

std::vector<std::string> VariableTexts(const HttpResponse& r) {
  std::vector<std::string> out;
  EXPECT_TRUE(IsJsonArray(r));
  JsonDoc doc = JsonDoc::Parse(r.body);
  for (JsonElement o : Elements(doc.root())) {
    auto text = StringField(o, "__text");
    auto value = StringField(o, "__value");
    EXPECT_TRUE(text && value) << "variable option needs string __text and __value: " << ToJson(o);
    if (text) out.push_back(*text);
  }
  return out;
}

std::string VariableBody(std::string_view payload) {
  return fmt::format(R"({{"payload":{},{}}})", payload, RangeJson());
}

TEST_F(ConformanceTest, Case59_VariableReturnsTextValuePairs) {
  EXPECT_THAT(VariableTexts(Post("/variable", VariableBody(R"({"target":"hosts"})"))),
              ::testing::Contains("hosts"));
  std::vector<std::string> upper(demo::kUpperSeries.begin(), demo::kUpperSeries.end());
  EXPECT_THAT(VariableTexts(Post("/variable", VariableBody(R"({"target":"upper"})"))),
              UnorderedElementsAreArray(upper));
  std::vector<std::string> hosts;
  for (const demo::Host& h : demo::kHosts) hosts.emplace_back(h.host);
  EXPECT_THAT(
      VariableTexts(Post("/variable", VariableBody(R"js({"target":"tag_values(host)"})js"))),
      UnorderedElementsAreArray(hosts));
  EXPECT_THAT(VariableTexts(Post("/variable", VariableBody(R"js({"target":"tag_keys()"})js"))),
              IsSupersetOf({"City", "host", "env", "region"}));
  std::vector<std::string> all = VariableTexts(Post("/variable", VariableBody(R"({"target":""})")));
  EXPECT_THAT(all, IsSupersetOf(demo::AllSeriesNames()));
}

TEST_F(ConformanceTest, Case60_RawJsonVariablePayloads) {
  for (const char* payload : {R"({"target":"x","region":"eu"})", R"(["a"])", R"("s")", "42", "null",
                              R"({"target":["upper_25","upper_50"]})", "{}"}) {
    HttpResponse r = Post("/variable", VariableBody(payload));
    ASSERT_TRUE(IsNot5xx(r)) << payload;
    if (r.status == 400) {
      EXPECT_TRUE(IsJsonError(r, 400)) << payload;
    } else {
      VariableTexts(r);
    }
  }
}

TEST_F(ConformanceTest, Case61_VariableNoMatchesIsEmptyArray) {
  HttpResponse r = Post("/variable", VariableBody(R"({"target":"no_such_metric_xyz"})"));
  ASSERT_TRUE(IsJsonArray(r));
  EXPECT_EQ(CanonicalJson(r.body), "[]");
}

TEST_F(ConformanceTest, Case62_VariableWithoutRange) {
  HttpResponse with_range = Post("/variable", VariableBody(R"({"target":"upper"})"));
  HttpResponse without = Post("/variable", R"({"payload":{"target":"upper"}})");
  ASSERT_TRUE(IsJsonArray(without));
  EXPECT_EQ(SortedElements(without.body), SortedElements(with_range.body));
  EXPECT_FALSE(SortedElements(without.body).empty());
}

// ================= /tag-keys, /tag-values =================

std::vector<std::string> TagKeys(const HttpResponse& r) {
  std::vector<std::string> out;
  EXPECT_TRUE(IsJsonArray(r));
  JsonDoc doc = JsonDoc::Parse(r.body);
  for (JsonElement o : Elements(doc.root())) {
    EXPECT_EQ(StringField(o, "type").value_or(""), "string") << ToJson(o);
    auto text = StringField(o, "text");
    EXPECT_TRUE(text.has_value()) << ToJson(o);
    if (text) out.push_back(*text);
  }
  return out;
}

std::vector<std::string> TagValues(const HttpResponse& r) {
  std::vector<std::string> out;
  EXPECT_TRUE(IsJsonArray(r));
  JsonDoc doc = JsonDoc::Parse(r.body);
  for (JsonElement o : Elements(doc.root())) {
    auto text = StringField(o, "text");
    EXPECT_TRUE(text.has_value()) << ToJson(o);
    if (text) out.push_back(*text);
  }
  return out;
}

TEST_F(ConformanceTest, Case63_TagKeysWithNoBody) {
  std::string bytes = fmt::format(
      "POST /tag-keys HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n"
      "Accept: application/json, text/plain, */*\r\nContent-Length: 0\r\n\r\n",
      port());
  std::vector<std::string> keys = TagKeys(RawExchange(port(), bytes));
  EXPECT_THAT(keys, IsSupersetOf({"City", "host", "env", "region"}));
  std::set<std::string> unique(keys.begin(), keys.end());
  EXPECT_EQ(unique.size(), keys.size()) << "duplicate keys";
}

TEST_F(ConformanceTest, Case64_TagKeysWithFiltersAndScenesFields) {
  std::vector<std::string> all = TagKeys(Post("/tag-keys", R"({"filters":[]})"));
  EXPECT_THAT(all, IsSupersetOf({"City", "host", "env", "region"}));
  std::string scenes = fmt::format(
      R"({{"filters":[{}],"timeRange":{{"from":"{}","to":"{}","raw":{{"from":"now-6h","to":"now"}}}},)"
      R"("queries":[{{"refId":"A","target":"upper_25","payload":{{}}}}],"scopes":[]}})",
      FilterJson("City", "=", "Berlin"), kFrom, kTo);
  std::vector<std::string> narrowed = TagKeys(Post("/tag-keys", scenes));
  EXPECT_THAT(narrowed, ::testing::Contains("City"));
  EXPECT_THAT(all, IsSupersetOf(narrowed));
}

TEST_F(ConformanceTest, Case65_TagValues) {
  EXPECT_THAT(TagValues(Post("/tag-values", R"({"key":"City"})")),
              UnorderedElementsAreArray({"Berlin", "London", "New York", "Tokyo"}));
  std::string narrowed =
      fmt::format(R"({{"key":"City","filters":[{}],"timeRange":{{"from":"{}","to":"{}"}}}})",
                  FilterJson("host", "=", "web-2"), kFrom, kTo);
  EXPECT_THAT(TagValues(Post("/tag-values", narrowed)), UnorderedElementsAreArray({"London"}));
  std::string staging =
      fmt::format(R"({{"key":"City","filters":[{}]}})", FilterJson("env", "=", "staging"));
  EXPECT_THAT(TagValues(Post("/tag-values", staging)),
              UnorderedElementsAreArray({"New York", "Tokyo"}));
  std::vector<std::string> hosts;
  for (const demo::Host& h : demo::kHosts) hosts.emplace_back(h.host);
  EXPECT_THAT(TagValues(Post("/tag-values", R"({"key":"host","filters":[]})")),
              UnorderedElementsAreArray(hosts));
}

TEST_F(ConformanceTest, Case66_TagValuesUnknownOrMissingKey) {
  HttpResponse unknown = Post("/tag-values", R"({"key":"nope"})");
  ASSERT_TRUE(IsJsonArray(unknown));
  EXPECT_EQ(CanonicalJson(unknown.body), "[]");
  HttpResponse missing = Post("/tag-values", R"({"filters":[]})");
  ASSERT_TRUE(IsNot5xx(missing));
  if (missing.status == 400) {
    EXPECT_TRUE(IsJsonError(missing, 400));
  } else {
    ASSERT_TRUE(IsJsonArray(missing));
    EXPECT_EQ(CanonicalJson(missing.body), "[]");
  }
}

// ================= Robustness =================

TEST_F(ConformanceTest, Case67_KeepAliveReuseAndAbortedResponses) {
  for (int i = 0; i < 200; ++i) {
    HttpResponse r = Post(i % 2 ? "/query" : "/search", i % 2 ? QueryBody(kUpper25A) : "{}");
    ASSERT_TRUE(IsJsonArray(r)) << "request " << i;
    ASSERT_TRUE(r.keep_alive) << "server closed the keep-alive connection at request " << i;
  }
  EXPECT_EQ(client_->connects(), 1) << "keep-alive connection was not reused";

  int baseline = server_->OpenFdCount();
  ASSERT_GT(baseline, 0);
  // A response of several MB, abandoned after the first bytes, 20 times.
  std::string big = QueryBody(TargetJson("app.*.*", "A"), "", 20'000, 1'000,
                              RangeJson("2026-11-21T00:00:00.000Z", "2026-11-23T00:00:00.000Z"));
  std::string request =
      BuildRequest("POST", "/query", fmt::format("127.0.0.1:{}", port()), GrafanaHeaders(), big);
  for (int i = 0; i < 20; ++i) {
    RawConnection c;
    std::string error;
    ASSERT_TRUE(c.Connect(port(), &error)) << error;
    ASSERT_TRUE(c.Send(request, &error)) << error;
    EXPECT_FALSE(c.ReadSome(1024, 10'000).empty()) << "no response bytes";
    if (i % 2) {
      c.Abort();
    } else {
      c.Close();
    }
  }
  EXPECT_TRUE(IsJsonResponse(Get("/"), 200)) << "server unhealthy after aborted responses";
  auto deadline = Clock::now() + std::chrono::seconds(15);
  int now_fds = server_->OpenFdCount();
  while (now_fds > baseline + 2 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    now_fds = server_->OpenFdCount();
  }
  EXPECT_LE(now_fds, baseline + 2) << "descriptors leaked after aborted connections";
  EXPECT_TRUE(server_->Alive());
}

TEST_F(ConformanceTest, Case68_ConcurrentPanels) {
  constexpr int kClients = 50;
  constexpr int kRequests = 4;
  std::atomic<int> ok{0};
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> threads;
  uint16_t p = port();
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client(p);
      for (int i = 0; i < kRequests; ++i) {
        std::string ref = fmt::format("P{}_{}", t, i);
        HttpResponse r = client.Request(
            "POST", "/query", QueryBody(TargetJson(t % 2 ? "app.*.cpu" : "upper_25", ref)),
            GrafanaHeaders(), 30'000);
        QueryView view;
        AssertionResult valid = ParseQueryResponse(r, &view);
        if (valid && !view.SeriesFor(ref).empty()) {
          ++ok;
        } else {
          failures[t] = valid ? "no series for " + ref : valid.message();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kClients * kRequests);
  for (const std::string& f : failures) {
    if (!f.empty()) ADD_FAILURE() << f;
  }
}

TEST_F(ConformanceTest, Case69_GzipWhenAccepted) {
  std::string body = QueryBody(TargetJson("app.*.cpu", "A"));
  HttpResponse identity = Post("/query", body);
  ASSERT_TRUE(IsJsonArray(identity));
  ASSERT_GT(identity.body.size(), 4096u);
  EXPECT_TRUE(identity.Header("Content-Encoding").empty() ||
              Lower(identity.Header("Content-Encoding")) == "identity")
      << "encoded without Accept-Encoding";

  std::string bytes = BuildRequest(
      "POST", "/query", fmt::format("127.0.0.1:{}", port()),
      {{"Content-Type", "application/json"}, {"Accept-Encoding", "gzip, deflate, br"}}, body);
  HttpResponse r = RawExchange(port(), bytes);
  ASSERT_EQ(r.status, 200) << r.Describe();
  std::string encoding = Lower(r.Header("Content-Encoding"));
  std::string decoded = r.body;
  if (encoding == "gzip") {
    auto inflated = GunzipBody(r.body);
    ASSERT_TRUE(inflated.has_value()) << "Content-Encoding: gzip but the body does not inflate";
    decoded = *inflated;
  } else {
    EXPECT_TRUE(encoding.empty() || encoding == "identity") << "unexpected encoding " << encoding;
  }
  EXPECT_EQ(decoded, identity.body);
  if (r.HasHeader("Content-Length")) {
    EXPECT_EQ(r.Header("Content-Length"), std::to_string(r.body.size()));
  } else {
    EXPECT_NE(Lower(r.Header("Transfer-Encoding")).find("chunked"), std::string::npos)
        << "neither Content-Length nor chunked";
  }
}

TEST_F(ConformanceTest, Case70_EveryErrorIsJsonWithCors) {
  Headers origin = {{"Origin", std::string(kOrigin)}};
  struct Probe {
    int status;
    HttpResponse response;
  };
  std::vector<Probe> probes;
  probes.push_back({404, Post("/nope", "{}", origin)});
  probes.push_back(
      {405, client_->Request("GET", "/query", "", {{"Origin", std::string(kOrigin)}})});
  probes.push_back({400, Post("/query", "{oops", origin)});
  probes.push_back({400, Post("/query",
                              QueryBody(TargetJson("app.*.cpu", "A"),
                                        ",\"filters\":[" + FilterJson("region", "=~", "(") + "]"),
                              origin)});

  ServerProcess* auth = AuthServer();
  ASSERT_NE(auth, nullptr) << auth_error_;
  HttpClient auth_client(auth->port());
  Headers auth_headers = GrafanaHeaders();
  auth_headers.emplace_back("Origin", std::string(kOrigin));
  probes.push_back({401, auth_client.Request("POST", "/query", "{}", auth_headers)});
  // 413 (the auth server's body limit is 64 KiB), sent with valid credentials.
  std::string big = QueryBody(
      TargetJson("upper_25", "A", ",\"payload\":{\"pad\":\"" + std::string(200'000, 'x') + "\"}"));
  std::string bytes = BuildRequest("POST", "/query", fmt::format("127.0.0.1:{}", auth->port()),
                                   {{"Content-Type", "application/json"},
                                    {"Authorization", std::string(kBasicGood)},
                                    {"Origin", std::string(kOrigin)}},
                                   big);
  probes.push_back({413, RawExchange(auth->port(), bytes)});

  for (const Probe& p : probes) {
    if (p.status == 405 && p.response.status == 400) {
      EXPECT_TRUE(IsJsonError(p.response, 400));  // case 8 allows GET /query => 400
    } else {
      EXPECT_TRUE(IsJsonError(p.response, p.status)) << "status " << p.status;
    }
    EXPECT_TRUE(HasCorsHeaders(p.response, kOrigin)) << "status " << p.status;
  }
}

}  // namespace
}  // namespace sluice::testing
