// The guard and assignee expression language.
//
// Typed, side-effect free, no loops. Compile() parses an expression and
// type-checks it against the form's field declarations (and, when given, the
// organisation, so that `dept("finanse")` is refused at load time);
// Evaluate() computes a value from form data, the people involved and the
// organisation. Both are pure.
//
// Grammar (precedence low to high):
//   expr    := or
//   or      := and ( "||" and )*
//   and     := not ( "&&" not )*
//   not     := "!" not | cmp
//   cmp     := add ( ("=="|"!="|"<"|"<="|">"|">="|"in") add )?
//   add     := mul ( ("+"|"-") mul )*
//   mul     := unary ( ("*"|"/"|"%") unary )*
//   unary   := "-" unary | postfix
//   postfix := primary ( "." IDENT | "(" args? ")" )*
//   primary := INT | STRING | "true" | "false" | "null" | IDENT
//            | "[" (expr ("," expr)*)? "]" | "(" expr ")"
// Literals: integers (no decimals: write money as yuan(5000), yuan("12.50")
//   or fen(1250)), strings in '...' or "..." (escapes \\ \' \" \n \t),
//   true, false, null, list literals [a, b].
// Roots: form.<field>, submitter, actor (person), now (datetime), today
//   (date: the Asia/Shanghai calendar day of `now`).
// Attributes: person.dept, person.id (text); dept.head, dept.supervisor
//   (person), dept.members (list<person>), dept.id (text); record.<field>;
//   list_of_records.<field> projects to a list, e.g. form.invoices.amount is
//   list<money>.
// Functions: dept(id) person(id) head_of(dept) supervisor_of(dept)
//   holders(position) group(id) members_of(dept) purchasing_dept()
//   has_position(person, position) in_group(person, group)
//   yuan(int | "12.50") fen(int) len(list|text) sum(list<int|money>)
//   date(text) days_between(date, date) distinct(list) -> bool (no duplicates)
//   Ids of departments, people, groups and positions are quoted literals and
//   are checked against the organisation at compile time when one is given.
//   `x.f(args)` is another way to write `f(x, args)`, e.g.
//   actor.in_group("leadership").
//
// Types and semantics:
// - == and != need both sides of the same type; a string literal compared
//   with an enum must be one of its options. Enum and text are different
//   types, as are money and int (the error suggests yuan(...)/fen(...)) and
//   person/dept and text (the error suggests person("...")/dept("...")).
//   Values compare by their representation: ids by string equality.
// - < <= > >= work on int, money, date, datetime and text (byte-wise
//   lexicographic order); both sides of the same type. Comparisons do not
//   chain (a < b < c is an error).
// - x in L: L is a list (literal or list-typed); true if an element equals x.
// - Arithmetic: int (+ - * / %), money + money, money - money, money * int,
//   int * money, money / int. Division truncates toward zero. Overflow and
//   division by zero are run-time errors.
// - && and || short-circuit; ! && || take bool operands.
// - null is an absent optional field (or a person/department attribute the
//   organisation leaves empty). null == null; null equals nothing else; every
//   ordering comparison with null is false; null in L is true only if L holds
//   null; x in null is false; arithmetic, attributes and functions of null
//   are null, except has_position and in_group, which are false; ! && || and
//   EvaluateCondition treat null as false.
// - sum of an empty list is 0 of its element type; null elements are skipped.
//   len(text) counts characters (code points). days_between(a, b) is b - a.
// - Compile errors carry the byte offset of the offending token: the unknown
//   name, the operand of the wrong type (the int beside money, the string
//   literal that is no enum option), or the operator when neither operand is
//   more to blame. Trees deeper than 64 levels and sources longer than
//   64 KiB are refused, so hostile input can exhaust neither stack nor time.
//
// Examples (expr_test compiles every line between "Examples" and the blank
// comment line below against a form with amount: money, category:
// enum{travel,meals,training}, invoice_date: date, note: text, payee:
// person, invoices: list<record{number: text, amount: money, date: date}>):
//   form.amount > yuan(5000) && form.category == "travel"
//   form.category in ["travel", "training"]
//   sum(form.invoices.amount) == form.amount
//   distinct(form.invoices.number)
//   days_between(form.invoice_date, today) <= 180
//   len(form.note) <= 200 && len(form.invoices) >= 1
//   form.payee == null || form.payee != submitter
//   form.amount - yuan("0.50") * 2 >= fen(0)
//   head_of(submitter.dept)
//   submitter.dept.supervisor
//   supervisor_of(dept("finance"))
//   [head_of(dept("finance")), supervisor_of(dept("finance"))]
//   holders("cashier")
//   group("leadership")
//   members_of(purchasing_dept())
//   actor.in_group("leadership") && !has_position(actor, "head_of_unit")
//   in_group(submitter, "leadership") || submitter.dept == dept("office")
//   today >= date("2024-01-01") && person("chen") in group("leadership")
//
// See workflows/README.md for the user-facing description.
#ifndef APPROVALD_CORE_EXPR_H_
#define APPROVALD_CORE_EXPR_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "approvald/org.h"
#include "approvald/status.h"
#include "approvald/value.h"

namespace approvald::expr {

struct Node;  // the parsed, typed tree; defined in expr.cc

// A compiled expression. Cheap to copy (shares the tree).
struct Expr {
  std::shared_ptr<const Node> root;
  Type type;            // the static type of the result
  std::string source;   // the text it was compiled from
  bool valid() const { return root != nullptr; }
};

// What Compile() checks names against.
struct TypeEnv {
  const std::vector<FieldDef>* form = nullptr;  // required
  const Org* org = nullptr;  // optional: when set, literal ids are checked
};

// A compile error: `offset` is the 0-based byte offset into the source where
// the problem starts; `message` says what is wrong and how to fix it.
struct CompileError {
  size_t offset = 0;
  std::string message;
};

std::expected<Expr, CompileError> Compile(std::string_view source,
                                          const TypeEnv& env);

// What Evaluate() reads. All pointers must outlive the call.
struct EvalEnv {
  const FormData* form = nullptr;
  const Org* org = nullptr;
  PersonId submitter;
  PersonId actor;
  Timestamp now;
  // If set, lowered to the earliest time from which the value read from the
  // clock may differ: `now` itself when `now` is read, the next Asia/Shanghai
  // midnight when only `today` is. Untouched by an expression that reads
  // neither.
  Timestamp* valid_until = nullptr;
};

// Evaluates `e`. Fails (kInvalidArgument, reason "expr_eval") only on
// run-time faults the type checker cannot rule out: an unknown id at run
// time, division by zero, overflow.
Result<Value> Evaluate(const Expr& e, const EvalEnv& env);

// Convenience for guards: evaluates `e` (of type bool); null counts as
// false. Fails like Evaluate().
Result<bool> EvaluateCondition(const Expr& e, const EvalEnv& env);

// Convenience for assignee expressions: evaluates `e` (of type person or
// list<person>) into a de-duplicated list of people in order. Null → empty.
Result<std::vector<PersonId>> EvaluatePeople(const Expr& e, const EvalEnv& env);

// True if `t` is person or list<person> (what an assignee expression must be).
bool IsPeopleType(const Type& t);

}  // namespace approvald::expr

#endif  // APPROVALD_CORE_EXPR_H_
