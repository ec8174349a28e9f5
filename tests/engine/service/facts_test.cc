// Facts for the checks that look beyond one instance (service/facts.h): the
// store's fact index on both backends (replace / keep, status filter,
// exclusion), and the engine supplying them to the shipped workflows — a
// second reimbursement with a used invoice number is refused, split
// purchases of one budget project are flagged — over MemoryStore and
// SqliteStore.
#include "service/facts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "failing/failing_store.h"
#include "memory/memory_store.h"
#include "seed_world.h"
#include "sqlite/sqlite_store.h"

namespace approvald {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::Doc;
using testing::SeedWorld;
using testing::Text;
using testing::Yuan;

// ---------------------------------------------------------------------------
// The store's fact index, on every backend.

struct Backend {
  std::string name;
  std::function<std::unique_ptr<Store>(const std::string& dir)> open;
};

std::vector<Backend> Backends() {
  return {
      {"memory", [](const std::string&) { return std::make_unique<MemoryStore>(); }},
      {"sqlite",
       [](const std::string& dir) -> std::unique_ptr<Store> {
         SqliteOptions o;
         o.path = dir + "/facts.db";
         auto s = SqliteStore::Open(o);
         EXPECT_TRUE(s.has_value()) << s.error().ToString();
         return s ? std::move(*s) : nullptr;
       }},
  };
}

class FactStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("h3_facts_" + std::to_string(::getpid()) + "_" + GetParam().name);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = GetParam().open(dir_.string());
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Appends one event to `id` (0: a new instance) with `status` and, when
  // given, `facts`. Returns the instance id.
  InstanceId Put(InstanceId id, const std::string& status,
                 std::optional<std::vector<FactRow>> facts) {
    auto row = id.value ? store_->GetInstance(id) : Result<InstanceRow>(InstanceRow{});
    EXPECT_TRUE(row.has_value());
    int64_t version = id.value ? row->version : 0;
    AppendRequest req;
    req.instance = id;
    req.expected_version = version;
    Event e;
    e.instance = id;
    e.version = version + 1;
    e.at = Timestamp{1700000000000 + version};
    e.type = "commented";
    e.actor = PersonId("p");
    req.events.push_back(e);
    req.row.workflow = "w";
    req.row.workflow_version = 1;
    req.row.def_hash = "sha256:w";
    req.row.status = status;
    req.row.version = version + 1;
    req.facts = std::move(facts);
    auto r = store_->Append(req);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r ? r->instance : InstanceId{};
  }

  std::vector<std::string> Find(const std::string& kind, std::vector<std::string> keys,
                                InstanceId exclude = {}) {
    FactQuery q;
    q.kind = kind;
    q.keys = std::move(keys);
    q.exclude = exclude;
    auto hits = store_->FindFacts(q);
    EXPECT_TRUE(hits.has_value()) << hits.error().ToString();
    std::vector<std::string> out;
    if (hits)
      for (const FactHit& h : *hits)
        out.push_back(std::to_string(h.instance.value) + ":" + h.fact.kind + ":" + h.fact.key +
                      (h.fact.data.empty() ? "" : ":" + rec::Str(h.fact.data, "method")));
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(FactStoreTest, FindsByKindAndKeyReplacesAndFiltersByStatus) {
  Value::Record purchase;
  purchase["method"] = Value::Str("decentralised");
  InstanceId a = Put({}, "running",
                     std::vector<FactRow>{{"invoice", "FP-1", {}}, {"invoice", "FP-2", {}},
                                          {"purchase", "P-1", purchase}});
  InstanceId b = Put({}, "approved", std::vector<FactRow>{{"invoice", "FP-2", {}}});
  EXPECT_THAT(Find("invoice", {"FP-2", "FP-1", "FP-9"}),
              ElementsAre(std::to_string(a.value) + ":invoice:FP-1",
                          std::to_string(a.value) + ":invoice:FP-2",
                          std::to_string(b.value) + ":invoice:FP-2"));
  // Kinds do not mix; the asking instance is left out; no keys, no rows.
  EXPECT_THAT(Find("purchase", {"FP-1", "P-1"}),
              ElementsAre(std::to_string(a.value) + ":purchase:P-1:decentralised"));
  EXPECT_THAT(Find("invoice", {"FP-2"}, a),
              ElementsAre(std::to_string(b.value) + ":invoice:FP-2"));
  EXPECT_THAT(Find("invoice", {}), IsEmpty());

  // An append without facts keeps them; one with facts replaces them.
  Put(a, "running", std::nullopt);
  EXPECT_EQ(Find("invoice", {"FP-1"}).size(), 1u);
  Put(a, "running", std::vector<FactRow>{{"invoice", "FP-3", {}}});
  EXPECT_THAT(Find("invoice", {"FP-1"}), IsEmpty());
  EXPECT_THAT(Find("purchase", {"P-1"}), IsEmpty());
  EXPECT_EQ(Find("invoice", {"FP-3"}).size(), 1u);

  // A rejected (withdrawn, cancelled) instance's facts no longer count.
  Put(b, "rejected", std::nullopt);
  EXPECT_THAT(Find("invoice", {"FP-2"}), IsEmpty());
  FactQuery all;
  all.kind = "invoice";
  all.keys = {"FP-2"};
  all.statuses = {"rejected"};
  auto hits = store_->FindFacts(all);
  ASSERT_TRUE(hits.has_value());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ(hits->front().instance, b);
}

FactRow Exclusive(const char* kind, const char* key) {
  FactRow f{kind, key, {}};
  f.exclusive = true;
  return f;
}

TEST_P(FactStoreTest, AnExclusiveFactHasOneHolderAndARefusedAppendStoresNothing) {
  InstanceId a = Put({}, "running", std::vector<FactRow>{Exclusive("invoice", "FP-1")});
  auto size_before = store_->AuditSize();
  ASSERT_TRUE(size_before.has_value());

  // A new instance claiming FP-1 exclusively is refused whole.
  AppendRequest req;
  Event e;
  e.version = 1;
  e.at = Timestamp{1700000000500};
  e.type = "commented";
  e.actor = PersonId("p");
  req.events.push_back(e);
  req.row.workflow = "w";
  req.row.workflow_version = 1;
  req.row.def_hash = "sha256:w";
  req.row.status = "running";
  req.row.version = 1;
  req.facts =
      std::vector<FactRow>{Exclusive("invoice", "FP-2"), Exclusive("invoice", "FP-1")};
  auto r = store_->Append(req);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kRejected);
  EXPECT_EQ(r.error().reason, "duplicate_invoice");
  EXPECT_THAT(r.error().message,
              ::testing::HasSubstr("instance " + std::to_string(a.value)));
  EXPECT_EQ(*store_->AuditSize(), *size_before);  // no event, no leaf
  EXPECT_TRUE(store_->ListInstances(InstanceQuery{})->size() == 1u);
  EXPECT_THAT(Find("invoice", {"FP-2"}), IsEmpty());

  // The holder may restate its own fact; another kind with the same key and
  // a non-exclusive fact of the same key are not in the way.
  Put(a, "running", std::vector<FactRow>{Exclusive("invoice", "FP-1")});
  InstanceId b =
      Put({}, "running",
          std::vector<FactRow>{Exclusive("decision", "FP-1"), {"invoice", "FP-1", {}}});
  EXPECT_EQ(Find("invoice", {"FP-1"}).size(), 2u);
  FactQuery q;
  q.kind = "invoice";
  q.keys = {"FP-1"};
  auto hits = store_->FindFacts(q);
  ASSERT_TRUE(hits.has_value());
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_TRUE((*hits)[0].fact.exclusive);   // a's
  EXPECT_FALSE((*hits)[1].fact.exclusive);  // b's

  // Once the holder lets go (restated non-exclusive, as the service does for
  // a rejected claim), another instance may take the number.
  Put(a, "rejected", std::vector<FactRow>{{"invoice", "FP-1", {}}});
  Put(b, "running", std::vector<FactRow>{Exclusive("invoice", "FP-1")});
  EXPECT_THAT(Find("invoice", {"FP-1"}),
              ElementsAre(std::to_string(b.value) + ":invoice:FP-1"));
}

TEST_P(FactStoreTest, ConcurrentExclusiveClaimsExactlyOneWins) {
  constexpr int kWriters = 8;
  std::vector<std::thread> threads;
  std::vector<Result<AppendResult>> results(kWriters);
  for (int i = 0; i < kWriters; ++i)
    threads.emplace_back([&, i] {
      AppendRequest req;
      Event e;
      e.version = 1;
      e.at = Timestamp{1700000001000 + i};
      e.type = "submitted";
      e.actor = PersonId("p" + std::to_string(i));
      req.events.push_back(e);
      req.row.workflow = "w";
      req.row.workflow_version = 1;
      req.row.def_hash = "sha256:w";
      req.row.status = "running";
      req.row.version = 1;
      req.facts = std::vector<FactRow>{Exclusive("invoice", "FP-RACE")};
      results[i] = store_->Append(std::move(req));
    });
  for (auto& t : threads) t.join();
  int won = 0;
  for (const auto& r : results) {
    if (r) {
      ++won;
    } else {
      EXPECT_EQ(r.error().reason, "duplicate_invoice") << r.error().ToString();
    }
  }
  EXPECT_EQ(won, 1);
  EXPECT_EQ(Find("invoice", {"FP-RACE"}).size(), 1u);
  EXPECT_EQ(store_->ListInstances(InstanceQuery{})->size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, FactStoreTest, ::testing::ValuesIn(Backends()),
                         [](const auto& info) { return info.param.name; });

// ---------------------------------------------------------------------------
// The engine gathers and states facts for the shipped workflows.

FormData Claim(const char* purpose, const char* amount, std::vector<const char*> invoices) {
  FormData f;
  f["purpose"] = Text(purpose);
  f["category"] = Text("office");
  f["amount"] = Yuan(amount);
  f["spent_on"] = Value::Of(*ParseDate("2024-03-04"));
  Value::List list;
  for (const char* n : invoices) {
    Value::Record inv;
    inv["number"] = Text(n);
    inv["amount"] = Yuan(amount);
    list.push_back(Value::Of(inv));
  }
  f["invoices"] = Value::Of(std::move(list));
  return f;
}

FormData Purchase(const char* project, const char* item, const char* amount,
                  const char* supplier = nullptr) {
  FormData f;
  f["purpose"] = Text("采购");
  f["item_code"] = Text(item);
  f["amount"] = Yuan(amount);
  f["budget_project"] = Text(project);
  f["fiscal_year"] = Value::Int(2024);
  if (supplier) f["supplier"] = Text(supplier);
  return f;
}

class EngineFactsTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("h3_engine_facts_" + std::to_string(::getpid()) + "_" + GetParam().name);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = GetParam().open(dir_.string());
    ASSERT_NE(store_, nullptr);
    world_ = std::make_unique<SeedWorld>(*store_, *ParseTimestamp("2024-03-04T09:00:00+08:00"));
  }
  void TearDown() override {
    world_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  InstanceId Submit(const std::string& wf, const std::string& who, FormData f) {
    auto v = world_->Submit(wf, who, std::move(f));
    EXPECT_TRUE(v.has_value()) << v.error().ToString();
    return v ? v->row.id : InstanceId{};
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<SeedWorld> world_;
};

TEST_P(EngineFactsTest, ASecondReimbursementWithAUsedInvoiceIsRefused) {
  SeedWorld& w = *world_;
  InstanceId first = Submit("expense", "xu_lei", Claim("打印纸", "800.00", {"44001-001"}));
  EXPECT_EQ(w.Status(first), "running");
  EXPECT_EQ(w.CheckResult(first, "invoice_check"), "pass");

  // Another clerk claims the same invoice again: refused by the check.
  InstanceId again =
      Submit("expense", "song_jia", Claim("打印纸", "800.00", {"44001-002", "44001-001"}));
  EXPECT_EQ(w.Status(again), "rejected");
  EXPECT_EQ(w.CheckResult(again, "invoice_check"), "fail duplicate_invoice:44001-001");
  EXPECT_THAT(w.AuditedChecks(again),
              ElementsAre("attachment_check pass",
                          "invoice_check fail duplicate_invoice:44001-001"));

  // The rejected claim's own numbers are not "used": 44001-002 is free.
  InstanceId third = Submit("expense", "song_jia", Claim("墨盒", "300.00", {"44001-002"}));
  EXPECT_EQ(w.CheckResult(third, "invoice_check"), "pass");

  // Withdrawn before anyone acted: its number is free again.
  ASSERT_TRUE(w.Act(first, action::kWithdraw, "xu_lei").has_value());
  EXPECT_EQ(w.Status(first), "withdrawn");
  InstanceId fourth = Submit("expense", "xu_lei", Claim("打印纸", "800.00", {"44001-001"}));
  EXPECT_EQ(w.CheckResult(fourth, "invoice_check"), "pass");
  EXPECT_EQ(w.Status(fourth), "running");
}

TEST_P(EngineFactsTest, SplitPurchasesOfOneProjectAreFlagged) {
  SeedWorld& w = *world_;
  // Three purchases of one item under one budget project: each alone is
  // below the open-tender threshold, together they cross it.
  InstanceId p1 = Submit("procurement", "xu_lei", Purchase("2024-园林-07", "A02052301", "900000.00"));
  InstanceId p2 = Submit("procurement", "xu_lei", Purchase("2024-园林-07", "A02052301", "900000.00"));
  EXPECT_EQ(w.Status(p1), "running");
  Value::Record split1 = rec::Sub(w.CheckDetails(p1, "split_check_major"), "split");
  const Value* threshold = rec::Find(split1, "threshold");
  ASSERT_NE(threshold, nullptr) << "no open-tender threshold for goods";
  ASSERT_TRUE(threshold->is_money());
  EXPECT_EQ(threshold->as_money(), ParseYuan("2000000").value());
  EXPECT_EQ(rec::Str(split1, "result"), "below_threshold");
  EXPECT_EQ(w.CheckResult(p2, "split_check_major"), "pass");

  InstanceId p3 = Submit("procurement", "xu_lei", Purchase("2024-园林-07", "A02052301", "900000.00"));
  EXPECT_EQ(w.CheckResult(p3, "split_check_major"),
            "flag split_purchase:" + std::to_string(p1.value) + "," +
                std::to_string(p2.value));

  // Another project, or a rejected earlier purchase, does not count.
  InstanceId other =
      Submit("procurement", "xu_lei", Purchase("2024-园林-08", "A02052301", "900000.00"));
  EXPECT_EQ(w.CheckResult(other, "split_check_major"), "pass");
  ASSERT_TRUE(w.Act(p2, action::kReject, "yang_fan", "dept_review_major", "重复申请").has_value());
  EXPECT_EQ(w.Status(p2), "rejected");
  InstanceId p4 = Submit("procurement", "xu_lei", Purchase("2024-园林-07", "A02052301", "50000.00"));
  EXPECT_EQ(w.CheckResult(p4, "split_check"), "pass");
}

TEST_P(EngineFactsTest, RepeatedPurchasesFromOneSupplierAreFlagged) {
  SeedWorld& w = *world_;
  InstanceId a = Submit("procurement", "xu_lei", Purchase("2024-办公-01", "A05010100", "20000.00", "梅州某商行"));
  InstanceId b = Submit("procurement", "han_xue", Purchase("2024-科研-02", "A05040100", "30000.00", "梅州某商行"));
  EXPECT_EQ(w.CheckResult(b, "split_check"), "pass");
  InstanceId c = Submit("procurement", "zhu_qiang", Purchase("2024-生产-03", "C16010000", "40000.00", "梅州某商行"));
  EXPECT_EQ(w.CheckResult(c, "split_check"),
            "flag supplier_repeat:梅州某商行:" + std::to_string(a.value) + "," +
                std::to_string(b.value));
  EXPECT_EQ(w.Nodes(c), "dept_review_major");
}

// Passes every call to `base`, but holds the answer of each "invoice"
// FindFacts until `parties` callers have looked up (or a few seconds passed):
// the requests then decide on the same facts, as two claims submitted at the
// same moment do.
class GatedStore final : public Store {
 public:
  GatedStore(Store& base, int parties) : base_(base), parties_(parties) {}

  Result<std::vector<FactHit>> FindFacts(const FactQuery& q) override {
    auto answer = base_.FindFacts(q);
    if (q.kind == "invoice") {
      std::unique_lock lock(mu_);
      ++arrived_;
      cv_.notify_all();
      cv_.wait_for(lock, std::chrono::seconds(5), [&] { return arrived_ >= parties_; });
    }
    return answer;
  }
  int arrived() {
    std::lock_guard lock(mu_);
    return arrived_;
  }

  Result<AppendResult> Append(AppendRequest req) override {
    return base_.Append(std::move(req));
  }
  Result<int64_t> AppendAudit(const AuditRecord& r) override {
    return base_.AppendAudit(r);
  }
  Result<std::vector<Event>> LoadEvents(InstanceId id) override {
    return base_.LoadEvents(id);
  }
  Result<InstanceRow> GetInstance(InstanceId id) override {
    return base_.GetInstance(id);
  }
  Result<std::vector<InstanceRow>> ListInstances(const InstanceQuery& q) override {
    return base_.ListInstances(q);
  }
  Result<std::vector<TaskRow>> ListTasks(const PersonId& p, const std::string& kind,
                                         int limit) override {
    return base_.ListTasks(p, kind, limit);
  }
  Result<std::vector<AuditEntry>> QueryAudit(const AuditQuery& q) override {
    return base_.QueryAudit(q);
  }
  Result<int64_t> AuditSize() override { return base_.AuditSize(); }
  Status ScanAudit(int64_t from,
                   const std::function<bool(const AuditEntry&)>& fn) override {
    return base_.ScanAudit(from, fn);
  }
  Result<Hash> RootAt(int64_t size) override { return base_.RootAt(size); }
  Result<std::vector<Hash>> InclusionProof(int64_t index, int64_t size) override {
    return base_.InclusionProof(index, size);
  }
  Result<std::vector<Hash>> ConsistencyProof(int64_t a, int64_t b) override {
    return base_.ConsistencyProof(a, b);
  }
  Status SaveCheckpoint(const Checkpoint& cp) override {
    return base_.SaveCheckpoint(cp);
  }
  Result<std::vector<Checkpoint>> ListCheckpoints() override {
    return base_.ListCheckpoints();
  }
  Result<std::optional<Checkpoint>> LatestCheckpoint() override {
    return base_.LatestCheckpoint();
  }
  Result<std::string> PutAttachment(std::string_view bytes, int64_t max) override {
    return base_.PutAttachment(bytes, max);
  }
  Result<std::string> GetAttachment(const std::string& h) override {
    return base_.GetAttachment(h);
  }
  Result<int64_t> AttachmentSize(const std::string& h) override {
    return base_.AttachmentSize(h);
  }
  Status SaveDefinition(const std::string& id, int version, const std::string& hash,
                        const std::string& text) override {
    return base_.SaveDefinition(id, version, hash, text);
  }
  Result<std::vector<StoredDefinition>> ListDefinitions() override {
    return base_.ListDefinitions();
  }

 private:
  Store& base_;
  const int parties_;
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
};

// Two clerks submit claims with the same invoice number at the same moment:
// both checks see no other claim, but only one claim is stored; the other is
// refused duplicate_invoice, stores nothing and is in the audit log.
TEST_P(EngineFactsTest, ConcurrentClaimsOfOneInvoiceCannotBothBeStored) {
  GatedStore gated(*store_, 2);
  SeedWorld w(gated, *ParseTimestamp("2024-03-04T09:00:00+08:00"));
  Result<InstanceView> results[2] = {MakeError(ErrorCode::kInternal, "unset", ""),
                                     MakeError(ErrorCode::kInternal, "unset", "")};
  const char* who[2] = {"xu_lei", "song_jia"};
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i)
    threads.emplace_back([&, i] {
      results[i] = w.Submit("expense", who[i], Claim("打印纸", "800.00", {"44001-777"}));
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(gated.arrived(), 2);  // both decided before either was stored
  int stored = 0;
  std::string refused_by;
  for (int i = 0; i < 2; ++i) {
    if (results[i]) {
      ++stored;
      EXPECT_EQ(w.CheckResult(results[i]->row.id, "invoice_check"), "pass");
      EXPECT_EQ(w.Status(results[i]->row.id), "running");
    } else {
      EXPECT_EQ(results[i].error().code, ErrorCode::kRejected);
      EXPECT_EQ(results[i].error().reason, "duplicate_invoice");
      refused_by = who[i];
    }
  }
  EXPECT_EQ(stored, 1);
  EXPECT_EQ(store_->ListInstances(InstanceQuery{})->size(), 1u);
  EXPECT_THAT(w.Refusals(),
              ElementsAre(refused_by + " submit duplicate_invoice instance:new"));

  // A claim after both sees the stored one and is refused by the check.
  InstanceId later =
      Submit("expense", "guo_fang", Claim("打印纸", "800.00", {"44001-777"}));
  EXPECT_EQ(world_->CheckResult(later, "invoice_check"),
            "fail duplicate_invoice:44001-777");
}

INSTANTIATE_TEST_SUITE_P(Backends, EngineFactsTest, ::testing::ValuesIn(Backends()),
                         [](const auto& info) { return info.param.name; });

// When the fact lookup fails, the request fails with it: a duplicate is never
// passed unseen, and nothing is stored.
TEST(EngineFactsStoreTest, AFailedLookupFailsTheRequest) {
  MemoryStore memory;
  FailingStore store(memory);
  SeedWorld w(store, *ParseTimestamp("2024-03-04T09:00:00+08:00"));
  store.FailCallsMatching([](std::string_view method, int64_t) { return method == "FindFacts"; });
  auto v = w.Submit("expense", "xu_lei", Claim("打印纸", "800.00", {"44001-001"}));
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, ErrorCode::kUnavailable);
  InstanceQuery q;
  EXPECT_TRUE(memory.ListInstances(q)->empty());
  // Only workflows with fact checks look facts up.
  EXPECT_FALSE(UsesFacts(*w.engine().registry().Latest("secondment")));
  EXPECT_TRUE(UsesFacts(*w.engine().registry().Latest("expense")));
  EXPECT_TRUE(UsesFacts(*w.engine().registry().Latest("procurement")));
  store.Reset();
  EXPECT_TRUE(w.Submit("expense", "xu_lei", Claim("打印纸", "800.00", {"44001-001"})));
}

// Facts are read for a step that runs a check and only then: approving the
// business line runs none, so it reads none; a resubmission runs the invoice
// check again, which sees the other claim's number.
TEST(EngineFactsStoreTest, OnlyStepsThatRunACheckReadFacts) {
  MemoryStore memory;
  FailingStore store(memory);
  SeedWorld w(store, *ParseTimestamp("2024-03-04T09:00:00+08:00"));
  std::atomic<int> lookups{0};
  store.FailCallsMatching([&](std::string_view method, int64_t) {
    if (method == "FindFacts") ++lookups;
    return false;
  });
  auto first = w.Submit("expense", "xu_lei", Claim("打印纸", "800.00", {"44001-001"}));
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  auto second = w.Submit("expense", "song_jia", Claim("墨盒", "300.00", {"44001-002"}));
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  InstanceId id = second->row.id;
  EXPECT_EQ(w.CheckResult(id, "invoice_check"), "pass");
  const int after_submits = lookups.load();
  EXPECT_EQ(after_submits, 2) << "each submission runs the invoice check";

  ASSERT_TRUE(w.Approve(first->row.id, "yang_fan", "dept_head_review").has_value());
  EXPECT_EQ(lookups.load(), after_submits) << "no check ran, no facts read";

  // song_jia's head returns the claim; song_jia resubmits it with the first
  // claim's invoice added: the check runs again, with the facts.
  ASSERT_TRUE(w.Act(id, action::kReturn, "luo_jun", "dept_head_review", "补充发票",
                    {{"to", Text("start")}})
                  .has_value());
  EXPECT_EQ(lookups.load(), after_submits);
  auto again = w.Act(id, action::kResubmit, "song_jia", "", "",  {},
                     Claim("墨盒", "300.00", {"44001-002", "44001-001"}));
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_EQ(lookups.load(), after_submits + 1);
  EXPECT_EQ(w.CheckResult(id, "invoice_check"), "fail duplicate_invoice:44001-001");
  EXPECT_EQ(w.Status(id), "rejected");
}

}  // namespace
}  // namespace approvald
