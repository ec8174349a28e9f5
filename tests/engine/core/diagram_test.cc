// Diagrams: the structured description the UI lays out (lanes side by side,
// ranks, labelled edges), Graphviz DOT and Mermaid text.
#include "core/diagram.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

#include "loader_test_util.h"

namespace approvald {
namespace {

using testing::ErrorLines;
using ::testing::HasSubstr;
using ::testing::Not;

WorkflowDef LoadOrDie(const std::string& yaml) {
  WorkflowLoad load = testing::Load(yaml);
  if (!load.def) {
    ADD_FAILURE() << ::testing::PrintToString(ErrorLines(load.errors));
    return WorkflowDef{};
  }
  return std::move(*load.def);
}

WorkflowDef Expense() {
  return LoadOrDie(
      testing::ReadTextFile(testing::SourceDir() / "workflows/expense.yaml"));
}

const char* const kTiny = R"yaml(id: tiny
title: 小
title_en: Tiny
start: review
nodes:
  - { id: review, kind: approval, title: 审核, title_en: Review, assignees: "holders('cashier')", next: approved }
  - { id: approved, kind: end }
)yaml";

const DiagramNode* FindNode(const Diagram& d, const std::string& id) {
  for (const DiagramNode& n : d.nodes) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

const DiagramEdge* FindEdge(const Diagram& d, const std::string& from,
                            const std::string& to) {
  for (const DiagramEdge& e : d.edges) {
    if (e.from == from && e.to == to) return &e;
  }
  return nullptr;
}

TEST(DiagramTest, DotOfATinyWorkflow) {
  EXPECT_EQ(DiagramDot(LoadOrDie(kTiny)),
            "digraph \"tiny\" {\n"
            "  label=\"小 · Tiny\";\n"
            "  labelloc=t;\n"
            "  rankdir=TB;\n"
            "  fontname=\"sans-serif\";\n"
            "  node [fontname=\"sans-serif\", fontsize=11];\n"
            "  edge [fontname=\"sans-serif\", fontsize=10];\n"
            "  \"__submit\" [shape=circle, label=\"提交\\nsubmit\"];\n"
            "  \"__submit\" -> \"review\";\n"
            "  \"review\" [shape=box, style=rounded, label=\"审核\\nReview\\n单人审批 "
            "(mode: single)\\nassignees: holders('cashier')\"];\n"
            "  \"approved\" [shape=doublecircle, label=\"已通过\\nApproved\\noutcome: "
            "approved\"];\n"
            "  \"rejected\" [shape=doublecircle, label=\"已驳回\\nRejected\\noutcome: "
            "rejected\"];\n"
            "  \"review\" -> \"approved\";\n"
            "  \"review\" -> \"rejected\" [label=\"reject\", style=dashed];\n"
            "}\n");
}

TEST(DiagramTest, MermaidOfATinyWorkflow) {
  EXPECT_EQ(DiagramMermaid(LoadOrDie(kTiny)),
            "flowchart TD\n"
            "  %% tiny: 小 · Tiny\n"
            "  n___submit((\"提交<br/>submit\"))\n"
            "  n_review(\"审核<br/>Review<br/>单人审批 (mode: single)<br/>assignees: "
            "holders('cashier')\")\n"
            "  n_approved((\"已通过<br/>Approved<br/>outcome: approved\"))\n"
            "  n_rejected((\"已驳回<br/>Rejected<br/>outcome: rejected\"))\n"
            "  n___submit --> n_review\n"
            "  n_review --> n_approved\n"
            "  n_review -.->|\"reject\"| n_rejected\n");
}

TEST(DiagramTest, ParallelBranchesAreLanesSideBySide) {
  Diagram d = DescribeWorkflow(Expense());
  EXPECT_EQ(d.id, "expense");
  EXPECT_EQ(d.start, "attachment_check");
  // Two parallel nodes (dual_review, and finance_staff_review for 计财室's
  // own staff), two lanes each.
  ASSERT_EQ(d.lanes.size(), 4u);
  EXPECT_EQ(d.lanes[0].parallel, "dual_review");
  EXPECT_EQ(d.lanes[0].name, "business");
  EXPECT_EQ(d.lanes[0].column, 0);
  EXPECT_EQ(d.lanes[1].name, "finance");
  EXPECT_EQ(d.lanes[1].column, 1);
  EXPECT_EQ(d.lanes[2].parallel, "finance_staff_review");
  EXPECT_EQ(d.lanes[3].parallel, "finance_staff_review");
  EXPECT_EQ(FindNode(d, "dept_head_review")->lane, 0);
  EXPECT_EQ(FindNode(d, "finance_review")->lane, 1);
  EXPECT_EQ(FindNode(d, "finance_staff_business_review")->lane, 2);
  EXPECT_EQ(FindNode(d, "pay")->lane, -1);
  // Both lanes start on the same row, right under the fork (which follows
  // the documents check and the route by claimant), and the join sits below
  // the longer lane.
  EXPECT_EQ(FindNode(d, "attachment_check")->rank, 0);
  EXPECT_EQ(FindNode(d, "line_route")->rank, 1);
  EXPECT_EQ(FindNode(d, "dual_review")->rank, 2);
  EXPECT_EQ(FindNode(d, "dept_head_review")->rank, 3);
  EXPECT_EQ(FindNode(d, "invoice_check")->rank, 3);
  EXPECT_EQ(FindNode(d, "finance_deputy_review")->rank, 5);
  const DiagramNode* join = FindNode(d, "dual_review__join");
  ASSERT_NE(join, nullptr);
  EXPECT_EQ(join->kind, "join");
  EXPECT_EQ(join->rank, 6);
  EXPECT_GT(FindNode(d, "approved")->rank, FindNode(d, "pay")->rank);
}

TEST(DiagramTest, EdgesCarryKindsAndLabels) {
  Diagram d = DescribeWorkflow(Expense());
  const DiagramEdge* fork = FindEdge(d, "dual_review", "dept_head_review");
  ASSERT_NE(fork, nullptr);
  EXPECT_EQ(fork->kind, "branch");
  EXPECT_EQ(fork->label, "business");
  const DiagramEdge* join = FindEdge(d, "finance_deputy_review", "dual_review__join");
  ASSERT_NE(join, nullptr);
  EXPECT_EQ(join->kind, "join");
  const DiagramEdge* after = FindEdge(d, "dual_review__join", "standard_check");
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->label, "join: all");
  const DiagramEdge* guard = FindEdge(d, "decision_route", "link_decision");
  ASSERT_NE(guard, nullptr);
  EXPECT_EQ(guard->kind, "when");
  EXPECT_EQ(guard->label, "form.decision_ref == null");
  const DiagramEdge* otherwise = FindEdge(d, "decision_route", "decision_check");
  ASSERT_NE(otherwise, nullptr);
  EXPECT_EQ(otherwise->kind, "else");
  // A number that names no passed decision goes back to be linked again.
  ASSERT_NE(FindEdge(d, "decision_check", "link_decision"), nullptr);
  ASSERT_NE(FindEdge(d, "decision_check", "head_review"), nullptr);
  EXPECT_EQ(FindEdge(d, "large_amount_check", "decision_route")->kind, "flag");
  EXPECT_EQ(FindEdge(d, "standard_check", "over_standard_review")->kind, "flag");
  EXPECT_EQ(FindEdge(d, "head_review", "rejected")->kind, "reject");
  const DiagramEdge* back = FindEdge(d, "dept_deputy_review", "dept_head_review");
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->kind, "return");
  EXPECT_EQ(FindEdge(d, "dept_head_review", "__submit")->kind, "return");
  // Inside a branch there is no edge to the parallel's successor directly.
  EXPECT_EQ(FindEdge(d, "dept_deputy_review", "standard_check"), nullptr);
}

TEST(DiagramTest, UnusedImplicitEndsAreLeftOut) {
  Diagram d = DescribeWorkflow(Expense());
  EXPECT_NE(FindNode(d, "rejected"), nullptr);  // on_reject leads there
  EXPECT_EQ(FindNode(d, "withdrawn"), nullptr);
  EXPECT_EQ(FindNode(d, "cancelled"), nullptr);
}

TEST(DiagramTest, NodesShowTheirRules) {
  Diagram d = DescribeWorkflow(Expense());
  const DiagramNode* pay = FindNode(d, "pay");
  EXPECT_EQ(pay->title, "出纳付款");
  EXPECT_EQ(pay->title_en, "Payment by the cashier");
  EXPECT_THAT(pay->details, ::testing::ElementsAre("assignees: holders('cashier')",
                                                   "fields: voucher_no",
                                                   "deadline: 3 working days → remind"));
  EXPECT_THAT(FindNode(d, "dept_head_review")->details,
              ::testing::Contains("deadline: 48h → remind"));
  // A choice without title falls back to its id.
  WorkflowDef sanzhong = LoadOrDie(
      testing::ReadTextFile(testing::SourceDir() / "workflows/sanzhong-yida.yaml"));
  Diagram m = DescribeWorkflow(sanzhong);
  EXPECT_THAT(FindNode(m, "meeting")->details,
              ::testing::Contains("quorum: >= 2/3 if form.category == 'personnel'"));
  EXPECT_THAT(FindNode(m, "meeting")->details,
              ::testing::Contains("head (speaks last): holders('head_of_unit')"));
  const DiagramEdge* defer = FindEdge(m, "meeting", "compile_agenda");
  ASSERT_NE(defer, nullptr);
  EXPECT_EQ(defer->kind, "defer");
}

TEST(DiagramTest, DotDrawsClustersPerParallelAndBranch) {
  std::string dot = DiagramDot(Expense());
  EXPECT_THAT(dot, HasSubstr("subgraph \"cluster_dual_review\" {"));
  EXPECT_THAT(dot, HasSubstr("subgraph \"cluster_dual_review_business\" {"));
  EXPECT_THAT(dot, HasSubstr("subgraph \"cluster_dual_review_finance\" {"));
  EXPECT_THAT(dot, HasSubstr("\"dual_review__join\" [shape=invtrapezium"));
  EXPECT_THAT(dot, HasSubstr("\"dept_deputy_review\" -> \"dept_head_review\" "
                             "[label=\"退回\", style=dotted, color=gray40, "
                             "constraint=false];"));
  // Every node line appears once.
  size_t count = 0;
  for (size_t pos = 0; (pos = dot.find("\"pay\" [shape", pos)) != std::string::npos;
       ++pos) {
    ++count;
  }
  EXPECT_EQ(count, 1u);
}

TEST(DiagramTest, MermaidEscapesLabelsAndPrefixesIds) {
  WorkflowDef def = LoadOrDie(R"yaml(id: esc
title: 转义
title_en: Escaping "quotes"
form:
  - { name: amount, type: money }
start: route
nodes:
  - id: route
    kind: choice
    when:
      - { if: "form.amount > yuan(1) || form.amount < yuan(\"0.5\")", to: end }
      - { else: end }
  - { id: end, kind: end, outcome: approved, title: "完成 #1 <ok>" }
)yaml");
  std::string m = DiagramMermaid(def);
  EXPECT_THAT(m, HasSubstr("n_end((\"完成 #35;1 #lt;ok#gt;<br/>Approved<br/>outcome: "
                           "approved\"))"));
  EXPECT_THAT(m, HasSubstr("n_route -->|\"form.amount #gt; yuan(1) #124;#124; "
                           "form.amount #lt; yuan(#quot;0.5#quot;)\"| n_end"));
  EXPECT_THAT(m, Not(HasSubstr("  end((")));  // "end" (a Mermaid keyword) is never an id
  std::string dot = DiagramDot(def);
  EXPECT_THAT(dot, HasSubstr("label=\"form.amount > yuan(1) || form.amount < "
                             "yuan(\\\"0.5\\\")\""));
  EXPECT_THAT(dot, HasSubstr("label=\"转义 · Escaping \\\"quotes\\\"\""));
}

}  // namespace
}  // namespace approvald
