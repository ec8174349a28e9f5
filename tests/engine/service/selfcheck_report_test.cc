// The monthly voucher self-check scheduler (service/voucher_selfcheck.h) with
// a fake clock over MemoryStore (and FailingStore for a batch interrupted
// half-way), and the report service (service/report_service.h) over the
// store: names, periods, and a report read back from stored instances.
#include <gtest/gtest.h>

#include "audit/leaf.h"
#include "core/registry.h"
#include "core/sampling.h"
#include "core/workflow_loader.h"
#include "failing/failing_store.h"
#include "loader_test_util.h"
#include "memory/memory_store.h"
#include "service/engine.h"
#include "service/report_service.h"
#include "service/voucher_selfcheck.h"

namespace approvald {
namespace {

using testing::SeedOrg;
using testing::SourceDir;

const char* kClaim = R"Y(
id: claim
title: 报销
title_en: Claim
form:
  - { name: purpose, type: text, max_length: 50, required: true, label: 事由, label_en: Purpose }
  - { name: amount, type: money, required: true, label: 金额, label_en: Amount }
start: review
nodes:
  - { id: review, title: 股室审核, kind: approval, assignees: "head_of(submitter.dept)", next: approved }
  - { id: approved, title: 通过, kind: end, outcome: approved }
)Y";

Timestamp At(const char* text) { return *ParseTimestamp(text); }

WorkflowDef Load(const std::string& text, const std::string& file) {
  WorkflowLoad load = LoadWorkflow(text, file, SeedOrg(), CheckRegistry::Builtin());
  for (const auto& e : load.errors) ADD_FAILURE() << e.ToString();
  WorkflowDef def = load.def ? std::move(*load.def) : WorkflowDef();
  def.hash = "sha256:" + file;
  return def;
}

class SelfCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    org_ = std::make_shared<Org>(SeedOrg());
    ASSERT_TRUE(registry_.Register(Load(kClaim, "claim.yaml")));
    ASSERT_TRUE(registry_.Register(
        Load(testing::ReadTextFile(SourceDir() / "workflows/voucher-selfcheck.yaml"),
             "workflows/voucher-selfcheck.yaml")));
    ASSERT_TRUE(registry_.Register(
        Load(testing::ReadTextFile(SourceDir() / "workflows/rectification.yaml"),
             "workflows/rectification.yaml")));
    engine_ = std::make_unique<Engine>(EngineOptions{}, store_, clock_, org_, registry_, nullptr);
    options_.sample_size = 3;
    options_.workflows = {"claim"};
  }

  // A claim by xu_lei (园林室), approved by yang_fan at the clock's time.
  InstanceId ApprovedClaim(int64_t fen) {
    SubmitRequest r;
    r.workflow = "claim";
    r.actor = PersonId("xu_lei");
    r.data["purpose"] = Value::Str("差旅费");
    r.data["amount"] = Value::Of(Money{fen});
    auto v = engine_->Submit(r);
    EXPECT_TRUE(v) << v.error().ToString();
    ActRequest a;
    a.instance = v->row.id;
    a.command.action = "approve";
    a.command.actor = PersonId("yang_fan");
    auto done = engine_->Act(a);
    EXPECT_TRUE(done) << done.error().ToString();
    EXPECT_EQ(done->row.status, "approved");
    return v->row.id;
  }

  std::vector<InstanceRow> SelfChecks() {
    InstanceQuery q;
    q.workflow = "voucher-selfcheck";
    auto rows = store_.ListInstances(q);
    EXPECT_TRUE(rows);
    return rows ? *rows : std::vector<InstanceRow>{};
  }

  std::vector<AuditRecord> BatchRecords() {
    std::vector<AuditRecord> out;
    AuditQuery q;
    q.type = "voucher_selfcheck_sampled";
    auto entries = store_.QueryAudit(q);
    EXPECT_TRUE(entries);
    for (const auto& e : *entries) {
      auto leaf = audit::ParseLeaf(e.leaf_data);
      if (leaf && leaf->record) out.push_back(*leaf->record);
    }
    return out;
  }

  // Three claims approved in February, five in March, one still running.
  std::vector<InstanceId> MakeMonths() {
    clock_.Set(At("2024-02-10T10:00:00+08:00"));
    for (int i = 0; i < 3; ++i) ApprovedClaim(10000 + i);
    clock_.Set(At("2024-03-01T00:00:00+08:00"));  // the first instant of March
    std::vector<InstanceId> march;
    for (int i = 0; i < 5; ++i) {
      march.push_back(ApprovedClaim(20000 + i));
      clock_.Advance(kMsPerDay);
    }
    SubmitRequest r;
    r.workflow = "claim";
    r.actor = PersonId("xu_lei");
    r.data["purpose"] = Value::Str("未审批");
    r.data["amount"] = Value::Of(Money{1});
    EXPECT_TRUE(engine_->Submit(r));
    return march;
  }

  MemoryStore store_;
  FakeClock clock_{At("2024-01-08T09:00:00+08:00")};
  std::shared_ptr<Org> org_;
  WorkflowRegistry registry_;
  std::unique_ptr<Engine> engine_;
  SelfCheckOptions options_;
};

TEST_F(SelfCheckTest, SamplesLastMonthsApprovedReimbursementsIntoFinanceTasks) {
  std::vector<InstanceId> march = MakeMonths();
  clock_.Set(At("2024-04-01T08:00:00+08:00"));
  VoucherSelfCheck sc(options_, *engine_, clock_, [] { return uint64_t{0x5eed}; });
  auto batch = sc.RunDue();
  ASSERT_TRUE(batch) << batch.error().ToString();
  EXPECT_EQ(batch->period, "2024-03");
  EXPECT_EQ(batch->seed, 0x5eedu);
  EXPECT_EQ(batch->population, march);
  std::vector<InstanceId> expected;
  for (size_t pos : SamplePositions(0x5eed, 5, 3)) expected.push_back(march[pos]);
  EXPECT_EQ(batch->sampled, expected);
  EXPECT_FALSE(batch->already_done);
  ASSERT_EQ(batch->created.size(), 3u);

  // The audit record lets anyone redraw the sample.
  auto records = BatchRecords();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].subject, "voucher-selfcheck:2024-03");
  EXPECT_EQ(records[0].actor, SystemActor());
  EXPECT_EQ(records[0].data.at("seed"), Value::Str("0000000000005eed"));
  EXPECT_EQ(records[0].data.at("population").as_list().size(), 5u);
  EXPECT_EQ(records[0].data.at("sample").as_list().size(), 3u);
  EXPECT_EQ(records[0].data.at("sample").as_list()[0], Value::Int(expected[0].value));

  // Each instance carries the seed and is a task for every member of 计财室.
  auto first = engine_->Get(batch->created[0], PersonId("he_jing"));
  ASSERT_TRUE(first);
  const FormData& f = first->state.form;
  EXPECT_EQ(f.at("period"), Value::Str("2024-03"));
  EXPECT_EQ(f.at("reimbursement"), Value::Int(expected[0].value));
  EXPECT_EQ(f.at("reimbursement_workflow"), Value::Str("claim"));
  EXPECT_EQ(f.at("claimant"), Value::Str("xu_lei"));
  EXPECT_EQ(f.at("sample_seed"), Value::Str("0000000000005eed"));
  EXPECT_EQ(f.at("sample_position"), Value::Int(1));
  EXPECT_EQ(f.at("sample_size"), Value::Int(3));
  EXPECT_EQ(f.at("population"), Value::Int(5));
  EXPECT_EQ(first->row.submitter, SystemActor());
  EXPECT_EQ(first->row.current_nodes, "review");
  for (const char* who : {"zheng_li", "he_jing", "sun_yue"}) {
    auto tasks = store_.ListTasks(PersonId(who), "pending", 10);
    ASSERT_TRUE(tasks);
    EXPECT_EQ(tasks->size(), 3u) << who;
  }

  // A problem goes to the head for correction and to the finance deputy.
  ActRequest review;
  review.instance = batch->created[0];
  review.command.action = "complete";
  review.command.actor = PersonId("he_jing");
  review.command.data["finding"] = Value::Str("problem");
  review.command.data["finding_notes"] = Value::Str("缺少出差审批单");
  auto reviewed = engine_->Act(review);
  ASSERT_TRUE(reviewed) << reviewed.error().ToString();
  EXPECT_EQ(reviewed->row.current_nodes, "correct");
}

TEST_F(SelfCheckTest, SecondTriggerAndRestartCreateNoSecondBatch) {
  MakeMonths();
  clock_.Set(At("2024-04-02T09:00:00+08:00"));
  VoucherSelfCheck sc(options_, *engine_, clock_, [] { return uint64_t{1}; });
  auto first = sc.RunDue();
  ASSERT_TRUE(first);
  auto again = sc.RunDue();
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->already_done);
  EXPECT_EQ(SelfChecks().size(), 3u);

  // A restart: a new scheduler with another seed source reuses the record.
  VoucherSelfCheck restarted(options_, *engine_, clock_, [] { return uint64_t{999}; });
  auto third = restarted.RunDue();
  ASSERT_TRUE(third) << third.error().ToString();
  EXPECT_TRUE(third->already_done);
  EXPECT_EQ(third->seed, 1u);
  EXPECT_EQ(third->sampled, first->sampled);
  EXPECT_EQ(third->created, first->created);
  EXPECT_EQ(SelfChecks().size(), 3u);
  EXPECT_EQ(BatchRecords().size(), 1u);

  // Next month the batch of April is due (no April reimbursements: nothing).
  clock_.Set(At("2024-05-01T00:00:00+08:00"));
  auto may = restarted.RunDue();
  ASSERT_TRUE(may);
  EXPECT_EQ(may->period, "2024-04");
  EXPECT_TRUE(may->sampled.empty());
  EXPECT_EQ(BatchRecords().size(), 1u);  // an empty month records nothing
}

TEST_F(SelfCheckTest, BatchInterruptedHalfWayIsCompletedWithTheSameSample) {
  MakeMonths();
  clock_.Set(At("2024-04-01T00:00:00+08:00"));
  FailingStore failing(store_);
  int appends = 0;
  // The second self-check instance's append fails (the first claim appends
  // are done already: count only from here).
  failing.FailCallsMatching([&appends](std::string_view method, int64_t) {
    return method == "Append" && ++appends == 2;
  });
  Engine flaky(EngineOptions{}, failing, clock_, org_, registry_, nullptr);
  VoucherSelfCheck sc(options_, flaky, clock_, [] { return uint64_t{77}; });
  auto broken = sc.RunDue();
  ASSERT_FALSE(broken);
  EXPECT_EQ(SelfChecks().size(), 1u);
  EXPECT_EQ(BatchRecords().size(), 1u);

  VoucherSelfCheck after(options_, *engine_, clock_, [] { return uint64_t{78}; });
  auto done = after.RunDue();
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_EQ(done->seed, 77u);
  EXPECT_FALSE(done->already_done);  // it created the missing two
  EXPECT_EQ(done->created.size(), 3u);
  EXPECT_EQ(SelfChecks().size(), 3u);
}

TEST_F(SelfCheckTest, JanuaryChecksDecemberOfTheYearBefore) {
  clock_.Set(At("2023-12-31T23:30:00+08:00"));
  InstanceId dec = ApprovedClaim(5000);
  clock_.Set(At("2024-01-01T00:10:00+08:00"));
  ApprovedClaim(6000);  // January: not in December's batch
  VoucherSelfCheck sc(options_, *engine_, clock_, [] { return uint64_t{3}; });
  auto batch = sc.RunDue();
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->period, "2023-12");
  EXPECT_EQ(batch->population, std::vector<InstanceId>{dec});
  EXPECT_EQ(batch->sampled, std::vector<InstanceId>{dec});
  auto bad = sc.RunFor(2024, 13);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().reason, "bad_month");
}

TEST(SelfCheckOptionsTest, ReadFromTheUnitConfiguration) {
  Value::Record sc;
  sc["sample_size"] = Value::Int(4);
  sc["workflows"] = Value::Of(Value::List{Value::Str("expense"), Value::Str("claim")});
  sc["reviewer_department"] = Value::Str("office");
  Value::Record unit;
  unit["self_check"] = Value::Of(sc);
  auto o = SelfCheckOptions::FromUnitConfig(unit);
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->enabled);
  EXPECT_EQ(o->sample_size, 4);
  EXPECT_EQ(o->workflows, (std::vector<std::string>{"expense", "claim"}));
  EXPECT_EQ(o->reviewer_dept, DeptId("office"));

  sc["sample_size"] = Value::Int(0);
  unit["self_check"] = Value::Of(sc);
  auto bad = SelfCheckOptions::FromUnitConfig(unit);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().reason, "bad_self_check_config");

  auto off = SelfCheckOptions::FromUnitConfig(Value::Record{});
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->enabled);
}

// ---- report service ------------------------------------------------------------

TEST_F(SelfCheckTest, ReportServiceRefusesUnknownNamesAndEmptyPeriods) {
  ReportRequest r;
  r.name = "ledger";
  r.period = {At("2024-01-01T00:00:00Z"), At("2024-07-01T00:00:00Z")};
  auto unknown = BuildReport(store_, registry_, *org_, r);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(unknown.error().reason, "report_not_found");
  EXPECT_NE(unknown.error().message.find("sanzhong-ledger, rectification, procurement"),
            std::string::npos);
  r.name = "rectification";
  r.period = {At("2024-07-01T00:00:00Z"), At("2024-01-01T00:00:00Z")};
  auto empty = BuildReport(store_, registry_, *org_, r);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().reason, "bad_period");
}

TEST_F(SelfCheckTest, ReportServiceReadsStoredInstances) {
  SubmitRequest r;
  r.workflow = "rectification";
  r.actor = PersonId("lin_xiaoyan");
  r.data["problem_no"] = Value::Str("3-1");
  r.data["area"] = Value::Str("finance");
  r.data["problem"] = Value::Str("报销审核不严");
  r.data["responsible_leader"] = Value::Str("wang_haiyan");
  r.data["responsible_dept"] = Value::Str("finance");
  r.data["deadline"] = Value::Of(*ParseDate("2024-01-31"));
  auto v = engine_->Submit(r);
  ASSERT_TRUE(v) << v.error().ToString();
  clock_.Set(At("2024-02-05T09:00:00+08:00"));
  ASSERT_TRUE(engine_->Tick());  // 5 working days: escalated to the leader

  ReportRequest req;
  req.name = "rectification";
  req.period = {At("2024-01-01T00:00:00+08:00"), At("2024-07-01T00:00:00+08:00")};
  req.now = clock_.Now();
  auto t = BuildReport(store_, registry_, *org_, req);
  ASSERT_TRUE(t) << t.error().ToString();
  ASSERT_EQ(t->rows.size(), 1u);
  EXPECT_EQ(t->rows[0], (std::vector<std::string>{
                            std::to_string(v->row.id.value), "3-1", "财务管理", "报销审核不严",
                            "王海燕", "计财室", "2024-01-31", "责任股室制定整改措施", "整改中",
                            "否", "", "否", "是", "5", "是"}));
}

}  // namespace
}  // namespace approvald
