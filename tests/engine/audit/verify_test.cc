// VerifyLog against h3's MemoryStore, tampered with through a decorator the
// way an operator with shell access to the database could.
#include "audit/verify.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <atomic>
#include <map>

#include "audit/encoding.h"
#include "audit/leaf.h"
#include "audit/merkle.h"
#include "store/failing/failing_store.h"
#include "store/memory/memory_store.h"
#include "tampering_store.h"

namespace approvald::audit {
namespace {

using approvald::testing::TamperingStore;

constexpr char kOrigin[] = "approvald/test-unit";
constexpr char kDefSource[] = "id: expense\nversion: 1\nstates: [draft, review, done]\n";

std::string Sha256Id(std::string_view s) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  return "sha256:" + HexEncode(std::string_view(reinterpret_cast<char*>(md), len));
}

struct LeafInfo {
  std::string kind;
  int64_t instance = 0;
  int64_t version = 0;
};

// A log of 27 leaves: interleaved events of instances 1..6 (instances 1, 3,
// 5 with four events, the others with two) and audit records, with signed
// checkpoints at sizes 8, 17 and 27.
class VerifyLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = *SigningKey::Generate();
    log_key_ = LogKey{kOrigin, key_.public_key()};
    def_hash_ = Sha256Id(kDefSource);
    ASSERT_TRUE(store_.SaveDefinition("expense", 1, def_hash_, kDefSource));
    const char* types[] = {"submitted", "approved", "approved", "approved"};
    int64_t t = 1709600000000;
    for (int round = 0; round < 4; ++round) {
      for (int inst = 1; inst <= 6; ++inst) {
        if (round >= 2 && inst % 2 == 0) continue;  // some have fewer events
        AppendEvent(inst, round + 1, types[round], t += 60000);
        if (inst == 3) AppendRecord("login", "user:u" + std::to_string(round), t);
      }
      if (round == 1) SignAt(8);
      if (round == 2) SignAt(17);
    }
    for (int i = 0; i < 5; ++i) AppendRecord("login_failed", "user:x", t += 1000);
    SignAt(*store_.AuditSize());
  }

  void AppendEvent(int64_t inst, int64_t version, const std::string& type, int64_t at) {
    AppendRequest req;
    req.instance = InstanceId{version == 1 ? 0 : inst};
    req.expected_version = version - 1;
    Event e;
    e.version = version;
    e.at = Timestamp{at};
    e.type = type;
    e.actor = PersonId("p" + std::to_string(inst));
    e.data["amount"] = Value::Of(Money{inst * 1000 + version});
    e.comment = "comment " + std::to_string(version);
    req.events.push_back(e);
    req.row.workflow = "expense";
    req.row.workflow_version = 1;
    req.row.def_hash = def_hash_;
    req.row.status = "running";
    req.row.submitter = PersonId("p" + std::to_string(inst));
    auto r = store_.Append(req);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    ASSERT_EQ(r->instance.value, inst);
    leaves_[r->first_leaf] = LeafInfo{"event", inst, version};
  }

  void AppendRecord(const std::string& type, const std::string& subject, int64_t at) {
    AuditRecord rec;
    rec.at = Timestamp{at};
    rec.type = type;
    rec.actor = PersonId("admin");
    rec.subject = subject;
    rec.data["ip"] = Value::Str("10.0.0.1");
    auto r = store_.AppendAudit(rec);
    ASSERT_TRUE(r.has_value());
    leaves_[*r] = LeafInfo{"record", 0, 0};
  }

  void SignAt(int64_t size) {
    auto root = store_.RootAt(size);
    ASSERT_TRUE(root.has_value());
    auto cp = SignCheckpoint(key_, kOrigin, size, *root, Timestamp{1709700000000 + size});
    ASSERT_TRUE(cp.has_value());
    ASSERT_TRUE(store_.SaveCheckpoint(*cp)) << "checkpoint " << size;
  }

  int64_t LeafOf(int64_t inst, int64_t version) const {
    for (const auto& [index, info] : leaves_) {
      if (info.instance == inst && info.version == version) return index;
    }
    return -1;
  }
  std::vector<int64_t> RecordLeaves() const {
    std::vector<int64_t> out;
    for (const auto& [index, info] : leaves_) {
      if (info.kind == "record") out.push_back(index);
    }
    return out;
  }

  VerifyReport Verify(Store& store, VerifyOptions options = {}) {
    auto r = VerifyLog(store, log_key_, options);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.value_or(VerifyReport{});
  }

  // A record leaf rewritten with new data and a matching fresh hash.
  static void RewriteRecord(AuditEntry& e) {
    auto leaf = ParseLeaf(e.leaf_data);
    ASSERT_TRUE(leaf && leaf->record);
    leaf->record->data["ip"] = Value::Str("192.168.1.66");
    e.leaf_data = RecordLeafData(*leaf->record);
    e.leaf_hash = LeafHash(e.leaf_data);
  }

  MemoryStore store_;
  SigningKey key_;
  LogKey log_key_;
  std::string def_hash_;
  std::map<int64_t, LeafInfo> leaves_;
};

TEST_F(VerifyLogTest, IntactLogVerifies) {
  VerifyReport r = Verify(store_);
  EXPECT_TRUE(r.ok) << r.Summary();
  int64_t n = *store_.AuditSize();
  EXPECT_EQ(r.entries_checked, n);
  EXPECT_EQ(r.tree_size, n);
  EXPECT_EQ(r.root, *store_.RootAt(n));
  EXPECT_EQ(r.checkpoints_checked, 3);
  EXPECT_EQ(r.definitions_checked, 1);
  int64_t events = 0;
  for (const auto& [i, info] : leaves_) events += info.kind == "event";
  EXPECT_EQ(r.events_checked, events);
  EXPECT_FALSE(r.failure.has_value());
  EXPECT_TRUE(r.Summary().starts_with("ok: ")) << r.Summary();
}

TEST_F(VerifyLogTest, OneChangedByteOfAStoredEventNamesThatEvent) {
  TamperingStore t(store_);
  t.tamper_events = [](InstanceId id, std::vector<Event>& events) {
    if (id.value == 3) events[1].comment[0] ^= 0x01;  // "comment 2" -> "bomment 2"
  };
  VerifyReport r = Verify(t);
  ASSERT_FALSE(r.ok);
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, "event_mismatch") << r.Summary();
  EXPECT_EQ(r.failure->index, LeafOf(3, 2));
  EXPECT_EQ(r.failure->instance.value, 3);
  EXPECT_EQ(r.failure->version, 2);
  EXPECT_NE(r.failure->message.find("instance 3 version 2"), std::string::npos)
      << r.failure->message;
}

TEST_F(VerifyLogTest, ChangedLeafDataIsNamed) {
  TamperingStore t(store_);
  int64_t target = LeafOf(5, 3);
  t.tamper_log = [&](std::vector<AuditEntry>& rows) {
    rows[target].leaf_data[rows[target].leaf_data.size() - 3] ^= 0x01;
  };
  VerifyReport r = Verify(t);
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, "leaf_hash_mismatch") << r.Summary();
  EXPECT_EQ(r.failure->index, target);
  EXPECT_EQ(r.failure->instance.value, 5);
  EXPECT_EQ(r.failure->version, 3);
}

TEST_F(VerifyLogTest, RecordRewrittenWithAFreshHashIsNamedByTheTree) {
  for (int64_t target : RecordLeaves()) {
    TamperingStore t(store_);
    t.tamper_log = [&](std::vector<AuditEntry>& rows) { RewriteRecord(rows[target]); };
    VerifyReport r = Verify(t);
    ASSERT_TRUE(r.failure) << "record leaf " << target;
    EXPECT_EQ(r.failure->code, "leaf_replaced") << r.Summary();
    EXPECT_EQ(r.failure->index, target);
    EXPECT_EQ(r.failure->kind, "record");
  }
}

TEST_F(VerifyLogTest, EventRewrittenWithAFreshHashIsNamed) {
  TamperingStore t(store_);
  int64_t target = LeafOf(2, 2);
  t.tamper_log = [&](std::vector<AuditEntry>& rows) {
    auto leaf = ParseLeaf(rows[target].leaf_data);
    leaf->event->comment = "forged";
    rows[target].leaf_data = EventLeafData(*leaf->event, leaf->def_hash);
    rows[target].leaf_hash = LeafHash(rows[target].leaf_data);
  };
  VerifyReport r = Verify(t);
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->index, target) << r.Summary();
  EXPECT_EQ(r.failure->instance.value, 2);
  // Without the events table to compare with, the tree still names it.
  VerifyOptions log_only;
  log_only.check_events = false;
  VerifyReport r2 = Verify(t, log_only);
  ASSERT_TRUE(r2.failure);
  EXPECT_EQ(r2.failure->code, "leaf_replaced") << r2.Summary();
  EXPECT_EQ(r2.failure->index, target);
}

TEST_F(VerifyLogTest, DeletedRowIsNamed) {
  for (int64_t target : {int64_t{0}, int64_t{9}, LeafOf(4, 2)}) {
    TamperingStore t(store_);
    t.tamper_log = [&](std::vector<AuditEntry>& rows) {
      rows.erase(rows.begin() + target);
    };
    VerifyReport r = Verify(t);
    ASSERT_TRUE(r.failure);
    EXPECT_EQ(r.failure->code, "leaf_missing") << r.Summary();
    EXPECT_EQ(r.failure->index, target);
  }
}

TEST_F(VerifyLogTest, DeletedLastRowIsNamed) {
  TamperingStore t(store_);
  int64_t n = *store_.AuditSize();
  t.tamper_log = [](std::vector<AuditEntry>& rows) { rows.pop_back(); };
  VerifyReport r = Verify(t);
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, "leaf_missing") << r.Summary();
  EXPECT_EQ(r.failure->index, n - 1);
}

TEST_F(VerifyLogTest, TwoSwappedRowsNameTheFirst) {
  // Swap the whole rows (data, hash, instance, version: everything but the
  // position), as `UPDATE ... SET` on two rows would.
  std::vector<std::pair<int64_t, int64_t>> pairs = {
      {LeafOf(1, 1), LeafOf(2, 1)},            // events of two instances
      {LeafOf(5, 2), LeafOf(5, 3)},            // two events of one instance
      {RecordLeaves()[0], RecordLeaves()[2]},  // two records
      {LeafOf(6, 2), RecordLeaves().back()},   // across the last checkpoint
  };
  for (auto [i, j] : pairs) {
    TamperingStore t(store_);
    t.tamper_log = [&](std::vector<AuditEntry>& rows) {
      std::swap(rows[i], rows[j]);
      std::swap(rows[i].index, rows[j].index);
    };
    VerifyReport r = Verify(t);
    ASSERT_TRUE(r.failure) << i << "<->" << j;
    EXPECT_EQ(r.failure->index, std::min(i, j)) << r.Summary();
  }
}

TEST_F(VerifyLogTest, StoredEventDeletedOrAddedBehindTheLogsBack) {
  {
    TamperingStore t(store_);
    t.tamper_events = [](InstanceId id, std::vector<Event>& events) {
      if (id.value == 1) events.pop_back();
    };
    VerifyReport r = Verify(t);
    ASSERT_TRUE(r.failure);
    EXPECT_EQ(r.failure->code, "event_missing") << r.Summary();
    EXPECT_EQ(r.failure->index, LeafOf(1, 4));
  }
  {
    TamperingStore t(store_);
    t.tamper_events = [](InstanceId id, std::vector<Event>& events) {
      if (id.value == 4) {
        Event extra = events.back();
        extra.version += 1;
        extra.type = "approved";
        events.push_back(extra);
      }
    };
    VerifyReport r = Verify(t);
    ASSERT_TRUE(r.failure);
    EXPECT_EQ(r.failure->code, "event_not_logged") << r.Summary();
    EXPECT_EQ(r.failure->instance.value, 4);
    EXPECT_EQ(r.failure->version, 3);
  }
}

TEST_F(VerifyLogTest, UnreadableEventRowsAreNamedByTheVersionTheStoreReports) {
  struct Case {
    std::string message;
    int64_t version;
  };
  for (const Case& c : std::vector<Case>{
           {"instance 3: stored event version 2 is not a valid canonical event; "
            "the database was modified outside approvald",
            2},
           {"instance 3: stored event version 4 follows version 2; the database "
            "was modified outside approvald",
            3},
           {"unreadable", 1}}) {
    TamperingStore t(store_);
    t.fail_load_events = [&](InstanceId id) -> std::optional<Error> {
      if (id.value != 3) return std::nullopt;
      return Error{ErrorCode::kInternal, "corrupt_history", c.message};
    };
    VerifyReport r = Verify(t);
    ASSERT_TRUE(r.failure) << c.message;
    EXPECT_EQ(r.failure->code, "event_mismatch") << r.Summary();
    EXPECT_EQ(r.failure->index, LeafOf(3, c.version)) << r.Summary();
    EXPECT_EQ(r.failure->instance.value, 3);
    EXPECT_EQ(r.failure->version, c.version);
    EXPECT_NE(r.failure->message.find(c.message), std::string::npos);
  }
  // Damage beyond the last logged version (instance 3 has four events).
  TamperingStore t(store_);
  t.fail_load_events = [&](InstanceId id) -> std::optional<Error> {
    if (id.value != 3) return std::nullopt;
    return Error{ErrorCode::kInternal, "corrupt_history",
                 "instance 3: stored event version 5 is not a valid canonical event"};
  };
  VerifyReport r = Verify(t);
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, "event_not_logged") << r.Summary();
  EXPECT_EQ(r.failure->version, 5);
  // A store that cannot be reached is an error, not a verdict.
  TamperingStore down(store_);
  down.fail_load_events = [](InstanceId) -> std::optional<Error> {
    return Error{ErrorCode::kUnavailable, "storage_failed", "disk gone"};
  };
  auto failed = VerifyLog(down, log_key_);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
}

TEST_F(VerifyLogTest, ChangedDefinitionHashOfAnInstanceIsNamed) {
  TamperingStore t(store_);
  t.tamper_instance = [](InstanceRow& row) {
    if (row.id.value == 6) row.def_hash.back() ^= 1;
  };
  VerifyReport r = Verify(t);
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, "event_mismatch") << r.Summary();
  EXPECT_EQ(r.failure->index, LeafOf(6, 1));
}

TEST_F(VerifyLogTest, DefinitionsMustBeStoredAndIntact) {
  {
    TamperingStore t(store_);
    t.tamper_definitions = [](std::vector<StoredDefinition>& d) { d.clear(); };
    VerifyReport r = Verify(t);
    ASSERT_TRUE(r.failure);
    EXPECT_EQ(r.failure->code, "definition_missing") << r.Summary();
    EXPECT_EQ(r.failure->index, LeafOf(1, 1));
  }
  {
    TamperingStore t(store_);
    t.tamper_definitions = [](std::vector<StoredDefinition>& d) {
      d[0].source += "# relaxed rule\n";
    };
    VerifyReport r = Verify(t);
    ASSERT_TRUE(r.failure);
    EXPECT_EQ(r.failure->code, "definition_mismatch") << r.Summary();
  }
  {
    TamperingStore t(store_);
    t.tamper_definitions = [](std::vector<StoredDefinition>& d) { d.clear(); };
    VerifyOptions no_defs;
    no_defs.check_definitions = false;
    EXPECT_TRUE(Verify(t, no_defs).ok);
  }
}

TEST_F(VerifyLogTest, CheckpointSignatureAndKeyAreChecked) {
  {
    TamperingStore t(store_);
    t.tamper_checkpoints = [](std::vector<approvald::Checkpoint>& cps) {
      cps[1].signature[5] ^= 0x20;
    };
    VerifyReport r = Verify(t);
    ASSERT_TRUE(r.failure);
    EXPECT_EQ(r.failure->code, "checkpoint_signature") << r.Summary();
  }
  {
    TamperingStore t(store_);
    t.tamper_checkpoints = [](std::vector<approvald::Checkpoint>& cps) {
      cps[1].size += 1;  // a checkpoint claiming another size
    };
    EXPECT_EQ(Verify(t).failure->code, "checkpoint_signature");
  }
  LogKey other{kOrigin, SigningKey::Generate()->public_key()};
  auto r = VerifyLog(store_, other);
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->failure);
  EXPECT_EQ(r->failure->code, "checkpoint_signature");
}

TEST_F(VerifyLogTest, LogAndTreeRewrittenTogetherAreCaughtByTheSignedCheckpoint) {
  TamperingStore t(store_);
  int64_t target = RecordLeaves()[1];
  ASSERT_LT(target, 17);
  t.tamper_log = [&](std::vector<AuditEntry>& rows) { RewriteRecord(rows[target]); };
  t.rewrite_tree = true;
  VerifyReport r = Verify(t);
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, "checkpoint_mismatch") << r.Summary();
  EXPECT_EQ(r.failure->index, -1);
  EXPECT_NE(r.failure->message.find(target < 8 ? "0..7" : "8..16"), std::string::npos)
      << r.failure->message;
}

TEST_F(VerifyLogTest, AlteredTreeNodesAreReported) {
  TamperingStore t(store_);
  t.tamper_root = [](int64_t size, Hash& root) {
    if (size > 13) root[0] ^= 1;
  };
  VerifyReport r = Verify(t);
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->code, "tree_mismatch") << r.Summary();
  EXPECT_EQ(r.failure->index, 13);
  EXPECT_NE(r.failure->message.find("stored tree nodes were altered"), std::string::npos);
}

TEST_F(VerifyLogTest, EventCheckCanBeTurnedOff) {
  TamperingStore t(store_);
  t.tamper_events = [](InstanceId, std::vector<Event>& events) {
    events[0].comment = "changed";
  };
  VerifyOptions log_only;
  log_only.check_events = false;
  VerifyReport r = Verify(t, log_only);
  EXPECT_TRUE(r.ok) << r.Summary();
  EXPECT_EQ(r.events_checked, 0);
  EXPECT_FALSE(Verify(t).ok);
}

TEST_F(VerifyLogTest, ReportsProgress) {
  VerifyOptions options;
  options.progress_every = 10;
  std::vector<int64_t> seen;
  options.progress = [&](int64_t done, int64_t total) {
    seen.push_back(done);
    EXPECT_EQ(total, *store_.AuditSize());
  };
  EXPECT_TRUE(Verify(store_, options).ok);
  EXPECT_EQ(seen, (std::vector<int64_t>{10, 20}));
}

TEST_F(VerifyLogTest, StoreFailureIsAnErrorNotAVerdict) {
  FailingStore failing(store_);
  // Both ways of reading the log: in place, and through ScanAudit.
  failing.FailCallsMatching([](std::string_view method, int64_t) {
    return method == "ScanAudit" || method == "ScanAuditLeaves";
  });
  auto r = VerifyLog(failing, log_key_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  TamperingStore slow(failing);  // no ScanAuditLeaves: ScanAudit
  auto s = VerifyLog(slow, log_key_);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  FailingStore no_count(store_);
  no_count.FailCallsMatching(
      [](std::string_view method, int64_t) { return method == "CountEvents"; });
  EXPECT_FALSE(VerifyLog(no_count, log_key_).has_value());
}

TEST_F(VerifyLogTest, InPlaceAndDecodingPathsAgree) {
  // MemoryStore streams leaves in place (ScanAuditLeaves + CountEvents);
  // the pass-through TamperingStore offers neither, so VerifyLog decodes.
  TamperingStore slow(store_);
  VerifyReport fast = Verify(store_);
  VerifyReport decoded = Verify(slow);
  ASSERT_TRUE(fast.ok) << fast.Summary();
  ASSERT_TRUE(decoded.ok) << decoded.Summary();
  EXPECT_EQ(fast.Summary(), decoded.Summary());
  EXPECT_GT(fast.events_checked, 0);
}

TEST_F(VerifyLogTest, EveryStoredDefinitionIsChecked) {
  // A version no event runs on: its text must still hash to its hash.
  const std::string leave = "id: leave\nversion: 1\n";
  ASSERT_TRUE(store_.SaveDefinition("leave", 1, Sha256Id(leave + "# original\n"), leave));
  VerifyReport r = Verify(store_);
  ASSERT_TRUE(r.failure) << r.Summary();
  EXPECT_EQ(r.failure->code, "definition_mismatch");
  EXPECT_EQ(r.failure->index, -1);
  EXPECT_NE(r.failure->message.find("leave version 1"), std::string::npos)
      << r.failure->message;
  VerifyOptions no_defs;
  no_defs.check_definitions = false;
  EXPECT_TRUE(Verify(store_, no_defs).ok);
}

TEST_F(VerifyLogTest, IntactDefinitionsAreAllCounted) {
  const std::string leave = "id: leave\nversion: 1\n";
  ASSERT_TRUE(store_.SaveDefinition("leave", 1, Sha256Id(leave), leave));
  VerifyReport r = Verify(store_);
  EXPECT_TRUE(r.ok) << r.Summary();
  EXPECT_EQ(r.definitions_checked, 2);
}

TEST(VerifyLogEmptyTest, EmptyLogVerifies) {
  MemoryStore store;
  auto key = SigningKey::Generate();
  auto r = VerifyLog(store, LogKey{kOrigin, key->public_key()});
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->ok) << r->Summary();
  EXPECT_EQ(r->root, EmptyRoot());
}

// Thousands of leaves, so bisection crosses many 256-leaf blocks.
TEST(VerifyLogLargeTest, NamesTheFirstAlteredLeafAmongThousands) {
  MemoryStore store;
  auto key = SigningKey::Generate();
  LogKey log_key{kOrigin, key->public_key()};
  for (int i = 0; i < 3000; ++i) {
    AuditRecord rec;
    rec.at = Timestamp{1709600000000 + i};
    rec.type = "login";
    rec.actor = PersonId("u" + std::to_string(i % 17));
    rec.subject = "user:u" + std::to_string(i % 17);
    ASSERT_TRUE(store.AppendAudit(rec).has_value());
    if ((i + 1) % 1000 == 0) {
      auto cp = SignCheckpoint(*key, kOrigin, i + 1, *store.RootAt(i + 1),
                               Timestamp{1709700000000 + i});
      ASSERT_TRUE(store.SaveCheckpoint(*cp));
    }
  }
  auto forge = [](AuditEntry& e) {
    auto leaf = ParseLeaf(e.leaf_data);
    leaf->record->subject = "user:root";
    e.leaf_data = RecordLeafData(*leaf->record);
    e.leaf_hash = LeafHash(e.leaf_data);
  };
  for (int64_t target : {0, 255, 256, 1000, 1999, 2500, 2999}) {
    TamperingStore t(store);
    t.tamper_log = [&](std::vector<AuditEntry>& rows) { forge(rows[target]); };
    auto r = VerifyLog(t, log_key);
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE(r->failure) << target;
    EXPECT_EQ(r->failure->code, "leaf_replaced") << r->Summary();
    EXPECT_EQ(r->failure->index, target);
  }
  TamperingStore swapped(store);
  swapped.tamper_log = [](std::vector<AuditEntry>& rows) {
    std::swap(rows[1500], rows[2600]);
    std::swap(rows[1500].index, rows[2600].index);
  };
  auto r = VerifyLog(swapped, log_key);
  ASSERT_TRUE(r.has_value() && r->failure);
  EXPECT_EQ(r->failure->index, 1500) << r->Summary();
}

// A store whose in-place scan (ScanAuditLeaves) yields one leaf with a
// zeroed stored hash, as if its leaf_hash column had been overwritten; every
// other call goes to `base`. It lets the pipelined scan meet a bad leaf
// while the reading thread is still far ahead.
class InPlaceHashTamperer final : public Store {
 public:
  InPlaceHashTamperer(Store& base, int64_t bad) : base_(base), bad_(bad) {}

  Status ScanAuditLeaves(int64_t from, bool with_events,
                         const std::function<bool(const AuditLeafView&)>& fn) override {
    return base_.ScanAuditLeaves(from, with_events, [&](const AuditLeafView& v) {
      ++yielded;
      if (v.index != bad_) return fn(v);
      AuditLeafView altered = v;
      altered.leaf_hash = Hash{};
      return fn(altered);
    });
  }
  Result<int64_t> CountEvents() override { return base_.CountEvents(); }
  Result<AppendResult> Append(AppendRequest req) override {
    return base_.Append(std::move(req));
  }
  Result<int64_t> AppendAudit(const AuditRecord& rec) override { return base_.AppendAudit(rec); }
  Result<std::vector<Event>> LoadEvents(InstanceId id) override { return base_.LoadEvents(id); }
  Result<InstanceRow> GetInstance(InstanceId id) override { return base_.GetInstance(id); }
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
  Status ScanAudit(int64_t from, const std::function<bool(const AuditEntry&)>& fn) override {
    return base_.ScanAudit(from, [&](const AuditEntry& e) {
      if (e.index != bad_) return fn(e);
      AuditEntry altered = e;
      altered.leaf_hash = Hash{};
      return fn(altered);
    });
  }
  Result<Hash> RootAt(int64_t size) override { return base_.RootAt(size); }
  Result<std::vector<Hash>> InclusionProof(int64_t index, int64_t size) override {
    return base_.InclusionProof(index, size);
  }
  Result<std::vector<Hash>> ConsistencyProof(int64_t a, int64_t b) override {
    return base_.ConsistencyProof(a, b);
  }
  Status SaveCheckpoint(const Checkpoint& cp) override { return base_.SaveCheckpoint(cp); }
  Result<std::vector<Checkpoint>> ListCheckpoints() override { return base_.ListCheckpoints(); }
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

  std::atomic<int64_t> yielded{0};  // leaves the in-place scan handed out

 private:
  Store& base_;
  int64_t bad_;
};

// 20,000 login records with a checkpoint every 5,000: several batches of the
// pipelined scan.
class VerifyPipelineTest : public ::testing::Test {
 protected:
  static constexpr int64_t kLeaves = 20000;
  void SetUp() override {
    key_ = *SigningKey::Generate();
    log_key_ = LogKey{kOrigin, key_.public_key()};
    for (int64_t i = 0; i < kLeaves; ++i) {
      AuditRecord rec;
      rec.at = Timestamp{1709600000000 + i};
      rec.type = "login";
      rec.actor = PersonId("u" + std::to_string(i % 31));
      rec.subject = "user:u" + std::to_string(i % 31);
      ASSERT_TRUE(store_.AppendAudit(rec).has_value());
      if ((i + 1) % 5000 == 0) {
        auto cp = SignCheckpoint(key_, kOrigin, i + 1, *store_.RootAt(i + 1),
                                 Timestamp{1709700000000 + i});
        ASSERT_TRUE(store_.SaveCheckpoint(*cp));
      }
    }
  }
  VerifyReport Verify(Store& store, bool pipeline) {
    VerifyOptions o;
    o.pipeline = pipeline;
    auto r = VerifyLog(store, log_key_, o);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.value_or(VerifyReport{});
  }

  MemoryStore store_;
  SigningKey key_;
  LogKey log_key_;
};

TEST_F(VerifyPipelineTest, PipelinedAndSingleThreadedScansGiveTheSameReport) {
  VerifyReport one = Verify(store_, false);
  VerifyReport two = Verify(store_, true);
  ASSERT_TRUE(one.ok) << one.Summary();
  ASSERT_TRUE(two.ok) << two.Summary();
  EXPECT_EQ(two.entries_checked, kLeaves);
  EXPECT_EQ(two.checkpoints_checked, 4);
  EXPECT_EQ(two.root, *store_.RootAt(kLeaves));
  EXPECT_EQ(one.Summary(), two.Summary());
}

TEST_F(VerifyPipelineTest, PipelinedScanNamesTheFirstBadLeafAndStopsReading) {
  for (int64_t bad : {int64_t{0}, int64_t{2047}, int64_t{2048}, int64_t{7777}, kLeaves - 1}) {
    InPlaceHashTamperer piped(store_, bad);
    VerifyReport two = Verify(piped, true);
    InPlaceHashTamperer single(store_, bad);
    VerifyReport one = Verify(single, false);
    ASSERT_TRUE(two.failure) << bad;
    EXPECT_EQ(two.failure->code, "leaf_hash_mismatch") << two.Summary();
    EXPECT_EQ(two.failure->index, bad);
    EXPECT_EQ(one.Summary(), two.Summary());
    // The reading thread stops within a few batches of the bad leaf instead
    // of reading the rest of the log.
    EXPECT_LT(piped.yielded.load(), bad + 8 * 2048 + 1) << bad;
  }
}

// Several reading threads (VerifyOptions::read_threads) taking chunks of
// leaves in turn: the report is the single thread's wherever the bad leaf
// sits relative to the chunk boundaries and whoever reads its chunk.
TEST_F(VerifyPipelineTest, ReadingThreadsGiveTheSameReportAtEveryChunkPosition) {
  constexpr int64_t kChunk = 100;
  const std::vector<int64_t> positions = {0,    1,    kChunk - 1, kChunk, kChunk + 1, 2 * kChunk - 1,
                                           2 * kChunk, 3 * kChunk, 4 * kChunk + 50, 4999, 5000,
                                           5001, kLeaves - kChunk, kLeaves - 2, kLeaves - 1};
  for (int64_t bad : positions) {
    InPlaceHashTamperer single(store_, bad);
    VerifyReport one = Verify(single, false);
    ASSERT_TRUE(one.failure) << bad;
    EXPECT_EQ(one.failure->code, "leaf_hash_mismatch");
    EXPECT_EQ(one.failure->index, bad);
    for (int threads : {1, 2, 3}) {
      InPlaceHashTamperer piped(store_, bad);
      VerifyOptions o;
      o.read_threads = threads;
      o.read_chunk = kChunk;
      auto r = VerifyLog(piped, log_key_, o);
      ASSERT_TRUE(r.has_value()) << r.error().ToString();
      EXPECT_EQ(r->Summary(), one.Summary()) << bad << " " << threads;
      EXPECT_EQ(r->entries_checked, one.entries_checked);
      EXPECT_EQ(r->checkpoints_checked, one.checkpoints_checked);
      // Past the bad leaf's chunk b, a thread holds at most two queued
      // chunks and reads one more: no chunk after b + 3 * threads is read
      // (each chunk's scan may yield one row past its end).
      EXPECT_LE(piped.yielded.load(), (bad / kChunk + 3 * threads + 1) * (kChunk + 1)) << bad;
    }
  }
}

TEST_F(VerifyPipelineTest, ReadingThreadsVerifyAnyChunkSizeAndThreadCount) {
  VerifyReport one = Verify(store_, false);
  ASSERT_TRUE(one.ok) << one.Summary();
  // Chunks that end on a checkpoint (5,000) or not, one leaf short of the
  // log, the log, larger than the log; more threads than chunks; a thread
  // count below 1 (treated as 1). (Chunks of 1 leaf and chunk sizes below 1
  // are tested on SQLite, SqliteTamperTest.)
  const std::vector<int64_t> chunks = {333, 5000, 4096, kLeaves - 1, kLeaves, 10 * kLeaves};
  for (int64_t chunk : chunks) {
    for (int threads : {1, 2, 5, 0}) {
      VerifyOptions o;
      o.read_threads = threads;
      o.read_chunk = chunk;
      auto r = VerifyLog(store_, log_key_, o);
      ASSERT_TRUE(r.has_value()) << r.error().ToString();
      EXPECT_EQ(r->Summary(), one.Summary()) << chunk << " " << threads;
    }
  }
}

}  // namespace
}  // namespace approvald::audit
