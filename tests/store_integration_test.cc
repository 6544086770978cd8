// The embedded store through HTTP, end to end: what goes in through the ingest endpoints
// (docs/storage.md, "Ingest formats") comes back out of /query, /search, /tag-keys, /tag-values
// and the annotation endpoints, survives restarts and crashes, expires with the retention, and
// holds up under concurrent writers and readers. `sluice import` is tested here too.
//
// Every test starts its own `sluice serve` (no --demo) on 127.0.0.1:0 with a private data
// directory, so /search lists exactly what the test wrote. Servers that must be restarted on the
// same directory are started with an explicit command line (ServerConfig::command), since
// ServerProcess otherwise picks a fresh directory. Timestamps are relative to the wall clock (an
// hour or so in the past), so the default 30-day retention never touches them.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
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
using Clock = std::chrono::steady_clock;
using TagMap = std::map<std::string, std::string>;

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;

// The start of the hour before the current one: the base of most tests' timestamps (a whole
// hour, so every line-protocol precision can express it).
int64_t BaseMs() { return (NowMs() / kHour) * kHour - kHour; }

std::string Pt(int64_t time_ms, double value) { return fmt::format("{}:{}", time_ms, value); }
std::string NullPt(int64_t time_ms) { return fmt::format("{}:null", time_ms); }

std::string DescribeTags(const TagMap& tags) {
  std::string out = "{";
  for (const auto& [k, v] : tags) out += (out.size() > 1 ? "," : "") + k + "=" + v;
  return out + "}";
}

// The series of `view` whose tags are exactly `tags`, or null.
const SeriesView* WithTags(const QueryView& view, const TagMap& tags) {
  const SeriesView* found = nullptr;
  for (const SeriesView& s : view.series) {
    if (s.tags == tags) {
      EXPECT_EQ(found, nullptr) << "two series with tags " << DescribeTags(tags);
      found = &s;
    }
  }
  return found;
}

// Sends exact bytes on a fresh connection and reads one response; a server that answers 413 may
// close before it has read the whole body, so a failed send still reads what came back.
HttpResponse RawExchange(uint16_t port, const std::string& bytes) {
  RawConnection c;
  std::string error;
  HttpResponse failed;
  if (!c.Connect(port, &error)) {
    failed.error = error;
    return failed;
  }
  if (!c.Send(bytes, &error)) {
    HttpResponse early = c.ReadResponse(false, 5'000);
    if (early.status != 0) return early;
    failed.error = error;
    return failed;
  }
  return c.ReadResponse(false, 30'000);
}

// A `sluice serve` on a data directory that outlives the process, so it can be restarted (after
// SIGTERM or SIGKILL) on the same store. The config file, when given, sits beside the data.
class StoreServer {
 public:
  explicit StoreServer(const std::string& toml = "") : data_dir_(dir_.path() + "/data") {
    if (!toml.empty()) config_path_ = dir_.WriteFile("sluice.toml", toml);
  }

  // Starts (or restarts) the server on the data directory. Call from the test's main thread.
  AssertionResult Start() {
    if (server_ && server_->Alive()) return AssertionFailure() << "already running";
    ServerConfig config;
    config.command = {SluiceBinaryPath(), "serve", "--listen", "127.0.0.1:0", "--data", data_dir_};
    if (!config_path_.empty()) {
      config.command.push_back("--config");
      config.command.push_back(config_path_);
    }
    std::string error;
    server_.reset();
    server_ = ServerProcess::Start(config, &error);
    if (!server_) return AssertionFailure() << error;
    client_ = std::make_unique<HttpClient>(server_->port());
    return AssertionSuccess();
  }

  // SIGTERM; the exit code (0 for a clean stop).
  int Stop() {
    client_.reset();
    return server_ ? server_->Stop() : -1;
  }

  // SIGKILL, as a crash: nothing runs in the server after this.
  void Kill() {
    client_.reset();
    if (!server_) return;
    server_->Signal(SIGKILL);
    server_->WaitExit(10'000);
  }

  ServerProcess* process() { return server_.get(); }
  uint16_t port() const { return server_->port(); }
  HttpClient& client() { return *client_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& config_path() const { return config_path_; }
  std::string Stderr() const { return server_ ? server_->StderrText() : ""; }

  HttpResponse Post(std::string_view path, std::string_view body, Headers headers = {}) {
    if (headers.empty()) headers = {{"Content-Type", "application/json"}};
    return client_->Request("POST", path, body, headers);
  }

  // POSTs line protocol as Telegraf's influxdb output does.
  HttpResponse WriteLines(std::string_view body, std::string_view precision = "") {
    std::string path = "/write?db=telegraf";
    if (!precision.empty()) path += fmt::format("&precision={}", precision);
    return client_->Request("POST", path, body,
                            {{"Content-Type", "text/plain; charset=utf-8"},
                             {"User-Agent", "Telegraf/1.28.5 Go/1.21.4"}});
  }

  // POSTs /query for one target; records a failure (and returns an empty view) when the response
  // is not a well-formed /query answer (which includes datapoints ascending and unique).
  QueryView Query(std::string_view target, int64_t from_ms, int64_t to_ms) {
    HttpResponse r = Post("/query", RawPointsQueryBody(target, from_ms, to_ms));
    QueryView view;
    AssertionResult ok = ParseQueryResponse(r, &view);
    EXPECT_TRUE(ok) << "target " << target;
    return ok ? view : QueryView();
  }

  // The points of the one series named by `target` with exactly `tags`; empty when absent.
  std::vector<std::string> Points(std::string_view target, const TagMap& tags, int64_t from_ms,
                                  int64_t to_ms) {
    QueryView view = Query(target, from_ms, to_ms);
    const SeriesView* s = WithTags(view, tags);
    return s ? PointList(*s) : std::vector<std::string>();
  }

  std::vector<std::string> Search() {
    HttpResponse r = Post("/search", R"({"target":""})");
    EXPECT_TRUE(IsJsonArray(r));
    JsonDoc doc = JsonDoc::Parse(r.body);
    std::vector<std::string> out;
    for (JsonElement e : Elements(doc.root())) {
      auto s = AsString(e);
      EXPECT_TRUE(s.has_value()) << ToJson(e);
      if (s) out.push_back(*s);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // "text" of each element of a /tag-keys or /tag-values answer, sorted.
  std::vector<std::string> TagList(std::string_view path, std::string_view body) {
    HttpResponse r = Post(path, body);
    EXPECT_TRUE(IsJsonArray(r)) << path << " " << body;
    JsonDoc doc = JsonDoc::Parse(r.body);
    std::vector<std::string> out;
    for (JsonElement e : Elements(doc.root())) {
      auto s = StringField(e, "text");
      EXPECT_TRUE(s.has_value()) << ToJson(e);
      if (s) out.push_back(*s);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  TempDir dir_;
  std::string data_dir_;
  std::string config_path_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

// Expects a JSON error with `status` whose "message" and "error" both contain every string in `mentions`.
AssertionResult IsInfluxError(const HttpResponse& r, int status,
                              const std::vector<std::string>& mentions) {
  AssertionResult shape = IsJsonError(r, status);
  if (!shape) return shape;
  JsonDoc doc = JsonDoc::Parse(r.body);
  std::string message = StringField(doc.root(), "message").value_or("");
  std::string error = StringField(doc.root(), "error").value_or("");
  for (const std::string& m : mentions) {
    if (message.find(m) == std::string::npos || error.find(m) == std::string::npos) {
      return AssertionFailure() << "\"" << m << "\" should be in both \"message\" and \"error\" "
                                << "(InfluxDB clients show \"error\"): " << r.body;
    }
  }
  return AssertionSuccess();
}

AssertionResult IsNoContent(const HttpResponse& r) {
  if (r.status != 204 || !r.body.empty()) {
    return AssertionFailure() << "expected 204 with an empty body, got " << r.Describe();
  }
  return AssertionSuccess();
}

// ================= /write (line protocol) =================

TEST(StoreIntegrationTest, TelegrafLinesRoundTrip) {
  StoreServer server;
  ASSERT_TRUE(server.Start());
  const int64_t t1 = BaseMs(), t2 = t1 + 10 * kSecond;
  const int64_t s1 = t1 / 1000, s2 = t2 / 1000;
  std::string body = fmt::format(
      "cpu,host=server01,region=us-west usage_user=12.5,usage_system=3i,online=true,"
      "note=\"busy, very \\\"busy\\\"\" {0}\n"
      "cpu,host=server02,region=us-west usage_user=7.25,usage_system=1i,online=F {0}\n"
      "cpu,host=server01,region=us-west usage_user=13.5 {1}\n"
      "mem,host=server01 used_percent=45.5,free=1024i {0}\n"
      "disk\\ io,host=server01,path=/var\\,log read\\ bytes=5i {0}\n"
      "weather,location=us\\=east temp=-3.5e1 {1}\n",
      s1, s2);
  ASSERT_TRUE(IsNoContent(server.WriteLines(body, "s")));

  const int64_t from = t1 - kMinute, to = t2 + kMinute;
  QueryView user = server.Query("cpu.usage_user", from, to);
  ASSERT_EQ(user.series.size(), 2u) << "one series per host";
  const SeriesView* a = WithTags(user, {{"host", "server01"}, {"region", "us-west"}});
  const SeriesView* b = WithTags(user, {{"host", "server02"}, {"region", "us-west"}});
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(PointList(*a), (std::vector<std::string>{Pt(t1, 12.5), Pt(t2, 13.5)}));
  EXPECT_EQ(PointList(*b), (std::vector<std::string>{Pt(t1, 7.25)}));
  EXPECT_EQ(a->ref_id.value_or(""), "A");

  const TagMap host1 = {{"host", "server01"}, {"region", "us-west"}};
  const TagMap host2 = {{"host", "server02"}, {"region", "us-west"}};
  EXPECT_EQ(server.Points("cpu.usage_system", host1, from, to),
            (std::vector<std::string>{Pt(t1, 3)}))
      << "integer field";
  EXPECT_EQ(server.Points("cpu.online", host1, from, to), (std::vector<std::string>{Pt(t1, 1)}))
      << "boolean true is 1";
  EXPECT_EQ(server.Points("cpu.online", host2, from, to), (std::vector<std::string>{Pt(t1, 0)}))
      << "boolean F is 0";
  EXPECT_EQ(server.Points("mem.free", {{"host", "server01"}}, from, to),
            (std::vector<std::string>{Pt(t1, 1024)}));
  EXPECT_EQ(server.Points("mem.used_percent", {{"host", "server01"}}, from, to),
            (std::vector<std::string>{Pt(t1, 45.5)}));
  EXPECT_EQ(server.Points("weather.temp", {{"location", "us=east"}}, from, to),
            (std::vector<std::string>{Pt(t2, -35)}))
      << "escaped '=' in a tag value, exponent in a float";
  EXPECT_EQ(server.Points("disk io.read bytes", {{"host", "server01"}, {"path", "/var,log"}}, from,
                          to),
            (std::vector<std::string>{Pt(t1, 5)}))
      << "escaped spaces in measurement and field key, escaped ',' in a tag value";
  EXPECT_TRUE(server.Query("cpu.note", from, to).series.empty()) << "string fields are not stored";

  EXPECT_EQ(server.Search(),
            (std::vector<std::string>{"cpu.online", "cpu.usage_system", "cpu.usage_user",
                                      "disk io.read bytes", "mem.free", "mem.used_percent",
                                      "weather.temp"}));
  EXPECT_EQ(server.TagList("/tag-keys", "{}"),
            (std::vector<std::string>{"host", "location", "path", "region"}));
  EXPECT_EQ(server.TagList("/tag-values", R"({"key":"host"})"),
            (std::vector<std::string>{"server01", "server02"}));
  EXPECT_EQ(server.TagList("/tag-values", R"({"key":"path"})"),
            (std::vector<std::string>{"/var,log"}));
  EXPECT_EQ(server.TagList("/tag-values", R"({"key":"location"})"),
            (std::vector<std::string>{"us=east"}));
  EXPECT_EQ(server.Stop(), 0) << server.Stderr();
}

TEST(StoreIntegrationTest, EveryPrecisionLandsOnTheRightMillisecond) {
  StoreServer server;
  ASSERT_TRUE(server.Start());
  const int64_t h = BaseMs();  // a whole hour, so every unit can express it
  struct Case {
    const char* precision;  // the query parameter ("" = absent: nanoseconds)
    std::string timestamp;  // as written on the line
    int64_t want_ms;
  };
  const int64_t t = h + 1234;
  const std::vector<Case> cases = {
      {"", fmt::format("{}000567", t), t},  // sub-millisecond digits are truncated
      {"ns", fmt::format("{}999999", t), t},
      {"n", fmt::format("{}000001", t), t},
      {"us", fmt::format("{}999", t), t},
      {"u", fmt::format("{}001", t), t},
      {"ms", fmt::format("{}", t), t},
      {"s", fmt::format("{}", h / 1000 + 7), h + 7 * kSecond},
      {"m", fmt::format("{}", h / kMinute + 5), h + 5 * kMinute},
      {"h", fmt::format("{}", h / kHour - 1), h - kHour},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string p = cases[i].precision[0] ? cases[i].precision : "default";
    std::string line = fmt::format("prec,p={} v={} {}\n", p, i, cases[i].timestamp);
    EXPECT_TRUE(IsNoContent(server.WriteLines(line, cases[i].precision))) << line;
  }
  QueryView view = server.Query("prec.v", h - 2 * kHour, h + kHour);
  EXPECT_EQ(view.series.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string p = cases[i].precision[0] ? cases[i].precision : "default";
    const SeriesView* s = WithTags(view, {{"p", p}});
    ASSERT_NE(s, nullptr) << "precision " << p;
    EXPECT_EQ(PointList(*s), (std::vector<std::string>{Pt(cases[i].want_ms, i)}))
        << "precision " << p << ", timestamp " << cases[i].timestamp;
  }

  HttpResponse bad = server.WriteLines(fmt::format("prec v=1 {}\n", h), "fortnights");
  EXPECT_TRUE(IsInfluxError(bad, 400, {"fortnights"})) << "an unknown precision is named";
  EXPECT_EQ(server.Query("prec.v", h - 2 * kHour, h + kHour).series.size(), cases.size())
      << "the rejected request stored nothing";
}

TEST(StoreIntegrationTest, GzipBodyIsInflatedAndStored) {
  StoreServer server;
  ASSERT_TRUE(server.Start());
  const int64_t t0 = BaseMs();
  constexpr int kLines = 2000;
  std::string body;
  for (int i = 0; i < kLines; ++i) {
    body += fmt::format("gz,host=h{} v={} {}\n", i % 2, i * 0.5, t0 + i);
  }
  std::string compressed = GzipBody(body);
  ASSERT_LT(compressed.size(), body.size() / 2);
  HttpResponse r = server.client().Request(
      "POST", "/write?db=telegraf&precision=ms", compressed,
      {{"Content-Type", "text/plain; charset=utf-8"}, {"Content-Encoding", "gzip"}});
  ASSERT_TRUE(IsNoContent(r));
  QueryView view = server.Query("gz.v", t0 - kMinute, t0 + kMinute);
  ASSERT_EQ(view.series.size(), 2u);
  for (int host = 0; host < 2; ++host) {
    const SeriesView* s = WithTags(view, {{"host", fmt::format("h{}", host)}});
    ASSERT_NE(s, nullptr);
    std::vector<std::string> want;
    for (int i = host; i < kLines; i += 2) want.push_back(Pt(t0 + i, i * 0.5));
    EXPECT_EQ(PointList(*s), want);
  }
}

TEST(StoreIntegrationTest, PartialWriteKeepsGoodLinesAndNamesBadOnes) {
  StoreServer server;
  ASSERT_TRUE(server.Start());
  const int64_t t0 = BaseMs();
  const int64_t s0 = t0 / 1000;
  std::string body = fmt::format(
      "pw,host=a v=1 {0}\n"
      "pw,host=a v=2 {1}\n"
      "pw,host=a v=1x {2}\n"  // line 3: not a number
      "pw,host=a v=4 {3}\n"
      "pw,host=a {4}\n"  // line 5: no fields
      "pw,host=a v=6 {5}\n",
      s0, s0 + 1, s0 + 2, s0 + 3, s0 + 4, s0 + 5);
  HttpResponse r = server.WriteLines(body, "s");
  ASSERT_TRUE(IsInfluxError(r, 400, {"partial write", "line 3, column ", "line 5, column ",
                                     "dropped=2"}));
  std::smatch m;
  std::string text = r.body;
  EXPECT_TRUE(std::regex_search(text, m, std::regex(R"(line 3, column 13\b)")))
      << "column 13 is where \"1x\" starts on line 3: " << r.body;

  EXPECT_EQ(server.Points("pw.v", {{"host", "a"}}, t0 - kMinute, t0 + kMinute),
            (std::vector<std::string>{Pt(t0, 1), Pt(t0 + 1000, 2), Pt(t0 + 3000, 4),
                                      Pt(t0 + 5000, 6)}))
      << "the good lines are stored";

  // A body that is all bad stores nothing and says so.
  HttpResponse all_bad = server.WriteLines("nothing here\n", "s");
  EXPECT_TRUE(IsInfluxError(all_bad, 400, {"line 1, column ", "dropped=1"}));
  EXPECT_EQ(server.Search(), (std::vector<std::string>{"pw.v"}));
}

TEST(StoreIntegrationTest, FieldTypeConflictIsRejectedAndTheRestKept) {
  StoreServer server;
  ASSERT_TRUE(server.Start());
  const int64_t t0 = BaseMs();
  const int64_t s0 = t0 / 1000;
  ASSERT_TRUE(IsNoContent(server.WriteLines(fmt::format("m v=1i {}\n", s0), "s")));

  HttpResponse r =
      server.WriteLines(fmt::format("m v=1.5,w=2 {0}\nother x=3 {0}\n", s0 + 1), "s");
  EXPECT_TRUE(IsInfluxError(r, 400, {"type conflict", "m.v", "line 1", "integer", "float",
                                     "dropped=1"}));
  const int64_t from = t0 - kMinute, to = t0 + kMinute;
  EXPECT_EQ(server.Points("m.v", {}, from, to), (std::vector<std::string>{Pt(t0, 1)}))
      << "the float point is dropped";
  EXPECT_EQ(server.Points("m.w", {}, from, to), (std::vector<std::string>{Pt(t0 + 1000, 2)}))
      << "the other field of the conflicting line is stored";
  EXPECT_EQ(server.Points("other.x", {}, from, to), (std::vector<std::string>{Pt(t0 + 1000, 3)}));

  // A line of the series' own type is kept even when an earlier line of the same body had the
  // wrong one: the stored type decides, not the first line of the request.
  HttpResponse mixed =
      server.WriteLines(fmt::format("m v=2.5 {}\nm v=7i {}\n", s0 + 2, s0 + 3), "s");
  EXPECT_TRUE(IsInfluxError(mixed, 400, {"type conflict", "line 1", "dropped=1"}));
  EXPECT_EQ(server.Points("m.v", {}, from, to),
            (std::vector<std::string>{Pt(t0, 1), Pt(t0 + 3000, 7)}))
      << "m v=7i matches the stored integer type and must be kept";

  // A conflict inside one body: the first type wins, the line with the other one is named.
  HttpResponse inside = server.WriteLines(
      fmt::format("n a=1i {0}\nn a=2.5 {1}\nn a=3i {2}\n", s0, s0 + 1, s0 + 2), "s");
  EXPECT_TRUE(IsInfluxError(inside, 400, {"line 2", "dropped=1"}));
  EXPECT_EQ(server.Points("n.a", {}, from, to),
            (std::vector<std::string>{Pt(t0, 1), Pt(t0 + 2000, 3)}));

  // Booleans are a type of their own.
  HttpResponse boolean = server.WriteLines(fmt::format("m v=true {}\n", s0 + 3), "s");
  EXPECT_TRUE(IsInfluxError(boolean, 400, {"type conflict", "m.v"}));
}

TEST(StoreIntegrationTest, BodyOverTheLimitIs413AndStoresNothing) {
  StoreServer server("[http]\nbody_limit = \"64KiB\"\n");
  ASSERT_TRUE(server.Start());
  const int64_t t0 = BaseMs();
  std::string big;
  for (int i = 0; big.size() <= 100 * 1024; ++i) {
    big += fmt::format("big,host=a v={} {}\n", i, t0 + i);
  }
  std::string request = BuildRequest("POST", "/write?db=telegraf&precision=ms", "127.0.0.1",
                                     {{"Content-Type", "text/plain; charset=utf-8"}}, big);
  HttpResponse r = RawExchange(server.port(), request);
  EXPECT_TRUE(IsJsonError(r, 413)) << r.Describe();

  // The limit applies to the inflated body too (a small gzip body may inflate past it).
  std::string bomb_text(1 << 20, '\n');
  bomb_text.insert(0, fmt::format("big,host=gz v=1 {}\n", t0));
  std::string bomb = GzipBody(bomb_text);
  ASSERT_LT(bomb.size(), 64u * 1024);
  HttpResponse inflated = server.client().Request(
      "POST", "/write?db=telegraf&precision=ms", bomb,
      {{"Content-Type", "text/plain; charset=utf-8"}, {"Content-Encoding", "gzip"}});
  EXPECT_TRUE(IsJsonError(inflated, 413)) << inflated.Describe();

  HttpClient fresh(server.port());
  QueryView view;
  ASSERT_TRUE(ParseQueryResponse(
      fresh.Request("POST", "/query", RawPointsQueryBody("big.v", t0 - kMinute, t0 + kHour)),
      &view));
  EXPECT_TRUE(view.series.empty()) << "nothing of a rejected body is stored";

  // The same server takes a body under the limit: the 413 was the size, not the content.
  HttpResponse small = fresh.Request("POST", "/write?db=telegraf&precision=ms",
                                     big.substr(0, big.find('\n', 32 * 1024) + 1));
  EXPECT_TRUE(IsNoContent(small));
}

TEST(StoreIntegrationTest, OutOfOrderAndDuplicatesLastWriteWins) {
  StoreServer server;
  ASSERT_TRUE(server.Start());
  const int64_t t0 = BaseMs();
  auto line = [&](int offset_s, double v) {
    return fmt::format("ooo,host=a v={} {}\n", v, (t0 / 1000) + offset_s);
  };
  ASSERT_TRUE(IsNoContent(server.WriteLines(
      line(5, 50) + line(1, 10) + line(3, 30) + line(1, 11) + line(5, 51) + line(4, 40), "s")));
  ASSERT_TRUE(IsNoContent(server.WriteLines(line(2, 20) + line(3, 31) + line(0, 0), "s")));
  const std::vector<std::string> want = {Pt(t0, 0),         Pt(t0 + 1000, 11), Pt(t0 + 2000, 20),
                                         Pt(t0 + 3000, 31), Pt(t0 + 4000, 40), Pt(t0 + 5000, 51)};
  const int64_t from = t0 - kMinute, to = t0 + kMinute;
  EXPECT_EQ(server.Points("ooo.v", {{"host", "a"}}, from, to), want)
      << "ascending, one point per timestamp, the last write's value";

  // Sub-millisecond timestamps in the same millisecond are one point: the later line wins.
  ASSERT_TRUE(IsNoContent(server.WriteLines(
      fmt::format("ooo,host=b v=1 {0}000100\nooo,host=b v=2 {0}000900\n", t0 + 7), "ns")));
  EXPECT_EQ(server.Points("ooo.v", {{"host", "b"}}, from, to),
            (std::vector<std::string>{Pt(t0 + 7, 2)}));

  // After a clean restart the points live in chunks; new writes to the same timestamps still win,
  // in the head and again once checkpointed by the next restart.
  ASSERT_EQ(server.Stop(), 0) << server.Stderr();
  ASSERT_TRUE(server.Start());
  EXPECT_EQ(server.Points("ooo.v", {{"host", "a"}}, from, to), want);
  ASSERT_TRUE(IsNoContent(server.WriteLines(line(3, 32) + line(6, 60) + line(-1, -10), "s")));
  std::vector<std::string> want2 = {Pt(t0 - 1000, -10), Pt(t0, 0),         Pt(t0 + 1000, 11),
                                    Pt(t0 + 2000, 20),  Pt(t0 + 3000, 32), Pt(t0 + 4000, 40),
                                    Pt(t0 + 5000, 51),  Pt(t0 + 6000, 60)};
  EXPECT_EQ(server.Points("ooo.v", {{"host", "a"}}, from, to), want2) << "head over chunks";
  ASSERT_EQ(server.Stop(), 0) << server.Stderr();
  ASSERT_TRUE(server.Start());
  EXPECT_EQ(server.Points("ooo.v", {{"host", "a"}}, from, to), want2) << "after the checkpoint";
  EXPECT_EQ(server.Points("ooo.v", {{"host", "b"}}, from, to),
            (std::vector<std::string>{Pt(t0 + 7, 2)}));
}

// ================= /api/v1/write (JSON) =================

TEST(StoreIntegrationTest, JsonWriteRoundTrips) {
  StoreServer server;
  ASSERT_TRUE(server.Start());
  const int64_t t0 = BaseMs();
  // RFC 3339 with an offset: t0 + 3 s written as local time one hour east of UTC.
  const std::string east = FormatTimestampMs(t0 + 3000 + kHour);
  const std::string with_offset = east.substr(0, east.size() - 1) + "+01:00";
  std::string body = fmt::format(
      R"({{"series":[)"
      R"({{"name":"api.temp","tags":{{"room":"lab","floor":"2"}},)"
      R"("points":[[{0},21.5],["{1}",22],[{2},null],["{3}",-4e-3]]}},)"
      R"({{"name":"api.door","points":[[{0},true],[{2},false]]}}]}})",
      t0, FormatTimestampMs(t0 + 1000), t0 + 2000, with_offset);
  HttpResponse r = server.Post("/api/v1/write", body);
  ASSERT_TRUE(IsJsonResponse(r, 200)) << r.Describe();
  EXPECT_EQ(CanonicalJson(r.body), R"({"written":6})");

  const int64_t from = t0 - kMinute, to = t0 + kMinute;
  EXPECT_EQ(server.Points("api.temp", {{"room", "lab"}, {"floor", "2"}}, from, to),
            (std::vector<std::string>{Pt(t0, 21.5), Pt(t0 + 1000, 22), NullPt(t0 + 2000),
                                      Pt(t0 + 3000, -0.004)}));
  EXPECT_EQ(server.Points("api.door", {}, from, to),
            (std::vector<std::string>{Pt(t0, 1), Pt(t0 + 2000, 0)}));

  // The other two body forms: an array of series, and one series.
  HttpResponse array = server.Post(
      "/api/v1/write", fmt::format(R"([{{"name":"api.a","points":[[{}, 1]]}}])", t0 + 10));
  EXPECT_TRUE(IsJsonResponse(array, 200)) << array.Describe();
  HttpResponse one = server.Post(
      "/api/v1/write", fmt::format(R"({{"name":"api.b","tags":null,"points":[[{}, 2]]}})", t0 + 20));
  EXPECT_TRUE(IsJsonResponse(one, 200)) << one.Describe();
  EXPECT_EQ(server.Points("api.a", {}, from, to), (std::vector<std::string>{Pt(t0 + 10, 1)}));
  EXPECT_EQ(server.Points("api.b", {}, from, to), (std::vector<std::string>{Pt(t0 + 20, 2)}));
}

TEST(StoreIntegrationTest, JsonWriteErrorsNameTheField) {
  StoreServer server;
  ASSERT_TRUE(server.Start());
  struct Case {
    std::string body;
    std::string field;  // what the message must name
  };
  const std::vector<Case> cases = {
      {R"({"series":[{"name":"x","points":[[1,2],[2,"x"]]}]})", "series[0].points[1][1]"},
      {R"({"series":[{"name":"x","points":[[1,2]]},{"name":"","points":[]}]})", "series[1].name"},
      {R"({"series":[{"points":[[1,2]]}]})", "series[0].name"},
      {R"({"series":[{"name":"x","tags":{"a":1},"points":[]}]})", "series[0].tags.a"},
      {R"({"series":[{"name":"x","tags":[],"points":[]}]})", "series[0].tags"},
      {R"({"series":[{"name":"x","points":[[1]]}]})", "series[0].points[0]"},
      {R"({"series":[{"name":"x","points":[["yesterday",1]]}]})", "series[0].points[0][0]"},
      {R"({"series":[{"name":"x","points":[[{},1]]}]})", "series[0].points[0][0]"},
      {R"({"series":[{"name":"x","points":{}}]})", "series[0].points"},
      {R"({"series":[{"name":"x"}]})", "series[0].points"},
      {R"({"series":{}})", "series"},
      {R"({"series":[{"name":"x","points":[[1,true],[2,3]]}]})", "series[0]"},
  };
  for (const Case& c : cases) {
    HttpResponse r = server.Post("/api/v1/write", c.body);
    EXPECT_TRUE(IsJsonError(r, 400)) << c.body;
    JsonDoc doc = JsonDoc::Parse(r.body);
    std::string message = StringField(doc.root(), "message").value_or("");
    EXPECT_EQ(message.rfind(c.field, 0), 0u)
        << "the message should start with " << c.field << ": " << message << "; body " << c.body;
  }
  HttpResponse not_json = server.Post("/api/v1/write", R"({"series":[)");
  EXPECT_TRUE(IsJsonError(not_json, 400)) << not_json.Describe();
}

// ================= annotations =================

std::string OldAnnotationsBody(int64_t from_ms, int64_t to_ms, std::string_view query) {
  return fmt::format(
      R"({{"range":{{"from":"{}","to":"{}","raw":{{"from":"now-6h","to":"now"}}}},)"
      R"("annotation":{{"name":"events","datasource":"Simple JSON","enable":true,)"
      R"js("iconColor":"rgba(255, 96, 96, 1)","query":{}}},)js"
      R"("rangeRaw":{{"from":"now-6h","to":"now"}}}})",
      FormatTimestampMs(from_ms), FormatTimestampMs(to_ms), JsonQuote(query));
}

std::string NewAnnotationBody(int64_t from_ms, int64_t to_ms, std::string_view target) {
  return fmt::format(
      R"({{"requestId":"Q9","app":"dashboard","range":{{"from":"{0}","to":"{1}",)"
      R"("raw":{{"from":"now-6h","to":"now"}}}},"interval":"30s","intervalMs":30000,)"
      R"("maxDataPoints":1920,"scopedVars":{{"__interval":{{"text":"30s","value":"30s"}},)"
      R"("__annotation":{{"text":"events","value":{{"name":"events","enable":true,)"
      R"("iconColor":"red","target":{{"refId":"Anno","target":{2},"payload":""}}}}}}}},)"
      R"("targets":[{{"refId":"Anno","target":{2},"payload":{{}},"editorMode":"code",)"
      R"("datasource":{{"type":"simpod-json-datasource","uid":"u"}}}}]}})",
      FormatTimestampMs(from_ms), FormatTimestampMs(to_ms), JsonQuote(target));
}

TEST(StoreIntegrationTest, AnnotationsRoundTripThroughBothPlugins) {
  StoreServer server;
  ASSERT_TRUE(server.Start());
  const int64_t t0 = BaseMs();
  const int64_t deploy = t0 + 5 * kMinute, outage = t0 + 20 * kMinute, old = t0 - 3 * kHour;
  std::string events = fmt::format(
      R"([{{"time":{},"title":"deploy api","text":"v1.2 rolled out","tags":["deploy","api"]}},)"
      R"({{"time":"{}","timeEnd":"{}","title":"outage","text":"db down","tags":["incident"]}},)"
      R"({{"time":{},"title":"old deploy","text":"v1.0","tags":["deploy"]}}])",
      deploy, FormatTimestampMs(outage), FormatTimestampMs(outage + 10 * kMinute), old);
  HttpResponse added = server.Post("/api/v1/annotations", events);
  ASSERT_TRUE(IsJsonResponse(added, 200)) << added.Describe();
  EXPECT_EQ(CanonicalJson(added.body), R"({"added":3})");
  HttpResponse one = server.Post(
      "/api/v1/annotations",
      fmt::format(R"({{"time":{},"title":"note","text":"just text"}})", t0 + 30 * kMinute));
  ASSERT_TRUE(IsJsonResponse(one, 200)) << one.Describe();
  EXPECT_EQ(CanonicalJson(one.body), R"({"added":1})");

  const int64_t from = t0, to = t0 + kHour;  // excludes the old deploy
  auto old_events = [&](std::string_view query) {
    std::vector<Event> got;
    EXPECT_TRUE(ParseOldAnnotations(server.Post("/annotations", OldAnnotationsBody(from, to, query)),
                                    &got))
        << query;
    return got;
  };
  std::vector<Event> all = old_events("");
  ASSERT_EQ(all.size(), 3u) << "events in range only";
  EXPECT_EQ(all[0].time, deploy);
  EXPECT_EQ(all[0].time_end, deploy);
  EXPECT_EQ(all[0].title, "deploy api");
  EXPECT_EQ(all[0].text, "v1.2 rolled out");
  EXPECT_EQ(all[0].tags, (std::vector<std::string>{"deploy", "api"}));
  EXPECT_EQ(all[1].time, outage);
  EXPECT_EQ(all[1].time_end, outage + 10 * kMinute);
  EXPECT_EQ(all[1].tags, (std::vector<std::string>{"incident"}));
  EXPECT_EQ(all[2].title, "note");

  std::vector<Event> deploys = old_events("#deploy");
  ASSERT_EQ(deploys.size(), 1u);
  EXPECT_EQ(deploys[0].title, "deploy api");
  std::vector<Event> incidents = old_events("incident");
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].title, "outage");
  EXPECT_TRUE(old_events("#nothing-like-this").empty());
  std::vector<Event> wide;
  ASSERT_TRUE(ParseOldAnnotations(
      server.Post("/annotations", OldAnnotationsBody(old - kMinute, to, "deploy")), &wide));
  EXPECT_EQ(EventKeys(wide).size(), 2u) << "a wider range includes the old deploy";

  // The NEW plugin asks through /query with refId "Anno" and gets a table.
  QueryView view;
  ASSERT_TRUE(ParseQueryResponse(server.Post("/query", NewAnnotationBody(from, to, "deploy")),
                                 &view));
  ASSERT_EQ(view.tables.size(), 1u);
  std::vector<Event> table_events;
  ASSERT_TRUE(AnnotationTableEvents(view.tables[0], &table_events));
  EXPECT_EQ(EventKeys(table_events), EventKeys(deploys));
  QueryView all_view;
  ASSERT_TRUE(ParseQueryResponse(server.Post("/query", NewAnnotationBody(from, to, "")),
                                 &all_view));
  ASSERT_EQ(all_view.tables.size(), 1u);
  std::vector<Event> all_table;
  ASSERT_TRUE(AnnotationTableEvents(all_view.tables[0], &all_table));
  EXPECT_EQ(EventKeys(all_table), EventKeys(all));

  // Bad events are refused with the field named, and nothing is added.
  for (const auto& [bad, field] : std::vector<std::pair<std::string, std::string>>{
           {R"({"title":"no time"})", "time"},
           {R"([{"time":1,"title":"ok"},{"time":"soon","title":"x"}])", "[1].time"},
           {R"({"time":10,"timeEnd":5,"title":"backwards"})", "timeEnd"},
           {R"({"time":10})", "title"},
           {R"({"time":10,"title":"t","tags":"deploy"})", "tags"}}) {
    HttpResponse r = server.Post("/api/v1/annotations", bad);
    EXPECT_TRUE(IsJsonError(r, 400)) << bad;
    EXPECT_NE(r.body.find(field), std::string::npos) << bad << " => " << r.body;
  }
  EXPECT_EQ(EventKeys(old_events("")), EventKeys(all));
}

// The ingest accepts an event with only a title or only a text (docs/storage.md); it must still be
// served with both, since Grafana shows `text` and PROTOCOL.md §6.1 asks for both.
TEST(StoreIntegrationTest, EventWithOnlyTitleOrTextIsServedWithBoth) {
  StoreServer server;
  ASSERT_TRUE(server.Start());
  const int64_t t0 = BaseMs();
  HttpResponse added = server.Post(
      "/api/v1/annotations",
      fmt::format(R"([{{"time":{},"title":"title only"}},{{"time":{},"text":"text only"}}])",
                  t0 + 1000, t0 + 2000));
  ASSERT_TRUE(IsJsonResponse(added, 200)) << added.Describe();
  std::vector<Event> events;
  HttpResponse r = server.Post("/annotations", OldAnnotationsBody(t0, t0 + kHour, ""));
  EXPECT_TRUE(ParseOldAnnotations(r, &events));
  JsonDoc doc = JsonDoc::Parse(r.body);
  std::vector<JsonElement> served = Elements(doc.root());
  ASSERT_EQ(served.size(), 2u) << r.body;
  for (JsonElement e : served) {
    EXPECT_FALSE(StringField(e, "text").value_or("").empty()) << "Grafana shows text: " << ToJson(e);
    EXPECT_FALSE(StringField(e, "title").value_or("").empty()) << ToJson(e);
  }
}

// ================= /api/v1/delete =================

TEST(StoreIntegrationTest, DeleteRemovesSeriesFromSearchAndQuery) {
  StoreServer server;
  ASSERT_TRUE(server.Start());
  const int64_t t0 = BaseMs();
  const int64_t s0 = t0 / 1000;
  ASSERT_TRUE(IsNoContent(server.WriteLines(
      fmt::format("cpu,host=a usage_user=1,usage_system=2 {0}\ncpu,host=b usage_user=3 {0}\n"
                  "mem,host=a used=4 {0}\n",
                  s0),
      "s")));
  const int64_t from = t0 - kMinute, to = t0 + kMinute;
  HttpResponse r = server.Post(
      "/api/v1/delete",
      R"({"target":"cpu.*","filters":[{"key":"host","operator":"=","value":"a"}]})");
  ASSERT_TRUE(IsJsonResponse(r, 200)) << r.Describe();
  EXPECT_EQ(CanonicalJson(r.body), R"({"deleted":2})");
  EXPECT_EQ(server.Search(), (std::vector<std::string>{"cpu.usage_user", "mem.used"}));
  QueryView cpu = server.Query("cpu.*", from, to);
  ASSERT_EQ(cpu.series.size(), 1u);
  EXPECT_EQ(cpu.series[0].tags, (TagMap{{"host", "b"}}));
  EXPECT_EQ(server.TagList("/tag-values", R"({"key":"host"})"),
            (std::vector<std::string>{"a", "b"}))
      << "mem.used still has host=a";

  HttpResponse rest = server.Post("/api/v1/delete", R"({"target":"cpu.*"})");
  ASSERT_TRUE(IsJsonResponse(rest, 200)) << rest.Describe();
  EXPECT_EQ(CanonicalJson(rest.body), R"({"deleted":1})");
  EXPECT_EQ(server.Search(), (std::vector<std::string>{"mem.used"}));
  EXPECT_TRUE(server.Query("cpu.*", from, to).series.empty());
  HttpResponse none = server.Post("/api/v1/delete", R"({"target":"cpu.*"})");
  EXPECT_EQ(CanonicalJson(none.body), R"({"deleted":0})");
  // The REST spelling, with the pattern in the query string.
  HttpResponse by_method = server.client().Request("DELETE", "/api/v1/series?target=mem.%2A");
  ASSERT_TRUE(IsJsonResponse(by_method, 200)) << by_method.Describe();
  EXPECT_EQ(CanonicalJson(by_method.body), R"({"deleted":1})");
  EXPECT_TRUE(server.Search().empty());
  ASSERT_TRUE(IsNoContent(server.WriteLines(fmt::format("mem,host=a used=4 {}\n", s0), "s")));
  HttpResponse bad = server.Post("/api/v1/delete", R"({"filters":[]})");
  EXPECT_TRUE(IsJsonError(bad, 400)) << bad.Describe();
  EXPECT_NE(bad.body.find("target"), std::string::npos) << bad.body;

  // A deleted name written again is a new, empty series.
  ASSERT_TRUE(IsNoContent(server.WriteLines(fmt::format("cpu,host=a usage_user=9 {}\n", s0 + 1),
                                            "s")));
  EXPECT_EQ(server.Points("cpu.usage_user", {{"host", "a"}}, from, to),
            (std::vector<std::string>{Pt(t0 + 1000, 9)}));

  ASSERT_EQ(server.Stop(), 0) << server.Stderr();
  ASSERT_TRUE(server.Start());
  EXPECT_EQ(server.Search(), (std::vector<std::string>{"cpu.usage_user", "mem.used"}))
      << "deletes survive a restart";
  EXPECT_EQ(server.Points("cpu.usage_user", {{"host", "a"}}, from, to),
            (std::vector<std::string>{Pt(t0 + 1000, 9)}));
  EXPECT_TRUE(server.Query("cpu.usage_system", from, to).series.empty());
}

// Deleted series must stay deleted across crashes, and their points must never reappear, in
// particular not in a series created later (docs/storage.md: ids are never reused).
TEST(StoreIntegrationTest, DeletedPointsNeverComeBackAfterACrash) {
  StoreServer server;  // default checkpoint interval (60 s): everything below stays in the wal
  ASSERT_TRUE(server.Start());
  const int64_t t0 = BaseMs();
  const int64_t s0 = t0 / 1000;
  const int64_t from = t0 - kMinute, to = t0 + kMinute;
  ASSERT_TRUE(IsNoContent(server.WriteLines(
      fmt::format("keep v=1 {0}\ngone v=100 {0}\ngone v=101 {1}\n", s0, s0 + 1), "s")));
  HttpResponse del = server.Post("/api/v1/delete", R"({"target":"gone.v"})");
  ASSERT_TRUE(IsJsonResponse(del, 200)) << del.Describe();
  EXPECT_EQ(CanonicalJson(del.body), R"({"deleted":1})");
  server.Kill();

  ASSERT_TRUE(server.Start());
  EXPECT_EQ(server.Search(), (std::vector<std::string>{"keep.v"}));
  ASSERT_TRUE(IsNoContent(server.WriteLines(fmt::format("fresh v=7 {}\n", s0 + 5), "s")));
  EXPECT_EQ(server.Points("fresh.v", {}, from, to), (std::vector<std::string>{Pt(t0 + 5000, 7)}));
  server.Kill();

  ASSERT_TRUE(server.Start());
  EXPECT_EQ(server.Search(), (std::vector<std::string>{"fresh.v", "keep.v"}));
  EXPECT_EQ(server.Points("fresh.v", {}, from, to), (std::vector<std::string>{Pt(t0 + 5000, 7)}))
      << "the deleted series' points must not reappear in a later series";
  EXPECT_EQ(server.Points("keep.v", {}, from, to), (std::vector<std::string>{Pt(t0, 1)}));
  EXPECT_TRUE(server.Query("gone.v", from, to).series.empty());
}

// ================= durability =================

std::string Lines(std::string_view measurement, int64_t t0, int count, double scale) {
  std::string body;
  for (int i = 0; i < count; ++i) {
    body += fmt::format("{},host=h{} v={},n={}i {}\n", measurement, i % 3, i * scale, i, t0 + i);
  }
  return body;
}

std::vector<std::string> Expected(int64_t t0, int count, int host, double scale) {
  std::vector<std::string> out;
  for (int i = host; i < count; i += 3) out.push_back(Pt(t0 + i, i * scale));
  return out;
}

TEST(StoreIntegrationTest, CleanRestartKeepsEverything) {
  StoreServer server;
  ASSERT_TRUE(server.Start());
  const int64_t t0 = BaseMs();
  ASSERT_TRUE(IsNoContent(server.WriteLines(Lines("dur", t0, 3000, 0.25), "ms")));
  ASSERT_TRUE(IsJsonResponse(
      server.Post("/api/v1/annotations",
                  fmt::format(R"({{"time":{},"title":"kept","text":"t","tags":["x"]}})",
                              t0 + 10)),
      200));
  ASSERT_EQ(server.Stop(), 0) << "SIGTERM is a clean stop; stderr: " << server.Stderr();
  ASSERT_TRUE(server.Start());
  const int64_t from = t0 - kMinute, to = t0 + kMinute;
  for (int host = 0; host < 3; ++host) {
    EXPECT_EQ(server.Points("dur.v", {{"host", fmt::format("h{}", host)}}, from, to),
              Expected(t0, 3000, host, 0.25))
        << "host " << host;
  }
  EXPECT_EQ(server.Query("dur.n", from, to).series.size(), 3u);
  std::vector<Event> events;
  ASSERT_TRUE(
      ParseOldAnnotations(server.Post("/annotations", OldAnnotationsBody(from, to, "")), &events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].title, "kept");
  EXPECT_EQ(server.Stop(), 0) << server.Stderr();
}

TEST(StoreIntegrationTest, CheckpointedDataSurvivesAKill) {
  StoreServer server("[store]\ncheckpoint_interval = \"1s\"\nchunk_points = 100\n");
  ASSERT_TRUE(server.Start());
  const int64_t t0 = BaseMs();
  const int64_t from = t0 - kMinute, to = t0 + kMinute;
  ASSERT_TRUE(IsNoContent(server.WriteLines(Lines("ck", t0, 1000, 1), "ms")));
  std::this_thread::sleep_for(std::chrono::milliseconds(2'000));  // > one checkpoint
  // Overwrite some checkpointed points and add new ones: these are only in the wal at the kill.
  std::string update;
  for (int i = 500; i < 1500; ++i) {
    update += fmt::format("ck,host=h{} v={},n={}i {}\n", i % 3, -i, i, t0 + i);
  }
  ASSERT_TRUE(IsNoContent(server.WriteLines(update, "ms")));
  server.Kill();

  auto want = [&](int host) {
    std::vector<std::string> out;
    for (int i = host; i < 1500; i += 3) out.push_back(Pt(t0 + i, i < 500 ? i : -i));
    return out;
  };
  ASSERT_TRUE(server.Start()) << "restart after SIGKILL";
  for (int host = 0; host < 3; ++host) {
    EXPECT_EQ(server.Points("ck.v", {{"host", fmt::format("h{}", host)}}, from, to), want(host))
        << "chunks + replayed wal, host " << host;
  }
  // Let the restarted server checkpoint the replayed points over the existing chunks, then crash
  // it again: the merged chunks must hold the same data.
  std::this_thread::sleep_for(std::chrono::milliseconds(2'000));
  server.Kill();
  ASSERT_TRUE(server.Start());
  for (int host = 0; host < 3; ++host) {
    EXPECT_EQ(server.Points("ck.v", {{"host", fmt::format("h{}", host)}}, from, to), want(host))
        << "after the second checkpoint, host " << host;
  }
  EXPECT_EQ(server.Stop(), 0) << server.Stderr();
}

// Retention runs in the background when the store opens (about 0.5 s after start) and every
// minute after. Points written after that first pass are therefore only expired by the pass of the
// next start: the test writes after the first pass, restarts (once cleanly, so the points are in
// chunks; once with SIGKILL, so they are replayed into the head) and polls, bounded, until the
// new process's first pass has run. About 3 s in all.
TEST(StoreIntegrationTest, RetentionDropsOldPointsAndKeepsNewOnes) {
  // chunk_points = 2 so old and new points land in different chunks (a chunk straddling the cutoff
  // is kept whole until all of it expires, docs/storage.md).
  StoreServer server("[store]\nretention = \"1h\"\nchunk_points = 2\n");
  ASSERT_TRUE(server.Start());
  const int64_t now = (NowMs() / 1000) * 1000;
  const int64_t old1 = now - 2 * kHour, old2 = old1 + 1000, new1 = now - 60'000,
                new2 = now - 59'000;
  auto body = [&](std::string_view m) {
    return fmt::format("{0} v=1 {1}\n{0} v=2 {2}\n{0} v=3 {3}\n{0} v=4 {4}\n", m, old1 / 1000,
                       old2 / 1000, new1 / 1000, new2 / 1000);
  };
  // Let the pass at start-up run first, so the next one is a minute away and the points written
  // now are still all there until the restart (the precondition that makes this test meaningful).
  std::this_thread::sleep_for(std::chrono::milliseconds(1'200));
  ASSERT_TRUE(IsNoContent(server.WriteLines(body("chunked"), "s")));
  ASSERT_TRUE(IsJsonResponse(
      server.Post("/api/v1/annotations",
                  fmt::format(R"([{{"time":{},"title":"old","text":"o"}},)"
                              R"({{"time":{},"title":"new","text":"n"}}])",
                              old1, new1)),
      200));
  const int64_t from = now - 3 * kHour, to = now + kMinute;
  const std::vector<std::string> only_new = {Pt(new1, 3), Pt(new2, 4)};
  const std::vector<std::string> all_four = {Pt(old1, 1), Pt(old2, 2), Pt(new1, 3), Pt(new2, 4)};
  ASSERT_EQ(server.Points("chunked.v", {}, from, to), all_four) << "precondition";

  // Polls until `target` holds only the new points (at most 8 s).
  auto expect_expired = [&](std::string_view target, std::string_view how) {
    auto deadline = Clock::now() + std::chrono::seconds(8);
    std::vector<std::string> got;
    do {
      got = server.Points(target, {}, from, to);
      if (got == only_new) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    } while (Clock::now() < deadline);
    EXPECT_EQ(got, only_new) << target << " (" << how << ")";
  };

  // A clean stop checkpoints everything into chunks; the pass at the next start drops the old ones.
  ASSERT_EQ(server.Stop(), 0) << server.Stderr();
  ASSERT_TRUE(server.Start());
  expect_expired("chunked.v", "chunks");
  // The same pass deletes expired annotations, after the chunks: poll for it too.
  std::vector<Event> events;
  for (auto deadline = Clock::now() + std::chrono::seconds(5);;) {
    events.clear();
    ASSERT_TRUE(ParseOldAnnotations(
        server.Post("/annotations", OldAnnotationsBody(from, to, "")), &events));
    if (events.size() == 1 || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(events.size(), 1u) << "the old annotation expires too";
  EXPECT_EQ(events[0].title, "new");

  // Points still in the wal at a crash are replayed into the head, where the pass drops them.
  // (expect_expired has seen the start-up pass run, so these stay until the kill.)
  ASSERT_TRUE(IsNoContent(server.WriteLines(body("headonly"), "s")));
  ASSERT_EQ(server.Points("headonly.v", {}, from, to), all_four) << "precondition";
  server.Kill();
  ASSERT_TRUE(server.Start());
  expect_expired("headonly.v", "replayed head");
  EXPECT_EQ(server.Points("chunked.v", {}, from, to), only_new);
  EXPECT_EQ(server.Stop(), 0) << server.Stderr();
}

// ================= concurrency =================

TEST(StoreIntegrationTest, ConcurrentWritersAndReadersLoseNothing) {
  StoreServer server;
  ASSERT_TRUE(server.Start());
  constexpr int kWriters = 8, kBatches = 50, kLinesPerBatch = 500, kReaders = 4;
  const int64_t t0 = BaseMs();
  const int64_t from = t0 - kMinute, to = t0 + kHour;
  const uint16_t port = server.port();
  std::mutex mu;
  std::vector<std::string> failures;
  auto fail = [&](std::string what) {
    std::lock_guard<std::mutex> lock(mu);
    if (failures.size() < 20) failures.push_back(std::move(what));
  };
  std::atomic<int> writers_done{0};
  std::atomic<int> queries{0};
  const auto deadline = Clock::now() + std::chrono::seconds(90);

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      HttpClient client(port);
      for (int b = 0; b < kBatches && Clock::now() < deadline; ++b) {
        std::string body;
        body.reserve(kLinesPerBatch * 48);
        for (int i = 0; i < kLinesPerBatch; ++i) {
          int n = b * kLinesPerBatch + i;
          body += fmt::format("conc,writer=w{} v={} {}\n", w, w * 1'000'000 + n, t0 + n);
        }
        HttpResponse r = client.Request("POST", "/write?db=telegraf&precision=ms", body, {},
                                        30'000);
        if (r.status != 204) fail(fmt::format("writer {} batch {}: {}", w, b, r.Describe()));
      }
      writers_done.fetch_add(1);
    });
  }
  for (int q = 0; q < kReaders; ++q) {
    threads.emplace_back([&, q] {
      HttpClient client(port);
      // Bounded: until the writers finish, at most 2,000 queries per reader.
      for (int i = 0; i < 2'000 && writers_done.load() < kWriters && Clock::now() < deadline;
           ++i) {
        std::string target = q % 2 == 0 ? "conc.v" : "conc.*";
        HttpResponse r =
            client.Request("POST", "/query", RawPointsQueryBody(target, from, to), {}, 30'000);
        QueryView view;
        AssertionResult ok = ParseQueryResponse(r, &view);
        if (!ok) fail(fmt::format("reader {} query {}: {}", q, i, ok.message()));
        for (const SeriesView& s : view.series) {
          // Every point a reader sees carries its writer's value.
          int w = s.tags.count("writer") ? std::atoi(s.tags.at("writer").c_str() + 1) : -1;
          for (const Datapoint& p : s.points) {
            double want = w * 1'000'000.0 + static_cast<double>(p.time_ms - t0);
            if (!p.value || *p.value != want) {
              fail(fmt::format("reader {}: writer {} at {} has {}", q, w, p.time_ms,
                               p.value ? fmt::format("{}", *p.value) : "null"));
              break;
            }
          }
        }
        queries.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(failures.empty()) << fmt::format("{}", fmt::join(failures, "\n"));
  ASSERT_LT(Clock::now(), deadline) << "the writers did not finish in time";
  EXPECT_GT(queries.load(), 0);

  QueryView view = server.Query("conc.v", from, to);
  ASSERT_EQ(view.series.size(), static_cast<size_t>(kWriters));
  for (int w = 0; w < kWriters; ++w) {
    const SeriesView* s = WithTags(view, {{"writer", fmt::format("w{}", w)}});
    ASSERT_NE(s, nullptr) << "writer " << w;
    ASSERT_EQ(s->points.size(), static_cast<size_t>(kBatches * kLinesPerBatch)) << "writer " << w;
    size_t wrong = 0;
    for (size_t n = 0; n < s->points.size(); ++n) {
      const Datapoint& p = s->points[n];
      if (p.time_ms != t0 + static_cast<int64_t>(n) || !p.value ||
          *p.value != w * 1'000'000.0 + static_cast<double>(n)) {
        ++wrong;
      }
    }
    EXPECT_EQ(wrong, 0u) << "writer " << w;
  }
  EXPECT_EQ(server.Stop(), 0) << server.Stderr();
}

// ================= InfluxDB client handshakes =================

TEST(StoreIntegrationTest, PingAndCreateDatabaseAnswerLikeInfluxDb) {
  StoreServer server;
  ASSERT_TRUE(server.Start());
  HttpResponse ping = server.client().Request("GET", "/ping");
  EXPECT_TRUE(IsNoContent(ping));
  HttpResponse head = server.client().Request("HEAD", "/ping");
  EXPECT_EQ(head.status, 204) << head.Describe();

  HttpResponse create =
      server.client().Request("POST", "/query?q=CREATE+DATABASE+%22telegraf%22", "", {});
  ASSERT_TRUE(IsJsonResponse(create, 200));
  EXPECT_EQ(CanonicalJson(create.body), R"({"results":[{"statement_id":0}]})");
  // Telegraf's influxdb output sends the statement as a form body.
  HttpResponse form = server.client().Request(
      "POST", "/query", "q=CREATE+DATABASE+%22telegraf%22",
      {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_TRUE(IsJsonResponse(form, 200));
  EXPECT_EQ(CanonicalJson(form.body), R"({"results":[{"statement_id":0}]})");
  EXPECT_TRUE(server.Search().empty()) << "the handshake creates nothing";
}

// ================= sluice import =================

TEST(StoreIntegrationTest, ImportedFilesAreServed) {
  StoreServer server;
  TempDir files;
  const int64_t t0 = BaseMs();
  std::string lp = fmt::format(
      "# exported from telegraf\n"
      "imp,host=a v=1.5 {0}000000\n"
      "imp,host=a v=2.5 {1}000000\n"
      "this line is bad\n"
      "imp,host=b v=3,n=4i {0}000000\n",
      t0, t0 + 1000);
  std::string lp_path = files.WriteFile("data.lp", lp);
  ProcessResult lp_run = RunSluice({"import", lp_path, "--data", server.data_dir()}, 30'000);
  ASSERT_EQ(lp_run.exit_code, 0) << lp_run.stderr_text;
  EXPECT_NE(lp_run.stdout_text.find("imported 4 points"), std::string::npos) << lp_run.stdout_text;
  EXPECT_NE(lp_run.stderr_text.find("line 4"), std::string::npos)
      << "the bad line is reported: " << lp_run.stderr_text;

  std::string csv = fmt::format(
      "time,sensors.temp;room=lab,sensors.hum;room=lab\n"
      "{},21.5,40\n"
      "{},22,\n"
      "{},,41.5\n",
      FormatTimestampMs(t0), t0 / 1000 + 60, t0 + 120'000);
  std::string csv_path = files.WriteFile("sensors.csv", csv);
  ProcessResult csv_run = RunSluice({"import", csv_path, "--data", server.data_dir()}, 30'000);
  ASSERT_EQ(csv_run.exit_code, 0) << csv_run.stderr_text;
  EXPECT_NE(csv_run.stdout_text.find("imported 4 points"), std::string::npos)
      << csv_run.stdout_text;

  ASSERT_TRUE(server.Start());
  const int64_t from = t0 - kMinute, to = t0 + kHour;
  EXPECT_EQ(server.Points("imp.v", {{"host", "a"}}, from, to),
            (std::vector<std::string>{Pt(t0, 1.5), Pt(t0 + 1000, 2.5)}));
  EXPECT_EQ(server.Points("imp.v", {{"host", "b"}}, from, to), (std::vector<std::string>{Pt(t0, 3)}));
  EXPECT_EQ(server.Points("imp.n", {{"host", "b"}}, from, to), (std::vector<std::string>{Pt(t0, 4)}));
  EXPECT_EQ(server.Points("sensors.temp", {{"room", "lab"}}, from, to),
            (std::vector<std::string>{Pt(t0, 21.5), Pt(t0 + 60'000, 22)}));
  EXPECT_EQ(server.Points("sensors.hum", {{"room", "lab"}}, from, to),
            (std::vector<std::string>{Pt(t0, 40), Pt(t0 + 120'000, 41.5)}));

  // While the server holds the store, an import is refused with a message saying why.
  ProcessResult locked = RunSluice({"import", lp_path, "--data", server.data_dir()}, 30'000);
  EXPECT_NE(locked.exit_code, 0) << locked.stdout_text;
  EXPECT_NE(locked.stderr_text.find("in use"), std::string::npos) << locked.stderr_text;
  EXPECT_EQ(locked.stdout_text.find("imported"), std::string::npos) << locked.stdout_text;
  ASSERT_TRUE(server.process()->Alive());
  EXPECT_EQ(server.Stop(), 0) << server.Stderr();
}

}  // namespace
}  // namespace sluice::testing
