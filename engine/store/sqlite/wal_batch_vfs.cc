// The WAL-batching VFS (wal_batch_vfs.h): a shim over SQLite's default VFS.
// Every call is forwarded to the wrapped file; writes to a WAL file that
// continue one another are collected and written at once.
#include "store/sqlite/wal_batch_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "store/sqlite/vfs_shim.h"

namespace approvald::sqlite {
namespace {

constexpr char kVfsName[] = "approvald-wal-batch";

std::atomic<int64_t> g_taken{0};
std::atomic<int64_t> g_made{0};
std::atomic<int64_t> g_bytes{0};
std::atomic<int64_t> g_barrier_flushes{0};
std::atomic<int64_t> g_subjournals{0};
std::atomic<int64_t> g_syncs_deferred{0};
std::atomic<int64_t> g_syncs_made{0};

// sqlite3_file_control opcodes of this VFS, on a database file (SQLite hands
// opcodes it does not know to the VFS; its own are below 100).
constexpr int kFcntlDeferWalSyncs = 0x61700001;

// The WAL header (32 bytes at offset 0) is written when the WAL starts over
// from its beginning; SQLite syncs it before it writes the first frame.
constexpr int64_t kWalHeaderBytes = 32;

// Our sqlite3_file; the wrapped file's storage follows it (szOsFile).
struct File {
  sqlite3_file base;
  sqlite3_file* real;
  bool wal;  // a WAL file: writes are collected
  // WAL file: its database file (nullptr once that closed). Database file:
  // its open WAL file, if any. Both belong to one connection, so one
  // thread at a time uses them.
  File* peer;
  const void* db_name;  // database file: its key in the registry
  // WAL file: the collected bytes, for the file from buffer_offset on.
  std::vector<char>* buffer;
  int64_t buffer_offset;
  // WAL file: deferred syncs (DeferWalSyncs). `defer` is set around a
  // COMMIT; a sync asked for meanwhile is only recorded in `sync_owed`,
  // unless the file was never synced through this handle (the first sync
  // also syncs the directory of a new file) or its header was rewritten
  // since the last sync (it must be durable before the frames after it).
  bool defer;
  bool sync_owed;
  bool synced_once;
  bool header_written;
};

File* Of(sqlite3_file* f) { return reinterpret_cast<File*>(f); }
sqlite3_file* Real(sqlite3_file* f) { return Of(f)->real; }

// The database files open through this VFS, by the name SQLite opened them
// with: SQLite derives a WAL file's name from the same allocation, and
// sqlite3_filename_database() of the WAL's name returns it, so a WAL file
// finds the database file of its own connection.
std::mutex g_registry_mu;
std::unordered_map<const void*, File*>& Registry() {
  static auto* map = new std::unordered_map<const void*, File*>;
  return *map;
}

// Writes the collected bytes. The buffer is empty afterwards, whether or
// not the write succeeded.
int Flush(File* f) {
  if (!f->wal || f->buffer->empty()) return SQLITE_OK;
  const char* p = f->buffer->data();
  const int64_t size = static_cast<int64_t>(f->buffer->size());
  int rc = SQLITE_OK;
  for (int64_t done = 0; done < size && rc == SQLITE_OK;) {
    const int n = static_cast<int>(std::min(size - done, kWalWriteBytes));
    rc = f->real->pMethods->xWrite(f->real, p + done, n, f->buffer_offset + done);
    done += n;
    g_made.fetch_add(1, std::memory_order_relaxed);
    g_bytes.fetch_add(n, std::memory_order_relaxed);
  }
  f->buffer->clear();
  return rc;
}

// Flushes the WAL file of database file `f`, before SQLite publishes a
// commit in the WAL index (it writes the index header's two copies on either
// side of a memory barrier; readers take the header only when both agree).
void FlushPeerWal(File* f, const char* where) {
  if (f->wal || !f->peer || f->peer->buffer->empty()) return;
  g_barrier_flushes.fetch_add(1, std::memory_order_relaxed);
  if (Flush(f->peer) != SQLITE_OK) {
    // Only reachable with synchronous=OFF (with it on, the commit's xSync
    // flushed). The WAL-index header about to be written would point other
    // connections at frames that are not in the file; nothing acknowledged
    // depends on them (they were never synced), so stop here instead.
    std::fprintf(stderr,
                 "approvald: writing the SQLite WAL failed in %s; stopping before "
                 "readers could see frames that are not in the file\n",
                 where);
    std::abort();
  }
}

int Close(sqlite3_file* f) {
  File* file = Of(f);
  int flushed = Flush(file);
  int rc = file->real->pMethods ? file->real->pMethods->xClose(file->real) : SQLITE_OK;
  {
    std::lock_guard lock(g_registry_mu);
    if (file->peer) file->peer->peer = nullptr;
    if (!file->wal && file->db_name) {
      auto it = Registry().find(file->db_name);
      if (it != Registry().end() && it->second == file) Registry().erase(it);
    }
  }
  delete file->buffer;
  file->buffer = nullptr;
  return flushed != SQLITE_OK ? flushed : rc;
}

int Read(sqlite3_file* f, void* out, int amount, sqlite3_int64 offset) {
  if (int rc = Flush(Of(f)); rc != SQLITE_OK) return rc;
  return Real(f)->pMethods->xRead(Real(f), out, amount, offset);
}

int Write(sqlite3_file* f, const void* in, int amount, sqlite3_int64 offset) {
  File* file = Of(f);
  if (!file->wal) return Real(f)->pMethods->xWrite(Real(f), in, amount, offset);
  g_taken.fetch_add(1, std::memory_order_relaxed);
  if (offset < kWalHeaderBytes) file->header_written = true;
  std::vector<char>& buf = *file->buffer;
  const bool continues =
      !buf.empty() && offset == file->buffer_offset + static_cast<int64_t>(buf.size());
  if (!continues || static_cast<int64_t>(buf.size()) + amount > kWalBatchBytes) {
    // Another place (SQLite may rewrite a frame it wrote earlier in the
    // same transaction), or full: what is collected goes first.
    if (int rc = Flush(file); rc != SQLITE_OK) return rc;
    if (amount > kWalWriteBytes) {
      g_made.fetch_add(1, std::memory_order_relaxed);
      g_bytes.fetch_add(amount, std::memory_order_relaxed);
      return Real(f)->pMethods->xWrite(Real(f), in, amount, offset);
    }
    file->buffer_offset = offset;
  }
  const char* p = static_cast<const char*>(in);
  buf.insert(buf.end(), p, p + amount);
  return SQLITE_OK;
}

int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (int rc = Flush(Of(f)); rc != SQLITE_OK) return rc;
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int Sync(sqlite3_file* f, int flags) {
  File* file = Of(f);
  if (int rc = Flush(file); rc != SQLITE_OK) return rc;
  if (!file->wal) return Real(f)->pMethods->xSync(Real(f), flags);
  if (file->defer && file->synced_once && !file->header_written) {
    file->sync_owed = true;
    g_syncs_deferred.fetch_add(1, std::memory_order_relaxed);
    return SQLITE_OK;
  }
  int rc = Real(f)->pMethods->xSync(Real(f), flags);
  g_syncs_made.fetch_add(1, std::memory_order_relaxed);
  if (rc == SQLITE_OK) {
    file->synced_once = true;
    file->header_written = false;
  }
  return rc;
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  if (int rc = Flush(Of(f)); rc != SQLITE_OK) return rc;
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int Lock(sqlite3_file* f, int level) {
  if (int rc = Flush(Of(f)); rc != SQLITE_OK) return rc;
  return Real(f)->pMethods->xLock(Real(f), level);
}
int Unlock(sqlite3_file* f, int level) {
  if (int rc = Flush(Of(f)); rc != SQLITE_OK) return rc;
  return Real(f)->pMethods->xUnlock(Real(f), level);
}
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  File* file = Of(f);
  if (op == kFcntlDeferWalSyncs && !file->wal) {
    // The database file and its WAL belong to one connection: the caller's
    // thread is the only one using either.
    File* wal = file->peer;
    if (!wal) return SQLITE_NOTFOUND;
    int* value = static_cast<int*>(arg);
    wal->defer = *value != 0;
    *value = wal->sync_owed ? 1 : 0;
    wal->sync_owed = false;
    return SQLITE_OK;
  }
  if (int rc = Flush(file); rc != SQLITE_OK) return rc;
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
  return WrappedShmLock(Real(f), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) {
  FlushPeerWal(Of(f), "xShmBarrier");
  WrappedShmBarrier(Real(f));
}
int ShmUnmap(sqlite3_file* f, int delete_flag) {
  return WrappedShmUnmap(Real(f), delete_flag);
}
int Fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  *out = nullptr;
  if (int rc = Flush(Of(f)); rc != SQLITE_OK) return rc;
  return WrappedFetch(Real(f), offset, amount, out);
}
int Unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  return WrappedUnfetch(Real(f), offset, p);
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
  file->wal = (flags & SQLITE_OPEN_WAL) != 0 && name != nullptr;
  if ((flags & SQLITE_OPEN_SUBJOURNAL) != 0) g_subjournals.fetch_add(1, std::memory_order_relaxed);
  file->peer = nullptr;
  file->db_name = nullptr;
  file->buffer = nullptr;
  file->buffer_offset = 0;
  file->defer = false;
  file->sync_owed = false;
  file->synced_once = false;
  file->header_written = false;
  sqlite3_vfs* parent = ShimParent(vfs);
  int rc = parent->xOpen(parent, name, file->real, flags, out_flags);
  if (rc != SQLITE_OK) return rc;  // the wrapped file closes itself on failure
  if (file->wal) {
    file->buffer = new std::vector<char>;
    std::lock_guard lock(g_registry_mu);
    auto it = Registry().find(sqlite3_filename_database(name));
    if (it != Registry().end()) {
      file->peer = it->second;
      it->second->peer = file;
    }
  } else if ((flags & SQLITE_OPEN_MAIN_DB) != 0 && name != nullptr) {
    file->db_name = name;
    std::lock_guard lock(g_registry_mu);
    Registry()[name] = file;
  }
  file->base.pMethods = &kMethods;
  return SQLITE_OK;
}

const char* Register() {
  static sqlite3_vfs vfs;
  return RegisterVfsShim(&vfs, kVfsName, static_cast<int>(sizeof(File)), Open);
}

}  // namespace

const char* WalBatchVfsName() {
  static const char* name = Register();
  return name;
}

int DeferWalSyncs(sqlite3* db, bool defer) {
  int value = defer ? 1 : 0;
  if (sqlite3_file_control(db, "main", kFcntlDeferWalSyncs, &value) != SQLITE_OK) return -1;
  return value;
}

WalBatchCounters WalBatchCountersNow() {
  return {g_taken.load(std::memory_order_relaxed),
          g_made.load(std::memory_order_relaxed),
          g_bytes.load(std::memory_order_relaxed),
          g_barrier_flushes.load(std::memory_order_relaxed),
          g_subjournals.load(std::memory_order_relaxed),
          g_syncs_deferred.load(std::memory_order_relaxed),
          g_syncs_made.load(std::memory_order_relaxed)};
}

}  // namespace approvald::sqlite
