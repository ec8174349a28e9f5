// Decide(): every node kind and every action, accepted where allowed and
// refused with its reason code where not. Each test drives a small workflow
// written for it; the Driver checks after every step that the state equals
// the fold of the events.
#include <gtest/gtest.h>

#include "decide_test_util.h"

namespace approvald::testing {
namespace {

const char* kForm = R"Y(
form:
  - { name: purpose, type: text, max_length: 20, required: true, label: 事由, label_en: Purpose }
  - { name: amount, type: money, min: "0.01", required: true, label: 金额, label_en: Amount }
  - { name: category, type: enum, options: [ordinary, personnel], label: 类别, label_en: Category }
  - { name: voucher_no, type: text, max_length: 20, label: 凭证号, label_en: Voucher }
  - { name: reviewer, type: person, label: 审核人, label_en: Reviewer }
  - name: invoices
    type: list
    label: 发票
    label_en: Invoices
    element:
      type: record
      fields:
        - { name: number, type: text, max_length: 30, required: true, label: 号码, label_en: Number }
        - { name: amount, type: money, required: true, label: 金额, label_en: Amount }
)Y";

std::string Workflow(const std::string& start, const std::string& nodes) {
  return "id: t\ntitle: 测试\ntitle_en: Test\n" + std::string(kForm) +
         "start: " + start + "\nnodes:\n" + nodes +
         "  - { id: approved, title: 节点approved, kind: end, outcome: approved }\n";
}

FormData Form(int64_t fen = 12345, const char* category = "ordinary") {
  FormData f;
  f["purpose"] = Value::Str("差旅");
  f["amount"] = Value::Of(Money{fen});
  f["category"] = Value::Str(category);
  return f;
}

class DecideTest : public ::testing::Test {
 protected:
  Org org_ = LoadTestOrg();
};

// --- submit -------------------------------------------------------------------

const std::string kTwoStep = Workflow("review", R"Y(
  - { id: review, kind: approval, title: 股室审核, assignees: "head_of(submitter.dept)", next: deputy }
  - { id: deputy, kind: approval, title: 分管审核, assignees: "supervisor_of(submitter.dept)", next: approved }
)Y");

TEST_F(DecideTest, SubmitEntersTheStartNodeWithResolvedAssignees) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  EXPECT_EQ(d.state().status, InstanceStatus::kRunning);
  EXPECT_EQ(d.state().submitter.value, "c1");
  ASSERT_TRUE(d.Active("review"));
  ASSERT_EQ(d.state().active.at("review").signers.size(), 1u);
  EXPECT_EQ(d.state().active.at("review").signers[0].person.value, "bh");
  EXPECT_EQ(d.history()[0].type, ev::kSubmitted);
  EXPECT_EQ(rec::Str(d.history()[0].data, "def_hash"), "sha256:test");
}

TEST_F(DecideTest, InvalidFormIsRefusedNamingEveryBadField) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  FormData f;
  f["purpose"] = Value::Str("这是一段超过二十个字符的很长很长很长很长的事由说明");
  f["amount"] = Value::Int(5);  // not money
  f["colour"] = Value::Str("red");
  f["category"] = Value::Str("secret");
  auto r = d.Try("submit", "c1", "", {}, f);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().reason, "invalid_form");
  EXPECT_NE(r.error().message.find("'purpose'"), std::string::npos);
  EXPECT_NE(r.error().message.find("'amount'"), std::string::npos);
  EXPECT_NE(r.error().message.find("'colour'"), std::string::npos);
  EXPECT_NE(r.error().message.find("'category'"), std::string::npos);
  EXPECT_TRUE(d.history().empty());
}

TEST_F(DecideTest, MoneyBoundsAreCheckedInFen) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  auto r = d.Try("submit", "c1", "", {}, Form(0));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("at least 0.01"), std::string::npos);
}

TEST_F(DecideTest, SubmittersExpressionLimitsWhoMayStart) {
  std::string y = kTwoStep;
  y.insert(y.find("form:"), "submitters: \"members_of(dept('business'))\"\n");
  WorkflowDef def = LoadDef(y, org_);
  Driver d(def, org_);
  auto r = d.Try("submit", "fh", "", {}, Form());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "not_allowed_to_submit");
  d.Do("submit", "c1", "", {}, Form());
}

// --- single approvals, rejection, terminal ------------------------------------

TEST_F(DecideTest, ApprovalsAdvanceAndTheEndApproves) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Refused("not_assignee", "approve", "d1");  // d1's turn comes second
  d.Do("approve", "bh", "review", {}, {}, "同意");
  EXPECT_TRUE(d.Active("deputy"));
  d.Do("approve", "d1");
  EXPECT_EQ(d.state().status, InstanceStatus::kApproved);
  EXPECT_EQ(d.state().end_node, "approved");
  d.Refused("instance_closed", "comment", "c1", "", {}, "还有话说");
}

TEST_F(DecideTest, RejectionEndsRejected) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("reject", "bh", "", {}, {}, "票据不全");
  EXPECT_EQ(d.state().status, InstanceStatus::kRejected);
}

TEST_F(DecideTest, CommentRequiredWhereTheNodeSaysSo) {
  WorkflowDef def = LoadDef(Workflow("review", R"Y(
  - { id: review, title: 节点review, kind: approval, assignees: "head_of(submitter.dept)", comment_required: true, next: approved }
)Y"), org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Refused("comment_required", "approve", "bh");
  d.Do("approve", "bh", "", {}, {}, "同意报销");
}

// --- separation of duties ------------------------------------------------------

TEST_F(DecideTest, SubmitterIsNeverTheirOwnApproverTheStepIsSkippedAndSaysSo) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  d.Do("submit", "bh", "", {}, Form());  // bh heads business: review would be bh
  EXPECT_FALSE(d.Active("review"));
  EXPECT_TRUE(d.Active("deputy"));
  const Event* skipped = d.FindEvent(ev::kNodeSkipped);
  ASSERT_NE(skipped, nullptr);
  EXPECT_EQ(skipped->node, "review");
  EXPECT_EQ(rec::Str(skipped->data, "reason"), "only_assignee_is_submitter");
}

TEST_F(DecideTest, SelfApprovalThroughTransferIsRefused) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Refused("self_approval", "transfer", "bh", "", Args({{"to", S("c1")}}));
}

TEST_F(DecideTest, AProxyCannotApproveWhatThePrincipalSubmitted) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  d.Do("submit", "x1", "", {}, Form());  // x1 is also bh's proxy in January
  d.Refused("self_approval", "approve", "x1", "", {}, "", "bh");
}

TEST_F(DecideTest, ProxyActsWithBothNamesOnTheEvent) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Refused("not_proxy", "approve", "x2", "", {}, "", "bh");
  d.Do("approve", "x1", "", {}, {}, "代签", "bh");
  const Event* signed_ev = d.FindEvent(ev::kSigned);
  ASSERT_NE(signed_ev, nullptr);
  EXPECT_EQ(signed_ev->actor.value, "x1");
  EXPECT_EQ(signed_ev->on_behalf_of.value, "bh");
  EXPECT_EQ(rec::Str(signed_ev->data, "person"), "bh");
}

TEST_F(DecideTest, ProxyOutsideItsPeriodIsRefused) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Advance(60 * kMsPerDay);  // March: the January proxy has expired
  d.Refused("not_proxy", "approve", "x1", "", {}, "", "bh");
}

TEST_F(DecideTest, OnePersonActsOncePerInstance) {
  WorkflowDef def = LoadDef(Workflow("a", R"Y(
  - { id: a, title: 节点a, kind: approval, assignees: "[person('d1'), person('d2')]", mode: any, next: b }
  - { id: b, title: 节点b, kind: approval, assignees: "[person('d1'), person('d3')]", mode: any, next: approved }
)Y"), org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("approve", "d1");
  d.Refused("already_acted", "approve", "d1");
  d.Do("approve", "d3");
  EXPECT_EQ(d.state().status, InstanceStatus::kApproved);
}

TEST_F(DecideTest, AllowRepeatActorLiftsTheOnceRule) {
  WorkflowDef def = LoadDef(Workflow("a", R"Y(
  - { id: a, title: 节点a, kind: approval, assignees: "person('d1')", next: b }
  - { id: b, title: 节点b, kind: approval, assignees: "person('d1')", allow_repeat_actor: true, next: approved }
)Y"), org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("approve", "d1");
  d.Do("approve", "d1");
  EXPECT_EQ(d.state().status, InstanceStatus::kApproved);
}

// --- dual-line review (parallel, join all) ----------------------------------------

const std::string kDualLine = Workflow("dual", R"Y(
  - id: dual
    title: 双线把关
    kind: parallel
    join: all
    branches:
      - { name: business, nodes: [b1, b2] }
      - { name: finance, nodes: [f1, f2] }
    next: route
  - { id: b1, title: 节点b1, kind: approval, assignees: "head_of(submitter.dept)" }
  - { id: b2, title: 节点b2, kind: approval, assignees: "supervisor_of(submitter.dept)" }
  - { id: f1, title: 节点f1, kind: approval, assignees: "head_of(dept('finance'))", distinct_from: [b1, b2] }
  - { id: f2, title: 节点f2, kind: approval, assignees: "supervisor_of(dept('finance'))", distinct_from: [b1, b2] }
  - id: route
    title: 金额分流
    kind: choice
    when:
      - { if: "form.amount >= yuan(50000)", to: head_review }
      - { else: pay }
  - { id: head_review, title: 节点head_review, kind: approval, assignees: "holders('head_of_unit')", next: pay }
  - { id: pay, title: 节点pay, kind: task, assignees: "holders('cashier')", task_fields: [voucher_no], next: approved }
)Y");

TEST_F(DecideTest, DualLineNeedsBothLinesAndRunsThemSideBySide) {
  WorkflowDef def = LoadDef(kDualLine, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  EXPECT_TRUE(d.Active("b1"));
  EXPECT_TRUE(d.Active("f1"));
  d.Do("approve", "bh");
  d.Do("approve", "d1");
  EXPECT_TRUE(d.state().parallels.count("dual"));  // still waiting for finance
  EXPECT_FALSE(d.Active("pay"));
  d.Do("approve", "fh");
  d.Do("approve", "d2");
  EXPECT_FALSE(d.state().parallels.count("dual"));
  EXPECT_TRUE(d.Active("pay"));  // small amount: no head-of-unit review
  FormData task;
  task["voucher_no"] = Value::Str("记-2024-001");
  d.Do("complete", "c2", "", {}, task);
  EXPECT_EQ(d.state().status, InstanceStatus::kApproved);
  EXPECT_EQ(d.state().form.at("voucher_no").as_string(), "记-2024-001");
}

// The form is shared, not copied, by the states decisions make from one
// another (InstanceState::form is copy-on-write), and a step that changes it
// changes only the new state's.
TEST_F(DecideTest, DecisionsShareTheFormUntilAStepChangesIt) {
  WorkflowDef def = LoadDef(kDualLine, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  const InstanceState submitted = d.state();
  d.Do("approve", "bh");
  EXPECT_TRUE(d.state().form.SharesWith(submitted.form));
  d.Do("approve", "d1");
  d.Do("approve", "fh");
  d.Do("approve", "d2");
  EXPECT_TRUE(d.state().form.SharesWith(submitted.form));
  const InstanceState before_pay = d.state();
  FormData task;
  task["voucher_no"] = Value::Str("记-2024-001");
  d.Do("complete", "c2", "", {}, task);
  EXPECT_EQ(d.state().form.at("voucher_no").as_string(), "记-2024-001");
  EXPECT_FALSE(d.state().form.SharesWith(before_pay.form));
  EXPECT_EQ(before_pay.form.count("voucher_no"), 0u);
  EXPECT_EQ(submitted.form.get(), Form());
  EXPECT_TRUE(before_pay.form.SharesWith(submitted.form));
}

TEST_F(DecideTest, ChoiceRoutesLargeAmountsToTheHeadOfUnit) {
  WorkflowDef def = LoadDef(kDualLine, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form(5000000));  // 50,000.00 yuan
  for (const char* p : {"bh", "d1", "fh", "d2"}) d.Do("approve", p);
  EXPECT_TRUE(d.Active("head_review"));
  const Event* routed = d.FindEvent(ev::kRouted);
  ASSERT_NE(routed, nullptr);
  EXPECT_EQ(rec::Str(routed->data, "to"), "head_review");
}

TEST_F(DecideTest, RejectionOnOneLineCancelsTheOtherAndRejects) {
  WorkflowDef def = LoadDef(kDualLine, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("approve", "bh");
  d.Do("reject", "fh", "", {}, {}, "超标准");
  EXPECT_EQ(d.state().status, InstanceStatus::kRejected);
  EXPECT_TRUE(d.state().active.empty());
}

TEST_F(DecideTest, TheSamePersonCannotSignBothLines) {
  WorkflowDef def = LoadDef(kDualLine, org_);
  Driver d(def, org_);
  d.Do("submit", "c2", "", {}, Form());  // a finance clerk: both lines start at fh
  d.Do("approve", "fh", "b1");
  d.Refused("same_person_both_lines", "approve", "fh", "f1");
}

TEST_F(DecideTest, ParallelAnyJoinFinishesOnTheFirstLine) {
  WorkflowDef def = LoadDef(Workflow("par", R"Y(
  - id: par
    title: 并行
    kind: parallel
    join: any
    branches:
      - { name: one, nodes: [p1] }
      - { name: two, nodes: [p2] }
    next: approved
  - { id: p1, title: 节点p1, kind: approval, assignees: "person('d1')" }
  - { id: p2, title: 节点p2, kind: approval, assignees: "person('d2')" }
)Y"), org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("approve", "d2");
  EXPECT_EQ(d.state().status, InstanceStatus::kApproved);
}

// --- modes -----------------------------------------------------------------------

std::string OneNode(const std::string& attrs) {
  return Workflow("n", "  - { id: n, title: 节点n, kind: approval, " + attrs + ", next: approved }\n");
}

TEST_F(DecideTest, CountersignAllNeedsEveryone) {
  WorkflowDef def = LoadDef(OneNode("assignees: \"group('leadership')\", mode: all"), org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  for (const char* p : {"head", "d1", "d2"}) d.Do("approve", p);
  EXPECT_TRUE(d.Active("n"));
  d.Refused("already_processed", "approve", "d1", "n");
  d.Do("approve", "d3");
  EXPECT_EQ(d.state().status, InstanceStatus::kApproved);
}

TEST_F(DecideTest, CountersignOneRejectionRejects) {
  WorkflowDef def = LoadDef(OneNode("assignees: \"group('leadership')\", mode: all"), org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("approve", "head");
  d.Do("reject", "d2");
  EXPECT_EQ(d.state().status, InstanceStatus::kRejected);
}

TEST_F(DecideTest, OrSignAnyOneDecides) {
  WorkflowDef def = LoadDef(OneNode("assignees: \"[person('d1'), person('d2')]\", mode: any"), org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("approve", "d2");
  EXPECT_EQ(d.state().status, InstanceStatus::kApproved);
}

TEST_F(DecideTest, SequenceGoesInOrder) {
  WorkflowDef def = LoadDef(
      OneNode("assignees: \"[person('bh'), person('d1'), person('head')]\", mode: sequence"), org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Refused("not_your_turn", "approve", "d1");
  d.Do("approve", "bh");
  d.Refused("not_your_turn", "approve", "head");
  d.Do("approve", "d1");
  d.Do("approve", "head");
  EXPECT_EQ(d.state().status, InstanceStatus::kApproved);
}

TEST_F(DecideTest, VotePassesAtTheRatio) {
  WorkflowDef def = LoadDef(
      OneNode("assignees: \"group('leadership')\", mode: vote, pass: \"2/3\""), org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("approve", "head");
  d.Do("reject", "d1");
  d.Do("approve", "d2");
  EXPECT_TRUE(d.Active("n"));  // 2 of 4 is below 2/3
  d.Do("approve", "d3");        // 3 of 4
  EXPECT_EQ(d.state().status, InstanceStatus::kApproved);
}

TEST_F(DecideTest, VoteFailsWhenTheRatioCanNoLongerBeReached) {
  WorkflowDef def = LoadDef(
      OneNode("assignees: \"group('leadership')\", mode: vote, pass: \"2/3\""), org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("reject", "d1");
  EXPECT_TRUE(d.Active("n"));
  d.Do("reject", "d2");  // at most 2 of 4 can approve now
  EXPECT_EQ(d.state().status, InstanceStatus::kRejected);
}

TEST_F(DecideTest, VoteWithVetoRejectsOnTheFirstNo) {
  WorkflowDef def = LoadDef(
      OneNode("assignees: \"group('leadership')\", mode: vote, pass: \"1/2\", veto: true"), org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("approve", "head");
  d.Do("reject", "d3");
  EXPECT_EQ(d.state().status, InstanceStatus::kRejected);
}

TEST_F(DecideTest, SoleAssigneeWhoSubmittedIsSkipped) {
  WorkflowDef def = LoadDef(OneNode("assignees: \"holders('office_director')\""), org_);
  Driver d(def, org_);
  d.Do("submit", "oh", "", {}, Form());  // oh is the only office director
  EXPECT_EQ(d.state().status, InstanceStatus::kApproved);
  EXPECT_NE(d.FindEvent(ev::kNodeSkipped), nullptr);
}

TEST_F(DecideTest, NoEligibleAssigneeRefusesTheActionThatWouldLeadThere) {
  WorkflowDef def = LoadDef(OneNode("assignees: \"form.reviewer\""), org_);
  Driver d(def, org_);
  auto r = d.Try("submit", "c1", "", {}, Form());  // no reviewer named
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "no_eligible_assignee");
  FormData f = Form();
  f["reviewer"] = Value::Str("d2");
  d.Do("submit", "c1", "", {}, f);
  EXPECT_TRUE(d.Active("n"));
}

// --- check node ---------------------------------------------------------------------

const std::string kCheck = Workflow("dup", R"Y(
  - { id: dup, title: 节点dup, kind: check, check: duplicate_invoice, params: { field: invoices }, on_pass: review, on_fail: refused }
  - { id: review, title: 节点review, kind: approval, assignees: "person('d1')", next: approved }
  - { id: refused, title: 节点refused, kind: end, outcome: rejected }
)Y");

FormData WithInvoices(std::vector<std::string> numbers) {
  FormData f = Form();
  Value::List l;
  for (const auto& n : numbers) {
    Value::Record r;
    r["number"] = Value::Str(n);
    r["amount"] = Value::Of(Money{100});
    l.push_back(Value::Of(std::move(r)));
  }
  f["invoices"] = Value::Of(std::move(l));
  return f;
}

TEST_F(DecideTest, CheckPassesAndRecordsItsVerdict) {
  WorkflowDef def = LoadDef(kCheck, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, WithInvoices({"A1", "A2"}));
  EXPECT_TRUE(d.Active("review"));
  const Event* e = d.FindEvent(ev::kCheckCompleted);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(rec::Str(e->data, "verdict"), "pass");
}

TEST_F(DecideTest, CheckFailureRoutesToItsFailNode) {
  WorkflowDef def = LoadDef(kCheck, org_);
  Driver d(def, org_);
  Value::List used{Value::Str("A2")};
  d.facts().values["invoice_numbers"] = Value::Of(used);
  d.Do("submit", "c1", "", {}, WithInvoices({"A1", "A2"}));
  EXPECT_EQ(d.state().status, InstanceStatus::kRejected);
  EXPECT_EQ(d.state().end_node, "refused");
  const Event* e = d.FindEvent(ev::kCheckCompleted);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(rec::Str(e->data, "verdict"), "fail");
  ASSERT_EQ(rec::List(e->data, "reasons").size(), 1u);
  EXPECT_EQ(rec::List(e->data, "reasons")[0].as_string(), "duplicate_invoice:A2");
}

// A caller that has not gathered the facts yet (facts_deferred) hears
// kFactsNeeded from a step that would run a check, and nothing is decided; a
// step that runs none is decided as usual.
TEST_F(DecideTest, DeferredFactsAreAskedForOnlyByAStepThatRunsACheck) {
  WorkflowDef def = LoadDef(kCheck, org_);
  Driver d(def, org_);
  Command submit;
  submit.action = "submit";
  submit.actor = PersonId("c1");
  submit.data = WithInvoices({"A1"});
  DecideContext deferred = d.Context();
  deferred.facts_deferred = true;
  auto asked = Decide(deferred, d.state(), submit);
  ASSERT_FALSE(asked.has_value());
  EXPECT_EQ(asked.error().reason, kFactsNeeded);
  EXPECT_EQ(d.state().status, InstanceStatus::kDraft);

  d.Do("submit", "c1", "", {}, WithInvoices({"A1"}));  // with the facts
  ASSERT_TRUE(d.Active("review"));
  Command approve;
  approve.action = "approve";
  approve.actor = PersonId("d1");
  deferred = d.Context();
  deferred.facts_deferred = true;
  auto without = Decide(deferred, d.state(), approve);
  ASSERT_TRUE(without.has_value()) << without.error().ToString();
  auto with = Decide(d.Context(), d.state(), approve);
  ASSERT_TRUE(with.has_value());
  EXPECT_TRUE(without->state == with->state);
  EXPECT_EQ(without->state.status, InstanceStatus::kApproved);
}

TEST_F(DecideTest, DuplicateNumbersInsideOneRequestFail) {
  WorkflowDef def = LoadDef(kCheck, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, WithInvoices({"A1", "A1"}));
  EXPECT_EQ(d.state().end_node, "refused");
}

// --- return, resubmit, cancel, withdraw, take back ---------------------------------------

TEST_F(DecideTest, ReturnGoesBackNeverForward) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Refused("invalid_return_target", "return", "bh", "", Args({{"to", S("deputy")}}));
  d.Do("approve", "bh");
  d.Refused("missing_argument", "return", "d1");
  d.Do("return", "d1", "", Args({{"to", S("review")}}), {}, "请补充说明");
  EXPECT_TRUE(d.Active("review"));
  EXPECT_FALSE(d.Active("deputy"));
  d.Do("approve", "bh");  // the same person reviews the same step again
  d.Do("approve", "d1");
  EXPECT_EQ(d.state().status, InstanceStatus::kApproved);
}

TEST_F(DecideTest, ReturnToSubmitterThenResubmitOrCancel) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("return", "bh", "", Args({{"to", S("start")}}), {}, "金额有误");
  EXPECT_TRUE(d.Active("_resubmit"));
  d.Refused("not_submitter", "resubmit", "bh");
  d.Do("resubmit", "c1", "", {}, Form(999));
  EXPECT_EQ(d.state().form.at("amount").as_money().fen, 999);
  EXPECT_TRUE(d.Active("review"));
  d.Do("return", "bh", "", Args({{"to", S("start")}}), {}, "仍有误");
  d.Do("cancel", "c1");
  EXPECT_EQ(d.state().status, InstanceStatus::kCancelled);
}

TEST_F(DecideTest, ReturnTargetsCanBeRestrictedByTheDefinition) {
  WorkflowDef def = LoadDef(Workflow("a", R"Y(
  - { id: a, title: 节点a, kind: approval, assignees: "person('bh')", next: b }
  - { id: b, title: 节点b, kind: approval, assignees: "person('d1')", next: c }
  - { id: c, title: 节点c, kind: approval, assignees: "person('head')", return_to: [b], next: approved }
)Y"), org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("approve", "bh");
  d.Do("approve", "d1");
  d.Refused("invalid_return_target", "return", "head", "", Args({{"to", S("a")}}));
  d.Do("return", "head", "", Args({{"to", S("b")}}));
  EXPECT_TRUE(d.Active("b"));
}

TEST_F(DecideTest, ReturnInsideOneLineLeavesTheOtherLineAlone) {
  WorkflowDef def = LoadDef(kDualLine, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("approve", "bh");
  d.Do("approve", "fh");
  d.Refused("invalid_return_target", "return", "d1", "b2", Args({{"to", S("f1")}}));
  d.Do("return", "d1", "b2", Args({{"to", S("b1")}}));
  EXPECT_TRUE(d.Active("b1"));
  EXPECT_TRUE(d.Active("f2"));  // finance line untouched
}

TEST_F(DecideTest, ReturnFromAfterTheJoinReopensOnlyTheChosenLine) {
  WorkflowDef def = LoadDef(kDualLine, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form(5000000));
  for (const char* p : {"bh", "d1", "fh", "d2"}) d.Do("approve", p);
  d.Do("return", "head", "", Args({{"to", S("f2")}}));
  EXPECT_TRUE(d.Active("f2"));
  EXPECT_FALSE(d.Active("b2"));
  d.Do("approve", "d2");
  EXPECT_TRUE(d.Active("head_review"));
}

TEST_F(DecideTest, WithdrawOnlyBeforeAnyoneActed) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  {
    Driver d(def, org_);
    d.Do("submit", "c1", "", {}, Form());
    d.Refused("not_submitter", "withdraw", "bh");
    d.Do("withdraw", "c1");
    EXPECT_EQ(d.state().status, InstanceStatus::kWithdrawn);
  }
  {
    Driver d(def, org_);
    d.Do("submit", "c1", "", {}, Form());
    d.Do("approve", "bh");
    d.Refused("already_processed", "withdraw", "c1");
  }
}

TEST_F(DecideTest, TakeBackBeforeTheNextStepActs) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("approve", "bh", "", {}, {}, "同意");
  d.Do("take_back", "bh");
  EXPECT_TRUE(d.Active("review"));
  EXPECT_FALSE(d.Active("deputy"));
  EXPECT_EQ(d.state().active.at("review").signers[0].state, SignerState::kPending);
  d.Do("approve", "bh");
  d.Do("approve", "d1");
  EXPECT_EQ(d.state().status, InstanceStatus::kApproved);
}

// The node a decision completed, kept for 拿回 (LastCompletion::token), is
// moved out of the active nodes when it completes and shared, not copied, by
// the states decided from that one; taking it back restores it as it was.
TEST_F(DecideTest, DecisionsShareTheCompletedNodeKeptForTakingBack) {
  WorkflowDef def = LoadDef(kDualLine, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("approve", "bh", "", {}, {}, "同意");
  ASSERT_TRUE(d.state().last_completion);
  const InstanceState completed = d.state();
  EXPECT_EQ(completed.last_completion->token->node, "b1");
  ASSERT_EQ(completed.last_completion->token->signers.size(), 1u);
  EXPECT_EQ(completed.last_completion->token->signers[0].comment, "同意");
  d.Do("comment", "c1", "", {}, {}, "请尽快");  // a comment keeps the completion
  ASSERT_TRUE(d.state().last_completion);
  EXPECT_TRUE(d.state().last_completion->token.SharesWith(completed.last_completion->token));
  d.Do("take_back", "bh");
  EXPECT_FALSE(d.state().last_completion);
  EXPECT_EQ(d.state().active.at("b1").signers[0].state, SignerState::kPending);
  EXPECT_EQ(d.state().active.at("b1").signers[0].comment, "");
  EXPECT_EQ(completed.last_completion->token->signers[0].comment, "同意");
}

TEST_F(DecideTest, TakeBackRefusedOnceTheNextStepActed) {
  WorkflowDef def = LoadDef(Workflow("a", R"Y(
  - { id: a, title: 节点a, kind: approval, assignees: "person('bh')", next: b }
  - { id: b, title: 节点b, kind: approval, assignees: "[person('d1'), person('d2')]", mode: all, next: approved }
)Y"), org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("approve", "bh");
  d.Do("approve", "d1");
  d.Refused("take_back_not_allowed", "take_back", "bh");
  // d1 may still take back inside the countersign while d2 has not decided.
  d.Do("take_back", "d1");
  EXPECT_EQ(d.state().active.at("b").FindSigner(PersonId("d1"))->state,
            SignerState::kPending);
}

std::string Describe(const std::vector<AvailableAction>& actions) {
  std::string s;
  for (const auto& a : actions) s += a.action + "@" + a.node + " ";
  return s;
}

bool Offers(const std::vector<AvailableAction>& actions, const char* action, const char* node) {
  for (const auto& a : actions)
    if (a.action == action && a.node == node) return true;
  return false;
}

// An approval whose completion led to a meeting may be taken back until the
// agenda is distributed. AvailableActions (whose take-back trial stops at the
// checks) offers it exactly then, like Decide and the reference.
TEST_F(DecideTest, TakeBackIntoAMeetingIsOfferedUntilTheAgendaIsDistributed) {
  WorkflowDef def = LoadDef(Workflow("a", R"Y(
  - { id: a, title: 节点a, kind: approval, assignees: "person('bh')", next: m }
  - id: m
    title: 党委会
    kind: meeting
    members: "group('leadership')"
    head: "holders('head_of_unit')"
    secretary: "holders('office_director')"
    quorum: [ { ratio: 1/2, strict: true } ]
    pass: { ratio: 1/2, strict: true }
    on_pass: approved
    on_fail: rejected
)Y"), org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("approve", "bh");
  DecideContext ctx = d.Context();
  auto before = AvailableActions(ctx, d.state(), PersonId("bh"));
  EXPECT_TRUE(Offers(before, "take_back", "a"));
  EXPECT_EQ(Describe(before), Describe(AvailableActionsReference(ctx, d.state(), PersonId("bh"))));
  d.Do("distribute", "oh");
  ctx = d.Context();
  auto after = AvailableActions(ctx, d.state(), PersonId("bh"));
  EXPECT_FALSE(Offers(after, "take_back", "a")) << Describe(after);
  EXPECT_EQ(Describe(after), Describe(AvailableActionsReference(ctx, d.state(), PersonId("bh"))));
  d.Refused("take_back_not_allowed", "take_back", "bh");
}

TEST_F(DecideTest, TakeBackOfAFinishedLineReopensIt) {
  WorkflowDef def = LoadDef(kDualLine, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("approve", "bh");
  d.Do("approve", "d1");  // business line done, finance still open
  d.Do("take_back", "d1");
  EXPECT_TRUE(d.Active("b2"));
  EXPECT_FALSE(d.state().parallels.at("dual").done[0]);
}

// --- transfer, delegate, add/remove signer, cc, urge, comment -------------------------------

TEST_F(DecideTest, TransferHandsTheDecisionToSomeoneElse) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Refused("missing_argument", "transfer", "bh");
  d.Do("transfer", "bh", "", Args({{"to", S("x2")}}), {}, "出差，请代为审核");
  d.Refused("not_assignee", "approve", "bh");
  d.Do("approve", "x2");
  EXPECT_TRUE(d.Active("deputy"));
}

TEST_F(DecideTest, TransferCanBeDisabledByTheNode) {
  WorkflowDef def = LoadDef(OneNode("assignees: \"person('d1')\", allow_transfer: false"), org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Refused("action_disabled", "transfer", "d1", "", Args({{"to", S("d2")}}));
}

TEST_F(DecideTest, DelegateThenResolveThenTheOriginalDecides) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("delegate", "bh", "", Args({{"to", S("x2")}}));
  d.Refused("wrong_state", "approve", "bh", "review");
  d.Refused("not_delegate", "resolve", "x1");
  d.Do("resolve", "x2", "", {}, {}, "核对无误");
  d.Do("approve", "bh");
  EXPECT_TRUE(d.Active("deputy"));
}

TEST_F(DecideTest, AddSignerBeforeMeMustApproveFirst) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("add_signer", "bh", "", Args({{"person", S("x2")}, {"how", S("before")}}));
  d.Refused("not_your_turn", "approve", "bh", "review");
  d.Do("approve", "x2");
  EXPECT_TRUE(d.Active("review"));
  d.Do("approve", "bh");
  EXPECT_TRUE(d.Active("deputy"));
}

TEST_F(DecideTest, AddSignerAfterMeMustApproveAfter) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("add_signer", "bh", "", Args({{"person", S("x2")}, {"how", S("after")}}));
  d.Refused("not_your_turn", "approve", "x2", "review");
  d.Do("approve", "bh");
  EXPECT_TRUE(d.Active("review"));
  d.Do("approve", "x2");
  EXPECT_TRUE(d.Active("deputy"));
}

TEST_F(DecideTest, AddSignerInParallelAndRemoveIt) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("add_signer", "bh", "", Args({{"person", S("x2")}, {"how", S("parallel")}}));
  d.Do("approve", "bh");
  EXPECT_TRUE(d.Active("review"));  // waits for x2 too
  d.Refused("not_assignee", "remove_signer", "d1", "", Args({{"person", S("x2")}}));
  d.Do("remove_signer", "bh", "", Args({{"person", S("x2")}}));
  EXPECT_TRUE(d.Active("deputy"));  // removing the last open signer completes
}

TEST_F(DecideTest, AddSignerCannotAddTheSubmitter) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Refused("self_approval", "add_signer", "bh", "", Args({{"person", S("c1")}}));
}

TEST_F(DecideTest, CcUrgeAndComment) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Refused("not_involved", "cc", "x3", "", Args({{"people", Value::Of(Value::List{S("x2")})}}));
  d.Do("cc", "c1", "", Args({{"people", Value::Of(Value::List{S("x2")})}}));
  EXPECT_EQ(d.state().cc.size(), 1u);
  d.Do("comment", "x2", "", {}, {}, "已阅");  // cc'd people may comment
  d.Do("urge", "c1");
  d.Refused("urge_too_soon", "urge", "c1");
  d.Advance(31 * 60 * 1000);
  d.Do("urge", "c1");
  d.Refused("not_submitter", "urge", "bh");
}

// Whether AvailableActions offers `person` the action `action` on d's
// state at time `at`; *until gets how long that answer holds.
bool OffersAt(Driver& d, const char* person, const char* action, Timestamp at, Timestamp* until) {
  DecideContext ctx = d.Context();
  ctx.now = at;
  for (const auto& a : AvailableActions(ctx, d.state(), PersonId(person), until))
    if (a.action == action) return true;
  return false;
}

// AvailableActions says until when its answer holds: the submitter may urge
// again once the urge interval is over, and not a millisecond before.
TEST_F(DecideTest, AvailableActionsHoldUntilTheUrgeIntervalIsOver) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  auto offers_urge = [&](Timestamp at, Timestamp* until) {
    return OffersAt(d, "c1", "urge", at, until);
  };
  Timestamp until;
  EXPECT_TRUE(offers_urge(d.now(), &until));
  EXPECT_EQ(until, kNever);  // nothing here changes with time
  AvailableActions(d.Context(), d.state(), PersonId("bh"), &until);
  EXPECT_EQ(until, kNever);

  d.Do("urge", "c1");
  const Timestamp again{d.now().ms + DecideContext().urge_interval_ms};
  EXPECT_FALSE(offers_urge(d.now(), &until));
  EXPECT_EQ(until, again);
  EXPECT_FALSE(offers_urge(Timestamp{again.ms - 1}, &until));
  EXPECT_EQ(until, again);
  EXPECT_TRUE(offers_urge(again, &until));
  EXPECT_EQ(until, kNever);
}

// --- deadlines ------------------------------------------------------------------------------

TEST_F(DecideTest, DeadlineRemindsOnce) {
  WorkflowDef def = LoadDef(OneNode(
      "assignees: \"person('d1')\", deadline: { after: 48h, action: remind }"), org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Do("tick", "system");
  EXPECT_TRUE(d.history().back().type != ev::kDeadlineReminded);
  d.Advance(48 * kMsPerHour);
  d.Do("tick", "system");
  EXPECT_EQ(d.history().back().type, ev::kDeadlineReminded);
  EXPECT_FALSE(d.state().active.at("n").deadline.has_value());
  d.Refused("system_only", "tick", "d1");
}

TEST_F(DecideTest, DeadlineEscalatesToTheSupervisorWhoMayDecide) {
  WorkflowDef def = LoadDef(OneNode(
      "assignees: \"person('bh')\", deadline: { after: 24h, action: escalate, to: \"supervisor_of(dept('business'))\" }"),
      org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  d.Advance(25 * kMsPerHour);
  d.Do("tick", "system");
  EXPECT_TRUE(d.HasEvent(ev::kEscalated));
  d.Do("approve", "d1");
  EXPECT_EQ(d.state().status, InstanceStatus::kApproved);
}

TEST_F(DecideTest, DeadlineAutoApproveAndAutoReject) {
  for (const char* a : {"approve", "reject"}) {
    WorkflowDef def = LoadDef(OneNode(std::string("assignees: \"person('d1')\", deadline: { after: 1h, action: ") +
                                      a + " }"),
                              org_);
    Driver d(def, org_);
    d.Do("submit", "c1", "", {}, Form());
    d.Advance(kMsPerHour);
    d.Do("tick", "system");
    EXPECT_EQ(d.state().status, std::string(a) == "approve" ? InstanceStatus::kApproved
                                                            : InstanceStatus::kRejected);
  }
}

TEST_F(DecideTest, DeadlineTransfersThePendingSigner) {
  WorkflowDef def = LoadDef(OneNode(
      "assignees: \"person('d1')\", deadline: { after: 2 working days, action: transfer, to: \"person('d3')\" }"),
      org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());  // Monday 09:00
  d.Advance(2 * kMsPerDay - 1);          // Wednesday 08:59:59.999
  d.Do("tick", "system");
  EXPECT_FALSE(d.HasEvent(ev::kTransferred));
  d.Advance(1);
  d.Do("tick", "system");
  EXPECT_TRUE(d.HasEvent(ev::kTransferred));
  d.Do("approve", "d3");
  EXPECT_EQ(d.state().status, InstanceStatus::kApproved);
}

// --- meetings (三重一大) -----------------------------------------------------------------------

const std::string kMeeting = Workflow("m", R"Y(
  - id: m
    title: 党委会
    kind: meeting
    members: "group('leadership')"
    head: "holders('head_of_unit')"
    secretary: "holders('office_director')"
    quorum:
      - { if: "form.category == 'personnel'", ratio: 2/3, strict: false }
      - { ratio: 1/2, strict: true }
    pass: { ratio: 1/2, strict: true }
    deliberation: 2 working days
    read_receipts: true
    on_pass: approved
    on_fail: rejected
)Y");

class MeetingTest : public DecideTest {
 protected:
  void Prepare(Driver& d, const char* category = "ordinary") {
    d.Do("submit", "d1", "", {}, Form(100, category));
    d.Refused("not_secretary", "distribute", "d1");
    d.Refused("not_distributed", "acknowledge", "d2");
    d.Do("distribute", "oh");
    for (const char* p : {"head", "d1", "d2", "d3"}) d.Do("acknowledge", p);
  }
};

TEST_F(MeetingTest, OpensOnlyAfterDeliberationWithReceiptsAndQuorum) {
  WorkflowDef def = LoadDef(kMeeting, org_);
  Driver d(def, org_);
  d.Do("submit", "d1", "", {}, Form());
  d.Do("distribute", "oh");
  d.Do("acknowledge", "head");
  d.Advance(3 * kMsPerDay);
  d.Refused("receipts_missing", "open", "oh");
  for (const char* p : {"d1", "d2", "d3"}) d.Do("acknowledge", p);
  d.Do("attend", "head");
  d.Do("attend", "d1");
  d.Refused("quorum_not_met", "open", "oh");  // 2 of 4 is not more than half
  d.Do("attend", "d2");
  d.Do("open", "oh");
}

// A meeting's record is shared by the states that leave it alone and copied
// by the step that changes it: the earlier state keeps its own record.
TEST_F(MeetingTest, AMeetingStepChangesOnlyTheNewStatesRecord) {
  WorkflowDef def = LoadDef(kMeeting, org_);
  Driver d(def, org_);
  d.Do("submit", "d1", "", {}, Form());
  const InstanceState submitted = d.state();
  d.Do("comment", "d1", "", {}, {}, "请尽快上会");
  EXPECT_TRUE(d.state().active.at("m").meeting.SharesWith(submitted.active.at("m").meeting));
  d.Do("distribute", "oh");
  EXPECT_TRUE(d.state().active.at("m").meeting->distributed);
  EXPECT_FALSE(submitted.active.at("m").meeting->distributed);
  EXPECT_EQ(submitted.active.at("m").meeting->members,
            d.state().active.at("m").meeting->members);
  EXPECT_FALSE(submitted.active.at("m").meeting.SharesWith(d.state().active.at("m").meeting));
}

TEST_F(MeetingTest, DeliberationPeriodCountsWorkingDays) {
  WorkflowDef def = LoadDef(kMeeting, org_);
  Driver d(def, org_);
  // Distributed Friday 2024-01-12; two working days later is Tuesday.
  d.Advance(4 * kMsPerDay);
  Prepare(d);
  for (const char* p : {"head", "d1", "d2"}) d.Do("attend", p);
  d.Advance(3 * kMsPerDay);  // Monday
  d.Refused("deliberation_not_over", "open", "oh");
  d.Advance(kMsPerDay);  // Tuesday
  d.Do("open", "oh");
}

// The secretary is offered "open" from the moment the deliberation period is
// over, and the answer given before says so.
TEST_F(MeetingTest, AvailableActionsHoldUntilTheDeliberationPeriodIsOver) {
  WorkflowDef def = LoadDef(kMeeting, org_);
  Driver d(def, org_);
  Prepare(d);
  for (const char* p : {"head", "d1", "d2"}) d.Do("attend", p);
  auto offers_open = [&](Timestamp at, Timestamp* until) {
    return OffersAt(d, "oh", "open", at, until);
  };
  Timestamp until;
  EXPECT_FALSE(offers_open(d.now(), &until));
  ASSERT_LT(d.now(), until);
  ASSERT_LT(until, kNever);
  const Timestamp opens = until;
  EXPECT_FALSE(offers_open(Timestamp{opens.ms - 1}, &until));
  EXPECT_EQ(until, opens);
  EXPECT_TRUE(offers_open(opens, &until));
  // Distributed Monday 2024-01-08: two working days later is Wednesday.
  EXPECT_EQ(opens, *ParseTimestamp("2024-01-10T00:00:00+08:00"));
}

// An answer that read the clock in a way not tracked holds at that instant
// only: here the approver's approval runs a choice on `now`.
TEST_F(DecideTest, AvailableActionsReadingNowHoldOnlyThen) {
  WorkflowDef def = LoadDef(Workflow("review", R"Y(
  - { id: review, kind: approval, title: 股室审核, assignees: "head_of(submitter.dept)", next: route }
  - id: route
    title: 时间分流
    kind: choice
    when:
      - { if: "now != now", to: rejected }
      - { else: approved }
)Y"), org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  Timestamp until;
  auto actions = AvailableActions(d.Context(), d.state(), PersonId("bh"), &until);
  EXPECT_FALSE(actions.empty());
  EXPECT_EQ(until, d.now());
}

TEST_F(MeetingTest, PersonnelMattersNeedTwoThirds) {
  WorkflowDef def = LoadDef(kMeeting, org_);
  Driver d(def, org_);
  Prepare(d, "personnel");
  d.Advance(2 * kMsPerDay);
  d.Do("attend", "head");
  d.Do("attend", "d1");
  d.Refused("quorum_not_met", "open", "oh");
  d.Do("attend", "d2");  // 3 of 4 >= 2/3
  d.Do("open", "oh");
}

TEST_F(MeetingTest, HeadSpeaksAndVotesLastRecusedAndAbsentTakeNoPart) {
  WorkflowDef def = LoadDef(kMeeting, org_);
  Driver d(def, org_);
  Prepare(d);
  d.Advance(2 * kMsPerDay);
  for (const char* p : {"head", "d1", "d2", "d3"}) d.Do("attend", p);
  d.Do("recuse", "d3", "", Args({{"reason", S("与供应商有亲属关系")}}));
  d.Refused("meeting_not_open", "opinion", "d1", "", {}, "同意");
  d.Do("open", "oh");
  d.Refused("head_must_speak_last", "opinion", "head", "", {}, "同意");
  d.Do("opinion", "d1", "", {}, {}, "同意，预算已核");
  d.Refused("recused_member", "opinion", "d3", "", {}, "同意");
  d.Refused("opinions_incomplete", "vote", "d1", "", Args({{"option", S("agree")}}));
  d.Do("opinion", "d2", "", {}, {}, "同意");
  d.Do("opinion", "head", "", {}, {}, "综合大家意见，同意");
  d.Refused("head_must_vote_last", "vote", "head", "", Args({{"option", S("agree")}}));
  d.Refused("invalid_vote_option", "vote", "d1", "", Args({{"option", S("maybe")}}));
  d.Do("vote", "d1", "", Args({{"option", S("agree")}}));
  d.Refused("recused_member", "vote", "d3", "", Args({{"option", S("agree")}}));
  d.Refused("votes_incomplete", "close", "oh");
  d.Do("vote", "d2", "", Args({{"option", S("disagree")}}));
  d.Do("vote", "head", "", Args({{"option", S("agree")}}));
  d.Do("close", "oh");
  // 2 agree of 3 entitled (d3 recused) is more than half.
  EXPECT_EQ(d.state().status, InstanceStatus::kApproved);
  const Event* closed = d.FindEvent(ev::kMeetingClosed);
  ASSERT_NE(closed, nullptr);
  EXPECT_EQ(rec::Str(closed->data, "result"), "passed");
  EXPECT_EQ(rec::Int(closed->data, "entitled"), 3);
  const auto& order = rec::List(closed->data, "speaking_order");
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order.back().as_string(), "head");
}

TEST_F(MeetingTest, PassRuleCountsMembersEntitledNotPresent) {
  WorkflowDef def = LoadDef(kMeeting, org_);
  Driver d(def, org_);
  Prepare(d);
  d.Advance(2 * kMsPerDay);
  for (const char* p : {"head", "d1", "d2"}) d.Do("attend", p);  // d3 absent
  d.Do("open", "oh");
  for (const char* p : {"d1", "d2", "head"}) d.Do("opinion", p, "", {}, {}, "意见");
  d.Do("vote", "d1", "", Args({{"option", S("agree")}}));
  d.Do("vote", "d2", "", Args({{"option", S("disagree")}}));
  d.Do("vote", "head", "", Args({{"option", S("agree")}}));
  d.Do("close", "oh");
  // 2 agree of 4 entitled is not more than half: fails although 2 of 3 present agreed.
  EXPECT_EQ(d.state().status, InstanceStatus::kRejected);
}

TEST_F(MeetingTest, DeferredTopicComesBackToTheAgenda) {
  WorkflowDef def = LoadDef(kMeeting, org_);
  Driver d(def, org_);
  Prepare(d);
  d.Advance(2 * kMsPerDay);
  for (const char* p : {"head", "d1", "d2", "d3"}) d.Do("attend", p);
  d.Do("open", "oh");
  for (const char* p : {"d1", "d2", "d3", "head"}) d.Do("opinion", p, "", {}, {}, "需再研究");
  for (const char* p : {"d1", "d2", "d3", "head"})
    d.Do("vote", p, "", Args({{"option", S("defer")}}));
  d.Do("close", "oh");
  EXPECT_EQ(d.state().status, InstanceStatus::kRunning);
  ASSERT_TRUE(d.Active("m"));
  EXPECT_FALSE(d.state().active.at("m").meeting->distributed);  // a fresh round
}

TEST_F(MeetingTest, NonMembersCannotTakePart) {
  WorkflowDef def = LoadDef(kMeeting, org_);
  Driver d(def, org_);
  Prepare(d);
  d.Refused("not_member", "attend", "c1");
}

// --- available actions ---------------------------------------------------------------------------

TEST_F(DecideTest, AvailableActionsShowExactlyWhatEachPersonMayDo) {
  WorkflowDef def = LoadDef(kTwoStep, org_);
  Driver d(def, org_);
  d.Do("submit", "c1", "", {}, Form());
  DecideContext ctx = d.Context();
  auto names = [&](const char* who) {
    std::set<std::string> s;
    for (const auto& a : AvailableActions(ctx, d.state(), PersonId(who))) s.insert(a.action);
    return s;
  };
  auto bh = names("bh");
  EXPECT_TRUE(bh.count("approve") && bh.count("reject") && bh.count("transfer") &&
              bh.count("add_signer") && bh.count("delegate"));
  EXPECT_FALSE(bh.count("withdraw"));
  auto c1 = names("c1");
  EXPECT_TRUE(c1.count("withdraw") && c1.count("urge"));
  EXPECT_FALSE(c1.count("approve"));
  EXPECT_TRUE(names("x3").empty());
}

}  // namespace
}  // namespace approvald::testing
