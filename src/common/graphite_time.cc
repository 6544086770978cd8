#include "common/graphite_time.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "common/time.h"

namespace sluice {
namespace {

constexpr int64_t kSecondMs = 1000;
constexpr int64_t kDayMs = 86'400'000;
// Python's datetime covers years 1 to 9999; every time here stays inside that.
constexpr int64_t kMaxCount = 1'000'000'000'000;

constexpr std::array<std::string_view, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                      "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kWeekdays = {"sun", "mon", "tue", "wed",
                                                       "thu", "fri", "sat"};

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

struct Civil {
  int64_t year;
  unsigned month;
  unsigned day;
};

// Howard Hinnant's civil_from_days, the inverse of DaysFromCivil.
Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Python's int() of a digit string; false when `s` is not one or is absurdly long.
bool ToInt(std::string_view s, int64_t* value) {
  if (!IsDigits(s) || s.size() > 13) return false;
  int64_t v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  *value = v;
  return true;
}

bool ValidDate(int64_t year, int64_t month, int64_t day) {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= kDays[month - 1] + (month == 2 && leap ? 1 : 0);
}

class Parser {
 public:
  Parser(std::string_view text, int64_t now_ms) : text_(text), now_ms_(now_ms) {}

  Result<int64_t> Parse() {
    // Bounding "now" keeps every sum below (day arithmetic, reference + offset) inside int64.
    if (now_ms_ > kMaxAbsTimeMs || now_ms_ < -kMaxAbsTimeMs) return Bad("now is out of range");
    std::string s;
    std::string_view trimmed = text_;
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) {
      trimmed.remove_prefix(1);
    }
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) {
      trimmed.remove_suffix(1);
    }
    for (char c : trimmed) {
      if (c == '_' || c == ',' || c == ' ') continue;
      s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    if (IsDigits(s)) {
      int64_t year = 0, month = 0, day = 0;
      const bool date = s.size() == 8 && ToInt(s.substr(0, 4), &year) &&
                        ToInt(s.substr(4, 2), &month) && ToInt(s.substr(6, 2), &day) &&
                        year > 1900 && month < 13 && day < 32;
      if (!date) {
        int64_t seconds = 0;
        if (!ToInt(s, &seconds) || seconds > kMaxAbsTimeMs / kSecondMs) {
          return Bad("epoch seconds out of range");
        }
        return seconds * kSecondMs;
      }
    }
    std::string_view rest = s;
    std::string_view ref = rest, offset;
    size_t split = rest.find('+');
    if (split == std::string_view::npos) split = rest.find('-');
    if (split != std::string_view::npos) {
      ref = rest.substr(0, split);
      offset = rest.substr(split);
    }
    SLUICE_ASSIGN_OR_RETURN(int64_t base, Reference(ref));
    SLUICE_ASSIGN_OR_RETURN(int64_t delta, Offset(offset));
    const int64_t t = base + delta;
    if (t > kMaxAbsTimeMs || t < -kMaxAbsTimeMs) return Bad("the time is out of range");
    return t;
  }

 private:
  Status Bad(std::string_view why) const {
    return InvalidArgument("invalid time \"{}\": {}", text_, why);
  }

  Result<int64_t> Reference(std::string_view ref) const {
    if (ref.empty() || ref == "now") return now_ms_;
    const std::string raw(ref);
    int64_t hour = 0, minute = 0;
    // A time of day: "HH:MM", optionally "am"/"pm"; then "Xam", "Xpm", "noon", ...
    size_t i = ref.find(':');
    if (i != std::string_view::npos && i > 0 && i < 3) {
      if (!ToInt(ref.substr(0, i), &hour) || !ToInt(ref.substr(i + 1, 2), &minute)) {
        return Bad("expected HH:MM in '" + raw + "'");
      }
      ref.remove_prefix(std::min(ref.size(), i + 3));
      if (ref.starts_with("am")) {
        ref.remove_prefix(2);
      } else if (ref.starts_with("pm")) {
        hour = (hour + 12) % 24;
        ref.remove_prefix(2);
      }
    }
    i = ref.find("am");
    if (i != std::string_view::npos && i > 0 && i < 3) {
      if (!ToInt(ref.substr(0, i), &hour)) {
        return Bad("expected an hour before am in '" + raw + "'");
      }
      ref.remove_prefix(i + 2);
    }
    i = ref.find("pm");
    if (i != std::string_view::npos && i > 0 && i < 3) {
      if (!ToInt(ref.substr(0, i), &hour)) {
        return Bad("expected an hour before pm in '" + raw + "'");
      }
      hour = (hour + 12) % 24;
      ref.remove_prefix(i + 2);
    }
    if (ref.starts_with("noon")) {
      hour = 12, minute = 0;
      ref.remove_prefix(4);
    } else if (ref.starts_with("midnight")) {
      hour = 0, minute = 0;
      ref.remove_prefix(8);
    } else if (ref.starts_with("teatime")) {
      hour = 16, minute = 0;
      ref.remove_prefix(7);
    }
    if (hour > 23 || minute > 59) return Bad("no such time of day in '" + raw + "'");

    int64_t days = FloorDiv(now_ms_, kDayMs);
    const Civil today = CivilFromDays(days);
    auto date = [&](int64_t y, int64_t m, int64_t d) -> Status {
      if (!ValidDate(y, m, d)) return Bad("no such date in '" + raw + "'");
      days = DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
      return Status::OK();
    };
    std::string_view prefix = ref.substr(0, 3);
    if (ref == "yesterday") {
      days -= 1;
    } else if (ref == "tomorrow") {
      days += 1;
    } else if (ref == "today") {
    } else if (std::count(ref.begin(), ref.end(), '/') == 2) {
      const size_t a = ref.find('/'), b = ref.find('/', a + 1);
      int64_t m = 0, d = 0, y = 0;
      if (!ToInt(ref.substr(0, a), &m) || !ToInt(ref.substr(a + 1, b - a - 1), &d) ||
          !ToInt(ref.substr(b + 1), &y)) {
        return Bad("expected MM/DD/YY in '" + raw + "'");
      }
      if (y < 1900) y += 1900;
      if (y < 1970) y += 100;
      SLUICE_RETURN_IF_ERROR(date(y, m, d));
    } else if (ref.size() == 8 && IsDigits(ref)) {
      int64_t y = 0, m = 0, d = 0;
      (void)ToInt(ref.substr(0, 4), &y);
      (void)ToInt(ref.substr(4, 2), &m);
      (void)ToInt(ref.substr(6, 2), &d);
      SLUICE_RETURN_IF_ERROR(date(y, m, d));
    } else if (std::find(kMonths.begin(), kMonths.end(), prefix) != kMonths.end()) {
      int64_t d = 0;
      if (!ToInt(ref.size() >= 2 ? ref.substr(ref.size() - 2) : ref, &d) &&
          !ToInt(ref.substr(ref.size() - 1), &d)) {
        return Bad("day of month required after month name in '" + raw + "'");
      }
      const int64_t m = std::find(kMonths.begin(), kMonths.end(), prefix) - kMonths.begin() + 1;
      SLUICE_RETURN_IF_ERROR(date(today.year, m, d));
    } else if (std::find(kWeekdays.begin(), kWeekdays.end(), prefix) != kWeekdays.end()) {
      const int64_t weekday = ((days % 7) + 7 + 4) % 7;  // 1970-01-01 was a Thursday
      int64_t back =
          weekday - (std::find(kWeekdays.begin(), kWeekdays.end(), prefix) - kWeekdays.begin());
      if (back < 0) back += 7;
      days -= back;
    } else if (!ref.empty()) {
      return Bad("unknown day reference '" + raw + "'");
    }
    return days * kDayMs + (hour * 3600 + minute * 60) * kSecondMs;
  }

  Result<int64_t> Offset(std::string_view offset) const {
    if (offset.empty()) return int64_t{0};
    auto ms = ParseGraphiteOffset(offset);
    if (!ms.ok()) return Bad(ms.status().message());
    return ms;
  }

  std::string_view text_;
  int64_t now_ms_;
};

}  // namespace

Result<int64_t> ParseGraphiteOffset(std::string_view text) {
  std::string_view rest = text;
  int64_t sign = 1;
  if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
    sign = rest[0] == '-' ? -1 : 1;
    rest.remove_prefix(1);
  }
  if (text.empty()) return InvalidArgument("expected a number");
  int64_t total = 0;  // a sign alone ("now-") is no offset, as in graphite-web
  while (!rest.empty()) {
    size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    int64_t count = 0;
    if (digits == 0) return InvalidArgument("expected a number");
    if (!ToInt(rest.substr(0, digits), &count) || count > kMaxCount) {
      return InvalidArgument("out of range");
    }
    rest.remove_prefix(digits);
    size_t letters = 0;
    while (letters < rest.size() && std::isalpha(static_cast<unsigned char>(rest[letters]))) {
      ++letters;
    }
    const std::string_view unit = rest.substr(0, letters);
    rest.remove_prefix(letters);
    int64_t unit_ms;
    if (unit.starts_with("s")) {
      unit_ms = kSecondMs;
    } else if (unit.starts_with("min")) {
      unit_ms = 60 * kSecondMs;
    } else if (unit.starts_with("h")) {
      unit_ms = 3600 * kSecondMs;
    } else if (unit.starts_with("d")) {
      unit_ms = kDayMs;
    } else if (unit.starts_with("w")) {
      unit_ms = 7 * kDayMs;
    } else if (unit.starts_with("mon")) {
      unit_ms = 30 * kDayMs;
    } else if (unit.starts_with("y")) {
      unit_ms = 365 * kDayMs;
    } else {
      return InvalidArgument("unknown unit '{}' (expected s, min, h, d, w, mon or y)", unit);
    }
    if (count > kMaxAbsTimeMs / unit_ms) return InvalidArgument("out of range");
    total += count * unit_ms;
    if (total > kMaxAbsTimeMs) return InvalidArgument("out of range");
  }
  return sign * total;
}

Result<int64_t> ParseGraphiteTime(std::string_view text, int64_t now_ms) {
  return Parser(text, now_ms).Parse();
}

}  // namespace sluice
