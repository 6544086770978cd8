#include "testing/annotations.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "testing/demo_data.h"
#include "testing/json.h"

namespace sluice::testing {
namespace {

using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

bool Event::HasTag(std::string_view tag) const {
  return std::any_of(tags.begin(), tags.end(), [&](const std::string& t) { return t == tag; });
}

std::string Event::Key() const { return fmt::format("{}|{}|{}", time, time_end, title); }

// Validates an OLD /annotations response (§6.1) and returns its events and the echoed annotations.
AssertionResult ParseOldAnnotations(const HttpResponse& r, std::vector<Event>* events,
                                    std::vector<std::string>* echoes) {
  AssertionResult ok = IsJsonArray(r);
  if (!ok) return ok;
  JsonDoc doc = JsonDoc::Parse(r.body);
  for (JsonElement e : Elements(doc.root())) {
    Event ev;
    auto time = IntField(e, "time");
    if (!time) return AssertionFailure() << "event without integer time: " << ToJson(e);
    ev.time = *time;
    ev.time_end = ev.time;
    if (auto end = Field(e, "timeEnd")) {
      if (!IsInteger(*end)) return AssertionFailure() << "timeEnd not integer: " << ToJson(e);
      ev.time_end = *AsInt(*end);
    }
    auto title = StringField(e, "title");
    auto text = StringField(e, "text");
    if (!title || title->empty() || !text || text->empty()) {
      return AssertionFailure() << "event needs non-empty title and text: " << ToJson(e);
    }
    ev.title = *title;
    ev.text = *text;
    auto tags = Field(e, "tags");
    if (!tags || !IsArray(*tags)) return AssertionFailure() << "tags not an array: " << ToJson(e);
    for (JsonElement t : Elements(*tags)) {
      auto tag = AsString(t);
      if (!tag) return AssertionFailure() << "tag not a string: " << ToJson(e);
      ev.tags.push_back(*tag);
    }
    auto echo = Field(e, "annotation");
    if (!echo) return AssertionFailure() << "event lacks the echoed annotation: " << ToJson(e);
    if (echoes) echoes->push_back(CanonicalJson(*echo));
    events->push_back(std::move(ev));
  }
  return AssertionSuccess();
}

// Converts a NEW annotation table (§6.2) into events.
AssertionResult AnnotationTableEvents(const TableView& t, std::vector<Event>* events) {
  std::vector<std::pair<std::string, std::string>> want = {{"time", "time"},
                                                           {"timeEnd", "time"},
                                                           {"title", "string"},
                                                           {"text", "string"},
                                                           {"tags", "string"}};
  if (t.columns != want) {
    std::string got;
    for (const auto& [text, type] : t.columns) got += text + ":" + type + " ";
    return AssertionFailure() << "annotation table columns are " << got;
  }
  for (const auto& row : t.rows) {
    std::string row_json = "[";
    for (size_t i = 0; i < row.size(); ++i) row_json += (i ? "," : "") + row[i];
    JsonDoc doc = JsonDoc::Parse(row_json + "]");
    std::vector<JsonElement> cells = Elements(doc.root());
    Event ev;
    auto time = AsInt(cells[0]);
    auto end = AsInt(cells[1]);
    if (!time || !end) return AssertionFailure() << "time/timeEnd not integers in a row";
    ev.time = *time;
    ev.time_end = *end;
    ev.title = AsString(cells[2]).value_or("");
    ev.text = AsString(cells[3]).value_or("");
    std::string tags = AsString(cells[4]).value_or("");
    size_t pos = 0;
    while (pos <= tags.size() && !tags.empty()) {
      size_t comma = tags.find(',', pos);
      if (comma == std::string::npos) comma = tags.size();
      std::string tag = tags.substr(pos, comma - pos);
      tag.erase(0, tag.find_first_not_of(' '));
      tag.erase(tag.find_last_not_of(' ') + 1);
      if (!tag.empty()) ev.tags.push_back(tag);
      pos = comma + 1;
    }
    events->push_back(std::move(ev));
  }
  return AssertionSuccess();
}

// The reference rule for annotation queries (the server's documented semantics): each word, '#'
// stripped, must equal a tag (with {a,b} alternatives) or occur in title/text, case-insensitively;
// words naming a series are ignored.
bool EventMatches(const Event& e, std::string_view query) {
  std::vector<std::string> series = demo::AllSeriesNames();
  size_t pos = 0;
  while (pos < query.size()) {
    size_t start = query.find_first_not_of(" \t", pos);
    if (start == std::string_view::npos) break;
    size_t end = query.find_first_of(" \t", start);
    if (end == std::string_view::npos) end = query.size();
    std::string word(query.substr(start, end - start));
    pos = end;
    if (!word.empty() && word[0] == '#') word.erase(0, 1);
    if (word.empty()) continue;
    if (std::find(series.begin(), series.end(), word) != series.end()) continue;
    // Globs ({a,b}) apply to tags; title and text must contain the word itself.
    std::vector<std::string> alternatives;
    if (word.size() > 2 && word.front() == '{' && word.back() == '}') {
      std::string inner = word.substr(1, word.size() - 2);
      size_t p = 0;
      while (p <= inner.size()) {
        size_t comma = inner.find(',', p);
        if (comma == std::string::npos) comma = inner.size();
        alternatives.push_back(inner.substr(p, comma - p));
        p = comma + 1;
      }
    } else {
      alternatives.push_back(word);
    }
    std::string w = Lower(word);
    bool matched =
        Lower(e.title).find(w) != std::string::npos || Lower(e.text).find(w) != std::string::npos;
    for (const std::string& alt : alternatives) {
      for (const std::string& tag : e.tags) matched = matched || Lower(tag) == Lower(alt);
    }
    if (!matched) return false;
  }
  return true;
}

std::vector<std::string> EventKeys(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const Event& e : events) out.push_back(e.Key());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sluice::testing
