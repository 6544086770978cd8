#include "protocol/request.h"

#include <charconv>
#include <cmath>

#include <simdjson.h>

#include "common/time.h"

namespace sluice::protocol {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::string_view TypeName(const element& e) {
  switch (e.type()) {
    case element_type::ARRAY: return "array";
    case element_type::OBJECT: return "object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return "number";
    case element_type::STRING: return "string";
    case element_type::BOOL: return "boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "value";
}

bool IsNumber(const element& e) {
  auto t = e.type();
  return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
}

// The member `key` of `obj`, or nullopt when `obj` is not an object or lacks it (null counts as
// absent).
std::optional<element> Member(const element& obj, std::string_view key) {
  if (obj.type() != element_type::OBJECT) return std::nullopt;
  element value;
  if (obj.get_object().at_key(key).get(value) != simdjson::SUCCESS) return std::nullopt;
  if (value.is_null()) return std::nullopt;
  return value;
}

Status WrongType(std::string_view where, std::string_view expected, const element& got) {
  return InvalidArgument("{}: expected {}, got {}", where, expected, TypeName(got));
}

// An optional string field; numbers and booleans are accepted as their JSON text.
Result<std::optional<std::string>> OptionalText(const element& obj, std::string_view key,
                                                std::string_view where) {
  auto m = Member(obj, key);
  if (!m) return std::optional<std::string>();
  if (m->is_string()) return std::optional<std::string>(std::string(m->get_string().value()));
  if (IsNumber(*m) || m->is_bool()) return std::optional<std::string>(simdjson::minify(*m));
  return WrongType(where, "a string", *m);
}

// A non-negative integer field, or `fallback` when absent, zero, negative or not a number.
int64_t PositiveIntOr(const element& obj, std::string_view key, int64_t fallback) {
  auto m = Member(obj, key);
  if (!m) return fallback;
  double v = 0;
  if (m->is_string()) {
    std::string_view s = m->get_string().value();
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc()) return fallback;
  } else if (IsNumber(*m)) {
    v = m->get_double().value();
  } else {
    return fallback;
  }
  if (!(v >= 1) || v > 1e15) return fallback;
  return static_cast<int64_t>(v);
}

Result<int64_t> DecodeTime(const element& e, const std::string& where) {
  if (e.is_string()) {
    auto parsed = ParseTimestampMs(e.get_string().value());
    if (!parsed.ok()) return parsed.status().Annotate(where);
    return parsed;
  }
  if (IsNumber(e)) {
    double v = e.get_double().value();
    if (!std::isfinite(v) || std::fabs(v) > static_cast<double>(kMaxAbsTimeMs)) {
      return InvalidArgument("{}: out of range", where);
    }
    return static_cast<int64_t>(v);
  }
  return WrongType(where, "a timestamp string or epoch milliseconds", e);
}

Status DecodeFilterArray(const element& arr, std::string_view field, size_t max_filters,
                         std::vector<TagFilter>* out) {
  if (arr.type() != element_type::ARRAY) return WrongType(field, "an array", arr);
  size_t i = 0;
  for (element f : arr.get_array()) {
    std::string where = fmt::format("{}[{}]", field, i++);
    if (out->size() >= max_filters) {
      return InvalidArgument("{}: more than {} filters", field, max_filters);
    }
    if (f.type() != element_type::OBJECT) return WrongType(where, "an object", f);
    SLUICE_ASSIGN_OR_RETURN(auto key, OptionalText(f, "key", where + ".key"));
    if (!key || key->empty()) return InvalidArgument("{}.key: missing", where);
    SLUICE_ASSIGN_OR_RETURN(auto op_text, OptionalText(f, "operator", where + ".operator"));
    SLUICE_ASSIGN_OR_RETURN(auto value, OptionalText(f, "value", where + ".value"));
    FilterOp op = FilterOp::kEq;
    if (op_text && !op_text->empty()) {
      auto parsed = ParseFilterOp(*op_text);
      if (!parsed.ok()) return parsed.status().Annotate(where + ".operator");
      op = *parsed;
    }
    std::vector<std::string> values;
    if (auto vs = Member(f, "values"); vs && vs->type() == element_type::ARRAY) {
      for (element v : vs->get_array()) {
        if (v.is_string()) values.emplace_back(v.get_string().value());
        else if (IsNumber(v) || v.is_bool()) values.push_back(simdjson::minify(v));
      }
    }
    auto filter = TagFilter::Make(std::move(*key), op, value.value_or(""), std::move(values));
    if (!filter.ok()) return filter.status().Annotate(where);
    bool duplicate = false;
    for (const auto& existing : *out) duplicate = duplicate || existing.SameAs(*filter);
    if (!duplicate) out->push_back(std::move(filter).value());
  }
  return Status::OK();
}

Status DecodeFilters(const element& root, size_t max_filters, std::vector<TagFilter>* out) {
  for (std::string_view field : {"adhocFilters", "filters"}) {
    if (auto arr = Member(root, field)) {
      SLUICE_RETURN_IF_ERROR(DecodeFilterArray(*arr, field, max_filters, out));
    }
  }
  return Status::OK();
}

Status RequireObject(const element& root) {
  if (root.type() != element_type::OBJECT) return WrongType("request body", "a JSON object", root);
  return Status::OK();
}

}  // namespace

// Parsers keep their buffers between parses; one per thread is reused unless already in use.
struct JsonBody::Impl {
  Impl() {
    thread_local simdjson::dom::parser cached;
    thread_local bool cached_in_use = false;
    if (!cached_in_use) {
      cached_in_use = true;
      in_use_flag = &cached_in_use;
      parser = &cached;
    } else {
      owned = std::make_unique<simdjson::dom::parser>();
      parser = owned.get();
    }
  }
  ~Impl() {
    if (in_use_flag) *in_use_flag = false;
  }

  std::unique_ptr<simdjson::dom::parser> owned;
  simdjson::dom::parser* parser = nullptr;
  bool* in_use_flag = nullptr;
  element root;
};

JsonBody::JsonBody() : impl_(std::make_unique<Impl>()) {}
JsonBody::~JsonBody() = default;
JsonBody::JsonBody(JsonBody&&) noexcept = default;
JsonBody& JsonBody::operator=(JsonBody&&) noexcept = default;

const element& JsonBody::root() const { return impl_->root; }

Result<JsonBody> JsonBody::Parse(std::string_view text, bool empty_ok) {
  size_t first = text.find_first_not_of(" \t\r\n");
  JsonBody body;
  if (first == std::string_view::npos) {
    if (!empty_ok) return InvalidArgument("request body is empty; expected a JSON object");
    text = "{}";
  }
  auto err = body.impl_->parser->parse(text.data(), text.size(), true).get(body.impl_->root);
  if (err != simdjson::SUCCESS) {
    return InvalidArgument("invalid JSON in request body: {}", simdjson::error_message(err));
  }
  return body;
}

Result<TimeRange> DecodeRange(const element& root, std::string_view field,
                              const RequestDefaults& defaults, int64_t now_ms) {
  TimeRange range{now_ms - defaults.range_ms, now_ms};
  auto r = Member(root, field);
  if (!r) return range;
  if (r->type() != element_type::OBJECT) return WrongType(field, "an object", *r);
  auto from = Member(*r, "from");
  auto to = Member(*r, "to");
  if (to) {
    SLUICE_ASSIGN_OR_RETURN(range.to_ms, DecodeTime(*to, fmt::format("{}.to", field)));
  }
  if (from) {
    SLUICE_ASSIGN_OR_RETURN(range.from_ms, DecodeTime(*from, fmt::format("{}.from", field)));
  } else {
    range.from_ms = range.to_ms - defaults.range_ms;
  }
  if (range.from_ms > range.to_ms) {
    return InvalidArgument("{}: from ({}) is after to ({})", field, FormatTimestampMs(range.from_ms),
                           FormatTimestampMs(range.to_ms));
  }
  return range;
}

Result<QueryRequest> DecodeQuery(const element& root, const RequestDefaults& defaults,
                                 int64_t now_ms) {
  SLUICE_RETURN_IF_ERROR(RequireObject(root));
  QueryRequest q;
  SLUICE_ASSIGN_OR_RETURN(q.range, DecodeRange(root, "range", defaults, now_ms));
  q.max_data_points = PositiveIntOr(root, "maxDataPoints", defaults.max_data_points);
  int64_t span = q.range.to_ms - q.range.from_ms;
  q.interval_ms = PositiveIntOr(root, "intervalMs", std::max<int64_t>(1, span / q.max_data_points));
  SLUICE_RETURN_IF_ERROR(DecodeFilters(root, defaults.max_filters, &q.filters));

  if (auto kind = Member(root, "dataQueryKind"); kind && kind->is_string()) {
    q.annotation_request = kind->get_string().value() == "annotations";
  }
  if (auto vars = Member(root, "scopedVars")) {
    q.annotation_request = q.annotation_request || Member(*vars, "__annotation").has_value();
    if (vars->type() == element_type::OBJECT) q.scoped_vars_json = simdjson::minify(*vars);
  }

  auto targets = Member(root, "targets");
  if (!targets) return q;
  if (targets->type() != element_type::ARRAY) return WrongType("targets", "an array", *targets);
  size_t i = 0;
  for (element t : targets->get_array()) {
    std::string where = fmt::format("targets[{}]", i);
    if (i >= defaults.max_targets) {
      return InvalidArgument("targets: more than {} targets", defaults.max_targets);
    }
    QueryTarget target;
    target.index = i++;
    if (t.type() != element_type::OBJECT) return WrongType(where, "an object", t);
    if (auto hide = Member(t, "hide"); hide && hide->is_bool() && hide->get_bool().value()) continue;
    if (auto text = Member(t, "target")) {
      if (!text->is_string()) return WrongType(where + ".target", "a string", *text);
      target.text = text->get_string().value();
    }
    SLUICE_ASSIGN_OR_RETURN(auto ref, OptionalText(t, "refId", where + ".refId"));
    target.ref_id = ref.value_or("A");
    if (auto type = Member(t, "type"); type && type->is_string()) {
      if (type->get_string().value() == "table") target.format = ResultFormat::kTable;
    }
    if (auto payload = Member(t, "payload")) {
      target.payload_json = simdjson::minify(*payload);
      if (auto format = Member(*payload, "format"); format && format->is_string()) {
        std::string_view f = format->get_string().value();
        if (f == "table") target.format = ResultFormat::kTable;
        else if (f == "timeseries" || f == "timeserie" || f == "time_series")
          target.format = ResultFormat::kTimeseries;
      }
      if (auto fn = Member(*payload, "consolidateBy"); fn && fn->is_string()) {
        std::string_view name = fn->get_string().value();
        if (!name.empty()) {
          target.consolidate = ParseConsolidationFn(name);
          if (!target.consolidate) {
            return InvalidArgument(
                "{}.payload.consolidateBy: unknown function \"{}\" (expected avg, min, max, sum, "
                "last, first or count)",
                where, name);
          }
        }
      }
    }
    target.is_annotation = q.annotation_request || target.ref_id == "Anno";
    q.targets.push_back(std::move(target));
  }
  return q;
}

Result<AnnotationsRequest> DecodeAnnotations(const element& root, const RequestDefaults& defaults,
                                             int64_t now_ms) {
  SLUICE_RETURN_IF_ERROR(RequireObject(root));
  AnnotationsRequest a;
  SLUICE_ASSIGN_OR_RETURN(a.range, DecodeRange(root, "range", defaults, now_ms));
  if (auto annotation = Member(root, "annotation")) {
    if (annotation->type() != element_type::OBJECT) {
      return WrongType("annotation", "an object", *annotation);
    }
    a.annotation_json = simdjson::minify(*annotation);
    if (auto query = Member(*annotation, "query")) {
      if (!query->is_string()) return WrongType("annotation.query", "a string", *query);
      a.query = query->get_string().value();
    }
  }
  return a;
}

Result<SearchRequest> DecodeSearch(const element& root) {
  SearchRequest s;
  if (auto target = Member(root, "target"); target && target->is_string()) {
    s.text = target->get_string().value();
  }
  return s;
}

Result<SearchRequest> DecodeMetrics(const element& root) {
  SearchRequest s;
  if (auto metric = Member(root, "metric"); metric && metric->is_string()) {
    s.text = metric->get_string().value();
  }
  return s;
}

Result<SearchRequest> DecodeVariable(const element& root, const RequestDefaults& defaults,
                                     int64_t now_ms) {
  SLUICE_RETURN_IF_ERROR(RequireObject(root));
  SearchRequest s;
  SLUICE_ASSIGN_OR_RETURN(s.range, DecodeRange(root, "range", defaults, now_ms));
  auto payload = Member(root, "payload");
  if (!payload) return s;
  if (payload->is_string()) {
    s.text = payload->get_string().value();
  } else if (payload->type() == element_type::OBJECT) {
    if (auto target = Member(*payload, "target")) {
      if (!target->is_string()) return WrongType("payload.target", "a string", *target);
      s.text = target->get_string().value();
    }
  } else {
    return WrongType("payload", "a string or an object with a \"target\" string", *payload);
  }
  return s;
}

Result<MetricPayloadOptionsRequest> DecodeMetricPayloadOptions(const element& root) {
  SLUICE_RETURN_IF_ERROR(RequireObject(root));
  MetricPayloadOptionsRequest r;
  if (auto metric = Member(root, "metric"); metric && metric->is_string()) {
    r.metric = metric->get_string().value();
  }
  if (auto name = Member(root, "name")) {
    if (!name->is_string()) return WrongType("name", "a string", *name);
    r.name = name->get_string().value();
  }
  return r;
}

Result<TagRequest> DecodeTagRequest(const element& root, bool need_key,
                                    const RequestDefaults& defaults) {
  SLUICE_RETURN_IF_ERROR(RequireObject(root));
  TagRequest r;
  if (need_key) {
    auto key = Member(root, "key");
    if (!key) return InvalidArgument("key: missing; expected the tag key whose values to list");
    if (!key->is_string()) return WrongType("key", "a string", *key);
    r.key = key->get_string().value();
  }
  std::vector<TagFilter> filters;
  SLUICE_RETURN_IF_ERROR(DecodeFilters(root, defaults.max_filters, &filters));
  for (auto& f : filters) {
    if (!need_key || f.key() != r.key) r.filters.push_back(std::move(f));
  }
  return r;
}

}  // namespace sluice::protocol
