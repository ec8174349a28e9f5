#include "approvald/types.h"

#include <charconv>
#include <cstdio>
#include <limits>

namespace approvald {

std::string FormatYuan(Money m) {
  int64_t fen = m.fen;
  bool neg = fen < 0;
  // Work in unsigned to keep INT64_MIN representable.
  uint64_t abs = neg ? uint64_t(0) - uint64_t(fen) : uint64_t(fen);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s%llu.%02llu", neg ? "-" : "",
                static_cast<unsigned long long>(abs / 100),
                static_cast<unsigned long long>(abs % 100));
  return buf;
}

std::optional<Money> ParseYuan(std::string_view text) {
  bool neg = false;
  if (!text.empty() && text.front() == '-') {
    neg = true;
    text.remove_prefix(1);
  }
  if (text.empty()) return std::nullopt;
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || frac.size() > 2 ||
      (dot != std::string_view::npos && frac.empty()))
    return std::nullopt;
  for (char c : whole) if (c < '0' || c > '9') return std::nullopt;
  for (char c : frac) if (c < '0' || c > '9') return std::nullopt;
  // Unsigned, so that INT64_MIN (whose magnitude exceeds INT64_MAX) parses.
  uint64_t yuan = 0;
  auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), yuan);
  if (ec != std::errc() || p != whole.data() + whole.size()) return std::nullopt;
  uint64_t cents = 0;
  if (frac.size() >= 1) cents += static_cast<uint64_t>(frac[0] - '0') * 10;
  if (frac.size() == 2) cents += static_cast<uint64_t>(frac[1] - '0');
  const uint64_t limit = neg ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (yuan > (limit - cents) / 100) return std::nullopt;
  uint64_t fen = yuan * 100 + cents;
  return Money{neg ? static_cast<int64_t>(uint64_t{0} - fen)
                   : static_cast<int64_t>(fen)};
}

// Howard Hinnant's public-domain civil-calendar algorithms (days_from_civil
// and civil_from_days), restated.
Date DateFromCivil(int year, unsigned m, unsigned d) {
  // 64-bit: era * 146097 overflows int for years near the end of Date's range.
  const int64_t y = int64_t{year} - (m <= 2);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return Date{static_cast<int32_t>(era * 146097 + int64_t{doe} - 719468)};
}

namespace {

// civil_from_days over the whole int64 range a Timestamp can reach.
void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day) {
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = int64_t{yoe} + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = y + (*month <= 2);
}

}  // namespace

void CivilFromDate(Date date, int* year, unsigned* month, unsigned* day) {
  // 64-bit inside: date.days + 719468 overflows int near the end of the range.
  int64_t y;
  CivilFromDays(date.days, &y, month, day);
  *year = static_cast<int>(y);
}

namespace {

bool ParseDigits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

unsigned DaysInMonth(int y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace

std::string FormatDate(Date d) {
  int y;
  unsigned m, day;
  CivilFromDate(d, &y, &m, &day);
  // Room for any int year and any unsigned month and day, so the output is
  // never truncated (dates far outside 0000-9999 still format in full).
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, day);
  return buf;
}

std::optional<Date> ParseDate(std::string_view s) {
  int y, m, d;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  if (!ParseDigits(s, 0, 4, &y) || !ParseDigits(s, 5, 2, &m) ||
      !ParseDigits(s, 8, 2, &d))
    return std::nullopt;
  if (m < 1 || m > 12 || d < 1 || static_cast<unsigned>(d) > DaysInMonth(y, m))
    return std::nullopt;
  return DateFromCivil(y, m, d);
}

// Splits t + offset_ms into whole days and the millisecond of the day
// without overflowing for any t (offset_ms is less than a day).
static void SplitDays(Timestamp t, int64_t offset_ms, int64_t* days, int64_t* rem) {
  // No days * kMsPerDay: it overflows for the most negative instants.
  *days = t.ms / kMsPerDay;
  *rem = t.ms % kMsPerDay;
  if (*rem < 0) {
    *rem += kMsPerDay;
    --*days;
  }
  *rem += offset_ms;
  if (*rem >= kMsPerDay) {
    *rem -= kMsPerDay;
    ++*days;
  }
}

static std::string FormatWithOffset(Timestamp t, int64_t offset_ms, bool iso) {
  int64_t days, rem;
  SplitDays(t, offset_ms, &days, &rem);
  int64_t y;
  unsigned mo, d;
  CivilFromDays(days, &y, &mo, &d);
  int h = static_cast<int>(rem / kMsPerHour);
  int mi = static_cast<int>(rem / 60000 % 60);
  int se = static_cast<int>(rem / 1000 % 60);
  int milli = static_cast<int>(rem % 1000);
  char buf[64];
  if (iso)
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
                  static_cast<long long>(y), mo, d, h, mi, se, milli);
  else
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02d:%02d:%02d",
                  static_cast<long long>(y), mo, d, h, mi, se);
  return buf;
}

std::string FormatTimestampUtc(Timestamp t) { return FormatWithOffset(t, 0, true); }
std::string FormatTimestampShanghai(Timestamp t) {
  return FormatWithOffset(t, kShanghaiOffsetMs, false);
}

std::optional<Timestamp> ParseTimestamp(std::string_view s) {
  if (s.size() < 20) return std::nullopt;
  auto date = ParseDate(s.substr(0, 10));
  if (!date || (s[10] != 'T' && s[10] != ' ')) return std::nullopt;
  int h, mi, se, milli = 0;
  if (!ParseDigits(s, 11, 2, &h) || s[13] != ':' || !ParseDigits(s, 14, 2, &mi) ||
      s[16] != ':' || !ParseDigits(s, 17, 2, &se))
    return std::nullopt;
  if (h > 23 || mi > 59 || se > 59) return std::nullopt;
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    size_t n = pos - start;
    if (n == 0 || n > 9) return std::nullopt;
    int v = 0;
    if (!ParseDigits(s, start, n < 3 ? n : 3, &v)) return std::nullopt;
    milli = n == 1 ? v * 100 : n == 2 ? v * 10 : v;
  }
  int64_t offset = 0;
  std::string_view zone = s.substr(pos);
  if (zone == "Z") {
    offset = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') &&
             zone[3] == ':') {
    int oh, om;
    if (!ParseDigits(zone, 1, 2, &oh) || !ParseDigits(zone, 4, 2, &om) ||
        oh > 23 || om > 59)
      return std::nullopt;
    offset = (oh * 60 + om) * 60000LL * (zone[0] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  int64_t ms = int64_t(date->days) * kMsPerDay + h * kMsPerHour + mi * 60000LL +
               se * 1000LL + milli;
  return Timestamp{ms - offset};
}

Date ShanghaiDateOf(Timestamp t) {
  int64_t days, rem;
  SplitDays(t, kShanghaiOffsetMs, &days, &rem);
  // Beyond Date's range (about +-5.8 million years) the day count wraps.
  return Date{static_cast<int32_t>(days)};
}

int Weekday(Date d) {
  // 1970-01-01 was a Thursday (3 when Monday = 0).
  int64_t w = (int64_t(d.days) + 3) % 7;
  return static_cast<int>(w < 0 ? w + 7 : w);
}

}  // namespace approvald
