// SqliteUserStore: the UserStore port on SQLite, in the same database file as
// the SqliteStore but over its own connection (logins must not queue behind
// the event writer's group commit). Tables `users` and `sessions` come from
// the store's ordered migrations (migration 2 in migrations.cc), so open the
// SqliteStore on the file first.
// Thread-safe: one mutex serialises the connection.
#ifndef APPROVALD_STORE_SQLITE_USER_STORE_H_
#define APPROVALD_STORE_SQLITE_USER_STORE_H_

#include <memory>
#include <mutex>
#include <string>

#include "approvald/user_store.h"

struct sqlite3;

namespace approvald {

class SqliteUserStore final : public UserStore {
 public:
  // Opens the database at `path` (WAL, synchronous=FULL). REQUIRES: the
  // migrations have been applied (SqliteStore::Open on the same file).
  // kUnavailable ("db_open_failed") naming the path and the cause otherwise.
  static Result<std::unique_ptr<SqliteUserStore>> Open(const std::string& path);
  ~SqliteUserStore() override;
  SqliteUserStore(const SqliteUserStore&) = delete;
  SqliteUserStore& operator=(const SqliteUserStore&) = delete;

  Status AddUser(const User& user) override;
  Result<User> GetUser(const std::string& username) override;
  Result<std::vector<User>> ListUsers() override;
  Status UpdateUser(const User& user) override;
  Status CreateSession(const SessionRecord& session) override;
  Result<std::optional<SessionRecord>> FindSession(
      const std::string& token_hash) override;
  Status DeleteSession(const std::string& token_hash) override;
  Result<int> DeleteSessionsOf(const std::string& username) override;
  Result<int> PurgeExpiredSessions(Timestamp now) override;

 private:
  explicit SqliteUserStore(sqlite3* db) : db_(db) {}

  std::mutex mu_;
  sqlite3* db_;
};

}  // namespace approvald

#endif  // APPROVALD_STORE_SQLITE_USER_STORE_H_
