// Fuzz target: the guard and assignee expression language (core/expr.h).
// The input is an expression's source. It is compiled against a form with a
// field of every type and the real organisation (config/org.yaml), and also
// without the organisation; whatever compiles is evaluated against sample
// form data and against an empty form (every field null), and the guard and
// assignee helpers run on results of their types. Compile() promises to
// refuse deep trees and long sources, Evaluate() to report overflow and
// division by zero as errors: sanitizers check that neither crashes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/expr.h"
#include "core/org_loader.h"

namespace {

using namespace approvald;  // NOLINT: a test harness

FieldDef Field(std::string name, Type type) {
  FieldDef f;
  f.name = std::move(name);
  f.type = std::move(type);
  return f;
}

Type EnumOf(std::vector<std::string> options) {
  Type t = Type::Of(TypeKind::kEnum);
  t.options = std::move(options);
  return t;
}

Type RecordOf(std::vector<FieldDef> fields) {
  Type t = Type::Of(TypeKind::kRecord);
  t.fields = std::make_shared<const std::vector<FieldDef>>(std::move(fields));
  return t;
}

Value Invoice(const char* number, int64_t fen, Date date) {
  return Value::Of(Value::Record{{"amount", Value::Of(Money{fen})},
                                 {"date", Value::Of(date)},
                                 {"number", Value::Str(number)}});
}

struct Fixture {
  Org org;
  std::vector<FieldDef> form;
  FormData data;
  FormData empty;

  Fixture() {
    std::ifstream in(std::string(APPROVAL_SOURCE_DIR) + "/config/org.yaml");
    std::stringstream text;
    text << in.rdbuf();
    OrgLoad load = LoadOrg(text.str(), "org.yaml");
    if (!load.org) {
      std::fprintf(stderr, "fuzz harness: config/org.yaml does not load\n");
      std::abort();
    }
    org = std::move(*load.org);
    Type invoice = RecordOf({Field("amount", Type::Of(TypeKind::kMoney)),
                             Field("date", Type::Of(TypeKind::kDate)),
                             Field("number", Type::Of(TypeKind::kText))});
    form = {
        Field("amount", Type::Of(TypeKind::kMoney)),
        Field("count", Type::Of(TypeKind::kInt)),
        Field("category", EnumOf({"travel", "meals", "training"})),
        Field("kinds", Type::ListOf(EnumOf({"a", "b"}))),
        Field("note", Type::Of(TypeKind::kText)),
        Field("payee", Type::Of(TypeKind::kPerson)),
        Field("dept", Type::Of(TypeKind::kDept)),
        Field("invoice_date", Type::Of(TypeKind::kDate)),
        Field("due", Type::Of(TypeKind::kDateTime)),
        Field("urgent", Type::Of(TypeKind::kBool)),
        Field("invoices", Type::ListOf(invoice)),
        Field("tags", Type::ListOf(Type::Of(TypeKind::kText))),
        Field("approvers", Type::ListOf(Type::Of(TypeKind::kPerson))),
        Field("refs", Type::ListOf(Type::Of(TypeKind::kInt))),
        Field("address", RecordOf({Field("city", Type::Of(TypeKind::kText))})),
    };
    data["amount"] = Value::Of(Money{600000});
    data["count"] = Value::Int(3);
    data["category"] = Value::Str("travel");
    data["kinds"] = Value::Of(Value::List{Value::Str("a")});
    data["note"] = Value::Str("差旅费 travel");
    data["payee"] = Value::Str("zhang_min");
    data["dept"] = Value::Str("finance");
    data["invoice_date"] = Value::Of(DateFromCivil(2024, 3, 1));
    data["due"] = Value::Of(*ParseTimestamp("2024-03-08T00:00:00Z"));
    data["urgent"] = Value::Bool(true);
    data["invoices"] = Value::Of(Value::List{Invoice("A1", 250000, DateFromCivil(2024, 2, 1)),
                                             Invoice("A2", 350000, DateFromCivil(2024, 2, 3))});
    data["tags"] = Value::Of(Value::List{Value::Str("x"), Value::Str("y")});
    data["approvers"] = Value::Of(Value::List{Value::Str("lin_xiaoyan"), Value::Str("zheng_li")});
    data["refs"] = Value::Of(Value::List{Value::Int(1), Value::Int(INT64_MAX)});
    data["address"] = Value::Of(Value::Record{{"city", Value::Str("梅州")}});
  }
};

void Run(const expr::Expr& e, const Fixture& f, const FormData& data) {
  expr::EvalEnv env;
  env.form = &data;
  env.org = &f.org;
  env.submitter = PersonId("zhang_min");
  env.actor = PersonId("lin_xiaoyan");
  env.now = *ParseTimestamp("2024-03-04T16:30:00Z");
  (void)expr::Evaluate(e, env);
  if (e.type.kind == TypeKind::kBool) (void)expr::EvaluateCondition(e, env);
  if (expr::IsPeopleType(e.type)) (void)expr::EvaluatePeople(e, env);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture* fixture = new Fixture();
  std::string_view source(reinterpret_cast<const char*>(data), size);
  auto with_org = expr::Compile(source, expr::TypeEnv{&fixture->form, &fixture->org});
  if (with_org) {
    Run(*with_org, *fixture, fixture->data);
    Run(*with_org, *fixture, fixture->empty);
  } else if (with_org.error().offset > source.size()) {
    std::fprintf(stderr, "compile error offset %zu beyond the source (%zu bytes)\n",
                 with_org.error().offset, source.size());
    std::abort();
  }
  auto without_org = expr::Compile(source, expr::TypeEnv{&fixture->form, nullptr});
  if (without_org) Run(*without_org, *fixture, fixture->data);
  return 0;
}
