// Line protocol ingest speed: how many fields per second one core turns from a Telegraf-like body
// into LinePoints. The goal is >= 5M fields/s; compare the pull parser with the std::function
// convenience wrapper to see what the callback costs.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "store/line_protocol.h"

namespace {

using sluice::store::LineParser;
using sluice::store::LinePoint;
using sluice::store::Precision;

struct Body {
  std::string text;
  size_t lines = 0;
  size_t fields = 0;
};

// 5,000 lines as Telegraf's cpu, mem and disk inputs write them: sorted tags, 3-10 fields, floats
// with a few decimals, integers, ns timestamps 10 s apart.
const Body& TelegrafBody() {
  static const Body body = [] {
    Body b;
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> pct(0, 100);
    auto round2 = [](double v) { return static_cast<double>(static_cast<int64_t>(v * 100)) / 100; };
    int64_t ns = 1'700'000'000'000'000'000;
    const char* cpu_fields[] = {"usage_user",    "usage_system",    "usage_idle",  "usage_nice",
                                "usage_iowait",  "usage_irq",       "usage_steal", "usage_guest",
                                "usage_softirq", "usage_guest_nice"};
    while (b.lines < 5000) {
      const std::string host = fmt::format("web-{}", b.lines % 7);
      switch (b.lines % 4) {
        case 0:
        case 1: {  // cpu: 3, 5 or 10 fields
          const int n = b.lines % 3 == 0 ? 3 : (b.lines % 3 == 1 ? 5 : 10);
          b.text += fmt::format("cpu,cpu=cpu{},host={} ", b.lines % 8, host);
          for (int i = 0; i < n; ++i) {
            b.text += fmt::format("{}{}={}", i ? "," : "", cpu_fields[i], round2(pct(rng)));
          }
          b.fields += n;
          break;
        }
        case 2:  // mem: 6 fields
          b.text += fmt::format(
              "mem,host={} total=8589934592i,used={}i,free={}i,cached={}i,available_percent={},"
              "used_percent={}",
              host, rng() % 8'589'934'592, rng() % 8'589'934'592, rng() % 1'000'000'000,
              round2(pct(rng)), round2(pct(rng)));
          b.fields += 6;
          break;
        default:  // disk: 7 fields
          b.text += fmt::format(
              "disk,device=nvme0n1p2,fstype=ext4,host={},mode=rw,path=/ total=502468108288i,"
              "free={}i,used={}i,used_percent={},inodes_total=31227904i,inodes_free={}i,"
              "inodes_used={}i",
              host, rng() % 502'468'108'288, rng() % 502'468'108'288, round2(pct(rng)),
              rng() % 31'227'904, rng() % 31'227'904);
          b.fields += 7;
          break;
      }
      b.text += fmt::format(" {}\n", ns);
      ns += 10'000'000'000;
      ++b.lines;
    }
    return b;
  }();
  return body;
}

void Report(benchmark::State& state, const Body& body) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.text.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * body.fields));
  state.counters["fields/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * body.fields), benchmark::Counter::kIsRate);
  state.counters["lines/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * body.lines), benchmark::Counter::kIsRate);
}

void BM_LineParserPull(benchmark::State& state) {
  const Body& body = TelegrafBody();
  LinePoint point;
  double sum = 0;
  for (auto _ : state) {
    LineParser parser(body.text, Precision::kNanoseconds, 0);
    while (parser.Next(&point, nullptr) == LineParser::Step::kPoint) {
      sum += point.fields[0].number;
    }
    benchmark::DoNotOptimize(sum);
  }
  Report(state, body);
}
BENCHMARK(BM_LineParserPull);

void BM_ParseLineProtocolCallback(benchmark::State& state) {
  const Body& body = TelegrafBody();
  std::vector<sluice::store::LineError> errors;
  size_t bad = 0;
  double sum = 0;
  for (auto _ : state) {
    sluice::store::ParseLineProtocol(
        body.text, Precision::kNanoseconds, 0,
        [&sum](const LinePoint& point) { sum += point.fields[0].number; }, &errors, &bad);
    benchmark::DoNotOptimize(sum);
  }
  if (bad != 0) state.SkipWithError("bad lines in the benchmark body");
  Report(state, body);
}
BENCHMARK(BM_ParseLineProtocolCallback);

// Every line bad (a missing field value): the cost of the error path when messages are built for
// the first 100 only.
void BM_ParseLineProtocolAllBad(benchmark::State& state) {
  static const Body bad_body = [] {
    Body b;
    for (; b.lines < 5000; ++b.lines) b.text += "cpu,host=web-1 usage_user= 1700000000000000000\n";
    return b;
  }();
  std::vector<sluice::store::LineError> errors;
  size_t bad = 0;
  for (auto _ : state) {
    sluice::store::ParseLineProtocol(
        bad_body.text, Precision::kNanoseconds, 0, [](const LinePoint&) {}, &errors, &bad);
    benchmark::DoNotOptimize(bad);
  }
  state.counters["lines/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * bad_body.lines), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ParseLineProtocolAllBad);

}  // namespace
