// Side by side with graphite-web 1.1.8 (Debian): the same data in both, the same requests to both,
// the answers compared. Sluice's Graphite API (src/protocol/graphite_api.h) is right where it
// answers /render, /metrics/find and /tags/* as graphite-web does:
//   - /render (POST form bodies as Grafana's Graphite datasource sends them, and GET): same series
//     in the same order, same names ("target") and tags, same timestamps, None in the same places,
//     values within a relative error of 1e-9 (absolute 1e-12 near zero), with and without
//     maxDataPoints, for plain paths, globs, braces, character classes, seriesByTag and ~30
//     expressions across the function groups;
//   - /metrics/find: the same entries (text, id, leaf, expandable, allowChildren) in the same order;
//   - /tags, /tags/autoComplete/tags|values, /tags/findSeries: the same lists.
//
// The data (kEnd = 2023-11-14T22:00:00Z, six hours before it; see WriteLineProtocol) is one
// line-protocol text: POSTed to Sluice's /write (a fresh store, retention "0", so old data stays),
// and turned into whisper files by tools/graphite/make_whisper.py --influx, which names series as
// /write does (`<measurement>.<field>;tag=value...`) and registers the tagged ones in graphite-web's
// tag database. graphite-web runs under gunicorn (tools/graphite/serve.sh, testing/graphite_web.h);
// every /render to both carries `&now=kEnd` (whisper serves nothing older than now − retention;
// the time range itself is absolute, so the parameter changes nothing on Sluice's side).
//
// Two known differences, set aside:
//   - graphite-web's tree lists carbon's `_tagged` directory (where tagged series' whisper files
//     live, in hash-named subdirectories) as if it held metrics: its entry under `*` is dropped,
//     and no query here reaches below it (`*.*` would list the hash directories);
//   - Sluice's tree holds tagged series under their names (protocol/graphite_api.h: a path is a
//     node whether the series is tagged or not), graphite-web's does not: the nodes that lead only
//     to tagged series (cpu, cpu.usage, mem, mem.free) are dropped from Sluice's tree answers.
// And one made equal: Sluice's tag endpoints see every series, so graphite-web's tag database gets
// the untagged series too (carbon would register only tagged ones).
//
// graphite-web is required: without it every test FAILS, naming `scripts/install-deps.sh test`.
// Each test starts both servers (~6 s); the whole binary stays under a minute.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "testing/graphite_web.h"
#include "testing/http_client.h"
#include "testing/json.h"
#include "testing/server_process.h"

#ifndef SLUICE_GRAPHITE_TOOLS_DIR
#error "SLUICE_GRAPHITE_TOOLS_DIR must be defined by the build"
#endif

namespace sluice::testing {
namespace {

// 2023-11-14T22:00:00Z; the data covers (kEnd − 6 h, kEnd], the queries mostly (kEnd − 3 h, kEnd].
constexpr int64_t kEnd = 1699999200;
constexpr int64_t kFrom = kEnd - 3 * 3600;
constexpr double kRelativeError = 1e-9;
constexpr double kAbsoluteError = 1e-12;

// The data set, deterministic: 60 s gauges (app.{web1,web2,db1}.cpu: web2 with isolated missing
// points and a run of five, db1 negative and zero values), counters with a reset and gaps
// (app.{web1,web2}.requests), a 10 s series with gaps (app.web1.latency), sensors.room{1,2,3}
// .temperature and sensors.room3.humidity, and tagged series cpu.usage;dc=…;host=… ×3 and
// mem.free;dc=east;host=web-1. Values are printed shortest-round-trip, so both sides read the
// same doubles.
// `untagged` receives the names of the series without tags.
std::string WriteLineProtocol(std::set<std::string>* untagged) {
  std::string out;
  auto emit = [&](std::string_view key, std::string_view field, int64_t ts, double v) {
    out += fmt::format("{} {}={} {}\n", key, field, v, ts);
    if (key.find(',') == std::string_view::npos) untagged->insert(fmt::format("{}.{}", key, field));
  };
  auto r2 = [](double v) { return std::round(v * 100.0) / 100.0; };
  for (int i = 0; i < 360; ++i) {
    const int64_t ts = kEnd - 359 * 60 + i * 60;
    const double x = i;
    emit("app.web1", "cpu", ts, r2(50 + 30 * std::sin(x / 17.0)));
    if (!(i % 23 == 5 || (i >= 100 && i < 105))) {
      emit("app.web2", "cpu", ts, r2(40 + 20 * std::cos(x / 11.0)));
    }
    emit("app.db1", "cpu", ts, i % 40 == 7 ? 0.0 : r2(10 * std::sin(x / 7.0)));
    emit("app.web1", "requests", ts, i < 200 ? 1000.0 + 37 * i : 37.0 * (i - 200));
    if (i % 31 != 0) emit("app.web2", "requests", ts, 5000.0 + 53 * i);
    for (int room = 1; room <= 3; ++room) {
      emit(fmt::format("sensors.room{}", room), "temperature", ts,
           r2(20 + room + 2 * std::sin(x / (9.0 + room))));
    }
    emit("sensors.room3", "humidity", ts, r2(45 + 5 * std::cos(x / 13.0)));
    const char* hosts[][2] = {{"web-1", "east"}, {"web-2", "east"}, {"db-1", "west"}};
    for (int h = 0; h < 3; ++h) {
      emit(fmt::format("cpu,host={},dc={}", hosts[h][0], hosts[h][1]), "usage", ts,
           r2(30 + 10 * std::sin(x / 5.0 + h)));
    }
    emit("mem,host=web-1,dc=east", "free", ts, 1024.0 + i);
  }
  for (int i = 0; i < 2160; ++i) {
    const int64_t ts = kEnd - 2159 * 10 + i * 10;
    if (i % 97 != 3) emit("app.web1", "latency", ts, r2(100 + 50 * std::sin(i / 29.0)));
  }
  return out;
}

std::string UrlEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// Both servers on the same data, shared by the tests of one process.
struct Peers {
  TempDir dir;
  std::unique_ptr<GraphiteWeb> graphite;
  std::unique_ptr<ServerProcess> sluice;
  std::unique_ptr<HttpClient> graphite_client;
  std::unique_ptr<HttpClient> sluice_client;
  std::string error;  // why the setup failed; "" when both run
};

Peers* peers = nullptr;

void StartPeers() {
  peers = new Peers();
  Peers& p = *peers;
  const std::string tools = SLUICE_GRAPHITE_TOOLS_DIR;
  std::string why;
  if (!GraphiteWeb::Available(tools, &why)) {
    p.error = why;
    return;
  }
  std::set<std::string> untagged;
  const std::string lp = WriteLineProtocol(&untagged);
  const std::string lp_path = p.dir.WriteFile("data.lp", lp);
  const std::string whisper = p.dir.path() + "/whisper";
  if (!GraphiteWeb::MakeWhisper(tools, whisper, lp_path, &p.error)) return;
  // Sluice's tag endpoints and seriesByTag see every series (its name is the "name" tag;
  // protocol/graphite_api.h); graphite-web's tag database holds what is registered in it, which
  // with carbon is only the tagged series. Registering the untagged ones too (as series with only
  // a name tag; serve.sh reads the listing) makes the two comparable.
  {
    std::ofstream listing(whisper + "/.tagged-series", std::ios::app);
    for (const std::string& name : untagged) listing << name << "\n";
    if (!listing) {
      p.error = "cannot append to " + whisper + "/.tagged-series";
      return;
    }
  }
  p.graphite = GraphiteWeb::Start(tools, whisper, p.dir.path() + "/graphite",
                                  /*workers=*/2, &p.error);
  if (!p.graphite) return;

  ServerConfig config;
  config.demo = false;
  config.config_toml = "[store]\nretention = \"0\"\n";
  p.sluice = ServerProcess::Start(config, &p.error);
  if (!p.sluice) return;
  p.sluice_client = std::make_unique<HttpClient>(p.sluice->port());
  p.graphite_client = std::make_unique<HttpClient>(p.graphite->port());
  HttpResponse w = p.sluice_client->Request("POST", "/write?db=side&precision=s", lp);
  if (w.status != 204) {
    p.error = "POST /write to Sluice: " + w.Describe();
    return;
  }
}

class GraphiteSideBySide : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { StartPeers(); }
  static void TearDownTestSuite() {
    if (peers != nullptr && peers->sluice) peers->sluice->Stop();
    if (peers != nullptr && peers->graphite) peers->graphite->Stop();
    delete peers;
    peers = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(peers, nullptr);
    ASSERT_TRUE(peers->error.empty()) << peers->error;
  }
  void TearDown() override {
    if (HasFailure() && peers != nullptr && peers->graphite) {
      std::string log = peers->graphite->LogText();
      if (log.size() > 4000) log = "…" + log.substr(log.size() - 4000);
      if (!log.empty()) std::cerr << "--- graphite-web log (end) ---\n" << log << "\n";
    }
  }
};

// One request, sent as is to both.
struct Exchange {
  HttpResponse sluice;
  HttpResponse graphite;
};

Exchange Both(std::string_view method, const std::string& target, const std::string& body = "") {
  Headers headers;
  if (!body.empty()) headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  Exchange e;
  e.sluice = peers->sluice_client->Request(method, target, body, headers, 30'000);
  e.graphite = peers->graphite_client->Request(method, target, body, headers, 60'000);
  return e;
}

std::string Short(std::string_view s, size_t n = 300) {
  return s.size() <= n ? std::string(s) : std::string(s.substr(0, n)) + "…";
}

bool Close(double a, double b) {
  if (a == b) return true;
  double diff = std::fabs(a - b);
  return diff <= kAbsoluteError || diff <= kRelativeError * std::max(std::fabs(a), std::fabs(b));
}

// Compares two /render JSON answers; returns "" when they agree, else what differs (the first few
// differences).
std::string CompareRender(std::string_view sluice_text, std::string_view graphite_text) {
  JsonDoc s = JsonDoc::Parse(sluice_text);
  JsonDoc g = JsonDoc::Parse(graphite_text);
  if (!g.ok()) return "graphite-web's answer is not JSON: " + g.error();
  if (!s.ok()) return "Sluice's answer is not JSON: " + s.error();
  std::vector<JsonElement> ss = Elements(s.root());
  std::vector<JsonElement> gs = Elements(g.root());
  if (!IsArray(s.root())) return "Sluice's answer is not an array: " + Short(sluice_text);
  std::vector<std::string> problems;
  auto names = [](const std::vector<JsonElement>& list) {
    std::vector<std::string> out;
    for (JsonElement e : list) out.push_back(StringField(e, "target").value_or("<no target>"));
    return out;
  };
  if (names(ss) != names(gs)) {
    return fmt::format("series differ:\n  Sluice:       {}\n  graphite-web: {}",
                       fmt::join(names(ss), " | "), fmt::join(names(gs), " | "));
  }
  for (size_t i = 0; i < gs.size() && problems.size() < 6; ++i) {
    const std::string name = names(gs)[i];
    auto gt = Field(gs[i], "tags");
    auto st = Field(ss[i], "tags");
    std::string gtags = gt ? CanonicalJson(*gt) : "<none>";
    std::string stags = st ? CanonicalJson(*st) : "<none>";
    if (gtags != stags) {
      problems.push_back(
          fmt::format("{}: tags Sluice {} vs graphite-web {}", name, stags, gtags));
    }
    auto gp = Field(gs[i], "datapoints");
    auto sp = Field(ss[i], "datapoints");
    if (!sp || !IsArray(*sp)) {
      problems.push_back(name + ": Sluice has no datapoints array");
      continue;
    }
    std::vector<JsonElement> gpts = Elements(*gp);
    std::vector<JsonElement> spts = Elements(*sp);
    size_t n = std::min(gpts.size(), spts.size());
    if (gpts.size() != spts.size()) {
      problems.push_back(fmt::format("{}: {} points in Sluice, {} in graphite-web", name,
                                     spts.size(), gpts.size()));
    }
    for (size_t k = 0; k < n; ++k) {
      std::vector<JsonElement> a = Elements(spts[k]);
      std::vector<JsonElement> b = Elements(gpts[k]);
      if (a.size() != 2 || b.size() != 2) {
        problems.push_back(fmt::format("{}: point {} is {} (Sluice) / {} (graphite-web)", name,
                                       k, ToJson(spts[k]), ToJson(gpts[k])));
        break;
      }
      std::optional<double> at = AsDouble(a[1]);
      std::optional<double> bt = AsDouble(b[1]);
      if (!at || !bt || *at != *bt) {
        problems.push_back(fmt::format("{}: point {} at time {} (Sluice) vs {} (graphite-web)",
                                       name, k, ToJson(a[1]), ToJson(b[1])));
        break;
      }
      if (IsNull(a[0]) != IsNull(b[0])) {
        problems.push_back(fmt::format("{}: at {} Sluice {} vs graphite-web {}", name, ToJson(b[1]),
                                       ToJson(a[0]), ToJson(b[0])));
        break;
      }
      if (IsNull(a[0])) continue;
      std::optional<double> av = AsDouble(a[0]);
      std::optional<double> bv = AsDouble(b[0]);
      if (!av || !bv || !Close(*av, *bv)) {
        problems.push_back(fmt::format("{}: at {} Sluice {} vs graphite-web {}", name, ToJson(b[1]),
                                       ToJson(a[0]), ToJson(b[0])));
        break;
      }
    }
  }
  std::string out;
  for (const std::string& p : problems) out += "\n  " + p;
  return out;
}

// A /render request: target, window and maxDataPoints (0 = none).
struct RenderCase {
  std::string target;
  std::string from = std::to_string(kFrom);
  std::string until = std::to_string(kEnd);
  int max_data_points = 0;
};

std::string RenderForm(const RenderCase& c) {
  std::string body = fmt::format("target={}&from={}&until={}&format=json&now={}",
                                 UrlEncode(c.target), UrlEncode(c.from), UrlEncode(c.until), kEnd);
  if (c.max_data_points > 0) body += fmt::format("&maxDataPoints={}", c.max_data_points);
  return body;
}

std::string Describe(const RenderCase& c) {
  return fmt::format("target={} from={} until={}{}", c.target, c.from, c.until,
                     c.max_data_points > 0 ? fmt::format(" maxDataPoints={}", c.max_data_points)
                                           : "");
}

// Sends `c` to both (POST form, or GET with the same parameters) and compares; a failure names the
// request. Returns whether they agreed.
bool ExpectSameRender(const RenderCase& c, bool get = false) {
  const std::string form = RenderForm(c);
  Exchange e = get ? Both("GET", "/render?" + form) : Both("POST", "/render", form);
  const std::string what = fmt::format("{} /render {}", get ? "GET" : "POST", Describe(c));
  if (e.graphite.status != 200) {
    ADD_FAILURE() << what << ": graphite-web answered " << e.graphite.Describe()
                  << " (the test's case is wrong)";
    return false;
  }
  if (e.graphite.body.size() <= 3) {
    ADD_FAILURE() << what << ": graphite-web answered [] — a case that checks nothing";
    return false;
  }
  if (e.sluice.status != 200) {
    ADD_FAILURE() << what << ": Sluice answered " << e.sluice.Describe();
    return false;
  }
  std::string diff = CompareRender(e.sluice.body, e.graphite.body);
  if (!diff.empty()) {
    ADD_FAILURE() << what << ":" << diff;
    return false;
  }
  return true;
}

// The targets: plain paths, globs, braces, character classes, tags, and expressions from every
// function group. Every one answers at least one series with data on both sides.
const std::vector<std::string>& Targets() {
  static const std::vector<std::string> targets = {
      // paths
      "app.web1.cpu",
      "app.*.cpu",
      "app.web*.cpu",
      "app.{web1,db1}.cpu",
      "sensors.room[12].temperature",
      "sensors.*.*",
      "app.web2.cpu",
      "app.web1.latency",
      "seriesByTag('name=cpu.usage')",
      "seriesByTag('dc=east', 'host=~web.*')",
      // combine
      "sumSeries(app.*.cpu)",
      "averageSeries(sensors.*.temperature)",
      "maxSeries(app.web1.cpu, app.web1.latency)",
      "sumSeriesWithWildcards(app.*.requests, 1)",
      "groupByNode(app.*.*, 2, 'sumSeries')",
      "groupByTags(seriesByTag('name=cpu.usage'), 'averageSeries', 'dc')",
      "asPercent(app.web1.cpu, sumSeries(app.*.cpu))",
      "asPercent(app.*.cpu)",
      "diffSeries(app.web1.cpu, app.web2.cpu)",
      // naming
      "aliasByNode(app.*.cpu, 1)",
      "aliasByTags(seriesByTag('name=cpu.usage'), 'host')",
      "alias(maxSeries(app.*.cpu), 'peak')",
      "aliasByMetric(sensors.*.*)",
      // transform
      "scale(app.db1.cpu, 2.5)",
      "perSecond(app.*.requests)",
      "nonNegativeDerivative(app.web1.requests)",
      "derivative(sensors.room1.temperature)",
      "integral(app.db1.cpu)",
      "absolute(app.db1.cpu)",
      "offset(sensors.room2.temperature, -20)",
      "transformNull(app.web2.cpu, 0)",
      "keepLastValue(app.web2.cpu)",
      "timeShift(app.web1.cpu, '1h')",
      "summarize(app.web1.cpu, '1h')",
      "summarize(app.web1.requests, '30min', 'max')",
      // window
      "movingAverage(app.web1.cpu, 5)",
      "movingAverage(app.web2.cpu, '10min')",
      "movingMax(app.web1.latency, '5min')",
      // filter and sort
      "highestMax(app.*.cpu, 2)",
      "lowestAverage(sensors.*.temperature, 1)",
      "removeBelowValue(app.db1.cpu, 0)",
      "sortByName(sensors.*.*)",
      "sortByMaxima(app.*.cpu)",
      "exclude(app.*.cpu, 'db')",
      // nested and pipes
      "aliasByNode(movingAverage(sumSeries(app.web*.cpu), '5min'), 1)",
      "app.web*.cpu|scale(2)|alias('doubled')",
  };
  return targets;
}

TEST_F(GraphiteSideBySide, Render) {
  int agreed = 0;
  for (const std::string& target : Targets()) {
    RenderCase c;
    c.target = target;
    agreed += ExpectSameRender(c);
  }
  EXPECT_EQ(agreed, static_cast<int>(Targets().size()));
}

TEST_F(GraphiteSideBySide, RenderWithMaxDataPoints) {
  int agreed = 0;
  int cases = 0;
  for (const std::string& target : Targets()) {
    RenderCase c;
    c.target = target;
    c.max_data_points = 100;
    agreed += ExpectSameRender(c);
    ++cases;
  }
  // Unaligned windows, uneven bucket counts, a single point, GET, Graphite's HH:MM_YYYYMMDD form.
  for (const char* target : {"app.web1.latency", "sumSeries(app.*.cpu)", "app.web2.cpu",
                             "movingAverage(app.web1.cpu, 5)"}) {
    RenderCase c;
    c.target = target;
    c.from = std::to_string(kFrom + 17);
    c.until = std::to_string(kEnd - 29);
    for (int mdp : {0, 37, 1}) {
      c.max_data_points = mdp;
      agreed += ExpectSameRender(c);
      ++cases;
    }
  }
  RenderCase get;
  get.target = "app.*.cpu";
  get.max_data_points = 50;
  agreed += ExpectSameRender(get, /*get=*/true);
  ++cases;
  RenderCase clock;
  clock.target = "app.{web1,web2}.cpu";
  clock.from = "19:00_20231114";  // kFrom
  clock.until = "21:30_20231114";
  agreed += ExpectSameRender(clock);
  ++cases;
  EXPECT_EQ(agreed, cases);
}

// The tree entries of a /metrics/find answer, each as JSON of its five fields, without the nodes
// in `drop` (see the top of the file).
std::vector<std::string> TreeEntries(std::string_view text, const std::set<std::string>& drop,
                                     std::string* error) {
  std::vector<std::string> out;
  JsonDoc doc = JsonDoc::Parse(text);
  if (!doc.ok() || !IsArray(doc.root())) {
    *error = "not a JSON array: " + Short(text);
    return out;
  }
  for (JsonElement e : Elements(doc.root())) {
    std::optional<std::string> id = StringField(e, "id");
    if (id && drop.contains(*id)) continue;
    std::string entry = "{";
    for (std::string_view key : {"text", "id", "leaf", "expandable", "allowChildren"}) {
      std::optional<JsonElement> v = Field(e, key);
      entry += fmt::format("{}{}:{}", entry.size() > 1 ? "," : "", key,
                           v ? ToJson(*v) : std::string("<missing>"));
    }
    out.push_back(entry + "}");
  }
  return out;
}

TEST_F(GraphiteSideBySide, MetricsFind) {
  const std::string range = fmt::format("&from={}&until={}", kFrom, kEnd);
  for (const char* query : {"*", "app.*", "app.web*.*", "app.{web1,db1}.*", "sensors.room[12].*",
                            "sensors.*.*", "app.web1.cpu", "app.web1.c*", "*.web*", "*.room?", "nosuch.*"}) {
    for (bool post : {false, true}) {
      const std::string params = "query=" + UrlEncode(query) + range;
      Exchange e = post ? Both("POST", "/metrics/find", params)
                        : Both("GET", "/metrics/find?" + params);
      const std::string what =
          fmt::format("{} /metrics/find query={}", post ? "POST" : "GET", query);
      ASSERT_EQ(e.graphite.status, 200) << what << ": graphite-web " << e.graphite.Describe();
      if (e.sluice.status != 200) {
        ADD_FAILURE() << what << ": Sluice answered " << e.sluice.Describe();
        continue;
      }
      std::string error;
      std::vector<std::string> g = TreeEntries(e.graphite.body, {"_tagged"}, &error);
      ASSERT_TRUE(error.empty()) << what << ": graphite-web: " << error;
      std::vector<std::string> s =
          TreeEntries(e.sluice.body, {"cpu", "cpu.usage", "mem", "mem.free"}, &error);
      EXPECT_TRUE(error.empty()) << what << ": Sluice: " << error;
      EXPECT_EQ(s, g) << what << "\n  Sluice:       " << fmt::format("{}", fmt::join(s, " "))
                      << "\n  graphite-web: " << fmt::format("{}", fmt::join(g, " "));
    }
  }
}

// /tags lists {"id", "tag"} with graphite-web's database row ids, which mean nothing to a
// client: only the tags are compared, in order.
std::string TagNames(std::string_view text) {
  JsonDoc doc = JsonDoc::Parse(text);
  if (!doc.ok() || !IsArray(doc.root())) return "not a JSON array: " + Short(text);
  std::vector<std::string> tags;
  for (JsonElement e : Elements(doc.root())) tags.push_back(StringField(e, "tag").value_or("?"));
  return fmt::format("{}", fmt::join(tags, ","));
}

TEST_F(GraphiteSideBySide, Tags) {
  for (const char* request : {"/tags", "/tags?filter=d"}) {
    Exchange e = Both("GET", request);
    ASSERT_EQ(e.graphite.status, 200) << request << ": graphite-web " << e.graphite.Describe();
    EXPECT_EQ(e.sluice.status, 200) << request << ": Sluice " << e.sluice.Describe();
    EXPECT_EQ(TagNames(e.sluice.body), TagNames(e.graphite.body)) << request;
  }
  for (const char* request : {
           "/tags/autoComplete/tags",
           "/tags/autoComplete/tags?tagPrefix=h",
           "/tags/autoComplete/tags?expr=name%3Dcpu.usage",
           "/tags/autoComplete/tags?expr=dc%3Deast&expr=host%3Dweb-1",
           "/tags/autoComplete/values?tag=host",
           "/tags/autoComplete/values?tag=host&valuePrefix=web",
           "/tags/autoComplete/values?tag=host&expr=dc%3Deast",
           "/tags/autoComplete/values?tag=name",
           "/tags/autoComplete/values?tag=dc&expr=host%3D~web.*",
           "/tags/findSeries?expr=name%3Dcpu.usage",
           "/tags/findSeries?expr=dc%3Deast",
           "/tags/findSeries?expr=host%3D~web.*&expr=dc%3Deast",
           "/tags/findSeries?expr=name%3D~cpu",
       }) {
    Exchange e = Both("GET", request);
    ASSERT_EQ(e.graphite.status, 200) << request << ": graphite-web " << e.graphite.Describe();
    ASSERT_GT(e.graphite.body.size(), 2u) << request << ": graphite-web answered nothing";
    EXPECT_EQ(e.sluice.status, 200) << request << ": Sluice " << e.sluice.Describe();
    EXPECT_EQ(CanonicalJson(e.sluice.body), CanonicalJson(e.graphite.body)) << request;
  }
  // The form the tag editor posts, and an expression graphite-web refuses (every term matches the
  // empty value): a 400 on both.
  Exchange post = Both("POST", "/tags/autoComplete/values", "tag=host&expr=dc%3Deast");
  ASSERT_EQ(post.graphite.status, 200) << post.graphite.Describe();
  EXPECT_EQ(CanonicalJson(post.sluice.body), CanonicalJson(post.graphite.body))
      << "POST /tags/autoComplete/values";
  Exchange bad = Both("GET", "/tags/findSeries?expr=dc%21%3Deast");
  ASSERT_EQ(bad.graphite.status, 400) << bad.graphite.Describe();
  EXPECT_EQ(bad.sluice.status, 400) << "findSeries dc!=east: Sluice " << bad.sluice.Describe();
}

}  // namespace
}  // namespace sluice::testing
