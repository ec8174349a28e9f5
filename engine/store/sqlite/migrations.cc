#include "store/sqlite/migrations.h"

#include <string>

namespace approvald::sqlite {
namespace {

// Migration 1: events, projections, the audit log and its Merkle nodes,
// checkpoints, idempotency keys, attachments, definitions.
//
// Times are integer milliseconds since 1970 UTC; money is integer fen.
// History tables (events, audit_log, merkle_nodes, checkpoints, attachments,
// definitions) refuse UPDATE and DELETE with a trigger: they only grow.
// instances and tasks are projections the store rewrites on each append.
constexpr const char kInitialSchema[] = R"sql(
CREATE TABLE events (
  instance     INTEGER NOT NULL,
  version      INTEGER NOT NULL CHECK (version >= 1),
  at           INTEGER NOT NULL,
  type         TEXT    NOT NULL,
  actor        TEXT    NOT NULL,
  on_behalf_of TEXT    NOT NULL,
  node         TEXT    NOT NULL,
  body         TEXT    NOT NULL,   -- EncodeEvent(): the canonical bytes, the truth
  PRIMARY KEY (instance, version)
) WITHOUT ROWID;

CREATE TABLE instances (
  id               INTEGER PRIMARY KEY,
  workflow         TEXT    NOT NULL,
  workflow_version INTEGER NOT NULL,
  def_hash         TEXT    NOT NULL,
  status           TEXT    NOT NULL,
  submitter        TEXT    NOT NULL,
  title            TEXT    NOT NULL,
  amount_fen       INTEGER NOT NULL,
  current_nodes    TEXT    NOT NULL,
  version          INTEGER NOT NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
);
CREATE INDEX instances_by_workflow  ON instances (workflow, id);
CREATE INDEX instances_by_status    ON instances (status, id);
CREATE INDEX instances_by_submitter ON instances (submitter, id);

CREATE TABLE tasks (
  instance INTEGER NOT NULL REFERENCES instances (id),
  node     TEXT    NOT NULL,
  person   TEXT    NOT NULL,
  kind     TEXT    NOT NULL,
  since    INTEGER NOT NULL
);
CREATE INDEX tasks_by_instance ON tasks (instance);
CREATE INDEX tasks_by_person   ON tasks (person, kind, since DESC, instance DESC, node);

CREATE TABLE audit_log (
  idx       INTEGER PRIMARY KEY,   -- leaf index, 0-based, no gaps
  kind      TEXT    NOT NULL CHECK (kind IN ('event', 'record')),
  at        INTEGER NOT NULL,
  instance  INTEGER,               -- kind 'event' only
  version   INTEGER,               -- kind 'event' only
  type      TEXT    NOT NULL,
  actor     TEXT    NOT NULL,
  def_hash  TEXT    NOT NULL,      -- kind 'event': the definition it ran on
  leaf_data BLOB    NOT NULL,      -- the exact bytes hashed (audit/leaf.h)
  leaf_hash BLOB    NOT NULL CHECK (length(leaf_hash) = 32),
  CHECK ((kind = 'event') = (instance IS NOT NULL AND version IS NOT NULL))
);
CREATE UNIQUE INDEX audit_by_instance ON audit_log (instance, version);
CREATE INDEX audit_by_actor ON audit_log (actor, idx);
CREATE INDEX audit_by_type  ON audit_log (type, idx);
CREATE INDEX audit_by_time  ON audit_log (at);

-- Perfect subtree roots of the Merkle tree (audit/merkle.h): level 0 holds
-- the leaf hashes; (level, idx) covers leaves [idx << level, (idx+1) << level).
CREATE TABLE merkle_nodes (
  level INTEGER NOT NULL,
  idx   INTEGER NOT NULL,
  hash  BLOB    NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;

CREATE TABLE checkpoints (
  seq       INTEGER PRIMARY KEY,
  size      INTEGER NOT NULL,
  root      BLOB    NOT NULL CHECK (length(root) = 32),
  at        INTEGER NOT NULL,
  signature BLOB    NOT NULL
);

CREATE TABLE idempotency (
  owner        TEXT    NOT NULL,
  idem_key     TEXT    NOT NULL,
  request_hash TEXT    NOT NULL,
  instance     INTEGER NOT NULL,
  version      INTEGER NOT NULL,
  first_leaf   INTEGER NOT NULL,
  PRIMARY KEY (owner, idem_key)
) WITHOUT ROWID;

CREATE TABLE attachments (
  hash  TEXT    NOT NULL PRIMARY KEY,   -- "sha256:<hex>" of bytes
  size  INTEGER NOT NULL,
  bytes BLOB    NOT NULL
);

CREATE TABLE definitions (
  workflow TEXT    NOT NULL,
  version  INTEGER NOT NULL,
  hash     TEXT    NOT NULL,
  source   TEXT    NOT NULL,
  PRIMARY KEY (workflow, version)
);

CREATE TRIGGER events_append_only_u BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_d BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER audit_log_append_only_u BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_append_only_d BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER merkle_nodes_append_only_u BEFORE UPDATE ON merkle_nodes
  BEGIN SELECT RAISE(ABORT, 'merkle_nodes is append-only'); END;
CREATE TRIGGER merkle_nodes_append_only_d BEFORE DELETE ON merkle_nodes
  BEGIN SELECT RAISE(ABORT, 'merkle_nodes is append-only'); END;
CREATE TRIGGER checkpoints_append_only_u BEFORE UPDATE ON checkpoints
  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_append_only_d BEFORE DELETE ON checkpoints
  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER attachments_append_only_u BEFORE UPDATE ON attachments
  BEGIN SELECT RAISE(ABORT, 'attachments are append-only'); END;
CREATE TRIGGER attachments_append_only_d BEFORE DELETE ON attachments
  BEGIN SELECT RAISE(ABORT, 'attachments are append-only'); END;
CREATE TRIGGER definitions_append_only_u BEFORE UPDATE ON definitions
  BEGIN SELECT RAISE(ABORT, 'definitions are append-only'); END;
CREATE TRIGGER definitions_append_only_d BEFORE DELETE ON definitions
  BEGIN SELECT RAISE(ABORT, 'definitions are append-only'); END;
)sql";

// Migration 2: the daemon's logins (store/sqlite/user_store.h). Mutable, unlike
// the history tables: passwords change and sessions expire. Tokens are kept
// only as SHA-256 hashes, passwords only as Argon2id encodings.
constexpr const char kUsersAndSessions[] = R"sql(
CREATE TABLE users (
  username      TEXT    PRIMARY KEY,
  role          TEXT    NOT NULL CHECK (role IN ('user', 'admin', 'auditor')),
  person        TEXT    NOT NULL DEFAULT '',
  password_hash TEXT    NOT NULL DEFAULT '',
  disabled      INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE TABLE sessions (
  token_hash TEXT    PRIMARY KEY,
  username   TEXT    NOT NULL REFERENCES users (username),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_user   ON sessions (username);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
)sql";

// Migration 3: facts instances state for the built-in checks of other
// instances (invoice numbers, purchases; approvald/store.h FactRow), a
// projection rewritten per append like tasks. `data` is EncodeValue of the
// fact's record. Looked up by (kind, key); replaced by instance.
constexpr const char kCheckFacts[] = R"sql(
CREATE TABLE facts (
  instance INTEGER NOT NULL,
  kind     TEXT    NOT NULL,
  key      TEXT    NOT NULL,
  data     TEXT    NOT NULL
);
CREATE INDEX facts_by_key      ON facts (kind, key, instance);
CREATE INDEX facts_by_instance ON facts (instance);
)sql";

// Migration 4: exclusive facts (approvald/store.h FactRow::exclusive). An
// invoice number or a decision number belongs to one live instance at a
// time; the partial unique index makes a second holder fail inside the same
// transaction as its events, so concurrent appends cannot both store one.
// Before this migration only "invoice" facts were meant to be exclusive:
// those of live instances (running, approved) become exclusive, the oldest
// row per number when earlier races stored a number twice (the later rows
// stay, non-exclusive, so the duplicate is still visible to the check).
constexpr const char kExclusiveFacts[] = R"sql(
ALTER TABLE facts ADD COLUMN exclusive INTEGER NOT NULL DEFAULT 0;
UPDATE facts SET exclusive = 1
 WHERE rowid IN (SELECT min(f.rowid) FROM facts f
                   JOIN instances i ON i.id = f.instance
                  WHERE f.kind = 'invoice' AND i.status IN ('running', 'approved')
                  GROUP BY f.key);
CREATE UNIQUE INDEX facts_exclusive ON facts (kind, key) WHERE exclusive = 1;
)sql";

// Migration 5: the file names attachments were uploaded under (shown to
// people; downloads stay by hash). One address may carry several names (the
// same bytes uploaded twice); the first recorded (lowest rowid) is shown.
// Append-only like the attachments themselves.
constexpr const char kAttachmentNames[] = R"sql(
CREATE TABLE attachment_names (
  hash TEXT NOT NULL REFERENCES attachments (hash),
  name TEXT NOT NULL,
  UNIQUE (hash, name)
);
CREATE TRIGGER attachment_names_append_only_u BEFORE UPDATE ON attachment_names
  BEGIN SELECT RAISE(ABORT, 'attachment_names is append-only'); END;
CREATE TRIGGER attachment_names_append_only_d BEFORE DELETE ON attachment_names
  BEGIN SELECT RAISE(ABORT, 'attachment_names is append-only'); END;
)sql";

// Migration 6: a narrow index over the events table, so that counting the
// stored events (`audit verify` shows events no audit leaf records, Store::
// CountEventsWithAuditSize) walks a few thousand small index pages instead
// of every page of `events`, whose rows carry the event bytes. SQLite keeps
// an index in step with its table on every INSERT, whichever connection
// makes it (a row added with the sqlite3 shell is counted), and count(*)
// stays exact if the index is dropped (it then walks the table again).
constexpr const char kEventsCountIndex[] = R"sql(
CREATE INDEX events_count ON events (instance);
)sql";

// Migration 7: the instance's earliest task deadline (InstanceRow::
// next_deadline, milliseconds since the epoch, NULL: none), so that the
// once-a-second deadline scan (Engine::Tick) reads the due instances through
// a small partial index instead of every running instance. Rows written
// before this migration do not know their deadline: running ones are marked
// due at once (0), and the first scan computes and stores the real value
// (Store::SetNextDeadline).
constexpr const char kNextDeadline[] = R"sql(
ALTER TABLE instances ADD COLUMN next_deadline INTEGER;
UPDATE instances SET next_deadline = 0 WHERE status = 'running';
CREATE INDEX instances_due ON instances (next_deadline) WHERE next_deadline IS NOT NULL;
)sql";

// Migration 8: level 0 of the Merkle tree is audit_log.leaf_hash. The store
// stops writing a merkle_nodes row per leaf, which held the same 32 bytes
// again (with its own B-tree entry in every batch); proofs and roots read
// level 0 from audit_log (SqliteStore's node reader). Rows at level 0 that
// a database holds from before this migration stay, since the history
// tables only grow; nothing reads them any more, and CheckIntegrity still
// compares each with its leaf. The migration changes no table: recording
// it makes a binary from before it refuse the database (schema_mismatch)
// instead of failing to find the level-0 nodes it would look for.
constexpr const char kLeafLevelFromAuditLog[] = R"sql(
-- merkle_nodes holds levels >= 1 from here on; level 0 is audit_log.leaf_hash.
)sql";

// Migration 9: the Merkle nodes above level 0 move to merkle_tree, keyed
// (pos) by the order the log completes them, so that a commit writes them
// at the right edge of the table. Node (level, idx) covers leaves
// [idx << level, (idx + 1) << level) and is completed by the append of its
// last leaf, ((idx + 1) << level) - 1, which completes its levels 1, 2, ...
// in that order, so (last leaf << 6) | level grows with every node written.
// Nodes from level 5 on (1 in 16) subtract 2^62: the same order among
// negative keys, so that the node cache (levels >= 5 by default) reads them
// with one range scan, while the rest are appended at the table's right
// edge. Keyed by (level, idx), a batch wrote at the right edge of every
// level, a leaf page per level (about 15 pages per batch of 64 appends). The nodes
// are copied as stored (a node edited behind the store's back stays wrong,
// for CheckIntegrity and `audit verify` to name) and removed from
// merkle_nodes, which keeps only the level-0 rows of databases from before
// migration 8 (CheckIntegrity still compares them with their leaves). Takes
// one pass over the nodes (about as many as the log has leaves) at the
// first open: about 2 s at a million leaves.
constexpr const char kMerkleCompletionOrder[] = R"sql(
CREATE TABLE merkle_tree (
  pos  INTEGER PRIMARY KEY,   -- see migration 9; level >= 1 only
  hash BLOB    NOT NULL CHECK (length(hash) = 32)
);
INSERT INTO merkle_tree (pos, hash)
  SELECT (((((idx + 1) << level) - 1) << 6) | level)
           - CASE WHEN level >= 5 THEN 1 << 62 ELSE 0 END,
         hash
    FROM merkle_nodes WHERE level > 0 ORDER BY 1;
DROP TRIGGER IF EXISTS merkle_nodes_append_only_d;
DELETE FROM merkle_nodes WHERE level > 0;
CREATE TRIGGER merkle_nodes_append_only_d BEFORE DELETE ON merkle_nodes
  BEGIN SELECT RAISE(ABORT, 'merkle_nodes is append-only'); END;
CREATE TRIGGER merkle_tree_append_only_u BEFORE UPDATE ON merkle_tree
  BEGIN SELECT RAISE(ABORT, 'merkle_tree is append-only'); END;
CREATE TRIGGER merkle_tree_append_only_d BEFORE DELETE ON merkle_tree
  BEGIN SELECT RAISE(ABORT, 'merkle_tree is append-only'); END;
)sql";

// Migration 10: an instance event is stored once, as the `event` member of
// its audit leaf (audit_log.leaf_data; audit/leaf.h), which holds the exact
// bytes of EncodeEvent: the store reads an instance's events, its latest
// version and the next instance id through audit_by_instance, and writes no
// events row (one copy of each event less per append: about 30 % fewer WAL
// bytes, bench/README.md). The rows events holds from before this migration
// stay, since the history tables only grow; events_end records the leaf
// index at which they end, so that CheckIntegrity and `audit verify` still
// hold each of them to its leaf and name a row deleted or added behind the
// store's back, and the table takes no new rows. Reads no table but the
// audit log's largest index: instant at any size.
constexpr const char kEventsStoredInLeaves[] = R"sql(
CREATE TABLE events_end (
  leaf INTEGER NOT NULL   -- events holds rows for the event leaves below this index only
);
INSERT INTO events_end (leaf) SELECT coalesce(max(idx) + 1, 0) FROM audit_log;
CREATE TRIGGER events_end_one_row BEFORE INSERT ON events_end
  BEGIN SELECT RAISE(ABORT, 'events_end holds one row'); END;
CREATE TRIGGER events_end_append_only_u BEFORE UPDATE ON events_end
  BEGIN SELECT RAISE(ABORT, 'events_end is append-only'); END;
CREATE TRIGGER events_end_append_only_d BEFORE DELETE ON events_end
  BEGIN SELECT RAISE(ABORT, 'events_end is append-only'); END;
CREATE TRIGGER events_closed BEFORE INSERT ON events
  BEGIN SELECT RAISE(ABORT, 'events are stored in their audit leaves (schema migration 10)'); END;
)sql";

// Append new migrations at the end; never edit or reorder released ones.
constexpr Migration kMigrations[] = {
    {1, "initial_schema", kInitialSchema},
    {2, "users_and_sessions", kUsersAndSessions},
    {3, "check_facts", kCheckFacts},
    {4, "exclusive_facts", kExclusiveFacts},
    {5, "attachment_names", kAttachmentNames},
    {6, "events_count_index", kEventsCountIndex},
    {7, "instance_next_deadline", kNextDeadline},
    {8, "merkle_leaf_level_from_audit_log", kLeafLevelFromAuditLog},
    {9, "merkle_nodes_in_completion_order", kMerkleCompletionOrder},
    {10, "events_stored_in_audit_leaves", kEventsStoredInLeaves},
};

constexpr const char kCreateMigrationsTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at INTEGER NOT NULL)";
constexpr const char kSelectApplied[] =
    "SELECT version, name FROM schema_migrations ORDER BY version";
constexpr const char kInsertApplied[] =
    "INSERT INTO schema_migrations (version, name, applied_at)"
    " VALUES (?1, ?2, unixepoch())";

std::unexpected<Error> Mismatch(const Db& db, std::string what) {
  return MakeError(ErrorCode::kInternal, "schema_mismatch",
                   db.path() + ": " + what +
                       "; this database was written by another version of "
                       "approvald; use a matching binary");
}

Result<int> ApplyLocked(Db& db) {
  if (auto s = db.Exec(kCreateMigrationsTable, "creating schema_migrations");
      !s)
    return std::unexpected(s.error());
  std::span<const Migration> known = Migrations();
  size_t applied = 0;
  {
    auto st = db.Prepare(kSelectApplied);
    if (!st) return std::unexpected(st.error());
    for (;;) {
      auto row = (*st)->Step();
      if (!row) return std::unexpected(row.error());
      if (!*row) break;
      int64_t version = (*st)->Int(0);
      std::string name = (*st)->Text(1);
      if (applied >= known.size() ||
          version != known[applied].version)
        return Mismatch(db, "it records schema migration " +
                                std::to_string(version) + " (" + name +
                                "), which this binary does not have at that "
                                "position");
      if (name != known[applied].name)
        return Mismatch(db, "schema migration " + std::to_string(version) +
                                " is recorded as \"" + name +
                                "\" but this binary calls it \"" +
                                known[applied].name + "\"");
      ++applied;
    }
  }
  int count = 0;
  for (size_t i = applied; i < known.size(); ++i) {
    const Migration& m = known[i];
    if (auto s = db.Exec(m.sql, "applying schema migration " +
                                    std::to_string(m.version) + " (" +
                                    m.name + ")");
        !s)
      return std::unexpected(s.error());
    auto st = db.Prepare(kInsertApplied);
    if (!st) return std::unexpected(st.error());
    (*st)->Bind(1, int64_t{m.version}).Bind(2, std::string_view(m.name));
    if (auto s = (*st)->Run(); !s) return std::unexpected(s.error());
    ++count;
  }
  return count;
}

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

Result<int> ApplyMigrations(Db& db) {
  if (auto s = db.Exec("BEGIN IMMEDIATE", "starting the migration transaction");
      !s)
    return std::unexpected(s.error());
  auto r = ApplyLocked(db);
  if (!r) {
    (void)db.Exec("ROLLBACK", "rolling back migrations");
    return r;
  }
  if (auto s = db.Exec("COMMIT", "committing migrations"); !s) {
    if (db.InTransaction()) (void)db.Exec("ROLLBACK", "rolling back migrations");
    return std::unexpected(s.error());
  }
  return r;
}

}  // namespace approvald::sqlite
