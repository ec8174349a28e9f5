// The audit leaf format, byte for byte (docs/AUDIT.md "Leaf format"). The
// expected hashes were computed independently with Python's hashlib over the
// literal strings below.
#include "audit/leaf.h"

#include <gtest/gtest.h>

#include "audit/encoding.h"
#include "audit/merkle.h"

namespace approvald::audit {
namespace {

constexpr char kDefHash[] =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

Event SampleEvent() {
  Event e;
  e.instance = InstanceId{12};
  e.version = 3;
  e.at = Timestamp{1709600523004};
  e.type = "approved";
  e.actor = PersonId("li");
  e.node = "line1_review";
  e.data["amount"] = Value::Of(Money{12345});
  e.data["note"] = Value::Str("ok");
  e.comment = "同意";
  return e;
}

AuditRecord SampleRecord() {
  AuditRecord r;
  r.at = Timestamp{1709600000000};
  r.type = "login_failed";
  r.actor = PersonId("wang");
  r.subject = "user:wang";
  r.data["ip"] = Value::Str("10.0.0.7");
  r.data["reason"] = Value::Str("bad password");
  return r;
}

TEST(LeafFormatTest, EventLeafIsByteExact) {
  std::string leaf = EventLeafData(SampleEvent(), kDefHash);
  EXPECT_EQ(
      leaf,
      R"({"kind":"event","v":1,"def_hash":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","event":{"actor":"li","at":1709600523004,"comment":"同意","data":{"amount":{"fen":12345},"note":"ok"},"instance":12,"node":"line1_review","on_behalf_of":"","type":"approved","version":3}})");
  EXPECT_EQ(HashHex(LeafHash(leaf)),
            "165e2061619ee437222f480f237ca155c7e9c4a4c288fbda1caf663a99136368");
}

// Stores build the leaf from the event bytes they store (encoded once).
TEST(LeafFormatTest, EventLeafFromEncodedBytesIsTheSameLeaf) {
  const Event e = SampleEvent();
  EXPECT_EQ(EventLeafDataOfEncoded(EncodeEvent(e), kDefHash), EventLeafData(e, kDefHash));
  const std::string odd = "sha256:\"quoted\"\n";  // a def hash that needs escaping
  EXPECT_EQ(EventLeafDataOfEncoded(EncodeEvent(e), odd), EventLeafData(e, odd));
  EXPECT_EQ(HashHex(LeafHash(EventLeafDataOfEncoded(EncodeEvent(e), kDefHash))),
            "165e2061619ee437222f480f237ca155c7e9c4a4c288fbda1caf663a99136368");
}

TEST(LeafFormatTest, RecordLeafIsByteExact) {
  std::string leaf = RecordLeafData(SampleRecord());
  EXPECT_EQ(
      leaf,
      R"({"kind":"record","v":1,"record":{"actor":"wang","at":1709600000000,"data":{"ip":"10.0.0.7","reason":"bad password"},"subject":"user:wang","type":"login_failed"}})");
  EXPECT_EQ(HashHex(LeafHash(leaf)),
            "90152acc178293030bce3c4834a3944bb979dcb90038ad1e9eb921f377a37de2");
}

TEST(LeafFormatTest, DefinitionHashIsPartOfTheLeaf) {
  std::string other = kDefHash;
  other.back() = 'e';
  EXPECT_NE(LeafHash(EventLeafData(SampleEvent(), kDefHash)),
            LeafHash(EventLeafData(SampleEvent(), other)));
}

TEST(LeafFormatTest, EveryEventFieldChangesTheLeaf) {
  const std::string base = EventLeafData(SampleEvent(), kDefHash);
  auto changed = [&](auto mutate) {
    Event e = SampleEvent();
    mutate(e);
    return EventLeafData(e, kDefHash) != base;
  };
  EXPECT_TRUE(changed([](Event& e) { e.instance.value = 13; }));
  EXPECT_TRUE(changed([](Event& e) { e.version = 4; }));
  EXPECT_TRUE(changed([](Event& e) { e.at.ms += 1; }));
  EXPECT_TRUE(changed([](Event& e) { e.type = "rejected"; }));
  EXPECT_TRUE(changed([](Event& e) { e.actor = PersonId("zhang"); }));
  EXPECT_TRUE(changed([](Event& e) { e.on_behalf_of = PersonId("li"); }));
  EXPECT_TRUE(changed([](Event& e) { e.node = "line2_review"; }));
  EXPECT_TRUE(changed([](Event& e) { e.data["amount"] = Value::Of(Money{12346}); }));
  EXPECT_TRUE(changed([](Event& e) { e.comment = "不同意"; }));
}

TEST(LeafFormatTest, ParseIsTheExactInverse) {
  Event e = SampleEvent();
  auto parsed = ParseLeaf(EventLeafData(e, kDefHash));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->kind, "event");
  EXPECT_EQ(parsed->def_hash, kDefHash);
  ASSERT_TRUE(parsed->event.has_value());
  EXPECT_EQ(*parsed->event, e);
  EXPECT_FALSE(parsed->record.has_value());

  AuditRecord r = SampleRecord();
  auto rec = ParseLeaf(RecordLeafData(r));
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->kind, "record");
  ASSERT_TRUE(rec->record.has_value());
  EXPECT_EQ(rec->record->actor, r.actor);
  EXPECT_EQ(rec->record->at, r.at);
  EXPECT_EQ(rec->record->type, r.type);
  EXPECT_EQ(rec->record->subject, r.subject);
  EXPECT_EQ(rec->record->data, r.data);
  EXPECT_FALSE(rec->event.has_value());
}

TEST(LeafFormatTest, KindIsReadFromThePrefix) {
  EXPECT_EQ(LeafKindOf(EventLeafData(SampleEvent(), kDefHash)), "event");
  EXPECT_EQ(LeafKindOf(RecordLeafData(SampleRecord())), "record");
  EXPECT_EQ(LeafKindOf(EncodeEvent(SampleEvent())), "");
  EXPECT_EQ(LeafKindOf(""), "");
}

// The SQLite store keeps each event only in its leaf and reads it back by
// slicing the leaf's fixed parts away: the slice is exactly EncodeEvent's
// bytes, whatever the definition hash holds (escapes included), and nothing
// not shaped like an event leaf yields one.
TEST(LeafFormatTest, EventBytesAreSlicedOutOfAnEventLeaf) {
  const Event e = SampleEvent();
  EXPECT_EQ(EventBytesOfLeaf(EventLeafData(e, kDefHash)), EncodeEvent(e));
  EXPECT_EQ(EventBytesOfLeaf(EventLeafData(e, "odd \"quoted\" \\ hash")), EncodeEvent(e));
  EXPECT_EQ(EventBytesOfLeaf(EventLeafData(e, "")), EncodeEvent(e));
  const std::string leaf = EventLeafData(e, kDefHash);
  EXPECT_FALSE(EventBytesOfLeaf(RecordLeafData(SampleRecord())).has_value());
  EXPECT_FALSE(EventBytesOfLeaf(EncodeEvent(e)).has_value());
  EXPECT_FALSE(EventBytesOfLeaf("").has_value());
  EXPECT_FALSE(EventBytesOfLeaf(leaf + " ").has_value());
  EXPECT_FALSE(
      EventBytesOfLeaf(R"({"kind":"event","v":1,"def_hash":"x","event":})").has_value());
  EXPECT_FALSE(
      EventBytesOfLeaf(R"({"kind":"event","v":1,"def_hash":"x,"event":{}})").has_value());
  EXPECT_FALSE(
      EventBytesOfLeaf(R"({"kind":"event","v":1,"def_hash":"x","evnt":{}})").has_value());
}

TEST(LeafFormatTest, ParseRejectsEverythingButCanonicalLeaves) {
  std::string event_leaf = EventLeafData(SampleEvent(), kDefHash);
  std::string record_leaf = RecordLeafData(SampleRecord());
  // A bare event or record is not a leaf.
  EXPECT_FALSE(ParseLeaf(EncodeEvent(SampleEvent())).has_value());
  EXPECT_FALSE(ParseLeaf("").has_value());
  EXPECT_FALSE(ParseLeaf("}").has_value());
  // One kind's body under the other kind's header.
  std::string event_body = EncodeEvent(SampleEvent());
  EXPECT_FALSE(
      ParseLeaf(R"({"kind":"record","v":1,"record":)" + event_body + "}").has_value());
  std::string record_as_event = R"({"kind":"event","v":1,"def_hash":"x","event":)" +
                                record_leaf.substr(record_leaf.find(":{") + 1);
  EXPECT_FALSE(ParseLeaf(record_as_event).has_value());
  // Another version, whitespace, truncation, trailing bytes.
  std::string v2 = event_leaf;
  v2.replace(v2.find("\"v\":1"), 5, "\"v\":2");
  EXPECT_FALSE(ParseLeaf(v2).has_value());
  EXPECT_FALSE(ParseLeaf(event_leaf + " ").has_value());
  EXPECT_FALSE(ParseLeaf(event_leaf + "}").has_value());
  EXPECT_FALSE(ParseLeaf(event_leaf.substr(0, event_leaf.size() - 1)).has_value());
  std::string spaced = event_leaf;
  spaced.insert(spaced.find("\"event\""), " ");
  EXPECT_FALSE(ParseLeaf(spaced).has_value());
  // A record with an extra member, or a member of the wrong type.
  std::string extra = record_leaf;
  extra.replace(extra.find("\"subject\""), 0, "\"sig\":\"\",");
  EXPECT_FALSE(ParseLeaf(extra).has_value());
  std::string wrong_type = record_leaf;
  wrong_type.replace(wrong_type.find("1709600000000"), 13, "\"yesterday\"");
  EXPECT_FALSE(ParseLeaf(wrong_type).has_value());
  // Every truncation of a valid leaf fails, and never crashes.
  for (size_t n = 0; n < event_leaf.size(); ++n) {
    ASSERT_FALSE(ParseLeaf(event_leaf.substr(0, n)).has_value()) << n;
  }
  for (size_t n = 0; n < record_leaf.size(); ++n) {
    ASSERT_FALSE(ParseLeaf(record_leaf.substr(0, n)).has_value()) << n;
  }
}

TEST(LeafFormatTest, StringsWithQuotesAndControlCharactersRoundTrip) {
  Event e = SampleEvent();
  e.comment = "line1\nline2 \"quoted\" \\ back\x01slash";
  std::string def = "sha256:\"odd\\hash\"";
  auto parsed = ParseLeaf(EventLeafData(e, def));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->def_hash, def);
  EXPECT_EQ(parsed->event->comment, e.comment);
  EXPECT_EQ(EventLeafData(e, def).find('\n'), std::string::npos) << "a leaf is one line";
}

}  // namespace
}  // namespace approvald::audit
