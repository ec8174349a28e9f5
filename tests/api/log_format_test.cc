// The JSON log format (api/log_format.h): fields from key=value pairs, and
// lines that are valid JSON whatever the message holds.
#include "api/log_format.h"

#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>

#include <boost/json.hpp>

namespace approvald::api {
namespace {

namespace json = boost::json;

std::string FormatLine(std::string_view text,
                       spdlog::level::level_enum level = spdlog::level::info) {
  spdlog::details::log_msg msg(spdlog::source_loc{}, "api", level,
                               spdlog::string_view_t(text.data(), text.size()));
  msg.time =
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1'764'300'000'123));
  spdlog::memory_buf_t buf;
  JsonLogFormatter().format(msg, buf);
  return std::string(buf.data(), buf.size());
}

TEST(LogFieldsTest, KeyValuePairsWithValuesRunningToTheNextKey) {
  auto f = LogFields("request req=1f user=zhang_min route=/api/v1/me status=200 ms=0.42");
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f[0].first, "req");
  EXPECT_EQ(f[0].second, "1f");
  EXPECT_EQ(f[2].second, "/api/v1/me");
  EXPECT_EQ(f[4].first, "ms");
  EXPECT_EQ(f[4].second, "0.42");
  auto e = LogFields("tick failed err=database is locked (5) inst=3");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].second, "database is locked (5)");
  EXPECT_EQ(e[1].second, "3");
  auto empty = LogFields("x=1 y=");
  ASSERT_EQ(empty.size(), 2u);
  EXPECT_EQ(empty[0].second, "1");
  EXPECT_EQ(empty[1].second, "");
  EXPECT_TRUE(LogFields("stopped").empty());
  EXPECT_TRUE(LogFields("Upper=1 9x=2 a-b=3").empty());  // not keys
}

TEST(JsonLogFormatterTest, ALineIsOneJsonObjectWithTheRequestFields) {
  std::string line = FormatLine(
      "request req=1f remote=127.0.0.1 user=zhang_min method=GET "
      "route=/api/v1/instances/{id} status=200 ms=0.42");
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  json::value v = json::parse(line);
  EXPECT_EQ(v.at("time").as_string(), "2025-11-28T03:20:00.123Z");
  EXPECT_EQ(v.at("level").as_string(), "info");
  EXPECT_EQ(v.at("logger").as_string(), "api");
  EXPECT_EQ(v.at("req").as_string(), "1f");
  EXPECT_EQ(v.at("user").as_string(), "zhang_min");
  EXPECT_EQ(v.at("route").as_string(), "/api/v1/instances/{id}");
  EXPECT_EQ(v.at("status").as_string(), "200");
  EXPECT_EQ(v.at("ms").as_string(), "0.42");
  EXPECT_EQ(v.at("msg").as_string().subview().substr(0, 12), "request req=");
}

TEST(JsonLogFormatterTest, QuotesControlCharactersAndBadUtf8StayValidJson) {
  std::string text =
      "err=say \"hi\" \\ back\nnext\ttab \x01 ok 张敏 \xff\xfe bad \xe5\xbc";
  std::string line = FormatLine(text, spdlog::level::warn);
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line
  json::value v = json::parse(line);            // throws if not JSON
  std::string msg(v.at("msg").as_string());
  EXPECT_NE(msg.find("say \"hi\" \\ back\nnext\ttab \x01 ok 张敏 "), std::string::npos);
  EXPECT_NE(msg.find("\xef\xbf\xbd\xef\xbf\xbd bad \xef\xbf\xbd"),
            std::string::npos);  // U+FFFD
  EXPECT_EQ(v.at("level").as_string(), "warning");
}

TEST(JsonLogFormatterTest, FieldsDoNotReplaceTheFixedOnesAndTheFirstWins) {
  json::value v = json::parse(FormatLine("spoof level=error msg=x time=0 user=a user=b"));
  EXPECT_EQ(v.at("level").as_string(), "info");
  EXPECT_EQ(v.at("msg").as_string(), "spoof level=error msg=x time=0 user=a user=b");
  EXPECT_EQ(v.at("user").as_string(), "a");
}

}  // namespace
}  // namespace approvald::api
