// Tests for the small value types (approvald/types.h): Money in fen, civil
// dates, UTC timestamps shown in Asia/Shanghai, weekdays and ids.
#include "approvald/types.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <unordered_set>

namespace approvald {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

TEST(MoneyTest, FormatsYuanWithTwoDecimals) {
  EXPECT_EQ(FormatYuan(Money{0}), "0.00");
  EXPECT_EQ(FormatYuan(Money{5}), "0.05");
  EXPECT_EQ(FormatYuan(Money{50}), "0.50");
  EXPECT_EQ(FormatYuan(Money{123450}), "1234.50");
  EXPECT_EQ(FormatYuan(Money{400000000}), "4000000.00");  // 400万
  EXPECT_EQ(FormatYuan(Money{-5}), "-0.05");
  EXPECT_EQ(FormatYuan(Money{-123456}), "-1234.56");
  EXPECT_EQ(FormatYuan(Money{kMax}), "92233720368547758.07");
  EXPECT_EQ(FormatYuan(Money{kMin}), "-92233720368547758.08");
}

TEST(MoneyTest, ParsesYuan) {
  EXPECT_EQ(ParseYuan("1234"), Money{123400});
  EXPECT_EQ(ParseYuan("1234.5"), Money{123450});
  EXPECT_EQ(ParseYuan("1234.50"), Money{123450});
  EXPECT_EQ(ParseYuan("0.01"), Money{1});
  EXPECT_EQ(ParseYuan("0"), Money{0});
  EXPECT_EQ(ParseYuan("-0.05"), Money{-5});
  EXPECT_EQ(ParseYuan("-1234.5"), Money{-123450});
  EXPECT_EQ(ParseYuan("-0"), Money{0});
  EXPECT_EQ(ParseYuan("007.10"), Money{710});
}

TEST(MoneyTest, RejectsMalformedYuan) {
  for (const char* bad : {"", "-", ".", "1.", ".5", "1.234", "1.2.3", "+5", "--1",
                          "1,000", " 1", "1 ", "1e3", "one", "1.-5", "0x10", "１２"}) {
    EXPECT_EQ(ParseYuan(bad), std::nullopt) << bad;
  }
}

TEST(MoneyTest, ParseYuanRefusesOverflowAtTheExactLimits) {
  EXPECT_EQ(ParseYuan("92233720368547758.07"), Money{kMax});
  EXPECT_EQ(ParseYuan("92233720368547758.08"), std::nullopt);
  EXPECT_EQ(ParseYuan("92233720368547759"), std::nullopt);
  EXPECT_EQ(ParseYuan("-92233720368547758.08"), Money{kMin});
  EXPECT_EQ(ParseYuan("-92233720368547758.09"), std::nullopt);
  EXPECT_EQ(ParseYuan("99999999999999999999999"), std::nullopt);
}

TEST(MoneyTest, FormatAndParseRoundTrip) {
  for (int64_t fen : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{99}, int64_t{-100},
                      int64_t{123456789}, kMax, kMin, kMax - 1, kMin + 1}) {
    EXPECT_EQ(ParseYuan(FormatYuan(Money{fen})), Money{fen}) << fen;
  }
}

TEST(MoneyTest, ArithmeticAndOrder) {
  EXPECT_EQ(Money{150} + Money{50}, Money{200});
  EXPECT_EQ(Money{150} - Money{200}, Money{-50});
  EXPECT_LT(Money{-1}, Money{0});
  EXPECT_GT(Money{100}, Money{99});
}

TEST(DateTest, CivilConversions) {
  EXPECT_EQ(DateFromCivil(1970, 1, 1), Date{0});
  EXPECT_EQ(DateFromCivil(1969, 12, 31), Date{-1});
  EXPECT_EQ(DateFromCivil(2000, 3, 1), Date{11017});
  EXPECT_EQ(DateFromCivil(2024, 3, 5), Date{19787});
  int y;
  unsigned m, d;
  CivilFromDate(Date{19787}, &y, &m, &d);
  EXPECT_EQ(y, 2024);
  EXPECT_EQ(m, 3u);
  EXPECT_EQ(d, 5u);
  CivilFromDate(Date{-719528}, &y, &m, &d);  // 0000-01-01
  EXPECT_EQ(y, 0);
  EXPECT_EQ(m, 1u);
  EXPECT_EQ(d, 1u);
}

TEST(DateTest, CivilConversionsRoundTripOverTheWholeRange) {
  // Every day for 1900..2100, then sparse steps out to Date's extremes
  // (which used to overflow int inside the conversions).
  for (int32_t days = DateFromCivil(1900, 1, 1).days;
       days <= DateFromCivil(2100, 12, 31).days; ++days) {
    int y;
    unsigned m, d;
    CivilFromDate(Date{days}, &y, &m, &d);
    ASSERT_EQ(DateFromCivil(y, m, d), Date{days}) << days;
  }
  const int32_t lo = std::numeric_limits<int32_t>::min();
  const int32_t hi = std::numeric_limits<int32_t>::max();
  for (int64_t days = lo; days <= hi; days += 1'000'003) {
    int y;
    unsigned m, d;
    CivilFromDate(Date{static_cast<int32_t>(days)}, &y, &m, &d);
    ASSERT_EQ(DateFromCivil(y, m, d).days, days);
  }
  for (int32_t days : {lo, hi}) {
    int y;
    unsigned m, d;
    CivilFromDate(Date{days}, &y, &m, &d);
    EXPECT_EQ(DateFromCivil(y, m, d), Date{days});
  }
  int y;
  unsigned m, d;
  CivilFromDate(Date{hi}, &y, &m, &d);
  EXPECT_EQ(y, 5881580);
  EXPECT_EQ(m, 7u);
  EXPECT_EQ(d, 11u);
}

TEST(DateTest, FormatsAndParsesIso) {
  EXPECT_EQ(FormatDate(DateFromCivil(2024, 3, 5)), "2024-03-05");
  EXPECT_EQ(FormatDate(Date{0}), "1970-01-01");
  EXPECT_EQ(FormatDate(DateFromCivil(1, 1, 1)), "0001-01-01");
  EXPECT_EQ(ParseDate("2024-03-05"), DateFromCivil(2024, 3, 5));
  EXPECT_EQ(ParseDate("2024-02-29"), DateFromCivil(2024, 2, 29));
  EXPECT_EQ(ParseDate("2000-02-29"), DateFromCivil(2000, 2, 29));
  EXPECT_EQ(ParseDate("0000-01-01"), DateFromCivil(0, 1, 1));
  EXPECT_EQ(ParseDate("9999-12-31"), DateFromCivil(9999, 12, 31));
}

TEST(DateTest, RejectsDaysThatDoNotExist) {
  for (const char* bad :
       {"2023-02-29", "1900-02-29", "2024-02-30", "2024-04-31", "2024-13-01",
        "2024-00-10", "2024-01-00", "2024-1-01", "2024-01-1", "24-01-01", "2024/01/01",
        "2024-01-01T", "abcd-ef-gh", "", "2024-01-01 "}) {
    EXPECT_EQ(ParseDate(bad), std::nullopt) << bad;
  }
}

TEST(DateTest, Weekday) {
  EXPECT_EQ(Weekday(Date{0}), 3);                     // Thu 1970-01-01
  EXPECT_EQ(Weekday(Date{-1}), 2);                    // Wed 1969-12-31
  EXPECT_EQ(Weekday(DateFromCivil(2024, 3, 4)), 0);   // Monday
  EXPECT_EQ(Weekday(DateFromCivil(2024, 3, 10)), 6);  // Sunday
  EXPECT_EQ(Weekday(DateFromCivil(1900, 1, 1)), 0);   // Monday
  EXPECT_EQ(Weekday(Date{std::numeric_limits<int32_t>::min()}),
            Weekday(Date{std::numeric_limits<int32_t>::min() + 7}));
}

TEST(TimestampTest, FormatsUtcAndShanghai) {
  EXPECT_EQ(FormatTimestampUtc(Timestamp{0}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestampUtc(Timestamp{-1}), "1969-12-31T23:59:59.999Z");
  Timestamp t = *ParseTimestamp("2024-03-05T01:02:03.004Z");
  EXPECT_EQ(FormatTimestampUtc(t), "2024-03-05T01:02:03.004Z");
  EXPECT_EQ(FormatTimestampShanghai(t), "2024-03-05 09:02:03");
  EXPECT_EQ(FormatTimestampShanghai(*ParseTimestamp("2024-03-04T16:00:00Z")),
            "2024-03-05 00:00:00");
  EXPECT_EQ(FormatTimestampShanghai(Timestamp{-kShanghaiOffsetMs}),
            "1970-01-01 00:00:00");
}

TEST(TimestampTest, FormattingExtremesDoesNotOverflow) {
  EXPECT_EQ(FormatTimestampUtc(Timestamp{kMax}), "292278994-08-17T07:12:55.807Z");
  EXPECT_EQ(FormatTimestampShanghai(Timestamp{kMax}), "292278994-08-17 15:12:55");
  EXPECT_EQ(FormatTimestampUtc(Timestamp{kMin}), "-292275055-05-16T16:47:04.192Z");
}

TEST(TimestampTest, ParsesOffsetsAndFractions) {
  const Timestamp base{DateFromCivil(2024, 3, 5).days * kMsPerDay + kMsPerHour};
  EXPECT_EQ(ParseTimestamp("2024-03-05T01:00:00Z"), base);
  EXPECT_EQ(ParseTimestamp("2024-03-05 01:00:00Z"), base);
  EXPECT_EQ(ParseTimestamp("2024-03-05T09:00:00+08:00"), base);
  EXPECT_EQ(ParseTimestamp("2024-03-04T20:00:00-05:00"), base);
  EXPECT_EQ(ParseTimestamp("2024-03-05T01:00:00.5Z"), Timestamp{base.ms + 500});
  EXPECT_EQ(ParseTimestamp("2024-03-05T01:00:00.05Z"), Timestamp{base.ms + 50});
  EXPECT_EQ(ParseTimestamp("2024-03-05T01:00:00.123Z"), Timestamp{base.ms + 123});
  EXPECT_EQ(ParseTimestamp("2024-03-05T01:00:00.123456789Z"), Timestamp{base.ms + 123});
}

TEST(TimestampTest, RejectsMalformedTimestamps) {
  for (const char* bad :
       {"2024-03-05T01:00:00", "2024-03-05T24:00:00Z", "2024-03-05T01:60:00Z",
        "2024-03-05T01:00:60Z", "2024-03-05T01:00:00+0800", "2024-03-05T01:00:00+24:00",
        "2024-03-05T01:00:00.Z", "2024-03-05T01:00:00.1234567890Z",
        "2024-02-30T01:00:00Z", "2024-03-05X01:00:00Z", "2024-03-05T01:00:00z",
        "2024-03-05T1:00:00Z", "", "2024-03-05T01:00:00ZZ"}) {
    EXPECT_EQ(ParseTimestamp(bad), std::nullopt) << bad;
  }
}

TEST(TimestampTest, ShanghaiDayBoundaries) {
  // Midnight in Shanghai is 16:00 UTC the day before.
  EXPECT_EQ(ShanghaiDateOf(*ParseTimestamp("2024-03-04T15:59:59.999Z")),
            DateFromCivil(2024, 3, 4));
  EXPECT_EQ(ShanghaiDateOf(*ParseTimestamp("2024-03-04T16:00:00.000Z")),
            DateFromCivil(2024, 3, 5));
  EXPECT_EQ(ShanghaiDateOf(*ParseTimestamp("2024-03-05T00:00:00+08:00")),
            DateFromCivil(2024, 3, 5));
  EXPECT_EQ(ShanghaiDateOf(*ParseTimestamp("2024-03-05T23:59:59.999+08:00")),
            DateFromCivil(2024, 3, 5));
  // Before the epoch, floor division keeps days whole.
  EXPECT_EQ(ShanghaiDateOf(Timestamp{-kShanghaiOffsetMs}), Date{0});
  EXPECT_EQ(ShanghaiDateOf(Timestamp{-kShanghaiOffsetMs - 1}), Date{-1});
  // New year's eve in UTC is already new year in Shanghai.
  EXPECT_EQ(ShanghaiDateOf(*ParseTimestamp("2023-12-31T20:00:00Z")),
            DateFromCivil(2024, 1, 1));
  // No overflow at the extremes.
  EXPECT_EQ(ShanghaiDateOf(Timestamp{kMax}), ShanghaiDateOf(Timestamp{kMax - 1}));
  EXPECT_EQ(ShanghaiDateOf(Timestamp{kMin}), ShanghaiDateOf(Timestamp{kMin + 1}));
}

TEST(IdTest, DistinctTypesCompareByValueAndHash) {
  PersonId a("wang"), b("wang"), c("li");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_LT(c, a);
  EXPECT_TRUE(PersonId().empty());
  std::unordered_set<PersonId> set = {a, b, c};
  EXPECT_EQ(set.size(), 2u);
  static_assert(!std::is_convertible_v<PersonId, DeptId>);
  static_assert(!std::is_constructible_v<PersonId, DeptId>);
}

}  // namespace
}  // namespace approvald
