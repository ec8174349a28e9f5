// The SQLite store's read and write paths that issue 3's throughput work
// changed: ScanAuditLeaves with events (each leaf's stored event and
// definition hash found by key on cursors that step forward or seek) and
// the events count over the narrow events_count index (migration 6), and
// the instances' next deadlines that the deadline scan reads (migration 7).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "approvald/event.h"
#include "audit/checkpoint.h"
#include "audit/leaf.h"
#include "audit/verify.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/read_ahead_vfs.h"
#include "store/sqlite/sqlite_store.h"
#include "sqlite_test_util.h"
#include "store_test_util.h"

namespace approvald {
namespace {

using storetest::Continue;
using storetest::Submit;
using storetest::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::unique_ptr<SqliteStore> MustOpen(const std::string& path) {
  SqliteOptions opt;
  opt.path = path;
  auto s = SqliteStore::Open(opt);
  EXPECT_TRUE(s.has_value()) << s.error().ToString();
  return s ? std::move(*s) : nullptr;
}

// A store whose read connections read through the read-ahead VFS, as
// `approvald audit verify` opens it.
std::unique_ptr<SqliteStore> MustOpenReadAhead(const std::string& path) {
  SqliteOptions opt;
  opt.path = path;
  opt.reader_read_ahead = true;
  auto s = SqliteStore::Open(opt);
  EXPECT_TRUE(s.has_value()) << s.error().ToString();
  return s ? std::move(*s) : nullptr;
}

// A connection as the sqlite3 shell would have it.
class Raw {
 public:
  explicit Raw(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Raw() { sqlite3_close(db_); }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;
  void Exec(const std::string& sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << sql << ": " << (err ? err : "");
    sqlite3_free(err);
  }
  // Every row of `sql`, its columns as text joined with '|'.
  std::vector<std::string> Rows(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
    std::vector<std::string> rows;
    while (st && sqlite3_step(st) == SQLITE_ROW) {
      std::string row;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        if (c) row += '|';
        const unsigned char* t = sqlite3_column_text(st, c);
        row += t ? reinterpret_cast<const char*>(t) : "NULL";
      }
      rows.push_back(row);
    }
    sqlite3_finalize(st);
    return rows;
  }

 private:
  sqlite3* db_ = nullptr;
};

// What ScanAuditLeaves(from, with_events) yields per leaf: index ->
// (event body or "-", definition hash or "-"); records are skipped.
std::map<int64_t, std::pair<std::string, std::string>> ScanFrom(SqliteStore& store,
                                                                int64_t from) {
  std::map<int64_t, std::pair<std::string, std::string>> out;
  auto s = store.ScanAuditLeaves(from, true, [&](const AuditLeafView& v) {
    if (v.kind == "event") {
      out[v.index] = {v.event_body ? std::string(*v.event_body) : "-",
                      v.instance_def_hash ? std::string(*v.instance_def_hash) : "-"};
    }
    return true;
  });
  EXPECT_TRUE(s.has_value()) << s.error().ToString();
  return out;
}

// The same, read with one SQL join per leaf (what the scan did before
// schema migration 10): below events_end the events row, from there on the
// event the leaf holds.
std::map<int64_t, std::pair<std::string, std::string>> JoinFrom(Raw& raw, int64_t from) {
  std::map<int64_t, std::pair<std::string, std::string>> out;
  const int64_t events_end = std::stoll(raw.Rows("SELECT leaf FROM events_end").at(0));
  for (const std::string& row :
       raw.Rows("SELECT a.idx, coalesce(i.def_hash, '-'), coalesce(e.body, '-') FROM "
                "audit_log a"
                " LEFT JOIN events e ON e.instance = a.instance AND e.version = a.version"
                " LEFT JOIN instances i ON i.id = a.instance"
                " WHERE a.kind = 'event' AND a.idx >= " +
                std::to_string(from) + " ORDER BY a.idx")) {
    size_t p1 = row.find('|');
    size_t p2 = row.find('|', p1 + 1);
    const int64_t idx = std::stoll(row.substr(0, p1));
    std::string event = row.substr(p2 + 1);
    if (idx >= events_end) {
      const std::string leaf =
          raw.Rows("SELECT leaf_data FROM audit_log WHERE idx = " + std::to_string(idx)).at(0);
      event = std::string(audit::EventBytesOfLeaf(leaf).value_or("-"));
    }
    out[idx] = {event, row.substr(p1 + 1, p2 - p1 - 1)};
  }
  return out;
}

// Instances whose events interleave in the log in a random order, runs of
// several events of one instance, audit records between them, and rows
// removed behind the store's back: the scan finds, for every leaf and from
// every starting index, exactly the rows a join by key finds. The first 120
// steps are written as before schema migration 10 (every event also in the
// events table), the rest after it (each event in its leaf only).
TEST(SqliteScanTest, LeavesCarryTheEventsAJoinWouldFindInAnyLogOrder) {
  TempDir dir;
  std::string path = dir.File("a.db");
  std::mt19937 rng(7);
  std::vector<std::pair<InstanceId, int64_t>> open;  // instance, version
  for (int part = 0; part < 2; ++part) {
    if (part == 1) {
      storetest::DowngradeToEventsTable(path);
      ASSERT_FALSE(HasFailure());
    }
    auto store = MustOpen(path);
    for (int step = 0; step < (part == 0 ? 120 : 80); ++step) {
      int pick = static_cast<int>(rng() % 4);
      if (open.empty() || pick == 0) {
        auto r =
            store->Append(Submit("expense", "zhang", 1 + static_cast<int>(rng() % 3)));
        ASSERT_TRUE(r) << r.error().ToString();
        open.emplace_back(r->instance, r->version);
      } else if (pick == 1) {
        AuditRecord rec;
        rec.type = "login";
        rec.actor = PersonId("li");
        rec.at = Timestamp{1700000000000 + part * 1000 + step};
        ASSERT_TRUE(store->AppendAudit(rec));
      } else {
        auto& [id, version] = open[rng() % open.size()];
        auto r = store->Append(Continue(id, version, 1 + static_cast<int>(rng() % 3)));
        ASSERT_TRUE(r) << r.error().ToString();
        version = r->version;
      }
    }
  }
  Raw raw(path);
  ASSERT_THAT(raw.Rows("SELECT leaf > 100 AND leaf < count(*) FROM events_end, audit_log"),
              ElementsAre("1"));
  raw.Exec("DROP TRIGGER events_append_only_d");
  raw.Exec("DROP TRIGGER events_closed");
  raw.Exec("DELETE FROM events WHERE instance = 3 AND version = 2");
  raw.Exec("DELETE FROM events WHERE instance = 5");
  raw.Exec("DELETE FROM instances WHERE id = 7");
  raw.Exec("UPDATE instances SET def_hash = 'sha256:other' WHERE id = 2");
  // A forged row with the largest version there is: nothing steps past it.
  raw.Exec(
      "INSERT INTO events VALUES (4, 9223372036854775807, 0, 'approved', 'li', '', "
      "'line1', 'forged')");
  auto store = MustOpen(path);
  auto size = store->AuditSize();
  ASSERT_TRUE(size);
  auto all = JoinFrom(raw, 0);
  ASSERT_GT(all.size(), 150u);
  EXPECT_EQ(all.count(0), 1u);
  int missing_events = 0, missing_instances = 0;
  for (const auto& [index, found] : all) {
    missing_events += found.first == "-";
    missing_instances += found.second == "-";
  }
  EXPECT_GT(missing_events, 1);
  EXPECT_GT(missing_instances, 0);
  for (int64_t from = 0; from <= *size; ++from) {
    auto want = JoinFrom(raw, from);
    ASSERT_EQ(ScanFrom(*store, from), want) << "scan from leaf " << from;
  }
}

// A scan callback that stops early leaves the store usable, and the next
// scan (same connection, statements reused) starts afresh.
TEST(SqliteScanTest, StoppedScansDoNotDisturbTheNext) {
  TempDir dir;
  auto store = MustOpen(dir.File("a.db"));
  for (int i = 0; i < 5; ++i) {
    auto r = store->Append(Submit("expense", "zhang", 3));
    ASSERT_TRUE(r);
  }
  for (int stop_after = 1; stop_after < 15; ++stop_after) {
    int seen = 0;
    ASSERT_TRUE(store->ScanAuditLeaves(0, true, [&](const AuditLeafView& v) {
      EXPECT_TRUE(v.event_body.has_value()) << v.index;
      return ++seen < stop_after;
    }));
    EXPECT_EQ(seen, stop_after);
    auto again = ScanFrom(*store, 14 - stop_after);
    EXPECT_EQ(again.size(), static_cast<size_t>(stop_after + 1));
    for (const auto& [index, found] : again) EXPECT_NE(found.first, "-") << index;
  }
}

// The stored events a verifier counts (Store::CountEvents): the events
// table's rows (migration 6: over its narrow index events_count) and the
// event leaves from events_end on (migration 10: over audit_by_instance's
// entries); neither count reads a table's rows. A row added to the events
// table with the sqlite3 shell is counted (SQLite keeps the index in step),
// and with the index dropped the count is still exact (it walks the table).
TEST(SqliteScanTest, EventsCountWalksNarrowIndexesAndCountsShellInserts) {
  TempDir dir;
  std::string path = dir.File("a.db");
  {
    auto store = MustOpen(path);
    ASSERT_TRUE(store->Append(Submit("expense", "zhang", 3)));
    ASSERT_TRUE(store->Append(Submit("expense", "zhang", 2)));
    EXPECT_EQ(store->CountEvents().value_or(-1), 5);
  }
  Raw raw(path);
  // The statement of CountEventsWithAuditSize, with its parameters bound.
  const std::string count =
      "SELECT (SELECT count(*) FROM events) +"
      " (SELECT count(*) FROM audit_log INDEXED BY audit_by_instance"
      " WHERE instance IS NOT NULL AND idx >= 0 AND idx < 5)";
  EXPECT_THAT(raw.Rows("EXPLAIN QUERY PLAN " + count),
              ::testing::IsSupersetOf({HasSubstr("COVERING INDEX events_count"),
                                       HasSubstr("COVERING INDEX audit_by_instance")}));
  EXPECT_THAT(raw.Rows(count), ElementsAre("5"));
  EXPECT_THAT(raw.Rows("SELECT name FROM schema_migrations WHERE version = 6"),
              ElementsAre("events_count_index"));
  Event e = storetest::MakeEvent(3);
  e.instance = InstanceId{2};
  raw.Exec("DROP TRIGGER events_closed");
  raw.Exec("INSERT INTO events VALUES (2, 3, 0, 'approved', 'li', '', 'line1', '" +
           EncodeEvent(e) + "')");
  {
    auto store = MustOpen(path);
    EXPECT_EQ(store->CountEvents().value_or(-1), 6);
    int64_t size = -1;
    EXPECT_EQ(store->CountEventsWithAuditSize([&](int64_t n) { size = n; }).value_or(-1),
              6);
    EXPECT_EQ(size, 5);
  }
  raw.Exec("DROP INDEX events_count");
  raw.Exec("INSERT INTO events VALUES (1, 4, 0, 'approved', 'li', '', 'line1', 'x')");
  EXPECT_THAT(raw.Rows("EXPLAIN QUERY PLAN " + count),
              ::testing::Not(::testing::Contains(HasSubstr("events_count"))));
  auto store = MustOpen(path);
  EXPECT_EQ(store->CountEvents().value_or(-1), 7);
}

// Migration 7 on a database written before it: running instances are due
// at once (next_deadline 0, until the deadline scan records the real value
// with SetNextDeadline), finished ones have none, and the due instances are
// served by a partial index that holds only rows with a deadline.
TEST(SqliteScanTest, NextDeadlineMigrationMarksRunningInstancesDue) {
  TempDir dir;
  std::string path = dir.File("v6.db");
  {
    Raw raw(path);
    raw.Exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
             " name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    for (const sqlite::Migration& m : sqlite::Migrations()) {
      if (m.version > 6) break;
      raw.Exec(m.sql);
      raw.Exec("INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) +
               ", '" + m.name + "', 1700000000)");
    }
    for (auto [id, status] :
         {std::pair{101, "running"}, {102, "approved"}, {103, "running"}})
      raw.Exec("INSERT INTO instances VALUES (" + std::to_string(id) +
               ", 'expense', 1, 'sha256:x', '" + status + "', 'p', 't', 0, '', 1, 0, 0)");
  }
  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->GetInstance(InstanceId{101})->next_deadline, Timestamp{0});
  EXPECT_EQ(store->GetInstance(InstanceId{102})->next_deadline, std::nullopt);
  auto due = [&] {
    std::vector<int64_t> ids;
    InstanceQuery q;
    q.status = "running";
    q.due_by = Timestamp{1700000000000};
    auto rows = store->ListInstances(q);
    EXPECT_TRUE(rows.has_value());
    if (rows)
      for (const InstanceRow& r : *rows) ids.push_back(r.id.value);
    return ids;
  };
  EXPECT_THAT(due(), ElementsAre(101, 103));
  ASSERT_TRUE(store->SetNextDeadline(InstanceId{101}, 1, std::nullopt).value_or(false));
  ASSERT_TRUE(
      store->SetNextDeadline(InstanceId{103}, 1, Timestamp{1800000000000}).value_or(false));
  EXPECT_THAT(due(), ElementsAre());
  Raw raw(path);
  EXPECT_THAT(raw.Rows("SELECT name FROM schema_migrations WHERE version = 7"),
              ElementsAre("instance_next_deadline"));
  EXPECT_THAT(raw.Rows("SELECT sql FROM sqlite_master WHERE name = 'instances_due'"),
              ElementsAre(HasSubstr("WHERE next_deadline IS NOT NULL")));
  EXPECT_THAT(raw.Rows("SELECT count(*) FROM instances INDEXED BY instances_due"
                       " WHERE next_deadline <= 9000000000000"),
              ElementsAre("1"));
}

// Every leaf as ScanAuditLeaves(from, false) yields it: index -> kind, leaf
// data and leaf hash.
std::map<int64_t, std::string> LeavesFrom(SqliteStore& store, int64_t from) {
  std::map<int64_t, std::string> out;
  auto s = store.ScanAuditLeaves(from, false, [&](const AuditLeafView& v) {
    out[v.index] = std::string(v.kind) + "|" + std::string(v.leaf_data) + "|" +
                   std::string(reinterpret_cast<const char*>(v.leaf_hash.data()),
                               v.leaf_hash.size());
    return true;
  });
  EXPECT_TRUE(s.has_value()) << s.error().ToString();
  return out;
}

// 300 instances of 5 events (a file of several read-ahead blocks), the WAL
// checkpointed into the file, where the read-ahead VFS reads from.
void FillForReadAhead(const std::string& path) {
  {
    auto store = MustOpen(path);
    for (int i = 0; i < 300; ++i) ASSERT_TRUE(store->Append(Submit("expense", "zhang", 5)));
  }
  Raw raw(path);
  EXPECT_THAT(raw.Rows("PRAGMA wal_checkpoint(TRUNCATE)"), ElementsAre(HasSubstr("0|")));
}

// SqliteOptions::reader_read_ahead: the leaves, events and definition
// hashes read through 256 KB blocks are exactly those read page by page,
// from every kind of starting point, and the reads are served from blocks.
TEST(SqliteScanTest, ReadAheadReadersYieldWhatPageReadsYield) {
  TempDir dir;
  const std::string path = dir.File("a.db");
  FillForReadAhead(path);
  ASSERT_GT(std::filesystem::file_size(path),
            static_cast<uintmax_t>(4 * sqlite::kReadAheadBlockBytes));
  auto plain = MustOpen(path);
  auto ahead = MustOpenReadAhead(path);
  const sqlite::ReadAheadCounters before = sqlite::ReadAheadCountersNow();
  for (int64_t from : {0, 1, 777, 1499, 1500}) {
    EXPECT_EQ(LeavesFrom(*ahead, from), LeavesFrom(*plain, from)) << from;
    auto events = ScanFrom(*ahead, from);
    EXPECT_EQ(events, ScanFrom(*plain, from)) << from;
    EXPECT_EQ(events.size(), static_cast<size_t>(1500 - from));
  }
  const sqlite::ReadAheadCounters after = sqlite::ReadAheadCountersNow();
  const int64_t blocks = after.block_reads - before.block_reads;
  EXPECT_GE(blocks, 4);
  // Scanning, blocks grow to many pages: each read of the file serves
  // several of SQLite's page reads, most of them lent in place (the read
  // connections' mmap_size turns that on).
  const int64_t lent = after.pages_lent - before.pages_lent;
  EXPECT_GT(after.page_reads_served - before.page_reads_served + lent, 4 * blocks);
  EXPECT_GT(lent, 2 * blocks);
  // Nothing of the file is mapped.
  EXPECT_EQ(ahead->ReaderSettingsForTesting().value().mmap_size, 0);
}

// SQLite holds a lent page in place for as long as a cursor sits on it: the
// block it lies in must not be refilled meanwhile. Many cursors on one
// connection, stepped in turn over a table of 2,000 rows of 1,000 bytes,
// hold more blocks than the VFS keeps; every row still reads as it does
// page by page, and pages that find no free block are read directly.
TEST(SqliteScanTest, ReadAheadKeepsLentPagesWhileSqliteHoldsThem) {
  TempDir dir;
  const std::string path = dir.File("a.db");
  constexpr int64_t kRows = 2000;
  {
    Raw raw(path);
    raw.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)");
    raw.Exec(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1999)"
        " INSERT INTO t SELECT i, randomblob(1000) FROM n");
  }
  const char* vfs = sqlite::ReadAheadVfsName();
  ASSERT_NE(vfs, nullptr);
  sqlite3* ahead = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &ahead, SQLITE_OPEN_READONLY, vfs), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(ahead, "PRAGMA mmap_size = 1048576", nullptr, nullptr, nullptr),
            SQLITE_OK);
  constexpr int kCursors = 3 * sqlite::kReadAheadBlocks;
  std::vector<sqlite3_stmt*> cursors(kCursors, nullptr);
  std::vector<int64_t> next(kCursors);
  std::vector<std::string> rows(kRows);
  const sqlite::ReadAheadCounters before = sqlite::ReadAheadCountersNow();
  ASSERT_EQ(sqlite3_exec(ahead, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
  for (int c = 0; c < kCursors; ++c) {
    ASSERT_EQ(sqlite3_prepare_v2(ahead, "SELECT id, hex(payload) FROM t WHERE id >= ?1",
                                 -1, &cursors[c], nullptr),
              SQLITE_OK);
    next[c] = c * kRows / kCursors;
    sqlite3_bind_int64(cursors[c], 1, next[c]);
  }
  // Each cursor reads its share of the table, one row per turn.
  for (bool any = true; any;) {
    any = false;
    for (int c = 0; c < kCursors; ++c) {
      if (next[c] >= (c + 1) * kRows / kCursors) continue;
      ASSERT_EQ(sqlite3_step(cursors[c]), SQLITE_ROW) << sqlite3_errmsg(ahead);
      ASSERT_EQ(sqlite3_column_int64(cursors[c], 0), next[c]);
      rows[next[c]++] = reinterpret_cast<const char*>(sqlite3_column_text(cursors[c], 1));
      any = true;
    }
  }
  const sqlite::ReadAheadCounters after = sqlite::ReadAheadCountersNow();
  for (sqlite3_stmt* st : cursors) sqlite3_finalize(st);
  ASSERT_EQ(sqlite3_exec(ahead, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(ahead);
  EXPECT_GT(after.pages_lent - before.pages_lent, kCursors);
  EXPECT_GT(after.all_pinned - before.all_pinned, 0);
  Raw raw(path);
  EXPECT_EQ(rows, raw.Rows("SELECT hex(payload) FROM t ORDER BY id"));
}

// The log and its events lie interleaved in the file (appended together):
// one scan of both, in one read transaction, reads no byte of the file
// twice, because a block read on from one cursor's block stops where
// another cursor's block begins.
TEST(SqliteScanTest, ReadAheadReadsInterleavedTablesOnce) {
  TempDir dir;
  const std::string path = dir.File("a.db");
  {
    auto store = MustOpen(path);
    std::vector<AppendRequest> reqs;
    for (int i = 0; i < 3000; ++i) reqs.push_back(Submit("expense", "zhang", 5));
    ASSERT_TRUE(store->BulkAppendForTesting(std::move(reqs)));
  }
  Raw(path).Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  ASSERT_GT(std::filesystem::file_size(path),
            static_cast<uintmax_t>(16 * sqlite::kReadAheadBlockBytes));
  auto ahead = MustOpenReadAhead(path);
  const sqlite::ReadAheadCounters before = sqlite::ReadAheadCountersNow();
  EXPECT_EQ(ScanFrom(*ahead, 0).size(), 15000u);
  const sqlite::ReadAheadCounters after = sqlite::ReadAheadCountersNow();
  EXPECT_GT(after.bytes_read - before.bytes_read, 0);
  EXPECT_LE(after.bytes_read - before.bytes_read,
            static_cast<int64_t>(std::filesystem::file_size(path)));
}

// Reads that do not go on forward through the file (a B-tree seek for one
// row) read only the pages asked for: read-ahead costs a lookup nothing.
TEST(SqliteScanTest, ReadAheadReadsLonePagesAlone) {
  TempDir dir;
  const std::string path = dir.File("a.db");
  FillForReadAhead(path);
  auto ahead = MustOpenReadAhead(path);
  for (int64_t id : {150, 3, 299, 77}) {
    const sqlite::ReadAheadCounters before = sqlite::ReadAheadCountersNow();
    auto row = ahead->GetInstance(InstanceId{id});
    ASSERT_TRUE(row.has_value()) << row.error().ToString();
    EXPECT_EQ(row->id.value, id);
    const sqlite::ReadAheadCounters after = sqlite::ReadAheadCountersNow();
    // The header page and a root-to-leaf path of a few pages: far less than
    // one full block.
    EXPECT_GT(after.bytes_read, before.bytes_read);
    EXPECT_LE(after.bytes_read - before.bytes_read, 16 * 4096) << id;
  }
}

// Blocks never outlive the read transaction that read them: a byte changed
// in the file between two verifications by the same store (the change
// checkpointed from the WAL into the file, where the blocks come from) is
// found by the second, and leaves appended meanwhile are read.
TEST(SqliteScanTest, ReadAheadSeesChangesToTheFileBetweenTransactions) {
  TempDir dir;
  const std::string path = dir.File("a.db");
  FillForReadAhead(path);
  auto key = audit::SigningKey::Generate();
  ASSERT_TRUE(key.has_value());
  const audit::LogKey log_key{"approvald/test", key->public_key()};
  auto ahead = MustOpenReadAhead(path);
  audit::VerifyOptions options;
  options.check_definitions = false;
  for (bool pipeline : {false, true}) {
    options.pipeline = pipeline;
    auto ok = audit::VerifyLog(*ahead, log_key, options);
    ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
    EXPECT_TRUE(ok->ok) << ok->Summary();
    EXPECT_EQ(ok->events_checked, 1500);
  }
  {
    // Appended by another process, and checkpointed into the file.
    auto other = MustOpen(path);
    ASSERT_TRUE(other->Append(Submit("expense", "wang", 2)));
  }
  Raw raw(path);
  raw.Exec("DROP TRIGGER audit_log_append_only_u");
  raw.Exec(
      "UPDATE audit_log SET leaf_data = CAST(replace(CAST(leaf_data AS TEXT), '\"ok\"',"
      " '\"OK\"') AS BLOB) WHERE instance = 150 AND version = 3");
  EXPECT_THAT(raw.Rows("PRAGMA wal_checkpoint(TRUNCATE)"), ElementsAre(HasSubstr("0|")));
  for (bool pipeline : {false, true}) {
    options.pipeline = pipeline;
    auto bad = audit::VerifyLog(*ahead, log_key, options);
    ASSERT_TRUE(bad.has_value()) << bad.error().ToString();
    ASSERT_TRUE(bad->failure) << bad->Summary();
    EXPECT_EQ(bad->failure->code, "leaf_hash_mismatch") << bad->Summary();
    EXPECT_EQ(bad->failure->instance.value, 150);
    EXPECT_EQ(bad->failure->version, 3);
  }
  EXPECT_EQ(LeavesFrom(*ahead, 0).size(), 1502u);
}

}  // namespace
}  // namespace approvald
