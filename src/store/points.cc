#include "store/points.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace sluice::store {

void InsertPoint(std::vector<int64_t>* times, std::vector<double>* values, int64_t t, double v) {
  if (times->empty() || t > times->back()) {
    times->push_back(t);
    values->push_back(v);
    return;
  }
  auto it = std::lower_bound(times->begin(), times->end(), t);
  size_t i = it - times->begin();
  if (it != times->end() && *it == t) {
    (*values)[i] = v;
  } else {
    times->insert(it, t);
    values->insert(values->begin() + static_cast<ptrdiff_t>(i), v);
  }
}

void MergeInto(std::vector<int64_t>* times, std::vector<double>* values,
               const std::vector<int64_t>& add_t, const std::vector<double>& add_v) {
  if (add_t.empty()) return;
  if (times->empty() || add_t.front() > times->back()) {
    times->insert(times->end(), add_t.begin(), add_t.end());
    values->insert(values->end(), add_v.begin(), add_v.end());
    return;
  }
  std::vector<int64_t> t;
  std::vector<double> v;
  t.reserve(times->size() + add_t.size());
  v.reserve(times->size() + add_t.size());
  size_t i = 0, j = 0;
  while (i < times->size() || j < add_t.size()) {
    if (j == add_t.size() || (i < times->size() && (*times)[i] < add_t[j])) {
      t.push_back((*times)[i]);
      v.push_back((*values)[i]);
      ++i;
    } else {
      if (i < times->size() && (*times)[i] == add_t[j]) ++i;
      t.push_back(add_t[j]);
      v.push_back(add_v[j]);
      ++j;
    }
  }
  *times = std::move(t);
  *values = std::move(v);
}

void CopyRange(const std::vector<int64_t>& times, const std::vector<double>& values, int64_t from,
               int64_t to, std::vector<int64_t>* out_t, std::vector<double>* out_v) {
  auto lo = std::lower_bound(times.begin(), times.end(), from);
  auto hi = std::upper_bound(lo, times.end(), to);
  out_t->insert(out_t->end(), lo, hi);
  out_v->insert(out_v->end(), values.begin() + (lo - times.begin()),
                values.begin() + (hi - times.begin()));
}

void SortLastWins(std::vector<int64_t>* times, std::vector<double>* values) {
  const size_t n = times->size();
  bool sorted = true;
  for (size_t i = 1; i < n && sorted; ++i) sorted = (*times)[i - 1] < (*times)[i];
  if (sorted) return;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [times](size_t a, size_t b) { return (*times)[a] < (*times)[b]; });
  std::vector<int64_t> t;
  std::vector<double> v;
  t.reserve(n);
  v.reserve(n);
  for (size_t i : order) {
    if (!t.empty() && t.back() == (*times)[i]) {
      v.back() = (*values)[i];  // a later write of the same timestamp (stable order)
    } else {
      t.push_back((*times)[i]);
      v.push_back((*values)[i]);
    }
  }
  *times = std::move(t);
  *values = std::move(v);
}

std::string TypeConflictError(size_t line, std::string_view series_key, ValueType existing,
                              ValueType written) {
  std::string name;
  Tags tags;
  ParseSeriesKey(series_key, &name, &tags);
  return fmt::format("line {}: field type conflict: series \"{}\" is {}, not {}", line, name,
                     ValueTypeName(existing), ValueTypeName(written));
}

}  // namespace sluice::store
