// Small value types used everywhere: Money (integer fen), Timestamp (UTC
// milliseconds), Date (civil day), and distinct id types that cannot be
// swapped by accident.
#ifndef APPROVALD_TYPES_H_
#define APPROVALD_TYPES_H_

#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace approvald {

// An amount of money in integer fen (1 yuan = 100 fen). Never floating point.
struct Money {
  int64_t fen = 0;
  friend auto operator<=>(const Money&, const Money&) = default;
  friend Money operator+(Money a, Money b) { return Money{a.fen + b.fen}; }
  friend Money operator-(Money a, Money b) { return Money{a.fen - b.fen}; }
};
// "1234.50" style, with a leading '-' for negatives. No thousands separators.
std::string FormatYuan(Money m);
// Parses "1234", "1234.5", "1234.50" (yuan) into fen. Rejects more than two
// decimals, signs other than a leading '-', and overflow.
std::optional<Money> ParseYuan(std::string_view text);

// A point in time: milliseconds since 1970-01-01T00:00:00Z. Always UTC inside
// the engine; shown in Asia/Shanghai (UTC+8, no DST) at the edges.
struct Timestamp {
  int64_t ms = 0;
  friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
};
constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kMsPerHour = 3600 * kMsPerSecond;
constexpr int64_t kMsPerDay = 24 * kMsPerHour;
constexpr int64_t kShanghaiOffsetMs = 8 * kMsPerHour;

// A calendar day: days since 1970-01-01 (proleptic Gregorian).
struct Date {
  int32_t days = 0;
  friend auto operator<=>(const Date&, const Date&) = default;
};
// ISO 8601 helpers. Parse functions return nullopt on malformed input.
std::string FormatDate(Date d);                        // "2024-03-05"
std::optional<Date> ParseDate(std::string_view text);  // "2024-03-05"
std::string FormatTimestampUtc(Timestamp t);           // "2024-03-05T01:02:03.004Z"
std::string FormatTimestampShanghai(Timestamp t);      // "2024-03-05 09:02:03"
// Accepts "YYYY-MM-DDTHH:MM:SS[.mmm](Z|+08:00|+HH:MM)".
std::optional<Timestamp> ParseTimestamp(std::string_view text);
Date DateFromCivil(int year, unsigned month, unsigned day);
void CivilFromDate(Date d, int* year, unsigned* month, unsigned* day);
// The Shanghai calendar day a UTC instant falls on.
Date ShanghaiDateOf(Timestamp t);
// 0 = Monday ... 6 = Sunday.
int Weekday(Date d);

// Distinct string ids. `PersonId` names a person in the organisation
// (config/org.yaml), `DeptId` a department; an empty id means "none".
template <class Tag>
struct StringId {
  std::string value;
  StringId() = default;
  explicit StringId(std::string v) : value(std::move(v)) {}
  bool empty() const { return value.empty(); }
  friend auto operator<=>(const StringId&, const StringId&) = default;
};
using PersonId = StringId<struct PersonTag>;
using DeptId = StringId<struct DeptTag>;

// Instances are numbered by the store, starting at 1.
struct InstanceId {
  int64_t value = 0;
  friend auto operator<=>(const InstanceId&, const InstanceId&) = default;
};

}  // namespace approvald

template <class Tag>
struct std::hash<approvald::StringId<Tag>> {
  size_t operator()(const approvald::StringId<Tag>& id) const noexcept {
    return std::hash<std::string>()(id.value);
  }
};

#endif  // APPROVALD_TYPES_H_
