// Expression engine micro benchmarks (issue 5). Inputs are generated in memory, deterministically:
// 100 series bench.h000.cpu .. bench.h099.cpu of one day at 10 s (8,640 points each) and one series
// bench.long.cpu of 30 days at 10 s (259,200 points); values are random walks in [0, 100] with two
// decimals, no gaps. items_per_second is always the number of INPUT points the expression reads
// (864,000 for the sumSeries cases, 259,200 for the single-series ones), per second.
//
// Each expression runs in four ways, from the whole request down to the function alone:
//   BM_Query/<case>   JsonApi::Query in process: decode the /query body, evaluate, consolidate
//                     (maxDataPoints 1,000,000: nothing is consolidated), encode every point as JSON.
//   BM_Engine/<case>  query::Engine::Evaluate (plan from its cache) over a MemorySource: the source
//                     copies the points in range (times and values), SourceFetcher lays them on a
//                     grid, the evaluator runs the functions.
//   BM_Eval/<case>    expr::Evaluate of a pre-bound plan over GridFetcher (below), which hands out
//                     pre-built grids: one copy of the values, no time vectors, no grid building.
//   BM_Kernel/<case>  only the outermost function's kernel: its eagerly evaluated series arguments
//                     are fetched with the timer paused. Lazy arguments (movingAverage's, which it
//                     evaluates itself over a wider window) are fetched inside the timed kernel.
// Plus the bare fetch of the inputs (the "fetch" cases), ConsolidateForRender, and a plain
// `out[i] = in[i] * 2` loop over 259,200 doubles (a fresh copy per iteration, like a kernel that
// gets its input by value) as this machine's memory-bandwidth reference.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "common/time.h"
#include "expr/binder.h"
#include "expr/evaluator.h"
#include "expr/parser.h"
#include "expr/registry.h"
#include "expr/series_list.h"
#include "protocol/json_api.h"
#include "query/engine.h"
#include "source/memory_source.h"

namespace {

using sluice::Status;
using sluice::TimeRange;
using sluice::expr::SeriesList;
using sluice::expr::TimeSeries;

constexpr int64_t kStepMs = 10'000;
constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kEndMs = 1'795'392'000'000;  // a UTC midnight; the last point of every input
constexpr int kHosts = 100;
constexpr int64_t kDayPoints = kDayMs / kStepMs;         // 8,640
constexpr int64_t kMonthPoints = 30 * kDayMs / kStepMs;  // 259,200

std::vector<double> RandomWalk(uint64_t seed, int64_t n) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> step(-2, 2);
  double v = std::uniform_real_distribution<double>(0, 100)(rng);
  std::vector<double> out(static_cast<size_t>(n));
  for (auto& x : out) {
    v = std::clamp(v + step(rng), 0.0, 100.0);
    x = std::round(v * 100) / 100;
  }
  return out;
}

// A fetcher over pre-built grids (the evaluator's own layout): a fetch copies the part of each
// grid inside the window and fills the rest with None. The cheapest fetch a columnar source could
// offer; the gap between BM_Eval and BM_Engine is what the SeriesSource path costs on top.
class GridFetcher : public sluice::expr::Fetcher {
 public:
  void Add(TimeSeries s) { grids_.push_back(std::move(s)); }

  Status Fetch(const sluice::NameMatcher& matcher, const std::vector<sluice::TagFilter>&,
               std::string_view path_expression, const TimeRange& range,
               sluice::expr::EvalContext&, SeriesList* out) override {
    for (const TimeSeries& g : grids_) {
      if (!matcher.Matches(g.name)) continue;
      TimeSeries s;
      s.name = g.name;
      s.tags = g.tags;
      s.path_expression = std::string(path_expression);
      s.step = g.step;
      // graphite's window: step multiples t with from < t <= until.
      s.start = (range.from_ms / g.step + 1) * g.step;
      const int64_t end = (range.to_ms / g.step + 1) * g.step;
      s.values.assign(static_cast<size_t>(std::max<int64_t>(1, (end - s.start) / g.step)),
                      sluice::expr::kNone);
      const int64_t lo = std::max(s.start, g.start), hi = std::min(s.end(), g.end());
      if (lo < hi) {
        std::memcpy(s.values.data() + (lo - s.start) / g.step,
                    g.values.data() + (lo - g.start) / g.step,
                    static_cast<size_t>((hi - lo) / g.step) * sizeof(double));
      }
      out->push_back(std::move(s));
    }
    return Status::OK();
  }

 private:
  std::vector<TimeSeries> grids_;  // sorted by name
};

struct Data {
  std::shared_ptr<sluice::MemorySource> source = std::make_shared<sluice::MemorySource>("bench");
  GridFetcher grids;
};

void AddInput(Data* d, const std::string& name, int64_t points, uint64_t seed) {
  std::vector<double> values = RandomWalk(seed, points);
  const int64_t start = kEndMs - (points - 1) * kStepMs;
  sluice::Series s;
  s.name = name;
  s.times_ms.resize(values.size());
  for (size_t i = 0; i < values.size(); ++i) s.times_ms[i] = start + static_cast<int64_t>(i) * kStepMs;
  s.values = values;
  d->source->AddSeries(std::move(s));
  TimeSeries g;
  g.name = name;
  g.tags.Set("name", name);
  g.start = start;
  g.step = kStepMs;
  g.values = std::move(values);
  d->grids.Add(std::move(g));
}

Data& GetData() {
  static Data* data = [] {
    auto* d = new Data;
    char name[32];
    for (int h = 0; h < kHosts; ++h) {
      std::snprintf(name, sizeof(name), "bench.h%03d.cpu", h);
      AddInput(d, name, kDayPoints, 1000 + static_cast<uint64_t>(h));
    }
    AddInput(d, "bench.long.cpu", kMonthPoints, 7);
    return d;
  }();
  return *data;
}

struct Case {
  const char* label;
  const char* target;
  bool month;  // 30-day window (bench.long.cpu) rather than one day (bench.h*.cpu)
  // BM_Kernel applies: the outermost function does the work. Not for nested4 (the outermost
  // aliasByNode only renames; its paused set-up would dominate the run time).
  bool kernel = true;
};

// The window (from, to] of graphite's fetch rule: exactly the points of the inputs.
TimeRange RangeOf(const Case& c) {
  const int64_t span = c.month ? 30 * kDayMs : kDayMs;
  return TimeRange{kEndMs - span, kEndMs};
}
int64_t InputPoints(const Case& c) { return c.month ? kMonthPoints : kHosts * kDayPoints; }

const Case kCases[] = {
    {"fetch_long", "bench.long.cpu", true, false},
    {"fetch_100x8640", "bench.h*.cpu", false, false},
    {"scale", "scale(bench.long.cpu, 2)", true},
    {"offset", "offset(bench.long.cpu, 1)", true},
    {"sumSeries_100x8640", "sumSeries(bench.h*.cpu)", false},
    {"movingAverage_60", "movingAverage(bench.long.cpu, 60)", true},
    {"summarize_1h", "summarize(bench.long.cpu, '1h')", true},
    {"nested4", "aliasByNode(movingAverage(sumSeries(bench.h*.cpu), '5min'), 1)", false, false},
};

// True when every function `text` calls is registered (function files land one by one).
bool Available(const char* text, std::string* missing) {
  auto ast = sluice::ParseExpression(text);
  if (!ast.ok()) {
    *missing = ast.status().message();
    return false;
  }
  auto bound = sluice::expr::Bind(**ast, sluice::expr::Registry::Default());
  if (!bound.ok()) {
    *missing = bound.status().message();
    return false;
  }
  return true;
}

void Finish(benchmark::State& state, const Case& c, size_t out_series, size_t out_points) {
  state.SetItemsProcessed(state.iterations() * InputPoints(c));
  state.counters["out_series"] = static_cast<double>(out_series);
  state.counters["out_points"] = static_cast<double>(out_points);
}

size_t Points(const SeriesList& list) {
  size_t n = 0;
  for (const auto& s : list) n += s.size();
  return n;
}

void BM_Query(benchmark::State& state, const Case& c) {
  Data& d = GetData();
  sluice::protocol::JsonApi api(d.source, {});
  const TimeRange r = RangeOf(c);
  // The JSON escape of the target: only the quotes of summarize('1h') need none (single quotes).
  const std::string body =
      "{\"range\":{\"from\":\"" + sluice::FormatTimestampMs(r.from_ms) + "\",\"to\":\"" +
      sluice::FormatTimestampMs(r.to_ms) + "\"},\"intervalMs\":10000,\"maxDataPoints\":1000000," +
      "\"targets\":[{\"refId\":\"A\",\"target\":\"" + c.target + "\"}]}";
  std::string out;
  for (auto _ : state) {
    out.clear();
    Status s = api.Query(body, &out);
    if (!s.ok()) {
      state.SkipWithError(s.message().c_str());
      return;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * InputPoints(c));
  state.counters["response_bytes"] = static_cast<double>(out.size());
}

void BM_Engine(benchmark::State& state, const Case& c) {
  Data& d = GetData();
  sluice::query::Engine engine(d.source, {});
  sluice::query::EvalRequest request;
  request.target = c.target;
  request.range = RangeOf(c);
  request.now_ms = request.range.to_ms;
  SeriesList out;
  for (auto _ : state) {
    out.clear();
    Status s = engine.Evaluate(request, &out);
    if (!s.ok()) {
      state.SkipWithError(s.message().c_str());
      return;
    }
    benchmark::DoNotOptimize(out.data());
  }
  Finish(state, c, out.size(), Points(out));
}

std::unique_ptr<sluice::expr::BoundExpr> BindOrDie(const char* text) {
  auto ast = sluice::ParseExpression(text);
  auto bound = sluice::expr::Bind(**ast, sluice::expr::Registry::Default());
  return std::move(*bound);
}

void BM_Eval(benchmark::State& state, const Case& c) {
  Data& d = GetData();
  auto plan = BindOrDie(c.target);
  SeriesList out;
  for (auto _ : state) {
    out.clear();
    sluice::expr::EvalContext ctx(&d.grids, RangeOf(c), RangeOf(c).to_ms, {});
    Status s = sluice::expr::Evaluate(*plan, ctx, &out);
    if (!s.ok()) {
      state.SkipWithError(s.message().c_str());
      return;
    }
    benchmark::DoNotOptimize(out.data());
  }
  Finish(state, c, out.size(), Points(out));
}

// The outermost call's arguments as the evaluator would pass them (series evaluated unless lazy).
Status Arguments(const sluice::expr::BoundExpr& call, sluice::expr::EvalContext& ctx,
                 std::vector<sluice::expr::Value>* fixed, std::vector<sluice::expr::Value>* rest) {
  using sluice::expr::BoundExpr;
  using sluice::expr::Value;
  fixed->assign(call.fixed_params, Value());
  rest->clear();
  const auto& params = call.function->params;
  for (size_t i = 0; i < call.args.size(); ++i) {
    const BoundExpr* arg = call.args[i].get();
    Value* v = i < call.fixed_params ? &(*fixed)[i] : &rest->emplace_back();
    if (arg == nullptr || params[std::min(i, params.size() - 1)].lazy) continue;
    v->column = arg->column;
    switch (arg->kind) {
      case BoundExpr::Kind::kPath:
      case BoundExpr::Kind::kCall:
        v->kind = Value::Kind::kSeries;
        SLUICE_RETURN_IF_ERROR(sluice::expr::Evaluate(*arg, ctx, &v->series));
        break;
      case BoundExpr::Kind::kString: v->kind = Value::Kind::kString; v->text = arg->text; break;
      case BoundExpr::Kind::kNumber:
        v->kind = Value::Kind::kNumber;
        v->number = arg->number;
        v->is_integer = arg->is_integer;
        break;
      case BoundExpr::Kind::kBool: v->kind = Value::Kind::kBool; v->boolean = arg->boolean; break;
      case BoundExpr::Kind::kNone: break;
    }
  }
  return Status::OK();
}

void BM_Kernel(benchmark::State& state, const Case& c) {
  Data& d = GetData();
  auto plan = BindOrDie(c.target);
  SeriesList out;
  std::vector<sluice::expr::Value> fixed, rest;
  for (auto _ : state) {
    state.PauseTiming();
    out.clear();
    sluice::expr::EvalContext ctx(&d.grids, RangeOf(c), RangeOf(c).to_ms, {});
    Status s = Arguments(*plan, ctx, &fixed, &rest);
    sluice::expr::CallArgs args(*plan, std::move(fixed), std::move(rest));
    state.ResumeTiming();
    if (s.ok()) s = plan->function->impl(ctx, args, &out);
    if (!s.ok()) {
      state.SkipWithError(s.message().c_str());
      return;
    }
    benchmark::DoNotOptimize(out.data());
  }
  Finish(state, c, out.size(), Points(out));
}

// graphite-web's render-time consolidation of the 30-day series to 1,000 points (a fresh copy per
// iteration, outside the timer).
void BM_ConsolidateForRender(benchmark::State& state) {
  Data& d = GetData();
  const Case c{"", "bench.long.cpu", true};
  SeriesList base;
  sluice::expr::EvalContext ctx(&d.grids, RangeOf(c), RangeOf(c).to_ms, {});
  auto plan = BindOrDie(c.target);
  if (!sluice::expr::Evaluate(*plan, ctx, &base).ok()) return state.SkipWithError("fetch failed");
  SeriesList list;
  for (auto _ : state) {
    state.PauseTiming();
    list = base;
    state.ResumeTiming();
    sluice::query::ConsolidateForRender(&list, state.range(0));
    benchmark::DoNotOptimize(list.data());
  }
  state.SetItemsProcessed(state.iterations() * kMonthPoints);
  state.counters["out_points"] = static_cast<double>(list[0].size());
}
BENCHMARK(BM_ConsolidateForRender)->Arg(1000)->Arg(100);

// The reference: copy 259,200 doubles (as a fetch does) and scale them in place, in a plain loop.
void BM_Reference_CopyAndScale(benchmark::State& state) {
  const std::vector<double> in = RandomWalk(7, kMonthPoints);
  for (auto _ : state) {
    std::vector<double> v = in;
    for (double& x : v) x *= 2;
    benchmark::DoNotOptimize(v.data());
  }
  state.SetItemsProcessed(state.iterations() * kMonthPoints);
}
BENCHMARK(BM_Reference_CopyAndScale);

// The same without the copy: scale in place, the floor for a point-wise kernel.
void BM_Reference_ScaleInPlace(benchmark::State& state) {
  std::vector<double> v = RandomWalk(7, kMonthPoints);
  for (auto _ : state) {
    for (double& x : v) x *= 1.0000001;
    benchmark::DoNotOptimize(v.data());
  }
  state.SetItemsProcessed(state.iterations() * kMonthPoints);
}
BENCHMARK(BM_Reference_ScaleInPlace);

}  // namespace

int main(int argc, char** argv) {
  for (const Case& c : kCases) {
    std::string missing;
    if (!Available(c.target, &missing)) {
      std::fprintf(stderr, "expr_bench: skipping %s: %s\n", c.label, missing.c_str());
      continue;
    }
    const std::string label = c.label;
    benchmark::RegisterBenchmark(("BM_Query/" + label).c_str(), BM_Query, c)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_Engine/" + label).c_str(), BM_Engine, c)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_Eval/" + label).c_str(), BM_Eval, c)
        ->Unit(benchmark::kMicrosecond);
    if (c.kernel) {
      benchmark::RegisterBenchmark(("BM_Kernel/" + label).c_str(), BM_Kernel, c)
          ->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
