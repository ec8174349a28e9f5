#include "api/auth.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <vector>

#include "api/http_errors.h"
#include "api/json_codec.h"

namespace approvald::api {
namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

std::unexpected<Error> InvalidCredentials() {
  return MakeError(ErrorCode::kPermissionDenied, api_reason::kInvalidCredentials,
                   "wrong username or password");
}

}  // namespace

Result<std::string> HashPassword(std::string_view password, const AuthOptions& opts) {
  unsigned char salt[kSaltBytes];
  if (RAND_bytes(salt, sizeof salt) != 1) {
    return MakeError(ErrorCode::kInternal, "rng_failed", "the CSPRNG failed");
  }
  size_t len = argon2_encodedlen(opts.argon2_iterations, opts.argon2_memory_kib,
                                 opts.argon2_parallelism, kSaltBytes, kHashBytes,
                                 Argon2_id);
  std::string encoded(len, '\0');
  int rc = argon2id_hash_encoded(opts.argon2_iterations, opts.argon2_memory_kib,
                                 opts.argon2_parallelism, password.data(), password.size(),
                                 salt, sizeof salt, kHashBytes, encoded.data(), len);
  if (rc != ARGON2_OK) {
    return MakeError(ErrorCode::kInternal, "hash_failed",
                     std::string("argon2id failed: ") + argon2_error_message(rc));
  }
  encoded.resize(encoded.find('\0') == std::string::npos ? encoded.size()
                                                          : encoded.find('\0'));
  return encoded;
}

bool VerifyPassword(std::string_view password, const std::string& encoded) {
  if (!encoded.starts_with("$argon2id$")) return false;
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

std::string NewToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // Without randomness no token is safe to hand out; this is fatal.
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  }
  std::string b64 = Base64(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
  // base64url, no padding.
  for (char& c : b64) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  OPENSSL_cleanse(bytes, sizeof bytes);
  return b64;
}

std::string TokenHash(std::string_view token) {
  // SHA256() looks the algorithm up (EVP_MD_fetch) and allocates a context
  // on every call, which cost more than hashing a token on the cached GET
  // path: the algorithm is fetched once, and each thread keeps a context.
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct CtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  thread_local std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  Hash h{};
  unsigned int n = 0;
  if (kSha256 == nullptr || ctx == nullptr || !EVP_DigestInit_ex2(ctx.get(), kSha256, nullptr) ||
      !EVP_DigestUpdate(ctx.get(), token.data(), token.size()) ||
      !EVP_DigestFinal_ex(ctx.get(), h.data(), &n) || n != h.size()) {
    // Out of memory: the one-shot call, as before.
    h = Hash{};
    SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), h.data());
  }
  return HashHex(h);
}

bool ValidUsername(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  });
}

// ---- LoginThrottle ----

LoginThrottle::LoginThrottle(int free_failures, int base_ms, int max_ms, size_t max_keys)
    : free_failures_(free_failures), base_ms_(base_ms), max_ms_(max_ms), max_keys_(max_keys) {}

int64_t LoginThrottle::WaitMs(const std::string& key, int64_t now_ms) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return 0;
  return std::max<int64_t>(0, it->second.next_allowed_ms - now_ms);
}

void LoginThrottle::RecordFailure(const std::string& key, int64_t now_ms) {
  std::lock_guard lock(mu_);
  if (entries_.size() >= max_keys_ && !entries_.count(key)) {
    // Forget the entries idle longest (the oldest half), keeping memory bounded.
    std::vector<int64_t> ages;
    ages.reserve(entries_.size());
    for (const auto& [k, e] : entries_) ages.push_back(e.last_ms);
    std::nth_element(ages.begin(), ages.begin() + ages.size() / 2, ages.end());
    int64_t cut = ages[ages.size() / 2];
    std::erase_if(entries_, [&](const auto& kv) { return kv.second.last_ms <= cut; });
  }
  Entry& e = entries_[key];
  e.failures++;
  e.last_ms = now_ms;
  int extra = e.failures - free_failures_;
  if (extra > 0) {
    int64_t wait = base_ms_;
    for (int i = 1; i < extra && wait < max_ms_; ++i) wait *= 2;
    e.next_allowed_ms = now_ms + std::min<int64_t>(wait, max_ms_);
  }
}

void LoginThrottle::RecordSuccess(const std::string& key) {
  std::lock_guard lock(mu_);
  entries_.erase(key);
}

// ---- AuthService ----

AuthService::AuthService(AuthOptions opts, UserStore& users, Store& audit, const Clock& clock)
    : opts_(opts),
      users_(users),
      audit_(audit),
      clock_(clock),
      by_user_(opts.login_free_failures, opts.login_backoff_base_ms, opts.login_backoff_max_ms),
      by_addr_(opts.login_free_failures, opts.login_backoff_base_ms, opts.login_backoff_max_ms) {
  dummy_hash_ = HashPassword(NewToken(), opts_).value_or("");
}

void AuthService::Audit(const std::string& type, const std::string& actor,
                        const std::string& subject, Value::Record data) {
  AuditRecord rec;
  rec.at = clock_.Now();
  rec.type = type;
  rec.actor = PersonId(actor);
  rec.subject = subject;
  rec.data = std::move(data);
  // The audit log and the session table share the storage, so a failing
  // audit write shows up as failing logins; it is logged, never silent.
  if (auto st = audit_.AppendAudit(rec); !st) {
    spdlog::error("audit write failed type={} subject={} err={}", type, subject,
                  st.error().ToString());
  }
}

Result<LoginResult> AuthService::Login(std::string_view username_in, std::string_view password,
                                       const std::string& remote, int* retry_after_s) {
  std::string username(username_in);
  int64_t now = clock_.Now().ms;
  std::string user_key = "user:" + username;
  std::string addr_key = "addr:" + remote;
  int64_t wait = std::max(by_user_.WaitMs(user_key, now), by_addr_.WaitMs(addr_key, now));
  if (wait > 0) {
    if (retry_after_s) *retry_after_s = static_cast<int>((wait + 999) / 1000);
    return MakeError(ErrorCode::kUnavailable, api_reason::kLoginThrottled,
                     "too many failed logins; try again in " +
                         std::to_string((wait + 999) / 1000) + " s");
  }

  auto fail = [&](const std::string& why) -> std::unexpected<Error> {
    by_user_.RecordFailure(user_key, now);
    by_addr_.RecordFailure(addr_key, now);
    Value::Record data;
    data["username"] = Value::Str(ValidUsername(username) ? username : "(invalid)");
    data["remote"] = Value::Str(remote);
    data["reason"] = Value::Str(why);
    Audit("login_failed", ValidUsername(username) ? username : "", "user:" + username, data);
    return InvalidCredentials();
  };

  if (!ValidUsername(username)) {
    VerifyPassword(password, dummy_hash_);
    return fail("invalid_username");
  }
  auto user = users_.GetUser(username);
  if (!user) {
    if (user.error().code != ErrorCode::kNotFound) return std::unexpected(user.error());
    VerifyPassword(password, dummy_hash_);  // same time as a real check
    return fail("unknown_user");
  }
  if (!VerifyPassword(password, user->password_hash)) return fail("wrong_password");
  if (user->disabled) return fail("disabled");

  LoginResult out;
  out.token = NewToken();
  Timestamp created = clock_.Now();
  out.expires_at = Timestamp{created.ms + int64_t{opts_.session_ttl_seconds} * 1000};
  SessionRecord rec{TokenHash(out.token), username, created, out.expires_at};
  if (auto st = users_.CreateSession(rec); !st) return std::unexpected(st.error());
  by_user_.RecordSuccess(user_key);
  by_addr_.RecordSuccess(addr_key);
  out.principal = Principal{username, user->role, user->person, rec.token_hash, out.expires_at};

  Value::Record data;
  data["username"] = Value::Str(username);
  data["remote"] = Value::Str(remote);
  data["role"] = Value::Str(std::string(RoleName(user->role)));
  Audit("login", user->person.empty() ? username : user->person.value, "user:" + username,
        data);
  return out;
}

Result<Principal> AuthService::Authenticate(std::string_view token) {
  auto unauth = [](const std::string& msg) {
    return MakeError(ErrorCode::kPermissionDenied, api_reason::kUnauthenticated, msg);
  };
  if (token.empty() || token.size() > 256) {
    return unauth("log in first: send 'Authorization: Bearer <token>' from POST /api/v1/auth/login");
  }
  std::string hash = TokenHash(token);
  int64_t now = clock_.Now().ms;
  {
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end()) {
      if (it->second.principal.expires_at.ms <= now) {
        cache_.erase(it);
        return unauth("the session has expired; log in again");
      }
      if (it->second.fresh_until_ms > now) return it->second.principal;
      cache_.erase(it);
    }
  }
  auto session = users_.FindSession(hash);
  if (!session) return std::unexpected(session.error());
  if (!*session) return unauth("unknown or ended session; log in again");
  if ((*session)->expires_at.ms <= now) return unauth("the session has expired; log in again");
  auto user = users_.GetUser((*session)->username);
  if (!user) {
    if (user.error().code == ErrorCode::kNotFound) return unauth("the user no longer exists");
    return std::unexpected(user.error());
  }
  if (user->disabled) return unauth("the user is disabled");
  Principal p{user->username, user->role, user->person, hash, (*session)->expires_at};
  std::lock_guard lock(cache_mu_);
  if (cache_.size() >= 100000) cache_.clear();  // bounded; refilled from the store
  cache_[hash] = Cached{p, now + opts_.session_cache_ms};
  return p;
}

std::optional<Principal> AuthService::AuthenticateCached(std::string_view token) {
  if (token.empty() || token.size() > 256) return std::nullopt;
  std::string hash = TokenHash(token);
  int64_t now = clock_.Now().ms;
  std::lock_guard lock(cache_mu_);
  auto it = cache_.find(hash);
  if (it == cache_.end() || it->second.principal.expires_at.ms <= now ||
      it->second.fresh_until_ms <= now)
    return std::nullopt;
  return it->second.principal;
}

Status AuthService::Logout(const Principal& p) {
  {
    std::lock_guard lock(cache_mu_);
    cache_.erase(p.token_hash);
  }
  if (auto st = users_.DeleteSession(p.token_hash); !st) return st;
  Value::Record data;
  data["username"] = Value::Str(p.username);
  Audit("logout", p.person.empty() ? p.username : p.person.value, "user:" + p.username, data);
  return Ok();
}

void AuthService::EvictUser(const std::string& username) {
  std::lock_guard lock(cache_mu_);
  std::erase_if(cache_, [&](const auto& kv) { return kv.second.principal.username == username; });
}

Result<User> AuthService::AddUser(const std::string& username, Role role,
                                  const PersonId& person, std::string_view password,
                                  const std::string& actor) {
  if (!ValidUsername(username)) {
    return InvalidArgument("invalid_username",
                           "username '" + username + "' must be 1-64 of a-z 0-9 _ . -");
  }
  if (role == Role::kUser && person.empty()) {
    return InvalidArgument("person_required",
                           "a user with role 'user' acts as a person: give --person / \"person\"");
  }
  User u;
  u.username = username;
  u.role = role;
  u.person = person;
  if (!password.empty()) {
    auto h = HashPassword(password, opts_);
    if (!h) return std::unexpected(h.error());
    u.password_hash = *h;
  }
  u.created_at = u.updated_at = clock_.Now();
  if (auto st = users_.AddUser(u); !st) return std::unexpected(st.error());
  Value::Record data;
  data["username"] = Value::Str(username);
  data["role"] = Value::Str(std::string(RoleName(role)));
  data["person"] = Value::Str(person.value);
  Audit("user_added", actor, "user:" + username, data);
  return u;
}

Status AuthService::SetPassword(const std::string& username, std::string_view password,
                                const std::string& actor) {
  if (password.size() < 8) {
    return InvalidArgument("weak_password", "a password needs at least 8 characters");
  }
  auto user = users_.GetUser(username);
  if (!user) return std::unexpected(user.error());
  auto h = HashPassword(password, opts_);
  if (!h) return std::unexpected(h.error());
  user->password_hash = *h;
  user->updated_at = clock_.Now();
  if (auto st = users_.UpdateUser(*user); !st) return st;
  (void)users_.DeleteSessionsOf(username);  // old tokens end with the old password
  EvictUser(username);
  Value::Record data;
  data["username"] = Value::Str(username);
  Audit("password_set", actor, "user:" + username, data);
  return Ok();
}

Result<bool> AuthService::RemovePasswordIf(const std::string& username,
                                           std::string_view password,
                                           const std::string& actor) {
  auto user = users_.GetUser(username);
  if (!user) {
    if (user.error().code == ErrorCode::kNotFound) return false;
    return std::unexpected(user.error());
  }
  if (user->password_hash.empty() || !VerifyPassword(password, user->password_hash)) {
    return false;
  }
  user->password_hash.clear();
  user->updated_at = clock_.Now();
  if (auto st = users_.UpdateUser(*user); !st) return std::unexpected(st.error());
  (void)users_.DeleteSessionsOf(username);
  EvictUser(username);
  Value::Record data;
  data["username"] = Value::Str(username);
  Audit("password_removed", actor, "user:" + username, data);
  return true;
}

Result<User> AuthService::UpdateUser(const std::string& username, std::optional<Role> role,
                                     std::optional<PersonId> person,
                                     std::optional<bool> disabled, const std::string& actor) {
  auto user = users_.GetUser(username);
  if (!user) return std::unexpected(user.error());
  Value::Record data;
  data["username"] = Value::Str(username);
  if (role) {
    user->role = *role;
    data["role"] = Value::Str(std::string(RoleName(*role)));
  }
  if (person) {
    user->person = *person;
    data["person"] = Value::Str(person->value);
  }
  if (disabled) {
    user->disabled = *disabled;
    data["disabled"] = Value::Bool(*disabled);
  }
  if (user->role == Role::kUser && user->person.empty()) {
    return InvalidArgument("person_required", "a user with role 'user' needs a person");
  }
  user->updated_at = clock_.Now();
  if (auto st = users_.UpdateUser(*user); !st) return std::unexpected(st.error());
  if (role || disabled) {
    (void)users_.DeleteSessionsOf(username);
  }
  EvictUser(username);
  Audit("user_changed", actor, "user:" + username, data);
  return *user;
}

}  // namespace approvald::api
