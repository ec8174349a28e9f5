#include "store/sqlite/sqlite_db.h"

#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace approvald::sqlite {

namespace {

// True if the database file or its WAL cannot grow by another 64 KiB under
// the process's RLIMIT_FSIZE: SQLite reports such a refused write (EFBIG) as
// SQLITE_IOERR_WRITE, and sqlite3_system_errno does not keep the errno.
bool AtFileSizeLimit(const char* file) {
  if (!file || !*file) return false;
  rlimit rl{};
  if (getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return false;
  for (const std::string& path : {std::string(file), std::string(file) + "-wal"}) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 &&
        static_cast<rlim_t>(st.st_size) + (64 << 10) >= rl.rlim_cur) {
      return true;
    }
  }
  return false;
}

// SQLite keeps memory statistics by default, taking a process-wide mutex
// on every sqlite3_malloc and sqlite3_free (5 % of the writer's CPU in a
// profile of store_bench --writer-cost). No part of approvald reads them
// (sqlite3_memory_used, soft heap limits), so they are turned off before
// the library initialises: the first SQLite call of the process comes
// after static initialisation. If something initialised SQLite earlier,
// sqlite3_config refuses (SQLITE_MISUSE) and the statistics stay on:
// slower, never wrong.
[[maybe_unused]] const int kMemStatusOff = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);

}  // namespace

bool MemoryStatisticsOff() { return sqlite3_memory_used() == 0; }

Error SqliteError(sqlite3* db, int rc, std::string_view doing) {
  std::string message(doing);
  const char* file = db ? sqlite3_db_filename(db, "main") : nullptr;
  if (file && *file) {
    message += " in ";
    message += file;
  }
  message += ": ";
  message += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  message += " (" + std::string(sqlite3_errstr(rc)) + ", SQLite code " +
             std::to_string(rc) + ")";
  // A full disk (ENOSPC, a quota, or a file-size limit: SQLite reports a
  // short write as SQLITE_FULL and a refused one as an I/O error carrying
  // errno) gets its own reason, so clients and operators can tell it apart
  // from other storage failures.
  int sys_errno = db ? sqlite3_system_errno(db) : 0;
  if ((rc & 0xff) == SQLITE_FULL ||
      ((rc & 0xff) == SQLITE_IOERR &&
       (sys_errno == ENOSPC || sys_errno == EFBIG || sys_errno == EDQUOT ||
        (rc == SQLITE_IOERR_WRITE && AtFileSizeLimit(file))))) {
    message += "; the disk holding the database is full: free space (or raise the "
               "file-size limit), then retry";
    return Error{ErrorCode::kUnavailable, "storage_full", std::move(message)};
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_NOLFS:
    case SQLITE_PERM:
    case SQLITE_AUTH:
    case SQLITE_INTERRUPT:
      return Error{ErrorCode::kUnavailable, "storage_failed", std::move(message)};
    default:
      return Error{ErrorCode::kInternal, "storage_error", std::move(message)};
  }
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::Bind(int i, int64_t v) {
  int rc = sqlite3_bind_int64(stmt_, i, v);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::Bind(int i, std::string_view text) {
  int rc = sqlite3_bind_text64(stmt_, i, text.data(), text.size(), SQLITE_TRANSIENT,
                               SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::BindBlob(int i, std::string_view bytes) {
  // A zero-length blob must still be a blob, not NULL: pass a non-null
  // pointer.
  static const char kEmpty = 0;
  int rc = sqlite3_bind_blob64(stmt_, i, bytes.empty() ? &kEmpty : bytes.data(),
                               bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::BindBlob(int i, const Hash& h) {
  return BindBlob(i, std::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
}

Statement& Statement::BindUncopied(int i, std::string_view text) {
  int rc =
      sqlite3_bind_text64(stmt_, i, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::BindBlobUncopied(int i, std::string_view bytes) {
  static const char kEmpty = 0;
  int rc = sqlite3_bind_blob64(stmt_, i, bytes.empty() ? &kEmpty : bytes.data(),
                               bytes.size(), SQLITE_STATIC);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::BindBlobUncopied(int i, const Hash& h) {
  return BindBlobUncopied(
      i, std::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
}

Statement& Statement::BindNull(int i) {
  int rc = sqlite3_bind_null(stmt_, i);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK)
    return std::unexpected(SqliteError(db_, bind_rc_, "binding parameters"));
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // Keep the statement text short in the message: the first line suffices.
  std::string what = "running \"";
  what.append(sql_, strnlen(sql_, 60));
  what += "...\"";
  return std::unexpected(SqliteError(db_, rc, what));
}

Status Statement::Run() {
  for (;;) {
    auto r = Step();
    if (!r) return std::unexpected(r.error());
    if (!*r) return Ok();
  }
}

bool Statement::IsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

int64_t Statement::Int(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Statement::Text(int col) const { return std::string(TextView(col)); }

std::string_view Statement::TextView(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (!p) return {};
  return std::string_view(reinterpret_cast<const char*>(p), n);
}

std::string_view Statement::BlobView(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (!p) return {};
  return std::string_view(static_cast<const char*>(p), n);
}

bool Statement::HashAt(int col, Hash* out) const {
  std::string_view b = BlobView(col);
  if (b.size() != out->size()) return false;
  std::memcpy(out->data(), b.data(), b.size());
  return true;
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, bool create,
                                     std::string_view role, const char* vfs) {
  sqlite3* raw = nullptr;
  // NOMUTEX: each connection is used by one thread at a time (the writer,
  // the checkpointer, or a reader holding a lease), so SQLite's per-
  // connection mutex is pure overhead.
  int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, vfs);
  if (rc != SQLITE_OK) {
    Error e =
        SqliteError(raw, rc, "opening " + std::string(role) + " connection to " + path);
    sqlite3_close_v2(raw);
    e.code = ErrorCode::kUnavailable;
    e.reason = "storage_failed";
    return std::unexpected(std::move(e));
  }
  sqlite3_extended_result_codes(raw, 1);
  return std::unique_ptr<Db>(new Db(raw, path, std::string(role)));
}

Db::~Db() {
  cache_.clear();
  sqlite3_close_v2(db_);
}

Status Db::Exec(const char* sql, std::string_view doing) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return std::unexpected(SqliteError(db_, rc, doing));
  return Ok();
}

Result<Stmt> Db::Prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(raw);
      std::string what = "preparing \"";
      what.append(sql, strnlen(sql, 60));
      what += "...\" on the " + role_ + " connection";
      return std::unexpected(SqliteError(db_, rc, what));
    }
    it = cache_.emplace(sql, std::make_unique<Statement>(db_, raw, sql)).first;
  }
  return Stmt(it->second.get());
}

Result<std::string> Db::PragmaValue(const char* sql) {
  auto st = Prepare(sql);
  if (!st) return std::unexpected(st.error());
  auto row = (*st)->Step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return std::string();
  return (*st)->Text(0);
}

bool Db::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

void Db::ClearCache() { cache_.clear(); }

std::vector<std::pair<std::string, int64_t>> Db::StatementRuns() const {
  std::vector<std::pair<std::string, int64_t>> out;
  out.reserve(cache_.size());
  for (const auto& [sql, st] : cache_)
    out.emplace_back(sql, sqlite3_stmt_status(st->get(), SQLITE_STMTSTATUS_RUN, 0));
  return out;
}

}  // namespace approvald::sqlite
