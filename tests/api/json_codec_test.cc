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

TEST(JsonCodecTest, BodyParsesIntoTheStorageLent) {
  // A buffer smaller than the body: what does not fit continues upstream.
  unsigned char arena[64];
  json::monotonic_resource mr(arena, sizeof arena);
  std::string comment(3000, 'x');
  auto obj = ParseJsonObject(R"({"action":"approve","comment":")" + comment +
                                 R"(","args":{"to":"li"}})",
                             &mr);
  ASSERT_TRUE(obj.has_value()) << obj.error().ToString();
  EXPECT_EQ(obj->storage().get(), &mr);
  EXPECT_EQ(obj->at("action").as_string(), "approve");
  EXPECT_EQ(obj->at("comment").as_string(), comment);
  EXPECT_EQ(obj->at("args").as_object().at("to").as_string(), "li");
  EXPECT_THAT(ParseJsonObject("[1]", &mr).error().message, HasSubstr("must be a JSON object"));
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

// ---- the instance view written without a tree ----

TEST(JsonCodecTest, JsonStringsAreEscapedAsBoostJsonDoes) {
  std::string every_byte;
  for (int c = 0; c < 256; ++c) every_byte += static_cast<char>(c);
  for (std::string_view s : {std::string_view(""), std::string_view("plain"),
                             std::string_view("计财室 \"q\" \\ /"), std::string_view(every_byte)}) {
    std::string out = "x";
    AppendJsonString(&out, s);
    EXPECT_EQ(out, "x" + json::serialize(json::string(s))) << "input of " << s.size() << " bytes";
  }
}

// A view touching every member the encoder writes: a meeting node with
// receipts, recusals, opinions and votes, an approval node with signers of
// every kind, a node the definition does not know, a form with every value
// type and strings that need escaping.
TEST(JsonCodecTest, InstanceViewWrittenDirectlyEqualsTheSerialisedTree) {
  Org org;
  for (const char* id : {"wang", "li", "zhao", "sec"}) {
    Person p;
    p.id = PersonId(id);
    p.name = std::string("名") + id;
    p.name_en = std::string("Name \"") + id + "\"";
    org.people.push_back(p);
  }
  org.Index();

  WorkflowDef def;
  def.id = "expense";
  def.title = "报销\n审批";
  def.title_en = "Expense\tclaim";
  NodeDef approval;
  approval.id = "head";
  approval.title = "部门负责人";
  approval.title_en = "Head";
  NodeDef meeting;
  meeting.id = "party";
  meeting.title = "党委会";
  meeting.title_en = "Party committee";
  meeting.kind = NodeKind::kMeeting;
  def.nodes = {approval, meeting};
  def.node_index = {{"head", 0}, {"party", 1}};

  InstanceRow row;
  row.id = InstanceId{42};
  row.workflow = "expense";
  row.workflow_version = 3;
  row.status = "running";
  row.submitter = PersonId("wang");
  row.title = "差旅 \x01 \"title\"";
  row.amount = Money{123450};
  row.current_nodes = "head,,party,ghost";
  row.version = 7;
  row.created_at = Timestamp{1700000000123};
  row.updated_at = Timestamp{1700000099456};

  InstanceState st;
  st.id = row.id;
  st.submitter = PersonId("wang");
  st.submitted_by = PersonId("li");
  st.end_node = "";
  Value::Record invoice{{"number", Value::Str("INV\\1")}, {"amount", Value::Of(Money{100})}};
  st.form = {{"amount", Value::Of(Money{123450})},
             {"title", Value::Str("a\r\nb")},
             {"day", Value::Of(Date{19000})},
             {"at", Value::Of(Timestamp{5})},
             {"urgent", Value::Bool(true)},
             {"count", Value::Int(-9223372036854775807LL - 1)},
             {"none", Value::Null()},
             {"invoices", Value::Of(Value::List{Value::Of(invoice), Value::Int(1)})},
             {"empty", Value::Of(Value::Record{})}};
  Token head;
  head.node = "head";
  head.entered_at = Timestamp{1700000000999};
  head.deadline = Timestamp{1700086400000};
  Signer s1;
  s1.person = PersonId("zhao");
  s1.state = SignerState::kDelegated;
  s1.delegate = PersonId("li");
  s1.added_by = PersonId("ghost");
  s1.added_how = "before";
  s1.comment = "同意 \"ok\"";
  Signer s2;
  s2.person = PersonId("li");
  s2.acted_by = PersonId("sec");
  head.signers = {s1, s2};
  st.active["head"] = head;
  Token party;
  party.node = "party";
  party.entered_at = Timestamp{1};
  MeetingState& m = party.meeting.Mutable();
  m.members = {PersonId("wang"), PersonId("li"), PersonId("zhao")};
  m.head = PersonId("zhao");
  m.secretaries = {PersonId("sec")};
  m.distributed = true;
  m.distributed_at = Timestamp{2};
  m.receipts = {PersonId("li")};
  m.present = {PersonId("li"), PersonId("zhao")};
  m.recused = {{"wang", "利害\"关系"}};
  m.opened = true;
  m.opened_at = Timestamp{3};
  m.opinions = {{PersonId("li"), "agree"}, {PersonId("ghost"), "?"}};
  m.votes = {{PersonId("zhao"), "for"}};
  party.results = {{"passed", Value::Bool(true)}, {"for", Value::Int(2)}};
  st.active["party"] = party;
  Token ghost;
  ghost.node = "ghost";
  st.active["ghost"] = ghost;
  st.completed = {"draft", "check"};
  st.cc = {PersonId("sec"), PersonId("nobody")};
  std::vector<AvailableAction> actions = {{"approve", "head"}, {"withdraw", ""}};

  json::object names;
  names["abc"] = "发票.pdf";
  names["def"] = "x\"y";
  const WorkflowDef* defs[] = {&def, nullptr};
  for (const WorkflowDef* d : defs) {
    for (bool replayed : {false, true}) {
      const json::object* attachment_sets[] = {&names, nullptr};
      for (const json::object* attachments : attachment_sets) {
        json::object empty;
        const json::object& a = attachments ? *attachments : empty;
        InstanceViewRef v{row, st, d, actions, replayed};
        json::object tree = InstanceViewJson(v, org);
        tree["attachment_names"] = a;
        std::string direct;
        AppendInstanceViewJson(&direct, v, org, a);
        EXPECT_EQ(direct, json::serialize(tree))
            << "def=" << (d != nullptr) << " replayed=" << replayed;
        EXPECT_TRUE(json::parse(direct).is_object());
      }
    }
  }
  // An instance with nothing active, no cc, no actions.
  InstanceState done;
  InstanceRow done_row;
  std::vector<AvailableAction> none;
  InstanceViewRef v{done_row, done, &def, none, false};
  json::object tree = InstanceViewJson(v, org);
  tree["attachment_names"] = json::object();
  std::string direct;
  AppendInstanceViewJson(&direct, v, org, json::object());
  EXPECT_EQ(direct, json::serialize(tree));

  // Strings and keys are escaped eight bytes at a time where they can be:
  // every byte that needs escaping, at every offset of strings up to 40
  // bytes long, beside UTF-8 and bytes just around the escaped ones, is
  // written as json::serialize writes it; and so is a view far larger than
  // the room the writer starts with.
  const std::string specials[] = {
      "\"", "\\", "\n", "\x01", "\x1f", std::string(1, '\0'), "\x7f",
      " ",  "!",  "#",  "[",    "]",    "\xe5\xae\xa1"};
  for (const std::string& special : specials) {
    for (size_t len = 0; len <= 40; ++len) {
      for (size_t at = 0; at <= len; ++at) {
        std::string text(len, 'a');
        for (size_t i = 0; i < len; i += 5)
          text[i] = static_cast<char>(0xe5);  // lead bytes
        text.insert(at, special);
        InstanceState one;
        one.form = {{text, Value::Str(text)}};
        InstanceRow one_row;
        one_row.title = text;
        InstanceViewRef ref{one_row, one, &def, none, false};
        json::object expect = InstanceViewJson(ref, org);
        expect["attachment_names"] = json::object();
        std::string got;
        AppendInstanceViewJson(&got, ref, org, json::object());
        ASSERT_EQ(got, json::serialize(expect)) << "len=" << len << " at=" << at;
      }
    }
  }
  InstanceState big;
  for (int i = 0; i < 200; ++i) {
    big.form.Mutable()["field_" + std::to_string(i)] = Value::Str(std::string(100, 'x') + "\"\n");
  }
  InstanceRow big_row;
  InstanceViewRef big_ref{big_row, big, &def, none, false};
  json::object big_tree = InstanceViewJson(big_ref, org);
  big_tree["attachment_names"] = json::object();
  std::string big_text;
  AppendInstanceViewJson(&big_text, big_ref, org, json::object());
  EXPECT_EQ(big_text, json::serialize(big_tree));
  EXPECT_GT(big_text.size(), 20000u);
}

}  // namespace
}  // namespace approvald::api
