// JSON helpers for assertions on server responses, on the simdjson DOM.
//
// JsonDoc owns a parser and the parsed document; elements taken from it are valid while it lives.
// Accessors never throw: a missing key or a wrong type yields nullopt / false, so tests can report
// what they found instead of crashing on a malformed response.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::testing {

using JsonElement = simdjson::dom::element;

class JsonDoc {
 public:
  // Parses `text`; check ok() / error().
  static JsonDoc Parse(std::string_view text);

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  JsonElement root() const { return root_; }

  JsonDoc(JsonDoc&&) = default;
  JsonDoc& operator=(JsonDoc&&) = default;

 private:
  JsonDoc() = default;
  std::unique_ptr<simdjson::dom::parser> parser_;
  JsonElement root_;
  std::string error_;
};

bool IsObject(JsonElement e);
bool IsArray(JsonElement e);
bool IsString(JsonElement e);
bool IsNull(JsonElement e);
bool IsBool(JsonElement e);
// Any JSON number.
bool IsNumber(JsonElement e);
// A JSON number written without fraction or exponent that fits in int64 (or uint64).
bool IsInteger(JsonElement e);

// Object member `key`, or nullopt when `obj` is not an object or lacks the key.
std::optional<JsonElement> Field(JsonElement obj, std::string_view key);
std::optional<std::string> StringField(JsonElement obj, std::string_view key);
std::optional<int64_t> IntField(JsonElement obj, std::string_view key);
std::optional<std::string> AsString(JsonElement e);
std::optional<int64_t> AsInt(JsonElement e);
std::optional<double> AsDouble(JsonElement e);
std::optional<bool> AsBool(JsonElement e);
// The elements of an array (empty when `e` is not an array).
std::vector<JsonElement> Elements(JsonElement e);
// The keys of an object in document order (empty when `e` is not an object).
std::vector<std::string> Keys(JsonElement e);

// Minified JSON text of `e`.
std::string ToJson(JsonElement e);
// Minified JSON text with object keys sorted (recursively), for order-insensitive comparison.
std::string CanonicalJson(JsonElement e);
// CanonicalJson of a whole text; the parse error message when it is not JSON.
std::string CanonicalJson(std::string_view text);
// `s` as a JSON string literal, quotes included.
std::string JsonQuote(std::string_view s);

}  // namespace sluice::testing
