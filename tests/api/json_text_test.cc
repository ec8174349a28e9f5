// The hand-written text of the hot read (api/json_codec.h) equals what the
// general formatters write: timestamps and dates byte for byte as
// FormatTimestampUtc / FormatTimestampShanghai / FormatDate give them, for
// every kind of instant (epoch, leap days, year and century ends, negative
// and far-off years that take the fallback), and JSON strings as
// json::serialize escapes them, whatever runs of plain bytes they contain.
#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "api/json_codec.h"

namespace approvald::api {
namespace {

void ExpectSameTimeText(Timestamp t) {
  std::string utc = "x", local = "y";
  AppendTimestampUtc(&utc, t);
  AppendTimestampShanghai(&local, t);
  EXPECT_EQ(utc, "x" + FormatTimestampUtc(t)) << "ms=" << t.ms;
  EXPECT_EQ(local, "y" + FormatTimestampShanghai(t)) << "ms=" << t.ms;
}

void ExpectSameDateText(Date d) {
  std::string out = "x";
  AppendDate(&out, d);
  EXPECT_EQ(out, "x" + FormatDate(d)) << "days=" << d.days;
}

TEST(JsonTextTest, TimestampsAreWrittenAsTheFormattersWriteThem) {
  EXPECT_EQ(FormatTimestampUtc(Timestamp{1700000000123}), "2023-11-14T22:13:20.123Z");
  std::string s;
  AppendTimestampUtc(&s, Timestamp{1700000000123});
  EXPECT_EQ(s, "2023-11-14T22:13:20.123Z");
  s.clear();
  AppendTimestampShanghai(&s, Timestamp{1700000000123});
  EXPECT_EQ(s, "2023-11-15 06:13:20");  // past midnight in Shanghai: the next day

  const int64_t kLimits[] = {0,
                             -1,
                             1,
                             kMsPerDay - 1,
                             -kMsPerDay,
                             kMsPerDay - kShanghaiOffsetMs - 1,
                             kMsPerDay - kShanghaiOffsetMs,
                             951782400000,     // 2000-02-29
                             4107542399999,    // 2100-02-28T23:59:59.999Z
                             253402300799999,  // 9999-12-31T23:59:59.999Z: the last 4-digit year
                             253402300800000,  // 10000-01-01: the fallback
                             253402300799999 - kShanghaiOffsetMs,
                             253402300799999 - kShanghaiOffsetMs + 1,  // year 10000 in Shanghai
                             -62167219200000,  // 0000-01-01
                             -62167219200001,  // year -1: the fallback
                             std::numeric_limits<int64_t>::max(),
                             std::numeric_limits<int64_t>::min(),
                             std::numeric_limits<int64_t>::min() + 1};
  for (int64_t ms : kLimits) ExpectSameTimeText(Timestamp{ms});
  // Every day boundary (and the millisecond each side) over four centuries,
  // so every leap rule is crossed, plus random instants over every year.
  for (int64_t day = -146097 * 2; day <= 146097 * 2; day += 7) {
    for (int64_t off : {-1, 0, 1}) ExpectSameTimeText(Timestamp{day * kMsPerDay + off});
  }
  std::mt19937_64 rng(4);
  std::uniform_int_distribution<int64_t> any(-70000000000000, 260000000000000);
  for (int i = 0; i < 200000; ++i) ExpectSameTimeText(Timestamp{any(rng)});
}

TEST(JsonTextTest, DatesAreWrittenAsFormatDateWritesThem) {
  std::string s;
  AppendDate(&s, Date{19000});
  EXPECT_EQ(s, "2022-01-08");
  for (int32_t d = -800000; d <= 3000000; ++d) {
    std::string out;
    AppendDate(&out, Date{d});
    if (out != FormatDate(Date{d})) {
      ADD_FAILURE() << "days=" << d << ": " << out << " != " << FormatDate(Date{d});
      break;
    }
  }
  for (int32_t d : {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(),
                    -719529, -719528, 2932896, 2932897})
    ExpectSameDateText(Date{d});
}

TEST(JsonTextTest, StringsWithLongPlainRunsAreEscapedAsBoostJsonDoes) {
  std::mt19937_64 rng(9);
  const std::string kPieces[] = {"plain text ", "计财室", "\"", "\\", "\n", "\x01", "\x1f",
                                 " ", "/", "\x7f", "\xff", std::string(1, '\0'), "abc"};
  for (int i = 0; i < 5000; ++i) {
    std::string s;
    for (int n = static_cast<int>(rng() % 12); n > 0; --n) s += kPieces[rng() % 13];
    std::string out = "[";
    AppendJsonString(&out, s);
    EXPECT_EQ(out, "[" + json::serialize(json::string(s)));
  }
}

}  // namespace
}  // namespace approvald::api
