// Thin RAII wrappers over the SQLite C API for the SQLite store: a
// connection (Db) with a cache of prepared statements, and statements whose
// borrowed handles reset themselves when they go out of scope, so a
// finished query never holds a read snapshot open. Internal to
// engine/store/sqlite; every SQL text handed to these is a compile-time
// constant of this backend, never built from input.
#ifndef APPROVALD_STORE_SQLITE_SQLITE_DB_H_
#define APPROVALD_STORE_SQLITE_SQLITE_DB_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "approvald/status.h"
#include "approvald/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace approvald::sqlite {

// The Error for SQLite result code `rc` on `db` while doing `doing`.
// Storage trouble (busy, I/O, full, read-only, corrupt, ...) is
// kUnavailable ("storage_failed"); anything else (constraint, misuse) is
// kInternal ("storage_error"). The message carries SQLite's own text.
Error SqliteError(sqlite3* db, int rc, std::string_view doing);

// True if SQLite's memory statistics are off for this process (this
// library turns them off at static initialisation; they cost a global mutex
// on every SQLite allocation). For tests.
bool MemoryStatisticsOff();

// A prepared statement. Owns its handle. Not thread-safe.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt, const char* sql)
      : db_(db), stmt_(stmt), sql_(sql) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binders take 1-based parameter indexes. Errors are remembered and
  // reported by the next Step().
  Statement& Bind(int i, int64_t v);
  Statement& Bind(int i, std::string_view text);
  Statement& BindBlob(int i, std::string_view bytes);
  Statement& BindBlob(int i, const Hash& h);
  Statement& BindNull(int i);
  // The same without copying the bytes: they must stay valid and unchanged
  // until the statement is reset (Reset, or the Stmt that lent it going out
  // of scope). For the writer's per-append statements, whose values live in
  // the request being written.
  Statement& BindUncopied(int i, std::string_view text);
  Statement& BindBlobUncopied(int i, std::string_view bytes);
  Statement& BindBlobUncopied(int i, const Hash& h);

  // Runs one step: true if a row is ready, false when done.
  Result<bool> Step();
  // Steps to completion, for statements that return no rows.
  Status Run();

  bool IsNull(int col) const;
  int64_t Int(int col) const;
  std::string Text(int col) const;
  std::string_view TextView(int col) const;  // valid until the next Step
  std::string_view BlobView(int col) const;  // valid until the next Step
  // A 32-byte blob column; false if it has another length.
  bool HashAt(int col, Hash* out) const;

  // Resets the statement and clears its bindings.
  void Reset();
  const char* sql() const { return sql_; }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  const char* sql_;
  int bind_rc_ = 0;
};

// A statement borrowed from a Db's cache; resets it when destroyed.
class Stmt {
 public:
  explicit Stmt(Statement* s) : s_(s) {}
  ~Stmt() {
    if (s_) s_->Reset();
  }
  Stmt(Stmt&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Statement* operator->() const { return s_; }
  Statement& operator*() const { return *s_; }

 private:
  Statement* s_;
};

// One connection. Not thread-safe: one thread uses it at a time.
class Db {
 public:
  // Opens `path` (creating it if `create`). `role` names the connection in
  // error messages ("writer", "reader", ...). `vfs`: a registered SQLite VFS
  // to open it with (e.g. ReadAheadVfsName()); nullptr, the default.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, bool create,
                                          std::string_view role,
                                          const char* vfs = nullptr);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }

  // Runs constant SQL (possibly several statements), e.g. a migration.
  Status Exec(const char* sql, std::string_view doing);
  // The cached prepared statement for constant `sql` (keyed by address).
  Result<Stmt> Prepare(const char* sql);
  // Runs a PRAGMA that returns one value and returns it as text.
  Result<std::string> PragmaValue(const char* sql);
  // True while a transaction is open on this connection.
  bool InTransaction() const;
  // Finalizes every cached statement.
  void ClearCache();
  // Each cached statement's SQL with how many times it has run since it was
  // prepared (SQLITE_STMTSTATUS_RUN). For tests.
  std::vector<std::pair<std::string, int64_t>> StatementRuns() const;

 private:
  Db(sqlite3* db, std::string path, std::string role)
      : db_(db), path_(std::move(path)), role_(std::move(role)) {}

  sqlite3* db_;
  std::string path_;
  std::string role_;
  std::unordered_map<const char*, std::unique_ptr<Statement>> cache_;
};

}  // namespace approvald::sqlite

#endif  // APPROVALD_STORE_SQLITE_SQLITE_DB_H_
