// Tests of the transform functions (transform.cc) through the real parser, binder and evaluator:
// tables of target -> output (hand-computed from graphite-web 1.1.8's code), errors, the registry
// entries, Python's round(), and a differential test of the kernels against the slow reference in
// testing/reference_transform.h on random inputs with fixed seeds.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "expr/kernels.h"
#include "expr/registry.h"
#include "testing/expr_fixtures.h"
#include "testing/reference_transform.h"

namespace sluice::expr {

namespace {

using sluice::testing::DumpSeriesList;
using sluice::testing::EvalForTest;
using sluice::testing::FetchWindow;
using sluice::testing::MemoryFetcher;
namespace ref = sluice::testing::reference;

constexpr int64_t kStep = 60'000;
constexpr double N = kNone;
const TimeRange kRange{0, 10 * kStep};  // (0, 600 s]: ten points at 60 s .. 600 s

// a.b   1 2 None 4 -5 6 None None 9 10     (60 s .. 600 s)
// r.x   round()'s ties and near-ties
// c.d   a counter that wraps
MemoryFetcher& Fixture() {
  static MemoryFetcher* fetcher = [] {
    auto* f = new MemoryFetcher();
    f->Add("a.b", kStep, kStep, {1, 2, N, 4, -5, 6, N, N, 9, 10});
    f->Add("r.x", kStep, kStep, {0.5, 1.5, 2.5, -0.5, 2.675, 1234.5678, N, 0.125, -2.5, 1e300});
    f->Add("c.d", kStep, kStep, {90, 95, 99, 3, 8, N, 20, 150, 5, 7});
    return f;
  }();
  return *fetcher;
}

struct Case {
  const char* target;
  const char* want;  // DumpSeriesList
};

class TransformTableTest : public ::testing::TestWithParam<Case> {};

TEST_P(TransformTableTest, MatchesGraphite) {
  const Case& c = GetParam();
  auto out = EvalForTest(c.target, Fixture(), kRange);
  ASSERT_TRUE(out.ok()) << c.target << ": " << out.status().message();
  EXPECT_EQ(DumpSeriesList(*out), c.want) << c.target;
}

const Case kCases[] = {
    {"scale(a.b, 2)", "scale(a.b,2) [60000,60000] 2 4 None 8 -10 12 None None 18 20"},
    {"scale(a.b, 0.1)",
     "scale(a.b,0.1) [60000,60000] 0.1 0.2 None 0.4 -0.5 0.6000000000000001 None None "
     "0.9 1"},
    {"offset(a.b, -1.5)", "offset(a.b,-1.5) [60000,60000] -0.5 0.5 None 2.5 -6.5 4.5 None None "
                          "7.5 8.5"},
    {"offsetToZero(a.b)", "offsetToZero(a.b) [60000,60000] 6 7 None 9 0 11 None None 14 15"},
    {"absolute(a.b)", "absolute(a.b) [60000,60000] 1 2 None 4 5 6 None None 9 10"},
    {"invert(a.b)",
     "invert(a.b) [60000,60000] 1 0.5 None 0.25 -0.2 0.16666666666666666 None None "
     "0.1111111111111111 0.1"},
    {"pow(a.b, 2)", "pow(a.b,2) [60000,60000] 1 4 None 16 25 36 None None 81 100"},
    {"pow(a.b, 0.5)",
     "pow(a.b,0.5) [60000,60000] 1 1.4142135623730951 None 2 None 2.449489742783178 None None "
     "3 3.1622776601683795"},
    {"squareRoot(a.b)",
     "squareRoot(a.b) [60000,60000] 1 1.4142135623730951 None 2 None 2.449489742783178 None "
     "None 3 3.1622776601683795"},
    {"log(a.b)",
     "log(a.b, 10) [60000,60000] 0 0.30102999566398114 None 0.6020599913279623 None "
     "0.7781512503836435 None None 0.9542425094393249 1"},
    {"log(a.b, 2)",
     "log(a.b, 2) [60000,60000] 0 1 None 2 None 2.584962500721156 None None 3.1699250014423126 "
     "3.3219280948873626"},
    {"scaleToSeconds(a.b, 1)",
     "scaleToSeconds(a.b,1) [60000,60000] 0.016667 0.033333 None 0.066667 -0.083333 0.1 None "
     "None 0.15 0.166667"},
    {"scaleToSeconds(a.b, 0.5)",
     "scaleToSeconds(a.b,0) [60000,60000] 0.008333 0.016667 None 0.033333 -0.041667 0.05 None "
     "None 0.075 0.083333"},
    {"derivative(a.b)", "derivative(a.b) [60000,60000] None 1 None None -9 11 None None None 1"},
    {"nonNegativeDerivative(a.b)",
     "nonNegativeDerivative(a.b) [60000,60000] None 1 None None None 11 None None None 1"},
    {"nonNegativeDerivative(c.d)",
     "nonNegativeDerivative(c.d) [60000,60000] None 5 4 None 5 None None 130 None 2"},
    // wrapped at 100: 100 + 1 + 3 - 99 = 5; 150 > maxValue: None, and no previous for 5
    {"nonNegativeDerivative(c.d, 100)",
     "nonNegativeDerivative(c.d) [60000,60000] None 5 4 5 5 None None None None 2"},
    // below minValue 5 (3): None; 150 -> 5 wraps to minValue: 5 - 5 = 0
    {"nonNegativeDerivative(c.d, minValue=5)",
     "nonNegativeDerivative(c.d) [60000,60000] None 5 4 None None None None 130 0 2"},
    {"perSecond(a.b)",
     "perSecond(a.b) [60000,60000] None 0.016667 None None None 0.183333 None None None "
     "0.016667"},
    {"integral(a.b)", "integral(a.b) [60000,60000] 1 3 None 7 2 8 None None 17 27"},
    {"integralByInterval(a.b, '3min')",
     "integralByInterval(a.b,'3min') [60000,60000] 1 3 0 4 -1 6 6 6 9 19"},
    {"delay(a.b, 2)", "delay(a.b,2) [60000,60000] None None 1 2 None 4 -5 6 None None"},
    {"delay(a.b, -3)", "delay(a.b,-3) [60000,60000] 4 -5 6 None None 9 10 None None None"},
    {"delay(a.b, 20)",
     "delay(a.b,20) [60000,60000] None None None None None None None None None None"},
    {"delay(a.b, 0)", "delay(a.b,0) [60000,60000]"},  // graphite-web 1.1.8: series[:-0] == []
    {"keepLastValue(a.b)", "keepLastValue(a.b) [60000,60000] 1 2 2 4 -5 6 6 6 9 10"},
    {"keepLastValue(a.b, 1)", "keepLastValue(a.b) [60000,60000] 1 2 2 4 -5 6 None None 9 10"},
    {"keepLastValue(delay(a.b, 3))",
     "keepLastValue(delay(a.b,3)) [60000,60000] None None None 1 2 2 4 -5 6 6"},
    {"interpolate(a.b)", "interpolate(a.b) [60000,60000] 1 2 3 4 -5 6 7 8 9 10"},
    {"interpolate(a.b, 1)", "interpolate(a.b) [60000,60000] 1 2 3 4 -5 6 None None 9 10"},
    {"interpolate(delay(a.b, -3))",
     "interpolate(delay(a.b,-3)) [60000,60000] 4 -5 6 7 8 9 10 None None None"},
    {"changed(a.b)", "changed(a.b) [60000,60000] 0 1 0 1 1 1 0 0 1 1"},
    {"isNonNull(a.b)", "isNonNull(a.b) [60000,60000] 1 1 0 1 1 1 0 0 1 1"},
    {"transformNull(a.b)", "transformNull(a.b,0) [60000,60000] 1 2 0 4 -5 6 0 0 9 10"},
    {"transformNull(a.b, -1)", "transformNull(a.b,-1) [60000,60000] 1 2 -1 4 -5 6 -1 -1 9 10"},
    // the reference (a.b one step later) has values at 180 s and 420 s but not at 480 s
    {"transformNull(a.b, 7, delay(a.b, 1))",
     "transformNull(a.b,7,referenceSeries) [60000,60000] 1 2 7 4 -5 6 7 None 9 10"},
    {"round(r.x)", "round(r.x) [60000,60000] 0 2 2 -0 3 1235 None 0 -2 1e+300"},
    {"round(r.x, 2)", "round(r.x,2) [60000,60000] 0.5 1.5 2.5 -0.5 2.67 1234.57 None 0.12 -2.5 "
                      "1e+300"},
    {"round(r.x, -2)", "round(r.x,-2) [60000,60000] 0 0 0 -0 0 1200 None 0 -0 1e+300"},
    {"consolidateBy(a.b, 'max')",
     "consolidateBy(a.b,\"max\") [60000,60000] 1 2 None 4 -5 6 None None 9 10"},
    // (-120 s, 480 s]: the shifted values on the request's grid
    {"timeShift(a.b, '2min')",
     "timeShift(a.b, \"-2min\") [60000,60000] None None 1 2 None 4 -5 6 None None"},
    {"timeShift(a.b, '+1min')",
     "timeShift(a.b, \"+1min\") [60000,60000] 2 None 4 -5 6 None None 9 10 None"},
    {"timeShift(scale(a.b, 2), '-1min')",
     "timeShift(scale(a.b,2), \"-1min\") [60000,60000] None 2 4 None 8 -10 12 None None 18"},
    {"summarize(a.b, '3min')", "summarize(a.b, \"3min\", \"sum\") [0,180000] 3 -1 6 19"},
    {"summarize(a.b, '3min', 'avg', true)",
     "summarize(a.b, \"3min\", \"avg\", true) [60000,180000] 1.5 1.6666666666666667 9 10"},
    {"summarize(a.b, '3min', 'last')", "summarize(a.b, \"3min\", \"last\") [0,180000] 2 -5 6 10"},
    {"summarize(a.b, '3min', 'count')",
     "summarize(a.b, \"3min\", \"count\") [0,180000] 2 2 1 2"},
    {"summarize(a.b, '2min', 'multiply', true)",
     "summarize(a.b, \"2min\", \"multiply\", true) [60000,120000] 2 None -30 None 90"},
    {"summarize(a.b, '30s')",
     "summarize(a.b, \"30s\", \"sum\") [60000,30000] 1 None 2 None None None 4 None -5 None 6 "
     "None None None None None 9 None 10 None None"},
    {"hitcount(a.b, '2min')", "hitcount(a.b, \"2min\") [60000,120000] 180 240 60 None 1140"},
    {"hitcount(a.b, '90s')", "hitcount(a.b, \"90s\") [30000,90000] 60 120 240 -120 180 270 870"},
};
INSTANTIATE_TEST_SUITE_P(Graphite, TransformTableTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::to_string(info.index); });

TEST(TransformTest, TagsAndPathExpressions) {
  struct TagCase {
    const char* target;
    const char* key;
    const char* value;
  };
  const TagCase cases[] = {
      {"scale(a.b, 2)", "scale", "2.0"},  // float parameters become Python floats
      {"offset(a.b, 0.5)", "offset", "0.5"},
      {"pow(a.b, 3)", "pow", "3.0"},
      {"scaleToSeconds(a.b, 60)", "scaleToSeconds", "60.0"},
      {"offsetToZero(a.b)", "offsetToZero", "-5.0"},
      {"absolute(a.b)", "absolute", "1"},
      {"log(a.b, 2)", "log", "2"},
      {"delay(a.b, -2)", "delay", "-2"},
      {"integralByInterval(a.b, '1h')", "integralByInterval", "1h"},
      {"timeShift(a.b, '1h')", "timeShift", "-1h"},
      {"transformNull(a.b)", "transformNull", "0"},
      {"transformNull(a.b, 3)", "transformNull", "3.0"},
      {"transformNull(a.b, 3, a.b)", "referenceSeries", "1"},
      {"round(a.b)", "round", "0"},
      {"round(a.b, 2)", "round", "2"},
      {"summarize(a.b, '1h', 'max')", "summarize", "1h"},
      {"summarize(a.b, '1h', 'max')", "summarizeFunction", "max"},
      {"hitcount(a.b, '1h')", "hitcount", "1h"},
      {"consolidateBy(a.b, 'sum')", "consolidateBy", "sum"},
      {"isNonNull(a.b)", "name", "a.b"},
  };
  for (const auto& c : cases) {
    auto out = EvalForTest(c.target, Fixture(), kRange);
    ASSERT_TRUE(out.ok()) << c.target << ": " << out.status().message();
    ASSERT_EQ(out->size(), 1u) << c.target;
    EXPECT_EQ((*out)[0].tags.Get(c.key), c.value) << c.target << " tag " << c.key;
  }
  // Renaming functions set pathExpression to the new name; timeShift keeps the argument's.
  auto out = EvalForTest("scale(a.b, 2)", Fixture(), kRange);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].path_expression, "scale(a.b,2)");
  out = EvalForTest("timeShift(a.b, '1h')", Fixture(), kRange);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].path_expression, "a.b");
  out = EvalForTest("consolidateBy(a.b, 'last')", Fixture(), kRange);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].consolidation, "last");
}

TEST(TransformTest, ResultOrderAndEmptyInputs) {
  MemoryFetcher f;
  f.Add("m.b", kStep, kStep, {1, 2});
  f.Add("m.a", kStep, kStep, {3, N});
  auto out = EvalForTest("perSecond(m.*)", f, kRange);
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].name, "perSecond(m.a)");
  EXPECT_EQ((*out)[1].name, "perSecond(m.b)");
  for (const char* target : {"scale(none.*, 2)", "timeShift(none.*, '1d')",
                             "summarize(none.*, '1h')", "hitcount(none.*, '1h', true)"}) {
    out = EvalForTest(target, f, kRange);
    ASSERT_TRUE(out.ok()) << target << ": " << out.status().message();
    EXPECT_TRUE(out->empty()) << target;
  }
}

TEST(TransformTest, LazyArgumentsAreFetchedOverTheirWindow) {
  MemoryFetcher f;
  f.Add("a.b", kStep, kStep, {1, 2, 3});
  ASSERT_TRUE(EvalForTest("timeShift(a.b, '1h')", f, kRange).ok());
  ASSERT_EQ(f.calls().size(), 1u);  // a path is fetched once, over the shifted window
  EXPECT_EQ(f.calls()[0].range.from_ms, kRange.from_ms - 3'600'000);
  EXPECT_EQ(f.calls()[0].range.to_ms, kRange.to_ms - 3'600'000);

  MemoryFetcher g;
  g.Add("a.b", kStep, kStep, {1, 2, 3});
  // 00:10:30 .. 01:00:00 with '1h' buckets aligned to the hour: fetched from 00:00:00.
  ASSERT_TRUE(EvalForTest("hitcount(a.b, '1h', true)", g, TimeRange{630'000, 3'600'000}).ok());
  ASSERT_EQ(g.calls().size(), 1u);
  EXPECT_EQ(g.calls()[0].range.from_ms, 0);
}

TEST(TransformTest, Errors) {
  struct ErrorCase {
    const char* target;
    const char* message;  // a prefix of the error
  };
  const ErrorCase cases[] = {
      {"summarize(a.b, '5x')", "summarize: invalid interval '5x': unknown unit 'x' "
       "(expected s, min, h, d, w, mon or y)"},
      {"summarize(a.b, '-1h')", "summarize: intervalString must be a positive interval, got '-1h'"},
      {"summarize(a.b, '0s')", "summarize: intervalString must be a positive interval"},
      {"summarize(a.b, '1h', 'nope')", "summarize: argument 3 (func) must be one of"},
      {"hitcount(a.b, 'abc')", "hitcount: invalid interval 'abc'"},
      {"timeShift(a.b, 'abc')", "timeShift: invalid interval 'abc'"},
      {"integralByInterval(a.b, '0d')", "integralByInterval: intervalUnit must not be zero"},
      {"consolidateBy(a.b, 'median')", "consolidateBy: consolidationFunc must be one of"},
      {"log(a.b, 1)", "log: base must be positive and not 1, got 1"},
      {"log(a.b, -2)", "log: base must be positive and not 1, got -2"},
      {"scale(a.b)", "scale: argument 2 (factor) is required"},
      {"scale(a.b, 'x')", "scale: argument 2 (factor) must be a number, got a string"},
      {"delay(a.b, 1.5)", "delay: argument 2 (steps) must be an integer"},
  };
  for (const auto& c : cases) {
    auto out = EvalForTest(c.target, Fixture(), kRange);
    ASSERT_FALSE(out.ok()) << c.target;
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument) << c.target;
    EXPECT_EQ(out.status().message().rfind(c.message, 0), 0u)
        << c.target << ": " << out.status().message();
  }
}

TEST(TransformTest, BudgetsApply) {
  EvalLimits limits;
  limits.max_points = 15;  // the fetch (10 points) fits; the 30 s buckets (21) do not
  auto out = EvalForTest("summarize(a.b, '30s')", Fixture(), kRange, limits);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);

  limits = {};
  limits.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  out = EvalForTest("timeShift(a.b, '1h')", Fixture(), kRange, limits);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
}

// The registry entries: graphite's names, groups, parameter names, types and defaults.
TEST(TransformTest, Signatures) {
  struct Signature {
    const char* name;
    const char* group;
    const char* params;  // name:type[*required][=default][~lazy], space-separated
  };
  const Signature signatures[] = {
      {"scale", "Transform", "seriesList:seriesList* factor:float*"},
      {"scaleToSeconds", "Transform", "seriesList:seriesList* seconds:float*"},
      {"offset", "Transform", "seriesList:seriesList* factor:float*"},
      {"offsetToZero", "Transform", "seriesList:seriesList*"},
      {"absolute", "Transform", "seriesList:seriesList*"},
      {"invert", "Transform", "seriesList:seriesList*"},
      {"pow", "Transform", "seriesList:seriesList* factor:float*"},
      {"squareRoot", "Transform", "seriesList:seriesList*"},
      {"log", "Transform", "seriesList:seriesList* base:integer=10"},
      {"derivative", "Transform", "seriesList:seriesList*"},
      {"nonNegativeDerivative", "Transform",
       "seriesList:seriesList* maxValue:float minValue:float"},
      {"perSecond", "Transform", "seriesList:seriesList* maxValue:float minValue:float"},
      {"integral", "Transform", "seriesList:seriesList*"},
      {"integralByInterval", "Transform", "seriesList:seriesList* intervalUnit:string*"},
      {"delay", "Transform", "seriesList:seriesList* steps:integer*"},
      {"timeShift", "Transform",
       "seriesList:seriesList*~ timeShift:interval* resetEnd:boolean=true "
       "alignDst:boolean=false"},
      {"transformNull", "Transform",
       "seriesList:seriesList* default:float=0 referenceSeries:seriesList"},
      {"keepLastValue", "Transform", "seriesList:seriesList* limit:intOrInf=inf"},
      {"isNonNull", "Transform", "seriesList:seriesList*"},
      {"changed", "Special", "seriesList:seriesList*"},
      {"round", "Transform", "seriesList:seriesList* precision:integer=0"},
      {"interpolate", "Transform", "seriesList:seriesList* limit:intOrInf=inf"},
      {"summarize", "Transform",
       "seriesList:seriesList* intervalString:interval* func:aggFunc=sum "
       "alignToFrom:boolean=false"},
      {"hitcount", "Transform",
       "seriesList:seriesList*~ intervalString:interval* alignToInterval:boolean=false"},
      {"consolidateBy", "Special", "seriesList:seriesList* consolidationFunc:string*"},
  };
  const Registry& registry = Registry::Default();
  for (const auto& sig : signatures) {
    const FunctionSpec* spec = registry.Find(sig.name);
    ASSERT_NE(spec, nullptr) << sig.name;
    EXPECT_EQ(spec->group, sig.group) << sig.name;
    EXPECT_FALSE(spec->description.empty()) << sig.name;
    EXPECT_NE(spec->example.find(sig.name), std::string::npos) << sig.name;
    std::string params;
    for (const ParamSpec& p : spec->params) {
      if (!params.empty()) params += ' ';
      params += p.name + ":" + std::string(ArgTypeName(p.type));
      if (p.required) params += '*';
      if (!p.default_value.empty()) params += "=" + p.default_value;
      if (p.lazy) params += '~';
    }
    EXPECT_EQ(params, sig.params) << sig.name;
  }
  const FunctionSpec* consolidate = registry.Find("consolidateBy");
  ASSERT_NE(consolidate, nullptr);
  EXPECT_EQ(consolidate->params[1].options.size(), 8u);
}

// Python's round(): ties to even on the exact binary value, for every digit count graphite uses.
TEST(RoundLikePythonTest, MatchesThePythonDefinition) {
  struct RoundCase {
    double x;
    int digits;
    double want;
  };
  const RoundCase cases[] = {
      {0.5, 0, 0},        {1.5, 0, 2},         {2.5, 0, 2},        {-2.5, 0, -2},
      {2.675, 2, 2.67},   {0.125, 2, 0.12},    {0.375, 2, 0.38},   {1.0000005, 6, 1.000001},
      {1234.5, -1, 1230}, {1250, -2, 1200},    {1350, -2, 1400},   {1249.999, -2, 1200},
      {5e22, -23, 0},     {1.5e23, -23, 2e23}, {1e300, 6, 1e300},  {123.456, 25, 123.456},
      {-0.4, 0, -0.0},    {4.35, 1, 4.3},      {4.45, 1, 4.5},     {0.1 + 0.2, 6, 0.3},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(RoundLikePython(c.x, c.digits), c.want) << c.x << " to " << c.digits;
    EXPECT_EQ(ref::PyRound(c.x, c.digits), c.want) << "reference: " << c.x << " to " << c.digits;
  }
  EXPECT_TRUE(std::signbit(RoundLikePython(-0.4, 0)));
  EXPECT_TRUE(std::isinf(RoundLikePython(INFINITY, 3)));
  EXPECT_TRUE(std::isnan(RoundLikePython(N, 3)));
}

TEST(RoundLikePythonTest, DifferentialAgainstDecimalText) {
  std::mt19937_64 rng(20240501);
  std::uniform_int_distribution<int> digits(-25, 25);
  std::uniform_int_distribution<int> exponent(-30, 70);
  std::uniform_real_distribution<double> mantissa(-10, 10);
  for (int i = 0; i < 20000; ++i) {
    const int d = digits(rng);
    double x = mantissa(rng) * std::pow(10.0, exponent(rng) / 3);
    if (i % 3 == 0) x = std::round(x * 8) / 8 / std::pow(10.0, (i / 3) % 5);  // near-ties
    if (i % 7 == 0) x = std::ldexp(std::round(mantissa(rng) * 1e6), exponent(rng) - 30);
    const double got = RoundLikePython(x, d), want = ref::PyRound(x, d);
    ASSERT_TRUE(got == want && std::signbit(got) == std::signbit(want))
        << "round(" << x << ", " << d << "): " << got << " vs " << want;
  }
}

// Every kernel against the reference, on random series (gaps, negatives, ties, huge values, a few
// infinities) with several steps and unaligned windows.
class TransformDifferentialTest : public ::testing::TestWithParam<uint64_t> {
 protected:
  struct Input {
    std::string name;
    int64_t start_ms, step_ms;
    std::vector<double> values;
  };

  void SetUp() override {
    std::mt19937_64 rng(GetParam());
    const int64_t steps[] = {10'000, 60'000, 300'000};
    const double gaps[] = {0, 0.15, 0.5};
    for (const char* name : {"r.a", "r.b", "r.c"}) {
      const int64_t step = steps[rng() % 3];
      const int64_t start = 1'700'000'000'000 - step * static_cast<int64_t>(rng() % 50);
      inputs_.push_back({name, start, step,
                         ref::RandomValues(rng, 400 + rng() % 200, gaps[rng() % 3],
                                           rng() % 2 == 0)});
      fetcher_.Add(name, start, step, inputs_.back().values);
    }
    const int64_t from = 1'700'000'000'000 + static_cast<int64_t>(rng() % 3'000'000) - 500'000;
    range_ = TimeRange{from, from + 600'000 + static_cast<int64_t>(rng() % 20'000'000)};
  }

  ref::Grid Fetched(const Input& in, const TimeRange& range) const {
    ref::Grid g;
    g.step_ms = in.step_ms;
    g.values = FetchWindow(in.start_ms, in.step_ms, in.values, range, &g.start_ms);
    return g;
  }

  // Evaluates `target` (over r.*) and compares each output series with make(input grid).
  template <class Make>
  void Check(const std::string& target, Make make, const TimeRange* fetch_range = nullptr) {
    auto out = EvalForTest(target, fetcher_, range_);
    ASSERT_TRUE(out.ok()) << target << ": " << out.status().message();
    ASSERT_EQ(out->size(), inputs_.size()) << target;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      const ref::Grid want = make(Fetched(inputs_[i], fetch_range ? *fetch_range : range_));
      ExpectSame((*out)[i], want, target + " on " + inputs_[i].name);
    }
  }

  static void ExpectSame(const TimeSeries& got, const ref::Grid& want, const std::string& what) {
    ASSERT_EQ(got.start, want.start_ms) << what;
    ASSERT_EQ(got.step, want.step_ms) << what;
    ASSERT_EQ(got.values.size(), want.values.size()) << what;
    for (size_t j = 0; j < want.values.size(); ++j) {
      const double a = got.values[j], b = want.values[j];
      if (std::isnan(a) || std::isnan(b)) {
        ASSERT_EQ(std::isnan(a), std::isnan(b)) << what << " point " << j << ": " << a << " vs "
                                                << b;
        continue;
      }
      if (std::isinf(a) || std::isinf(b)) {
        ASSERT_EQ(a, b) << what << " point " << j;
        continue;
      }
      ASSERT_LE(std::fabs(a - b), 1e-9 * std::max({1.0, std::fabs(a), std::fabs(b)}))
          << what << " point " << j << ": " << a << " vs " << b;
    }
  }

  static ref::Grid Map(ref::Grid g, std::vector<double> values) {
    g.values = std::move(values);
    return g;
  }

  MemoryFetcher fetcher_;
  std::vector<Input> inputs_;
  TimeRange range_;
};

TEST_P(TransformDifferentialTest, PointwiseAndRunningKernels) {
  Check("derivative(r.*)", [](ref::Grid g) { return Map(g, ref::Derivative(g.values)); });
  Check("nonNegativeDerivative(r.*)", [](ref::Grid g) {
    return Map(g, ref::NonNegativeDerivative(g.values, false, 0, false, 0));
  });
  Check("nonNegativeDerivative(r.*, 50, -20)", [](ref::Grid g) {
    return Map(g, ref::NonNegativeDerivative(g.values, true, 50, true, -20));
  });
  Check("perSecond(r.*, minValue=-3)", [](ref::Grid g) {
    return Map(g, ref::PerSecond(g.values, g.step_ms, false, 0, true, -3));
  });
  Check("integral(r.*)", [](ref::Grid g) { return Map(g, ref::Integral(g.values)); });
  for (const char* interval : {"7min", "1h", "90s"}) {
    const int64_t ms = *ParseInterval(interval);
    Check(fmt::format("integralByInterval(r.*, '{}')", interval), [&](ref::Grid g) {
      return Map(g, ref::IntegralByInterval(g, range_.from_ms, ms));
    });
  }
  for (int steps : {-7, -1, 1, 3, 1000}) {
    Check(fmt::format("delay(r.*, {})", steps),
          [&](ref::Grid g) { return Map(g, ref::Delay(g.values, steps)); });
  }
  for (int limit : {0, 1, 3}) {
    Check(fmt::format("keepLastValue(r.*, {})", limit),
          [&](ref::Grid g) { return Map(g, ref::KeepLastValue(g.values, limit)); });
    Check(fmt::format("interpolate(r.*, {})", limit),
          [&](ref::Grid g) { return Map(g, ref::Interpolate(g.values, limit)); });
  }
  Check("keepLastValue(r.*)",
        [](ref::Grid g) { return Map(g, ref::KeepLastValue(g.values, INFINITY)); });
  Check("interpolate(r.*)",
        [](ref::Grid g) { return Map(g, ref::Interpolate(g.values, INFINITY)); });
  Check("changed(r.*)", [](ref::Grid g) { return Map(g, ref::Changed(g.values)); });
  Check("transformNull(r.*, -1)",
        [](ref::Grid g) { return Map(g, ref::TransformNull(g.values, -1, {})); });
  std::vector<std::vector<double>> reference;
  for (const Input& in : inputs_) {
    if (in.name == "r.b") reference.push_back(Fetched(in, range_).values);
  }
  Check("transformNull(r.*, 2.5, r.b)",
        [&](ref::Grid g) { return Map(g, ref::TransformNull(g.values, 2.5, reference)); });
  for (int digits : {0, 2, -1}) {
    Check(fmt::format("round(r.*, {})", digits),
          [&](ref::Grid g) { return Map(g, ref::Round(g.values, digits)); });
  }
}

TEST_P(TransformDifferentialTest, Summarize) {
  const char* funcs[] = {"sum", "average", "avg", "median", "min", "max", "diff", "stddev",
                         "count", "range", "rangeOf", "multiply", "last", "current", "total",
                         "avg_zero"};
  for (const char* interval : {"5min", "7min", "1h", "90s", "30s"}) {
    const int64_t ms = *ParseInterval(interval);
    for (const char* func : funcs) {
      for (bool align : {false, true}) {
        Check(fmt::format("summarize(r.*, '{}', '{}', {})", interval, func, align),
              [&](const ref::Grid& g) { return ref::Summarize(g, ms, func, align, 0); });
      }
    }
  }
}

TEST_P(TransformDifferentialTest, Hitcount) {
  for (const char* interval : {"5min", "7min", "1h", "90s", "1d"}) {
    const int64_t ms = *ParseInterval(interval);
    Check(fmt::format("hitcount(r.*, '{}')", interval),
          [&](const ref::Grid& g) { return ref::Hitcount(g, ms, false); });
    // alignToInterval fetches from the start truncated to the day, hour or minute.
    TimeRange aligned = range_;
    const int64_t unit = ms >= 86'400'000 ? 86'400'000 : ms >= 3'600'000 ? 3'600'000 : 60'000;
    aligned.from_ms -= aligned.from_ms % unit;
    Check(
        fmt::format("hitcount(r.*, '{}', true)", interval),
        [&](const ref::Grid& g) { return ref::Hitcount(g, ms, true); }, &aligned);
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, TransformDifferentialTest, ::testing::Values(1, 2, 3, 42, 1234));

// fuzz/regressions/fuzz_expr/scale-to-seconds-huge: the name's "%d" of `seconds` converted it to
// int64, undefined (UBSan) beyond int64's range. Python prints the whole integer.
TEST(TransformTest, ScaleToSecondsNamesHugeSecondsLikePython) {
  auto out = EvalForTest("scaleToSeconds(a.b, 1e19)", Fixture(), kRange);
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].name, "scaleToSeconds(a.b,10000000000000000000)");
  out = EvalForTest("scaleToSeconds(a.b, -0.5)", Fixture(), kRange);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].name, "scaleToSeconds(a.b,0)");
  out = EvalForTest("scaleToSeconds(a.b, 1e308)", Fixture(), kRange);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].name.substr(0, 30), "scaleToSeconds(a.b,10000000000");
}

}  // namespace
}  // namespace sluice::expr
