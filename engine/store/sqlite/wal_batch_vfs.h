// A SQLite VFS for the store's write connection that hands the WAL's
// frames of a commit to the kernel in a few large writes instead of two per frame.
//
// SQLite writes each WAL frame as two pwrite calls (its 24-byte header, then
// the page), and a frame is 4,120 bytes, so every frame also straddles
// page-cache pages twice. A group-commit batch of 64 appends writes about 80
// frames: some 160 system calls, which were a sixth of the writer thread's
// CPU time under group commit (bench/README.md, session 8). This VFS wraps
// the default one and collects writes to a WAL file that continue one
// another into a buffer (up to kWalBatchBytes), which it writes in a few
// calls before anything that could depend on the file's contents:
//
//   - before every other operation on the WAL file (xSync above all: with
//     synchronous=FULL, SQLite syncs the WAL at every commit before it
//     publishes the commit in the WAL index; also xRead, xTruncate,
//     xFileSize, xFileControl, locks, xClose), and before a write that does
//     not continue the buffer (it may overwrite a buffered frame);
//   - before xShmBarrier on its database file: SQLite publishes a commit to
//     other connections by writing the WAL-index header's two copies on
//     either side of a memory barrier (readers take it only when both
//     agree), so with synchronous=OFF (no xSync) the frames are in the file
//     before any reader can see the header that points at them.
//
// So no connection (of this process or another) ever reads a frame from the
// file before it was written, and a commit's frames reach the file, and are
// synced, before the commit returns, as without the VFS. A crash loses only
// what was not yet synced, as without the VFS: SQLite recovers the WAL up to
// its last valid commit frame. If a write fails, the error is returned by
// the call that flushed (xSync for a commit: the transaction fails and rolls
// back); the buffer is dropped. A flush that fails in xShmBarrier (which
// cannot report it; only possible with synchronous=OFF, which the store uses
// only for BulkAppendForTesting) aborts the process rather than let readers
// see a header that points at frames that are not in the file.
//
// The database file and other files are passed through (their writes are
// not buffered).
//
// Deferred syncs (DeferWalSyncs, for the store's writer): between two calls
// a connection's WAL syncs are not made but recorded, so that a COMMIT
// returns once its frames are written, and the caller syncs the file itself
// (fdatasync on a descriptor of its own) before it tells anyone the commit
// is durable. Two syncs are still made in place: the first of the handle
// (for a new file it also syncs the directory) and one that follows a
// rewrite of the WAL header (SQLite starts the WAL over with a new header
// and syncs it before the frames that follow may overwrite the old ones, so
// that a crash cannot pair the old header with some of the new frames).
// Until that fdatasync returns, other connections may read the commit (as
// with synchronous=NORMAL); a crash of the process loses nothing (the
// frames are in the kernel), a crash of the machine may lose the commit.
#ifndef APPROVALD_STORE_SQLITE_WAL_BATCH_VFS_H_
#define APPROVALD_STORE_SQLITE_WAL_BATCH_VFS_H_

#include <cstdint>

struct sqlite3;

namespace approvald::sqlite {

// The most bytes collected before they are written (a batch of 1,024
// appends writes about 5 MB of frames), and the most handed to the wrapped
// file in one write: SQLite's unix VFS writes at most 128 KiB - 1 bytes per
// call (it masks the length), so a flush writes chunks of 120 KiB, about 30
// frames each (a batch of 64 appends: 3 writes instead of about 160).
inline constexpr int64_t kWalBatchBytes = int64_t{1} << 20;
inline constexpr int64_t kWalWriteBytes = int64_t{120} << 10;

// Registers the VFS with SQLite on first use (thread-safe; it is never the
// default VFS) and returns its name, for sqlite3_open_v2. nullptr if SQLite
// has no default VFS to wrap or refused the registration.
const char* WalBatchVfsName();

// Turns deferred syncs of `db`'s WAL on or off (the calling thread must be
// the one using `db`). Returns 1 if a sync was deferred since the previous
// call (the caller owes the WAL a sync), else 0; -1 if `db` has no WAL open
// through this VFS (its syncs are made as usual).
int DeferWalSyncs(sqlite3* db, bool defer);

// Since the process started, over all connections (tests, benchmarks).
struct WalBatchCounters {
  int64_t writes_taken = 0;  // SQLite's writes to WAL files
  int64_t writes_made = 0;   // writes of the WAL files made for them
  int64_t bytes_written = 0;
  int64_t barrier_flushes = 0;  // flushes made by xShmBarrier
  int64_t subjournals_opened = 0;  // statement journals SQLite moved to a file
  int64_t syncs_deferred = 0;      // WAL syncs recorded instead (DeferWalSyncs)
  int64_t syncs_made = 0;          // WAL syncs passed to the wrapped file
};
WalBatchCounters WalBatchCountersNow();

}  // namespace approvald::sqlite

#endif  // APPROVALD_STORE_SQLITE_WAL_BATCH_VFS_H_
