// Catalog: several sources served as one. A request goes to every source; results are
// concatenated in registration order and name listings are merged, sorted and de-duplicated.
// The first error from any source fails the call, annotated with that source's name.
#pragma once

#include <memory>
#include <vector>

#include "source/series_source.h"

namespace sluice {

class Catalog : public SeriesSource {
 public:
  Catalog() = default;
  // Not thread-safe against concurrent calls: add every source before serving.
  void Add(std::shared_ptr<SeriesSource> source);
  const std::vector<std::shared_ptr<SeriesSource>>& sources() const { return sources_; }

  std::string_view name() const override { return "catalog"; }
  bool MayBlock() const override;
  Status ListNames(std::vector<std::string>* out) override;
  Status TagKeys(const std::vector<TagFilter>& filters, std::vector<std::string>* out) override;
  Status TagValues(std::string_view key, const std::vector<TagFilter>& filters,
                   std::vector<std::string>* out) override;
  Status Fetch(const FetchRequest& request, FetchResult* out) override;
  Status Annotations(const AnnotationRequest& request, std::vector<Annotation>* out) override;
  // Every source that knows the text answers; the values are concatenated in registration order.
  Status VariableValues(const VariableRequest& request, std::vector<std::string>* out,
                        bool* handled) override;

 private:
  std::vector<std::shared_ptr<SeriesSource>> sources_;
  bool may_block_ = false;
};

}  // namespace sluice
