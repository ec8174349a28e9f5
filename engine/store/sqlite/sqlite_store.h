// SqliteStore: the embedded default Store, on one SQLite database file.
//
// Durability: WAL journal, synchronous=FULL; a call that writes returns only
// after the transaction holding its rows committed and the WAL holding them
// was synced, so an acknowledged write survives a crash or power loss.
//
// Group commit: one writer thread owns the only write connection. Writing
// calls (Append, AppendAudit, SaveCheckpoint, PutAttachment, SaveDefinition)
// queue a request and block; the writer takes every queued request (up to
// `max_batch`), runs them in ONE transaction (a request refused halfway,
// for a version conflict, an idempotency mismatch, ..., makes the batch run
// again with each request in its own SAVEPOINT, so that it is rolled back
// alone), then COMMITs, and the syncer thread answers them all once the WAL
// is synced (pipelined_sync; meanwhile the writer runs the next batch). If
// the COMMIT fails, every request of the batch fails kUnavailable and none
// of it is stored.
//
// Reads use a pool of read connections that WAL lets run beside the writer.
// WAL checkpoints (PASSIVE) run on a separate thread and connection, never in
// the commit path.
//
// Schema: numbered forward-only migrations (migrations.h) applied at open.
// History tables refuse UPDATE and DELETE by trigger.
//
// Thread-safe: every public method may be called from any thread.
#ifndef APPROVALD_STORE_SQLITE_SQLITE_STORE_H_
#define APPROVALD_STORE_SQLITE_SQLITE_STORE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "approvald/store.h"

namespace approvald {

struct SqliteOptions {
  // The database file; created (with its schema) if missing.
  std::string path;
  // Read connections in the pool; at most this many reads run at once.
  int read_connections = 4;
  // How long a connection waits for a lock held by another process (e.g. a
  // backup or `audit verify` running beside the daemon) before failing.
  int busy_timeout_ms = 5000;
  // Most requests one group-commit transaction takes. 1 disables group
  // commit: one transaction (and one fsync) per request.
  int max_batch = 1024;
  // Start a WAL checkpoint once the WAL holds this many pages (about 16 MB
  // with 4 KB pages) ... Each checkpoint copies every page the WAL holds
  // once, however many frames of it there are; the pages at the right edges
  // of the B-trees are in nearly every batch, so a longer WAL copies fewer
  // pages per append (with 4000 instead of 1000: group commit 7-46 % faster
  // in store_bench, bench/README.md).
  int checkpoint_wal_pages = 4000;
  // ... or, if it holds any, after this many milliseconds.
  int checkpoint_interval_ms = 1000;
  // Under continuous writes the WAL cannot restart from its beginning while
  // checkpoints run beside the writer; once it holds this many pages the
  // writer checkpoints it between two batches so that it can (about 40 MB
  // with 4 KB pages).
  int wal_restart_pages = 10000;
  // Merkle nodes at this level and above are kept in memory: 32 bytes per
  // 2^(level-1) leaves, 20 MB at 10 million events with the default. A proof
  // then reads only the `level` lowest of its nodes from SQLite. Level 0
  // (the leaf hashes) is always read from SQLite: 0 caches from level 1.
  int cached_node_level = 5;
  // The writer keeps, for up to this many instances it appended to lately,
  // their version, their projection row's status and next deadline, and
  // their task rows as stored, so that the next append to one checks its
  // expected version and rewrites its task rows without reading them first
  // (two SELECTs, about 10 k instructions per append). About 0.7 KB per
  // instance (0.7 MB at the default): the daemon's resident memory has a
  // budget, and the instances in flight at once are what it is for. The
  // whole set is dropped when it would grow past this; it is dropped too when
  // a transaction of the writer rolls back, and when another connection
  // changed the database (PRAGMA data_version, read at the start of every
  // write transaction). 0: the writer reads them every time.
  int writer_known_instances = 1024;
  // Read connections map up to this many bytes of the file instead of
  // reading pages with pread (SQLite's mmap_size). 0 = off.
  int64_t reader_mmap_bytes = 0;
  // Read connections read the database file in blocks of up to 256 KB,
  // kept for the transaction, where reads go on forward through the file
  // (sqlite/read_ahead_vfs.h), instead of page by page, and SQLite reads the
  // pages of those blocks in place instead of copying them: for stores
  // opened to scan most of the file once (`audit verify`). The file is not
  // mapped (reader_mmap_bytes is ignored). Costs up to 4 MB per read
  // connection.
  bool reader_read_ahead = false;
  // The write connection hands each commit's WAL frames to the kernel in
  // writes of up to 120 KiB instead of two system calls per frame
  // (sqlite/wal_batch_vfs.h);
  // the frames are still written and synced before the COMMIT returns.
  bool writer_wal_batching = true;
  // Pipelined sync (needs writer_wal_batching): the writer's COMMIT returns
  // once the batch's WAL frames are written; a thread of the store syncs the
  // WAL (fdatasync) and only then answers the batch's requests, while the
  // writer runs the next batch. Every answer still comes after the sync
  // that makes it durable; readers may see a commit up to one sync earlier
  // (as with synchronous=NORMAL), except checkpoints, which are served only
  // over a durable tree. Off: each COMMIT syncs before it returns.
  bool pipelined_sync = true;
};

// Group-commit statistics, for /metrics.
struct GroupCommitStats {
  // histogram[i] counts committed batches of size in (2^(i-1), 2^i]:
  // bucket 0 = 1, bucket 1 = 2, bucket 2 = 3..4, ..., the last bucket is
  // everything larger than 2^(kBuckets-2).
  static constexpr int kBuckets = 12;
  // The upper bound of bucket i (inclusive); INT64_MAX for the last.
  static int64_t BucketUpperBound(int i);

  int64_t batches = 0;          // committed batches
  int64_t requests = 0;         // requests in committed batches
  int64_t failed_batches = 0;   // batches whose transaction failed
  int64_t failed_requests = 0;  // requests answered kUnavailable by those
  int64_t max_batch = 0;        // largest committed batch
  std::array<int64_t, kBuckets> histogram{};
  int64_t wal_checkpoints = 0;        // PASSIVE checkpoints, checkpoint thread
  int64_t wal_restarts = 0;           // checkpoints by the writer between batches
  int64_t wal_checkpoint_errors = 0;  // checkpoints that failed
  // Batches run a second time with one SAVEPOINT per request because a
  // request was refused in the first run (which uses no SAVEPOINTs).
  int64_t isolated_reruns = 0;
  // Wakes of the threads blocked in a synchronous write (Append, AppendAudit,
  // ...): one per batch that answered any, however many it answered (each
  // one system call; AppendAsync's callbacks need none).
  int64_t caller_wakes = 0;
  // Blocked callers woken by a batch that did not answer them (a bulk op
  // took a batch of its own ahead of them, or the wake was spurious), who
  // then slept again.
  int64_t early_wakes = 0;
  // Frames in the WAL as of the last commit (0 once the writer has copied
  // them all back); small again after the WAL restarts from its beginning.
  int64_t wal_frames = 0;
  // Syncs of the WAL made by the syncer before it answered the batches
  // committed since the previous one (pipelined_sync), and those that
  // failed (after the first, the store refuses every write).
  int64_t wal_syncs = 0;
  int64_t wal_sync_failures = 0;
};

class SqliteStore final : public Store {
 public:
  // Opens (creating if needed) the database at options.path: sets WAL,
  // synchronous=FULL, foreign_keys=ON and busy_timeout on every connection,
  // applies pending migrations in one transaction, restores the Merkle tree
  // state, starts the writer and checkpoint threads. kUnavailable if the
  // file cannot be opened or is not a database, kInternal
  // ("schema_mismatch") if it was written by an incompatible approvald.
  static Result<std::unique_ptr<SqliteStore>> Open(const SqliteOptions& options);

  // Answers every queued write, stops the threads and closes the database.
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Result<AppendResult> Append(AppendRequest req) override;
  // Queues the append for the writer and returns; `done` runs on the writer
  // thread once the batch holding it committed (or failed), or at once on
  // the calling thread for a malformed request or a closing store.
  void AppendAsync(AppendRequest req, AppendDone done) override;
  Result<int64_t> AppendAudit(const AuditRecord& rec) override;
  Result<std::vector<Event>> LoadEvents(InstanceId id) override;
  Result<InstanceRow> GetInstance(InstanceId id) override;
  Result<std::vector<InstanceRow>> ListInstances(const InstanceQuery& q) override;
  Result<bool> SetNextDeadline(InstanceId id, int64_t version,
                               std::optional<Timestamp> next_deadline) override;
  Result<std::vector<TaskRow>> ListTasks(const PersonId& person, const std::string& kind,
                                         int limit) override;
  Result<std::vector<AuditEntry>> QueryAudit(const AuditQuery& q) override;
  Result<int64_t> AuditSize() override;
  // Yields the rows as stored, without judging them: a row deleted or
  // edited behind the triggers' back shows as a gap or a bad hash for the
  // verifier (audit/verify.h) to name.
  Status ScanAudit(int64_t from,
                   const std::function<bool(const AuditEntry&)>& fn) override;
  // Reads chunks of rows in place; `fn` runs while a read connection is
  // leased, so it must not call back into this store. With events, the
  // stored event of a leaf from schema migration 10 on is the leaf's own
  // event member (audit::EventBytesOfLeaf); of an older leaf, its row in
  // the events table.
  Status ScanAuditLeaves(int64_t from, bool with_events,
                         const std::function<bool(const AuditLeafView&)>& fn) override;
  // The same without reading the at, type and actor columns.
  Status ScanAuditLeavesUnnamed(
      int64_t from, bool with_events,
      const std::function<bool(const AuditLeafView&)>& fn) override;
  // The events table's rows (all from before schema migration 10) plus the
  // event leaves from migration 10 on.
  Result<int64_t> CountEvents() override;
  // One read transaction: the log size (handed to `on_size`), then the
  // events counted in the same snapshot.
  Result<int64_t> CountEventsWithAuditSize(const std::function<void(int64_t)>& on_size) override;
  Result<Hash> RootAt(int64_t size) override;
  Result<std::vector<Hash>> InclusionProof(int64_t index, int64_t size) override;
  Result<std::vector<Hash>> ConsistencyProof(int64_t old_size, int64_t new_size) override;
  Status SaveCheckpoint(const Checkpoint& cp) override;
  Result<std::vector<Checkpoint>> ListCheckpoints() override;
  Result<std::optional<Checkpoint>> LatestCheckpoint() override;
  Result<std::string> PutAttachment(std::string_view bytes, int64_t max_size) override;
  Result<std::string> GetAttachment(const std::string& hash) override;
  Result<int64_t> AttachmentSize(const std::string& hash) override;
  Status NameAttachment(const std::string& hash, const std::string& name) override;
  Result<std::map<std::string, std::string>> AttachmentNames(
      const std::vector<std::string>& hashes) override;
  Status SaveDefinition(const std::string& id, int version, const std::string& hash,
                        const std::string& source_text) override;
  Result<std::vector<StoredDefinition>> ListDefinitions() override;
  Result<std::vector<FactHit>> FindFacts(const FactQuery& q) override;

  // Writes a consistent copy of the database to `to_path` while the store
  // keeps serving (SQLite online backup API; see BackupSqliteDatabase).
  Status Backup(const std::string& to_path);

  // Checks the whole database against itself in one read snapshot, like an
  // fsck: leaf indexes 0..n-1 without gaps; every leaf hash is the hash of
  // its bytes; every event leaf holds the event its columns name (and
  // before schema migration 10, its events row is that event, and every
  // row has its leaf); every
  // stored Merkle node equals the node recomputed from the leaves and none
  // is missing or extra; every checkpoint root is the recomputed root at its
  // size; every instance row's version is its number of events, which are
  // 1..n. Returns kInternal ("integrity_violation") naming the first
  // problem (leaf index, instance and version). O(log size) memory.
  Status CheckIntegrity();

  // SQLite's own check of the database file: PRAGMA quick_check (pages,
  // B-trees, records, NOT NULL and CHECK constraints), or with `full` PRAGMA
  // integrity_check (also every index against its table; slower). Ok, or
  // kInternal ("sqlite_integrity") quoting SQLite's first complaints.
  // kUnavailable if the file cannot be read at all.
  Status CheckSqliteIntegrity(bool full);

  GroupCommitStats BatchStats() const;
  const std::string& path() const;

  // Test hooks.
  //
  // The next `n` batch COMMITs fail as a refused disk write would: the
  // writer rolls the batch back and answers all its requests kUnavailable.
  void FailCommitsForTesting(int n);
  // The next `n` syncs of the WAL by the syncer fail as a refused disk
  // write would (pipelined_sync): the batches waiting for it are answered
  // kUnavailable, and so is every write after it.
  void FailSyncsForTesting(int n);
  // Holds the syncer (pipelined_sync) so committed batches wait for their
  // sync unanswered while the writer goes on; Resume lets it sync them.
  void PauseSyncsForTesting();
  void ResumeSyncsForTesting();
  // Holds the writer between batches so queued writes pile up; Resume lets
  // it take them (all in one batch, up to max_batch).
  void PauseWriterForTesting();
  void ResumeWriterForTesting();
  // Writes queued and not yet taken by the writer.
  size_t QueuedWritesForTesting() const;
  // The settings SQLite reports (PRAGMA queries) on the writer's connection
  // and on a reader's.
  struct ConnectionSettings {
    std::string journal_mode;
    int64_t synchronous = -1;  // 2 = FULL
    int64_t foreign_keys = -1;
    int64_t busy_timeout = -1;  // ms
    int64_t query_only = -1;
    int64_t wal_autocheckpoint = -1;  // pages; 0 = SQLite never checkpoints in COMMIT
    int64_t mmap_size = -1;           // bytes of the file mapped; 0 = none
  };
  Result<ConnectionSettings> WriterSettingsForTesting();
  Result<ConnectionSettings> ReaderSettingsForTesting();
  // The SQL of each statement the writer's connection keeps prepared, with
  // how many times it has run. Runs on the writer thread, in a transaction
  // of its own.
  Result<std::vector<std::pair<std::string, int64_t>>> WriterStatementRunsForTesting();
  // Appends whose expected version and task rows the writer took from its
  // memory (SqliteOptions::writer_known_instances) instead of reading them.
  int64_t KnownInstanceHitsForTesting() const;
  // Appends `reqs` in one big transaction with synchronous=OFF (not durable
  // until the next normal commit or close): only for building benchmark
  // fixtures fast. Fails as a whole if any request fails.
  Result<std::vector<AppendResult>> BulkAppendForTesting(std::vector<AppendRequest> reqs);

 private:
  struct Impl;
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  // ScanAuditLeaves (`names`) and ScanAuditLeavesUnnamed.
  Status ScanLeaves(int64_t from, bool with_events, bool names,
                    const std::function<bool(const AuditLeafView&)>& fn);
  std::unique_ptr<Impl> impl_;
};

// Writes a consistent snapshot of the SQLite database at `db_path` to
// `to_path` with the online backup API, while other connections (a running
// daemon) keep reading and writing it. The copy is written to
// `to_path + ".tmp"`, synced, then renamed over `to_path`, so `to_path` is
// either the old file or a complete backup. kUnavailable on failure.
//
// Restore: stop approvald, copy the backup file to the database path in the
// data directory and delete any stale "<path>-wal" and "<path>-shm" beside
// it, then start approvald; the copy is a complete database on its own.
Status BackupSqliteDatabase(const std::string& db_path, const std::string& to_path);

}  // namespace approvald

#endif  // APPROVALD_STORE_SQLITE_SQLITE_STORE_H_
