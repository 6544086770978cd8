#include "testing/json.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace sluice::testing {

JsonDoc JsonDoc::Parse(std::string_view text) {
  JsonDoc doc;
  doc.parser_ = std::make_unique<simdjson::dom::parser>();
  auto error =
      doc.parser_->parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(doc.root_);
  if (error != simdjson::SUCCESS) {
    doc.error_ =
        fmt::format("invalid JSON ({}): {}", simdjson::error_message(error), text.substr(0, 300));
  }
  return doc;
}

bool IsObject(JsonElement e) { return e.type() == simdjson::dom::element_type::OBJECT; }
bool IsArray(JsonElement e) { return e.type() == simdjson::dom::element_type::ARRAY; }
bool IsString(JsonElement e) { return e.type() == simdjson::dom::element_type::STRING; }
bool IsNull(JsonElement e) { return e.type() == simdjson::dom::element_type::NULL_VALUE; }
bool IsBool(JsonElement e) { return e.type() == simdjson::dom::element_type::BOOL; }
bool IsNumber(JsonElement e) { return e.is_number(); }
bool IsInteger(JsonElement e) { return e.is_int64() || e.is_uint64(); }

std::optional<JsonElement> Field(JsonElement obj, std::string_view key) {
  simdjson::dom::object object;
  if (obj.get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
  JsonElement value;
  if (object.at_key(key).get(value) != simdjson::SUCCESS) return std::nullopt;
  return value;
}

std::optional<std::string> AsString(JsonElement e) {
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
  return std::string(s);
}

std::optional<int64_t> AsInt(JsonElement e) {
  int64_t v = 0;
  if (e.get_int64().get(v) != simdjson::SUCCESS) return std::nullopt;
  return v;
}

std::optional<double> AsDouble(JsonElement e) {
  double v = 0;
  if (e.get_double().get(v) != simdjson::SUCCESS) return std::nullopt;
  return v;
}

std::optional<bool> AsBool(JsonElement e) {
  bool v = false;
  if (e.get_bool().get(v) != simdjson::SUCCESS) return std::nullopt;
  return v;
}

std::optional<std::string> StringField(JsonElement obj, std::string_view key) {
  auto f = Field(obj, key);
  if (!f) return std::nullopt;
  return AsString(*f);
}

std::optional<int64_t> IntField(JsonElement obj, std::string_view key) {
  auto f = Field(obj, key);
  if (!f) return std::nullopt;
  return AsInt(*f);
}

std::vector<JsonElement> Elements(JsonElement e) {
  std::vector<JsonElement> out;
  simdjson::dom::array array;
  if (e.get_array().get(array) != simdjson::SUCCESS) return out;
  for (JsonElement item : array) out.push_back(item);
  return out;
}

std::vector<std::string> Keys(JsonElement e) {
  std::vector<std::string> out;
  simdjson::dom::object object;
  if (e.get_object().get(object) != simdjson::SUCCESS) return out;
  for (auto field : object) out.emplace_back(field.key);
  return out;
}

std::string ToJson(JsonElement e) { return simdjson::minify(e); }

std::string CanonicalJson(JsonElement e) {
  if (IsObject(e)) {
    std::vector<std::pair<std::string, std::string>> members;
    for (const std::string& key : Keys(e)) members.emplace_back(key, CanonicalJson(*Field(e, key)));
    std::sort(members.begin(), members.end());
    std::string out = "{";
    for (size_t i = 0; i < members.size(); ++i) {
      if (i > 0) out += ',';
      out += JsonQuote(members[i].first) + ":" + members[i].second;
    }
    return out + "}";
  }
  if (IsArray(e)) {
    std::string out = "[";
    bool first = true;
    for (JsonElement item : Elements(e)) {
      if (!first) out += ',';
      first = false;
      out += CanonicalJson(item);
    }
    return out + "]";
  }
  return ToJson(e);
}

std::string CanonicalJson(std::string_view text) {
  JsonDoc doc = JsonDoc::Parse(text);
  if (!doc.ok()) return doc.error();
  return CanonicalJson(doc.root());
}

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace sluice::testing
