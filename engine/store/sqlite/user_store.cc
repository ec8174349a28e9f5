#include "store/sqlite/user_store.h"

#include <sqlite3.h>

#include <utility>

namespace approvald {

namespace {

std::unexpected<Error> DbError(sqlite3* db, const std::string& what) {
  return Unavailable("db_error", what + ": " + sqlite3_errmsg(db));
}

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& Bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  int Step() { return sqlite3_step(stmt_); }
  std::string Text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

User ReadUser(const Stmt& s) {
  User u;
  u.username = s.Text(0);
  u.role = ParseRole(s.Text(1)).value_or(Role::kUser);
  u.person = PersonId(s.Text(2));
  u.password_hash = s.Text(3);
  u.disabled = s.Int(4) != 0;
  u.created_at = Timestamp{s.Int(5)};
  u.updated_at = Timestamp{s.Int(6)};
  return u;
}

constexpr const char* kUserColumns =
    "username, role, person, password_hash, disabled, created_at, updated_at";

}  // namespace

Result<std::unique_ptr<SqliteUserStore>> SqliteUserStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Unavailable("db_open_failed", path + ": cannot open the user database: " + msg);
  }
  sqlite3_busy_timeout(db, 10000);
  char* err = nullptr;
  const char* setup =
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;";
  if (sqlite3_exec(db, setup, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    sqlite3_close(db);
    return Unavailable("db_open_failed", path + ": cannot configure the database: " + msg);
  }
  bool migrated = false;
  {
    // The statement must be finalized (end of scope) before the handle is
    // closed, or sqlite3_close refuses and the connection leaks.
    Stmt check(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                   "name IN ('users', 'sessions')");
    migrated = check.ok() && check.Step() == SQLITE_ROW && check.Int(0) == 2;
  }
  if (!migrated) {
    sqlite3_close(db);
    return Unavailable("db_open_failed",
                       path + ": no users/sessions tables; open the database with "
                              "SqliteStore::Open first, which applies the migrations");
  }
  return std::unique_ptr<SqliteUserStore>(new SqliteUserStore(db));
}

SqliteUserStore::~SqliteUserStore() { sqlite3_close(db_); }

Status SqliteUserStore::AddUser(const User& user) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "INSERT INTO users (username, role, person, password_hash, disabled, "
              "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
  if (!s.ok()) return DbError(db_, "add user");
  s.Bind(1, user.username)
      .Bind(2, std::string(RoleName(user.role)))
      .Bind(3, user.person.value)
      .Bind(4, user.password_hash)
      .Bind(5, int64_t{user.disabled ? 1 : 0})
      .Bind(6, user.created_at.ms)
      .Bind(7, user.updated_at.ms);
  int rc = s.Step();
  if (rc == SQLITE_CONSTRAINT) {
    return MakeError(ErrorCode::kConflict, "user_exists",
                     "user '" + user.username + "' already exists");
  }
  if (rc != SQLITE_DONE) return DbError(db_, "add user");
  return Ok();
}

Result<User> SqliteUserStore::GetUser(const std::string& username) {
  std::lock_guard lock(mu_);
  Stmt s(db_, (std::string("SELECT ") + kUserColumns + " FROM users WHERE username = ?").c_str());
  if (!s.ok()) return DbError(db_, "get user");
  s.Bind(1, username);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return NotFound("user_not_found", "no user '" + username + "'");
  if (rc != SQLITE_ROW) return DbError(db_, "get user");
  return ReadUser(s);
}

Result<std::vector<User>> SqliteUserStore::ListUsers() {
  std::lock_guard lock(mu_);
  Stmt s(db_, (std::string("SELECT ") + kUserColumns + " FROM users ORDER BY username").c_str());
  if (!s.ok()) return DbError(db_, "list users");
  std::vector<User> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadUser(s));
  if (rc != SQLITE_DONE) return DbError(db_, "list users");
  return out;
}

Status SqliteUserStore::UpdateUser(const User& user) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "UPDATE users SET role = ?, person = ?, password_hash = ?, disabled = ?, "
              "updated_at = ? WHERE username = ?");
  if (!s.ok()) return DbError(db_, "update user");
  s.Bind(1, std::string(RoleName(user.role)))
      .Bind(2, user.person.value)
      .Bind(3, user.password_hash)
      .Bind(4, int64_t{user.disabled ? 1 : 0})
      .Bind(5, user.updated_at.ms)
      .Bind(6, user.username);
  if (s.Step() != SQLITE_DONE) return DbError(db_, "update user");
  if (sqlite3_changes(db_) == 0) {
    return NotFound("user_not_found", "no user '" + user.username + "'");
  }
  return Ok();
}

Status SqliteUserStore::CreateSession(const SessionRecord& session) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "INSERT INTO sessions (token_hash, username, created_at, expires_at) "
              "VALUES (?, ?, ?, ?)");
  if (!s.ok()) return DbError(db_, "create session");
  s.Bind(1, session.token_hash)
      .Bind(2, session.username)
      .Bind(3, session.created_at.ms)
      .Bind(4, session.expires_at.ms);
  int rc = s.Step();
  if (rc == SQLITE_CONSTRAINT) {
    return MakeError(ErrorCode::kConflict, "session_exists",
                     "a session with this token already exists (or its user does not)");
  }
  if (rc != SQLITE_DONE) return DbError(db_, "create session");
  return Ok();
}

Result<std::optional<SessionRecord>> SqliteUserStore::FindSession(
    const std::string& token_hash) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT token_hash, username, created_at, expires_at FROM sessions "
              "WHERE token_hash = ?");
  if (!s.ok()) return DbError(db_, "find session");
  s.Bind(1, token_hash);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<SessionRecord>();
  if (rc != SQLITE_ROW) return DbError(db_, "find session");
  SessionRecord r{s.Text(0), s.Text(1), Timestamp{s.Int(2)}, Timestamp{s.Int(3)}};
  return std::optional<SessionRecord>(std::move(r));
}

Status SqliteUserStore::DeleteSession(const std::string& token_hash) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "DELETE FROM sessions WHERE token_hash = ?");
  if (!s.ok()) return DbError(db_, "delete session");
  s.Bind(1, token_hash);
  if (s.Step() != SQLITE_DONE) return DbError(db_, "delete session");
  return Ok();
}

Result<int> SqliteUserStore::DeleteSessionsOf(const std::string& username) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "DELETE FROM sessions WHERE username = ?");
  if (!s.ok()) return DbError(db_, "delete sessions");
  s.Bind(1, username);
  if (s.Step() != SQLITE_DONE) return DbError(db_, "delete sessions");
  return sqlite3_changes(db_);
}

Result<int> SqliteUserStore::PurgeExpiredSessions(Timestamp now) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "DELETE FROM sessions WHERE expires_at <= ?");
  if (!s.ok()) return DbError(db_, "purge sessions");
  s.Bind(1, now.ms);
  if (s.Step() != SQLITE_DONE) return DbError(db_, "purge sessions");
  return sqlite3_changes(db_);
}

}  // namespace approvald
