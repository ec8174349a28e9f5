// The seed's year replayed through the engine (../shared/seed/DIGEST.md): the
// shipped organisation, workflows and unit configuration, a fake clock
// walking through 2024, over SqliteStore. Reimbursements that repeat the
// seed's failures — no dual-line review, self-approval, one person on both
// lines, a reused invoice, over-standard claims, missing documents, a large
// sum without a collective decision — purchases that bypass the office or
// are split, and 三重一大 meetings where the head tries to speak first, a
// meeting without quorum tries to open and a recused member tries to vote.
// Each is refused or flagged with its exact reason code, what an auditor
// reads back from the audit log is asserted, and the proper paths complete.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "seed_world.h"
#include "service/report_service.h"
#include "sqlite/sqlite_store.h"

namespace approvald {
namespace {

using ::testing::ElementsAre;
using testing::Doc;
using testing::SeedWorld;
using testing::Text;
using testing::Yuan;

Value::Record Args(const char* key, const char* value) {
  Value::Record r;
  r[key] = Value::Str(value);
  return r;
}

class SeedReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("h3_seed_replay_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    SqliteOptions o;
    o.path = (dir_ / "seed.db").string();
    auto s = SqliteStore::Open(o);
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    store_ = std::move(*s);
    world_ = std::make_unique<SeedWorld>(*store_, *ParseTimestamp("2024-01-08T09:00:00+08:00"));
  }
  void TearDown() override {
    world_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  SeedWorld& w() { return *world_; }

  InstanceId Submit(const std::string& wf, const std::string& who, FormData f) {
    auto v = w().Submit(wf, who, std::move(f));
    EXPECT_TRUE(v.has_value()) << wf << " by " << who << ": " << v.error().ToString();
    return v ? v->row.id : InstanceId{};
  }

  // Expects success.
  void Ok(const Result<InstanceView>& r, const std::string& what) {
    EXPECT_TRUE(r.has_value()) << what << ": " << r.error().ToString();
  }

  // Expects a refusal with `reason`, and remembers what the audit log must
  // then hold for it.
  void Refused(const Result<InstanceView>& r, InstanceId id, const std::string& who,
               const std::string& action, const std::string& reason) {
    ASSERT_FALSE(r.has_value()) << who << " " << action << " should be refused: " << reason;
    EXPECT_EQ(r.error().reason, reason) << r.error().ToString();
    expected_refusals_.push_back(who + " " + action + " " + reason + " instance:" +
                                 std::to_string(id.value));
  }

  // A 园林室 clerk's claim through both lines: 园林室 head and its deputy,
  // 计财室 head and finance's deputy.
  void DualLine(InstanceId id) {
    Ok(w().Approve(id, "yang_fan", "dept_head_review"), "business line head");
    Ok(w().Approve(id, "liu_guoqiang", "dept_deputy_review"), "business line deputy");
    Ok(w().Act(id, action::kApprove, "zheng_li", "finance_review", "票据齐全，金额相符"),
       "finance head");
    Ok(w().Approve(id, "wang_haiyan", "finance_deputy_review"), "finance deputy");
  }

  void Pay(InstanceId id, const char* voucher) {
    Ok(w().Complete(id, "sun_yue", "pay", {{"voucher_no", Text(voucher)}}), "payment");
    EXPECT_EQ(w().Status(id), "approved");
  }

  std::filesystem::path dir_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<SeedWorld> world_;
  std::vector<std::string> expected_refusals_;
  int invoice_seq_ = 0;

  // A reimbursement form with fresh invoice numbers unless given.
  FormData Claim(const char* category, const char* amount, const char* purpose,
                 std::vector<std::string> invoices = {}) {
    FormData f;
    f["purpose"] = Text(purpose);
    f["category"] = Text(category);
    f["amount"] = Yuan(amount);
    f["spent_on"] = Value::Of(ShanghaiDateOf(w().clock().Now()));
    if (invoices.empty()) invoices.push_back("44190-" + std::to_string(++invoice_seq_));
    Value::List list;
    for (const auto& n : invoices) {
      Value::Record inv;
      inv["number"] = Value::Str(n);
      inv["amount"] = Yuan(amount);
      list.push_back(Value::Of(inv));
    }
    f["invoices"] = Value::Of(std::move(list));
    return f;
  }

  FormData Purchase(const char* project, const char* item, const char* amount) {
    FormData f;
    f["purpose"] = Text("采购");
    f["item_code"] = Text(item);
    f["amount"] = Yuan(amount);
    f["budget_project"] = Text(project);
    f["fiscal_year"] = Value::Int(2024);
    return f;
  }

  // A 三重一大 topic proposed by 李建华 and listed on the agenda by the office.
  InstanceId Topic(const char* topic, const char* category, const char* amount) {
    FormData f;
    f["topic"] = Text(topic);
    f["category"] = Text(category);
    f["amount"] = Yuan(amount);
    f["background"] = Text("议题说明及方案");
    InstanceId id = Submit("sanzhong-yida", "li_jianhua", std::move(f));
    Ok(w().Complete(id, "lin_xiaoyan", "compile_agenda", {{"agenda_no", Text("议程")}}),
       "agenda");
    Ok(w().Act(id, action::kDistribute, "lin_xiaoyan", "meeting"), "distribute");
    for (const char* p : kLeadership)
      Ok(w().Act(id, action::kAcknowledge, p, "meeting"), std::string("receipt ") + p);
    return id;
  }

  static constexpr const char* kLeadership[] = {"chen_zhiyuan", "li_jianhua", "wang_haiyan",
                                                "liu_guoqiang", "zhao_min",  "huang_xiaoming"};
};

TEST_F(SeedReplayTest, TheSeedsYear) {
  // ---- January: a proper reimbursement passes both lines and is paid. ----
  w().SetTime("2024-01-08T09:00:00+08:00");
  InstanceId proper = Submit("expense", "xu_lei", Claim("office", "860.00", "购买打印纸、墨盒"));
  EXPECT_EQ(w().Nodes(proper), "dept_head_review,finance_review");  // both lines at once
  DualLine(proper);
  EXPECT_EQ(w().Nodes(proper), "pay");
  Pay(proper, "记-2024-01-015");
  EXPECT_THAT(w().AuditedChecks(proper),
              ElementsAre("attachment_check pass", "invoice_check pass", "standard_check pass",
                          "large_amount_check pass"));

  // ---- Approval without the dual-line review (finding 7): the business line
  // signs, the cashier tries to pay and finance's deputy tries to sign before
  // 计财室 has reviewed. Neither goes through. ----
  InstanceId one_line = Submit("expense", "song_jia", Claim("office", "1200.00", "绿化工具"));
  Ok(w().Approve(one_line, "luo_jun", "dept_head_review"), "greening head");
  Ok(w().Approve(one_line, "liu_guoqiang", "dept_deputy_review"), "greening deputy");
  Refused(w().Complete(one_line, "sun_yue", "pay", {{"voucher_no", Text("记-x")}}), one_line,
          "sun_yue", "complete", "wrong_state");
  Refused(w().Approve(one_line, "wang_haiyan", "finance_deputy_review"), one_line,
          "wang_haiyan", "approve", "wrong_state");
  EXPECT_EQ(w().Nodes(one_line), "finance_review");
  Ok(w().Act(one_line, action::kApprove, "zheng_li", "finance_review", "已核"), "finance");
  Ok(w().Approve(one_line, "wang_haiyan", "finance_deputy_review"), "finance deputy");
  Pay(one_line, "记-2024-01-021");

  // ---- Self-approval: the department head hands the review of a clerk's
  // claim to the clerk himself. ----
  w().SetTime("2024-01-15T10:00:00+08:00");
  InstanceId self = Submit("expense", "xu_lei", Claim("office", "300.00", "文件夹"));
  Refused(w().Act(self, action::kTransfer, "yang_fan", "dept_head_review", "请自行审核",
                  Args("to", "xu_lei")),
          self, "yang_fan", "transfer", "self_approval");
  Refused(w().Approve(self, "xu_lei", "dept_head_review"), self, "xu_lei", "approve",
          "not_assignee");
  DualLine(self);
  Pay(self, "记-2024-01-033");

  // ---- One person on both lines: the 园林室 head hands the business-line
  // review to 计财室's head, who then also tries to sign the finance line.
  // She may sign only one; the finance review goes to the accountant. ----
  InstanceId both = Submit("expense", "song_jia", Claim("office", "450.00", "修枝剪"));
  Ok(w().Act(both, action::kTransfer, "luo_jun", "dept_head_review", "请计财室代为审核",
             Args("to", "zheng_li")),
     "business line handed to finance");
  Ok(w().Approve(both, "zheng_li", "dept_head_review"), "business line");
  Refused(w().Act(both, action::kApprove, "zheng_li", "finance_review", "已核"), both,
          "zheng_li", "approve", "same_person_both_lines");
  Ok(w().Act(both, action::kTransfer, "zheng_li", "finance_review",
             "本人已审业务线，转会计审核", Args("to", "he_jing")),
     "finance line handed on");
  Ok(w().Approve(both, "liu_guoqiang", "dept_deputy_review"), "business deputy");
  Ok(w().Act(both, action::kApprove, "he_jing", "finance_review", "票据齐全"),
     "accountant");
  Ok(w().Approve(both, "wang_haiyan", "finance_deputy_review"), "finance deputy");
  Pay(both, "记-2024-01-040");

  // ---- A 计财室 clerk's own claim: her department head and its deputy ARE
  // the finance line, so it takes the finance-staff route (business line:
  // the head of unit) and passes with four different signers. ----
  InstanceId clerk =
      Submit("expense", "he_jing", Claim("office", "450.00", "账簿凭证纸"));
  EXPECT_EQ(w().Nodes(clerk),
            "finance_staff_business_review,finance_staff_finance_review");
  Refused(
      w().Act(clerk, action::kApprove, "he_jing", "finance_staff_finance_review", "已核"),
      clerk, "he_jing", "approve", "not_assignee");
  Ok(w().Approve(clerk, "chen_zhiyuan", "finance_staff_business_review"), "head of unit");
  Refused(w().Act(clerk, action::kApprove, "chen_zhiyuan", "finance_staff_finance_review",
                  "已核"),
          clerk, "chen_zhiyuan", "approve", "not_assignee");
  Ok(w().Act(clerk, action::kApprove, "zheng_li", "finance_staff_finance_review", "已核"),
     "finance head");
  Ok(w().Approve(clerk, "wang_haiyan", "finance_staff_finance_deputy_review"),
     "finance deputy");
  Pay(clerk, "记-2024-01-041");
  // The head of 计财室's own claim: reviewed on the finance line by the
  // accountant (config/org.yaml finance_reviewer), never by herself.
  InstanceId head =
      Submit("expense", "zheng_li", Claim("office", "380.00", "财务软件年费"));
  Refused(
      w().Act(head, action::kApprove, "zheng_li", "finance_staff_finance_review", "已核"),
      head, "zheng_li", "approve", "not_assignee");
  Ok(w().Approve(head, "chen_zhiyuan", "finance_staff_business_review"), "head of unit");
  Ok(w().Act(head, action::kApprove, "he_jing", "finance_staff_finance_review",
             "票据齐全"),
     "accountant");
  Ok(w().Approve(head, "wang_haiyan", "finance_staff_finance_deputy_review"),
     "finance deputy");
  Pay(head, "记-2024-01-042");

  // ---- A reused invoice number (finding 7): refused by the finance line's
  // check; the number of a claim that was refused stays free. ----
  w().SetTime("2024-02-05T09:30:00+08:00");
  InstanceId reused =
      Submit("expense", "guo_fang", Claim("office", "860.00", "打印纸", {"44190-1"}));
  EXPECT_EQ(w().Status(reused), "rejected");
  EXPECT_EQ(w().CheckResult(reused, "invoice_check"), "fail duplicate_invoice:44190-1");
  InstanceId twice =
      Submit("expense", "guo_fang", Claim("office", "200.00", "快递费", {"44190-77", "44190-77"}));
  EXPECT_EQ(w().CheckResult(twice, "invoice_check"), "fail duplicate_in_request:44190-77");

  // ---- Documents by category: a travel claim without its 出差审批单 is
  // refused; with it, it goes on to both lines. ----
  InstanceId trip =
      Submit("expense", "xu_lei", Claim("travel", "1260.00", "赴广州参加培训"));
  EXPECT_EQ(w().Status(trip), "rejected");
  EXPECT_EQ(w().CheckResult(trip, "attachment_check"),
            "fail required_missing:travel:travel_approval");
  FormData approved_trip = Claim("travel", "1260.00", "赴广州参加培训");
  approved_trip["travel_approval"] = Doc('f');
  InstanceId trip_ok = Submit("expense", "xu_lei", approved_trip);
  EXPECT_EQ(w().CheckResult(trip_ok, "attachment_check"), "pass");
  DualLine(trip_ok);
  Pay(trip_ok, "记-2024-02-003");

  // ---- Documents by category: a meeting claim without its sign-in sheet. ----
  FormData meeting = Claim("meeting", "45000.00", "全市园林绿化工作会议");
  meeting["meeting_notice"] = Doc('a');
  meeting["standard_class"] = Text("class2");
  meeting["attendees"] = Value::Int(30);
  meeting["days"] = Value::Int(2);
  InstanceId no_sheet = Submit("expense", "xu_lei", meeting);
  EXPECT_EQ(w().Status(no_sheet), "rejected");
  EXPECT_EQ(w().CheckResult(no_sheet, "attachment_check"),
            "fail required_missing:meeting:sign_in_sheet");

  // ---- Over the standard (650 元 x 30 people x 2 days = 39000 元): without a
  // justification refused; with one, flagged for the head of unit. ----
  meeting["sign_in_sheet"] = Doc('b');
  meeting["invoices"] = Claim("meeting", "45000.00", "x")["invoices"];
  InstanceId over = Submit("expense", "xu_lei", meeting);
  DualLine(over);
  EXPECT_EQ(w().Status(over), "rejected");
  EXPECT_EQ(w().CheckResult(over, "standard_check"),
            "fail over_standard:meeting,justification_required:meeting");

  meeting["justification"] = Text("省厅临时增加参会单位，会期延长半天");
  meeting["invoices"] = Claim("meeting", "45000.00", "x")["invoices"];
  InstanceId justified = Submit("expense", "xu_lei", meeting);
  DualLine(justified);
  EXPECT_EQ(w().CheckResult(justified, "standard_check"), "flag over_standard:meeting");
  EXPECT_EQ(w().Nodes(justified), "over_standard_review");
  Refused(w().Complete(justified, "sun_yue", "pay", {{"voucher_no", Text("记-x")}}), justified,
          "sun_yue", "complete", "wrong_state");
  Ok(w().Act(justified, action::kApprove, "chen_zhiyuan", "over_standard_review",
             "情况属实，同意"),
     "head of unit");
  EXPECT_EQ(w().CheckResult(justified, "large_amount_check"), "pass");
  Pay(justified, "记-2024-02-008");

  // ---- March: the 时花种植 budget goes to a 三重一大 meeting (finding 2).
  // The head of unit tries to speak first (末位表态, finding 4). ----
  w().SetTime("2024-03-04T09:00:00+08:00");  // a Monday
  InstanceId flowers = Topic("时花种植项目预算调整（400万调整为120万）", "large_funds",
                             "1200000.00");
  w().SetTime("2024-03-05T15:00:00+08:00");
  for (const char* p : kLeadership) Ok(w().Act(flowers, action::kAttend, p, "meeting"), p);
  Refused(w().Act(flowers, action::kOpen, "lin_xiaoyan", "meeting"), flowers, "lin_xiaoyan",
          "open", "deliberation_not_over");
  w().SetTime("2024-03-06T15:00:00+08:00");  // two working days after distribution
  Ok(w().Act(flowers, action::kOpen, "lin_xiaoyan", "meeting"), "open");
  Refused(w().Act(flowers, action::kOpinion, "chen_zhiyuan", "meeting", "我看就按120万定"),
          flowers, "chen_zhiyuan", "opinion", "head_must_speak_last");
  for (const char* p : {"li_jianhua", "wang_haiyan", "liu_guoqiang", "zhao_min",
                        "huang_xiaoming", "chen_zhiyuan"})
    Ok(w().Act(flowers, action::kOpinion, p, "meeting", "同意调整为120万"), p);
  for (const char* p : {"li_jianhua", "wang_haiyan", "liu_guoqiang", "zhao_min",
                        "huang_xiaoming", "chen_zhiyuan"})
    Ok(w().Act(flowers, action::kVote, p, "meeting", "", Args("option", "agree")), p);
  Ok(w().Act(flowers, action::kClose, "lin_xiaoyan", "meeting"), "close");
  Ok(w().Complete(flowers, "lin_xiaoyan", "minutes",
                  {{"minutes_ref", Doc('c')}, {"decision_no", Text("梅园绿〔2024〕5号")}}),
     "minutes");
  Ok(w().Complete(flowers, "li_jianhua", "follow_up",
                  {{"execution_report", Text("已按120万执行")}}),
     "follow-up");
  EXPECT_EQ(w().Status(flowers), "approved");

  // ---- A meeting without quorum tries to open and vote; a recused member
  // tries to vote. ----
  w().SetTime("2024-04-08T09:00:00+08:00");
  InstanceId garden = Topic("园区绿化养护服务外包", "major_project", "600000.00");
  w().SetTime("2024-04-11T09:00:00+08:00");
  for (const char* p : {"chen_zhiyuan", "li_jianhua", "zhao_min"})
    Ok(w().Act(garden, action::kAttend, p, "meeting"), p);
  Refused(w().Act(garden, action::kOpen, "lin_xiaoyan", "meeting"), garden, "lin_xiaoyan",
          "open", "quorum_not_met");  // 3 of 6 is not more than half
  Refused(w().Act(garden, action::kVote, "li_jianhua", "meeting", "", Args("option", "agree")),
          garden, "li_jianhua", "vote", "meeting_not_open");
  Ok(w().Act(garden, action::kAttend, "liu_guoqiang", "meeting"), "4th member");
  Ok(w().Act(garden, action::kAttend, "wang_haiyan", "meeting"), "5th member");
  Ok(w().Act(garden, action::kRecuse, "liu_guoqiang", "meeting", "",
             Args("reason", "近亲属在投标单位任职")),
     "recusal");
  Ok(w().Act(garden, action::kOpen, "lin_xiaoyan", "meeting"), "open");
  for (const char* p : {"li_jianhua", "wang_haiyan", "zhao_min", "chen_zhiyuan"})
    Ok(w().Act(garden, action::kOpinion, p, "meeting", "同意"), p);
  Refused(w().Act(garden, action::kVote, "liu_guoqiang", "meeting", "", Args("option", "agree")),
          garden, "liu_guoqiang", "vote", "recused_member");
  for (const char* p : {"li_jianhua", "wang_haiyan", "zhao_min", "chen_zhiyuan"})
    Ok(w().Act(garden, action::kVote, p, "meeting", "", Args("option", "agree")), p);
  Ok(w().Act(garden, action::kClose, "lin_xiaoyan", "meeting"), "close");
  EXPECT_EQ(w().Nodes(garden), "minutes");  // 4 agree of 5 entitled (one recused)
  // The office reuses the 时花 decision's number: refused, back to the minutes.
  Ok(w().Complete(
         garden, "lin_xiaoyan", "minutes",
         {{"minutes_ref", Doc('e')}, {"decision_no", Text("梅园绿〔2024〕5号")}}),
     "minutes with a taken number");
  EXPECT_EQ(w().CheckResult(garden, "register_decision"),
            "fail decision_no_taken:梅园绿〔2024〕5号:" + std::to_string(flowers.value));
  EXPECT_EQ(w().Nodes(garden), "minutes");
  Ok(w().Complete(garden, "lin_xiaoyan", "minutes",
                  {{"decision_no", Text("梅园绿〔2024〕8号")}}),
     "minutes");
  EXPECT_EQ(w().CheckResult(garden, "register_decision"), "pass");
  EXPECT_EQ(w().Nodes(garden), "follow_up");

  // ---- Large sums (finding 2, 大额度资金): the 时花 payment with the
  // decision linked goes to the head of unit; another without one waits
  // for it and is rejected when none comes. ----
  w().SetTime("2024-05-06T09:00:00+08:00");
  FormData big = Claim("other", "150000.00", "时花种植首期款");
  big["decision_ref"] = Text("梅园绿〔2024〕5号");
  InstanceId linked = Submit("expense", "xu_lei", big);
  DualLine(linked);
  EXPECT_EQ(w().CheckResult(linked, "large_amount_check"), "flag large_amount:fiscal");
  EXPECT_EQ(w().CheckResult(linked, "decision_check"), "pass");
  Value::Record linked_to =
      rec::Sub(w().CheckDetails(linked, "decision_check"), "decision");
  EXPECT_EQ(rec::Int(linked_to, "instance"), flowers.value);
  EXPECT_EQ(rec::Str(linked_to, "result"), "passed");
  EXPECT_EQ(w().Nodes(linked), "head_review");
  Ok(w().Act(linked, action::kApprove, "chen_zhiyuan", "head_review", "按集体决策执行"),
     "head of unit");
  Pay(linked, "记-2024-05-002");

  // A made-up decision number is refused, and so is a decision on another
  // matter that authorised less; the claim waits at link_decision until the
  // right one is linked.
  FormData bogus = Claim("other", "130000.00", "时花种植二期款");
  bogus["decision_ref"] = Text("梅园绿〔2024〕99号");
  InstanceId made_up = Submit("expense", "xu_lei", bogus);
  DualLine(made_up);
  EXPECT_EQ(w().CheckResult(made_up, "decision_check"),
            "fail decision_unknown:梅园绿〔2024〕99号");
  EXPECT_EQ(w().Nodes(made_up), "link_decision");
  Refused(w().Act(made_up, action::kApprove, "chen_zhiyuan", "head_review", "同意"),
          made_up, "chen_zhiyuan", "approve", "wrong_state");
  Ok(w().Complete(made_up, "xu_lei", "link_decision",
                  {{"decision_ref", Text("梅园绿〔2024〕8号")}}),
     "links the garden decision");
  EXPECT_EQ(w().CheckResult(made_up, "decision_check"), "pass");  // major_project, 60万
  EXPECT_EQ(w().Nodes(made_up), "head_review");
  Ok(w().Act(made_up, action::kApprove, "chen_zhiyuan", "head_review", "按集体决策执行"),
     "head of unit");
  Pay(made_up, "记-2024-05-004");

  InstanceId unlinked = Submit("expense", "xu_lei", Claim("other", "120000.00", "苗木款"));
  DualLine(unlinked);
  EXPECT_EQ(w().Nodes(unlinked), "link_decision");
  Refused(w().Complete(unlinked, "sun_yue", "pay", {{"voucher_no", Text("记-x")}}), unlinked,
          "sun_yue", "complete", "wrong_state");
  w().SetTime("2024-05-21T09:00:00+08:00");  // past 10 working days
  auto ticked = w().engine().Tick();
  ASSERT_TRUE(ticked.has_value());
  EXPECT_EQ(w().Status(unlinked), "rejected");

  // ---- Procurement (findings 9, 10): a proper purchase bought by the office;
  // the requesting department may not buy it itself. ----
  w().SetTime("2024-06-03T09:00:00+08:00");
  InstanceId chairs = Submit("procurement", "xu_lei", Purchase("2024-园林-办公", "A05010100",
                                                               "18000.00"));
  EXPECT_EQ(rec::Str(w().CheckDetails(chairs, "classify"), "method"), "below_limit");
  EXPECT_EQ(w().CheckResult(chairs, "split_check"), "pass");
  Ok(w().Approve(chairs, "yang_fan", "dept_review"), "department head");
  Refused(w().Approve(chairs, "yang_fan", "dept_review"), chairs, "yang_fan", "approve",
          "already_processed");
  Ok(w().Approve(chairs, "liu_guoqiang", "dept_review"), "deputy");
  Refused(w().Complete(chairs, "xu_lei", "execute", {{"supplier", Text("梅州某家具厂")}}), chairs,
          "xu_lei", "complete", "not_assignee");
  Refused(w().Act(chairs, action::kTransfer, "zhou_jie", "execute", "请园林室自行采购",
                  Args("to", "yang_fan")),
          chairs, "zhou_jie", "transfer", "action_disabled");
  Ok(w().Complete(chairs, "zhou_jie", "execute",
                  {{"supplier", Text("梅州某家具厂")}, {"contract_no", Text("采-2024-031")}}),
     "office buys");
  Ok(w().Complete(chairs, "yang_fan", "acceptance", {{"acceptance_report", Doc('d')}}),
     "acceptance");
  Pay(chairs, "记-2024-06-011");

  // A centralised item: the method and the catalogue that decided it are in
  // the trail.
  InstanceId pcs = Submit("procurement", "han_xue", Purchase("2024-科研-设备", "A02010104",
                                                             "60000.00"));
  Value::Record pcs_method = w().CheckDetails(pcs, "classify");
  EXPECT_EQ(rec::Str(pcs_method, "method"), "centralised");
  EXPECT_FALSE(rec::Str(rec::Sub(pcs_method, "catalogue"), "id").empty());

  // 化整为零: three 90万 purchases of one item under one project. Each is a
  // large amount (collective decision), and the third is also a split.
  w().SetTime("2024-09-02T09:00:00+08:00");
  std::vector<InstanceId> lots;
  for (int i = 0; i < 3; ++i)
    lots.push_back(Submit("procurement", "liang_wei", Purchase("2024-绿化-苗木", "A02052301",
                                                             "900000.00")));
  EXPECT_EQ(w().CheckResult(lots[0], "classify"),
            "flag collective_decision_required:large_amount");
  EXPECT_EQ(w().CheckResult(lots[1], "split_check_major"), "pass");
  EXPECT_EQ(w().CheckResult(lots[2], "split_check_major"),
            "flag split_purchase:" + std::to_string(lots[0].value) + "," +
                std::to_string(lots[1].value));
  Ok(w().Approve(lots[2], "luo_jun", "dept_review_major"), "head");
  Ok(w().Approve(lots[2], "liu_guoqiang", "dept_review_major"), "deputy");
  EXPECT_EQ(w().Nodes(lots[2]), "link_decision");
  Refused(w().Complete(lots[2], "zhou_jie", "execute", {}), lots[2], "zhou_jie", "complete",
          "wrong_state");
  // The garden decision authorised 60万, not this 90万 purchase.
  Ok(w().Complete(lots[2], "liang_wei", "link_decision",
                  {{"decision_ref", Text("梅园绿〔2024〕8号")}}),
     "links too small a decision");
  EXPECT_EQ(w().CheckResult(lots[2], "decision_check"),
            "fail decision_amount_exceeded:梅园绿〔2024〕8号");
  EXPECT_EQ(w().Nodes(lots[2]), "link_decision");

  // lots[0] with the 时花 decision (large funds, 120万): bought by the
  // office, which records the method it used. A 公开招标 was not required
  // (90万 is below the 200万 open-tender threshold, decentralised), but the
  // office records 限额以下自行采购: the compliance report flags it.
  Ok(w().Approve(lots[0], "luo_jun", "dept_review_major"), "head");
  Ok(w().Approve(lots[0], "liu_guoqiang", "dept_review_major"), "deputy");
  Ok(w().Complete(lots[0], "liang_wei", "link_decision",
                  {{"decision_ref", Text("梅园绿〔2024〕5号")}}),
     "links the 时花 decision");
  EXPECT_EQ(w().Nodes(lots[0]), "execute");
  Ok(w().Complete(lots[0], "zhou_jie", "execute",
                  {{"supplier", Text("梅州某苗圃")},
                   {"contract_no", Text("采-2024-090")},
                   {"method_used", Text("below_limit")}}),
     "office buys");
  ReportRequest report;
  report.name = "procurement";
  report.period = {*ParseTimestamp("2024-01-01T00:00:00+08:00"),
                   *ParseTimestamp("2025-01-01T00:00:00+08:00")};
  report.now = w().clock().Now();
  auto compliance =
      BuildReport(*store_, w().engine().registry(), *w().engine().org(), report);
  ASSERT_TRUE(compliance.has_value()) << compliance.error().ToString();
  auto cell = [&](InstanceId id, const std::string& column) {
    size_t c = 0;
    while (c < compliance->columns.size() && compliance->columns[c].id != column) ++c;
    for (const auto& row : compliance->rows)
      if (c < row.size() && row[0] == std::to_string(id.value)) return row[c];
    return std::string("(no row)");
  };
  EXPECT_EQ(cell(lots[0], "method_required"), "分散采购");
  EXPECT_EQ(cell(lots[0], "method_used"), "限额以下自行采购");
  EXPECT_EQ(cell(lots[0], "executed_dept"), "办公室");
  EXPECT_EQ(cell(lots[0], "compliant"), "否");
  EXPECT_EQ(cell(lots[0], "issues"), "method_mismatch: 应分散采购，实际限额以下自行采购");
  EXPECT_EQ(cell(chairs, "compliant"), "是");  // below the limit: any method

  // ---- Everything refused reached the audit log, in order, with its
  // reason; every check verdict is in the instance's audited events. ----
  EXPECT_EQ(w().Refusals(), expected_refusals_);
  EXPECT_THAT(w().AuditedChecks(reused),
              ElementsAre("attachment_check pass",
                          "invoice_check fail duplicate_invoice:44190-1"));
  EXPECT_THAT(
      w().AuditedChecks(lots[2]),
      ElementsAre("classify flag collective_decision_required:large_amount",
                  "split_check_major flag split_purchase:" +
                      std::to_string(lots[0].value) + "," + std::to_string(lots[1].value),
                  "decision_check fail decision_amount_exceeded:梅园绿〔2024〕8号"));
  auto integrity = store_->CheckIntegrity();
  EXPECT_TRUE(integrity.has_value()) << integrity.error().ToString();
}

}  // namespace
}  // namespace approvald
