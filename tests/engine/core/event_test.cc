// Tests for the canonical event serialisation (approvald/event.h). The audit
// log hashes these bytes, so the exact text of a fixed event is pinned here:
// if this test has to change, existing audit logs stop verifying.
#include "approvald/event.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <string>

namespace approvald {
namespace {

Event SampleEvent() {
  Event e;
  e.instance = InstanceId{42};
  e.version = 3;
  e.at = Timestamp{1709600523004};  // 2024-03-05T01:02:03.004Z
  e.type = "approved";
  e.actor = PersonId("liu");
  e.on_behalf_of = PersonId("wang");
  e.node = "line1_review";
  e.data = {{"amount", Value::Of(Money{123450})},
            {"due", Value::Of(DateFromCivil(2024, 3, 8))},
            {"opinion", Value::Str("同意\n\"报销\"")},
            {"signers", Value::Of(Value::List{Value::Str("qian"), Value::Str("sun")})}};
  e.comment = "ok";
  return e;
}

TEST(EventCodecTest, CanonicalEncodingIsByteExact) {
  EXPECT_EQ(EncodeEvent(SampleEvent()),
            R"({"actor":"liu","at":1709600523004,"comment":"ok",)"
            R"("data":{"amount":{"fen":123450},"due":{"date":"2024-03-08"},)"
            R"("opinion":"同意\u000a\"报销\"","signers":["qian","sun"]},)"
            R"("instance":42,"node":"line1_review","on_behalf_of":"wang",)"
            R"("type":"approved","version":3})");
}

TEST(EventCodecTest, EmptyEventStillWritesEveryKey) {
  EXPECT_EQ(EncodeEvent(Event{}),
            R"({"actor":"","at":0,"comment":"","data":{},"instance":0,"node":"",)"
            R"("on_behalf_of":"","type":"","version":0})");
  auto back = DecodeEvent(EncodeEvent(Event{}));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, Event{});
}

TEST(EventCodecTest, DecodeIsTheExactInverse) {
  Event e = SampleEvent();
  auto back = DecodeEvent(EncodeEvent(e));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, e);

  e.instance = InstanceId{std::numeric_limits<int64_t>::max()};
  e.version = std::numeric_limits<int64_t>::min();
  e.at = Timestamp{-1};
  e.actor = SystemActor();
  e.on_behalf_of = PersonId();
  static const char kComment[] = "tab\there, nul\0, emoji 🎉";
  e.comment = std::string(kComment, sizeof kComment - 1);
  back = DecodeEvent(EncodeEvent(e));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, e);
}

TEST(EventCodecTest, DataThatLooksLikeATaggedScalarIsWrapped) {
  Event e;
  e.type = "amount_changed";
  e.data = {{"fen", Value::Int(5)}};
  std::string text = EncodeEvent(e);
  EXPECT_NE(text.find(R"("data":{"record":{"fen":5}})"), std::string::npos) << text;
  auto back = DecodeEvent(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, e);
  // The data field is exactly EncodeValue of the record.
  EXPECT_NE(text.find(EncodeValue(Value::Of(e.data))), std::string::npos);
}

// The event's data is written as the record's own canonical encoding
// (EncodeEvent writes the record directly, without making a Value of it).
TEST(EventCodecTest, DataIsWrittenExactlyAsEncodeValueWritesTheRecord) {
  std::vector<Value::Record> records = {
      {},
      SampleEvent().data,
      {{"fen", Value::Int(5)}},
      {{"record", Value::Of(Value::Record{{"ts", Value::Int(1)}})}},
      {{"date", Value::Str("x")}, {"fen", Value::Int(1)}},
      {{"nested", Value::Of(Value::Record{{"ts", Value::Of(Timestamp{7})}})},
       {"list", Value::Of(Value::List{Value::Of(Value::Record{{"fen", Value::Null()}})})}},
  };
  for (const auto& r : records) {
    Event e = SampleEvent();
    e.data = r;
    std::string text = EncodeEvent(e);
    std::string data = "\"data\":" + EncodeValue(Value::Of(r)) + ",\"instance\":";
    EXPECT_NE(text.find(data), std::string::npos) << text;
    auto back = DecodeEvent(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(back->data, r);
  }
}

TEST(EventCodecTest, RejectsAnythingButTheCanonicalText) {
  const std::string good = EncodeEvent(SampleEvent());
  ASSERT_TRUE(DecodeEvent(good).has_value());
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  const std::string bad[] = {
      "",
      "{}",
      good + " ",
      " " + good,
      good + "}",
      good.substr(0, good.size() - 1),
      replace(R"("actor":"liu","at")", R"("at")"),  // missing key
      replace(R"({"actor":"liu","at":1709600523004,)",
              R"({"at":1709600523004,"actor":"liu",)"),     // key order
      replace(R"("version":3})", R"("version":3,"x":1})"),  // extra key
      replace(R"("version":3)", R"("version":03)"),         // leading zero
      replace(R"("version":3)", R"("version":"3")"),
      replace(R"("instance":42)", R"("instance":-0)"),
      replace(R"("instance":42)", R"("instance":9223372036854775808)"),
      replace(R"("at":1709600523004)", R"("at":1709600523004.0)"),
      replace(R"("at":1709600523004)", R"("at": 1709600523004)"),  // whitespace
      replace(R"("actor":"liu")", R"("actor":null)"),
      replace(R"("node":"line1_review")", R"("node":["x"])"),
      replace(R"("data":{"amount")", R"("data":[{"amount")"),
      replace(R"("data":{"amount":{"fen":123450},)",
              R"("data":{)"
              R"("opinion":"x","amount":{"fen":123450},)"),    // unsorted data
      replace(R"(\u000a)", R"(\n)"),                           // other escape
      replace(R"(\u000a)", R"(\u000A)"),                       // upper-case hex
      replace(R"("comment":"ok")", R"("comment":"\u006fk")"),  // needless escape
      replace(R"("comment":"ok")", "\"comment\":\"o\x7fk\""),  // raw DEL
      replace(R"({"fen":123450})", R"({"fen":0123450})"),      // leading zero in data
      replace(R"("comment":"ok")", "\"comment\":\"o\xffk\""),  // bad UTF-8
  };
  for (const std::string& text : bad) {
    EXPECT_EQ(DecodeEvent(text), std::nullopt) << text;
  }
  std::string data_not_record =
      R"({"actor":"","at":0,"comment":"","data":5,"instance":0,)"
      R"("node":"","on_behalf_of":"","type":"","version":0})";
  EXPECT_EQ(DecodeEvent(data_not_record), std::nullopt);
  std::string data_money =
      R"({"actor":"","at":0,"comment":"","data":{"fen":5},"instance":0,)"
      R"("node":"","on_behalf_of":"","type":"","version":0})";
  EXPECT_EQ(DecodeEvent(data_money), std::nullopt);
}

TEST(EventCodecTest, EncodingIsDeterministicWhateverTheInsertionOrder) {
  Event a = SampleEvent(), b = SampleEvent();
  b.data.clear();
  for (auto it = a.data.rbegin(); it != a.data.rend(); ++it) b.data.insert(*it);
  EXPECT_EQ(EncodeEvent(a), EncodeEvent(b));
}

TEST(EventCodecTest, MutatedEncodingsDecodeOnlyToTheirOwnCanonicalText) {
  std::mt19937 rng(5);
  const std::string good = EncodeEvent(SampleEvent());
  const std::string alphabet = "{}[]\",:0123456789-abcdefnrstu\\ \xe5";
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = good;
    size_t at = rng() % text.size();
    switch (rng() % 3) {
      case 0:
        text[at] = alphabet[rng() % alphabet.size()];
        break;
      case 1:
        text.erase(at, 1 + rng() % 4);
        break;
      default:
        text.insert(at, 1, alphabet[rng() % alphabet.size()]);
        break;
    }
    auto e = DecodeEvent(text);
    if (e) {
      ++accepted;
      ASSERT_EQ(EncodeEvent(*e), text);
    }
  }
  EXPECT_GT(accepted, 0);  // mutations inside strings and numbers decode
}

}  // namespace
}  // namespace approvald
