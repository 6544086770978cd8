// MemorySource: series held in memory or computed by callbacks. It is the test fake, the backing of
// --demo, and the C++ API for targets whose data needs code:
//
//   auto source = std::make_shared<sluice::MemorySource>("mine");
//   source->AddGenerated("room.temperature", {{"room", "lab"}},
//       [](const sluice::FetchRequest& req, sluice::Series* out) {
//         for (int64_t t = req.range.from_ms; t <= req.range.to_ms; t += 60'000)
//           out->Append(t, ReadThermometer(t));
//         return sluice::Status::OK();
//       });
//
// Callbacks receive the whole request (range, maxDataPoints, payload) and may be called from several
// threads at once. A callback that blocks on I/O belongs in a source whose MayBlock() is true:
// pass `may_block = true` to the constructor.
#pragma once

#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "source/series_source.h"

namespace sluice {

class MemorySource : public SeriesSource {
 public:
  // Fills out->times_ms/values for request.range; name and tags are set by the source.
  using SeriesFn = std::function<Status(const FetchRequest& request, Series* out)>;
  // Fills a table; its name defaults to the target name.
  using TableFn = std::function<Status(const FetchRequest& request, Table* out)>;
  // Appends events overlapping the range; the source applies the query and sorts.
  using AnnotationFn = std::function<Status(const TimeRange& range, std::vector<Annotation>* out)>;

  explicit MemorySource(std::string name, bool may_block = false);

  std::string_view name() const override { return name_; }
  bool MayBlock() const override { return may_block_; }

  // Stores points. A series with the same name and tags is merged: points with equal timestamps are
  // replaced (last write wins), others inserted in order.
  void AddSeries(Series series);
  // Registers a computed series.
  void AddGenerated(std::string name, Tags tags, SeriesFn fn);
  // Registers a table target: answered as a table whatever the requested format.
  void AddTable(std::string name, TableFn fn);
  void AddAnnotation(Annotation event);
  void AddAnnotations(AnnotationFn fn);

  Status ListNames(std::vector<std::string>* out) override;
  Status TagKeys(const std::vector<TagFilter>& filters, std::vector<std::string>* out) override;
  Status TagValues(std::string_view key, const std::vector<TagFilter>& filters,
                   std::vector<std::string>* out) override;
  Status Fetch(const FetchRequest& request, FetchResult* out) override;
  Status Annotations(const AnnotationRequest& request, std::vector<Annotation>* out) override;

 private:
  struct Entry {
    std::string name;
    Tags tags;
    Series stored;  // when fn is empty
    SeriesFn fn;
  };
  struct TableEntry {
    std::string name;
    TableFn fn;
  };

  const std::string name_;
  const bool may_block_;
  mutable std::shared_mutex mu_;
  std::vector<Entry> entries_;
  std::vector<TableEntry> tables_;
  std::vector<Annotation> events_;
  std::vector<AnnotationFn> event_fns_;
};

}  // namespace sluice
