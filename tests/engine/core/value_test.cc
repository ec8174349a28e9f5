// Tests for Type and the canonical value encoding (approvald/value.h):
// exact encodings, round trips of nested lists and records, the records that
// look like tagged scalars, and adversarial decoder input.
#include "approvald/utf8.h"
#include "approvald/value.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <string>

namespace approvald {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

Value Rec(Value::Record r) { return Value::Of(std::move(r)); }
Value List(Value::List l) { return Value::Of(std::move(l)); }

void ExpectRoundTrip(const Value& v, const std::string& encoded) {
  EXPECT_EQ(EncodeValue(v), encoded);
  auto back = DecodeValue(encoded);
  ASSERT_TRUE(back.has_value()) << encoded;
  EXPECT_TRUE(*back == v) << encoded;
}

// --- Type -----------------------------------------------------------------

TEST(TypeTest, ToString) {
  EXPECT_EQ(Type::Of(TypeKind::kNull).ToString(), "null");
  EXPECT_EQ(Type::Of(TypeKind::kBool).ToString(), "bool");
  EXPECT_EQ(Type::Of(TypeKind::kInt).ToString(), "int");
  EXPECT_EQ(Type::Of(TypeKind::kMoney).ToString(), "money");
  EXPECT_EQ(Type::Of(TypeKind::kDate).ToString(), "date");
  EXPECT_EQ(Type::Of(TypeKind::kDateTime).ToString(), "datetime");
  EXPECT_EQ(Type::Of(TypeKind::kText).ToString(), "text");
  EXPECT_EQ(Type::Of(TypeKind::kPerson).ToString(), "person");
  EXPECT_EQ(Type::Of(TypeKind::kDept).ToString(), "dept");
  EXPECT_EQ(Type::Of(TypeKind::kAttachment).ToString(), "attachment");
  Type e = Type::Of(TypeKind::kEnum);
  e.options = {"a", "b"};
  EXPECT_EQ(e.ToString(), "enum{a,b}");
  EXPECT_EQ(Type::ListOf(Type::Of(TypeKind::kPerson)).ToString(), "list<person>");
  EXPECT_EQ(Type::ListOf(Type::ListOf(e)).ToString(), "list<list<enum{a,b}>>");
  EXPECT_EQ(Type::Of(TypeKind::kList).ToString(), "list<?>");
  Type r = Type::Of(TypeKind::kRecord);
  FieldDef amount, number;
  amount.name = "amount";
  amount.type = Type::Of(TypeKind::kMoney);
  number.name = "number";
  number.type = Type::Of(TypeKind::kText);
  r.fields = std::make_shared<const std::vector<FieldDef>>(
      std::vector<FieldDef>{amount, number});
  EXPECT_EQ(r.ToString(), "record{amount:money,number:text}");
  EXPECT_EQ(Type::Of(TypeKind::kRecord).ToString(), "record{}");
}

TEST(TypeTest, StructuralEquality) {
  EXPECT_EQ(Type::Of(TypeKind::kInt), Type::Of(TypeKind::kInt));
  EXPECT_NE(Type::Of(TypeKind::kInt), Type::Of(TypeKind::kMoney));
  Type text20 = Type::Of(TypeKind::kText);
  text20.max_length = 20;
  EXPECT_EQ(text20, Type::Of(TypeKind::kText));  // a bound, not identity
  Type ab = Type::Of(TypeKind::kEnum), ba = ab, abc = ab;
  ab.options = {"a", "b"};
  ba.options = {"b", "a"};
  abc.options = {"a", "b", "c"};
  EXPECT_EQ(ab, ab);
  EXPECT_NE(ab, ba);
  EXPECT_NE(ab, abc);
  EXPECT_EQ(Type::ListOf(ab), Type::ListOf(ab));
  EXPECT_NE(Type::ListOf(ab), Type::ListOf(ba));
  EXPECT_NE(Type::ListOf(ab), ab);
  EXPECT_NE(Type::ListOf(Type::Of(TypeKind::kInt)), Type::Of(TypeKind::kList));

  auto record = [](std::vector<std::pair<std::string, TypeKind>> fields) {
    std::vector<FieldDef> defs;
    for (auto& [name, kind] : fields) {
      FieldDef f;
      f.name = name;
      f.type = Type::Of(kind);
      f.label = "ignored";  // labels are not part of the type
      defs.push_back(f);
    }
    Type t = Type::Of(TypeKind::kRecord);
    t.fields = std::make_shared<const std::vector<FieldDef>>(std::move(defs));
    return t;
  };
  EXPECT_EQ(record({{"a", TypeKind::kInt}}), record({{"a", TypeKind::kInt}}));
  EXPECT_NE(record({{"a", TypeKind::kInt}}), record({{"a", TypeKind::kMoney}}));
  EXPECT_NE(record({{"a", TypeKind::kInt}}), record({{"b", TypeKind::kInt}}));
  EXPECT_NE(record({{"a", TypeKind::kInt}}),
            record({{"a", TypeKind::kInt}, {"b", TypeKind::kInt}}));
  EXPECT_EQ(record({}), Type::Of(TypeKind::kRecord));
}

// --- exact encodings --------------------------------------------------------

TEST(ValueCodecTest, Scalars) {
  ExpectRoundTrip(Value::Null(), "null");
  ExpectRoundTrip(Value::Bool(true), "true");
  ExpectRoundTrip(Value::Bool(false), "false");
  ExpectRoundTrip(Value::Int(0), "0");
  ExpectRoundTrip(Value::Int(-42), "-42");
  ExpectRoundTrip(Value::Int(kMax), "9223372036854775807");
  ExpectRoundTrip(Value::Int(kMin), "-9223372036854775808");
  ExpectRoundTrip(Value::Of(Money{123450}), R"({"fen":123450})");
  ExpectRoundTrip(Value::Of(Money{-1}), R"({"fen":-1})");
  ExpectRoundTrip(Value::Of(Money{kMin}), R"({"fen":-9223372036854775808})");
  ExpectRoundTrip(Value::Of(DateFromCivil(2024, 3, 5)), R"({"date":"2024-03-05"})");
  ExpectRoundTrip(Value::Of(Timestamp{1709600523004}), R"({"ts":1709600523004})");
  ExpectRoundTrip(Value::Of(Timestamp{-1}), R"({"ts":-1})");
  ExpectRoundTrip(Value::Str(""), R"("")");
  ExpectRoundTrip(Value::Str("王芳 reimbursed ¥12.50 🎉"), "\"王芳 reimbursed ¥12.50 🎉\"");
}

TEST(ValueCodecTest, DatesOutsideFourDigitYearsUseExpandedYears) {
  ExpectRoundTrip(Value::Of(DateFromCivil(0, 1, 1)), R"({"date":"0000-01-01"})");
  ExpectRoundTrip(Value::Of(DateFromCivil(9999, 12, 31)), R"({"date":"9999-12-31"})");
  ExpectRoundTrip(Value::Of(DateFromCivil(10000, 1, 1)), R"({"date":"+10000-01-01"})");
  ExpectRoundTrip(Value::Of(DateFromCivil(-1, 12, 31)), R"({"date":"-0001-12-31"})");
  ExpectRoundTrip(Value::Of(DateFromCivil(-4, 2, 29)), R"({"date":"-0004-02-29"})");
  ExpectRoundTrip(Value::Of(Date{std::numeric_limits<int32_t>::max()}),
                  R"({"date":"+5881580-07-11"})");
  Value min_date = Value::Of(Date{std::numeric_limits<int32_t>::min()});
  auto back = DecodeValue(EncodeValue(min_date));
  ASSERT_TRUE(back.has_value()) << EncodeValue(min_date);
  EXPECT_TRUE(*back == min_date);
}

TEST(ValueCodecTest, StringEscapes) {
  ExpectRoundTrip(Value::Str("a\"b\\c"), R"("a\"b\\c")");
  ExpectRoundTrip(Value::Str("line\nnext\ttab\r"), R"("line\u000anext\u0009tab\u000d")");
  ExpectRoundTrip(Value::Str(std::string("\0\x1f\x7f", 3)), R"("\u0000\u001f\u007f")");
  ExpectRoundTrip(Value::Str("/ and ' stay"), R"("/ and ' stay")");
}

TEST(ValueCodecTest, InvalidUtf8IsReplacedWhenEncoding) {
  EXPECT_EQ(EncodeValue(Value::Str("a\xff"
                                   "b")),
            "\"a\xEF\xBF\xBD"
            "b\"");
  EXPECT_EQ(EncodeValue(Value::Str("\xe4\xb8")), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(EncodeValue(Value::Str("\xed\xa0\x80")),  // a UTF-16 surrogate
            "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

// A string is written byte by byte as the format says: escapes for '"',
// '\', U+0000..U+001F and U+007F, valid UTF-8 as it is, U+FFFD for each
// byte of no valid sequence. The encoder copies runs of plain bytes at once;
// this holds it to the byte-by-byte rule on random mixes of every kind of
// byte, at every offset.
TEST(ValueCodecTest, StringsAreWrittenAsTheByteByByteRuleSays) {
  auto by_bytes = [](const std::string& s) {
    static const char* kHex = "0123456789abcdef";
    std::string out = "\"";
    for (size_t i = 0; i < s.size();) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
        ++i;
      } else if (c < 0x20 || c == 0x7F) {
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
        ++i;
      } else if (c < 0x80) {
        out += static_cast<char>(c);
        ++i;
      } else {
        size_t n = 0;
        for (size_t len = 2; len <= 4 && i + len <= s.size(); ++len)
          if (IsValidUtf8(s.substr(i, len))) {
            n = len;
            break;
          }
        if (n == 0) {
          out += "\xEF\xBF\xBD";
          ++i;
        } else {
          out += s.substr(i, n);
          i += n;
        }
      }
    }
    return out + "\"";
  };
  const std::vector<std::string> pieces = {
      "a", "Zz09 ~", "\"", "\\", std::string(1, '\0'), "\x1f", "\x7f", "\n",
      "报销", "\xC3\xA9", "\xF0\x9F\x98\x80", "\xe4\xb8", "\xff", "\x80", "\xed\xa0\x80"};
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string s;
    int n = static_cast<int>(rng() % 12);
    for (int k = 0; k < n; ++k) s += pieces[rng() % pieces.size()];
    EXPECT_EQ(EncodeValue(Value::Str(s)), by_bytes(s)) << "round " << round;
  }
}

TEST(ValueCodecTest, IsValidUtf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("ascii"));
  EXPECT_TRUE(IsValidUtf8("计财室"));
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x8e\x89"));   // U+1F389
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));   // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xf0\x80\x80\xaf"));  // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation
  EXPECT_FALSE(IsValidUtf8("\xe8\xae"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

TEST(Utf8Test, SequenceLengthFollowsRfc3629) {
  EXPECT_EQ(Utf8SequenceLength("a", 0), 1u);
  EXPECT_EQ(Utf8SequenceLength("\xc3\xa9", 0), 2u);          // é
  EXPECT_EQ(Utf8SequenceLength("计", 0), 3u);
  EXPECT_EQ(Utf8SequenceLength("\xf0\x9f\x8e\x89", 0), 4u);  // U+1F389
  EXPECT_EQ(Utf8SequenceLength("x\xe8\xae\xa1", 1), 3u);      // from the middle
  EXPECT_EQ(Utf8SequenceLength("\xc0\xaf", 0), 0u);          // overlong
  EXPECT_EQ(Utf8SequenceLength("\xed\xa0\x80", 0), 0u);      // surrogate
  EXPECT_EQ(Utf8SequenceLength("\xf4\x90\x80\x80", 0), 0u);  // above U+10FFFF
  EXPECT_EQ(Utf8SequenceLength("\xe8\xae", 0), 0u);          // truncated
  EXPECT_EQ(Utf8SequenceLength("\xe8\xae" "A", 0), 0u);         // broken inside
  EXPECT_EQ(Utf8SequenceLength("\x80", 0), 0u);              // lone continuation
}

TEST(Utf8Test, ToValidUtf8ReplacesEachBadByteAndKeepsTheRest) {
  EXPECT_EQ(ToValidUtf8(""), "");
  EXPECT_EQ(ToValidUtf8("计财室 ok"), "计财室 ok");
  // A three-byte character cut after two bytes, then ASCII: two
  // replacements (one per byte), the ASCII kept.
  EXPECT_EQ(ToValidUtf8("\xe8\xae" "A"), "\xEF\xBF\xBD\xEF\xBF\xBD" "A");
  EXPECT_EQ(ToValidUtf8("a\xff" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(ToValidUtf8("\xed\xa0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  for (std::string_view bad : {"\xc0\xaf", "\xf4\x90\x80\x80", "x\x80y\xe8"})
    EXPECT_TRUE(IsValidUtf8(ToValidUtf8(bad))) << bad;
}

TEST(ValueCodecTest, ListsAndRecordsNest) {
  ExpectRoundTrip(List({}), "[]");
  ExpectRoundTrip(Rec({}), "{}");
  ExpectRoundTrip(List({Value::Int(1), Value::Str("x"), Value::Null()}),
                  R"([1,"x",null])");
  // Keys come out in byte order whatever order they went in.
  Value invoice = Rec({{"number", Value::Str("A-1")},
                       {"amount", Value::Of(Money{250000})},
                       {"date", Value::Of(DateFromCivil(2024, 2, 1))}});
  ExpectRoundTrip(
      invoice,
      R"({"amount":{"fen":250000},"date":{"date":"2024-02-01"},"number":"A-1"})");
  ExpectRoundTrip(Rec({{"invoices", List({invoice, Rec({})})},
                       {"tags", List({List({}), List({Value::Bool(true)})})}}),
                  R"({"invoices":[{"amount":{"fen":250000},"date":{"date":"2024-02-01"},)"
                  R"("number":"A-1"},{}],"tags":[[],[true]]})");
  ExpectRoundTrip(
      Rec({{"Z", Value::Int(1)}, {"a", Value::Int(2)}, {"中", Value::Int(3)}}),
      R"({"Z":1,"a":2,"中":3})");
  ExpectRoundTrip(Rec({{"quote\"key", Value::Int(1)}}), R"({"quote\"key":1})");
}

TEST(ValueCodecTest, RecordsThatLookLikeTaggedScalarsAreWrapped) {
  ExpectRoundTrip(Rec({{"fen", Value::Int(5)}}), R"({"record":{"fen":5}})");
  ExpectRoundTrip(Rec({{"date", Value::Str("2024-03-05")}}),
                  R"({"record":{"date":"2024-03-05"}})");
  ExpectRoundTrip(Rec({{"ts", Value::Int(0)}}), R"({"record":{"ts":0}})");
  ExpectRoundTrip(Rec({{"record", Value::Int(1)}}), R"({"record":{"record":1}})");
  ExpectRoundTrip(Rec({{"record", Rec({{"fen", Value::Int(1)}})}}),
                  R"({"record":{"record":{"record":{"fen":1}}}})");
  ExpectRoundTrip(Rec({{"fen", Value::Of(Money{5})}}), R"({"record":{"fen":{"fen":5}}})");
  // Several keys are never ambiguous: written plainly.
  ExpectRoundTrip(Rec({{"fen", Value::Int(5)}, {"x", Value::Int(1)}}),
                  R"({"fen":5,"x":1})");
  ExpectRoundTrip(Rec({{"record", Rec({})}, {"x", Value::Int(1)}}),
                  R"({"record":{},"x":1})");
  ExpectRoundTrip(Rec({{"date", Value::Int(1)}, {"ts", Value::Int(2)}}),
                  R"({"date":1,"ts":2})");
  // Other one-key records are plain.
  ExpectRoundTrip(Rec({{"fens", Value::Int(5)}}), R"({"fens":5})");
}

// --- adversarial input ------------------------------------------------------

TEST(ValueCodecTest, RejectsNonCanonicalAndMalformedText) {
  const char* bad[] = {
      "",
      " ",
      "null ",
      " null",
      "nul",
      "nulll",
      "True",
      "tru",
      "falsey",
      "01",
      "00",
      "-0",
      "-00",
      "-01",
      "[1,02]",
      "{\"a\":-0}",
      "+1",
      "1.0",
      "1e2",
      "- 1",
      "--1",
      "0x1",
      "9223372036854775808",
      "-9223372036854775809",
      "99999999999999999999999",
      "\"",
      "\"abc",
      "abc",
      "'a'",
      "\"\\n\"",
      "\"\\/\"",
      "\"\\u000A\"",
      "\"\\u0041\"",
      "\"\\u00e9\"",
      "\"\\ud83d\\ude00\"",
      "\"\\u12\"",
      "\"\\x41\"",
      "\"\\\"",
      "\"\t\"",
      "\"\x7f\"",
      "\"\\u0022\"",
      "\"\\u005c\"",
      "\"\\u0000\\u007F\"",
      "\"\x01\"",
      "\"\xff\"",
      "\"\xc0\xaf\"",
      "\"\xed\xa0\x80\"",
      "[",
      "]",
      "[1",
      "[1,]",
      "[,1]",
      "[1 ,2]",
      "[1, 2]",
      "[1;2]",
      "{",
      "}",
      "{\"a\"}",
      "{\"a\":}",
      "{\"a\":1,}",
      "{a:1}",
      "{\"a\" :1}",
      "{\"b\":1,\"a\":2}",
      "{\"a\":1,\"a\":2}",
      "{\"a\":1}x",
      "{} ",
      "[]]",
      R"({"fen":"5"})",
      R"({"fen":1.5})",
      R"({"fen":null})",
      R"({"fen":9223372036854775808})",
      R"({"ts":"0"})",
      R"({"ts":true})",
      R"({"date":20240305})",
      R"({"date":"2024-3-5"})",
      R"({"date":"2023-02-29"})",
      R"({"date":"2024-03-05T00:00:00Z"})",
      R"({"date":"+2024-03-05"})",
      R"({"date":"+02024-03-05"})",
      R"({"date":"-00001-01-01"})",
      R"({"date":"+99999999-01-01"})",
      R"({"date":"+5881580-07-12"})",
      R"({"date":"-"})",
      R"({"date":"+-01-01"})",
      R"({"date":"+1a000-01-01"})",
      R"({"record":{"a":1}})",
      R"({"record":{}})",
      R"({"record":1})",
      R"({"record":{"fen":1,"x":2}})",
      R"({"record":{"fen":1}")",
      R"({"record":{"fen":1}}})",
      R"({"record":{"fen":1},"a":1})",
      "{\"a\":{\"fen\":1,}}",
  };
  for (const char* text : bad) {
    EXPECT_EQ(DecodeValue(text), std::nullopt) << text;
  }
  // Embedded NUL bytes are not whitespace either.
  EXPECT_EQ(DecodeValue(std::string_view("1\0", 2)), std::nullopt);
  EXPECT_EQ(DecodeValue(std::string_view("\"a\0\"", 4)), std::nullopt);
}

// The reader takes only the writer's spelling (DecodeValue has no
// re-encoding check behind it): every one-character string in every
// spelling a JSON reader would allow is accepted exactly when it is the one
// EncodeValue writes.
TEST(ValueCodecTest, EachCharacterIsAcceptedOnlyInTheWritersSpelling) {
  const char* hex = "0123456789abcdef";
  const char* upper = "0123456789ABCDEF";
  for (unsigned c = 0; c < 0x80; ++c) {
    std::string canonical = EncodeValue(Value::Str(std::string(1, static_cast<char>(c))));
    std::string spellings[] = {
        std::string("\"") + static_cast<char>(c) + "\"",
        std::string("\"\\u00") + hex[c >> 4] + hex[c & 15] + "\"",
        std::string("\"\\u00") + upper[c >> 4] + upper[c & 15] + "\"",
        std::string("\"\\") + static_cast<char>(c) + "\"",
    };
    for (const std::string& text : spellings) {
      auto v = DecodeValue(text);
      if (text == canonical) {
        ASSERT_TRUE(v.has_value()) << "char " << c << ": " << text;
        EXPECT_EQ(v->as_string(), std::string(1, static_cast<char>(c)));
      } else {
        EXPECT_FALSE(v.has_value()) << "char " << c << " accepted as " << text;
      }
    }
  }
  // Numbers: only as to_chars writes them.
  for (int n = -12; n <= 12; ++n) {
    std::string canonical = std::to_string(n);
    std::string digits = std::to_string(n < 0 ? -n : n);
    std::string sign = n < 0 ? "-" : "";
    for (const std::string& text :
         {canonical, sign + "0" + digits, sign + "00" + digits}) {
      auto v = DecodeValue(text);
      EXPECT_EQ(v.has_value(), text == canonical) << text;
      if (v) {
        EXPECT_EQ(v->as_int(), n);
      }
    }
  }
  // Dates: the expanded form only outside 0000..9999, padded to four digits.
  EXPECT_TRUE(DecodeValue(R"({"date":"+10000-01-01"})").has_value());
  EXPECT_FALSE(DecodeValue(R"({"date":"+010000-01-01"})").has_value());
  EXPECT_TRUE(DecodeValue(R"({"date":"-0001-01-01"})").has_value());
  EXPECT_FALSE(DecodeValue(R"({"date":"-00001-01-01"})").has_value());
}

TEST(ValueCodecTest, NestingLimit) {
  auto nested_lists = [](int depth) {
    return std::string(depth, '[') + std::string(depth, ']');
  };
  EXPECT_TRUE(DecodeValue(nested_lists(kMaxValueDepth)).has_value());
  EXPECT_FALSE(DecodeValue(nested_lists(kMaxValueDepth + 1)).has_value());
  // Money at the deepest list level does not count as a level of its own.
  std::string money_inside = std::string(kMaxValueDepth, '[') + R"({"fen":1})" +
                             std::string(kMaxValueDepth, ']');
  EXPECT_TRUE(DecodeValue(money_inside).has_value());
  std::string record_inside =
      std::string(kMaxValueDepth, '[') + R"({"a":1})" + std::string(kMaxValueDepth, ']');
  EXPECT_FALSE(DecodeValue(record_inside).has_value());
  // Hostile depth is refused quickly and without exhausting the stack.
  EXPECT_FALSE(DecodeValue(std::string(1'000'000, '[')).has_value());
  std::string objects;
  for (int i = 0; i < 200'000; ++i) objects += "{\"a\":";
  EXPECT_FALSE(DecodeValue(objects).has_value());
  std::string records;
  for (int i = 0; i < 200'000; ++i) records += "{\"record\":";
  EXPECT_FALSE(DecodeValue(records).has_value());
  std::string fens;
  for (int i = 0; i < 200'000; ++i) fens += "{\"fen\":";
  EXPECT_FALSE(DecodeValue(fens).has_value());
}

// --- properties ---------------------------------------------------------------

class RandomValues {
 public:
  explicit RandomValues(uint32_t seed) : rng_(seed) {}

  Value Make(int depth) {
    std::uniform_int_distribution<int> kind(0, depth > 4 ? 7 : 9);
    switch (kind(rng_)) {
      case 0:
        return Value::Null();
      case 1:
        return Value::Bool(rng_() & 1);
      case 2:
        return Value::Int(Int());
      case 3:
        return Value::Of(Money{Int()});
      case 4:
        return Value::Of(Date{static_cast<int32_t>(rng_())});
      case 5:
        return Value::Of(Timestamp{Int()});
      case 6:
      case 7:
        return Value::Str(Text());
      case 8: {
        Value::List l(Small());
        for (auto& v : l) v = Make(depth + 1);
        return Value::Of(std::move(l));
      }
      default: {
        Value::Record r;
        size_t n = Small();
        for (size_t i = 0; i < n; ++i) r[Key()] = Make(depth + 1);
        return Value::Of(std::move(r));
      }
    }
  }

 private:
  int64_t Int() {
    switch (rng_() % 4) {
      case 0:
        return static_cast<int64_t>(rng_() % 200) - 100;
      case 1:
        return rng_() & 1 ? kMax : kMin;
      default:
        return static_cast<int64_t>((uint64_t{rng_()} << 32) | rng_());
    }
  }
  size_t Small() { return rng_() % 4; }
  std::string Key() {
    static const char* kKeys[] = {"fen", "date", "ts", "record", "a", "b", "金额", ""};
    return kKeys[rng_() % 8];
  }
  std::string Text() {
    // Index 4 stands for a NUL byte, which a C string cannot hold.
    static const char* kPieces[] = {"a", "\"", "\\", "\n", "",  "\x7f", "王",
                                    "🎉", "{",  "}",  "[",  ",", ":",    " "};
    std::string s;
    size_t n = rng_() % 6;
    for (size_t i = 0; i < n; ++i) {
      size_t k = rng_() % 14;
      if (k == 4) {
        s.push_back('\0');
      } else {
        s += kPieces[k];
      }
    }
    return s;
  }
  std::mt19937 rng_;
};

TEST(ValueCodecTest, RandomValuesRoundTripExactly) {
  RandomValues gen(20240305);
  for (int i = 0; i < 5000; ++i) {
    Value v = gen.Make(0);
    std::string text = EncodeValue(v);
    auto back = DecodeValue(text);
    ASSERT_TRUE(back.has_value()) << text;
    ASSERT_TRUE(*back == v) << text;
  }
}

TEST(ValueCodecTest, MutatedEncodingsDecodeOnlyToTheirOwnCanonicalText) {
  // Whatever DecodeValue accepts, it accepts only as the canonical text of
  // what it returns: decode(s) = v implies encode(v) == s.
  RandomValues gen(7);
  std::mt19937 rng(11);
  const std::string alphabet = "{}[]\",:0123456789-+.eafnrstuldx\\ \x80\xff";
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = EncodeValue(gen.Make(0));
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      size_t at = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          text.erase(at, 1);
          break;
        default:
          text.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
      }
    }
    auto v = DecodeValue(text);
    if (v) {
      ++accepted;
      ASSERT_EQ(EncodeValue(*v), text);
    }
  }
  EXPECT_GT(accepted, 0);  // the property was exercised on accepted inputs too
}

}  // namespace
}  // namespace approvald
