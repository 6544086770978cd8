#include "series/tag_filter.h"

#include <charconv>

#include <re2/re2.h>

namespace sluice {
namespace {

bool ParseNumber(std::string_view s, double* out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// <0, 0, >0 comparing a tag value with a filter value.
int Compare(std::string_view a, std::string_view b) {
  double x, y;
  if (ParseNumber(a, &x) && ParseNumber(b, &y)) return x < y ? -1 : (x > y ? 1 : 0);
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace

Result<FilterOp> ParseFilterOp(std::string_view op) {
  if (op == "=" || op == "==") return FilterOp::kEq;
  if (op == "!=") return FilterOp::kNe;
  if (op == "=~") return FilterOp::kRegex;
  if (op == "!~") return FilterOp::kNotRegex;
  if (op == "<") return FilterOp::kLt;
  if (op == ">") return FilterOp::kGt;
  if (op == "<=") return FilterOp::kLe;
  if (op == ">=") return FilterOp::kGe;
  if (op == "=|") return FilterOp::kIn;
  if (op == "!=|") return FilterOp::kNotIn;
  return InvalidArgument("unknown operator \"{}\" (expected one of = != =~ !~ < > <= >= =| !=|)",
                         op);
}

std::string_view FilterOpName(FilterOp op) {
  switch (op) {
    case FilterOp::kEq: return "=";
    case FilterOp::kNe: return "!=";
    case FilterOp::kRegex: return "=~";
    case FilterOp::kNotRegex: return "!~";
    case FilterOp::kLt: return "<";
    case FilterOp::kGt: return ">";
    case FilterOp::kLe: return "<=";
    case FilterOp::kGe: return ">=";
    case FilterOp::kIn: return "=|";
    case FilterOp::kNotIn: return "!=|";
  }
  return "=";
}

Result<TagFilter> TagFilter::Make(std::string key, FilterOp op, std::string value,
                                  std::vector<std::string> values) {
  TagFilter f;
  f.key_ = std::move(key);
  f.op_ = op;
  f.value_ = std::move(value);
  f.values_ = std::move(values);
  if ((op == FilterOp::kIn || op == FilterOp::kNotIn) && f.values_.empty()) {
    std::string_view v = f.value_;
    size_t start = 0;
    for (size_t i = 0; i <= v.size(); ++i) {
      if (i == v.size() || v[i] == '|') {
        f.values_.emplace_back(v.substr(start, i - start));
        start = i + 1;
      }
    }
  }
  if (op == FilterOp::kRegex || op == FilterOp::kNotRegex) {
    re2::RE2::Options options;
    options.set_log_errors(false);
    options.set_max_mem(8 << 20);
    auto re = std::make_shared<re2::RE2>("^(?:" + f.value_ + ")$", options);
    if (!re->ok()) {
      return InvalidArgument("invalid regex \"{}\" for key \"{}\": {}", f.value_, f.key_,
                             re->error());
    }
    f.regex_ = std::move(re);
  }
  return f;
}

bool TagFilter::MatchesValue(std::string_view v) const {
  switch (op_) {
    case FilterOp::kEq: return v == value_;
    case FilterOp::kNe: return v != value_;
    case FilterOp::kRegex: return re2::RE2::FullMatch(re2::StringPiece(v.data(), v.size()), *regex_);
    case FilterOp::kNotRegex:
      return !re2::RE2::FullMatch(re2::StringPiece(v.data(), v.size()), *regex_);
    case FilterOp::kLt: return Compare(v, value_) < 0;
    case FilterOp::kGt: return Compare(v, value_) > 0;
    case FilterOp::kLe: return Compare(v, value_) <= 0;
    case FilterOp::kGe: return Compare(v, value_) >= 0;
    case FilterOp::kIn:
      for (const auto& x : values_) {
        if (v == x) return true;
      }
      return false;
    case FilterOp::kNotIn:
      for (const auto& x : values_) {
        if (v == x) return false;
      }
      return true;
  }
  return false;
}

bool TagFilter::Matches(const Tags& tags) const { return MatchesValue(tags.Get(key_)); }

bool MatchesAll(const std::vector<TagFilter>& filters, const Tags& tags) {
  for (const auto& f : filters) {
    if (!f.Matches(tags)) return false;
  }
  return true;
}

}  // namespace sluice
