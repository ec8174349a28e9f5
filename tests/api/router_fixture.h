// The fixture shared by the tests that drive the router without sockets
// (router_test.cc, report_routes_test.cc): the shipped organisation and
// workflows over memory stores and the real engine, a fake clock, fast
// Argon2 settings, and logins with the password "password-1".
#ifndef APPROVALD_TESTS_API_ROUTER_FIXTURE_H_
#define APPROVALD_TESTS_API_ROUTER_FIXTURE_H_

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/bootstrap.h"
#include "api/router.h"
#include "core/registry.h"
#include "store/memory/memory_store.h"
#include "store/memory/user_store.h"

namespace approvald::api {

class RouterFixture : public ::testing::Test {
 protected:
  struct Setup {
    Timestamp now;                    // the fake clock's start
    std::vector<std::string> people;  // person ids that get a user login (Role::kUser)
    bool unit_config = true;          // load config/unit.yaml into the engine
    int session_cache_ms = 0;         // AuthOptions::session_cache_ms
  };

  // Also creates the logins "audit" (auditor) and "root" (admin).
  explicit RouterFixture(const Setup& setup)
      : clock_(setup.now),
        auth_(FastAuth(setup.session_cache_ms), users_, store_, clock_),
        limiter_(1000, 1000) {
    auto org = LoadOrgFile(APPROVAL_SOURCE_DIR "/config/org.yaml");
    EXPECT_TRUE(org.has_value()) << org.error().message;
    org_ = *org;
    auto n = LoadWorkflows(APPROVAL_SOURCE_DIR "/workflows", *org_, store_, registry_);
    EXPECT_TRUE(n.has_value()) << n.error().message;
    EngineOptions engine_options;
    if (setup.unit_config) {
      // The shipped unit configuration: the expense workflow's checks read it.
      auto unit = LoadUnitConfigFiles(
          APPROVAL_SOURCE_DIR "/config/unit.yaml",
          APPROVAL_SOURCE_DIR "/config/procurement-catalogue.yaml", *org_);
      EXPECT_TRUE(unit.has_value()) << unit.error().message;
      if (unit) engine_options.unit_config = std::move(*unit);
    }
    engine_ = std::make_unique<Engine>(std::move(engine_options), store_, clock_, org_,
                                       registry_, nullptr);
    services_ = std::make_unique<Services>(
        Services{*engine_, store_, auth_, limiter_, metrics_, clock_, options_,
                 [this] { return mono_ms_; }, nullptr});
    for (const auto& p : setup.people) {
      EXPECT_TRUE(
          auth_.AddUser(p, Role::kUser, PersonId(p), "password-1", "test").has_value());
    }
    EXPECT_TRUE(auth_.AddUser("audit", Role::kAuditor, PersonId(), "password-1", "t")
                    .has_value());
    EXPECT_TRUE(
        auth_.AddUser("root", Role::kAdmin, PersonId(), "password-1", "t").has_value());
  }

  static AuthOptions FastAuth(int session_cache_ms = 0) {
    AuthOptions o;
    o.argon2_memory_kib = 64;
    o.argon2_iterations = 1;
    o.session_cache_ms = session_cache_ms;
    return o;
  }

  // Routes one request from 127.0.0.1, with a bearer token when not empty.
  Response Call(http::verb method, std::string target, std::string body = "",
                const std::string& token = "",
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    Request req;
    req.msg.method(method);
    req.msg.target(target);
    req.msg.version(11);
    req.msg.body() = std::move(body);
    if (!token.empty()) req.msg.set(http::field::authorization, "Bearer " + token);
    for (auto& [k, v] : headers) req.msg.set(k, v);
    req.msg.prepare_payload();
    req.remote = "127.0.0.1";
    req.request_id = "t";
    return Route(req, *services_);
  }

  static boost::json::value Body(const Response& r) {
    return boost::json::parse(r.msg.body());
  }
  // error.code of an error response.
  static std::string Code(const Response& r) {
    return std::string(Body(r).at("error").at("code").as_string());
  }

  // A session token for `user` (the login must succeed).
  std::string Login(const std::string& user, const std::string& password = "password-1") {
    auto r = Call(http::verb::post, "/api/v1/auth/login",
                  R"({"username":")" + user + R"(","password":")" + password + R"("})");
    EXPECT_EQ(r.msg.result(), http::status::ok) << r.msg.body();
    return std::string(Body(r).at("token").as_string());
  }

  // As `clerk`: uploads `bytes` (POST /api/v1/attachments`query`) and
  // submits a publication whose images name it. The instance's id (0 if the
  // submission failed); the attachment's address in *hash.
  int64_t SubmitWithImage(const std::string& clerk, const std::string& query,
                          const std::string& bytes, std::string* hash) {
    auto put = Call(http::verb::post, "/api/v1/attachments" + query, bytes, clerk);
    EXPECT_EQ(put.msg.result(), http::status::created) << put.msg.body();
    if (put.msg.result() != http::status::created) return 0;
    *hash = std::string(Body(put).at("hash").as_string());
    auto submitted = Call(http::verb::post, "/api/v1/instances",
                          R"({"workflow":"publication","data":{"headline":"通知","channel":"website",)"
                          R"("level":"ordinary","body":"正文","images":[")" + *hash + R"("]}})",
                          clerk);
    EXPECT_EQ(submitted.msg.result(), http::status::created) << submitted.msg.body();
    if (submitted.msg.result() != http::status::created) return 0;
    return Body(submitted).at("id").as_int64();
  }

  FakeClock clock_;
  MemoryStore store_;
  MemoryUserStore users_;
  AuthService auth_;
  RateLimiter limiter_;
  Metrics metrics_;
  ApiOptions options_;
  WorkflowRegistry registry_;
  std::shared_ptr<const Org> org_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Services> services_;
  int64_t mono_ms_ = 0;  // the router's monotonic clock (rate limiting)
};

}  // namespace approvald::api

#endif  // APPROVALD_TESTS_API_ROUTER_FIXTURE_H_
