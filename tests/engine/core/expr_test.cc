// Tests for the guard/assignee expression language (core/expr.h): parsing
// and precedence, every compile error with its offset, every function and
// attribute, evaluation including null and run-time faults, and the header's
// examples.
#include "core/expr.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "sample_org.h"

namespace approvald::expr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

FieldDef Field(std::string name, Type type, bool required = false) {
  FieldDef f;
  f.name = std::move(name);
  f.type = std::move(type);
  f.required = required;
  return f;
}

Type Enum(std::vector<std::string> options) {
  Type t = Type::Of(TypeKind::kEnum);
  t.options = std::move(options);
  return t;
}

Type Record(std::vector<FieldDef> fields) {
  Type t = Type::Of(TypeKind::kRecord);
  t.fields = std::make_shared<const std::vector<FieldDef>>(std::move(fields));
  return t;
}

Type InvoiceType() {
  return Record({Field("amount", Type::Of(TypeKind::kMoney)),
                 Field("date", Type::Of(TypeKind::kDate)),
                 Field("number", Type::Of(TypeKind::kText))});
}

std::vector<FieldDef> TestForm() {
  return {
      Field("amount", Type::Of(TypeKind::kMoney), true),
      Field("count", Type::Of(TypeKind::kInt)),
      Field("category", Enum({"travel", "meals", "training"})),
      Field("kinds", Type::ListOf(Enum({"a", "b"}))),
      Field("note", Type::Of(TypeKind::kText)),
      Field("payee", Type::Of(TypeKind::kPerson)),
      Field("dept", Type::Of(TypeKind::kDept)),
      Field("invoice_date", Type::Of(TypeKind::kDate)),
      Field("due", Type::Of(TypeKind::kDateTime)),
      Field("urgent", Type::Of(TypeKind::kBool)),
      Field("invoices", Type::ListOf(InvoiceType())),
      Field("tags", Type::ListOf(Type::Of(TypeKind::kText))),
      Field("approvers", Type::ListOf(Type::Of(TypeKind::kPerson))),
      Field("refs", Type::ListOf(Type::Of(TypeKind::kInt))),
      Field("address", Record({Field("city", Type::Of(TypeKind::kText))})),
  };
}

Value Invoice(const char* number, int64_t fen, Date date) {
  return Value::Of(Value::Record{{"amount", Value::Of(Money{fen})},
                                 {"date", Value::Of(date)},
                                 {"number", Value::Str(number)}});
}

class ExprTest : public ::testing::Test {
 protected:
  ExprTest() : form_(TestForm()), org_(testing::SampleOrg()) {
    data_["amount"] = Value::Of(Money{600000});  // 6000.00 yuan
    data_["count"] = Value::Int(3);
    data_["category"] = Value::Str("travel");
    data_["note"] = Value::Str("差旅费");
    data_["payee"] = Value::Str("ma");
    data_["dept"] = Value::Str("garden");
    data_["invoice_date"] = Value::Of(DateFromCivil(2024, 3, 1));
    data_["invoices"] =
        Value::Of(Value::List{Invoice("A1", 250000, DateFromCivil(2024, 2, 1)),
                              Invoice("A2", 350000, DateFromCivil(2024, 2, 3))});
    data_["tags"] = Value::Of(Value::List{Value::Str("x"), Value::Str("y")});
    data_["refs"] = Value::Of(Value::List{Value::Int(1), Value::Int(2)});
  }

  TypeEnv Env(bool with_org = true) const {
    return TypeEnv{&form_, with_org ? &org_ : nullptr};
  }

  EvalEnv Eval() const {
    EvalEnv env;
    env.form = &data_;
    env.org = &org_;
    env.submitter = PersonId("liu");
    env.actor = PersonId("wang");
    // 2024-03-04T16:30:00Z = 2024-03-05 00:30 in Shanghai.
    env.now = *ParseTimestamp("2024-03-04T16:30:00Z");
    return env;
  }

  Expr MustCompile(std::string_view src) {
    auto e = Compile(src, Env());
    EXPECT_TRUE(e.has_value()) << src << ": " << e.error().offset << ": "
                               << e.error().message;
    return e.value_or(Expr{});
  }

  Value Run(std::string_view src) {
    Expr e = MustCompile(src);
    if (!e.valid()) return Value::Str("<compile error>");
    auto v = Evaluate(e, Eval());
    EXPECT_TRUE(v.has_value()) << src << ": " << v.error().ToString();
    return v.value_or(Value::Str("<eval error>"));
  }

  bool True(std::string_view src) {
    Value v = Run(src);
    EXPECT_TRUE(v.is_bool()) << src << " gave " << EncodeValue(v);
    return v.is_bool() && v.as_bool();
  }

  // Compiles `src`, expecting a failure at `offset` whose message contains
  // `needle`.
  void ExpectCompileError(std::string_view src, size_t offset, std::string_view needle,
                          bool with_org = true) {
    auto e = Compile(src, Env(with_org));
    ASSERT_FALSE(e.has_value()) << src << " compiled to " << e->type.ToString();
    EXPECT_EQ(e.error().offset, offset) << src << ": " << e.error().message;
    EXPECT_THAT(e.error().message, HasSubstr(std::string(needle))) << src;
  }

  Error EvalFailure(std::string_view src) {
    Expr e = MustCompile(src);
    auto v = Evaluate(e, Eval());
    EXPECT_FALSE(v.has_value()) << src << " gave " << EncodeValue(*v);
    return v ? Error{} : v.error();
  }

  std::vector<FieldDef> form_;
  Org org_;
  FormData data_;
};

// --- parsing and precedence -------------------------------------------------

TEST_F(ExprTest, ArithmeticPrecedenceAndAssociativity) {
  EXPECT_EQ(Run("1 + 2 * 3"), Value::Int(7));
  EXPECT_EQ(Run("(1 + 2) * 3"), Value::Int(9));
  EXPECT_EQ(Run("10 - 2 - 3"), Value::Int(5));
  EXPECT_EQ(Run("100 / 10 / 5"), Value::Int(2));
  EXPECT_EQ(Run("7 % 4 * 2"), Value::Int(6));
  EXPECT_EQ(Run("-2 * 3"), Value::Int(-6));
  EXPECT_EQ(Run("- -2"), Value::Int(2));
  EXPECT_EQ(Run("2 - -2"), Value::Int(4));
  EXPECT_EQ(Run("-(1 + 2)"), Value::Int(-3));
}

TEST_F(ExprTest, LogicalPrecedence) {
  EXPECT_TRUE(True("true || false && false"));  // && binds tighter
  EXPECT_FALSE(True("!true && false"));         // ! binds tighter than &&
  EXPECT_TRUE(True("!(true && false)"));
  EXPECT_TRUE(True("!!true"));
  EXPECT_TRUE(True("1 + 2 in [3]"));  // + binds tighter than in
  EXPECT_TRUE(True("1 < 2 && 2 < 3"));
  EXPECT_TRUE(True("!1 == 2"));  // ! applies to the comparison
}

TEST_F(ExprTest, WhitespaceAndBothQuoteStyles) {
  EXPECT_TRUE(True("\tform.category\n==\r'travel' "));
  EXPECT_EQ(Run("'it\\'s'"), Value::Str("it's"));
  EXPECT_EQ(Run("\"say \\\"hi\\\"\\n\\t\\\\\""), Value::Str("say \"hi\"\n\t\\"));
  EXPECT_EQ(Run("'双引号\"inside'"), Value::Str("双引号\"inside"));
}

TEST_F(ExprTest, LiteralsAndStaticTypes) {
  EXPECT_EQ(MustCompile("42").type, Type::Of(TypeKind::kInt));
  EXPECT_EQ(MustCompile("'x'").type, Type::Of(TypeKind::kText));
  EXPECT_EQ(MustCompile("true").type, Type::Of(TypeKind::kBool));
  EXPECT_EQ(MustCompile("null").type, Type::Of(TypeKind::kNull));
  EXPECT_EQ(MustCompile("[1, 2]").type, Type::ListOf(Type::Of(TypeKind::kInt)));
  EXPECT_EQ(MustCompile("[]").type, Type::ListOf(Type::Of(TypeKind::kNull)));
  EXPECT_EQ(MustCompile("form.invoices.amount").type,
            Type::ListOf(Type::Of(TypeKind::kMoney)));
  EXPECT_EQ(MustCompile("yuan(5)").type, Type::Of(TypeKind::kMoney));
  EXPECT_EQ(MustCompile("group('leadership')").type,
            Type::ListOf(Type::Of(TypeKind::kPerson)));
  EXPECT_EQ(MustCompile("submitter.dept").type, Type::Of(TypeKind::kDept));
  EXPECT_EQ(MustCompile("now").type, Type::Of(TypeKind::kDateTime));
  EXPECT_EQ(MustCompile("today").type, Type::Of(TypeKind::kDate));
  EXPECT_EQ(MustCompile("form.category").type, Enum({"travel", "meals", "training"}));
  EXPECT_EQ(MustCompile("['travel', form.category]").type,
            Type::ListOf(Enum({"travel", "meals", "training"})));
  Expr e = MustCompile("form.count > 1");
  EXPECT_EQ(e.source, "form.count > 1");
  EXPECT_TRUE(e.valid());
}

TEST_F(ExprTest, MaxInt64LiteralAndItsNegation) {
  EXPECT_EQ(Run("9223372036854775807"), Value::Int(INT64_MAX));
  EXPECT_EQ(Run("-9223372036854775807 - 1"), Value::Int(INT64_MIN));
}

// --- compile errors, each with its offset -----------------------------------

TEST_F(ExprTest, UnknownFieldNamesItAndSuggestsCloseMatches) {
  ExpectCompileError("form.amout > yuan(1)", 5, "'amout'");
  ExpectCompileError("form.amout > yuan(1)", 5, "did you mean 'amount'");
  ExpectCompileError("form.zzzzzzzz", 5, "fields: 'amount', 'count'");
  ExpectCompileError("form.invoices.numbr", 14, "did you mean 'number'");
  ExpectCompileError("form.address.cty", 13, "did you mean 'city'");
}

TEST_F(ExprTest, MoneyComparedWithIntSuggestsYuanOrFen) {
  ExpectCompileError("form.amount > 5000", 14, "yuan(5000)");
  ExpectCompileError("form.amount > 5000", 14, "fen(5000)");
  ExpectCompileError("5000 <= form.amount", 0, "yuan(5000)");
  ExpectCompileError("form.amount == form.count", 15, "yuan(N)");
  ExpectCompileError("form.amount + 1 > yuan(1)", 14, "yuan(1)");
  ExpectCompileError("form.amount in [1, 2]", 16, "money and int");
  ExpectCompileError("1 in form.invoices.amount", 0, "money and int");
}

TEST_F(ExprTest, EnumLiteralMustBeAnOption) {
  ExpectCompileError("form.category == \"travl\"", 17, "not an option");
  ExpectCompileError("form.category == \"travl\"", 17, "did you mean 'travel'");
  ExpectCompileError("'meal' != form.category", 0, "'meal' is not an option");
  ExpectCompileError("form.category in ['travel', 'food']", 28, "'food'");
  ExpectCompileError("'c' in form.kinds", 0, "'c' is not an option of enum{a,b}");
  ExpectCompileError("['travel', form.category, 'x']", 26, "'x' is not an option");
  // An enum and a text value are different types.
  ExpectCompileError("form.category == form.note", 14,
                     "enum{travel,meals,training} and text");
}

TEST_F(ExprTest, PersonOrDeptComparedWithTextSuggestsConstructor) {
  ExpectCompileError("submitter == \"chen\"", 13, "person(\"chen\")");
  ExpectCompileError("'office' == submitter.dept", 0, "dept(\"office\")");
  ExpectCompileError("head_of('office')", 8, "dept(\"office\")");
  ExpectCompileError("has_position('chen', 'deputy')", 13, "person(\"chen\")");
}

TEST_F(ExprTest, OrderingErrors) {
  ExpectCompileError("form.category < 'travel'", 0, "has no order");
  ExpectCompileError("submitter > actor", 0, "person has no order");
  ExpectCompileError("true < false", 0, "bool has no order");
  ExpectCompileError("form.amount > null", 14, "null has no order");
  ExpectCompileError("form.invoice_date < now", 18, "cannot use < on date and datetime");
  ExpectCompileError("1 < 2 < 3", 6, "cannot be chained");
  ExpectCompileError("1 == 1 in [true]", 7, "cannot be chained");
}

TEST_F(ExprTest, BooleanOperatorsNeedBool) {
  ExpectCompileError("form.amount && true", 0,
                     "&& needs a bool operand, but this is money");
  ExpectCompileError("true || form.count", 8, "|| needs a bool operand");
  ExpectCompileError("!form.note", 1, "! needs a bool operand");
  ExpectCompileError("true && null", 8, "&& needs a bool operand, but this is null");
}

TEST_F(ExprTest, MembershipNeedsAList) {
  ExpectCompileError("1 in 2", 5, "must be a list, but it is int");
  ExpectCompileError("'x' in form.note", 7, "must be a list");
  ExpectCompileError("1 in form.tags", 2, "cannot use in on int and text");
}

TEST_F(ExprTest, ArithmeticTypeErrors) {
  ExpectCompileError("form.amount * form.amount", 12, "cannot multiply money by money");
  ExpectCompileError("form.count / form.amount", 13, "cannot divide by money");
  ExpectCompileError("form.amount % 2", 12, "% needs int operands");
  ExpectCompileError("form.note + 'x'", 10, "arithmetic works on int and money only");
  ExpectCompileError("null + 1", 0, "null cannot be used in arithmetic");
  ExpectCompileError("-form.note", 1, "unary - needs int or money");
  ExpectCompileError("-true", 1, "unary - needs int or money");
}

TEST_F(ExprTest, ListLiteralElementsMustAgree) {
  ExpectCompileError("[1, 'a']", 4,
                     "list elements must all have the same type, got int and text");
  ExpectCompileError("[yuan(1), 2]", 10,
                     "cannot mix money and int in a list; write yuan(2)");
  ExpectCompileError("[submitter, 'chen']", 12, "write person(\"chen\")");
}

TEST_F(ExprTest, ListLiteralsAdaptToEnumListsElementByElement) {
  EXPECT_FALSE(True("form.kinds == []"));  // absent list is null, not []
  data_["kinds"] = Value::Of(Value::List{Value::Str("a")});
  EXPECT_TRUE(True("form.kinds == ['a']"));
  EXPECT_TRUE(True("['b', 'a'] != form.kinds"));
  ExpectCompileError("form.kinds == ['a', 'z']", 20, "'z' is not an option of enum{a,b}");
  ExpectCompileError("form.kinds == [1]", 11, "cannot use == on enum{a,b} and int");
}

TEST_F(ExprTest, NamesAndCalls) {
  ExpectCompileError("amount > 1", 0,
                     "unknown name 'amount'; form fields are written form.amount");
  ExpectCompileError("submiter", 0, "did you mean 'submitter'");
  ExpectCompileError("foo(1)", 0, "unknown function 'foo'");
  ExpectCompileError("lenn(form.tags)", 0, "did you mean 'len'");
  ExpectCompileError("actor.in_grup('leadership')", 6, "unknown function 'in_grup'");
  ExpectCompileError("len", 3, "len is a function; call it as len(list | text)");
  ExpectCompileError("len()", 0, "len takes 1 argument, got 0");
  ExpectCompileError("days_between(today)", 0, "takes 2 arguments, got 1");
  ExpectCompileError("purchasing_dept(1)", 0, "takes 0 arguments, got 1");
  ExpectCompileError("(form.tags)(1)", 11, "only named functions can be called");
  ExpectCompileError("form", 4, "form must be followed by .field");
  ExpectCompileError("form.1", 5, "expected a field name");
  ExpectCompileError("in", 0, "'in' needs a value on its left");
  ExpectCompileError("len(null)", 4, "null is not a valid argument");
}

TEST_F(ExprTest, AttributeErrors) {
  ExpectCompileError("submitter.name", 10, "person has no attribute 'name'");
  ExpectCompileError("submitter.dept.heed", 15, "did you mean 'head'");
  ExpectCompileError("form.count.x", 11, "int has no attribute 'x'");
  ExpectCompileError("form.tags.x", 10, "only lists of records can be projected");
  ExpectCompileError("submitter.", 10, "expected an attribute name");
}

TEST_F(ExprTest, FunctionArgumentTypeErrors) {
  ExpectCompileError("head_of(submitter)", 8, "head_of expects dept here, got person");
  ExpectCompileError("supervisor_of(1)", 14, "supervisor_of expects dept");
  ExpectCompileError("members_of(form.note)", 11, "members_of expects dept");
  ExpectCompileError("in_group(form.dept, 'leadership')", 9, "expects person");
  ExpectCompileError("yuan(form.note)", 5, "yuan expects int, got text");
  ExpectCompileError("fen('12')", 4, "fen expects int, got text");
  ExpectCompileError("len(1)", 4, "len expects a list or text, got int");
  ExpectCompileError("sum(form.tags)", 4,
                     "sum expects list<int> or list<money>, got list<text>");
  ExpectCompileError("sum([])", 4, "got list<null>");
  ExpectCompileError("date(1)", 5, "date expects text");
  ExpectCompileError("days_between(today, now)", 20, "expects date here, got datetime");
  ExpectCompileError("distinct(form.note)", 9, "distinct expects a list");
}

TEST_F(ExprTest, IdArgumentsMustBeLiterals) {
  ExpectCompileError("dept(form.note)", 5,
                     "dept takes the department id as a quoted literal");
  ExpectCompileError("person(form.note)", 7, "quoted literal");
  ExpectCompileError("group(form.note)", 6, "quoted literal");
  ExpectCompileError("holders(form.note)", 8, "quoted literal");
  ExpectCompileError("has_position(actor, form.note)", 20, "quoted literal");
  ExpectCompileError("in_group(actor, form.note)", 16, "quoted literal");
}

TEST_F(ExprTest, LiteralIdsAreCheckedAgainstTheOrg) {
  ExpectCompileError("dept(\"finanse\")", 5,
                     "no department 'finanse'; did you mean 'finance'");
  ExpectCompileError("person('chn')", 7, "no person 'chn'; did you mean 'chen'");
  ExpectCompileError("group('leaders')", 6,
                     "no group 'leaders'; did you mean 'leadership'");
  ExpectCompileError("holders('cashir')", 8,
                     "no position 'cashir'; did you mean 'cashier'");
  ExpectCompileError("has_position(actor, 'depty')", 20, "did you mean 'deputy'");
  ExpectCompileError("in_group(actor, 'boss')", 16,
                     "no group 'boss'; groups: 'leadership'");
  // Without an organisation the same text compiles; the ids are checked
  // when evaluated.
  EXPECT_TRUE(Compile("dept('finanse')", Env(false)).has_value());
}

TEST_F(ExprTest, PurchasingDeptNeedsOneInTheOrg) {
  org_.departments[0].purchasing = false;
  ExpectCompileError("purchasing_dept()", 0, "no purchasing department");
}

TEST_F(ExprTest, BadLiterals) {
  ExpectCompileError("yuan('1.234')", 5, "not an amount in yuan");
  ExpectCompileError("yuan('abc')", 5, "not an amount in yuan");
  ExpectCompileError("yuan(92233720368547759)", 5, "too large");
  ExpectCompileError("date('2024-02-30')", 5, "not a date");
  ExpectCompileError("form.amount > 12.5", 14, "decimal numbers are not supported");
  ExpectCompileError("99999999999999999999", 0, "too large");
  ExpectCompileError("12abc", 2, "right after the number");
}

TEST_F(ExprTest, LexicalErrors) {
  ExpectCompileError("'abc", 0, "string is not closed");
  ExpectCompileError("form.note == \"abc", 13, "string is not closed");
  ExpectCompileError("'a\\qb'", 2, "unknown escape \\q");
  ExpectCompileError("form.count = 1", 11, "compare with ==");
  ExpectCompileError("true & false", 5, "use &&");
  ExpectCompileError("true | false", 5, "use ||");
  ExpectCompileError("1 # 2", 2, "unexpected character '#'");
  ExpectCompileError("金额 > 1", 0, "non-ASCII");
  ExpectCompileError("'\xff'", 0, "not valid UTF-8");
}

TEST_F(ExprTest, SyntaxErrors) {
  ExpectCompileError("", 0, "ends too early");
  ExpectCompileError("1 +", 3, "ends too early");
  ExpectCompileError("true false", 5, "unexpected 'false' after the end");
  ExpectCompileError("(1 + 2", 6, "expected ')'");
  ExpectCompileError("[1, 2", 5, "expected ',' or ']'");
  ExpectCompileError("len(form.tags", 13, "expected ',' or ')'");
  ExpectCompileError("1 + * 2", 4, "expected a value, found '*'");
  ExpectCompileError("true == !false", 8, "expected a value, found '!'");
  ExpectCompileError(")", 0, "expected a value");
}

TEST_F(ExprTest, NoFormMeansNoFields) {
  TypeEnv env;
  auto e = Compile("form.amount", env);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().offset, 0u);
  EXPECT_THAT(e.error().message, HasSubstr("no form"));
  EXPECT_TRUE(Compile("submitter", env).has_value());
}

// --- depth limits: hostile input ---------------------------------------------

TEST_F(ExprTest, DeepNestingIsRefusedNotACrash) {
  const std::string deep_parens = std::string(30000, '(') + "1" + std::string(30000, ')');
  auto e = Compile(deep_parens, Env());
  ASSERT_FALSE(e.has_value());
  EXPECT_THAT(e.error().message, HasSubstr("nested too deeply"));
  EXPECT_LE(e.error().offset, 70u);

  for (const std::string& src :
       {std::string(60000, '!') + "true", std::string(60000, '-') + "1",
        std::string(30000, '[') + std::string(30000, ']'),
        "len(" + std::string(30000, '[') + std::string(30000, ']') + ")"}) {
    auto r = Compile(src, Env());
    ASSERT_FALSE(r.has_value());
    EXPECT_THAT(r.error().message, HasSubstr("nested too deeply"));
  }
  // A long left-leaning chain makes a tall tree without parser recursion.
  std::string chain = "1";
  for (int i = 0; i < 30000; ++i) chain += "+1";
  auto r = Compile(chain, Env());
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("nested too deeply"));
  std::string attrs = "submitter";
  for (int i = 0; i < 6000; ++i) attrs += ".dept.head";
  r = Compile(attrs, Env());
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("nested too deeply"));
}

TEST_F(ExprTest, OverlongSourceIsRefused) {
  std::string long_list = "form.count in [0";
  while (long_list.size() <= 64 * 1024) long_list += ", 1";
  ExpectCompileError(long_list + "]", 64 * 1024, "longer than 65536 bytes");
}

TEST_F(ExprTest, ReasonableNestingAndLongFlatChainsCompile) {
  EXPECT_EQ(Run(std::string(30, '(') + "1" + std::string(30, ')')), Value::Int(1));
  // && and || are n-ary, so long guards stay flat.
  std::string ors = "form.count == 0";
  for (int i = 1; i < 500; ++i) ors += " || form.count == " + std::to_string(i);
  EXPECT_TRUE(True(ors));
  std::string list = "form.count in [0";
  for (int i = 1; i < 5000; ++i) list += ", " + std::to_string(i);
  EXPECT_TRUE(True(list + "]"));
}

// --- evaluation ---------------------------------------------------------------

TEST_F(ExprTest, FieldsAndRoots) {
  EXPECT_EQ(Run("form.amount"), Value::Of(Money{600000}));
  EXPECT_EQ(Run("form.category"), Value::Str("travel"));
  EXPECT_EQ(Run("submitter"), Value::Str("liu"));
  EXPECT_EQ(Run("actor"), Value::Str("wang"));
  EXPECT_EQ(Run("now"), Value::Of(*ParseTimestamp("2024-03-05T00:30:00+08:00")));
  // today is the Shanghai calendar day: already 5 March there.
  EXPECT_EQ(Run("today"), Value::Of(DateFromCivil(2024, 3, 5)));
  EXPECT_TRUE(True("today == date('2024-03-05')"));
}

// An expression tells until when what it read from the clock stays the
// same: `now` changes at once, `today` at the next Shanghai midnight, and one
// that reads neither leaves valid_until alone.
TEST_F(ExprTest, ReadingTheClockLowersValidUntil) {
  auto valid_until = [&](std::string_view src) {
    Expr e = MustCompile(src);
    EvalEnv env = Eval();
    Timestamp until{INT64_MAX};
    env.valid_until = &until;
    EXPECT_TRUE(Evaluate(e, env).has_value()) << src;
    return until;
  };
  const Timestamp now = Eval().now;
  EXPECT_EQ(valid_until("form.amount > yuan(1)"), Timestamp{INT64_MAX});
  EXPECT_EQ(valid_until("now > now"), now);
  // 2024-03-05 in Shanghai ends at 2024-03-06 00:00 there.
  EXPECT_EQ(valid_until("today == date('2024-03-05')"),
            *ParseTimestamp("2024-03-06T00:00:00+08:00"));
  EXPECT_EQ(valid_until("today == date('2024-03-05') && now > now"), now);
  // What is not evaluated is not read: `||` stops at its true left side.
  EXPECT_EQ(valid_until("today == date('2024-03-05') || now > now"),
            *ParseTimestamp("2024-03-06T00:00:00+08:00"));
  // A time already lower stays.
  Expr e = MustCompile("today == date('2024-03-05')");
  EvalEnv env = Eval();
  Timestamp until = now;
  env.valid_until = &until;
  ASSERT_TRUE(Evaluate(e, env).has_value());
  EXPECT_EQ(until, now);
}

TEST_F(ExprTest, Comparisons) {
  EXPECT_TRUE(True("form.amount > yuan(5000)"));
  EXPECT_FALSE(True("form.amount > yuan(6000)"));
  EXPECT_TRUE(True("form.amount >= yuan(6000)"));
  EXPECT_TRUE(True("form.amount == yuan('6000.00')"));
  EXPECT_TRUE(True("form.amount != fen(1)"));
  EXPECT_TRUE(True("form.amount <= fen(600000)"));
  EXPECT_TRUE(True("form.count < 4"));
  EXPECT_TRUE(True("form.invoice_date < date('2024-03-02')"));
  EXPECT_TRUE(True("'abc' < 'abd' && 'ab' < 'abc' && 'Z' < 'a'"));  // byte order
  EXPECT_TRUE(True("form.note == '差旅费'"));
  EXPECT_TRUE(True("form.category == 'travel' && form.category != 'meals'"));
  EXPECT_TRUE(True("form.payee == person('ma')"));
  EXPECT_TRUE(True("form.dept == dept('garden')"));
  EXPECT_TRUE(True("true == (!false)"));
  EXPECT_TRUE(True("form.tags == ['x', 'y']"));
  EXPECT_TRUE(True("form.invoices.number == ['A1', 'A2']"));
}

TEST_F(ExprTest, DateTimeComparison) {
  data_["due"] = Value::Of(*ParseTimestamp("2024-03-05T00:00:00+08:00"));
  EXPECT_TRUE(True("now > form.due"));
  data_["due"] = Value::Of(*ParseTimestamp("2024-03-05T01:00:00+08:00"));
  EXPECT_FALSE(True("now > form.due"));
}

TEST_F(ExprTest, Membership) {
  EXPECT_TRUE(True("form.category in ['travel', 'training']"));
  EXPECT_FALSE(True("form.category in ['meals']"));
  EXPECT_TRUE(True("'y' in form.tags"));
  EXPECT_FALSE(True("'z' in form.tags"));
  EXPECT_TRUE(True("yuan(2500) in form.invoices.amount"));
  EXPECT_TRUE(True("actor in [person('wang'), person('li')]"));
  EXPECT_TRUE(True("person('chen') in group('leadership')"));
  EXPECT_FALSE(True("submitter in group('leadership')"));
  EXPECT_FALSE(True("1 in []"));
}

TEST_F(ExprTest, IntArithmetic) {
  EXPECT_EQ(Run("form.count * 4 - 2"), Value::Int(10));
  EXPECT_EQ(Run("7 / 2"), Value::Int(3));
  EXPECT_EQ(Run("-7 / 2"), Value::Int(-3));  // toward zero
  EXPECT_EQ(Run("7 % 3"), Value::Int(1));
  EXPECT_EQ(Run("-7 % 3"), Value::Int(-1));
}

TEST_F(ExprTest, MoneyArithmetic) {
  EXPECT_EQ(Run("form.amount + yuan(1)"), Value::Of(Money{600100}));
  EXPECT_EQ(Run("form.amount - yuan('0.01')"), Value::Of(Money{599999}));
  EXPECT_EQ(Run("form.amount * 2"), Value::Of(Money{1200000}));
  EXPECT_EQ(Run("3 * form.amount"), Value::Of(Money{1800000}));
  EXPECT_EQ(Run("fen(1001) / 2"), Value::Of(Money{500}));
  EXPECT_EQ(Run("fen(-1001) / 2"), Value::Of(Money{-500}));  // toward zero
  EXPECT_EQ(Run("-form.amount"), Value::Of(Money{-600000}));
  EXPECT_EQ(Run("yuan(form.count)"), Value::Of(Money{300}));
  EXPECT_EQ(Run("fen(form.count)"), Value::Of(Money{3}));
  EXPECT_EQ(Run("yuan(-5)"), Value::Of(Money{-500}));
  EXPECT_EQ(Run("yuan('-12.5')"), Value::Of(Money{-1250}));
}

TEST_F(ExprTest, ArithmeticOverflowAndDivisionByZeroAreRunTimeErrors) {
  data_["count"] = Value::Int(0);
  Error e = EvalFailure("10 / form.count");
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.reason, "expr_eval");
  EXPECT_THAT(e.message, HasSubstr("division by zero (at offset 3)"));
  EXPECT_THAT(EvalFailure("10 % form.count").message, HasSubstr("division by zero"));
  EXPECT_THAT(EvalFailure("form.amount / form.count").message,
              HasSubstr("division by zero"));
  EXPECT_THAT(EvalFailure("9223372036854775807 + 1").message,
              HasSubstr("integer overflow in +"));
  EXPECT_THAT(EvalFailure("-9223372036854775807 - 2").message,
              HasSubstr("integer overflow in -"));
  EXPECT_THAT(EvalFailure("4611686018427387904 * 2").message,
              HasSubstr("integer overflow in *"));
  EXPECT_THAT(EvalFailure("(-9223372036854775807 - 1) / -1").message,
              HasSubstr("integer overflow in /"));
  EXPECT_EQ(Run("(-9223372036854775807 - 1) % -1"), Value::Int(0));
  EXPECT_THAT(EvalFailure("-(-9223372036854775807 - 1)").message,
              HasSubstr("integer overflow in unary -"));
  EXPECT_THAT(EvalFailure("fen(9223372036854775807) + fen(1)").message,
              HasSubstr("money overflow"));
  data_["count"] = Value::Int(INT64_MAX / 10);
  EXPECT_THAT(EvalFailure("yuan(form.count)").message,
              HasSubstr("money overflow in yuan"));
  EXPECT_THAT(EvalFailure("form.amount * form.count").message,
              HasSubstr("money overflow in *"));
}

TEST_F(ExprTest, ShortCircuitSkipsTheFaultingSide) {
  data_["count"] = Value::Int(0);
  EXPECT_FALSE(True("false && 1 / form.count == 1"));
  EXPECT_TRUE(True("true || 1 / form.count == 1"));
  EXPECT_THAT(EvalFailure("true && 1 / form.count == 1").message,
              HasSubstr("division by zero"));
}

TEST_F(ExprTest, NullSemantics) {
  data_.erase("payee");
  data_.erase("count");
  data_.erase("category");
  data_.erase("urgent");
  data_.erase("invoices");
  EXPECT_EQ(Run("form.count"), Value::Null());
  EXPECT_TRUE(True("form.count == null"));
  EXPECT_TRUE(True("null == form.count"));
  EXPECT_TRUE(True("null == null"));
  EXPECT_FALSE(True("form.count != null"));
  EXPECT_FALSE(True("form.count == 0"));
  EXPECT_TRUE(True("form.count != 0"));
  EXPECT_FALSE(True("form.count < 1"));
  EXPECT_FALSE(True("form.count >= 1"));
  EXPECT_FALSE(True("form.count <= 1"));
  EXPECT_FALSE(True("form.count > 1"));
  EXPECT_EQ(Run("form.count + 1"), Value::Null());
  EXPECT_EQ(Run("-form.count"), Value::Null());
  EXPECT_FALSE(True("form.count in [1, 2]"));
  EXPECT_TRUE(True("form.count in [1, null]"));
  EXPECT_FALSE(True("yuan(1) in form.invoices.amount"));  // x in null
  EXPECT_FALSE(True("form.category == 'travel'"));
  EXPECT_EQ(Run("form.urgent"), Value::Null());
  EXPECT_TRUE(True("!form.urgent"));
  EXPECT_FALSE(True("form.urgent && true"));
  EXPECT_TRUE(True("form.urgent || true"));
  EXPECT_EQ(Run("form.payee.dept"), Value::Null());
  EXPECT_EQ(Run("len(form.invoices)"), Value::Null());
  EXPECT_EQ(Run("sum(form.invoices.amount)"), Value::Null());
  EXPECT_EQ(Run("head_of(form.payee.dept)"), Value::Null());
  EXPECT_FALSE(True("has_position(form.payee, 'cashier')"));
  EXPECT_FALSE(True("in_group(form.payee, 'leadership')"));
  EXPECT_FALSE(True("!in_group(form.payee, 'leadership') == false"));
  // A department without a head or supervisor yields null, not an error.
  EXPECT_EQ(Run("head_of(dept('research'))"), Value::Null());
  EXPECT_EQ(Run("dept('research').supervisor"), Value::Null());
  // A leader without a home department.
  EXPECT_EQ(Run("person('chen').dept"), Value::Null());
}

TEST_F(ExprTest, NullElementsInProjections) {
  data_["invoices"] = Value::Of(Value::List{
      Invoice("A1", 100, DateFromCivil(2024, 1, 1)),
      Value::Of(Value::Record{{"number", Value::Str("A2")}}),  // amount absent
      Value::Null()});
  EXPECT_EQ(Run("form.invoices.amount"),
            Value::Of(Value::List{Value::Of(Money{100}), Value::Null(), Value::Null()}));
  EXPECT_EQ(Run("sum(form.invoices.amount)"), Value::Of(Money{100}));
  EXPECT_FALSE(True("distinct(form.invoices.amount)"));  // two nulls
}

TEST_F(ExprTest, AttributesOfPeopleAndDepartments) {
  EXPECT_EQ(Run("submitter.dept"), Value::Str("garden"));
  EXPECT_EQ(Run("submitter.id"), Value::Str("liu"));
  EXPECT_EQ(Run("submitter.dept.head"), Value::Str("wang"));
  EXPECT_EQ(Run("submitter.dept.supervisor"), Value::Str("li"));
  EXPECT_EQ(Run("submitter.dept.id"), Value::Str("garden"));
  EXPECT_EQ(Run("submitter.dept.members"),
            Value::Of(Value::List{Value::Str("wang"), Value::Str("liu")}));
  EXPECT_TRUE(True("submitter.id == 'liu'"));
  EXPECT_EQ(Run("form.address.city"), Value::Null());
  data_["address"] = Value::Of(Value::Record{{"city", Value::Str("梅州")}});
  EXPECT_EQ(Run("form.address.city"), Value::Str("梅州"));
}

TEST_F(ExprTest, OrgFunctions) {
  EXPECT_EQ(Run("dept('finance')"), Value::Str("finance"));
  EXPECT_EQ(Run("person('chen')"), Value::Str("chen"));
  EXPECT_EQ(Run("head_of(dept('finance'))"), Value::Str("qian"));
  EXPECT_EQ(Run("supervisor_of(dept('finance'))"), Value::Str("sun"));
  EXPECT_EQ(
      Run("holders('dept_head')"),
      Value::Of(Value::List{Value::Str("zhao"), Value::Str("qian"), Value::Str("wang")}));
  EXPECT_EQ(Run("holders('cashier')"), Value::Of(Value::List{Value::Str("ma")}));
  EXPECT_EQ(
      Run("group('leadership')"),
      Value::Of(Value::List{Value::Str("chen"), Value::Str("li"), Value::Str("sun")}));
  EXPECT_EQ(Run("members_of(dept('finance'))"),
            Value::Of(Value::List{Value::Str("qian"), Value::Str("ma")}));
  EXPECT_EQ(Run("members_of(dept('research'))"), Value::Of(Value::List{}));
  EXPECT_EQ(Run("purchasing_dept()"), Value::Str("office"));
  EXPECT_EQ(Run("purchasing_dept().head"), Value::Str("zhao"));
  EXPECT_TRUE(True("has_position(person('ma'), 'cashier')"));
  EXPECT_FALSE(True("has_position(actor, 'cashier')"));
  EXPECT_TRUE(True("in_group(person('sun'), 'leadership')"));
  EXPECT_FALSE(True("in_group(actor, 'leadership')"));
}

TEST_F(ExprTest, MethodCallSyntax) {
  EXPECT_TRUE(True("person('li').in_group('leadership')"));
  EXPECT_FALSE(True("actor.in_group('leadership')"));
  EXPECT_TRUE(True("actor.has_position('dept_head')"));
  EXPECT_EQ(Run("submitter.dept.head_of()"), Value::Str("wang"));
  EXPECT_EQ(Run("form.tags.len()"), Value::Int(2));
  EXPECT_EQ(Run("form.invoices.amount.sum()"), Value::Of(Money{600000}));
}

TEST_F(ExprTest, ValueFunctions) {
  EXPECT_EQ(Run("yuan(5000)"), Value::Of(Money{500000}));
  EXPECT_EQ(Run("yuan('12.5')"), Value::Of(Money{1250}));
  EXPECT_EQ(Run("fen(1250)"), Value::Of(Money{1250}));
  EXPECT_EQ(Run("len(form.tags)"), Value::Int(2));
  EXPECT_EQ(Run("len(form.note)"), Value::Int(3));  // characters, not bytes
  EXPECT_EQ(Run("len('')"), Value::Int(0));
  EXPECT_EQ(Run("sum(form.refs)"), Value::Int(3));
  EXPECT_EQ(Run("sum(form.invoices.amount)"), Value::Of(Money{600000}));
  EXPECT_EQ(Run("date('2024-02-29')"), Value::Of(DateFromCivil(2024, 2, 29)));
  EXPECT_EQ(Run("days_between(form.invoice_date, today)"), Value::Int(4));
  EXPECT_EQ(Run("days_between(today, form.invoice_date)"), Value::Int(-4));
  EXPECT_TRUE(True("distinct(form.invoices.number)"));
  EXPECT_TRUE(True("distinct([1, 2, 3])"));
  EXPECT_FALSE(True("distinct([1, 2, 1])"));
  EXPECT_TRUE(True("distinct([])"));
  EXPECT_TRUE(True("distinct(form.invoices)"));
}

TEST_F(ExprTest, SumOfEmptyListIsZeroOfItsElementType) {
  data_["invoices"] = Value::Of(Value::List{});
  data_["refs"] = Value::Of(Value::List{});
  EXPECT_EQ(Run("sum(form.invoices.amount)"), Value::Of(Money{0}));
  EXPECT_EQ(Run("sum(form.refs)"), Value::Int(0));
}

TEST_F(ExprTest, SumOverflowIsARunTimeError) {
  data_["refs"] = Value::Of(Value::List{Value::Int(INT64_MAX), Value::Int(1)});
  EXPECT_THAT(EvalFailure("sum(form.refs)").message,
              HasSubstr("integer overflow in sum"));
}

TEST_F(ExprTest, DateOfTextParsesAtRunTime) {
  data_["note"] = Value::Str("2024-03-01");
  EXPECT_TRUE(True("date(form.note) == form.invoice_date"));
  data_["note"] = Value::Str("not a date");
  EXPECT_THAT(EvalFailure("date(form.note)").message,
              HasSubstr("'not a date' is not a date"));
}

TEST_F(ExprTest, UnknownIdsAtRunTimeAreErrors) {
  // Compiled without an organisation, evaluated against one that lacks the id.
  auto e = Compile("head_of(dept('nowhere'))", Env(false));
  ASSERT_TRUE(e.has_value());
  auto v = Evaluate(*e, Eval());
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().reason, "expr_eval");
  EXPECT_THAT(v.error().message, HasSubstr("unknown department 'nowhere'"));
  for (const char* src : {"person('nobody')", "group('nobody')", "holders('nobody')",
                          "has_position(actor, 'nobody')", "in_group(actor, 'nobody')"}) {
    auto c = Compile(src, Env(false));
    ASSERT_TRUE(c.has_value()) << src;
    auto r = Evaluate(*c, Eval());
    ASSERT_FALSE(r.has_value()) << src;
    EXPECT_THAT(r.error().message, HasSubstr("'nobody'")) << src;
  }
  // A submitter the organisation does not know.
  EvalEnv env = Eval();
  env.submitter = PersonId("ghost");
  auto d = Evaluate(MustCompile("submitter.dept"), env);
  ASSERT_FALSE(d.has_value());
  EXPECT_THAT(d.error().message, HasSubstr("unknown person 'ghost'"));
}

TEST_F(ExprTest, MissingOrgAtRunTimeIsAnError) {
  EvalEnv env = Eval();
  env.org = nullptr;
  auto v = Evaluate(MustCompile("group('leadership')"), env);
  ASSERT_FALSE(v.has_value());
  EXPECT_THAT(v.error().message, HasSubstr("no organisation"));
  // Expressions that do not need the org still work.
  EXPECT_TRUE(Evaluate(MustCompile("form.count > 1"), env).has_value());
}

TEST_F(ExprTest, FormDataOfTheWrongTypeIsAnErrorNotACrash) {
  data_["count"] = Value::Str("three");
  data_["amount"] = Value::Int(5);
  data_["invoices"] = Value::Str("oops");
  data_["tags"] = Value::Of(Value::List{Value::Int(1)});
  for (const char* src :
       {"form.count + 1", "form.count > 1", "-form.count", "yuan(form.count)",
        "form.amount > yuan(1)", "len(form.invoices)", "sum(form.invoices.amount)",
        "form.invoices.amount", "days_between(form.invoice_date, form.note.date())",
        "'x' in form.tags"}) {
    auto e = Compile(src, Env());
    ASSERT_TRUE(e.has_value()) << src << ": " << e.error().message;
    auto v = Evaluate(*e, Eval());
    if (std::string_view(src).find("form.note.date") != std::string_view::npos) {
      // note holds text that is not a date.
      ASSERT_FALSE(v.has_value()) << src;
      continue;
    }
    ASSERT_FALSE(v.has_value()) << src << " gave " << EncodeValue(*v);
    EXPECT_EQ(v.error().reason, "expr_eval");
  }
}

TEST_F(ExprTest, UncompiledExpressionIsAnError) {
  auto v = Evaluate(Expr{}, Eval());
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().reason, "expr_eval");
}

// --- people and conditions ------------------------------------------------------

TEST_F(ExprTest, IsPeopleType) {
  EXPECT_TRUE(IsPeopleType(Type::Of(TypeKind::kPerson)));
  EXPECT_TRUE(IsPeopleType(Type::ListOf(Type::Of(TypeKind::kPerson))));
  EXPECT_FALSE(IsPeopleType(Type::Of(TypeKind::kDept)));
  EXPECT_FALSE(IsPeopleType(Type::ListOf(Type::Of(TypeKind::kText))));
  EXPECT_FALSE(IsPeopleType(Type::Of(TypeKind::kList)));  // no element
  EXPECT_TRUE(IsPeopleType(MustCompile("[submitter.dept.head, person('chen')]").type));
}

TEST_F(ExprTest, EvaluatePeople) {
  auto one = EvaluatePeople(MustCompile("submitter.dept.head"), Eval());
  ASSERT_TRUE(one.has_value());
  EXPECT_THAT(*one, ElementsAre(PersonId("wang")));

  auto group = EvaluatePeople(MustCompile("group('leadership')"), Eval());
  ASSERT_TRUE(group.has_value());
  EXPECT_THAT(*group, ElementsAre(PersonId("chen"), PersonId("li"), PersonId("sun")));

  // De-duplicated, first occurrence kept, nulls dropped.
  auto mixed = EvaluatePeople(
      MustCompile("[person('li'), head_of(dept('research')), submitter.dept.supervisor, "
                  "person('chen')]"),
      Eval());
  ASSERT_TRUE(mixed.has_value());
  EXPECT_THAT(*mixed, ElementsAre(PersonId("li"), PersonId("chen")));

  data_.erase("payee");
  auto none = EvaluatePeople(MustCompile("form.payee"), Eval());
  ASSERT_TRUE(none.has_value());
  EXPECT_THAT(*none, IsEmpty());

  auto bad = EvaluatePeople(MustCompile("form.count"), Eval());
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().reason, "expr_eval");
}

TEST_F(ExprTest, EvaluateCondition) {
  auto yes = EvaluateCondition(MustCompile("form.amount > yuan(5000)"), Eval());
  ASSERT_TRUE(yes.has_value());
  EXPECT_TRUE(*yes);
  data_.erase("urgent");
  auto null_is_false = EvaluateCondition(MustCompile("form.urgent"), Eval());
  ASSERT_TRUE(null_is_false.has_value());
  EXPECT_FALSE(*null_is_false);
  auto not_bool = EvaluateCondition(MustCompile("form.count"), Eval());
  ASSERT_FALSE(not_bool.has_value());
  EXPECT_THAT(not_bool.error().message, HasSubstr("not a bool"));
}

TEST_F(ExprTest, CompiledExpressionsAreReusableAndCheapToCopy) {
  Expr e = MustCompile("form.count * 2");
  Expr copy = e;
  EXPECT_EQ(copy.root.get(), e.root.get());
  data_["count"] = Value::Int(5);
  EXPECT_EQ(*Evaluate(copy, Eval()), Value::Int(10));
  data_["count"] = Value::Int(6);
  EXPECT_EQ(*Evaluate(e, Eval()), Value::Int(12));
}

// --- the header's examples -------------------------------------------------------

std::vector<std::string> HeaderExamples() {
  std::ifstream in(std::string(APPROVAL_SOURCE_DIR) + "/engine/core/expr.h");
  std::vector<std::string> out;
  std::string line;
  bool in_examples = false, started = false;
  while (std::getline(in, line)) {
    if (!in_examples) {
      in_examples = line.starts_with("// Examples");
      continue;
    }
    if (!started) {
      started = line.ends_with("):");
      continue;
    }
    if (line == "//") break;
    if (line.starts_with("//   ")) out.push_back(line.substr(5));
  }
  return out;
}

TEST_F(ExprTest, EveryHeaderExampleCompilesAndEvaluates) {
  std::vector<FieldDef> form = {
      Field("amount", Type::Of(TypeKind::kMoney), true),
      Field("category", Enum({"travel", "meals", "training"})),
      Field("invoice_date", Type::Of(TypeKind::kDate)),
      Field("note", Type::Of(TypeKind::kText)),
      Field("payee", Type::Of(TypeKind::kPerson)),
      Field("invoices", Type::ListOf(Record({Field("number", Type::Of(TypeKind::kText)),
                                             Field("amount", Type::Of(TypeKind::kMoney)),
                                             Field("date", Type::Of(TypeKind::kDate))}))),
  };
  std::vector<std::string> examples = HeaderExamples();
  ASSERT_GE(examples.size(), 15u);
  for (const std::string& src : examples) {
    auto e = Compile(src, TypeEnv{&form, &org_});
    ASSERT_TRUE(e.has_value()) << src << ": " << e.error().offset << ": "
                               << e.error().message;
    auto v = Evaluate(*e, Eval());
    EXPECT_TRUE(v.has_value()) << src << ": " << v.error().ToString();
  }
}

}  // namespace
}  // namespace approvald::expr
