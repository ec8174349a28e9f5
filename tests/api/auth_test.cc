#include "api/auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "api/limits.h"
#include "store/memory/user_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/user_store.h"
#include "tests/api/audit_recorder.h"

namespace approvald::api {
namespace {

// Creates the schema the way the daemon does: the SqliteStore applies the
// migrations (users and sessions are migration 2).
void Migrate(const std::filesystem::path& path) {
  SqliteOptions o;
  o.path = path.string();
  auto s = SqliteStore::Open(o);
  ASSERT_TRUE(s.has_value()) << s.error().message;
}

using ::testing::HasSubstr;

AuthOptions FastOptions() {
  AuthOptions o;
  o.argon2_memory_kib = 64;  // fast for tests; production uses the default
  o.argon2_iterations = 1;
  o.login_free_failures = 2;
  o.login_backoff_base_ms = 1000;
  o.login_backoff_max_ms = 8000;
  o.session_ttl_seconds = 3600;
  o.session_cache_ms = 0;  // always ask the store, so tests see every change
  return o;
}

TEST(PasswordTest, Argon2idRoundTrip) {
  auto h = HashPassword("correct horse", FastOptions());
  ASSERT_TRUE(h.has_value());
  EXPECT_TRUE(h->starts_with("$argon2id$"));
  EXPECT_TRUE(VerifyPassword("correct horse", *h));
  EXPECT_FALSE(VerifyPassword("correct horsE", *h));
  EXPECT_FALSE(VerifyPassword("x", "not a hash"));
  // Salted: the same password hashes differently each time.
  EXPECT_NE(*h, *HashPassword("correct horse", FastOptions()));
}

TEST(TokenTest, TokensAreRandomAndOnlyHashesAreKept) {
  std::string a = NewToken(), b = NewToken();
  EXPECT_EQ(a.size(), 43u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_of("+/="), std::string::npos);
  EXPECT_EQ(TokenHash(a).size(), 64u);
  EXPECT_EQ(TokenHash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(UsernameTest, Validation) {
  EXPECT_TRUE(ValidUsername("wang.fang-2"));
  EXPECT_FALSE(ValidUsername(""));
  EXPECT_FALSE(ValidUsername("Wang"));
  EXPECT_FALSE(ValidUsername("a b"));
  EXPECT_FALSE(ValidUsername(std::string(65, 'a')));
}

TEST(LoginThrottleTest, BacksOffExponentiallyAfterFreeFailures) {
  LoginThrottle t(2, 1000, 5000);
  EXPECT_EQ(t.WaitMs("k", 0), 0);
  t.RecordFailure("k", 0);
  t.RecordFailure("k", 0);
  EXPECT_EQ(t.WaitMs("k", 0), 0);  // two free failures
  t.RecordFailure("k", 0);
  EXPECT_EQ(t.WaitMs("k", 0), 1000);
  t.RecordFailure("k", 1000);
  EXPECT_EQ(t.WaitMs("k", 1000), 2000);
  t.RecordFailure("k", 3000);
  EXPECT_EQ(t.WaitMs("k", 3000), 4000);
  t.RecordFailure("k", 7000);
  EXPECT_EQ(t.WaitMs("k", 7000), 5000);  // capped
  t.RecordSuccess("k");
  EXPECT_EQ(t.WaitMs("k", 7000), 0);
}

TEST(LoginThrottleTest, MemoryIsBounded) {
  LoginThrottle t(0, 1000, 1000, 100);
  for (int i = 0; i < 1000; ++i) t.RecordFailure("k" + std::to_string(i), i);
  // The newest keys are still throttled.
  EXPECT_GT(t.WaitMs("k999", 999), 0);
}

class AuthServiceTest : public ::testing::Test {
 protected:
  AuthServiceTest() : clock_(Timestamp{1'700'000'000'000}), auth_(FastOptions(), users_, audit_, clock_) {
    auto u = auth_.AddUser("wang", Role::kUser, PersonId("wang_fang"), "secret-pass", "admin");
    EXPECT_TRUE(u.has_value());
  }
  MemoryUserStore users_;
  testing::AuditRecorder audit_;
  FakeClock clock_;
  AuthService auth_;
};

TEST_F(AuthServiceTest, LoginIssuesAnExpiringTokenStoredOnlyAsHash) {
  auto r = auth_.Login("wang", "secret-pass", "127.0.0.1", nullptr);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->expires_at.ms, clock_.Now().ms + 3600 * 1000);
  auto stored = users_.FindSession(TokenHash(r->token));
  ASSERT_TRUE(stored.has_value() && stored->has_value());
  EXPECT_FALSE(users_.FindSession(r->token).value().has_value());  // not the raw token

  auto p = auth_.Authenticate(r->token);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->username, "wang");
  EXPECT_EQ(p->person, PersonId("wang_fang"));

  clock_.Advance(3600 * 1000);
  auto expired = auth_.Authenticate(r->token);
  ASSERT_FALSE(expired.has_value());
  EXPECT_EQ(expired.error().reason, "unauthenticated");
  EXPECT_THAT(expired.error().message, HasSubstr("expired"));
}

std::string Removed(const Result<bool>& r) {
  if (!r) return "error: " + r.error().message;
  return *r ? "removed" : "kept";
}

TEST_F(AuthServiceTest, RemovePasswordIfTakesOnlyTheGivenPasswordAway) {
  auto session = auth_.Login("wang", "secret-pass", "127.0.0.1", nullptr);
  ASSERT_TRUE(session.has_value());
  // Another password, an unknown user: nothing changes.
  EXPECT_EQ(Removed(auth_.RemovePasswordIf("wang", "other-pass", "system")), "kept");
  EXPECT_EQ(Removed(auth_.RemovePasswordIf("ghost", "secret-pass", "system")), "kept");
  EXPECT_TRUE(auth_.Authenticate(session->token).has_value());

  EXPECT_EQ(Removed(auth_.RemovePasswordIf("wang", "secret-pass", "system")), "removed");
  EXPECT_TRUE(users_.GetUser("wang")->password_hash.empty());
  EXPECT_FALSE(auth_.Authenticate(session->token).has_value());  // its sessions ended
  EXPECT_FALSE(auth_.Login("wang", "secret-pass", "127.0.0.1", nullptr).has_value());
  EXPECT_EQ(audit_.records().back().type, "login_failed");
  auto recs = audit_.records();
  ASSERT_GE(recs.size(), 2u);
  EXPECT_EQ(recs[recs.size() - 2].type, "password_removed");
  EXPECT_EQ(recs[recs.size() - 2].data.at("username"), Value::Str("wang"));
  // Once removed, there is nothing left to remove.
  EXPECT_EQ(Removed(auth_.RemovePasswordIf("wang", "secret-pass", "system")), "kept");
}

TEST_F(AuthServiceTest, WrongPasswordAndUnknownUserLookTheSame) {
  auto a = auth_.Login("wang", "nope", "1.2.3.4", nullptr);
  auto b = auth_.Login("ghost", "nope", "1.2.3.5", nullptr);
  ASSERT_FALSE(a.has_value());
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(a.error().reason, "invalid_credentials");
  EXPECT_EQ(a.error().reason, b.error().reason);
  EXPECT_EQ(a.error().message, b.error().message);
}

TEST_F(AuthServiceTest, EveryLoginAndFailureIsAuditedWithoutSecrets) {
  ASSERT_TRUE(auth_.Login("wang", "secret-pass", "10.0.0.1", nullptr).has_value());
  ASSERT_FALSE(auth_.Login("wang", "bad-guess", "10.0.0.1", nullptr).has_value());
  auto recs = audit_.records();
  ASSERT_EQ(recs.size(), 3u);  // user_added, login, login_failed
  EXPECT_EQ(recs[1].type, "login");
  EXPECT_EQ(recs[1].actor, PersonId("wang_fang"));
  EXPECT_EQ(recs[1].data.at("remote"), Value::Str("10.0.0.1"));
  EXPECT_EQ(recs[2].type, "login_failed");
  EXPECT_EQ(recs[2].data.at("reason"), Value::Str("wrong_password"));
  for (const auto& r : recs) {
    for (const auto& [k, v] : r.data) {
      EXPECT_NE(v, Value::Str("secret-pass"));
      EXPECT_NE(v, Value::Str("bad-guess"));
    }
  }
}

TEST_F(AuthServiceTest, FailedLoginsAreThrottledPerUserAndPerAddress) {
  for (int i = 0; i < 3; ++i) auth_.Login("wang", "bad", "10.0.0.1", nullptr);
  int retry = 0;
  // Even the right password waits now: the attacker cannot learn it by timing.
  auto r = auth_.Login("wang", "secret-pass", "10.0.0.2", &retry);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, "login_throttled");
  EXPECT_EQ(retry, 1);
  // Per address too: another username from the same address waits.
  auto other = auth_.Login("li", "x", "10.0.0.1", &retry);
  EXPECT_EQ(other.error().reason, "login_throttled");
  clock_.Advance(1000);
  EXPECT_TRUE(auth_.Login("wang", "secret-pass", "10.0.0.2", nullptr).has_value());
}

TEST_F(AuthServiceTest, LogoutEndsTheSession) {
  auto r = auth_.Login("wang", "secret-pass", "x", nullptr);
  auto p = auth_.Authenticate(r->token);
  ASSERT_TRUE(auth_.Logout(*p).has_value());
  EXPECT_FALSE(auth_.Authenticate(r->token).has_value());
  EXPECT_EQ(audit_.records().back().type, "logout");
}

TEST_F(AuthServiceTest, PasswordChangeAndDisablingEndSessions) {
  auto r = auth_.Login("wang", "secret-pass", "x", nullptr);
  ASSERT_TRUE(auth_.SetPassword("wang", "new-password", "admin").has_value());
  EXPECT_FALSE(auth_.Authenticate(r->token).has_value());
  EXPECT_FALSE(auth_.Login("wang", "secret-pass", "y", nullptr).has_value());
  auto r2 = auth_.Login("wang", "new-password", "z", nullptr);
  ASSERT_TRUE(r2.has_value());
  ASSERT_TRUE(auth_.UpdateUser("wang", std::nullopt, std::nullopt, true, "admin").has_value());
  EXPECT_FALSE(auth_.Authenticate(r2->token).has_value());
  EXPECT_FALSE(auth_.Login("wang", "new-password", "w", nullptr).has_value());
  EXPECT_FALSE(auth_.SetPassword("wang", "short", "admin").has_value());
}

TEST_F(AuthServiceTest, CachedSessionsAreEvictedOnLogout) {
  AuthOptions o = FastOptions();
  o.session_cache_ms = 60000;
  AuthService cached(o, users_, audit_, clock_);
  auto r = cached.Login("wang", "secret-pass", "x", nullptr);
  auto p = cached.Authenticate(r->token);
  ASSERT_TRUE(p.has_value());
  ASSERT_TRUE(cached.Logout(*p).has_value());
  EXPECT_FALSE(cached.Authenticate(r->token).has_value());
}

TEST_F(AuthServiceTest, AddUserValidates) {
  EXPECT_EQ(auth_.AddUser("Bad Name", Role::kUser, PersonId("p"), "", "a").error().reason,
            "invalid_username");
  EXPECT_EQ(auth_.AddUser("nobody", Role::kUser, PersonId(), "", "a").error().reason,
            "person_required");
  EXPECT_EQ(auth_.AddUser("wang", Role::kUser, PersonId("p"), "", "a").error().reason,
            "user_exists");
  EXPECT_TRUE(auth_.AddUser("audit", Role::kAuditor, PersonId(), "", "a").has_value());
}

// The same contract for both UserStore backends.
template <class T>
class UserStoreContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if constexpr (std::is_same_v<T, SqliteUserStore>) {
      path_ = std::filesystem::temp_directory_path() /
              ("h5_users_" + std::to_string(::getpid()) + "_" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
      std::filesystem::remove(path_);
      Migrate(path_);
      auto s = SqliteUserStore::Open(path_.string());
      ASSERT_TRUE(s.has_value()) << s.error().message;
      store_ = std::move(*s);
    } else {
      store_ = std::make_unique<MemoryUserStore>();
    }
  }
  void TearDown() override {
    store_.reset();
    if (!path_.empty()) {
      std::filesystem::remove(path_);
      std::filesystem::remove(path_.string() + "-wal");
      std::filesystem::remove(path_.string() + "-shm");
    }
  }
  std::filesystem::path path_;
  std::unique_ptr<UserStore> store_;
};
using Backends = ::testing::Types<MemoryUserStore, SqliteUserStore>;
TYPED_TEST_SUITE(UserStoreContractTest, Backends);

TYPED_TEST(UserStoreContractTest, UsersAndSessions) {
  UserStore& s = *this->store_;
  User u{"li", Role::kAdmin, PersonId("li_ming"), "$argon2id$x", false, Timestamp{1}, Timestamp{1}};
  ASSERT_TRUE(s.AddUser(u).has_value());
  EXPECT_EQ(s.AddUser(u).error().reason, "user_exists");
  auto got = s.GetUser("li");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->role, Role::kAdmin);
  EXPECT_EQ(got->person, PersonId("li_ming"));
  EXPECT_EQ(s.GetUser("nobody").error().code, ErrorCode::kNotFound);
  u.role = Role::kAuditor;
  u.disabled = true;
  ASSERT_TRUE(s.UpdateUser(u).has_value());
  EXPECT_EQ(s.GetUser("li")->role, Role::kAuditor);
  EXPECT_TRUE(s.GetUser("li")->disabled);
  User ghost = u;
  ghost.username = "ghost";
  EXPECT_EQ(s.UpdateUser(ghost).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(s.AddUser(User{"a", Role::kUser, PersonId("p"), "", false, {}, {}}).has_value());
  auto all = s.ListUsers();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ(all->at(0).username, "a");

  ASSERT_TRUE(s.CreateSession({"h1", "li", Timestamp{0}, Timestamp{100}}).has_value());
  ASSERT_TRUE(s.CreateSession({"h2", "li", Timestamp{0}, Timestamp{200}}).has_value());
  ASSERT_TRUE(s.CreateSession({"h3", "a", Timestamp{0}, Timestamp{300}}).has_value());
  EXPECT_EQ(s.CreateSession({"h1", "li", Timestamp{0}, Timestamp{100}}).error().code,
            ErrorCode::kConflict);
  EXPECT_EQ(s.FindSession("h2").value()->expires_at, Timestamp{200});
  EXPECT_FALSE(s.FindSession("zz").value().has_value());
  EXPECT_EQ(s.PurgeExpiredSessions(Timestamp{100}).value(), 1);
  EXPECT_FALSE(s.FindSession("h1").value().has_value());
  EXPECT_EQ(s.DeleteSessionsOf("li").value(), 1);
  ASSERT_TRUE(s.DeleteSession("h3").has_value());
  ASSERT_TRUE(s.DeleteSession("h3").has_value());
  EXPECT_FALSE(s.FindSession("h3").value().has_value());
}

TEST(SqliteUserStoreTest, SurvivesReopen) {
  auto path = std::filesystem::temp_directory_path() /
              ("h5_reopen_" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  Migrate(path);
  {
    auto s = SqliteUserStore::Open(path.string());
    ASSERT_TRUE(s.has_value());
    ASSERT_TRUE((*s)->AddUser(User{"x", Role::kUser, PersonId("p"), "h", false, {}, {}}).has_value());
  }
  auto s = SqliteUserStore::Open(path.string());
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ((*s)->GetUser("x")->password_hash, "h");
  s->reset();
  std::filesystem::remove(path);
}

TEST(SqliteUserStoreTest, RefusesADatabaseWithoutTheMigrations) {
  auto path = std::filesystem::temp_directory_path() /
              ("h5_nomig_" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  auto s = SqliteUserStore::Open(path.string());
  ASSERT_FALSE(s.has_value());
  EXPECT_THAT(s.error().message, HasSubstr("SqliteStore::Open first"));
  std::filesystem::remove(path);
}

TEST(SqliteUserStoreTest, UnopenableFileIsUnavailable) {
  auto s = SqliteUserStore::Open("/nonexistent-dir/x/users.db");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(s.error().message, HasSubstr("/nonexistent-dir/x/users.db"));
}

TEST(RateLimiterTest, TokenBucket) {
  RateLimiter r(10, 3);  // 10/s, burst 3
  int64_t retry = 0;
  EXPECT_TRUE(r.Allow("u", 0, &retry));
  EXPECT_TRUE(r.Allow("u", 0, &retry));
  EXPECT_TRUE(r.Allow("u", 0, &retry));
  EXPECT_FALSE(r.Allow("u", 0, &retry));
  EXPECT_EQ(retry, 100);
  EXPECT_TRUE(r.Allow("other", 0, &retry));  // per key
  EXPECT_TRUE(r.Allow("u", 100, &retry));    // one token back after 100 ms
  EXPECT_FALSE(r.Allow("u", 100, &retry));
}

TEST(RateLimiterTest, MemoryIsBounded) {
  RateLimiter r(1000, 1, 10);
  for (int i = 0; i < 1000; ++i) r.Allow("k" + std::to_string(i), i * 10, nullptr);
  // A throttled key keeps its state while others come and go.
  EXPECT_TRUE(r.Allow("hot", 100000, nullptr));
  EXPECT_FALSE(r.Allow("hot", 100000, nullptr));
}

TEST(ConnectionLimiterTest, Caps) {
  ConnectionLimiter c(2);
  EXPECT_TRUE(c.TryAcquire());
  EXPECT_TRUE(c.TryAcquire());
  EXPECT_FALSE(c.TryAcquire());
  EXPECT_EQ(c.open(), 2);
  c.Release();
  EXPECT_TRUE(c.TryAcquire());
}

}  // namespace
}  // namespace approvald::api
