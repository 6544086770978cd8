#include "source/memory_source.h"

#include "common/strings.h"

#include <algorithm>
#include <mutex>

namespace sluice {
namespace {

// Copies the points of `in` that fall inside `range` to the end of `out`.
void AppendRange(const Series& in, const TimeRange& range, Series* out) {
  auto lo = std::lower_bound(in.times_ms.begin(), in.times_ms.end(), range.from_ms);
  auto hi = std::upper_bound(lo, in.times_ms.end(), range.to_ms);
  size_t a = lo - in.times_ms.begin(), b = hi - in.times_ms.begin();
  out->times_ms.insert(out->times_ms.end(), lo, hi);
  out->values.insert(out->values.end(), in.values.begin() + a, in.values.begin() + b);
}

// Merges sorted `add` into sorted `base`; on equal timestamps `add` wins.
void MergePoints(Series* base, const Series& add) {
  Series merged;
  merged.times_ms.reserve(base->size() + add.size());
  merged.values.reserve(base->size() + add.size());
  size_t i = 0, j = 0;
  while (i < base->size() || j < add.size()) {
    if (j == add.size() || (i < base->size() && base->times_ms[i] < add.times_ms[j])) {
      merged.Append(base->times_ms[i], base->values[i]);
      ++i;
    } else {
      if (i < base->size() && base->times_ms[i] == add.times_ms[j]) ++i;
      merged.Append(add.times_ms[j], add.values[j]);
      ++j;
    }
  }
  base->times_ms = std::move(merged.times_ms);
  base->values = std::move(merged.values);
}

// Sorts by time and keeps the last of equal timestamps.
void Normalize(Series* s) {
  std::vector<size_t> order(s->size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return s->times_ms[a] < s->times_ms[b]; });
  Series out;
  for (size_t k = 0; k < order.size(); ++k) {
    size_t i = order[k];
    if (!out.times_ms.empty() && out.times_ms.back() == s->times_ms[i]) {
      out.values.back() = s->values[i];
    } else {
      out.Append(s->times_ms[i], s->values[i]);
    }
  }
  s->times_ms = std::move(out.times_ms);
  s->values = std::move(out.values);
}

}  // namespace

MemorySource::MemorySource(std::string name, bool may_block)
    : name_(std::move(name)), may_block_(may_block) {}

void MemorySource::AddSeries(Series series) {
  Normalize(&series);
  std::unique_lock lock(mu_);
  for (auto& e : entries_) {
    if (!e.fn && e.name == series.name && e.tags == series.tags) {
      MergePoints(&e.stored, series);
      return;
    }
  }
  Entry e;
  e.name = series.name;
  e.tags = series.tags;
  e.stored = std::move(series);
  entries_.push_back(std::move(e));
}

void MemorySource::AddGenerated(std::string name, Tags tags, SeriesFn fn) {
  std::unique_lock lock(mu_);
  Entry e;
  e.name = std::move(name);
  e.tags = std::move(tags);
  e.fn = std::move(fn);
  entries_.push_back(std::move(e));
}

void MemorySource::AddTable(std::string name, TableFn fn) {
  std::unique_lock lock(mu_);
  tables_.push_back({std::move(name), std::move(fn)});
}

void MemorySource::AddAnnotation(Annotation event) {
  std::unique_lock lock(mu_);
  events_.push_back(std::move(event));
}

void MemorySource::AddAnnotations(AnnotationFn fn) {
  std::unique_lock lock(mu_);
  event_fns_.push_back(std::move(fn));
}

Status MemorySource::ListNames(std::vector<std::string>* out) {
  std::shared_lock lock(mu_);
  for (const auto& e : entries_) out->push_back(e.name);
  for (const auto& t : tables_) out->push_back(t.name);
  return Status::OK();
}

Status MemorySource::TagKeys(const std::vector<TagFilter>& filters, std::vector<std::string>* out) {
  std::shared_lock lock(mu_);
  std::vector<std::string> keys;
  for (const auto& e : entries_) {
    if (!MatchesAll(filters, e.tags)) continue;
    for (const auto& [k, v] : e.tags.pairs()) keys.push_back(k);
  }
  SortUnique(&keys);
  out->insert(out->end(), keys.begin(), keys.end());
  return Status::OK();
}

Status MemorySource::TagValues(std::string_view key, const std::vector<TagFilter>& filters,
                               std::vector<std::string>* out) {
  std::shared_lock lock(mu_);
  std::vector<std::string> values;
  for (const auto& e : entries_) {
    if (!e.tags.Has(key) || !MatchesAll(filters, e.tags)) continue;
    values.emplace_back(e.tags.Get(key));
  }
  SortUnique(&values);
  out->insert(out->end(), values.begin(), values.end());
  return Status::OK();
}

Status MemorySource::Fetch(const FetchRequest& request, FetchResult* out) {
  std::shared_lock lock(mu_);
  std::vector<std::string_view> names;
  names.reserve(entries_.size() + tables_.size());
  for (const auto& e : entries_) names.push_back(e.name);
  for (const auto& t : tables_) names.push_back(t.name);
  for (size_t i : request.matcher->MatchAll(names)) {
    if (i >= entries_.size()) {
      const TableEntry& t = tables_[i - entries_.size()];
      Table table;
      table.name = t.name;
      SLUICE_RETURN_IF_ERROR(t.fn(request, &table).Annotate(t.name));
      out->tables.push_back(std::move(table));
      continue;
    }
    const Entry& e = entries_[i];
    if (!MatchesAll(*request.filters, e.tags)) continue;
    Series s;
    s.name = e.name;
    s.tags = e.tags;
    if (e.fn) {
      SLUICE_RETURN_IF_ERROR(e.fn(request, &s).Annotate(e.name));
    } else {
      AppendRange(e.stored, request.range, &s);
    }
    out->series.push_back(std::move(s));
  }
  return Status::OK();
}

Status MemorySource::Annotations(const AnnotationRequest& request, std::vector<Annotation>* out) {
  std::vector<Annotation> events;
  {
    std::shared_lock lock(mu_);
    for (const auto& e : events_) {
      if (e.end_ms >= request.range.from_ms && e.time_ms <= request.range.to_ms) events.push_back(e);
    }
    for (const auto& fn : event_fns_) SLUICE_RETURN_IF_ERROR(fn(request.range, &events));
  }
  const AnnotationQuery query(request.query);
  for (auto& e : events) {
    if (out->size() >= request.limit) break;
    if (query.Matches(e)) out->push_back(std::move(e));
  }
  return Status::OK();
}

}  // namespace sluice
