// Authentication: Argon2id password hashes, opaque bearer tokens stored only
// as SHA-256 hashes, expiring sessions, login throttling, and the audit
// records every login and failed login leaves.
#ifndef APPROVALD_API_AUTH_H_
#define APPROVALD_API_AUTH_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "approvald/clock.h"
#include "approvald/status.h"
#include "approvald/store.h"
#include "approvald/user_store.h"

namespace approvald::api {

struct AuthOptions {
  // How long a token is valid after login.
  int session_ttl_seconds = 8 * 3600;
  // Failed logins (per username and per client address) allowed before each
  // further attempt must wait login_backoff_base_ms * 2^(extra failures - 1),
  // capped at login_backoff_max_ms.
  int login_free_failures = 3;
  int login_backoff_base_ms = 1000;
  int login_backoff_max_ms = 300000;
  // Argon2id cost; the defaults are OWASP's recommended minimum (19 MiB,
  // 2 passes, 1 lane). Tests lower them to keep runs fast.
  uint32_t argon2_memory_kib = 19456;
  uint32_t argon2_iterations = 2;
  uint32_t argon2_parallelism = 1;
  // A validated session is trusted from memory for this long before the
  // store is asked again (logout and user changes on this daemon evict at
  // once; this bounds staleness across several daemons sharing a database).
  int session_cache_ms = 30000;
};

// Argon2id-encoded hash of `password` with a fresh random salt.
// kInternal if libargon2 fails (out of memory).
Result<std::string> HashPassword(std::string_view password, const AuthOptions& opts);
// True if `password` matches the encoded hash. False for malformed hashes.
bool VerifyPassword(std::string_view password, const std::string& encoded);
// 32 random bytes from the OpenSSL CSPRNG, base64url without padding (43 chars).
std::string NewToken();
// Lower-case hex SHA-256 of `token`: what the store keeps.
std::string TokenHash(std::string_view token);
// True if `name` is a valid username: [a-z0-9_.-]{1,64}.
bool ValidUsername(std::string_view name);

// Exponential back-off after failed attempts, per key. Thread-safe. Memory is
// bounded: at most `max_keys` keys are tracked; the oldest are forgotten.
class LoginThrottle {
 public:
  LoginThrottle(int free_failures, int base_ms, int max_ms, size_t max_keys = 100000);
  // 0 if an attempt for `key` may go ahead at `now_ms`, else ms to wait.
  int64_t WaitMs(const std::string& key, int64_t now_ms);
  void RecordFailure(const std::string& key, int64_t now_ms);
  void RecordSuccess(const std::string& key);

 private:
  struct Entry {
    int failures = 0;
    int64_t next_allowed_ms = 0;
    int64_t last_ms = 0;
  };
  int free_failures_, base_ms_, max_ms_;
  size_t max_keys_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

// Who is calling, once authenticated.
struct Principal {
  std::string username;
  Role role = Role::kUser;
  PersonId person;
  std::string token_hash;
  Timestamp expires_at;
};

struct LoginResult {
  std::string token;           // give to the client once; never stored
  Timestamp expires_at;
  Principal principal;
};

// Logins, sessions and user administration. Thread-safe. `users`, `audit`
// and `clock` must outlive it.
class AuthService {
 public:
  AuthService(AuthOptions opts, UserStore& users, Store& audit, const Clock& clock);

  // Checks the password; on success creates a session. Failures:
  //   401 "invalid_credentials" (unknown user, wrong password, disabled: the
  //       same answer for each, so usernames cannot be probed),
  //   429 "login_throttled" with *retry_after_s set.
  // Every success and failure is appended to the audit log (throttled
  // attempts, which are refused before the password is looked at, are only
  // logged, so a flood cannot grow the audit log).
  Result<LoginResult> Login(std::string_view username, std::string_view password,
                            const std::string& remote, int* retry_after_s);
  // The principal behind a bearer token; 401 "unauthenticated" if unknown,
  // expired or the user is disabled.
  Result<Principal> Authenticate(std::string_view token);
  // The principal behind `token` if its session is in the in-memory cache
  // and still fresh there; nullopt otherwise (then call Authenticate, which
  // may read the user store and gives the error). Never touches the store.
  std::optional<Principal> AuthenticateCached(std::string_view token);
  // Ends the session of `p`. Audited.
  Status Logout(const Principal& p);

  // Administration (the caller checks the actor's role). Each is audited
  // with `actor` and never records the password.
  Result<User> AddUser(const std::string& username, Role role, const PersonId& person,
                       std::string_view password, const std::string& actor);
  Status SetPassword(const std::string& username, std::string_view password,
                     const std::string& actor);
  Result<User> UpdateUser(const std::string& username, std::optional<Role> role,
                          std::optional<PersonId> person, std::optional<bool> disabled,
                          const std::string& actor);
  // If `username`'s password is `password`, removes it (login impossible until
  // an admin sets a new one) and ends its sessions; audited as
  // "password_removed". Returns whether it removed one; an unknown user or
  // another password is false, not an error.
  Result<bool> RemovePasswordIf(const std::string& username, std::string_view password,
                                const std::string& actor);

  const AuthOptions& options() const { return opts_; }
  UserStore& users() { return users_; }

 private:
  void Audit(const std::string& type, const std::string& actor, const std::string& subject,
             Value::Record data);
  void EvictUser(const std::string& username);

  AuthOptions opts_;
  UserStore& users_;
  Store& audit_;
  const Clock& clock_;
  LoginThrottle by_user_;
  LoginThrottle by_addr_;
  std::string dummy_hash_;  // verified against for unknown users (equal timing)

  struct Cached {
    Principal principal;
    int64_t fresh_until_ms;
  };
  std::mutex cache_mu_;
  std::unordered_map<std::string, Cached> cache_;  // token hash -> session
};

}  // namespace approvald::api

#endif  // APPROVALD_API_AUTH_H_
