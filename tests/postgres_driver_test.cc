// The PostgreSQL driver against a real PostgreSQL (a throwaway cluster, testing/pg_cluster.h):
// type decoding in both result formats, parameter binding, the connection pool, cancellation,
// deadlines, and recovery when the server stops and starts again.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sql/postgres_driver.h"
#include "testing/pg_cluster.h"

namespace sluice::sql {
namespace {

using Clock = std::chrono::steady_clock;
using testing::PgCluster;

int64_t MsSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

class PostgresDriverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    cluster_ = PgCluster::Create(&error).release();
    ASSERT_NE(cluster_, nullptr) << error;
    std::vector<std::string> rows;
    ASSERT_TRUE(cluster_->Exec("CREATE TABLE secrets (id int PRIMARY KEY, v text);"
                               "INSERT INTO secrets VALUES (1, 'keep me')",
                               &rows, &error))
        << error;
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    if (!cluster_->running()) {
      std::string error;
      ASSERT_TRUE(cluster_->Start(&error)) << error;
    }
  }

  static std::unique_ptr<PostgresDriver> Open(PostgresOptions options = {}) {
    options.name = "testdb";
    options.dsn = cluster_->dsn();
    auto driver = PostgresDriver::Open(std::move(options));
    EXPECT_TRUE(driver.ok()) << driver.status().ToString();
    return driver.ok() ? std::move(driver).value() : nullptr;
  }

  // Active statements other than the one asking, whose text contains `needle`.
  static int ActiveStatements(std::string_view needle) {
    std::vector<std::string> rows;
    std::string error;
    EXPECT_TRUE(cluster_->Exec(
        fmt::format("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND "
                    "pid <> pg_backend_pid() AND query LIKE '%{}%'",
                    needle),
        &rows, &error))
        << error;
    return rows.empty() ? -1 : std::stoi(rows[0]);
  }

  // Waits up to 5 s for no active statement containing `needle`; returns the last count.
  static int WaitNoActive(std::string_view needle) {
    int count = -1;
    for (int i = 0; i < 100; ++i) {
      count = ActiveStatements(needle);
      if (count == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return count;
  }

  static PgCluster* cluster_;
};

PgCluster* PostgresDriverTest::cluster_ = nullptr;

const ResultColumn* Find(const ResultSet& rs, std::string_view name) {
  for (const auto& c : rs.columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

constexpr std::string_view kTypesSql = R"sql(
  SELECT * FROM (VALUES
    (1::int2, 2::int4, 3000000000::int8, 1.5::float4, 0.1::float8, 12345.678::numeric,
     true, '2024-01-02 03:04:05.678+00'::timestamptz, '2024-01-02 03:04:05.678'::timestamp,
     '2024-01-02'::date, 'hello'::text, 'v'::varchar(5), 'nm'::name, '{"a": 1}'::jsonb,
     'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, '1 day'::interval, 'x'::char(3)),
    (-7::int2, -8::int4, -9::int8, 'NaN'::float4, '-Infinity'::float8, 'NaN'::numeric,
     false, '1969-12-31 23:59:59.999+00'::timestamptz, 'infinity'::timestamp,
     '1900-03-01'::date, 'wörld', '', '', '[]'::jsonb,
     '00000000-0000-0000-0000-000000000000'::uuid, '-2 hours'::interval, ''),
    (NULL, NULL, NULL, NULL, NULL, -0.000001234::numeric, NULL,
     '2024-06-01 12:00:00+05:30'::timestamptz, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL)
  ) AS t(i2, i4, i8, f4, f8, num, b, tstz, ts, d, txt, vc, nm, jb, id, iv, ch)
)sql";

void CheckTypes(const ResultSet& rs) {
  ASSERT_EQ(rs.rows, 3u);
  ASSERT_EQ(rs.columns.size(), 17u);
  auto num = [&](std::string_view name, size_t row) { return Find(rs, name)->numbers.at(row); };
  auto null = [&](std::string_view name, size_t row) { return Find(rs, name)->nulls.at(row) != 0; };
  auto text = [&](std::string_view name, size_t row) { return Find(rs, name)->texts.at(row); };

  EXPECT_EQ(Find(rs, "i2")->kind, ColumnKind::kNumber);
  EXPECT_EQ(Find(rs, "num")->kind, ColumnKind::kNumber);
  EXPECT_EQ(Find(rs, "b")->kind, ColumnKind::kBool);
  EXPECT_EQ(Find(rs, "tstz")->kind, ColumnKind::kTimestamp);
  EXPECT_EQ(Find(rs, "ts")->kind, ColumnKind::kTimestamp);
  EXPECT_EQ(Find(rs, "d")->kind, ColumnKind::kTimestamp);
  EXPECT_EQ(Find(rs, "txt")->kind, ColumnKind::kText);
  EXPECT_EQ(Find(rs, "jb")->kind, ColumnKind::kText);
  EXPECT_EQ(Find(rs, "id")->kind, ColumnKind::kText);
  EXPECT_EQ(Find(rs, "iv")->kind, ColumnKind::kUnknown);

  EXPECT_EQ(num("i2", 0), 1);
  EXPECT_EQ(num("i4", 0), 2);
  EXPECT_EQ(num("i8", 0), 3000000000.0);
  EXPECT_EQ(num("f4", 0), 1.5);
  EXPECT_EQ(num("f8", 0), 0.1);
  EXPECT_EQ(num("num", 0), 12345.678);
  EXPECT_EQ(num("b", 0), 1);
  EXPECT_EQ(num("tstz", 0), 1704164645678.0);
  EXPECT_EQ(num("ts", 0), 1704164645678.0);
  EXPECT_EQ(num("d", 0), 1704153600000.0);
  EXPECT_EQ(text("txt", 0), "hello");
  EXPECT_EQ(text("vc", 0), "v");
  EXPECT_EQ(text("nm", 0), "nm");
  EXPECT_EQ(text("jb", 0), R"({"a": 1})");
  EXPECT_EQ(text("id", 0), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(text("iv", 0), "1 day");
  EXPECT_EQ(text("ch", 0), "x  ");

  EXPECT_EQ(num("i2", 1), -7);
  EXPECT_EQ(num("i4", 1), -8);
  EXPECT_EQ(num("i8", 1), -9);
  EXPECT_TRUE(std::isnan(num("f4", 1)));
  EXPECT_FALSE(null("f4", 1));
  EXPECT_EQ(num("f8", 1), -HUGE_VAL);
  EXPECT_TRUE(std::isnan(num("num", 1)));
  EXPECT_EQ(num("b", 1), 0);
  EXPECT_EQ(num("tstz", 1), -1.0);
  EXPECT_TRUE(null("ts", 1)) << "infinity reads as NULL";
  EXPECT_EQ(num("d", 1), -2203891200000.0);
  EXPECT_EQ(text("txt", 1), "wörld");
  EXPECT_EQ(text("jb", 1), "[]");
  EXPECT_EQ(text("id", 1), "00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(text("iv", 1), "-02:00:00");

  for (std::string_view c : {"i2", "i4", "i8", "f4", "f8", "b", "ts", "d", "txt", "vc", "nm", "jb",
                             "id", "iv", "ch"}) {
    EXPECT_TRUE(null(c, 2)) << c;
  }
  EXPECT_FALSE(null("num", 2));
  EXPECT_EQ(num("num", 2), -0.000001234);
  EXPECT_EQ(num("tstz", 2), 1717223400000.0);
}

TEST_F(PostgresDriverTest, DecodesEveryTypeTheSameInTextAndBinary) {
  auto driver = Open();
  ASSERT_NE(driver, nullptr);
  // The first run of a statement reads text; the driver then knows every column has a binary
  // decoder except `interval`, so it keeps reading this one as text.
  for (int run = 0; run < 2; ++run) {
    ResultSet rs;
    Status s = driver->Query(kTypesSql, {}, {}, &rs);
    ASSERT_TRUE(s.ok()) << s.ToString();
    SCOPED_TRACE(run);
    CheckTypes(rs);
  }
  // Without the interval column every type decodes in binary from the second run on.
  std::string sql = "SELECT i2, i4, i8, f4, f8, num, b, tstz, ts, d, txt, vc, nm, jb, id, ch FROM (" +
                    std::string(kTypesSql) + ") AS q";
  for (int run = 0; run < 2; ++run) {
    ResultSet rs;
    Status s = driver->Query(sql, {}, {}, &rs);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(rs.rows, 3u);
    EXPECT_EQ(Find(rs, "num")->numbers[0], 12345.678);
    EXPECT_EQ(Find(rs, "num")->numbers[2], -0.000001234);
    EXPECT_EQ(Find(rs, "tstz")->numbers[1], -1.0);
    EXPECT_EQ(Find(rs, "tstz")->numbers[2], 1717223400000.0);
    EXPECT_EQ(Find(rs, "d")->numbers[1], -2203891200000.0);
    EXPECT_EQ(Find(rs, "jb")->texts[0], R"({"a": 1})");
    EXPECT_EQ(Find(rs, "id")->texts[0], "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    EXPECT_TRUE(Find(rs, "ts")->nulls[1]);
    EXPECT_TRUE(std::isnan(Find(rs, "num")->numbers[1]));
  }
}

TEST_F(PostgresDriverTest, NumericsAreCorrectlyRounded) {
  auto driver = Open();
  ASSERT_NE(driver, nullptr);
  const char* sql =
      "SELECT v FROM (VALUES (0.1::numeric), (123456789012345678901234567890.5), (1e-30), "
      "(-42), (0), (99999999.99999999), (1e300 * 1e300)) AS t(v)";
  const double want[] = {0.1, 123456789012345678901234567890.5, 1e-30, -42, 0, 99999999.99999999,
                         HUGE_VAL};
  for (int run = 0; run < 2; ++run) {
    ResultSet rs;
    Status s = driver->Query(sql, {}, {}, &rs);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(rs.rows, 7u);
    for (size_t i = 0; i < 7; ++i) EXPECT_EQ(rs.columns[0].numbers[i], want[i]) << run << " " << i;
  }
}

TEST_F(PostgresDriverTest, BindsParametersAsData) {
  auto driver = Open();
  ASSERT_NE(driver, nullptr);
  const std::string nasty = "x'; DROP TABLE secrets; -- $1 /* */ \\' \"";
  std::vector<Param> params = {Param::Int(42), Param::Double(2.5), Param::Text(nasty),
                               Param::TimestampMs(1704164645678), Param::Null(),
                               Param::Double(std::nan(""))};
  ResultSet rs;
  Status s = driver->Query(
      "SELECT $1 + 1 AS i, $2 * 2 AS d, $3::text AS t, $4 AS ts, $5::int AS n, $6 AS nan, "
      "$3 = 'x''; DROP TABLE secrets; -- $1 /* */ \\'' \"' AS same",
      params, {}, &rs);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(rs.rows, 1u);
  EXPECT_EQ(Find(rs, "i")->numbers[0], 43);
  EXPECT_EQ(Find(rs, "d")->numbers[0], 5);
  EXPECT_EQ(Find(rs, "t")->texts[0], nasty);
  EXPECT_EQ(Find(rs, "ts")->kind, ColumnKind::kTimestamp);
  EXPECT_EQ(Find(rs, "ts")->numbers[0], 1704164645678.0);
  EXPECT_TRUE(Find(rs, "n")->nulls[0]);
  EXPECT_TRUE(std::isnan(Find(rs, "nan")->numbers[0]));
  EXPECT_EQ(Find(rs, "same")->numbers[0], 1);

  // An untyped text parameter takes the type its context gives it, like a quoted literal.
  s = driver->Query("SELECT v FROM secrets WHERE id = $1", {Param::Text("1")}, {}, &rs);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(rs.rows, 1u);
  EXPECT_EQ(rs.columns[0].texts[0], "keep me");
  s = driver->Query("SELECT count(*) FROM secrets WHERE v = $1", {Param::Text(nasty)}, {}, &rs);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(rs.columns[0].numbers[0], 0);
  EXPECT_EQ(driver->TimestampPlaceholder("$3"), "$3::timestamptz");
  EXPECT_EQ(driver->RegexMatch("region", "$2"), "region ~ $2");
}

TEST_F(PostgresDriverTest, ErrorsNameTheSourceAndMapToCodes) {
  auto driver = Open();
  ASSERT_NE(driver, nullptr);
  ResultSet rs;
  Status s = driver->Query("SELEC 1", {}, {}, &rs);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("source testdb"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("syntax error"), std::string::npos) << s.message();
  s = driver->Query("SELECT $1::int", {Param::Text("abc")}, {}, &rs);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("22P02"), std::string::npos) << s.message();
  s = driver->Query("SELECT 1; SELECT 2", {}, {}, &rs);
  EXPECT_FALSE(s.ok()) << "one statement per query";
  // The connection survives statement errors.
  s = driver->Query("SELECT 1 AS one", {}, {}, &rs);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(driver->OpenConnections(), 1);
}

TEST_F(PostgresDriverTest, RowBudget) {
  auto driver = Open();
  ASSERT_NE(driver, nullptr);
  QueryOptions options;
  options.max_rows = 99;
  ResultSet rs;
  Status s = driver->Query("SELECT g FROM generate_series(1, 100) g", {}, options, &rs);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  EXPECT_NE(s.message().find("100 rows"), std::string::npos) << s.message();
  options.max_rows = 100;
  s = driver->Query("SELECT g FROM generate_series(1, 100) g", {}, options, &rs);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(rs.rows, 100u);
}

TEST_F(PostgresDriverTest, OpenTransactionsAreNotPooled) {
  auto driver = Open();
  ASSERT_NE(driver, nullptr);
  ResultSet rs;
  ASSERT_TRUE(driver->Query("BEGIN", {}, {}, &rs).ok());
  EXPECT_EQ(driver->OpenConnections(), 0) << "a connection inside a transaction is closed";
  Status s = driver->Query("SELECT 1", {}, {}, &rs);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

TEST_F(PostgresDriverTest, ExhaustedPoolIsUnavailableThenServesAgain) {
  PostgresOptions options;
  options.pool_size = 2;
  options.acquire_timeout_ms = 200;
  auto driver = Open(options);
  ASSERT_NE(driver, nullptr);
  std::vector<std::future<Status>> slow;
  for (int i = 0; i < 2; ++i) {
    slow.push_back(std::async(std::launch::async, [&] {
      ResultSet rs;
      return driver->Query("SELECT pg_sleep(2) AS pool_test", {}, {}, &rs);
    }));
  }
  // Both connections are taken once both sleeps are active.
  for (int i = 0; i < 100 && ActiveStatements("pool_test") < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ResultSet rs;
  Status s = driver->Query("SELECT 1", {}, {}, &rs);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("all 2 PostgreSQL connections are busy"), std::string::npos)
      << s.message();
  for (auto& f : slow) EXPECT_TRUE(f.get().ok());
  s = driver->Query("SELECT 1", {}, {}, &rs);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_LE(driver->OpenConnections(), 2);
}

TEST_F(PostgresDriverTest, CancelledQueryStopsOnTheServer) {
  auto driver = Open();
  ASSERT_NE(driver, nullptr);
  std::atomic<bool> cancelled{false};
  auto running = std::async(std::launch::async, [&] {
    QueryOptions options;
    options.cancelled = &cancelled;
    ResultSet rs;
    return driver->Query("SELECT pg_sleep(30) AS cancel_test", {}, options, &rs);
  });
  for (int i = 0; i < 100 && ActiveStatements("cancel_test") < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(ActiveStatements("cancel_test"), 1);
  cancelled = true;
  ASSERT_EQ(running.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  Status s = running.get();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("cancelled"), std::string::npos) << s.message();
  EXPECT_EQ(WaitNoActive("cancel_test"), 0);
  // The connection answered the cancel and is reused.
  ResultSet rs;
  EXPECT_TRUE(driver->Query("SELECT 1", {}, {}, &rs).ok());
  EXPECT_EQ(driver->OpenConnections(), 1);
}

TEST_F(PostgresDriverTest, DeadlineCancelsTheStatement) {
  auto driver = Open();
  ASSERT_NE(driver, nullptr);
  QueryOptions options;
  options.deadline = Clock::now() + std::chrono::milliseconds(300);
  ResultSet rs;
  Status s = driver->Query("SELECT pg_sleep(30) AS deadline_test", {}, options, &rs);
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s.ToString();
  EXPECT_EQ(WaitNoActive("deadline_test"), 0);
}

TEST_F(PostgresDriverTest, ServerSideStatementTimeout) {
  PostgresOptions options;
  options.statement_timeout_ms = 200;
  auto driver = Open(options);
  ASSERT_NE(driver, nullptr);
  ResultSet rs;
  Status s = driver->Query("SELECT pg_sleep(5)", {}, {}, &rs);
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s.ToString();
  EXPECT_NE(s.message().find("statement_timeout is 200 ms"), std::string::npos) << s.message();
}

TEST_F(PostgresDriverTest, InvalidConnectionString) {
  auto driver = PostgresDriver::Open({.name = "bad", .dsn = "host=x bogus_key=1"});
  EXPECT_EQ(driver.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(driver.status().message().find("source bad"), std::string::npos);
  driver = PostgresDriver::Open({.name = "bad", .dsn = ""});
  EXPECT_EQ(driver.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PostgresDriverTest, RefusedConnectionIsUnavailableAtOnce) {
  // A port nobody listens on: the cluster's own port while it is stopped.
  std::string error;
  ASSERT_TRUE(cluster_->Stop(&error)) << error;
  auto driver = Open();
  ASSERT_NE(driver, nullptr);
  const auto start = Clock::now();
  ResultSet rs;
  Status s = driver->Query("SELECT 1", {}, {}, &rs);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("source testdb: cannot connect to PostgreSQL"), std::string::npos)
      << s.message();
  EXPECT_LT(MsSince(start), 1000);
  ASSERT_TRUE(cluster_->Start(&error)) << error;
}

TEST_F(PostgresDriverTest, RecoversAfterTheServerRestarts) {
  auto driver = Open();
  ASSERT_NE(driver, nullptr);
  ResultSet rs;
  ASSERT_TRUE(driver->Query("SELECT 1", {}, {}, &rs).ok());
  ASSERT_EQ(driver->OpenConnections(), 1);

  std::string error;
  ASSERT_TRUE(cluster_->Stop(&error)) << error;
  auto start = Clock::now();
  Status s = driver->Query("SELECT 1", {}, {}, &rs);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_LT(MsSince(start), 1000);
  EXPECT_EQ(driver->OpenConnections(), 0) << "the dead pooled connection was dropped";

  ASSERT_TRUE(cluster_->Start(&error)) << error;
  // Within the retry interval the driver may still answer with the last error; then it serves.
  start = Clock::now();
  for (;;) {
    s = driver->Query("SELECT 2 AS two", {}, {}, &rs);
    if (s.ok() || MsSince(start) > 5000) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(rs.columns[0].numbers[0], 2);

  // A pooled connection that died with the server is replaced without an error to the caller.
  ASSERT_TRUE(cluster_->Stop(&error)) << error;
  ASSERT_TRUE(cluster_->Start(&error)) << error;
  s = driver->Query("SELECT 3", {}, {}, &rs);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(PostgresDriverTest, ServerStoppingMidQueryIsUnavailable) {
  auto driver = Open();
  ASSERT_NE(driver, nullptr);
  auto running = std::async(std::launch::async, [&] {
    ResultSet rs;
    return driver->Query("SELECT pg_sleep(30) AS stop_test", {}, {}, &rs);
  });
  for (int i = 0; i < 100 && ActiveStatements("stop_test") < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string error;
  ASSERT_TRUE(cluster_->Stop(&error)) << error;
  ASSERT_EQ(running.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  Status s = running.get();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("source testdb"), std::string::npos) << s.message();
  ASSERT_TRUE(cluster_->Start(&error)) << error;
}

}  // namespace
}  // namespace sluice::sql
