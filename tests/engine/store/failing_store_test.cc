// FailingStore: injects kUnavailable into chosen calls of a wrapped store.
#include "store/failing/failing_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/memory/memory_store.h"
#include "store_test_util.h"

namespace approvald {
namespace {

using storetest::Continue;
using storetest::Submit;

TEST(FailingStoreTest, FailsTheNthCallOnceBeforeTheWrappedStoreRuns) {
  MemoryStore base;
  FailingStore store(base);
  ASSERT_TRUE(store.Append(Submit()));
  store.FailNthCall(2);
  EXPECT_TRUE(store.GetInstance(InstanceId{1}));           // 1st from now
  auto failed = store.Append(Continue(InstanceId{1}, 1));  // 2nd
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(failed.error().reason, "injected_fault");
  EXPECT_THAT(failed.error().message, ::testing::HasSubstr("Append"));
  // Nothing reached the wrapped store.
  EXPECT_EQ(base.LoadEvents(InstanceId{1})->size(), 1u);
  // Only once: the retry goes through.
  EXPECT_TRUE(store.Append(Continue(InstanceId{1}, 1)));
  EXPECT_EQ(store.injected_failures(), 1);
  EXPECT_EQ(store.calls(), 4);
}

TEST(FailingStoreTest, AfterCallFailureStoresButReportsUnavailable) {
  MemoryStore base;
  FailingStore store(base);
  store.FailNthCall(1, FailingStore::When::kAfterCall);
  AppendRequest req = Submit();
  req.idempotency_owner = "zhang";
  req.idempotency_key = "k";
  req.request_hash = "h";
  auto lost_reply = store.Append(req);
  ASSERT_FALSE(lost_reply.has_value());
  EXPECT_EQ(lost_reply.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(base.LoadEvents(InstanceId{1})->size(), 1u);  // it was stored
  // The client's retry with the same key gets the first result.
  auto retry = store.Append(req);
  ASSERT_TRUE(retry.has_value());
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(retry->instance.value, 1);
}

TEST(FailingStoreTest, PredicateFailsMatchingCallsUntilReset) {
  MemoryStore base;
  FailingStore store(base);
  store.FailCallsMatching(
      [](std::string_view method, int64_t) { return method == "AppendAudit"; });
  AuditRecord rec{Timestamp{1}, "login", PersonId("li"), "user:li", {}};
  EXPECT_FALSE(store.AppendAudit(rec).has_value());
  EXPECT_FALSE(store.AppendAudit(rec).has_value());
  EXPECT_TRUE(store.Append(Submit()));
  EXPECT_TRUE(store.AuditSize());
  EXPECT_EQ(base.AuditSize().value(), 1);
  EXPECT_EQ(store.injected_failures(), 2);
  store.Reset();
  EXPECT_TRUE(store.AppendAudit(rec));
  EXPECT_EQ(store.calls(), 1);
  EXPECT_EQ(store.injected_failures(), 0);
}

TEST(FailingStoreTest, PredicateSeesCallNumbers) {
  MemoryStore base;
  FailingStore store(base);
  store.FailCallsMatching([](std::string_view, int64_t call) { return call % 2 == 0; });
  int ok = 0;
  for (int i = 0; i < 10; ++i)
    if (store.AuditSize()) ++ok;
  EXPECT_EQ(ok, 5);
}

}  // namespace
}  // namespace approvald
