#include "sql/macros.h"

#include <gtest/gtest.h>

namespace sluice::sql {
namespace {

// Spells timestamps and regexes as PostgreSQL does, so tests see where each comes from.
class FakeDriver : public Driver {
 public:
  explicit FakeDriver(bool regex = true) : regex_(regex) {}
  std::string_view name() const override { return "fake"; }
  Status Query(std::string_view, const std::vector<Param>&, const QueryOptions&,
               ResultSet*) override {
    return Status::OK();
  }
  std::string TimestampPlaceholder(std::string_view placeholder) const override {
    return std::string(placeholder) + "::timestamptz";
  }
  std::string RegexMatch(std::string_view column, std::string_view placeholder) const override {
    return regex_ ? std::string(column) + " ~ " + std::string(placeholder) : std::string();
  }

 private:
  bool regex_;
};

std::string Describe(const Param& p) {
  switch (p.kind) {
    case Param::Kind::kNull: return "null";
    case Param::Kind::kInt: return "int:" + std::to_string(p.int_value);
    case Param::Kind::kDouble: return fmt::format("double:{}", p.double_value);
    case Param::Kind::kText: return "text:" + p.text;
    case Param::Kind::kTimestampMs: return "ts:" + std::to_string(p.int_value);
  }
  return "?";
}

std::string Describe(const std::vector<Param>& params) {
  std::string out;
  for (const auto& p : params) out += (out.empty() ? "" : " | ") + Describe(p);
  return out;
}

struct Expanded {
  std::string text;
  std::string params;
  std::vector<size_t> filters_in_sql;
};

MacroContext BaseContext() {
  MacroContext c;
  c.range = {1'700'000'000'123, 1'700'003'600'999};
  c.interval_ms = 15'000;
  c.max_data_points = 240;
  c.target = "orders.eu";
  return c;
}

Expanded Expand(std::string_view sql, const MacroContext& context,
                const std::map<std::string, std::string>& columns = {},
                const std::map<std::string, int>& names = {}, int groups = 0) {
  auto t = SqlTemplate::Parse(sql, names, groups, columns);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  if (!t.ok()) return {};
  FakeDriver driver;
  auto e = t->Expand(context, driver);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  if (!e.ok()) return {};
  return {e->text, Describe(e->params), e->filters_in_sql};
}

TEST(SqlTemplate, EveryMacro) {
  struct Case {
    const char* sql;
    const char* text;
    const char* params;
  };
  const Case cases[] = {
      {"a $__timeFrom b", "a $1::timestamptz b", "ts:1700000000123"},
      {"$__timeTo", "$1::timestamptz", "ts:1700003600999"},
      {"$__timeFrom()", "$1::timestamptz", "ts:1700000000123"},
      {"WHERE $__timeFilter(created_at)",
       "WHERE created_at BETWEEN $1::timestamptz AND $2::timestamptz",
       "ts:1700000000123 | ts:1700003600999"},
      {"$__timeFilter( date(o.ts) )", "date(o.ts) BETWEEN $1::timestamptz AND $2::timestamptz",
       "ts:1700000000123 | ts:1700003600999"},
      {"$__unixEpochFrom,$__unixEpochTo", "$1,$2", "int:1700000000 | int:1700003600"},
      {"$__unixEpochFilter(ts)", "ts >= $1 AND ts <= $2", "int:1700000000 | int:1700003600"},
      {"$__unixEpochMsFrom $__unixEpochMsTo", "$1 $2", "int:1700000000123 | int:1700003600999"},
      {"$__unixEpochMsFilter(t_ms)", "t_ms >= $1 AND t_ms <= $2",
       "int:1700000000123 | int:1700003600999"},
      {"$__interval_ms/$__interval_s", "$1/$2", "int:15000 | int:15"},
      {"LIMIT $__maxDataPoints", "LIMIT $1", "int:240"},
      {"name = $__target", "name = $1", "text:orders.eu"},
      {"no macros at all", "no macros at all", ""},
      {"cost $ 5, $x, $$body$$", "cost $ 5, $x, $$body$$", ""},
  };
  for (const auto& c : cases) {
    Expanded e = Expand(c.sql, BaseContext());
    EXPECT_EQ(e.text, c.text) << c.sql;
    EXPECT_EQ(e.params, c.params) << c.sql;
  }
}

TEST(SqlTemplate, NegativeEpochRoundsDown) {
  MacroContext c = BaseContext();
  c.range = {-1500, -1};
  EXPECT_EQ(Expand("$__unixEpochFilter(t)", c).params, "int:-2 | int:-1");
}

TEST(SqlTemplate, IntervalSecondsIsAtLeastOne) {
  MacroContext c = BaseContext();
  c.interval_ms = 20;
  EXPECT_EQ(Expand("$__interval_s", c).params, "int:1");
}

TEST(SqlTemplate, Captures) {
  const std::map<std::string, int> names = {{"region", 1}, {"kind", 2}};
  MacroContext c = BaseContext();
  c.target = "orders.eu.web";
  c.captures = {"orders.eu.web", "eu", std::string_view()};
  Expanded e = Expand("$__capture(region) $__capture(1) $__capture(0) $__capture(kind)", c, {},
                      names, 3);
  EXPECT_EQ(e.text, "$1 $2 $3 $4");
  EXPECT_EQ(e.params, "text:eu | text:eu | text:orders.eu.web | null");
}

TEST(SqlTemplate, PayloadValuesBindByJsonType) {
  MacroContext c = BaseContext();
  c.payload_json =
      R"({"s":"x","i":7,"d":1.5,"b":true,"n":null,"arr":["eu","us"],"empty":[],)"
      R"("nested":{"k":{"v":"deep"}},"obj":{"a":1},"big":18446744073709551615})";
  struct Case {
    const char* sql;
    const char* text;
    const char* params;
  };
  const Case cases[] = {
      {"$__payload(s)", "$1", "text:x"},
      {"$__payload(i)", "$1", "int:7"},
      {"$__payload(d)", "$1", "double:1.5"},
      {"$__payload(b)", "$1", "int:1"},
      {"$__payload(n)", "$1", "null"},
      {"$__payload(missing)", "$1", "null"},
      {"IN ($__payload(arr))", "IN ($1, $2)", "text:eu | text:us"},
      {"IN ($__payload(empty))", "IN (NULL)", ""},
      {"$__payload(nested.k.v)", "$1", "text:deep"},
      {"$__payload(arr.1)", "$1", "text:us"},
      {"$__payload(obj)", "$1", R"(text:{"a":1})"},
      {"$__payload(big)", "$1", "double:1.8446744073709552e+19"},
  };
  for (const auto& k : cases) {
    Expanded e = Expand(k.sql, c);
    EXPECT_EQ(e.text, k.text) << k.sql;
    EXPECT_EQ(e.params, k.params) << k.sql;
  }
  c.payload_json = "not json";
  EXPECT_EQ(Expand("$__payload(s)", c).params, "null");
}

TEST(SqlTemplate, ScopedVariables) {
  MacroContext c = BaseContext();
  c.scoped_vars_json =
      R"({"device":{"text":"dev-7","value":"dev-7"},"multi":{"text":"a + b","value":["a","b"]},)"
      R"("bare":"plain"})";
  Expanded e = Expand("$__var(device) IN ($__var(multi)) $__var(bare) $__var(none)", c);
  EXPECT_EQ(e.text, "$1 IN ($2, $3) $4 $5");
  EXPECT_EQ(e.params, "text:dev-7 | text:a | text:b | text:plain | null");
}

// Whatever a request carries, the statement text is the same: values only ever become params.
TEST(SqlTemplate, RequestValuesNeverReachTheText) {
  const std::string hostile = "x'); DROP TABLE orders; -- /* $1 \" ) $__timeFrom";
  const std::map<std::string, int> names = {{"v", 1}};
  MacroContext c = BaseContext();
  c.target = hostile;
  c.captures = {hostile, hostile};
  std::string payload = R"({"p":)" + fmt::format("\"{}\"", "x'); DROP TABLE orders; -- /* $1 ) $__timeFrom") + "}";
  c.payload_json = payload;
  c.scoped_vars_json =
      R"({"v":{"value":"'; DELETE FROM t; --"}})";
  auto filter = TagFilter::Make("region", FilterOp::kEq, hostile);
  ASSERT_TRUE(filter.ok());
  std::vector<TagFilter> filters = {*filter};
  c.filters = &filters;
  Expanded e = Expand(
      "SELECT 1 WHERE a = $__target AND b = $__capture(v) AND c = $__payload(p) AND "
      "d = $__var(v) AND $__filters",
      c, {{"region", "o.region"}}, names, 2);
  EXPECT_EQ(e.text,
            "SELECT 1 WHERE a = $1 AND b = $2 AND c = $3 AND d = $4 AND (o.region = $5)");
  EXPECT_EQ(e.params, "text:" + hostile + " | text:" + hostile +
                          " | text:x'); DROP TABLE orders; -- /* $1 ) $__timeFrom" +
                          " | text:'; DELETE FROM t; -- | text:" + hostile);
}

TEST(SqlTemplate, CommentsAndStringsAreLeftAlone) {
  Expanded e = Expand(
      "SELECT '$1 costs $$', \"we\"\"ird\" -- $__timeFrom and $1 here\n"
      "/* $__filters $2 */ FROM t WHERE ts > $__unixEpochFrom",
      BaseContext());
  EXPECT_EQ(e.text,
            "SELECT '$1 costs $$', \"we\"\"ird\" -- $__timeFrom and $1 here\n"
            "/* $__filters $2 */ FROM t WHERE ts > $1");
  EXPECT_EQ(e.params, "int:1700000000");
}

TEST(SqlTemplate, FiltersEveryOperator) {
  const std::map<std::string, std::string> columns = {{"region", "o.region"},
                                                      {"amount", "o.amount"}};
  auto make = [](std::string key, FilterOp op, std::string value) {
    auto f = TagFilter::Make(std::move(key), op, std::move(value));
    EXPECT_TRUE(f.ok());
    return *f;
  };
  struct Case {
    TagFilter filter;
    const char* text;
    const char* params;
  };
  const Case cases[] = {
      {make("region", FilterOp::kEq, "eu"), "(o.region = $1)", "text:eu"},
      {make("region", FilterOp::kNe, "eu"), "(o.region <> $1)", "text:eu"},
      {make("amount", FilterOp::kLt, "10"), "(o.amount < $1)", "double:10"},
      {make("amount", FilterOp::kGt, "2.5"), "(o.amount > $1)", "double:2.5"},
      {make("amount", FilterOp::kLe, "abc"), "(o.amount <= $1)", "text:abc"},
      {make("amount", FilterOp::kGe, "-1"), "(o.amount >= $1)", "double:-1"},
      {make("region", FilterOp::kIn, "eu|us"), "(o.region IN ($1, $2))", "text:eu | text:us"},
      {make("region", FilterOp::kNotIn, "eu"), "(o.region NOT IN ($1))", "text:eu"},
      {make("region", FilterOp::kRegex, "e.*"), "(o.region ~ $1)", "text:^(?:e.*)$"},
      {make("region", FilterOp::kNotRegex, "e.*"), "(NOT (o.region ~ $1))", "text:^(?:e.*)$"},
  };
  for (const auto& k : cases) {
    MacroContext c = BaseContext();
    std::vector<TagFilter> filters = {k.filter};
    c.filters = &filters;
    Expanded e = Expand("$__filters", c, columns);
    EXPECT_EQ(e.text, k.text) << FilterOpName(k.filter.op());
    EXPECT_EQ(e.params, k.params) << FilterOpName(k.filter.op());
    EXPECT_EQ(e.filters_in_sql, std::vector<size_t>{0});
  }
}

TEST(SqlTemplate, FiltersOnlyMappedKeys) {
  const std::map<std::string, std::string> columns = {{"region", "region"}};
  std::vector<TagFilter> filters = {*TagFilter::Make("host", FilterOp::kEq, "a"),
                                    *TagFilter::Make("region", FilterOp::kEq, "eu"),
                                    *TagFilter::Make("region", FilterOp::kNe, "us")};
  MacroContext c = BaseContext();
  c.filters = &filters;
  Expanded e = Expand("WHERE $__filters", c, columns);
  EXPECT_EQ(e.text, "WHERE (region = $1 AND region <> $2)");
  EXPECT_EQ(e.filters_in_sql, (std::vector<size_t>{1, 2}));

  std::vector<TagFilter> unmapped = {*TagFilter::Make("host", FilterOp::kEq, "a")};
  c.filters = &unmapped;
  e = Expand("WHERE $__filters", c, columns);
  EXPECT_EQ(e.text, "WHERE 1=1");
  EXPECT_TRUE(e.filters_in_sql.empty());
  c.filters = nullptr;
  EXPECT_EQ(Expand("WHERE $__filters", c, columns).text, "WHERE 1=1");
}

TEST(SqlTemplate, RegexFilterWithoutEngineSupportFails) {
  auto t = SqlTemplate::Parse("$__filters", {}, 0, {{"k", "k"}});
  ASSERT_TRUE(t.ok());
  std::vector<TagFilter> filters = {*TagFilter::Make("k", FilterOp::kRegex, "a.*")};
  MacroContext c = BaseContext();
  c.filters = &filters;
  FakeDriver driver(/*regex=*/false);
  auto e = t->Expand(c, driver);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("=~"), std::string::npos) << e.status().message();
}

TEST(SqlTemplate, ParseErrors) {
  struct Case {
    const char* sql;
    const char* message_part;
    std::map<std::string, std::string> columns;
    int groups;
  };
  const Case cases[] = {
      {"x = $__timeFrm", "unknown macro \"$__timeFrm\" at offset 4", {}, 0},
      {"x = $1", "placeholder \"$1\" at offset 4 is written by hand", {}, 0},
      {"x = '$__timeFrom'", "inside a quoted string", {}, 0},
      {"x = 'open", "unterminated string starting at offset 4", {}, 0},
      {"x = \"open", "unterminated quoted identifier", {}, 0},
      {"/* open", "unterminated comment", {}, 0},
      {"$__timeFilter", "needs an argument", {}, 0},
      {"$__timeFilter()", "needs an argument", {}, 0},
      {"$__timeFilter(a", "unclosed \"(\"", {}, 0},
      {"$__timeFrom(x)", "takes no argument", {}, 0},
      {"$__capture(1)", "needs a target `pattern`", {}, 0},
      {"$__capture(2)", "the pattern has 1 group(s)", {}, 2},
      {"$__capture(nope)", "no group named \"nope\"", {}, 2},
      {"$__filters", "needs `filter_columns`", {}, 0},
      {"SELECT 1", "does not use $__filters", {{"k", "k"}}, 0},
  };
  for (const auto& c : cases) {
    auto t = SqlTemplate::Parse(c.sql, {}, c.groups, c.columns);
    ASSERT_FALSE(t.ok()) << c.sql;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(t.status().message().find(c.message_part), std::string::npos)
        << c.sql << " -> " << t.status().message();
  }
}

}  // namespace
}  // namespace sluice::sql
