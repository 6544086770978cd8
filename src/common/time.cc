#include "common/time.h"

#include <charconv>
#include <chrono>
#include <cmath>

namespace sluice {
namespace {

bool ReadDigits(std::string_view s, size_t* pos, int count, int* value) {
  if (*pos + count > s.size()) return false;
  int v = 0;
  for (int i = 0; i < count; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += count;
  *value = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos < s.size() && s[*pos] == c) {
    ++*pos;
    return true;
  }
  return false;
}

}  // namespace

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

Result<int64_t> ParseTimestampMs(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("invalid timestamp \"{}\": {}", text, why);
  };
  if (text.empty()) return bad("empty");
  bool all_digits = true;
  for (char c : text) all_digits &= (c >= '0' && c <= '9');
  if (all_digits) {
    int64_t ms = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || p != text.data() + text.size() || ms > kMaxAbsTimeMs) {
      return bad("number out of range");
    }
    return ms;
  }
  size_t pos = 0;
  int year, month, day;
  if (!ReadDigits(text, &pos, 4, &year) || !Expect(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &month) || !Expect(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &day)) {
    return bad("expected YYYY-MM-DD");
  }
  static constexpr int kDaysInMonth[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDaysInMonth[month - 1]) {
    return bad("month or day out of range");
  }
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return bad("February 29th in a common year");
  int hour = 0, minute = 0, second = 0, millis = 0;
  int64_t offset_minutes = 0;
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') return bad("expected 'T' after date");
    ++pos;
    if (!ReadDigits(text, &pos, 2, &hour) || !Expect(text, &pos, ':') ||
        !ReadDigits(text, &pos, 2, &minute)) {
      return bad("expected hh:mm");
    }
    if (Expect(text, &pos, ':') && !ReadDigits(text, &pos, 2, &second)) return bad("expected ss");
    if (hour > 23 || minute > 59 || second > 60) return bad("time out of range");
    if (Expect(text, &pos, '.') || Expect(text, &pos, ',')) {
      int digits = 0;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (digits < 3) millis = millis * 10 + (text[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0) return bad("expected digits after '.'");
      for (int i = digits; i < 3; ++i) millis *= 10;
    }
    if (pos < text.size()) {
      char z = text[pos];
      if (z == 'Z' || z == 'z') {
        ++pos;
      } else if (z == '+' || z == '-') {
        ++pos;
        int oh, om = 0;
        if (!ReadDigits(text, &pos, 2, &oh)) return bad("expected offset hh:mm");
        Expect(text, &pos, ':');
        if (pos < text.size() && !ReadDigits(text, &pos, 2, &om)) return bad("expected offset hh:mm");
        if (oh > 23 || om > 59) return bad("offset out of range");
        offset_minutes = (oh * 60 + om) * (z == '+' ? 1 : -1);
      } else {
        return bad("unexpected text after time");
      }
    }
    if (pos != text.size()) return bad("unexpected text after time");
  }
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return seconds * 1000 + millis;
}

Result<int64_t> ParseDurationMs(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("invalid duration \"{}\": {}", text, why);
  };
  size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == 0) return bad("expected a number");
  double count = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + i, count);
  if (ec != std::errc() || p != text.data() + i) return bad("bad number");
  std::string_view unit = text.substr(i);
  int64_t unit_ms;
  if (unit == "ms") unit_ms = 1;
  else if (unit.empty() || unit == "s" || unit == "sec" || unit == "second" || unit == "seconds")
    unit_ms = 1000;
  else if (unit == "m" || unit == "min" || unit == "mins" || unit == "minute" || unit == "minutes")
    unit_ms = 60'000;
  else if (unit == "h" || unit == "hour" || unit == "hours") unit_ms = 3'600'000;
  else if (unit == "d" || unit == "day" || unit == "days") unit_ms = 86'400'000;
  else if (unit == "w" || unit == "week" || unit == "weeks") unit_ms = 7 * 86'400'000LL;
  else if (unit == "mon" || unit == "month" || unit == "months") unit_ms = 30 * 86'400'000LL;
  else if (unit == "y" || unit == "year" || unit == "years") unit_ms = 365 * 86'400'000LL;
  else return bad("unknown unit");
  double ms = count * static_cast<double>(unit_ms);
  if (!(ms >= 1) || ms > 1e15) return bad("out of range");
  return static_cast<int64_t>(std::llround(ms));
}

std::string FormatTimestampMs(int64_t ms) {
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int64_t millis = ms - secs * 1000;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t rem = secs - days * 86400;
  // civil_from_days (Howard Hinnant)
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", y, m, d, rem / 3600,
                     (rem / 60) % 60, rem % 60, millis);
}

}  // namespace sluice
