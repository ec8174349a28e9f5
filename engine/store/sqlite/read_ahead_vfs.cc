// The read-ahead VFS (read_ahead_vfs.h): a shim over SQLite's default VFS.
// Every call is forwarded to the wrapped file; only xRead of the main
// database file is answered from the blocks when it can be.
#include "store/sqlite/read_ahead_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>

#include "store/sqlite/vfs_shim.h"

namespace approvald::sqlite {
namespace {

constexpr char kVfsName[] = "approvald-read-ahead";

std::atomic<int64_t> g_served{0};
std::atomic<int64_t> g_block_reads{0};
std::atomic<int64_t> g_bytes_read{0};
std::atomic<int64_t> g_pages_lent{0};
std::atomic<int64_t> g_all_pinned{0};

// How far past a block's end a read may start and still continue it (the
// pages of other tables and indexes lie between a table's pages).
constexpr int64_t kStreamGap = int64_t{64} << 10;

struct Block {
  int64_t start = -1;  // file offset; -1: empty
  int64_t size = 0;    // valid bytes from start
  uint64_t used = 0;   // last use, for replacement
  // Pages of this block SQLite holds in place (Fetch, not yet Unfetch):
  // while any is held the block is never refilled, even once dropped.
  int pins = 0;
  std::unique_ptr<char[]> bytes;
};

// Our sqlite3_file; the wrapped file's storage follows it (szOsFile).
struct File {
  sqlite3_file base;
  sqlite3_file* real;
  bool read_ahead;    // the main database file
  int64_t file_size;  // -1: not known in the current transaction
  uint64_t clock;
  Block* blocks;  // kReadAheadBlocks, read_ahead only
};

File* Of(sqlite3_file* f) { return reinterpret_cast<File*>(f); }
sqlite3_file* Real(sqlite3_file* f) { return Of(f)->real; }

void Drop(File* f) {
  f->file_size = -1;
  if (!f->blocks) return;
  for (int i = 0; i < kReadAheadBlocks; ++i) f->blocks[i].start = -1;
}

// The block holding [offset, offset + amount), reading one if none holds
// it; nullptr if it cannot be read that way (the caller then reads the range
// directly). A read that continues a block forward (starts at most
// kStreamGap or the block's size past its end, as the next page of a table
// usually does) reads twice as much as that block held, up to
// kReadAheadBlockBytes and up to the next block, and takes its place; any
// other read reads only the range asked for, so lone pages (a B-tree seek)
// cost what they cost without the VFS. A block SQLite holds pages of (pins)
// is never the one replaced; if every block is held, nullptr.
Block* BlockFor(File* f, int64_t offset, int amount) {
  if (amount > kReadAheadBlockBytes) return nullptr;
  const int64_t end = offset + amount;
  Block* stream = nullptr;
  Block* victim = nullptr;
  int64_t next_start = INT64_MAX;  // the first block after offset
  for (int i = 0; i < kReadAheadBlocks; ++i) {
    Block& b = f->blocks[i];
    if (b.start < 0) {
      if (b.pins == 0 && (!victim || victim->start >= 0)) victim = &b;
      continue;
    }
    const int64_t b_end = b.start + b.size;
    if (b.start <= offset && end <= b_end) {
      b.used = ++f->clock;
      return &b;
    }
    if (b.start > offset) next_start = std::min(next_start, b.start);
    if (offset >= b_end && offset < b_end + std::max(b.size, kStreamGap) &&
        (!stream || b.used > stream->used)) {
      stream = &b;
    }
    if (b.pins == 0 && (!victim || (victim->start >= 0 && b.used < victim->used))) {
      victim = &b;
    }
  }
  int64_t want = amount;
  if (stream) {
    // Up to the next block at most: two cursors scanning interleaved
    // tables (the log and its events) read the stretch between them once.
    want = std::clamp<int64_t>(std::min(2 * stream->size, next_start - offset), amount,
                               kReadAheadBlockBytes);
    if (stream->pins == 0) victim = stream;
  }
  if (!victim) {
    g_all_pinned.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  if (f->file_size < 0) {
    sqlite3_int64 size = 0;
    if (f->real->pMethods->xFileSize(f->real, &size) != SQLITE_OK) return nullptr;
    f->file_size = size;
  }
  const int64_t size = std::min<int64_t>(want, f->file_size - offset);
  if (size < amount) return nullptr;  // past the end: SQLite's short read
  if (!victim->bytes) victim->bytes.reset(new char[kReadAheadBlockBytes]);
  victim->start = -1;
  if (f->real->pMethods->xRead(f->real, victim->bytes.get(), static_cast<int>(size),
                               offset) != SQLITE_OK) {
    return nullptr;
  }
  g_block_reads.fetch_add(1, std::memory_order_relaxed);
  g_bytes_read.fetch_add(size, std::memory_order_relaxed);
  victim->start = offset;
  victim->size = size;
  victim->used = ++f->clock;
  return victim;
}

int Close(sqlite3_file* f) {
  File* file = Of(f);
  int rc = file->real->pMethods ? file->real->pMethods->xClose(file->real) : SQLITE_OK;
  delete[] file->blocks;
  file->blocks = nullptr;
  return rc;
}

int Read(sqlite3_file* f, void* out, int amount, sqlite3_int64 offset) {
  File* file = Of(f);
  if (file->read_ahead && amount > 0 && offset >= 0) {
    if (const Block* b = BlockFor(file, offset, amount)) {
      std::memcpy(out, b->bytes.get() + (offset - b->start), static_cast<size_t>(amount));
      g_served.fetch_add(1, std::memory_order_relaxed);
      return SQLITE_OK;
    }
  }
  return file->real->pMethods->xRead(file->real, out, amount, offset);
}

int Write(sqlite3_file* f, const void* in, int amount, sqlite3_int64 offset) {
  Drop(Of(f));
  return Real(f)->pMethods->xWrite(Real(f), in, amount, offset);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  Drop(Of(f));
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int Sync(sqlite3_file* f, int flags) {
  Drop(Of(f));
  return Real(f)->pMethods->xSync(Real(f), flags);
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int Lock(sqlite3_file* f, int level) {
  Drop(Of(f));
  return Real(f)->pMethods->xLock(Real(f), level);
}
int Unlock(sqlite3_file* f, int level) {
  Drop(Of(f));
  return Real(f)->pMethods->xUnlock(Real(f), level);
}
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  File* file = Of(f);
  if (op == SQLITE_FCNTL_MMAP_SIZE && file->read_ahead) {
    // The main file is never mapped: SQLite's mmap_size only turns on
    // Fetch (pages lent from the blocks). The wrapped file is not told (it
    // would map the file itself), and the bytes mapped are 0.
    *static_cast<sqlite3_int64*>(arg) = 0;
    return SQLITE_OK;
  }
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int SectorSize(sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); }
int DeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}
int ShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return WrappedShmMap(Real(f), region, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  // Every read transaction takes a WAL read lock when it begins: blocks
  // read in an earlier transaction are not used in it.
  Drop(Of(f));
  return WrappedShmLock(Real(f), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) {
  WrappedShmBarrier(Real(f));
}
int ShmUnmap(sqlite3_file* f, int delete_flag) {
  Drop(Of(f));
  return WrappedShmUnmap(Real(f), delete_flag);
}
// With mmap_size > 0 SQLite asks for each page of the main file here
// before reading it: a page inside a block of several pages is lent in
// place (no copy into SQLite's page cache) and its block pinned until
// Unfetch. Lone pages are not lent (nullptr): SQLite then reads them with
// Read and keeps them in its page cache, where a B-tree's upper pages,
// visited again and again, stay without holding a block.
int Fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  *out = nullptr;
  File* file = Of(f);
  if (!file->read_ahead) return WrappedFetch(Real(f), offset, amount, out);
  if (amount <= 0 || offset < 0) return SQLITE_OK;
  Block* b = BlockFor(file, offset, amount);
  if (!b || b->size <= amount) return SQLITE_OK;
  ++b->pins;
  *out = b->bytes.get() + (offset - b->start);
  g_pages_lent.fetch_add(1, std::memory_order_relaxed);
  return SQLITE_OK;
}
int Unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  File* file = Of(f);
  if (!file->read_ahead) return WrappedUnfetch(Real(f), offset, p);
  if (!p) {  // SQLite drops every mapping (the file may have changed)
    Drop(file);
    return SQLITE_OK;
  }
  const char* page = static_cast<const char*>(p);
  for (int i = 0; i < kReadAheadBlocks; ++i) {
    Block& b = file->blocks[i];
    if (b.bytes && page >= b.bytes.get() && page < b.bytes.get() + kReadAheadBlockBytes) {
      --b.pins;
      break;
    }
  }
  return SQLITE_OK;
}

const sqlite3_io_methods kMethods = {
    3,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    ShmMap,
    ShmLock,
    ShmBarrier,
    ShmUnmap,
    Fetch,
    Unfetch,
};

int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* f, int flags,
         int* out_flags) {
  File* file = Of(f);
  file->base.pMethods = nullptr;
  file->real = reinterpret_cast<sqlite3_file*>(file + 1);
  file->read_ahead = (flags & SQLITE_OPEN_MAIN_DB) != 0;
  file->file_size = -1;
  file->clock = 0;
  file->blocks = nullptr;
  sqlite3_vfs* parent = ShimParent(vfs);
  int rc = parent->xOpen(parent, name, file->real, flags, out_flags);
  if (rc != SQLITE_OK) return rc;  // the wrapped file closes itself on failure
  if (file->read_ahead) file->blocks = new Block[kReadAheadBlocks];
  file->base.pMethods = &kMethods;
  return SQLITE_OK;
}

const char* Register() {
  static sqlite3_vfs vfs;
  return RegisterVfsShim(&vfs, kVfsName, static_cast<int>(sizeof(File)), Open);
}

}  // namespace

const char* ReadAheadVfsName() {
  static const char* name = Register();
  return name;
}

ReadAheadCounters ReadAheadCountersNow() {
  return {g_served.load(std::memory_order_relaxed),
          g_block_reads.load(std::memory_order_relaxed),
          g_bytes_read.load(std::memory_order_relaxed),
          g_pages_lent.load(std::memory_order_relaxed),
          g_all_pinned.load(std::memory_order_relaxed)};
}

}  // namespace approvald::sqlite
