// The engine service over MemoryStore and FakeClock (and FailingStore for
// storage faults): projections, idempotency, optimistic concurrency,
// refusals in the audit log, definition versions, deadlines, notifications.
#include "service/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
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

TEST_F(EngineTest, OnlyPeopleWithNewWorkAreNewlyPending) {
  auto v = Submit("c1", Claim(100));
  ASSERT_TRUE(v);
  InstanceId id = v->row.id;
  // A step that leaves bh pending on the same node tells nobody.
  auto urged = Act(id, "urge", "c1");
  ASSERT_TRUE(urged) << urged.error().ToString();
  ASSERT_EQ(notifier_.changes.size(), 2u);
  EXPECT_EQ(notifier_.changes[1].tasks.size(), 1u);
  EXPECT_TRUE(notifier_.changes[1].newly_pending.empty());
  // bh's approval hands the work to d2, who is told; bh is not.
  ASSERT_TRUE(Act(id, "approve", "bh"));
  ASSERT_EQ(notifier_.changes.size(), 3u);
  ASSERT_EQ(notifier_.changes[2].newly_pending.size(), 1u);
  EXPECT_EQ(notifier_.changes[2].newly_pending[0].value, "d2");
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

// Tick asks the store for the instances whose projected next deadline has
// passed (InstanceQuery::due_by) instead of loading every running one; a row
// that claims to be due but is not (one stored before deadlines were
// projected) gets its real deadline recorded and is skipped afterwards.
TEST_F(EngineTest, TickLoadsOnlyDueInstancesAndRecordsUnknownDeadlines) {
  FailingStore counting(store_);
  std::vector<std::string> calls;
  counting.FailCallsMatching([&](std::string_view m, int64_t) {
    calls.emplace_back(m);
    return false;
  });
  auto loads = [&] { return std::count(calls.begin(), calls.end(), "LoadEvents"); };
  EngineOptions opts;
  opts.state_cache_capacity = 0;  // every Load reads the store
  Engine engine(opts, counting, clock_, org_, registry_, &notifier_);
  SubmitRequest r;
  r.workflow = "claim";
  r.actor = PersonId("c1");
  r.data = Claim(100);
  std::vector<InstanceView> views;
  for (int i = 0; i < 3; ++i) {
    auto v = engine.Submit(r);
    ASSERT_TRUE(v) << v.error().ToString();
    views.push_back(*v);
  }
  std::optional<Timestamp> deadline = views[0].state.active.at("review").deadline;
  ASSERT_TRUE(deadline);
  EXPECT_EQ(store_.GetInstance(views[0].row.id)->next_deadline, deadline);
  ActRequest approve;
  approve.instance = views[2].row.id;
  approve.command.action = "approve";
  approve.command.actor = PersonId("bh");
  auto approved = engine.Act(approve);  // now at `deputy`, which has no deadline
  ASSERT_TRUE(approved) << approved.error().ToString();
  EXPECT_EQ(store_.GetInstance(views[2].row.id)->next_deadline, std::nullopt);

  calls.clear();
  clock_.Advance(kMsPerHour);
  ASSERT_EQ(engine.Tick().value_or(-1), 0);
  EXPECT_EQ(loads(), 0);

  // A row that does not know its deadline says "due now"; Tick loads it once.
  InstanceId legacy = views[1].row.id;
  ASSERT_TRUE(store_.SetNextDeadline(legacy, views[1].row.version, Timestamp{0}).value_or(false));
  calls.clear();
  ASSERT_EQ(engine.Tick().value_or(-1), 0);
  EXPECT_EQ(loads(), 1);
  EXPECT_EQ(store_.GetInstance(legacy)->next_deadline, deadline);
  calls.clear();
  ASSERT_EQ(engine.Tick().value_or(-1), 0);
  EXPECT_EQ(loads(), 0);

  // Past the deadline both instances still in `review` are escalated.
  clock_.Advance(25 * kMsPerHour);
  ASSERT_EQ(engine.Tick().value_or(-1), 2);
  EXPECT_EQ(store_.GetInstance(views[2].row.id)->version, approved->row.version);
  EXPECT_GT(store_.GetInstance(legacy)->version, views[1].row.version);
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

// A task's `since` is when it began: the node became active (pending), the
// person decided (done), the person was copied (cc). An append that leaves a
// task alone leaves its `since`, so the task lists (newest first) keep their
// order when an instance gets a comment or an approval elsewhere.
TEST_F(EngineTest, TasksAreDatedWhenTheyBeganAndKeepThatDate) {
  auto since = [&](const char* who, const char* kind, InstanceId id) {
    auto rows = store_.ListTasks(PersonId(who), kind, 100);
    EXPECT_TRUE(rows);
    if (rows)
      for (const auto& t : *rows)
        if (t.instance == id) return t.since.ms;
    return int64_t{-1};
  };
  const int64_t t0 = clock_.Now().ms;
  auto a = Submit("c1", Claim(100, "甲"));
  ASSERT_TRUE(a);
  InstanceId ida = a->row.id;
  clock_.Advance(kMsPerHour);
  auto b = Submit("c1", Claim(200, "乙"));
  ASSERT_TRUE(b);
  InstanceId idb = b->row.id;
  EXPECT_EQ(Tasks("bh", "pending"),
            (std::vector<std::string>{std::to_string(idb.value) + ":review",
                                      std::to_string(ida.value) + ":review"}));

  clock_.Advance(kMsPerHour);  // t0 + 2h: x3 copied on a
  ActRequest cc;
  cc.instance = ida;
  cc.command.action = "cc";
  cc.command.actor = PersonId("c1");
  cc.command.args["people"] = Value::Of(Value::List{Value::Str("x3")});
  ASSERT_TRUE(engine_->Act(cc));
  EXPECT_EQ(since("x3", "cc", ida), t0 + 2 * kMsPerHour);
  EXPECT_EQ(since("bh", "pending", ida), t0) << "bh was asked at the submission";
  // The task on a is still the older one: b stays first.
  EXPECT_EQ(Tasks("bh", "pending").front(), std::to_string(idb.value) + ":review");

  clock_.Advance(kMsPerHour);  // t0 + 3h: bh approves a, d2 is asked
  ASSERT_TRUE(Act(ida, "approve", "bh"));
  EXPECT_EQ(since("bh", "done", ida), t0 + 3 * kMsPerHour);
  EXPECT_EQ(since("d2", "pending", ida), t0 + 3 * kMsPerHour);
  EXPECT_EQ(since("x3", "cc", ida), t0 + 2 * kMsPerHour);

  clock_.Advance(kMsPerHour);  // t0 + 4h: a comment changes no task
  ActRequest note;
  note.instance = ida;
  note.command.action = "comment";
  note.command.actor = PersonId("c1");
  note.command.comment = "发票已补";
  ASSERT_TRUE(engine_->Act(note));
  EXPECT_EQ(since("bh", "done", ida), t0 + 3 * kMsPerHour);
  EXPECT_EQ(since("d2", "pending", ida), t0 + 3 * kMsPerHour);
  EXPECT_EQ(since("x3", "cc", ida), t0 + 2 * kMsPerHour);
  EXPECT_EQ(since("bh", "pending", idb), t0 + kMsPerHour);
}

TEST_F(EngineTest, WhoReturnedARequestStillSeesItAndHasItInDoneWork) {
  auto v = Submit("c1", Claim(100));
  ASSERT_TRUE(v);
  ActRequest r;
  r.instance = v->row.id;
  r.command.action = "return";
  r.command.actor = PersonId("bh");
  r.command.comment = "发票不全";
  r.command.args["to"] = Value::Str("start");
  ASSERT_TRUE(engine_->Act(r));
  auto back = engine_->Get(v->row.id, PersonId("c1"));
  ASSERT_TRUE(back);
  // bh's task was cancelled by the return; the return itself keeps bh involved.
  EXPECT_TRUE(engine_->CanView(*back, PersonId("bh")));
  EXPECT_FALSE(engine_->CanView(*back, PersonId("x3")));
  EXPECT_EQ(Tasks("bh", "done"), std::vector<std::string>{std::to_string(v->row.id.value) + ":review"});
}

// ---- the state cache ----

// The cached view of an instance is the one a fresh engine folds from the
// store, after submissions, approvals and the end.
TEST_F(EngineTest, CachedStateEqualsTheStoresFold) {
  EngineOptions no_cache;
  no_cache.state_cache_capacity = 0;
  Engine fresh(no_cache, store_, clock_, org_, registry_, nullptr);
  auto v = Submit("c1", Claim(4200));
  ASSERT_TRUE(v);
  InstanceId id = v->row.id;
  auto check = [&](const char* when) {
    auto cached = engine_->Get(id, PersonId("bh"));
    auto loaded = fresh.Get(id, PersonId("bh"));
    ASSERT_TRUE(cached && loaded) << when;
    EXPECT_TRUE(cached->state == loaded->state) << when;
    EXPECT_EQ(cached->row.version, loaded->row.version) << when;
    EXPECT_EQ(cached->row.status, loaded->row.status) << when;
    EXPECT_EQ(cached->row.current_nodes, loaded->row.current_nodes) << when;
    EXPECT_EQ(cached->row.title, loaded->row.title) << when;
    EXPECT_EQ(cached->row.amount.fen, loaded->row.amount.fen) << when;
    EXPECT_EQ(cached->row.def_hash, loaded->row.def_hash) << when;
    EXPECT_EQ(cached->row.created_at, loaded->row.created_at) << when;
    EXPECT_EQ(cached->row.updated_at, loaded->row.updated_at) << when;
    EXPECT_EQ(cached->actions.size(), loaded->actions.size()) << when;
  };
  check("after submit");
  clock_.Advance(1000);
  ASSERT_TRUE(Act(id, "approve", "bh"));
  check("after the first approval");
  ASSERT_TRUE(Act(id, "approve", "d2"));
  check("at the end");
  EXPECT_EQ(fresh.state_cache().hits(), 0);
  EXPECT_GT(engine_->state_cache().hits(), 0);
}

// An instance loaded from the store gets the projection row the store keeps
// for that version, without reading it: every field, the deadline too.
TEST_F(EngineTest, AnInstanceLoadedFromTheStoreHasTheStoresRow) {
  EngineOptions no_cache;
  no_cache.state_cache_capacity = 0;
  Engine fresh(no_cache, store_, clock_, org_, registry_, nullptr);
  auto v = Submit("c1", Claim(4200, "差旅费"));
  ASSERT_TRUE(v);
  InstanceId id = v->row.id;
  auto check = [&](const char* when) {
    auto loaded = fresh.Get(id, PersonId("bh"));
    auto stored = store_.GetInstance(id);
    ASSERT_TRUE(loaded && stored) << when;
    const InstanceRow& a = loaded->row;
    const InstanceRow& b = *stored;
    EXPECT_EQ(a.id, b.id) << when;
    EXPECT_EQ(a.workflow, b.workflow) << when;
    EXPECT_EQ(a.workflow_version, b.workflow_version) << when;
    EXPECT_EQ(a.def_hash, b.def_hash) << when;
    EXPECT_EQ(a.status, b.status) << when;
    EXPECT_EQ(a.submitter, b.submitter) << when;
    EXPECT_EQ(a.title, b.title) << when;
    EXPECT_EQ(a.amount.fen, b.amount.fen) << when;
    EXPECT_EQ(a.current_nodes, b.current_nodes) << when;
    EXPECT_EQ(a.version, b.version) << when;
    EXPECT_EQ(a.created_at, b.created_at) << when;
    EXPECT_EQ(a.updated_at, b.updated_at) << when;
    EXPECT_EQ(a.next_deadline, b.next_deadline) << when;
  };
  check("after submit");
  ASSERT_TRUE(store_.GetInstance(id)->next_deadline.has_value());  // review has a deadline
  clock_.Advance(1000);
  ASSERT_TRUE(Act(id, "approve", "bh"));
  check("after the first approval");
  ASSERT_TRUE(Act(id, "approve", "d2"));
  check("at the end");
  EXPECT_EQ(store_.GetInstance(id)->status, "approved");
}

// Reads and actions on a cached instance do not reload its events.
TEST_F(EngineTest, CachedInstancesAreNotReloaded) {
  FailingStore failing(store_);
  Engine engine(EngineOptions{}, failing, clock_, org_, registry_, nullptr);
  SubmitRequest r;
  r.workflow = "claim";
  r.actor = PersonId("c1");
  r.data = Claim(100);
  auto v = engine.Submit(r);
  ASSERT_TRUE(v);
  failing.FailCallsMatching([](std::string_view m, int64_t) {
    return m == "LoadEvents" || m == "GetInstance";
  });
  auto got = engine.Get(v->row.id, PersonId("bh"));
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->state.version, v->state.version);
  ActRequest a;
  a.instance = v->row.id;
  a.command.action = "approve";
  a.command.actor = PersonId("bh");
  auto acted = engine.Act(a);
  ASSERT_TRUE(acted) << acted.error().ToString();
  EXPECT_EQ(acted->row.current_nodes, "deputy");
  EXPECT_EQ(store_.GetInstance(v->row.id)->version, acted->state.version);
}

// Another writer moved the instance on behind this engine's cache: every
// action is still decided on the store's current state, never the stale one.
TEST_F(EngineTest, ActionsNeverUseAStaleCachedState) {
  Engine other(EngineOptions{}, store_, clock_, org_, registry_, nullptr);
  auto act_other = [&](InstanceId id, const char* action, const char* who) {
    ActRequest r;
    r.instance = id;
    r.command.action = action;
    r.command.actor = PersonId(who);
    return other.Act(r);
  };
  // 1. The client pins the version it saw (from the other engine): the
  //    stale cache must not answer stale_version.
  auto a = Submit("c1", Claim(100));
  ASSERT_TRUE(a && engine_->Get(a->row.id, PersonId("c1")));  // cached at v1
  auto moved = act_other(a->row.id, "approve", "bh");
  ASSERT_TRUE(moved);
  auto pinned = Act(a->row.id, "approve", "d2", moved->state.version);
  ASSERT_TRUE(pinned) << pinned.error().ToString();
  EXPECT_EQ(pinned->row.status, "approved");
  // 2. No version given, and on the stale state d2 is not yet an approver:
  //    the refusal must not stand.
  auto b = Submit("c1", Claim(200));
  ASSERT_TRUE(b);
  ASSERT_TRUE(act_other(b->row.id, "approve", "bh"));
  auto second = Act(b->row.id, "approve", "d2");
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(second->row.status, "approved");
  // 3. On the stale state the submitter may still withdraw; on the real one
  //    an approver already acted, so it is refused (not stored, not a 409).
  auto c = Submit("c1", Claim(300));
  ASSERT_TRUE(c);
  ASSERT_TRUE(act_other(c->row.id, "approve", "bh"));
  auto withdrawn = Act(c->row.id, "withdraw", "c1");
  ASSERT_FALSE(withdrawn);
  EXPECT_EQ(withdrawn.error().code, ErrorCode::kRejected) << withdrawn.error().ToString();
  EXPECT_EQ(store_.GetInstance(c->row.id)->status, "running");
  // The cache caught up: a read shows the store's version.
  EXPECT_EQ(engine_->Get(c->row.id, PersonId("c1"))->state.version,
            store_.GetInstance(c->row.id)->version);
}

// GetCached answers only from the cache: what Get answers for a cached
// instance, nothing for one that is not cached (another engine's instance,
// or a cache of capacity 0), and it never reads the store to find out.
TEST_F(EngineTest, GetCachedAnswersFromTheCacheOnly) {
  auto a = Submit("c1", Claim(100));
  ASSERT_TRUE(a);
  auto cached = engine_->GetCached(a->row.id, PersonId("bh"));
  ASSERT_TRUE(cached.has_value());
  auto loaded = engine_->Get(a->row.id, PersonId("bh"));
  ASSERT_TRUE(loaded);
  EXPECT_EQ(cached->row.version, loaded->row.version);
  EXPECT_EQ(cached->state.version, loaded->state.version);
  EXPECT_EQ(cached->def, loaded->def);
  ASSERT_EQ(cached->actions.size(), loaded->actions.size());
  EXPECT_FALSE(cached->actions.empty());  // bh approves next
  EXPECT_FALSE(engine_->GetCached(InstanceId{a->row.id.value + 1000}, PersonId("bh")));

  EngineOptions no_cache;
  no_cache.state_cache_capacity = 0;
  Engine uncached(no_cache, store_, clock_, org_, registry_, nullptr);
  EXPECT_FALSE(uncached.GetCached(a->row.id, PersonId("bh")).has_value());
  EXPECT_TRUE(uncached.Get(a->row.id, PersonId("bh")));
  EXPECT_FALSE(uncached.GetCached(a->row.id, PersonId("bh")).has_value());
}

// GetShared and GetCachedShared hand out the cached snapshot itself (no copy
// of the state): two reads of one version share it; an action replaces the
// entry with a new snapshot and leaves the one a reader holds unchanged; the
// actions are those Get computes for the same viewer.
TEST_F(EngineTest, SharedReadsShareTheCachedSnapshotWithoutCopying) {
  auto a = Submit("c1", Claim(100));
  ASSERT_TRUE(a);
  auto first = engine_->GetShared(a->row.id, PersonId("bh"));
  ASSERT_TRUE(first);
  ASSERT_NE(first->snapshot, nullptr);
  auto again = engine_->GetCachedShared(a->row.id, PersonId("bh"));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->snapshot.get(), first->snapshot.get());
  auto copied = engine_->Get(a->row.id, PersonId("bh"));
  ASSERT_TRUE(copied);
  EXPECT_EQ(first->snapshot->state, copied->state);
  EXPECT_EQ(first->def, copied->def);
  ASSERT_EQ(first->actions.size(), copied->actions.size());
  for (size_t i = 0; i < first->actions.size(); ++i) {
    EXPECT_EQ(first->actions[i].action, copied->actions[i].action);
    EXPECT_EQ(first->actions[i].node, copied->actions[i].node);
  }
  EXPECT_TRUE(engine_->CanView(first->snapshot->state, PersonId("bh")));
  EXPECT_FALSE(engine_->CanView(first->snapshot->state, PersonId("stranger")));

  InstanceState before = first->snapshot->state;
  ActRequest act;
  act.instance = a->row.id;
  act.command.action = "approve";
  act.command.actor = PersonId("bh");
  ASSERT_TRUE(engine_->Act(act));
  auto after = engine_->GetCachedShared(a->row.id, PersonId("bh"));
  ASSERT_TRUE(after.has_value());
  EXPECT_NE(after->snapshot.get(), first->snapshot.get());
  EXPECT_GT(after->snapshot->state.version, before.version);
  EXPECT_EQ(first->snapshot->state, before);  // the reader's snapshot is immutable

  auto missing = engine_->GetShared(InstanceId{a->row.id.value + 1000}, PersonId("bh"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(engine_->GetCachedShared(InstanceId{a->row.id.value + 1000}, PersonId("bh")));
}

std::string ActionsOf(const std::vector<AvailableAction>& actions) {
  std::string s;
  for (const auto& a : actions) s += a.action + "@" + a.node + " ";
  return s;
}

// The actions a submission or an action answers are the actor's on the new
// version (worked out before the append, see CommitWith): exactly what Get
// then computes for them, and not what they could do before.
TEST_F(EngineTest, AnAnswersActionsAreTheActorsOnTheNewVersion) {
  auto a = Submit("c1", Claim(100));
  ASSERT_TRUE(a);
  EXPECT_EQ(ActionsOf(a->actions), ActionsOf(engine_->Get(a->row.id, PersonId("c1"))->actions));
  EXPECT_NE(ActionsOf(a->actions), "");
  auto before = engine_->Get(a->row.id, PersonId("bh"));
  ASSERT_TRUE(before);
  auto approved = Act(a->row.id, "approve", "bh");
  ASSERT_TRUE(approved) << approved.error().ToString();
  std::string answered = ActionsOf(approved->actions);
  EXPECT_EQ(answered, ActionsOf(engine_->Get(a->row.id, PersonId("bh"))->actions));
  EXPECT_NE(answered, ActionsOf(before->actions));
  EXPECT_EQ(answered.find("approve@"), std::string::npos) << answered;
  // Another viewer of the same version gets their own actions.
  auto deputy = engine_->Get(a->row.id, PersonId("d2"));
  ASSERT_TRUE(deputy);
  EXPECT_NE(ActionsOf(deputy->actions).find("approve@deputy"), std::string::npos)
      << ActionsOf(deputy->actions);
  EXPECT_NE(ActionsOf(deputy->actions), answered);
}

// A snapshot remembers the actions it offered its last two viewers, and uses
// them again only while they hold: for the same organisation, and until the
// time AvailableActions said they may change (here the submitter may urge
// again 30 minutes after urging).
TEST_F(EngineTest, ASnapshotRemembersItsViewersActionsWhileTheyHold) {
  auto a = Submit("c1", Claim(100));
  ASSERT_TRUE(a);
  const InstanceId id = a->row.id;
  auto view = [&](const char* who) {
    auto v = engine_->GetShared(id, PersonId(who));
    EXPECT_TRUE(v) << who;
    return v ? ActionsOf(v->actions) : std::string("<error>");
  };
  auto hits = [&] { return engine_->actions_memo_hits(); };
  auto misses = [&] { return engine_->actions_memo_misses(); };
  const int64_t h0 = hits(), m0 = misses();
  // The submission's answer was remembered for the submitter.
  EXPECT_EQ(view("c1"), ActionsOf(a->actions));
  EXPECT_EQ(hits(), h0 + 1);
  EXPECT_EQ(misses(), m0);
  // Another viewer: decided once, then remembered.
  const std::string bh = view("bh");
  EXPECT_NE(bh.find("approve@review"), std::string::npos) << bh;
  EXPECT_EQ(misses(), m0 + 1);
  EXPECT_EQ(view("bh"), bh);
  EXPECT_EQ(hits(), h0 + 2);
  // A third viewer takes the place of the one remembered longest.
  view("d2");
  EXPECT_EQ(misses(), m0 + 2);
  EXPECT_EQ(view("c1"), ActionsOf(a->actions));
  EXPECT_EQ(misses(), m0 + 3);

  // A new organisation: nothing remembered under the old one is used.
  engine_->SetOrg(std::make_shared<Org>(*org_));
  EXPECT_EQ(view("c1"), ActionsOf(a->actions));
  EXPECT_EQ(misses(), m0 + 4);

  // Urging: the answer (no urge) holds for the urge interval, and not after.
  auto urged = Act(id, "urge", "c1");
  ASSERT_TRUE(urged) << urged.error().ToString();
  EXPECT_EQ(ActionsOf(urged->actions).find("urge@"), std::string::npos);
  const int64_t m1 = misses();
  clock_.Advance(30 * 60 * 1000 - 1);
  EXPECT_EQ(view("c1"), ActionsOf(urged->actions));
  EXPECT_EQ(misses(), m1);
  clock_.Advance(1);
  const std::string later = view("c1");
  EXPECT_EQ(misses(), m1 + 1);
  EXPECT_NE(later.find("urge@"), std::string::npos) << later;
  // Nor before the time it was decided at (a clock set back).
  clock_.Advance(-30 * 60 * 1000);
  EXPECT_EQ(view("c1"), ActionsOf(urged->actions));
  EXPECT_EQ(misses(), m1 + 2);
}

// An action that changes nothing (a deadline pass with nothing due) answers
// with the snapshot it acted on, and with the actions that snapshot remembers
// for the viewer, like a read.
TEST_F(EngineTest, AnActionThatChangesNothingUsesTheRememberedActions) {
  auto a = Submit("c1", Claim(100));
  ASSERT_TRUE(a);
  const InstanceId id = a->row.id;
  const int64_t h0 = engine_->actions_memo_hits(), m0 = engine_->actions_memo_misses();
  auto first = Act(id, "tick", "system");
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(first->state.version, a->state.version);  // nothing appended
  EXPECT_EQ(engine_->actions_memo_misses(), m0 + 1);
  EXPECT_EQ(engine_->actions_memo_hits(), h0);
  auto second = Act(id, "tick", "system");
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(second->state.version, a->state.version);
  EXPECT_EQ(engine_->actions_memo_hits(), h0 + 1);
  EXPECT_EQ(engine_->actions_memo_misses(), m0 + 1);
  EXPECT_EQ(ActionsOf(second->actions), ActionsOf(first->actions));
  // The submitter's answer to the submission is still remembered beside it.
  auto c1 = engine_->GetShared(id, PersonId("c1"));
  ASSERT_TRUE(c1);
  EXPECT_EQ(ActionsOf(c1->actions), ActionsOf(a->actions));
  EXPECT_EQ(engine_->actions_memo_hits(), h0 + 2);
}

// The memory gives back exactly the actions it was given (packed into one
// block), for its viewer, organisation and time span only.
TEST(ViewerActionsMemoTest, GivesBackWhatItWasGivenWhereItHolds) {
  auto org = std::make_shared<const Org>();
  ViewerActionsMemo memo;
  std::vector<AvailableAction> actions = {
      {"withdraw", ""}, {"approve", "dept_head_review_of_a_long_node_id"}, {"comment", ""}};
  memo.Put(PersonId("a"), org, Timestamp{100}, Timestamp{200}, actions);
  auto got = memo.Find(PersonId("a"), org, Timestamp{150});
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(ActionsOf(*got), ActionsOf(actions));
  EXPECT_FALSE(memo.Find(PersonId("b"), org, Timestamp{150}));
  EXPECT_FALSE(memo.Find(PersonId("a"), std::make_shared<const Org>(), Timestamp{150}));
  EXPECT_FALSE(memo.Find(PersonId("a"), org, Timestamp{99}));
  EXPECT_FALSE(memo.Find(PersonId("a"), org, Timestamp{200}));
  EXPECT_TRUE(memo.Find(PersonId("a"), org, Timestamp{199}));
  // No actions is an answer too.
  memo.Put(PersonId("b"), org, Timestamp{100}, kNever, {});
  auto none = memo.Find(PersonId("b"), org, Timestamp{1'000'000});
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
  // An answer that holds for no later time is not kept, nor one that could
  // not be unpacked.
  memo.Put(PersonId("c"), org, Timestamp{100}, Timestamp{100}, actions);
  EXPECT_FALSE(memo.Find(PersonId("c"), org, Timestamp{100}));
  memo.Put(PersonId("d"), org, Timestamp{100}, kNever, {{std::string("a\0b", 3), ""}});
  EXPECT_FALSE(memo.Find(PersonId("d"), org, Timestamp{100}));
  // A copy starts empty.
  ViewerActionsMemo copy = memo;
  EXPECT_FALSE(copy.Find(PersonId("b"), org, Timestamp{100}));
  EXPECT_TRUE(memo.Find(PersonId("b"), org, Timestamp{100}));
}

// An append that failed after COMMIT (the reply was lost) leaves the cache
// showing what the store holds, not the version before.
TEST_F(EngineTest, FailedAppendRefreshesTheCachedState) {
  FailingStore failing(store_);
  Engine engine(EngineOptions{}, failing, clock_, org_, registry_, nullptr);
  SubmitRequest r;
  r.workflow = "claim";
  r.actor = PersonId("c1");
  r.data = Claim(100);
  auto v = engine.Submit(r);
  ASSERT_TRUE(v);
  failing.FailCallsMatching([](std::string_view m, int64_t) { return m == "Append"; },
                            FailingStore::When::kAfterCall);
  ActRequest a;
  a.instance = v->row.id;
  a.command.action = "approve";
  a.command.actor = PersonId("bh");
  auto lost = engine.Act(a);
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().code, ErrorCode::kUnavailable);
  failing.Reset();
  auto now = engine.Get(v->row.id, PersonId("bh"));
  ASSERT_TRUE(now);
  EXPECT_EQ(now->state.version, store_.GetInstance(v->row.id)->version);
  EXPECT_GT(now->state.version, v->state.version);
  EXPECT_EQ(now->row.current_nodes, "deputy");
}

// A cache entry with only an id and a version.
std::shared_ptr<CachedInstance> CacheEntry(int64_t id, int64_t version) {
  auto e = std::make_shared<CachedInstance>();
  e->state.id = InstanceId{id};
  e->state.version = version;
  return e;
}

TEST(StateCacheTest, KeepsTheNewestVersionAndEvictsTheLeastRecentlyUsed) {
  auto entry = CacheEntry;
  StateCache cache(2, 1);
  cache.Put(entry(1, 3));
  cache.Put(entry(1, 2));  // older: ignored
  ASSERT_TRUE(cache.Find(InstanceId{1}));
  EXPECT_EQ(cache.Find(InstanceId{1})->state.version, 3);
  cache.Put(entry(1, 4));
  EXPECT_EQ(cache.Find(InstanceId{1})->state.version, 4);
  cache.Put(entry(2, 1));
  ASSERT_TRUE(cache.Find(InstanceId{1}));  // 1 is now the most recently used
  cache.Put(entry(3, 1));                  // evicts 2
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_FALSE(cache.Find(InstanceId{2}));
  EXPECT_TRUE(cache.Find(InstanceId{1}));
  EXPECT_TRUE(cache.Find(InstanceId{3}));
  cache.Erase(InstanceId{1});
  EXPECT_FALSE(cache.Find(InstanceId{1}));
  EXPECT_EQ(cache.size(), 1u);

  StateCache off(0);
  off.Put(entry(1, 1));
  EXPECT_FALSE(off.Find(InstanceId{1}));
  EXPECT_EQ(off.size(), 0u);
}

// Admission of an instance the cache does not hold: kEvicting makes room,
// kIfRoom only takes free room, kOnSecondMiss evicts only for an instance it
// refused before; a newer version of a cached instance replaces it in every
// mode.
TEST(StateCacheTest, AdmissionModesDecideWhetherAMissEvicts) {
  using Admit = StateCache::Admit;
  auto entry = CacheEntry;
  StateCache cache(2, 1);
  cache.Put(entry(1, 1), Admit::kIfRoom);       // room: taken
  cache.Put(entry(2, 1), Admit::kOnSecondMiss);  // room: taken
  EXPECT_EQ(cache.size(), 2u);
  cache.Put(entry(3, 1), Admit::kIfRoom);  // full: refused, nothing evicted
  EXPECT_FALSE(cache.Find(InstanceId{3}));
  cache.Put(entry(3, 1), Admit::kOnSecondMiss);  // first refusal
  EXPECT_FALSE(cache.Find(InstanceId{3}));
  EXPECT_TRUE(cache.Find(InstanceId{1}));
  EXPECT_TRUE(cache.Find(InstanceId{2}));  // 1 is now the least recently used
  cache.Put(entry(3, 1), Admit::kOnSecondMiss);  // back again: admitted, 1 evicted
  EXPECT_TRUE(cache.Find(InstanceId{3}));
  EXPECT_FALSE(cache.Find(InstanceId{1}));
  EXPECT_EQ(cache.size(), 2u);
  cache.Put(entry(2, 5), Admit::kIfRoom);  // a newer version replaces
  EXPECT_EQ(cache.Find(InstanceId{2})->state.version, 5);
  cache.Put(entry(4, 1));  // the default evicts (3, least recently used)
  EXPECT_TRUE(cache.Find(InstanceId{4}));
  EXPECT_FALSE(cache.Find(InstanceId{3}));
  EXPECT_EQ(cache.size(), 2u);
}

// With a byte budget the cache evicts the least recently used entries until
// the approximate bytes fit, whatever the entry count allows; an entry larger
// than the whole budget is not cached; replacing and erasing give the bytes
// back.
TEST(StateCacheTest, AByteBudgetBoundsTheApproximateMemory) {
  auto entry = [](int64_t id, int64_t version, size_t form_bytes) {
    auto e = std::make_shared<CachedInstance>();
    e->state.id = InstanceId{id};
    e->state.version = version;
    e->state.form.Mutable()["text"] = Value::Str(std::string(form_bytes, 'x'));
    return e;
  };
  size_t small = ApproxBytes(*entry(1, 1, 1000));
  size_t large = ApproxBytes(*entry(1, 1, 4000));
  EXPECT_GE(small, 1000u);
  EXPECT_GE(large, small + 3000);
  // Room for three small entries; the entry count alone would allow 100.
  StateCache cache(100, 1, 3 * small + small / 2);
  for (int64_t id = 1; id <= 3; ++id) cache.Put(entry(id, 1, 1000));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.bytes(), 3 * small);
  ASSERT_TRUE(cache.Find(InstanceId{1}));  // 2 is now the least recently used
  cache.Put(entry(4, 1, 1000));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.Find(InstanceId{2}));
  EXPECT_LE(cache.bytes(), 3 * small + small / 2);
  // A larger version of 1 does not fit beside 4 and 3: 3, now the least
  // recently used, goes too.
  cache.Put(entry(1, 2, 4000));
  EXPECT_EQ(cache.Find(InstanceId{1})->state.version, 2);
  EXPECT_FALSE(cache.Find(InstanceId{3}));
  EXPECT_TRUE(cache.Find(InstanceId{4}));
  EXPECT_EQ(cache.bytes(), large + small);
  cache.Erase(InstanceId{4});
  EXPECT_EQ(cache.bytes(), large);
  // Larger than the whole budget: not cached, and nothing else evicted.
  cache.Put(entry(9, 1, 10000));
  EXPECT_FALSE(cache.Find(InstanceId{9}));
  EXPECT_TRUE(cache.Find(InstanceId{1}));
  EXPECT_EQ(cache.bytes(), large);
}

// More instances than the cache holds, each acted on once in the order they
// were submitted (the approve benchmark): the instances still cached are hit;
// the ones read back from the store after a miss do not evict them (with
// plain LRU admission every action would miss). An instance asked for again
// comes back into the cache.
TEST_F(EngineTest, APassOverMoreInstancesThanTheCacheHoldsKeepsHittingWhatFits) {
  EngineOptions options;
  options.state_cache_capacity = 32;  // 2 per shard, 16 shards
  options.state_cache_max_bytes = 0;
  Engine engine(options, store_, clock_, org_, registry_, nullptr);
  std::vector<InstanceId> ids;
  for (int i = 0; i < 64; ++i) {
    SubmitRequest r;
    r.workflow = "claim";
    r.actor = PersonId("c1");
    r.data = Claim(100 + i);
    auto v = engine.Submit(r);
    ASSERT_TRUE(v);
    ids.push_back(v->row.id);
  }
  EXPECT_EQ(engine.state_cache().size(), 32u);
  int64_t hits = engine.state_cache().hits();
  for (InstanceId id : ids) {
    ActRequest r;
    r.instance = id;
    r.command.action = "approve";
    r.command.actor = PersonId("bh");
    ASSERT_TRUE(engine.Act(r));
  }
  EXPECT_EQ(engine.state_cache().hits() - hits, 32);  // the 32 submitted last
  EXPECT_EQ(engine.state_cache().size(), 32u);
  // The first instance, asked for a second time, is cached again.
  ASSERT_TRUE(engine.Get(ids[0], PersonId("c1")));
  EXPECT_TRUE(engine.GetCached(ids[0], PersonId("c1")).has_value());
}

// The engine hands EngineOptions::state_cache_max_bytes to its cache: with
// more instances than fit, the cache stays within the budget (and still
// caches), and the default has a budget.
TEST_F(EngineTest, StateCacheStaysWithinItsByteBudget) {
  EngineOptions options;
  options.state_cache_max_bytes = 256 * 1024;
  Engine engine(options, store_, clock_, org_, registry_, nullptr);
  for (int i = 0; i < 200; ++i) {
    SubmitRequest r;
    r.workflow = "claim";
    r.actor = PersonId("c1");
    r.data = Claim(100 + i);
    ASSERT_TRUE(engine.Submit(r));
  }
  EXPECT_LE(engine.state_cache().bytes(), 256u * 1024);
  EXPECT_GT(engine.state_cache().size(), 0u);
  EXPECT_LT(engine.state_cache().size(), 200u);
  EXPECT_GT(EngineOptions{}.state_cache_max_bytes, 0u);
}

}  // namespace
}  // namespace approvald
