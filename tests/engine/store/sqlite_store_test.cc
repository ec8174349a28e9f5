// SQLite specifics: migrations, pragmas, append-only triggers, durability
// across reopen, group commit, failing commits, backup and restore, and
// tampering with the file behind the store's back (sqlite3 C API, triggers
// dropped) — which CheckIntegrity and audit::VerifyLog must catch and name.
#include "store/sqlite/sqlite_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iterator>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include "audit/checkpoint.h"
#include "audit/leaf.h"
#include "audit/merkle.h"
#include "audit/verify.h"
#include "store/common/store_common.h"
#include "store/failing/failing_store.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/wal_batch_vfs.h"
#include "sqlite_test_util.h"
#include "store_test_util.h"
// A pass-through Store without ScanAuditLeaves / CountEvents: VerifyLog
// reads it through ScanAudit and LoadEvents.
#include "../audit/tampering_store.h"

namespace approvald {
namespace {

using storetest::Continue;
using storetest::DowngradeToEventsTable;
using storetest::Submit;
using storetest::TempDir;
using ::testing::HasSubstr;

constexpr char kOrigin[] = "approvald/store-test";
constexpr char kDefSource[] = "id: expense\nversion: 1\n";

// The key of Merkle node `ref` in merkle_tree (migration 9), computed apart
// from the store's own code: the index of the node's last leaf, then its
// level in the low 6 bits, minus 2^62 from level 5 on.
int64_t NodePos(audit::NodeRef ref) {
  const int64_t last_leaf = (ref.index + 1) * (int64_t{1} << ref.level) - 1;
  return last_leaf * 64 + ref.level - (ref.level >= 5 ? int64_t{1} << 62 : 0);
}

std::unique_ptr<SqliteStore> MustOpen(const std::string& path, SqliteOptions opt = {}) {
  opt.path = path;
  auto s = SqliteStore::Open(opt);
  EXPECT_TRUE(s.has_value()) << s.error().ToString();
  return s ? std::move(*s) : nullptr;
}

// A raw connection to the database file, as an operator with the sqlite3
// shell would have.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close(db_); }
  // Runs `sql`; returns the SQLite result code and sets last_error().
  int Exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    last_error_ = err ? err : "";
    sqlite3_free(err);
    return rc;
  }
  int64_t Int(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
  }
  std::string Text(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
    std::string v;
    if (sqlite3_step(st) == SQLITE_ROW)
      v.assign(reinterpret_cast<const char*>(sqlite3_column_blob(st, 0)),
               sqlite3_column_bytes(st, 0));
    sqlite3_finalize(st);
    return v;
  }
  // Runs `sql` with one text/blob parameter.
  void ExecWith(const std::string& sql, const std::string& param, bool blob = false) {
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
    if (blob)
      sqlite3_bind_blob(st, 1, param.data(), param.size(), SQLITE_TRANSIENT);
    else
      sqlite3_bind_text(st, 1, param.data(), param.size(), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(db_);
    sqlite3_finalize(st);
  }
  void DropTriggers() {
    for (const char* t : {"events", "audit_log", "merkle_nodes", "merkle_tree",
                          "checkpoints", "attachments", "definitions"})
      for (const char* suffix : {"_u", "_d"})
        ASSERT_EQ(Exec(std::string("DROP TRIGGER ") + t + "_append_only" + suffix),
                  SQLITE_OK)
            << last_error_;
    // The closed events table and where it ends (schema migration 10).
    for (const char* t : {"events_closed", "events_end_one_row", "events_end_append_only_u",
                          "events_end_append_only_d"})
      ASSERT_EQ(Exec(std::string("DROP TRIGGER IF EXISTS ") + t), SQLITE_OK) << last_error_;
  }
  const std::string& last_error() const { return last_error_; }

 private:
  sqlite3* db_ = nullptr;
  std::string last_error_;
};

// The names of the B-trees (tables and indexes, as SQLite's dbstat names
// them) whose pages the last commit wrote to the WAL of the database at
// `path`: read from the WAL's frame headers (page number, and the database
// size on a transaction's last frame), frames of the current WAL generation
// only (the header's salts). Empty if the WAL holds no commit.
std::set<std::string> BTreesOfLastCommit(const std::string& path) {
  std::ifstream in(path + "-wal", std::ios::binary);
  std::string wal((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto be32 = [&](size_t at) {
    return (uint32_t{static_cast<unsigned char>(wal[at])} << 24) |
           (uint32_t{static_cast<unsigned char>(wal[at + 1])} << 16) |
           (uint32_t{static_cast<unsigned char>(wal[at + 2])} << 8) |
           uint32_t{static_cast<unsigned char>(wal[at + 3])};
  };
  std::set<std::string> names;
  if (wal.size() < 32) return names;
  const size_t page_size = be32(8);
  const uint32_t salt1 = be32(16), salt2 = be32(20);
  std::set<uint32_t> current, last;
  for (size_t at = 32; at + 24 + page_size <= wal.size(); at += 24 + page_size) {
    if (be32(at + 8) != salt1 || be32(at + 12) != salt2) break;
    current.insert(be32(at));
    if (be32(at + 4) != 0) last = std::exchange(current, {});  // a commit's last frame
  }
  RawDb raw(path);
  for (uint32_t page : last) {
    std::string name =
        raw.Text("SELECT name FROM dbstat WHERE pageno = " + std::to_string(page));
    names.insert(name.empty() ? "page " + std::to_string(page) : name);
  }
  return names;
}

// --- schema -----------------------------------------------------------------

TEST(SqliteStoreTest, MigrationsAreAppliedOnceAndRecorded) {
  TempDir dir;
  std::string path = dir.File("a.db");
  {
    auto store = MustOpen(path);
    ASSERT_TRUE(store->Append(Submit()));
  }
  for (int reopen = 0; reopen < 2; ++reopen) {
    auto store = MustOpen(path);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->LoadEvents(InstanceId{1})->size(), 1u);
  }
  RawDb raw(path);
  auto known = sqlite::Migrations();
  ASSERT_GE(known.size(), 1u);
  EXPECT_EQ(raw.Int("SELECT count(*) FROM schema_migrations"),
            static_cast<int64_t>(known.size()));
  EXPECT_EQ(raw.Int("SELECT max(version) FROM schema_migrations"), known.back().version);
  EXPECT_EQ(raw.Text("SELECT name FROM schema_migrations WHERE version = 1"),
            "initial_schema");
  EXPECT_GT(raw.Int("SELECT applied_at FROM schema_migrations WHERE version = 1"),
            1700000000);
  for (size_t i = 0; i < known.size(); ++i)
    EXPECT_EQ(known[i].version, static_cast<int>(i) + 1) << "versions without gaps";
}

// Migration 4 on a database written before it: the invoice facts of live
// instances become exclusive, only the oldest row per number when two live
// claims raced for it before; a rejected claim's number stays free.
TEST(SqliteStoreTest, ExclusiveFactsMigrationMarksOneLiveHolderPerInvoice) {
  TempDir dir;
  std::string path = dir.File("v3.db");
  {
    RawDb raw(path);
    ASSERT_EQ(raw.Exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
                       " name TEXT NOT NULL, applied_at INTEGER NOT NULL)"),
              SQLITE_OK);
    for (const sqlite::Migration& m : sqlite::Migrations()) {
      if (m.version > 3) break;
      ASSERT_EQ(raw.Exec(m.sql), SQLITE_OK) << m.name << ": " << raw.last_error();
      ASSERT_EQ(raw.Exec("INSERT INTO schema_migrations VALUES (" +
                         std::to_string(m.version) + ", '" + m.name + "', 1700000000)"),
                SQLITE_OK);
    }
    // Ids clear of the ones the store hands out (it numbers by events).
    for (auto [id, status] :
         {std::pair{101, "running"}, {102, "approved"}, {103, "rejected"}})
      ASSERT_EQ(raw.Exec("INSERT INTO instances VALUES (" + std::to_string(id) +
                         ", 'expense', 1, 'sha256:x', '" + status +
                         "', 'p', 't', 0, '', 1, 0, 0)"),
                SQLITE_OK)
          << raw.last_error();
    ASSERT_EQ(raw.Exec("INSERT INTO facts VALUES (101, 'invoice', 'FP-1', '{}'),"
                       " (102, 'invoice', 'FP-1', '{}'), (103, 'invoice', 'FP-2', '{}'),"
                       " (101, 'purchase', 'P-1', '{}')"),
              SQLITE_OK)
        << raw.last_error();
  }
  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  {
    RawDb raw(path);
    EXPECT_EQ(raw.Int("SELECT count(*) FROM schema_migrations WHERE version = 4"), 1);
    EXPECT_EQ(
        raw.Text("SELECT group_concat(instance || ':' || kind || ':' || exclusive, ' ')"
                 " FROM (SELECT * FROM facts ORDER BY rowid)"),
        "101:invoice:1 102:invoice:0 103:invoice:0 101:purchase:0");
    // The index itself refuses a second exclusive holder.
    EXPECT_NE(raw.Exec("UPDATE facts SET exclusive = 1 WHERE instance = 102"), SQLITE_OK);
  }
  // Through the store: FP-1 is held, FP-2 (of a rejected claim) is free.
  auto claim = [&](const char* number) {
    AppendRequest req = Submit();
    FactRow f{"invoice", number, {}};
    f.exclusive = true;
    req.facts = std::vector<FactRow>{f};
    return store->Append(std::move(req));
  };
  auto held = claim("FP-1");
  ASSERT_FALSE(held.has_value());
  EXPECT_EQ(held.error().reason, "duplicate_invoice");
  EXPECT_THAT(held.error().message, HasSubstr("instance 101"));
  EXPECT_TRUE(claim("FP-2").has_value());
}

// Recomputes every root from the leaves and checks the store's roots and
// proofs against them.
void ExpectTreeMatchesLeaves(SqliteStore& store) {
  std::vector<Hash> leaves, roots{audit::EmptyRoot()};
  audit::TreeAppender tree;
  ASSERT_TRUE(store.ScanAudit(0, [&](const AuditEntry& e) {
    leaves.push_back(e.leaf_hash);
    tree.Append(e.leaf_hash);
    roots.push_back(tree.Root());
    return true;
  }));
  int64_t n = static_cast<int64_t>(leaves.size());
  for (int64_t size = 0; size <= n; ++size)
    ASSERT_EQ(store.RootAt(size).value(), roots[size]) << "size " << size;
  for (int64_t i = 0; i < n; ++i) {
    auto proof = store.InclusionProof(i, n);
    ASSERT_TRUE(proof.has_value());
    EXPECT_TRUE(audit::VerifyInclusion(leaves[i], i, n, *proof, roots[n])) << i;
  }
  for (int64_t m = 1; m < n; m += 7) {
    auto proof = store.ConsistencyProof(m, n);
    ASSERT_TRUE(proof.has_value());
    EXPECT_TRUE(audit::VerifyConsistency(m, n, roots[m], roots[n], *proof)) << m;
  }
}

// Turns a database of this binary back into what a binary at schema 8
// leaves: the Merkle nodes above level 0 in merkle_nodes keyed by (level,
// idx), recomputed from the leaf hashes apart from the store's code (with
// `level0`, also a level-0 row per leaf and schema 7: before migration 8);
// no merkle_tree; migrations 9 and 10 not recorded (every event also in the
// events table).
void DowngradeToOldTree(const std::string& path, bool level0) {
  DowngradeToEventsTable(path);
  RawDb raw(path);
  ASSERT_EQ(raw.Exec("DROP TABLE merkle_tree"), SQLITE_OK) << raw.last_error();
  ASSERT_EQ(raw.Exec("DELETE FROM schema_migrations WHERE version >= " +
                     std::string(level0 ? "8" : "9")),
            SQLITE_OK);
  audit::TreeAppender tree;
  const int64_t n = raw.Int("SELECT count(*) FROM audit_log");
  for (int64_t i = 0; i < n; ++i) {
    std::string lh =
        raw.Text("SELECT leaf_hash FROM audit_log WHERE idx = " + std::to_string(i));
    ASSERT_EQ(lh.size(), 32u);
    Hash leaf_hash;
    std::memcpy(leaf_hash.data(), lh.data(), 32);
    for (const audit::NodeWrite& w : tree.Append(leaf_hash)) {
      if (w.ref.level == 0 && !level0) continue;
      raw.ExecWith("INSERT INTO merkle_nodes VALUES (" + std::to_string(w.ref.level) +
                       ", " + std::to_string(w.ref.index) + ", ?1)",
                   std::string(reinterpret_cast<const char*>(w.hash.data()), 32), true);
    }
  }
}

// Level 0 of the Merkle tree is audit_log.leaf_hash (migration 8): a new
// database holds no level-0 rows, only the n - popcount(n) nodes above (in
// merkle_tree, migration 9), and roots and proofs read the leaf level from the audit log,
// also after a reopen restores the writer's tree from a size whose right
// edge ends in a single leaf, and with every upper level cached.
TEST(SqliteStoreTest, MerkleLeafLevelIsReadFromTheAuditLog) {
  TempDir dir;
  std::string path = dir.File("a.db");
  for (int round = 0; round < 2; ++round) {
    SqliteOptions opt;
    opt.cached_node_level = round == 0 ? 5 : 0;
    auto store = MustOpen(path, opt);
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->Append(Submit()));
    ASSERT_TRUE(store->AppendAudit(
        AuditRecord{Timestamp{5}, "login", PersonId("li"), "user:li", {}}));
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->Append(Submit()));
    ExpectTreeMatchesLeaves(*store);
    EXPECT_TRUE(store->CheckIntegrity()) << store->CheckIntegrity().error().ToString();
  }
  auto store = MustOpen(path);
  ExpectTreeMatchesLeaves(*store);
  RawDb raw(path);
  EXPECT_EQ(raw.Int("SELECT count(*) FROM audit_log"), 14);
  EXPECT_EQ(raw.Int("SELECT count(*) FROM merkle_nodes"), 0);
  EXPECT_EQ(raw.Int("SELECT count(*) FROM merkle_tree"), 14 - 3);  // popcount(14) = 3
  EXPECT_EQ(raw.Text("SELECT name FROM schema_migrations WHERE version = 8"),
            "merkle_leaf_level_from_audit_log");
}

// A database written before migration 8 holds a merkle_nodes row per leaf.
// After the migration those rows stay (history only grows), new leaves get
// none, roots and proofs over old and new leaves read level 0 from the
// audit log alike, and CheckIntegrity still holds each old level-0 row to
// its leaf's hash.
TEST(SqliteStoreTest, MerkleLeafLevelMigrationKeepsOldDatabasesWorking) {
  TempDir dir;
  std::string path = dir.File("v7.db");
  {
    auto store = MustOpen(path);
    for (int i = 0; i < 7; ++i) ASSERT_TRUE(store->Append(Submit()));
  }
  // What a binary before migration 8 leaves: the level-0 rows, and the
  // migrations not recorded.
  DowngradeToOldTree(path, /*level0=*/true);
  ASSERT_FALSE(HasFailure());
  {
    RawDb raw(path);
    ASSERT_EQ(raw.Int("SELECT count(*) FROM merkle_nodes WHERE level = 0"), 7);
  }
  {
    auto store = MustOpen(path);
    ASSERT_NE(store, nullptr);
    ExpectTreeMatchesLeaves(*store);
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(store->Append(Submit()));
    ExpectTreeMatchesLeaves(*store);
    EXPECT_TRUE(store->CheckIntegrity()) << store->CheckIntegrity().error().ToString();
  }
  {
    RawDb raw(path);
    EXPECT_EQ(raw.Int("SELECT count(*) FROM schema_migrations WHERE version = 8"), 1);
    EXPECT_EQ(raw.Int("SELECT count(*) FROM merkle_nodes WHERE level = 0"), 7);
    EXPECT_EQ(raw.Int("SELECT count(*) FROM merkle_nodes WHERE level > 0"), 0);
    EXPECT_EQ(raw.Int("SELECT count(*) FROM merkle_tree"), 13 - 3);
    raw.DropTriggers();
    ASSERT_EQ(raw.Exec("UPDATE merkle_nodes SET hash = zeroblob(32)"
                       " WHERE level = 0 AND idx = 3"),
              SQLITE_OK);
  }
  {
    auto store = MustOpen(path);
    auto s = store->CheckIntegrity();
    ASSERT_FALSE(s);
    EXPECT_THAT(s.error().message,
                HasSubstr("Merkle node (level 0, index 3) differs from the leaf hash "
                          "of audit leaf 3"));
    // Nothing reads the old row: proofs still come from the audit log.
    ExpectTreeMatchesLeaves(*store);
  }
  {
    RawDb raw(path);
    ASSERT_EQ(raw.Exec("UPDATE merkle_nodes SET hash = (SELECT leaf_hash FROM audit_log"
                       " WHERE idx = 3) WHERE level = 0 AND idx = 3"),
              SQLITE_OK);
    ASSERT_EQ(raw.Exec("INSERT INTO merkle_nodes VALUES (0, 99, zeroblob(32))"),
              SQLITE_OK);
  }
  auto store = MustOpen(path);
  auto s = store->CheckIntegrity();
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message,
              HasSubstr("Merkle node (level 0, index 99) stands for no audit leaf"));
}

// Migration 10 on a database written before it: the events table keeps its
// rows and takes no new ones, an instance's events are read from its leaves
// across the change (an instance from before it goes on), and the new
// events, leaves alone, pass CheckIntegrity with the old rows still held to
// their leaves.
TEST(SqliteStoreTest, EventsStoredInLeavesMigrationKeepsOldRowsAndInstances) {
  TempDir dir;
  std::string path = dir.File("v9.db");
  InstanceId old_id;
  {
    auto store = MustOpen(path);
    auto a = store->Append(Submit("expense", "zhang", 2));
    ASSERT_TRUE(a);
    old_id = a->instance;
    ASSERT_TRUE(store->Append(Submit()));
  }
  DowngradeToEventsTable(path);
  ASSERT_FALSE(HasFailure());
  {
    RawDb raw(path);
    ASSERT_EQ(raw.Int("SELECT count(*) FROM events"), 3);
    ASSERT_EQ(raw.Int("SELECT count(*) FROM schema_migrations WHERE version = 10"), 0);
  }
  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Append(Continue(old_id, 2, 2)));
  auto fresh = store->Append(Submit());
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->instance.value, 3);
  auto events = store->LoadEvents(old_id);
  ASSERT_TRUE(events) << events.error().ToString();
  ASSERT_EQ(events->size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ((*events)[i].version, static_cast<int64_t>(i) + 1);
  EXPECT_EQ(store->CountEvents().value_or(-1), 6);
  EXPECT_TRUE(store->CheckIntegrity()) << store->CheckIntegrity().error().ToString();
  RawDb raw(path);
  EXPECT_EQ(raw.Text("SELECT name FROM schema_migrations WHERE version = 10"),
            "events_stored_in_audit_leaves");
  EXPECT_EQ(raw.Int("SELECT leaf FROM events_end"), 3);
  EXPECT_EQ(raw.Int("SELECT count(*) FROM events"), 3);
  EXPECT_EQ(raw.Int("SELECT count(*) FROM audit_log WHERE kind = 'event'"), 6);
}

// Migration 9 moves the nodes above level 0 from merkle_nodes (keyed by
// level and index) to merkle_tree (keyed by the order they are completed).
// A schema-8 database keeps its roots, inclusion and consistency proofs and
// checkpoints, restores its tree at open (with upper levels cached or not),
// passes CheckIntegrity and takes new appends; a node edited in the old
// table before the upgrade is carried over and still named.
TEST(SqliteStoreTest, MerkleCompletionOrderMigrationKeepsRootsAndProofs) {
  TempDir dir;
  std::string path = dir.File("v8.db");
  std::vector<Hash> roots;
  std::map<std::pair<int64_t, int64_t>, std::vector<Hash>> inclusion, consistency;
  constexpr int64_t kLeaves = 45;
  {
    auto store = MustOpen(path);
    for (int64_t i = 0; i < kLeaves; ++i) {
      if (i % 5 == 4)
        ASSERT_TRUE(store->AppendAudit(
            AuditRecord{Timestamp{i}, "login", PersonId("li"), "user:li", {}}));
      else
        ASSERT_TRUE(store->Append(Submit()));
    }
    ASSERT_TRUE(store->SaveCheckpoint(Checkpoint{32, *store->RootAt(32), {}, "s"}));
    for (int64_t n = 0; n <= kLeaves; ++n) roots.push_back(store->RootAt(n).value());
    for (int64_t n = 1; n <= kLeaves; n += 4)
      for (int64_t i = 0; i < n; i += 3) {
        inclusion[{i, n}] = store->InclusionProof(i, n).value();
        consistency[{i, n}] = store->ConsistencyProof(i, n).value();
      }
  }
  DowngradeToOldTree(path, /*level0=*/false);
  ASSERT_FALSE(HasFailure());
  {
    RawDb raw(path);
    ASSERT_EQ(raw.Int("SELECT count(*) FROM merkle_nodes"), kLeaves - 4);  // popcount(45)
    ASSERT_EQ(raw.Int("SELECT count(*) FROM sqlite_master WHERE name = 'merkle_tree'"),
              0);
  }
  for (int cached_level : {5, 1, 0}) {
    SCOPED_TRACE("cached_node_level " + std::to_string(cached_level));
    SqliteOptions opt;
    opt.cached_node_level = cached_level;
    auto store = MustOpen(path, opt);
    ASSERT_NE(store, nullptr);
    for (int64_t n = 0; n <= kLeaves; ++n) EXPECT_EQ(store->RootAt(n).value(), roots[n]);
    for (const auto& [key, proof] : inclusion)
      EXPECT_EQ(store->InclusionProof(key.first, key.second).value(), proof);
    for (const auto& [key, proof] : consistency)
      EXPECT_EQ(store->ConsistencyProof(key.first, key.second).value(), proof);
    ExpectTreeMatchesLeaves(*store);
    EXPECT_TRUE(store->CheckIntegrity()) << store->CheckIntegrity().error().ToString();
  }
  {
    RawDb raw(path);
    EXPECT_EQ(raw.Text("SELECT name FROM schema_migrations WHERE version = 9"),
              "merkle_nodes_in_completion_order");
    EXPECT_EQ(raw.Int("SELECT count(*) FROM merkle_nodes"), 0);
    EXPECT_EQ(raw.Int("SELECT count(*) FROM merkle_tree"), kLeaves - 4);
    EXPECT_EQ(raw.Exec("DELETE FROM merkle_tree"), SQLITE_CONSTRAINT);
  }
  {
    // The writer restored from the migrated tree goes on appending.
    auto store = MustOpen(path);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(store->Append(Submit()));
    ExpectTreeMatchesLeaves(*store);
    EXPECT_TRUE(store->CheckIntegrity()) << store->CheckIntegrity().error().ToString();
    EXPECT_EQ(store->RootAt(32).value(), roots[32]);
  }
  // A node edited in the old table before the upgrade.
  DowngradeToOldTree(path, /*level0=*/false);
  ASSERT_FALSE(HasFailure());
  {
    RawDb raw(path);
    ASSERT_EQ(raw.Exec("DROP TRIGGER merkle_nodes_append_only_u"), SQLITE_OK);
    ASSERT_EQ(
        raw.Exec(
            "UPDATE merkle_nodes SET hash = zeroblob(32) WHERE level = 2 AND idx = 3"),
        SQLITE_OK);
  }
  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  auto s = store->CheckIntegrity();
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message,
              HasSubstr("Merkle node (level 2, index 3) over leaves 12..15"));
}

// Each append writes its Merkle nodes of levels 1..4 after every such node
// written before it in merkle_tree's key order (the table's right edge),
// and those of levels from 5 on after every earlier one of them (the right
// edge of the negative keys); the
// keys are those of the nodes a reference tree yields, and roots and proofs
// hold.
TEST(SqliteStoreTest, MerkleNodesAreWrittenAtTheRightEdgesOfTheirRanges) {
  TempDir dir;
  std::string path = dir.File("a.db");
  auto store = MustOpen(path);
  RawDb raw(path);
  audit::TreeAppender tree;
  std::vector<int64_t> expected;
  // Key ranges: levels 1..4, levels from 5 on.
  std::vector<std::pair<int64_t, int64_t>> ranges{{0, INT64_MAX}, {INT64_MIN, 0}};
  std::vector<int64_t> last{-1, INT64_MIN}, rows(ranges.size(), 0);
  auto in = [&](size_t r, const std::string& cond) {
    return raw.Int("SELECT " + cond +
                   " FROM merkle_tree WHERE pos >= " + std::to_string(ranges[r].first) +
                   " AND pos < " + std::to_string(ranges[r].second));
  };
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(store->Append(Submit()));
    for (size_t r = 0; r < ranges.size(); ++r) {
      // Every row it added to the range sorts after every row there was.
      EXPECT_EQ(in(r, "count(*) FILTER (WHERE pos <= " + std::to_string(last[r]) + ")"),
                rows[r])
          << "append " << i << ", range " << r;
      last[r] = in(r, "coalesce(max(pos), " + std::to_string(last[r]) + ")");
      rows[r] = in(r, "count(*)");
    }
    AuditQuery q;
    q.after_index = i - 1;
    q.limit = 1;
    Hash leaf = store->QueryAudit(q).value().front().leaf_hash;
    for (const audit::NodeWrite& w : tree.Append(leaf))
      if (w.ref.level > 0) expected.push_back(NodePos(w.ref));
  }
  EXPECT_EQ(rows[1], 9 + 4 + 2 + 1) << "levels 5..8 of 300 leaves";
  std::vector<int64_t> stored;
  for (int64_t k = raw.Int("SELECT min(pos) FROM merkle_tree"); k != INT64_MAX;
       k = raw.Int("SELECT coalesce(min(pos), 9223372036854775807) FROM merkle_tree"
                   " WHERE pos > " +
                   std::to_string(k)))
    stored.push_back(k);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(stored, expected);
  ExpectTreeMatchesLeaves(*store);
}

TEST(SqliteStoreTest, RefusesDatabaseFromAnotherApprovald) {
  TempDir dir;
  std::string path = dir.File("a.db");
  MustOpen(path).reset();
  {
    RawDb raw(path);
    ASSERT_EQ(raw.Exec("INSERT INTO schema_migrations VALUES (99, 'future', 0)"),
              SQLITE_OK);
  }
  auto newer = SqliteStore::Open(SqliteOptions{.path = path});
  ASSERT_FALSE(newer.has_value());
  EXPECT_EQ(newer.error().code, ErrorCode::kInternal);
  EXPECT_EQ(newer.error().reason, "schema_mismatch");
  EXPECT_THAT(newer.error().message, HasSubstr("99"));
  {
    RawDb raw(path);
    ASSERT_EQ(raw.Exec("DELETE FROM schema_migrations WHERE version = 99"), SQLITE_OK);
    ASSERT_EQ(raw.Exec("UPDATE schema_migrations SET name = 'other' WHERE version = 1"),
              SQLITE_OK);
  }
  auto renamed = SqliteStore::Open(SqliteOptions{.path = path});
  ASSERT_FALSE(renamed.has_value());
  EXPECT_THAT(renamed.error().message, HasSubstr("\"other\""));
}

TEST(SqliteStoreTest, NotADatabaseIsUnavailable) {
  TempDir dir;
  std::string path = dir.File("junk.db");
  {
    FILE* f = fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs(
        "this is not an SQLite database, just some text long enough......"
        "................................................................",
        f);
    fclose(f);
  }
  auto s = SqliteStore::Open(SqliteOptions{.path = path});
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(s.error().message, HasSubstr("junk.db"));
  auto missing_dir =
      SqliteStore::Open(SqliteOptions{.path = dir.File("no/such/dir/x.db")});
  ASSERT_FALSE(missing_dir.has_value());
  EXPECT_EQ(missing_dir.error().code, ErrorCode::kUnavailable);
}

TEST(SqliteStoreTest, PragmasAreInForceOnEveryConnection) {
  TempDir dir;
  SqliteOptions opt;
  opt.busy_timeout_ms = 4321;
  auto store = MustOpen(dir.File("a.db"), opt);
  auto w = store->WriterSettingsForTesting();
  ASSERT_TRUE(w.has_value()) << w.error().ToString();
  EXPECT_EQ(w->journal_mode, "wal");
  EXPECT_EQ(w->synchronous, 2);  // FULL
  EXPECT_EQ(w->foreign_keys, 1);
  EXPECT_EQ(w->busy_timeout, 4321);
  EXPECT_EQ(w->query_only, 0);
  auto r = store->ReaderSettingsForTesting();
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->journal_mode, "wal");
  EXPECT_EQ(r->synchronous, 2);
  EXPECT_EQ(r->foreign_keys, 1);
  EXPECT_EQ(r->busy_timeout, 4321);
  EXPECT_EQ(r->query_only, 1);
}

// Migration 5: attachment file names survive a reopen and only grow.
TEST(SqliteStoreTest, AttachmentNamesPersistAndAreAppendOnly) {
  TempDir dir;
  std::string path = dir.File("a.db");
  std::string addr;
  {
    auto store = MustOpen(path);
    addr = *store->PutAttachment("invoice bytes", 100);
    ASSERT_TRUE(store->NameAttachment(addr, "发票 GZ-0001.pdf"));
    ASSERT_TRUE(store->NameAttachment(addr, "copy.pdf"));
  }
  auto store = MustOpen(path);
  auto names = store->AttachmentNames({addr});
  ASSERT_TRUE(names.has_value()) << names.error().ToString();
  EXPECT_EQ(names->at(addr), "发票 GZ-0001.pdf");
  store.reset();
  RawDb raw(path);
  EXPECT_EQ(raw.Int("SELECT count(*) FROM attachment_names"), 2);
  for (const char* sql : {"UPDATE attachment_names SET name = 'x'", "DELETE FROM attachment_names"}) {
    EXPECT_EQ(raw.Exec(sql), SQLITE_CONSTRAINT) << sql;
    EXPECT_THAT(raw.last_error(), HasSubstr("append-only")) << sql;
  }
}

TEST(SqliteStoreTest, HistoryTablesRefuseUpdateAndDelete) {
  TempDir dir;
  std::string path = dir.File("a.db");
  {
    auto store = MustOpen(path);
    // Two leaves, so that merkle_tree holds a node (level 1; level 0 is
    // audit_log.leaf_hash).
    ASSERT_TRUE(store->Append(Submit()));
    ASSERT_TRUE(store->Append(Submit()));
    ASSERT_TRUE(store->SaveCheckpoint(Checkpoint{1, *store->RootAt(1), {}, "s"}));
    ASSERT_TRUE(store->PutAttachment("bytes", 100));
    ASSERT_TRUE(store->SaveDefinition("expense", 1, "sha256:x", "text"));
  }
  // The events table's rows, as a database from before schema migration 10
  // holds them (the store keeps them; its own appends write none).
  DowngradeToEventsTable(path);
  ASSERT_FALSE(HasFailure());
  ASSERT_NE(MustOpen(path), nullptr);
  RawDb raw(path);
  const char* statements[] = {
      "UPDATE events SET type = 'rejected'",
      "DELETE FROM events",
      "UPDATE events_end SET leaf = 0",
      "DELETE FROM events_end",
      "UPDATE audit_log SET actor = 'someone'",
      "DELETE FROM audit_log",
      "UPDATE merkle_tree SET hash = zeroblob(32)",
      "DELETE FROM merkle_tree",
      "UPDATE checkpoints SET size = 0",
      "DELETE FROM checkpoints",
      "UPDATE attachments SET bytes = x'00'",
      "DELETE FROM attachments",
      "UPDATE definitions SET source = 'edited'",
      "DELETE FROM definitions",
  };
  for (const char* sql : statements) {
    EXPECT_EQ(raw.Exec(sql), SQLITE_CONSTRAINT) << sql;
    EXPECT_THAT(raw.last_error(), HasSubstr("append-only")) << sql;
  }
  EXPECT_EQ(raw.Int("SELECT count(*) FROM events"), 2);
  EXPECT_EQ(raw.Int("SELECT leaf FROM events_end"), 2);
  EXPECT_EQ(raw.Int("SELECT count(*) FROM audit_log"), 2);
  EXPECT_EQ(raw.Int("SELECT count(*) FROM merkle_tree"), 1);
  EXPECT_EQ(raw.Int("SELECT count(*) FROM checkpoints"), 1);
  // The events table takes no more rows, and where it ends is said once.
  EXPECT_EQ(raw.Exec("INSERT INTO events SELECT instance, version + 10, at, type, actor,"
                     " on_behalf_of, node, body FROM events"),
            SQLITE_CONSTRAINT);
  EXPECT_THAT(raw.last_error(), HasSubstr("stored in their audit leaves"));
  EXPECT_EQ(raw.Exec("INSERT INTO events_end VALUES (7)"), SQLITE_CONSTRAINT);
  EXPECT_THAT(raw.last_error(), HasSubstr("holds one row"));
  // Projections stay writable (the store rewrites them on every append).
  EXPECT_EQ(raw.Exec("UPDATE instances SET title = 'x'"), SQLITE_OK);
}

// --- durability -------------------------------------------------------------

TEST(SqliteStoreTest, EverythingSurvivesCloseAndReopen) {
  TempDir dir;
  std::string path = dir.File("a.db");
  Hash root;
  std::string attachment;
  {
    auto store = MustOpen(path);
    auto a = store->Append(Submit("expense", "zhang", 2));
    ASSERT_TRUE(a);
    AppendRequest keyed = Continue(a->instance, 2);
    keyed.idempotency_owner = "zhang";
    keyed.idempotency_key = "k";
    keyed.request_hash = "h";
    ASSERT_TRUE(store->Append(keyed));
    ASSERT_TRUE(store->AppendAudit(
        AuditRecord{Timestamp{5}, "login", PersonId("li"), "user:li", {}}));
    root = *store->RootAt(4);
    ASSERT_TRUE(store->SaveCheckpoint(Checkpoint{4, root, Timestamp{9}, "sig"}));
    attachment = *store->PutAttachment("invoice", 100);
    ASSERT_TRUE(store->SaveDefinition("expense", 1, "sha256:x", "text"));
  }
  auto store = MustOpen(path);
  EXPECT_EQ(store->LoadEvents(InstanceId{1})->size(), 3u);
  EXPECT_EQ(store->GetInstance(InstanceId{1})->version, 3);
  EXPECT_EQ(store->AuditSize().value(), 4);
  EXPECT_EQ(store->RootAt(4).value(), root);
  EXPECT_EQ(store->LatestCheckpoint().value()->root, root);
  EXPECT_EQ(store->GetAttachment(attachment).value(), "invoice");
  EXPECT_EQ(store->ListDefinitions()->size(), 1u);
  EXPECT_EQ(store->ListTasks(PersonId("wang"), "pending", 10)->size(), 1u);
  // The idempotency key survived too.
  AppendRequest retry = Continue(InstanceId{1}, 2);
  retry.idempotency_owner = "zhang";
  retry.idempotency_key = "k";
  retry.request_hash = "h";
  auto replay = store->Append(retry);
  ASSERT_TRUE(replay);
  EXPECT_TRUE(replay->replayed);
  // The tree continues where it stopped: ids and leaf indexes go on.
  auto next = store->Append(Submit());
  ASSERT_TRUE(next);
  EXPECT_EQ(next->instance.value, 2);
  EXPECT_EQ(next->first_leaf, 4);
  auto proof = store->ConsistencyProof(4, 5);
  ASSERT_TRUE(proof);
  EXPECT_TRUE(audit::VerifyConsistency(4, 5, root, *store->RootAt(5), *proof));
  EXPECT_TRUE(store->CheckIntegrity()) << store->CheckIntegrity().error().ToString();
}

// --- group commit -----------------------------------------------------------

TEST(SqliteStoreTest, GroupCommitBatchesConcurrentWriters) {
  TempDir dir;
  std::string path = dir.File("a.db");
  constexpr int kThreads = 32;
  constexpr int kAppends = 20;
  {
    auto store = MustOpen(path);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&] {
        auto a = store->Append(Submit());
        if (!a) {
          ++failures;
          return;
        }
        for (int i = 1; i < kAppends; ++i)
          if (!store->Append(Continue(a->instance, i))) ++failures;
      });
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    GroupCommitStats st = store->BatchStats();
    EXPECT_EQ(st.requests, kThreads * kAppends);
    EXPECT_GT(st.max_batch, 1) << "concurrent appends were never batched";
    EXPECT_LT(st.batches, st.requests);
    int64_t sum = 0;
    for (int64_t n : st.histogram) sum += n;
    EXPECT_EQ(sum, st.batches);
    EXPECT_EQ(st.failed_batches, 0);
  }
  auto store = MustOpen(path);
  for (int i = 1; i <= kThreads; ++i)
    EXPECT_EQ(store->LoadEvents(InstanceId{i})->size(), size_t{kAppends});
  EXPECT_EQ(store->AuditSize().value(), kThreads * kAppends);
  EXPECT_TRUE(store->CheckIntegrity()) << store->CheckIntegrity().error().ToString();
}

TEST(SqliteStoreTest, MaxBatchOfOneCommitsEachRequestAlone) {
  TempDir dir;
  SqliteOptions opt;
  opt.max_batch = 1;
  auto store = MustOpen(dir.File("a.db"), opt);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) EXPECT_TRUE(store->Append(Submit()));
    });
  for (auto& t : threads) t.join();
  GroupCommitStats st = store->BatchStats();
  EXPECT_EQ(st.requests, 40);
  EXPECT_EQ(st.batches, 40);
  EXPECT_EQ(st.max_batch, 1);
  EXPECT_EQ(st.histogram[0], 40);
}

TEST(GroupCommitStatsTest, BucketsDoubleAndTheLastIsOpen) {
  EXPECT_EQ(GroupCommitStats::BucketUpperBound(0), 1);
  EXPECT_EQ(GroupCommitStats::BucketUpperBound(1), 2);
  EXPECT_EQ(GroupCommitStats::BucketUpperBound(2), 4);
  EXPECT_EQ(GroupCommitStats::BucketUpperBound(GroupCommitStats::kBuckets - 2), 1024);
  EXPECT_EQ(GroupCommitStats::BucketUpperBound(GroupCommitStats::kBuckets - 1),
            INT64_MAX);
}

// Runs `fns` on threads while the writer is paused, so they land in one
// batch; returns once all have answered.
void RunInOneBatch(SqliteStore& store, std::vector<std::function<void()>> fns) {
  store.PauseWriterForTesting();
  std::vector<std::thread> threads;
  for (auto& fn : fns) threads.emplace_back(std::move(fn));
  while (store.QueuedWritesForTesting() < fns.size())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  store.ResumeWriterForTesting();
  for (auto& t : threads) t.join();
}

TEST(SqliteStoreTest, RefusedRequestsDoNotFailTheirBatchMates) {
  TempDir dir;
  auto store = MustOpen(dir.File("a.db"));
  auto a = store->Append(Submit());
  AppendRequest keyed = Submit();
  keyed.idempotency_owner = "zhang";
  keyed.idempotency_key = "k";
  keyed.request_hash = "h1";
  ASSERT_TRUE(store->Append(keyed));
  GroupCommitStats before = store->BatchStats();

  Result<AppendResult> good1, stale, mismatch, good2, fresh;
  keyed.request_hash = "h2";
  RunInOneBatch(*store, {[&] { good1 = store->Append(Continue(a->instance, 1)); },
                         [&] { stale = store->Append(Continue(a->instance, 1)); },
                         [&] { mismatch = store->Append(keyed); },
                         [&] { fresh = store->Append(Submit()); },
                         [&] { good2 = store->Append(Continue(InstanceId{2}, 1)); }});
  GroupCommitStats after = store->BatchStats();
  EXPECT_EQ(after.batches, before.batches + 1);
  EXPECT_EQ(after.max_batch, 5);
  // Exactly one of the two appends at version 1 of instance 1 wins.
  ASSERT_NE(good1.has_value(), stale.has_value());
  Result<AppendResult>& loser = good1 ? stale : good1;
  EXPECT_EQ(loser.error().reason, "version_conflict");
  ASSERT_FALSE(mismatch.has_value());
  EXPECT_EQ(mismatch.error().reason, "idempotency_mismatch");
  ASSERT_TRUE(fresh.has_value()) << fresh.error().ToString();
  EXPECT_EQ(fresh->instance.value, 3);
  ASSERT_TRUE(good2.has_value()) << good2.error().ToString();
  EXPECT_EQ(good2->version, 2);
  EXPECT_EQ(store->AuditSize().value(), 5);
  EXPECT_TRUE(store->CheckIntegrity()) << store->CheckIntegrity().error().ToString();
}

// The callers of one batch are woken together, with one system call for the
// batch however many callers it answers; callers left for a later batch
// (max_batch) sleep on until theirs is answered, each with its own answer.
TEST(SqliteStoreTest, ABatchWakesItsCallersWithOneWake) {
  TempDir dir;
  SqliteOptions opt;
  opt.max_batch = 3;
  auto store = MustOpen(dir.File("a.db"), opt);
  GroupCommitStats before = store->BatchStats();
  constexpr int kCallers = 8;  // batches of 3, 3 and 2
  std::vector<Result<AppendResult>> got(kCallers);
  std::vector<std::function<void()>> fns;
  for (int i = 0; i < kCallers; ++i)
    fns.push_back([&, i] { got[i] = store->Append(Submit("expense", "u" + std::to_string(i))); });
  RunInOneBatch(*store, std::move(fns));
  GroupCommitStats after = store->BatchStats();
  EXPECT_EQ(after.batches, before.batches + 3);
  EXPECT_EQ(after.caller_wakes, before.caller_wakes + 3);
  // Each caller slept on its own batch's word from the start.
  EXPECT_EQ(after.early_wakes, before.early_wakes);
  std::set<int64_t> ids;
  for (int i = 0; i < kCallers; ++i) {
    ASSERT_TRUE(got[i].has_value()) << got[i].error().ToString();
    ids.insert(got[i]->instance.value);
    auto row = store->GetInstance(got[i]->instance);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->submitter, PersonId("u" + std::to_string(i)));
  }
  EXPECT_EQ(ids.size(), size_t{kCallers});

  // One request per batch: each of 8 queued callers sleeps until its own
  // batch, the 8th, say, is not woken by the 7 batches before it.
  opt.max_batch = 1;
  store.reset();
  store = MustOpen(dir.File("b.db"), opt);
  before = store->BatchStats();
  fns.clear();
  for (int i = 0; i < kCallers; ++i)
    fns.push_back([&, i] { got[i] = store->Append(Submit("expense", "u" + std::to_string(i))); });
  RunInOneBatch(*store, std::move(fns));
  after = store->BatchStats();
  EXPECT_EQ(after.batches, before.batches + kCallers);
  EXPECT_EQ(after.caller_wakes, before.caller_wakes + kCallers);
  EXPECT_EQ(after.early_wakes, before.early_wakes);
  for (int i = 0; i < kCallers; ++i) ASSERT_TRUE(got[i].has_value()) << i;

  // A bulk op ahead takes a batch of its own: the callers behind it are
  // answered in the batch after it.
  opt.max_batch = 2;
  store.reset();
  store = MustOpen(dir.File("c.db"), opt);
  store->PauseWriterForTesting();
  Result<std::vector<AppendResult>> bulk;
  std::thread bulk_thread([&] {
    std::vector<AppendRequest> reqs;
    reqs.push_back(Submit());
    bulk = store->BulkAppendForTesting(std::move(reqs));
  });
  while (store->QueuedWritesForTesting() < 1)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  fns.clear();
  for (int i = 0; i < 3; ++i)
    fns.push_back([&, i] { got[i] = store->Append(Submit("expense", "u" + std::to_string(i))); });
  std::vector<std::thread> callers;
  for (auto& fn : fns) callers.emplace_back(std::move(fn));
  while (store->QueuedWritesForTesting() < 4)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  store->ResumeWriterForTesting();
  bulk_thread.join();
  for (auto& t : callers) t.join();
  ASSERT_TRUE(bulk.has_value()) << bulk.error().ToString();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(got[i].has_value()) << i;
  EXPECT_EQ(store->AuditSize().value(), 4);
  EXPECT_TRUE(store->CheckIntegrity()) << store->CheckIntegrity().error().ToString();

  // AppendAsync's callbacks run on the syncer: no caller to wake.
  const int64_t wakes = store->BatchStats().caller_wakes;
  std::promise<Result<AppendResult>> async;
  store->AppendAsync(Submit(), [&](Result<AppendResult> r) { async.set_value(r); });
  ASSERT_TRUE(async.get_future().get().has_value());
  EXPECT_EQ(store->BatchStats().caller_wakes, wakes);
}

// The writer's WAL frames reach the file in a few large writes
// (sqlite/wal_batch_vfs.h) and are durable and readable once the batch
// answered; with the option off the VFS is not used at all.
TEST(SqliteStoreTest, WalFramesOfABatchAreWrittenInFewWrites) {
  for (bool batching : {true, false}) {
    SCOPED_TRACE(batching ? "writer_wal_batching" : "without");
    TempDir dir;
    SqliteOptions opt;
    opt.writer_wal_batching = batching;
    auto store = MustOpen(dir.File("a.db"), opt);
    std::vector<InstanceId> ids;
    for (int i = 0; i < 64; ++i) ids.push_back(store->Append(Submit()).value().instance);
    sqlite::WalBatchCounters before = sqlite::WalBatchCountersNow();
    std::vector<Result<AppendResult>> results(ids.size());
    std::vector<std::function<void()>> fns;
    for (size_t i = 0; i < ids.size(); ++i)
      fns.push_back([&, i] { results[i] = store->Append(Continue(ids[i], 1)); });
    RunInOneBatch(*store, std::move(fns));
    sqlite::WalBatchCounters after = sqlite::WalBatchCountersNow();
    for (auto& r : results) ASSERT_TRUE(r.has_value()) << r.error().ToString();
    const int64_t taken = after.writes_taken - before.writes_taken;
    const int64_t made = after.writes_made - before.writes_made;
    if (batching) {
      // SQLite writes a frame's header and its page apart; a batch's frames
      // (here about 30, 124 KB) make one or two writes.
      EXPECT_GE(taken, 40);
      EXPECT_GE(made, 1);
      EXPECT_LE(made, 3) << taken << " writes taken, " << made << " made";
    } else {
      EXPECT_EQ(taken, 0);
      EXPECT_EQ(made, 0);
    }
    // Readers (their own connections, the default VFS) see every frame.
    for (InstanceId id : ids) EXPECT_EQ(store->LoadEvents(id).value().size(), 2u);
    EXPECT_TRUE(store->CheckIntegrity()) << store->CheckIntegrity().error().ToString();
    store.reset();
    auto again = MustOpen(dir.File("a.db"), opt);
    EXPECT_EQ(again->AuditSize().value(), 128);
    EXPECT_TRUE(again->CheckIntegrity()) << again->CheckIntegrity().error().ToString();
  }
}

// A statement that may fail halfway, and a SAVEPOINT, keep the pages they
// change in a statement journal, which SQLite moves to a temporary file once
// it passes 64 KiB; every later statement of that transaction then writes
// to the file a page at a time. The writer keeps its statement journals in
// memory (temp_store = MEMORY): a batch with a refused request, which runs
// again with a SAVEPOINT per request, each request changing some twenty
// pages that earlier ones wrote (events of several KB between other
// instances' events), opens no such file, and commits the same.
TEST(SqliteStoreTest, WriterKeepsStatementJournalsInMemory) {
  TempDir dir;
  auto store = MustOpen(dir.File("a.db"));
  auto big = [](AppendRequest r) {
    for (Event& e : r.events) e.data["note"] = Value::Str(std::string(3000, 'x'));
    return r;
  };
  std::vector<InstanceId> ids;
  for (int i = 0; i < 64; ++i) ids.push_back(store->Append(big(Submit())).value().instance);
  sqlite::WalBatchCounters before = sqlite::WalBatchCountersNow();
  for (int round = 0; round < 2; ++round) {
    const int64_t version = 1 + 4 * round;
    std::vector<Result<AppendResult>> results(ids.size() + 1);
    std::vector<std::function<void()>> fns;
    // A stale version first: refused, so the batch runs again isolated.
    fns.push_back([&] { results.back() = store->Append(Continue(ids[0], 0)); });
    for (size_t i = 0; i < ids.size(); ++i)
      fns.push_back([&, i] { results[i] = store->Append(big(Continue(ids[i], version, 4))); });
    RunInOneBatch(*store, std::move(fns));
    for (size_t i = 0; i < ids.size(); ++i)
      ASSERT_TRUE(results[i].has_value()) << results[i].error().ToString();
    ASSERT_FALSE(results.back().has_value());
  }
  sqlite::WalBatchCounters after = sqlite::WalBatchCountersNow();
  EXPECT_EQ(after.subjournals_opened - before.subjournals_opened, 0);
  EXPECT_GE(store->BatchStats().isolated_reruns, 1);
  for (InstanceId id : ids) EXPECT_EQ(store->LoadEvents(id).value().size(), 9u);
  EXPECT_TRUE(store->CheckIntegrity()) << store->CheckIntegrity().error().ToString();
}

// With synchronous=OFF (BulkAppendForTesting) no xSync flushes a commit's
// frames: the VFS writes them before SQLite publishes the commit in the WAL
// index (xShmBarrier), so other connections never read a frame that is not
// in the file yet. Several MB of frames also cross the buffer's limit.
TEST(SqliteStoreTest, CommitsWithoutSyncAreInTheFileBeforeReadersSeeThem) {
  TempDir dir;
  auto store = MustOpen(dir.File("a.db"));
  sqlite::WalBatchCounters before = sqlite::WalBatchCountersNow();
  int64_t total = 0;
  for (int round = 0; round < 3; ++round) {
    std::vector<AppendRequest> reqs;
    for (int i = 0; i < 2000; ++i) reqs.push_back(Submit("expense", "zhang", 3));
    auto done = store->BulkAppendForTesting(std::move(reqs));
    ASSERT_TRUE(done.has_value()) << done.error().ToString();
    total += 3 * 2000;
    // A reader connection and a connection of its own (as `audit verify`
    // beside the daemon) read the whole log right after the commit.
    EXPECT_EQ(store->AuditSize().value(), total);
    EXPECT_EQ(store->LoadEvents(done->back().instance).value().size(), 3u);
    RawDb raw(dir.File("a.db"));
    EXPECT_EQ(raw.Int("SELECT count(*) FROM audit_log WHERE kind = 'event'"), total);
    EXPECT_EQ(raw.Text("PRAGMA quick_check"), "ok");
  }
  sqlite::WalBatchCounters after = sqlite::WalBatchCountersNow();
  EXPECT_GE(after.barrier_flushes - before.barrier_flushes, 3);
  EXPECT_GT(after.bytes_written - before.bytes_written, 2 * sqlite::kWalBatchBytes);
  EXPECT_TRUE(store->CheckIntegrity()) << store->CheckIntegrity().error().ToString();
}

// Calls `step` until `done` holds or `seconds` pass; true if it held. For
// properties that need some background thread to have run: the deadline is
// generous so that a starved thread under heavy parallel load still makes it,
// while a property that never comes true still fails the test.
bool Eventually(const std::function<bool()>& done, const std::function<void()>& step = [] {},
                int seconds = 60) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    step();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Pipelined sync: the writer commits a batch with the WAL's sync deferred
// and goes on with the next while the syncer syncs; no request is answered
// before the sync that makes it durable, and one sync answers every batch
// committed while the one before it ran.
TEST(SqliteStoreTest, AnswersABatchOnlyAfterItsWalSyncWhileTheWriterGoesOn) {
  TempDir dir;
  auto store = MustOpen(dir.File("a.db"));
  const InstanceId first = store->Append(Submit()).value().instance;
  const int64_t syncs = store->BatchStats().wal_syncs;
  EXPECT_GE(syncs, 1);
  const sqlite::WalBatchCounters before = sqlite::WalBatchCountersNow();
  store->PauseSyncsForTesting();
  std::promise<Result<AppendResult>> a, b;
  store->AppendAsync(Submit(), [&](Result<AppendResult> r) { a.set_value(r); });
  // Committed (a reader connection sees it) but not answered.
  ASSERT_TRUE(Eventually([&] { return store->CountEvents().value() == 2; }));
  auto got_a = a.get_future();
  EXPECT_EQ(got_a.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  // The writer takes the next batch meanwhile.
  store->AppendAsync(Continue(first, 1), [&](Result<AppendResult> r) { b.set_value(r); });
  ASSERT_TRUE(Eventually([&] { return store->CountEvents().value() == 3; }));
  auto got_b = b.get_future();
  EXPECT_EQ(got_b.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  EXPECT_EQ(got_a.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  EXPECT_EQ(store->BatchStats().wal_syncs, syncs);
  const sqlite::WalBatchCounters deferred = sqlite::WalBatchCountersNow();
  EXPECT_EQ(deferred.syncs_deferred - before.syncs_deferred, 2);
  EXPECT_EQ(deferred.syncs_made - before.syncs_made, 0);

  store->ResumeSyncsForTesting();
  Result<AppendResult> ra = got_a.get(), rb = got_b.get();
  ASSERT_TRUE(ra.has_value()) << ra.error().ToString();
  ASSERT_TRUE(rb.has_value()) << rb.error().ToString();
  EXPECT_EQ(rb->version, 2);
  EXPECT_EQ(store->BatchStats().wal_syncs, syncs + 1);

  // Off: each COMMIT syncs the WAL in place, and no sync is deferred.
  SqliteOptions opt;
  opt.pipelined_sync = false;
  auto inline_store = MustOpen(dir.File("b.db"), opt);
  const sqlite::WalBatchCounters off_before = sqlite::WalBatchCountersNow();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(inline_store->Append(Submit()).has_value());
  const sqlite::WalBatchCounters off_after = sqlite::WalBatchCountersNow();
  EXPECT_EQ(off_after.syncs_deferred - off_before.syncs_deferred, 0);
  EXPECT_GE(off_after.syncs_made - off_before.syncs_made, 3);
  EXPECT_EQ(inline_store->BatchStats().wal_syncs, 0);
}

// The latest checkpoint is served only once the tree it signs is durable:
// a checkpoint over leaves whose sync is still pending could otherwise reach
// an auditor and then vanish with them in a crash of the machine, which
// would look like a forked log. Verification reads every checkpoint.
TEST(SqliteStoreTest, ServesCheckpointsOnlyOverADurableTree) {
  TempDir dir;
  auto store = MustOpen(dir.File("a.db"));
  ASSERT_TRUE(store->Append(Submit()).has_value());
  ASSERT_TRUE(store->SaveCheckpoint(Checkpoint{1, *store->RootAt(1), {}, "s"}));
  store->PauseSyncsForTesting();
  std::promise<Result<AppendResult>> appended;
  store->AppendAsync(Submit(), [&](Result<AppendResult> r) { appended.set_value(r); });
  ASSERT_TRUE(Eventually([&] { return store->AuditSize().value() == 2; }));
  Status saved = Ok();
  std::thread saver([&] { saved = store->SaveCheckpoint(Checkpoint{2, *store->RootAt(2), {}, "s"}); });
  RawDb raw(dir.File("a.db"));
  ASSERT_TRUE(Eventually([&] { return raw.Int("SELECT count(*) FROM checkpoints") == 2; }));
  EXPECT_EQ(store->LatestCheckpoint().value()->size, 1);
  EXPECT_EQ(store->ListCheckpoints().value().size(), 2u);

  store->ResumeSyncsForTesting();
  saver.join();
  ASSERT_TRUE(saved) << saved.error().ToString();
  ASSERT_TRUE(appended.get_future().get().has_value());
  EXPECT_EQ(store->LatestCheckpoint().value()->size, 2);
  EXPECT_TRUE(store->CheckIntegrity()) << store->CheckIntegrity().error().ToString();
}

// After a failed sync the WAL's contents are unknown (a later sync may
// succeed without the lost pages): the batches that waited for it are
// answered with an error that says so, and every later write is refused.
TEST(SqliteStoreTest, AFailedWalSyncFailsItsBatchAndEveryWriteAfter) {
  TempDir dir;
  auto store = MustOpen(dir.File("a.db"));
  ASSERT_TRUE(store->Append(Submit()).has_value());
  store->FailSyncsForTesting(1);
  Result<AppendResult> lost = store->Append(Submit());
  ASSERT_FALSE(lost.has_value());
  EXPECT_EQ(lost.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(lost.error().reason, "storage_failed");
  EXPECT_THAT(lost.error().message, ::testing::HasSubstr("whether it is stored is unknown"));
  Result<AppendResult> later = store->Append(Submit());
  ASSERT_FALSE(later.has_value());
  EXPECT_THAT(later.error().message, ::testing::HasSubstr("restart approvald"));
  const GroupCommitStats stats = store->BatchStats();
  EXPECT_EQ(stats.wal_sync_failures, 1);
  // Restarted, the store holds what reached the file, whole.
  store.reset();
  auto again = MustOpen(dir.File("a.db"));
  EXPECT_GE(again->AuditSize().value(), 1);
  EXPECT_TRUE(again->CheckIntegrity()) << again->CheckIntegrity().error().ToString();
  EXPECT_TRUE(again->Append(Submit()).has_value());
}

// The VFS defers a connection's WAL syncs only between DeferWalSyncs calls,
// and even then makes two in place: the first through a handle (for a new
// file it syncs the directory too) and the one after a new WAL header.
TEST(WalBatchVfsTest, DefersWalSyncsExceptTheFirstAndAfterANewHeader) {
  TempDir dir;
  const std::string path = dir.File("v.db");
  auto open = [&](sqlite3** db) {
    ASSERT_EQ(sqlite3_open_v2(path.c_str(), db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                              sqlite::WalBatchVfsName()),
              SQLITE_OK);
  };
  auto exec = [](sqlite3* db, const char* sql) {
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  };
  sqlite3* db = nullptr;
  open(&db);
  // No WAL yet: nothing to defer.
  EXPECT_EQ(sqlite::DeferWalSyncs(db, true), -1);
  exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t(x)");
  auto commit = [&](sqlite3* c, int* owed) {
    ASSERT_EQ(sqlite::DeferWalSyncs(c, true), 0);
    exec(c, "INSERT INTO t VALUES (1)");
    *owed = sqlite::DeferWalSyncs(c, false);
  };
  sqlite::WalBatchCounters c0 = sqlite::WalBatchCountersNow();
  int owed = -1;
  commit(db, &owed);
  sqlite::WalBatchCounters c1 = sqlite::WalBatchCountersNow();
  EXPECT_EQ(owed, 1);
  EXPECT_EQ(c1.syncs_deferred - c0.syncs_deferred, 1);
  EXPECT_EQ(c1.syncs_made - c0.syncs_made, 0);
  // Not deferring: the commit syncs.
  exec(db, "INSERT INTO t VALUES (2)");
  sqlite::WalBatchCounters c2 = sqlite::WalBatchCountersNow();
  EXPECT_EQ(c2.syncs_made - c1.syncs_made, 1);
  EXPECT_EQ(c2.syncs_deferred - c1.syncs_deferred, 0);
  // Everything copied back, the next transaction starts the WAL over: its
  // header is synced in place, the commit's sync deferred.
  exec(db, "PRAGMA wal_checkpoint(RESTART)");
  sqlite::WalBatchCounters c3 = sqlite::WalBatchCountersNow();
  commit(db, &owed);
  sqlite::WalBatchCounters c4 = sqlite::WalBatchCountersNow();
  EXPECT_EQ(owed, 1);
  EXPECT_EQ(c4.syncs_made - c3.syncs_made, 1);
  EXPECT_EQ(c4.syncs_deferred - c3.syncs_deferred, 1);
  // A second connection's own WAL handle has never synced: its first
  // commit syncs in place even when deferring.
  sqlite3* other = nullptr;
  open(&other);
  exec(other, "SELECT count(*) FROM t");
  commit(other, &owed);
  sqlite::WalBatchCounters c5 = sqlite::WalBatchCountersNow();
  EXPECT_EQ(owed, 0);
  EXPECT_EQ(c5.syncs_made - c4.syncs_made, 1);
  EXPECT_EQ(c5.syncs_deferred - c4.syncs_deferred, 0);
  sqlite3_close(other);
  sqlite3_close(db);
}

// A batch first runs without a SAVEPOINT per request; only a batch with a
// refused request runs again, isolated. A request refused after it had
// written its events, leaves, row and tasks (its exclusive fact is taken)
// leaves nothing behind, takes no instance id or leaf index, and its
// batch-mates before and after it commit as if it had never been there.
TEST(SqliteStoreTest, RefusedRequestHalfWrittenInABatchLeavesNothing) {
  TempDir dir;
  auto store = MustOpen(dir.File("a.db"));
  AppendRequest holder = Submit();
  FactRow invoice{"invoice", "44031900110012345678", {}, true};
  holder.facts = std::vector<FactRow>{invoice};
  ASSERT_TRUE(store->Append(holder));
  GroupCommitStats before = store->BatchStats();

  // Nothing refused: one run, no rerun.
  Result<AppendResult> a, b;
  RunInOneBatch(*store, {[&] { a = store->Append(Submit()); },
                         [&] { b = store->Append(Continue(InstanceId{1}, 1)); }});
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  ASSERT_TRUE(b.has_value()) << b.error().ToString();
  GroupCommitStats mid = store->BatchStats();
  EXPECT_EQ(mid.batches, before.batches + 1);
  EXPECT_EQ(mid.isolated_reruns, before.isolated_reruns);

  AppendRequest dup = Submit("expense", "xu", 3);
  dup.facts = std::vector<FactRow>{invoice};
  Result<AppendResult> first, refused, last;
  store->PauseWriterForTesting();
  // Queue in a known order: the refused request sits between two good ones.
  std::thread t1([&] { first = store->Append(Submit("expense", "hu")); });
  while (store->QueuedWritesForTesting() < 1)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::thread t2([&] { refused = store->Append(dup); });
  while (store->QueuedWritesForTesting() < 2)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::thread t3([&] { last = store->Append(Continue(a->instance, 1, 2)); });
  while (store->QueuedWritesForTesting() < 3)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  store->ResumeWriterForTesting();
  for (std::thread* t : {&t1, &t2, &t3}) t->join();

  GroupCommitStats after = store->BatchStats();
  EXPECT_EQ(after.batches, mid.batches + 1);
  EXPECT_EQ(after.isolated_reruns, mid.isolated_reruns + 1);
  EXPECT_EQ(after.failed_batches, 0);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().reason, "duplicate_invoice");
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_EQ(first->instance.value, 3);
  EXPECT_EQ(first->first_leaf, 3);
  ASSERT_TRUE(last.has_value()) << last.error().ToString();
  EXPECT_EQ(last->version, 3);
  EXPECT_EQ(last->first_leaf, 4);  // the refused request's 3 leaves are gone
  EXPECT_EQ(store->AuditSize().value(), 6);
  EXPECT_FALSE(store->GetInstance(InstanceId{4}).has_value());
  EXPECT_FALSE(store->LoadEvents(InstanceId{4}).has_value());
  EXPECT_TRUE(store->CheckIntegrity()) << store->CheckIntegrity().error().ToString();
  // The next submission takes the id the refused one did not keep.
  auto next = store->Append(Submit());
  ASSERT_TRUE(next) << next.error().ToString();
  EXPECT_EQ(next->instance.value, 4);
}

// The projection row is rewritten by a narrow UPDATE when only its unindexed
// columns (and perhaps its status and next deadline) change, else by the
// full upsert; the writer finds which by the UPDATEs' conditions, without
// reading the row. Either way it is the request's row, and the indexes the
// list queries use agree.
TEST(SqliteStoreTest, InstanceRowAndItsIndexesFollowEveryAppend) {
  TempDir dir;
  auto store = MustOpen(dir.File("a.db"));
  auto a = store->Append(Submit());
  ASSERT_TRUE(a);
  auto expect_row = [&](const AppendRequest& req) {
    auto row = store->GetInstance(a->instance);
    ASSERT_TRUE(row) << row.error().ToString();
    const InstanceRow& want = req.row;
    EXPECT_EQ(row->id, a->instance);
    EXPECT_EQ(row->workflow, want.workflow);
    EXPECT_EQ(row->workflow_version, want.workflow_version);
    EXPECT_EQ(row->def_hash, want.def_hash);
    EXPECT_EQ(row->status, want.status);
    EXPECT_EQ(row->submitter, want.submitter);
    EXPECT_EQ(row->title, want.title);
    EXPECT_EQ(row->amount, want.amount);
    EXPECT_EQ(row->current_nodes, want.current_nodes);
    EXPECT_EQ(row->version, req.events.back().version);  // the store stamps it
    EXPECT_EQ(row->created_at, want.created_at);
    EXPECT_EQ(row->updated_at, want.updated_at);
    EXPECT_EQ(row->next_deadline, want.next_deadline);
    InstanceQuery due;
    due.due_by = Timestamp{INT64_MAX};
    auto due_rows = store->ListInstances(due);
    ASSERT_TRUE(due_rows);
    EXPECT_EQ(due_rows->size(), want.next_deadline ? 1u : 0u);
    for (int filter = 0; filter < 3; ++filter) {
      InstanceQuery q;
      if (filter == 0) q.workflow = want.workflow;
      if (filter == 1) q.status = want.status;
      if (filter == 2) q.submitter = want.submitter;
      auto rows = store->ListInstances(q);
      ASSERT_TRUE(rows);
      ASSERT_EQ(rows->size(), 1u) << "filter " << filter;
      EXPECT_EQ(rows->front().id, a->instance);
    }
  };
  AppendRequest body = Continue(a->instance, 1);  // title, amount, nodes change
  body.row.title = "改过的标题";
  body.row.amount = Money{99};
  body.row.current_nodes = "line2";
  ASSERT_TRUE(store->Append(body));
  expect_row(body);
  AppendRequest deadline = Continue(a->instance, 2);  // only the deadline
  deadline.row.next_deadline = Timestamp{1700000900000};
  ASSERT_TRUE(store->Append(deadline));
  expect_row(deadline);
  AppendRequest status = Continue(a->instance, 3);  // status and deadline
  status.row.status = "approved";
  ASSERT_TRUE(store->Append(status));
  expect_row(status);
  AppendRequest fixed = Continue(a->instance, 4);  // columns that rarely change
  fixed.row.status = "approved";
  fixed.row.workflow = "purchase";
  fixed.row.submitter = PersonId("xu");
  fixed.row.workflow_version = 2;
  fixed.row.created_at = Timestamp{1};
  ASSERT_TRUE(store->Append(fixed));
  expect_row(fixed);
  InstanceQuery old_workflow, old_status;
  old_workflow.workflow = "expense";
  old_status.status = "running";
  EXPECT_TRUE(store->ListInstances(old_workflow)->empty());
  EXPECT_TRUE(store->ListInstances(old_status)->empty());
  EXPECT_TRUE(store->CheckSqliteIntegrity(true))
      << store->CheckSqliteIntegrity(true).error().ToString();
  EXPECT_TRUE(store->CheckIntegrity()) << store->CheckIntegrity().error().ToString();
}

// Options under which the WAL keeps every commit until the store closes:
// no checkpoint runs, so BTreesOfLastCommit sees the last commit's frames.
SqliteOptions NoCheckpoints() {
  SqliteOptions opt;
  opt.checkpoint_wal_pages = 1 << 20;
  opt.wal_restart_pages = 1 << 20;
  opt.checkpoint_interval_ms = 3600 * 1000;
  return opt;
}

// An append that moves the instance's next deadline but keeps its status
// (an approval passing the instance to the next step) rewrites the
// instances_due entry and leaves instances_by_status alone: SQLite rewrites
// an index entry whenever an UPDATE's SET names one of its columns, even
// with an unchanged value. One that changes the status writes both.
TEST(SqliteStoreTest, ADeadlineMoveLeavesTheStatusIndexAlone) {
  TempDir dir;
  const std::string path = dir.File("a.db");
  auto store = MustOpen(path, NoCheckpoints());
  AppendRequest submit = Submit();
  submit.row.next_deadline = Timestamp{1700000500000};
  auto a = store->Append(submit);
  ASSERT_TRUE(a) << a.error().ToString();

  AppendRequest body = Continue(a->instance, 1);  // neither status nor deadline
  body.row.next_deadline = submit.row.next_deadline;
  ASSERT_TRUE(store->Append(body));
  std::set<std::string> wrote = BTreesOfLastCommit(path);
  EXPECT_TRUE(wrote.count("instances")) << ::testing::PrintToString(wrote);
  EXPECT_FALSE(wrote.count("instances_due")) << ::testing::PrintToString(wrote);
  EXPECT_FALSE(wrote.count("instances_by_status")) << ::testing::PrintToString(wrote);

  AppendRequest step = Continue(a->instance, 2);  // the deadline only
  step.row.next_deadline = Timestamp{1700000900000};
  ASSERT_TRUE(store->Append(step));
  wrote = BTreesOfLastCommit(path);
  EXPECT_TRUE(wrote.count("instances_due")) << ::testing::PrintToString(wrote);
  EXPECT_FALSE(wrote.count("instances_by_status")) << ::testing::PrintToString(wrote);
  auto row = store->GetInstance(a->instance);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->next_deadline, step.row.next_deadline);
  EXPECT_EQ(row->version, 3);

  AppendRequest done = Continue(a->instance, 3);  // status and deadline
  done.row.status = "approved";
  ASSERT_TRUE(store->Append(done));
  wrote = BTreesOfLastCommit(path);
  EXPECT_TRUE(wrote.count("instances_due")) << ::testing::PrintToString(wrote);
  EXPECT_TRUE(wrote.count("instances_by_status")) << ::testing::PrintToString(wrote);
  InstanceQuery approved;
  approved.status = "approved";
  EXPECT_EQ(store->ListInstances(approved)->size(), 1u);
  EXPECT_TRUE(store->CheckSqliteIntegrity(true))
      << store->CheckSqliteIntegrity(true).error().ToString();
}

// The task projection is written as a difference: a row that stays keeps
// its rowid, one whose `since` moved is updated in place, and only rows that
// went or came are deleted or inserted; what is stored is exactly the set
// of the last append, duplicates included.
TEST(SqliteStoreTest, TaskRowsAreRewrittenOnlyWhereTheyChanged) {
  TempDir dir;
  const std::string path = dir.File("a.db");
  auto store = MustOpen(path);
  AppendRequest submit = Submit();
  submit.tasks = {TaskRow{{}, "line1", PersonId("wang"), "pending", Timestamp{10}},
                  TaskRow{{}, "line1", PersonId("zhao"), "pending", Timestamp{10}},
                  TaskRow{{}, "", PersonId("zhang"), "cc", Timestamp{10}},
                  TaskRow{{}, "", PersonId("li"), "cc", Timestamp{10}}};
  auto a = store->Append(submit);
  ASSERT_TRUE(a) << a.error().ToString();
  // The rowid of one task row, or -1 if there is none.
  auto rowid = [&](const std::string& person, const std::string& kind) {
    return RawDb(path).Int(
        "SELECT rowid FROM tasks WHERE instance = " + std::to_string(a->instance.value) +
        " AND person = '" + person + "' AND kind = '" + kind + "'");
  };
  const int64_t zhang_cc = rowid("zhang", "cc");
  const int64_t wang_pending = rowid("wang", "pending");
  ASSERT_GT(zhang_cc, 0);
  ASSERT_GT(wang_pending, 0);

  AppendRequest next = Continue(a->instance, 1);
  next.tasks = {
      TaskRow{{}, "", PersonId("zhang"), "cc", Timestamp{10}},            // same
      TaskRow{{}, "line1", PersonId("wang"), "pending", Timestamp{20}},   // since
      TaskRow{{}, "line1", PersonId("zhao"), "done", Timestamp{20}},      // kind
      TaskRow{{}, "line2", PersonId("qian"), "pending", Timestamp{20}},   // new
      TaskRow{{}, "line2", PersonId("qian"), "pending", Timestamp{20}}};  // twice
  ASSERT_TRUE(store->Append(next));
  EXPECT_EQ(rowid("zhang", "cc"), zhang_cc);
  EXPECT_EQ(rowid("wang", "pending"), wang_pending);
  EXPECT_EQ(rowid("li", "cc"), -1);
  EXPECT_EQ(rowid("zhao", "pending"), -1);
  RawDb raw(path);
  EXPECT_EQ(
      raw.Int("SELECT since FROM tasks WHERE rowid = " + std::to_string(wang_pending)),
      20);
  EXPECT_EQ(raw.Int("SELECT count(*) FROM tasks"), 5);
  EXPECT_EQ(
      raw.Int("SELECT count(*) FROM tasks WHERE person = 'qian' AND kind = 'pending'"
              " AND node = 'line2' AND since = 20"),
      2);
  EXPECT_EQ(raw.Int("SELECT count(*) FROM tasks WHERE person = 'zhao' AND kind = 'done'"
                    " AND since = 20"),
            1);
  auto wang = store->ListTasks(PersonId("wang"), "pending", 10);
  ASSERT_TRUE(wang);
  ASSERT_EQ(wang->size(), 1u);
  EXPECT_EQ(wang->front().since, Timestamp{20});

  AppendRequest last = Continue(a->instance, 2);  // one of the two copies goes
  last.tasks = {TaskRow{{}, "line2", PersonId("qian"), "pending", Timestamp{20}}};
  ASSERT_TRUE(store->Append(last));
  EXPECT_EQ(raw.Int("SELECT count(*) FROM tasks"), 1);
  EXPECT_EQ(raw.Int("SELECT count(*) FROM tasks WHERE person = 'qian' AND since = 20"),
            1);
  EXPECT_TRUE(store->CheckSqliteIntegrity(true))
      << store->CheckSqliteIntegrity(true).error().ToString();
}

// A task that changes only its kind (a pending task done, as an approval
// leaves it) is rewritten in place: it keeps its rowid, and the commit
// writes no page of tasks_by_instance (whose column it keeps) nor a new row
// at the table's end; a task that went is rewritten as one that came.
TEST(SqliteStoreTest, ATaskThatChangesKindIsRewrittenInPlace) {
  TempDir dir;
  const std::string path = dir.File("a.db");
  auto store = MustOpen(path, NoCheckpoints());
  AppendRequest submit = Submit();
  submit.tasks = {TaskRow{{}, "line1", PersonId("wang"), "pending", Timestamp{10}},
                  TaskRow{{}, "", PersonId("li"), "cc", Timestamp{10}}};
  auto a = store->Append(submit);
  ASSERT_TRUE(a) << a.error().ToString();
  RawDb raw(path);
  const int64_t wang = raw.Int("SELECT rowid FROM tasks WHERE person = 'wang'");
  const int64_t li = raw.Int("SELECT rowid FROM tasks WHERE person = 'li'");
  const int64_t last_rowid = raw.Int("SELECT max(rowid) FROM tasks");

  AppendRequest approve = Continue(a->instance, 1);
  approve.tasks = {TaskRow{{}, "line1", PersonId("wang"), "done", Timestamp{20}},
                   TaskRow{{}, "", PersonId("li"), "cc", Timestamp{10}}};
  ASSERT_TRUE(store->Append(approve));
  std::set<std::string> wrote = BTreesOfLastCommit(path);
  EXPECT_TRUE(wrote.count("tasks_by_person")) << ::testing::PrintToString(wrote);
  EXPECT_FALSE(wrote.count("tasks_by_instance")) << ::testing::PrintToString(wrote);
  EXPECT_EQ(raw.Int("SELECT rowid FROM tasks WHERE person = 'wang' AND kind = 'done'"
                    " AND node = 'line1' AND since = 20"),
            wang);
  EXPECT_EQ(raw.Int("SELECT count(*) FROM tasks"), 2);

  AppendRequest next = Continue(a->instance, 2);  // li's copy went, zhao's task came
  next.tasks = {TaskRow{{}, "line1", PersonId("wang"), "done", Timestamp{20}},
                TaskRow{{}, "line2", PersonId("zhao"), "pending", Timestamp{30}}};
  ASSERT_TRUE(store->Append(next));
  EXPECT_EQ(raw.Int("SELECT rowid FROM tasks WHERE person = 'zhao' AND kind = 'pending'"
                    " AND node = 'line2' AND since = 30"),
            li);
  EXPECT_EQ(raw.Int("SELECT max(rowid) FROM tasks"), last_rowid);
  EXPECT_EQ(raw.Int("SELECT count(*) FROM tasks"), 2);
  auto zhao = store->ListTasks(PersonId("zhao"), "pending", 10);
  ASSERT_TRUE(zhao);
  ASSERT_EQ(zhao->size(), 1u);
  EXPECT_EQ(zhao->front().instance, a->instance);
  EXPECT_TRUE(store->ListTasks(PersonId("li"), "cc", 10)->empty());
  auto wang_done = store->ListTasks(PersonId("wang"), "done", 10);
  ASSERT_TRUE(wang_done);
  EXPECT_EQ(wang_done->size(), 1u);
  EXPECT_TRUE(store->CheckSqliteIntegrity(true))
      << store->CheckSqliteIntegrity(true).error().ToString();
}

// The checkpoint thread waits for 4000 WAL frames (not 1000): the pages at
// the B-trees' right edges, in nearly every batch, are then copied to the
// database once per 4000 frames; the writer's WAL restart stays above it.
// The task rows of instance `id` as (node, person, kind, since), sorted.
std::vector<std::string> TaskRowsOf(const std::string& path, InstanceId id) {
  std::vector<std::string> out;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  const std::string sql =
      "SELECT node || '/' || person || '/' || kind || '/' || since FROM tasks"
      " WHERE instance = " + std::to_string(id.value) + " ORDER BY 1";
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW)
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// A continuation whose task rows are `tasks` (node/person/kind, since `at`).
AppendRequest ContinueWithTasks(InstanceId id, int64_t expected,
                                std::vector<std::array<const char*, 3>> tasks, int64_t at) {
  AppendRequest r = Continue(id, expected);
  r.tasks.clear();
  for (const auto& [node, person, kind] : tasks)
    r.tasks.push_back(TaskRow{id, node, PersonId(person), kind, Timestamp{at}});
  return r;
}

// The writer answers the expected version and the stored task rows of an
// instance it appended to from memory, and writes the same rows as a
// writer that reads them every time (writer_known_instances = 0).
TEST(SqliteStoreTest, TheWriterKnowsTheInstancesItAppendedTo) {
  for (int known : {1024, 0}) {
    SCOPED_TRACE("writer_known_instances " + std::to_string(known));
    TempDir dir;
    const std::string path = dir.File("a.db");
    SqliteOptions opt;
    opt.writer_known_instances = known;
    auto store = MustOpen(path, opt);
    auto a = store->Append(Submit());
    ASSERT_TRUE(a) << a.error().ToString();
    const InstanceId id = a->instance;
    ASSERT_TRUE(store->Append(
        ContinueWithTasks(id, 1, {{"line1", "wang", "pending"}, {"", "zhang", "cc"}}, 20)));
    ASSERT_TRUE(store->Append(
        ContinueWithTasks(id, 2, {{"line1", "wang", "done"}, {"line2", "zhao", "pending"},
                                  {"", "zhang", "cc"}}, 30)));
    ASSERT_TRUE(store->Append(
        ContinueWithTasks(id, 3, {{"line1", "wang", "done"}, {"", "zhang", "cc"}}, 30)));
    EXPECT_EQ(store->KnownInstanceHitsForTesting(), known > 0 ? 3 : 0);
    EXPECT_EQ(TaskRowsOf(path, id),
              (std::vector<std::string>{"/zhang/cc/30", "line1/wang/done/30"}));
    // A stale expected version is still refused, naming the stored one.
    auto stale = store->Append(Continue(id, 2));
    ASSERT_FALSE(stale);
    EXPECT_EQ(stale.error().reason, "version_conflict");
    EXPECT_THAT(stale.error().message, HasSubstr("is at version 4"));
    auto next = store->Append(Continue(id, 4));
    ASSERT_TRUE(next) << next.error().ToString();
    EXPECT_EQ(next->version, 5);
    auto row = store->GetInstance(id);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->version, 5);
    EXPECT_TRUE(store->CheckIntegrity()) << store->CheckIntegrity().error().ToString();
  }
}

// What another connection commits (an operator's sqlite3 shell, another
// process) makes the writer read the rows again instead of writing from
// what it knew.
TEST(SqliteStoreTest, AnotherConnectionsCommitMakesTheWriterReadAgain) {
  TempDir dir;
  const std::string path = dir.File("a.db");
  auto store = MustOpen(path);
  auto a = store->Append(Submit());
  ASSERT_TRUE(a) << a.error().ToString();
  const InstanceId id = a->instance;
  ASSERT_TRUE(store->Append(ContinueWithTasks(id, 1, {{"line1", "wang", "pending"}}, 20)));
  {
    RawDb raw(path);
    ASSERT_EQ(raw.Exec("DELETE FROM tasks WHERE instance = " + std::to_string(id.value)),
              SQLITE_OK)
        << raw.last_error();
    ASSERT_EQ(raw.Exec("INSERT INTO tasks (instance, node, person, kind, since) VALUES (" +
                       std::to_string(id.value) + ", 'line9', 'sun', 'pending', 5)"),
              SQLITE_OK)
        << raw.last_error();
  }
  const int64_t hits = store->KnownInstanceHitsForTesting();
  ASSERT_TRUE(store->Append(ContinueWithTasks(id, 2, {{"line1", "wang", "pending"}}, 30)));
  EXPECT_EQ(store->KnownInstanceHitsForTesting(), hits);
  EXPECT_EQ(TaskRowsOf(path, id), (std::vector<std::string>{"line1/wang/pending/30"}));
  // Its own commits do not: the next append is answered from memory again.
  ASSERT_TRUE(store->Append(ContinueWithTasks(id, 3, {{"line1", "wang", "pending"}}, 40)));
  EXPECT_EQ(store->KnownInstanceHitsForTesting(), hits + 1);
  EXPECT_EQ(TaskRowsOf(path, id), (std::vector<std::string>{"line1/wang/pending/40"}));
}

// A batch whose COMMIT fails leaves the writer knowing the instances as
// they are stored: an append that expects the version of the failed batch
// is refused, and the rows are written from the stored ones.
TEST(SqliteStoreTest, AFailedCommitLeavesTheWriterNothingStale) {
  TempDir dir;
  const std::string path = dir.File("a.db");
  auto store = MustOpen(path);
  auto a = store->Append(Submit());
  ASSERT_TRUE(a) << a.error().ToString();
  const InstanceId id = a->instance;
  ASSERT_TRUE(store->Append(ContinueWithTasks(id, 1, {{"line1", "wang", "pending"}}, 20)));
  store->FailCommitsForTesting(1);
  auto failed = store->Append(
      ContinueWithTasks(id, 2, {{"line2", "zhao", "pending"}, {"", "li", "cc"}}, 30));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().reason, "commit_failed");
  auto ahead = store->Append(Continue(id, 3));
  ASSERT_FALSE(ahead);
  EXPECT_EQ(ahead.error().reason, "version_conflict");
  ASSERT_TRUE(store->Append(ContinueWithTasks(id, 2, {{"line1", "wang", "done"}}, 40)));
  EXPECT_EQ(TaskRowsOf(path, id), (std::vector<std::string>{"line1/wang/done/40"}));
  EXPECT_EQ(store->LoadEvents(id)->size(), 3u);
  EXPECT_TRUE(store->CheckIntegrity()) << store->CheckIntegrity().error().ToString();
}

// The writer knows at most writer_known_instances instances: past that it
// starts again from none.
TEST(SqliteStoreTest, TheWriterKnowsAtMostSoManyInstances) {
  TempDir dir;
  SqliteOptions opt;
  opt.writer_known_instances = 1;
  auto store = MustOpen(dir.File("a.db"), opt);
  auto a = store->Append(Submit());
  auto b = store->Append(Submit());
  ASSERT_TRUE(a && b);
  // Each append to one forgets the other.
  ASSERT_TRUE(store->Append(Continue(a->instance, 1)));
  ASSERT_TRUE(store->Append(Continue(b->instance, 1)));
  ASSERT_TRUE(store->Append(Continue(a->instance, 2)));
  EXPECT_EQ(store->KnownInstanceHitsForTesting(), 0);
  ASSERT_TRUE(store->Append(Continue(a->instance, 3)));
  EXPECT_EQ(store->KnownInstanceHitsForTesting(), 1);
  opt.writer_known_instances = -1;
  opt.path = dir.File("b.db");
  EXPECT_FALSE(SqliteStore::Open(opt).has_value());
}

TEST(SqliteStoreTest, DefaultCheckpointSpacingLetsHotPagesCoalesce) {
  SqliteOptions opt;
  EXPECT_EQ(opt.checkpoint_wal_pages, 4000);
  EXPECT_GE(opt.wal_restart_pages, opt.checkpoint_wal_pages);
  TempDir dir;
  EXPECT_NE(MustOpen(dir.File("a.db"), opt), nullptr);
}

// The library's memory statistics (a global mutex on every SQLite
// allocation) are off in any process that links the store.
// The writer binds its per-append values without copying them
// (Statement::BindUncopied): the statement reads the caller's bytes, which
// it stores exactly; an empty blob is still a blob, not NULL.
TEST(SqliteStoreTest, UncopiedBindingsStoreTheCallersBytes) {
  TempDir dir;
  auto db = sqlite::Db::Open(dir.File("b.db"), /*create=*/true, "test");
  ASSERT_TRUE(db.has_value()) << db.error().ToString();
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t (a TEXT, b BLOB, c BLOB)", "creating"));
  static constexpr char kInsert[] = "INSERT INTO t (a, b, c) VALUES (?1, ?2, ?3)";
  const std::string text = "差旅报销 with a \0 inside: " + std::string(1, '\0') + "end";
  const std::string blob(300, '\x7f');
  Hash h{};
  h[0] = 1;
  h[31] = 2;
  {
    auto st = (*db)->Prepare(kInsert);
    ASSERT_TRUE(st.has_value());
    (*st)->BindUncopied(1, text).BindBlobUncopied(2, blob).BindBlobUncopied(3, h);
    ASSERT_TRUE((*st)->Run());
  }
  {
    auto st = (*db)->Prepare(kInsert);
    ASSERT_TRUE(st.has_value());
    (*st)->BindUncopied(1, std::string_view()).BindBlobUncopied(2, std::string_view());
    (*st)->BindBlobUncopied(3, std::string_view());
    ASSERT_TRUE((*st)->Run());
  }
  static constexpr char kSelect[] =
      "SELECT a, b, c, typeof(b), typeof(c) FROM t ORDER BY rowid";
  auto st = (*db)->Prepare(kSelect);
  ASSERT_TRUE(st.has_value());
  ASSERT_TRUE((*st)->Step().value());
  EXPECT_EQ((*st)->TextView(0), text);
  EXPECT_EQ((*st)->BlobView(1), blob);
  Hash back{};
  EXPECT_TRUE((*st)->HashAt(2, &back));
  EXPECT_EQ(back, h);
  ASSERT_TRUE((*st)->Step().value());
  EXPECT_EQ((*st)->TextView(0), "");
  EXPECT_EQ((*st)->Text(3), "blob");
  EXPECT_EQ((*st)->Text(4), "blob");
}

TEST(SqliteStoreTest, SqliteMemoryStatisticsAreOff) {
  TempDir dir;
  auto store = MustOpen(dir.File("a.db"));
  ASSERT_TRUE(store->Append(Submit()));
  EXPECT_TRUE(sqlite::MemoryStatisticsOff());
  EXPECT_EQ(sqlite3_memory_used(), 0);
}

TEST(SqliteStoreTest, FailedCommitAnswersTheWholeBatchUnavailable) {
  TempDir dir;
  std::string path = dir.File("a.db");
  {
    auto store = MustOpen(path);
    ASSERT_TRUE(store->Append(Submit()));
    Hash root1 = *store->RootAt(1);
    store->FailCommitsForTesting(1);
    Result<AppendResult> r1, r2, r3;
    Result<int64_t> rec;
    Status cp;
    RunInOneBatch(*store, {[&] { r1 = store->Append(Continue(InstanceId{1}, 1)); },
                           [&] { r2 = store->Append(Submit()); },
                           [&] { r3 = store->Append(Submit()); },
                           [&] {
                             rec = store->AppendAudit(AuditRecord{
                                 Timestamp{1}, "login", PersonId("li"), "user:li", {}});
                           },
                           [&] {
                             cp = store->SaveCheckpoint(Checkpoint{1, root1, {}, "s"});
                           }});
    ASSERT_FALSE(r1.has_value());
    ASSERT_FALSE(r2.has_value());
    ASSERT_FALSE(r3.has_value());
    ASSERT_FALSE(rec.has_value());
    ASSERT_FALSE(cp.has_value());
    for (const Error* e :
         {&r1.error(), &r2.error(), &r3.error(), &rec.error(), &cp.error()}) {
      EXPECT_EQ(e->code, ErrorCode::kUnavailable);
      EXPECT_EQ(e->reason, "commit_failed");
      EXPECT_THAT(e->message, HasSubstr("none of it was stored"));
    }
    EXPECT_EQ(store->BatchStats().failed_batches, 1);
    EXPECT_EQ(store->BatchStats().failed_requests, 5);
    // Nothing of the batch is visible, and the next writes carry on from
    // the state before it: same ids, same leaf indexes.
    EXPECT_EQ(store->AuditSize().value(), 1);
    EXPECT_EQ(store->LoadEvents(InstanceId{1})->size(), 1u);
    EXPECT_FALSE(store->GetInstance(InstanceId{2}).has_value());
    EXPECT_TRUE(store->ListCheckpoints()->empty());
    auto again = store->Append(Submit());
    ASSERT_TRUE(again) << again.error().ToString();
    EXPECT_EQ(again->instance.value, 2);
    EXPECT_EQ(again->first_leaf, 1);
  }
  auto store = MustOpen(path);
  EXPECT_EQ(store->AuditSize().value(), 2);
  EXPECT_TRUE(store->CheckIntegrity()) << store->CheckIntegrity().error().ToString();
}

TEST(SqliteStoreTest, ReadsDoNotWaitForTheWriter) {
  TempDir dir;
  auto store = MustOpen(dir.File("a.db"));
  ASSERT_TRUE(store->Append(Submit()));
  store->PauseWriterForTesting();
  std::thread writer([&] { EXPECT_TRUE(store->Append(Continue(InstanceId{1}, 1))); });
  while (store->QueuedWritesForTesting() < 1)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  // The write is pending; reads answer from the last committed state.
  EXPECT_EQ(store->LoadEvents(InstanceId{1})->size(), 1u);
  EXPECT_EQ(store->AuditSize().value(), 1);
  EXPECT_TRUE(store->InclusionProof(0, 1).has_value());
  store->ResumeWriterForTesting();
  writer.join();
  EXPECT_EQ(store->LoadEvents(InstanceId{1})->size(), 2u);
}

TEST(SqliteStoreTest, WalCheckpointsNeverRunInsideCommit) {
  TempDir dir;
  std::string path = dir.File("a.db");
  SqliteOptions opt;
  opt.checkpoint_wal_pages = 1 << 30;      // the checkpoint thread never has enough
  opt.checkpoint_interval_ms = 3'600'000;  // nor times out during the test
  opt.wal_restart_pages = 1 << 30;         // and the writer never checkpoints
  auto store = MustOpen(path, opt);
  // SQLite's automatic checkpoint, which would run inside COMMIT, is off.
  EXPECT_EQ(store->WriterSettingsForTesting().value().wal_autocheckpoint, 0);
  // Write well past SQLite's default auto-checkpoint threshold (1000
  // pages): had any COMMIT checkpointed, the WAL would have restarted there.
  int appends = 0;
  while (store->BatchStats().wal_frames < 1500 && appends < 5000) {
    ASSERT_TRUE(store->Append(Submit()));
    ++appends;
  }
  GroupCommitStats st = store->BatchStats();
  EXPECT_GE(st.wal_frames, 1500) << "after " << appends << " appends";
  EXPECT_EQ(st.wal_checkpoints, 0);
  EXPECT_EQ(st.wal_restarts, 0);
  EXPECT_GE(std::filesystem::file_size(path + "-wal"), 1500u * 4096u);
}

TEST(SqliteStoreTest, WalIsCheckpointedOffTheCommitPathAndStaysBounded) {
  TempDir dir;
  std::string path = dir.File("a.db");
  SqliteOptions opt;
  opt.checkpoint_wal_pages = 16;
  opt.checkpoint_interval_ms = 5;
  opt.wal_restart_pages = 200;
  auto store = MustOpen(path, opt);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 40; ++i) EXPECT_TRUE(store->Append(Submit()));
    });
  for (auto& t : threads) t.join();
  auto one_more = [&] { EXPECT_TRUE(store->Append(Submit())); };
  // The checkpoint thread copies the WAL back (it may have been starved
  // while the writers ran; each extra append gives it frames to copy).
  EXPECT_TRUE(Eventually([&] { return store->BatchStats().wal_checkpoints > 0; },
                         one_more));
  EXPECT_EQ(store->BatchStats().wal_checkpoint_errors, 0);
  // The WAL restarts from its beginning instead of growing: a commit soon
  // finds it holding fewer frames than wal_restart_pages again (without
  // restarts it keeps every frame of the run: about 1,000).
  EXPECT_TRUE(Eventually(
      [&] {
        int64_t frames = store->BatchStats().wal_frames;
        return frames > 0 && frames < opt.wal_restart_pages;
      },
      one_more))
      << "the WAL still holds " << store->BatchStats().wal_frames << " frames";
  // (How far the WAL file grows while the writers run depends on how the
  // checkpoint thread is scheduled: under heavy load it can come near the
  // size without any checkpoint, so no bound on it is asserted here.)
  EXPECT_EQ(store->BatchStats().wal_checkpoint_errors, 0);
}

TEST(SqliteStoreTest, OptionsAreValidated) {
  TempDir dir;
  SqliteOptions opt;
  opt.path = dir.File("a.db");
  opt.max_batch = 0;
  auto s = SqliteStore::Open(opt);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().reason, "bad_store_options");
  auto no_path = SqliteStore::Open(SqliteOptions{});
  ASSERT_FALSE(no_path.has_value());
  EXPECT_EQ(no_path.error().code, ErrorCode::kInvalidArgument);
}

TEST(SqliteStoreTest, CachedUpperNodesStayRightAcrossFailedCommitsAndReopen) {
  TempDir dir;
  std::string path = dir.File("a.db");
  SqliteOptions opt;
  opt.cached_node_level = 1;  // cache nearly the whole tree
  {
    auto store = MustOpen(path, opt);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->Append(Submit("expense", "zhang", 7)));
    // A batch that writes leaves 35.. and their nodes, then fails to commit:
    // none of its nodes may reach the cache.
    store->FailCommitsForTesting(1);
    RunInOneBatch(*store, {[&] { EXPECT_FALSE(store->Append(Submit("x", "a", 9))); },
                           [&] { EXPECT_FALSE(store->Append(Submit("y", "b", 9))); }});
    // Different leaves at the same indexes.
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(store->Append(Submit("expense", "li", 5)));
    ExpectTreeMatchesLeaves(*store);
  }
  auto store = MustOpen(path, opt);
  ExpectTreeMatchesLeaves(*store);
  auto uncached = MustOpen(path);  // default cache level, second connection set
  ExpectTreeMatchesLeaves(*uncached);
}

// By default the writer knows at most 1,024 instances (about 0.7 MB: the
// daemon's memory has a budget), a batch's even when it wrote more.
TEST(SqliteStoreTest, TheWriterKnowsAtMost1024InstancesByDefault) {
  TempDir dir;
  auto store = MustOpen(dir.File("a.db"));
  auto bulk = [&](int n) {
    std::vector<AppendRequest> reqs;
    for (int i = 0; i < n; ++i) reqs.push_back(Submit());
    auto made = store->BulkAppendForTesting(std::move(reqs));
    EXPECT_TRUE(made) << made.error().ToString();
    return made ? made->front().instance : InstanceId{};
  };
  const InstanceId first = bulk(1025);  // more than it keeps: none kept
  ASSERT_TRUE(store->Append(Continue(first, 1)));
  EXPECT_EQ(store->KnownInstanceHitsForTesting(), 0);
  ASSERT_TRUE(store->Append(Continue(first, 2)));
  EXPECT_EQ(store->KnownInstanceHitsForTesting(), 1);
  const InstanceId next = bulk(1024);  // as many as it keeps: those, and only those
  ASSERT_TRUE(store->Append(Continue(next, 1)));
  EXPECT_EQ(store->KnownInstanceHitsForTesting(), 2);
  ASSERT_TRUE(store->Append(Continue(first, 3)));
  EXPECT_EQ(store->KnownInstanceHitsForTesting(), 2);
}

// A transaction writes the Merkle nodes its leaves complete just before its
// COMMIT, and before a checkpoint in it reads the tree: a checkpoint queued
// behind appends of its own batch finds the nodes they completed, also when
// the batch runs again with a SAVEPOINT per request because another
// checkpoint was refused after it had written them.
TEST(SqliteStoreTest, ACheckpointSeesTheMerkleNodesOfItsOwnBatch) {
  TempDir dir;
  std::vector<Hash> roots;  // the log's roots, from a store appending one by one
  {
    auto ref = MustOpen(dir.File("ref.db"));
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(ref->Append(Submit()));
    for (int64_t size = 0; size <= 6; ++size) roots.push_back(ref->RootAt(size).value());
  }
  const std::string path = dir.File("a.db");
  {
    auto store = MustOpen(path);
    ASSERT_TRUE(store->Append(Submit()));
    store->PauseWriterForTesting();
    std::atomic<int> appended{0};
    for (int i = 0; i < 5; ++i)
      store->AppendAsync(Submit(), [&](Result<AppendResult> r) {
        if (r) ++appended;
      });
    // In queue order: a checkpoint with a wrong root, then a right one at a
    // size whose root needs the node over leaves 0 and 1 (leaf 1 is in this
    // batch).
    auto queue = [&](Status& out, Checkpoint cp) {
      const size_t queued = store->QueuedWritesForTesting();
      std::thread t([&out, &store, cp] { out = store->SaveCheckpoint(cp); });
      while (store->QueuedWritesForTesting() < queued + 1)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      return t;
    };
    Status bad = Ok(), good = Ok();
    std::thread t1 = queue(bad, Checkpoint{5, roots[2], {}, "s"});
    std::thread t2 = queue(good, Checkpoint{3, roots[3], {}, "s"});
    const int64_t reruns = store->BatchStats().isolated_reruns;
    store->ResumeWriterForTesting();
    t1.join();
    t2.join();
    EXPECT_EQ(appended.load(), 5);
    EXPECT_FALSE(bad.has_value());
    EXPECT_TRUE(good.has_value()) << good.error().ToString();
    EXPECT_EQ(store->BatchStats().isolated_reruns, reruns + 1);
    auto cps = store->ListCheckpoints();
    ASSERT_TRUE(cps);
    ASSERT_EQ(cps->size(), 1u);
    EXPECT_EQ(cps->front().root, roots[3]);
    EXPECT_EQ(store->RootAt(6).value(), roots[6]);
    ExpectTreeMatchesLeaves(*store);
    EXPECT_TRUE(store->CheckIntegrity()) << store->CheckIntegrity().error().ToString();
  }
  auto store = MustOpen(path);
  ExpectTreeMatchesLeaves(*store);
  EXPECT_TRUE(store->CheckIntegrity()) << store->CheckIntegrity().error().ToString();
}

// --- backup -----------------------------------------------------------------

TEST(SqliteStoreTest, BackupWhileWritingIsConsistentAndRestores) {
  TempDir dir;
  std::string path = dir.File("live.db");
  std::string backup = dir.File("backup.db");
  auto store = MustOpen(path);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store->Append(Submit()));
  int64_t acked_before = *store->AuditSize();
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&] {
      while (!stop) {
        if (store->Append(Submit("expense", "zhang", 3))) ++written;
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto s = store->Backup(backup);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop = true;
  for (auto& t : writers) t.join();
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_GT(written.load(), 0);
  EXPECT_FALSE(std::filesystem::exists(backup + ".tmp"));

  // Restore: copy the backup into a fresh data directory and open it.
  TempDir restored_dir;
  std::string restored = restored_dir.File("approvald.db");
  std::filesystem::copy_file(backup, restored);
  auto copy = MustOpen(restored);
  ASSERT_NE(copy, nullptr);
  EXPECT_TRUE(copy->CheckIntegrity()) << copy->CheckIntegrity().error().ToString();
  int64_t size = *copy->AuditSize();
  EXPECT_GE(size, acked_before);
  EXPECT_LE(size, *store->AuditSize());
  // The copy is a prefix of the live log: same root at its size.
  EXPECT_EQ(copy->RootAt(size).value(), store->RootAt(size).value());
  EXPECT_EQ(copy->LoadEvents(InstanceId{20})->size(), 1u);
}

TEST(SqliteStoreTest, BackupToUnwritablePlaceIsUnavailable) {
  TempDir dir;
  auto store = MustOpen(dir.File("live.db"));
  auto s = store->Backup(dir.File("no/such/dir/backup.db"));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  auto missing = BackupSqliteDatabase(dir.File("absent.db"), dir.File("b.db"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kUnavailable);
}

// --- tampering --------------------------------------------------------------

// A log with signed checkpoints: instances 1..4 with 3 events each,
// interleaved with login records; checkpoints at 8 and at the end.
class SqliteTamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("audit.db");
    key_ = *audit::SigningKey::Generate();
    def_hash_ = store_internal::Sha256Address(kDefSource);
    auto store = MustOpen(path_);
    ASSERT_TRUE(store->SaveDefinition("expense", 1, def_hash_, kDefSource));
    for (int v = 1; v <= 3; ++v) {
      for (int i = 1; i <= 4; ++i) {
        AppendRequest r = v == 1 ? Submit() : Continue(InstanceId{i}, v - 1);
        r.row.def_hash = def_hash_;
        ASSERT_TRUE(store->Append(r));
      }
      ASSERT_TRUE(store->AppendAudit(AuditRecord{
          Timestamp{1700000000000 + v}, "login", PersonId("li"), "user:li", {}}));
      if (v == 2) Sign(*store, 8);
    }
    Sign(*store, *store->AuditSize());  // 15
    ASSERT_TRUE(store->CheckIntegrity());
    auto report = Verify(*store);
    ASSERT_EQ(report, "ok") << "the untouched log must verify";
  }

  void Sign(SqliteStore& store, int64_t size) {
    auto cp = audit::SignCheckpoint(key_, kOrigin, size, *store.RootAt(size),
                                    Timestamp{1700000100000 + size});
    ASSERT_TRUE(cp.has_value());
    ASSERT_TRUE(store.SaveCheckpoint(*cp));
  }

  // The verifier: "ok", "FAILED <code> leaf <i> instance <n> version <v>:
  // <message>", or "ERROR <reason>: <message>" if it could not read. Reads
  // the leaves in place (SqliteStore::ScanAuditLeaves).
  std::string Verify(Store& store) {
    auto r = audit::VerifyLog(store, audit::LogKey{kOrigin, key_.public_key()});
    if (!r) return "ERROR " + r.error().reason + ": " + r.error().message;
    if (r->ok) return "ok";
    const audit::VerifyFailure& f = *r->failure;
    return "FAILED " + f.code + " leaf " + std::to_string(f.index) + " instance " +
           std::to_string(f.instance.value) + " version " + std::to_string(f.version) +
           ": " + f.message;
  }

  // The same through ScanAudit and LoadEvents, as for a store that cannot
  // stream its leaves in place: events are decoded, and rows the store
  // cannot read back ("corrupt_history") must still be named.
  std::string VerifyDecoding(Store& store) {
    testing::TamperingStore plain(store);
    return Verify(plain);
  }

  std::string Integrity(SqliteStore& store) {
    auto s = store.CheckIntegrity();
    return s ? "ok" : s.error().reason + ": " + s.error().message;
  }

  // Closes nothing (the store is closed between tests' steps); gives a raw
  // connection with the triggers dropped.
  std::unique_ptr<RawDb> Tamper() {
    auto raw = std::make_unique<RawDb>(path_);
    raw->DropTriggers();
    return raw;
  }

  // Changes an amount in event (1, 1), the first leaf, and writes its leaf
  // and leaf hash anew to match (and its events row, where the table has
  // one), as an operator covering their tracks would. Returns the forged
  // leaf's hash.
  Hash ForgeFirstEventWithAFreshLeafHash(RawDb& raw) {
    std::string body(
        audit::EventBytesOfLeaf(raw.Text("SELECT leaf_data FROM audit_log WHERE idx = 0"))
            .value_or(""));
    size_t pos = body.find("123451");
    EXPECT_NE(pos, std::string::npos);
    if (pos == std::string::npos) return Hash{};
    body[pos] = '9';
    auto ev = DecodeEvent(body);
    EXPECT_TRUE(ev.has_value());
    if (!ev) return Hash{};
    std::string leaf = audit::EventLeafData(*ev, def_hash_);
    Hash h = audit::LeafHash(leaf);
    raw.ExecWith("UPDATE events SET body = ?1 WHERE instance = 1 AND version = 1", body);
    raw.ExecWith("UPDATE audit_log SET leaf_data = ?1 WHERE idx = 0", leaf, true);
    raw.ExecWith("UPDATE audit_log SET leaf_hash = ?1 WHERE idx = 0",
                 std::string(reinterpret_cast<char*>(h.data()), 32), true);
    return h;
  }

  TempDir dir_;
  std::string path_;
  audit::SigningKey key_;
  std::string def_hash_;
};

// The same log in a database from before schema migration 10: every event
// also a row of the events table, which the store no longer reads or
// writes, but CheckIntegrity and `audit verify` still hold to its leaf.
class SqliteLegacyTamperTest : public SqliteTamperTest {
 protected:
  void SetUp() override {
    SqliteTamperTest::SetUp();
    if (HasFatalFailure()) return;
    DowngradeToEventsTable(path_);
    ASSERT_FALSE(HasFailure());
    auto store = MustOpen(path_);
    ASSERT_NE(store, nullptr);
    ASSERT_EQ(Integrity(*store), "ok");
    ASSERT_EQ(Verify(*store), "ok") << "the untouched log must verify";
    RawDb raw(path_);
    ASSERT_EQ(raw.Int("SELECT count(*) FROM events"), 12);
    ASSERT_EQ(raw.Int("SELECT leaf FROM events_end"), 15);
  }
};

// Leaf layout: round v (1..3) holds events (i, v) for i = 1..4 at leaves
// 5(v-1) .. 5(v-1)+3 and a login record at 5(v-1)+4.

// Changes one byte of event (2, 2) as its leaf 6 stores it: the amount.
void ChangeAmountOfLeafSix(RawDb& raw) {
  std::string leaf = raw.Text("SELECT leaf_data FROM audit_log WHERE idx = 6");
  size_t pos = leaf.find("123452");  // the amount in fen
  ASSERT_NE(pos, std::string::npos) << leaf;
  leaf[pos] = '9';
  raw.ExecWith("UPDATE audit_log SET leaf_data = ?1 WHERE idx = 6", leaf, true);
}

TEST_F(SqliteTamperTest, ChangingOneByteOfAnEventIsNamed) {
  ChangeAmountOfLeafSix(*Tamper());
  ASSERT_FALSE(HasFailure());
  auto store = MustOpen(path_);
  // The engine would now read 9234.52 yuan: still valid, so only the audit
  // log shows that it changed.
  EXPECT_EQ(store->LoadEvents(InstanceId{2})->at(1).data.at("amount").as_money(),
            Money{923452});
  EXPECT_THAT(Verify(*store),
              HasSubstr("FAILED leaf_hash_mismatch leaf 6 instance 2 version 2"));
  EXPECT_THAT(VerifyDecoding(*store),
              HasSubstr("FAILED leaf_hash_mismatch leaf 6 instance 2 version 2"));
  EXPECT_THAT(Integrity(*store), HasSubstr("audit leaf 6 (instance 2 version 2): the stored "
                                           "leaf hash is not the hash"));
}

TEST_F(SqliteLegacyTamperTest, ChangingOneByteOfAnEventRowIsNamed) {
  {
    auto raw = Tamper();
    std::string body =
        raw->Text("SELECT body FROM events WHERE instance = 2 AND version = 2");
    size_t pos = body.find("123452");  // the amount in fen
    ASSERT_NE(pos, std::string::npos) << body;
    body[pos] = '9';
    raw->ExecWith("UPDATE events SET body = ?1 WHERE instance = 2 AND version = 2", body);
  }
  auto store = MustOpen(path_);
  // The engine reads the event from its leaf, untouched.
  EXPECT_EQ(store->LoadEvents(InstanceId{2})->at(1).data.at("amount").as_money(),
            Money{123452});
  EXPECT_THAT(Verify(*store),
              HasSubstr("FAILED event_mismatch leaf 6 instance 2 version 2"));
  EXPECT_THAT(Integrity(*store), HasSubstr("audit leaf 6 (instance 2 version 2)"));
}

TEST_F(SqliteTamperTest, DeletingTheLastEventOfAnInstanceIsNamed) {
  Tamper()->Exec("DELETE FROM audit_log WHERE idx = 12");
  auto store = MustOpen(path_);
  EXPECT_THAT(Verify(*store), HasSubstr("FAILED leaf_missing leaf 12"));
  EXPECT_THAT(Integrity(*store), HasSubstr("audit leaf 12 is missing"));
}

TEST_F(SqliteLegacyTamperTest, DeletingTheLastEventRowOfAnInstanceIsNamed) {
  Tamper()->Exec("DELETE FROM events WHERE instance = 3 AND version = 3");
  auto store = MustOpen(path_);
  EXPECT_THAT(Verify(*store),
              HasSubstr("FAILED event_missing leaf 12 instance 3 version 3"));
  EXPECT_THAT(Integrity(*store), HasSubstr("instance 3 version 3"));
}

TEST_F(SqliteTamperTest, DeletingAMiddleEventBreaksTheHistoryAndIsNamed) {
  Tamper()->Exec("DELETE FROM audit_log WHERE idx = 7");  // event (3, 2)
  auto store = MustOpen(path_);
  auto events = store->LoadEvents(InstanceId{3});
  ASSERT_FALSE(events.has_value());
  EXPECT_EQ(events.error().code, ErrorCode::kInternal);
  EXPECT_EQ(events.error().reason, "corrupt_history");
  EXPECT_THAT(events.error().message, HasSubstr("instance 3"));
  EXPECT_THAT(events.error().message, HasSubstr("follows version 1"));
  EXPECT_THAT(Verify(*store), HasSubstr("FAILED leaf_missing leaf 7"));
  EXPECT_THAT(VerifyDecoding(*store), HasSubstr("FAILED leaf_missing leaf 7"));
  EXPECT_THAT(Integrity(*store), HasSubstr("audit leaf 7 is missing"));
}

TEST_F(SqliteLegacyTamperTest, DeletingAMiddleEventRowIsNamed) {
  Tamper()->Exec("DELETE FROM events WHERE instance = 3 AND version = 2");
  auto store = MustOpen(path_);
  EXPECT_EQ(store->LoadEvents(InstanceId{3}).value().size(), 3u);
  EXPECT_THAT(Verify(*store), HasSubstr("FAILED event_missing leaf 7 instance 3 version 2"));
  EXPECT_THAT(Integrity(*store), HasSubstr("audit leaf 7 (instance 3 version 2)"));
}

TEST_F(SqliteTamperTest, SwappingTwoEventsIsNamed) {
  {
    // Leaves 3 and 8 hold events (4, 1) and (4, 2).
    auto raw = Tamper();
    std::string v1 = raw->Text("SELECT leaf_data FROM audit_log WHERE idx = 3");
    std::string v2 = raw->Text("SELECT leaf_data FROM audit_log WHERE idx = 8");
    raw->ExecWith("UPDATE audit_log SET leaf_data = ?1 WHERE idx = 3", v2, true);
    raw->ExecWith("UPDATE audit_log SET leaf_data = ?1 WHERE idx = 8", v1, true);
  }
  auto store = MustOpen(path_);
  auto events = store->LoadEvents(InstanceId{4});
  ASSERT_FALSE(events.has_value());
  EXPECT_EQ(events.error().reason, "corrupt_history");
  EXPECT_THAT(Verify(*store),
              HasSubstr("FAILED leaf_hash_mismatch leaf 3 instance 4 version 1"));
  EXPECT_THAT(VerifyDecoding(*store),
              HasSubstr("FAILED leaf_hash_mismatch leaf 3 instance 4 version 1"));
  EXPECT_THAT(Integrity(*store), HasSubstr("audit leaf 3 (instance 4 version 1)"));
}

TEST_F(SqliteLegacyTamperTest, SwappingTwoEventRowsIsNamed) {
  {
    auto raw = Tamper();
    std::string v1 =
        raw->Text("SELECT body FROM events WHERE instance = 4 AND version = 1");
    std::string v2 =
        raw->Text("SELECT body FROM events WHERE instance = 4 AND version = 2");
    raw->ExecWith("UPDATE events SET body = ?1 WHERE instance = 4 AND version = 1", v2);
    raw->ExecWith("UPDATE events SET body = ?1 WHERE instance = 4 AND version = 2", v1);
  }
  auto store = MustOpen(path_);
  EXPECT_EQ(store->LoadEvents(InstanceId{4}).value().size(), 3u);
  EXPECT_THAT(Verify(*store), HasSubstr("FAILED event_mismatch leaf 3 instance 4 version 1"));
  EXPECT_THAT(Integrity(*store), HasSubstr("audit leaf 3 (instance 4 version 1)"));
}

TEST_F(SqliteTamperTest, DeletingAnAuditRowIsNamed) {
  Tamper()->Exec("DELETE FROM audit_log WHERE idx = 9");
  auto store = MustOpen(path_);
  EXPECT_THAT(Verify(*store), HasSubstr("FAILED leaf_missing leaf 9"));
  EXPECT_THAT(Integrity(*store), HasSubstr("audit leaf 9 is missing"));
}

TEST_F(SqliteTamperTest, ReorderingTwoAuditRowsIsNamed) {
  {
    auto raw = Tamper();
    // Leaves 10 and 11: events (1, 3) and (2, 3).
    ASSERT_EQ(raw->Exec("UPDATE audit_log SET idx = -1 WHERE idx = 10"), SQLITE_OK);
    ASSERT_EQ(raw->Exec("UPDATE audit_log SET idx = 10 WHERE idx = 11"), SQLITE_OK);
    ASSERT_EQ(raw->Exec("UPDATE audit_log SET idx = 11 WHERE idx = -1"), SQLITE_OK);
  }
  auto store = MustOpen(path_);
  // Level 0 of the stored tree is audit_log.leaf_hash itself (migration 8),
  // which moved with the rows: the first stored node that disagrees is the
  // one over the swapped pair, seen when leaf 11 is added.
  EXPECT_THAT(Verify(*store),
              HasSubstr("FAILED leaf_replaced leaf 11 instance 1 version 3"));
  EXPECT_THAT(Integrity(*store),
              HasSubstr("Merkle node (level 1, index 5) over leaves 10..11 "
                        "differs"));
}

TEST_F(SqliteTamperTest, RewritingEventLeafAndTreeTogetherIsCaughtBySignedCheckpoint) {
  {
    // The operator changes event (1, 1), its leaf and hash, and recomputes
    // every Merkle node: only the signed checkpoints still disagree.
    auto raw = Tamper();
    ForgeFirstEventWithAFreshLeafHash(*raw);
    ASSERT_FALSE(HasFailure());
    ASSERT_EQ(raw->Exec("DELETE FROM merkle_tree"), SQLITE_OK);
    audit::TreeAppender tree;
    for (int64_t i = 0; i < 15; ++i) {
      std::string lh =
          raw->Text("SELECT leaf_hash FROM audit_log WHERE idx = " + std::to_string(i));
      Hash leaf_hash;
      std::memcpy(leaf_hash.data(), lh.data(), 32);
      for (const audit::NodeWrite& w : tree.Append(leaf_hash)) {
        if (w.ref.level == 0) continue;  // audit_log.leaf_hash
        raw->ExecWith(
            "INSERT INTO merkle_tree VALUES (" + std::to_string(NodePos(w.ref)) + ", ?1)",
            std::string(reinterpret_cast<const char*>(w.hash.data()), 32), true);
      }
    }
  }
  auto store = MustOpen(path_);
  // The signed checkpoint at 8 no longer matches; with the tree rewritten
  // too, the verifier can only say which checkpoint's range was altered.
  EXPECT_THAT(Verify(*store), HasSubstr("FAILED checkpoint_mismatch"));
  EXPECT_THAT(Verify(*store), HasSubstr("some leaf in 0..7"));
  EXPECT_THAT(Integrity(*store), HasSubstr("checkpoint at size 8 has root"));
}

TEST_F(SqliteTamperTest, AlteredMerkleNodeOnTheRootPathIsNamed) {
  // Node (3, 0) covers leaves 0..7 and is part of the root at size 15.
  Tamper()->Exec("UPDATE merkle_tree SET hash = zeroblob(32) WHERE pos = " +
                 std::to_string(NodePos({3, 0})));
  auto store = MustOpen(path_);
  EXPECT_THAT(Verify(*store), HasSubstr("tree_mismatch"));
  EXPECT_THAT(Integrity(*store), HasSubstr("Merkle node (level 3, index 0)"));
}

TEST_F(SqliteTamperTest, EventLeafRewrittenWithAFreshHashIsCaughtByTheTree) {
  Hash h{};
  {
    // The operator changes event (1, 1), its leaf and its leaf hash, but not
    // the Merkle nodes. Level 0 of the stored tree is the rewritten hash
    // itself (migration 8); the node over leaves 0..1 still holds the
    // original, and so do the signed checkpoints.
    auto raw = Tamper();
    h = ForgeFirstEventWithAFreshLeafHash(*raw);
    ASSERT_FALSE(HasFailure());
  }
  auto store = MustOpen(path_);
  // The stored tree has no second copy of leaf 0's hash: the first root of
  // the store that differs from the recomputed one is the root of size 2,
  // so the verifier names leaf 1, the second of the pair the changed node
  // covers, and says that leaf 0 may be the one changed.
  EXPECT_THAT(Verify(*store),
              HasSubstr("FAILED leaf_replaced leaf 1 instance 2 version 1"));
  EXPECT_THAT(Verify(*store),
              HasSubstr("(or at position 0: the store's node over leaves 0..1 is "
                        "the first to disagree"));
  EXPECT_THAT(Verify(*store), HasSubstr("signed checkpoint of size 8 does not match"));
  EXPECT_THAT(Integrity(*store),
              HasSubstr("Merkle node (level 1, index 0) over leaves 0..1 differs"));
  // A proof for the rewritten leaf fails against the signed checkpoint.
  auto cp = store->LatestCheckpoint().value().value();
  auto proof = store->InclusionProof(0, cp.size);
  ASSERT_TRUE(proof.has_value());
  EXPECT_FALSE(audit::VerifyInclusion(h, 0, cp.size, *proof, cp.root));
}

TEST_F(SqliteTamperTest, AlteredInteriorMerkleNodeIsNamed) {
  // Node (1, 2) covers leaves 4..5. No root at a size >= 8 uses it, only
  // proofs do: the proofs it yields fail against the signed checkpoint, and
  // CheckIntegrity names it.
  Tamper()->Exec("UPDATE merkle_tree SET hash = zeroblob(32) WHERE pos = " +
                 std::to_string(NodePos({1, 2})));
  auto store = MustOpen(path_);
  EXPECT_THAT(Integrity(*store), HasSubstr("Merkle node (level 1, index 2)"));
  auto cp = store->LatestCheckpoint().value().value();
  auto leaves = store->QueryAudit(AuditQuery{});
  auto proof = store->InclusionProof(6, cp.size);
  ASSERT_TRUE(proof.has_value());
  EXPECT_FALSE(
      audit::VerifyInclusion((*leaves)[6].leaf_hash, 6, cp.size, *proof, cp.root));
}

TEST_F(SqliteTamperTest, EventAddedBehindTheLogsBackIsNamed) {
  {
    auto raw = Tamper();
    Event e = storetest::MakeEvent(4);
    e.instance = InstanceId{2};
    raw->ExecWith(
        "INSERT INTO events VALUES (2, 4, 0, 'approved', 'li', '', "
        "'line1', ?1)",
        EncodeEvent(e));
    ASSERT_EQ(raw->Exec("UPDATE instances SET version = 4 WHERE id = 2"), SQLITE_OK);
  }
  auto store = MustOpen(path_);
  EXPECT_THAT(Verify(*store), HasSubstr("event_not_logged"));
  EXPECT_THAT(Integrity(*store),
              HasSubstr("event instance 2 version 4 in the events table has no audit leaf"));
}

TEST_F(SqliteTamperTest, EventsOfAnInstanceTheLogNeverMentionsAreFound) {
  {
    auto raw = Tamper();
    Event e = storetest::MakeEvent(1);
    e.instance = InstanceId{99};
    raw->ExecWith("INSERT INTO events VALUES (99, 1, 0, 'submitted', 'li', '', '', ?1)",
                  EncodeEvent(e));
  }
  auto store = MustOpen(path_);
  EXPECT_THAT(Verify(*store), HasSubstr("FAILED event_not_logged"));
  EXPECT_THAT(Verify(*store), HasSubstr("the store holds 13 events"));
  EXPECT_THAT(Integrity(*store),
              HasSubstr("event instance 99 version 1 in the events table has no audit leaf"));
}

TEST_F(SqliteLegacyTamperTest, EventRowsMovedWithTheirLeavesColumnsAreNamed) {
  {
    // Leaves 0 and 1 record events (1, 1) and (2, 1). The operator swaps
    // the two event rows and relabels the two leaves' instance columns to
    // match: every leaf's bytes still equal "its" event's bytes, but the
    // event stored as (2, 1) is instance 1's.
    auto raw = Tamper();
    std::string a = raw->Text("SELECT body FROM events WHERE instance = 1 AND version = 1");
    std::string b = raw->Text("SELECT body FROM events WHERE instance = 2 AND version = 1");
    raw->ExecWith("UPDATE events SET body = ?1 WHERE instance = 1 AND version = 1", b);
    raw->ExecWith("UPDATE events SET body = ?1 WHERE instance = 2 AND version = 1", a);
    ASSERT_EQ(raw->Exec("UPDATE audit_log SET instance = -1 WHERE idx = 0"), SQLITE_OK)
        << raw->last_error();
    ASSERT_EQ(raw->Exec("UPDATE audit_log SET instance = 1 WHERE idx = 1"), SQLITE_OK);
    ASSERT_EQ(raw->Exec("UPDATE audit_log SET instance = 2 WHERE idx = 0"), SQLITE_OK);
  }
  auto store = MustOpen(path_);
  EXPECT_THAT(Verify(*store), HasSubstr("FAILED event_mismatch leaf 0 instance 2 version 1"));
  EXPECT_THAT(Verify(*store), HasSubstr("rows were moved"));
  EXPECT_THAT(VerifyDecoding(*store), HasSubstr("FAILED event_mismatch leaf 0"));
}

TEST_F(SqliteTamperTest, ChangedOrMissingDefinitionIsNamedWithItsFirstEvent) {
  Tamper()->Exec("UPDATE definitions SET source = source || '# relaxed' WHERE workflow = 'expense'");
  {
    auto store = MustOpen(path_);
    EXPECT_THAT(Verify(*store),
                HasSubstr("FAILED definition_mismatch leaf 0 instance 1 version 1"));
    EXPECT_THAT(Verify(*store), HasSubstr("no longer hashes to " + def_hash_));
  }
  ASSERT_EQ(RawDb(path_).Exec("DELETE FROM definitions"), SQLITE_OK);
  auto store = MustOpen(path_);
  EXPECT_THAT(Verify(*store), HasSubstr("FAILED definition_missing leaf 0 instance 1 version 1"));
}

TEST_F(SqliteTamperTest, DamagedFilePagesFailSqlitesOwnCheck) {
  int64_t root = 0;
  {
    auto store = MustOpen(path_);
    EXPECT_TRUE(store->CheckSqliteIntegrity(false));
    EXPECT_TRUE(store->CheckSqliteIntegrity(true));
  }  // closed: the WAL is copied back into the file and removed
  {
    RawDb raw(path_);
    root = raw.Int("SELECT rootpage FROM sqlite_master WHERE name = 'audit_by_time'");
    ASSERT_EQ(raw.Int("PRAGMA page_size"), 4096);
  }
  ASSERT_GT(root, 1);
  ASSERT_FALSE(std::filesystem::exists(path_ + "-wal"));
  {
    // Garbage over one page of an index the log's own checks never read.
    FILE* f = std::fopen(path_.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fseek(f, (root - 1) * 4096, SEEK_SET), 0);
    std::string garbage(4096, '\x5a');
    ASSERT_EQ(std::fwrite(garbage.data(), 1, garbage.size(), f), garbage.size());
    std::fclose(f);
  }
  auto store = MustOpen(path_);
  ASSERT_NE(store, nullptr);
  for (bool full : {false, true}) {
    auto s = store->CheckSqliteIntegrity(full);
    ASSERT_FALSE(s.has_value()) << "full " << full;
    EXPECT_EQ(s.error().code, ErrorCode::kInternal);
    EXPECT_EQ(s.error().reason, "sqlite_integrity");
    EXPECT_THAT(s.error().message, HasSubstr(full ? "integrity_check" : "quick_check"));
  }
}

TEST_F(SqliteTamperTest, ProjectionOutOfStepWithEventsIsNamed) {
  Tamper()->Exec("UPDATE instances SET version = 7 WHERE id = 1");
  auto store = MustOpen(path_);
  EXPECT_THAT(Integrity(*store),
              HasSubstr("instance 1: its row says version 7 but it has 3 events"));
}

// An event that refers to an attachment carries its SHA-256 address, so the
// leaf commits to the file's content: pointing the event at other bytes
// (here a forged file stored under its own, correct address) breaks
// `audit verify` at that event.
TEST_F(SqliteTamperTest, AttachmentHashIsPartOfTheEventAndChangingItIsNamed) {
  std::string original;
  std::string forged;
  {
    auto store = MustOpen(path_);
    original = *store->PutAttachment("scanned invoice No. 4471", 1000);
    forged = *store->PutAttachment("scanned invoice No. 9999", 1000);
    AppendRequest r = Continue(InstanceId{1}, 3);
    r.row.def_hash = def_hash_;
    r.events[0].data["invoice"] = Value::Str(original);
    ASSERT_TRUE(store->Append(r));
    AuditQuery q;
    q.instance = InstanceId{1};
    q.after_index = 14;
    auto leaves = store->QueryAudit(q);
    ASSERT_TRUE(leaves.has_value());
    ASSERT_EQ(leaves->size(), 1u);
    EXPECT_EQ((*leaves)[0].index, 15);
    EXPECT_THAT((*leaves)[0].leaf_data, HasSubstr("\"invoice\":\"" + original + "\""));
    EXPECT_EQ(Verify(*store), "ok");
  }
  {
    auto raw = Tamper();
    std::string leaf = raw->Text("SELECT leaf_data FROM audit_log WHERE idx = 15");
    size_t pos = leaf.find(original);
    ASSERT_NE(pos, std::string::npos) << leaf;
    leaf.replace(pos, original.size(), forged);
    raw->ExecWith("UPDATE audit_log SET leaf_data = ?1 WHERE idx = 15", leaf, true);
  }
  auto store = MustOpen(path_);
  EXPECT_EQ(store->LoadEvents(InstanceId{1})->at(3).data.at("invoice").as_string(), forged);
  EXPECT_THAT(Verify(*store),
              HasSubstr("FAILED leaf_hash_mismatch leaf 15 instance 1 version 4"));
  EXPECT_THAT(VerifyDecoding(*store),
              HasSubstr("FAILED leaf_hash_mismatch leaf 15 instance 1 version 4"));
}

TEST_F(SqliteTamperTest, CorruptedAttachmentIsRefused) {
  std::string addr;
  {
    auto store = MustOpen(path_);
    addr = *store->PutAttachment("original invoice", 1000);
  }
  Tamper()->ExecWith("UPDATE attachments SET bytes = ?1", "forged invoice!!", true);
  auto store = MustOpen(path_);
  auto got = store->GetAttachment(addr);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, ErrorCode::kInternal);
  EXPECT_EQ(got.error().reason, "attachment_corrupt");
}

// The events a verifier counts are those of the snapshot the log size was
// read in: an event committed while the count runs has its leaf beyond the
// size and is not counted; the connection is usable (and maps the file)
// afterwards.
TEST(SqliteStoreTest, CountEventsWithAuditSizeCountsInTheSnapshotOfTheSize) {
  TempDir dir;
  SqliteOptions opt;
  opt.reader_mmap_bytes = int64_t{1} << 30;
  opt.read_connections = 1;  // the count's connection is the one checked below
  auto store = MustOpen(dir.File("count.db"), opt);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Append(Submit("expense", "zhang", 3)));
  ASSERT_TRUE(store->Append(Submit()));
  const int64_t size_before = store->AuditSize().value();
  int64_t size_seen = -1;
  auto counted = store->CountEventsWithAuditSize([&](int64_t n) {
    size_seen = n;
    // Committed by the writer while the reader's snapshot is open.
    EXPECT_TRUE(store->Append(Submit("expense", "li", 2)));
  });
  ASSERT_TRUE(counted.has_value()) << counted.error().ToString();
  EXPECT_EQ(size_seen, size_before);
  EXPECT_EQ(*counted, 4);
  EXPECT_EQ(store->CountEvents().value(), 6);
  EXPECT_EQ(store->AuditSize().value(), size_before + 2);
  // The one read connection still maps the file and reads.
  auto leaves = 0;
  ASSERT_TRUE(store->ScanAuditLeaves(0, true, [&](const AuditLeafView& v) {
    EXPECT_TRUE(v.event_body.has_value());
    ++leaves;
    return true;
  }));
  EXPECT_EQ(leaves, 6);
  EXPECT_EQ(store->ReaderSettingsForTesting().value().mmap_size, opt.reader_mmap_bytes);
}

// audit verify with several reading threads (VerifyOptions::read_threads),
// each on its own read connection and its own chunks of leaf indexes: for a
// row deleted, a leaf byte changed, an event byte changed, an event deleted
// and two rows reordered at every leaf of the log, the report (code, leaf,
// message, counts) is the single thread's, whatever the chunk size puts
// the damage at the start, middle or end of a chunk, or past the last one.
// (A database from before schema migration 10, so that an event byte can
// change and an event disappear without touching its leaf.)
TEST_F(SqliteLegacyTamperTest, ReadingThreadsNameTheSameFailureAtEveryChunkPosition) {
  const std::string copy = dir_.File("case.db");
  auto report = [&](Store& store, const audit::VerifyOptions& o) {
    auto r = audit::VerifyLog(store, audit::LogKey{kOrigin, key_.public_key()}, o);
    if (!r) return "ERROR " + r.error().ToString();
    return r->Summary() + " [" + std::to_string(r->entries_checked) + " " +
           std::to_string(r->events_checked) + " " + std::to_string(r->checkpoints_checked) +
           " " + (r->failure ? std::to_string(r->failure->index) : "-") + "]";
  };
  const int64_t size = 15;
  int cases = 0;
  for (int64_t p = 0; p < size; ++p) {
    for (int kind = 0; kind < 5; ++kind) {
      for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(copy + suffix);
      std::filesystem::copy_file(path_, copy);
      {
        RawDb raw(copy);
        raw.DropTriggers();
        const std::string at = " WHERE idx = " + std::to_string(p);
        const int64_t instance = raw.Int("SELECT ifnull(instance, 0) FROM audit_log" + at);
        const int64_t version = raw.Int("SELECT ifnull(version, 0) FROM audit_log" + at);
        const std::string event = " WHERE instance = " + std::to_string(instance) +
                                  " AND version = " + std::to_string(version);
        if (kind == 0) {
          ASSERT_EQ(raw.Exec("DELETE FROM audit_log" + at), SQLITE_OK);
        } else if (kind == 1) {
          std::string leaf = raw.Text("SELECT leaf_data FROM audit_log" + at);
          leaf[leaf.size() / 2] ^= 1;
          raw.ExecWith("UPDATE audit_log SET leaf_data = ?1" + at, leaf, true);
        } else if (kind == 2 && instance > 0) {
          std::string body = raw.Text("SELECT body FROM events" + event);
          body[body.size() / 2] ^= 1;
          raw.ExecWith("UPDATE events SET body = ?1" + event, body);
        } else if (kind == 3 && instance > 0) {
          ASSERT_EQ(raw.Exec("DELETE FROM events" + event), SQLITE_OK);
        } else if (kind == 4 && p + 1 < size) {
          const std::string next = std::to_string(p + 1);
          ASSERT_EQ(raw.Exec("UPDATE audit_log SET idx = -1" + at), SQLITE_OK);
          ASSERT_EQ(raw.Exec("UPDATE audit_log SET idx = " + std::to_string(p) +
                             " WHERE idx = " + next),
                    SQLITE_OK);
          ASSERT_EQ(raw.Exec("UPDATE audit_log SET idx = " + next + " WHERE idx = -1"),
                    SQLITE_OK);
        } else {
          continue;  // no event at this leaf, or no next row
        }
      }
      auto store = MustOpen(copy);
      ASSERT_TRUE(store);
      audit::VerifyOptions single;
      single.pipeline = false;
      const std::string expected = report(*store, single);
      EXPECT_THAT(expected, HasSubstr("FAILED")) << "leaf " << p << " tamper " << kind;
      for (int threads : {1, 2, 3}) {
        // (0 and -2 count as 1.)
        for (int64_t chunk : {1, 2, 3, 4, 5, 7, 16, 0, -2}) {
          audit::VerifyOptions o;
          o.read_threads = threads;
          o.read_chunk = chunk;
          EXPECT_EQ(report(*store, o), expected)
              << "leaf " << p << " tamper " << kind << ", " << threads << " threads, chunks of "
              << chunk;
        }
      }
      ++cases;
    }
  }
  EXPECT_GE(cases, 50);
}

// The verifier reads SQLite's leaves without their time, type and actor
// (ScanAuditLeavesUnnamed) and reads them for the failing leaf only: every
// report, on every path (one thread, 1-2 reading threads), is the one a
// scan that names every leaf yields (FailingStore passes ScanAuditLeaves
// through and has no unnamed scan), including the altered time, type and
// actor columns of the leaf it names and a definition's first event.
TEST_F(SqliteLegacyTamperTest, FailuresNameTheirLeafAsAScanThatNamesEveryLeaf) {
  const std::string copy = dir_.File("case.db");
  auto report = [&](Store& store, const audit::VerifyOptions& o) {
    auto r = audit::VerifyLog(store, audit::LogKey{kOrigin, key_.public_key()}, o);
    if (!r) return "ERROR " + r.error().ToString();
    return r->Summary() + " [" + (r->failure ? std::to_string(r->failure->index) : "-") +
           "]";
  };
  const int64_t size = 15;
  int cases = 0;
  for (int64_t p = 0; p < size; ++p) {
    for (int kind = 0; kind < 4; ++kind) {
      for (const char* suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(copy + suffix);
      std::filesystem::copy_file(path_, copy);
      {
        RawDb raw(copy);
        raw.DropTriggers();
        const std::string at = " WHERE idx = " + std::to_string(p);
        const int64_t instance =
            raw.Int("SELECT ifnull(instance, 0) FROM audit_log" + at);
        const int64_t version = raw.Int("SELECT ifnull(version, 0) FROM audit_log" + at);
        const std::string event = " WHERE instance = " + std::to_string(instance) +
                                  " AND version = " + std::to_string(version);
        if (kind == 0 || kind == 1) {
          // The leaf's data changed, and (1) its naming columns too.
          std::string leaf = raw.Text("SELECT leaf_data FROM audit_log" + at);
          leaf[leaf.size() / 2] ^= 1;
          raw.ExecWith("UPDATE audit_log SET leaf_data = ?1" + at, leaf, true);
          if (kind == 1) {
            ASSERT_EQ(raw.Exec("UPDATE audit_log SET type = 'altered', actor = 'mallory',"
                               " at = 1600000000000" +
                               at),
                      SQLITE_OK);
          }
        } else if (kind == 2 && instance > 0) {
          std::string body = raw.Text("SELECT body FROM events" + event);
          body[body.size() / 2] ^= 1;
          raw.ExecWith("UPDATE events SET body = ?1" + event, body);
        } else if (kind == 3 && p == 0) {
          ASSERT_EQ(raw.Exec("DELETE FROM definitions"), SQLITE_OK);
        } else {
          continue;
        }
      }
      auto store = MustOpen(copy);
      ASSERT_TRUE(store);
      FailingStore named(*store);
      for (int threads : {0, 1, 2}) {
        audit::VerifyOptions o;
        o.pipeline = threads > 0;
        o.read_threads = threads;
        o.read_chunk = 4;
        const std::string expected = report(named, o);
        EXPECT_THAT(expected, HasSubstr("FAILED")) << "leaf " << p << " tamper " << kind;
        EXPECT_EQ(report(*store, o), expected)
            << "leaf " << p << " tamper " << kind << ", " << threads << " threads";
        if (kind == 1) {
          EXPECT_THAT(report(*store, o),
                      HasSubstr("\"altered\" by mallory at 2020-09-13 20:26:40 UTC+8"));
        }
      }
      ++cases;
    }
  }
  EXPECT_GE(cases, 40);
}

// An event is stored once, in its audit leaf (schema migration 10): the
// writer runs no statement on the events table, which stays empty; an
// instance's events, its latest version (a stale append is refused with the
// stored one) and the next instance id come from the audit log.
TEST(SqliteStoreTest, AnAppendStoresEachEventOnlyInItsLeaf) {
  TempDir dir;
  const std::string path = dir.File("a.db");
  auto store = MustOpen(path);
  auto a = store->Append(Submit());
  ASSERT_TRUE(a) << a.error().ToString();
  const InstanceId id = a->instance;
  ASSERT_TRUE(store->Append(Continue(id, 1, 3)));
  auto six = store->Append(Continue(id, 4, 6));
  ASSERT_TRUE(six) << six.error().ToString();
  EXPECT_EQ(six->version, 10);
  EXPECT_EQ(six->first_leaf, 4);
  auto stale = store->Append(Continue(id, 9));
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
  EXPECT_THAT(stale.error().message, HasSubstr("10"));
  auto next = store->Append(Submit());
  ASSERT_TRUE(next) << next.error().ToString();
  EXPECT_EQ(next->instance.value, id.value + 1);

  auto runs = store->WriterStatementRunsForTesting();
  ASSERT_TRUE(runs) << runs.error().ToString();
  // (events_end, read at open, is another table.)
  auto names_events = [](const std::string& sql) {
    for (size_t at = sql.find(" events"); at != std::string::npos;
         at = sql.find(" events", at + 1)) {
      const size_t end = at + 7;
      if (end == sql.size() || !(std::isalnum(static_cast<unsigned char>(sql[end])) ||
                                 sql[end] == '_'))
        return true;
    }
    return false;
  };
  for (const auto& [sql, n] : *runs) EXPECT_FALSE(names_events(sql)) << sql;
  EXPECT_EQ(RawDb(path).Int("SELECT count(*) FROM events"), 0);

  auto events = store->LoadEvents(id);
  ASSERT_TRUE(events) << events.error().ToString();
  ASSERT_EQ(events->size(), 10u);
  AuditQuery q;
  q.instance = id;
  auto leaves = store->QueryAudit(q);
  ASSERT_TRUE(leaves) << leaves.error().ToString();
  ASSERT_EQ(leaves->size(), 10u);
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ((*events)[i].version, static_cast<int64_t>(i) + 1);
    EXPECT_EQ(audit::EventBytesOfLeaf((*leaves)[i].leaf_data), EncodeEvent((*events)[i]));
  }
  EXPECT_TRUE(store->CheckIntegrity()) << store->CheckIntegrity().error().ToString();
}

// A request refused at its second leaf (a leaf index another connection
// took), after its first leaf was written, leaves none of its rows, while a
// batch-mate behind it commits.
TEST(SqliteStoreTest, ARequestRefusedAtItsSecondLeafLeavesNothingOfItsRequest) {
  TempDir dir;
  const std::string path = dir.File("a.db");
  auto store = MustOpen(path);
  auto a = store->Append(Submit("expense", "hu"));
  auto b = store->Append(Submit("expense", "li"));
  ASSERT_TRUE(a && b);
  {
    // Leaf 3 taken behind the store's back: the next request's leaves 2, 3, 4
    // fail at their second row.
    RawDb raw(path);
    ASSERT_EQ(raw.Exec("INSERT INTO audit_log (idx, kind, at, type, actor, def_hash,"
                       " leaf_data, leaf_hash)"
                       " VALUES (3, 'record', 0, 'x', 'y', '', x'00', zeroblob(32))"),
              SQLITE_OK)
        << raw.last_error();
  }
  Result<AppendResult> refused, mate;
  store->PauseWriterForTesting();
  std::thread t1([&] { refused = store->Append(Continue(a->instance, 1, 3)); });
  while (store->QueuedWritesForTesting() < 1)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::thread t2([&] { mate = store->Append(Continue(b->instance, 1)); });
  while (store->QueuedWritesForTesting() < 2)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  store->ResumeWriterForTesting();
  t1.join();
  t2.join();
  ASSERT_FALSE(refused);
  ASSERT_TRUE(mate) << mate.error().ToString();
  EXPECT_EQ(mate->first_leaf, 2);
  EXPECT_EQ(store->LoadEvents(a->instance).value().size(), 1u);
  RawDb raw(path);
  EXPECT_EQ(raw.Int("SELECT count(*) FROM audit_log WHERE instance = " +
                    std::to_string(a->instance.value)),
            1);
  EXPECT_EQ(raw.Int("SELECT instance FROM audit_log WHERE idx = 2"), b->instance.value);
  EXPECT_EQ(raw.Int("SELECT count(*) FROM audit_log"), 4);
}

}  // namespace
}  // namespace approvald
