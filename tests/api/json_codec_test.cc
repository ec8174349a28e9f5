#include "api/json_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

namespace approvald::api {
namespace {

using ::testing::HasSubstr;

FieldDef Field(std::string name, Type t, bool required = false) {
  FieldDef f;
  f.name = std::move(name);
  f.type = std::move(t);
  f.required = required;
  return f;
}

WorkflowDef ExpenseDef() {
  WorkflowDef def;
  def.id = "expense";
  Type text = Type::Of(TypeKind::kText);
  text.max_length = 5;
  Type kind = Type::Of(TypeKind::kEnum);
  kind.options = {"travel", "office"};
  auto invoice_fields = std::make_shared<std::vector<FieldDef>>();
  invoice_fields->push_back(Field("number", Type::Of(TypeKind::kText), true));
  invoice_fields->push_back(Field("amount", Type::Of(TypeKind::kMoney), true));
  Type invoice = Type::Of(TypeKind::kRecord);
  invoice.fields = invoice_fields;
  def.form = {
      Field("amount", Type::Of(TypeKind::kMoney), true),
      Field("title", text, true),
      Field("kind", kind),
      Field("day", Type::Of(TypeKind::kDate)),
      Field("urgent", Type::Of(TypeKind::kBool)),
      Field("count", Type::Of(TypeKind::kInt)),
      Field("approver", Type::Of(TypeKind::kPerson)),
      Field("receipt", Type::Of(TypeKind::kAttachment)),
      Field("invoices", Type::ListOf(invoice)),
  };
  return def;
}

Result<FormData> Decode(std::string_view text, FormMode mode = FormMode::kComplete) {
  auto obj = ParseJsonObject(text);
  EXPECT_TRUE(obj.has_value()) << text;
  return FormFromJson(json::value(*obj), ExpenseDef(), mode);
}

TEST(JsonCodecTest, DecodesEveryFieldType) {
  auto f = Decode(R"({"amount":123450,"title":"差旅费","kind":"travel","day":"2024-03-05",
      "urgent":true,"count":-3,"approver":"li_ming",
      "receipt":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      "invoices":[{"number":"FP-1","amount":100}]})");
  ASSERT_TRUE(f.has_value()) << f.error().message;
  EXPECT_EQ(f->at("amount"), Value::Of(Money{123450}));
  EXPECT_EQ(f->at("title"), Value::Str("差旅费"));
  EXPECT_EQ(f->at("day"), Value::Of(*ParseDate("2024-03-05")));
  EXPECT_EQ(f->at("urgent"), Value::Bool(true));
  EXPECT_EQ(f->at("count"), Value::Int(-3));
  const auto& inv = f->at("invoices").as_list().at(0).as_record();
  EXPECT_EQ(inv.at("amount"), Value::Of(Money{100}));
}

TEST(JsonCodecTest, MoneyMustBeIntegerFen) {
  auto f = Decode(R"({"amount":1234.5,"title":"a"})");
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(f.error().message, HasSubstr("field 'amount'"));
  EXPECT_THAT(f.error().message, HasSubstr("integer number of fen"));
  EXPECT_FALSE(Decode(R"({"amount":"1234","title":"a"})").has_value());
}

TEST(JsonCodecTest, HugeNumbersAreRefused) {
  auto f = Decode(R"({"amount":99999999999999999999999,"title":"a"})");
  ASSERT_FALSE(f.has_value());
  EXPECT_THAT(f.error().message, HasSubstr("field 'amount'"));
  auto g = Decode(R"({"amount":18446744073709551615,"title":"a"})");
  ASSERT_FALSE(g.has_value());
  EXPECT_THAT(g.error().message, HasSubstr("too large"));
}

TEST(JsonCodecTest, UnknownFieldIsNamed) {
  auto f = Decode(R"({"amount":1,"title":"a","colour":"red"})");
  ASSERT_FALSE(f.has_value());
  EXPECT_THAT(f.error().message, HasSubstr("field 'colour': unknown field"));
}

TEST(JsonCodecTest, NestedErrorsNameThePath) {
  auto f = Decode(R"({"amount":1,"title":"a","invoices":[{"number":"x","amount":1},
                      {"number":"y","amount":true}]})");
  ASSERT_FALSE(f.has_value());
  EXPECT_THAT(f.error().message, HasSubstr("field 'invoices[1].amount'"));
  auto g = Decode(R"({"amount":1,"title":"a","invoices":[{"amount":1}]})");
  ASSERT_FALSE(g.has_value());
  EXPECT_THAT(g.error().message, HasSubstr("invoices[0].number': is required"));
}

TEST(JsonCodecTest, RequiredFieldsOnlyForCompleteForms) {
  auto f = Decode(R"({"title":"a"})");
  ASSERT_FALSE(f.has_value());
  EXPECT_THAT(f.error().message, HasSubstr("field 'amount': is required"));
  EXPECT_TRUE(Decode(R"({"title":"a"})", FormMode::kPartial).has_value());
}

TEST(JsonCodecTest, TypeSpecificChecks) {
  EXPECT_THAT(Decode(R"({"amount":1,"title":"toolong"})").error().message,
              HasSubstr("longer than 5 characters"));
  // Five Chinese characters are five characters, not fifteen bytes.
  EXPECT_TRUE(Decode(R"({"amount":1,"title":"差旅费报销"})").has_value());
  EXPECT_THAT(Decode(R"({"amount":1,"title":"a","kind":"food"})").error().message,
              HasSubstr("'food' is not one of: travel, office"));
  EXPECT_THAT(Decode(R"({"amount":1,"title":"a","day":"2024-02-30"})").error().message,
              HasSubstr("not a date"));
  EXPECT_THAT(Decode(R"({"amount":1,"title":"a","receipt":"sha256:xyz"})").error().message,
              HasSubstr("not an attachment address"));
  EXPECT_THAT(Decode(R"({"amount":1,"title":"a","urgent":1})").error().message,
              HasSubstr("expected true or false, got an integer"));
}

TEST(JsonCodecTest, BodyErrorsAreClear) {
  EXPECT_THAT(ParseJsonObject("").error().message, HasSubstr("empty"));
  EXPECT_THAT(ParseJsonObject("{").error().message, HasSubstr("not valid JSON"));
  EXPECT_THAT(ParseJsonObject("[1]").error().message, HasSubstr("must be a JSON object"));
  std::string bad_utf8 = "{\"a\":\"\xff\xfe\"}";
  auto e = ParseJsonObject(bad_utf8);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().reason, "bad_json");
  EXPECT_THAT(e.error().message, HasSubstr("UTF-8"));
  std::string deep = "{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_THAT(ParseJsonObject(deep).error().message, HasSubstr("nested deeper than 32"));
}

TEST(JsonCodecTest, ArgsBecomeUntypedValues) {
  auto obj = ParseJsonObject(R"({"to":"li","people":["a","b"],"n":3})");
  auto args = ArgsFromJson(*obj, "args");
  ASSERT_TRUE(args.has_value());
  EXPECT_EQ(args->at("to"), Value::Str("li"));
  EXPECT_EQ(args->at("people").as_list().size(), 2u);
  EXPECT_EQ(args->at("n"), Value::Int(3));
  auto bad = ArgsFromJson(*ParseJsonObject(R"({"x":1.5})"), "args");
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad.error().message, HasSubstr("field 'args.x'"));
}

TEST(JsonCodecTest, ValuesEncodeMoneyAsFenAndTimesAsIso) {
  Value::Record r;
  r["m"] = Value::Of(Money{12345});
  r["d"] = Value::Of(*ParseDate("2024-03-05"));
  r["t"] = Value::Of(Timestamp{0});
  EXPECT_EQ(ToText(ValueToJson(Value::Of(r))),
            R"({"d":"2024-03-05","m":12345,"t":"1970-01-01T00:00:00.000Z"})");
  json::object o;
  PutTime(o, "at", Timestamp{0});
  EXPECT_EQ(o.at("at").as_string(), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(o.at("at_local").as_string(), "1970-01-01 08:00:00");
}

TEST(JsonCodecTest, PersonsCarryDisplayNames) {
  Org org;
  Person p;
  p.id = PersonId("wang");
  p.name = "王芳";
  p.name_en = "Wang Fang";
  org.people.push_back(p);
  org.Index();
  EXPECT_EQ(ToText(PersonJson(org, PersonId("wang"))),
            R"({"id":"wang","name":"王芳","name_en":"Wang Fang"})");
  EXPECT_EQ(ToText(PersonJson(org, PersonId("ghost"))),
            R"({"id":"ghost","name":"ghost","name_en":"ghost"})");
  EXPECT_TRUE(PersonJson(org, PersonId()).is_null());
}

TEST(JsonCodecTest, EnumFieldsCarryTheirOptionLabels) {
  Type kind = Type::Of(TypeKind::kEnum);
  kind.options = {"travel", "meeting", "other"};
  kind.option_labels = {"差旅费", "", "其他"};  // an empty label: show the id
  kind.option_labels_en = {"Travel"};          // shorter: the rest fall back too
  FieldDef f = Field("category", kind, true);
  f.label = "费用类别";
  json::object o = FieldDefToJson(f);
  EXPECT_EQ(ToText(o.at("options")), R"(["travel","meeting","other"])");
  EXPECT_EQ(ToText(o.at("option_labels")), R"(["差旅费","meeting","其他"])");
  EXPECT_EQ(ToText(o.at("option_labels_en")), R"(["Travel","meeting","other"])");
  // A list of enums carries them on its element.
  Type list = Type::Of(TypeKind::kList);
  list.element = std::make_shared<Type>(kind);
  json::value lt = TypeToJson(list);
  EXPECT_EQ(ToText(lt.at("element").at("option_labels")), R"(["差旅费","meeting","其他"])");
  // Other types have none.
  EXPECT_FALSE(FieldDefToJson(Field("n", Type::Of(TypeKind::kInt))).contains("option_labels"));
}

TEST(JsonCodecTest, HashHexRoundTrips) {
  Hash h{};
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint8_t>(i * 7);
  Hash back{};
  ASSERT_TRUE(ParseHashHex(HashHex(h), &back));
  EXPECT_EQ(h, back);
  EXPECT_FALSE(ParseHashHex("zz", &back));
  EXPECT_EQ(Base64("hello"), "aGVsbG8=");
}

}  // namespace
}  // namespace approvald::api
