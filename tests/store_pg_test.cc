// The embedded store on PostgreSQL (docs/storage.md, "The store on PostgreSQL"): several real
// `sluice serve` processes on one throwaway PostgreSQL cluster (testing/pg_cluster.h) share one
// store. What one replica acknowledges, every replica serves, across restarts and under concurrent
// writers on both; compaction by one replica is visible to the others; retention and deletion act
// for all of them; a PostgreSQL that goes away gives 503 naming the store, and service comes back
// by itself. PgStoreDirect* tests drive store::PgStore in-process against a reference model.
//
// Every test gets its own database in the cluster. Replicas are started from the test's main
// thread; worker threads only send HTTP. Every loop is bounded in count and time.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "store/pg_store.h"
#include "common/time.h"
#include "testing/annotations.h"
#include "testing/http_client.h"
#include "testing/json.h"
#include "testing/pg_cluster.h"
#include "testing/protocol_checks.h"
#include "testing/server_process.h"

namespace sluice::testing {
namespace {

using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;
using Clock = std::chrono::steady_clock;
using TagMap = std::map<std::string, std::string>;

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;

// The start of the hour before the current one.
int64_t BaseMs() { return (NowMs() / kHour) * kHour - kHour; }

std::string AnnotationsBody(int64_t from_ms, int64_t to_ms) {
  return fmt::format(R"({{"range":{{"from":"{}","to":"{}","raw":{{"from":"now-6h","to":"now"}}}},)"
                     R"("annotation":{{"name":"events","enable":true,"query":""}}}})",
                     FormatTimestampMs(from_ms), FormatTimestampMs(to_ms));
}

std::string Pt(int64_t time_ms, double value) { return fmt::format("{}:{}", time_ms, value); }

// One `sluice serve --store <url>` with its own config; restartable.
class Replica {
 public:
  Replica(std::string url, const std::string& toml) : url_(std::move(url)) {
    config_path_ = dir_.WriteFile("sluice.toml", toml);
  }

  AssertionResult Start() {
    ServerConfig config;
    config.command = {SluiceBinaryPath(),    "serve",   "--listen", "127.0.0.1:0", "--data",
                      dir_.path() + "/data", "--store", url_,       "--config",    config_path_};
    std::string error;
    server_.reset();
    server_ = ServerProcess::Start(config, &error);
    if (!server_) return AssertionFailure() << error;
    client_ = std::make_unique<HttpClient>(server_->port());
    return AssertionSuccess();
  }

  int Stop() {
    client_.reset();
    return server_ ? server_->Stop() : -1;
  }

  uint16_t port() const { return server_->port(); }
  std::string Stderr() const { return server_ ? server_->StderrText() : ""; }

  HttpResponse Request(std::string_view method, std::string_view path) {
    return client_->Request(method, path, {}, {}, 15'000);
  }

  HttpResponse Post(std::string_view path, std::string_view body) {
    return client_->Request("POST", path, body, {{"Content-Type", "application/json"}}, 15'000);
  }

  HttpResponse WriteLines(std::string_view body, std::string_view precision = "ms") {
    return client_->Request("POST", fmt::format("/write?db=telegraf&precision={}", precision), body,
                            {{"Content-Type", "text/plain"}}, 15'000);
  }

  QueryView Query(std::string_view target, int64_t from_ms, int64_t to_ms) {
    HttpResponse r = Post("/query", RawPointsQueryBody(target, from_ms, to_ms));
    QueryView view;
    AssertionResult ok = ParseQueryResponse(r, &view);
    EXPECT_TRUE(ok) << "target " << target << " on port " << port();
    return ok ? view : QueryView();
  }

  // Points of the series `target` with exactly `tags`; empty when absent.
  std::vector<std::string> Points(std::string_view target, const TagMap& tags, int64_t from_ms,
                                  int64_t to_ms) {
    QueryView view = Query(target, from_ms, to_ms);
    for (const SeriesView& s : view.series) {
      if (s.tags == tags) return PointList(s);
    }
    return {};
  }

  std::vector<std::string> Search() {
    HttpResponse r = Post("/search", R"({"target":""})");
    EXPECT_TRUE(IsJsonArray(r)) << r.Describe();
    JsonDoc doc = JsonDoc::Parse(r.body);
    std::vector<std::string> out;
    for (JsonElement e : Elements(doc.root())) out.push_back(AsString(e).value_or("?"));
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::string url_;
  TempDir dir_;
  std::string config_path_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

class PgStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    cluster_ = PgCluster::Create(&error);
    cluster_error_ = error;
  }
  static void TearDownTestSuite() { cluster_.reset(); }

  void SetUp() override {
    ASSERT_NE(cluster_, nullptr) << cluster_error_;
    if (!cluster_->running()) {
      std::string error;
      ASSERT_TRUE(cluster_->Start(&error)) << error;
    }
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::transform(name.begin(), name.end(), name.begin(), [](char c) {
      return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    database_ = "store_" + name;
    std::vector<std::string> rows;
    std::string error;
    ASSERT_TRUE(cluster_->Exec("CREATE DATABASE " + database_, &rows, &error)) << error;
    url_ = fmt::format("postgresql://postgres@127.0.0.1:{}/{}", cluster_->port(), database_);
  }

  // One value from SQL run in this test's database.
  std::string Sql(std::string_view sql) {
    std::vector<std::string> rows;
    std::string error;
    EXPECT_TRUE(cluster_->Exec(sql, &rows, &error, database_)) << error;
    return rows.empty() ? "" : rows[0];
  }

  // Polls `done` every 100 ms for up to `limit`.
  template <typename Fn>
  static bool WaitFor(Fn done, std::chrono::milliseconds limit = std::chrono::seconds(15)) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return done();
  }

  static std::unique_ptr<PgCluster> cluster_;
  static std::string cluster_error_;
  std::string database_;
  std::string url_;
};

std::unique_ptr<PgCluster> PgStoreTest::cluster_;
std::string PgStoreTest::cluster_error_;

// The config of a replica: every request sees the catalog as it is (catalog_refresh = "0") unless
// `extra` says otherwise.
std::string ReplicaToml(std::string_view extra = "") {
  return fmt::format("[store]\n{}\n", extra.empty() ? "catalog_refresh = \"0\"" : extra);
}

TEST_F(PgStoreTest, ReplicasServeEachOthersWritesAndSurviveRestarts) {
  Replica a(url_, ReplicaToml()), b(url_, ReplicaToml());
  ASSERT_TRUE(a.Start());
  ASSERT_TRUE(b.Start());
  const int64_t t0 = BaseMs();

  HttpResponse lines = a.WriteLines(
      fmt::format("cpu,host=a usage=1.5 {0}\ncpu,host=a usage=2.5 {1}\ncpu,host=b usage=7i {1}\n",
                  t0, t0 + 10 * kSecond));
  ASSERT_EQ(lines.status, 204) << lines.Describe();
  HttpResponse json = b.Post(
      "/api/v1/write", fmt::format(R"({{"series":[{{"name":"room.temp","tags":{{"room":"lab"}},)"
                                   R"("points":[[{},21.5],["{}",22],[{},null]]}}]}})",
                                   t0, FormatTimestampMs(t0 + kMinute), t0 + 2 * kMinute));
  ASSERT_TRUE(IsJsonResponse(json, 200) || json.status == 204) << json.Describe();
  HttpResponse events = a.Post(
      "/api/v1/annotations",
      fmt::format(R"({{"time":{},"title":"deploy","text":"v2 out","tags":["deploy","api"]}})",
                  t0 + 5 * kMinute));
  ASSERT_TRUE(IsJsonResponse(events, 200)) << events.Describe();

  auto check = [&](Replica& r, const char* who) {
    SCOPED_TRACE(who);
    EXPECT_EQ(r.Search(), (std::vector<std::string>{"cpu.usage", "room.temp"}));
    EXPECT_EQ(r.Points("cpu.usage", {{"host", "a"}}, t0, t0 + kHour),
              (std::vector<std::string>{Pt(t0, 1.5), Pt(t0 + 10 * kSecond, 2.5)}));
    EXPECT_EQ(r.Points("cpu.usage", {{"host", "b"}}, t0, t0 + kHour),
              (std::vector<std::string>{Pt(t0 + 10 * kSecond, 7)}));
    EXPECT_EQ(r.Points("room.temp", {{"room", "lab"}}, t0, t0 + kHour),
              (std::vector<std::string>{Pt(t0, 21.5), Pt(t0 + kMinute, 22),
                                        fmt::format("{}:null", t0 + 2 * kMinute)}));
    std::vector<Event> got;
    EXPECT_TRUE(ParseOldAnnotations(r.Post("/annotations", AnnotationsBody(t0, t0 + kHour)), &got));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].title, "deploy");
    EXPECT_EQ(got[0].tags, (std::vector<std::string>{"deploy", "api"}));
  };
  check(a, "replica A");
  check(b, "replica B");

  // A type conflict found through the shared catalog: cpu.usage{host=b} is an integer series.
  HttpResponse conflict = a.WriteLines(fmt::format("cpu,host=b usage=1.25 {}\n", t0 + kMinute));
  EXPECT_EQ(conflict.status, 400) << conflict.Describe();
  EXPECT_NE(conflict.body.find("field type conflict"), std::string::npos) << conflict.body;

  EXPECT_EQ(a.Stop(), 0) << a.Stderr();
  EXPECT_EQ(b.Stop(), 0) << b.Stderr();
  Replica c(url_, ReplicaToml()), d(url_, ReplicaToml());
  ASSERT_TRUE(c.Start());
  ASSERT_TRUE(d.Start());
  check(c, "replica C after the restart");
  check(d, "replica D after the restart");
}

TEST_F(PgStoreTest, ConcurrentWritersOnBothReplicasLoseNoAcknowledgedBatch) {
  Replica a(url_, ReplicaToml("catalog_refresh = \"0\"\ncheckpoint_interval = \"1s\"")),
      b(url_, ReplicaToml("catalog_refresh = \"0\"\ncheckpoint_interval = \"1s\""));
  ASSERT_TRUE(a.Start());
  ASSERT_TRUE(b.Start());
  constexpr int kThreads = 4;  // two per replica
  constexpr int kBatches = 25;
  constexpr int kLines = 100;
  const int64_t t0 = BaseMs();
  const auto budget = Clock::now() + std::chrono::seconds(60);
  std::atomic<int> acknowledged{0};
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    const uint16_t port = w % 2 == 0 ? a.port() : b.port();
    threads.emplace_back([&, w, port] {
      HttpClient client(port);
      for (int batch = 0; batch < kBatches && Clock::now() < budget; ++batch) {
        std::string body;
        for (int i = 0; i < kLines; ++i) {
          int64_t t = t0 + (batch * kLines + i) * kSecond;
          body += fmt::format("load,writer=w{} v={} {}\n", w, w * 100000 + batch * kLines + i, t);
        }
        // One series every writer shares (its own timestamps), and a new series in every batch,
        // created concurrently on both replicas.
        body += fmt::format("shared v={} {}\n", w * 1000 + batch, t0 + w * kBatches + batch);
        body += fmt::format("fresh,writer=w{},batch=b{} v=1 {}\n", w, batch, t0);
        HttpResponse r = client.Request("POST", "/write?precision=ms", body,
                                        {{"Content-Type", "text/plain"}}, 15'000);
        if (r.status == 204) {
          ++acknowledged;
        } else if (failures[w].empty()) {
          failures[w] = r.Describe();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int w = 0; w < kThreads; ++w) EXPECT_EQ(failures[w], "") << "writer " << w;
  ASSERT_EQ(acknowledged.load(), kThreads * kBatches);

  for (Replica* r : {&a, &b}) {
    SCOPED_TRACE(fmt::format("replica on port {}", r->port()));
    for (int w = 0; w < kThreads; ++w) {
      std::vector<std::string> got =
          r->Points("load.v", {{"writer", fmt::format("w{}", w)}}, t0, t0 + 2 * kHour);
      ASSERT_EQ(got.size(), static_cast<size_t>(kBatches * kLines)) << "writer " << w;
      for (int n = 0; n < kBatches * kLines; n += 97) {
        EXPECT_EQ(got[n], Pt(t0 + n * kSecond, w * 100000 + n)) << "writer " << w;
      }
    }
    std::vector<std::string> shared = r->Points("shared.v", {}, t0, t0 + kHour);
    ASSERT_EQ(shared.size(), static_cast<size_t>(kThreads * kBatches));
    EXPECT_EQ(shared.back(),
              Pt(t0 + kThreads * kBatches - 1, (kThreads - 1) * 1000 + kBatches - 1));
    EXPECT_EQ(r->Query("fresh.v", t0, t0 + kHour).series.size(),
              static_cast<size_t>(kThreads * kBatches));
  }
  EXPECT_EQ(Sql("SELECT count(*) FROM sluice_series"),
            std::to_string(kThreads + 1 + kThreads * kBatches));
}

TEST_F(PgStoreTest, CompactionByOneReplicaIsVisibleToTheOther) {
  // A compacts every second; B never does (and reads what A compacted).
  Replica a(url_, ReplicaToml("catalog_refresh = \"0\"\ncheckpoint_interval = \"1s\"\n"
                              "chunk_points = 50")),
      b(url_, ReplicaToml("catalog_refresh = \"0\"\ncheckpoint_interval = \"1h\"\n"
                          "chunk_points = 50"));
  ASSERT_TRUE(a.Start());
  ASSERT_TRUE(b.Start());
  const int64_t t0 = BaseMs();
  std::map<int64_t, double> want;
  // Rounds overlap the previous ones (later rounds overwrite), land inside the last partial chunk,
  // and arrive out of order; every other round is compacted before the next one is written.
  for (int round = 0; round < 6; ++round) {
    std::string body;
    for (int i = 119; i >= 0; --i) {
      int64_t t = t0 + (round * 37 + i) * kSecond;
      double v = round * 1000 + i;
      body += fmt::format("comp v={} {}\n", v, t);
      want[t] = v;
    }
    HttpResponse r = b.WriteLines(body);
    ASSERT_EQ(r.status, 204) << r.Describe();
    if (round % 2 == 1) {
      ASSERT_TRUE(WaitFor([&] { return Sql("SELECT count(*) FROM sluice_recent") == "0"; }))
          << "replica A did not compact: " << a.Stderr();
    }
  }
  ASSERT_TRUE(WaitFor([&] { return Sql("SELECT count(*) FROM sluice_recent") == "0"; }));
  EXPECT_NE(Sql("SELECT count(*) FROM sluice_chunks"), "0");
  EXPECT_EQ(Sql("SELECT count(*) FROM sluice_chunks WHERE count > 50"), "0");
  EXPECT_EQ(Sql("SELECT sum(count) FROM sluice_chunks"), std::to_string(want.size()));
  std::vector<std::string> expected;
  for (auto [t, v] : want) expected.push_back(Pt(t, v));
  EXPECT_EQ(b.Points("comp.v", {}, t0, t0 + kHour), expected);
  EXPECT_EQ(a.Points("comp.v", {}, t0, t0 + kHour), expected);

  // A write after compaction wins over the chunk it overlaps, on both replicas, before and after
  // it is compacted too.
  ASSERT_EQ(b.WriteLines(fmt::format("comp v=-1 {}\n", t0 + 40 * kSecond)).status, 204);
  expected[40] = Pt(t0 + 40 * kSecond, -1);
  EXPECT_EQ(a.Points("comp.v", {}, t0, t0 + kHour), expected);
  ASSERT_TRUE(WaitFor([&] { return Sql("SELECT count(*) FROM sluice_recent") == "0"; }));
  EXPECT_EQ(b.Points("comp.v", {}, t0, t0 + kHour), expected);
}

TEST_F(PgStoreTest, RetentionDeletesExpiredPointsForEveryReplica) {
  // chunk_points 2 puts the old and the new points of ret.mixed in separate chunks; a
  // checkpoint_interval of 1 ms makes a replica compact on every tick, before retention.
  const std::string toml = ReplicaToml(
      "catalog_refresh = \"0\"\nretention = \"1h\"\nchunk_points = 2\n"
      "checkpoint_interval = \"1ms\"");
  const int64_t now = NowMs();
  const int64_t old_t = now - 2 * kHour, new_t = now - 10 * kMinute;
  {
    Replica writer(url_, ReplicaToml("catalog_refresh = \"0\"\ncheckpoint_interval = \"1h\""));
    ASSERT_TRUE(writer.Start());
    ASSERT_EQ(writer
                  .WriteLines(fmt::format("ret,kind=old v=1 {0}\nret,kind=old v=2 {1}\n"
                                          "ret,kind=mixed v=3 {0}\nret,kind=mixed v=4 {1}\n"
                                          "ret,kind=mixed v=5 {2}\nret,kind=mixed v=6 {3}\n",
                                          old_t, old_t + 1, new_t, new_t + 1))
                  .status,
              204);
    for (int64_t t : {old_t, new_t}) {
      ASSERT_TRUE(IsJsonResponse(
          writer.Post("/api/v1/annotations",
                      fmt::format(R"({{"time":{},"title":"e{}","text":"t"}})", t, t)),
          200));
    }
    EXPECT_EQ(writer.Stop(), 0);
  }
  Replica a(url_, toml), b(url_, ReplicaToml());
  ASSERT_TRUE(a.Start());
  ASSERT_TRUE(b.Start());
  ASSERT_TRUE(WaitFor([&] {
    return Sql(fmt::format("SELECT count(*) FROM sluice_chunks WHERE end_ms < {}", now - kHour)) ==
               "0" &&
           Sql("SELECT count(*) FROM sluice_recent") == "0" &&
           Sql("SELECT count(*) FROM sluice_annotations") == "1";
  })) << a.Stderr();
  EXPECT_EQ(b.Points("ret.v", {{"kind", "old"}}, old_t - kHour, now), std::vector<std::string>{});
  EXPECT_EQ(b.Points("ret.v", {{"kind", "mixed"}}, old_t - kHour, now),
            (std::vector<std::string>{Pt(new_t, 5), Pt(new_t + 1, 6)}));
  std::vector<Event> events;
  EXPECT_TRUE(
      ParseOldAnnotations(b.Post("/annotations", AnnotationsBody(old_t - kHour, now)), &events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].time, new_t);
}

TEST_F(PgStoreTest, DeleteOnOneReplicaHoldsForAllOfThem) {
  Replica a(url_, ReplicaToml()), b(url_, ReplicaToml());
  // C keeps its catalog for an hour: it still has the deleted series' id when it writes again.
  Replica c(url_, ReplicaToml("catalog_refresh = \"1h\""));
  ASSERT_TRUE(a.Start());
  ASSERT_TRUE(b.Start());
  ASSERT_TRUE(c.Start());
  const int64_t t0 = BaseMs();
  ASSERT_EQ(
      c.WriteLines(fmt::format("del,host=x a=1 {0}\ndel,host=y a=2 {0}\ndel b=3 {0}\n", t0)).status,
      204);
  EXPECT_EQ(a.Query("del.a", t0, t0 + kHour).series.size(), 2u);

  HttpResponse deleted =
      b.Post("/api/v1/delete",
             R"({"target":"del.a","filters":[{"key":"host","operator":"=","value":"x"}]})");
  ASSERT_TRUE(IsJsonResponse(deleted, 200)) << deleted.Describe();
  EXPECT_EQ(CanonicalJson(deleted.body), R"({"deleted":1})");
  QueryView after = a.Query("del.a", t0, t0 + kHour);
  ASSERT_EQ(after.series.size(), 1u);
  EXPECT_EQ(after.series[0].tags, (TagMap{{"host", "y"}}));

  // C writes to the series it still has cached: the store recreates it under a new id, and the
  // deleted points stay deleted.
  HttpResponse again = c.WriteLines(fmt::format("del,host=x a=9 {}\n", t0 + kMinute));
  ASSERT_EQ(again.status, 204) << again.Describe();
  EXPECT_EQ(a.Points("del.a", {{"host", "x"}}, t0, t0 + kHour),
            (std::vector<std::string>{Pt(t0 + kMinute, 9)}));

  HttpResponse rest = a.Request("DELETE", "/api/v1/series?target=del.b");
  ASSERT_TRUE(IsJsonResponse(rest, 200)) << rest.Describe();
  EXPECT_EQ(CanonicalJson(rest.body), R"({"deleted":1})");
  EXPECT_EQ(b.Search(), (std::vector<std::string>{"del.a"}));
  EXPECT_EQ(Sql("SELECT count(*) FROM sluice_recent WHERE series_id NOT IN "
                "(SELECT id FROM sluice_series)"),
            "0");
}

TEST_F(PgStoreTest, PostgresDownGives503NamingTheStoreThenServiceReturns) {
  Replica a(url_, ReplicaToml());
  ASSERT_TRUE(a.Start());
  const int64_t t0 = BaseMs();
  ASSERT_EQ(a.WriteLines(fmt::format("up v=1 {}\n", t0)).status, 204);

  std::string error;
  ASSERT_TRUE(cluster_->Stop(&error)) << error;
  const std::string store_name =
      fmt::format("postgresql://postgres@127.0.0.1:{}/{}", cluster_->port(), database_);
  HttpResponse write = a.WriteLines(fmt::format("up v=2 {}\n", t0 + kSecond));
  EXPECT_TRUE(IsJsonError(write, 503)) << write.Describe();
  EXPECT_NE(write.body.find("store: " + store_name), std::string::npos) << write.body;
  HttpResponse query = a.Post("/query", RawPointsQueryBody("up.v", t0, t0 + kHour));
  EXPECT_TRUE(IsJsonError(query, 503)) << query.Describe();
  EXPECT_NE(query.body.find(store_name), std::string::npos) << query.body;
  HttpResponse search = a.Post("/search", R"({"target":""})");
  EXPECT_TRUE(IsJsonError(search, 503)) << search.Describe();
  // Health checks do not depend on the store.
  EXPECT_EQ(a.Request("GET", "/").status, 200);

  ASSERT_TRUE(cluster_->Start(&error)) << error;
  HttpResponse again;
  ASSERT_TRUE(WaitFor([&] {
    again = a.WriteLines(fmt::format("up v=3 {}\n", t0 + 2 * kSecond));
    return again.status == 204;
  })) << again.Describe();
  EXPECT_EQ(a.Points("up.v", {}, t0, t0 + kHour),
            (std::vector<std::string>{Pt(t0, 1), Pt(t0 + 2 * kSecond, 3)}));
}

TEST_F(PgStoreTest, StartsWhilePostgresIsDownAndServesOnceItIsUp) {
  std::string error;
  ASSERT_TRUE(cluster_->Stop(&error)) << error;
  Replica a(url_, ReplicaToml());
  ASSERT_TRUE(a.Start());
  const int64_t t0 = BaseMs();
  HttpResponse write = a.WriteLines(fmt::format("late v=1 {}\n", t0));
  EXPECT_TRUE(IsJsonError(write, 503)) << write.Describe();
  ASSERT_TRUE(cluster_->Start(&error)) << error;
  HttpResponse again;
  ASSERT_TRUE(WaitFor([&] {
    again = a.WriteLines(fmt::format("late v=2 {}\n", t0));
    return again.status == 204;
  })) << again.Describe();
  EXPECT_EQ(a.Points("late.v", {}, t0, t0 + kHour), (std::vector<std::string>{Pt(t0, 2)}));
}

// --- store::PgStore in-process ------------------------------------------------------------------

store::StoreOptions DirectOptions() {
  store::StoreOptions options;
  options.background = false;
  options.chunk_points = 100;
  options.catalog_refresh_ms = 0;
  return options;
}

std::unique_ptr<store::PgStore> OpenDirect(const std::string& url, store::StoreOptions options) {
  auto opened = store::PgStore::Open(url, options);
  EXPECT_TRUE(opened.ok()) << opened.status().message();
  return opened.ok() ? std::move(opened).value() : nullptr;
}

Status WriteDirect(store::TimeSeriesStore* s, std::string_view name, const Tags& tags,
                   const std::vector<std::pair<int64_t, double>>& points,
                   store::WriteResult* result, store::ValueType type = store::ValueType::kFloat) {
  store::WriteBatch batch;
  uint32_t i = batch.AddSeries(store::SeriesKey(name, tags), type, 1);
  for (auto [t, v] : points) batch.Add(i, t, v);
  return s->Write(&batch, result);
}

std::vector<Series> FetchDirect(store::TimeSeriesStore* s, std::string_view target,
                                TimeRange range = {INT64_MIN / 2, INT64_MAX / 2}) {
  NameMatcher m = NameMatcher::Compile(target);
  std::vector<TagFilter> filters;
  FetchRequest r;
  r.matcher = &m;
  r.filters = &filters;
  r.range = range;
  FetchResult out;
  Status status = s->Fetch(r, &out);
  EXPECT_TRUE(status.ok()) << status.message();
  return out.series;
}

// The reference test of the SQLite store (store_test.cc), on PostgreSQL, with two stores on one
// database standing in for two replicas: random overlapping writes through either, compactions
// through either, and every read through either equals a map where the last write wins.
TEST_F(PgStoreTest, PgStoreDirectRandomWritesMatchAReference) {
  auto a = OpenDirect(url_, DirectOptions());
  auto b = OpenDirect(url_, DirectOptions());
  ASSERT_TRUE(a && b);
  std::mt19937_64 rng(20261123);
  std::map<int64_t, double> want;
  for (int round = 0; round < 40; ++round) {
    std::vector<std::pair<int64_t, double>> points;
    for (int i = 0; i < 100; ++i) {
      int64_t t = static_cast<int64_t>(rng() % 5000) * 10;
      double v = static_cast<double>(rng() % 1000) / 8;
      points.push_back({t, v});
      want[t] = v;  // within one batch a later duplicate wins as well
    }
    store::WriteResult result;
    store::PgStore* writer = round % 3 == 0 ? a.get() : b.get();
    ASSERT_TRUE(WriteDirect(writer, "x", {}, points, &result).ok());
    EXPECT_EQ(result.written, 100u);
    if (round % 5 == 2) {
      ASSERT_TRUE((round % 2 ? a : b)->Checkpoint().ok());
    }
    if (round % 11 == 7) b = OpenDirect(url_, DirectOptions());
  }
  for (store::PgStore* s : {a.get(), b.get()}) {
    auto series = FetchDirect(s, "x");
    ASSERT_EQ(series.size(), 1u);
    ASSERT_EQ(series[0].size(), want.size());
    size_t i = 0;
    for (auto [t, v] : want) {
      ASSERT_EQ(series[0].times_ms[i], t);
      ASSERT_EQ(series[0].values[i], v) << "at " << t;
      ++i;
    }
    auto clipped = FetchDirect(s, "x", {10'000, 10'500});
    ASSERT_EQ(clipped.size(), 1u);
    for (int64_t t : clipped[0].times_ms) EXPECT_TRUE(t >= 10'000 && t <= 10'500) << t;
  }
  ASSERT_TRUE(a->Checkpoint().ok());
  store::StoreStats stats = a->Stats();
  EXPECT_EQ(stats.head_points, 0u);
  EXPECT_EQ(stats.chunks, (want.size() + 99) / 100);
  EXPECT_GT(stats.file_bytes, 0);
}

TEST_F(PgStoreTest, PgStoreDirectTypesKeysAndDeletesAcrossStores) {
  store::StoreOptions stale = DirectOptions();
  stale.catalog_refresh_ms = 3'600'000;
  auto a = OpenDirect(url_, DirectOptions());
  auto b = OpenDirect(url_, stale);
  ASSERT_TRUE(a && b);
  store::WriteResult r1, r2;
  ASSERT_TRUE(
      WriteDirect(a.get(), "n", {{"k", "v"}}, {{1, 1}}, &r1, store::ValueType::kInteger).ok());
  ASSERT_TRUE(WriteDirect(b.get(), "n", {{"k", "v"}}, {{2, 2.5}}, &r2).ok());
  EXPECT_EQ(r2.written, 0u);
  EXPECT_EQ(r2.dropped, 1u);
  ASSERT_EQ(r2.errors.size(), 1u);
  EXPECT_EQ(r2.errors[0], "line 1: field type conflict: series \"n\" is integer, not float");

  store::WriteResult r3;
  ASSERT_TRUE(WriteDirect(a.get(), std::string(2100, 'k'), {}, {{1, 1}}, &r3).ok());
  EXPECT_EQ(r3.dropped, 1u);
  ASSERT_EQ(r3.errors.size(), 1u);
  EXPECT_NE(r3.errors[0].find("2100 bytes"), std::string::npos) << r3.errors[0];

  // b has "n" cached; a deletes it; b's next write recreates it (foreign key, reload, retry).
  NameMatcher n = NameMatcher::Compile("n");
  size_t deleted = 0;
  ASSERT_TRUE(a->DeleteSeries(n, {}, &deleted).ok());
  EXPECT_EQ(deleted, 1u);
  store::WriteResult r4;
  ASSERT_TRUE(
      WriteDirect(b.get(), "n", {{"k", "v"}}, {{3, 3}}, &r4, store::ValueType::kInteger).ok());
  EXPECT_EQ(r4.written, 1u);
  auto series = FetchDirect(a.get(), "n");
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0].times_ms, (std::vector<int64_t>{3}));
  // Again, now written with another type: b's cached type is stale, the new series is a float.
  ASSERT_TRUE(a->DeleteSeries(n, {}, &deleted).ok());
  EXPECT_EQ(deleted, 1u);
  store::WriteResult r6;
  ASSERT_TRUE(WriteDirect(b.get(), "n", {{"k", "v"}}, {{4, 4.5}}, &r6).ok());
  EXPECT_EQ(r6.written, 1u) << (r6.errors.empty() ? "" : r6.errors[0]);
  series = FetchDirect(a.get(), "n");
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0].times_ms, (std::vector<int64_t>{4}));
  EXPECT_EQ(series[0].values, (std::vector<double>{4.5}));

  // b's catalog is an hour stale for names: a series a creates now is not matched by b yet...
  store::WriteResult r5;
  ASSERT_TRUE(WriteDirect(a.get(), "brand.new", {}, {{1, 1}}, &r5).ok());
  EXPECT_TRUE(FetchDirect(b.get(), "brand.new").empty());
  // ...while a fresh store sees it at once.
  auto c = OpenDirect(url_, stale);
  ASSERT_TRUE(c);
  EXPECT_EQ(FetchDirect(c.get(), "brand.new").size(), 1u);
}

}  // namespace
}  // namespace sluice::testing
