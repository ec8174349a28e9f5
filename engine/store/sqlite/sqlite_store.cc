#include "store/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <thread>
#include <unordered_map>
#include <utility>

#include "audit/leaf.h"
#include "audit/merkle.h"
#include "store/common/store_common.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/read_ahead_vfs.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/wal_batch_vfs.h"

namespace approvald {
namespace {

using sqlite::Db;
using sqlite::SqliteError;
using sqlite::Stmt;

// ---------------------------------------------------------------------------
// SQL. Every statement is a constant; values are always bound parameters.

constexpr char kBegin[] = "BEGIN";
constexpr char kBeginImmediate[] = "BEGIN IMMEDIATE";
constexpr char kCommit[] = "COMMIT";
constexpr char kRollback[] = "ROLLBACK";
constexpr char kSavepoint[] = "SAVEPOINT op";
constexpr char kRelease[] = "RELEASE op";
constexpr char kRollbackTo[] = "ROLLBACK TO op";

// An instance's events are its event leaves (schema migration 10), found
// through audit_by_instance (instance, version): these read the index only.
constexpr char kMaxVersion[] = "SELECT max(version) FROM audit_log WHERE instance = ?1";
constexpr char kNextInstance[] = "SELECT coalesce(max(instance), 0) + 1 FROM audit_log";
// `INSERT OR FAIL INTO <table_and_columns> VALUES` with `rows` rows of
// `columns` numbered parameters each (?1 .. ?rows*columns, row by row).
std::string MultiRowInsertSql(std::string_view table_and_columns, size_t columns, size_t rows) {
  std::string sql = "INSERT OR FAIL INTO ";
  sql.append(table_and_columns).append(" VALUES ");
  for (size_t i = 0; i < rows; ++i) {
    sql += i ? ", (" : "(";
    for (size_t c = 1; c <= columns; ++c) {
      if (c > 1) sql += ", ";
      sql += "?" + std::to_string(i * columns + c);
    }
    sql += ")";
  }
  return sql;
}
// The audit leaves, which also store the instance events (schema migration
// 10), are written one row per statement: in statements of several rows
// they measured no cheaper, since SQLite keeps a statement journal for them
// (audit_log's CHECK constraints), a copy of every page the statement
// changes that the transaction had already written (bench/README.md,
// session 11).
constexpr char kInsertLeaf[] =
    "INSERT INTO audit_log (idx, kind, at, instance, version, type, actor,"
    " def_hash, leaf_data, leaf_hash)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
// Merkle nodes of level >= 1, keyed by NodePos (migration 9): a batch
// writes its nodes of levels 1..4 at the table's right edge, the few above
// at the right edge of the negative keys.
//
// The nodes a transaction completes are written together before its COMMIT
// (FlushNodes), in statements of 1, 2, 4, ... kNodesPerInsert rows (a few
// statements to prepare and keep, not one per count): one statement per
// node cost more than the B-tree insert it made. OR FAIL: a refused row
// (only possible if the table was edited behind the store's back) fails the
// whole batch anyway. (With the table's CHECK constraint SQLite still keeps
// a statement journal: the few pages at the right edge, in the writer's
// memory.)
constexpr size_t kNodesPerInsert = 32;
// `n` a power of two up to kNodesPerInsert.
const char* InsertNodesSql(size_t n) {
  static const std::array<std::string, kNodesPerInsert + 1> kSql = [] {
    std::array<std::string, kNodesPerInsert + 1> out;
    for (size_t k = 1; k <= kNodesPerInsert; k *= 2)
      out[k] = MultiRowInsertSql("merkle_tree (pos, hash)", 2, k);
    return out;
  }();
  return kSql[n].c_str();
}
constexpr char kUpsertInstance[] =
    "INSERT INTO instances (id, workflow, workflow_version, def_hash, status,"
    " submitter, title, amount_fen, current_nodes, version, created_at,"
    " updated_at, next_deadline)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    " ON CONFLICT (id) DO UPDATE SET workflow = excluded.workflow,"
    " workflow_version = excluded.workflow_version,"
    " def_hash = excluded.def_hash, status = excluded.status,"
    " submitter = excluded.submitter, title = excluded.title,"
    " amount_fen = excluded.amount_fen,"
    " current_nodes = excluded.current_nodes, version = excluded.version,"
    " created_at = excluded.created_at, updated_at = excluded.updated_at,"
    " next_deadline = excluded.next_deadline";
// An append to an existing instance usually changes none of the indexed
// columns that never change in an instance's life (workflow, submitter) nor
// its status or next deadline; then a narrower UPDATE leaves the index
// B-trees alone (SQLite rewrites an index entry whenever a SET names one of
// its columns). Each UPDATE names in its WHERE the columns it leaves as
// they are, so it changes the row only if they already hold the wanted
// values, and the writer need not read the row first (see
// WriteInstanceRow).
#define INSTANCE_FIXED_COLUMNS_ARE                                  \
  " WHERE id = ?1 AND workflow = ?9 AND workflow_version = ?10 AND" \
  " def_hash = ?11 AND submitter = ?12 AND created_at = ?13"
constexpr char kUpdateInstanceBody[] =
    "UPDATE instances SET title = ?2, amount_fen = ?3, current_nodes = ?4,"
    " version = ?5, updated_at = ?6" INSTANCE_FIXED_COLUMNS_ARE
    " AND status = ?7 AND next_deadline IS ?8";
// An approval that moves the instance to another step usually moves its
// earliest deadline but keeps its status: this one rewrites instances_due's
// entry and leaves instances_by_status alone.
constexpr char kUpdateInstanceBodyAndDeadline[] =
    "UPDATE instances SET title = ?2, amount_fen = ?3, current_nodes = ?4,"
    " version = ?5, updated_at = ?6, next_deadline = ?8" INSTANCE_FIXED_COLUMNS_ARE
    " AND status = ?7";
constexpr char kUpdateInstanceBodyAndIndexed[] =
    "UPDATE instances SET title = ?2, amount_fen = ?3, current_nodes = ?4, version = ?5,"
    " updated_at = ?6, status = ?7, next_deadline = ?8" INSTANCE_FIXED_COLUMNS_ARE;
#undef INSTANCE_FIXED_COLUMNS_ARE
constexpr char kSetNextDeadline[] =
    "UPDATE instances SET next_deadline = ?3 WHERE id = ?1 AND version = ?2";
// The task projection is replaced on each append by writing only the rows
// that differ (see WriteTasks): most appends keep most of an instance's
// task rows, often with a new `since`.
constexpr char kSelectTasks[] =
    "SELECT rowid, node, person, kind, since FROM tasks WHERE instance = ?1";
constexpr char kDeleteTask[] = "DELETE FROM tasks WHERE rowid = ?1";
constexpr char kUpdateTaskSince[] = "UPDATE tasks SET since = ?2 WHERE rowid = ?1";
// A row that went takes the place of one that came: the row is rewritten in
// its page and only its tasks_by_person entry moves (no column of
// tasks_by_instance is named), where a DELETE and an INSERT would rewrite
// both index entries and add a row at the table's end.
constexpr char kReplaceTask[] =
    "UPDATE tasks SET node = ?2, person = ?3, kind = ?4, since = ?5 WHERE rowid = ?1";
constexpr char kInsertTask[] =
    "INSERT INTO tasks (instance, node, person, kind, since)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr char kDeleteFacts[] = "DELETE FROM facts WHERE instance = ?1";
constexpr char kInsertFact[] =
    "INSERT INTO facts (instance, kind, key, data, exclusive)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";
// Migration 4's partial unique index backs this up; asking first names the
// holder in the refusal.
constexpr char kExclusiveHolder[] =
    "SELECT instance FROM facts"
    " WHERE kind = ?1 AND key = ?2 AND exclusive = 1 AND instance <> ?3 LIMIT 1";
constexpr char kFindFacts[] =
    "SELECT f.instance, f.data, i.status, f.exclusive FROM facts f"
    " JOIN instances i ON i.id = f.instance"
    " WHERE f.kind = ?1 AND f.key = ?2 AND f.instance <> ?3";
constexpr char kSelectIdempotency[] =
    "SELECT request_hash, instance, version, first_leaf FROM idempotency"
    " WHERE owner = ?1 AND idem_key = ?2";
constexpr char kInsertIdempotency[] =
    "INSERT INTO idempotency (owner, idem_key, request_hash, instance,"
    " version, first_leaf) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
// Changes when another connection (another process) commits to the
// database; the writer's own commits leave it alone.
constexpr char kDataVersion[] = "PRAGMA data_version";
constexpr char kAuditSize[] = "SELECT coalesce(max(idx) + 1, 0) FROM audit_log";
// Merkle nodes of level >= 1 by NodePos (level 0, the leaf hashes, is
// kSelectLeafHash; see WriteLeaves).
constexpr char kSelectNode[] = "SELECT hash FROM merkle_tree WHERE pos = ?1";
// The nodes of levels >= kUpperNodeLevel, in the order they were completed
// (NodeCache::Load).
constexpr char kSelectUpperNodes[] =
    "SELECT pos, hash FROM merkle_tree WHERE pos < 0 ORDER BY pos";
constexpr char kSelectLeafHash[] = "SELECT leaf_hash FROM audit_log WHERE idx = ?1";
constexpr char kCountUpperNodes[] = "SELECT count(*) FROM merkle_tree";
// Level-0 rows written before migration 8 (the only rows merkle_nodes keeps
// after migration 9) that are not the hash of the leaf they stand for (or
// stand for no leaf).
constexpr char kStrayLeafNode[] =
    "SELECT m.idx, a.idx IS NULL FROM merkle_nodes m"
    " LEFT JOIN audit_log a ON a.idx = m.idx"
    " WHERE m.level = 0 AND a.leaf_hash IS NOT m.hash LIMIT 1";
constexpr char kInsertCheckpoint[] =
    "INSERT INTO checkpoints (size, root, at, signature)"
    " VALUES (?1, ?2, ?3, ?4)";
// The latest checkpoint of at most ?1 leaves: the one served is over a tree
// known to be durable (Impl::durable_size).
constexpr char kLatestCheckpoint[] =
    "SELECT size, root, at, signature FROM checkpoints WHERE size <= ?1"
    " ORDER BY seq DESC LIMIT 1";
constexpr char kListCheckpoints[] =
    "SELECT size, root, at, signature FROM checkpoints ORDER BY seq";
constexpr char kInsertAttachmentName[] =
    "INSERT OR IGNORE INTO attachment_names (hash, name) VALUES (?1, ?2)";
constexpr char kSelectAttachmentName[] =
    "SELECT name FROM attachment_names WHERE hash = ?1 ORDER BY rowid LIMIT 1";
constexpr char kInsertAttachment[] =
    "INSERT INTO attachments (hash, size, bytes) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (hash) DO NOTHING";
constexpr char kSelectAttachment[] = "SELECT bytes FROM attachments WHERE hash = ?1";
constexpr char kSelectAttachmentSize[] = "SELECT size FROM attachments WHERE hash = ?1";
constexpr char kSelectDefinition[] =
    "SELECT hash FROM definitions WHERE workflow = ?1 AND version = ?2";
constexpr char kInsertDefinition[] =
    "INSERT INTO definitions (workflow, version, hash, source)"
    " VALUES (?1, ?2, ?3, ?4)";
constexpr char kListDefinitions[] =
    "SELECT workflow, version, hash, source FROM definitions"
    " ORDER BY workflow, version";
// An instance's event leaves; each holds the event's canonical bytes
// (audit::EventBytesOfLeaf).
constexpr char kLoadEvents[] =
    "SELECT version, leaf_data FROM audit_log WHERE instance = ?1 ORDER BY version";
#define INSTANCE_COLUMNS                                                \
  "id, workflow, workflow_version, def_hash, status, submitter, title," \
  " amount_fen, current_nodes, version, created_at, updated_at, next_deadline"
constexpr char kGetInstance[] =
    "SELECT " INSTANCE_COLUMNS " FROM instances WHERE id = ?1";
constexpr char kListTasks[] =
    "SELECT instance, node, person, kind, since FROM tasks"
    " WHERE person = ?1 AND kind = ?2"
    " ORDER BY since DESC, instance DESC, node LIMIT ?3";
#define AUDIT_COLUMNS                                            \
  "a.idx, a.kind, a.at, a.instance, a.version, a.type, a.actor," \
  " a.def_hash, a.leaf_data, a.leaf_hash"
// The audit leaves from index ?1 on, as stored.
constexpr char kScanLog[] = "SELECT " AUDIT_COLUMNS
                            " FROM audit_log a WHERE a.idx >= ?1"
                            " ORDER BY a.idx LIMIT ?2";
// ScanAuditLeaves: the leaf columns only, read in place; with the stored
// event each event leaf records and its instance's definition hash.
#define LEAF_COLUMNS                                            \
  "a.idx, a.kind, a.at, a.instance, a.version, a.type, a.actor," \
  " a.leaf_data, a.leaf_hash"
constexpr char kScanLeaves[] = "SELECT " LEAF_COLUMNS
                               " FROM audit_log a WHERE a.idx >= ?1"
                               " ORDER BY a.idx LIMIT ?2";
// The same without the columns that only name a leaf (ScanAuditLeavesUnnamed).
constexpr char kScanLeavesUnnamed[] =
    "SELECT a.idx, a.kind, a.instance, a.version, a.leaf_data, a.leaf_hash"
    " FROM audit_log a WHERE a.idx >= ?1 ORDER BY a.idx LIMIT ?2";
// With events, each event leaf's instance's definition hash, and for a leaf
// from before schema migration 10 its row in the events table, are found by
// OrderedLookup on these (see ScanAuditLeaves).
constexpr char kEventsFrom[] =
    "SELECT instance, version, body FROM events"
    " WHERE (instance, version) >= (?1, ?2) ORDER BY instance, version";
constexpr char kInstancesFrom[] =
    "SELECT id, def_hash FROM instances WHERE id >= ?1 ORDER BY id";
// The same, each with the events row from before schema migration 10 it
// records, if any (for CheckIntegrity).
constexpr char kScanAudit[] =
    "SELECT " AUDIT_COLUMNS
    ", e.body FROM audit_log a"
    " LEFT JOIN events e ON e.instance = a.instance AND e.version = a.version"
    " WHERE a.idx >= ?1 ORDER BY a.idx LIMIT ?2";
constexpr char kEventsEnd[] = "SELECT leaf FROM events_end";
// The rows of the events table (all from before schema migration 10).
constexpr char kCountEventRows[] = "SELECT count(*) FROM events";
// The stored events whose leaves lie below ?2: the events table's rows
// (each with its leaf below events_end, ?1) and the event leaves from ?1 on,
// counted on audit_by_instance's small entries (records have no instance).
constexpr char kCountEvents[] =
    "SELECT (SELECT count(*) FROM events) +"
    " (SELECT count(*) FROM audit_log INDEXED BY audit_by_instance"
    " WHERE instance IS NOT NULL AND idx >= ?1 AND idx < ?2)";
// An events row with no leaf below events_end (?1): deleted leaf, or a row
// added after schema migration 10.
constexpr char kEventRowWithoutLeaf[] =
    "SELECT e.instance, e.version FROM events e WHERE NOT EXISTS"
    " (SELECT 1 FROM audit_log a WHERE a.instance = e.instance"
    " AND a.version = e.version AND a.idx < ?1) LIMIT 1";
constexpr char kProjectionMismatch[] =
    "SELECT i.id, i.version, count(a.version), max(a.version)"
    " FROM instances i LEFT JOIN audit_log a ON a.instance = i.id"
    " GROUP BY i.id HAVING i.version IS NOT count(a.version)"
    " OR i.version IS NOT max(a.version) LIMIT 1";
constexpr char kEventsWithoutInstance[] =
    "SELECT a.instance FROM audit_log a WHERE a.instance IS NOT NULL AND NOT EXISTS"
    " (SELECT 1 FROM instances i WHERE i.id = a.instance) LIMIT 1";

// ListInstances: one statement per combination of filters, built once from
// constant fragments. Parameters: ?1 after_id, ?2 workflow, ?3 status,
// ?4 submitter, ?5 involved, ?6 limit, ?7 due_by.
constexpr unsigned kByWorkflow = 1;
constexpr unsigned kByStatus = 2;
constexpr unsigned kBySubmitter = 4;
constexpr unsigned kByInvolved = 8;
constexpr unsigned kDueBy = 16;
const char* ListInstancesSql(unsigned mask) {
  static const std::array<std::string, 32> kSql = [] {
    std::array<std::string, 32> out;
    for (unsigned m = 0; m < 32; ++m) {
      // Due instances are read through the partial index instances_due
      // (migration 7); left to itself, SQLite prefers the status index,
      // which serves ORDER BY id but walks every running instance.
      std::string s = "SELECT " INSTANCE_COLUMNS " FROM instances";
      if (m & kDueBy) s += " INDEXED BY instances_due";
      s += " WHERE id > ?1";
      if (m & kByWorkflow) s += " AND workflow = ?2";
      if (m & kByStatus) s += " AND status = ?3";
      if (m & kBySubmitter) s += " AND submitter = ?4";
      if (m & kByInvolved)
        s += " AND (submitter = ?5 OR id IN"
             " (SELECT instance FROM tasks WHERE person = ?5))";
      // Implies next_deadline IS NOT NULL, the partial index's condition.
      if (m & kDueBy) s += " AND next_deadline <= ?7";
      s += " ORDER BY id LIMIT ?6";
      out[m] = std::move(s);
    }
    return out;
  }();
  return kSql[mask].c_str();
}

// QueryAudit: likewise. ?1 after_index, ?2 instance, ?3 actor, ?4 type,
// ?5 from, ?6 to, ?7 limit.
constexpr unsigned kByInstance = 1;
constexpr unsigned kByActor = 2;
constexpr unsigned kByType = 4;
constexpr unsigned kFrom = 8;
constexpr unsigned kTo = 16;
const char* QueryAuditSql(unsigned mask) {
  static const std::array<std::string, 32> kSql = [] {
    std::array<std::string, 32> out;
    for (unsigned m = 0; m < 32; ++m) {
      std::string s = "SELECT " AUDIT_COLUMNS " FROM audit_log a WHERE a.idx > ?1";
      if (m & kByInstance) s += " AND a.instance = ?2";
      if (m & kByActor) s += " AND a.actor = ?3";
      if (m & kByType) s += " AND a.type = ?4";
      if (m & kFrom) s += " AND a.at >= ?5";
      if (m & kTo) s += " AND a.at < ?6";
      s += " ORDER BY a.idx LIMIT ?7";
      out[m] = std::move(s);
    }
    return out;
  }();
  return kSql[mask].c_str();
}

// ---------------------------------------------------------------------------
// Row decoding.

InstanceRow ReadInstance(const sqlite::Statement& st) {
  InstanceRow r;
  r.id = InstanceId{st.Int(0)};
  r.workflow = st.Text(1);
  r.workflow_version = static_cast<int>(st.Int(2));
  r.def_hash = st.Text(3);
  r.status = st.Text(4);
  r.submitter = PersonId(st.Text(5));
  r.title = st.Text(6);
  r.amount = Money{st.Int(7)};
  r.current_nodes = st.Text(8);
  r.version = st.Int(9);
  r.created_at = Timestamp{st.Int(10)};
  r.updated_at = Timestamp{st.Int(11)};
  if (!st.IsNull(12)) r.next_deadline = Timestamp{st.Int(12)};
  return r;
}

// Reads AUDIT_COLUMNS starting at column 0 into `a`, reusing its strings'
// buffers (ScanAudit streams millions of rows).
void ReadAuditEntryInto(const sqlite::Statement& st, AuditEntry& a) {
  a.index = st.Int(0);
  a.kind.assign(st.TextView(1));
  a.at = Timestamp{st.Int(2)};
  a.instance = InstanceId{st.IsNull(3) ? 0 : st.Int(3)};
  a.version = st.IsNull(4) ? 0 : st.Int(4);
  a.type.assign(st.TextView(5));
  a.actor.value.assign(st.TextView(6));
  a.def_hash.assign(st.TextView(7));
  a.leaf_data.assign(st.BlobView(8));
  // A malformed hash (only possible by editing the file) reads as zeros;
  // the verifier then reports the leaf.
  a.leaf_hash = Hash{};
  st.HashAt(9, &a.leaf_hash);
}

AuditEntry ReadAuditEntry(const sqlite::Statement& st) {
  AuditEntry a;
  ReadAuditEntryInto(st, a);
  return a;
}

Checkpoint ReadCheckpoint(const sqlite::Statement& st) {
  Checkpoint cp;
  cp.size = st.Int(0);
  st.HashAt(1, &cp.root);
  cp.at = Timestamp{st.Int(2)};
  cp.signature = std::string(st.BlobView(3));
  return cp;
}

std::string Num(int64_t n) { return std::to_string(n); }

// The key of Merkle node `ref` (level >= 1) in merkle_tree (migration 9
// computes the same in SQL): the node is completed by the append of its
// last leaf, ((index + 1) << level) - 1, which completes levels 1, 2, ... in
// that order, so (last leaf << 6) | level grows in the order the nodes are
// written. Nodes from kUpperNodeLevel on (1 in 16) subtract 2^62: the same
// order among negative keys, so that the node cache (cached_node_level, 5
// by default) loads them with one range scan of a sixteenth of the table,
// while the other 15 in 16 are appended at the table's right edge (where
// SQLite fills a page and starts the next one without rebalancing).
constexpr int kUpperNodeLevel = 5;
constexpr int64_t kUpperNodeOffset = int64_t{1} << 62;
int64_t NodePos(const audit::NodeRef& ref) {
  const int64_t pos = ((((ref.index + 1) << ref.level) - 1) << 6) | ref.level;
  return ref.level >= kUpperNodeLevel ? pos - kUpperNodeOffset : pos;
}
// The node keyed `pos` (NodePos's inverse).
audit::NodeRef NodeOfPos(int64_t pos) {
  if (pos < 0) pos += kUpperNodeOffset;
  const int level = static_cast<int>(pos & 63);
  const int64_t last_leaf = pos >> 6;
  return audit::NodeRef{level, ((last_leaf + 1) >> level) - 1};
}

std::string LeafName(const AuditEntry& a) {
  std::string s = "audit leaf " + Num(a.index);
  if (a.kind == "event")
    s += " (instance " + Num(a.instance.value) + " version " + Num(a.version) + ")";
  else
    s += " (" + a.kind + " " + a.type + ")";
  return s;
}

// Checks event leaf `a` against the event it stores. From before schema
// migration 10 (`in_events_table`) that is its row in the events table,
// `row` (nullptr if missing); from then on, the leaf's own event member. The
// leaf's columns (instance, version, type, actor, time, definition hash)
// must be the event's. Returns the problem, or an empty string.
std::string EventLeafProblem(const AuditEntry& a, bool in_events_table,
                             const std::string_view* row) {
  std::optional<std::string_view> body;
  if (in_events_table) {
    if (!row) return LeafName(a) + " records an event that is missing from the events table";
    body = *row;
  } else if (!(body = audit::EventBytesOfLeaf(a.leaf_data))) {
    return LeafName(a) + ": its bytes are not shaped like an event leaf";
  }
  // DecodeEvent accepts only canonical bytes, so any edit that keeps the
  // JSON valid but changes its spelling is caught here too.
  std::optional<Event> ev = DecodeEvent(*body);
  if (!ev)
    return LeafName(a) + (in_events_table
                              ? ": the stored event is not a valid canonical event any more"
                              : ": the event it holds is not a valid canonical event");
  if (ev->instance != a.instance || ev->version != a.version)
    return LeafName(a) +
           (in_events_table ? ": the events table holds instance " : ": it holds instance ") +
           Num(ev->instance.value) + " version " + Num(ev->version) +
           (in_events_table ? " in its place (rows were moved)" : "");
  if (ev->type != a.type || ev->actor != a.actor || ev->at != a.at ||
      audit::EventLeafData(*ev, a.def_hash) != a.leaf_data)
    return LeafName(a) +
           (in_events_table
                ? ": the stored event differs from the one the audit log recorded "
                  "(the events table was changed after the event was logged)"
                : ": its type, actor, time or definition hash columns differ from the "
                  "event it holds");
  return {};
}

std::unexpected<Error> Violation(std::string what) {
  return MakeError(ErrorCode::kInternal, "integrity_violation", std::move(what));
}

// Finds rows by key on a statement that yields them in key order from the
// key bound to it (?1, and ?2 for two-column keys; the value in the column
// after the key). Looking keys up in ascending, mostly adjacent order (an
// instance's events, logged one after another) steps the statement a row or
// a few instead of seeking the B-tree again for each key; any other key is
// found by binding it and seeking, so every key is found exactly as a point
// lookup would find it. Runs inside one read transaction (the caller keeps
// another statement of the connection active), so stepping and seeking see
// the same rows. The value views are valid until the next Find.
class OrderedLookup {
 public:
  OrderedLookup(sqlite::Statement& st, int key_columns)
      : st_(st), two_columns_(key_columns == 2) {}

  // The value of the row with key (a, b) (b is ignored for one-column
  // keys), or nullopt if there is none or its value is NULL (as a LEFT JOIN
  // would yield it).
  Result<std::optional<std::string_view>> Find(int64_t a, int64_t b) {
    const Key want{a, two_columns_ ? b : 0};
    // Step forward over a few rows when the key is just ahead.
    for (int i = 0; i < kMaxSteps && state_ == kAt && at_ < want && !AtLargestKey(); ++i) {
      if (auto s = Step(Successor(at_)); !s) return std::unexpected(s.error());
    }
    if (!Knows(want)) {
      if (auto s = Seek(want); !s) return std::unexpected(s.error());
    }
    const int value = two_columns_ ? 2 : 1;
    if (state_ == kAt && at_ == want) {
      // A value read without a pointer is NULL, or empty (asked only then).
      std::string_view text = st_.TextView(value);
      if (text.data() != nullptr || !st_.IsNull(value)) {
        return std::optional<std::string_view>(text);
      }
    }
    return std::optional<std::string_view>();
  }

 private:
  struct Key {
    int64_t a = 0;
    int64_t b = 0;
    friend bool operator<(const Key& x, const Key& y) {
      return x.a < y.a || (x.a == y.a && x.b < y.b);
    }
    friend bool operator==(const Key& x, const Key& y) { return x.a == y.a && x.b == y.b; }
  };
  // More rows to step over than this: seek instead.
  static constexpr int kMaxSteps = 4;
  enum State { kNone, kAt, kEnd };

  // The current row has the largest key there can be (a forged row): then
  // there is no successor to step from; Find seeks.
  bool AtLargestKey() const {
    return (two_columns_ ? at_.b : at_.a) == std::numeric_limits<int64_t>::max();
  }
  // The smallest key after k (keys are integers; not at the largest one).
  Key Successor(const Key& k) const { return two_columns_ ? Key{k.a, k.b + 1} : Key{k.a + 1, 0}; }
  // Whether the position answers for `want` without a seek: no row has a
  // key in [lo_, at_) (kAt) or at or after lo_ (kEnd).
  bool Knows(const Key& want) const {
    if (state_ == kNone || want < lo_) return false;
    return state_ == kEnd || !(at_ < want);
  }
  Status Seek(const Key& k) {
    st_.Reset();
    st_.Bind(1, k.a);
    if (two_columns_) st_.Bind(2, k.b);
    return Step(k);
  }
  // Steps to the next row; `lo` is the least key it can have.
  Status Step(const Key& lo) {
    auto row = st_.Step();
    if (!row) return std::unexpected(row.error());
    lo_ = lo;
    if (!*row) {
      state_ = kEnd;
      return Ok();
    }
    at_ = Key{st_.Int(0), two_columns_ ? st_.Int(1) : 0};
    state_ = kAt;
    return Ok();
  }

  sqlite::Statement& st_;
  const bool two_columns_;
  State state_ = kNone;
  Key lo_;  // no row has a key in [lo_, at_) (kAt), or >= lo_ (kEnd)
  Key at_;  // kAt: the current row's key
};

// The committed perfect Merkle nodes at levels >= min_level, in memory.
// Nodes never change once written, and upper levels are few (n / 2^level),
// so a proof reads most of its ~2 log2(n) nodes here and only the lowest
// levels from SQLite. The writer publishes a batch's nodes after its COMMIT;
// readers look up under a shared lock.
class NodeCache {
 public:
  // Level 0 is never cached: it is audit_log's leaf_hash column, one row per
  // leaf, as many as the log itself.
  explicit NodeCache(int min_level) : min_level_(std::max(min_level, 1)) {}

  // Appends committed nodes in the order they were written. A node that is
  // not the next of its level (only possible if a failed COMMIT was in fact
  // durable) stops that level from growing; Load() repairs it.
  void Publish(const std::vector<audit::NodeWrite>& writes) {
    if (writes.empty()) return;
    std::unique_lock lock(mu_);
    for (const audit::NodeWrite& w : writes) Add(w.ref, w.hash);
  }

  bool Get(const audit::NodeRef& ref, Hash* out) const {
    if (ref.level < min_level_) return false;
    std::shared_lock lock(mu_);
    size_t l = static_cast<size_t>(ref.level - min_level_);
    if (l >= levels_.size() || ref.index < 0 ||
        static_cast<size_t>(ref.index) >= levels_[l].size())
      return false;
    *out = levels_[l][ref.index];
    return true;
  }

  // Replaces the contents with the nodes of a log of `size` leaves stored
  // in `db`: levels from kUpperNodeLevel on with one range scan (NodePos);
  // cached levels below it (a cached_node_level under 5), spread over the
  // table, by a lookup per node, each level until a node is missing or
  // malformed (SQL reads then answer for it).
  Status Load(Db& db, int64_t size) {
    std::unique_lock lock(mu_);
    levels_.clear();
    {
      auto st = db.Prepare(kSelectNode);
      if (!st) return std::unexpected(st.error());
      for (int level = min_level_; level < kUpperNodeLevel && (size >> level) > 0;
           ++level) {
        for (int64_t i = 0; i < (size >> level); ++i) {
          (*st)->Bind(1, NodePos(audit::NodeRef{level, i}));
          auto row = (*st)->Step();
          if (!row) return std::unexpected(row.error());
          Hash h{};
          const bool ok = *row && (*st)->HashAt(0, &h);
          (*st)->Reset();
          if (!ok) break;
          Add(audit::NodeRef{level, i}, h);
        }
      }
    }
    auto st = db.Prepare(kSelectUpperNodes);
    if (!st) return std::unexpected(st.error());
    for (;;) {
      auto row = (*st)->Step();
      if (!row) return std::unexpected(row.error());
      if (!*row) return Ok();
      Hash h{};
      if (!(*st)->HashAt(1, &h)) continue;  // malformed: leave it to SQL reads
      Add(NodeOfPos((*st)->Int(0)), h);     // levels under min_level_ are skipped
    }
  }

  int min_level() const { return min_level_; }

 private:
  void Add(const audit::NodeRef& ref, const Hash& h) {
    if (ref.level < min_level_) return;
    size_t l = static_cast<size_t>(ref.level - min_level_);
    if (levels_.size() <= l) levels_.resize(l + 1);
    if (static_cast<size_t>(ref.index) == levels_[l].size()) levels_[l].push_back(h);
  }

  const int min_level_;
  mutable std::shared_mutex mu_;
  std::vector<std::vector<Hash>> levels_;  // levels_[level - min_level_]
};

// Reads perfect Merkle nodes: from `cache` when it has them (readers),
// else from one connection: level 0 (the leaf hashes) from audit_log, the
// levels above from merkle_tree.
class DbNodeReader final : public audit::NodeReader {
 public:
  explicit DbNodeReader(Db& db, const NodeCache* cache = nullptr)
      : db_(db), cache_(cache) {}
  Result<std::vector<Hash>> Read(const std::vector<audit::NodeRef>& refs) override {
    std::vector<Hash> out(refs.size());
    std::optional<Stmt> nodes;
    std::optional<Stmt> leaves;
    for (size_t i = 0; i < refs.size(); ++i) {
      if (cache_ && cache_->Get(refs[i], &out[i])) continue;
      const bool leaf = refs[i].level == 0;
      std::optional<Stmt>& st = leaf ? leaves : nodes;
      if (!st) {
        auto prepared = db_.Prepare(leaf ? kSelectLeafHash : kSelectNode);
        if (!prepared) return std::unexpected(prepared.error());
        st.emplace(std::move(*prepared));
      }
      (*st)->Bind(1, leaf ? refs[i].index : NodePos(refs[i]));
      auto row = (*st)->Step();
      if (!row) return std::unexpected(row.error());
      if (!*row || !(*st)->HashAt(0, &out[i]))
        return MakeError(ErrorCode::kInternal, "merkle_node_missing",
                         "Merkle node (level " + Num(refs[i].level) + ", index " +
                             Num(refs[i].index) + ") is missing or malformed in " +
                             db_.path() +
                             (leaf ? " (level 0: audit_log.leaf_hash)" : ""));
      (*st)->Reset();
    }
    return out;
  }

 private:
  Db& db_;
  const NodeCache* cache_;
};

Status ConfigureConnection(Db& db, const SqliteOptions& opt, bool reader) {
  sqlite3_busy_timeout(db.get(), opt.busy_timeout_ms);
  auto mode = db.PragmaValue("PRAGMA journal_mode = WAL");
  if (!mode) return std::unexpected(mode.error());
  if (*mode != "wal")
    return Unavailable("storage_failed",
                       db.path() + ": cannot switch to WAL journal mode (got \"" + *mode +
                           "\"); is the file on a local filesystem?");
  if (auto s = db.Exec("PRAGMA synchronous = FULL", "setting synchronous"); !s) return s;
  if (auto s = db.Exec("PRAGMA foreign_keys = ON", "enabling foreign keys"); !s) return s;
  if (reader) {
    if (auto s = db.Exec("PRAGMA query_only = ON", "setting query_only"); !s) return s;
    if (opt.reader_read_ahead) {
      // Through the read-ahead VFS, mmap_size > 0 maps nothing: it makes
      // SQLite take the pages of the VFS's blocks in place (xFetch) instead
      // of copying each into its page cache (sqlite/read_ahead_vfs.h).
      if (auto s = db.Exec("PRAGMA mmap_size = 1048576", "setting mmap_size"); !s)
        return s;
    } else if (opt.reader_mmap_bytes > 0) {
      // PRAGMA takes no parameters; the text is built from an integer, which
      // cannot carry SQL.
      std::string pragma = "PRAGMA mmap_size = " + std::to_string(opt.reader_mmap_bytes);
      if (auto s = db.Exec(pragma.c_str(), "setting mmap_size"); !s) return s;
    }
  }
  return Ok();
}

// A word that threads sleep on until it changes, and the wake of all of
// them with one system call (a futex on Linux).
class alignas(64) WakeWord {
 public:
  uint32_t Load() const { return word_.load(std::memory_order_acquire); }
  // Sleeps while the word still holds `seen` (may return spuriously).
  void Wait(uint32_t seen) {
#ifdef __linux__
    ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word_), FUTEX_WAIT_PRIVATE, seen,
              nullptr, nullptr, 0);
#else
    word_.wait(seen, std::memory_order_acquire);
#endif
  }
  // Changes the word and wakes every thread sleeping on it.
  void WakeAll() {
    word_.fetch_add(1, std::memory_order_release);
#ifdef __linux__
    ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word_), FUTEX_WAKE_PRIVATE, INT_MAX,
              nullptr, nullptr, 0);
#else
    word_.notify_all();
#endif
  }

 private:
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
  std::atomic<uint32_t> word_{0};
};

// An operation for the writer thread. Answered exactly once, by Finish:
// into `result` (Submit, whose caller sleeps until `answered` is set and
// the writer wakes the batch's callers together), or, for an op queued by
// SubmitAsync, through `on_done`, after which the op deletes itself.
struct WriteOp {
  bool bulk = false;
  std::function<Status()> apply;  // runs inside the batch transaction
  // Submit: the answer, valid once `answered` is true (the writer touches
  // the op no more after setting it: the caller may destroy it at once).
  Status result = Ok();
  std::atomic<bool> answered{false};
  // Which batch took the op (the writer's count of batches taken; under the
  // queue's mutex): the caller sleeps on that batch's wake word.
  uint64_t take = 0;
  bool taken = false;
  // Set: the op was allocated with new and is owned by the queue and the
  // writer until Finish. Runs on the writer or the syncer thread: it must
  // only hand off.
  std::function<void(Status)> on_done;

  void Finish(Status s) {
    if (!on_done) {
      result = std::move(s);
      answered.store(true, std::memory_order_release);
      return;
    }
    auto callback = std::move(on_done);
    delete this;
    callback(std::move(s));
  }
};

// A task row as stored, with its rowid.
struct StoredTask {
  int64_t rowid = 0;
  std::string node, person, kind;
  int64_t since = 0;
};

// What the writer knows of an instance it appended to, as its rows stand in
// the database: enough to check the next append's expected version, pick
// the UPDATE of its projection row and rewrite its task rows without
// reading any of them first (SqliteOptions::writer_known_instances).
struct KnownInstance {
  int64_t version = 0;  // its events are versions 1..version
  std::string status;   // its projection row's status and next deadline
  std::optional<int64_t> next_deadline;
  std::vector<StoredTask> tasks;  // its task rows, by rowid
};

// The prepared parts of an append: the audit leaf of each event, which
// stores the event's canonical bytes. Computed on the caller's thread when
// the instance id is known, so the writer (the serial bottleneck) only does
// SQL.
struct PreparedAppend {
  AppendRequest req;
  std::vector<AuditEntry> leaves;
  // Whether the request creates its instance (asked for instance 0). Kept
  // apart from req.instance, which the writer stamps with the new id: a
  // batch that is run again must create the instance again.
  bool new_instance = false;

  void Compute() {
    leaves.clear();
    leaves.reserve(req.events.size());
    for (const Event& e : req.events)
      leaves.push_back(store_internal::EventEntry(e, EncodeEvent(e), req.row.def_hash));
  }
};

}  // namespace

int64_t GroupCommitStats::BucketUpperBound(int i) {
  if (i >= kBuckets - 1) return INT64_MAX;
  return int64_t{1} << i;
}

// ---------------------------------------------------------------------------

struct SqliteStore::Impl {
  explicit Impl(SqliteOptions o) : opt(std::move(o)) {}
  ~Impl() { Shutdown(); }

  SqliteOptions opt;

  // Writer: the thread, its connection and the Merkle appender it owns.
  std::unique_ptr<Db> writer_db;
  std::unique_ptr<DbNodeReader> writer_nodes;
  audit::TreeAppender appender;
  // Nodes written by the current batch at cached levels, published to
  // `node_cache` once it committed.
  std::vector<audit::NodeWrite> batch_nodes;
  // Nodes of level >= 1 the open transaction completed, in the order they
  // were completed; those from `flushed_nodes` on are not in merkle_tree
  // yet (FlushNodes).
  std::vector<audit::NodeWrite> pending_nodes;
  size_t flushed_nodes = 0;
  std::vector<audit::NodeWrite> leaf_nodes;  // WriteLeaves' buffer
  std::unique_ptr<NodeCache> node_cache;
  // KnownInstance of the instances the writer appended to lately: `known`
  // as of the last COMMIT, `known_in_batch` as written by the requests of
  // the open transaction that succeeded, merged into `known` once it
  // committed and dropped if it rolled back. An instance is in at most one
  // of them: an append takes its entry out (TakeKnown) and puts the new one
  // into `known_in_batch` only once every row of the append is written, so a
  // request that fails leaves no entry behind. Any entry may be dropped at
  // any time: the writer then reads the rows again. Writer thread only.
  using KnownMap = std::unordered_map<int64_t, KnownInstance>;
  KnownMap known;
  KnownMap known_in_batch;
  int64_t data_version = -1;  // PRAGMA data_version as of the last check
  std::atomic<int64_t> known_hits{0};
  // Leaves known to be committed (set after each COMMIT and at open).
  std::atomic<int64_t> committed_size{0};
  // The events table holds rows for the event leaves below this index only
  // (schema migration 10); from here on an event is stored in its leaf
  // alone. Read at open, never changes.
  int64_t events_end = 0;

  // The stored events whose leaves lie below `size`: the events table's
  // rows and the event leaves from events_end on.
  Result<int64_t> CountEventsBelow(Db& db, int64_t size) const {
    auto st = db.Prepare(kCountEvents);
    if (!st) return std::unexpected(st.error());
    (*st)->Bind(1, events_end).Bind(2, size);
    auto row = (*st)->Step();
    if (!row) return std::unexpected(row.error());
    return *row ? (*st)->Int(0) : 0;
  }
  // Leaves known to be durable: committed and their WAL frames synced (set
  // by the syncer). LatestCheckpoint serves none over more. At open,
  // everything in the file is durable (the WAL was synced), checkpoints
  // included: a checkpoint over more leaves than the log holds then is still
  // served, as the evidence of a log cut short that it is.
  std::atomic<int64_t> durable_size{0};
  bool writer_state_stale = false;
  std::thread writer;
  std::mutex q_mu;
  std::condition_variable q_cv;
  std::deque<WriteOp*> queue;
  // Batches taken so far (under q_mu). The callers of batch t sleep on
  // wake[t % kWakeWords] and are woken together, with one system call, once
  // the batch is answered; the callers queued meanwhile for the batches
  // after it sleep on other words and stay asleep. A caller knows its batch
  // from its place in the queue (TakeOfQueued).
  static constexpr size_t kWakeWords = 64;
  uint64_t takes = 0;
  std::array<WakeWord, kWakeWords> wake;
  bool stopping = false;
  bool paused = false;  // PauseWriterForTesting
  std::atomic<int> fail_commits{0};

  // Pipelined sync (SqliteOptions::pipelined_sync): the writer commits with
  // the WAL's sync deferred (sqlite::DeferWalSyncs) and hands the batch to
  // the syncer thread, which fdatasyncs the WAL (one sync for every batch
  // committed meanwhile) and only then answers the batch's requests; the
  // writer meanwhile runs the next batch. After a failed sync the state of
  // the file is unknown: every later write is refused (sync_failed).
  struct Committed {
    std::vector<WriteOp*> ops;
    std::vector<Status> results;
    uint64_t take = 0;
    bool waiting = false;  // an op of Submit: wake its batch's callers
    bool sync_owed = false;
    int64_t tree_size = 0;
  };
  int wal_fd = -1;  // the WAL file, opened by the store for its syncs
  std::thread syncer;
  std::mutex s_mu;
  std::condition_variable s_cv;
  std::vector<Committed> committed;  // under s_mu
  bool s_stop = false;               // under s_mu
  bool syncs_paused = false;         // under s_mu; PauseSyncsForTesting
  size_t batches_unsynced = 0;       // under q_mu: handed to the syncer, not answered
  size_t last_batch = 0;             // writer thread: requests of its last batch
  size_t wake_writer_at = 1;         // under q_mu: queued requests worth a wake
  std::atomic<bool> sync_failed{false};
  std::atomic<int> fail_syncs{0};

  // WAL checkpoints.
  std::unique_ptr<Db> checkpoint_db;
  std::thread checkpointer;
  std::mutex cp_mu;
  std::condition_variable cp_cv;
  bool cp_stop = false;
  std::atomic<int> wal_pages{0};

  // Read pool.
  std::mutex r_mu;
  std::condition_variable r_cv;
  std::vector<std::unique_ptr<Db>> readers;

  mutable std::mutex stats_mu;
  GroupCommitStats stats;

  bool shut_down = false;

  // -- lifecycle ------------------------------------------------------------

  void Shutdown() {
    if (shut_down) return;
    shut_down = true;
    {
      std::lock_guard lock(q_mu);
      stopping = true;
    }
    q_cv.notify_all();
    if (writer.joinable()) writer.join();
    {
      std::lock_guard lock(s_mu);
      s_stop = true;
    }
    s_cv.notify_all();
    if (syncer.joinable()) syncer.join();
    if (wal_fd >= 0) ::close(wal_fd);
    wal_fd = -1;
    {
      std::lock_guard lock(cp_mu);
      cp_stop = true;
    }
    cp_cv.notify_all();
    if (checkpointer.joinable()) checkpointer.join();
    readers.clear();
    checkpoint_db.reset();
    writer_nodes.reset();
    writer_db.reset();  // the last connection: SQLite checkpoints the WAL
  }

  // -- reads ----------------------------------------------------------------

  class Lease {
   public:
    Lease(Impl* impl, std::unique_ptr<Db> db) : impl_(impl), db_(std::move(db)) {}
    ~Lease() {
      {
        std::lock_guard lock(impl_->r_mu);
        impl_->readers.push_back(std::move(db_));
      }
      impl_->r_cv.notify_one();
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Db& db() { return *db_; }

   private:
    Impl* impl_;
    std::unique_ptr<Db> db_;
  };

  std::unique_ptr<Lease> AcquireReader() {
    std::unique_lock lock(r_mu);
    r_cv.wait(lock, [&] { return !readers.empty(); });
    auto db = std::move(readers.back());
    readers.pop_back();
    return std::make_unique<Lease>(this, std::move(db));
  }

  // A read transaction: one snapshot for several statements.
  class ReadTxn {
   public:
    explicit ReadTxn(Db& db) : db_(db) {}
    ~ReadTxn() {
      if (open_) {
        if (auto st = db_.Prepare(kCommit); st) (void)(*st)->Run();
      }
    }
    Status Begin() {
      auto st = db_.Prepare(kBegin);
      if (!st) return std::unexpected(st.error());
      if (auto s = (*st)->Run(); !s) return s;
      open_ = true;
      return Ok();
    }

   private:
    Db& db_;
    bool open_ = false;
  };

  static Result<int64_t> QueryAuditSize(Db& db) {
    auto st = db.Prepare(kAuditSize);
    if (!st) return std::unexpected(st.error());
    auto row = (*st)->Step();
    if (!row) return std::unexpected(row.error());
    return (*st)->Int(0);
  }

  // The audit log size to check tree arguments against. Nodes never change
  // once committed, so no read snapshot is needed: if this process knows
  // that `needed` leaves are committed, that answers; otherwise (another
  // process may have appended) the database does.
  Result<int64_t> LogSizeCovering(Db& db, int64_t needed) {
    int64_t known = committed_size.load(std::memory_order_acquire);
    if (needed <= known) return known;
    return QueryAuditSize(db);
  }

  static Result<std::optional<Checkpoint>> QueryLatestCheckpoint(Db& db, int64_t max_size) {
    auto st = db.Prepare(kLatestCheckpoint);
    if (!st) return std::unexpected(st.error());
    (*st)->Bind(1, max_size);
    auto row = (*st)->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return std::optional<Checkpoint>();
    return std::optional<Checkpoint>(ReadCheckpoint(**st));
  }

  // -- the writer -----------------------------------------------------------

  // Queues `op` and waits until the writer answered it.
  Status Submit(WriteOp& op) {
    uint64_t take = 0;  // the batch that takes it: this one or a later one
    bool notify = false;
    {
      std::lock_guard lock(q_mu);
      if (stopping)
        return Unavailable("store_closed", "the SQLite store at " + opt.path +
                                               " is shutting down; nothing was written");
      take = TakeOfQueued(queue.size());
      queue.push_back(&op);
      notify = queue.size() == wake_writer_at;
    }
    if (notify) q_cv.notify_one();
    for (;;) {
      WakeWord& word = wake[take % kWakeWords];
      const uint32_t seen = word.Load();
      if (op.answered.load(std::memory_order_acquire)) break;
      word.Wait(seen);
      if (op.answered.load(std::memory_order_acquire)) break;
      // Woken by another batch (a bulk op ahead of this one took a batch of
      // its own), or spuriously.
      {
        std::lock_guard lock(stats_mu);
        ++stats.early_wakes;
      }
      std::lock_guard lock(q_mu);
      if (op.taken) {
        take = op.take;
      } else {
        size_t ahead = 0;
        while (ahead < queue.size() && queue[ahead] != &op) ++ahead;
        take = TakeOfQueued(ahead);
      }
    }
    return std::move(op.result);
  }

  // The batch that will take an op with `ahead` ops queued before it (under
  // q_mu): every batch before it takes max_batch ops, unless a bulk op (a
  // batch of its own) comes first; then a later one.
  uint64_t TakeOfQueued(size_t ahead) const {
    return takes + ahead / static_cast<size_t>(opt.max_batch);
  }

  // Queues `op` (allocated with new, with on_done set) and returns at once;
  // the writer calls op->Finish after its batch committed or failed. A
  // closing store answers it at once, on the calling thread.
  void SubmitAsync(WriteOp* op) {
    bool notify = false;
    {
      std::lock_guard lock(q_mu);
      if (!stopping) {
        queue.push_back(op);
        op = nullptr;
        notify = queue.size() == wake_writer_at;
      }
    }
    if (op == nullptr) {
      if (notify) q_cv.notify_one();
      return;
    }
    op->Finish(Unavailable("store_closed", "the SQLite store at " + opt.path +
                                               " is shutting down; nothing was written"));
  }

  void WriterLoop() {
    std::vector<WriteOp*> batch;
    uint64_t take = 0;
    bool waiting = false;  // the batch holds an op of Submit
    for (;;) {
      batch.clear();
      MaybeRestartWal();
      {
        std::unique_lock lock(q_mu);
        // While a batch waits for its sync, the writer starts the next only
        // once half as many requests as the last batch had are queued:
        // under a light load it lets more requests gather (a batch's pages
        // are written once however many requests share them) instead of
        // committing each one or two on their own.
        // (Queuing calls wake the writer only when the queue reaches
        // wake_writer_at.)
        q_cv.wait(lock, [&] {
          if (stopping) return true;
          wake_writer_at =
              batches_unsynced == 0 ? 1 : std::max<size_t>(1, last_batch / 2);
          return !paused && queue.size() >= wake_writer_at;
        });
        wake_writer_at = 1;
        if (queue.empty()) return;  // stopping, and every request answered
        if (queue.front()->bulk) {
          batch.push_back(queue.front());
          queue.pop_front();
        } else {
          while (!queue.empty() && !queue.front()->bulk &&
                 batch.size() < static_cast<size_t>(opt.max_batch)) {
            batch.push_back(queue.front());
            queue.pop_front();
          }
        }
        take = takes++;
        last_batch = batch.size();
        waiting = false;
        for (WriteOp* op : batch) {
          op->take = take;
          op->taken = true;
          waiting = waiting || !op->on_done;
        }
      }
      const bool handed_off = batch.front()->bulk ? RunBulk(*batch.front(), take, waiting)
                                                  : RunBatch(batch, take, waiting);
      // Every op of the batch is answered (and may be gone): one wake for
      // all the callers that wait for it. A committed batch is answered,
      // and its callers woken, by the syncer.
      if (waiting && !handed_off) {
        {
          std::lock_guard lock(stats_mu);
          ++stats.caller_wakes;
        }
        wake[take % kWakeWords].WakeAll();
      }
    }
  }

  Status Exec(const char* sql) {
    auto st = writer_db->Prepare(sql);
    if (!st) return std::unexpected(st.error());
    return (*st)->Run();
  }

  // Writes the pending Merkle nodes to merkle_tree, in statements of up to
  // kNodesPerInsert rows (a power of two each). Before a COMMIT, and before the writer reads
  // nodes of the open transaction back (WriteCheckpoint).
  Status FlushNodes() {
    while (flushed_nodes < pending_nodes.size()) {
      const size_t n =
          std::bit_floor(std::min(kNodesPerInsert, pending_nodes.size() - flushed_nodes));
      auto st = writer_db->Prepare(InsertNodesSql(n));
      if (!st) return std::unexpected(st.error());
      for (size_t i = 0; i < n; ++i) {
        const audit::NodeWrite& w = pending_nodes[flushed_nodes + i];
        (*st)->Bind(static_cast<int>(2 * i + 1), NodePos(w.ref));
        (*st)->BindBlobUncopied(static_cast<int>(2 * i + 2), w.hash);
      }
      if (auto s = (*st)->Run(); !s) return s;
      flushed_nodes += n;
    }
    return Ok();
  }

  void DropPendingNodes() {
    pending_nodes.clear();
    flushed_nodes = 0;
  }

  // Drops everything the writer knows of instances (KnownInstance).
  void ForgetKnown() {
    known.clear();
    known_in_batch.clear();
  }

  // Called at the start of every write transaction: if another connection
  // committed since the writer last looked, what it knows of instances may
  // be stale, so it is dropped.
  Status CheckDataVersion() {
    auto st = writer_db->Prepare(kDataVersion);
    if (!st) return std::unexpected(st.error());
    auto row = (*st)->Step();
    if (!row) return std::unexpected(row.error());
    const int64_t v = *row ? (*st)->Int(0) : -1;
    if (v != data_version) {
      ForgetKnown();
      data_version = v;
    }
    return Ok();
  }

  // Begins a write transaction (BEGIN IMMEDIATE) and checks data_version.
  Status BeginWrite() {
    if (auto s = Exec(kBeginImmediate); !s) return s;
    return CheckDataVersion();
  }

  // Takes the entry of instance `id` out of what the writer knows, if any.
  std::optional<KnownInstance> TakeKnown(InstanceId id) {
    for (KnownMap* m : {&known_in_batch, &known}) {
      auto it = m->find(id.value);
      if (it == m->end()) continue;
      std::optional<KnownInstance> out(std::move(it->second));
      m->erase(it);
      return out;
    }
    return std::nullopt;
  }

  // After a COMMIT: what the batch wrote becomes what the writer knows.
  // At most writer_known_instances: past that, the writer starts again from
  // none (a batch that alone wrote more, only a bulk load, is not kept).
  void CommitKnown() {
    if (known_in_batch.empty()) return;
    const size_t most = static_cast<size_t>(opt.writer_known_instances);
    if (known.size() + known_in_batch.size() > most) known.clear();
    if (known_in_batch.size() <= most) known.merge(known_in_batch);
    known_in_batch.clear();
  }

  // Re-reads the Merkle tree state after a failed transaction, in case the
  // failure left the database in a state other than the one we expect.
  Status ReloadWriterState() {
    ForgetKnown();
    DropPendingNodes();
    auto size = QueryAuditSize(*writer_db);
    if (!size) return std::unexpected(size.error());
    auto restored = audit::TreeAppender::Restore(*size, *writer_nodes);
    if (!restored) return std::unexpected(restored.error());
    appender = std::move(*restored);
    if (auto s = node_cache->Load(*writer_db, *size); !s) return s;
    committed_size.store(*size, std::memory_order_release);
    writer_state_stale = false;
    return Ok();
  }

  void FailAll(const std::vector<WriteOp*>& batch, const Error& why) {
    {
      std::lock_guard lock(stats_mu);
      ++stats.failed_batches;
      stats.failed_requests += static_cast<int64_t>(batch.size());
    }
    for (WriteOp* op : batch) op->Finish(std::unexpected(why));
  }

  // Abandons the open transaction of a failed batch.
  void AbortBatch(const std::vector<WriteOp*>& batch, const Error& why) {
    if (writer_db->InTransaction()) (void)writer_db->Exec(kRollback, "rollback");
    writer_state_stale = true;
    if (ReloadWriterState()) writer_state_stale = false;
    FailAll(batch, why);
  }

  static Error BatchError(size_t n, const Error& cause) {
    // A full disk keeps its reason: the client should wait for space, not
    // retry at once.
    return Error{ErrorCode::kUnavailable,
                 cause.reason == "storage_full" ? "storage_full" : "commit_failed",
                 "a batch of " + Num(static_cast<int64_t>(n)) +
                     " writes could not be committed, none of it was "
                     "stored; retry: " +
                     cause.message};
  }

  // How RunOps ended.
  enum class Ops {
    kDone,     // every op ran; `results` holds each answer
    kRefused,  // optimistic pass: an op was refused; nothing answered yet
    kAborted,  // the transaction failed; the whole batch was answered
  };

  // Runs the batch's ops in the open transaction, filling `results`.
  // Optimistic (`isolated` false): one after another with no SAVEPOINT, and
  // stops at the first refused op. Isolated: each op in its own SAVEPOINT, so
  // a refused op is rolled back alone and its batch-mates still commit.
  Ops RunOps(const std::vector<WriteOp*>& batch, bool isolated,
             std::vector<Status>& results) {
    for (WriteOp* op : batch) {
      if (!isolated) {
        Status r = op->apply();
        if (!r) {
          // Some errors (I/O, full disk) make SQLite roll the whole
          // transaction back: then nothing of the batch survives.
          if (!writer_db->InTransaction()) {
            AbortBatch(batch, BatchError(batch.size(), r.error()));
            return Ops::kAborted;
          }
          return Ops::kRefused;
        }
        results.push_back(std::move(r));
        continue;
      }
      audit::TreeAppender before = appender;
      size_t nodes_before = batch_nodes.size();
      // ROLLBACK TO also takes back the nodes the op flushed (a checkpoint).
      const size_t pending_before = pending_nodes.size(), flushed_before = flushed_nodes;
      Status step = Exec(kSavepoint);
      Status r = Ok();
      if (step) {
        r = op->apply();
        if (r) {
          step = Exec(kRelease);
        } else {
          appender = std::move(before);
          batch_nodes.resize(nodes_before);
          pending_nodes.resize(pending_before);
          flushed_nodes = flushed_before;
          if (!writer_db->InTransaction()) {
            AbortBatch(batch, BatchError(batch.size(), r.error()));
            return Ops::kAborted;
          }
          step = Exec(kRollbackTo);
          if (step) step = Exec(kRelease);
        }
      }
      if (!step) {
        AbortBatch(batch, BatchError(batch.size(), step.error()));
        return Ops::kAborted;
      }
      results.push_back(std::move(r));
    }
    return Ops::kDone;
  }

  // The error of every write after a failed sync of the WAL.
  Error SyncFailedError() const {
    return Error{ErrorCode::kUnavailable, "storage_failed",
                 "an earlier sync of " + opt.path +
                     "-wal failed, so what that file holds is unknown; the store "
                     "takes no more writes: restart approvald (SQLite recovers the WAL "
                     "up to its last complete commit)"};
  }

  // Runs a batch in one transaction. Returns true if it committed: its ops
  // are then answered by the syncer (HandToSyncer), else they were answered
  // here.
  bool RunBatch(const std::vector<WriteOp*>& batch, uint64_t take, bool waiting) {
    if (sync_failed.load(std::memory_order_acquire)) {
      FailAll(batch, SyncFailedError());
      return false;
    }
    if (writer_state_stale) {
      if (auto s = ReloadWriterState(); !s) {
        FailAll(batch, BatchError(batch.size(), s.error()));
        return false;
      }
    }
    if (auto s = BeginWrite(); !s) {
      AbortBatch(batch, BatchError(batch.size(), s.error()));
      return false;
    }
    std::vector<Status> results;
    results.reserve(batch.size());
    batch_nodes.clear();
    DropPendingNodes();
    // Nearly every batch refuses nothing, so it first runs without a
    // SAVEPOINT per op (each costs statements and a copy of every page the op
    // touches into the sub-journal). If an op is refused, the whole
    // transaction is rolled back and the batch runs again with each op in
    // its own SAVEPOINT: the ops are deterministic, so every op answers
    // exactly what that isolated pass alone would answer.
    audit::TreeAppender start = appender;
    Ops ran = RunOps(batch, /*isolated=*/false, results);
    if (ran == Ops::kAborted) return false;
    if (ran == Ops::kRefused) {
      {
        std::lock_guard lock(stats_mu);
        ++stats.isolated_reruns;
      }
      if (auto s = Exec(kRollback); !s) {
        AbortBatch(batch, BatchError(batch.size(), s.error()));
        return false;
      }
      appender = std::move(start);
      batch_nodes.clear();
      DropPendingNodes();
      known_in_batch.clear();
      results.clear();
      if (auto s = BeginWrite(); !s) {
        AbortBatch(batch, BatchError(batch.size(), s.error()));
        return false;
      }
      if (RunOps(batch, /*isolated=*/true, results) == Ops::kAborted) return false;
    }
    if (auto s = FlushNodes(); !s) {
      AbortBatch(batch, BatchError(batch.size(), s.error()));
      return false;
    }
    bool sync_owed = false;
    Status commit = CommitDeferringSync(sync_owed);
    if (!commit) {
      AbortBatch(batch, BatchError(batch.size(), commit.error()));
      return false;
    }
    node_cache->Publish(batch_nodes);
    DropPendingNodes();
    CommitKnown();
    committed_size.store(appender.size(), std::memory_order_release);
    {
      std::lock_guard lock(stats_mu);
      int64_t n = static_cast<int64_t>(batch.size());
      ++stats.batches;
      stats.requests += n;
      stats.max_batch = std::max(stats.max_batch, n);
      int bucket = std::min<int>(std::bit_width(static_cast<uint64_t>(n - 1)),
                                 GroupCommitStats::kBuckets - 1);
      ++stats.histogram[bucket];
    }
    HandToSyncer(batch, std::move(results), take, waiting, sync_owed);
    return true;
  }

  // COMMIT. With pipelined sync, the WAL's sync is deferred: `sync_owed`
  // tells whether the syncer must still make one before the batch is
  // answered.
  Status CommitDeferringSync(bool& sync_owed) {
    sync_owed = false;
    if (fail_commits.load() > 0 && fail_commits.fetch_sub(1) > 0)
      return Unavailable("storage_failed", "COMMIT refused by FailCommitsForTesting");
    if (wal_fd < 0) return Exec(kCommit);
    const bool deferring = sqlite::DeferWalSyncs(writer_db->get(), true) >= 0;
    Status commit = Exec(kCommit);
    if (deferring) sync_owed = sqlite::DeferWalSyncs(writer_db->get(), false) == 1;
    return commit;
  }

  void HandToSyncer(const std::vector<WriteOp*>& batch, std::vector<Status> results,
                    uint64_t take, bool waiting, bool sync_owed) {
    Committed c;
    c.ops = batch;
    c.results = std::move(results);
    c.take = take;
    c.waiting = waiting;
    c.sync_owed = sync_owed;
    c.tree_size = appender.size();
    {
      std::lock_guard lock(q_mu);
      ++batches_unsynced;
    }
    {
      std::lock_guard lock(s_mu);
      committed.push_back(std::move(c));
    }
    s_cv.notify_one();
  }

  // fdatasync of the WAL, through the store's own descriptor (the writer
  // goes on writing through SQLite's meanwhile).
  Status SyncWal() {
    if (fail_syncs.load() > 0 && fail_syncs.fetch_sub(1) > 0)
      return Unavailable("storage_failed", "WAL sync refused by FailSyncsForTesting");
    int rc;
    do {
      rc = ::fdatasync(wal_fd);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0)
      return Unavailable(errno == ENOSPC ? "storage_full" : "storage_failed",
                         "syncing " + opt.path + "-wal failed: " + std::strerror(errno));
    return Ok();
  }

  // The syncer thread: answers committed batches in the order they
  // committed, after one sync of the WAL for all of those that owe one.
  void SyncerLoop() {
    std::vector<Committed> done;
    for (;;) {
      {
        std::unique_lock lock(s_mu);
        s_cv.wait(lock, [&] { return (!committed.empty() && !syncs_paused) || s_stop; });
        if (committed.empty()) return;  // stopping, and every batch answered
        done.swap(committed);
      }
      bool owed = false;
      for (const Committed& c : done) owed = owed || c.sync_owed;
      // Set: the requests that succeeded are answered with it instead.
      std::optional<Error> unknown;
      if (sync_failed.load(std::memory_order_acquire)) {
        // Batches after a failed sync: their commit may be lost with it.
        unknown = SyncFailedError();
      } else if (owed) {
        Status s = SyncWal();
        {
          std::lock_guard lock(stats_mu);
          ++stats.wal_syncs;
          if (!s) ++stats.wal_sync_failures;
        }
        if (!s) {
          sync_failed.store(true, std::memory_order_release);
          unknown = Error{ErrorCode::kUnavailable, s.error().reason,
                          "the batch committed, but " + s.error().message +
                              "; whether it is stored is unknown"};
        }
      }
      if (unknown) {
        for (Committed& c : done)
          for (Status& r : c.results)
            if (r) r = std::unexpected(*unknown);
      } else if (done.back().tree_size > durable_size.load(std::memory_order_relaxed)) {
        durable_size.store(done.back().tree_size, std::memory_order_release);
      }
      for (Committed& c : done) {
        for (size_t i = 0; i < c.ops.size(); ++i) c.ops[i]->Finish(std::move(c.results[i]));
        if (c.waiting) {
          {
            std::lock_guard lock(stats_mu);
            ++stats.caller_wakes;
          }
          wake[c.take % kWakeWords].WakeAll();
        }
      }
      {
        std::lock_guard lock(q_mu);
        batches_unsynced -= done.size();
      }
      q_cv.notify_one();
      done.clear();
    }
  }

  bool RunBulk(WriteOp& op, uint64_t take, bool waiting) {
    std::vector<WriteOp*> one{&op};
    if (sync_failed.load(std::memory_order_acquire)) {
      FailAll(one, SyncFailedError());
      return false;
    }
    if (writer_state_stale) {
      if (auto s = ReloadWriterState(); !s) {
        FailAll(one, BatchError(1, s.error()));
        return false;
      }
    }
    (void)writer_db->Exec("PRAGMA synchronous = OFF", "bulk load");
    audit::TreeAppender before = appender;
    batch_nodes.clear();
    DropPendingNodes();
    Status s = BeginWrite();
    if (s) s = op.apply();
    if (s) s = FlushNodes();
    if (s) s = Exec(kCommit);
    if (s) {
      node_cache->Publish(batch_nodes);
      CommitKnown();
      committed_size.store(appender.size(), std::memory_order_release);
    }
    if (!s) {
      if (writer_db->InTransaction()) (void)writer_db->Exec(kRollback, "rollback");
      appender = std::move(before);
      (void)ReloadWriterState();
    }
    (void)writer_db->Exec("PRAGMA synchronous = FULL", "bulk load");
    if (!s) {
      op.Finish(std::move(s));
      return false;
    }
    // Answered in commit order, after the syncs the batches before it owe.
    std::vector<Status> results;
    results.push_back(std::move(s));
    HandToSyncer(one, std::move(results), take, waiting, /*sync_owed=*/false);
    return true;
  }

  // Adds the leaves `leaves` to audit_log, one statement each, and the
  // nodes of level >= 1 they complete to the transaction's pending nodes
  // (FlushNodes); sets each leaf's index. Its level-0 node is the leaf's own
  // leaf_hash column (migration 8), so no row is written for it. Writer
  // thread only.
  Status WriteLeaves(std::span<AuditEntry> leaves) {
    auto st = writer_db->Prepare(kInsertLeaf);
    if (!st) return std::unexpected(st.error());
    for (size_t i = 0; i < leaves.size(); ++i) {
      AuditEntry& e = leaves[i];
      e.index = appender.size() + static_cast<int64_t>(i);
      (*st)->Bind(1, e.index).BindUncopied(2, e.kind).Bind(3, e.at.ms);
      if (e.kind == "event")
        (*st)->Bind(4, e.instance.value).Bind(5, e.version);
      else
        (*st)->BindNull(4).BindNull(5);
      (*st)
          ->BindUncopied(6, e.type)
          .BindUncopied(7, e.actor.value)
          .BindUncopied(8, e.def_hash);
      (*st)->BindBlobUncopied(9, e.leaf_data).BindBlobUncopied(10, e.leaf_hash);
      if (auto s = (*st)->Run(); !s) return s;
      (*st)->Reset();
    }
    for (const AuditEntry& e : leaves) {
      appender.Append(e.leaf_hash, &leaf_nodes);
      for (const audit::NodeWrite& w : leaf_nodes) {
        if (w.ref.level == 0) continue;
        pending_nodes.push_back(w);  // written before the COMMIT (FlushNodes)
        if (w.ref.level >= node_cache->min_level()) batch_nodes.push_back(w);
      }
    }
    return Ok();
  }

  // Writes the instance's projection row. For an existing row (`existing`),
  // first the narrowest UPDATE, which applies only if the row's indexed and
  // fixed columns already hold the wanted values (the usual append), then
  // one that also sets the next deadline, which applies only if the status
  // and the fixed columns hold them (a step to another node), then one that
  // also sets the status, which applies only if the fixed columns hold them;
  // if none changed the row, the full upsert. Each UPDATE rewrites the
  // entries of only the indexes whose columns its SET names. With `prior`
  // (what the writer knows of the row), it starts at the UPDATE that
  // applies and skips those that would change nothing.
  Status WriteInstanceRow(InstanceId id, const InstanceRow& r, bool existing,
                          const KnownInstance* prior) {
    if (existing) {
      static constexpr const char* kUpdates[] = {
          kUpdateInstanceBody, kUpdateInstanceBodyAndDeadline, kUpdateInstanceBodyAndIndexed};
      size_t first = 0;
      if (prior) {
        const bool same_deadline =
            r.next_deadline ? prior->next_deadline == r.next_deadline->ms
                            : !prior->next_deadline.has_value();
        first = prior->status != r.status ? 2 : !same_deadline ? 1 : 0;
      }
      for (size_t i = first; i < std::size(kUpdates); ++i) {
        auto st = writer_db->Prepare(kUpdates[i]);
        if (!st) return std::unexpected(st.error());
        (*st)->Bind(1, id.value).BindUncopied(2, r.title).Bind(3, r.amount.fen);
        (*st)
            ->BindUncopied(4, r.current_nodes)
            .Bind(5, r.version)
            .Bind(6, r.updated_at.ms);
        (*st)->BindUncopied(7, r.status);
        if (r.next_deadline)
          (*st)->Bind(8, r.next_deadline->ms);
        else
          (*st)->BindNull(8);
        (*st)->BindUncopied(9, r.workflow).Bind(10, int64_t{r.workflow_version});
        (*st)
            ->BindUncopied(11, r.def_hash)
            .BindUncopied(12, r.submitter.value)
            .Bind(13, r.created_at.ms);
        if (auto s = (*st)->Run(); !s) return s;
        if (sqlite3_changes(writer_db->get()) > 0) return Ok();
      }
    }
    auto st = writer_db->Prepare(kUpsertInstance);
    if (!st) return std::unexpected(st.error());
    (*st)
        ->Bind(1, id.value)
        .BindUncopied(2, r.workflow)
        .Bind(3, int64_t{r.workflow_version})
        .BindUncopied(4, r.def_hash)
        .BindUncopied(5, r.status)
        .BindUncopied(6, r.submitter.value)
        .BindUncopied(7, r.title)
        .Bind(8, r.amount.fen)
        .BindUncopied(9, r.current_nodes)
        .Bind(10, r.version)
        .Bind(11, r.created_at.ms)
        .Bind(12, r.updated_at.ms);
    if (r.next_deadline)
      (*st)->Bind(13, r.next_deadline->ms);
    else
      (*st)->BindNull(13);
    return (*st)->Run();
  }

  // Makes the instance's task rows equal `tasks` (as a multiset; instance
  // ids in `tasks` are ignored), writing only what differs: a stored row
  // equal to a wanted one stays as it is, one that differs only in `since`
  // is updated in place (one index entry moves), a stored row no longer
  // wanted is rewritten in place as a wanted one that is not stored yet
  // (a pending task that is done, one person's turn passed to the next),
  // and only what is left over is deleted or inserted. Rewriting every row
  // instead deletes and re-inserts each row and both of its index entries on
  // every append. The stored rows are `known` if the writer knows them
  // (KnownInstance), else read; `out` receives the rows as they then stand.
  Status WriteTasks(InstanceId id, const std::vector<TaskRow>& tasks,
                    std::vector<StoredTask>* known_rows, std::vector<StoredTask>& out) {
    struct Stored {
      StoredTask row;
      bool matched = false;
    };
    std::vector<Stored> stored;
    if (known_rows) {
      stored.reserve(known_rows->size());
      for (StoredTask& t : *known_rows) stored.push_back(Stored{std::move(t)});
    } else {
      auto st = writer_db->Prepare(kSelectTasks);
      if (!st) return std::unexpected(st.error());
      (*st)->Bind(1, id.value);
      for (;;) {
        auto row = (*st)->Step();
        if (!row) return std::unexpected(row.error());
        if (!*row) break;
        stored.push_back(Stored{StoredTask{(*st)->Int(0), (*st)->Text(1), (*st)->Text(2),
                                           (*st)->Text(3), (*st)->Int(4)}});
      }
    }
    auto same_key = [](const Stored& s, const TaskRow& t) {
      return !s.matched && s.row.node == t.node && s.row.person == t.person.value &&
             s.row.kind == t.kind;
    };
    // Pass 1: rows stored exactly as wanted. Pass 2: rows whose `since`
    // moved. What is left is inserted (wanted) or deleted (stored).
    std::vector<char> done(tasks.size(), 0);
    for (size_t i = 0; i < tasks.size(); ++i) {
      for (Stored& s : stored) {
        if (same_key(s, tasks[i]) && s.row.since == tasks[i].since.ms) {
          s.matched = true;
          done[i] = 1;
          break;
        }
      }
    }
    for (size_t i = 0; i < tasks.size(); ++i) {
      if (done[i]) continue;
      for (Stored& s : stored) {
        if (!same_key(s, tasks[i])) continue;
        auto st = writer_db->Prepare(kUpdateTaskSince);
        if (!st) return std::unexpected(st.error());
        (*st)->Bind(1, s.row.rowid).Bind(2, tasks[i].since.ms);
        if (auto r = (*st)->Run(); !r) return r;
        s.row.since = tasks[i].since.ms;
        s.matched = true;
        done[i] = 1;
        break;
      }
    }
    // Pass 3: a stored row left over becomes a wanted row left over, the
    // same node and person first (a task that changes only its kind).
    auto replace = [&](Stored& s, size_t i) -> Status {
      const TaskRow& t = tasks[i];
      auto st = writer_db->Prepare(kReplaceTask);
      if (!st) return std::unexpected(st.error());
      (*st)->Bind(1, s.row.rowid).BindUncopied(2, t.node).BindUncopied(3, t.person.value);
      (*st)->BindUncopied(4, t.kind).Bind(5, t.since.ms);
      if (auto r = (*st)->Run(); !r) return r;
      s.row = StoredTask{s.row.rowid, t.node, t.person.value, t.kind, t.since.ms};
      s.matched = true;
      done[i] = 1;
      return Ok();
    };
    for (bool same_place : {true, false}) {
      for (size_t i = 0; i < tasks.size(); ++i) {
        if (done[i]) continue;
        for (Stored& s : stored) {
          if (s.matched) continue;
          if (same_place &&
              (s.row.node != tasks[i].node || s.row.person != tasks[i].person.value))
            continue;
          if (auto r = replace(s, i); !r) return r;
          break;
        }
      }
    }
    for (const Stored& s : stored) {
      if (s.matched) continue;
      auto st = writer_db->Prepare(kDeleteTask);
      if (!st) return std::unexpected(st.error());
      (*st)->Bind(1, s.row.rowid);
      if (auto r = (*st)->Run(); !r) return r;
    }
    out.clear();
    for (Stored& s : stored)
      if (s.matched) out.push_back(std::move(s.row));
    for (size_t i = 0; i < tasks.size(); ++i) {
      if (done[i]) continue;
      const TaskRow& t = tasks[i];
      auto st = writer_db->Prepare(kInsertTask);
      if (!st) return std::unexpected(st.error());
      (*st)->Bind(1, id.value).BindUncopied(2, t.node).BindUncopied(3, t.person.value);
      (*st)->BindUncopied(4, t.kind).Bind(5, t.since.ms);
      if (auto r = (*st)->Run(); !r) return r;
      out.push_back(StoredTask{sqlite3_last_insert_rowid(writer_db->get()), t.node,
                               t.person.value, t.kind, t.since.ms});
    }
    // In rowid order, as the SELECT above reads them (through
    // tasks_by_instance), so that the next append matches rows alike either way.
    std::sort(out.begin(), out.end(),
              [](const StoredTask& a, const StoredTask& b) { return a.rowid < b.rowid; });
    return Ok();
  }

  Result<AppendResult> WriteAppend(PreparedAppend& p) {
    AppendRequest& req = p.req;
    if (!req.idempotency_key.empty()) {
      auto st = writer_db->Prepare(kSelectIdempotency);
      if (!st) return std::unexpected(st.error());
      (*st)->BindUncopied(1, req.idempotency_owner).BindUncopied(2, req.idempotency_key);
      auto row = (*st)->Step();
      if (!row) return std::unexpected(row.error());
      if (*row) {
        if ((*st)->TextView(0) != req.request_hash)
          return store_internal::IdempotencyMismatch(req);
        AppendResult r;
        r.instance = InstanceId{(*st)->Int(1)};
        r.version = (*st)->Int(2);
        r.first_leaf = (*st)->Int(3);
        r.replayed = true;
        return r;
      }
    }
    InstanceId id = p.new_instance ? InstanceId{} : req.instance;
    // What the writer knows of the instance, taken out until the append is
    // written (a failed append leaves no entry behind).
    std::optional<KnownInstance> prior;
    if (!p.new_instance && opt.writer_known_instances > 0) prior = TakeKnown(id);
    if (prior && prior->version == req.expected_version) {
      // Its events are 1..expected_version: nothing to read. (A version
      // that differs is read again below, and the conflict named from the
      // audit log.)
      known_hits.fetch_add(1, std::memory_order_relaxed);
    } else if (p.new_instance) {
      auto st = writer_db->Prepare(kNextInstance);
      if (!st) return std::unexpected(st.error());
      auto row = (*st)->Step();
      if (!row) return std::unexpected(row.error());
      id = InstanceId{(*st)->Int(0)};
      store_internal::StampInstance(req, id);
      p.Compute();
    } else {
      prior.reset();
      auto st = writer_db->Prepare(kMaxVersion);
      if (!st) return std::unexpected(st.error());
      (*st)->Bind(1, id.value);
      auto row = (*st)->Step();
      if (!row) return std::unexpected(row.error());
      if ((*st)->IsNull(0)) return store_internal::InstanceNotFound(id);
      int64_t actual = (*st)->Int(0);
      if (actual != req.expected_version)
        return store_internal::VersionConflict(id, req.expected_version, actual);
    }

    AppendResult result;
    result.instance = id;
    result.version = req.row.version;
    result.first_leaf = appender.size();
    // The events are stored in their leaves (schema migration 10).
    if (auto s = WriteLeaves(p.leaves); !s) return std::unexpected(s.error());
    if (auto s = WriteInstanceRow(id, req.row, !p.new_instance, prior ? &*prior : nullptr);
        !s)
      return std::unexpected(s.error());
    KnownInstance now;
    now.version = req.row.version;
    now.status = req.row.status;
    if (req.row.next_deadline) now.next_deadline = req.row.next_deadline->ms;
    if (auto s = WriteTasks(id, req.tasks, prior ? &prior->tasks : nullptr, now.tasks); !s)
      return std::unexpected(s.error());
    if (req.facts) {
      auto del = writer_db->Prepare(kDeleteFacts);
      if (!del) return std::unexpected(del.error());
      (*del)->Bind(1, id.value);
      if (auto s = (*del)->Run(); !s) return std::unexpected(s.error());
      auto st = writer_db->Prepare(kInsertFact);
      if (!st) return std::unexpected(st.error());
      for (const FactRow& f : *req.facts) {
        if (f.exclusive) {
          auto held = writer_db->Prepare(kExclusiveHolder);
          if (!held) return std::unexpected(held.error());
          (*held)->Bind(1, f.kind).Bind(2, f.key).Bind(3, id.value);
          auto row = (*held)->Step();
          if (!row) return std::unexpected(row.error());
          if (*row) return store_internal::DuplicateFact(f, InstanceId{(*held)->Int(0)});
        }
        std::string data = EncodeValue(Value::Of(f.data));
        (*st)->Bind(1, id.value).Bind(2, f.kind).Bind(3, f.key).Bind(4, data);
        (*st)->Bind(5, int64_t{f.exclusive ? 1 : 0});
        if (auto s = (*st)->Run(); !s) return std::unexpected(s.error());
        (*st)->Reset();
      }
    }
    if (!req.idempotency_key.empty()) {
      auto st = writer_db->Prepare(kInsertIdempotency);
      if (!st) return std::unexpected(st.error());
      (*st)->BindUncopied(1, req.idempotency_owner).BindUncopied(2, req.idempotency_key);
      (*st)->BindUncopied(3, req.request_hash).Bind(4, id.value);
      (*st)->Bind(5, result.version).Bind(6, result.first_leaf);
      if (auto s = (*st)->Run(); !s) return std::unexpected(s.error());
    }
    if (opt.writer_known_instances > 0) known_in_batch.insert_or_assign(id.value, std::move(now));
    return result;
  }

  Status WriteCheckpoint(const Checkpoint& cp) {
    // The root at an earlier size may need nodes this transaction completed.
    if (auto s = FlushNodes(); !s) return s;
    auto latest = QueryLatestCheckpoint(*writer_db, std::numeric_limits<int64_t>::max());
    if (!latest) return std::unexpected(latest.error());
    Hash root{};
    if (cp.size == appender.size()) {
      root = appender.Root();
    } else if (cp.size >= 0 && cp.size < appender.size()) {
      auto r = audit::RootAt(*writer_nodes, cp.size);
      if (!r) return std::unexpected(r.error());
      root = *r;
    }
    if (auto s = store_internal::ValidateCheckpoint(cp, appender.size(), *latest, root);
        !s)
      return s;
    auto st = writer_db->Prepare(kInsertCheckpoint);
    if (!st) return std::unexpected(st.error());
    (*st)->Bind(1, cp.size).BindBlob(2, cp.root).Bind(3, cp.at.ms);
    (*st)->BindBlob(4, cp.signature);
    return (*st)->Run();
  }

  // -- WAL checkpoints ------------------------------------------------------

  static int WalHook(void* arg, sqlite3*, const char*, int pages) {
    auto* self = static_cast<Impl*>(arg);
    self->wal_pages.store(pages, std::memory_order_relaxed);
    if (pages >= self->opt.checkpoint_wal_pages) self->cp_cv.notify_one();
    return SQLITE_OK;
  }

  // Runs PASSIVE checkpoints on its own connection whenever the WAL has
  // grown by checkpoint_wal_pages frames since the last one, or every
  // checkpoint_interval_ms if it grew at all. PASSIVE never waits for the
  // writer or readers, so commits never wait for it.
  void CheckpointLoop() {
    int64_t backfilled = 0;  // WAL frames our last checkpoint copied
    auto pending = [&] {
      int64_t pages = wal_pages.load();
      if (pages < backfilled) backfilled = 0;  // the WAL restarted
      return pages - backfilled;
    };
    std::unique_lock lock(cp_mu);
    for (;;) {
      cp_cv.wait_for(lock, std::chrono::milliseconds(opt.checkpoint_interval_ms),
                     [&] { return cp_stop || pending() >= opt.checkpoint_wal_pages; });
      if (cp_stop) return;
      if (pending() <= 0) continue;
      lock.unlock();
      int log = 0, copied = 0;
      int rc = sqlite3_wal_checkpoint_v2(checkpoint_db->get(), nullptr,
                                         SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
      {
        std::lock_guard s(stats_mu);
        ++stats.wal_checkpoints;
        if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY) ++stats.wal_checkpoint_errors;
      }
      lock.lock();
      if (rc == SQLITE_OK) backfilled = copied;
    }
  }

  // Under continuous load the checkpoint thread never quite catches up at
  // the moment a write transaction starts, and SQLite restarts the WAL from
  // its beginning only then: the WAL would grow without bound. So once it
  // holds wal_restart_pages frames, the writer itself checkpoints between
  // two batches (nothing is being written then, so the checkpoint can copy
  // every frame) and the next transaction restarts the WAL.
  void MaybeRestartWal() {
    if (wal_pages.load() < opt.wal_restart_pages) return;
    int rc = sqlite3_wal_checkpoint_v2(writer_db->get(), nullptr,
                                       SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    // BUSY: the checkpoint thread was at it; try again after the next batch.
    if (rc == SQLITE_OK) wal_pages.store(0);
    std::lock_guard s(stats_mu);
    ++stats.wal_restarts;
    if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY) ++stats.wal_checkpoint_errors;
  }
};

// ---------------------------------------------------------------------------

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& options) {
  if (options.path.empty())
    return InvalidArgument("bad_store_options", "the SQLite store needs a database path");
  if (options.read_connections < 1 || options.max_batch < 1 ||
      options.busy_timeout_ms < 0 || options.checkpoint_wal_pages < 1 ||
      options.checkpoint_interval_ms < 1 ||
      options.wal_restart_pages < options.checkpoint_wal_pages ||
      options.cached_node_level < 0 || options.writer_known_instances < 0)
    return InvalidArgument("bad_store_options",
                           "read_connections, max_batch, checkpoint_wal_pages "
                           "and checkpoint_interval_ms must be >= 1, "
                           "wal_restart_pages >= checkpoint_wal_pages");
  auto impl = std::make_unique<Impl>(options);
  const char* writer_vfs = nullptr;
  if (options.writer_wal_batching && !(writer_vfs = sqlite::WalBatchVfsName())) {
    return Unavailable("storage_failed",
                       "cannot register SQLite's WAL-batching VFS for " + options.path +
                           " (writer_wal_batching)");
  }
  auto writer = Db::Open(options.path, /*create=*/true, "writer", writer_vfs);
  if (!writer) return std::unexpected(writer.error());
  impl->writer_db = std::move(*writer);
  if (auto s = ConfigureConnection(*impl->writer_db, options, false); !s)
    return std::unexpected(s.error());
  if (auto s = sqlite::ApplyMigrations(*impl->writer_db); !s)
    return std::unexpected(s.error());
  {
    auto st = impl->writer_db->Prepare(kEventsEnd);
    if (!st) return std::unexpected(st.error());
    auto row = (*st)->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row)
      return MakeError(ErrorCode::kInternal, "integrity_violation",
                       options.path + ": events_end holds no row (schema migration 10)");
    impl->events_end = (*st)->Int(0);
  }
  // A statement that may fail halfway keeps the pages it changes in a
  // statement journal (a SAVEPOINT likewise); past 64 KiB SQLite moves it to
  // a temporary file, and every later statement of that batch's transaction
  // then writes to the file a page at a time. The journal only undoes a
  // statement inside a live transaction (it never serves recovery), so the
  // writer keeps it in memory: a few pages per statement, some twenty per
  // request of an isolated rerun. Set after the migrations, whose sorts over
  // a whole table may still spill to temporary files.
  if (auto s = impl->writer_db->Exec("PRAGMA temp_store = MEMORY",
                                     "keeping statement journals in memory");
      !s)
    return std::unexpected(s.error());
  impl->writer_nodes = std::make_unique<DbNodeReader>(*impl->writer_db);
  impl->node_cache = std::make_unique<NodeCache>(options.cached_node_level);
  if (auto s = impl->ReloadWriterState(); !s) return std::unexpected(s.error());
  if (options.pipelined_sync && writer_vfs) {
    // The writer's connection has the WAL open by now (the migrations and
    // ReloadWriterState read through it), and SQLite deletes it only when
    // the last connection to the database closes: this descriptor names
    // the same file for as long as the store is open (Linux syncs a file
    // through a read-only descriptor too). If it cannot be opened, each
    // COMMIT syncs as usual.
    const std::string wal = options.path + "-wal";
    impl->wal_fd = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
    // What other processes committed and did not sync yet becomes durable
    // before anything read from here on is served as durable.
    if (impl->wal_fd >= 0) {
      if (auto s = impl->SyncWal(); !s) return std::unexpected(s.error());
    }
  }
  {
    auto latest = Impl::QueryLatestCheckpoint(*impl->writer_db,
                                              std::numeric_limits<int64_t>::max());
    if (!latest) return std::unexpected(latest.error());
    impl->durable_size.store(
        std::max(impl->committed_size.load(), *latest ? (*latest)->size : int64_t{0}));
  }

  for (int i = 0; i < options.read_connections; ++i) {
    const char* vfs = nullptr;
    if (options.reader_read_ahead && !(vfs = sqlite::ReadAheadVfsName())) {
      return Unavailable("storage_failed", "cannot register SQLite's read-ahead VFS for " +
                                               options.path + " (reader_read_ahead)");
    }
    auto r = Db::Open(options.path, false, "reader", vfs);
    if (!r) return std::unexpected(r.error());
    if (auto s = ConfigureConnection(**r, options, true); !s)
      return std::unexpected(s.error());
    impl->readers.push_back(std::move(*r));
  }
  auto cp = Db::Open(options.path, false, "checkpoint");
  if (!cp) return std::unexpected(cp.error());
  if (auto s = ConfigureConnection(**cp, options, false); !s)
    return std::unexpected(s.error());
  impl->checkpoint_db = std::move(*cp);

  // Our hook replaces SQLite's automatic checkpoint (which would run inside
  // COMMIT on the writer): it only records the WAL size and wakes the
  // checkpoint thread.
  sqlite3_wal_hook(impl->writer_db->get(), &Impl::WalHook, impl.get());
  Impl* raw = impl.get();
  impl->writer = std::thread([raw] { raw->WriterLoop(); });
  impl->syncer = std::thread([raw] { raw->SyncerLoop(); });
  impl->checkpointer = std::thread([raw] { raw->CheckpointLoop(); });
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

const std::string& SqliteStore::path() const { return impl_->opt.path; }

GroupCommitStats SqliteStore::BatchStats() const {
  std::lock_guard lock(impl_->stats_mu);
  GroupCommitStats out = impl_->stats;
  out.wal_frames = impl_->wal_pages.load();
  return out;
}

void SqliteStore::FailCommitsForTesting(int n) { impl_->fail_commits.store(n); }

void SqliteStore::FailSyncsForTesting(int n) { impl_->fail_syncs.store(n); }

namespace {

// Sets a thread's hold flag under its mutex; a release wakes the thread.
void Hold(std::mutex& mu, std::condition_variable& cv, bool& flag, bool held) {
  {
    std::lock_guard lock(mu);
    flag = held;
  }
  if (!held) cv.notify_all();
}

}  // namespace

void SqliteStore::PauseSyncsForTesting() {
  Hold(impl_->s_mu, impl_->s_cv, impl_->syncs_paused, true);
}

void SqliteStore::ResumeSyncsForTesting() {
  Hold(impl_->s_mu, impl_->s_cv, impl_->syncs_paused, false);
}

void SqliteStore::PauseWriterForTesting() {
  Hold(impl_->q_mu, impl_->q_cv, impl_->paused, true);
}

void SqliteStore::ResumeWriterForTesting() {
  Hold(impl_->q_mu, impl_->q_cv, impl_->paused, false);
}

Result<std::vector<std::pair<std::string, int64_t>>>
SqliteStore::WriterStatementRunsForTesting() {
  std::vector<std::pair<std::string, int64_t>> runs;
  WriteOp op;
  op.apply = [&]() -> Status {
    runs = impl_->writer_db->StatementRuns();
    return Ok();
  };
  if (auto s = impl_->Submit(op); !s) return std::unexpected(s.error());
  return runs;
}

int64_t SqliteStore::KnownInstanceHitsForTesting() const {
  return impl_->known_hits.load(std::memory_order_relaxed);
}

size_t SqliteStore::QueuedWritesForTesting() const {
  std::lock_guard lock(impl_->q_mu);
  return impl_->queue.size();
}

namespace {

Result<SqliteStore::ConnectionSettings> ReadSettings(Db& db) {
  SqliteStore::ConnectionSettings out;
  auto get = [&](const char* sql) -> Result<std::string> { return db.PragmaValue(sql); };
  auto mode = get("PRAGMA journal_mode");
  auto sync = get("PRAGMA synchronous");
  auto fk = get("PRAGMA foreign_keys");
  auto busy = get("PRAGMA busy_timeout");
  auto qo = get("PRAGMA query_only");
  auto autocheckpoint = get("PRAGMA wal_autocheckpoint");
  for (auto* r : {&mode, &sync, &fk, &busy, &qo, &autocheckpoint})
    if (!*r) return std::unexpected(r->error());
  out.journal_mode = *mode;
  out.synchronous = std::stoll(*sync);
  out.foreign_keys = std::stoll(*fk);
  out.busy_timeout = std::stoll(*busy);
  out.query_only = std::stoll(*qo);
  out.wal_autocheckpoint = std::stoll(*autocheckpoint);
  auto mmap_size = get("PRAGMA mmap_size");
  if (!mmap_size) return std::unexpected(mmap_size.error());
  out.mmap_size = std::stoll(*mmap_size);
  return out;
}

}  // namespace

Result<SqliteStore::ConnectionSettings> SqliteStore::WriterSettingsForTesting() {
  ConnectionSettings out;
  WriteOp op;
  op.apply = [&]() -> Status {
    auto r = ReadSettings(*impl_->writer_db);
    if (!r) return std::unexpected(r.error());
    out = *r;
    return Ok();
  };
  if (auto s = impl_->Submit(op); !s) return std::unexpected(s.error());
  return out;
}

Result<SqliteStore::ConnectionSettings> SqliteStore::ReaderSettingsForTesting() {
  auto lease = impl_->AcquireReader();
  return ReadSettings(lease->db());
}

// -- writes -----------------------------------------------------------------

Result<AppendResult> SqliteStore::Append(AppendRequest req) {
  if (auto s = store_internal::ValidateAppend(req); !s) return std::unexpected(s.error());
  PreparedAppend p{std::move(req), {}, false};
  p.new_instance = p.req.instance.value == 0;
  if (!p.new_instance) {
    store_internal::StampInstance(p.req, p.req.instance);
    p.Compute();
  }
  AppendResult out;
  WriteOp op;
  op.apply = [&]() -> Status {
    auto r = impl_->WriteAppend(p);
    if (!r) return std::unexpected(r.error());
    out = *r;
    return Ok();
  };
  if (auto s = impl_->Submit(op); !s) return std::unexpected(s.error());
  return out;
}

void SqliteStore::AppendAsync(AppendRequest req, AppendDone done) {
  if (auto s = store_internal::ValidateAppend(req); !s) return done(std::unexpected(s.error()));
  // What Append keeps on its stack lives here until the op is answered.
  struct Pending {
    PreparedAppend p;
    AppendResult out;
  };
  auto pending = std::make_shared<Pending>();
  pending->p.req = std::move(req);
  pending->p.new_instance = pending->p.req.instance.value == 0;
  if (!pending->p.new_instance) {
    store_internal::StampInstance(pending->p.req, pending->p.req.instance);
    pending->p.Compute();
  }
  auto* op = new WriteOp;
  Impl* impl = impl_.get();
  op->apply = [impl, pending]() -> Status {
    auto r = impl->WriteAppend(pending->p);
    if (!r) return std::unexpected(r.error());
    pending->out = *r;
    return Ok();
  };
  op->on_done = [pending, done = std::move(done)](Status s) {
    if (!s) return done(std::unexpected(s.error()));
    done(pending->out);
  };
  impl_->SubmitAsync(op);
}

Result<std::vector<AppendResult>> SqliteStore::BulkAppendForTesting(
    std::vector<AppendRequest> reqs) {
  std::vector<PreparedAppend> prepared;
  prepared.reserve(reqs.size());
  for (AppendRequest& r : reqs) {
    if (auto s = store_internal::ValidateAppend(r); !s) return std::unexpected(s.error());
    prepared.push_back(PreparedAppend{std::move(r), {}, false});
    prepared.back().new_instance = prepared.back().req.instance.value == 0;
    if (!prepared.back().new_instance) {
      store_internal::StampInstance(prepared.back().req, prepared.back().req.instance);
      prepared.back().Compute();
    }
  }
  std::vector<AppendResult> out;
  WriteOp op;
  op.bulk = true;
  op.apply = [&]() -> Status {
    for (PreparedAppend& p : prepared) {
      auto r = impl_->WriteAppend(p);
      if (!r) return std::unexpected(r.error());
      out.push_back(*r);
    }
    return Ok();
  };
  if (auto s = impl_->Submit(op); !s) return std::unexpected(s.error());
  return out;
}

Result<int64_t> SqliteStore::AppendAudit(const AuditRecord& rec) {
  AuditEntry entry = store_internal::RecordEntry(rec);
  WriteOp op;
  op.apply = [&]() -> Status { return impl_->WriteLeaves({&entry, 1}); };
  if (auto s = impl_->Submit(op); !s) return std::unexpected(s.error());
  return entry.index;
}

Result<bool> SqliteStore::SetNextDeadline(InstanceId id, int64_t version,
                                          std::optional<Timestamp> next_deadline) {
  bool changed = false;
  WriteOp op;
  op.apply = [&]() -> Status {
    auto st = impl_->writer_db->Prepare(kSetNextDeadline);
    if (!st) return std::unexpected(st.error());
    (*st)->Bind(1, id.value).Bind(2, version);
    if (next_deadline)
      (*st)->Bind(3, next_deadline->ms);
    else
      (*st)->BindNull(3);
    if (auto s = (*st)->Run(); !s) return s;
    changed = sqlite3_changes(impl_->writer_db->get()) > 0;
    // Its next deadline is no longer what the writer knew.
    if (changed) (void)impl_->TakeKnown(id);
    return Ok();
  };
  if (auto s = impl_->Submit(op); !s) return std::unexpected(s.error());
  return changed;
}

Status SqliteStore::SaveCheckpoint(const Checkpoint& cp) {
  WriteOp op;
  op.apply = [&]() -> Status { return impl_->WriteCheckpoint(cp); };
  return impl_->Submit(op);
}

Result<std::string> SqliteStore::PutAttachment(std::string_view bytes, int64_t max_size) {
  if (auto s = store_internal::CheckAttachmentSize(bytes.size(), max_size); !s)
    return std::unexpected(s.error());
  std::string address = store_internal::Sha256Address(bytes);
  WriteOp op;
  op.apply = [&]() -> Status {
    auto st = impl_->writer_db->Prepare(kInsertAttachment);
    if (!st) return std::unexpected(st.error());
    (*st)->Bind(1, address).Bind(2, static_cast<int64_t>(bytes.size()));
    (*st)->BindBlob(3, bytes);
    return (*st)->Run();
  };
  if (auto s = impl_->Submit(op); !s) return std::unexpected(s.error());
  return address;
}

Status SqliteStore::NameAttachment(const std::string& hash, const std::string& name) {
  if (auto s = store_internal::ValidateAttachmentAddress(hash); !s) return s;
  WriteOp op;
  op.apply = [&]() -> Status {
    auto exists = impl_->writer_db->Prepare(kSelectAttachmentSize);
    if (!exists) return std::unexpected(exists.error());
    (*exists)->Bind(1, hash);
    auto row = (*exists)->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return NotFound("attachment_not_found", "no attachment " + hash);
    auto st = impl_->writer_db->Prepare(kInsertAttachmentName);
    if (!st) return std::unexpected(st.error());
    (*st)->Bind(1, hash).Bind(2, name);
    return (*st)->Run();
  };
  return impl_->Submit(op);
}

Result<std::map<std::string, std::string>> SqliteStore::AttachmentNames(
    const std::vector<std::string>& hashes) {
  std::map<std::string, std::string> out;
  if (hashes.empty()) return out;
  auto lease = impl_->AcquireReader();
  auto st = lease->db().Prepare(kSelectAttachmentName);
  if (!st) return std::unexpected(st.error());
  for (const std::string& h : hashes) {
    if (out.count(h)) continue;
    (*st)->Reset();
    (*st)->Bind(1, h);
    auto row = (*st)->Step();
    if (!row) return std::unexpected(row.error());
    if (*row) out[h] = (*st)->Text(0);
  }
  return out;
}

Status SqliteStore::SaveDefinition(const std::string& id, int version,
                                   const std::string& hash,
                                   const std::string& source_text) {
  WriteOp op;
  op.apply = [&]() -> Status {
    Db& db = *impl_->writer_db;
    {
      auto st = db.Prepare(kSelectDefinition);
      if (!st) return std::unexpected(st.error());
      (*st)->Bind(1, id).Bind(2, int64_t{version});
      auto row = (*st)->Step();
      if (!row) return std::unexpected(row.error());
      if (*row) {
        if ((*st)->TextView(0) == hash) return Ok();
        return MakeError(ErrorCode::kConflict, "definition_version_exists",
                         "workflow " + id + " version " + Num(version) +
                             " is already stored with hash " + (*st)->Text(0) +
                             "; a changed definition needs a new version");
      }
    }
    auto st = db.Prepare(kInsertDefinition);
    if (!st) return std::unexpected(st.error());
    (*st)->Bind(1, id).Bind(2, int64_t{version}).Bind(3, hash);
    (*st)->Bind(4, source_text);
    return (*st)->Run();
  };
  return impl_->Submit(op);
}

// -- reads ------------------------------------------------------------------

Result<std::vector<Event>> SqliteStore::LoadEvents(InstanceId id) {
  auto lease = impl_->AcquireReader();
  auto st = lease->db().Prepare(kLoadEvents);
  if (!st) return std::unexpected(st.error());
  (*st)->Bind(1, id.value);
  std::vector<Event> out;
  for (;;) {
    auto row = (*st)->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    int64_t version = (*st)->Int(0);
    std::optional<std::string_view> bytes = audit::EventBytesOfLeaf((*st)->BlobView(1));
    std::optional<Event> e;
    if (bytes) e = DecodeEvent(*bytes);
    int64_t want = static_cast<int64_t>(out.size()) + 1;
    if (!e || version != want || e->version != version || e->instance != id)
      return MakeError(ErrorCode::kInternal, "corrupt_history",
                       "instance " + Num(id.value) + ": stored event version " +
                           Num(version) +
                           (!e                ? " is not a valid canonical event"
                            : version != want ? " follows version " + Num(want - 1)
                                              : " names another instance or version") +
                           "; the database was modified outside approvald");
    out.push_back(std::move(*e));
  }
  if (out.empty()) return store_internal::InstanceNotFound(id);
  return out;
}

Result<InstanceRow> SqliteStore::GetInstance(InstanceId id) {
  auto lease = impl_->AcquireReader();
  auto st = lease->db().Prepare(kGetInstance);
  if (!st) return std::unexpected(st.error());
  (*st)->Bind(1, id.value);
  auto row = (*st)->Step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return store_internal::InstanceNotFound(id);
  return ReadInstance(**st);
}

Result<std::vector<InstanceRow>> SqliteStore::ListInstances(const InstanceQuery& q) {
  if (auto s = store_internal::ValidateLimit(q.limit, "ListInstances"); !s)
    return std::unexpected(s.error());
  unsigned mask = (q.workflow ? kByWorkflow : 0) | (q.status ? kByStatus : 0) |
                  (q.submitter ? kBySubmitter : 0) | (q.involved ? kByInvolved : 0) |
                  (q.due_by ? kDueBy : 0);
  auto lease = impl_->AcquireReader();
  auto st = lease->db().Prepare(ListInstancesSql(mask));
  if (!st) return std::unexpected(st.error());
  (*st)->Bind(1, q.after_id);
  if (q.workflow) (*st)->Bind(2, *q.workflow);
  if (q.status) (*st)->Bind(3, *q.status);
  if (q.submitter) (*st)->Bind(4, q.submitter->value);
  if (q.involved) (*st)->Bind(5, q.involved->value);
  (*st)->Bind(6, int64_t{q.limit});
  if (q.due_by) (*st)->Bind(7, q.due_by->ms);
  std::vector<InstanceRow> out;
  for (;;) {
    auto row = (*st)->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    out.push_back(ReadInstance(**st));
  }
  return out;
}

Result<std::vector<TaskRow>> SqliteStore::ListTasks(const PersonId& person,
                                                    const std::string& kind, int limit) {
  if (auto s = store_internal::ValidateLimit(limit, "ListTasks"); !s)
    return std::unexpected(s.error());
  auto lease = impl_->AcquireReader();
  auto st = lease->db().Prepare(kListTasks);
  if (!st) return std::unexpected(st.error());
  (*st)->Bind(1, person.value).Bind(2, kind).Bind(3, int64_t{limit});
  std::vector<TaskRow> out;
  for (;;) {
    auto row = (*st)->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    TaskRow t;
    t.instance = InstanceId{(*st)->Int(0)};
    t.node = (*st)->Text(1);
    t.person = PersonId((*st)->Text(2));
    t.kind = (*st)->Text(3);
    t.since = Timestamp{(*st)->Int(4)};
    out.push_back(std::move(t));
  }
  return out;
}

Result<std::vector<AuditEntry>> SqliteStore::QueryAudit(const AuditQuery& q) {
  if (auto s = store_internal::ValidateLimit(q.limit, "QueryAudit"); !s)
    return std::unexpected(s.error());
  unsigned mask = (q.instance ? kByInstance : 0) | (q.actor ? kByActor : 0) |
                  (q.type ? kByType : 0) | (q.from ? kFrom : 0) | (q.to ? kTo : 0);
  auto lease = impl_->AcquireReader();
  auto st = lease->db().Prepare(QueryAuditSql(mask));
  if (!st) return std::unexpected(st.error());
  (*st)->Bind(1, q.after_index);
  if (q.instance) (*st)->Bind(2, q.instance->value);
  if (q.actor) (*st)->Bind(3, q.actor->value);
  if (q.type) (*st)->Bind(4, *q.type);
  if (q.from) (*st)->Bind(5, q.from->ms);
  if (q.to) (*st)->Bind(6, q.to->ms);
  (*st)->Bind(7, int64_t{q.limit});
  std::vector<AuditEntry> out;
  for (;;) {
    auto row = (*st)->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    out.push_back(ReadAuditEntry(**st));
  }
  return out;
}

Result<int64_t> SqliteStore::AuditSize() {
  auto lease = impl_->AcquireReader();
  return Impl::QueryAuditSize(lease->db());
}

Status SqliteStore::ScanAudit(int64_t from,
                              const std::function<bool(const AuditEntry&)>& fn) {
  // Reads a chunk, releases the connection, then calls `fn`: memory stays
  // bounded, no snapshot is held while `fn` runs, and `fn` may call back
  // into the store. Rows are yielded as stored, gaps and all: judging them
  // is the verifier's job (audit/verify.h, CheckIntegrity).
  constexpr int64_t kChunk = 4096;
  int64_t next = std::max<int64_t>(from, 0);
  std::vector<AuditEntry> chunk;  // entries reused from chunk to chunk
  for (;;) {
    size_t n = 0;
    {
      auto lease = impl_->AcquireReader();
      auto st = lease->db().Prepare(kScanLog);
      if (!st) return std::unexpected(st.error());
      (*st)->Bind(1, next).Bind(2, kChunk);
      for (;;) {
        auto row = (*st)->Step();
        if (!row) return std::unexpected(row.error());
        if (!*row) break;
        if (n == chunk.size()) chunk.emplace_back();
        ReadAuditEntryInto(**st, chunk[n++]);
      }
    }
    for (size_t i = 0; i < n; ++i)
      if (!fn(chunk[i])) return Ok();
    if (static_cast<int64_t>(n) < kChunk) return Ok();
    next = chunk[n - 1].index + 1;
  }
}

Status SqliteStore::ScanAuditLeaves(int64_t from, bool with_events,
                                    const std::function<bool(const AuditLeafView&)>& fn) {
  return ScanLeaves(from, with_events, /*names=*/true, fn);
}

Status SqliteStore::ScanAuditLeavesUnnamed(
    int64_t from, bool with_events, const std::function<bool(const AuditLeafView&)>& fn) {
  return ScanLeaves(from, with_events, /*names=*/false, fn);
}

Status SqliteStore::ScanLeaves(int64_t from, bool with_events, bool names,
                               const std::function<bool(const AuditLeafView&)>& fn) {
  // Chunks of rows, each read in one statement on one leased connection and
  // handed to `fn` straight from SQLite's buffers: no copies, and no
  // snapshot held across chunks (a long verification does not keep the
  // daemon's WAL from restarting).
  //
  // With events, an event leaf's instance's definition hash, and for a leaf
  // from before schema migration 10 its events row, are looked up by key on
  // more statements of the same connection (one read transaction while the
  // leaf statement is active), which step forward instead of seeking again
  // when the next key is the next row, as it is for an instance's events
  // logged one after another (OrderedLookup). From migration 10 on the
  // stored event is the leaf's own event member.
  constexpr int64_t kChunk = 1 << 16;
  // Column numbers of kScanLeaves (names) or kScanLeavesUnnamed.
  struct Columns {
    int kind, instance, version, data, hash;
  };
  constexpr Columns kNamed{1, 3, 4, 7, 8};
  constexpr Columns kUnnamed{1, 2, 3, 4, 5};
  const Columns& col = names ? kNamed : kUnnamed;
  int64_t next = std::max<int64_t>(from, 0);
  AuditLeafView v;
  v.named = names;
  for (;;) {
    int64_t n = 0;
    auto lease = impl_->AcquireReader();
    auto st = lease->db().Prepare(names ? kScanLeaves : kScanLeavesUnnamed);
    if (!st) return std::unexpected(st.error());
    (*st)->Bind(1, next).Bind(2, kChunk);
    std::optional<sqlite::Stmt> events_st;
    std::optional<sqlite::Stmt> instances_st;
    std::optional<OrderedLookup> events;
    std::optional<OrderedLookup> instances;
    if (with_events) {
      if (next < impl_->events_end) {
        auto e = lease->db().Prepare(kEventsFrom);
        if (!e) return std::unexpected(e.error());
        events_st.emplace(std::move(*e));
        events.emplace(**events_st, 2);
      }
      auto i = lease->db().Prepare(kInstancesFrom);
      if (!i) return std::unexpected(i.error());
      instances_st.emplace(std::move(*i));
      instances.emplace(**instances_st, 1);
    }
    for (;;) {
      auto row = (*st)->Step();
      if (!row) return std::unexpected(row.error());
      if (!*row) break;
      ++n;
      const sqlite::Statement& r = **st;
      v.index = r.Int(0);
      v.kind = r.TextView(col.kind);
      // instance and version are NULL for records: Int reads NULL as 0.
      v.instance = InstanceId{r.Int(col.instance)};
      v.version = r.Int(col.version);
      if (names) {
        v.at = Timestamp{r.Int(2)};
        v.type = r.TextView(5);
        v.actor = r.TextView(6);
      }
      v.leaf_data = r.BlobView(col.data);
      // A malformed hash (only possible by editing the file) reads as
      // zeros; the verifier then reports the leaf.
      v.leaf_hash = Hash{};
      r.HashAt(col.hash, &v.leaf_hash);
      v.event_body.reset();
      v.instance_def_hash.reset();
      if (with_events && v.kind == "event") {
        if (v.index < impl_->events_end) {
          auto body = events->Find(v.instance.value, v.version);
          if (!body) return std::unexpected(body.error());
          v.event_body = *body;
        } else {
          v.event_body = audit::EventBytesOfLeaf(v.leaf_data);
        }
        auto def_hash = instances->Find(v.instance.value, 0);
        if (!def_hash) return std::unexpected(def_hash.error());
        v.instance_def_hash = *def_hash;
      }
      next = v.index + 1;
      if (!fn(v)) return Ok();
    }
    if (n < kChunk) return Ok();
  }
}

Result<int64_t> SqliteStore::CountEvents() {
  auto lease = impl_->AcquireReader();
  return impl_->CountEventsBelow(lease->db(), std::numeric_limits<int64_t>::max());
}

Result<int64_t> SqliteStore::CountEventsWithAuditSize(
    const std::function<void(int64_t)>& on_size) {
  // One read transaction: the snapshot is fixed by the size query, so the
  // events counted after it are exactly those whose leaves lie below the
  // size (an event and its leaf are committed together). (Turning the
  // file's mapping off for the count was measured: the count itself got
  // cheaper, but unmapping made every later scan on this connection fault
  // its pages in again, costing more than it saved.)
  auto lease = impl_->AcquireReader();
  Db& db = lease->db();
  Impl::ReadTxn txn(db);
  if (auto s = txn.Begin(); !s) return std::unexpected(s.error());
  auto size = Impl::QueryAuditSize(db);
  if (!size) return std::unexpected(size.error());
  on_size(*size);
  return impl_->CountEventsBelow(db, *size);
}

Result<Hash> SqliteStore::RootAt(int64_t size) {
  auto lease = impl_->AcquireReader();
  // One read transaction for the handful of node reads: cheaper than one
  // implicit transaction per statement.
  Impl::ReadTxn txn(lease->db());
  if (auto s = txn.Begin(); !s) return std::unexpected(s.error());
  auto log_size = impl_->LogSizeCovering(lease->db(), size);
  if (!log_size) return std::unexpected(log_size.error());
  if (auto s = store_internal::ValidateRootAt(size, *log_size); !s)
    return std::unexpected(s.error());
  DbNodeReader nodes(lease->db(), impl_->node_cache.get());
  return audit::RootAt(nodes, size);
}

Result<std::vector<Hash>> SqliteStore::InclusionProof(int64_t index, int64_t size) {
  auto lease = impl_->AcquireReader();
  // One read transaction for the handful of node reads: cheaper than one
  // implicit transaction per statement.
  Impl::ReadTxn txn(lease->db());
  if (auto s = txn.Begin(); !s) return std::unexpected(s.error());
  auto log_size = impl_->LogSizeCovering(lease->db(), size);
  if (!log_size) return std::unexpected(log_size.error());
  if (auto s = store_internal::ValidateInclusion(index, size, *log_size); !s)
    return std::unexpected(s.error());
  DbNodeReader nodes(lease->db(), impl_->node_cache.get());
  return audit::InclusionProof(nodes, index, size);
}

Result<std::vector<Hash>> SqliteStore::ConsistencyProof(int64_t old_size,
                                                        int64_t new_size) {
  auto lease = impl_->AcquireReader();
  // One read transaction for the handful of node reads: cheaper than one
  // implicit transaction per statement.
  Impl::ReadTxn txn(lease->db());
  if (auto s = txn.Begin(); !s) return std::unexpected(s.error());
  auto log_size = impl_->LogSizeCovering(lease->db(), new_size);
  if (!log_size) return std::unexpected(log_size.error());
  if (auto s = store_internal::ValidateConsistency(old_size, new_size, *log_size); !s)
    return std::unexpected(s.error());
  DbNodeReader nodes(lease->db(), impl_->node_cache.get());
  return audit::ConsistencyProof(nodes, old_size, new_size);
}

Result<std::vector<Checkpoint>> SqliteStore::ListCheckpoints() {
  auto lease = impl_->AcquireReader();
  auto st = lease->db().Prepare(kListCheckpoints);
  if (!st) return std::unexpected(st.error());
  std::vector<Checkpoint> out;
  for (;;) {
    auto row = (*st)->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    out.push_back(ReadCheckpoint(**st));
  }
  return out;
}

Result<std::optional<Checkpoint>> SqliteStore::LatestCheckpoint() {
  auto lease = impl_->AcquireReader();
  return Impl::QueryLatestCheckpoint(lease->db(),
                                     impl_->durable_size.load(std::memory_order_acquire));
}

Result<std::string> SqliteStore::GetAttachment(const std::string& hash) {
  if (auto s = store_internal::ValidateAttachmentAddress(hash); !s)
    return std::unexpected(s.error());
  std::string bytes;
  {
    auto lease = impl_->AcquireReader();
    auto st = lease->db().Prepare(kSelectAttachment);
    if (!st) return std::unexpected(st.error());
    (*st)->Bind(1, hash);
    auto row = (*st)->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return NotFound("attachment_not_found", "no attachment " + hash);
    bytes = std::string((*st)->BlobView(0));
  }
  if (store_internal::Sha256Address(bytes) != hash)
    return MakeError(ErrorCode::kInternal, "attachment_corrupt",
                     "attachment " + hash +
                         " no longer has the content its hash names; the "
                         "database was modified outside approvald");
  return bytes;
}

Result<int64_t> SqliteStore::AttachmentSize(const std::string& hash) {
  if (auto s = store_internal::ValidateAttachmentAddress(hash); !s)
    return std::unexpected(s.error());
  auto lease = impl_->AcquireReader();
  auto st = lease->db().Prepare(kSelectAttachmentSize);
  if (!st) return std::unexpected(st.error());
  (*st)->Bind(1, hash);
  auto row = (*st)->Step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return NotFound("attachment_not_found", "no attachment " + hash);
  return (*st)->Int(0);
}

Result<std::vector<StoredDefinition>> SqliteStore::ListDefinitions() {
  auto lease = impl_->AcquireReader();
  auto st = lease->db().Prepare(kListDefinitions);
  if (!st) return std::unexpected(st.error());
  std::vector<StoredDefinition> out;
  for (;;) {
    auto row = (*st)->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    out.push_back(StoredDefinition{(*st)->Text(0), static_cast<int>((*st)->Int(1)),
                                   (*st)->Text(2), (*st)->Text(3)});
  }
  return out;
}

Result<std::vector<FactHit>> SqliteStore::FindFacts(const FactQuery& q) {
  auto lease = impl_->AcquireReader();
  std::vector<FactHit> out;
  std::vector<std::string> keys = q.keys;
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  for (const std::string& key : keys) {
    auto st = lease->db().Prepare(kFindFacts);
    if (!st) return std::unexpected(st.error());
    (*st)->Bind(1, q.kind).Bind(2, key).Bind(3, q.exclude.value);
    for (;;) {
      auto row = (*st)->Step();
      if (!row) return std::unexpected(row.error());
      if (!*row) break;
      std::string status = (*st)->Text(2);
      if (std::find(q.statuses.begin(), q.statuses.end(), status) == q.statuses.end())
        continue;
      auto data = DecodeValue((*st)->TextView(1));
      if (!data || !data->is_record())
        return MakeError(ErrorCode::kInternal, "fact_corrupt", "a stored fact of instance " +
                                            std::to_string((*st)->Int(0)) +
                                            " does not decode; run `approvald store check`");
      FactRow fact{q.kind, key, data->as_record()};
      fact.exclusive = (*st)->Int(3) != 0;
      out.push_back(FactHit{InstanceId{(*st)->Int(0)}, std::move(fact)});
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const FactHit& a, const FactHit& b) {
    return std::tie(a.instance.value, a.fact.key) < std::tie(b.instance.value, b.fact.key);
  });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// -- integrity --------------------------------------------------------------

Status SqliteStore::CheckIntegrity() {
  auto lease = impl_->AcquireReader();
  Db& db = lease->db();
  Impl::ReadTxn txn(db);
  if (auto s = txn.Begin(); !s) return s;

  std::vector<Checkpoint> checkpoints;
  {
    auto st = db.Prepare(kListCheckpoints);
    if (!st) return std::unexpected(st.error());
    for (;;) {
      auto row = (*st)->Step();
      if (!row) return std::unexpected(row.error());
      if (!*row) break;
      checkpoints.push_back(ReadCheckpoint(**st));
    }
  }
  std::stable_sort(
      checkpoints.begin(), checkpoints.end(),
      [](const Checkpoint& a, const Checkpoint& b) { return a.size < b.size; });
  size_t next_cp = 0;
  audit::TreeAppender tree;
  auto check_checkpoints = [&]() -> Status {
    while (next_cp < checkpoints.size() && checkpoints[next_cp].size == tree.size()) {
      if (checkpoints[next_cp].root != tree.Root())
        return Violation("checkpoint at size " + Num(tree.size()) + " has root " +
                         store_internal::HexOf(checkpoints[next_cp].root) +
                         " but the leaves give " + store_internal::HexOf(tree.Root()));
      ++next_cp;
    }
    return Ok();
  };
  if (auto s = check_checkpoints(); !s) return s;

  int64_t table_event_leaves = 0;  // event leaves below events_end
  int64_t node_count = 0;
  {
    auto st = db.Prepare(kScanAudit);
    if (!st) return std::unexpected(st.error());
    auto node = db.Prepare(kSelectNode);
    if (!node) return std::unexpected(node.error());
    (*st)->Bind(1, int64_t{0}).Bind(2, INT64_MAX);
    for (;;) {
      auto row = (*st)->Step();
      if (!row) return std::unexpected(row.error());
      if (!*row) break;
      AuditEntry a = ReadAuditEntry(**st);
      if (a.index != tree.size())
        return Violation("audit leaf " + Num(tree.size()) +
                         " is missing (the next stored leaf is " + Num(a.index) + ")");
      if (audit::LeafHash(a.leaf_data) != a.leaf_hash)
        return Violation(LeafName(a) +
                         ": the stored leaf hash is not the hash of the "
                         "stored leaf bytes");
      if (a.kind == "event") {
        const bool in_events_table = a.index < impl_->events_end;
        if (in_events_table) ++table_event_leaves;
        std::string_view row = (*st)->TextView(10);
        std::string problem =
            EventLeafProblem(a, in_events_table, (*st)->IsNull(10) ? nullptr : &row);
        if (!problem.empty()) return Violation(std::move(problem));
      }
      for (const audit::NodeWrite& w : tree.Append(a.leaf_hash)) {
        // Level 0 is the leaf's own leaf_hash, checked above against its
        // bytes; rows of it in merkle_nodes (before migration 8) below.
        if (w.ref.level == 0) continue;
        ++node_count;
        (*node)->Bind(1, NodePos(w.ref));
        auto nrow = (*node)->Step();
        if (!nrow) return std::unexpected(nrow.error());
        Hash stored{};
        bool present = *nrow && (*node)->HashAt(0, &stored);
        (*node)->Reset();
        if (!present || stored != w.hash)
          return Violation("Merkle node (level " + Num(w.ref.level) + ", index " +
                           Num(w.ref.index) + ") over leaves " +
                           Num(w.ref.index << w.ref.level) + ".." +
                           Num(((w.ref.index + 1) << w.ref.level) - 1) +
                           (present ? " differs from the one recomputed from the leaves"
                                    : " is missing") +
                           " (checked when adding " + LeafName(a) + ")");
      }
      if (auto s = check_checkpoints(); !s) return s;
    }
  }
  if (next_cp < checkpoints.size())
    return Violation("checkpoint at size " + Num(checkpoints[next_cp].size) +
                     " is beyond the audit log's " + Num(tree.size()) + " leaves");
  auto count = [&](const char* sql) -> Result<int64_t> {
    auto st = db.Prepare(sql);
    if (!st) return std::unexpected(st.error());
    auto row = (*st)->Step();
    if (!row) return std::unexpected(row.error());
    return (*st)->Int(0);
  };
  auto nodes = count(kCountUpperNodes);
  if (!nodes) return std::unexpected(nodes.error());
  if (*nodes != node_count)
    return Violation("merkle_tree holds " + Num(*nodes) + " nodes above level 0, but " +
                     Num(tree.size()) + " leaves make " + Num(node_count));
  {
    auto st = db.Prepare(kStrayLeafNode);
    if (!st) return std::unexpected(st.error());
    auto row = (*st)->Step();
    if (!row) return std::unexpected(row.error());
    if (*row)
      return Violation("Merkle node (level 0, index " + Num((*st)->Int(0)) + ") " +
                       ((*st)->Int(1) != 0 ? "stands for no audit leaf"
                                           : "differs from the leaf hash of audit leaf " +
                                                 Num((*st)->Int(0))));
  }
  auto rows = count(kCountEventRows);
  if (!rows) return std::unexpected(rows.error());
  if (*rows != table_event_leaves) {
    auto st = db.Prepare(kEventRowWithoutLeaf);
    if (!st) return std::unexpected(st.error());
    (*st)->Bind(1, impl_->events_end);
    auto row = (*st)->Step();
    if (!row) return std::unexpected(row.error());
    if (*row)
      return Violation("event instance " + Num((*st)->Int(0)) + " version " +
                       Num((*st)->Int(1)) + " in the events table has no audit leaf below " +
                       Num(impl_->events_end) + ", where that table ends (schema migration 10)");
    return Violation("the events table holds " + Num(*rows) + " events but the audit log " +
                     Num(table_event_leaves) + " below leaf " + Num(impl_->events_end) +
                     ", where that table ends (schema migration 10)");
  }
  {
    auto st = db.Prepare(kProjectionMismatch);
    if (!st) return std::unexpected(st.error());
    auto row = (*st)->Step();
    if (!row) return std::unexpected(row.error());
    if (*row)
      return Violation("instance " + Num((*st)->Int(0)) + ": its row says version " +
                       Num((*st)->Int(1)) + " but it has " + Num((*st)->Int(2)) +
                       " events up to version " + Num((*st)->Int(3)));
  }
  {
    auto st = db.Prepare(kEventsWithoutInstance);
    if (!st) return std::unexpected(st.error());
    auto row = (*st)->Step();
    if (!row) return std::unexpected(row.error());
    if (*row)
      return Violation("instance " + Num((*st)->Int(0)) +
                       " has events but no instance row");
  }
  return Ok();
}

Status SqliteStore::CheckSqliteIntegrity(bool full) {
  static constexpr char kQuickCheck[] = "PRAGMA quick_check(10)";
  static constexpr char kFullCheck[] = "PRAGMA integrity_check(10)";
  auto lease = impl_->AcquireReader();
  auto st = lease->db().Prepare(full ? kFullCheck : kQuickCheck);
  if (!st) return std::unexpected(st.error());
  std::string problems;
  for (;;) {
    auto row = (*st)->Step();
    if (!row) {
      // SQLite may give up on a page it cannot parse at all.
      problems += problems.empty() ? "" : "; ";
      problems += row.error().message;
      break;
    }
    if (!*row) break;
    std::string_view line = (*st)->TextView(0);
    if (line == "ok") continue;
    problems += problems.empty() ? "" : "; ";
    problems += line;
  }
  if (problems.empty()) return Ok();
  return MakeError(ErrorCode::kInternal, "sqlite_integrity",
                   impl_->opt.path + ": SQLite's " +
                       (full ? "integrity_check" : "quick_check") +
                       " finds the file damaged: " + problems +
                       "; restore the last backup (approvald backup) and compare");
}

// -- backup -----------------------------------------------------------------

Status SqliteStore::Backup(const std::string& to_path) {
  return BackupSqliteDatabase(impl_->opt.path, to_path);
}

Status BackupSqliteDatabase(const std::string& db_path, const std::string& to_path) {
  auto fail = [&](std::string what) {
    return Unavailable("backup_failed", "backing up " + db_path + " to " + to_path +
                                            ": " + std::move(what));
  };
  auto src = Db::Open(db_path, /*create=*/false, "backup source");
  if (!src) return std::unexpected(src.error());
  sqlite3_busy_timeout((*src)->get(), 5000);
  std::string tmp = to_path + ".tmp";
  std::remove(tmp.c_str());
  {
    auto dst = Db::Open(tmp, /*create=*/true, "backup target");
    if (!dst) return std::unexpected(dst.error());
    sqlite3_backup* b = sqlite3_backup_init((*dst)->get(), "main", (*src)->get(), "main");
    if (!b) return fail(sqlite3_errmsg((*dst)->get()));
    // One step copies every page within one read transaction on the
    // source: a consistent snapshot, while WAL lets the daemon keep
    // committing beside it.
    int rc = sqlite3_backup_step(b, -1);
    int fin = sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) return fail(std::string(sqlite3_errstr(rc)));
    if (fin != SQLITE_OK) return fail(sqlite3_errmsg((*dst)->get()));
  }
  // The snapshot may hold a commit whose WAL frames the daemon has not
  // synced yet (pipelined_sync): sync them, so the backup never holds what
  // the database itself could still lose (a checkpoint above all).
  if (int wal = ::open((db_path + "-wal").c_str(), O_RDONLY | O_CLOEXEC); wal >= 0) {
    const int err = ::fdatasync(wal) == 0 ? 0 : errno;
    ::close(wal);
    if (err != 0) return fail("fdatasync " + db_path + "-wal: " + std::strerror(err));
  }
  // Closing the target wrote and synced it (synchronous defaults to FULL);
  // sync once more through the file itself, then publish it atomically.
  int fd = ::open(tmp.c_str(), O_RDONLY);
  if (fd < 0) return fail("cannot reopen " + tmp + ": " + std::strerror(errno));
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return fail("fsync " + tmp + ": " + std::strerror(errno));
  if (std::rename(tmp.c_str(), to_path.c_str()) != 0)
    return fail("rename " + tmp + ": " + std::strerror(errno));
  std::string dir = to_path.substr(0, to_path.find_last_of('/') + 1);
  if (dir.empty()) dir = ".";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Ok();
}

}  // namespace approvald
