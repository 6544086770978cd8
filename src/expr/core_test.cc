// Tests of the expression core: binder (resolution, arity, types, errors with columns), evaluator
// (argument evaluation, lazy parameters, budgets) and the shared kernels (intervals, aggregation
// functions, consolidation, normalisation, number formatting).
#include <gtest/gtest.h>

#include "expr/binder.h"
#include "expr/evaluator.h"
#include "expr/kernels.h"
#include "expr/parser.h"

namespace sluice::expr {
namespace {

// Echoes its series, renamed f(<names>,<number>).
Status EchoImpl(EvalContext&, CallArgs& args, SeriesList* out) {
  SeriesList in = args.series(0);
  for (auto& s : in) {
    s.name = "f(" + s.name + "," + FormatNumberArg(args.number(1, 1), args.value(1).is_integer) +
             ")";
    out->push_back(std::move(s));
  }
  return Status::OK();
}

Status ConcatImpl(EvalContext&, CallArgs& args, SeriesList* out) {
  for (auto& s : args.ConcatRest()) out->push_back(std::move(s));
  return Status::OK();
}

// Evaluates its lazy argument one hour earlier.
Status EarlierImpl(EvalContext& ctx, CallArgs& args, SeriesList* out) {
  TimeRange r = ctx.range();
  r.from_ms -= 3'600'000;
  r.to_ms -= 3'600'000;
  return ctx.Evaluate(*args.plan(0), r, out);
}

const Registry& TestRegistry() {
  static const Registry* r = [] {
    auto* reg = new Registry();
    EXPECT_TRUE(reg->Add({"f", "Transform", "echo", "f(a.b, 2)",
                          {{"seriesList", ArgType::kSeriesList, true},
                           {"factor", ArgType::kFloat, false, "1"},
                           {"func", ArgType::kAggFunc, false, "average", AggFnNames()}},
                          EchoImpl})
                    .ok());
    EXPECT_TRUE(reg->Add({"cat", "Combine", "concat", "cat(a, b)",
                          {{"seriesLists", ArgType::kSeriesLists, true, "", {}, true}},
                          ConcatImpl})
                    .ok());
    EXPECT_TRUE(reg->Add({"earlier", "Transform", "shift", "earlier(a)",
                          {{"seriesList", ArgType::kSeriesList, true, "", {}, false, true}},
                          EarlierImpl})
                    .ok());
    return reg;
  }();
  return *r;
}

Result<std::unique_ptr<BoundExpr>> BindText(std::string_view text) {
  SLUICE_ASSIGN_OR_RETURN(auto ast, ParseExpression(text));
  return Bind(*ast, TestRegistry());
}

TEST(BinderTest, Errors) {
  const struct {
    const char* text;
    const char* error;
  } cases[] = {
      {"nope(a)", "unknown function 'nope' at column 1"},
      {"f(a, 1, 'sum', 4)", "f: takes at most 3 arguments, got 4 at column 16"},
      {"f(a, 'x')", "f: argument 2 (factor) must be a number, got a string at column 6"},
      {"f(1)", "f: argument 1 (seriesList) must be a series list (a path or a function call), "
               "got a number at column 3"},
      {"f(factor=2)", "f: argument 1 (seriesList) is required, in the call at column 1"},
      {"f(a, bogus=2)", "f: no parameter named 'bogus' at column 6"},
      {"f(a, 2, factor=3)", "f: argument 'factor' given twice, at column 9"},
      {"f(a, 2, 'avgx')", "f: argument 3 (func) must be one of average, avg_zero, median, sum, "
                          "min, max, diff, stddev, count, range, multiply, last, got 'avgx' at "
                          "column 9"},
      {"cat()", "cat: argument 1 (seriesLists) is required, in the call at column 1"},
      {"cat(a, seriesLists=b)", "cat: 'seriesLists' takes positional arguments only, at column 8"},
  };
  for (const auto& c : cases) {
    auto bound = BindText(c.text);
    ASSERT_FALSE(bound.ok()) << c.text;
    EXPECT_EQ(bound.status().message(), c.error) << c.text;
  }
}

// fuzz/regressions/fuzz_expr/integer-beyond-int64: the binder's integer check converted the
// number to int64, undefined (UBSan) for 2^63 and beyond; such a number is not an integer argument.
TEST(BinderTest, IntegersBeyondInt64AreRejected) {
  for (const char* text : {"delay(a.b, 9223372036854775807)", "delay(a.b, -1e19)",
                           "substr(a.b, -1e19, 1)", "delay(a.b, 1e308)"}) {
    auto ast = ParseExpression(text);
    ASSERT_TRUE(ast.ok()) << text << ": " << ast.status().message();
    auto bound = Bind(**ast, Registry::Default());
    ASSERT_FALSE(bound.ok()) << text;
    EXPECT_EQ(bound.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_NE(bound.status().message().find("an integer"), std::string::npos)
        << bound.status().message();
  }
  auto ast = ParseExpression("delay(a.b, -9223372036854775808)");
  ASSERT_TRUE(ast.ok());
  EXPECT_TRUE(Bind(**ast, Registry::Default()).ok());
}

TEST(BinderTest, NamedArgumentsTakeTheirSlot) {
  auto bound = BindText("f(a.b, func='sum')");
  ASSERT_TRUE(bound.ok()) << bound.status().message();
  const BoundExpr& call = **bound;
  ASSERT_EQ(call.args.size(), 3u);
  EXPECT_EQ(call.args[0]->kind, BoundExpr::Kind::kPath);
  EXPECT_EQ(call.args[1], nullptr);
  EXPECT_EQ(call.args[2]->text, "sum");
}

// Serves a.b, a.c and x.y: 60 s steps, value = minutes since the epoch.
class GridFetcher : public Fetcher {
 public:
  Status Fetch(const NameMatcher& matcher, const std::vector<TagFilter>&, std::string_view path,
               const TimeRange& range, EvalContext&, SeriesList* out) override {
    for (const char* name : {"a.b", "a.c", "x.y"}) {
      if (!matcher.Matches(name)) continue;
      TimeSeries s;
      s.name = name;
      s.path_expression = std::string(path);
      s.step = 60'000;
      s.start = (range.from_ms / s.step + 1) * s.step;
      for (int64_t t = s.start; t <= range.to_ms; t += s.step) {
        s.values.push_back(static_cast<double>(t / 60'000));
      }
      out->push_back(std::move(s));
    }
    return Status::OK();
  }
};

Result<SeriesList> RunExpr(std::string_view text, EvalLimits limits = {}) {
  SLUICE_ASSIGN_OR_RETURN(auto plan, BindText(text));
  GridFetcher fetcher;
  EvalContext ctx(&fetcher, {0, 600'000}, 600'000, limits);
  SeriesList out;
  SLUICE_RETURN_IF_ERROR(Evaluate(*plan, ctx, &out));
  return out;
}

TEST(EvaluatorTest, CallsNestAndVariadicArgumentsConcatenate) {
  auto out = RunExpr("cat(f(a.*, 2.5), x.y, f(a.b))");
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ(out->size(), 4u);
  EXPECT_EQ((*out)[0].name, "f(a.b,2.5)");
  EXPECT_EQ((*out)[1].name, "f(a.c,2.5)");
  EXPECT_EQ((*out)[2].name, "x.y");
  EXPECT_EQ((*out)[3].name, "f(a.b,1.0)");  // an absent number reads as a float
  EXPECT_EQ((*out)[0].size(), 10u);
  EXPECT_EQ((*out)[0].values[0], 1);
}

TEST(EvaluatorTest, LazyParametersEvaluateOverTheirOwnWindow) {
  auto out = RunExpr("earlier(a.b)");
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].values[0], -59);
}

TEST(EvaluatorTest, Budgets) {
  EvalLimits limits;
  limits.max_series_per_path = 1;
  auto out = RunExpr("f(a.*)", limits);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(out.status().message(),
            "'a.*' at column 3 matches 2 series, more than the limit of 1");

  limits = {};
  limits.max_points = 15;
  out = RunExpr("cat(a.b, a.c)", limits);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);

  limits = {};
  limits.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  out = RunExpr("f(a.b)", limits);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
}

TEST(KernelsTest, ParseInterval) {
  EXPECT_EQ(*ParseInterval("5min"), 300'000);
  EXPECT_EQ(*ParseInterval("-1d"), -86'400'000);
  EXPECT_EQ(*ParseInterval("1h30min"), 5'400'000);
  EXPECT_EQ(*ParseInterval("+2weeks"), 14 * 86'400'000LL);
  EXPECT_EQ(*ParseInterval("1mon"), 30 * 86'400'000LL);
  EXPECT_EQ(*ParseInterval("1y"), 365 * 86'400'000LL);
  EXPECT_EQ(*ParseInterval("10s"), 10'000);
  EXPECT_EQ(ParseInterval("5x").status().message(), "invalid interval '5x': unknown unit 'x' "
       "(expected s, min, h, d, w, mon or y)");
  EXPECT_EQ(ParseInterval("5m").status().message(), "invalid interval '5m': unknown unit 'm' "
       "(expected s, min, h, d, w, mon or y)");
  EXPECT_FALSE(ParseInterval("").ok());
  EXPECT_FALSE(ParseInterval("min").ok());
  EXPECT_FALSE(ParseInterval("99999999999999999999s").ok());
}

TEST(KernelsTest, AggregationFunctions) {
  const double n = kNone;
  const double row[] = {3, n, 1, 4};
  EXPECT_EQ(FindAggFn("sum")(row, 4), 8);
  EXPECT_EQ(FindAggFn("total")(row, 4), 8);
  EXPECT_DOUBLE_EQ(FindAggFn("average")(row, 4), 8.0 / 3);
  EXPECT_EQ(FindAggFn("avg_zero")(row, 4), 2);
  EXPECT_EQ(FindAggFn("median")(row, 4), 3);
  EXPECT_EQ(FindAggFn("min")(row, 4), 1);
  EXPECT_EQ(FindAggFn("max")(row, 4), 4);
  EXPECT_EQ(FindAggFn("diff")(row, 4), -2);
  EXPECT_EQ(FindAggFn("count")(row, 4), 3);
  EXPECT_EQ(FindAggFn("range")(row, 4), 3);
  EXPECT_TRUE(IsNone(FindAggFn("multiply")(row, 4)));
  EXPECT_EQ(FindAggFn("last")(row, 4), 4);
  EXPECT_NEAR(FindAggFn("stddev")(row, 4), 1.247219128924647, 1e-12);
  const double none[] = {n, n};
  EXPECT_TRUE(IsNone(FindAggFn("sum")(none, 2)));
  EXPECT_EQ(FindAggFn("count")(none, 2), 0);
  EXPECT_EQ(FindAggFn("nope"), nullptr);
}

TEST(KernelsTest, ConsolidationAndNormalisation) {
  TimeSeries a;
  a.name = a.path_expression = "a";
  a.start = 10'000;
  a.step = 10'000;
  a.values = {1, 2, kNone, 4, 5, 6, 7};
  EXPECT_EQ(ConsolidatedValues(a, 3), (std::vector<double>{1.5, 5, 7}));
  a.xfiles_factor = 0.5;
  std::vector<double> sparse = ConsolidatedValues(a, 3);  // last group: 1 of 3 present
  EXPECT_EQ(sparse[1], 5);
  EXPECT_TRUE(IsNone(sparse[2]));
  a.xfiles_factor = 0;

  TimeSeries b = a;
  b.name = b.path_expression = "b";
  b.step = 30'000;
  b.values = {1, 2};
  SeriesList list = {a, b};
  auto norm = Normalize(&list);
  ASSERT_TRUE(norm.ok());
  EXPECT_EQ(norm->step, 30'000);
  EXPECT_EQ(norm->start, 10'000);
  EXPECT_EQ(norm->end, 70'000);  // 80'000 trimmed to a whole number of steps
  EXPECT_EQ(list[0].values, (std::vector<double>{1.5, 5, 7}));
  EXPECT_EQ(FormatPathExpressions({a, b, a}), "a,b");
  SeriesList empty;
  EXPECT_FALSE(Normalize(&empty).ok());
}

TEST(KernelsTest, NumberFormatsMatchPython) {
  EXPECT_EQ(FormatPyFloat(1), "1.0");
  EXPECT_EQ(FormatPyFloat(0.5), "0.5");
  EXPECT_EQ(FormatPyFloat(-2.25), "-2.25");
  EXPECT_EQ(FormatPyFloat(1e16), "1e+16");
  EXPECT_EQ(FormatPyFloat(1234567890123456.0), "1234567890123456.0");
  EXPECT_EQ(FormatPyFloat(0.0001), "0.0001");
  EXPECT_EQ(FormatPyFloat(0.00001), "1e-05");
  EXPECT_EQ(FormatPyFloat(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatPyFloat(100), "100.0");
  EXPECT_EQ(FormatG(0.5), "0.5");
  EXPECT_EQ(FormatG(1e20), "1e+20");
  EXPECT_EQ(FormatG(3), "3");
  EXPECT_EQ(FormatNumberArg(5, true), "5");
  EXPECT_EQ(FormatNumberArg(5, false), "5.0");
}

TEST(NameMatcherPathTest, GraphiteSemantics) {
  struct {
    const char* path;
    const char* name;
    bool match;
  } cases[] = {
      {"a.*.c", "a.b.c", true},          {"a.*.c", "a.b.x.c", false},
      {"a.{b,x}.c", "a.x.c", true},      {"a.b?", "a.bc", true},
      {"a.[0-9]", "a.5", true},          {"app.(web\\-1|db).cpu", "app.web-1.cpu", true},
      {"app.(web\\-1|db).cpu", "app.db.cpu", true}, {"app.(web\\-1|db).cpu", "app.web.cpu", false},
      {"prod\\.1", "prod.1", true},      {"a+b", "a+b", true},
      {"a+b", "aab", false},             {"^a$", "^a$", true},
      {"web(1|2).cpu", "web2.cpu", true}, {"(a|b", "(a|b", true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(NameMatcher::CompilePath(c.path).Matches(c.name), c.match)
        << c.path << " vs " << c.name;
  }
  EXPECT_EQ(NameMatcher::CompilePath("prod\\.1").kind(), NameMatcher::Kind::kExact);
}

}  // namespace
}  // namespace sluice::expr
