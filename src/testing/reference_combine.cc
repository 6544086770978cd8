#include "testing/reference_combine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>

namespace sluice::testing::reference {

namespace {

using Opt = std::optional<double>;  // Python's float-or-None
using Row = std::vector<Opt>;

int64_t Gcd(int64_t a, int64_t b) { return b == 0 ? a : Gcd(b, a % b); }

int64_t Lcm(int64_t a, int64_t b) {
  if (a == b) return a;
  if (a < b) std::swap(a, b);
  return a / Gcd(a, b) * b;
}

std::vector<Opt> ToOpt(const std::vector<double>& values) {
  std::vector<Opt> out;
  for (double v : values) {
    if (std::isnan(v)) {
      out.push_back(std::nullopt);
    } else {
      out.push_back(v);
    }
  }
  return out;
}

std::vector<double> FromOpt(const std::vector<Opt>& values) {
  std::vector<double> out;
  for (const Opt& v : values) out.push_back(v ? *v : std::nan(""));
  return out;
}

double PySum(const std::vector<double>& values) {
  double total = 0;
  for (double v : values) total = total + v;
  return total;
}

// TimeSeries.__consolidatingGenerator with consolidationFunc 'average' and xFilesFactor 0.
std::vector<Opt> Consolidate(const std::vector<Opt>& values, int64_t per) {
  if (per == 1) return values;
  std::vector<Opt> out;
  std::vector<double> buf;
  int64_t count = 0;
  int64_t non_null = 0;
  for (const Opt& x : values) {
    count = count + 1;
    if (x) {
      buf.push_back(*x);
      non_null = non_null + 1;
    }
    if (count == per) {
      if (non_null > 0) {
        out.push_back(PySum(buf) / static_cast<double>(buf.size()));
      } else {
        out.push_back(std::nullopt);
      }
      buf.clear();
      count = 0;
      non_null = 0;
    }
  }
  if (count > 0) {
    if (non_null > 0) {
      out.push_back(PySum(buf) / static_cast<double>(buf.size()));
    } else {
      out.push_back(std::nullopt);
    }
  }
  return out;
}

struct Normalized {
  std::vector<std::vector<Opt>> series;
  int64_t start = 0;
  int64_t end = 0;
  int64_t step = 0;
};

Normalized Normalize(const std::vector<const expr::TimeSeries*>& list) {
  Normalized n;
  n.step = list[0]->step;
  for (const auto* s : list) n.step = Lcm(n.step, s->step);
  n.start = list[0]->start;
  n.end = list[0]->end();
  for (const auto* s : list) {
    n.series.push_back(Consolidate(ToOpt(s->values), n.step / s->step));
    n.start = std::min(n.start, s->start);
    n.end = std::max(n.end, s->end());
  }
  n.end = n.end - (n.end - n.start) % n.step;
  return n;
}

// izip_longest(*columns)
std::vector<Row> ZipLongest(const std::vector<std::vector<Opt>>& columns) {
  size_t longest = 0;
  for (const auto& c : columns) longest = std::max(longest, c.size());
  std::vector<Row> rows;
  for (size_t i = 0; i < longest; ++i) {
    Row row;
    for (const auto& c : columns) row.push_back(i < c.size() ? c[i] : std::nullopt);
    rows.push_back(row);
  }
  return rows;
}

std::vector<double> Present(const Row& row) {
  std::vector<double> out;
  for (const Opt& v : row) {
    if (v) out.push_back(*v);
  }
  return out;
}

Opt SafeDiv(Opt a, Opt b) {
  if (!a) return std::nullopt;
  if (!b || *b == 0) return std::nullopt;
  return *a / *b;
}

Opt AggregateRow(std::string_view func, const Row& row) {
  std::vector<double> v = Present(row);
  if (func == "average" || func == "avg") {
    if (v.empty()) return std::nullopt;
    return PySum(v) / static_cast<double>(v.size());
  }
  if (func == "avg_zero") {
    double total = 0;
    for (const Opt& x : row) total = total + (x ? *x : 0.0);
    return total / static_cast<double>(row.size());
  }
  if (func == "median") {
    if (v.empty()) return std::nullopt;
    std::sort(v.begin(), v.end());
    size_t mid = v.size() / 2;
    if (v.size() % 2 == 0) return (v[mid - 1] + v[mid]) / 2;
    return v[mid];
  }
  if (func == "sum" || func == "total") {
    if (v.empty()) return std::nullopt;
    return PySum(v);
  }
  if (func == "min") {
    if (v.empty()) return std::nullopt;
    double m = v[0];
    for (double x : v) {
      if (x < m) m = x;
    }
    return m;
  }
  if (func == "max") {
    if (v.empty()) return std::nullopt;
    double m = v[0];
    for (double x : v) {
      if (x > m) m = x;
    }
    return m;
  }
  if (func == "diff") {
    if (v.empty()) return std::nullopt;
    std::vector<double> terms{v[0]};
    for (size_t i = 1; i < v.size(); ++i) terms.push_back(v[i] * -1);
    return PySum(terms);
  }
  if (func == "stddev") {
    if (v.empty()) return std::nullopt;
    double avg = PySum(v) / static_cast<double>(v.size());
    double sum = 0;
    for (double x : v) sum = sum + (x - avg) * (x - avg);
    return std::sqrt(sum / static_cast<double>(v.size()));
  }
  if (func == "count") return static_cast<double>(v.size());
  if (func == "range" || func == "rangeOf") {
    Opt hi = AggregateRow("max", row);
    Opt lo = AggregateRow("min", row);
    if (!hi || !lo) return std::nullopt;
    return *hi - *lo;
  }
  if (func == "multiply") {
    if (v.size() != row.size()) return std::nullopt;
    double product = v[0];
    for (size_t i = 1; i < v.size(); ++i) product = product * v[i];
    return product;
  }
  if (func == "last" || func == "current") {
    if (v.empty()) return std::nullopt;
    return v.back();
  }
  std::fprintf(stderr, "reference::Aggregate: unknown func %.*s\n", static_cast<int>(func.size()),
               func.data());
  std::abort();
}

std::vector<const expr::TimeSeries*> Pointers(const expr::SeriesList& list) {
  std::vector<const expr::TimeSeries*> out;
  for (const auto& s : list) out.push_back(&s);
  return out;
}

}  // namespace

Grid Aggregate(const expr::SeriesList& series, std::string_view func, double xfiles_factor) {
  Normalized n = Normalize(Pointers(series));
  std::vector<Opt> values;
  for (const Row& row : ZipLongest(n.series)) {
    size_t non_null = Present(row).size();
    bool enough = non_null > 0 &&
                  static_cast<double>(non_null) / static_cast<double>(row.size()) >= xfiles_factor;
    values.push_back(enough ? AggregateRow(func, row) : std::nullopt);
  }
  return Grid{n.start, n.step, FromOpt(values)};
}

std::vector<Grid> DivideSeries(const expr::SeriesList& dividends, const expr::TimeSeries& divisor) {
  std::vector<Grid> out;
  for (const auto& d : dividends) {
    Normalized n = Normalize({&d, &divisor});
    std::vector<Opt> values;
    for (const Row& row : ZipLongest(n.series)) values.push_back(SafeDiv(row[0], row[1]));
    out.push_back(Grid{n.start, n.step, FromOpt(values)});
  }
  return out;
}

std::vector<Grid> AsPercentOfSum(const expr::SeriesList& series) {
  Normalized n = Normalize(Pointers(series));
  std::vector<Opt> totals;
  for (const Row& row : ZipLongest(n.series)) totals.push_back(AggregateRow("sum", row));
  std::vector<Grid> out;
  for (size_t j = 0; j < series.size(); ++j) {
    std::vector<Opt> values;
    for (const Row& row : ZipLongest({n.series[j], totals})) {
      Opt q = SafeDiv(row[0], row[1]);
      values.push_back(q ? Opt(*q * 100.0) : std::nullopt);
    }
    // datapoints(): only as many values as timestamps in range(start, end + 1, step).
    const auto& s = series[j];
    size_t slots = static_cast<size_t>((s.end() - s.start) / s.step + 1);
    if (values.size() > slots) values.resize(slots);
    out.push_back(Grid{s.start, s.step, FromOpt(values)});
  }
  return out;
}

Grid PercentileOfSeries(const expr::SeriesList& series, double n, bool interpolate) {
  Normalized norm = Normalize(Pointers(series));
  std::vector<Opt> values;
  for (const Row& row : ZipLongest(norm.series)) {
    std::vector<double> sorted = Present(row);
    std::sort(sorted.begin(), sorted.end());
    if (sorted.empty()) {
      values.push_back(std::nullopt);
      continue;
    }
    double fractional_rank = (n / 100.0) * static_cast<double>(sorted.size() + 1);
    auto rank = static_cast<int64_t>(fractional_rank);
    double rank_fraction = fractional_rank - static_cast<double>(rank);
    if (!interpolate) rank = rank + static_cast<int64_t>(std::ceil(rank_fraction));
    double percentile;
    const auto len = static_cast<int64_t>(sorted.size());
    if (rank == 0) {
      percentile = sorted[0];
    } else if (rank - 1 == len) {
      percentile = sorted[sorted.size() - 1];
    } else {
      percentile = sorted[static_cast<size_t>(rank - 1)];
    }
    if (interpolate && rank != len && rank < len) {
      double next = sorted[static_cast<size_t>(rank)];
      percentile = percentile + rank_fraction * (next - percentile);
    }
    values.push_back(percentile);
  }
  return Grid{norm.start, norm.step, FromOpt(values)};
}

std::string Substr(std::string_view name, int start, int stop) {
  // left = name.rfind('(') + 1; right = name.find(')') or len + 1; clean = name[left:right]
  int left = static_cast<int>(name.rfind('(') == std::string_view::npos ? 0 : name.rfind('(') + 1);
  int right = name.find(')') == std::string_view::npos ? static_cast<int>(name.size()) + 1
                                                       : static_cast<int>(name.find(')'));
  right = std::min(right, static_cast<int>(name.size()));
  std::string clean = right > left ? std::string(name.substr(left, right - left)) : "";
  std::vector<std::string> parts{""};
  for (char c : clean) {
    if (c == '.') {
      parts.emplace_back();
    } else {
      parts.back().push_back(c);
    }
  }
  const int count = static_cast<int>(parts.size());
  auto index = [count](int i) {
    if (i < 0) i = i + count;
    if (i < 0) i = 0;
    if (i > count) i = count;
    return i;
  };
  int from = index(start);
  int to = stop == 0 ? count : index(stop);
  std::string out;
  for (int i = from; i < to; ++i) {
    if (i > from) out += ".";
    out += parts[static_cast<size_t>(i)];
  }
  size_t comma = out.find(',');
  if (comma != std::string::npos) out = out.substr(0, comma);
  return out;
}

}  // namespace sluice::testing::reference
