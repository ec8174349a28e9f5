// The engine service over MemoryStore and FakeClock (and FailingStore for
// storage faults): projections, idempotency, optimistic concurrency,
// refusals in the audit log, definition versions, deadlines, notifications.
#include "service/engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/registry.h"
#include "decide_test_util.h"
#include "failing/failing_store.h"
#include "memory/memory_store.h"

namespace approvald {
namespace {

using testing::LoadDef;
using testing::LoadTestOrg;

const char* kFlow = R"Y(
id: claim
title: 报销
title_en: Claim
form:
  - { name: purpose, type: text, max_length: 50, required: true, label: 事由, label_en: Purpose }
  - { name: amount, type: money, required: true, label: 金额, label_en: Amount }
start: review
nodes:
  - { id: review, title: 股室审核, kind: approval, assignees: "head_of(submitter.dept)", next: deputy, deadline: { after: 24h, action: escalate, to: "supervisor_of(submitter.dept)" } }
  - { id: deputy, title: 分管审核, kind: approval, assignees: "person('d2')", next: approved }
  - { id: approved, title: 通过, kind: end, outcome: approved }
)Y";

class RecordingNotifier : public Notifier {
 public:
  void OnChange(const Change& c) override {
    std::lock_guard lock(mu_);
    changes.push_back(c);
  }
  std::mutex mu_;
  std::vector<Change> changes;
};

FormData Claim(int64_t fen, const char* purpose = "出差") {
  FormData f;
  f["purpose"] = Value::Str(purpose);
  f["amount"] = Value::Of(Money{fen});
  return f;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    org_ = std::make_shared<Org>(LoadTestOrg());
    WorkflowDef def = LoadDef(kFlow, *org_);
    def.hash = "sha256:v1";
    ASSERT_TRUE(registry_.Register(def));
    engine_ = std::make_unique<Engine>(EngineOptions{}, store_, clock_, org_, registry_,
                                       &notifier_);
  }

  Result<InstanceView> Submit(const char* who, FormData data, std::string key = "") {
    SubmitRequest r;
    r.workflow = "claim";
    r.actor = PersonId(who);
    r.data = std::move(data);
    r.idempotency_key = std::move(key);
    return engine_->Submit(r);
  }
  Result<InstanceView> Act(InstanceId id, const char* action, const char* who,
                           std::optional<int64_t> expected = std::nullopt) {
    ActRequest r;
    r.instance = id;
    r.command.action = action;
    r.command.actor = PersonId(who);
    r.expected_version = expected;
    return engine_->Act(r);
  }
  std::vector<std::string> Tasks(const char* who, const char* kind) {
    std::vector<std::string> out;
    auto rows = store_.ListTasks(PersonId(who), kind, 100);
    EXPECT_TRUE(rows);
    if (rows)
      for (const auto& t : *rows) out.push_back(std::to_string(t.instance.value) + ":" + t.node);
    return out;
  }

  MemoryStore store_;
  FakeClock clock_{testing::T0()};
  std::shared_ptr<Org> org_;
  WorkflowRegistry registry_;
  RecordingNotifier notifier_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, SubmitStoresEventsAndProjections) {
  auto v = Submit("c1", Claim(123456));
  ASSERT_TRUE(v) << v.error().ToString();
  InstanceId id = v->row.id;
  EXPECT_GT(id.value, 0);
  auto row = store_.GetInstance(id);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->status, "running");
  EXPECT_EQ(row->title, "出差");
  EXPECT_EQ(row->amount.fen, 123456);
  EXPECT_EQ(row->current_nodes, "review");
  EXPECT_EQ(row->def_hash, "sha256:v1");
  EXPECT_EQ(Tasks("bh", "pending"), std::vector<std::string>{std::to_string(id.value) + ":review"});
  auto events = store_.LoadEvents(id);
  ASSERT_TRUE(events);
  EXPECT_EQ(events->front().instance, id);
  // The submitter is told nothing; the approver is.
  ASSERT_EQ(notifier_.changes.size(), 1u);
  ASSERT_EQ(notifier_.changes[0].newly_pending.size(), 1u);
  EXPECT_EQ(notifier_.changes[0].newly_pending[0].value, "bh");
}

TEST_F(EngineTest, ApprovalsMoveTasksFromPendingToDone) {
  auto v = Submit("c1", Claim(100));
  ASSERT_TRUE(v);
  InstanceId id = v->row.id;
  ASSERT_TRUE(Act(id, "approve", "bh"));
  EXPECT_TRUE(Tasks("bh", "pending").empty());
  EXPECT_EQ(Tasks("bh", "done").size(), 1u);
  EXPECT_EQ(Tasks("d2", "pending").size(), 1u);
  auto done = Act(id, "approve", "d2");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->row.status, "approved");
  EXPECT_EQ(store_.GetInstance(id)->status, "approved");
  EXPECT_TRUE(Tasks("d2", "pending").empty());
}

TEST_F(EngineTest, IdempotentSubmitNeverCreatesASecondInstance) {
  auto a = Submit("c1", Claim(500), "key-1");
  auto b = Submit("c1", Claim(500), "key-1");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->row.id, b->row.id);
  EXPECT_TRUE(b->replayed);
  auto list = store_.ListInstances(InstanceQuery{});
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 1u);
  auto c = Submit("c1", Claim(999), "key-1");  // same key, different request
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kConflict);
}

TEST_F(EngineTest, StaleExpectedVersionIsAConflictAndChangesNothing) {
  auto v = Submit("c1", Claim(100));
  ASSERT_TRUE(v);
  auto r = Act(v->row.id, "approve", "bh", v->state.version - 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_EQ(r.error().reason, "stale_version");
  EXPECT_EQ(store_.GetInstance(v->row.id)->version, v->state.version);
  EXPECT_TRUE(Act(v->row.id, "approve", "bh", v->state.version));
}

TEST_F(EngineTest, ConcurrentActionsOnOneInstanceHaveOneWinner) {
  auto v = Submit("c1", Claim(100));
  ASSERT_TRUE(v);
  InstanceId id = v->row.id;
  // bh approving and c1 withdrawing race; exactly one may succeed.
  std::atomic<int> ok{0}, conflicts{0}, refused{0};
  for (int round = 0; round < 20; ++round) {
    auto fresh = Submit("c1", Claim(100 + round));
    ASSERT_TRUE(fresh);
    std::thread a([&] {
      auto r = Act(fresh->row.id, "approve", "bh", fresh->state.version);
      r ? ++ok : r.error().code == ErrorCode::kConflict ? ++conflicts : ++refused;
    });
    std::thread b([&] {
      auto r = Act(fresh->row.id, "withdraw", "c1", fresh->state.version);
      r ? ++ok : r.error().code == ErrorCode::kConflict ? ++conflicts : ++refused;
    });
    a.join();
    b.join();
  }
  EXPECT_EQ(ok.load(), 20);
  EXPECT_EQ(conflicts.load() + refused.load(), 20);
  (void)id;
}

TEST_F(EngineTest, RefusedActionsAreAudited) {
  auto v = Submit("c1", Claim(100));
  ASSERT_TRUE(v);
  auto r = Act(v->row.id, "approve", "d2");  // not d2's turn
  ASSERT_FALSE(r);
  AuditQuery q;
  q.type = "action_refused";
  auto entries = store_.QueryAudit(q);
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ(entries->at(0).actor.value, "d2");
  EXPECT_NE(entries->at(0).leaf_data.find("not_assignee"), std::string::npos);
}

TEST_F(EngineTest, RunningInstancesKeepTheirDefinitionVersion) {
  auto old_instance = Submit("c1", Claim(100));
  ASSERT_TRUE(old_instance);
  std::string changed = kFlow;
  changed.replace(changed.find("next: approved"), 14, "next: final");
  changed += "  - { id: final, title: 主任审批, kind: approval, assignees: \"person('head')\", next: approved }\n";
  WorkflowDef v2 = LoadDef(changed, *org_);
  v2.hash = "sha256:v2";
  auto reg = registry_.Register(v2);
  ASSERT_TRUE(reg && reg->created);
  EXPECT_EQ(reg->def->version, 2);
  auto new_instance = Submit("c1", Claim(100));
  ASSERT_TRUE(new_instance);
  EXPECT_EQ(new_instance->row.workflow_version, 2);
  // The old one finishes on version 1: no `final` step.
  ASSERT_TRUE(Act(old_instance->row.id, "approve", "bh"));
  auto done = Act(old_instance->row.id, "approve", "d2");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->row.status, "approved");
  ASSERT_TRUE(Act(new_instance->row.id, "approve", "bh"));
  auto waiting = Act(new_instance->row.id, "approve", "d2");
  ASSERT_TRUE(waiting);
  EXPECT_EQ(waiting->row.status, "running");
  EXPECT_EQ(waiting->row.current_nodes, "final");
}

TEST_F(EngineTest, TickAppliesDueDeadlines) {
  auto v = Submit("c1", Claim(100));
  ASSERT_TRUE(v);
  auto none = engine_->Tick();
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, 0);
  clock_.Advance(25 * kMsPerHour);
  auto some = engine_->Tick();
  ASSERT_TRUE(some);
  EXPECT_EQ(*some, 1);
  EXPECT_EQ(Tasks("d1", "pending").size(), 1u);  // escalated to the supervisor
}

TEST_F(EngineTest, StorageFailureIsReportedAndNothingIsAcknowledgedOrAnnounced) {
  FailingStore failing(store_);
  Engine engine(EngineOptions{}, failing, clock_, org_, registry_, &notifier_);
  failing.FailCallsMatching([](std::string_view m, int64_t) { return m == "Append"; });
  SubmitRequest r;
  r.workflow = "claim";
  r.actor = PersonId("c1");
  r.data = Claim(100);
  auto v = engine.Submit(r);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(notifier_.changes.empty());
  EXPECT_TRUE(store_.ListInstances(InstanceQuery{})->empty());
  failing.Reset();
  EXPECT_TRUE(engine.Submit(r));
}

TEST_F(EngineTest, ViewersSeeOnlyWhatTheyAreInvolvedIn) {
  auto v = Submit("c1", Claim(100));
  ASSERT_TRUE(v);
  auto as_bh = engine_->Get(v->row.id, PersonId("bh"));
  ASSERT_TRUE(as_bh);
  EXPECT_TRUE(engine_->CanView(*as_bh, PersonId("c1")));
  EXPECT_TRUE(engine_->CanView(*as_bh, PersonId("bh")));
  EXPECT_FALSE(engine_->CanView(*as_bh, PersonId("x3")));
  bool can_approve = false;
  for (const auto& a : as_bh->actions) can_approve |= a.action == "approve";
  EXPECT_TRUE(can_approve);
}

}  // namespace
}  // namespace approvald
