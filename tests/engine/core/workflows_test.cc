// Every file shipped in workflows/ loads against config/org.yaml and the real
// built-in checks; together they use every node kind, approval mode, join
// mode and deadline action; and the key rules of the seed are really in them
// (evaluated against the seed organisation, not just present as text).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "core/expr.h"
#include "loader_test_util.h"

namespace approvald {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using testing::ErrorLines;
using testing::SeedOrg;

// Every workflows/*.yaml, loaded once: file stem -> definition.
const std::map<std::string, WorkflowDef>& Shipped() {
  static const auto* defs = [] {
    auto* out = new std::map<std::string, WorkflowDef>;
    for (const auto& entry : fs::directory_iterator(testing::SourceDir() / "workflows")) {
      if (entry.path().extension() != ".yaml") continue;
      const std::string rel = "workflows/" + entry.path().filename().string();
      WorkflowLoad load = LoadWorkflow(testing::ReadTextFile(entry.path()), rel,
                                       SeedOrg(), CheckRegistry::Builtin());
      if (!load.def) {
        ADD_FAILURE() << rel << " does not load:\n"
                      << ::testing::PrintToString(ErrorLines(load.errors));
        continue;
      }
      out->emplace(entry.path().stem().string(), std::move(*load.def));
    }
    return out;
  }();
  return *defs;
}

const WorkflowDef& Get(const std::string& stem) {
  auto it = Shipped().find(stem);
  if (it == Shipped().end()) throw std::runtime_error("no workflows/" + stem + ".yaml");
  return it->second;
}

TEST(ShippedWorkflowsTest, EveryFileLoadsAndItsIdIsItsName) {
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(testing::SourceDir() / "workflows")) {
    files += entry.path().extension() == ".yaml";
  }
  EXPECT_GE(files, 5u);
  EXPECT_EQ(Shipped().size(), files);
  for (const auto& [stem, def] : Shipped()) {
    EXPECT_EQ(def.id, stem);
    EXPECT_FALSE(def.title.empty()) << stem;
    EXPECT_FALSE(def.title_en.empty()) << stem;
    for (const NodeDef& n : def.nodes) {
      if (n.kind != NodeKind::kChoice) {
        EXPECT_FALSE(n.title.empty()) << stem << "/" << n.id;
      }
    }
  }
  for (const char* required :
       {"expense", "sanzhong-yida", "procurement", "publication", "secondment",
        "union-appropriation", "rectification", "voucher-selfcheck"}) {
    EXPECT_TRUE(Shipped().count(required)) << required;
  }
}

TEST(ShippedWorkflowsTest, TogetherTheyUseEveryKindModeJoinAndDeadlineAction) {
  std::set<NodeKind> kinds;
  std::set<ApprovalMode> modes;
  std::set<JoinMode> joins;
  std::set<DeadlineAction> actions;
  for (const auto& [stem, def] : Shipped()) {
    for (const NodeDef& n : def.nodes) {
      kinds.insert(n.kind);
      if (n.kind == NodeKind::kApproval) modes.insert(n.mode);
      if (n.kind == NodeKind::kParallel) joins.insert(n.join);
      if (n.deadline) actions.insert(n.deadline->action);
    }
  }
  EXPECT_EQ(kinds,
            (std::set<NodeKind>{NodeKind::kApproval, NodeKind::kTask, NodeKind::kParallel,
                                NodeKind::kChoice, NodeKind::kCheck, NodeKind::kMeeting,
                                NodeKind::kEnd}));
  EXPECT_EQ(modes, (std::set<ApprovalMode>{ApprovalMode::kSingle, ApprovalMode::kAll,
                                           ApprovalMode::kAny, ApprovalMode::kSequence,
                                           ApprovalMode::kVote}));
  EXPECT_EQ(joins, (std::set<JoinMode>{JoinMode::kAll, JoinMode::kAny}));
  EXPECT_EQ(actions, (std::set<DeadlineAction>{
                         DeadlineAction::kRemind, DeadlineAction::kEscalate,
                         DeadlineAction::kAutoApprove, DeadlineAction::kAutoReject,
                         DeadlineAction::kTransfer}));
}

// Evaluates a node's assignees for `submitter` with `form`.
std::vector<PersonId> People(const ExprPtr& e, const std::string& submitter,
                             const FormData& form = {}) {
  expr::EvalEnv env;
  env.form = &form;
  env.org = &SeedOrg();
  env.submitter = PersonId(submitter);
  auto people = expr::EvaluatePeople(*e, env);
  EXPECT_TRUE(people) << e->source << ": " << people.error().ToString();
  return people ? *people : std::vector<PersonId>{};
}

// The arm a choice node takes for `form` (submitted by a 园林室 clerk unless
// `submitter` is given).
std::string RouteFor(const NodeDef& route, const FormData& form,
                     const char* submitter = "xu_lei") {
  expr::EvalEnv env;
  env.form = &form;
  env.org = &SeedOrg();
  env.submitter = PersonId(submitter);
  for (const ChoiceArm& arm : route.arms) {
    if (!arm.when) return arm.to;
    auto taken = expr::EvaluateCondition(*arm.when, env);
    EXPECT_TRUE(taken) << arm.when->source;
    if (taken && *taken) return arm.to;
  }
  return "";
}

TEST(ShippedWorkflowsTest, ExpenseRunsTwoLinesThatBothMustPass) {
  const WorkflowDef& def = Get("expense");
  EXPECT_EQ(def.start, "attachment_check");
  EXPECT_EQ(def.FindNode("attachment_check")->on_pass, "line_route");
  EXPECT_EQ(RouteFor(*def.FindNode("line_route"), {}), "dual_review");
  const NodeDef* dual = def.FindNode("dual_review");
  ASSERT_NE(dual, nullptr);
  EXPECT_EQ(dual->kind, NodeKind::kParallel);
  EXPECT_EQ(dual->join, JoinMode::kAll);
  ASSERT_EQ(dual->branches.size(), 2u);
  EXPECT_THAT(dual->branches[0].nodes,
              ElementsAre("dept_head_review", "dept_deputy_review"));
  EXPECT_THAT(dual->branches[1].nodes,
              ElementsAre("invoice_check", "finance_review", "finance_deputy_review"));
  EXPECT_EQ(def.FindNode("invoice_check")->check, "duplicate_invoice");

  // For a 园林室 clerk the four signers are four different people: the
  // department head, its deputy, the 计财室 head and finance's deputy.
  const char* lines[] = {"dept_head_review", "dept_deputy_review", "finance_review",
                         "finance_deputy_review"};
  std::vector<PersonId> signers;
  for (const char* id : lines) {
    std::vector<PersonId> p = People(def.FindNode(id)->assignees, "xu_lei");
    ASSERT_EQ(p.size(), 1u) << id;
    signers.push_back(p[0]);
  }
  EXPECT_THAT(signers, ElementsAre(PersonId("yang_fan"), PersonId("liu_guoqiang"),
                                   PersonId("zheng_li"), PersonId("wang_haiyan")));
  // And the business line may not be signed by a finance-line signer.
  EXPECT_THAT(def.FindNode("dept_head_review")->distinct_from,
              ElementsAre("finance_review", "finance_deputy_review"));
  EXPECT_THAT(def.FindNode("finance_review")->distinct_from,
              ElementsAre("dept_head_review", "dept_deputy_review"));
}

// A 计财室 member's claim: on dual_review both lines would name 郑丽 and
// 王海燕, so it can only be rejected. It takes finance_staff_review, where the
// four signers differ and none is the claimant — for a clerk, the cashier
// and the head of 计财室 herself.
TEST(ShippedWorkflowsTest, FinanceStaffClaimsTakeTheirOwnRoute) {
  const WorkflowDef& def = Get("expense");
  const NodeDef* route = def.FindNode("line_route");
  ASSERT_NE(route, nullptr);
  for (const char* claimant : {"he_jing", "sun_yue", "zheng_li"})
    EXPECT_EQ(RouteFor(*route, {}, claimant), "finance_staff_review") << claimant;
  EXPECT_EQ(RouteFor(*route, {}, "xu_lei"), "dual_review");
  const NodeDef* review = def.FindNode("finance_staff_review");
  ASSERT_NE(review, nullptr);
  EXPECT_EQ(review->join, JoinMode::kAll);
  EXPECT_EQ(review->next, "standard_check");
  ASSERT_EQ(review->branches.size(), 2u);
  EXPECT_THAT(review->branches[0].nodes, ElementsAre("finance_staff_business_review"));
  EXPECT_THAT(review->branches[1].nodes,
              ElementsAre("finance_staff_invoice_check", "finance_staff_finance_review",
                          "finance_staff_finance_deputy_review"));
  EXPECT_EQ(def.FindNode("finance_staff_invoice_check")->check, "duplicate_invoice");

  // Eligible signers per node (the engine drops the claimant from approvals).
  auto eligible = [&](const char* node, const char* claimant) {
    std::vector<PersonId> out;
    for (const PersonId& p : People(def.FindNode(node)->assignees, claimant))
      if (p != PersonId(claimant)) out.push_back(p);
    return out;
  };
  for (const char* claimant : {"he_jing", "sun_yue", "zheng_li"}) {
    EXPECT_THAT(eligible("finance_staff_business_review", claimant),
                ElementsAre(PersonId("chen_zhiyuan")))
        << claimant;
    EXPECT_THAT(eligible("finance_staff_finance_deputy_review", claimant),
                ElementsAre(PersonId("wang_haiyan")))
        << claimant;
  }
  // 计财室's finance reviewers (config/org.yaml), never the claimant: the
  // accountant's claim goes to the head, the head's to the accountant.
  EXPECT_THAT(eligible("finance_staff_finance_review", "he_jing"),
              ElementsAre(PersonId("zheng_li")));
  EXPECT_THAT(eligible("finance_staff_finance_review", "zheng_li"),
              ElementsAre(PersonId("he_jing")));
  EXPECT_THAT(eligible("finance_staff_finance_review", "sun_yue"),
              ElementsAre(PersonId("zheng_li"), PersonId("he_jing")));
  EXPECT_EQ(def.FindNode("finance_staff_finance_review")->mode, ApprovalMode::kAny);
  EXPECT_THAT(def.FindNode("finance_staff_finance_review")->distinct_from,
              ElementsAre("finance_staff_business_review"));
  EXPECT_THAT(
      def.FindNode("finance_staff_business_review")->distinct_from,
      ElementsAre("finance_staff_finance_review", "finance_staff_finance_deputy_review"));
}

TEST(ShippedWorkflowsTest, ExpenseLargeAmountsNeedADecisionAndTheHead) {
  const WorkflowDef& def = Get("expense");
  // The threshold is the unit's (config/unit.yaml large_amount), decided by
  // the large_amount check, never a figure in the file.
  const NodeDef* large = def.FindNode("large_amount_check");
  ASSERT_NE(large, nullptr);
  EXPECT_EQ(large->kind, NodeKind::kCheck);
  EXPECT_EQ(large->check, "large_amount");
  EXPECT_EQ(large->on_pass, "pay");
  EXPECT_EQ(large->on_flag, "decision_route");
  EXPECT_EQ(def.FindNode("standard_check")->on_pass, "large_amount_check");
  EXPECT_EQ(def.FindNode("over_standard_review")->next, "large_amount_check");
  EXPECT_EQ(def.FindNode("amount_route"), nullptr);
  std::string text = testing::ReadTextFile(testing::SourceDir() / "workflows/expense.yaml");
  EXPECT_EQ(text.find("yuan("), std::string::npos) << "a hard-coded amount in expense.yaml";

  const NodeDef* route = def.FindNode("decision_route");
  ASSERT_NE(route, nullptr);
  FormData big{{"amount", Value::Of(*ParseYuan("100000"))}};
  FormData linked = big;
  linked["decision_ref"] = Value::Str("园林〔2024〕3号");
  EXPECT_EQ(RouteFor(*route, big), "link_decision");
  EXPECT_EQ(RouteFor(*route, linked), "decision_check");
  EXPECT_THAT(def.FindNode("link_decision")->task_fields, ElementsAre("decision_ref"));
  EXPECT_EQ(def.FindNode("link_decision")->next, "decision_check");
  // The number must name a passed decision on spending; a wrong one goes
  // back to the submitter.
  const NodeDef* verify = def.FindNode("decision_check");
  ASSERT_NE(verify, nullptr);
  EXPECT_EQ(verify->check, "passed_decision");
  EXPECT_EQ(verify->on_pass, "head_review");
  EXPECT_EQ(verify->on_fail, "link_decision");
  EXPECT_EQ(
      verify->params.at("categories"),
      Value::Of(Value::List{Value::Str("large_funds"), Value::Str("major_project")}));
  EXPECT_THAT(People(def.FindNode("head_review")->assignees, "xu_lei"),
              ElementsAre(PersonId("chen_zhiyuan")));
  EXPECT_THAT(People(def.FindNode("pay")->assignees, "xu_lei"),
              ElementsAre(PersonId("sun_yue")));
  EXPECT_EQ(def.FindNode("pay")->kind, NodeKind::kTask);
  // Over the standard: one more approval, and a justification is required.
  const NodeDef* standard = def.FindNode("standard_check");
  EXPECT_EQ(standard->on_flag, "over_standard_review");
  EXPECT_EQ(standard->params.at("justification_field"), Value::Str("justification"));
  for (const char* f : {"standard_class", "guests", "companions", "attendees", "days"})
    EXPECT_NE(def.FindField(f), nullptr) << f;
}

TEST(ShippedWorkflowsTest, ExpenseCategoriesRequireTheirDocuments) {
  const WorkflowDef& def = Get("expense");
  const NodeDef* check = def.FindNode("attachment_check");
  ASSERT_NE(check, nullptr);
  EXPECT_EQ(check->check, "required_by_category");
  const Value::Record& required = check->params.at("required").as_record();
  EXPECT_EQ(required.at("meeting"),
            Value::Of(Value::List{Value::Str("meeting_notice"), Value::Str("sign_in_sheet")}));
  EXPECT_EQ(required.at("reception"), Value::Of(Value::List{Value::Str("official_letter"),
                                                             Value::Str("reception_list")}));
  // 差旅费 needs the 出差审批单 (RULES.md §3.3, "无出差审批单" [S]).
  EXPECT_EQ(required.at("travel"), Value::Of(Value::List{Value::Str("travel_approval")}));
  // Every field a category requires is an attachment of the form.
  for (const auto& [category, fields] : required)
    for (const Value& f : fields.as_list()) {
      const FieldDef* field = def.FindField(f.as_string());
      ASSERT_NE(field, nullptr) << category << ": " << f.as_string();
      EXPECT_EQ(field->type.kind, TypeKind::kAttachment) << f.as_string();
    }
}

TEST(ShippedWorkflowsTest, ProcurementClassifiesThenOnlyTheOfficeBuys) {
  const WorkflowDef& def = Get("procurement");
  EXPECT_EQ(def.start, "classify");
  const NodeDef* classify = def.FindNode("classify");
  EXPECT_EQ(classify->check, "procurement_method");
  EXPECT_EQ(classify->on_pass, "split_check");
  EXPECT_EQ(classify->on_flag, "split_check_major");
  for (const char* id : {"split_check", "split_check_major"})
    EXPECT_EQ(def.FindNode(id)->check, "split_purchase") << id;
  EXPECT_EQ(def.FindNode("split_check")->on_flag, "dept_review_major");
  // Department head, then its supervising deputy.
  for (const char* id : {"dept_review", "dept_review_major"}) {
    const NodeDef* n = def.FindNode(id);
    EXPECT_EQ(n->mode, ApprovalMode::kSequence) << id;
    EXPECT_THAT(People(n->assignees, "xu_lei"),
                ElementsAre(PersonId("yang_fan"), PersonId("liu_guoqiang")));
  }
  EXPECT_EQ(def.FindNode("dept_review")->next, "execute");
  EXPECT_EQ(def.FindNode("dept_review_major")->next, "decision_route");
  const NodeDef* route = def.FindNode("decision_route");
  EXPECT_EQ(RouteFor(*route, {}), "link_decision");
  EXPECT_EQ(RouteFor(*route, {{"decision_ref", Value::Str("园林〔2024〕3号")}}),
            "decision_check");
  EXPECT_EQ(def.FindNode("link_decision")->next, "decision_check");
  const NodeDef* verify = def.FindNode("decision_check");
  ASSERT_NE(verify, nullptr);
  EXPECT_EQ(verify->check, "passed_decision");
  EXPECT_EQ(verify->on_pass, "execute");
  EXPECT_EQ(verify->on_fail, "link_decision");
  // Executed only by the purchasing department, and not handed elsewhere.
  const NodeDef* execute = def.FindNode("execute");
  EXPECT_THAT(People(execute->assignees, "xu_lei"),
              ElementsAre(PersonId("lin_xiaoyan"), PersonId("zhang_min"),
                          PersonId("zhou_jie"), PersonId("wu_ting")));
  EXPECT_FALSE(execute->allow_transfer);
  EXPECT_FALSE(execute->allow_delegate);
  EXPECT_EQ(execute->next, "acceptance");
  // The office records the method it actually used, in the vocabulary of
  // procurement_method, for the compliance report to compare.
  EXPECT_THAT(execute->task_fields,
              ElementsAre("supplier", "contract_no", "method_used"));
  const FieldDef* used = def.FindField("method_used");
  ASSERT_NE(used, nullptr);
  EXPECT_EQ(used->type.kind, TypeKind::kEnum);
  EXPECT_THAT(used->type.options,
              ElementsAre("centralised", "open_tender", "decentralised", "below_limit"));
  EXPECT_EQ(def.FindNode("acceptance")->next, "pay");
  EXPECT_THAT(People(def.FindNode("pay")->assignees, "xu_lei"),
              ElementsAre(PersonId("sun_yue")));
}

TEST(ShippedWorkflowsTest, SanzhongYidaIsACollectiveDecision) {
  const WorkflowDef& def = Get("sanzhong-yida");
  ASSERT_NE(def.submitters, nullptr);
  EXPECT_THAT(People(def.submitters, "li_jianhua"),
              ElementsAre(PersonId("li_jianhua"), PersonId("wang_haiyan"),
                          PersonId("liu_guoqiang"), PersonId("zhao_min")));
  std::vector<std::string> path;
  for (std::string id = def.start; !id.empty();) {
    path.push_back(id);
    const NodeDef* n = def.FindNode(id);
    if (n == nullptr || n->kind == NodeKind::kEnd) break;
    id = n->kind == NodeKind::kMeeting ? n->meeting.on_pass
         : n->kind == NodeKind::kCheck ? n->on_pass
                                       : n->next;
  }
  EXPECT_THAT(path, ElementsAre("compile_agenda", "meeting", "minutes",
                                "register_decision", "follow_up", "approved"));
  const NodeDef* meeting = def.FindNode("meeting");
  const MeetingDef& m = meeting->meeting;
  EXPECT_EQ(People(m.members, "li_jianhua").size(), 6u);
  EXPECT_THAT(People(m.head, "li_jianhua"), ElementsAre(PersonId("chen_zhiyuan")));
  EXPECT_THAT(People(m.secretary, "li_jianhua"), ElementsAre(PersonId("lin_xiaoyan")));
  ASSERT_EQ(m.quorum.size(), 2u);
  // Personnel: two thirds or more; otherwise more than half.
  EXPECT_FALSE(m.quorum[0].ratio.strict);
  EXPECT_TRUE(m.quorum[0].ratio.Satisfied(4, 6));
  EXPECT_FALSE(m.quorum[0].ratio.Satisfied(3, 6));
  EXPECT_TRUE(m.quorum[1].ratio.strict);
  EXPECT_FALSE(m.quorum[1].ratio.Satisfied(3, 6));
  EXPECT_TRUE(m.quorum[1].ratio.Satisfied(4, 6));
  EXPECT_FALSE(m.pass.Satisfied(3, 6));
  EXPECT_EQ(m.deliberation_working_days, 2);
  EXPECT_TRUE(m.read_receipts_required);
  EXPECT_EQ(m.on_defer, "compile_agenda");
  EXPECT_THAT(def.FindNode("minutes")->task_fields,
              ElementsAre("minutes_ref", "decision_no"));
  // The decision number becomes a fact expense and procurement check.
  const NodeDef* reg = def.FindNode("register_decision");
  ASSERT_NE(reg, nullptr);
  EXPECT_EQ(reg->check, "decision_register");
  EXPECT_EQ(reg->on_fail, "minutes");
}

TEST(ShippedWorkflowsTest, PublicationHasThreeReviewsAndThreeProofreads) {
  const WorkflowDef& def = Get("publication");
  const NodeDef* reviews = def.FindNode("reviews");
  EXPECT_EQ(reviews->mode, ApprovalMode::kSequence);
  // 一审 then 二审, in that order, for a 科研室 author.
  EXPECT_THAT(People(reviews->assignees, "tang_ning"),
              ElementsAre(PersonId("han_xue"), PersonId("zhao_min")));
  EXPECT_THAT(People(def.FindNode("secrecy_review")->assignees, "tang_ning"),
              ElementsAre(PersonId("wu_ting")));
  for (const char* proof : {"proof_1", "proof_2", "proof_3"}) {
    const NodeDef* n = def.FindNode(proof);
    ASSERT_NE(n, nullptr) << proof;
    EXPECT_EQ(n->kind, NodeKind::kTask) << proof;
    EXPECT_EQ(n->task_fields.size(), 1u) << proof;
  }
}

TEST(ShippedWorkflowsTest, SecondmentNeedsBothDepartmentHeads) {
  const WorkflowDef& def = Get("secondment");
  const NodeDef* heads = def.FindNode("heads_review");
  EXPECT_EQ(heads->mode, ApprovalMode::kAll);
  FormData form{{"secondee", Value::Str("liang_wei")}};
  EXPECT_THAT(People(heads->assignees, "zhang_min", form),
              ElementsAre(PersonId("luo_jun"), PersonId("lin_xiaoyan")));
}

TEST(ShippedWorkflowsTest, UnionAppropriationVotesAndChecksEitherWay) {
  const WorkflowDef& def = Get("union-appropriation");
  const NodeDef* vote = def.FindNode("committee_vote");
  EXPECT_EQ(vote->mode, ApprovalMode::kVote);
  EXPECT_TRUE(vote->pass.strict);
  EXPECT_EQ(People(vote->assignees, "cao_ying").size(), 5u);
  const NodeDef* funds = def.FindNode("funds_check");
  EXPECT_EQ(funds->join, JoinMode::kAny);
  EXPECT_EQ(def.FindNode("audit_review")->mode, ApprovalMode::kAny);
  EXPECT_THAT(People(def.FindNode("audit_review")->assignees, "cao_ying"),
              ElementsAre(PersonId("ma_li"), PersonId("tang_ning")));
  ASSERT_TRUE(def.FindNode("deputy_filing")->deadline);
  EXPECT_EQ(def.FindNode("deputy_filing")->deadline->action,
            DeadlineAction::kAutoApprove);
}

}  // namespace
}  // namespace approvald
