// Security tests over the real API: `approvald serve` on loopback, spoken to
// as an attacker would. Every endpoint without a token; another user's token
// on someone else's instance; an auditor or a plain user trying to change
// what only an admin may; an expired token; a brute-force login burst; SQL
// metacharacters and "../" in every string field, path segment and query
// parameter; oversized and deeply nested JSON; invalid UTF-8; slow-loris
// clients. None may crash the daemon, leak data or change state: where a
// request must change nothing, the instance count and the audit log size
// are compared before and after.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <optional>
#include <thread>
#include <tuple>

#include "tests/system/client.h"
#include "tests/system/sys_util.h"

namespace approvald::systest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Endpoint {
  http::verb method;
  std::string target;
  std::string body;
};

// Every route that needs a session (router.h lists them), with a plausible body.
std::vector<Endpoint> AuthenticatedEndpoints(int64_t instance) {
  std::string inst = "/api/v1/instances/" + std::to_string(instance);
  std::string hash = "sha256:" + std::string(64, '0');
  return {
      {http::verb::post, "/api/v1/auth/logout", ""},
      {http::verb::get, "/api/v1/me", ""},
      {http::verb::get, "/api/v1/org", ""},
      {http::verb::put, "/api/v1/org", "{}"},
      {http::verb::get, "/api/v1/users", ""},
      {http::verb::post, "/api/v1/users", R"({"username":"mallory","password":"12345678"})"},
      {http::verb::patch, "/api/v1/users/zhang_min", R"({"role":"admin"})"},
      {http::verb::get, "/api/v1/workflows", ""},
      {http::verb::get, "/api/v1/workflows/expense", ""},
      {http::verb::get, "/api/v1/instances", ""},
      {http::verb::post, "/api/v1/instances", ExpenseJson("SEC-NOAUTH")},
      {http::verb::get, inst, ""},
      {http::verb::get, inst + "/events", ""},
      {http::verb::post, inst + "/actions", R"({"action":"approve","node":"dept_head_review"})"},
      {http::verb::get, "/api/v1/tasks", ""},
      {http::verb::post, "/api/v1/attachments", "bytes"},
      {http::verb::get, "/api/v1/attachments/" + hash, ""},
      {http::verb::get, "/api/v1/audit", ""},
      {http::verb::get, "/api/v1/audit/checkpoint", ""},
      {http::verb::get, "/api/v1/audit/proof/inclusion?index=0&size=1", ""},
      {http::verb::get, "/api/v1/audit/proof/consistency?old_size=1&new_size=2", ""},
      {http::verb::get, "/api/v1/ws", ""},
  };
}

// Strings an attacker puts everywhere.
const std::vector<std::string>& HostileStrings() {
  static const std::vector<std::string> v = {
      "' OR '1'='1",
      "1; DROP TABLE instances; --",
      "\"); DELETE FROM audit_log; --",
      "x' UNION SELECT password_hash FROM users --",
      "../../../../etc/passwd",
      "..\\..\\..\\windows\\win.ini",
      "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      std::string("nul\0byte", 8),
      "$(id)`id`",
      "<script>alert(1)</script>",
  };
  return v;
}

std::string UrlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

// A daemon shared by the tests of one suite, with tokens for the cast.
class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(TempDir("approvald_sec"));
    daemon_ = new Daemon(*dir_ + "/data", std::string(kNoRateLimit) +
                                              "  max_body_bytes: 65536\n"
                                              "  read_timeout_ms: 1500\n"
                                              // Logins with hostile names fail on purpose;
                                              // the brute-force test checks the throttle.
                                              "auth:\n  login_free_failures: 100\n");
    if (!daemon_->running()) return;
    HttpClient c(daemon_->port());
    tokens_ = new std::map<std::string, std::string>;
    for (const char* u : {"zhang_min", "lin_xiaoyan", "luo_jun", "qian_weidong", "admin"}) {
      (*tokens_)[u] = LoginAs(c, u);
    }
    // zhang_min's private request, which luo_jun has nothing to do with.
    Reply r = c.Send(http::verb::post, "/api/v1/instances",
                     ExpenseJson("SEC-SECRET-1", 12345, "机密出差 SECRET-PURPOSE"),
                     {{"Authorization", Bearer((*tokens_)["zhang_min"])}});
    secret_id_ = r.status == 201 ? r.Json().at("id").as_int64() : 0;
    secret_version_ = r.status == 201 ? r.Json().at("version").as_int64() : 0;
  }
  static void TearDownTestSuite() {
    delete daemon_;
    fs::remove_all(*dir_);
    delete dir_;
    delete tokens_;
  }
  void SetUp() override {
    ASSERT_TRUE(daemon_->running()) << daemon_->start_error();
    ASSERT_GT(secret_id_, 0);
    for (const auto& [u, t] : *tokens_) ASSERT_FALSE(t.empty()) << u;
    client_.emplace(daemon_->port());
  }
  std::string Token(const std::string& user) { return tokens_->at(user); }
  Reply As(const std::string& user, http::verb m, const std::string& target,
           const std::string& body = "", Headers extra = {}) {
    if (!user.empty()) extra.emplace_back("Authorization", Bearer(Token(user)));
    return client_->Send(m, target, body, extra);
  }
  // Instances and audit leaves, as the auditor sees them.
  std::pair<size_t, int64_t> State() {
    bool ok = false;
    size_t n = AllInstanceIds(*client_, Token("qian_weidong"), &ok).size();
    EXPECT_TRUE(ok);
    return {n, AuditLeafCount(*client_, Token("qian_weidong"))};
  }
  void ExpectAlive() {
    HttpClient fresh(daemon_->port());
    ASSERT_EQ(fresh.Send(http::verb::get, "/healthz").status, 200)
        << "the daemon stopped answering\n" << daemon_->StderrTail();
  }

  static std::string* dir_;
  static Daemon* daemon_;
  static std::map<std::string, std::string>* tokens_;
  static int64_t secret_id_;
  static int64_t secret_version_;
  std::optional<HttpClient> client_;
};
std::string* SecurityTest::dir_ = nullptr;
Daemon* SecurityTest::daemon_ = nullptr;
std::map<std::string, std::string>* SecurityTest::tokens_ = nullptr;
int64_t SecurityTest::secret_id_ = 0;
int64_t SecurityTest::secret_version_ = 0;

TEST_F(SecurityTest, EveryEndpointNeedsAToken) {
  auto before = State();
  std::vector<Headers> bad_auth = {
      {},
      {{"Authorization", "Bearer "}},
      {{"Authorization", "Bearer forged-token-0000000000000000000000000000000"}},
      {{"Authorization", "Bearer ' OR '1'='1"}},
      {{"Authorization", "Basic emhhbmdfbWluOmFwcHJvdmFsZC1kZW1v"}},  // the demo password, Basic
      {{"Authorization", "Bearer " + Token("zhang_min").substr(0, 20)}},  // a prefix
      {{"Cookie", "token=" + Token("zhang_min")}},  // not how tokens travel
  };
  for (const Endpoint& e : AuthenticatedEndpoints(secret_id_)) {
    for (const Headers& h : bad_auth) {
      Reply r = client_->Send(e.method, e.target, e.body, h);
      EXPECT_EQ(r.status, 401) << e.target << " " << (h.empty() ? "" : h[0].second);
      EXPECT_EQ(r.Code(), "unauthenticated") << e.target << ": " << r.body;
      EXPECT_THAT(r.body, Not(HasSubstr("SECRET-PURPOSE")));
    }
  }
  // The WebSocket needs one too.
  WsTestClient ws(daemon_->port(), "forged");
  EXPECT_FALSE(ws.ok());
  EXPECT_EQ(State(), before) << "unauthenticated requests changed state";
}

TEST_F(SecurityTest, AnotherUsersInstanceIsInvisible) {
  auto before = State();
  std::string inst = "/api/v1/instances/" + std::to_string(secret_id_);
  for (const Endpoint& e : std::vector<Endpoint>{
           {http::verb::get, inst, ""},
           {http::verb::get, inst + "/events", ""},
           {http::verb::get, "/api/v1/audit?instance=" + std::to_string(secret_id_), ""},
           {http::verb::post, inst + "/actions", R"({"action":"approve","node":"dept_head_review"})"},
           {http::verb::post, inst + "/actions", R"({"action":"withdraw"})"},
           {http::verb::post, inst + "/actions", R"({"action":"comment","comment":"x"})"},
           {http::verb::post, inst + "/actions", R"({"action":"urge"})"},
       }) {
    Reply r = As("luo_jun", e.method, e.target, e.body);
    EXPECT_TRUE(r.status == 404 || r.status == 403) << e.target << ": " << r.status << " " << r.body;
    EXPECT_THAT(r.body, Not(HasSubstr("SECRET-PURPOSE"))) << e.target;
    EXPECT_THAT(r.body, Not(HasSubstr("12345"))) << e.target;
  }
  // Not in lists or task lists either.
  Reply list = As("luo_jun", http::verb::get, "/api/v1/instances?limit=500");
  ASSERT_EQ(list.status, 200);
  EXPECT_THAT(list.body, Not(HasSubstr("SECRET-PURPOSE")));
  Reply tasks = As("luo_jun", http::verb::get, "/api/v1/tasks?kind=pending");
  EXPECT_THAT(tasks.body, Not(HasSubstr("SECRET-PURPOSE")));
  // The whole audit log is for auditors.
  EXPECT_EQ(As("luo_jun", http::verb::get, "/api/v1/audit").status, 403);
  // Nor over the WebSocket.
  WsTestClient ws(daemon_->port(), Token("luo_jun"));
  ASSERT_TRUE(ws.ReadType("hello", 10s).has_value());
  ws.Write(R"({"subscribe":)" + std::to_string(secret_id_) + "}");
  auto refused = ws.ReadType("error", 10s);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->at("error").at("code").as_string(), "instance_not_found");
  // Refused actions may be audited (action_refused), but no instance changed.
  auto after = State();
  EXPECT_EQ(after.first, before.first);
  Reply owner = As("zhang_min", http::verb::get, inst);
  ASSERT_EQ(owner.status, 200);
  EXPECT_EQ(owner.Json().at("version").as_int64(), secret_version_);
}

TEST_F(SecurityTest, AuditorsAndUsersCannotDoAdminWork) {
  auto before = State();
  std::string inst = "/api/v1/instances/" + std::to_string(secret_id_);
  for (const std::string& who : {std::string("qian_weidong"), std::string("luo_jun")}) {
    for (const Endpoint& e : std::vector<Endpoint>{
             {http::verb::put, "/api/v1/org", R"({"people":[]})"},
             {http::verb::post, "/api/v1/users",
              R"({"username":"mallory","role":"admin","password":"mallory-pass"})"},
             {http::verb::patch, "/api/v1/users/" + who, R"({"role":"admin"})"},
             {http::verb::get, "/api/v1/users", ""},
         }) {
      Reply r = As(who, e.method, e.target, e.body);
      EXPECT_EQ(r.status, 403) << who << " " << e.target << ": " << r.body;
    }
  }
  // Auditors change nothing at all, not even what a user may.
  for (const Endpoint& e : std::vector<Endpoint>{
           {http::verb::post, "/api/v1/instances", ExpenseJson("SEC-AUDITOR")},
           {http::verb::post, inst + "/actions", R"({"action":"comment","comment":"x"})"},
           {http::verb::post, "/api/v1/attachments", "evidence"},
       }) {
    Reply r = As("qian_weidong", e.method, e.target, e.body,
                 {{"Content-Type", e.target.find("attachments") != std::string::npos
                                       ? "application/octet-stream"
                                       : "application/json"}});
    EXPECT_EQ(r.status, 403) << e.target << ": " << r.body;
    EXPECT_EQ(r.Code(), "forbidden_for_role") << r.body;
  }
  EXPECT_EQ(State(), before);
  // Roles are unchanged: luo_jun is still a plain user, mallory does not exist.
  Reply me = As("luo_jun", http::verb::get, "/api/v1/me");
  EXPECT_EQ(me.Json().at("role").as_string(), "user") << me.body;
  HttpClient c(daemon_->port());
  EXPECT_TRUE(LoginAs(c, "mallory", "mallory-pass").empty());
}

TEST_F(SecurityTest, SqlMetacharactersAndDotDotAreData) {
  std::vector<std::string> accepted_purposes;
  int created = 0;
  auto before = State();
  int k = 0;
  for (const std::string& s : HostileStrings()) {
    ++k;
    std::string enc = UrlEncode(s);
    // Path segments and query parameters: refused or not found, never more.
    for (const Endpoint& e : std::vector<Endpoint>{
             {http::verb::get, "/api/v1/instances/" + enc, ""},
             {http::verb::get, "/api/v1/instances/" + enc + "/events", ""},
             {http::verb::post, "/api/v1/instances/" + enc + "/actions", R"({"action":"approve"})"},
             {http::verb::get, "/api/v1/workflows/" + enc, ""},
             {http::verb::get, "/api/v1/attachments/" + enc, ""},
             {http::verb::get, "/api/v1/attachments/sha256:" + enc, ""},
             {http::verb::get, "/api/v1/instances?workflow=" + enc + "&status=" + enc, ""},
             {http::verb::get, "/api/v1/instances?mine=" + enc, ""},
             {http::verb::get, "/api/v1/tasks?kind=" + enc, ""},
             {http::verb::get, "/api/v1/tasks?limit=" + enc, ""},
             {http::verb::get, "/api/v1/audit?actor=" + enc + "&action=" + enc, ""},
             {http::verb::get, "/api/v1/audit?instance=" + enc, ""},
             {http::verb::get, "/api/v1/audit?from=" + enc, ""},
         }) {
      Reply r = As(e.target.rfind("/api/v1/audit", 0) == 0 ? "qian_weidong" : "zhang_min",
                   e.method, e.target, e.body);
      EXPECT_TRUE(r.status == 400 || r.status == 403 || r.status == 404 ||
                  (r.status == 200 && e.method == http::verb::get))
          << e.target << ": " << r.status << " " << r.body;
      if (r.status == 200) {
        // A query that matches nothing: it must not have matched everything.
        json::value v = r.Json();
        EXPECT_TRUE(v.at("items").as_array().empty()) << e.target << ": " << r.body.substr(0, 300);
      }
    }
    Reply patch = As("admin", http::verb::patch, "/api/v1/users/" + enc, R"({"disabled":true})");
    EXPECT_TRUE(patch.status == 400 || patch.status == 404) << enc << ": " << patch.body;

    // Body fields. Free text is stored verbatim; identifiers are refused.
    std::string tag = "SQLI-" + std::to_string(k);
    Reply sub = As("zhang_min", http::verb::post, "/api/v1/instances",
                   ExpenseJson(tag, 500, s + " " + tag));
    if (s.find('\0') != std::string::npos) {
      EXPECT_TRUE(sub.status == 201 || sub.status == 400) << sub.body;
    } else {
      ASSERT_EQ(sub.status, 201) << s << ": " << sub.body;
    }
    if (sub.status == 201) {
      ++created;
      json::value v = sub.Json();
      EXPECT_EQ(std::string(v.at("form").at("purpose").as_string()), s + " " + tag);
      std::string path = "/api/v1/instances/" + std::to_string(v.at("id").as_int64());
      // Comments with the string are stored as given, too.
      Reply comment = As("zhang_min", http::verb::post, path + "/actions",
                         json::serialize(json::object{{"action", "comment"}, {"comment", s}}));
      EXPECT_TRUE(comment.status == 200 || (comment.status >= 400 && comment.status < 500))
          << comment.body;
      for (const char* field : {"action", "node", "on_behalf_of"}) {
        json::object body{{"action", "approve"}, {"node", "dept_head_review"}};
        body[field] = s;
        Reply r = As("lin_xiaoyan", http::verb::post, path + "/actions", json::serialize(body));
        EXPECT_TRUE(r.status == 400 || r.status == 403 || r.status == 404 || r.status == 422)
            << field << "=" << s << ": " << r.status << " " << r.body;
      }
      Reply again = As("zhang_min", http::verb::get, path);
      EXPECT_EQ(std::string(again.Json().at("form").at("purpose").as_string()), s + " " + tag);
    }
    for (const char* field : {"workflow", "on_behalf_of"}) {
      json::value body = json::parse(ExpenseJson(tag + "-" + field));
      body.as_object()[field] = s;
      Reply r = As("zhang_min", http::verb::post, "/api/v1/instances", json::serialize(body));
      EXPECT_TRUE(r.status == 400 || r.status == 403 || r.status == 404 || r.status == 422)
          << field << "=" << s << ": " << r.status << " " << r.body;
    }
    for (const char* field : {"category", "spent_on"}) {
      json::value body = json::parse(ExpenseJson(tag + "-" + field));
      body.as_object()["data"].as_object()[field] = s;
      Reply r = As("zhang_min", http::verb::post, "/api/v1/instances", json::serialize(body));
      EXPECT_EQ(r.status, 400) << field << "=" << s << ": " << r.body;
    }
    // Logins and user administration.
    HttpClient login(daemon_->port());
    Reply l = login.Send(http::verb::post, "/api/v1/auth/login",
                         json::serialize(json::object{{"username", s}, {"password", s}}));
    EXPECT_TRUE(l.status == 401 || l.status == 429 || l.status == 400) << l.body;
    Reply u = As("admin", http::verb::post, "/api/v1/users",
                 json::serialize(json::object{{"username", s}, {"password", "long-enough-1"}}));
    EXPECT_EQ(u.status, 400) << s << ": " << u.body;
    Reply p = As("admin", http::verb::post, "/api/v1/users",
                 json::serialize(json::object{
                     {"username", "u" + std::to_string(k)}, {"person", s}, {"password", "long-enough-1"}}));
    EXPECT_EQ(p.status, 400) << s << ": " << p.body;
  }
  ExpectAlive();
  auto after = State();
  EXPECT_EQ(after.first, before.first + static_cast<size_t>(created));
  // The tables are intact: users still log in, the log still grows in order.
  HttpClient c(daemon_->port());
  EXPECT_FALSE(LoginAs(c, "song_jia").empty());
  Reply users = As("admin", http::verb::get, "/api/v1/users");
  ASSERT_EQ(users.status, 200);
  EXPECT_GT(users.Json().at("items").as_array().size(), 10u);
}

TEST_F(SecurityTest, OversizedAndDeeplyNestedJsonAreRefused) {
  auto before = State();
  std::string inst = "/api/v1/instances/" + std::to_string(secret_id_);
  std::vector<std::string> bodies;
  for (int depth : {64, 1000, 20000}) {
    std::string arr = std::string(static_cast<size_t>(depth), '[') +
                      std::string(static_cast<size_t>(depth), ']');
    std::string obj;
    for (int i = 0; i < depth; ++i) obj += R"({"a":)";
    obj += "1" + std::string(static_cast<size_t>(depth), '}');
    if (arr.size() < 60000) {
      bodies.push_back(R"({"workflow":"expense","data":{"purpose":)" + arr + "}}");
      bodies.push_back(R"({"workflow":"expense","data":{"invoices":)" + arr + "}}");
    }
    if (obj.size() < 60000) bodies.push_back(R"({"workflow":"expense","data":)" + obj + "}");
    if (arr.size() < 60000) bodies.push_back(arr);
  }
  for (const std::string& b : bodies) {
    for (const auto& [m, target, user] :
         std::vector<std::tuple<http::verb, std::string, std::string>>{
             {http::verb::post, "/api/v1/instances", "zhang_min"},
             {http::verb::post, inst + "/actions", "zhang_min"},
             {http::verb::post, "/api/v1/auth/login", ""},
             {http::verb::put, "/api/v1/org", "admin"},
             {http::verb::post, "/api/v1/users", "admin"},
             {http::verb::patch, "/api/v1/users/luo_jun", "admin"},
         }) {
      Reply r = As(user, m, target, b);
      EXPECT_TRUE(r.status == 400 || r.status == 413 || r.status == 422)
          << target << " depth body " << b.size() << ": " << r.status << " " << r.body.substr(0, 200);
    }
  }
  // Larger than limits.max_body_bytes, also with a lying Content-Length.
  Reply big = As("zhang_min", http::verb::post, "/api/v1/instances",
                 R"({"workflow":"expense","data":{"purpose":")" + std::string(100000, 'x') + "\"}}");
  EXPECT_EQ(big.status, 413);
  HttpClient raw(daemon_->port());
  Reply liar = raw.SendRaw("POST /api/v1/instances HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                           Token("zhang_min") +
                           "\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\n\r\n{}");
  EXPECT_EQ(liar.status, 413);
  // A nested WebSocket message gets an error, not a crash.
  WsTestClient ws(daemon_->port(), Token("zhang_min"));
  ASSERT_TRUE(ws.ReadType("hello", 10s).has_value());
  ws.Write(std::string(20000, '[') + std::string(20000, ']'));
  EXPECT_TRUE(ws.ReadType("error", 10s).has_value());
  ExpectAlive();
  EXPECT_EQ(State().first, before.first);
}

TEST_F(SecurityTest, InvalidUtf8IsRefusedEverywhere) {
  auto before = State();
  const std::string bad = "\xff\xfe\xc0\xaf";
  std::string inst = "/api/v1/instances/" + std::to_string(secret_id_);
  for (const auto& [m, target, body, user] :
       std::vector<std::tuple<http::verb, std::string, std::string, std::string>>{
           {http::verb::post, "/api/v1/instances", ExpenseJson("UTF8", 100, "x") , "zhang_min"},
       }) {
    // Replace the purpose with raw invalid bytes (JSON text, not escaped).
    std::string b = body;
    b.replace(b.find("\"x\""), 3, "\"" + bad + "\"");
    Reply r = As(user, m, target, b);
    EXPECT_EQ(r.status, 400) << r.body;
  }
  for (const std::string& b : std::vector<std::string>{
           "{\"action\":\"comment\",\"comment\":\"" + bad + "\"}",
           "{\"action\":\"" + bad + "\"}",
           "{\"" + bad + "\":1}",
       }) {
    Reply r = As("zhang_min", http::verb::post, inst + "/actions", b);
    EXPECT_EQ(r.status, 400) << r.body;
  }
  HttpClient c(daemon_->port());
  Reply login = c.Send(http::verb::post, "/api/v1/auth/login",
                       "{\"username\":\"" + bad + "\",\"password\":\"" + bad + "\"}");
  EXPECT_TRUE(login.status == 400 || login.status == 401) << login.body;
  for (const char* target :
       {"/api/v1/workflows/%FF%FE", "/api/v1/instances?workflow=%C0%AF", "/api/v1/tasks?kind=%FF"}) {
    Reply r = As("zhang_min", http::verb::get, target);
    EXPECT_EQ(r.status, 400) << target << ": " << r.body;
  }
  // Raw bytes in the request line and in a header value.
  HttpClient raw(daemon_->port());
  Reply r1 = raw.SendRaw("GET /api/v1/workflows/" + bad + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                         Token("zhang_min") + "\r\n\r\n");
  EXPECT_TRUE(r1.status == 400 || r1.status == 0) << r1.body;
  HttpClient raw2(daemon_->port());
  Reply r2 = raw2.SendRaw("GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + bad +
                          "\r\n\r\n");
  EXPECT_TRUE(r2.status == 400 || r2.status == 401) << r2.body;
  ExpectAlive();
  EXPECT_EQ(State().first, before.first);
}

TEST_F(SecurityTest, SlowLorisIsCutOffWhileOthersAreServed) {
  // Several connections each send a request header one byte at a time,
  // 100 ms apart: more than the 1.5 s read timeout in total.
  const std::string request =
      "GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + Token("luo_jun") +
      "\r\nX-Slow: " + std::string(40, 'a') + "\r\n\r\n";
  constexpr int kLoris = 8;
  std::atomic<int> cut{0};
  std::vector<double> cut_after(kLoris, 0);
  std::vector<std::thread> loris;
  for (int i = 0; i < kLoris; ++i) {
    loris.emplace_back([&, i] {
      boost::asio::io_context ioc;
      tcp::socket s(ioc);
      boost::system::error_code ec;
      s.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), daemon_->port()), ec);
      if (ec) return;
      auto start = std::chrono::steady_clock::now();
      for (char ch : request) {
        boost::asio::write(s, boost::asio::buffer(&ch, 1), ec);
        if (ec) break;
        std::this_thread::sleep_for(100ms);
        // The server closed the connection: the next write or a read fails.
        if (s.available(ec) > 0 || ec) break;
      }
      char c;
      size_t n = 0;
      ec = RunWithin(ioc, s, 5s, [&](auto done) {
        s.async_read_some(boost::asio::buffer(&c, 1),
                          [&n, done](boost::system::error_code e, size_t got) {
                            n = got;
                            done(e, got);
                          });
      });
      // Cut off: the server closed it (not our 5 s wait running out).
      if (n == 0 && (ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset)) {
        cut++;
        cut_after[static_cast<size_t>(i)] =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      }
    });
  }
  // Meanwhile a normal client is served promptly, many times.
  std::this_thread::sleep_for(300ms);
  HttpClient c(daemon_->port());
  double worst = 0;
  for (int i = 0; i < 20; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    Reply r = c.Send(http::verb::get, "/api/v1/me", "", {{"Authorization", Bearer(Token("zhang_min"))}});
    worst = std::max(worst, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    EXPECT_EQ(r.status, 200);
    std::this_thread::sleep_for(50ms);
  }
  for (auto& t : loris) t.join();
  EXPECT_EQ(cut.load(), kLoris) << "slow-loris connections were not cut off";
  for (double s : cut_after) {
    EXPECT_GE(s, 1.2);
    EXPECT_LE(s, 4.0) << "cut off too late for a 1.5 s read timeout";
  }
  EXPECT_LT(worst, 0.5) << "a normal client waited " << worst << " s";
}

// The data directory holds password and session hashes and the audit
// signing key: nothing in it is readable by group or others.
TEST_F(SecurityTest, DataDirectoryIsPrivate) {
  std::string data = *dir_ + "/data";
  auto mode = [](const fs::path& p) {
    return static_cast<unsigned>(fs::status(p).permissions() & fs::perms::all);
  };
  EXPECT_EQ(mode(data) & 077u, 0u) << std::oct << mode(data);
  int files = 0;
  for (const auto& entry : fs::directory_iterator(data)) {
    ++files;
    EXPECT_EQ(mode(entry.path()) & 077u, 0u) << entry.path() << " " << std::oct << mode(entry.path());
  }
  EXPECT_GE(files, 2);  // approvald.db (+ -wal, -shm) and audit_ed25519.pem
  EXPECT_TRUE(fs::exists(data + "/audit_ed25519.pem"));
}

// An expired session is refused even though the token is otherwise valid.
TEST(SecuritySessionTest, ExpiredTokenIsRefused) {
  std::string dir = TempDir("approvald_expired");
  std::string data = dir + "/data";
  std::string token, other;
  {
    Daemon d(data);
    ASSERT_TRUE(d.running()) << d.start_error();
    HttpClient c(d.port());
    token = LoginAs(c, "zhang_min");
    other = LoginAs(c, "xu_lei");
    ASSERT_FALSE(token.empty() || other.empty());
    EXPECT_EQ(c.Send(http::verb::get, "/api/v1/me", "", {{"Authorization", Bearer(token)}}).status,
              200);
    ASSERT_EQ(d.Stop(SIGTERM), 0);
  }
  // Age zhang_min's session past its expiry (the shortest TTL is a minute).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((data + "/approvald.db").c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE sessions SET expires_at = created_at + 1 WHERE username = 'zhang_min'",
                         nullptr, nullptr, &err),
            SQLITE_OK)
      << (err ? err : "");
  EXPECT_EQ(sqlite3_changes(db), 1);
  sqlite3_close(db);
  Daemon d(data);
  ASSERT_TRUE(d.running()) << d.start_error();
  HttpClient c(d.port());
  Reply r = c.Send(http::verb::get, "/api/v1/me", "", {{"Authorization", Bearer(token)}});
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.Code(), "unauthenticated");
  Reply post = c.Send(http::verb::post, "/api/v1/instances", ExpenseJson("EXPIRED"),
                      {{"Authorization", Bearer(token)}});
  EXPECT_EQ(post.status, 401);
  WsTestClient ws(d.port(), token);
  EXPECT_FALSE(ws.ok());
  // Another session is unaffected.
  EXPECT_EQ(c.Send(http::verb::get, "/api/v1/me", "", {{"Authorization", Bearer(other)}}).status, 200);
  EXPECT_EQ(d.Stop(SIGTERM), 0);
  fs::remove_all(dir);
}

// A brute-force burst: after the free failures every attempt is refused
// with 429 and Retry-After without the password being looked at (so it is
// fast and cannot grow the audit log); the failures that were checked are in
// the audit log; even the right password waits out the back-off.
TEST(SecuritySessionTest, BruteForceLoginIsSlowedDownAndAudited) {
  std::string dir = TempDir("approvald_brute");
  Daemon d(dir + "/data", "auth:\n  login_free_failures: 3\n  login_backoff_base_ms: 2000\n");
  ASSERT_TRUE(d.running()) << d.start_error();
  HttpClient c(d.port());
  std::string auditor = LoginAs(c, "qian_weidong");
  ASSERT_FALSE(auditor.empty());
  int64_t leaves_before = AuditLeafCount(c, auditor);
  int unauthorized = 0, throttled = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) {
    Reply r = c.Send(http::verb::post, "/api/v1/auth/login",
                     R"({"username":"chen_zhiyuan","password":"guess-)" + std::to_string(i) + "\"}");
    if (r.status == 401) {
      ++unauthorized;
      EXPECT_EQ(r.Code(), "invalid_credentials");
    } else {
      ASSERT_EQ(r.status, 429) << r.body;
      EXPECT_EQ(r.Code(), "login_throttled");
      EXPECT_FALSE(r.headers["retry-after"].empty());
      ++throttled;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The free failures, and at most a couple more if the machine was so slow
  // that a back-off ran out between attempts.
  EXPECT_GE(unauthorized, 3);
  EXPECT_LE(unauthorized, 5);
  EXPECT_EQ(throttled, 50 - unauthorized);
  // The right password is refused too while the back-off lasts.
  Reply right = c.Send(http::verb::post, "/api/v1/auth/login",
                       R"({"username":"chen_zhiyuan","password":"approvald-demo"})");
  EXPECT_EQ(right.status, 429);
  // Exactly the checked failures were audited, each naming the user.
  Reply failed = c.Send(http::verb::get, "/api/v1/audit?action=login_failed&limit=500", "",
                        {{"Authorization", Bearer(auditor)}});
  ASSERT_EQ(failed.status, 200);
  json::value v = failed.Json();
  EXPECT_EQ(v.at("items").as_array().size(), static_cast<size_t>(unauthorized))
      << failed.body.substr(0, 500);
  EXPECT_THAT(failed.body, HasSubstr("chen_zhiyuan"));
  EXPECT_THAT(failed.body, Not(HasSubstr("guess-")));  // passwords are never recorded
  EXPECT_EQ(AuditLeafCount(c, auditor), leaves_before + unauthorized);
  std::printf("brute force: 50 attempts in %.2f s, %d checked, %d throttled\n", secs,
              unauthorized, throttled);
  // After the back-off the right password works again.
  std::this_thread::sleep_for(std::chrono::seconds(
      std::max(1, std::atoi(right.headers["retry-after"].c_str()))));
  Reply later = c.Send(http::verb::post, "/api/v1/auth/login",
                       R"({"username":"chen_zhiyuan","password":"approvald-demo"})");
  EXPECT_EQ(later.status, 200) << later.body;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace approvald::systest
