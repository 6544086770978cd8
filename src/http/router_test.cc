#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/handler.h"

namespace sluice::http {
namespace {

struct NormalizeCase {
  std::string target;
  std::string path;
  std::string query;
};

TEST(NormalizePathTest, Table) {
  const std::vector<NormalizeCase> cases = {
      {"/", "/", ""},
      {"", "/", ""},
      {"//", "/", ""},
      {"/query", "/query", ""},
      {"//query", "/query", ""},
      {"/query/", "/query", ""},
      {"/query//", "/query", ""},
      {"/a//b///c/", "/a/b/c", ""},
      {"/query?x=1", "/query", "x=1"},
      {"/query/?x=1&y=2", "/query", "x=1&y=2"},
      {"/?", "/", ""},
      {"/?a=/b//c", "/", "a=/b//c"},
      {"query", "/query", ""},
      {"/api/grafana/json/", "/api/grafana/json", ""},
      {"http://grafana:3000/x//y/?z=1", "/x/y", "z=1"},
      {"http://grafana:3000", "/", ""},
      {"/query#frag", "/query", ""},
  };
  for (const NormalizeCase& c : cases) {
    std::string query = "stale";
    EXPECT_EQ(NormalizePath(c.target, &query), c.path) << c.target;
    EXPECT_EQ(query, c.query) << c.target;
  }
  EXPECT_EQ(NormalizePath("/a/?b", nullptr), "/a");
}

TEST(MethodNameTest, Names) {
  EXPECT_EQ(MethodName(Method::kGet), "GET");
  EXPECT_EQ(MethodName(Method::kHead), "HEAD");
  EXPECT_EQ(MethodName(Method::kPost), "POST");
  EXPECT_EQ(MethodName(Method::kPut), "PUT");
  EXPECT_EQ(MethodName(Method::kDelete), "DELETE");
  EXPECT_EQ(MethodName(Method::kOptions), "OPTIONS");
  EXPECT_EQ(MethodName(Method::kPatch), "PATCH");
}

TEST(JsonErrorTest, EscapesMessage) {
  Response r = JsonError(404, "no \"x\"\n", "not_found");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"message":"no \"x\"\n","error":"not_found"})");
}

Handler Named(std::string name) {
  return [name](const Request&) {
    Response r;
    r.body = name;
    return r;
  };
}

// Which handler a Find result names: the route's suffix, "health", or "404"/"405 <allow>".
std::string Describe(const Router& router, Method method, std::string_view target) {
  Router::Match m = router.Find(method, NormalizePath(target, nullptr));
  if (m.route != nullptr) return m.route->handler(Request{}).body;
  if (m.health != nullptr) return "health";
  if (m.error == 405) return "405 " + m.allow;
  return std::to_string(m.error);
}

Router MakeRouter() {
  Router router;
  router.Add({"query", {Method::kPost}, Named("query"), false});
  router.Add({"metrics/find", {Method::kGet, Method::kPost}, Named("metrics/find"), false});
  router.Add({"/find/", {Method::kPost}, Named("find"), false});
  router.Add({"search", {Method::kPost}, Named("search-post"), false});
  router.Add({"search", {Method::kPut}, Named("search-put"), true});
  router.Add({"render", {Method::kGet, Method::kPost}, Named("render"), false});
  router.SetHealth(Named("health"));
  return router;
}

struct FindCase {
  Method method;
  std::string target;
  std::string expected;
};

TEST(RouterTest, AnyPrefix) {
  const Router router = MakeRouter();
  const std::vector<FindCase> cases = {
      {Method::kPost, "/query", "query"},
      {Method::kPost, "//query", "query"},
      {Method::kPost, "/query/", "query"},
      {Method::kPost, "/query?x=1", "query"},
      {Method::kPost, "/prefix/query", "query"},
      {Method::kPost, "/api/grafana/json/query", "query"},
      {Method::kPost, "//x//query/", "query"},
      {Method::kPost, "/queryx", "404"},
      {Method::kPost, "/xquery", "404"},
      {Method::kPost, "/query/x", "404"},
      // Longest suffix wins.
      {Method::kPost, "/metrics/find", "metrics/find"},
      {Method::kPost, "/graphite/metrics/find", "metrics/find"},
      {Method::kPost, "/find", "find"},
      {Method::kPost, "/other/find", "find"},
      {Method::kGet, "/metrics/find", "metrics/find"},
      // GET on a POST-only longest match is 405 even though a shorter suffix exists.
      {Method::kPut, "/metrics/find", "405 GET, HEAD, POST"},
      // Same suffix, different methods.
      {Method::kPost, "/search", "search-post"},
      {Method::kPut, "/search", "search-put"},
      {Method::kGet, "/search", "405 POST, PUT"},
      // 405 with Allow; HEAD wherever GET.
      {Method::kGet, "/query", "405 POST"},
      {Method::kHead, "/query", "405 POST"},
      {Method::kDelete, "/render", "405 GET, HEAD, POST"},
      {Method::kHead, "/render", "render"},
      // Health: "/" with any method, any unmatched GET/HEAD.
      {Method::kGet, "/", "health"},
      {Method::kHead, "/", "health"},
      {Method::kPost, "/", "health"},
      {Method::kPut, "/", "health"},
      {Method::kGet, "//", "health"},
      {Method::kGet, "/api/grafana/json", "health"},
      {Method::kGet, "/api/grafana/json/", "health"},
      {Method::kHead, "/prefix", "health"},
      // Other unmatched requests.
      {Method::kPost, "/nope", "404"},
      {Method::kDelete, "/nope", "404"},
      {Method::kOther, "/nope", "404"},
  };
  for (const FindCase& c : cases) {
    EXPECT_EQ(Describe(router, c.method, c.target), c.expected)
        << MethodName(c.method) << " " << c.target;
  }
}

TEST(RouterTest, BasePath) {
  for (std::string base : {"/api/grafana/json", "/api/grafana/json/", "api//grafana/json"}) {
    Router router = MakeRouter();
    router.SetBasePath(base);
    const std::vector<FindCase> cases = {
        {Method::kGet, "/api/grafana/json", "health"},
        {Method::kGet, "/api/grafana/json/", "health"},
        {Method::kPost, "/api/grafana/json", "health"},
        {Method::kGet, "//api/grafana//json", "health"},
        {Method::kPost, "/api/grafana/json/query", "query"},
        {Method::kPost, "/api/grafana/json//query/", "query"},
        {Method::kGet, "/api/grafana/json/query", "405 POST"},
        {Method::kPost, "/api/grafana/json/metrics/find", "metrics/find"},
        {Method::kGet, "/", "404"},
        {Method::kPost, "/", "404"},
        {Method::kPost, "/query", "404"},
        {Method::kGet, "/other", "404"},
        {Method::kGet, "/api/grafana/jsonx", "404"},
        {Method::kPost, "/api/grafana/jsonx/query", "404"},
        {Method::kGet, "/api/grafana/json/unknown", "404"},
        {Method::kPost, "/api/grafana/json/nope", "404"},
    };
    for (const FindCase& c : cases) {
      EXPECT_EQ(Describe(router, c.method, c.target), c.expected)
          << "base " << base << ": " << MethodName(c.method) << " " << c.target;
    }
  }
}

TEST(RouterTest, RootBasePathMeansAnyPrefix) {
  Router router = MakeRouter();
  router.SetBasePath("/");
  EXPECT_EQ(Describe(router, Method::kPost, "/x/query"), "query");
  EXPECT_EQ(Describe(router, Method::kGet, "/x"), "health");
}

TEST(RouterTest, WithoutHealthUnmatchedIs404) {
  Router router;
  router.Add({"query", {Method::kPost}, Named("query"), false});
  EXPECT_EQ(Describe(router, Method::kGet, "/"), "404");
  EXPECT_EQ(Describe(router, Method::kGet, "/x"), "404");
  EXPECT_EQ(Describe(router, Method::kPost, "/query"), "query");
}

}  // namespace
}  // namespace sluice::http
