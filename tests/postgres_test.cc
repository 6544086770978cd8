// PostgreSQL sources end to end: a throwaway PostgreSQL cluster (testing/pg_cluster.h) loaded with
// examples/postgres/schema.sql, and the real `sluice serve` with examples/postgres/sluice.toml (the
// DSN in SLUICE_PG_DSN, as the example documents) plus two test-only sources appended to it:
// `probe`, whose targets echo every macro's bound value, and `slow` (pool_size 2), whose targets
// sleep in the database. Each response is compared with what the same SQL gives through libpq.
//
// Covered: every macro, every result shape (one series, labelled series, several value columns,
// tables, annotations, variables, tag keys and values), times as timestamptz / epoch seconds /
// epoch milliseconds, NULLs, a pool exhausted by slow statements (503, then service again), the
// database stopped and started mid-test (503 naming the source within 1 s, then service again by
// itself), a client that disconnects during a slow statement (the statement is cancelled on the
// server), the request deadline (504), and injection attempts through the target text, payload,
// ad-hoc filters and template variables (the values reach the database only as data).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "testing/http_client.h"
#include "testing/json.h"
#include "testing/pg_cluster.h"
#include "testing/protocol_checks.h"
#include "testing/server_process.h"

#ifndef SLUICE_SOURCE_DIR
#error "SLUICE_SOURCE_DIR must be defined by the build"
#endif

namespace sluice::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;

// No dots (the capture of orders.region.<x> stops at one), no glob or regex metacharacters and no
// backslash (a target text is also a name pattern, and Grafana regex-escapes variable values with
// backslashes): quotes, a statement separator, a comment and a placeholder.
constexpr std::string_view kNastyName = "eu'; DROP TABLE orders; -- $1 \"x\"";
// For values that are never patterns (payload, filters, variables): all of the above and more.
constexpr std::string_view kNastyValue = "x'); DROP TABLE orders; /* $1 */ -- ' OR '1'='1";

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t MsSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// RFC 3339 with milliseconds, UTC: "2026-11-23T20:00:00.000Z".
std::string FormatIso(int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm t{};
  ::gmtime_r(&seconds, &t);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", t.tm_year + 1900, t.tm_mon + 1,
                     t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ms % 1000);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A /query request. `payload`, `extra` (top-level members, e.g. "adhocFilters") are raw JSON.
struct QuerySpec {
  std::string target;
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  int64_t interval_ms = 1;
  int64_t max_points = 1'000'000;
  std::string payload = {};  // a JSON object, or empty
  std::string type = {};     // "table", or empty
  std::string extra = {};    // `"key": value, ...` members, or empty
};

std::string QueryBody(const QuerySpec& q) {
  std::string target = fmt::format(R"({{"refId":"A","target":{})", JsonQuote(q.target));
  if (!q.payload.empty()) target += R"(,"payload":)" + q.payload;
  if (!q.type.empty()) target += R"(,"type":)" + JsonQuote(q.type);
  target += "}";
  return fmt::format(
      R"({{"range":{{"from":"{}","to":"{}","raw":{{"from":"now-1d","to":"now"}}}},)"
      R"("intervalMs":{},"maxDataPoints":{},"targets":[{}]{}{}}})",
      FormatIso(q.from_ms), FormatIso(q.to_ms), q.interval_ms, q.max_points, target,
      q.extra.empty() ? "" : ",", q.extra);
}

class PostgresServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    cluster_ = PgCluster::Create(&error).release();
    ASSERT_NE(cluster_, nullptr) << error;
    ASSERT_TRUE(cluster_->RunSqlFile(std::string(SLUICE_SOURCE_DIR) +
                                         "/examples/postgres/schema.sql",
                                     &error))
        << error;
    ServerConfig config;
    config.demo = false;
    config.env = {{"SLUICE_PG_DSN", cluster_->dsn()}};
    config.config_toml =
        ReadFile(std::string(SLUICE_SOURCE_DIR) + "/examples/postgres/sluice.toml") + kTestSources;
    ASSERT_NE(config.config_toml.find("[[sources]]"), std::string::npos);
    server_ = ServerProcess::Start(config, &error).release();
    ASSERT_NE(server_, nullptr) << error;
  }

  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete cluster_;
    cluster_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    ASSERT_NE(server_, nullptr);
    if (!cluster_->running()) {
      std::string error;
      ASSERT_TRUE(cluster_->Start(&error)) << error;
    }
    now_ms_ = WallMs();
  }

  static HttpResponse Post(std::string_view path, std::string_view body, int timeout_ms = 30'000) {
    HttpClient client(server_->port());
    return client.Request("POST", path, body, GrafanaHeaders(), timeout_ms);
  }

  static QueryView Query(const QuerySpec& spec) {
    HttpResponse r = Post("/query", QueryBody(spec));
    QueryView view;
    EXPECT_TRUE(ParseQueryResponse(r, &view)) << QueryBody(spec);
    return view;
  }

  // Rows of `sql` through libpq, columns joined by '|'.
  static std::vector<std::string> Sql(std::string_view sql) {
    std::vector<std::string> rows;
    std::string error;
    EXPECT_TRUE(cluster_->Exec(sql, &rows, &error)) << error;
    return rows;
  }

  static int ActiveSleeps() {
    auto rows = Sql(
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND "
        "pid <> pg_backend_pid() AND query LIKE '%pg_sleep%'");
    return rows.empty() ? -1 : std::stoi(rows[0]);
  }

  static bool WaitActiveSleeps(int n, int timeout_ms = 5000) {
    const auto start = Clock::now();
    while (MsSince(start) < timeout_ms) {
      if (ActiveSleeps() == n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  }

  // `SELECT to_timestamp(ms / 1000.0)` in SQL text, for expected values computed in the test.
  static std::string Ts(int64_t ms) { return fmt::format("to_timestamp({} / 1000.0)", ms); }

  static constexpr const char* kTestSources = R"toml(

# ---- test-only sources (tests/postgres_test.cc) ----
[[sources]]
name = "probe"
kind = "postgresql"
connection = "${SLUICE_PG_DSN}"

  # Every macro's bound value as a column of one row at $__timeTo.
  [[sources.targets]]
  pattern = 'probe\.(?P<word>[a-z]+)\.(?P<num>[0-9]+)'
  type = "table"
  sql = """
    SELECT $__timeTo AS time,
           extract(epoch FROM $__timeFrom) * 1000 AS time_from_ms,
           $__unixEpochFrom AS epoch_from_s, $__unixEpochTo AS epoch_to_s,
           $__unixEpochMsFrom AS epoch_from_ms, $__unixEpochMsTo AS epoch_to_ms,
           $__interval_ms AS interval_ms, $__interval_s AS interval_s,
           $__maxDataPoints AS max_points,
           $__target::text AS target, $__capture(word)::text AS word, $__capture(2)::text AS num,
           $__payload(a.b)::text AS payload_ab, $__var(host)::text AS var_host,
           (SELECT count(*) FROM generate_series(1, 10) g
             WHERE $__unixEpochFilter(g) OR $__unixEpochMsFilter(g)) AS epoch_filters,
           (SELECT count(*) FROM (VALUES ($__timeFrom + interval '1 ms')) v(t)
             WHERE $__timeFilter(t)) AS time_filter
  """

  # The raw values of a payload array and of a variable with several values, one per row.
  [[sources.targets]]
  name = "probe.lists"
  type = "table"
  sql = """
    SELECT v::text AS v FROM unnest(ARRAY[$__payload(list)]::text[]) AS v
    UNION ALL SELECT 'var:' || v FROM unnest(ARRAY[$__var(hosts)]::text[]) AS v
  """

[[sources]]
name = "slow"
kind = "postgresql"
connection = "${SLUICE_PG_DSN}"
pool_size = 2
statement_timeout_ms = 20000

  # Sleeps payload.seconds in the database, then answers one point.
  [[sources.targets]]
  name = "sleep"
  sql = """
    SELECT $__timeTo AS time, 1 AS value
    FROM pg_sleep(coalesce($__payload(seconds)::float8, 2))
  """

[[sources]]
name = "hasty"
kind = "postgresql"
connection = "${SLUICE_PG_DSN}"
statement_timeout_ms = 500

  [[sources.targets]]
  name = "sleep.hasty"
  sql = "SELECT $__timeTo AS time, 1 AS value FROM pg_sleep(5)"
)toml";

  static PgCluster* cluster_;
  static ServerProcess* server_;
  int64_t now_ms_ = 0;
};

PgCluster* PostgresServerTest::cluster_ = nullptr;
ServerProcess* PostgresServerTest::server_ = nullptr;

// "time:value" per point ("null" for JSON null).
std::vector<std::string> Points(const SeriesView& s) {
  std::vector<std::string> out;
  for (const auto& p : s.points) {
    out.push_back(p.value ? fmt::format("{}:{}", p.time_ms, *p.value)
                          : fmt::format("{}:null", p.time_ms));
  }
  return out;
}

// The same from SQL rows "ms|value" (value "" for NULL).
std::vector<std::string> Points(const std::vector<std::string>& rows) {
  std::vector<std::string> out;
  for (const auto& row : rows) {
    size_t bar = row.find('|');
    int64_t ms = std::stoll(row.substr(0, bar));
    std::string value = row.substr(bar + 1);
    out.push_back(value.empty() ? fmt::format("{}:null", ms)
                                : fmt::format("{}:{}", ms, std::stod(value)));
  }
  return out;
}

// The series with tag key=value (and, when given, named `target`: series that share a name are
// told apart as "name{k=v}").
const SeriesView* WithTag(const QueryView& view, std::string_view key, std::string_view value,
                          std::string_view target = {}) {
  for (const auto& s : view.series) {
    auto it = s.tags.find(std::string(key));
    bool named = target.empty() || s.target == target ||
                 s.target.starts_with(std::string(target) + "{");
    if (it != s.tags.end() && it->second == value && named) {
      return &s;
    }
  }
  return nullptr;
}

// The cell of `column` in the first row of the only table, as minified JSON.
std::string Cell(const QueryView& view, std::string_view column) {
  if (view.tables.size() != 1 || view.tables[0].rows.empty()) return "<no table>";
  int c = view.tables[0].Column(column);
  return c < 0 ? "<no column>" : view.tables[0].rows[0][static_cast<size_t>(c)];
}

// ---- listing ------------------------------------------------------------------------------------

TEST_F(PostgresServerTest, TargetsAreListed) {
  HttpResponse r = Post("/search", R"({"target":""})");
  ASSERT_EQ(r.status, 200) << r.Describe();
  for (std::string_view name : {"orders.revenue", "orders.revenue_by_region", "orders.stats",
                                "orders.region.eu", "sensors.climate", "sensors.dev-1.celsius",
                                "orders.latest", "regions", "devices"}) {
    EXPECT_NE(r.body.find(JsonQuote(name)), std::string::npos) << name << " in " << r.body;
  }
  r = Post("/metrics", R"({"metric":""})");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_NE(r.body.find("orders.revenue"), std::string::npos) << r.body;
}

// ---- macros ------------------------------------------------------------------------------------

TEST_F(PostgresServerTest, EveryMacroBindsTheRequestsValues) {
  const int64_t from = 1'700'000'000'123, to = 1'700'003'600'456;
  QuerySpec q{.target = "probe.abc.42", .from_ms = from, .to_ms = to, .interval_ms = 15'000,
              .max_points = 777, .payload = R"({"a":{"b":"deep"}})"};
  q.extra = R"("scopedVars":{"host":{"text":"web-1","value":"web-1"}})";
  QueryView view = Query(q);
  ASSERT_EQ(view.tables.size(), 1u);
  EXPECT_EQ(Cell(view, "time"), std::to_string(to));
  EXPECT_EQ(Cell(view, "time_from_ms"), std::to_string(from));
  EXPECT_EQ(Cell(view, "epoch_from_s"), std::to_string(from / 1000));
  EXPECT_EQ(Cell(view, "epoch_to_s"), std::to_string(to / 1000));
  EXPECT_EQ(Cell(view, "epoch_from_ms"), std::to_string(from));
  EXPECT_EQ(Cell(view, "epoch_to_ms"), std::to_string(to));
  EXPECT_EQ(Cell(view, "interval_ms"), "15000");
  EXPECT_EQ(Cell(view, "interval_s"), "15");
  EXPECT_EQ(Cell(view, "max_points"), "777");
  EXPECT_EQ(Cell(view, "target"), "\"probe.abc.42\"");
  EXPECT_EQ(Cell(view, "word"), "\"abc\"");
  EXPECT_EQ(Cell(view, "num"), "\"42\"");
  EXPECT_EQ(Cell(view, "payload_ab"), "\"deep\"");
  EXPECT_EQ(Cell(view, "var_host"), "\"web-1\"");
  EXPECT_EQ(Cell(view, "epoch_filters"), "0");
  EXPECT_EQ(Cell(view, "time_filter"), "1");

  // Arrays bind one value each (for IN (...) lists), from the payload and multi-value variables.
  q = {.target = "probe.lists", .from_ms = from, .to_ms = to, .payload = R"({"list":["a","b"]})"};
  q.extra = R"("scopedVars":{"hosts":{"text":"x + y","value":["x","y"]}})";
  view = Query(q);
  ASSERT_EQ(view.tables.size(), 1u);
  std::vector<std::string> cells;
  for (const auto& row : view.tables[0].rows) cells.push_back(row[0]);
  EXPECT_EQ(cells, (std::vector<std::string>{"\"a\"", "\"b\"", "\"var:x\"", "\"var:y\""}));
}

// ---- result shapes -----------------------------------------------------------------------------

TEST_F(PostgresServerTest, OneSeriesMatchesTheSql) {
  // Whole hours: series are clipped to the range, so a bucket starting before it would be cut.
  const int64_t to = now_ms_ / kHour * kHour, from = to - 24 * kHour;
  QueryView view = Query({.target = "orders.revenue", .from_ms = from, .to_ms = to,
                          .interval_ms = kHour});
  ASSERT_EQ(view.series.size(), 1u);
  EXPECT_EQ(view.series[0].target, "orders.revenue");
  auto want = Sql(fmt::format(
      "SELECT (extract(epoch FROM date_bin('1 hour', created_at, TIMESTAMPTZ 'epoch')) * 1000)"
      "::bigint, sum(amount) FROM orders WHERE created_at BETWEEN {} AND {} GROUP BY 1 ORDER BY 1",
      Ts(from), Ts(to)));
  ASSERT_GE(want.size(), 24u);
  EXPECT_EQ(Points(view.series[0]), Points(want));
}

TEST_F(PostgresServerTest, TextColumnsBecomeLabels) {
  const int64_t to = now_ms_ / kHour * kHour, from = to - 6 * kHour;
  QueryView view = Query({.target = "orders.revenue_by_region", .from_ms = from, .to_ms = to,
                          .interval_ms = 10 * kMinute});
  ASSERT_EQ(view.series.size(), 4u);
  for (std::string_view region : {"eu", "us", "apac", "latam"}) {
    const SeriesView* s = WithTag(view, "region", region);
    ASSERT_NE(s, nullptr) << region;
    auto want = Sql(fmt::format(
        "SELECT (extract(epoch FROM date_bin('10 minutes', created_at, TIMESTAMPTZ 'epoch')) * "
        "1000)::bigint, sum(amount) FROM orders WHERE region = '{}' AND created_at BETWEEN {} AND "
        "{} GROUP BY 1 ORDER BY 1",
        region, Ts(from), Ts(to)));
    EXPECT_EQ(Points(*s), Points(want)) << region;
  }
}

TEST_F(PostgresServerTest, SeveralValueColumnsAreSeveralSeries) {
  const int64_t to = now_ms_ / kHour * kHour, from = to - 6 * kHour;
  QueryView view = Query({.target = "orders.stats", .from_ms = from, .to_ms = to,
                          .interval_ms = kHour});
  EXPECT_EQ(view.Targets(), (std::vector<std::string>{"avg_amount", "orders"}));
  auto counts = Sql(fmt::format(
      "SELECT (extract(epoch FROM date_bin('1 hour', created_at, TIMESTAMPTZ 'epoch')) * 1000)"
      "::bigint, count(*) FROM orders WHERE created_at BETWEEN {} AND {} GROUP BY 1 ORDER BY 1",
      Ts(from), Ts(to)));
  auto series = view.SeriesNamed("orders");
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(Points(*series[0]), Points(counts));
}

TEST_F(PostgresServerTest, LabelsTimesValueColumnsWithNulls) {
  // Find an hour that holds NULL humidities, and read it raw.
  auto null_rows = Sql("SELECT (extract(epoch FROM ts) * 1000)::bigint, device FROM readings "
                       "WHERE humidity IS NULL AND ts < now() - interval '1 hour' ORDER BY ts DESC "
                       "LIMIT 1");
  ASSERT_EQ(null_rows.size(), 1u);
  const int64_t null_ms = std::stoll(null_rows[0].substr(0, null_rows[0].find('|')));
  const std::string device = null_rows[0].substr(null_rows[0].find('|') + 1);
  const int64_t from = null_ms - 30 * kMinute, to = null_ms + 30 * kMinute;
  QueryView view = Query({.target = "sensors.climate", .from_ms = from, .to_ms = to});
  ASSERT_EQ(view.series.size(), 10u) << "5 devices x (celsius, humidity)";
  const SeriesView* humidity = WithTag(view, "device", device, "humidity");
  ASSERT_NE(humidity, nullptr);
  auto want = Sql(fmt::format(
      "SELECT (extract(epoch FROM ts) * 1000)::bigint, humidity FROM readings WHERE device = '{}' "
      "AND ts BETWEEN {} AND {} ORDER BY ts",
      device, Ts(from), Ts(to)));
  EXPECT_EQ(Points(*humidity), Points(want));
  auto points = Points(*humidity);
  EXPECT_NE(std::find(points.begin(), points.end(), fmt::format("{}:null", null_ms)),
            points.end())
      << "the NULL humidity is a null point";
}

TEST_F(PostgresServerTest, TimesAsTimestampEpochSecondsAndEpochMilliseconds) {
  const int64_t to = now_ms_ / kMinute * kMinute - kHour, from = to - 2 * kHour;
  QueryView ts = Query({.target = "sensors.climate", .from_ms = from, .to_ms = to});
  QueryView s = Query({.target = "sensors.celsius_epoch_s", .from_ms = from, .to_ms = to});
  QueryView ms = Query({.target = "sensors.celsius_epoch_ms", .from_ms = from, .to_ms = to});
  ASSERT_EQ(s.series.size(), 5u);
  ASSERT_EQ(ms.series.size(), 5u);
  for (int d = 1; d <= 5; ++d) {
    std::string device = fmt::format("dev-{}", d);
    const SeriesView* a = WithTag(ts, "device", device, "celsius");
    const SeriesView* b = WithTag(s, "device", device);
    const SeriesView* c = WithTag(ms, "device", device);
    ASSERT_TRUE(a && b && c) << device;
    EXPECT_EQ(a->points.size(), 121u) << "one reading a minute, both ends included";
    EXPECT_EQ(Points(*a), Points(*b)) << device;
    EXPECT_EQ(Points(*a), Points(*c)) << device;
  }
}

TEST_F(PostgresServerTest, CapturesPayloadVariablesAndFilters) {
  const int64_t to = now_ms_, from = to - 3 * kHour;
  // $__capture
  QueryView view = Query({.target = "orders.region.latam", .from_ms = from, .to_ms = to});
  ASSERT_EQ(view.series.size(), 1u);
  EXPECT_EQ(view.series[0].target, "orders.region.latam");
  auto want = Sql(fmt::format(
      "SELECT (extract(epoch FROM created_at) * 1000)::bigint, amount FROM orders WHERE region = "
      "'latam' AND created_at BETWEEN {} AND {} ORDER BY 1",
      Ts(from), Ts(to)));
  EXPECT_EQ(Points(view.series[0]), Points(want));

  // $__payload
  view = Query({.target = "orders.by_payload", .from_ms = from, .to_ms = to,
                .payload = R"({"product":"gizmo","min_amount":60})"});
  size_t points = 0;
  for (const auto& s : view.series) {
    for (const auto& p : s.points) EXPECT_GE(p.value.value_or(0), 60);
    points += s.points.size();
  }
  auto count = Sql(fmt::format(
      "SELECT count(*) FROM orders WHERE product = 'gizmo' AND amount >= 60 AND created_at "
      "BETWEEN {} AND {}",
      Ts(from), Ts(to)));
  EXPECT_EQ(std::to_string(points), count.at(0));

  // $__var
  QuerySpec q{.target = "sensors.repeated", .from_ms = from, .to_ms = to};
  q.extra = R"("scopedVars":{"device":{"text":"dev-3","value":"dev-3"}})";
  view = Query(q);
  ASSERT_EQ(view.series.size(), 1u);
  want = Sql(fmt::format(
      "SELECT (extract(epoch FROM ts) * 1000)::bigint, celsius FROM readings WHERE device = "
      "'dev-3' AND ts BETWEEN {} AND {} ORDER BY 1",
      Ts(from), Ts(to)));
  EXPECT_EQ(Points(view.series[0]), Points(want));

  // $__filters
  q = {.target = "orders.revenue_by_region", .from_ms = from, .to_ms = to, .interval_ms = kHour};
  q.extra = R"("adhocFilters":[{"key":"region","operator":"=","value":"us"}])";
  view = Query(q);
  ASSERT_EQ(view.series.size(), 1u);
  EXPECT_EQ(view.series[0].tags["region"], "us");
  q.extra = R"j("adhocFilters":[{"key":"region","operator":"=~","value":"(eu|apac)"}])j";
  view = Query(q);
  ASSERT_EQ(view.series.size(), 2u);
  EXPECT_NE(WithTag(view, "region", "eu"), nullptr);
  EXPECT_NE(WithTag(view, "region", "apac"), nullptr);
}

TEST_F(PostgresServerTest, TableTarget) {
  const int64_t to = now_ms_, from = to - kHour;
  QueryView view = Query({.target = "orders.latest", .from_ms = from, .to_ms = to});
  ASSERT_EQ(view.tables.size(), 1u);
  const TableView& t = view.tables[0];
  EXPECT_EQ(t.columns, (std::vector<std::pair<std::string, std::string>>{
                           {"time", "time"}, {"region", "string"}, {"product", "string"},
                           {"amount", "number"}}));
  auto want = Sql(fmt::format(
      "SELECT (extract(epoch FROM created_at) * 1000)::bigint, region, product, amount FROM "
      "orders WHERE created_at BETWEEN {} AND {} ORDER BY created_at DESC LIMIT 100",
      Ts(from), Ts(to)));
  ASSERT_EQ(t.rows.size(), want.size());
  ASSERT_FALSE(want.empty());
  const std::vector<std::string>& first = t.rows[0];
  ASSERT_EQ(first.size(), 4u);
  const std::string& w = want[0];
  size_t a = w.find('|'), b = w.find('|', a + 1), c = w.find('|', b + 1);
  std::string expected = fmt::format("{}|\"{}\"|\"{}\"|{}", w.substr(0, a),
                                     w.substr(a + 1, b - a - 1), w.substr(b + 1, c - b - 1),
                                     std::stod(w.substr(c + 1)));
  EXPECT_EQ(fmt::format("{}|{}|{}|{}", first[0], first[1], first[2], first[3]), expected);
}

TEST_F(PostgresServerTest, Annotations) {
  const int64_t to = now_ms_ + kHour, from = to - 48 * kHour;
  std::string body = fmt::format(
      R"({{"range":{{"from":"{}","to":"{}"}},"annotation":{{"name":"Deploys","enable":true,)"
      R"("query":"deploys"}}}})",
      FormatIso(from), FormatIso(to));
  HttpResponse r = Post("/annotations", body);
  ASSERT_EQ(r.status, 200) << r.Describe();
  JsonDoc doc = JsonDoc::Parse(r.body);
  ASSERT_TRUE(doc.ok()) << doc.error();
  auto events = Elements(doc.root());
  auto want = Sql(fmt::format(
      "SELECT (extract(epoch FROM started_at) * 1000)::bigint, "
      "coalesce((extract(epoch FROM finished_at) * 1000)::bigint, 0), service || ' ' || version, "
      "'deployed by ' || author, array_to_string(tags, ',') FROM deploys WHERE started_at <= {} "
      "AND coalesce(finished_at, started_at) >= {} ORDER BY started_at",
      Ts(to), Ts(from)));
  ASSERT_EQ(events.size(), want.size()) << r.body;
  ASSERT_GE(events.size(), 8u);
  std::set<std::string> got, expected;
  for (auto e : events) {
    std::string tags;
    for (auto t : Elements(*Field(e, "tags"))) tags += (tags.empty() ? "" : ",") + *AsString(t);
    int64_t time = *IntField(e, "time"), end = *IntField(e, "timeEnd");
    got.insert(fmt::format("{}|{}|{}|{}|{}", time, end == time ? 0 : end,
                           *StringField(e, "title"), *StringField(e, "text"), tags));
  }
  for (const auto& row : want) expected.insert(row);
  EXPECT_EQ(got, expected);
}

TEST_F(PostgresServerTest, VariablesAndTags) {
  HttpResponse r = Post("/variable", R"({"payload":{"target":"regions"}})");
  ASSERT_EQ(r.status, 200) << r.Describe();
  JsonDoc doc = JsonDoc::Parse(r.body);
  ASSERT_TRUE(doc.ok());
  std::vector<std::string> values;
  for (auto e : Elements(doc.root())) values.push_back(StringField(e, "__text").value_or("?"));
  EXPECT_EQ(values, (std::vector<std::string>{"apac", "eu", "latam", "us"}));

  r = Post("/search", R"({"target":"devices"})");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(CanonicalJson(r.body), R"(["dev-1","dev-2","dev-3","dev-4","dev-5"])");

  r = Post("/tag-keys", "{}");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_NE(r.body.find(R"("region")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("product")"), std::string::npos) << r.body;
  r = Post("/tag-values", R"({"key":"product"})");
  ASSERT_EQ(r.status, 200) << r.Describe();
  for (std::string_view p : {"gadget", "gizmo", "widget"}) {
    EXPECT_NE(r.body.find(JsonQuote(p)), std::string::npos) << r.body;
  }
}

// ---- injection ---------------------------------------------------------------------------------

TEST_F(PostgresServerTest, RequestValuesReachTheDatabaseOnlyAsData) {
  const int64_t to = now_ms_, from = to - kHour;
  const int64_t at = to - 10 * kMinute;
  auto quote = [](std::string_view s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  };
  ASSERT_EQ(Sql(fmt::format("INSERT INTO orders (created_at, region, product, amount) VALUES "
                            "({0}, {1}, 'widget', 12.5), ({0}, 'eu', {2}, 77.25) RETURNING 1",
                            Ts(at), quote(kNastyName), quote(kNastyValue)))
                .size(),
            2u);
  ASSERT_EQ(Sql(fmt::format("INSERT INTO readings VALUES ({}, 0, 0, {}, 99.5, NULL) RETURNING 1",
                            Ts(at), quote(kNastyValue)))
                .size(),
            1u);
  const std::string orders_before = Sql("SELECT count(*) FROM orders").at(0);

  // The target text, through a pattern's capture.
  const std::string target = "orders.region." + std::string(kNastyName);
  QueryView view = Query({.target = target, .from_ms = from, .to_ms = to});
  ASSERT_EQ(view.series.size(), 1u);
  EXPECT_EQ(Points(view.series[0]), (std::vector<std::string>{fmt::format("{}:12.5", at)}));

  // A payload value.
  view = Query({.target = "orders.by_payload", .from_ms = from, .to_ms = to,
                .payload = fmt::format(R"({{"product":{}}})", JsonQuote(kNastyValue))});
  ASSERT_EQ(view.series.size(), 1u);
  EXPECT_EQ(Points(view.series[0]), (std::vector<std::string>{fmt::format("{}:77.25", at)}));

  // An ad-hoc filter value.
  QuerySpec q{.target = "orders.revenue_by_region", .from_ms = from, .to_ms = to,
              .interval_ms = kHour};
  q.extra = fmt::format(R"("adhocFilters":[{{"key":"region","operator":"=","value":{}}}])",
                        JsonQuote(kNastyName));
  view = Query(q);
  ASSERT_EQ(view.series.size(), 1u);
  EXPECT_EQ(view.series[0].tags["region"], kNastyName);

  // A template variable.
  q = {.target = "sensors.repeated", .from_ms = from, .to_ms = to};
  q.extra = fmt::format(R"("scopedVars":{{"device":{{"text":"x","value":{}}}}})",
                        JsonQuote(kNastyValue));
  view = Query(q);
  ASSERT_EQ(view.series.size(), 1u);
  EXPECT_EQ(Points(view.series[0]), (std::vector<std::string>{fmt::format("{}:99.5", at)}));

  // Nothing was dropped or changed.
  EXPECT_EQ(Sql("SELECT count(*) FROM orders").at(0), orders_before);
  EXPECT_EQ(Sql("SELECT count(*) FROM pg_tables WHERE tablename IN ('orders', 'readings', "
                "'deploys')")
                .at(0),
            "3");
  Sql(fmt::format("DELETE FROM orders WHERE region = {} OR product = {}", quote(kNastyName),
                  quote(kNastyValue)));
  Sql(fmt::format("DELETE FROM readings WHERE device = {}", quote(kNastyValue)));
}

// ---- pool, deadline, cancellation, outage -------------------------------------------------------

std::string SleepBody(double seconds) {
  const int64_t now = WallMs();
  return QueryBody({.target = "sleep", .from_ms = now - kHour, .to_ms = now,
                    .payload = fmt::format(R"({{"seconds":{}}})", seconds)});
}

TEST_F(PostgresServerTest, ExhaustedPoolIs503ThenServesAgain) {
  std::vector<std::future<HttpResponse>> slow;
  for (int i = 0; i < 2; ++i) {
    // Long enough that the third request's 1 s wait for a connection ends before they do.
    slow.push_back(std::async(std::launch::async, [] { return Post("/query", SleepBody(4)); }));
  }
  ASSERT_TRUE(WaitActiveSleeps(2));
  HttpResponse r = Post("/query", SleepBody(0));
  ASSERT_TRUE(IsJsonError(r, 503)) << r.Describe();
  EXPECT_NE(r.body.find("source slow: all 2 PostgreSQL connections are busy"), std::string::npos)
      << r.body;
  for (auto& f : slow) EXPECT_EQ(f.get().status, 200);
  r = Post("/query", SleepBody(0));
  EXPECT_EQ(r.status, 200) << r.Describe();
  // Other sources have pools of their own.
  EXPECT_EQ(Post("/query", QueryBody({.target = "orders.revenue", .from_ms = now_ms_ - kHour,
                                      .to_ms = now_ms_, .interval_ms = kMinute}))
                .status,
            200);
}

TEST_F(PostgresServerTest, StatementTimeoutIs504) {
  const auto start = Clock::now();
  HttpResponse r = Post("/query", QueryBody({.target = "sleep.hasty", .from_ms = now_ms_ - kHour,
                                             .to_ms = now_ms_}));
  ASSERT_TRUE(IsJsonError(r, 504)) << r.Describe();
  EXPECT_NE(r.body.find("hasty"), std::string::npos) << r.body;
  EXPECT_LT(MsSince(start), 3000);
  EXPECT_TRUE(WaitActiveSleeps(0));
}

TEST_F(PostgresServerTest, ClientDisconnectCancelsTheStatement) {
  for (bool reset : {false, true}) {
    SCOPED_TRACE(reset ? "RST" : "FIN");
    RawConnection conn;
    std::string error;
    ASSERT_TRUE(conn.Connect(server_->port(), &error)) << error;
    ASSERT_TRUE(conn.Send(BuildRequest("POST", "/query", "127.0.0.1", GrafanaHeaders(),
                                       SleepBody(30)),
                          &error))
        << error;
    ASSERT_TRUE(WaitActiveSleeps(1));
    const auto start = Clock::now();
    if (reset) {
      conn.Abort();
    } else {
      conn.Close();
    }
    EXPECT_TRUE(WaitActiveSleeps(0, 5000)) << "the statement still runs after the client left";
    EXPECT_LT(MsSince(start), 2000);
  }
  // The server and the pool are fine afterwards.
  EXPECT_EQ(Post("/query", SleepBody(0)).status, 200);
}

TEST_F(PostgresServerTest, DatabaseDownIs503ThenRecoversByItself) {
  const auto body = QueryBody({.target = "orders.revenue", .from_ms = now_ms_ - kHour,
                               .to_ms = now_ms_, .interval_ms = kMinute});
  ASSERT_EQ(Post("/query", body).status, 200);
  std::string error;
  ASSERT_TRUE(cluster_->Stop(&error)) << error;
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    HttpResponse r = Post("/query", body);
    EXPECT_LT(MsSince(start), 1000);
    ASSERT_TRUE(IsJsonError(r, 503)) << r.Describe();
    EXPECT_NE(r.body.find("source shop"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("cannot connect to PostgreSQL"), std::string::npos) << r.body;
  }
  // Health checks do not touch the database.
  HttpClient client(server_->port());
  EXPECT_EQ(client.Request("GET", "/").status, 200);

  ASSERT_TRUE(cluster_->Start(&error)) << error;
  const auto start = Clock::now();
  HttpResponse r;
  while (MsSince(start) < 5000) {
    r = Post("/query", body);
    if (r.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(r.status, 200) << r.Describe();
  QueryView view;
  EXPECT_TRUE(ParseQueryResponse(r, &view));
  EXPECT_EQ(view.series.size(), 1u);
}

TEST_F(PostgresServerTest, DatabaseStoppingMidQueryIs503) {
  auto running = std::async(std::launch::async, [] { return Post("/query", SleepBody(30)); });
  ASSERT_TRUE(WaitActiveSleeps(1));
  std::string error;
  ASSERT_TRUE(cluster_->Stop(&error)) << error;
  ASSERT_EQ(running.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  HttpResponse r = running.get();
  EXPECT_TRUE(IsJsonError(r, 503)) << r.Describe();
  EXPECT_NE(r.body.find("source slow"), std::string::npos) << r.body;
  ASSERT_TRUE(cluster_->Start(&error)) << error;
}

}  // namespace
}  // namespace sluice::testing
