// Annotation events as both plugins receive them, and the reference rule for annotation queries.
//
// OLD: POST /annotations answers an array of {time, timeEnd?, title, text, tags: [...],
// annotation}. NEW: POST /query with refId "Anno" answers one table with columns time, timeEnd,
// title, text, tags (comma-joined). Both are turned into Event values so tests can compare them.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "testing/http_client.h"
#include "testing/protocol_checks.h"

namespace sluice::testing {

struct Event {
  int64_t time = 0;
  int64_t time_end = 0;  // == time for point events
  std::string title;
  std::string text;
  std::vector<std::string> tags;

  bool HasTag(std::string_view tag) const;
  // "time|timeEnd|title": identifies an event across both response forms.
  std::string Key() const;
};

// Validates an OLD /annotations response (§6.1): a JSON array of events with integer time,
// timeEnd >= time when present, non-empty title and text, string tags and the echoed annotation.
// Appends the events, and the canonical JSON of each echo to *echoes when given.
::testing::AssertionResult ParseOldAnnotations(const HttpResponse& r, std::vector<Event>* events,
                                               std::vector<std::string>* echoes = nullptr);

// Converts a NEW annotation table (§6.2) into events; fails unless the columns are exactly
// time (time), timeEnd (time), title, text, tags (string).
::testing::AssertionResult AnnotationTableEvents(const TableView& t, std::vector<Event>* events);

// The demo server's documented annotation-query rule: each whitespace-separated word, a leading '#'
// stripped, must equal a tag (with {a,b} alternatives) or occur literally in the title or text,
// case-insensitively; words that name a demo series are ignored; an empty query matches everything.
bool EventMatches(const Event& e, std::string_view query);

// Sorted Key()s.
std::vector<std::string> EventKeys(const std::vector<Event>& events);

}  // namespace sluice::testing
