// Store::AppendAsync: the answer Append would give, handed to a callback
// once the write is durable, so that callers need no blocked thread each.
// SqliteStore answers from its writer after the batch's COMMIT (or its
// failure); FailingStore counts and fails it as an Append; the default (the
// memory store) answers on the calling thread.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "store/failing/failing_store.h"
#include "store/memory/memory_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store_test_util.h"

namespace approvald {
namespace {

using storetest::Continue;
using storetest::Submit;
using storetest::TempDir;

std::unique_ptr<SqliteStore> OpenStore(const TempDir& dir) {
  SqliteOptions opt;
  opt.path = dir.File("a.db");
  auto s = SqliteStore::Open(opt);
  EXPECT_TRUE(s.has_value()) << s.error().ToString();
  return s ? std::move(*s) : nullptr;
}

// Collects AppendAsync answers: how often each callback ran, on which
// thread, and what it got.
struct Answers {
  std::mutex mu;
  std::vector<Result<AppendResult>> results;
  std::vector<std::thread::id> threads;
  std::atomic<int> calls{0};

  Store::AppendDone Callback(size_t slot) {
    {
      std::lock_guard lock(mu);
      if (results.size() <= slot) {
        results.resize(slot + 1, MakeError(ErrorCode::kInternal, "unanswered", ""));
        threads.resize(slot + 1);
      }
    }
    return [this, slot](Result<AppendResult> r) {
      std::lock_guard lock(mu);
      results[slot] = std::move(r);
      threads[slot] = std::this_thread::get_id();
      ++calls;
    };
  }
  bool WaitFor(int n) {
    for (int i = 0; i < 5000 && calls.load() < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return calls.load() >= n;
  }
};

TEST(AppendAsyncTest, SqliteAnswersOnceAfterTheBatchIsDurableNotBefore) {
  TempDir dir;
  auto store = OpenStore(dir);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Append(Submit()));
  Answers answers;
  store->PauseWriterForTesting();
  // AppendAsync returns at once, without an answer: the write is queued.
  store->AppendAsync(Continue(InstanceId{1}, 1), answers.Callback(0));
  store->AppendAsync(Submit(), answers.Callback(1));
  EXPECT_EQ(store->QueuedWritesForTesting(), 2u);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(answers.calls.load(), 0);
  EXPECT_EQ(store->LoadEvents(InstanceId{1})->size(), 1u);
  GroupCommitStats before = store->BatchStats();

  store->ResumeWriterForTesting();
  ASSERT_TRUE(answers.WaitFor(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(answers.calls.load(), 2);  // once each
  ASSERT_TRUE(answers.results[0].has_value()) << answers.results[0].error().ToString();
  EXPECT_EQ(answers.results[0]->instance.value, 1);
  EXPECT_EQ(answers.results[0]->version, 2);
  ASSERT_TRUE(answers.results[1].has_value()) << answers.results[1].error().ToString();
  EXPECT_EQ(answers.results[1]->instance.value, 2);
  // Both in one transaction, answered by the writer, not by this thread.
  GroupCommitStats after = store->BatchStats();
  EXPECT_EQ(after.batches, before.batches + 1);
  EXPECT_EQ(after.max_batch, 2);
  EXPECT_NE(answers.threads[0], std::this_thread::get_id());
  // Durable when answered: a fresh store on the same file sees both.
  store.reset();
  store = OpenStore(dir);
  EXPECT_EQ(store->LoadEvents(InstanceId{1})->size(), 2u);
  EXPECT_TRUE(store->GetInstance(InstanceId{2}).has_value());
  EXPECT_TRUE(store->CheckIntegrity());
}

TEST(AppendAsyncTest, SqliteFailedCommitAnswersEveryRequestOfTheBatchWithTheError) {
  TempDir dir;
  auto store = OpenStore(dir);
  ASSERT_TRUE(store->Append(Submit()));
  Answers answers;
  store->PauseWriterForTesting();
  store->AppendAsync(Continue(InstanceId{1}, 1), answers.Callback(0));
  store->AppendAsync(Submit(), answers.Callback(1));
  store->FailCommitsForTesting(1);
  store->ResumeWriterForTesting();
  ASSERT_TRUE(answers.WaitFor(2));
  for (int i = 0; i < 2; ++i) {
    ASSERT_FALSE(answers.results[i].has_value());
    EXPECT_EQ(answers.results[i].error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(answers.results[i].error().reason, "commit_failed");
  }
  EXPECT_EQ(store->LoadEvents(InstanceId{1})->size(), 1u);
  EXPECT_FALSE(store->GetInstance(InstanceId{2}).has_value());
  EXPECT_EQ(store->BatchStats().failed_requests, 2);
  // The next write goes through.
  Answers again;
  store->AppendAsync(Continue(InstanceId{1}, 1), again.Callback(0));
  ASSERT_TRUE(again.WaitFor(1));
  ASSERT_TRUE(again.results[0].has_value()) << again.results[0].error().ToString();
  EXPECT_EQ(again.results[0]->version, 2);
  EXPECT_EQ(answers.calls.load(), 2);
}

TEST(AppendAsyncTest, SqliteRefusalsAnswerAloneAndBadRequestsAtOnce) {
  TempDir dir;
  auto store = OpenStore(dir);
  ASSERT_TRUE(store->Append(Submit()));
  Answers answers;
  store->PauseWriterForTesting();
  store->AppendAsync(Continue(InstanceId{1}, 1), answers.Callback(0));
  store->AppendAsync(Continue(InstanceId{1}, 1), answers.Callback(1));  // loses
  // Malformed: answered on this thread, before AppendAsync returns.
  AppendRequest bad = Continue(InstanceId{1}, 1);
  bad.events.clear();
  store->AppendAsync(bad, answers.Callback(2));
  EXPECT_EQ(answers.calls.load(), 1);
  ASSERT_FALSE(answers.results[2].has_value());
  EXPECT_EQ(answers.results[2].error().reason, "bad_append");
  EXPECT_EQ(answers.threads[2], std::this_thread::get_id());
  store->ResumeWriterForTesting();
  ASSERT_TRUE(answers.WaitFor(3));
  ASSERT_TRUE(answers.results[0].has_value());
  ASSERT_FALSE(answers.results[1].has_value());
  EXPECT_EQ(answers.results[1].error().code, ErrorCode::kConflict);
  EXPECT_EQ(answers.results[1].error().reason, "version_conflict");
}

TEST(AppendAsyncTest, SqliteClosingStoreAnswersQueuedWritesBeforeItCloses) {
  TempDir dir;
  auto store = OpenStore(dir);
  ASSERT_TRUE(store->Append(Submit()));
  Answers answers;
  store->PauseWriterForTesting();
  for (int i = 0; i < 10; ++i) store->AppendAsync(Submit(), answers.Callback(i));
  store->ResumeWriterForTesting();
  store.reset();  // the destructor answers every queued write
  EXPECT_EQ(answers.calls.load(), 10);
  for (auto& r : answers.results) EXPECT_TRUE(r.has_value());
  store = OpenStore(dir);
  EXPECT_TRUE(store->GetInstance(InstanceId{11}).has_value());
}

TEST(AppendAsyncTest, DefaultAnswersOnTheCallingThreadAsAppendWould) {
  MemoryStore store;
  Answers answers;
  store.AppendAsync(Submit(), answers.Callback(0));
  store.AppendAsync(Continue(InstanceId{1}, 0), answers.Callback(1));
  EXPECT_EQ(answers.calls.load(), 2);
  ASSERT_TRUE(answers.results[0].has_value());
  EXPECT_EQ(answers.results[0]->instance.value, 1);
  EXPECT_EQ(answers.threads[0], std::this_thread::get_id());
  ASSERT_FALSE(answers.results[1].has_value());
  EXPECT_EQ(answers.results[1].error().code, ErrorCode::kConflict);
}

TEST(AppendAsyncTest, FailingStoreCountsAndFailsItAsAnAppend) {
  MemoryStore base;
  FailingStore store(base);
  Answers answers;
  store.FailCallsMatching([](std::string_view method, int64_t) { return method == "Append"; });
  store.AppendAsync(Submit(), answers.Callback(0));
  ASSERT_EQ(answers.calls.load(), 1);
  ASSERT_FALSE(answers.results[0].has_value());
  EXPECT_EQ(answers.results[0].error().reason, "injected_fault");
  EXPECT_FALSE(base.GetInstance(InstanceId{1}).has_value());  // before the call
  EXPECT_EQ(store.calls(), 1);
  EXPECT_EQ(store.injected_failures(), 1);

  store.Reset();
  store.FailNthCall(1, FailingStore::When::kAfterCall);
  store.AppendAsync(Submit(), answers.Callback(1));
  ASSERT_FALSE(answers.results[1].has_value());
  EXPECT_EQ(answers.results[1].error().reason, "injected_fault");
  EXPECT_TRUE(base.GetInstance(InstanceId{1}).has_value());  // stored, answer lost

  store.AppendAsync(Continue(InstanceId{1}, 1), answers.Callback(2));
  ASSERT_TRUE(answers.results[2].has_value());
  EXPECT_EQ(answers.results[2]->version, 2);
  EXPECT_EQ(store.calls(), 2);
  EXPECT_EQ(answers.calls.load(), 3);
}

TEST(AppendAsyncTest, FailingStoreOverSqlitePassesTheWritersAnswerThrough) {
  TempDir dir;
  auto sqlite = OpenStore(dir);
  FailingStore store(*sqlite);
  std::promise<Result<AppendResult>> p;
  store.AppendAsync(Submit(), [&p](Result<AppendResult> r) { p.set_value(std::move(r)); });
  auto r = p.get_future().get();
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->instance.value, 1);
  EXPECT_TRUE(sqlite->GetInstance(InstanceId{1}).has_value());
}

}  // namespace
}  // namespace approvald
