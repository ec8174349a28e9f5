// A VFS shim over SQLite's default VFS: a VFS whose files wrap the default
// VFS's files (the read-ahead VFS of `audit verify`, the WAL-batching VFS of
// the writer). Each shim supplies its own xOpen and file methods; every
// other VFS method is forwarded to the default VFS, which is the shim's
// pAppData.
#ifndef APPROVALD_STORE_SQLITE_VFS_SHIM_H_
#define APPROVALD_STORE_SQLITE_VFS_SHIM_H_

#include <sqlite3.h>

namespace approvald::sqlite {

// The VFS a shim wraps (its pAppData).
inline sqlite3_vfs* ShimParent(sqlite3_vfs* shim) {
  return static_cast<sqlite3_vfs*>(shim->pAppData);
}

// Fills `*shim` as a shim named `name` over the default VFS, whose files are
// `file_bytes` of the shim's own followed by the wrapped file, opened by
// `open`, and registers it (not as the default). Returns `name`, or nullptr
// if SQLite cannot be initialised or the VFS not registered. `*shim` and
// `name` must live as long as the process (SQLite keeps pointers to them).
const char* RegisterVfsShim(sqlite3_vfs* shim, const char* name, int file_bytes,
                            int (*open)(sqlite3_vfs*, sqlite3_filename, sqlite3_file*,
                                        int, int*));

// The wrapped file's optional methods (version 2: shared memory, version 3:
// memory mapping), answering as SQLite expects of a file that lacks them.
int WrappedShmMap(sqlite3_file* real, int region, int size, int extend, void volatile** out);
int WrappedShmLock(sqlite3_file* real, int offset, int n, int flags);
void WrappedShmBarrier(sqlite3_file* real);
int WrappedShmUnmap(sqlite3_file* real, int delete_flag);
int WrappedFetch(sqlite3_file* real, sqlite3_int64 offset, int amount, void** out);
int WrappedUnfetch(sqlite3_file* real, sqlite3_int64 offset, void* p);

}  // namespace approvald::sqlite

#endif  // APPROVALD_STORE_SQLITE_VFS_SHIM_H_
