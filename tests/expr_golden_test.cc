// Golden test: every case in testdata/graphite/goldens.json, produced by graphite-web 1.1.8 itself
// (tools/graphite/make_goldens.py), evaluated by Sluice's engine over the same input series and
// compared: same series in the same order, same names and tags, same timestamps, values within a
// relative error of 1e-9, None in the same places. Cases graphite-web rejects must fail here too.
//
// SLUICE_GOLDEN_FILTER=<substring> limits the run to cases whose target contains it; every
// mismatch is printed with the case, and a per-function tally closes the run.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <string>

#include "expr/series_list.h"
#include "query/engine.h"
#include "testing/expr_fixtures.h"

namespace sluice {
namespace {

constexpr double kRelativeError = 1e-9;

// Where Sluice knowingly answers differently from graphite-web 1.1.8, and why. Each entry is a
// target exactly as in the goldens; the test checks that Sluice still behaves as stated.
struct Divergence {
  std::string_view target;
  bool sluice_succeeds;  // Sluice answers with data (else: with an error)
  std::string_view why;
};
constexpr Divergence kDivergences[] = {
    {"test.web\\1.cpu", true,
     "a backslash escape in a path is a literal (Grafana's regex-escaped variable values, "
     "PROTOCOL.md §7); graphite-web matches the backslash itself"},
    {"test.(web1|web2).cpu", true,
     "(a|b) inside a path is an alternation (Grafana's multi-value variables, PROTOCOL.md §7)"},
    {"scale(test.web1.cpu, , 2)", false,
     "malformed: Sluice reports the column; graphite-web parses a prefix and answers []"},
    {"sumSeries(test.*.cpu", false, "malformed (no ')'): as above"},
    {"alias(test.web1.cpu, 'unterminated)", false, "malformed (open string): as above"},
    {"scale(test.web1.cpu, 2) extra", false, "trailing text: as above"},
    {"scale(seriesList=test.web1.cpu, factor=2)", true,
     "a series given as a named argument is fetched; graphite-web never fetches it and answers []"},
    {"scale(test.web1.cpu, -.5)", true, "-.5 is a number; graphite-web fails (500)"},
    {"nonNegativeDerivative(test.web2.requests, 6e6, 0)", true,
     "graphite-web fails comparing None with minValue (Python 3 TypeError, 500); Sluice keeps "
     "None as None"},
    {"perSecond(test.web2.requests, None, 0)", true, "as above"},
    {"logarithm(test.web1.cpu)", true,
     "logarithm is an alias of log (later Graphite releases have it); graphite-web 1.1.8 knows "
     "only log"},
    {"transformNull(test.web2.cpu, None)", true,
     "an explicit None is the default (0); graphite-web fails (500)"},
};

// graphite-web with ENFORCE_INPUT_VALIDATION (the goldens' strict_status) rejects what its lenient
// default lets through to a Python error or an empty answer; Sluice validates arguments always.
bool StrictlyRejected(simdjson::dom::element c) {
  int64_t strict = 0;
  return c["strict_status"].get(strict) == simdjson::SUCCESS && strict != 200;
}

const Divergence* FindDivergence(std::string_view target) {
  for (const auto& d : kDivergences) {
    if (d.target == target) return &d;
  }
  return nullptr;
}

std::string GoldensPath() { return std::string(SLUICE_TESTDATA_DIR) + "/graphite/goldens.json"; }

double ReadValue(simdjson::dom::element e) {
  if (e.is_null()) return expr::kNone;
  std::string_view text;
  if (e.get(text) == simdjson::SUCCESS) {
    return text == "inf" ? INFINITY : text == "-inf" ? -INFINITY : expr::kNone;
  }
  double d;
  if (e.get(d) == simdjson::SUCCESS) return d;
  int64_t i;
  if (e.get(i) == simdjson::SUCCESS) return static_cast<double>(i);
  uint64_t u;
  if (e.get(u) == simdjson::SUCCESS) return static_cast<double>(u);
  return expr::kNone;
}

bool SameValue(double want, double got) {
  if (std::isnan(want) || std::isnan(got)) return std::isnan(want) && std::isnan(got);
  if (std::isinf(want) || std::isinf(got)) return want == got;
  return std::fabs(want - got) <= kRelativeError * std::max(1.0, std::fabs(want));
}

std::string Show(double v) { return std::isnan(v) ? "None" : fmt::format("{}", v); }

// The outermost function of a target, for the tally ("sumSeries" of "sumSeries(a.*)").
std::string FunctionOf(std::string_view target) {
  size_t paren = target.find('(');
  return paren == std::string_view::npos ? "<path>" : std::string(target.substr(0, paren));
}

// Compares one case; returns "" when it matches, else what differs.
std::string Compare(simdjson::dom::array want_list, const expr::SeriesList& got) {
  if (want_list.size() != got.size()) {
    std::string names;
    for (const auto& s : got) names += " " + s.name;
    std::string want_names;
    for (simdjson::dom::element w : want_list) {
      want_names += " " + std::string(std::string_view(w["target"]));
    }
    return fmt::format("{} series, want {}\n    got:{}\n    want:{}", got.size(), want_list.size(),
                       names, want_names);
  }
  size_t i = 0;
  for (simdjson::dom::element want : want_list) {
    const expr::TimeSeries& s = got[i++];
    std::string_view name = want["target"];
    if (s.name != name) return fmt::format("series {}: name '{}', want '{}'", i - 1, s.name, name);
    simdjson::dom::object tags;
    if (want["tags"].get(tags) == simdjson::SUCCESS) {
      size_t count = 0;
      for (auto [key, value] : tags) {
        std::string_view v;
        if (value.get(v) != simdjson::SUCCESS) continue;
        ++count;
        if (s.tags.Get(key) != v) {
          return fmt::format("series '{}': tag {}='{}', want '{}'", name, key, s.tags.Get(key), v);
        }
      }
      if (count != s.tags.size()) {
        std::string have;
        for (const auto& [k, v] : s.tags.pairs()) have += " " + k + "=" + v;
        return fmt::format("series '{}': {} tags, want {} (have:{})", name, s.tags.size(), count,
                           have);
      }
    }
    simdjson::dom::array points = want["datapoints"];
    if (points.size() != s.size()) {
      return fmt::format("series '{}': {} points, want {} (start {} step {})", name, s.size(),
                         points.size(), s.start / 1000, s.step / 1000);
    }
    size_t j = 0;
    for (simdjson::dom::array point : points) {
      const double v = ReadValue(point.at(0));
      int64_t ts = 0;
      simdjson::dom::element t = point.at(1);
      if (t.get(ts) != simdjson::SUCCESS) ts = static_cast<int64_t>(double(t));
      const int64_t got_ts = s.time_at(j) / 1000;
      if (got_ts != ts) {
        return fmt::format("series '{}': point {} at {}, want {}", name, j, got_ts, ts);
      }
      if (!SameValue(v, s.values[j])) {
        return fmt::format("series '{}': point {} (t={}) is {}, want {}", name, j, ts,
                           Show(s.values[j]), Show(v));
      }
      ++j;
    }
  }
  return "";
}

TEST(GraphiteGoldenTest, EveryCaseMatchesGraphiteWeb) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.load(GoldensPath()).get(root), simdjson::SUCCESS) << GoldensPath();

  testing::MemoryFetcher fetcher;
  for (simdjson::dom::element input : root["inputs"].get_array()) {
    std::vector<double> values;
    for (simdjson::dom::element v : input["values"].get_array()) values.push_back(ReadValue(v));
    fetcher.Add(std::string_view(input["name"]), int64_t(input["start"]) * 1000,
                int64_t(input["step"]) * 1000, std::move(values));
  }

  const char* filter = std::getenv("SLUICE_GOLDEN_FILTER");
  std::map<std::string, std::pair<int, int>> tally;  // function -> (passed, failed)
  int failed = 0, run = 0;
  for (simdjson::dom::element c : root["cases"].get_array()) {
    std::string_view target = c["target"];
    if (filter != nullptr && target.find(filter) == std::string_view::npos) continue;
    ++run;
    TimeRange range{int64_t(c["from"]) * 1000, int64_t(c["until"]) * 1000};
    int64_t max_points = 0;
    if (c["maxDataPoints"].get(max_points) != simdjson::SUCCESS) max_points = 0;
    const int64_t status = c["status"];
    // As /render does: a reversed window is swapped, an empty one refused.
    if (range.from_ms > range.to_ms) std::swap(range.from_ms, range.to_ms);
    Result<expr::SeriesList> result =
        range.from_ms == range.to_ms
            ? Result<expr::SeriesList>(InvalidArgument("empty time range"))
            : testing::EvalForTest(target, fetcher, range);
    std::string problem;
    if (const Divergence* d = FindDivergence(target)) {
      if (result.ok() != d->sluice_succeeds) {
        problem = fmt::format("documented divergence ({}) no longer holds: {}", d->why,
                              result.ok() ? "succeeded" : result.status().message());
      }
    } else if (status != 200) {
      if (result.ok()) problem = fmt::format("succeeded; graphite-web answered {}", status);
    } else if (!result.ok()) {
      // Rejecting what graphite-web's strict mode rejects is fine; otherwise the data must match.
      if (!StrictlyRejected(c)) problem = "failed: " + result.status().message();
    } else {
      query::ConsolidateForRender(&*result, max_points);
      // graphite-web's JSON renderer writes [] when every series is empty (`if any(data)`).
      if (std::all_of(result->begin(), result->end(), [](const auto& s) { return s.size() == 0; })) {
        result->clear();
      }
      problem = Compare(c["output"].get_array(), *result);
    }
    auto& [pass, fail] = tally[FunctionOf(target)];
    if (problem.empty()) {
      ++pass;
      continue;
    }
    ++fail;
    ++failed;
    ADD_FAILURE() << target << " (from " << int64_t(c["from"]) << " until "
                  << int64_t(c["until"]) << (max_points ? fmt::format(" maxDataPoints {}", max_points) : "")
                  << "): " << problem;
  }
  std::string summary;
  for (const auto& [fn, counts] : tally) {
    if (counts.second > 0) summary += fmt::format("  {}: {} of {} fail\n", fn, counts.second,
                                                  counts.first + counts.second);
  }
  std::printf("%d of %d golden cases match graphite-web%s\n%s", run - failed, run,
              failed ? "; failing functions:" : "", summary.c_str());
  EXPECT_GT(run, 0);
}

}  // namespace
}  // namespace sluice
