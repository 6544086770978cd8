#include "testing/protocol_checks.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "common/time.h"
#include "testing/json.h"

namespace sluice::testing {
namespace {

using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;

const std::set<std::string>& ValidColumnTypes() {
  static const std::set<std::string> kTypes = {"time", "number", "string", "boolean"};
  return kTypes;
}

// Checks that a cell fits its column type (null always allowed).
bool CellMatches(JsonElement cell, const std::string& type) {
  if (IsNull(cell)) return true;
  if (type == "time") return IsInteger(cell);
  if (type == "number") return IsNumber(cell);
  if (type == "string") return IsString(cell);
  if (type == "boolean") return IsBool(cell);
  return false;
}

AssertionResult CheckSeries(JsonElement e, int64_t max_points, SeriesView* view) {
  auto target = StringField(e, "target");
  if (!target) return AssertionFailure() << "timeserie without a string \"target\": " << ToJson(e);
  view->target = *target;
  if (auto ref = Field(e, "refId")) {
    if (!IsString(*ref)) return AssertionFailure() << "refId is not a string: " << ToJson(e);
    view->ref_id = AsString(*ref);
  }
  if (auto tags = Field(e, "tags")) {
    if (!IsObject(*tags)) return AssertionFailure() << "tags is not an object in " << *target;
    for (const std::string& key : Keys(*tags)) {
      auto value = StringField(*tags, key);
      if (!value) {
        return AssertionFailure() << "tag " << key << " of " << *target << " is not a string";
      }
      view->tags[key] = *value;
    }
  }
  auto datapoints = Field(e, "datapoints");
  if (!datapoints || !IsArray(*datapoints)) {
    return AssertionFailure() << "datapoints missing or not an array in " << *target;
  }
  for (JsonElement point : Elements(*datapoints)) {
    std::vector<JsonElement> pair = Elements(point);
    if (!IsArray(point) || pair.size() != 2) {
      return AssertionFailure() << "datapoint is not [value, time] in " << *target << ": "
                                << ToJson(point);
    }
    if (!IsNumber(pair[0]) && !IsNull(pair[0])) {
      return AssertionFailure() << "datapoint value is not a number or null in " << *target << ": "
                                << ToJson(point);
    }
    if (!IsInteger(pair[1])) {
      return AssertionFailure() << "datapoint time is not integer epoch ms in " << *target << ": "
                                << ToJson(point);
    }
    Datapoint dp;
    if (!IsNull(pair[0])) dp.value = AsDouble(pair[0]);
    dp.time_ms = *AsInt(pair[1]);
    if (!view->points.empty() && dp.time_ms <= view->points.back().time_ms) {
      return AssertionFailure() << "timestamps not ascending/unique in " << *target << ": "
                                << view->points.back().time_ms << " then " << dp.time_ms;
    }
    view->points.push_back(dp);
  }
  if (max_points > 0 && static_cast<int64_t>(view->points.size()) > max_points) {
    return AssertionFailure() << *target << " has " << view->points.size()
                              << " points, more than maxDataPoints " << max_points;
  }
  return AssertionSuccess();
}

}  // namespace

AssertionResult IsJsonResponse(const HttpResponse& r, int status) {
  if (r.status == 0) return AssertionFailure() << r.Describe();
  if (status == 0 ? (r.status < 200 || r.status > 299) : r.status != status) {
    return AssertionFailure() << "expected status "
                              << (status == 0 ? "2xx" : std::to_string(status)) << ", got "
                              << r.Describe();
  }
  if (r.MediaType() != "application/json") {
    return AssertionFailure() << "Content-Type is not application/json: " << r.Describe();
  }
  JsonDoc doc = JsonDoc::Parse(r.body);
  if (!doc.ok()) return AssertionFailure() << doc.error();
  return AssertionSuccess();
}

AssertionResult IsJsonArray(const HttpResponse& r) {
  AssertionResult ok = IsJsonResponse(r, 200);
  if (!ok) return ok;
  JsonDoc doc = JsonDoc::Parse(r.body);
  if (!IsArray(doc.root()))
    return AssertionFailure() << "body is not a JSON array: " << r.Describe();
  return AssertionSuccess();
}

AssertionResult IsJsonError(const HttpResponse& r, int status) {
  if (r.status == 0) return AssertionFailure() << r.Describe();
  if (r.status != status) {
    return AssertionFailure() << "expected status " << status << ", got " << r.Describe();
  }
  if (r.MediaType() != "application/json") {
    return AssertionFailure() << "error Content-Type is not application/json: " << r.Describe();
  }
  JsonDoc doc = JsonDoc::Parse(r.body);
  if (!doc.ok()) return AssertionFailure() << doc.error();
  auto message = StringField(doc.root(), "message");
  if (!message || message->empty()) {
    return AssertionFailure() << "error body lacks a non-empty string \"message\": " << r.body;
  }
  if (!StringField(doc.root(), "error")) {
    return AssertionFailure() << "error body lacks a string \"error\": " << r.body;
  }
  return AssertionSuccess();
}

AssertionResult HasCorsHeaders(const HttpResponse& r, std::string_view origin) {
  if (r.status == 0) return AssertionFailure() << r.Describe();
  if (r.Header("Access-Control-Allow-Origin") != origin) {
    return AssertionFailure() << "Access-Control-Allow-Origin is \""
                              << r.Header("Access-Control-Allow-Origin") << "\", want \"" << origin
                              << "\"; " << r.Describe();
  }
  if (r.Header("Access-Control-Allow-Credentials") != "true") {
    return AssertionFailure() << "Access-Control-Allow-Credentials is \""
                              << r.Header("Access-Control-Allow-Credentials")
                              << "\", want \"true\"; " << r.Describe();
  }
  return AssertionSuccess();
}

AssertionResult IsNot5xx(const HttpResponse& r) {
  if (r.status == 0) return AssertionFailure() << r.Describe();
  if (r.status >= 500) return AssertionFailure() << "server error: " << r.Describe();
  return AssertionSuccess();
}

std::set<std::string> HeaderTokens(std::string_view value) {
  std::set<std::string> out;
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t comma = value.find(',', pos);
    if (comma == std::string_view::npos) comma = value.size();
    std::string token(value.substr(pos, comma - pos));
    token.erase(0, token.find_first_not_of(" \t"));
    token.erase(token.find_last_not_of(" \t") + 1);
    std::transform(token.begin(), token.end(), token.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!token.empty()) out.insert(token);
    pos = comma + 1;
  }
  return out;
}

int TableView::Column(std::string_view text) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].first == text) return static_cast<int>(i);
  }
  return -1;
}

std::vector<const SeriesView*> QueryView::SeriesFor(std::string_view ref_id) const {
  std::vector<const SeriesView*> out;
  for (const SeriesView& s : series) {
    if (s.ref_id && *s.ref_id == ref_id) out.push_back(&s);
  }
  return out;
}

std::vector<const SeriesView*> QueryView::SeriesNamed(std::string_view target) const {
  std::vector<const SeriesView*> out;
  for (const SeriesView& s : series) {
    if (s.target == target) out.push_back(&s);
  }
  return out;
}

std::vector<const TableView*> QueryView::TablesFor(std::string_view ref_id) const {
  std::vector<const TableView*> out;
  for (const TableView& t : tables) {
    if (t.ref_id && *t.ref_id == ref_id) out.push_back(&t);
  }
  return out;
}

std::vector<std::string> QueryView::Targets() const {
  std::vector<std::string> out;
  for (const SeriesView& s : series) out.push_back(s.target);
  std::sort(out.begin(), out.end());
  return out;
}

AssertionResult CheckTable(JsonElement e, TableView* view) {
  if (auto ref = Field(e, "refId")) {
    if (!IsString(*ref)) return AssertionFailure() << "table refId is not a string: " << ToJson(e);
    view->ref_id = AsString(*ref);
  }
  if (auto type = Field(e, "type")) view->type = AsString(*type);
  auto columns = Field(e, "columns");
  if (!columns || !IsArray(*columns)) return AssertionFailure() << "table without columns array";
  for (JsonElement column : Elements(*columns)) {
    auto text = StringField(column, "text");
    auto type = StringField(column, "type");
    if (!text) return AssertionFailure() << "table column without string text: " << ToJson(column);
    if (!type || !ValidColumnTypes().count(*type)) {
      return AssertionFailure() << "table column " << *text
                                << " has no valid type: " << ToJson(column);
    }
    view->columns.emplace_back(*text, *type);
  }
  auto rows = Field(e, "rows");
  if (!rows || !IsArray(*rows)) return AssertionFailure() << "table rows is not an array";
  for (JsonElement row : Elements(*rows)) {
    std::vector<JsonElement> cells = Elements(row);
    if (!IsArray(row) || cells.size() != view->columns.size()) {
      return AssertionFailure() << "table row length " << cells.size()
                                << " != " << view->columns.size() << " columns: " << ToJson(row);
    }
    std::vector<std::string> out_row;
    for (size_t i = 0; i < cells.size(); ++i) {
      if (!CellMatches(cells[i], view->columns[i].second)) {
        return AssertionFailure() << "cell " << ToJson(cells[i]) << " does not fit column "
                                  << view->columns[i].first << " (" << view->columns[i].second
                                  << ")";
      }
      out_row.push_back(ToJson(cells[i]));
    }
    view->rows.push_back(std::move(out_row));
  }
  return AssertionSuccess();
}

AssertionResult ParseQueryResponse(const HttpResponse& r, QueryView* view, int64_t max_points) {
  AssertionResult ok = IsJsonArray(r);
  if (!ok) return ok;
  JsonDoc doc = JsonDoc::Parse(r.body);
  for (JsonElement e : Elements(doc.root())) {
    if (!IsObject(e)) return AssertionFailure() << "element is not an object: " << ToJson(e);
    if (Field(e, "datapoints")) {
      SeriesView s;
      AssertionResult series_ok = CheckSeries(e, max_points, &s);
      if (!series_ok) return series_ok;
      view->series.push_back(std::move(s));
    } else if (Field(e, "columns")) {
      TableView t;
      AssertionResult table_ok = CheckTable(e, &t);
      if (!table_ok) return table_ok;
      view->tables.push_back(std::move(t));
    } else {
      return AssertionFailure() << "element is neither a timeserie nor a table: " << ToJson(e);
    }
  }
  return AssertionSuccess();
}

std::vector<std::string> PointList(const SeriesView& series) {
  std::vector<std::string> out;
  for (const Datapoint& p : series.points) {
    out.push_back(p.value ? fmt::format("{}:{}", p.time_ms, *p.value)
                          : fmt::format("{}:null", p.time_ms));
  }
  return out;
}

std::string RawPointsQueryBody(std::string_view target, int64_t from_ms, int64_t to_ms,
                               std::string_view ref_id) {
  return fmt::format(
      R"({{"range":{{"from":"{}","to":"{}","raw":{{"from":"now-6h","to":"now"}}}},)"
      R"("intervalMs":1,"maxDataPoints":10000000,"targets":[{{"target":{},"refId":{}}}]}})",
      FormatTimestampMs(from_ms), FormatTimestampMs(to_ms), JsonQuote(target), JsonQuote(ref_id));
}

}  // namespace sluice::testing
