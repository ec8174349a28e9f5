// The UserStore port: the daemon's logins and sessions. Separate from the
// Store of instances and audit entries because it is mutable (passwords
// change, sessions expire) while that one is append-only.
//
// Implementations: MemoryUserStore (store/memory/user_store.h, tests) and
// SqliteUserStore (store/sqlite/user_store.h, same database file as the
// SqliteStore). Passwords arrive already hashed (Argon2id encoded strings)
// and tokens as SHA-256 hashes: no implementation ever sees a secret.
// All methods are thread-safe.
#ifndef APPROVALD_USER_STORE_H_
#define APPROVALD_USER_STORE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "approvald/status.h"
#include "approvald/types.h"

namespace approvald {

// What a login may do. Users (clerks, approvers, leaders) act on instances
// they are involved in; admins also manage users and the organisation;
// auditors read everything and change nothing.
enum class Role { kUser, kAdmin, kAuditor };
std::string_view RoleName(Role r);                     // "user" | "admin" | "auditor"
std::optional<Role> ParseRole(std::string_view name);  // inverse of RoleName

struct User {
  std::string username;        // login name: [a-z0-9_.-]{1,64}
  Role role = Role::kUser;
  PersonId person;             // the person in the organisation; may be empty
                               // for admins and auditors
  std::string password_hash;   // Argon2id encoded ("$argon2id$v=19$..."); ""
                               // = no password set, login impossible
  bool disabled = false;
  Timestamp created_at;
  Timestamp updated_at;
};

struct SessionRecord {
  std::string token_hash;      // hex SHA-256 of the bearer token
  std::string username;
  Timestamp created_at;
  Timestamp expires_at;        // the session is invalid from this instant on
};

class UserStore {
 public:
  virtual ~UserStore() = default;

  // Adds a user. kConflict ("user_exists") if the username is taken.
  virtual Status AddUser(const User& user) = 0;
  // kNotFound ("user_not_found") if there is no such user.
  virtual Result<User> GetUser(const std::string& username) = 0;
  // Every user, ordered by username.
  virtual Result<std::vector<User>> ListUsers() = 0;
  // Replaces role, person, password_hash, disabled and updated_at of an
  // existing user. kNotFound ("user_not_found") if absent.
  virtual Status UpdateUser(const User& user) = 0;

  // Stores a new session. kConflict ("session_exists") on a duplicate hash.
  virtual Status CreateSession(const SessionRecord& session) = 0;
  // The session with this token hash, or nullopt if none (expired sessions
  // are returned too: the caller compares expires_at with its clock).
  virtual Result<std::optional<SessionRecord>> FindSession(
      const std::string& token_hash) = 0;
  // Removes one session; removing an absent one succeeds.
  virtual Status DeleteSession(const std::string& token_hash) = 0;
  // Removes every session of `username` (password change, disabling).
  // Returns how many were removed.
  virtual Result<int> DeleteSessionsOf(const std::string& username) = 0;
  // Removes sessions with expires_at <= now. Returns how many.
  virtual Result<int> PurgeExpiredSessions(Timestamp now) = 0;
};

}  // namespace approvald

#endif  // APPROVALD_USER_STORE_H_
