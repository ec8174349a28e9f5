// The report builders (core/reports.h) over histories made by Decide() on the
// shipped workflows and the seed organisation, CSV/JSON rendering, and the
// reproducible sampling of the voucher self-check (core/sampling.h).
#include "core/reports.h"

#include <gtest/gtest.h>

#include <set>

#include "core/registry.h"
#include "core/sampling.h"
#include "core/unit_config.h"
#include "core/workflow_loader.h"
#include "decide_test_util.h"
#include "loader_test_util.h"

namespace approvald {
namespace {

using testing::Args;
using testing::Driver;
using testing::S;
using testing::SeedOrg;
using testing::SourceDir;

const WorkflowDef& Shipped(const std::string& id) {
  static std::map<std::string, WorkflowDef>* defs = new std::map<std::string, WorkflowDef>;
  auto it = defs->find(id);
  if (it != defs->end()) return it->second;
  std::string file = "workflows/" + id + ".yaml";
  WorkflowLoad load = LoadWorkflow(testing::ReadTextFile(SourceDir() / file), file, SeedOrg(),
                                   CheckRegistry::Builtin());
  for (const auto& e : load.errors) ADD_FAILURE() << e.ToString();
  WorkflowDef def = load.def ? std::move(*load.def) : WorkflowDef();
  def.version = 1;
  def.hash = "sha256:" + id;
  return defs->emplace(id, std::move(def)).first->second;
}

Timestamp At(const char* text) { return *ParseTimestamp(text); }

report::InstanceHistory History(int64_t id, const WorkflowDef& def, const Driver& d) {
  report::InstanceHistory h;
  h.id = InstanceId{id};
  h.def = &def;
  h.events = d.history();
  for (Event& e : h.events) e.instance = h.id;
  return h;
}

// The row of `table` as column id -> cell.
std::map<std::string, std::string> RowMap(const report::Table& t, size_t row) {
  std::map<std::string, std::string> m;
  for (size_t i = 0; i < t.columns.size(); ++i) m[t.columns[i].id] = t.rows.at(row).at(i);
  return m;
}

std::string Summary(const report::Table& t, const std::string& key) {
  for (const auto& [k, v] : t.summary)
    if (k == key) return v;
  return "<missing " + key + ">";
}

// ---- sampling ---------------------------------------------------------------------

TEST(SamplingTest, SameSeedSameSampleAndEveryPositionDistinct) {
  auto a = SamplePositions(0x1234abcd5678ef90ULL, 66, 10);
  auto b = SamplePositions(0x1234abcd5678ef90ULL, 66, 10);
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), 10u);
  std::set<size_t> distinct(a.begin(), a.end());
  EXPECT_EQ(distinct.size(), 10u);
  for (size_t p : a) EXPECT_LT(p, 66u);
  EXPECT_NE(SamplePositions(0x1234abcd5678ef91ULL, 66, 10), a);
}

TEST(SamplingTest, PinnedValuesSoTheAlgorithmNeverDriftsFromItsSpecification) {
  // SplitMix64 from seed 0 yields 0xe220a8397b1dcdaf first (the reference
  // implementation's published first output); 0xe220a8397b1dcdaf % 10 == 1.
  EXPECT_EQ(SamplePositions(0, 10, 1), std::vector<size_t>{0xe220a8397b1dcdafULL % 10});
  EXPECT_EQ(SamplePositions(42, 5, 5).size(), 5u);
}

TEST(SamplingTest, SampleLargerThanPopulationTakesEveryone) {
  auto all = SamplePositions(7, 4, 10);
  std::set<size_t> s(all.begin(), all.end());
  EXPECT_EQ(s, (std::set<size_t>{0, 1, 2, 3}));
  EXPECT_TRUE(SamplePositions(7, 0, 10).empty());
}

TEST(SamplingTest, SeedTextRoundTrips) {
  EXPECT_EQ(FormatSeed(0x00ab00cd00ef0012ULL), "00ab00cd00ef0012");
  EXPECT_EQ(ParseSeed("00ab00cd00ef0012"), 0x00ab00cd00ef0012ULL);
  EXPECT_FALSE(ParseSeed("00AB00CD00EF0012"));
  EXPECT_FALSE(ParseSeed("abc"));
  EXPECT_FALSE(ParseSeed("00ab00cd00ef00123"));
}

// ---- rendering ---------------------------------------------------------------------

report::Table Small() {
  report::Table t;
  t.name = "demo";
  t.columns = {{"a", "议题"}, {"b", "意见"}};
  t.rows = {{"普通", "同意, 但\"需\"复核"}, {"=SUM(A1)", "-12.50"}, {"第一行\n第二行", ""}};
  t.summary = {{"total", "3"}};
  return t;
}

TEST(RenderTest, CsvIsRfc4180WithBomCrlfQuotingAndNoFormulas) {
  EXPECT_EQ(report::RenderCsv(Small()),
            "\xEF\xBB\xBF"
            "议题,意见\r\n"
            "普通,\"同意, 但\"\"需\"\"复核\"\r\n"
            "'=SUM(A1),-12.50\r\n"
            "\"第一行\n第二行\",\r\n");
}

TEST(RenderTest, JsonKeepsColumnOrderAndEscapes) {
  EXPECT_EQ(report::RenderJson(Small()),
            R"J({"report":"demo","columns":[{"id":"a","title":"议题"},{"id":"b","title":"意见"}],)J"
            R"J("rows":[{"a":"普通","b":"同意, 但\"需\"复核"},{"a":"=SUM(A1)","b":"-12.50"},)J"
            R"J({"a":"第一行\u000a第二行","b":""}],"summary":{"total":"3"}})J");
}

TEST(ReportNamesTest, EachNameReadsItsWorkflow) {
  EXPECT_EQ(report::ReportNames(),
            (std::vector<std::string>{"sanzhong-ledger", "rectification", "procurement"}));
  EXPECT_EQ(report::WorkflowOfReport("sanzhong-ledger"), "sanzhong-yida");
  EXPECT_EQ(report::WorkflowOfReport("rectification"), "rectification");
  EXPECT_EQ(report::WorkflowOfReport("procurement"), "procurement");
  EXPECT_EQ(report::WorkflowOfReport("ledger"), "");
}

// ---- rectification ------------------------------------------------------------------

FormData Item(const char* no, const char* leader, const char* dept, const char* deadline) {
  FormData f;
  f["problem_no"] = S(no);
  f["area"] = S("decision_making");
  f["problem"] = S("“三重一大”事项未经集体决策");
  f["responsible_leader"] = S(leader);
  f["responsible_dept"] = S(dept);
  f["deadline"] = Value::Of(*ParseDate(deadline));
  return f;
}

// Runs an item through every step: measures, approval, the work, acceptance
// and the look back. `days_to_finish` passes between approval and the work.
void RunToEnd(Driver& d, const char* dept_head, const char* leader, int64_t days_to_finish,
              bool lookback) {
  FormData m;
  m["measures"] = S("建立议事规则，重大事项一律上会");
  d.Do("complete", dept_head, "measures", {}, m);
  d.Do("approve", leader, "leader_approval", {}, {}, "同意措施");
  d.Advance(days_to_finish * kMsPerDay);
  FormData w;
  w["result_summary"] = S("已修订议事规则并执行");
  w["status"] = S("long_term");
  d.Do("complete", dept_head, "rectify", {}, w);
  d.Do("approve", leader, "acceptance", {}, {}, "验收通过");
  if (lookback) {
    FormData l;
    l["lookback_notes"] = S("回头看未发现反弹");
    d.Do("complete", "huang_xiaoming", "lookback", {}, l);
  }
}

TEST(RectificationReportTest, ProgressRowsOverdueAndSummary) {
  const WorkflowDef& def = Shipped("rectification");
  // Item 1: done on time and looked back. Item 2: done late, waiting for the
  // look back. Item 3: stuck at the measures, past its deadline.
  Driver d1(def, SeedOrg()), d2(def, SeedOrg()), d3(def, SeedOrg());
  d1.Do("submit", "lin_xiaoyan", "", {}, Item("1-1", "liu_guoqiang", "greening", "2024-01-31"));
  RunToEnd(d1, "luo_jun", "liu_guoqiang", 3, true);
  d2.Do("submit", "lin_xiaoyan", "", {}, Item("1-2", "liu_guoqiang", "greening", "2024-01-10"));
  RunToEnd(d2, "luo_jun", "liu_guoqiang", 5, false);
  d3.Do("submit", "lin_xiaoyan", "", {}, Item("2-1", "zhao_min", "research", "2024-01-10"));

  std::vector<report::InstanceHistory> hs = {History(1, def, d1), History(2, def, d2),
                                             History(3, def, d3)};
  report::Period all{At("2024-01-01T00:00:00+08:00"), At("2025-01-01T00:00:00+08:00")};
  auto t = report::RectificationProgress(hs, SeedOrg(), all, At("2024-01-15T10:00:00+08:00"));
  ASSERT_TRUE(t) << t.error().ToString();
  ASSERT_EQ(t->rows.size(), 3u);
  EXPECT_EQ(t->rows[0], (std::vector<std::string>{
                            "1", "1-1", "决策程序", "“三重一大”事项未经集体决策", "刘国强",
                            "绿化所", "2024-01-31", "整改完成并经回头看", "长期坚持", "是",
                            "2024-01-11", "是", "否", "0", "否"}));
  EXPECT_EQ(t->rows[1], (std::vector<std::string>{
                            "2", "1-2", "决策程序", "“三重一大”事项未经集体决策", "刘国强",
                            "绿化所", "2024-01-10", "回头看复查", "长期坚持", "是",
                            "2024-01-13", "否", "逾期完成", "0", "否"}));
  EXPECT_EQ(t->rows[2], (std::vector<std::string>{
                            "3", "2-1", "决策程序", "“三重一大”事项未经集体决策", "赵敏",
                            "科研室", "2024-01-10", "责任股室制定整改措施", "整改中", "否", "",
                            "否", "是", "5", "否"}));
  EXPECT_EQ(Summary(*t, "text"), "2 of 3 done (66%)");
  EXPECT_EQ(Summary(*t, "text_zh"), "共3项，已完成整改2项，完成率66%");
  EXPECT_EQ(Summary(*t, "overdue"), "1");
  EXPECT_EQ(Summary(*t, "leader:刘国强"), "2/2");
  EXPECT_EQ(Summary(*t, "dept:科研室"), "0/1");

  // As of a day before item 1 was accepted, it was still in progress.
  auto earlier =
      report::RectificationProgress(hs, SeedOrg(), all, At("2024-01-09T12:00:00+08:00"));
  ASSERT_TRUE(earlier);
  EXPECT_EQ(RowMap(*earlier, 0)["status"], "整改中");
  EXPECT_EQ(RowMap(*earlier, 0)["stage"], "落实整改并提交佐证材料");
  EXPECT_EQ(Summary(*earlier, "text"), "0 of 3 done (0%)");
}

TEST(RectificationReportTest, ThirteenOfThirteenIsOneHundredPercent) {
  const WorkflowDef& def = Shipped("rectification");
  std::vector<std::unique_ptr<Driver>> drivers;
  std::vector<report::InstanceHistory> hs;
  for (int i = 1; i <= 13; ++i) {
    auto d = std::make_unique<Driver>(def, SeedOrg());
    std::string no = "item-" + std::to_string(i);
    d->Do("submit", "lin_xiaoyan", "", {}, Item(no.c_str(), "zhao_min", "production", "2024-03-31"));
    RunToEnd(*d, "zhu_qiang", "zhao_min", 1, true);
    hs.push_back(History(i, def, *d));
    drivers.push_back(std::move(d));
  }
  report::Period all{At("2024-01-01T00:00:00Z"), At("2024-12-31T00:00:00Z")};
  auto t = report::RectificationProgress(hs, SeedOrg(), all, At("2024-06-30T00:00:00Z"));
  ASSERT_TRUE(t);
  EXPECT_EQ(Summary(*t, "text"), "13 of 13 done (100%)");
  EXPECT_EQ(Summary(*t, "percent"), "100");
  // Outside the period: nothing.
  report::Period before{At("2023-01-01T00:00:00Z"), At("2023-12-31T00:00:00Z")};
  auto none = report::RectificationProgress(hs, SeedOrg(), before, At("2024-06-30T00:00:00Z"));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->rows.empty());
  EXPECT_EQ(Summary(*none, "text"), "0 of 0 done (0%)");
}

// ---- 三重一大 ledger -------------------------------------------------------------------

TEST(SanzhongLedgerTest, OneRowPerMeetingWithOpinionsInSpeakingOrder) {
  const WorkflowDef& def = Shipped("sanzhong-yida");
  Driver d(def, SeedOrg());
  FormData topic;
  topic["topic"] = S("时花种植项目预算调整");
  topic["category"] = S("large_funds");
  topic["background"] = S("预算由400万元调整为120万元");
  topic["amount"] = Value::Of(Money{120000000});
  d.Do("submit", "liu_guoqiang", "", {}, topic);
  FormData agenda;
  agenda["agenda_no"] = S("2024-03");
  d.Do("complete", "lin_xiaoyan", "compile_agenda", {}, agenda);
  d.Do("distribute", "lin_xiaoyan", "meeting");
  const char* members[] = {"chen_zhiyuan", "li_jianhua", "wang_haiyan", "liu_guoqiang",
                           "zhao_min", "huang_xiaoming"};
  for (const char* m : members) d.Do("acknowledge", m, "meeting");
  d.Advance(3 * kMsPerDay);  // past 2 working days (Mon -> Thu)
  for (const char* m : members) d.Do("attend", m, "meeting");
  d.Do("recuse", "zhao_min", "meeting", Args({{"reason", S("配偶在供应商任职")}}));
  d.Do("open", "lin_xiaoyan", "meeting");
  d.Do("opinion", "li_jianhua", "meeting", {}, {}, "同意");
  d.Do("opinion", "wang_haiyan", "meeting", {}, {}, "同意，资金已落实");
  d.Do("opinion", "liu_guoqiang", "meeting", {}, {}, "建议同意");
  d.Do("opinion", "huang_xiaoming", "meeting", {}, {}, "程序合规");
  d.Do("opinion", "chen_zhiyuan", "meeting", {}, {}, "同意");
  for (const char* m : {"li_jianhua", "wang_haiyan", "liu_guoqiang", "huang_xiaoming"})
    d.Do("vote", m, "meeting", Args({{"option", S("agree")}}));
  d.Do("vote", "chen_zhiyuan", "meeting", Args({{"option", S("agree")}}));
  d.Do("close", "lin_xiaoyan", "meeting");
  FormData minutes;
  minutes["decision_no"] = S("园林〔2024〕3号");
  d.Do("complete", "lin_xiaoyan", "minutes", {}, minutes);

  std::vector<report::InstanceHistory> hs = {History(7, def, d)};
  report::Period h1{At("2024-01-01T00:00:00+08:00"), At("2024-07-01T00:00:00+08:00")};
  auto t = report::SanzhongLedger(hs, SeedOrg(), h1);
  ASSERT_TRUE(t) << t.error().ToString();
  ASSERT_EQ(t->rows.size(), 1u);
  EXPECT_EQ(t->rows[0],
            (std::vector<std::string>{
                "7", "时花种植项目预算调整", "大额度资金运作", "刘国强", "2024-01-08 09:00:00",
                "2024-01-08 09:00:00", "2024-01-11 09:00:00", "5", "陈志远、李建华、王海燕、刘国强、赵敏、黄晓明",
                "5/5; rule 1/2 strict", "赵敏: 配偶在供应商任职",
                "1. 李建华: 同意; 2. 王海燕: 同意，资金已落实; 3. 刘国强: 建议同意; 4. 黄晓明: "
                "程序合规; 5. 陈志远: 同意",
                "李建华: 同意; 王海燕: 同意; 刘国强: 同意; 黄晓明: 同意; 陈志远: 同意",
                "同意 5, 不同意 0, 缓议 0", "通过", "园林〔2024〕3号", "", "running"}));
  EXPECT_EQ(Summary(*t, "passed"), "1");
  // The second half of the year has no meeting.
  report::Period h2{At("2024-07-01T00:00:00+08:00"), At("2025-01-01T00:00:00+08:00")};
  auto empty = report::SanzhongLedger(hs, SeedOrg(), h2);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->rows.empty());
}

// ---- procurement compliance ------------------------------------------------------------

class ProcurementReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    UnitConfigLoad load = LoadUnitConfig(
        testing::ReadTextFile(SourceDir() / "config/unit.yaml"), "config/unit.yaml",
        testing::ReadTextFile(SourceDir() / "config/procurement-catalogue.yaml"),
        "config/procurement-catalogue.yaml", &SeedOrg());
    for (const auto& e : load.errors) ADD_FAILURE() << e.ToString();
    if (load.config) config_ = *load.config;
  }
  std::unique_ptr<Driver> Purchase(const char* who, int64_t fen) {
    auto d = std::make_unique<Driver>(Shipped("procurement"), SeedOrg());
    d->config() = config_;
    d->facts().values[kFactPurchases] = Value::Of(Value::List{});
    FormData f;
    f["purpose"] = S("办公设备");
    f["item_code"] = S("C99999999");
    f["item_name"] = S("绿化养护服务");
    f["amount"] = Value::Of(Money{fen});
    f["budget_project"] = S("2024-养护");
    f["fiscal_year"] = Value::Int(2024);
    d->Do("submit", who, "", {}, f);
    return d;
  }
  Value::Record config_;
};

TEST_F(ProcurementReportTest, ExecutedByTheOfficeIsCompliantOthersAreNot) {
  auto d = Purchase("xu_lei", 300000);  // 3000.00 元, a small service purchase
  ASSERT_TRUE(d->Active("dept_review")) << "expected the ordinary path";
  d->Do("approve", "yang_fan", "dept_review");
  d->Do("approve", "liu_guoqiang", "dept_review");
  FormData exec;
  exec["supplier"] = S("梅州某园林公司");
  exec["contract_no"] = S("HT-2024-001");
  d->Do("complete", "zhou_jie", "execute", {}, exec);
  const Event* check = nullptr;
  for (const Event& e : d->history())
    if (e.type == "check_completed" && e.node == "classify") check = &e;
  ASSERT_NE(check, nullptr);
  const Value::Record& details = check->data.at("details").as_record();
  std::string method = details.at("method").as_string();
  const Value::Record& cat = details.at("catalogue").as_record();

  std::vector<report::InstanceHistory> hs = {History(1, Shipped("procurement"), *d)};
  report::Period y{At("2024-01-01T00:00:00+08:00"), At("2025-01-01T00:00:00+08:00")};
  auto t = report::ProcurementCompliance(hs, SeedOrg(), y, DeptId("office"));
  ASSERT_TRUE(t) << t.error().ToString();
  ASSERT_EQ(t->rows.size(), 1u);
  auto r = RowMap(*t, 0);
  EXPECT_EQ(r["submitted_at"], "2024-01-08 09:00:00");
  EXPECT_EQ(r["department"], "园林室");
  EXPECT_EQ(r["item_code"], "C99999999");
  EXPECT_EQ(r["item_name"], "绿化养护服务");
  EXPECT_EQ(r["amount"], "3000.00");
  EXPECT_EQ(method, "below_limit");
  EXPECT_EQ(r["method_required"], "限额以下自行采购");
  EXPECT_EQ(r["rule"], details.at("rule_text").as_string());
  EXPECT_EQ(r["catalogue"], cat.at("id").as_string() + " " + cat.at("version").as_string());
  EXPECT_EQ(r["executed_by"], "周杰");
  EXPECT_EQ(r["executed_dept"], "办公室");
  EXPECT_EQ(r["status"], "running");
  EXPECT_EQ(r["compliant"], "是");
  EXPECT_EQ(r["issues"], "");
  EXPECT_EQ(Summary(*t, "compliant"), "1");
  EXPECT_EQ(Summary(*t, "non_compliant"), "0");

  // Had the unit made another department the purchasing one (as before the
  // seed's rule moved purchasing to the office), the office's execution would
  // be out of place.
  auto other = report::ProcurementCompliance(hs, SeedOrg(), y, DeptId("landscape"));
  ASSERT_TRUE(other);
  auto w = RowMap(*other, 0);
  EXPECT_EQ(w["compliant"], "否");
  EXPECT_EQ(w["issues"], "wrong_department: 由办公室执行，应由园林室统一采购");
  EXPECT_EQ(Summary(*other, "non_compliant"), "1");
}

TEST_F(ProcurementReportTest, MethodUsedOtherThanRequiredIsNotCompliant) {
  auto d = Purchase("xu_lei", 300000);
  d->Do("approve", "yang_fan", "dept_review");
  d->Do("approve", "liu_guoqiang", "dept_review");
  FormData exec;
  exec["supplier"] = S("梅州某园林公司");
  d->Do("complete", "zhou_jie", "execute", {}, exec);
  // As if the catalogue had required open tender and the office recorded
  // that it bought by 分散采购 (a `method_used` field of the execute step).
  report::InstanceHistory h = History(1, Shipped("procurement"), *d);
  for (Event& e : h.events) {
    if (e.type == "check_completed" && e.node == "classify") {
      Value::Record details = e.data.at("details").as_record();
      details["method"] = S("open_tender");
      e.data["details"] = Value::Of(details);
    }
    if (e.type == "signed" && e.node == "execute") {
      Value::Record fields = e.data.at("fields").as_record();
      fields["method_used"] = S("decentralised");
      e.data["fields"] = Value::Of(fields);
    }
  }
  report::Period y{At("2024-01-01T00:00:00+08:00"), At("2025-01-01T00:00:00+08:00")};
  auto t = report::ProcurementCompliance({h}, SeedOrg(), y, DeptId("office"));
  ASSERT_TRUE(t) << t.error().ToString();
  auto r = RowMap(*t, 0);
  EXPECT_EQ(r["method_required"], "公开招标");
  EXPECT_EQ(r["method_used"], "分散采购");
  EXPECT_EQ(r["compliant"], "否");
  EXPECT_EQ(r["issues"], "method_mismatch: 应公开招标，实际分散采购");
}

TEST_F(ProcurementReportTest, NotYetExecutedIsNeitherCompliantNorNot) {
  auto d = Purchase("xu_lei", 300000);
  std::vector<report::InstanceHistory> hs = {History(1, Shipped("procurement"), *d)};
  report::Period y{At("2024-01-01T00:00:00+08:00"), At("2025-01-01T00:00:00+08:00")};
  auto t = report::ProcurementCompliance(hs, SeedOrg(), y, DeptId("office"));
  ASSERT_TRUE(t);
  EXPECT_EQ(RowMap(*t, 0)["compliant"], "未执行");
  EXPECT_EQ(RowMap(*t, 0)["executed_by"], "");
  EXPECT_EQ(Summary(*t, "executed"), "0");
}

TEST(ReportErrorsTest, HistoryThatDoesNotFoldFailsNamingTheInstance) {
  const WorkflowDef& def = Shipped("rectification");
  report::InstanceHistory h;
  h.id = InstanceId{9};
  h.def = &def;
  Event e;
  e.version = 2;  // a history must start at version 1
  e.type = "submitted";
  h.events.push_back(e);
  report::Period all{Timestamp{0}, Timestamp{INT64_MAX}};
  auto t = report::SanzhongLedger({h}, SeedOrg(), all);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().reason, "corrupt_history");
  EXPECT_NE(t.error().message.find("instance 9"), std::string::npos);
}

}  // namespace
}  // namespace approvald
