#include "source/demo.h"

#include <array>
#include <cmath>
#include <string>

#include "series/consolidate.h"

namespace sluice {
namespace {

constexpr double kPi = 3.14159265358979323846;
// A random walk repeats after this many steps (about 7.6 days at 10 s): long enough not to notice.
constexpr int kWalkSteps = 1 << 16;
// Above this many raw points per series (11.5 days at 10 s) the generator samples more coarsely
// instead of materialising points only to consolidate them away.
constexpr int64_t kMaxRawPoints = 100'000;

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A closed random walk (a Brownian bridge) scaled to [-1, 1]: starts and ends at 0, so it loops
// without a jump.
const std::vector<float>& WalkTable() {
  static const std::vector<float> table = [] {
    std::vector<float> t(kWalkSteps);
    uint64_t state = 42;
    double x = 0;
    std::vector<double> raw(kWalkSteps);
    for (int i = 0; i < kWalkSteps; ++i) {
      double u = static_cast<double>(SplitMix64(&state) >> 11) * (1.0 / 9007199254740992.0);
      x += (u - 0.5);
      raw[i] = x;
    }
    double drift = raw.back() / (kWalkSteps - 1);
    double peak = 0;
    for (int i = 0; i < kWalkSteps; ++i) {
      raw[i] -= drift * i;
      peak = std::max(peak, std::fabs(raw[i]));
    }
    for (int i = 0; i < kWalkSteps; ++i) t[i] = static_cast<float>(raw[i] / peak);  // in [-1, 1]
    return t;
  }();
  return table;
}

// The step to generate at for a request: 10 s, or coarser when the range is enormous or the
// request's point budget is nearly spent.
int64_t StepFor(const FetchRequest& req) {
  const int64_t span = req.range.to_ms - req.range.from_ms;
  const int64_t cap = std::max<int64_t>(1, std::min(kMaxRawPoints, req.point_budget));
  int64_t step = kDemoStepMs;
  if (span / step >= cap) step = (span / cap / kDemoStepMs + 1) * kDemoStepMs;
  return step;
}

// Sets out to f(t) for every step-aligned timestamp t in the range.
template <typename F>
Status Generate(const FetchRequest& req, Series* out, F f) {
  if (req.range.to_ms < req.range.from_ms) return Status::OK();
  const int64_t step = StepFor(req);
  const int64_t first = req.range.from_ms >= 0 ? (req.range.from_ms + step - 1) / step * step
                                                : req.range.from_ms / step * step;
  if (req.range.to_ms < first) return Status::OK();
  const size_t n = static_cast<size_t>((req.range.to_ms - first) / step + 1);
  out->times_ms.resize(n);
  out->values.resize(n);
  int64_t* times = out->times_ms.data();
  double* values = out->values.data();
  for (size_t i = 0; i < n; ++i) {
    const int64_t t = first + static_cast<int64_t>(i) * step;
    times[i] = t;
    values[i] = f(t);
  }
  return Status::OK();
}

// Rounds to `scale` (a power of ten) decimals without a libm call.
[[gnu::always_inline]] inline double RoundTo(double v, double scale) {
  return static_cast<double>(static_cast<int64_t>(v * scale + (v >= 0 ? 0.5 : -0.5))) / scale;
}

// Initialised with the program, so the per-point path has no static-local guard.
const float* const walk_table = WalkTable().data();

[[gnu::always_inline]] inline double Walk(int64_t t, uint64_t seed, double base, double scale) {
  int64_t i = t / kDemoStepMs + static_cast<int64_t>(seed * 7919);
  return RoundTo(base + scale * walk_table[static_cast<size_t>(i) & (kWalkSteps - 1)], 1000);
}

double Sine(int64_t t, double period_ms, double phase, double mid, double amp) {
  return RoundTo(mid + amp * std::sin(2 * kPi * (static_cast<double>(t) / period_ms) + phase), 100);
}

struct Host {
  const char* name;
  const char* region;
  const char* env;
  const char* city;
};
constexpr std::array<Host, 6> kHosts = {{
    {"web-1", "eu-central", "prod", "Berlin"},
    {"web-2", "eu-west", "prod", "London"},
    {"web-3", "us-east", "prod", "New York"},
    {"web-4", "ap-northeast", "staging", "Tokyo"},
    {"db-1", "eu-central", "prod", "Berlin"},
    {"db-2", "us-east", "staging", "New York"},
}};

Tags HostTags(const Host& h) {
  return Tags{{"host", h.name}, {"region", h.region}, {"env", h.env}, {"City", h.city}};
}

void AddEvents(const TimeRange& range, std::vector<Annotation>* out) {
  constexpr int64_t kDeployEvery = 2 * 3'600'000;
  constexpr int64_t kDeployOffset = 17 * 60'000;
  constexpr int64_t kIncidentEvery = 6 * 3'600'000;
  constexpr int64_t kIncidentOffset = 3 * 3'600'000 + 40 * 60'000;
  constexpr int64_t kIncidentLength = 20 * 60'000;
  static const char* kServices[] = {"api", "web", "worker"};
  // Bound the work for absurd ranges: at most ~10,000 events of each kind.
  int64_t from = std::max(range.from_ms, range.to_ms - 10'000 * kDeployEvery);
  for (int64_t k = (from - kDeployOffset) / kDeployEvery; ; ++k) {
    int64_t t = k * kDeployEvery + kDeployOffset;
    if (t > range.to_ms) break;
    if (t < range.from_ms) continue;
    const char* service = kServices[static_cast<size_t>(k) % 3];
    const char* env = (k % 4 == 0) ? "staging" : "prod";
    Annotation a;
    a.time_ms = a.end_ms = t;
    a.title = std::string("Deployed ") + service + " v1." + std::to_string(k % 1000);
    a.text = std::string(service) + " rolled out to " + env;
    a.tags = {"deploys", env, service};
    out->push_back(std::move(a));
  }
  from = std::max(range.from_ms, range.to_ms - 10'000 * kIncidentEvery);
  for (int64_t k = (from - kIncidentOffset - kIncidentLength) / kIncidentEvery; ; ++k) {
    int64_t t = k * kIncidentEvery + kIncidentOffset;
    if (t > range.to_ms) break;
    if (t + kIncidentLength < range.from_ms) continue;
    Annotation a;
    a.time_ms = t;
    a.end_ms = t + kIncidentLength;
    a.title = "Incident #" + std::to_string(k % 10000);
    a.text = "Elevated error rate on the api";
    a.tags = {"incidents", "outage"};
    out->push_back(std::move(a));
  }
}

}  // namespace

double DemoWalk(int64_t t_ms, uint64_t seed, double base, double scale) {
  return Walk(t_ms, seed, base, scale);
}

double DemoSine(int64_t t_ms, double period_ms, double phase, double mid, double amplitude) {
  return Sine(t_ms, period_ms, phase, mid, amplitude);
}

std::shared_ptr<MemorySource> MakeDemoSource() {
  auto source = std::make_shared<MemorySource>("demo");

  const Tags upper_tags{{"City", "Berlin"}, {"host", "web-1"}, {"env", "prod"}, {"region", "eu-central"}};
  const int percentiles[] = {25, 50, 75, 90, 95};
  for (int p : percentiles) {
    source->AddGenerated("upper_" + std::to_string(p), upper_tags,
                         [p](const FetchRequest& req, Series* out) {
                           return Generate(req, out, [p](int64_t t) {
                             return std::max(0.0, Walk(t, p, p, p / 5.0));
                           });
                         });
  }

  uint64_t seed = 100;
  for (const Host& h : kHosts) {
    std::string prefix = std::string("app.") + h.name;
    double rate = 5 + static_cast<double>(seed % 7) * 3;  // requests per 10 s step
    source->AddGenerated(prefix + ".requests", HostTags(h),
                         [rate](const FetchRequest& req, Series* out) {
                           return Generate(req, out, [rate](int64_t t) {
                             return std::floor(static_cast<double>(t / kDemoStepMs % 100'000'000) * rate);
                           });
                         });
    source->AddGenerated(prefix + ".latency", HostTags(h),
                         [s = seed](const FetchRequest& req, Series* out) {
                           return Generate(req, out, [s](int64_t t) {
                             return std::max(1.0, Walk(t, s, 120, 60));
                           });
                         });
    double phase = static_cast<double>(seed % 13);
    source->AddGenerated(prefix + ".cpu", HostTags(h),
                         [phase](const FetchRequest& req, Series* out) {
                           return Generate(req, out, [phase](int64_t t) {
                             return Sine(t, 3'600'000.0 * 4, phase, 50, 45);
                           });
                         });
    ++seed;
  }

  const Tags cpu_tags = HostTags(kHosts[0]);
  const char* cpu_parts[] = {"user", "system"};
  for (int i = 0; i < 2; ++i) {
    source->AddGenerated(std::string("cpu.") + cpu_parts[i], cpu_tags,
                         [i](const FetchRequest& req, Series* out) {
                           return Generate(req, out, [i](int64_t t) {
                             return std::clamp(Walk(t, 900 + i, 30 - 15 * i, 12), 0.0, 100.0);
                           });
                         });
  }
  source->AddGenerated("cpu.total", cpu_tags, [](const FetchRequest& req, Series* out) {
    return Generate(req, out, [](int64_t t) {
      return std::clamp(Walk(t, 900, 30, 12), 0.0, 100.0) + std::clamp(Walk(t, 901, 15, 12), 0.0, 100.0);
    });
  });

  const Tags demo_tags{{"env", "demo"}};
  source->AddGenerated("demo.sine", demo_tags, [](const FetchRequest& req, Series* out) {
    return Generate(req, out, [](int64_t t) { return Sine(t, 3'600'000.0, 0, 0, 1); });
  });
  source->AddGenerated("demo.random_walk", demo_tags, [](const FetchRequest& req, Series* out) {
    return Generate(req, out, [](int64_t t) { return Walk(t, 7, 0, 100); });
  });
  source->AddGenerated("demo.counter", demo_tags, [](const FetchRequest& req, Series* out) {
    return Generate(req, out, [](int64_t t) { return static_cast<double>(t / kDemoStepMs % 1'000'000'000); });
  });

  source->AddTable("hosts", [](const FetchRequest& req, Table* table) {
    table->columns = {{"host", ColumnType::kString},   {"region", ColumnType::kString},
                      {"env", ColumnType::kString},    {"City", ColumnType::kString},
                      {"cpu", ColumnType::kNumber},    {"up", ColumnType::kBoolean},
                      {"last_seen", ColumnType::kTime}};
    int64_t now = req.range.to_ms / kDemoStepMs * kDemoStepMs;
    uint64_t seed = 100;  // the same phases as the app.<host>.cpu series
    for (const Host& h : kHosts) {
      double phase = static_cast<double>(seed++ % 13);
      if (!MatchesAll(*req.filters, HostTags(h))) continue;
      bool up = std::string_view(h.name) != "web-4";
      table->rows.push_back({Cell::String(h.name), Cell::String(h.region), Cell::String(h.env),
                             Cell::String(h.city), Cell::Number(Sine(now, 3'600'000.0 * 4, phase, 50, 45)),
                             Cell::Bool(up),
                             Cell::Number(static_cast<double>(up ? now : now - 3'600'000))});
    }
    return Status::OK();
  });

  source->AddAnnotations([](const TimeRange& range, std::vector<Annotation>* out) {
    AddEvents(range, out);
    return Status::OK();
  });
  return source;
}

}  // namespace sluice
