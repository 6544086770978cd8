// Tests of the Alias group and substr (naming.cc): table tests through the real parser, binder and
// evaluator, Python re.sub semantics of aliasSub, and substr against its reference.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "expr/binder.h"
#include "expr/functions/naming_util.h"
#include "expr/parser.h"
#include "expr/registry.h"
#include "testing/expr_fixtures.h"
#include "testing/reference_combine.h"

namespace sluice::expr {
namespace {

using testing::EvalForTest;
using testing::MemoryFetcher;

constexpr int64_t kMin = 60'000;
const TimeRange kRange{0, 2 * kMin};

MemoryFetcher MakeFetcher() {
  MemoryFetcher f;
  f.Add("app.web1.cpu", kMin, kMin, {1, 2});
  f.Add("app.web2.cpu", kMin, kMin, {3, 4});
  f.Add("ip.port.TCP80", kMin, kMin, {5, 6});
  f.Add("cpu;host=a;dc=east", kMin, kMin, {1, 2});
  f.Add("cpu;host=b;dc=west", kMin, kMin, {3, 4});
  return f;
}

std::string Names(const SeriesList& list) {
  std::string out;
  for (const auto& s : list) out += (out.empty() ? "" : "|") + s.name;
  return out;
}

struct Case {
  const char* target;
  const char* names;  // '|'-joined output names, or "error: <substring>"
};

void RunCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    MemoryFetcher fetcher = MakeFetcher();
    auto got = EvalForTest(c.target, fetcher, kRange);
    std::string want = c.names;
    if (want.rfind("error: ", 0) == 0) {
      ASSERT_FALSE(got.ok()) << c.target << " gave " << Names(*got);
      EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument) << c.target;
      EXPECT_NE(got.status().message().find(want.substr(7)), std::string::npos)
          << c.target << ": " << got.status().message();
      continue;
    }
    ASSERT_TRUE(got.ok()) << c.target << ": " << got.status().ToString();
    EXPECT_EQ(Names(*got), want) << c.target;
  }
}

TEST(NamingTest, Alias) {
  RunCases({
      {"alias(app.*.cpu, 'all')", "all|all"},
      {"alias(app.web1.cpu, \"double quoted\")", "double quoted"},
      {"alias(nothing.*, 'x')", ""},
      {"alias(app.web1.cpu)", "error: is required"},
  });
  MemoryFetcher fetcher = MakeFetcher();
  auto got = EvalForTest("alias(app.web1.cpu, 'x')", fetcher, kRange);
  ASSERT_TRUE(got.ok());
  // Renaming leaves tags, path expression and values alone.
  EXPECT_EQ((*got)[0].tags, (Tags{{"name", "app.web1.cpu"}}));
  EXPECT_EQ((*got)[0].path_expression, "app.web1.cpu");
  EXPECT_EQ((*got)[0].values, (std::vector<double>{1, 2}));
}

TEST(NamingTest, AliasByNode) {
  RunCases({
      {"aliasByNode(app.*.cpu, 1)", "web1|web2"},
      {"aliasByNode(app.*.cpu, 1, 2)", "web1.cpu|web2.cpu"},
      {"aliasByNode(app.*.cpu, -1)", "cpu|cpu"},
      {"aliasByNode(app.*.cpu, 0, -2)", "app.web1|app.web2"},
      // A computed name reads the first path inside it.
      {"aliasByNode(sumSeries(app.*.cpu), 1)", "*"},
      {"aliasByNode(aliasByNode(app.web1.cpu, 1), 0)", "web1"},
      {"aliasByNode(sumSeries(app.web1.cpu, app.web2.cpu), 1)", "web1"},
      // Out of range positions read a tag of that number: usually absent, so empty.
      {"aliasByNode(app.web1.cpu, 5)", ""},
      {"aliasByNode(app.web1.cpu, 'x')", ""},
      {"aliasByNode(seriesByTag('name=cpu'), 'host')", "a|b"},
      {"aliasByNode(seriesByTag('name=cpu'), 0, 'dc')", "cpu.east|cpu.west"},
      {"aliasByTags(seriesByTag('name=cpu'), 'host', 'dc')", "a.east|b.west"},
      {"aliasByTags(seriesByTag('name=cpu'), 'name', 'missing')", "cpu.|cpu."},
      {"aliasByTags(app.web1.cpu, 1, 'name')", "web1.app.web1.cpu"},
      {"aliasByTags(sumSeries(seriesByTag('name=cpu')), 'name')", "cpu"},
      {"aliasByNode(app.web1.cpu)", "error: is required"},
  });
}

TEST(NamingTest, AliasByMetricAndSubstr) {
  RunCases({
      {"aliasByMetric(app.*.cpu)", "cpu|cpu"},
      {"aliasByMetric(sumSeries(app.*.cpu))", "cpu"},
      {"aliasByMetric(seriesByTag('name=cpu'))", "cpu;dc=east;host=a|cpu;dc=west;host=b"},
      {"aliasByMetric(scale(app.web1.cpu, 2))", "cpu"},
      {"substr(app.web1.cpu, 1)", "web1.cpu"},
      {"substr(app.web1.cpu, 1, 2)", "web1"},
      {"substr(app.web1.cpu, -2)", "web1.cpu"},
      {"substr(app.web1.cpu, 0, -1)", "app.web1"},
      {"substr(app.web1.cpu)", "app.web1.cpu"},
      {"substr(app.web1.cpu, 5)", ""},
      // The innermost argument is sliced and cut at its first ','.
      {"substr(scale(app.web1.cpu, 2), 1)", "web1.cpu"},
      {"substr(sumSeries(app.web1.cpu, app.web2.cpu), 0, 2)", "app.web1"},
  });
}

// Evaluates `target` with its string arguments replaced, in order, by `strings`: the texts reach
// the kernel exactly as written here, whatever the string syntax's escaping rules.
Result<SeriesList> EvalWithStrings(std::string_view target, std::vector<std::string> strings) {
  SLUICE_ASSIGN_OR_RETURN(auto parsed, ParseExpression(target));
  SLUICE_ASSIGN_OR_RETURN(auto bound, Bind(*parsed, Registry::Default()));
  size_t next = 0;
  std::vector<BoundExpr*> stack{bound.get()};
  while (!stack.empty()) {
    BoundExpr* e = stack.back();
    stack.pop_back();
    if (e->kind == BoundExpr::Kind::kString && next < strings.size()) e->text = strings[next++];
    for (auto it = e->args.rbegin(); it != e->args.rend(); ++it) {
      if (*it) stack.push_back(it->get());
    }
  }
  MemoryFetcher fetcher = MakeFetcher();
  EvalContext ctx(&fetcher, kRange, kRange.to_ms, EvalLimits{});
  SeriesList out;
  SLUICE_RETURN_IF_ERROR(Evaluate(*bound, ctx, &out));
  return out;
}

TEST(NamingTest, AliasSubHasPythonSemantics) {
  struct SubCase {
    const char* target;
    std::string search;
    std::string replace;
    const char* names;
  };
  const std::vector<SubCase> cases = {
      {"aliasSub(app.*.cpu, 's', 'r')", R"(^app\.(\w+)\.cpu$)", R"(\1)", "web1|web2"},
      {"aliasSub(app.*.cpu, 's', 'r')", R"(app\.(\w+)\.(\w+))", R"(\2-\1)", "cpu-web1|cpu-web2"},
      {"aliasSub(app.*.cpu, 's', 'r')", R"((?P<host>web\d))", R"(<\g<host>>)",
       "app.<web1>.cpu|app.<web2>.cpu"},
      {"aliasSub(app.*.cpu, 's', 'r')", R"(web(\d))", R"(\g<1>0)", "app.10.cpu|app.20.cpu"},
      {"aliasSub(ip.*.*, 's', 'r')", R"(^.*TCP(\d+))", R"(\1)", "80"},
      {"aliasSub(app.web1.cpu, 's', 'r')", "web", "WEB", "app.WEB1.cpu"},
      {"aliasSub(app.web1.cpu, 's', 'r')", "p", "", "a.web1.cu"},
      // Empty matches are replaced too, except right after an empty match (Python 3.7+).
      {"aliasSub(app.web1.cpu, 's', 'r')", "x*", "-", "-a-p-p-.-w-e-b-1-.-c-p-u-"},
      {"aliasSub(app.web1.cpu, 's', 'r')", "p*", "-", "-a--.-w-e-b-1-.-c--u-"},
      // Unknown escapes of non-letters stay as written; \n and \\ are characters.
      {"aliasSub(app.web1.cpu, 's', 'r')", R"(\.)", R"(\-)", R"(app\-web1\-cpu)"},
      {"aliasSub(app.web1.cpu, 's', 'r')", R"(\.)", R"(\\)", R"(app\web1\cpu)"},
      {"aliasSub(app.web1.cpu, 's', 'r')", "1", R"(\101)", "app.webA.cpu"},
      {"aliasSub(sumSeries(app.*.cpu), 's', 'r')", "[()]", "_", "sumSeries_app.*.cpu_"},
  };
  for (const SubCase& c : cases) {
    auto got = EvalWithStrings(c.target, {c.search, c.replace});
    ASSERT_TRUE(got.ok()) << c.search << " -> " << c.replace << ": " << got.status().ToString();
    EXPECT_EQ(Names(*got), c.names) << c.search << " -> " << c.replace;
  }
  const std::vector<SubCase> errors = {
      {"aliasSub(app.web1.cpu, 's', 'r')", "(", "x", "invalid regex '('"},
      {"aliasSub(app.web1.cpu, 's', 'r')", R"((?<=a)b)", "x", "invalid regex"},
      {"aliasSub(app.web1.cpu, 's', 'r')", "(a)", R"(\2)", "invalid group reference 2"},
      {"aliasSub(app.web1.cpu, 's', 'r')", "(a)", R"(\q)", R"(bad escape \q)"},
      {"aliasSub(app.web1.cpu, 's', 'r')", "(a)", R"(x\)", "bad escape (end of pattern)"},
      {"aliasSub(app.web1.cpu, 's', 'r')", "(a)", R"(\g<x>)", "unknown group name 'x'"},
      {"aliasSub(app.web1.cpu, 's', 'r')", "(a)", R"(\g<1)", "missing >"},
  };
  for (const SubCase& c : errors) {
    auto got = EvalWithStrings(c.target, {c.search, c.replace});
    ASSERT_FALSE(got.ok()) << c.search << " -> " << c.replace;
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(got.status().message().find(c.names), std::string::npos) << got.status().message();
    EXPECT_NE(got.status().message().find("aliasSub: "), std::string::npos)
        << got.status().message();
  }
}

TEST(NamingTest, FirstPathExpressionAndAggKey) {
  EXPECT_EQ(FirstPathExpression("scale(a.b.c,2)"), "a.b.c");
  EXPECT_EQ(FirstPathExpression("sumSeries(movingAverage(x.y,'5min'),z)"), "x.y");
  EXPECT_EQ(FirstPathExpression("constantLine(5)"), std::nullopt);
  EXPECT_EQ(FirstPathExpression("f('a', b)"), std::nullopt);
  EXPECT_EQ(FirstPathExpression("f(g( a.{b,c}.d , 1))"), "a.{b,c}.d");
  EXPECT_EQ(FirstPathExpression("alias(cpu;dc=east,'x')"), "cpu;dc=east");
  TimeSeries s;
  s.name = "scale(a.b.c;x=1,2)";
  s.tags = Tags{{"name", "a.b.c"}, {"x", "1"}};
  EXPECT_EQ(AggKey(s, {NodeOrTag{true, 1, ""}, NodeOrTag{false, 0, "x"}}), "b.1");
  EXPECT_EQ(AggKey(s, {NodeOrTag{true, -3, ""}, NodeOrTag{true, 9, ""}}), "a.");
}

TEST(NamingTest, SpecsAreGraphites) {
  const Registry& r = Registry::Default();
  for (const char* name : {"alias", "aliasByNode", "aliasByMetric", "aliasByTags", "aliasSub"}) {
    ASSERT_NE(r.Find(name), nullptr) << name;
    EXPECT_EQ(r.Find(name)->group, "Alias") << name;
  }
  ASSERT_NE(r.Find("substr"), nullptr);
  EXPECT_EQ(r.Find("substr")->group, "Special");
  EXPECT_EQ(r.Find("substr")->params[1].default_value, "0");
  EXPECT_TRUE(r.Find("aliasByNode")->params[1].multiple);
}

TEST(NamingDifferentialTest, SubstrMatchesTheReference) {
  std::mt19937 rng(7);
  const char* pieces[] = {"a", "bb", "c.d", "sum(", ")", ",x", "e.f.g", "(", "h"};
  for (int round = 0; round < 400; ++round) {
    std::string name;
    const size_t n = 1 + rng() % 6;
    for (size_t i = 0; i < n; ++i) name += pieces[rng() % 9];
    const int start = static_cast<int>(rng() % 9) - 4;
    const int stop = static_cast<int>(rng() % 9) - 4;
    std::string target = "substr(alias(app.web1.cpu, 'n'), " + std::to_string(start) + ", " +
                         std::to_string(stop) + ")";
    auto sliced = EvalWithStrings(target, {name});
    ASSERT_TRUE(sliced.ok()) << target << ": " << sliced.status().ToString();
    EXPECT_EQ((*sliced)[0].name, testing::reference::Substr(name, start, stop))
        << name << " [" << start << ":" << stop << "]";
  }
}

}  // namespace
}  // namespace sluice::expr
