#include "sql/sql_source.h"

#include <gtest/gtest.h>

#include <functional>
#include <mutex>

#include "sql/shape.h"

namespace sluice::sql {
namespace {

constexpr int64_t kT0 = 1'714'564'800'000;

struct Call {
  std::string sql;
  std::vector<Param> params;
  QueryOptions options;
};

// Records every statement and answers with whatever `answer` builds for it.
class FakeDriver : public Driver {
 public:
  using Answer = std::function<Status(const Call&, ResultSet*)>;
  explicit FakeDriver(Answer answer) : answer_(std::move(answer)) {}
  std::string_view name() const override { return "fake"; }
  Status Query(std::string_view sql, const std::vector<Param>& params, const QueryOptions& options,
               ResultSet* out) override {
    Call call{std::string(sql), params, options};
    {
      std::lock_guard lock(mu_);
      calls_.push_back(call);
    }
    return answer_(call, out);
  }
  std::vector<Call> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  Answer answer_;
  std::mutex mu_;
  std::vector<Call> calls_;
};

ResultColumn Col(std::string name, ColumnKind kind, std::vector<double> numbers,
                 std::vector<std::string> texts = {}) {
  ResultColumn c;
  c.name = std::move(name);
  c.kind = kind;
  size_t n = std::max(numbers.size(), texts.size());
  c.numbers = std::move(numbers);
  c.texts = std::move(texts);
  c.nulls.assign(n, 0);
  return c;
}

ResultSet Set(std::vector<ResultColumn> columns) {
  ResultSet rs;
  rs.rows = columns[0].nulls.size();
  rs.columns = std::move(columns);
  return rs;
}

// time, region (label), value: two rows per region.
ResultSet RegionRows() {
  return Set({Col("time", ColumnKind::kTimestamp, {kT0, kT0, kT0 + 1000, kT0 + 1000}),
              Col("region", ColumnKind::kText, {}, {"eu", "us", "eu", "us"}),
              Col("value", ColumnKind::kNumber, {1, 2, 3, 4})});
}

ResultSet Strings(std::vector<std::string> values) {
  return Set({Col("v", ColumnKind::kText, {}, std::move(values))});
}

TargetConfig Target(std::string name, std::string sql, TargetType type = TargetType::kTimeseries) {
  TargetConfig t;
  t.name = std::move(name);
  t.sql = std::move(sql);
  t.type = type;
  return t;
}

TargetConfig PatternTarget(std::string pattern, std::string sql,
                           TargetType type = TargetType::kTimeseries) {
  TargetConfig t;
  t.pattern = std::move(pattern);
  t.sql = std::move(sql);
  t.type = type;
  return t;
}

struct Fixture {
  std::unique_ptr<SqlSource> source;
  FakeDriver* driver = nullptr;
};

Fixture Make(std::vector<TargetConfig> targets, FakeDriver::Answer answer,
             int64_t statement_timeout_ms = 30000) {
  SourceConfig config;
  config.name = "shop";
  config.kind = "fake";
  config.where = "sources[0]";
  config.statement_timeout_ms = statement_timeout_ms;
  config.targets = std::move(targets);
  auto driver = std::make_unique<FakeDriver>(std::move(answer));
  Fixture f;
  f.driver = driver.get();
  auto source = SqlSource::Make(config, std::move(driver));
  EXPECT_TRUE(source.ok()) << source.status().ToString();
  if (source.ok()) f.source = std::move(source).value();
  return f;
}

struct Fetched {
  Status status;
  FetchResult result;
};

Fetched Fetch(SqlSource* source, std::string_view target, std::vector<TagFilter> filters = {},
              int64_t budget = INT64_MAX) {
  NameMatcher matcher = NameMatcher::Compile(target);
  FetchRequest request;
  request.target = target;
  request.matcher = &matcher;
  request.filters = &filters;
  request.range = {kT0 - 3'600'000, kT0 + 3'600'000};
  request.max_points = 100;
  request.interval_ms = 1000;
  request.point_budget = budget;
  Fetched f;
  f.status = source->Fetch(request, &f.result);
  return f;
}

std::string SeriesKey(const Series& s) {
  std::string out = s.name;
  for (const auto& [k, v] : s.tags.pairs()) out += "," + k + "=" + v;
  return out;
}

TEST(SqlSource, MakeRejectsMalformedTargets) {
  struct Case {
    TargetConfig target;
    const char* message_part;
  };
  TargetConfig both = Target("a", "SELECT 1");
  both.pattern = "a";
  TargetConfig neither = Target("", "SELECT 1");
  const Case cases[] = {
      {both, "sources[0].targets[0]: a timeseries target needs exactly one of"},
      {neither, "needs exactly one of `name` and `pattern`"},
      {PatternTarget("x", "SELECT 1", TargetType::kAnnotations), "takes no `pattern`"},
      {PatternTarget("(", "SELECT 1"), "sources[0].targets[0].pattern: invalid regex"},
      {Target("a", "  "), "sources[0].targets[0].sql: must not be empty"},
      {Target("a", "SELECT $__nope"), "sources[0].targets[0].sql: unknown macro"},
      {Target("a", "SELECT $__capture(1)"), "needs a target `pattern`"},
  };
  for (const auto& c : cases) {
    SourceConfig config;
    config.name = "shop";
    config.where = "sources[0]";
    config.targets = {c.target};
    auto source = SqlSource::Make(config, std::make_unique<FakeDriver>(nullptr));
    ASSERT_FALSE(source.ok()) << c.message_part;
    EXPECT_NE(source.status().message().find(c.message_part), std::string::npos)
        << source.status().message();
  }
}

TEST(SqlSource, ListsLiteralNamesAndExamples) {
  TargetConfig pattern = PatternTarget("orders\\.(?P<r>\\w+)", "SELECT 1");
  pattern.examples = {"orders.eu", "orders.us"};
  auto f = Make({Target("a", "SELECT 1"), Target("t", "SELECT 1", TargetType::kTable),
                 Target("regions", "SELECT 1", TargetType::kVariable), pattern,
                 Target("deploys", "SELECT 1", TargetType::kAnnotations),
                 Target("keys", "SELECT 1", TargetType::kTagKeys),
                 Target("region", "SELECT 1", TargetType::kTagValues)},
                nullptr);
  std::vector<std::string> names;
  ASSERT_TRUE(f.source->ListNames(&names).ok());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "t", "regions", "orders.eu", "orders.us"}));
  EXPECT_TRUE(f.source->MayBlock());
  EXPECT_EQ(f.source->name(), "shop");
}

TEST(SqlSource, LiteralNamesAreSelectedLikeStoredSeries) {
  auto f = Make({Target("orders.eu", "SELECT 'eu'"), Target("orders.us", "SELECT 'us'"),
                 Target("other", "SELECT 'other'")},
                [](const Call&, ResultSet* out) {
                  *out = Set({Col("time", ColumnKind::kTimestamp, {kT0}),
                              Col("value", ColumnKind::kNumber, {1})});
                  return Status::OK();
                });
  for (std::string_view target : {"orders.*", "(orders.eu|orders.us)", "orders\\.(eu|us)"}) {
    auto got = Fetch(f.source.get(), target);
    ASSERT_TRUE(got.status.ok()) << got.status.ToString();
    ASSERT_EQ(got.result.series.size(), 2u) << target;
    EXPECT_EQ(got.result.series[0].name, "orders.eu");
    EXPECT_EQ(got.result.series[1].name, "orders.us");
  }
  auto none = Fetch(f.source.get(), "unknown");
  EXPECT_TRUE(none.status.ok());
  EXPECT_TRUE(none.result.series.empty());
}

TEST(SqlSource, PatternsRunOncePerAlternativeWithCaptures) {
  auto f = Make({PatternTarget("orders\\.(?P<region>[a-z]+)",
                               "SELECT * FROM o WHERE region = $__capture(region) AND "
                               "t = $__target AND $__timeFilter(ts)")},
                [](const Call&, ResultSet* out) {
                  *out = Set({Col("time", ColumnKind::kTimestamp, {kT0}),
                              Col("value", ColumnKind::kNumber, {1})});
                  return Status::OK();
                });
  auto got = Fetch(f.source.get(), "orders.(eu|us)");
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  ASSERT_EQ(got.result.series.size(), 2u);
  EXPECT_EQ(got.result.series[0].name, "orders.eu");
  EXPECT_EQ(got.result.series[1].name, "orders.us");
  auto calls = f.driver->calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].sql, "SELECT * FROM o WHERE region = $1 AND t = $2 AND ts BETWEEN $3 AND $4");
  EXPECT_EQ(calls[0].params[0].text, "eu");
  EXPECT_EQ(calls[0].params[1].text, "orders.eu");
  EXPECT_EQ(calls[0].params[2].int_value, kT0 - 3'600'000);
  EXPECT_EQ(calls[1].params[0].text, "us");

  EXPECT_EQ(Fetch(f.source.get(), "orders.{eu,us}").result.series.size(), 2u);
  EXPECT_EQ(Fetch(f.source.get(), "(orders.eu|orders.us)").result.series.size(), 2u);
  EXPECT_EQ(Fetch(f.source.get(), "orders\\.eu").result.series.size(), 1u);

  // The pattern must match the whole text.
  EXPECT_TRUE(Fetch(f.source.get(), "orders.eu.extra").result.series.empty());
  EXPECT_TRUE(Fetch(f.source.get(), "xorders.eu").result.series.empty());
}

TEST(SqlSource, GlobsSelectAPatternsExamples) {
  TargetConfig t = PatternTarget("orders\\.(?P<region>[a-z]+)", "SELECT $__capture(region)");
  t.examples = {"orders.eu", "orders.us", "other.x"};
  auto f = Make({t}, [](const Call&, ResultSet* out) {
    *out = Set({Col("time", ColumnKind::kTimestamp, {kT0}), Col("value", ColumnKind::kNumber, {1})});
    return Status::OK();
  });
  auto got = Fetch(f.source.get(), "orders.*");
  ASSERT_TRUE(got.status.ok());
  ASSERT_EQ(got.result.series.size(), 2u);
  EXPECT_EQ(got.result.series[0].name, "orders.eu");
  EXPECT_EQ(got.result.series[1].name, "orders.us");
  // A region that is no example still works when named.
  EXPECT_EQ(Fetch(f.source.get(), "orders.apac").result.series.size(), 1u);
}

TEST(SqlSource, UnmappedFiltersApplyToLabelsMappedOnesToSql) {
  TargetConfig mapped = Target("mapped", "SELECT * WHERE $__filters");
  mapped.filter_columns = {{"region", "o.region"}};
  auto f = Make({Target("plain", "SELECT *"), mapped}, [](const Call&, ResultSet* out) {
    *out = RegionRows();
    return Status::OK();
  });
  std::vector<TagFilter> eu = {*TagFilter::Make("region", FilterOp::kEq, "eu")};
  auto plain = Fetch(f.source.get(), "plain", eu);
  ASSERT_TRUE(plain.status.ok());
  ASSERT_EQ(plain.result.series.size(), 1u);
  EXPECT_EQ(SeriesKey(plain.result.series[0]), "plain,region=eu");

  // The statement applied the filter; the fake ignores it, so both series come back: proof that
  // the filter was not applied a second time on the result.
  auto sql = Fetch(f.source.get(), "mapped", eu);
  ASSERT_TRUE(sql.status.ok());
  EXPECT_EQ(sql.result.series.size(), 2u);
  EXPECT_EQ(f.driver->calls().back().sql, "SELECT * WHERE (o.region = $1)");

  // A key no series has: every series reads "" for it.
  std::vector<TagFilter> host = {*TagFilter::Make("host", FilterOp::kEq, "a")};
  EXPECT_TRUE(Fetch(f.source.get(), "plain", host).result.series.empty());
}

TEST(SqlSource, TableTargets) {
  auto f = Make({Target("orders", "SELECT *", TargetType::kTable)},
                [](const Call&, ResultSet* out) {
                  *out = RegionRows();
                  return Status::OK();
                });
  std::vector<TagFilter> us = {*TagFilter::Make("region", FilterOp::kEq, "us")};
  auto got = Fetch(f.source.get(), "orders", us);
  ASSERT_TRUE(got.status.ok());
  EXPECT_TRUE(got.result.series.empty());
  ASSERT_EQ(got.result.tables.size(), 1u);
  const Table& t = got.result.tables[0];
  EXPECT_EQ(t.name, "orders");
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0][1].text, "us");
  EXPECT_EQ(t.rows[1][2].number, 4);
}

TEST(SqlSource, BudgetsAndDeadlines) {
  auto f = Make({Target("a", "SELECT 1"), Target("b", "SELECT 2")},
                [](const Call&, ResultSet* out) {
                  *out = RegionRows();
                  return Status::OK();
                },
                /*statement_timeout_ms=*/5000);
  auto before = std::chrono::steady_clock::now();
  auto got = Fetch(f.source.get(), "{a,b}", {}, /*budget=*/6);
  auto calls = f.driver->calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].options.max_rows, 6u);
  EXPECT_EQ(calls[1].options.max_rows, 2u);  // four rows used by the first target
  EXPECT_LE(calls[0].options.deadline, std::chrono::steady_clock::now() + std::chrono::seconds(5));
  EXPECT_GE(calls[0].options.deadline, before + std::chrono::seconds(5));
  EXPECT_TRUE(got.status.ok());

  auto spent = Fetch(f.source.get(), "{a,b}", {}, /*budget=*/4);
  ASSERT_FALSE(spent.status.ok());
  EXPECT_EQ(spent.status.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(spent.status.message().find("b: "), std::string::npos) << spent.status.message();
}

TEST(SqlSource, DriverAndShapeErrorsNameTheTarget) {
  auto f = Make({Target("down", "SELECT 1"), Target("shapeless", "SELECT 2")},
                [](const Call& call, ResultSet* out) {
                  if (call.sql == "SELECT 1") return Unavailable("fake: connection refused");
                  *out = Strings({"x"});
                  return Status::OK();
                });
  auto down = Fetch(f.source.get(), "down");
  EXPECT_EQ(down.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(down.status.message(), "down: fake: connection refused");
  auto shapeless = Fetch(f.source.get(), "shapeless");
  EXPECT_EQ(shapeless.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(shapeless.status.message().find("shapeless: the result has no time column"),
            std::string::npos)
      << shapeless.status.message();
}

TEST(SqlSource, AnnotationsSelectedByName) {
  auto f = Make({Target("deploys", "SELECT 'deploys'", TargetType::kAnnotations),
                 Target("incidents", "SELECT 'incidents'", TargetType::kAnnotations)},
                [](const Call& call, ResultSet* out) {
                  std::string kind = call.sql.substr(8, call.sql.size() - 9);
                  *out = Set({Col("time", ColumnKind::kTimestamp, {kT0, kT0 + 10'000'000}),
                              Col("title", ColumnKind::kText, {}, {kind, kind}),
                              Col("tags", ColumnKind::kText, {}, {"prod", "staging"})});
                  return Status::OK();
                });
  auto titles = [&](std::string_view query) {
    AnnotationRequest request;
    request.range = {kT0 - 1000, kT0 + 1000};
    request.query = query;
    std::vector<Annotation> events;
    EXPECT_TRUE(f.source->Annotations(request, &events).ok());
    std::string out;
    for (const auto& e : events) out += (out.empty() ? "" : " ") + e.title;
    return out;
  };
  EXPECT_EQ(titles(""), "deploys incidents");  // outside the range: the second row
  EXPECT_EQ(titles("deploys"), "deploys");
  EXPECT_EQ(titles("incidents prod"), "incidents");
  EXPECT_EQ(titles("incidents staging"), "");
  EXPECT_EQ(titles("prod"), "deploys incidents");
}

TEST(SqlSource, VariablesAndTags) {
  TargetConfig cities = PatternTarget("cities\\((?P<region>\\w+)\\)",
                                      "SELECT city WHERE region = $__capture(region)",
                                      TargetType::kVariable);
  TargetConfig values = PatternTarget("(?P<key>region|city)",
                                      "SELECT v WHERE k = $__capture(key) AND $__filters",
                                      TargetType::kTagValues);
  values.filter_columns = {{"region", "region"}};
  auto f = Make({Target("regions", "SELECT r", TargetType::kVariable), cities,
                 Target("", "SELECT keys", TargetType::kTagKeys), values},
                [](const Call& call, ResultSet* out) {
                  if (call.sql == "SELECT r") *out = Strings({"us", "eu"});
                  else if (call.sql == "SELECT keys") *out = Strings({"region", "city"});
                  else *out = Strings({"value-of-" + call.params[0].text});
                  return Status::OK();
                });
  std::vector<std::string> out;
  bool handled = false;
  ASSERT_TRUE(f.source->VariableValues({" regions ", {}}, &out, &handled).ok());
  EXPECT_TRUE(handled);
  EXPECT_EQ(out, (std::vector<std::string>{"us", "eu"}));  // the statement's order

  out.clear();
  handled = false;
  ASSERT_TRUE(f.source->VariableValues({"cities(eu)", {}}, &out, &handled).ok());
  EXPECT_TRUE(handled);
  EXPECT_EQ(out, std::vector<std::string>{"value-of-eu"});

  out.clear();
  handled = false;
  ASSERT_TRUE(f.source->VariableValues({"region", {}}, &out, &handled).ok());
  EXPECT_FALSE(handled);  // a tag_values target is no variable
  EXPECT_TRUE(out.empty());

  ASSERT_TRUE(f.source->TagKeys({}, &out).ok());
  EXPECT_EQ(out, (std::vector<std::string>{"region", "city"}));
  out.clear();
  std::vector<TagFilter> eu = {*TagFilter::Make("region", FilterOp::kEq, "eu")};
  ASSERT_TRUE(f.source->TagValues("city", eu, &out).ok());
  EXPECT_EQ(out, std::vector<std::string>{"value-of-city"});
  EXPECT_EQ(f.driver->calls().back().sql, "SELECT v WHERE k = $1 AND (region = $2)");
  out.clear();
  ASSERT_TRUE(f.source->TagValues("device", {}, &out).ok());
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace sluice::sql
