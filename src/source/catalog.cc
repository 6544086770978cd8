#include "source/catalog.h"

#include <algorithm>

#include "common/strings.h"

namespace sluice {

void Catalog::Add(std::shared_ptr<SeriesSource> source) {
  may_block_ = may_block_ || source->MayBlock();
  sources_.push_back(std::move(source));
}

bool Catalog::MayBlock() const { return may_block_; }

Status Catalog::ListNames(std::vector<std::string>* out) {
  std::vector<std::string> names;
  for (const auto& s : sources_) SLUICE_RETURN_IF_ERROR(s->ListNames(&names).Annotate(s->name()));
  SortUnique(&names);
  out->insert(out->end(), names.begin(), names.end());
  return Status::OK();
}

Status Catalog::TagKeys(const std::vector<TagFilter>& filters, std::vector<std::string>* out) {
  std::vector<std::string> keys;
  for (const auto& s : sources_) SLUICE_RETURN_IF_ERROR(s->TagKeys(filters, &keys).Annotate(s->name()));
  SortUnique(&keys);
  out->insert(out->end(), keys.begin(), keys.end());
  return Status::OK();
}

Status Catalog::TagValues(std::string_view key, const std::vector<TagFilter>& filters,
                          std::vector<std::string>* out) {
  std::vector<std::string> values;
  for (const auto& s : sources_) {
    SLUICE_RETURN_IF_ERROR(s->TagValues(key, filters, &values).Annotate(s->name()));
  }
  SortUnique(&values);
  out->insert(out->end(), values.begin(), values.end());
  return Status::OK();
}

Status Catalog::Fetch(const FetchRequest& request, FetchResult* out) {
  for (const auto& s : sources_) SLUICE_RETURN_IF_ERROR(s->Fetch(request, out).Annotate(s->name()));
  return Status::OK();
}

Status Catalog::Annotations(const AnnotationRequest& request, std::vector<Annotation>* out) {
  for (const auto& s : sources_) {
    SLUICE_RETURN_IF_ERROR(s->Annotations(request, out).Annotate(s->name()));
  }
  std::stable_sort(out->begin(), out->end(),
                   [](const Annotation& a, const Annotation& b) { return a.time_ms < b.time_ms; });
  if (out->size() > request.limit) out->resize(request.limit);
  return Status::OK();
}

Status Catalog::VariableValues(const VariableRequest& request, std::vector<std::string>* out,
                              bool* handled) {
  for (const auto& s : sources_) {
    SLUICE_RETURN_IF_ERROR(s->VariableValues(request, out, handled).Annotate(s->name()));
  }
  return Status::OK();
}

}  // namespace sluice
