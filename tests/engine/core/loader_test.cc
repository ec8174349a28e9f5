// LoadWorkflow: what it builds from a valid file (types, defaults, implicit
// end nodes, deadlines, meetings, params) and how it reports problems
// (positions inside scalars, all errors at once, no exceptions). The broken
// files in tests/workflows/invalid/ cover one error class each; these tests
// pin the details.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/expr.h"
#include "loader_test_util.h"

namespace approvald {
namespace {

using ::testing::ElementsAre;
using testing::ErrorLines;
using ::testing::HasSubstr;
using testing::Load;

// A small, valid workflow every test starts from.
const char* const kBase = R"yaml(id: sample
title: 样例
title_en: Sample
form:
  - { name: amount, type: money, required: true, min: "0.01", max: "50000.50", label: 金额, label_en: Amount }
  - name: category
    type: enum
    options: [travel, meeting]
    option_labels: [差旅费, 会议费]
    option_labels_en: [Travel, Meetings]
  - { name: note, type: text, max_length: 20 }
  - name: invoices
    type: list
    min_items: 1
    max_items: 5
    element:
      type: record
      fields:
        - { name: number, type: text, max_length: 40, required: true }
        - { name: amount, type: money, required: true }
  - { name: voucher_no, type: text }
start: review
nodes:
  - id: review
    kind: approval
    title: 审核
    title_en: Review
    assignees: "head_of(submitter.dept)"
    next: pay
  - id: pay
    kind: task
    title: 付款
    assignees: "holders('cashier')"
    task_fields: [voucher_no]
    next: approved
  - { id: approved, kind: end }
)yaml";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t pos = text.find(from);
  if (pos == std::string::npos) {
    ADD_FAILURE() << "'" << from << "' not in the base text";
    return text;
  }
  return text.replace(pos, from.size(), to);
}

TEST(WorkflowLoaderTest, LoadsTheBaseWorkflow) {
  WorkflowLoad load = Load(kBase);
  ASSERT_TRUE(load.def) << ::testing::PrintToString(ErrorLines(load.errors));
  const WorkflowDef& def = *load.def;
  EXPECT_EQ(def.id, "sample");
  EXPECT_EQ(def.title, "样例");
  EXPECT_EQ(def.title_en, "Sample");
  EXPECT_EQ(def.source_file, "test.yaml");
  EXPECT_EQ(def.start, "review");
  EXPECT_EQ(def.version, 0);           // the registry assigns it
  EXPECT_TRUE(def.hash.empty());       // the caller sets it
  EXPECT_EQ(def.submitters, nullptr);  // absent = anyone
  EXPECT_TRUE(load.errors.empty());
}

TEST(WorkflowLoaderTest, ReadsFieldTypesAndBoundsInFen) {
  WorkflowLoad load = Load(kBase);
  ASSERT_TRUE(load.def);
  const WorkflowDef& def = *load.def;
  ASSERT_EQ(def.form.size(), 5u);
  const FieldDef* amount = def.FindField("amount");
  ASSERT_NE(amount, nullptr);
  EXPECT_EQ(amount->type.kind, TypeKind::kMoney);
  EXPECT_TRUE(amount->required);
  EXPECT_EQ(amount->min, 1);        // "0.01" yuan
  EXPECT_EQ(amount->max, 5000050);  // "50000.50" yuan
  EXPECT_EQ(amount->label, "金额");
  EXPECT_EQ(amount->label_en, "Amount");

  const FieldDef* category = def.FindField("category");
  ASSERT_NE(category, nullptr);
  EXPECT_EQ(category->type.kind, TypeKind::kEnum);
  EXPECT_THAT(category->type.options, ElementsAre("travel", "meeting"));
  EXPECT_THAT(category->type.option_labels, ElementsAre("差旅费", "会议费"));
  EXPECT_THAT(category->type.option_labels_en, ElementsAre("Travel", "Meetings"));

  EXPECT_EQ(def.FindField("note")->type.max_length, 20);

  const FieldDef* invoices = def.FindField("invoices");
  ASSERT_NE(invoices, nullptr);
  EXPECT_EQ(invoices->type.kind, TypeKind::kList);
  EXPECT_EQ(invoices->min_items, 1);
  EXPECT_EQ(invoices->max_items, 5);
  ASSERT_NE(invoices->type.element, nullptr);
  EXPECT_EQ(invoices->type.element->kind, TypeKind::kRecord);
  ASSERT_NE(invoices->type.element->fields, nullptr);
  const auto& fields = *invoices->type.element->fields;
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0].name, "number");
  EXPECT_EQ(fields[0].type.max_length, 40);
  EXPECT_TRUE(fields[0].required);
  EXPECT_EQ(fields[1].type.kind, TypeKind::kMoney);
}

TEST(WorkflowLoaderTest, AddsImplicitEndNodesAndIndexesNodes) {
  WorkflowLoad load = Load(kBase);
  ASSERT_TRUE(load.def);
  const WorkflowDef& def = *load.def;
  ASSERT_EQ(def.nodes.size(), 6u);  // review, pay, approved + 3 implicit ends
  for (const char* id : {"rejected", "withdrawn", "cancelled"}) {
    const NodeDef* end = def.FindNode(id);
    ASSERT_NE(end, nullptr) << id;
    EXPECT_EQ(end->kind, NodeKind::kEnd);
    EXPECT_EQ(OutcomeName(end->outcome), id);
    EXPECT_EQ(end->loc.line, 0) << "implicit ends have no position";
  }
  const NodeDef* approved = def.FindNode("approved");
  ASSERT_NE(approved, nullptr);
  EXPECT_EQ(approved->outcome, Outcome::kApproved);  // implied by the id
  EXPECT_EQ(approved->title, "已通过");
  for (size_t i = 0; i < def.nodes.size(); ++i) {
    EXPECT_EQ(def.node_index.at(def.nodes[i].id), i);
  }
}

TEST(WorkflowLoaderTest, DeclaredRejectedEndIsKeptNotDuplicated) {
  WorkflowLoad load = Load(
      Replace(kBase, "  - { id: approved, kind: end }",
              "  - { id: approved, kind: end }\n"
              "  - { id: rejected, kind: end, title: 不予报销, title_en: Refused }"));
  ASSERT_TRUE(load.def) << ::testing::PrintToString(ErrorLines(load.errors));
  int count = 0;
  for (const NodeDef& n : load.def->nodes) count += n.id == "rejected";
  EXPECT_EQ(count, 1);
  EXPECT_EQ(load.def->FindNode("rejected")->title, "不予报销");
}

TEST(WorkflowLoaderTest, FillsDefaultsOfApprovalAndTask) {
  WorkflowLoad load = Load(kBase);
  ASSERT_TRUE(load.def);
  const NodeDef* review = load.def->FindNode("review");
  ASSERT_NE(review, nullptr);
  EXPECT_EQ(review->kind, NodeKind::kApproval);
  EXPECT_EQ(review->mode, ApprovalMode::kSingle);
  EXPECT_EQ(review->on_reject, "rejected");
  EXPECT_TRUE(review->allow_transfer);
  EXPECT_TRUE(review->allow_delegate);
  EXPECT_TRUE(review->allow_add_signer);
  EXPECT_FALSE(review->allow_repeat_actor);
  EXPECT_FALSE(review->comment_required);
  EXPECT_TRUE(review->return_to.empty());
  EXPECT_FALSE(review->deadline.has_value());
  ASSERT_NE(review->assignees, nullptr);
  EXPECT_EQ(review->assignees->source, "head_of(submitter.dept)");
  EXPECT_TRUE(expr::IsPeopleType(review->assignees->type));
  EXPECT_EQ(review->title_en, "Review");
  EXPECT_EQ(review->loc.line, 24);
  EXPECT_EQ(review->loc.column, 5);

  const NodeDef* pay = load.def->FindNode("pay");
  ASSERT_NE(pay, nullptr);
  EXPECT_EQ(pay->kind, NodeKind::kTask);
  EXPECT_FALSE(pay->allow_add_signer);  // 加签 is for approvals
  EXPECT_THAT(pay->task_fields, ElementsAre("voucher_no"));
  EXPECT_EQ(pay->next, "approved");
}

TEST(WorkflowLoaderTest, ReadsApprovalOptions) {
  WorkflowLoad load = Load(Replace(kBase, R"yaml(    assignees: "head_of(submitter.dept)"
    next: pay)yaml",
                                   R"yaml(    assignees: "group('leadership')"
    mode: vote
    pass: "2/3"
    veto: true
    comment_required: true
    allow_transfer: false
    allow_delegate: false
    allow_add_signer: false
    allow_repeat_actor: true
    distinct_from: [pay]
    return_to: [start]
    on_reject: approved
    next: pay)yaml"));
  ASSERT_TRUE(load.def) << ::testing::PrintToString(ErrorLines(load.errors));
  const NodeDef* n = load.def->FindNode("review");
  EXPECT_EQ(n->mode, ApprovalMode::kVote);
  EXPECT_EQ(n->pass.num, 2);
  EXPECT_EQ(n->pass.den, 3);
  EXPECT_FALSE(n->pass.strict);  // "2/3" means at least two thirds
  EXPECT_TRUE(n->veto);
  EXPECT_TRUE(n->comment_required);
  EXPECT_FALSE(n->allow_transfer);
  EXPECT_FALSE(n->allow_delegate);
  EXPECT_FALSE(n->allow_add_signer);
  EXPECT_TRUE(n->allow_repeat_actor);
  EXPECT_THAT(n->distinct_from, ElementsAre("pay"));
  EXPECT_THAT(n->return_to, ElementsAre("start"));
  EXPECT_EQ(n->on_reject, "approved");
}

TEST(WorkflowLoaderTest, EveryModeIsRead) {
  const std::pair<const char*, ApprovalMode> modes[] = {
      {"single", ApprovalMode::kSingle},
      {"all", ApprovalMode::kAll},
      {"any", ApprovalMode::kAny},
      {"sequence", ApprovalMode::kSequence}};
  for (const auto& [name, mode] : modes) {
    WorkflowLoad load = Load(Replace(
        kBase, "    next: pay", std::string("    mode: ") + name + "\n    next: pay"));
    ASSERT_TRUE(load.def) << name;
    EXPECT_EQ(load.def->FindNode("review")->mode, mode) << name;
  }
}

TEST(WorkflowLoaderTest, ReadsDeadlines) {
  struct Case {
    const char* yaml;
    int64_t after_ms;
    int working_days;
    DeadlineAction action;
    bool has_to;
  };
  const Case cases[] = {
      {"{ after: 48h, action: remind }", 48 * kMsPerHour, 0, DeadlineAction::kRemind,
       false},
      {"{ after: 30m }", 30 * 60000, 0, DeadlineAction::kRemind, false},
      {"{ after: 2d, action: approve }", 2 * kMsPerDay, 0, DeadlineAction::kAutoApprove,
       false},
      {"{ after: 1 working day, action: reject }", 0, 1, DeadlineAction::kAutoReject,
       false},
      {"{ after: 3 working days, action: escalate, to: \"supervisor_of(submitter.dept)\" "
       "}",
       0, 3, DeadlineAction::kEscalate, true},
      {"{ after: 5d, action: transfer, to: \"holders('accountant')\" }", 5 * kMsPerDay, 0,
       DeadlineAction::kTransfer, true},
  };
  for (const Case& c : cases) {
    WorkflowLoad load =
        Load(Replace(kBase, "    next: pay",
                     std::string("    deadline: ") + c.yaml + "\n    next: pay"));
    ASSERT_TRUE(load.def) << c.yaml << " "
                          << ::testing::PrintToString(ErrorLines(load.errors));
    const auto& d = load.def->FindNode("review")->deadline;
    ASSERT_TRUE(d.has_value()) << c.yaml;
    EXPECT_EQ(d->after_ms, c.after_ms) << c.yaml;
    EXPECT_EQ(d->working_days, c.working_days) << c.yaml;
    EXPECT_EQ(d->action, c.action) << c.yaml;
    EXPECT_EQ(d->to != nullptr, c.has_to) << c.yaml;
    EXPECT_EQ(d->loc.line, 29) << c.yaml;
  }
}

const char* const kMeeting = R"yaml(id: meet
title: 会议
title_en: Meeting
form:
  - { name: category, type: enum, options: [personnel, other], required: true }
start: meeting
nodes:
  - id: meeting
    kind: meeting
    title: 班子会议
    members: "group('leadership')"
    head: "holders('head_of_unit')"
    secretary: "holders('office_director')"
    quorum:
      - { if: "form.category == 'personnel'", ratio: 2/3, strict: false }
      - { ratio: 1/2, strict: true }
    pass: { ratio: 1/2, strict: true }
    deliberation: 2 working days
    read_receipts: false
    recused_count_for_quorum: true
    on_pass: approved
    on_defer: meeting
    deadline: { after: 10 working days, action: escalate, to: "holders('head_of_unit')" }
  - { id: approved, kind: end }
)yaml";

TEST(WorkflowLoaderTest, ReadsMeetings) {
  WorkflowLoad load = Load(kMeeting);
  ASSERT_TRUE(load.def) << ::testing::PrintToString(ErrorLines(load.errors));
  const NodeDef* n = load.def->FindNode("meeting");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->kind, NodeKind::kMeeting);
  const MeetingDef& m = n->meeting;
  ASSERT_NE(m.members, nullptr);
  ASSERT_NE(m.head, nullptr);
  ASSERT_NE(m.secretary, nullptr);
  ASSERT_EQ(m.quorum.size(), 2u);
  ASSERT_NE(m.quorum[0].when, nullptr);
  EXPECT_EQ(m.quorum[0].when->source, "form.category == 'personnel'");
  EXPECT_EQ(m.quorum[0].ratio.num, 2);
  EXPECT_EQ(m.quorum[0].ratio.den, 3);
  EXPECT_FALSE(m.quorum[0].ratio.strict);
  EXPECT_EQ(m.quorum[1].when, nullptr);
  EXPECT_TRUE(m.quorum[1].ratio.strict);
  EXPECT_TRUE(m.pass.strict);
  EXPECT_EQ(m.pass.num, 1);
  EXPECT_EQ(m.pass.den, 2);
  EXPECT_EQ(m.deliberation_working_days, 2);
  EXPECT_EQ(m.deliberation_ms, 0);
  EXPECT_FALSE(m.read_receipts_required);
  EXPECT_TRUE(m.recused_count_for_quorum);
  EXPECT_EQ(m.on_pass, "approved");
  EXPECT_EQ(m.on_fail, "rejected");  // default
  EXPECT_EQ(m.on_defer, "meeting");
  ASSERT_TRUE(n->deadline);
  EXPECT_EQ(n->deadline->action, DeadlineAction::kEscalate);
}

TEST(WorkflowLoaderTest, MeetingDefaultsAreMoreThanHalf) {
  std::string yaml = kMeeting;
  for (const char* line :
       {"    quorum:\n      - { if: \"form.category == 'personnel'\", ratio: 2/3, "
        "strict: false }\n      - { ratio: 1/2, strict: true }\n",
        "    pass: { ratio: 1/2, strict: true }\n", "    deliberation: 2 working days\n",
        "    read_receipts: false\n", "    recused_count_for_quorum: true\n",
        "    on_defer: meeting\n"}) {
    yaml = Replace(yaml, line, "");
  }
  WorkflowLoad load = Load(yaml);
  ASSERT_TRUE(load.def) << ::testing::PrintToString(ErrorLines(load.errors));
  const MeetingDef& m = load.def->FindNode("meeting")->meeting;
  ASSERT_EQ(m.quorum.size(), 1u);
  EXPECT_EQ(m.quorum[0].when, nullptr);
  EXPECT_TRUE(m.quorum[0].ratio.strict);
  EXPECT_EQ(m.quorum[0].ratio.num * 2, m.quorum[0].ratio.den);
  EXPECT_TRUE(m.pass.strict);
  EXPECT_TRUE(m.read_receipts_required);
  EXPECT_FALSE(m.recused_count_for_quorum);
  EXPECT_EQ(m.deliberation_working_days, 0);
  EXPECT_TRUE(m.on_defer.empty());  // back to the meeting's own start
}

const char* const kParallel = R"yaml(id: par
title: 并行
title_en: Parallel
form:
  - { name: invoices, type: list, element: { type: text } }
  - { name: amount, type: money }
start: lines
nodes:
  - id: lines
    kind: parallel
    title: 双线
    join: any
    branches:
      - { name: business, nodes: [head_review, deputy_review] }
      - { name: finance, nodes: [invoice_check, finance_review] }
    next: route
  - { id: head_review, kind: approval, title: 一, assignees: "head_of(submitter.dept)" }
  - { id: deputy_review, kind: approval, title: 二, assignees: "supervisor_of(submitter.dept)", return_to: [head_review, start] }
  - { id: invoice_check, kind: check, title: 查重, check: duplicate_invoice, params: { field: invoices, limit: 3, strict: true, note: "x", list: [1, two] } }
  - { id: finance_review, kind: approval, title: 财务, assignees: "head_of(dept('finance'))" }
  - id: route
    kind: choice
    when:
      - { if: "form.amount >= yuan(1000)", to: big }
      - { else: approved }
  - id: big
    kind: check
    title: 标准
    check: expense_standard
    on_pass: approved
    on_flag: head
  - { id: head, kind: approval, title: 主要领导, assignees: "holders('head_of_unit')", return_to: [deputy_review], next: approved }
  - { id: approved, kind: end }
)yaml";

TEST(WorkflowLoaderTest, ReadsParallelChoiceAndCheckNodes) {
  WorkflowLoad load = Load(kParallel);
  ASSERT_TRUE(load.def) << ::testing::PrintToString(ErrorLines(load.errors));
  const WorkflowDef& def = *load.def;
  const NodeDef* lines = def.FindNode("lines");
  EXPECT_EQ(lines->join, JoinMode::kAny);
  ASSERT_EQ(lines->branches.size(), 2u);
  EXPECT_EQ(lines->branches[0].name, "business");
  EXPECT_THAT(lines->branches[0].nodes, ElementsAre("head_review", "deputy_review"));
  EXPECT_THAT(lines->branches[1].nodes, ElementsAre("invoice_check", "finance_review"));
  EXPECT_EQ(lines->on_reject, "rejected");
  // Branch nodes get no successors: the branch and the parallel decide.
  EXPECT_TRUE(def.FindNode("head_review")->next.empty());
  EXPECT_TRUE(def.FindNode("head_review")->on_reject.empty());
  EXPECT_TRUE(def.FindNode("invoice_check")->on_fail.empty());

  const NodeDef* route = def.FindNode("route");
  ASSERT_EQ(route->arms.size(), 2u);
  ASSERT_NE(route->arms[0].when, nullptr);
  EXPECT_EQ(route->arms[0].when->type.kind, TypeKind::kBool);
  EXPECT_EQ(route->arms[0].to, "big");
  EXPECT_EQ(route->arms[1].when, nullptr);
  EXPECT_EQ(route->arms[1].to, "approved");

  const NodeDef* big = def.FindNode("big");
  EXPECT_EQ(big->check, "expense_standard");
  EXPECT_EQ(big->on_pass, "approved");
  EXPECT_EQ(big->on_fail, "rejected");  // default
  EXPECT_EQ(big->on_flag, "head");

  const auto& params = def.FindNode("invoice_check")->params;
  EXPECT_EQ(params.at("field"), Value::Str("invoices"));
  EXPECT_EQ(params.at("limit"), Value::Int(3));
  EXPECT_EQ(params.at("strict"), Value::Bool(true));
  EXPECT_EQ(params.at("note"), Value::Str("x"));
  EXPECT_EQ(params.at("list"), Value::Of(Value::List{Value::Int(1), Value::Str("two")}));
}

TEST(WorkflowLoaderTest, ReturnToAnEarlierBranchNodeOrBeforeIsAccepted) {
  // deputy_review -> head_review (same line) and head -> deputy_review (into
  // a line from after the parallel) are both earlier.
  WorkflowLoad load = Load(kParallel);
  ASSERT_TRUE(load.def);
  EXPECT_THAT(load.def->FindNode("head")->return_to, ElementsAre("deputy_review"));
}

TEST(WorkflowLoaderTest, ReportsEveryErrorNotOnlyTheFirst) {
  std::string yaml = Replace(kBase, "    next: pay", "    next: pya");
  yaml = Replace(yaml, "task_fields: [voucher_no]", "task_fields: [voucher]");
  yaml = Replace(yaml, "kind: approval", "kind: approvel");
  WorkflowLoad load = Load(yaml);
  EXPECT_FALSE(load.def);
  EXPECT_THAT(
      ErrorLines(load.errors),
      ElementsAre(
          "test.yaml:25:11: unknown node kind 'approvel' — did you mean 'approval'?",
          "test.yaml:29:11: next: no node 'pya' — did you mean 'pay'?",
          "test.yaml:34:19: task_fields: no form field 'voucher' — did you mean "
          "'voucher_no'?"));
}

TEST(WorkflowLoaderTest, ExpressionErrorColumnsInPlainAndQuotedScalars) {
  // The error is at form.amout in each; the column must point at 'a' of
  // amout however the scalar is written.
  struct Case {
    const char* scalar;
    int column;
  };
  const Case cases[] = {
      // The arm is "      - { if: <scalar>, to: big }": the scalar starts
      // at column 15.
      {"form.amout > yuan(1)", 20},
      {"\"form.amout > yuan(1)\"", 21},
      {"'form.amout > yuan(1)'", 21},
      // escapes before the error shift the source but not the value
      {"\"\\x27A\\x27 == 'A' || form.amout > yuan(1)\"", 41},
      {"'''A'' == ''A'' || form.amout > yuan(1)'", 39},
  };
  for (const Case& c : cases) {
    std::string yaml = Replace(kParallel, "\"form.amount >= yuan(1000)\"", c.scalar);
    WorkflowLoad load = Load(yaml);
    ASSERT_EQ(load.errors.size(), 1u)
        << c.scalar << ": " << ::testing::PrintToString(ErrorLines(load.errors));
    EXPECT_EQ(load.errors[0].loc.line, 24) << c.scalar;
    EXPECT_EQ(load.errors[0].loc.column, c.column) << c.scalar;
    EXPECT_THAT(load.errors[0].message, HasSubstr("amout")) << c.scalar;
  }
}

TEST(WorkflowLoaderTest, ExpressionErrorInBlockScalarPointsIntoItsLine) {
  std::string yaml = Replace(
      kParallel, R"yaml(      - { if: "form.amount >= yuan(1000)", to: big })yaml",
      "      - if: >\n"
      "          form.amount >= yuan(1000)\n"
      "            && form.amout > fen(1)\n"
      "        to: big");
  WorkflowLoad load = Load(yaml);
  ASSERT_EQ(load.errors.size(), 1u) << ::testing::PrintToString(ErrorLines(load.errors));
  EXPECT_EQ(load.errors[0].loc.line, 26);
  EXPECT_EQ(load.errors[0].loc.column, 21);
}

TEST(WorkflowLoaderTest, ColumnsCountCharactersNotBytes) {
  // The Chinese title before the typo is 3 bytes per character.
  WorkflowLoad load =
      Load(Replace(kBase, "  - { id: approved, kind: end }",
                   "  - { id: approved, kind: end, title: 已报销, outcme: approved }"));
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_EQ(ErrorLines(load.errors)[0],
            "test.yaml:36:44: unknown key 'outcme' in end node 'approved' — did "
            "you mean 'outcome'?");
}

TEST(WorkflowLoaderTest, AcceptsByteOrderMarkAndCrLf) {
  std::string yaml = "\xEF\xBB\xBF";
  for (char c : std::string(kBase)) {
    if (c == '\n') yaml += '\r';
    yaml += c;
  }
  WorkflowLoad load = Load(yaml);
  EXPECT_TRUE(load.def) << ::testing::PrintToString(ErrorLines(load.errors));
  // And positions stay right: a typo on line 1 after the BOM is column 1.
  WorkflowLoad bad = Load(
      "\xEF\xBB\xBF"
      "idd: x\r\n");
  ASSERT_FALSE(bad.errors.empty());
  EXPECT_EQ(bad.errors[0].loc.line, 1);
  EXPECT_EQ(bad.errors[0].loc.column, 1);
}

TEST(WorkflowLoaderTest, NeverThrowsOnHostileInput) {
  const std::string inputs[] = {
      "",
      "~",
      "- a\n- b\n",
      "just text",
      std::string("\0\x01\xff\xfe", 4),
      std::string(200, '['),
      std::string(5000, '{'),
      "id: &a x\ntitle: *a\n",
      "id: x\ntitle: t\ntitle_en: t\nstart: a\nnodes:\n  - *undefined\n",
      "nodes: [ { id: a, kind: approval, assignees: \"" + std::string(300, '(') +
          "\" } ]",
  };
  for (const std::string& input : inputs) {
    WorkflowLoad load;
    EXPECT_NO_THROW(load = Load(input)) << input.substr(0, 40);
    EXPECT_FALSE(load.def) << input.substr(0, 40);
    EXPECT_FALSE(load.errors.empty()) << input.substr(0, 40);
    for (const LoadError& e : load.errors) {
      EXPECT_GE(e.loc.line, 1) << e.ToString();
      EXPECT_EQ(e.loc.file, "test.yaml");
    }
  }
}

TEST(WorkflowLoaderTest, ErrorsComeSortedByPosition) {
  std::string yaml =
      Replace(kBase, "id: approved, kind: end", "id: approved, kind: ending");
  yaml = Replace(yaml, "title_en: Sample", "title_en: Sample\nversion: 3");
  WorkflowLoad load = Load(yaml);
  ASSERT_GE(load.errors.size(), 2u);
  for (size_t i = 1; i < load.errors.size(); ++i) {
    const SourceLoc& a = load.errors[i - 1].loc;
    const SourceLoc& b = load.errors[i].loc;
    EXPECT_TRUE(a.line < b.line || (a.line == b.line && a.column <= b.column));
  }
  EXPECT_EQ(ErrorLines(load.errors)[0],
            "test.yaml:4:1: unknown key 'version' in the workflow file — "
            "versions are assigned from the file's content hash; remove it");
}

TEST(WorkflowLoaderTest, SubmittersMustBePeople) {
  WorkflowLoad load =
      Load(Replace(kBase, "title_en: Sample",
                   "title_en: Sample\nsubmitters: \"holders('deputy_head')\""));
  ASSERT_TRUE(load.def) << ::testing::PrintToString(ErrorLines(load.errors));
  ASSERT_NE(load.def->submitters, nullptr);
  EXPECT_EQ(load.def->submitters->source, "holders('deputy_head')");
}

TEST(WorkflowLoaderTest, MisspeltKeyIsReportedOnceNotAsMissingToo) {
  WorkflowLoad load = Load(Replace(kBase, "    next: pay", "    nxet: pay"));
  EXPECT_THAT(ErrorLines(load.errors),
              ElementsAre("test.yaml:29:5: unknown key 'nxet' in approval node "
                          "'review' — did you mean 'next'?"));
}

TEST(WorkflowLoaderTest, ParsesDurationsAndRatios) {
  EXPECT_EQ(ParseDuration("30m")->after_ms, 30 * 60000);
  EXPECT_EQ(ParseDuration(" 48h ")->after_ms, 48 * kMsPerHour);
  EXPECT_EQ(ParseDuration("2d")->after_ms, 2 * kMsPerDay);
  EXPECT_EQ(ParseDuration("1 working day")->working_days, 1);
  EXPECT_EQ(ParseDuration("2 working days")->working_days, 2);
  for (const char* bad :
       {"", "0h", "48", "48 hours", "h", "-1d", "367d", "0 working days",
        "251 working days", "2 workdays", "1.5h", "9999999m"}) {
    EXPECT_FALSE(ParseDuration(bad).has_value()) << bad;
  }
  EXPECT_EQ(FormatDuration(0, 2), "2 working days");
  EXPECT_EQ(FormatDuration(0, 1), "1 working day");
  EXPECT_EQ(FormatDuration(48 * kMsPerHour, 0), "48h");
  EXPECT_EQ(FormatDuration(3 * kMsPerDay, 0), "3d");
  EXPECT_EQ(FormatDuration(5 * kMsPerHour, 0), "5h");
  EXPECT_EQ(FormatDuration(30 * 60000, 0), "30m");

  std::optional<Ratio> r = ParseRatio("2/3", false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->num, 2);
  EXPECT_EQ(r->den, 3);
  EXPECT_FALSE(r->strict);
  EXPECT_TRUE(ParseRatio(" 1 / 2 ", true)->strict);
  EXPECT_TRUE(ParseRatio("1/1", false));
  for (const char* bad :
       {"", "1", "3/2", "0/2", "1/0", "a/b", "1/2/3", "-1/2", "1/1001", "1/2x"}) {
    EXPECT_FALSE(ParseRatio(bad, false).has_value()) << bad;
  }
  EXPECT_EQ(FormatRatio(Ratio{1, 2, true}), "> 1/2");
  EXPECT_EQ(FormatRatio(Ratio{2, 3, false}), ">= 2/3");
}

TEST(LoadErrorTest, FormatsFileLineColumnMessage) {
  // Filled member by member: g++ 12 at -O3 reports a spurious
  // maybe-uninitialized inside std::string for the brace-initialised form.
  auto error_at = [](int line, int column) {
    LoadError e;
    e.loc.file = "a.yaml";
    e.loc.line = line;
    e.loc.column = column;
    e.message = "bad";
    return e;
  };
  EXPECT_EQ(error_at(3, 7).ToString(), "a.yaml:3:7: bad");
  EXPECT_EQ(error_at(3, 0).ToString(), "a.yaml:3: bad");
  EXPECT_EQ(error_at(0, 0).ToString(), "a.yaml: bad");
}

TEST(LoadErrorTest, SourceTextCountsCodePoints) {
  SourceText text("ab\n费用x\n", "f");
  SourceLoc loc = text.LocAt(3 + 6);  // the 'x' after two 3-byte characters
  EXPECT_EQ(loc.line, 2);
  EXPECT_EQ(loc.column, 3);
  EXPECT_EQ(text.LocAt(0).column, 1);
  EXPECT_EQ(text.LocAt(1000).line, 3);  // clamped to the end
}

TEST(LoadErrorTest, ClosestMatchFindsPlausibleTyposOnly) {
  const std::vector<std::string> keys = {"assignees", "next",  "on_reject",
                                         "deadline",  "title", "title_en"};
  EXPECT_EQ(ClosestMatch("asignees", keys), "assignees");
  EXPECT_EQ(ClosestMatch("nxet", keys), "next");  // transposition
  EXPECT_EQ(ClosestMatch("titel", keys), "title");
  EXPECT_EQ(ClosestMatch("dedline", keys), "deadline");
  EXPECT_EQ(ClosestMatch("colour", keys), "");  // nothing close
  EXPECT_EQ(ClosestMatch("x", keys), "");
  EXPECT_EQ(ClosestMatch("next", keys), "");  // exact match is no typo
  EXPECT_EQ(ClosestMatch("voucher", {"voucher_number", "voucher_no"}),
            "voucher_no");                             // prefix, shortest
  EXPECT_EQ(ClosestMatch("vou", {"voucher_no"}), "");  // too short a prefix
}

}  // namespace
}  // namespace approvald
