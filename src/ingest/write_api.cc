#include "ingest/write_api.h"

#include <cmath>
#include <optional>

#include <simdjson.h>

#include "common/json_writer.h"
#include "common/time.h"
#include "protocol/request.h"
#include "store/line_protocol.h"

namespace sluice::ingest {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using store::ValueType;

constexpr size_t kMaxReportedErrors = 10;

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsNumber(const element& e) {
  auto t = e.type();
  return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
}

Status Finish(const store::WriteResult& result, size_t parse_errors,
              const std::vector<std::string>& messages, std::string* out) {
  if (messages.empty() && result.errors.empty()) return Status::OK();
  std::string text = "partial write:";
  size_t shown = 0;
  for (const auto* list : {&messages, &result.errors}) {
    for (const auto& m : *list) {
      if (shown++ >= kMaxReportedErrors) break;
      text += (shown == 1 ? " " : "; ") + m;
    }
  }
  text += fmt::format(" dropped={}", result.dropped + parse_errors);
  (void)out;
  return InvalidArgument("{}", text);
}

Result<int64_t> TimeField(const element& e, const std::string& where) {
  if (e.is_string()) {
    auto t = ParseTimestampMs(e.get_string().value());
    if (!t.ok()) return t.status().Annotate(where);
    return t;
  }
  if (IsNumber(e)) {
    double v = e.get_double().value();
    if (!std::isfinite(v) || std::fabs(v) > 9e15) return InvalidArgument("{}: out of range", where);
    return static_cast<int64_t>(v);
  }
  return InvalidArgument("{}: expected epoch milliseconds or an RFC 3339 string", where);
}

}  // namespace

std::string QueryParam(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) != key) continue;
    std::string_view raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::string value;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '+') {
        value.push_back(' ');
      } else if (raw[i] == '%' && i + 2 < raw.size() && HexDigit(raw[i + 1]) >= 0 &&
                 HexDigit(raw[i + 2]) >= 0) {
        value.push_back(static_cast<char>(HexDigit(raw[i + 1]) * 16 + HexDigit(raw[i + 2])));
        i += 2;
      } else {
        value.push_back(raw[i]);
      }
    }
    return value;
  }
  return {};
}

void AppendLineProtocol(std::string_view body, store::Precision precision, int64_t now_ms,
                        store::WriteBatch* batch, std::vector<std::string>* messages,
                        size_t* bad_lines, size_t line_offset) {
  std::vector<store::LineError> errors;
  std::string key, tag_part;
  store::ParseLineProtocol(
      body, precision, now_ms,
      [&](const store::LinePoint& p) {
        // Series key: "<measurement>.<field>" then the tags, built once per line.
        tag_part.clear();
        for (const auto& [k, v] : p.tags) {
          tag_part.push_back('\0');
          tag_part += k;
          tag_part.push_back('\0');
          tag_part += v;
        }
        for (size_t f = 0; f < p.field_count; ++f) {
          const store::LineField& field = p.fields[f];
          ValueType type = ValueType::kFloat;
          switch (field.type) {
            case store::FieldType::kFloat: type = ValueType::kFloat; break;
            case store::FieldType::kInteger:
            case store::FieldType::kUnsigned: type = ValueType::kInteger; break;
            case store::FieldType::kBoolean: type = ValueType::kBoolean; break;
            case store::FieldType::kString: continue;  // not graphable: accepted, not stored
          }
          key.assign(p.measurement);
          key.push_back('.');
          key += field.key;
          key += tag_part;
          batch->Add(batch->AddSeries(key, type, p.line + line_offset), p.time_ms, field.number);
        }
      },
      &errors, bad_lines);
  for (const auto& e : errors) {
    if (messages->size() >= kMaxReportedErrors) break;
    messages->push_back(fmt::format("line {}, column {}: {} (\"{}\")", e.line + line_offset,
                                    e.column, e.message, e.excerpt.substr(0, 80)));
  }
}

Status WriteApi::LineProtocol(std::string_view query, std::string_view body, std::string* out) {
  SLUICE_ASSIGN_OR_RETURN(store::Precision precision,
                          store::ParsePrecision(QueryParam(query, "precision")));
  store::WriteBatch batch;
  std::vector<std::string> messages;
  size_t bad_lines = 0;
  AppendLineProtocol(body, precision, NowMs(), &batch, &messages, &bad_lines);
  store::WriteResult result;
  if (!batch.empty()) SLUICE_RETURN_IF_ERROR(store_->Write(&batch, &result));
  return Finish(result, bad_lines, messages, out);
}

Status WriteApi::JsonWrite(std::string_view body, std::string* out) {
  SLUICE_ASSIGN_OR_RETURN(protocol::JsonBody json, protocol::JsonBody::Parse(body, false));
  const element& root = json.root();
  std::vector<element> series_list;
  if (root.is_array()) {
    for (element e : root.get_array()) series_list.push_back(e);
  } else if (root.is_object() && root["series"].error() == simdjson::SUCCESS) {
    element list = root["series"].value();
    if (!list.is_array()) return InvalidArgument("series: expected an array");
    for (element e : list.get_array()) series_list.push_back(e);
  } else if (root.is_object()) {
    series_list.push_back(root);
  } else {
    return InvalidArgument("request body: expected {{\"series\": [...]}}, an array or one series");
  }
  store::WriteBatch batch;
  for (size_t i = 0; i < series_list.size(); ++i) {
    const element& s = series_list[i];
    std::string where = fmt::format("series[{}]", i);
    if (!s.is_object()) return InvalidArgument("{}: expected an object", where);
    std::string_view name;
    if (s["name"].get(name) != simdjson::SUCCESS || name.empty()) {
      return InvalidArgument("{}.name: expected a non-empty string", where);
    }
    Tags tags;
    element tags_el;
    if (s["tags"].get(tags_el) == simdjson::SUCCESS && !tags_el.is_null()) {
      if (!tags_el.is_object()) return InvalidArgument("{}.tags: expected an object", where);
      for (auto [k, v] : tags_el.get_object()) {
        if (!v.is_string()) return InvalidArgument("{}.tags.{}: expected a string", where, k);
        tags.Set(std::string(k), std::string(v.get_string().value()));
      }
    }
    element points;
    if (s["points"].get(points) != simdjson::SUCCESS || !points.is_array()) {
      return InvalidArgument("{}.points: expected an array of [time, value]", where);
    }
    std::string key = store::SeriesKey(name, tags);
    std::optional<ValueType> series_type;
    size_t j = 0;
    for (element p : points.get_array()) {
      std::string pw = fmt::format("{}.points[{}]", where, j++);
      if (!p.is_array() || p.get_array().size() != 2) {
        return InvalidArgument("{}: expected [time, value]", pw);
      }
      SLUICE_ASSIGN_OR_RETURN(int64_t t, TimeField(p.at(0).value(), pw + "[0]"));
      element v = p.at(1).value();
      double value;
      std::optional<ValueType> type;  // null fits any type
      if (v.is_null()) {
        value = std::nan("");
      } else if (v.is_bool()) {
        value = v.get_bool().value() ? 1 : 0;
        type = ValueType::kBoolean;
      } else if (IsNumber(v)) {
        value = v.get_double().value();
        type = ValueType::kFloat;
      } else {
        return InvalidArgument("{}[1]: expected a number, a boolean or null", pw);
      }
      if (type && series_type && *type != *series_type) {
        return InvalidArgument("{}[1]: a {} in a series of {}s", pw, ValueTypeName(*type),
                               ValueTypeName(*series_type));
      }
      if (type) series_type = type;
      batch.Add(batch.AddSeries(key, series_type.value_or(ValueType::kFloat), i + 1), t, value);
    }
  }
  store::WriteResult result;
  if (!batch.empty()) SLUICE_RETURN_IF_ERROR(store_->Write(&batch, &result));
  SLUICE_RETURN_IF_ERROR(Finish(result, 0, {}, out));
  out->append(fmt::format(R"({{"written":{}}})", result.written));
  return Status::OK();
}

Status WriteApi::AddAnnotations(std::string_view body, std::string* out) {
  SLUICE_ASSIGN_OR_RETURN(protocol::JsonBody json, protocol::JsonBody::Parse(body, false));
  std::vector<element> events;
  if (json.root().is_array()) {
    for (element e : json.root().get_array()) events.push_back(e);
  } else {
    events.push_back(json.root());
  }
  std::vector<Annotation> parsed;
  const bool many = json.root().is_array();
  for (size_t i = 0; i < events.size(); ++i) {
    const element& e = events[i];
    const std::string where = many ? fmt::format("[{}].", i) : "";
    if (!e.is_object()) return InvalidArgument("{}: expected an event object", many ? where : "body");
    Annotation a;
    element t;
    if (e["time"].get(t) != simdjson::SUCCESS) return InvalidArgument("{}time: missing", where);
    SLUICE_ASSIGN_OR_RETURN(a.time_ms, TimeField(t, where + "time"));
    a.end_ms = a.time_ms;
    if (e["timeEnd"].get(t) == simdjson::SUCCESS && !t.is_null()) {
      SLUICE_ASSIGN_OR_RETURN(a.end_ms, TimeField(t, where + "timeEnd"));
      if (a.end_ms < a.time_ms) return InvalidArgument("{}timeEnd: before time", where);
    }
    std::string_view text;
    if (e["title"].get(text) == simdjson::SUCCESS) a.title = std::string(text);
    if (e["text"].get(text) == simdjson::SUCCESS) a.text = std::string(text);
    if (a.title.empty() && a.text.empty()) {
      return InvalidArgument("{}title: an event needs a title or a text", where);
    }
    // Grafana shows `text` (new) or `title` (old): an event given one of them shows it in both.
    if (a.title.empty()) a.title = a.text;
    if (a.text.empty()) a.text = a.title;
    element tags;
    if (e["tags"].get(tags) == simdjson::SUCCESS && !tags.is_null()) {
      if (!tags.is_array()) return InvalidArgument("{}tags: expected an array of strings", where);
      for (element tag : tags.get_array()) {
        if (!tag.is_string()) return InvalidArgument("{}tags: expected an array of strings", where);
        a.tags.emplace_back(tag.get_string().value());
      }
    }
    parsed.push_back(std::move(a));
  }
  for (const auto& a : parsed) SLUICE_RETURN_IF_ERROR(store_->AddAnnotation(a));
  out->append(fmt::format(R"({{"added":{}}})", parsed.size()));
  return Status::OK();
}

Status WriteApi::Delete(std::string_view body, std::string* out) {
  SLUICE_ASSIGN_OR_RETURN(protocol::JsonBody json, protocol::JsonBody::Parse(body, false));
  std::string_view target;
  if (json.root()["target"].get(target) != simdjson::SUCCESS || target.empty()) {
    return InvalidArgument("target: expected the name or pattern of the series to delete");
  }
  SLUICE_ASSIGN_OR_RETURN(protocol::TagRequest tag_request,
                          protocol::DecodeTagRequest(json.root(), false, {}));
  NameMatcher matcher = NameMatcher::Compile(target);
  size_t deleted = 0;
  SLUICE_RETURN_IF_ERROR(store_->DeleteSeries(matcher, tag_request.filters, &deleted));
  out->append(fmt::format(R"({{"deleted":{}}})", deleted));
  return Status::OK();
}

}  // namespace sluice::ingest
