#include "store/sqlite/vfs_shim.h"

namespace approvald::sqlite {
namespace {

// Every method but xOpen is the wrapped VFS's.
sqlite3_vfs* P(sqlite3_vfs* v) { return ShimParent(v); }
int Delete(sqlite3_vfs* v, const char* n, int s) { return P(v)->xDelete(P(v), n, s); }
int Access(sqlite3_vfs* v, const char* n, int f, int* o) {
  return P(v)->xAccess(P(v), n, f, o);
}
int FullPathname(sqlite3_vfs* v, const char* n, int size, char* out) {
  return P(v)->xFullPathname(P(v), n, size, out);
}
void* DlOpen(sqlite3_vfs* v, const char* n) { return P(v)->xDlOpen(P(v), n); }
void DlError(sqlite3_vfs* v, int n, char* out) { P(v)->xDlError(P(v), n, out); }
void (*DlSym(sqlite3_vfs* v, void* h, const char* s))(void) {
  return P(v)->xDlSym(P(v), h, s);
}
void DlClose(sqlite3_vfs* v, void* h) { P(v)->xDlClose(P(v), h); }
int Randomness(sqlite3_vfs* v, int n, char* out) {
  return P(v)->xRandomness(P(v), n, out);
}
int Sleep(sqlite3_vfs* v, int us) { return P(v)->xSleep(P(v), us); }
int CurrentTime(sqlite3_vfs* v, double* out) { return P(v)->xCurrentTime(P(v), out); }
int GetLastError(sqlite3_vfs* v, int n, char* out) {
  return P(v)->xGetLastError ? P(v)->xGetLastError(P(v), n, out) : 0;
}
int CurrentTimeInt64(sqlite3_vfs* v, sqlite3_int64* out) {
  sqlite3_vfs* p = P(v);
  if (p->iVersion >= 2 && p->xCurrentTimeInt64) return p->xCurrentTimeInt64(p, out);
  double now = 0;
  int rc = p->xCurrentTime(p, &now);
  *out = static_cast<sqlite3_int64>(now * 86400000.0);
  return rc;
}

}  // namespace

const char* RegisterVfsShim(sqlite3_vfs* shim, const char* name, int file_bytes,
                            int (*open)(sqlite3_vfs*, sqlite3_filename, sqlite3_file*,
                                        int, int*)) {
  if (sqlite3_initialize() != SQLITE_OK) return nullptr;
  sqlite3_vfs* parent = sqlite3_vfs_find(nullptr);
  if (!parent) return nullptr;
  *shim = sqlite3_vfs{};
  shim->iVersion = 2;
  shim->szOsFile = file_bytes + parent->szOsFile;
  shim->mxPathname = parent->mxPathname;
  shim->zName = name;
  shim->pAppData = parent;
  shim->xOpen = open;
  shim->xDelete = Delete;
  shim->xAccess = Access;
  shim->xFullPathname = FullPathname;
  shim->xDlOpen = DlOpen;
  shim->xDlError = DlError;
  shim->xDlSym = DlSym;
  shim->xDlClose = DlClose;
  shim->xRandomness = Randomness;
  shim->xSleep = Sleep;
  shim->xCurrentTime = CurrentTime;
  shim->xGetLastError = GetLastError;
  shim->xCurrentTimeInt64 = CurrentTimeInt64;
  if (sqlite3_vfs_register(shim, 0) != SQLITE_OK) return nullptr;
  return name;
}

int WrappedShmMap(sqlite3_file* r, int region, int size, int extend, void volatile** out) {
  if (r->pMethods->iVersion < 2 || !r->pMethods->xShmMap) return SQLITE_IOERR_SHMMAP;
  return r->pMethods->xShmMap(r, region, size, extend, out);
}
int WrappedShmLock(sqlite3_file* r, int offset, int n, int flags) {
  if (r->pMethods->iVersion < 2 || !r->pMethods->xShmLock) return SQLITE_IOERR_SHMLOCK;
  return r->pMethods->xShmLock(r, offset, n, flags);
}
void WrappedShmBarrier(sqlite3_file* r) {
  if (r->pMethods->iVersion >= 2 && r->pMethods->xShmBarrier) r->pMethods->xShmBarrier(r);
}
int WrappedShmUnmap(sqlite3_file* r, int delete_flag) {
  if (r->pMethods->iVersion < 2 || !r->pMethods->xShmUnmap) return SQLITE_OK;
  return r->pMethods->xShmUnmap(r, delete_flag);
}
int WrappedFetch(sqlite3_file* r, sqlite3_int64 offset, int amount, void** out) {
  *out = nullptr;
  if (r->pMethods->iVersion < 3 || !r->pMethods->xFetch) return SQLITE_OK;
  return r->pMethods->xFetch(r, offset, amount, out);
}
int WrappedUnfetch(sqlite3_file* r, sqlite3_int64 offset, void* p) {
  if (r->pMethods->iVersion < 3 || !r->pMethods->xUnfetch) return SQLITE_OK;
  return r->pMethods->xUnfetch(r, offset, p);
}

}  // namespace approvald::sqlite
