// fuzz_name_matcher: the bytes are a target text. NameMatcher::Compile(text), then MatchAll over a
// fixed list of metric names plus the text itself; NameMatcher::GlobToRegex and UnescapeLiteral on
// the text.
//
// Oracles: no sanitizer report, and the contracts in series/name_matcher.h:
//   * a text that UnescapeLiteral accepts compiles to kExact with exactly that literal, and matches it;
//   * a kExact matcher's MatchAll is exactly the names equal to one of exact_names();
//   * MatchAll returns the names Matches() accepts whenever there is at least one (the fallback only
//     applies when the primary pattern matches nothing);
//   * UnescapeLiteral's output is never longer than its input.
#include <re2/re2.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_common.h"
#include "series/name_matcher.h"

namespace {

const std::vector<std::string>& FixedNames() {
  static const std::vector<std::string> names = {
      "upper_25", "upper_50", "upper_75", "cpu.total", "cpu.user", "app.web-1.requests",
      "app.web-2.latency", "app.db-1.cpu", "prod.1", "prod1", "prod\\.1", "a", "b.c", "(a|b)", "",
      ".", "..", "a.b.c.d", "host[0-9]", "host7", "{a,b}", "x*y", "ü.ü", "demo.sine",
      "odd name/ü", "a|b", "^$", "*", "?"};
  return names;
}

std::string Describe(std::string_view text) {
  std::string out = "text: \"";
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + "\"";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sluice::NameMatcher;
  using sluice::fuzz::Die;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  std::string literal;
  const bool is_literal = NameMatcher::UnescapeLiteral(text, &literal);
  if (is_literal && literal.size() > text.size()) Die("UnescapeLiteral grew the text", Describe(text));

  std::string regex;
  if (NameMatcher::GlobToRegex(text, &regex)) {
    // Not an oracle (a class like [z-a] is accepted here and rejected by RE2, and Compile falls back
    // to a literal): compiling it exercises the converted pattern.
    re2::RE2::Options options;
    options.set_log_errors(false);
    options.set_max_mem(8 << 20);
    re2::RE2 re("^(?:" + regex + ")$", options);
    (void)re.ok();
  }

  const NameMatcher matcher = NameMatcher::Compile(text);
  std::vector<std::string_view> names(FixedNames().begin(), FixedNames().end());
  names.push_back(text);
  if (is_literal) names.push_back(literal);

  const std::vector<size_t> hits = matcher.MatchAll(names);
  for (size_t i = 1; i < hits.size(); ++i) {
    if (hits[i] <= hits[i - 1]) Die("MatchAll indexes not ascending", Describe(text));
  }
  for (size_t i : hits) {
    if (i >= names.size()) Die("MatchAll index out of range", Describe(text));
  }

  if (is_literal) {
    if (matcher.kind() != NameMatcher::Kind::kExact || matcher.exact_names().size() != 1 ||
        matcher.exact_names()[0] != literal) {
      Die("a literal did not compile to kExact with that literal", Describe(text));
    }
    if (!matcher.Matches(literal)) Die("a literal does not match itself", Describe(text));
  }

  std::vector<size_t> direct;
  for (size_t i = 0; i < names.size(); ++i) {
    if (matcher.Matches(names[i])) direct.push_back(i);
  }
  if (matcher.kind() == NameMatcher::Kind::kExact) {
    std::vector<size_t> expected;
    for (size_t i = 0; i < names.size(); ++i) {
      const auto& exact = matcher.exact_names();
      if (std::find(exact.begin(), exact.end(), names[i]) != exact.end()) expected.push_back(i);
    }
    if (hits != expected) Die("kExact MatchAll differs from exact_names()", Describe(text));
  }
  if (!direct.empty() && hits != direct) {
    Die("MatchAll differs from Matches() although the primary pattern matched", Describe(text));
  }
  return 0;
}
