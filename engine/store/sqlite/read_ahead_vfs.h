// A SQLite VFS for connections that scan a large part of the database once
// (`approvald audit verify`): it wraps the default VFS and serves reads of
// the main database file from a few blocks, each filled with one read,
// instead of one read per 4 KB page. A read that goes on forward from a
// block (the next pages of a table being scanned) reads twice what that
// block held, up to kReadAheadBlockBytes and never into another block (two
// cursors scanning tables whose pages interleave read each stretch once);
// any other read (a lone page, as a B-tree seek reads) reads just the page,
// as SQLite would.
//
// Why: on the virtual machines approvald is measured on, every page read
// costs about 2 µs whichever way SQLite reads it (a pread system call, or
// the first touch of a page of a memory mapping), against about 0.1 µs per
// page when 256 KB are read at once (bench/README.md, `audit verify`,
// session 6). A full verification reads a few hundred thousand pages.
//
// Contract: the pages returned are the file's bytes as of the block's read.
// Every block is dropped whenever SQLite takes or releases a lock (the
// database file's locks or the WAL index's, which every read transaction
// takes when it begins), writes, truncates or syncs the file, so a block is
// only ever used within the transaction that read it; within a read
// transaction SQLite itself relies on the database file's pages it reads not
// changing (a checkpoint backfills only frames every reader has seen).
// Other files (the WAL, journals) are passed through unchanged.
//
// The file is never memory-mapped. With SQLite's mmap_size > 0 on the
// connection, SQLite asks the VFS for each page in place (xFetch) instead of
// reading it into its page cache: a page inside a block of several pages is
// then lent straight from the block, saving the copy of every page a scan
// reads, and the block is kept (not refilled, even once dropped) until
// SQLite gives every lent page back (xUnfetch). Lone pages (a B-tree's upper
// levels) are still read into SQLite's page cache, where they stay.
#ifndef APPROVALD_STORE_SQLITE_READ_AHEAD_VFS_H_
#define APPROVALD_STORE_SQLITE_READ_AHEAD_VFS_H_

#include <cstdint>

namespace approvald::sqlite {

// The most bytes read at once, and blocks kept per open database file (the
// least recently used replaced first, but a block read on is replaced by
// its successor; a block with pages lent to SQLite is not replaced). A scan
// with lookups holds a page or two of each of its cursors in place.
inline constexpr int64_t kReadAheadBlockBytes = int64_t{256} << 10;
inline constexpr int kReadAheadBlocks = 16;

// Registers the VFS with SQLite on first use (thread-safe; it is never the
// default VFS) and returns its name, for sqlite3_open_v2. nullptr if SQLite
// has no default VFS to wrap or refused the registration.
const char* ReadAheadVfsName();

// Since the process started, over all connections (tests, benchmarks).
struct ReadAheadCounters {
  int64_t page_reads_served = 0;  // SQLite's reads answered (from a block)
  int64_t block_reads = 0;        // reads of the file made for them
  int64_t bytes_read = 0;         // bytes those read
  int64_t pages_lent = 0;         // pages SQLite took in place (xFetch)
  int64_t all_pinned = 0;         // reads made directly: every block was lent
};
ReadAheadCounters ReadAheadCountersNow();

}  // namespace approvald::sqlite

#endif  // APPROVALD_STORE_SQLITE_READ_AHEAD_VFS_H_
