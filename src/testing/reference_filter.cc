#include "testing/reference_filter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <regex>
#include <set>

namespace sluice::testing::reference {
namespace {

using expr::SeriesList;
using expr::TimeSeries;
using Opt = std::optional<double>;

std::vector<double> Present(const std::vector<double>& values) {
  std::vector<double> out;
  for (double v : values) {
    if (!std::isnan(v)) out.push_back(v);
  }
  return out;
}

double PySum(const std::vector<double>& values) {
  double total = 0;
  for (double v : values) total = total + v;
  return total;
}

// Python's list.sort(key=..., reverse=...): reverse, stable insertion sort on '<', reverse back.
template <typename T, typename Key>
void PySort(std::vector<T>* items, Key key, bool reverse) {
  if (reverse) std::reverse(items->begin(), items->end());
  for (size_t i = 1; i < items->size(); ++i) {
    size_t j = i;
    while (j > 0 && key((*items)[j]) < key((*items)[j - 1])) {
      std::swap((*items)[j], (*items)[j - 1]);
      --j;
    }
  }
  if (reverse) std::reverse(items->begin(), items->end());
}

// Python's seq[:n].
template <typename T>
std::vector<T> PyHead(std::vector<T> items, int64_t n) {
  int64_t size = static_cast<int64_t>(items.size());
  int64_t end = n >= 0 ? std::min(n, size) : std::max<int64_t>(0, size + n);
  items.resize(static_cast<size_t>(end));
  return items;
}

// graphite's keyFunc: None sorts as -inf.
double KeyOf(const Opt& v) { return v ? *v : -std::numeric_limits<double>::infinity(); }

SeriesList SortByAggregate(SeriesList in, std::string_view func, bool reverse) {
  PySort(
      &in, [&](const TimeSeries& s) { return KeyOf(Aggregate(func, s.values)); }, reverse);
  return in;
}

bool Compare(std::string_view op, const Opt& v, double t) {
  if (op == "=") return v.has_value() && *v == t;
  if (op == "!=") return !v.has_value() || *v != t;
  if (op == ">") return v.has_value() && *v > t;
  if (op == ">=") return v.has_value() && *v >= t;
  if (op == "<") return !v.has_value() || *v < t;
  if (op == "<=") return !v.has_value() || *v <= t;
  std::fprintf(stderr, "reference::FilterSeries: unknown operator %s\n", std::string(op).c_str());
  std::abort();
}

std::string PyFloatStr(double v) {
  // Python's str(float) for the values the tests use: shortest round trip, ".0" when whole.
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".e") == std::string::npos && s.find("inf") == std::string::npos) s += ".0";
  return s;
}

std::string PercentG(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

SeriesList RemoveByPercentile(SeriesList in, double n, bool above) {
  const char* fn = above ? "removeAbovePercentile" : "removeBelowPercentile";
  for (TimeSeries& s : in) {
    s.name = std::string(fn) + "(" + s.name + ", " + PercentG(n) + ")";
    s.path_expression = s.name;
    Opt p = Percentile(s.values, n);
    if (!p) continue;
    s.tags.Set("nPercentile", PyFloatStr(n));
    for (double& v : s.values) {
      if (above && !std::isnan(v) && v > *p) v = expr::kNone;
      if (!above && (std::isnan(v) || v < *p)) v = expr::kNone;
    }
  }
  return in;
}

SeriesList RemoveByValue(SeriesList in, double n, bool above) {
  const char* fn = above ? "removeAboveValue" : "removeBelowValue";
  for (TimeSeries& s : in) {
    s.name = std::string(fn) + "(" + s.name + ", " + PercentG(n) + ")";
    s.path_expression = s.name;
    for (double& v : s.values) {
      if (above && !std::isnan(v) && v > n) v = expr::kNone;
      if (!above && (std::isnan(v) || v < n)) v = expr::kNone;
    }
  }
  return in;
}

}  // namespace

Opt Aggregate(std::string_view func, const std::vector<double>& values) {
  const std::vector<double> p = Present(values);
  if (func == "avg" || func == "average") {
    if (p.empty()) return std::nullopt;
    return PySum(p) / static_cast<double>(p.size());
  }
  if (func == "avg_zero") {
    if (values.empty()) return std::nullopt;
    return PySum(p) / static_cast<double>(values.size());
  }
  if (func == "median") {
    if (p.empty()) return std::nullopt;
    std::vector<double> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    size_t mid = sorted.size() / 2;
    if (sorted.size() % 2 == 0) return (sorted[mid - 1] + sorted[mid]) / 2;
    return sorted[mid];
  }
  if (func == "sum" || func == "total") {
    if (p.empty()) return std::nullopt;
    return PySum(p);
  }
  if (func == "min") {
    if (p.empty()) return std::nullopt;
    return *std::min_element(p.begin(), p.end());
  }
  if (func == "max") {
    if (p.empty()) return std::nullopt;
    return *std::max_element(p.begin(), p.end());
  }
  if (func == "diff") {
    if (p.empty()) return std::nullopt;
    double total = p[0];
    for (size_t i = 1; i < p.size(); ++i) total = total + (-p[i]);
    return total;
  }
  if (func == "stddev") {
    if (p.empty()) return std::nullopt;
    double avg = PySum(p) / static_cast<double>(p.size());
    double sum = 0;
    for (double v : p) sum = sum + (v - avg) * (v - avg);
    return std::sqrt(sum / static_cast<double>(p.size()));
  }
  if (func == "count") return static_cast<double>(p.size());
  if (func == "range" || func == "rangeOf") {
    if (p.empty()) return std::nullopt;
    return *std::max_element(p.begin(), p.end()) - *std::min_element(p.begin(), p.end());
  }
  if (func == "multiply") {
    if (p.size() != values.size() || values.empty()) return std::nullopt;
    double product = values[0];
    for (size_t i = 1; i < values.size(); ++i) product = product * values[i];
    return product;
  }
  if (func == "last" || func == "current") {
    if (p.empty()) return std::nullopt;
    return p.back();
  }
  std::fprintf(stderr, "reference::Aggregate: unknown function %s\n", std::string(func).c_str());
  std::abort();
}

SeriesList FilterSeries(SeriesList in, std::string_view func, std::string_view op,
                        double threshold) {
  SeriesList out;
  for (TimeSeries& s : in) {
    if (Compare(op, Aggregate(func, s.values), threshold)) out.push_back(std::move(s));
  }
  return out;
}

SeriesList Highest(SeriesList in, int64_t n, std::string_view func) {
  return PyHead(SortByAggregate(std::move(in), func, true), n);
}

SeriesList Lowest(SeriesList in, int64_t n, std::string_view func) {
  return PyHead(SortByAggregate(std::move(in), func, false), n);
}

SeriesList SortBy(SeriesList in, std::string_view func, bool reverse) {
  return SortByAggregate(std::move(in), func, reverse);
}

SeriesList SortByMinima(SeriesList in) {
  SeriesList kept;
  for (TimeSeries& s : in) {
    Opt max = Aggregate("max", s.values);
    if ((max ? *max : 0.0) > 0) kept.push_back(std::move(s));
  }
  return SortByAggregate(std::move(kept), "min", false);
}

SeriesList MostDeviant(SeriesList in, int64_t n) {
  std::vector<std::pair<double, TimeSeries>> deviants;
  for (TimeSeries& s : in) {
    Opt mean = Aggregate("average", s.values);
    if (!mean) continue;
    std::vector<double> squares;
    for (double v : Present(s.values)) squares.push_back((v - *mean) * (v - *mean));
    double sigma = PySum(squares) / static_cast<double>(Present(s.values).size());
    deviants.emplace_back(sigma, std::move(s));
  }
  PySort(
      &deviants, [](const auto& d) { return d.first; }, true);
  SeriesList out;
  for (auto& d : deviants) out.push_back(std::move(d.second));
  return PyHead(std::move(out), n);
}

SeriesList RemoveAboveValue(SeriesList in, double n) {
  return RemoveByValue(std::move(in), n, true);
}
SeriesList RemoveBelowValue(SeriesList in, double n) {
  return RemoveByValue(std::move(in), n, false);
}
SeriesList RemoveAbovePercentile(SeriesList in, double n) {
  return RemoveByPercentile(std::move(in), n, true);
}
SeriesList RemoveBelowPercentile(SeriesList in, double n) {
  return RemoveByPercentile(std::move(in), n, false);
}

Opt Percentile(std::vector<double> points, double n) {
  std::vector<double> sorted = Present(points);
  std::sort(sorted.begin(), sorted.end());
  if (sorted.empty()) return std::nullopt;
  const int64_t len = static_cast<int64_t>(sorted.size());
  double fractional_rank = (n / 100.0) * static_cast<double>(len + 1);
  if (std::fabs(fractional_rank) > 1e15) return std::nullopt;  // IndexError in Python
  int64_t rank = static_cast<int64_t>(std::trunc(fractional_rank));
  double rank_fraction = fractional_rank - static_cast<double>(rank);
  rank += static_cast<int64_t>(std::ceil(rank_fraction));
  if (rank == 0) return sorted[0];
  if (rank - 1 == len) return sorted[static_cast<size_t>(len - 1)];
  int64_t index = rank - 1;  // Python indexing: negative counts from the end
  if (index < -len || index >= len) return std::nullopt;
  if (index < 0) index += len;
  return sorted[static_cast<size_t>(index)];
}

SeriesList RemoveEmptySeries(SeriesList in, double xfiles_factor) {
  SeriesList out;
  for (TimeSeries& s : in) {
    size_t non_null = Present(s.values).size();
    if (s.values.empty() || non_null == 0) continue;
    if (static_cast<double>(non_null) / static_cast<double>(s.values.size()) >= xfiles_factor) {
      out.push_back(std::move(s));
    }
  }
  return out;
}

SeriesList Grep(SeriesList in, const std::string& pattern) {
  std::regex re(pattern);
  SeriesList out;
  for (TimeSeries& s : in) {
    if (std::regex_search(s.name, re)) out.push_back(std::move(s));
  }
  return out;
}

SeriesList Exclude(SeriesList in, const std::string& pattern) {
  std::regex re(pattern);
  SeriesList out;
  for (TimeSeries& s : in) {
    if (!std::regex_search(s.name, re)) out.push_back(std::move(s));
  }
  return out;
}

SeriesList Limit(SeriesList in, int64_t n) { return PyHead(std::move(in), n); }

SeriesList SortByName(SeriesList in, bool natural, bool reverse) {
  // re.sub(r"(\d+)", lambda m: "{0:010}".format(int(m.group(0))), name)
  auto nat_key = [](const std::string& name) {
    static const std::regex digits("[0-9]+");
    std::string out;
    auto last = name.cbegin();
    for (std::sregex_iterator it(name.begin(), name.end(), digits), end; it != end; ++it) {
      out.append(last, (*it)[0].first);
      std::string number = it->str();
      number.erase(0, std::min(number.find_first_not_of('0'), number.size() - 1));
      out += fmt::format("{:0>10}", number);
      last = (*it)[0].second;
    }
    out.append(last, name.cend());
    return out;
  };
  if (natural) {
    PySort(
        &in, [&](const TimeSeries& s) { return nat_key(s.name); }, reverse);
  } else {
    PySort(
        &in, [](const TimeSeries& s) { return s.name; }, reverse);
  }
  return in;
}

SeriesList Unique(std::vector<SeriesList> lists) {
  SeriesList out;
  std::set<std::string> seen;
  for (SeriesList& list : lists) {
    for (TimeSeries& s : list) {
      if (seen.insert(s.name).second) out.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace sluice::testing::reference
