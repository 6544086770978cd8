// Tests of the filter and sorting functions (filter.cc) through the real parser, binder and
// evaluator: tables of target -> output, errors, the registry entries, and a differential test of
// every kernel against the slow reference in testing/reference_filter.h on random inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "expr/registry.h"
#include "testing/expr_fixtures.h"
#include "testing/reference_filter.h"

namespace sluice::expr {
namespace {

using sluice::testing::DumpSeries;
using sluice::testing::EvalForTest;
using sluice::testing::MemoryFetcher;
namespace ref = sluice::testing::reference;

constexpr int64_t kStep = 60'000;
constexpr double N = kNone;
const TimeRange kRange{0, 10 * kStep};  // (0, 600 s]: ten points at 60 s .. 600 s

// Inputs (listed here in the order a glob returns them, sorted by name):
//   a.five   -3 0 3 -3 0 3 -3 0 3 None   avg 0    max 3   min -3  last 3   sum 0
//   a.four   5 x 10                      avg 5    max 5   min 5   last 5   sum 50
//   a.one    1 .. 10                     avg 5.5  max 10  min 1   last 10  sum 55
//   a.three  None x 10                   every aggregate None
//   a.two    10 N 8 N 6 N 4 N 2 N        avg 6    max 10  min 2   last 2   sum 30
MemoryFetcher& Fixture() {
  static MemoryFetcher* fetcher = [] {
    auto* f = new MemoryFetcher();
    f->Add("a.one", kStep, kStep, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
    f->Add("a.two", kStep, kStep, {10, N, 8, N, 6, N, 4, N, 2, N});
    f->Add("a.three", kStep, kStep, std::vector<double>(10, N));
    f->Add("a.four", kStep, kStep, std::vector<double>(10, 5));
    f->Add("a.five", kStep, kStep, {-3, 0, 3, -3, 0, 3, -3, 0, 3, N});
    for (const char* name : {"b.web10", "b.web9", "b.web0010", "b.web1"}) {
      f->Add(name, kStep, kStep, std::vector<double>(10, 1));
    }
    return f;
  }();
  return *fetcher;
}

std::string Names(const SeriesList& list) {
  std::string out;
  for (const auto& s : list) out += (out.empty() ? "" : " ") + s.name;
  return out;
}

struct NamesCase {
  const char* target;
  const char* names;
};

class FilterNamesTest : public ::testing::TestWithParam<NamesCase> {};

TEST_P(FilterNamesTest, SelectsAndOrdersLikeGraphite) {
  const NamesCase& c = GetParam();
  auto result = EvalForTest(c.target, Fixture(), kRange);
  ASSERT_TRUE(result.ok()) << c.target << ": " << result.status().ToString();
  EXPECT_EQ(Names(*result), c.names) << c.target;
}

INSTANTIATE_TEST_SUITE_P(
    Table, FilterNamesTest,
    ::testing::Values(
        // Rankers: None aggregates rank as -inf; equal keys keep input order, also descending.
        NamesCase{"highest(a.*, 2)", "a.two a.one"},
        NamesCase{"highest(a.*, 2, 'max')", "a.one a.two"},
        NamesCase{"highest(a.*, 5, 'max')", "a.one a.two a.four a.five a.three"},
        NamesCase{"highest(a.*, 9, 'current')", "a.one a.four a.five a.two a.three"},
        NamesCase{"highest(a.*, -2)", "a.two a.one a.four"}, NamesCase{"highest(a.*, 0)", ""},
        NamesCase{"highest(x.none, 3)", ""}, NamesCase{"highest(a.*)", "a.two"},
        NamesCase{"lowest(a.*, func='last')", "a.three"},
        NamesCase{"highestMax(a.*, 2)", "a.one a.two"},
        NamesCase{"highestAverage(a.*, 1)", "a.two"}, NamesCase{"highestCurrent(a.*, 1)", "a.one"},
        NamesCase{"lowest(a.*, 2)", "a.three a.five"},
        NamesCase{"lowest(a.*, 2, 'max')", "a.three a.five"},
        NamesCase{"lowest(a.*, -1, 'sum')", "a.three a.five a.two a.four"},
        NamesCase{"lowestAverage(a.*, 1)", "a.three"},
        NamesCase{"lowestCurrent(a.*, 2)", "a.three a.two"},
        NamesCase{"sortBy(a.*)", "a.three a.five a.four a.one a.two"},
        NamesCase{"sortBy(a.*, 'max', true)", "a.one a.two a.four a.five a.three"},
        NamesCase{"sortBy(a.*, 'count')", "a.three a.two a.five a.four a.one"},
        NamesCase{"sortBy(a.*, func='min', reverse=true)", "a.four a.two a.one a.five a.three"},
        NamesCase{"sortByTotal(a.*)", "a.one a.four a.two a.five a.three"},
        NamesCase{"sortByMaxima(a.*)", "a.one a.two a.four a.five a.three"},
        NamesCase{"sortByMinima(a.*)", "a.five a.one a.two a.four"},
        NamesCase{"mostDeviant(a.*, 2)", "a.one a.two"},
        NamesCase{"mostDeviant(a.*, 10)", "a.one a.two a.five a.four"},
        NamesCase{"mostDeviant(a.*, -1)", "a.one a.two a.five"},
        // Threshold filters keep input order; a None aggregate passes !=, < and <= only.
        NamesCase{"filterSeries(a.*, 'max', '>', 5)", "a.one a.two"},
        NamesCase{"filterSeries(a.*, 'sum', '<', 1)", "a.five a.three"},
        NamesCase{"filterSeries(a.*, 'last', '=', 5)", "a.four"},
        NamesCase{"filterSeries(a.*, 'current', '!=', 5)", "a.five a.one a.three a.two"},
        NamesCase{"filterSeries(a.*, 'min', '>=', 1)", "a.four a.one a.two"},
        NamesCase{"filterSeries(a.*, 'count', '<=', 5)", "a.three a.two"},
        NamesCase{"filterSeries(x.none, 'max', '>', 1)", ""},
        NamesCase{"maximumAbove(a.*, 5)", "a.one a.two"},
        NamesCase{"maximumBelow(a.*, 5)", "a.five a.four a.three"},
        NamesCase{"minimumAbove(a.*, 1)", "a.four a.two"},
        NamesCase{"minimumBelow(a.*, 1)", "a.five a.one a.three"},
        NamesCase{"currentAbove(a.*, 3)", "a.four a.one"},
        NamesCase{"currentBelow(a.*, 3)", "a.five a.three a.two"},
        NamesCase{"averageAbove(a.*, 5.5)", "a.two"},
        NamesCase{"averageBelow(a.*, 5.5)", "a.five a.four a.one a.three"},
        // The rest.
        NamesCase{"removeEmptySeries(a.*)", "a.five a.four a.one a.two"},
        NamesCase{"removeEmptySeries(a.*, 0.9)", "a.five a.four a.one"},
        NamesCase{"removeEmptySeries(a.*, xFilesFactor=1)", "a.four a.one"},
        NamesCase{"exclude(a.*, 'o')", "a.five a.three"},
        NamesCase{"grep(a.*, 'f')", "a.five a.four"},
        NamesCase{"grep(a.*, 'e$')", "a.five a.one a.three"},
        NamesCase{"grep(a.*, '^.\\..{3}$')", "a.one a.two"},
        NamesCase{"limit(a.*, 2)", "a.five a.four"}, NamesCase{"limit(a.*, -4)", "a.five"},
        NamesCase{"limit(a.*, 0)", ""},
        NamesCase{"limit(a.*, 100)", "a.five a.four a.one a.three a.two"},
        NamesCase{"sortByName(a.*, reverse=true)", "a.two a.three a.one a.four a.five"},
        NamesCase{"sortByName(b.*)", "b.web0010 b.web1 b.web10 b.web9"},
        NamesCase{"sortByName(b.*, true)", "b.web1 b.web9 b.web0010 b.web10"},
        NamesCase{"sortByName(b.*, true, true)", "b.web0010 b.web10 b.web9 b.web1"},
        NamesCase{"unique(a.one, a.*, a.one)", "a.one a.five a.four a.three a.two"},
        NamesCase{"highest(unique(a.four, a.one, a.four), 1, 'min')", "a.four"}));

struct DumpCase {
  const char* target;
  const char* dump;  // DumpSeries of the first output, then " | tags" when tags are checked
};

class FilterValuesTest : public ::testing::TestWithParam<DumpCase> {};

std::string DumpWithTags(const TimeSeries& s) {
  std::string out = DumpSeries(s) + " |";
  for (const auto& [k, v] : s.tags.pairs()) out += " " + k + "=" + v;
  return out;
}

TEST_P(FilterValuesTest, MasksLikeGraphite) {
  const DumpCase& c = GetParam();
  auto result = EvalForTest(c.target, Fixture(), kRange);
  ASSERT_TRUE(result.ok()) << c.target << ": " << result.status().ToString();
  ASSERT_FALSE(result->empty()) << c.target;
  EXPECT_EQ(DumpWithTags(result->front()), c.dump) << c.target;
  for (const auto& s : *result) EXPECT_EQ(s.path_expression, s.name) << c.target;
}

INSTANTIATE_TEST_SUITE_P(
    Table, FilterValuesTest,
    ::testing::Values(
        DumpCase{"removeAboveValue(a.one, 5)",
                 "removeAboveValue(a.one, 5) [60000,60000] 1 2 3 4 5 None None None None None | "
                 "name=a.one"},
        DumpCase{"removeAboveValue(a.five, 0.5)",
                 "removeAboveValue(a.five, 0.5) [60000,60000] -3 0 None -3 0 None -3 0 None None "
                 "| name=a.five"},
        DumpCase{"removeAboveValue(a.one, 1e6)",
                 "removeAboveValue(a.one, 1e+06) [60000,60000] 1 2 3 4 5 6 7 8 9 10 | name=a.one"},
        DumpCase{"removeBelowValue(a.two, 5)",
                 "removeBelowValue(a.two, 5) [60000,60000] 10 None 8 None 6 None None None None "
                 "None | name=a.two"},
        // n=50 of 10 values: rank ceil(5.5) = 6, the 6th smallest.
        DumpCase{"removeAbovePercentile(a.one, 50)",
                 "removeAbovePercentile(a.one, 50) [60000,60000] 1 2 3 4 5 6 None None None None "
                 "| nPercentile=50.0 name=a.one"},
        DumpCase{"removeBelowPercentile(a.one, 25)",
                 "removeBelowPercentile(a.one, 25) [60000,60000] None None 3 4 5 6 7 8 9 10 | "
                 "nPercentile=25.0 name=a.one"},
        // rank 11 = count + 1: the largest value.
        DumpCase{"removeAbovePercentile(a.one, 100)",
                 "removeAbovePercentile(a.one, 100) [60000,60000] 1 2 3 4 5 6 7 8 9 10 | "
                 "nPercentile=100.0 name=a.one"},
        // Beyond the ranks graphite hits IndexError and leaves the series (renamed) alone.
        DumpCase{"removeAbovePercentile(a.one, 150)",
                 "removeAbovePercentile(a.one, 150) [60000,60000] 1 2 3 4 5 6 7 8 9 10 | "
                 "name=a.one"},
        // Negative ranks index from the end, as Python does: rank -5 -> sorted[-6] = 5.
        DumpCase{"removeAbovePercentile(a.one, -50)",
                 "removeAbovePercentile(a.one, -50) [60000,60000] 1 2 3 4 5 None None None None "
                 "None | nPercentile=-50.0 name=a.one"},
        DumpCase{"removeBelowPercentile(a.three, 50)",
                 "removeBelowPercentile(a.three, 50) [60000,60000] None None None None None None "
                 "None None None None | name=a.three"},
        DumpCase{"removeBelowPercentile(a.two, 99.9)",
                 "removeBelowPercentile(a.two, 99.9) [60000,60000] 10 None None None None None "
                 "None None None None | nPercentile=99.9 name=a.two"}));

struct ErrorCase {
  const char* target;
  const char* message_part;
};

class FilterErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(FilterErrorTest, RejectsWithAClearMessage) {
  const ErrorCase& c = GetParam();
  auto result = EvalForTest(c.target, Fixture(), kRange);
  ASSERT_FALSE(result.ok()) << c.target;
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << c.target;
  EXPECT_NE(result.status().message().find(c.message_part), std::string::npos)
      << c.target << ": " << result.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, FilterErrorTest,
    ::testing::Values(
        ErrorCase{"filterSeries(a.*, 'max', '~', 1)",
                  "filterSeries: argument 3 (operator) must be one of !=, <, <=, =, >, >=, got '~' "
                  "at column 26"},
        ErrorCase{"filterSeries(x.none, 'max', '=>', 1)", "got '=>'"},
        ErrorCase{"filterSeries(a.*, 'bogus', '>', 1)",
                  "filterSeries: argument 2 (func) must be one of"},
        ErrorCase{"highest(a.*, 1, 'averageSeries')", "highest: argument 3 (func) must be one of"},
        ErrorCase{"highestMax(a.*)", "highestMax: argument 2 (n) is required"},
        ErrorCase{"highest(a.*, 1.5)", "highest: argument 2 (n) must be an integer"},
        ErrorCase{"limit(a.*, 'x')", "limit: argument 2 (n) must be an integer"},
        ErrorCase{"grep(a.*, '(')", "grep: argument 2 (pattern) is not a valid regular expression"},
        ErrorCase{"exclude(a.*, 'a[')", "exclude: argument 2 (pattern)"},
        ErrorCase{"removeAbovePercentile(a.one, 0)",
                  "removeAbovePercentile: argument 2 (n) must not be 0"},
        ErrorCase{"unique()", "unique: argument 1 (seriesLists) is required"}));

TEST(FilterTest, PercentileZeroOnAnEmptyListIsNotAnError) {
  auto result = EvalForTest("removeBelowPercentile(x.none, 0)", Fixture(), kRange);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->empty());
}

TEST(FilterTest, FiltersKeepValuesStartAndStepUntouched) {
  auto result = EvalForTest("highest(a.*, 1)", Fixture(), kRange);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->size(), 1u);
  EXPECT_EQ(DumpWithTags(result->front()),
            "a.two [60000,60000] 10 None 8 None 6 None 4 None 2 None | name=a.two");
  EXPECT_EQ(result->front().path_expression, "a.*");
}

TEST(FilterTest, RegistryDescribesEachFunctionAsGraphiteDoes) {
  const Registry& registry = Registry::Default();
  struct Expect {
    const char* name;
    const char* group;
    const char* params;  // name:type[!][=default][*]
  };
  const Expect expects[] = {
      {"highest", "Filter Series", "seriesList:seriesList! n:integer=1 func:aggFunc=average"},
      {"lowest", "Filter Series", "seriesList:seriesList! n:integer=1 func:aggFunc=average"},
      {"highestMax", "Filter Series", "seriesList:seriesList! n:integer!"},
      {"highestAverage", "Filter Series", "seriesList:seriesList! n:integer!"},
      {"highestCurrent", "Filter Series", "seriesList:seriesList! n:integer!"},
      {"lowestAverage", "Filter Series", "seriesList:seriesList! n:integer!"},
      {"lowestCurrent", "Filter Series", "seriesList:seriesList! n:integer!"},
      {"currentAbove", "Filter Series", "seriesList:seriesList! n:float!"},
      {"currentBelow", "Filter Series", "seriesList:seriesList! n:float!"},
      {"averageAbove", "Filter Series", "seriesList:seriesList! n:float!"},
      {"averageBelow", "Filter Series", "seriesList:seriesList! n:float!"},
      {"maximumAbove", "Filter Series", "seriesList:seriesList! n:float!"},
      {"maximumBelow", "Filter Series", "seriesList:seriesList! n:float!"},
      {"minimumAbove", "Filter Series", "seriesList:seriesList! n:float!"},
      {"minimumBelow", "Filter Series", "seriesList:seriesList! n:float!"},
      {"removeAboveValue", "Filter Data", "seriesList:seriesList! n:float!"},
      {"removeBelowValue", "Filter Data", "seriesList:seriesList! n:float!"},
      {"removeAbovePercentile", "Filter Data", "seriesList:seriesList! n:float!"},
      {"removeBelowPercentile", "Filter Data", "seriesList:seriesList! n:float!"},
      {"removeEmptySeries", "Filter Series", "seriesList:seriesList! xFilesFactor:float"},
      {"filterSeries", "Filter Series",
       "seriesList:seriesList! func:aggFunc! operator:string! threshold:float!"},
      {"exclude", "Filter Series", "seriesList:seriesList! pattern:string!"},
      {"grep", "Filter Series", "seriesList:seriesList! pattern:string!"},
      {"limit", "Filter Series", "seriesList:seriesList! n:integer!"},
      {"sortBy", "Sorting", "seriesList:seriesList! func:aggFunc=average reverse:boolean=false"},
      {"sortByName", "Sorting",
       "seriesList:seriesList! natural:boolean=false reverse:boolean=false"},
      {"sortByMaxima", "Sorting", "seriesList:seriesList!"},
      {"sortByMinima", "Sorting", "seriesList:seriesList!"},
      {"sortByTotal", "Sorting", "seriesList:seriesList!"},
      {"mostDeviant", "Filter Series", "seriesList:seriesList! n:integer!"},
      {"unique", "Filter Series", "seriesLists:seriesList!*"},
  };
  for (const Expect& e : expects) {
    const FunctionSpec* spec = registry.Find(e.name);
    ASSERT_NE(spec, nullptr) << e.name;
    EXPECT_EQ(spec->group, e.group) << e.name;
    EXPECT_FALSE(spec->description.empty()) << e.name;
    EXPECT_TRUE(spec->example.starts_with(std::string(e.name) + "(")) << e.name;
    std::string params;
    for (const ParamSpec& p : spec->params) {
      if (!params.empty()) params += " ";
      params += p.name + ":" + std::string(ArgTypeName(p.type)) + (p.required ? "!" : "") +
                (p.default_value.empty() ? "" : "=" + p.default_value) + (p.multiple ? "*" : "");
    }
    EXPECT_EQ(params, e.params) << e.name;
  }
  const FunctionSpec* filter = registry.Find("filterSeries");
  ASSERT_NE(filter, nullptr);
  EXPECT_EQ(filter->params[2].options, (std::vector<std::string>{"!=", "<", "<=", "=", ">", ">="}));
  const auto& funcs = filter->params[1].options;
  for (const char* f :
       {"average", "median", "sum", "min", "max", "diff", "stddev", "count", "range", "multiply",
        "last", "avg_zero", "rangeOf", "avg", "total", "current"}) {
    EXPECT_NE(std::find(funcs.begin(), funcs.end(), f), funcs.end()) << f;
  }
  // Every example binds.
  for (const Expect& e : expects) {
    MemoryFetcher empty;
    auto result = EvalForTest(registry.Find(e.name)->example, empty, kRange);
    EXPECT_TRUE(result.ok()) << e.name << ": " << result.status().ToString();
  }
}

// ---------------------------------------------------------------------------------------------
// Differential test: every kernel against the reference on random inputs with fixed seeds.

class Rng {
 public:
  explicit Rng(uint32_t seed) : engine_(seed) {}
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(engine_() % n); }
  bool Chance(uint32_t percent) { return Below(100) < percent; }

 private:
  std::mt19937 engine_;
};

// A random input list: names with digit runs (for natural sorting), steps of 10 s, 60 s and 300 s,
// gaps, negative values, runs of equal values and duplicate series (for ties), empty series.
void AddRandomInputs(Rng& rng, MemoryFetcher* fetcher) {
  const uint32_t count = rng.Below(13);
  static constexpr int64_t kSteps[] = {10'000, 60'000, 300'000};
  std::vector<double> previous;
  for (uint32_t i = 0; i < count; ++i) {
    std::string name = "r.";
    name += rng.Chance(50) ? "web" : "db";
    name += std::string(rng.Below(3), '0') + std::to_string(rng.Below(30));
    if (rng.Chance(30)) name += "x" + std::to_string(rng.Below(12));
    const int64_t step = kSteps[rng.Below(3)];
    const size_t points = static_cast<size_t>(3'600'000 / step) + rng.Below(3);
    std::vector<double> values(points);
    const uint32_t kind = rng.Below(10);
    for (double& v : values) {
      if (kind == 0) {
        v = kNone;
      } else if (kind <= 4) {
        v = static_cast<double>(static_cast<int>(rng.Below(7)) - 3);  // small integers: ties
      } else {
        v = (static_cast<double>(rng.Below(2'000'001)) - 1'000'000.0) / 997.0;
      }
      if (rng.Chance(kind == 9 ? 70 : 10)) v = kNone;
    }
    if (!previous.empty() && rng.Chance(20)) values = previous;  // an identical series
    if (rng.Chance(10)) values.assign(values.size(), 2);
    previous = values;
    fetcher->Add(name, step * static_cast<int64_t>(rng.Below(3)), step, std::move(values));
  }
}

bool SameValue(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || (a == b && std::signbit(a) == std::signbit(b));
}

void ExpectSameList(const SeriesList& actual, const SeriesList& expected,
                    const std::string& context) {
  ASSERT_EQ(Names(actual), Names(expected)) << context;
  for (size_t i = 0; i < actual.size(); ++i) {
    const TimeSeries& a = actual[i];
    const TimeSeries& e = expected[i];
    EXPECT_EQ(a.start, e.start) << context << " " << a.name;
    EXPECT_EQ(a.step, e.step) << context << " " << a.name;
    EXPECT_EQ(a.path_expression, e.path_expression) << context << " " << a.name;
    EXPECT_TRUE(a.tags == e.tags) << context << " " << a.name;
    ASSERT_EQ(a.values.size(), e.values.size()) << context << " " << a.name;
    for (size_t j = 0; j < a.values.size(); ++j) {
      ASSERT_TRUE(SameValue(a.values[j], e.values[j]))
          << context << " " << a.name << " point " << j << ": " << a.values[j] << " vs "
          << e.values[j];
    }
  }
}

std::string Num(double v) {
  std::string s = std::to_string(v);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

TEST(FilterDifferentialTest, KernelsMatchTheReference) {
  const char* const kFuncs[] = {"average", "avg_zero", "median",  "sum",    "min",      "max",
                                "diff",    "stddev",   "count",   "range",  "multiply", "last",
                                "avg",     "total",    "current", "rangeOf"};
  const char* const kOps[] = {"=", "!=", ">", ">=", "<", "<="};
  const double kThresholds[] = {-1, 0, 2, 2.5, 1000};
  const double kPercents[] = {-150, -50, -20, 0.5, 10, 25, 50, 90.5, 99.9, 100, 101, 150};
  const int64_t kCounts[] = {-3, -1, 0, 1, 2, 5, 100};
  const char* const kPatterns[] = {"web", "0$", "^r.db", "1|7", "x[0-9]", "b0+2"};
  const TimeRange range{0, 3'600'000};

  for (uint32_t seed = 1; seed <= 40; ++seed) {
    Rng rng(seed);
    MemoryFetcher fetcher;
    AddRandomInputs(rng, &fetcher);
    auto input = EvalForTest("r.*", fetcher, range);
    ASSERT_TRUE(input.ok()) << input.status().ToString();
    const SeriesList& in = *input;

    auto check = [&](const std::string& target, const SeriesList& expected) {
      auto actual = EvalForTest(target, fetcher, range);
      ASSERT_TRUE(actual.ok()) << target << ": " << actual.status().ToString();
      ExpectSameList(*actual, expected, "seed " + std::to_string(seed) + " " + target);
    };

    for (const char* f : kFuncs) {
      const std::string fq = std::string("'") + f + "'";
      for (int64_t n : kCounts) {
        check("highest(r.*, " + std::to_string(n) + ", " + fq + ")", ref::Highest(in, n, f));
        check("lowest(r.*, " + std::to_string(n) + ", " + fq + ")", ref::Lowest(in, n, f));
      }
      check("sortBy(r.*, " + fq + ")", ref::SortBy(in, f, false));
      check("sortBy(r.*, " + fq + ", true)", ref::SortBy(in, f, true));
      for (const char* op : kOps) {
        for (double t : kThresholds) {
          check("filterSeries(r.*, " + fq + ", '" + op + "', " + Num(t) + ")",
                ref::FilterSeries(in, f, op, t));
        }
      }
    }
    for (int64_t n : kCounts) {
      const std::string ns = std::to_string(n);
      check("highestMax(r.*, " + ns + ")", ref::Highest(in, n, "max"));
      check("highestAverage(r.*, " + ns + ")", ref::Highest(in, n, "average"));
      check("highestCurrent(r.*, " + ns + ")", ref::Highest(in, n, "current"));
      check("lowestAverage(r.*, " + ns + ")", ref::Lowest(in, n, "average"));
      check("lowestCurrent(r.*, " + ns + ")", ref::Lowest(in, n, "current"));
      check("mostDeviant(r.*, " + ns + ")", ref::MostDeviant(in, n));
      check("limit(r.*, " + ns + ")", ref::Limit(in, n));
    }
    for (double t : kThresholds) {
      const std::string ts = Num(t);
      check("currentAbove(r.*, " + ts + ")", ref::FilterSeries(in, "last", ">", t));
      check("currentBelow(r.*, " + ts + ")", ref::FilterSeries(in, "last", "<=", t));
      check("averageAbove(r.*, " + ts + ")", ref::FilterSeries(in, "average", ">", t));
      check("averageBelow(r.*, " + ts + ")", ref::FilterSeries(in, "average", "<=", t));
      check("maximumAbove(r.*, " + ts + ")", ref::FilterSeries(in, "max", ">", t));
      check("maximumBelow(r.*, " + ts + ")", ref::FilterSeries(in, "max", "<=", t));
      check("minimumAbove(r.*, " + ts + ")", ref::FilterSeries(in, "min", ">", t));
      check("minimumBelow(r.*, " + ts + ")", ref::FilterSeries(in, "min", "<=", t));
      check("removeAboveValue(r.*, " + ts + ")", ref::RemoveAboveValue(in, t));
      check("removeBelowValue(r.*, " + ts + ")", ref::RemoveBelowValue(in, t));
    }
    for (double p : kPercents) {
      check("removeAbovePercentile(r.*, " + Num(p) + ")", ref::RemoveAbovePercentile(in, p));
      check("removeBelowPercentile(r.*, " + Num(p) + ")", ref::RemoveBelowPercentile(in, p));
    }
    for (double x : {0.0, 0.3, 0.5, 0.9, 1.0}) {
      check("removeEmptySeries(r.*, " + Num(x) + ")", ref::RemoveEmptySeries(in, x));
    }
    check("removeEmptySeries(r.*)", ref::RemoveEmptySeries(in, 0));
    check("sortByTotal(r.*)", ref::SortBy(in, "sum", true));
    check("sortByMaxima(r.*)", ref::SortBy(in, "max", true));
    check("sortByMinima(r.*)", ref::SortByMinima(in));
    for (bool natural : {false, true}) {
      for (bool reverse : {false, true}) {
        check(std::string("sortByName(r.*, ") + (natural ? "true" : "false") + ", " +
                  (reverse ? "true" : "false") + ")",
              ref::SortByName(in, natural, reverse));
      }
    }
    for (const char* p : kPatterns) {
      check(std::string("grep(r.*, '") + p + "')", ref::Grep(in, p));
      check(std::string("exclude(r.*, '") + p + "')", ref::Exclude(in, p));
    }
    auto webs = EvalForTest("r.web*", fetcher, range);
    ASSERT_TRUE(webs.ok());
    check("unique(r.web*, r.*, r.web*)", ref::Unique({*webs, in, *webs}));
  }
}

// The reference's percentile against values graphite-web 1.1.8's _getPercentile returns.
TEST(FilterDifferentialTest, ReferencePercentileFollowsGraphite) {
  const std::vector<double> v = {15, 20, 35, 40, 50};
  EXPECT_EQ(ref::Percentile(v, 5), 15);
  EXPECT_EQ(ref::Percentile(v, 30), 20);
  EXPECT_EQ(ref::Percentile(v, 40), 35);
  EXPECT_EQ(ref::Percentile(v, 50), 35);
  EXPECT_EQ(ref::Percentile(v, 100), 50);
  EXPECT_EQ(ref::Percentile(v, 117), std::nullopt);  // IndexError in graphite
  EXPECT_EQ(ref::Percentile(v, -10), 15);
  EXPECT_EQ(ref::Percentile(v, -50), 20);  // Python's negative index
  EXPECT_EQ(ref::Percentile(v, -100), std::nullopt);
  EXPECT_EQ(ref::Percentile(v, 0.0001), 15);
  EXPECT_EQ(ref::Percentile({N, N}, 50), std::nullopt);
}

}  // namespace
}  // namespace sluice::expr
