// The Store contract: one typed suite run against every backend (memory,
// SQLite on a temp file, and FailingStore passing through to memory), so
// they cannot drift apart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <thread>

#include "audit/leaf.h"
#include "audit/merkle.h"
#include "store/failing/failing_store.h"
#include "store/memory/memory_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store_test_util.h"

// Queries below name only the fields they set (designated initializers);
// the rest keep their defaults on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace approvald {
namespace {

using storetest::Continue;
using storetest::kDefHash;
using storetest::MakeEvent;
using storetest::Submit;
using storetest::TempDir;
using ::testing::ElementsAre;

struct MemoryBackend {
  MemoryStore store;
};

struct SqliteBackend {
  TempDir dir;
  std::unique_ptr<SqliteStore> owned = [this] {
    auto s = SqliteStore::Open(SqliteOptions{.path = dir.File("store.db")});
    if (!s) ADD_FAILURE() << s.error().ToString();
    return s ? std::move(*s) : nullptr;
  }();
  SqliteStore& store = *owned;
};

struct FailingPassThroughBackend {
  MemoryStore base;
  FailingStore store{base};
};

template <class Backend>
class StoreContractTest : public ::testing::Test {
 protected:
  Store& store() { return backend_.store; }

  // Appends and expects success.
  AppendResult MustAppend(AppendRequest req) {
    auto r = store().Append(std::move(req));
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.value_or(AppendResult{});
  }

  // The ids ListInstances(q) answers, expecting success.
  std::vector<int64_t> ListIds(const InstanceQuery& q) {
    std::vector<int64_t> out;
    auto r = store().ListInstances(q);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    if (r)
      for (const InstanceRow& row : *r) out.push_back(row.id.value);
    return out;
  }

  Backend backend_;
};

using Backends =
    ::testing::Types<MemoryBackend, SqliteBackend, FailingPassThroughBackend>;
class BackendNames {
 public:
  template <class T>
  static std::string GetName(int) {
    if (std::is_same_v<T, MemoryBackend>) return "Memory";
    if (std::is_same_v<T, SqliteBackend>) return "Sqlite";
    return "FailingPassThrough";
  }
};
TYPED_TEST_SUITE(StoreContractTest, Backends, BackendNames);

// --- appends, ids, versions -------------------------------------------------

TYPED_TEST(StoreContractTest, NewInstancesGetConsecutiveIdsAndStampedEvents) {
  AppendResult a = this->MustAppend(Submit("expense", "zhang", 2));
  AppendResult b = this->MustAppend(Submit());
  EXPECT_EQ(a.instance.value, 1);
  EXPECT_EQ(a.version, 2);
  EXPECT_FALSE(a.replayed);
  EXPECT_EQ(b.instance.value, 2);
  EXPECT_EQ(b.version, 1);

  auto events = this->store().LoadEvents(a.instance);
  ASSERT_TRUE(events.has_value()) << events.error().ToString();
  ASSERT_EQ(events->size(), 2u);
  Event want = MakeEvent(1, "submitted", "zhang");
  want.instance = InstanceId{1};
  EXPECT_EQ((*events)[0], want);
  EXPECT_EQ((*events)[1].instance.value, 1);
  EXPECT_EQ((*events)[1].version, 2);

  auto row = this->store().GetInstance(a.instance);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->id.value, 1);
  EXPECT_EQ(row->version, 2);
  EXPECT_EQ(row->workflow, "expense");
  EXPECT_EQ(row->title, "差旅报销");
  EXPECT_EQ(row->amount, Money{123450});
  EXPECT_EQ(row->def_hash, kDefHash);
}

TYPED_TEST(StoreContractTest, AppendAtExpectedVersionContinuesHistory) {
  AppendResult a = this->MustAppend(Submit());
  AppendResult b = this->MustAppend(Continue(a.instance, 1, 3));
  EXPECT_EQ(b.instance, a.instance);
  EXPECT_EQ(b.version, 4);
  EXPECT_EQ(b.first_leaf, 1);
  auto events = this->store().LoadEvents(a.instance);
  ASSERT_TRUE(events.has_value());
  ASSERT_EQ(events->size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ((*events)[i].version, i + 1);
}

TYPED_TEST(StoreContractTest, StaleExpectedVersionConflictsAndStoresNothing) {
  AppendResult a = this->MustAppend(Submit());
  this->MustAppend(Continue(a.instance, 1));
  auto size_before = this->store().AuditSize();
  auto r = this->store().Append(Continue(a.instance, 1));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_EQ(r.error().reason, "version_conflict");
  EXPECT_THAT(r.error().message, ::testing::HasSubstr("version 2"));
  EXPECT_EQ(this->store().LoadEvents(a.instance)->size(), 2u);
  EXPECT_EQ(this->store().AuditSize().value(), size_before.value());
  EXPECT_EQ(this->store().GetInstance(a.instance)->version, 2);
}

TYPED_TEST(StoreContractTest, ConcurrentWritersAtSameVersionExactlyOneWins) {
  constexpr int kInstances = 10;
  constexpr int kWriters = 6;
  for (int i = 0; i < kInstances; ++i) {
    AppendResult a = this->MustAppend(Submit());
    std::atomic<int> wins{0}, conflicts{0}, others{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w)
      threads.emplace_back([&, w] {
        auto r = this->store().Append(
            Continue(a.instance, 1, 1, "writer" + std::to_string(w)));
        if (r)
          ++wins;
        else if (r.error().code == ErrorCode::kConflict)
          ++conflicts;
        else
          ++others;
      });
    for (auto& t : threads) t.join();
    EXPECT_EQ(wins.load(), 1);
    EXPECT_EQ(conflicts.load(), kWriters - 1);
    EXPECT_EQ(others.load(), 0);
    auto events = this->store().LoadEvents(a.instance);
    ASSERT_TRUE(events.has_value());
    EXPECT_EQ(events->size(), 2u);
  }
  EXPECT_EQ(this->store().AuditSize().value(), kInstances * 2);
}

TYPED_TEST(StoreContractTest, AppendToUnknownInstanceIsNotFound) {
  auto r = this->store().Append(Continue(InstanceId{42}, 3));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().reason, "instance_not_found");
}

TYPED_TEST(StoreContractTest, MalformedAppendsAreInvalidArguments) {
  AppendResult a = this->MustAppend(Submit());
  AppendRequest empty = Continue(a.instance, 1);
  empty.events.clear();
  AppendRequest gap = Continue(a.instance, 1, 2);
  gap.events[1].version = 4;
  AppendRequest new_at_version = Submit();
  new_at_version.expected_version = 1;
  AppendRequest other_instance = Continue(a.instance, 1);
  other_instance.events[0].instance = InstanceId{99};
  for (AppendRequest* bad : {&empty, &gap, &new_at_version, &other_instance}) {
    auto r = this->store().Append(*bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().reason, "bad_append");
  }
  EXPECT_EQ(this->store().AuditSize().value(), 1);
}

// --- idempotency ------------------------------------------------------------

AppendRequest Keyed(AppendRequest r, std::string owner, std::string key,
                    std::string hash) {
  r.idempotency_owner = std::move(owner);
  r.idempotency_key = std::move(key);
  r.request_hash = std::move(hash);
  return r;
}

TYPED_TEST(StoreContractTest, RetryWithSameKeyReplaysFirstResult) {
  AppendResult first = this->MustAppend(Keyed(Submit(), "zhang", "k1", "h1"));
  AppendResult again = this->MustAppend(Keyed(Submit(), "zhang", "k1", "h1"));
  EXPECT_FALSE(first.replayed);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.instance, first.instance);
  EXPECT_EQ(again.version, first.version);
  EXPECT_EQ(again.first_leaf, first.first_leaf);
  EXPECT_EQ(this->store().AuditSize().value(), 1);
  auto list = this->store().ListInstances(InstanceQuery{});
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->size(), 1u);
  // The replay wins over the version check: a retried continuation whose
  // first attempt succeeded answers the first result, not a conflict.
  AppendResult cont =
      this->MustAppend(Keyed(Continue(first.instance, 1), "zhang", "k2", "h2"));
  AppendResult cont_again =
      this->MustAppend(Keyed(Continue(first.instance, 1), "zhang", "k2", "h2"));
  EXPECT_TRUE(cont_again.replayed);
  EXPECT_EQ(cont_again.version, cont.version);
}

TYPED_TEST(StoreContractTest, SameKeyWithDifferentRequestConflicts) {
  this->MustAppend(Keyed(Submit(), "zhang", "k1", "h1"));
  auto r = this->store().Append(Keyed(Submit(), "zhang", "k1", "h2"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_EQ(r.error().reason, "idempotency_mismatch");
  EXPECT_EQ(this->store().AuditSize().value(), 1);
}

TYPED_TEST(StoreContractTest, IdempotencyKeysAreScopedByOwner) {
  AppendResult a = this->MustAppend(Keyed(Submit(), "zhang", "k1", "h1"));
  AppendResult b = this->MustAppend(Keyed(Submit(), "li", "k1", "h9"));
  EXPECT_FALSE(b.replayed);
  EXPECT_NE(a.instance, b.instance);
}

TYPED_TEST(StoreContractTest, FailedAppendDoesNotConsumeItsKey) {
  AppendResult a = this->MustAppend(Submit());
  this->MustAppend(Continue(a.instance, 1));
  auto stale = this->store().Append(Keyed(Continue(a.instance, 1), "li", "k", "h"));
  ASSERT_FALSE(stale.has_value());
  AppendResult ok = this->MustAppend(Keyed(Continue(a.instance, 2), "li", "k", "h"));
  EXPECT_FALSE(ok.replayed);
  EXPECT_EQ(ok.version, 3);
}

TYPED_TEST(StoreContractTest, ConcurrentRetriesWithOneKeyCreateOneInstance) {
  constexpr int kThreads = 8;
  std::vector<Result<AppendResult>> results(kThreads, std::unexpected(Error{}));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      results[i] = this->store().Append(Keyed(Submit(), "zhang", "once", "h"));
    });
  for (auto& t : threads) t.join();
  int fresh = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    EXPECT_EQ(r->instance.value, 1);
    if (!r->replayed) ++fresh;
  }
  EXPECT_EQ(fresh, 1);
  EXPECT_EQ(this->store().AuditSize().value(), 1);
}

// --- projections ------------------------------------------------------------

TYPED_TEST(StoreContractTest, ProjectionsAreReplacedOnEachAppend) {
  AppendRequest submit = Submit();
  submit.tasks = {TaskRow{{}, "line1", PersonId("wang"), "pending", Timestamp{10}},
                  TaskRow{{}, "line2", PersonId("zhao"), "pending", Timestamp{10}},
                  TaskRow{{}, "", PersonId("zhang"), "cc", Timestamp{10}}};
  AppendResult a = this->MustAppend(submit);
  EXPECT_EQ(this->store().ListTasks(PersonId("wang"), "pending", 10)->size(), 1u);

  AppendRequest next = Continue(a.instance, 1);
  next.row.status = "approved";
  next.row.current_nodes = "";
  next.row.title = "改过的标题";
  next.tasks = {TaskRow{{}, "line1", PersonId("wang"), "done", Timestamp{20}}};
  this->MustAppend(next);

  auto row = this->store().GetInstance(a.instance);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->status, "approved");
  EXPECT_EQ(row->title, "改过的标题");
  EXPECT_EQ(row->current_nodes, "");
  EXPECT_EQ(row->version, 2);
  EXPECT_TRUE(this->store().ListTasks(PersonId("wang"), "pending", 10)->empty());
  EXPECT_TRUE(this->store().ListTasks(PersonId("zhao"), "pending", 10)->empty());
  EXPECT_TRUE(this->store().ListTasks(PersonId("zhang"), "cc", 10)->empty());
  auto done = this->store().ListTasks(PersonId("wang"), "done", 10);
  ASSERT_TRUE(done.has_value());
  ASSERT_EQ(done->size(), 1u);
  EXPECT_EQ((*done)[0].instance, a.instance);
  EXPECT_EQ((*done)[0].node, "line1");
  EXPECT_EQ((*done)[0].since, Timestamp{20});
}

TYPED_TEST(StoreContractTest, ListTasksIsNewestFirstAndLimited) {
  for (int i = 0; i < 5; ++i) {
    AppendRequest r = Submit();
    r.tasks = {TaskRow{{}, "b", PersonId("wang"), "pending", Timestamp{100 + i % 3}},
               TaskRow{{}, "a", PersonId("wang"), "pending", Timestamp{100 + i % 3}},
               TaskRow{{}, "a", PersonId("wang"), "cc", Timestamp{500}},
               TaskRow{{}, "a", PersonId("li"), "pending", Timestamp{900}}};
    this->MustAppend(r);
  }
  auto tasks = this->store().ListTasks(PersonId("wang"), "pending", 100);
  ASSERT_TRUE(tasks.has_value());
  std::vector<std::string> got;
  for (const TaskRow& t : *tasks)
    got.push_back(std::to_string(t.since.ms) + "/" + std::to_string(t.instance.value) +
                  "/" + t.node);
  EXPECT_THAT(got, ElementsAre("102/3/a", "102/3/b", "101/5/a", "101/5/b", "101/2/a",
                               "101/2/b", "100/4/a", "100/4/b", "100/1/a", "100/1/b"));
  EXPECT_EQ(this->store().ListTasks(PersonId("wang"), "pending", 3)->size(), 3u);
  EXPECT_EQ(this->store().ListTasks(PersonId("wang"), "cc", 100)->size(), 5u);
  EXPECT_TRUE(this->store().ListTasks(PersonId("nobody"), "pending", 5)->empty());
  auto bad = this->store().ListTasks(PersonId("wang"), "pending", 0);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().reason, "bad_limit");
}

TYPED_TEST(StoreContractTest, ListInstancesFiltersAndPaginates) {
  // 1: expense/zhang running, 2: purchase/li running, 3: expense/li
  // approved with wang pending, 4: expense/zhang rejected, cc to zhao.
  this->MustAppend(Submit("expense", "zhang"));
  AppendRequest two = Submit("purchase", "li");
  two.tasks.clear();
  this->MustAppend(two);
  AppendRequest three = Submit("expense", "li");
  three.row.status = "approved";
  this->MustAppend(three);
  AppendRequest four = Submit("expense", "zhang");
  four.row.status = "rejected";
  four.tasks = {TaskRow{{}, "", PersonId("zhao"), "cc", Timestamp{1}}};
  this->MustAppend(four);

  auto ids = [&](const InstanceQuery& q) { return this->ListIds(q); };
  EXPECT_THAT(ids({}), ElementsAre(1, 2, 3, 4));
  EXPECT_THAT(ids({.workflow = "expense"}), ElementsAre(1, 3, 4));
  EXPECT_THAT(ids({.status = "running"}), ElementsAre(1, 2));
  EXPECT_THAT(ids({.submitter = PersonId("li")}), ElementsAre(2, 3));
  EXPECT_THAT(ids({.workflow = "expense", .submitter = PersonId("zhang")}),
              ElementsAre(1, 4));
  // involved: submitted it, or has any task row on it.
  EXPECT_THAT(ids({.involved = PersonId("wang")}), ElementsAre(1, 3));
  EXPECT_THAT(ids({.involved = PersonId("zhao")}), ElementsAre(4));
  EXPECT_THAT(ids({.involved = PersonId("li")}), ElementsAre(2, 3));
  EXPECT_THAT(
      ids({.workflow = "expense", .status = "approved", .involved = PersonId("wang")}),
      ElementsAre(3));
  // Pagination by id.
  EXPECT_THAT(ids({.limit = 2}), ElementsAre(1, 2));
  EXPECT_THAT(ids({.after_id = 2, .limit = 2}), ElementsAre(3, 4));
  EXPECT_THAT(ids({.after_id = 4}), ElementsAre());
  EXPECT_THAT(ids({.workflow = "expense", .after_id = 1, .limit = 1}), ElementsAre(3));
  auto bad = this->store().ListInstances({.limit = 100000});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

// InstanceRow::next_deadline is stored with each append, kept or replaced by
// the next, and InstanceQuery::due_by lists the instances whose deadline is
// not after it (what Engine::Tick asks for). SetNextDeadline changes a row
// only at the version it names.
TYPED_TEST(StoreContractTest, NextDeadlinesAreProjectedAndListedWhenDue) {
  auto with_deadline = [](AppendRequest r, std::optional<int64_t> ms) {
    if (ms) r.row.next_deadline = Timestamp{*ms};
    return r;
  };
  this->MustAppend(with_deadline(Submit(), 1000));     // 1
  this->MustAppend(with_deadline(Submit(), {}));       // 2: no deadline
  this->MustAppend(with_deadline(Submit(), 500));      // 3
  AppendRequest four = with_deadline(Submit(), 100);   // 4: approved
  four.row.status = "approved";
  this->MustAppend(four);
  auto ids = [&](const InstanceQuery& q) { return this->ListIds(q); };
  auto deadline_of = [&](int64_t id) -> std::optional<int64_t> {
    auto row = this->store().GetInstance(InstanceId{id});
    EXPECT_TRUE(row.has_value());
    if (!row || !row->next_deadline) return std::nullopt;
    return row->next_deadline->ms;
  };
  EXPECT_EQ(deadline_of(1), 1000);
  EXPECT_EQ(deadline_of(2), std::nullopt);
  EXPECT_THAT(ids({.due_by = Timestamp{99}}), ElementsAre());
  EXPECT_THAT(ids({.due_by = Timestamp{500}}), ElementsAre(3, 4));
  EXPECT_THAT(ids({.status = "running", .due_by = Timestamp{1000}}), ElementsAre(1, 3));
  EXPECT_THAT(ids({.status = "running", .due_by = Timestamp{5000}, .after_id = 1}),
              ElementsAre(3));
  EXPECT_THAT(ids({.due_by = Timestamp{5000}, .limit = 1}), ElementsAre(1));

  // An append replaces it (later, unchanged, or gone) with the rest of the row.
  this->MustAppend(with_deadline(Continue(InstanceId{1}, 1), 2000));
  EXPECT_EQ(deadline_of(1), 2000);
  AppendRequest retitled = with_deadline(Continue(InstanceId{1}, 2), 2000);
  retitled.row.title = "改过的标题";
  this->MustAppend(retitled);
  EXPECT_EQ(deadline_of(1), 2000);
  EXPECT_EQ(this->store().GetInstance(InstanceId{1})->title, "改过的标题");
  EXPECT_THAT(ids({.status = "running", .due_by = Timestamp{1999}}), ElementsAre(3));
  this->MustAppend(with_deadline(Continue(InstanceId{1}, 3), {}));
  EXPECT_EQ(deadline_of(1), std::nullopt);
  this->MustAppend(with_deadline(Continue(InstanceId{2}, 1), 700));
  EXPECT_THAT(ids({.status = "running", .due_by = Timestamp{5000}}), ElementsAre(2, 3));

  // SetNextDeadline: only at the stated version; an unknown id changes nothing.
  auto set = this->store().SetNextDeadline(InstanceId{3}, 1, Timestamp{9000});
  ASSERT_TRUE(set.has_value()) << set.error().ToString();
  EXPECT_TRUE(*set);
  EXPECT_EQ(deadline_of(3), 9000);
  EXPECT_EQ(this->store().SetNextDeadline(InstanceId{3}, 2, Timestamp{1}).value_or(true),
            false);
  EXPECT_EQ(deadline_of(3), 9000);
  EXPECT_EQ(this->store().SetNextDeadline(InstanceId{3}, 1, std::nullopt).value_or(false),
            true);
  EXPECT_EQ(deadline_of(3), std::nullopt);
  EXPECT_EQ(this->store().SetNextDeadline(InstanceId{42}, 1, Timestamp{1}).value_or(true),
            false);
  EXPECT_EQ(this->store().GetInstance(InstanceId{3})->version, 1);
  EXPECT_THAT(ids({.status = "running", .due_by = Timestamp{5000}}), ElementsAre(2));
}

TYPED_TEST(StoreContractTest, UnknownInstanceIsNotFound) {
  auto events = this->store().LoadEvents(InstanceId{7});
  ASSERT_FALSE(events.has_value());
  EXPECT_EQ(events.error().code, ErrorCode::kNotFound);
  auto row = this->store().GetInstance(InstanceId{7});
  ASSERT_FALSE(row.has_value());
  EXPECT_EQ(row.error().code, ErrorCode::kNotFound);
}

// --- audit log --------------------------------------------------------------

TYPED_TEST(StoreContractTest, EveryEventIsAnAuditLeafOfItsCanonicalBytes) {
  AppendResult a = this->MustAppend(Submit("expense", "zhang", 2));
  AuditRecord rec{Timestamp{1700000005000},
                  "login",
                  PersonId("li"),
                  "user:li",
                  {{"ip", Value::Str("10.0.0.1")}}};
  auto rec_index = this->store().AppendAudit(rec);
  ASSERT_TRUE(rec_index.has_value());
  EXPECT_EQ(*rec_index, 2);
  AppendResult b = this->MustAppend(Continue(a.instance, 2));
  EXPECT_EQ(b.first_leaf, 3);

  auto entries = this->store().QueryAudit(AuditQuery{});
  ASSERT_TRUE(entries.has_value());
  ASSERT_EQ(entries->size(), 4u);
  auto events = this->store().LoadEvents(a.instance).value();
  for (int i : {0, 1, 3}) {
    const AuditEntry& e = (*entries)[i];
    const Event& ev = events[i == 3 ? 2 : i];
    EXPECT_EQ(e.index, i);
    EXPECT_EQ(e.kind, "event");
    EXPECT_EQ(e.instance, a.instance);
    EXPECT_EQ(e.version, ev.version);
    EXPECT_EQ(e.type, ev.type);
    EXPECT_EQ(e.actor, ev.actor);
    EXPECT_EQ(e.at, ev.at);
    EXPECT_EQ(e.def_hash, kDefHash);
    EXPECT_EQ(e.leaf_data, audit::EventLeafData(ev, kDefHash));
    EXPECT_EQ(e.leaf_hash, audit::LeafHash(e.leaf_data));
  }
  const AuditEntry& r = (*entries)[2];
  EXPECT_EQ(r.kind, "record");
  EXPECT_EQ(r.type, "login");
  EXPECT_EQ(r.actor, PersonId("li"));
  EXPECT_EQ(r.instance.value, 0);
  EXPECT_EQ(r.leaf_data, audit::RecordLeafData(rec));
  EXPECT_EQ(r.leaf_hash, audit::LeafHash(r.leaf_data));
}

TYPED_TEST(StoreContractTest, RootsAndProofsVerify) {
  std::vector<Hash> leaves;
  audit::TreeAppender reference;
  std::vector<Hash> roots{audit::EmptyRoot()};
  for (int i = 0; i < 9; ++i) {
    AppendResult a = this->MustAppend(Submit("expense", "zhang", 1 + i % 3));
    (void)a;
    if (i % 4 == 0) {
      ASSERT_TRUE(this->store().AppendAudit(
          AuditRecord{Timestamp{i}, "login", PersonId("li"), "user:li", {}}));
    }
  }
  int64_t n = this->store().AuditSize().value();
  ASSERT_EQ(n, 1 + 2 + 3 + 1 + 2 + 3 + 1 + 2 + 3 + 3);
  ASSERT_TRUE(this->store().ScanAudit(0, [&](const AuditEntry& e) {
    leaves.push_back(e.leaf_hash);
    reference.Append(e.leaf_hash);
    roots.push_back(reference.Root());
    return true;
  }));
  ASSERT_EQ(static_cast<int64_t>(leaves.size()), n);
  for (int64_t size = 0; size <= n; ++size) {
    auto root = this->store().RootAt(size);
    ASSERT_TRUE(root.has_value()) << root.error().ToString();
    EXPECT_EQ(*root, roots[size]) << "size " << size;
  }
  for (int64_t size = 1; size <= n; ++size)
    for (int64_t i = 0; i < size; ++i) {
      auto proof = this->store().InclusionProof(i, size);
      ASSERT_TRUE(proof.has_value()) << proof.error().ToString();
      EXPECT_TRUE(audit::VerifyInclusion(leaves[i], i, size, *proof, roots[size]))
          << "leaf " << i << " size " << size;
      // The proof does not fit another leaf.
      if (size > 1) {
        EXPECT_FALSE(
            audit::VerifyInclusion(leaves[(i + 1) % size], i, size, *proof, roots[size]));
      }
    }
  for (int64_t m = 1; m <= n; ++m)
    for (int64_t k = m; k <= n; ++k) {
      auto proof = this->store().ConsistencyProof(m, k);
      ASSERT_TRUE(proof.has_value()) << proof.error().ToString();
      EXPECT_TRUE(audit::VerifyConsistency(m, k, roots[m], roots[k], *proof))
          << m << " -> " << k;
    }
}

TYPED_TEST(StoreContractTest, TreeArgumentsOutsideTheLogAreRefused) {
  this->MustAppend(Submit("expense", "zhang", 3));
  auto r1 = this->store().RootAt(4);
  ASSERT_FALSE(r1.has_value());
  EXPECT_EQ(r1.error().reason, "bad_tree_size");
  EXPECT_FALSE(this->store().RootAt(-1).has_value());
  EXPECT_FALSE(this->store().InclusionProof(3, 3).has_value());
  EXPECT_FALSE(this->store().InclusionProof(0, 4).has_value());
  EXPECT_FALSE(this->store().ConsistencyProof(3, 2).has_value());
  auto r2 = this->store().ConsistencyProof(1, 4);
  ASSERT_FALSE(r2.has_value());
  EXPECT_EQ(r2.error().code, ErrorCode::kInvalidArgument);
}

TYPED_TEST(StoreContractTest, QueryAuditFiltersAndPaginates) {
  AppendResult a = this->MustAppend(Submit("expense", "zhang", 2));  // 0,1
  ASSERT_TRUE(this->store().AppendAudit(AuditRecord{
      Timestamp{1700000000500}, "login", PersonId("li"), "user:li", {}}));  // 2
  this->MustAppend(Submit("expense", "wang"));                              // 3
  this->MustAppend(Continue(a.instance, 2, 1, "li"));                       // 4
  auto idx = [&](AuditQuery q) {
    std::vector<int64_t> out;
    auto r = this->store().QueryAudit(q);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    if (r)
      for (const AuditEntry& e : *r) out.push_back(e.index);
    return out;
  };
  EXPECT_THAT(idx({}), ElementsAre(0, 1, 2, 3, 4));
  EXPECT_THAT(idx({.instance = a.instance}), ElementsAre(0, 1, 4));
  EXPECT_THAT(idx({.actor = PersonId("li")}), ElementsAre(2, 4));
  EXPECT_THAT(idx({.type = "login"}), ElementsAre(2));
  EXPECT_THAT(idx({.type = "submitted"}), ElementsAre(0, 3));
  // Event times: version v at 1700000000000 + v*1000.
  EXPECT_THAT(idx({.from = Timestamp{1700000001000}, .to = Timestamp{1700000002000}}),
              ElementsAre(0, 3));
  EXPECT_THAT(idx({.from = Timestamp{1700000002000}}), ElementsAre(1, 4));
  EXPECT_THAT(idx({.to = Timestamp{1700000001000}}), ElementsAre(2));
  EXPECT_THAT(idx({.instance = a.instance, .actor = PersonId("li")}), ElementsAre(4));
  EXPECT_THAT(idx({.after_index = 1, .limit = 2}), ElementsAre(2, 3));
  EXPECT_THAT(idx({.instance = a.instance, .after_index = 0}), ElementsAre(1, 4));
  EXPECT_FALSE(this->store().QueryAudit({.limit = 0}).has_value());
}

TYPED_TEST(StoreContractTest, ScanAuditStreamsFromIndexAndStopsOnFalse) {
  for (int i = 0; i < 30; ++i) this->MustAppend(Submit("expense", "zhang", 100));
  std::vector<int64_t> seen;
  ASSERT_TRUE(this->store().ScanAudit(2990, [&](const AuditEntry& e) {
    seen.push_back(e.index);
    return true;
  }));
  EXPECT_THAT(seen,
              ElementsAre(2990, 2991, 2992, 2993, 2994, 2995, 2996, 2997, 2998, 2999));
  int64_t count = 0, expected = 0;
  bool in_order = true;
  ASSERT_TRUE(this->store().ScanAudit(0, [&](const AuditEntry& e) {
    in_order = in_order && e.index == expected++;
    return ++count < 2500;
  }));
  EXPECT_EQ(count, 2500);
  EXPECT_TRUE(in_order);
  seen.clear();
  ASSERT_TRUE(this->store().ScanAudit(5000, [&](const AuditEntry& e) {
    seen.push_back(e.index);
    return true;
  }));
  EXPECT_TRUE(seen.empty());
}

TYPED_TEST(StoreContractTest, ScanAuditLeavesIsScanAuditInPlaceWithTheStoredEvents) {
  AppendResult a = this->MustAppend(Submit("expense", "zhang", 3));
  ASSERT_TRUE(this->store().AppendAudit(AuditRecord{Timestamp{1700000000000}, "login",
                                                    PersonId("li"), "user:li", {}}));
  AppendResult b = this->MustAppend(Submit("expense", "wang", 2));
  this->MustAppend(Continue(a.instance, 3));
  std::vector<AuditEntry> entries;
  ASSERT_TRUE(this->store().ScanAudit(0, [&](const AuditEntry& e) {
    entries.push_back(e);
    return true;
  }));
  ASSERT_EQ(entries.size(), 7u);
  for (bool with_events : {false, true}) {
    size_t i = 0;
    ASSERT_TRUE(this->store().ScanAuditLeaves(0, with_events, [&](const AuditLeafView& v) {
      EXPECT_LT(i, entries.size());
      if (i >= entries.size()) return false;
      const AuditEntry& e = entries[i++];
      EXPECT_EQ(v.index, e.index);
      EXPECT_EQ(v.kind, e.kind);
      EXPECT_EQ(v.at, e.at);
      EXPECT_EQ(v.instance, e.instance);
      EXPECT_EQ(v.version, e.version);
      EXPECT_EQ(v.type, e.type);
      EXPECT_EQ(v.actor, e.actor.value);
      EXPECT_EQ(v.leaf_data, e.leaf_data);
      EXPECT_EQ(v.leaf_hash, e.leaf_hash);
      if (!with_events || e.kind != "event") {
        EXPECT_FALSE(v.event_body.has_value()) << e.index;
        EXPECT_FALSE(v.instance_def_hash.has_value()) << e.index;
        return true;
      }
      auto events = this->store().LoadEvents(e.instance);
      auto row = this->store().GetInstance(e.instance);
      EXPECT_TRUE(events && row);
      if (!events || !row) return false;
      EXPECT_EQ(v.event_body, EncodeEvent((*events)[e.version - 1])) << e.index;
      EXPECT_EQ(v.instance_def_hash, row->def_hash) << e.index;
      // Which is what the leaf records.
      EXPECT_EQ(audit::EventLeafData((*events)[e.version - 1], row->def_hash), v.leaf_data);
      return true;
    }));
    EXPECT_EQ(i, entries.size());
  }
  std::vector<int64_t> seen;
  ASSERT_TRUE(this->store().ScanAuditLeaves(4, true, [&](const AuditLeafView& v) {
    seen.push_back(v.index);
    return seen.size() < 2;
  }));
  EXPECT_THAT(seen, ElementsAre(4, 5));
  EXPECT_EQ(this->store().CountEvents().value(), 6);
  // The count with the log size it goes with.
  int64_t size = -1;
  EXPECT_EQ(this->store().CountEventsWithAuditSize([&](int64_t n) { size = n; }).value(), 6);
  EXPECT_EQ(size, this->store().AuditSize().value());
  EXPECT_EQ(b.version, 2);
}

// --- checkpoints ------------------------------------------------------------

TYPED_TEST(StoreContractTest, CheckpointsAreValidatedStoredAndListed) {
  EXPECT_FALSE(this->store().LatestCheckpoint().value().has_value());
  this->MustAppend(Submit("expense", "zhang", 3));
  Checkpoint c1{2, this->store().RootAt(2).value(), Timestamp{1000}, "sig-1"};
  ASSERT_TRUE(this->store().SaveCheckpoint(c1));
  this->MustAppend(Submit());
  Checkpoint c2{4, this->store().RootAt(4).value(), Timestamp{2000},
                std::string("\x00\x01\xff", 3)};
  ASSERT_TRUE(this->store().SaveCheckpoint(c2));
  // Same size again (no new leaves, a later time) is fine.
  Checkpoint c3{4, c2.root, Timestamp{3000}, "sig-3"};
  ASSERT_TRUE(this->store().SaveCheckpoint(c3));

  Checkpoint wrong_root{4, c1.root, Timestamp{4000}, "x"};
  auto s1 = this->store().SaveCheckpoint(wrong_root);
  ASSERT_FALSE(s1.has_value());
  EXPECT_EQ(s1.error().reason, "bad_checkpoint");
  Checkpoint beyond{5, c2.root, Timestamp{4000}, "x"};
  EXPECT_FALSE(this->store().SaveCheckpoint(beyond).has_value());
  Checkpoint backwards{2, c1.root, Timestamp{4000}, "x"};
  auto s2 = this->store().SaveCheckpoint(backwards);
  ASSERT_FALSE(s2.has_value());
  EXPECT_THAT(s2.error().message, ::testing::HasSubstr("never go backwards"));

  auto all = this->store().ListCheckpoints();
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].size, 2);
  EXPECT_EQ((*all)[0].root, c1.root);
  EXPECT_EQ((*all)[0].at, Timestamp{1000});
  EXPECT_EQ((*all)[0].signature, "sig-1");
  EXPECT_EQ((*all)[1].signature, std::string("\x00\x01\xff", 3));
  auto latest = this->store().LatestCheckpoint();
  ASSERT_TRUE(latest.has_value() && latest->has_value());
  EXPECT_EQ((*latest)->at, Timestamp{3000});
  EXPECT_EQ((*latest)->signature, "sig-3");
}

// --- attachments and definitions -------------------------------------------

// File names: the first name recorded is the one shown; repeats are no-ops;
// a name needs a stored attachment.
TYPED_TEST(StoreContractTest, AttachmentsKeepTheFileNamesTheyWereUploadedAs) {
  auto a = this->store().PutAttachment("invoice", 1024);
  auto b = this->store().PutAttachment("itinerary", 1024);
  ASSERT_TRUE(a.has_value() && b.has_value());
  ASSERT_TRUE(this->store().NameAttachment(*a, "发票.pdf"));
  ASSERT_TRUE(this->store().NameAttachment(*a, "发票.pdf"));
  ASSERT_TRUE(this->store().NameAttachment(*a, "invoice-copy.pdf"));
  const std::string unknown =
      "sha256:0000000000000000000000000000000000000000000000000000000000000000";
  auto names = this->store().AttachmentNames({*a, *b, unknown, "sha256:XYZ"});
  ASSERT_TRUE(names.has_value()) << names.error().ToString();
  EXPECT_EQ(*names, (std::map<std::string, std::string>{{*a, "发票.pdf"}}));
  auto missing = this->store().NameAttachment(unknown, "ghost.pdf");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(this->store().NameAttachment("sha256:XYZ", "x").error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(this->store().AttachmentNames({})->empty());
}

TYPED_TEST(StoreContractTest, AttachmentsAreContentAddressedAndLimited) {
  std::string pdf = "%PDF-1.7 invoice";
  pdf.push_back('\0');
  pdf += "binary";
  auto addr = this->store().PutAttachment(pdf, 1024);
  ASSERT_TRUE(addr.has_value()) << addr.error().ToString();
  // SHA-256 of the bytes, as `sha256sum` prints it.
  EXPECT_EQ(addr->substr(0, 7), "sha256:");
  EXPECT_EQ(addr->size(), 71u);
  EXPECT_EQ(this->store().PutAttachment(pdf, 1024).value(), *addr);
  EXPECT_EQ(this->store().GetAttachment(*addr).value(), pdf);
  EXPECT_EQ(this->store().AttachmentSize(*addr).value(),
            static_cast<int64_t>(pdf.size()));
  auto empty = this->store().PutAttachment("", 10);
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(*empty,
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(this->store().GetAttachment(*empty).value(), "");

  auto big = this->store().PutAttachment(std::string(11, 'x'), 10);
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().reason, "attachment_too_large");
  auto bad = this->store().GetAttachment("sha256:XYZ");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().reason, "bad_attachment_hash");
  auto missing = this->store().GetAttachment(
      "sha256:0000000000000000000000000000000000000000000000000000000000000000");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(this->store()
                .AttachmentSize("sha256:00000000000000000000000000000000000000"
                                "00000000000000000000000000")
                .error()
                .code,
            ErrorCode::kNotFound);
}

TYPED_TEST(StoreContractTest, DefinitionVersionsAreKeptAndNeverChange) {
  ASSERT_TRUE(this->store().SaveDefinition("purchase", 1, "sha256:p1", "id: purchase"));
  ASSERT_TRUE(this->store().SaveDefinition("expense", 2, "sha256:e2", "v2 text"));
  ASSERT_TRUE(this->store().SaveDefinition("expense", 1, "sha256:e1", "v1 text"));
  // Saving the same version again is harmless.
  ASSERT_TRUE(this->store().SaveDefinition("expense", 1, "sha256:e1", "v1 text"));
  auto changed = this->store().SaveDefinition("expense", 1, "sha256:zz", "edited");
  ASSERT_FALSE(changed.has_value());
  EXPECT_EQ(changed.error().code, ErrorCode::kConflict);
  EXPECT_EQ(changed.error().reason, "definition_version_exists");
  auto defs = this->store().ListDefinitions();
  ASSERT_TRUE(defs.has_value());
  EXPECT_THAT(*defs,
              ElementsAre(StoredDefinition{"expense", 1, "sha256:e1", "v1 text"},
                          StoredDefinition{"expense", 2, "sha256:e2", "v2 text"},
                          StoredDefinition{"purchase", 1, "sha256:p1", "id: purchase"}));
}

}  // namespace
}  // namespace approvald
