// Engine::ActAsync and SubmitAsync: the answers, side effects and refusal
// audit of Act and Submit, with the continuation after the durable append on
// the executor the engine was given (never on the store's writer thread),
// over SqliteStore (appends answered by its writer) and MemoryStore.
#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "core/registry.h"
#include "decide_test_util.h"
#include "failing/failing_store.h"
#include "memory/memory_store.h"
#include "service/engine.h"
#include "sqlite/sqlite_store.h"
#include "store_test_util.h"

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
  - { id: review, title: 股室审核, kind: approval, assignees: "head_of(submitter.dept)", next: deputy }
  - { id: deputy, title: 分管审核, kind: approval, assignees: "person('d2')", next: approved }
  - { id: approved, title: 通过, kind: end, outcome: approved }
)Y";

FormData Claim(int64_t fen) {
  FormData f;
  f["purpose"] = Value::Str("出差");
  f["amount"] = Value::Of(Money{fen});
  return f;
}

// One thread that runs what is posted to it, in order.
class TestExecutor {
 public:
  TestExecutor() : thread_([this] { Loop(); }) {}
  ~TestExecutor() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void Post(std::function<void()> fn) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(fn));
      ++posted_;
    }
    cv_.notify_all();
  }
  Engine::Executor AsExecutor() {
    return [this](std::function<void()> fn) { Post(std::move(fn)); };
  }
  std::thread::id id() const { return thread_.get_id(); }
  int posted() {
    std::lock_guard lock(mu_);
    return posted_;
  }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      auto fn = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      fn();
      lock.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  int posted_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

class RecordingNotifier : public Notifier {
 public:
  void OnChange(const Change& c) override {
    std::lock_guard lock(mu);
    changes.push_back(c);
  }
  size_t count() {
    std::lock_guard lock(mu);
    return changes.size();
  }
  std::mutex mu;
  std::vector<Change> changes;
};

// The answer of an asynchronous call and the thread that delivered it.
struct Answer {
  Result<InstanceView> view = MakeError(ErrorCode::kInternal, "unanswered", "");
  std::thread::id thread;
};

class EngineAsyncTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    org_ = std::make_shared<Org>(LoadTestOrg());
    WorkflowDef def = LoadDef(kFlow, *org_);
    def.hash = "sha256:v1";
    ASSERT_TRUE(registry_.Register(def));
    if (GetParam()) {
      dir_.emplace();
      ASSERT_FALSE(dir_->path().empty());
      SqliteOptions opt;
      opt.path = dir_->File("a.db");
      auto s = SqliteStore::Open(opt);
      ASSERT_TRUE(s.has_value()) << s.error().ToString();
      sqlite_ = std::move(*s);
      store_ = sqlite_.get();
    } else {
      store_ = &memory_;
    }
    failing_ = std::make_unique<FailingStore>(*store_);
    engine_ = std::make_unique<Engine>(EngineOptions{}, *failing_, clock_, org_, registry_,
                                       &notifier_);
    engine_->SetExecutor(executor_.AsExecutor());
  }
  void TearDown() override {
    engine_.reset();
    sqlite_.reset();
    dir_.reset();
  }

  SubmitRequest SubmitReq(const char* who, FormData data, std::string key = "") {
    SubmitRequest r;
    r.workflow = "claim";
    r.actor = PersonId(who);
    r.data = std::move(data);
    r.idempotency_key = std::move(key);
    return r;
  }
  ActRequest ActReq(InstanceId id, const char* action, const char* who,
                    std::optional<int64_t> expected = std::nullopt, std::string key = "") {
    ActRequest r;
    r.instance = id;
    r.command.action = action;
    r.command.actor = PersonId(who);
    r.expected_version = expected;
    r.idempotency_key = std::move(key);
    return r;
  }
  // Runs an asynchronous call and waits for its one answer.
  template <class Start>
  Answer Await(Start start) {
    auto p = std::make_shared<std::promise<Answer>>();
    auto calls = std::make_shared<std::atomic<int>>(0);
    start([p, calls](Result<InstanceView> v) {
      if (calls->fetch_add(1) == 0) p->set_value(Answer{std::move(v), std::this_thread::get_id()});
    });
    auto f = p->get_future();
    EXPECT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    Answer a = f.get();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(calls->load(), 1) << "done must run exactly once";
    return a;
  }
  Answer SubmitAsync(const SubmitRequest& r) {
    return Await([&](Engine::ViewDone done) { engine_->SubmitAsync(r, std::move(done)); });
  }
  Answer ActAsync(const ActRequest& r) {
    return Await([&](Engine::ViewDone done) { engine_->ActAsync(r, std::move(done)); });
  }
  int64_t Refusals() {
    AuditQuery q;
    q.type = "action_refused";
    auto entries = store_->QueryAudit(q);
    EXPECT_TRUE(entries);
    return entries ? static_cast<int64_t>(entries->size()) : -1;
  }

  MemoryStore memory_;
  std::unique_ptr<SqliteStore> sqlite_;
  Store* store_ = nullptr;
  std::unique_ptr<FailingStore> failing_;
  std::optional<storetest::TempDir> dir_;  // the SQLite case
  FakeClock clock_{testing::T0()};
  std::shared_ptr<Org> org_;
  WorkflowRegistry registry_;
  RecordingNotifier notifier_;
  TestExecutor executor_;
  std::unique_ptr<Engine> engine_;
};

TEST_P(EngineAsyncTest, ApprovalsAnswerAsActWouldOnTheExecutorAfterTheyAreDurable) {
  Answer submitted = SubmitAsync(SubmitReq("c1", Claim(100)));
  ASSERT_TRUE(submitted.view) << submitted.view.error().ToString();
  EXPECT_EQ(submitted.thread, executor_.id());
  InstanceId id = submitted.view->row.id;
  EXPECT_EQ(store_->GetInstance(id)->status, "running");

  Answer approved = ActAsync(ActReq(id, "approve", "bh", submitted.view->state.version));
  ASSERT_TRUE(approved.view) << approved.view.error().ToString();
  EXPECT_EQ(approved.thread, executor_.id());
  EXPECT_EQ(approved.view->row.current_nodes, "deputy");
  int64_t v2 = approved.view->state.version;
  EXPECT_GT(v2, submitted.view->state.version);
  EXPECT_EQ(store_->GetInstance(id)->version, v2);  // stored before the answer
  EXPECT_EQ(notifier_.count(), 2u);                // after the durable append
  ASSERT_EQ(notifier_.changes[1].newly_pending.size(), 1u);
  EXPECT_EQ(notifier_.changes[1].newly_pending[0].value, "d2");
  // The cache holds the new state: a cached read sees version 2.
  auto cached = engine_->GetCached(id, PersonId("d2"));
  ASSERT_TRUE(cached.has_value());
  EXPECT_EQ(cached->state.version, v2);
  ASSERT_FALSE(cached->actions.empty());  // the viewer's available actions
  // The synchronous call answers the same way on the same engine.
  auto done = engine_->Act(ActReq(id, "approve", "d2", v2));
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_EQ(done->row.status, "approved");
}

TEST_P(EngineAsyncTest, StaleVersionIsAConflictAsActSays) {
  auto v = engine_->Submit(SubmitReq("c1", Claim(100)));
  ASSERT_TRUE(v);
  Answer stale = ActAsync(ActReq(v->row.id, "approve", "bh", v->state.version - 1));
  auto sync = engine_->Act(ActReq(v->row.id, "approve", "bh", v->state.version - 1));
  ASSERT_FALSE(stale.view);
  ASSERT_FALSE(sync);
  EXPECT_EQ(stale.view.error().code, ErrorCode::kConflict);
  EXPECT_EQ(stale.view.error().reason, "stale_version");
  EXPECT_EQ(stale.view.error().message, sync.error().message);
  EXPECT_EQ(store_->GetInstance(v->row.id)->version, v->state.version);
}

TEST_P(EngineAsyncTest, RefusalsAreAuditedAsActDoes) {
  auto v = engine_->Submit(SubmitReq("c1", Claim(100)));
  ASSERT_TRUE(v);
  Answer refused = ActAsync(ActReq(v->row.id, "approve", "d2"));  // not d2's turn
  ASSERT_FALSE(refused.view);
  EXPECT_EQ(refused.view.error().code, ErrorCode::kPermissionDenied)
      << refused.view.error().ToString();
  EXPECT_EQ(Refusals(), 1);
  auto sync = engine_->Act(ActReq(v->row.id, "approve", "d2"));
  ASSERT_FALSE(sync);
  EXPECT_EQ(sync.error().code, refused.view.error().code);
  EXPECT_EQ(sync.error().reason, refused.view.error().reason);
  EXPECT_EQ(Refusals(), 2);
}

TEST_P(EngineAsyncTest, IdempotentRepeatsReplayTheFirstAnswer) {
  Answer first = SubmitAsync(SubmitReq("c1", Claim(500), "key-1"));
  Answer again = SubmitAsync(SubmitReq("c1", Claim(500), "key-1"));
  ASSERT_TRUE(first.view && again.view);
  EXPECT_EQ(first.view->row.id, again.view->row.id);
  EXPECT_FALSE(first.view->replayed);
  EXPECT_TRUE(again.view->replayed);
  EXPECT_EQ(store_->ListInstances(InstanceQuery{})->size(), 1u);
  Answer mismatch = SubmitAsync(SubmitReq("c1", Claim(999), "key-1"));
  ASSERT_FALSE(mismatch.view);
  EXPECT_EQ(mismatch.view.error().code, ErrorCode::kConflict);

  InstanceId id = first.view->row.id;
  Answer act = ActAsync(ActReq(id, "approve", "bh", std::nullopt, "act-1"));
  Answer act_again = ActAsync(ActReq(id, "approve", "bh", std::nullopt, "act-1"));
  ASSERT_TRUE(act.view) << act.view.error().ToString();
  EXPECT_FALSE(act.view->replayed);
  // A repeat after the instance moved on is decided first, as Act does.
  auto sync_again = engine_->Act(ActReq(id, "approve", "bh", std::nullopt, "act-1"));
  ASSERT_EQ(act_again.view.has_value(), sync_again.has_value());
  if (!sync_again) {
    EXPECT_EQ(act_again.view.error().reason, sync_again.error().reason);
  }
  EXPECT_EQ(store_->GetInstance(id)->version, act.view->state.version);
}

TEST_P(EngineAsyncTest, AStaleCachedStateIsDecidedAgainOnTheStoresState) {
  Engine other(EngineOptions{}, *store_, clock_, org_, registry_, nullptr);
  auto a = engine_->Submit(SubmitReq("c1", Claim(100)));
  ASSERT_TRUE(a && engine_->Get(a->row.id, PersonId("c1")));  // cached at v1
  ASSERT_TRUE(other.Act(ActReq(a->row.id, "approve", "bh")));
  // On the cached state d2 is not an approver yet: the refusal must not stand.
  Answer second = ActAsync(ActReq(a->row.id, "approve", "d2"));
  ASSERT_TRUE(second.view) << second.view.error().ToString();
  EXPECT_EQ(second.view->row.status, "approved");
  EXPECT_EQ(Refusals(), 0);
}

TEST_P(EngineAsyncTest, StorageFailureIsAnsweredAndNothingIsAnnounced) {
  auto v = engine_->Submit(SubmitReq("c1", Claim(100)));
  ASSERT_TRUE(v);
  size_t announced = notifier_.count();
  failing_->FailCallsMatching([](std::string_view m, int64_t) { return m == "Append"; });
  Answer failed = ActAsync(ActReq(v->row.id, "approve", "bh", v->state.version));
  ASSERT_FALSE(failed.view);
  EXPECT_EQ(failed.view.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(notifier_.count(), announced);
  failing_->Reset();
  Answer ok = ActAsync(ActReq(v->row.id, "approve", "bh", v->state.version));
  ASSERT_TRUE(ok.view) << ok.view.error().ToString();
}

TEST_P(EngineAsyncTest, ManyConcurrentActionsFromOneThreadAllComplete) {
  // One caller thread starts every action without waiting for any: each
  // continues on the executor once durable (over SQLite: in shared batches).
  std::vector<InstanceId> ids;
  int64_t submitted_version = 0;
  for (int i = 0; i < 40; ++i) {
    auto v = engine_->Submit(SubmitReq("c1", Claim(100 + i)));
    ASSERT_TRUE(v);
    ids.push_back(v->row.id);
    submitted_version = v->state.version;
  }
  std::mutex mu;
  std::condition_variable cv;
  int answered = 0, ok = 0;
  for (InstanceId id : ids) {
    engine_->ActAsync(ActReq(id, "approve", "bh", submitted_version), [&](Result<InstanceView> v) {
      std::lock_guard lock(mu);
      ++answered;
      ok += v.has_value() ? 1 : 0;
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return answered == 40; }));
  EXPECT_EQ(ok, 40);
  for (InstanceId id : ids) EXPECT_GT(store_->GetInstance(id)->version, submitted_version);
}

// The shared forms answer with the snapshot the commit cached (the new
// version's state moved into it, not copied): the same object a cached read
// then shares, with what the copying forms answer.
TEST_P(EngineAsyncTest, SharedAnswersAreTheCachedSnapshotOfTheNewVersion) {
  using Shared = Result<SharedInstanceView>;
  auto await_shared = [&](auto start) {
    auto p = std::make_shared<std::promise<std::pair<Shared, std::thread::id>>>();
    start([p](Shared v) { p->set_value({std::move(v), std::this_thread::get_id()}); });
    auto f = p->get_future();
    EXPECT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    return f.get();
  };
  auto [submitted, submit_thread] = await_shared([&](Engine::SharedViewDone done) {
    engine_->SubmitAsyncShared(SubmitReq("c1", Claim(100), "s-1"), std::move(done));
  });
  ASSERT_TRUE(submitted) << submitted.error().ToString();
  EXPECT_EQ(submit_thread, executor_.id());
  ASSERT_NE(submitted->snapshot, nullptr);
  InstanceId id = submitted->snapshot->row.id;
  EXPECT_EQ(submitted->snapshot->state.id, id);
  EXPECT_FALSE(submitted->replayed);
  EXPECT_EQ(engine_->GetCachedShared(id, PersonId("c1"))->snapshot, submitted->snapshot);

  int64_t v1 = submitted->snapshot->state.version;
  auto [approved, act_thread] = await_shared([&](Engine::SharedViewDone done) {
    engine_->ActAsyncShared(ActReq(id, "approve", "bh", v1, "a-1"), std::move(done));
  });
  ASSERT_TRUE(approved) << approved.error().ToString();
  EXPECT_EQ(act_thread, executor_.id());
  const CachedInstance& snap = *approved->snapshot;
  EXPECT_GT(snap.state.version, v1);
  EXPECT_EQ(snap.row.version, snap.state.version);
  EXPECT_EQ(snap.row.current_nodes, "deputy");
  EXPECT_EQ(store_->GetInstance(id)->version, snap.state.version);  // durable first
  EXPECT_EQ(notifier_.count(), 2u);
  // No copy: the cache holds the very snapshot the answer shares.
  auto cached = engine_->GetCachedShared(id, PersonId("bh"));
  ASSERT_TRUE(cached.has_value());
  EXPECT_EQ(cached->snapshot, approved->snapshot);
  // What the copying forms answer: the same state, row and actions.
  auto got = engine_->Get(id, PersonId("bh"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->state, snap.state);
  EXPECT_EQ(got->row.status, snap.row.status);
  EXPECT_EQ(got->actions.size(), approved->actions.size());

  // An idempotent repeat answers the stored version, marked replayed.
  auto [again, again_thread] = await_shared([&](Engine::SharedViewDone done) {
    engine_->SubmitAsyncShared(SubmitReq("c1", Claim(100), "s-1"), std::move(done));
  });
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->snapshot->row.id, id);
  EXPECT_EQ(again->snapshot->state.version, snap.state.version);

  // A refusal is an error, audited, as ActAsync answers it.
  auto [refused, refused_thread] = await_shared([&](Engine::SharedViewDone done) {
    engine_->ActAsyncShared(ActReq(id, "approve", "bh"), std::move(done));
  });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kPermissionDenied) << refused.error().ToString();
  EXPECT_EQ(Refusals(), 1);
}

// Commits made durable while an earlier one's continuation waits for the
// executor join it: the executor gets one task per completion queue for the
// burst (two: instances by the parity of their id), not one per commit (each
// post may wake a worker thread), and every answer still comes. Each task
// answers its own instances, so two workers can share a group commit's
// completions.
TEST_P(EngineAsyncTest, CompletionsWaitingForTheExecutorShareOneTask) {
  std::vector<InstanceId> ids;
  int64_t submitted_version = 0;
  for (int i = 0; i < 20; ++i) {
    auto v = engine_->Submit(SubmitReq("c1", Claim(100 + i)));
    ASSERT_TRUE(v);
    ids.push_back(v->row.id);
    submitted_version = v->state.version;
  }
  // An executor that only queues until told to run.
  std::mutex mu;
  std::vector<std::function<void()>> held;
  engine_->SetExecutor([&](std::function<void()> fn) {
    std::lock_guard lock(mu);
    held.push_back(std::move(fn));
  });
  std::atomic<int> answered{0}, ok{0};
  std::mutex answered_mu;
  std::set<int64_t> answered_parities;
  for (InstanceId id : ids) {
    engine_->ActAsync(ActReq(id, "approve", "bh", submitted_version),
                      [&, id](Result<InstanceView> v) {
                        ok += v.has_value() ? 1 : 0;
                        ++answered;
                        std::lock_guard lock(answered_mu);
                        answered_parities.insert(id.value % 2);
                      });
  }
  // Every append is durable before any continuation runs.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (InstanceId id : ids) {
    while (store_->GetInstance(id)->version == submitted_version &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_GT(store_->GetInstance(id)->version, submitted_version);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the last callbacks return
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(mu);
    tasks.swap(held);
  }
  ASSERT_EQ(tasks.size(), 2u) << "one hand-off per queue for the twenty completions";
  EXPECT_EQ(answered.load(), 0);
  tasks[0]();
  EXPECT_EQ(answered.load(), 10);  // the instances of one queue
  {
    std::lock_guard lock(answered_mu);
    EXPECT_EQ(answered_parities.size(), 1u);
  }
  tasks[1]();
  EXPECT_EQ(answered.load(), 20);
  EXPECT_EQ(ok.load(), 20);
  // A later completion is handed over again (the task ended with the queue).
  tasks.clear();
  std::atomic<bool> final_ok{false};
  engine_->ActAsync(ActReq(ids[0], "approve", "d2"),
                    [&](Result<InstanceView> v) { final_ok = v.has_value(); });
  for (;;) {
    {
      std::lock_guard lock(mu);
      if (!held.empty() || std::chrono::steady_clock::now() > deadline) {
        tasks.swap(held);
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(tasks.size(), 1u);
  tasks[0]();
  EXPECT_TRUE(final_ok.load());
}

TEST(EngineAsyncNoExecutorTest, WithoutAnExecutorItIsActOnTheCallingThread) {
  auto org = std::make_shared<Org>(LoadTestOrg());
  WorkflowRegistry registry;
  WorkflowDef def = LoadDef(kFlow, *org);
  def.hash = "sha256:v1";
  ASSERT_TRUE(registry.Register(def));
  MemoryStore store;
  FakeClock clock{testing::T0()};
  Engine engine(EngineOptions{}, store, clock, org, registry, nullptr);
  std::optional<Result<InstanceView>> got;
  SubmitRequest r;
  r.workflow = "claim";
  r.actor = PersonId("c1");
  r.data = Claim(100);
  engine.SubmitAsync(r, [&](Result<InstanceView> v) { got.emplace(std::move(v)); });
  ASSERT_TRUE(got.has_value());  // answered before SubmitAsync returned
  ASSERT_TRUE(*got);
  EXPECT_EQ(store.GetInstance((*got)->row.id)->status, "running");
}

INSTANTIATE_TEST_SUITE_P(Stores, EngineAsyncTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("Sqlite") : std::string("Memory");
                         });

}  // namespace
}  // namespace approvald
