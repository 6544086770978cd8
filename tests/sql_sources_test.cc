// SQL-defined targets over a SQLite file, and a CSV source, through the real server
// (docs/sources.md): every endpoint that reaches them (/search, /metrics, /variable, /query as
// series and tables, /annotations, /tag-keys, /tag-values), ad-hoc filters, payload fields and
// scoped variables as bound values, all time forms, NULLs, a CSV file rewritten under the running
// server, a missing database file, and injection attempts through every request value.
//
// One server serves the whole suite: a SQLite file and a CSV file written by the test in a private
// directory, and a config whose targets use every macro. Times are whole minutes in the hour two
// hours back, so they sit inside the default windows.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/time.h"
#include "testing/annotations.h"
#include "testing/http_client.h"
#include "testing/json.h"
#include "testing/protocol_checks.h"
#include "testing/server_process.h"

namespace sluice::testing {
namespace {

using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;
using TagMap = std::map<std::string, std::string>;

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The start of the hour two hours back.
const int64_t kBase = (WallMs() / kHour) * kHour - 2 * kHour;

std::string Quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "''";
    else out.push_back(c);
  }
  return out + "'";
}

// The hostile label value stored in the database and the CSV file.
const std::string kHostile = "it's; -- /* $1";

class SqlSourcesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    db_path_ = dir_->path() + "/shop.db";
    csv_path_ = dir_->path() + "/meter.csv";
    WriteDatabase();
    WriteCsv(CsvText(false));
    std::string error;
    ServerConfig config;
    config.demo = false;
    config.config_toml = ConfigToml();
    server_ = ServerProcess::Start(config, &error).release();
    ASSERT_NE(server_, nullptr) << error;
  }
  static void TearDownTestSuite() {
    if (server_) server_->Stop();
    delete server_;
    server_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  static void Exec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    ASSERT_EQ(rc, SQLITE_OK) << (error ? error : "") << " in " << sql;
    sqlite3_free(error);
    sqlite3_close(db);
  }

  // A count straight from the file, bypassing the server.
  static int64_t Count(const std::string& table) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(db_path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    std::string sql = "SELECT count(*) FROM " + table;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      n = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
  }

  static void WriteDatabase() {
    std::string sql =
        "PRAGMA synchronous=OFF; BEGIN;"
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, created_at TEXT, region TEXT, "
        "product TEXT, amount REAL);"
        "CREATE TABLE readings (ts INTEGER, at TIMESTAMP, device TEXT, celsius REAL, "
        "humidity REAL);"
        "CREATE TABLE deploys (time INTEGER, time_end INTEGER, title TEXT, text TEXT, tags TEXT);"
        "CREATE TABLE secrets (k TEXT);"
        "INSERT INTO secrets VALUES ('hunter2');";
    // Six orders, ten minutes apart, eu/us alternating; inserted newest first so the server must
    // sort them.
    for (int i = 5; i >= 0; --i) {
      sql += fmt::format("INSERT INTO orders VALUES ({}, {}, {}, {}, {});", i + 1,
                         Quote(FormatTimestampMs(kBase + i * 10 * kMinute)),
                         Quote(i % 2 ? "us" : "eu"),
                         Quote(i < 3 ? "widget" : "gadget"), i + 1);
    }
    sql += fmt::format("INSERT INTO orders VALUES (7, {}, {}, 'gizmo', 100);",
                       Quote(FormatTimestampMs(kBase + kMinute)), Quote(kHostile));
    // Readings: epoch seconds, a declared TIMESTAMP column in SQLite's own text format, a NULL
    // value and a row without a time.
    for (int k = 0; k < 3; ++k) {
      int64_t ms = kBase + k * kMinute;
      std::time_t s = static_cast<std::time_t>(ms / 1000);
      std::tm t{};
      ::gmtime_r(&s, &t);
      std::string at = fmt::format("'{:04}-{:02}-{:02} {:02}:{:02}:{:02}'", t.tm_year + 1900,
                                   t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec);
      sql += fmt::format("INSERT INTO readings VALUES ({}, {}, 'd1', {}, {});", ms / 1000, at,
                         k == 1 ? "NULL" : std::to_string(20 + k), 40 + k);
      sql += fmt::format("INSERT INTO readings VALUES ({}, {}, 'd2', {}, {});", ms / 1000, at,
                         30 + k, 50 + k);
    }
    sql += "INSERT INTO readings VALUES (NULL, NULL, 'd1', 99, 99);";
    sql += fmt::format(
        "INSERT INTO deploys VALUES ({}, {}, 'deploy v1', 'web rollout', 'deploy,web');"
        "INSERT INTO deploys VALUES ({}, {}, 'deploy v2', 'db migration', 'deploy,db');",
        kBase + 5 * kMinute, kBase + 15 * kMinute, kBase + 30 * kMinute, kBase + 30 * kMinute);
    sql += "COMMIT;";
    Exec(sql);
  }

  static std::string CsvText(bool second_version) {
    std::string text = "time,meter,kwh\n";
    text += fmt::format("{},north,1.5\n", (kBase) / 1000);
    text += fmt::format("{},\"{}\",2\n", kBase, "it's; -- /* $1");
    text += fmt::format("{},north,\n", FormatTimestampMs(kBase + kMinute));
    if (second_version) {
      text = "time,meter,kwh,volts\n";
      text += fmt::format("{},north,7,230\n", FormatTimestampMs(kBase));
      text += fmt::format("{},south,8,231\n", FormatTimestampMs(kBase));
    }
    return text;
  }

  static void WriteCsv(const std::string& text) {
    std::string tmp = csv_path_ + ".tmp";
    std::ofstream(tmp, std::ios::binary) << text;
    std::rename(tmp.c_str(), csv_path_.c_str());
  }

  static std::string ConfigToml() {
    return fmt::format(R"toml(
[store]
kind = "none"

[[sources]]
name = "shop"
kind = "sqlite"
path = "{db}"
pool_size = 3

  [[sources.targets]]
  name = "orders.amount"
  sql = '''SELECT created_at AS time, amount AS value FROM orders
           WHERE $__timeFilter(created_at) AND region IN ('eu', 'us')'''

  [[sources.targets]]
  name = "orders.by_region"
  filter_columns = {{ region = "region", product = "product" }}
  sql = '''SELECT created_at AS time, region, amount FROM orders
           WHERE $__timeFilter(created_at) AND $__filters -- newest first: the server sorts
           ORDER BY id DESC'''

  [[sources.targets]]
  pattern = 'orders\.region\.(?P<region>.+)'
  examples = ["orders.region.eu", "orders.region.us"]
  sql = '''SELECT created_at AS time, amount AS value FROM orders
           WHERE region = $__capture(region) AND $__timeFilter(created_at)'''

  [[sources.targets]]
  name = "orders.table"
  type = "table"
  sql = '''SELECT created_at AS time, region, product, amount FROM orders
           WHERE $__timeFilter(created_at) ORDER BY id'''

  [[sources.targets]]
  name = "orders.min_amount"
  sql = '''SELECT created_at AS time, amount AS value FROM orders
           WHERE amount >= $__payload(min) AND region IN ($__payload(regions))'''

  [[sources.targets]]
  name = "orders.by_var"
  sql = '''SELECT created_at AS time, amount AS value FROM orders WHERE region = $__var(region)'''

  [[sources.targets]]
  name = "readings.seconds"
  sql = '''SELECT ts AS time, device, celsius, humidity FROM readings
           WHERE $__unixEpochFilter(ts) OR ts IS NULL'''

  [[sources.targets]]
  name = "readings.millis"
  sql = '''SELECT ts * 1000 AS time, device AS metric, celsius FROM readings
           WHERE $__unixEpochMsFilter(ts * 1000)'''

  [[sources.targets]]
  name = "readings.timestamp"
  sql = '''SELECT at, celsius AS value FROM readings WHERE device = 'd2' '''

  [[sources.targets]]
  name = "macros.echo"
  sql = '''SELECT $__unixEpochMsTo AS time, $__interval_ms AS interval_ms,
                  $__maxDataPoints AS max_points, $__unixEpochTo - $__unixEpochFrom AS span_s,
                  CAST($__timeFrom AS TEXT) AS time_from, $__target AS target'''

  [[sources.targets]]
  name = "secrets.count"
  sql = '''SELECT $__unixEpochMsTo AS time, count(*) AS value FROM secrets'''

  [[sources.targets]]
  name = "regions"
  type = "variable"
  sql = '''SELECT DISTINCT region FROM orders ORDER BY region DESC'''

  [[sources.targets]]
  pattern = 'products\((?P<region>.*)\)'
  type = "variable"
  sql = '''SELECT DISTINCT product FROM orders WHERE region = $__capture(region) ORDER BY 1'''

  [[sources.targets]]
  name = "deploys"
  type = "annotations"
  sql = '''SELECT time, time_end AS timeEnd, title, text, tags FROM deploys
           WHERE time <= $__unixEpochMsTo AND time_end >= $__unixEpochMsFrom'''

  [[sources.targets]]
  type = "tag_keys"
  sql = '''SELECT 'region' UNION ALL SELECT 'product' '''

  [[sources.targets]]
  pattern = '(?P<key>region|product)'
  type = "tag_values"
  filter_columns = {{ region = "region", product = "product" }}
  sql = '''SELECT DISTINCT CASE $__capture(key) WHEN 'region' THEN region ELSE product END
           FROM orders WHERE $__filters ORDER BY 1'''

[[sources]]
name = "plant"
kind = "csv"
path = "{csv}"

[[sources]]
name = "gone"
kind = "sqlite"
path = "{missing}"

  [[sources.targets]]
  name = "gone.value"
  sql = "SELECT 1 AS time, 1 AS value"
)toml",
                       fmt::arg("db", db_path_), fmt::arg("csv", csv_path_),
                       fmt::arg("missing", dir_->path() + "/missing.db"));
  }

  HttpResponse Post(std::string_view path, std::string_view body) {
    return client_->Request("POST", path, body, {{"Content-Type", "application/json"}});
  }

  // A /query over [kBase - 1h, kBase + 2h] for one target, raw points (no consolidation).
  HttpResponse Query(std::string_view target, std::string_view extra = "",
                     std::string_view payload = "") {
    std::string body = fmt::format(
        R"({{"range":{{"from":"{}","to":"{}"}},"intervalMs":1,"maxDataPoints":1000000,)"
        R"("targets":[{{"target":{},"refId":"A"{}}}]{}}})",
        FormatTimestampMs(kBase - kHour), FormatTimestampMs(kBase + 2 * kHour), JsonQuote(target),
        payload.empty() ? "" : fmt::format(R"(,"payload":{})", payload),
        extra.empty() ? "" : "," + std::string(extra));
    return Post("/query", body);
  }

  QueryView QueryOk(std::string_view target, std::string_view extra = "",
                    std::string_view payload = "") {
    QueryView view;
    HttpResponse r = Query(target, extra, payload);
    EXPECT_TRUE(ParseQueryResponse(r, &view)) << target;
    return view;
  }

  std::vector<std::string> Strings(const HttpResponse& r, std::string_view field = "") {
    std::vector<std::string> out;
    EXPECT_TRUE(IsJsonArray(r)) << r.Describe();
    JsonDoc doc = JsonDoc::Parse(r.body);
    for (JsonElement e : Elements(doc.root())) {
      auto s = field.empty() ? AsString(e) : StringField(e, field);
      if (s) out.push_back(*s);
    }
    return out;
  }

  static std::string Filter(std::string_view key, std::string_view op, std::string_view value) {
    return fmt::format(R"("adhocFilters":[{{"key":{},"operator":{},"value":{}}}])",
                       JsonQuote(key), JsonQuote(op), JsonQuote(value));
  }

  static std::vector<std::string> Points(const SeriesView& s) {
    std::vector<std::string> out;
    for (const auto& p : s.points) {
      out.push_back(fmt::format("{}:{}", (p.time_ms - kBase) / kMinute,
                                p.value ? fmt::format("{}", *p.value) : "null"));
    }
    return out;
  }

  // The series named `name` with exactly `tags`. Series sharing a name are told apart by the
  // server as "name{k=v}".
  static const SeriesView* Named(const QueryView& view, std::string_view name,
                                 const TagMap& tags = {}) {
    for (const auto& s : view.series) {
      std::string_view target = s.target;
      target = target.substr(0, target.find('{'));
      if (target == name && s.tags == tags) return &s;
    }
    return nullptr;
  }

  static TempDir* dir_;
  static std::string db_path_;
  static std::string csv_path_;
  static ServerProcess* server_;
  std::unique_ptr<HttpClient> client_;
};

TempDir* SqlSourcesTest::dir_ = nullptr;
std::string SqlSourcesTest::db_path_;
std::string SqlSourcesTest::csv_path_;
ServerProcess* SqlSourcesTest::server_ = nullptr;

TEST_F(SqlSourcesTest, TargetsAreListedNextToEachOther) {
  auto names = Strings(Post("/search", R"({"target":""})"));
  for (std::string_view expected :
       {"orders.amount", "orders.by_region", "orders.region.eu", "orders.region.us",
        "orders.table", "regions", "readings.seconds", "plant.kwh", "gone.value"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
  for (std::string_view absent : {"deploys", "region", "orders\\.region\\.(?P<region>.+)"}) {
    EXPECT_EQ(std::find(names.begin(), names.end(), absent), names.end()) << absent;
  }
  auto metrics = Strings(Post("/metrics", "{}"), "value");
  EXPECT_NE(std::find(metrics.begin(), metrics.end(), "orders.table"), metrics.end());
  EXPECT_NE(std::find(metrics.begin(), metrics.end(), "plant.kwh"), metrics.end());
  EXPECT_EQ(Strings(Post("/search", R"({"target":"orders.re"})")),
            (std::vector<std::string>{"orders.region.eu", "orders.region.us"}));
}

TEST_F(SqlSourcesTest, VariablesAnswerWithTheirValuesInStatementOrder) {
  EXPECT_EQ(Strings(Post("/variable", R"({"payload":{"target":"regions"}})"), "__value"),
            (std::vector<std::string>{"us", kHostile, "eu"}));
  EXPECT_EQ(Strings(Post("/search", R"({"target":"regions"})")),
            (std::vector<std::string>{"us", kHostile, "eu"}));
  EXPECT_EQ(Strings(Post("/variable", R"j({"payload":{"target":"products(eu)"}})j"), "__text"),
            (std::vector<std::string>{"gadget", "widget"}));
  // A chained variable whose value is hostile is compared literally.
  EXPECT_EQ(Strings(Post("/variable", fmt::format(R"({{"payload":{{"target":{}}}}})",
                                                  JsonQuote("products(" + kHostile + ")"))),
                    "__text"),
            std::vector<std::string>{"gizmo"});
}

TEST_F(SqlSourcesTest, OneSeriesFromIsoTextTimes) {
  QueryView view = QueryOk("orders.amount");
  ASSERT_EQ(view.series.size(), 1u);
  EXPECT_EQ(view.series[0].target, "orders.amount");
  EXPECT_EQ(Points(view.series[0]),
            (std::vector<std::string>{"0:1", "10:2", "20:3", "30:4", "40:5", "50:6"}));
}

TEST_F(SqlSourcesTest, LabelsMakeOneSeriesPerValueAndFiltersBindAsValues) {
  QueryView view = QueryOk("orders.by_region");
  ASSERT_EQ(view.series.size(), 3u);
  const SeriesView* eu = Named(view, "orders.by_region", {{"region", "eu"}});
  ASSERT_NE(eu, nullptr);
  EXPECT_EQ(Points(*eu), (std::vector<std::string>{"0:1", "20:3", "40:5"}));
  ASSERT_NE(Named(view, "orders.by_region", {{"region", "us"}}), nullptr);

  view = QueryOk("orders.by_region", Filter("region", "=", "eu"));
  ASSERT_EQ(view.series.size(), 1u);
  EXPECT_EQ(view.series[0].tags, (TagMap{{"region", "eu"}}));

  view = QueryOk("orders.by_region", Filter("product", "=", "gadget"));
  ASSERT_EQ(view.series.size(), 2u);
  EXPECT_EQ(Points(*Named(view, "orders.by_region", {{"region", "eu"}})),
            std::vector<std::string>{"40:5"});

  view = QueryOk("orders.by_region", Filter("region", "=~", "e.*"));
  ASSERT_EQ(view.series.size(), 1u);
  EXPECT_EQ(view.series[0].tags, (TagMap{{"region", "eu"}}));

  // A key the target does not map is applied to the labels: no series has a `host` label.
  EXPECT_TRUE(QueryOk("orders.by_region", Filter("host", "=", "a")).series.empty());
}

TEST_F(SqlSourcesTest, PatternTargetsBindTheirCaptures) {
  QueryView view = QueryOk("orders.region.us");
  ASSERT_EQ(view.series.size(), 1u);
  EXPECT_EQ(Points(view.series[0]), (std::vector<std::string>{"10:2", "30:4", "50:6"}));
  view = QueryOk("orders.region.(eu|us)");
  EXPECT_EQ(view.Targets(), (std::vector<std::string>{"orders.region.eu", "orders.region.us"}));
  view = QueryOk("orders.region.*");
  EXPECT_EQ(view.Targets(), (std::vector<std::string>{"orders.region.eu", "orders.region.us"}));
}

TEST_F(SqlSourcesTest, TableTargets) {
  QueryView view = QueryOk("orders.table");
  ASSERT_EQ(view.tables.size(), 1u);
  const TableView& t = view.tables[0];
  EXPECT_EQ(t.columns, (std::vector<std::pair<std::string, std::string>>{
                           {"time", "time"}, {"region", "string"}, {"product", "string"},
                           {"amount", "number"}}));
  ASSERT_EQ(t.rows.size(), 7u);
  EXPECT_EQ(t.rows[0][0], std::to_string(kBase));
  EXPECT_EQ(t.rows[0][1], "\"eu\"");
  EXPECT_EQ(t.rows[0][3], "1");

  // Unmapped ad-hoc filters pick rows by the same-named column.
  view = QueryOk("orders.table", Filter("product", "=", "gizmo"));
  ASSERT_EQ(view.tables.size(), 1u);
  ASSERT_EQ(view.tables[0].rows.size(), 1u);
  EXPECT_EQ(view.tables[0].rows[0][1], JsonQuote(kHostile));
}

TEST_F(SqlSourcesTest, EpochSecondsSeveralValueColumnsAndNulls) {
  QueryView view = QueryOk("readings.seconds");
  ASSERT_EQ(view.series.size(), 4u);
  const SeriesView* celsius = Named(view, "celsius", {{"device", "d1"}});
  ASSERT_NE(celsius, nullptr);
  EXPECT_EQ(Points(*celsius), (std::vector<std::string>{"0:20", "1:null", "2:22"}));
  const SeriesView* humidity = Named(view, "humidity", {{"device", "d2"}});
  ASSERT_NE(humidity, nullptr);
  EXPECT_EQ(Points(*humidity), (std::vector<std::string>{"0:50", "1:51", "2:52"}));
}

TEST_F(SqlSourcesTest, EpochMillisecondsWithAMetricColumn) {
  QueryView view = QueryOk("readings.millis");
  EXPECT_EQ(view.Targets(), (std::vector<std::string>{"d1", "d2"}));
  const SeriesView* d2 = Named(view, "d2");
  ASSERT_NE(d2, nullptr);
  EXPECT_EQ(Points(*d2), (std::vector<std::string>{"0:30", "1:31", "2:32"}));
}

TEST_F(SqlSourcesTest, DeclaredTimestampColumn) {
  QueryView view = QueryOk("readings.timestamp");
  ASSERT_EQ(view.series.size(), 1u);
  EXPECT_EQ(Points(view.series[0]), (std::vector<std::string>{"0:30", "1:31", "2:32"}));
}

TEST_F(SqlSourcesTest, RequestMacros) {
  std::string body = fmt::format(
      R"({{"range":{{"from":"{}","to":"{}"}},"intervalMs":30000,"maxDataPoints":321,)"
      R"("targets":[{{"target":"macros.echo","refId":"A"}}]}})",
      FormatTimestampMs(kBase), FormatTimestampMs(kBase + kHour));
  QueryView view;
  ASSERT_TRUE(ParseQueryResponse(Post("/query", body), &view));
  std::map<std::string, std::string> values;
  for (const auto& s : view.series) {
    ASSERT_EQ(s.points.size(), 1u) << s.target;
    EXPECT_EQ(s.points[0].time_ms, kBase + kHour);
    values[s.target] = fmt::format("{}", s.points[0].value.value_or(-1));
    // Text columns are labels: the bound range start as SQLite saw it, and $__target.
    EXPECT_EQ(s.tags, (TagMap{{"target", "macros.echo"}, {"time_from", FormatTimestampMs(kBase)}}));
  }
  EXPECT_EQ(values, (std::map<std::string, std::string>{
                        {"interval_ms", "30000"}, {"max_points", "321"}, {"span_s", "3600"}}));
}

TEST_F(SqlSourcesTest, PayloadAndScopedVariablesBindAsValues) {
  QueryView view = QueryOk("orders.min_amount", "", R"({"min":4,"regions":["eu","us"]})");
  ASSERT_EQ(view.series.size(), 1u);
  EXPECT_EQ(Points(view.series[0]), (std::vector<std::string>{"30:4", "40:5", "50:6"}));
  view = QueryOk("orders.min_amount", "", R"({"min":2,"regions":["us"]})");
  EXPECT_EQ(Points(view.series[0]), (std::vector<std::string>{"10:2", "30:4", "50:6"}));

  view = QueryOk("orders.by_var", R"("scopedVars":{"region":{"text":"eu","value":"eu"}})");
  ASSERT_EQ(view.series.size(), 1u);
  EXPECT_EQ(Points(view.series[0]), (std::vector<std::string>{"0:1", "20:3", "40:5"}));
}

TEST_F(SqlSourcesTest, Annotations) {
  auto annotations = [&](std::string_view query, int64_t from, int64_t to) {
    std::string b = fmt::format(
        R"({{"range":{{"from":"{}","to":"{}"}},"annotation":{{"name":"d","query":{}}}}})",
        FormatTimestampMs(from), FormatTimestampMs(to), JsonQuote(query));
    std::vector<Event> events;
    EXPECT_TRUE(ParseOldAnnotations(Post("/annotations", b), &events));
    std::vector<std::string> titles;
    for (const auto& e : events) titles.push_back(e.title);
    return std::make_pair(titles, events);
  };
  auto [all, events] = annotations("", kBase, kBase + kHour);
  EXPECT_EQ(all, (std::vector<std::string>{"deploy v1", "deploy v2"}));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].time, kBase + 5 * kMinute);
  EXPECT_EQ(events[0].time_end, kBase + 15 * kMinute);
  EXPECT_TRUE(events[0].HasTag("web"));
  EXPECT_EQ(annotations("deploys db", kBase, kBase + kHour).first,
            std::vector<std::string>{"deploy v2"});
  EXPECT_EQ(annotations("deploys", kBase + 10 * kMinute, kBase + 20 * kMinute).first,
            std::vector<std::string>{"deploy v1"});  // the region overlaps the range

  // The NEW plugin's annotation query through /query.
  std::string anno = fmt::format(
      R"({{"range":{{"from":"{}","to":"{}"}},"targets":[{{"target":"deploys","refId":"Anno"}}]}})",
      FormatTimestampMs(kBase), FormatTimestampMs(kBase + kHour));
  QueryView view;
  ASSERT_TRUE(ParseQueryResponse(Post("/query", anno), &view));
  ASSERT_EQ(view.tables.size(), 1u);
  std::vector<Event> table_events;
  ASSERT_TRUE(AnnotationTableEvents(view.tables[0], &table_events));
  EXPECT_EQ(table_events.size(), 2u);
}

TEST_F(SqlSourcesTest, TagKeysAndValues) {
  auto keys = Strings(Post("/tag-keys", "{}"), "text");
  EXPECT_NE(std::find(keys.begin(), keys.end(), "region"), keys.end());
  EXPECT_NE(std::find(keys.begin(), keys.end(), "product"), keys.end());
  EXPECT_NE(std::find(keys.begin(), keys.end(), "meter"), keys.end());  // from the CSV source
  EXPECT_EQ(Strings(Post("/tag-values", R"({"key":"region"})"), "text"),
            (std::vector<std::string>{"eu", kHostile, "us"}));
  EXPECT_EQ(Strings(Post("/tag-values", R"({"key":"product","filters":[)"
                                        R"({"key":"region","operator":"=","value":"us"}]})"),
                    "text"),
            (std::vector<std::string>{"gadget", "widget"}));
  EXPECT_EQ(Strings(Post("/variable", R"j({"payload":{"target":"tag_values(region)"}})j"), "__text"),
            (std::vector<std::string>{"eu", kHostile, "us"}));
}

// Targets, payload values, filter values and variables carrying quotes, semicolons, comments and
// `$n` reach SQLite as data: nothing extra matches, the hostile label matches itself, and the
// tables are intact.
TEST_F(SqlSourcesTest, InjectionAttemptsAreJustData) {
  const int64_t orders = Count("orders");
  const std::vector<std::string> attacks = {
      "x' OR '1'='1",
      "eu'; DELETE FROM orders; --",
      "eu' UNION SELECT k, 1 FROM secrets --",
      "eu /* */ OR 1=1",
      "$1",
      "') OR ('a'='a",
  };
  for (const auto& attack : attacks) {
    SCOPED_TRACE(attack);
    EXPECT_TRUE(QueryOk("orders.region." + attack).series.empty());
    EXPECT_TRUE(QueryOk("orders.by_region", Filter("region", "=", attack)).series.empty());
    EXPECT_TRUE(QueryOk("orders.by_region", Filter("region", "=|", "nope|" + attack)).series.empty());
    EXPECT_TRUE(QueryOk("orders.min_amount", "",
                        fmt::format(R"({{"min":{},"regions":[{}]}})", JsonQuote(attack),
                                    JsonQuote(attack)))
                    .series.empty());
    EXPECT_TRUE(
        QueryOk("orders.by_var", fmt::format(R"("scopedVars":{{"region":{{"value":{}}}}})",
                                            JsonQuote(attack)))
            .series.empty());
    EXPECT_TRUE(Strings(Post("/variable", fmt::format(R"({{"payload":{{"target":{}}}}})",
                                                      JsonQuote("products(" + attack + ")"))),
                        "__text")
                    .empty());
    EXPECT_TRUE(Strings(Post("/tag-values", fmt::format(R"({{"key":"product","filters":[)"
                                                        R"({{"key":"region","value":{}}}]}})",
                                                        JsonQuote(attack))),
                        "text")
                    .empty());
  }
  // The hostile value stored in the table matches itself, through every path.
  QueryView view = QueryOk("orders.region." + kHostile);
  ASSERT_EQ(view.series.size(), 1u);
  EXPECT_EQ(Points(view.series[0]), std::vector<std::string>{"1:100"});
  view = QueryOk("orders.by_region", Filter("region", "=", kHostile));
  ASSERT_EQ(view.series.size(), 1u);
  EXPECT_EQ(view.series[0].tags, (TagMap{{"region", kHostile}}));
  view = QueryOk("orders.by_var",
                 fmt::format(R"("scopedVars":{{"region":{{"value":{}}}}})", JsonQuote(kHostile)));
  ASSERT_EQ(view.series.size(), 1u);
  view = QueryOk("orders.min_amount", "",
                 fmt::format(R"({{"min":0,"regions":[{}]}})", JsonQuote(kHostile)));
  ASSERT_EQ(view.series.size(), 1u);

  EXPECT_EQ(Count("orders"), orders);
  EXPECT_EQ(Count("secrets"), 1);
  view = QueryOk("secrets.count");
  ASSERT_EQ(view.series.size(), 1u);
  ASSERT_EQ(view.series[0].points.size(), 1u);
  EXPECT_EQ(view.series[0].points[0].value, 1.0);
}

TEST_F(SqlSourcesTest, CsvSource) {
  QueryView view = QueryOk("plant.kwh");
  ASSERT_EQ(view.series.size(), 2u);
  const SeriesView* north = Named(view, "plant.kwh", {{"meter", "north"}});
  ASSERT_NE(north, nullptr);
  EXPECT_EQ(Points(*north), (std::vector<std::string>{"0:1.5", "1:null"}));
  // The label value that looks like SQL is matched literally.
  view = QueryOk("plant.kwh", Filter("meter", "=", kHostile));
  ASSERT_EQ(view.series.size(), 1u);
  EXPECT_EQ(Points(view.series[0]), std::vector<std::string>{"0:2"});
  EXPECT_TRUE(QueryOk("plant.kwh", Filter("meter", "=", "north' OR '1'='1")).series.empty());
}

// Runs last among the CSV checks (gtest keeps declaration order): it rewrites the file.
TEST_F(SqlSourcesTest, CsvReloadsWhenTheFileChanges) {
  // Mtime granularity is fine-grained, but wait out the once-a-second check anyway.
  WriteCsv(CsvText(true));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  QueryView view;
  while (std::chrono::steady_clock::now() < deadline) {
    view = QueryOk("plant.*");
    if (view.series.size() == 4u) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(view.Targets(),
            (std::vector<std::string>{"plant.kwh{meter=north}", "plant.kwh{meter=south}",
                                      "plant.volts{meter=north}", "plant.volts{meter=south}"}));
  ASSERT_NE(Named(view, "plant.volts", {{"meter", "south"}}), nullptr);

  // A malformed rewrite is an error naming file, line and column, until the file is fixed.
  WriteCsv("time,meter,kwh\n" + FormatTimestampMs(kBase) + ",north,1\n" + FormatTimestampMs(kBase) + ",south,1;5\n");
  HttpResponse r;
  for (int i = 0; i < 75; ++i) {
    r = Query("plant.kwh");
    if (r.status != 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(IsJsonError(r, 400)) << r.Describe();
  EXPECT_NE(r.body.find("meter.csv:3: column 3 (kwh)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("plant"), std::string::npos) << r.body;

  WriteCsv(CsvText(false));
  for (int i = 0; i < 75; ++i) {
    r = Query("plant.kwh");
    if (r.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(r.status, 200) << r.Describe();
}

TEST_F(SqlSourcesTest, MissingDatabaseIsAJsonErrorNamingTheSource) {
  HttpResponse r = Query("gone.value");
  ASSERT_TRUE(IsJsonError(r, 503)) << r.Describe();
  EXPECT_NE(r.body.find("gone"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("missing.db"), std::string::npos) << r.body;
  // The server carries on, and other targets still answer.
  EXPECT_TRUE(server_->Alive());
  EXPECT_EQ(QueryOk("orders.amount").series.size(), 1u);
}

TEST(SqlSourcesConfig, BadTargetsStopStartupWithTheirLocation) {
  TempDir dir;
  struct Case {
    std::string toml;
    const char* message;
  };
  const Case cases[] = {
      {"[[sources]]\nname = \"x\"\nkind = \"sqlite\"\npath = \"/nonexistent.db\"\n"
       "[[sources.targets]]\nname = \"a\"\nsql = \"SELECT $__timeFrm\"\n",
       "sources[0].targets[0].sql: unknown macro \"$__timeFrm\""},
      {"[[sources]]\nname = \"x\"\nkind = \"oracle\"\npath = \"/x\"\n",
       "sources[0].kind: expected \"postgresql\", \"sqlite\" or \"csv\""},
      {"[[sources]]\nname = \"x\"\nkind = \"sqlite\"\npath = \"/x.db\"\n",
       "sources[0]: a sqlite source needs at least one [[sources.targets]]"},
      {"[[sources]]\nname = \"x\"\nkind = \"csv\"\npath = \"/x.csv\"\npool_size = 3\n",
       "sources[0].pool_size: not a key of csv sources"},
      {"[[sources]]\nname = \"x\"\nkind = \"sqlite\"\npath = \"/x.db\"\n"
       "[[sources.targets]]\npattern = \"(\"\nsql = \"SELECT 1\"\n",
       "sources[0].targets[0].pattern: invalid regex"},
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    std::string path = dir.WriteFile(fmt::format("bad{}.toml", i), cases[i].toml);
    ProcessResult r = RunSluice({"serve", "--config", path, "--listen", "127.0.0.1:0", "--data",
                                 dir.path() + "/data"});
    EXPECT_EQ(r.exit_code, 2) << cases[i].toml << r.stderr_text;
    EXPECT_NE(r.stderr_text.find(cases[i].message), std::string::npos)
        << cases[i].toml << " -> " << r.stderr_text;
  }
}

}  // namespace
}  // namespace sluice::testing
