#include "sql/sqlite_driver.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <thread>

namespace sluice::sql {
namespace {

constexpr int64_t kT0 = 1'714'564'800'000;  // 2024-05-01T12:00:00Z

// A SQLite file in a private temporary directory, written through the C API.
class TempDb {
 public:
  TempDb() {
    char tmpl[] = "/tmp/sluice-sqlite-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/test.db";
  }
  ~TempDb() { std::filesystem::remove_all(dir_); }
  const std::string& path() const { return path_; }
  const std::string& dir() const { return dir_; }

  void Exec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    sqlite3_exec(db, "PRAGMA synchronous=OFF", nullptr, nullptr, nullptr);
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "") << " in " << sql;
    sqlite3_free(error);
    sqlite3_close(db);
  }

 private:
  std::string dir_;
  std::string path_;
};

std::unique_ptr<SqliteDriver> MakeDriver(const std::string& path, std::string time_format = "iso",
                                         int pool_size = 4) {
  SourceConfig config;
  config.name = "test";
  config.kind = "sqlite";
  config.path = path;
  config.time_format = std::move(time_format);
  config.pool_size = pool_size;
  auto driver = SqliteDriver::Make(config);
  EXPECT_TRUE(driver.ok()) << driver.status().ToString();
  return std::move(driver).value();
}

Result<ResultSet> RunSql(Driver* driver, std::string_view sql, const std::vector<Param>& params = {},
                      QueryOptions options = {}) {
  ResultSet rs;
  SLUICE_RETURN_IF_ERROR(driver->Query(sql, params, options, &rs));
  return rs;
}

class SqliteDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.Exec(
        "CREATE TABLE readings (ts TIMESTAMP, epoch INTEGER, device VARCHAR(20), celsius REAL, "
        "ok BOOLEAN, note TEXT, raw);"
        "INSERT INTO readings VALUES ('2024-05-01T12:00:00Z', 1714564800, 'd1', 20.5, 1, 'a', 1);"
        "INSERT INTO readings VALUES ('2024-05-01 12:01:00', 1714564860, 'd2', NULL, 0, NULL, "
        "'x');"
        "INSERT INTO readings VALUES (1714564920000, 1714564920, 'd1', 'n/a', 'true', 'c', "
        "NULL);");
  }
  TempDb db_;
};

TEST_F(SqliteDriverTest, DeclaredTypesMapToKinds) {
  auto driver = MakeDriver(db_.path());
  auto rs = RunSql(driver.get(), "SELECT ts, epoch, device, celsius, ok, note FROM readings ORDER BY epoch");
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  ASSERT_EQ(rs->rows, 3u);
  ASSERT_EQ(rs->columns.size(), 6u);
  const auto& c = rs->columns;
  EXPECT_EQ(c[0].name, "ts");
  EXPECT_EQ(c[0].kind, ColumnKind::kTimestamp);
  EXPECT_EQ(c[0].numbers, (std::vector<double>{kT0, kT0 + 60'000, kT0 + 120'000}));
  EXPECT_EQ(c[1].kind, ColumnKind::kNumber);
  EXPECT_EQ(c[1].numbers[0], 1714564800);
  EXPECT_EQ(c[2].kind, ColumnKind::kText);
  EXPECT_EQ(c[2].texts, (std::vector<std::string>{"d1", "d2", "d1"}));
  EXPECT_EQ(c[3].kind, ColumnKind::kNumber);
  EXPECT_EQ(c[3].nulls, (std::vector<uint8_t>{0, 1, 1}));  // NULL, and text that is no number
  EXPECT_EQ(c[4].kind, ColumnKind::kBool);
  EXPECT_EQ(c[4].numbers, (std::vector<double>{1, 0, 1}));
  EXPECT_EQ(c[5].kind, ColumnKind::kText);
  EXPECT_EQ(c[5].nulls, (std::vector<uint8_t>{0, 1, 0}));
}

TEST_F(SqliteDriverTest, ExpressionsTakeTheKindOfTheirFirstValue) {
  auto driver = MakeDriver(db_.path());
  auto rs = RunSql(driver.get(),
                "SELECT epoch * 1000 AS t, upper(device) AS d, "
                "CASE WHEN epoch > 1714564800 THEN epoch END AS late, raw, "
                "NULL AS empty_col FROM readings ORDER BY epoch");
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  const auto& c = rs->columns;
  EXPECT_EQ(c[0].kind, ColumnKind::kNumber);
  EXPECT_EQ(c[1].kind, ColumnKind::kText);
  EXPECT_EQ(c[2].kind, ColumnKind::kNumber);  // decided by the second row
  EXPECT_EQ(c[2].numbers.size(), 3u);
  EXPECT_EQ(c[2].nulls, (std::vector<uint8_t>{1, 0, 0}));
  EXPECT_EQ(c[3].kind, ColumnKind::kNumber);  // undeclared: 1, then 'x' (not a number), NULL
  EXPECT_EQ(c[3].nulls, (std::vector<uint8_t>{0, 1, 1}));
  EXPECT_EQ(c[4].kind, ColumnKind::kUnknown);
  EXPECT_EQ(c[4].texts.size(), 3u);
  EXPECT_EQ(c[4].nulls, (std::vector<uint8_t>{1, 1, 1}));
}

TEST_F(SqliteDriverTest, BindsNumberedParametersByName) {
  auto driver = MakeDriver(db_.path());
  auto rs = RunSql(driver.get(), "SELECT $2, $1, $1 || 'x', $3, $4, $5",
                {Param::Text("a"), Param::Int(7), Param::Double(2.5), Param::Null(),
                 Param::Text("it's; -- /* $1")});
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  EXPECT_EQ(rs->columns[0].numbers[0], 7);
  EXPECT_EQ(rs->columns[1].texts[0], "a");
  EXPECT_EQ(rs->columns[2].texts[0], "ax");
  EXPECT_EQ(rs->columns[3].numbers[0], 2.5);
  EXPECT_EQ(rs->columns[4].nulls[0], 1);
  EXPECT_EQ(rs->columns[5].texts[0], "it's; -- /* $1");

  auto missing = RunSql(driver.get(), "SELECT $1, $2", {Param::Int(1)});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("\"$2\" has no value"), std::string::npos);
}

TEST_F(SqliteDriverTest, TimestampParamsFollowTimeFormat) {
  const std::pair<const char*, std::string> cases[] = {
      {"iso", "2024-05-01T12:00:00.250Z"},
      {"sqlite", "2024-05-01 12:00:00.250"},
      {"epoch_s", "1714564800"},
      {"epoch_ms", "1714564800250"},
  };
  for (const auto& [format, expected] : cases) {
    auto driver = MakeDriver(db_.path(), format);
    auto rs = RunSql(driver.get(), "SELECT CAST($1 AS TEXT)", {Param::TimestampMs(kT0 + 250)});
    ASSERT_TRUE(rs.ok()) << rs.status().ToString();
    EXPECT_EQ(rs->columns[0].texts[0], expected) << format;
  }
  auto driver = MakeDriver(db_.path(), "sqlite");
  auto rs = RunSql(driver.get(), "SELECT $1", {Param::TimestampMs(kT0)});
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ(rs->columns[0].texts[0], "2024-05-01 12:00:00");  // whole seconds: no fraction

  SourceConfig bad;
  bad.path = db_.path();
  bad.time_format = "rfc";
  EXPECT_FALSE(SqliteDriver::Make(bad).ok());
}

TEST_F(SqliteDriverTest, OpensReadOnly) {
  auto driver = MakeDriver(db_.path());
  auto rs = RunSql(driver.get(), "DELETE FROM readings");
  ASSERT_FALSE(rs.ok());
  EXPECT_NE(rs.status().message().find("readonly"), std::string::npos) << rs.status().message();
  rs = RunSql(driver.get(), "SELECT count(*) FROM readings");
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ(rs->columns[0].numbers[0], 3);
}

TEST(SqliteDriver, MissingFileIsUnavailableUntilItExists) {
  TempDb db;
  auto driver = MakeDriver(db.path());
  auto rs = RunSql(driver.get(), "SELECT 1");
  ASSERT_FALSE(rs.ok());
  EXPECT_EQ(rs.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(rs.status().message().find(db.path()), std::string::npos) << rs.status().message();
  EXPECT_FALSE(std::filesystem::exists(db.path()));  // read-only never creates it

  db.Exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (5);");
  rs = RunSql(driver.get(), "SELECT x FROM t");
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  EXPECT_EQ(rs->columns[0].numbers[0], 5);
}

TEST_F(SqliteDriverTest, PathsWithUriCharacters) {
  TempDb db;
  std::string odd = db.dir() + "/we?ird#na%me.db";
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(odd.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "CREATE TABLE t (x); INSERT INTO t VALUES (9);", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  auto driver = MakeDriver(odd);
  auto rs = RunSql(driver.get(), "SELECT x FROM t");
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  EXPECT_EQ(rs->columns[0].numbers[0], 9);
}

TEST_F(SqliteDriverTest, BadStatementNamesTheFile) {
  auto driver = MakeDriver(db_.path());
  auto rs = RunSql(driver.get(), "SELEC 1");
  ASSERT_FALSE(rs.ok());
  EXPECT_EQ(rs.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(rs.status().message().find(db_.path()), std::string::npos);
  EXPECT_NE(rs.status().message().find("syntax error"), std::string::npos);
}

TEST_F(SqliteDriverTest, MaxRows) {
  auto driver = MakeDriver(db_.path());
  QueryOptions options;
  options.max_rows = 3;
  EXPECT_TRUE(RunSql(driver.get(), "SELECT * FROM readings", {}, options).ok());
  options.max_rows = 2;
  auto rs = RunSql(driver.get(), "SELECT * FROM readings", {}, options);
  ASSERT_FALSE(rs.ok());
  EXPECT_EQ(rs.status().code(), StatusCode::kResourceExhausted);
}

// A statement that would run for minutes unless interrupted.
constexpr const char* kEndless =
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000000000) "
    "SELECT count(*) FROM n";

TEST_F(SqliteDriverTest, DeadlineInterruptsTheStatement) {
  auto driver = MakeDriver(db_.path());
  QueryOptions options;
  options.deadline = std::chrono::steady_clock::now();
  auto rs = RunSql(driver.get(), kEndless, {}, options);
  ASSERT_FALSE(rs.ok());
  EXPECT_EQ(rs.status().code(), StatusCode::kDeadlineExceeded) << rs.status().ToString();
  // The connection is usable afterwards.
  EXPECT_TRUE(RunSql(driver.get(), "SELECT 1").ok());
}

TEST_F(SqliteDriverTest, CancellationInterruptsTheStatement) {
  auto driver = MakeDriver(db_.path(), "iso", 1);
  std::atomic<bool> cancelled{false};
  QueryOptions options;
  options.cancelled = &cancelled;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    cancelled = true;
  });
  auto rs = RunSql(driver.get(), kEndless, {}, options);
  canceller.join();
  ASSERT_FALSE(rs.ok());
  EXPECT_NE(rs.status().message().find("cancelled"), std::string::npos) << rs.status().ToString();
  EXPECT_TRUE(RunSql(driver.get(), "SELECT 1").ok());
}

TEST_F(SqliteDriverTest, RegexpFunction) {
  auto driver = MakeDriver(db_.path());
  EXPECT_EQ(driver->RegexMatch("device", "$1"), "device REGEXP $1");
  auto rs = RunSql(driver.get(), "SELECT device FROM readings WHERE device REGEXP $1 ORDER BY epoch",
                {Param::Text("^(?:d[2-9])$")});
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  EXPECT_EQ(rs->columns[0].texts, std::vector<std::string>{"d2"});
  auto bad = RunSql(driver.get(), "SELECT 'a' REGEXP $1", {Param::Text("(")});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("invalid regex"), std::string::npos);
}

TEST_F(SqliteDriverTest, ManyReadersShareASmallPool) {
  auto driver = MakeDriver(db_.path(), "iso", 2);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        auto rs = RunSql(driver.get(), "SELECT count(*) + $1 FROM readings", {Param::Int(t)});
        if (rs.ok() && rs->columns[0].numbers[0] == 3 + t) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 120);
}

}  // namespace
}  // namespace sluice::sql
