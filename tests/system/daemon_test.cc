// Black-box tests of the real `approvald serve` on an ephemeral loopback port
// with a temporary data directory: HTTP and WebSocket, every error status,
// the dual-line reimbursement by different users, and a shutdown under load
// that must lose nothing acknowledged. Every response is checked against
// api/openapi.json.
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "tests/system/client.h"

namespace approvald::systest {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr const char* kPassword = "approvald-demo";

const OpenApiChecker& Spec() {
  static OpenApiChecker checker(APPROVAL_SOURCE_DIR "/api/openapi.json");
  return checker;
}

const char* MethodName(http::verb v) {
  switch (v) {
    case http::verb::get: return "GET";
    case http::verb::post: return "POST";
    case http::verb::put: return "PUT";
    case http::verb::patch: return "PATCH";
    case http::verb::delete_: return "DELETE";
    default: return "OTHER";
  }
}

// Sends a request and checks the response against the OpenAPI document.
Reply Call(HttpClient& c, http::verb m, const std::string& target, const std::string& body = "",
           const std::string& token = "",
           std::vector<std::pair<std::string, std::string>> headers = {}) {
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
  Reply r = c.Send(m, target, body, headers);
  if (r.status != 0) {
    std::string problem = Spec().Check(MethodName(m), target, r);
    EXPECT_EQ(problem, "") << r.body.substr(0, 300);
  }
  return r;
}

std::string Login(HttpClient& c, const std::string& user) {
  Reply r = Call(c, http::verb::post, "/api/v1/auth/login",
                 R"({"username":")" + user + R"(","password":")" + kPassword + R"("})");
  EXPECT_EQ(r.status, 200) << r.body;
  json::value v = r.Json();
  return v.is_object() ? std::string(v.at("token").as_string()) : "";
}

std::string ExpenseBody(const std::string& invoice, int64_t fen = 12000) {
  return R"({"workflow":"expense","data":{"purpose":"出差","category":"travel","amount":)" +
         std::to_string(fen) + R"(,"travel_approval":"sha256:)" + std::string(64, 'a') +
         R"(","spent_on":"2025-11-20","invoices":[{"number":")" + invoice +
         R"(","amount":)" + std::to_string(fen) + "}]}}";
}

class DaemonTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(TempDir("approvald_sys"));
    daemon_ = new Daemon(*dir_ + "/data",
                         "limits:\n"
                         "  max_body_bytes: 65536\n"
                         "  max_header_bytes: 8192\n"
                         "  read_timeout_ms: 1500\n"
                         "  idle_timeout_ms: 5000\n"
                         "  requests_per_second: 20\n"
                         "  request_burst: 40\n");
  }
  static void TearDownTestSuite() {
    delete daemon_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  void SetUp() override {
    ASSERT_TRUE(daemon_->running()) << daemon_->start_error();
    client_.emplace(daemon_->port());
  }
  uint16_t port() const { return daemon_->port(); }

  static std::string* dir_;
  static Daemon* daemon_;
  std::optional<HttpClient> client_;
};
std::string* DaemonTest::dir_ = nullptr;
Daemon* DaemonTest::daemon_ = nullptr;

TEST_F(DaemonTest, HealthMetricsAndOpenApi) {
  HttpClient& c = *client_;
  EXPECT_EQ(Call(c, http::verb::get, "/healthz").status, 200);
  Reply doc = Call(c, http::verb::get, "/api/v1/openapi.json");
  ASSERT_EQ(doc.status, 200);
  EXPECT_EQ(doc.Json().at("openapi").as_string(), "3.1.0");
  Reply m = Call(c, http::verb::get, "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_THAT(m.body, HasSubstr("approvald_http_requests_total{route=\"/healthz\",status=\"200\"}"));
  EXPECT_THAT(m.body, HasSubstr("approvald_open_connections "));
  EXPECT_THAT(m.body, HasSubstr("approvald_store_commit_batch_size_count "));
}

TEST_F(DaemonTest, DualLineReimbursementByDifferentUsers) {
  HttpClient& c = *client_;
  std::string clerk = Login(c, "zhang_min");
  Reply sub = Call(c, http::verb::post, "/api/v1/instances", ExpenseBody("SYS-DUAL-1"), clerk,
                   {{"Idempotency-Key", "dual-1"}});
  ASSERT_EQ(sub.status, 201) << sub.body;
  int64_t id = sub.Json().at("id").as_int64();
  std::string path = "/api/v1/instances/" + std::to_string(id);

  auto act = [&](const std::string& user, const std::string& body) {
    std::string token = Login(c, user);
    // The approver finds the request among their pending tasks first.
    Reply tasks = Call(c, http::verb::get, "/api/v1/tasks?kind=pending", "", token);
    EXPECT_EQ(tasks.status, 200);
    bool found = false;
    json::value task_list = tasks.Json();
    for (const auto& t : task_list.at("items").as_array()) {
      found |= t.at("instance").as_int64() == id;
    }
    EXPECT_TRUE(found) << user << " has no pending task for " << id;
    int64_t v = Call(c, http::verb::get, path, "", token).Json().at("version").as_int64();
    std::string full = body.substr(0, body.size() - 1) + R"(,"expected_version":)" +
                       std::to_string(v) + "}";
    Reply r = Call(c, http::verb::post, path + "/actions", full, token);
    EXPECT_EQ(r.status, 200) << user << ": " << r.body;
    return r;
  };
  act("lin_xiaoyan", R"({"action":"approve","node":"dept_head_review","comment":"情况属实"})");
  act("zheng_li", R"({"action":"approve","node":"finance_review","comment":"票据齐全"})");
  act("li_jianhua", R"({"action":"approve","node":"dept_deputy_review"})");
  Reply r = act("wang_haiyan", R"({"action":"approve","node":"finance_deputy_review"})");
  EXPECT_EQ(r.Json().at("current_nodes").at(0).as_string(), "pay");
  Reply done = act("sun_yue", R"({"action":"complete","node":"pay","data":{"voucher_no":"记-2025-11-001"}})");
  EXPECT_EQ(done.Json().at("status").as_string(), "approved");

  // The whole history is in the audit log, each signer under their own name.
  std::string auditor = Login(c, "qian_weidong");
  Reply trail = Call(c, http::verb::get, "/api/v1/audit?instance=" + std::to_string(id) + "&limit=500",
                     "", auditor);
  ASSERT_EQ(trail.status, 200);
  std::set<std::string> actors;
  json::value trail_json = trail.Json();
  for (const auto& e : trail_json.at("items").as_array()) {
    actors.insert(std::string(e.at("actor").as_string()));
  }
  for (const char* who : {"zhang_min", "lin_xiaoyan", "zheng_li", "li_jianhua", "wang_haiyan", "sun_yue"}) {
    EXPECT_TRUE(actors.count(who)) << who;
  }
  Reply events = Call(c, http::verb::get, path + "/events", "", auditor);
  EXPECT_EQ(events.status, 200);
}

TEST_F(DaemonTest, EveryErrorStatus) {
  HttpClient& c = *client_;
  std::string clerk = Login(c, "xu_lei");
  // 400: malformed JSON, wrong types, unknown fields, '..' in the path.
  Reply bad = Call(c, http::verb::post, "/api/v1/instances", "{\"workflow\":", clerk);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Code(), "bad_json");
  Reply types = Call(c, http::verb::post, "/api/v1/instances",
                     R"({"workflow":"expense","data":{"amount":"lots"}})", clerk);
  EXPECT_EQ(types.status, 400);
  EXPECT_THAT(types.body, HasSubstr("amount"));
  Reply utf8 = c.Send(http::verb::post, "/api/v1/instances",
                      "{\"workflow\":\"expense\",\"data\":{\"purpose\":\"\xff\xfe\"}}",
                      {{"Authorization", "Bearer " + clerk}});
  EXPECT_EQ(utf8.status, 400);
  Reply dots = c.SendRaw("GET /api/v1/instances/../users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                         clerk + "\r\n\r\n");
  EXPECT_EQ(dots.status, 400);
  EXPECT_THAT(dots.body, HasSubstr(".."));
  // 401: no token, forged token.
  EXPECT_EQ(Call(c, http::verb::get, "/api/v1/tasks").status, 401);
  EXPECT_EQ(Call(c, http::verb::get, "/api/v1/tasks", "", "forged-token").status, 401);
  // 403: auditors change nothing.
  std::string auditor = Login(c, "qian_weidong");
  Reply forbidden = Call(c, http::verb::post, "/api/v1/instances", ExpenseBody("SYS-403"), auditor);
  EXPECT_EQ(forbidden.status, 403);
  // 404: no such instance (or one you may not see).
  EXPECT_EQ(Call(c, http::verb::get, "/api/v1/instances/999999", "", clerk).status, 404);
  // 409: a stale expected_version.
  Reply sub = Call(c, http::verb::post, "/api/v1/instances", ExpenseBody("SYS-409"), clerk);
  ASSERT_EQ(sub.status, 201) << sub.body;
  std::string path = "/api/v1/instances/" + std::to_string(sub.Json().at("id").as_int64());
  std::string head = Login(c, "yang_fan");  // head of landscape, xu_lei's department
  Reply stale = Call(c, http::verb::post, path + "/actions",
                     R"({"action":"approve","node":"dept_head_review","expected_version":1})", head);
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(stale.Code(), "stale_version");
  // 422: a workflow rule refuses (the finance review requires a comment).
  std::string finance = Login(c, "zheng_li");
  Reply rule = Call(c, http::verb::post, path + "/actions",
                    R"({"action":"approve","node":"finance_review"})", finance);
  EXPECT_EQ(rule.status, 422) << rule.body;
  EXPECT_EQ(rule.Code(), "comment_required");
  // 413: a body over limits.max_body_bytes.
  Reply big = c.Send(http::verb::post, "/api/v1/instances", std::string(70000, ' '),
                     {{"Authorization", "Bearer " + clerk}});
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.Code(), "payload_too_large");
  // 431: headers over limits.max_header_bytes.
  Reply huge = c.Send(http::verb::get, "/api/v1/tasks", "",
                      {{"Authorization", "Bearer " + clerk}, {"X-Padding", std::string(9000, 'a')}});
  EXPECT_EQ(huge.status, 431);
  EXPECT_EQ(huge.Code(), "headers_too_large");
  // 429: one user over the per-user rate (20/s, burst 40).
  std::string busy = Login(c, "guo_fang");
  int limited = 0;
  Reply last;
  for (int i = 0; i < 80 && limited == 0; ++i) {
    last = c.Send(http::verb::get, "/api/v1/me", "", {{"Authorization", "Bearer " + busy}});
    if (last.status == 429) ++limited;
  }
  EXPECT_EQ(limited, 1);
  EXPECT_EQ(last.Code(), "rate_limited");
  EXPECT_FALSE(last.headers["retry-after"].empty());
  EXPECT_EQ(Spec().Check("GET", "/api/v1/me", last), "");
  // Nothing above changed anything: only the one instance exists for xu_lei.
  Reply mine = Call(c, http::verb::get, "/api/v1/instances?mine=true", "", clerk);
  EXPECT_EQ(mine.Json().at("items").as_array().size(), 1u);
}

// 三重一大 over the API: a deputy head proposes a topic, the office compiles
// the agenda and distributes it, the members confirm receipt; opening the
// meeting before the deliberation period (2 working days) has passed is
// refused with the rule's reason code, and the head may not speak yet.
TEST_F(DaemonTest, CollectiveDecisionMeetingRulesHoldOverTheApi) {
  HttpClient& c = *client_;
  std::string deputy = Login(c, "liu_guoqiang");
  Reply sub = Call(c, http::verb::post, "/api/v1/instances",
                   R"({"workflow":"sanzhong-yida","data":{"topic":"时花种植项目预算调整",)"
                   R"("category":"large_funds","amount":120000000,"background":"预算由400万调整为120万"}})",
                   deputy);
  ASSERT_EQ(sub.status, 201) << sub.body;
  std::string path = "/api/v1/instances/" + std::to_string(sub.Json().at("id").as_int64());
  std::string office = Login(c, "lin_xiaoyan");
  Reply compiled = Call(c, http::verb::post, path + "/actions",
                        R"({"action":"complete","node":"compile_agenda","data":{"agenda_no":"2025-07"}})",
                        office);
  ASSERT_EQ(compiled.status, 200) << compiled.body;
  EXPECT_EQ(compiled.Json().at("current_nodes").at(0).as_string(), "meeting");
  Reply dist = Call(c, http::verb::post, path + "/actions",
                    R"({"action":"distribute","node":"meeting"})", office);
  ASSERT_EQ(dist.status, 200) << dist.body;
  for (const char* member : {"chen_zhiyuan", "li_jianhua", "wang_haiyan", "liu_guoqiang",
                             "zhao_min", "huang_xiaoming"}) {
    Reply ack = Call(c, http::verb::post, path + "/actions",
                     R"({"action":"acknowledge","node":"meeting"})", Login(c, member));
    EXPECT_EQ(ack.status, 200) << member << ": " << ack.body;
  }
  Reply open = Call(c, http::verb::post, path + "/actions",
                    R"({"action":"open","node":"meeting"})", office);
  EXPECT_EQ(open.status, 422) << open.body;
  EXPECT_EQ(open.Code(), "deliberation_not_over");
  Reply early = Call(c, http::verb::post, path + "/actions",
                     R"({"action":"opinion","node":"meeting","comment":"同意"})",
                     Login(c, "chen_zhiyuan"));
  EXPECT_TRUE(early.status == 422 || early.status == 403) << early.body;
  // The meeting record shows the distribution and every receipt.
  Reply view = Call(c, http::verb::get, path, "", office);
  json::value v = view.Json();
  const json::value& meeting = v.at("active").at(0).at("meeting");
  EXPECT_TRUE(meeting.at("distributed").as_bool());
  EXPECT_EQ(meeting.at("receipts").as_array().size(), 6u);
  EXPECT_FALSE(meeting.at("opened").as_bool());
}

TEST_F(DaemonTest, SlowClientsAreDropped) {
  HttpClient slow(port());
  // Half a request line, then nothing: the server closes after read_timeout.
  auto start = std::chrono::steady_clock::now();
  {
    boost::asio::io_context ioc;
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port()));
    boost::asio::write(s, boost::asio::buffer(std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n")));
    char c;
    boost::system::error_code ec;
    s.read_some(boost::asio::buffer(&c, 1), ec);  // blocks until the server closes
    EXPECT_TRUE(ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset)
        << ec.message();
  }
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 1000ms);
  EXPECT_LE(took, 10s);
  // The server still answers everyone else.
  EXPECT_EQ(Call(*client_, http::verb::get, "/healthz").status, 200);
}

TEST_F(DaemonTest, WebSocketReceivesItsTaskAfterTheChangeIsDurable) {
  HttpClient& c = *client_;
  std::string head = Login(c, "han_xue");  // head of research
  WsTestClient ws(port(), head);
  ASSERT_TRUE(ws.ok()) << ws.error();
  ASSERT_TRUE(ws.ReadType("hello", 10s).has_value());

  std::string clerk = Login(c, "feng_tao");  // research staff
  WsTestClient clerk_ws(port(), clerk);
  ASSERT_TRUE(clerk_ws.ok());
  ASSERT_TRUE(clerk_ws.ReadType("hello", 10s).has_value());

  Reply sub = Call(c, http::verb::post, "/api/v1/instances", ExpenseBody("SYS-WS-1"), clerk);
  ASSERT_EQ(sub.status, 201) << sub.body;
  int64_t id = sub.Json().at("id").as_int64();

  auto task = ws.ReadType("task", 10s);
  ASSERT_TRUE(task.has_value()) << ws.error();
  EXPECT_EQ(task->at("instance").at("id").as_int64(), id);
  EXPECT_EQ(task->at("node").as_string(), "dept_head_review");
  // Durable before the push: the instance is there for the approver.
  EXPECT_EQ(Call(c, http::verb::get, "/api/v1/instances/" + std::to_string(id), "", head).status, 200);

  // The submitter subscribes and hears about the approval.
  clerk_ws.Write(R"({"subscribe":)" + std::to_string(id) + "}");
  auto subscribed = clerk_ws.ReadType("subscribed", 10s);
  ASSERT_TRUE(subscribed.has_value());
  Reply ok = Call(c, http::verb::post, "/api/v1/instances/" + std::to_string(id) + "/actions",
                  R"({"action":"approve","node":"dept_head_review"})", head);
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto change = clerk_ws.ReadType("instance", 10s);
  ASSERT_TRUE(change.has_value());
  EXPECT_EQ(change->at("instance").at("id").as_int64(), id);
  bool signed_event = false;
  for (const auto& e : change->at("events").as_array()) signed_event |= e.at("type").as_string() == "signed";
  EXPECT_TRUE(signed_event);

  // Someone not involved cannot subscribe to it.
  std::string other = Login(c, "luo_jun");
  WsTestClient other_ws(port(), other);
  ASSERT_TRUE(other_ws.ReadType("hello", 10s).has_value());
  other_ws.Write(R"({"subscribe":)" + std::to_string(id) + "}");
  auto refused = other_ws.ReadType("error", 10s);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->at("error").at("code").as_string(), "instance_not_found");
}

TEST_F(DaemonTest, WebSocketNeedsAToken) {
  WsTestClient ws(port(), "not-a-token");
  EXPECT_FALSE(ws.ok());
  EXPECT_THAT(ws.error(), HasSubstr("401"));
}

// Browsers cannot set headers on a WebSocket, so the token may come as
// ?token=: a valid one opens the socket (hello arrives), none or a wrong one
// is refused with 401 at the handshake.
TEST_F(DaemonTest, WebSocketAcceptsTheTokenInTheQuery) {
  namespace websocket = boost::beast::websocket;
  auto handshake = [&](const std::string& target, std::string* first_message) {
    boost::asio::io_context ioc;
    websocket::stream<boost::asio::ip::tcp::socket> ws(ioc);
    boost::system::error_code ec;
    ws.next_layer().connect(
        {boost::asio::ip::make_address("127.0.0.1"), port()}, ec);
    if (ec) return -1;
    websocket::response_type res;
    ws.handshake(res, "127.0.0.1", target, ec);
    if (ec) return static_cast<int>(res.result_int());
    boost::beast::flat_buffer buf;
    ws.read(buf, ec);
    if (!ec) *first_message = boost::beast::buffers_to_string(buf.data());
    ws.close(websocket::close_code::normal, ec);
    return 101;
  };
  std::string token = Login(*client_, "zhang_min");
  std::string hello;
  ASSERT_EQ(handshake("/api/v1/ws?token=" + token, &hello), 101);
  EXPECT_THAT(hello, HasSubstr("\"hello\""));
  std::string none;
  EXPECT_EQ(handshake("/api/v1/ws", &none), 401);
  EXPECT_EQ(handshake("/api/v1/ws?token=" + token + "x", &none), 401);
  EXPECT_TRUE(none.empty());
}

TEST_F(DaemonTest, OversizedWebSocketMessageClosesTheSocket) {
  std::string t = Login(*client_, "tang_ning");
  WsTestClient ws(port(), t);
  ASSERT_TRUE(ws.ReadType("hello", 10s).has_value());
  ws.Write(std::string(70000, 'x'));  // over limits.ws_max_message_bytes (64 KiB)
  EXPECT_FALSE(ws.Read(10s).has_value());
}

// TLS: with tls.cert_file and tls.key_file set the daemon speaks HTTPS only.
TEST(DaemonTlsTest, ServesHttpsWithTheConfiguredCertificate) {
  if (std::system("command -v openssl >/dev/null && command -v curl >/dev/null") != 0) {
    GTEST_SKIP() << "openssl or curl not installed";
  }
  std::string dir = TempDir("approvald_tls");
  std::string gen = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                    "-keyout " + dir + "/key.pem -out " + dir + "/cert.pem -days 1 "
                    "-subj /CN=127.0.0.1 >/dev/null 2>&1";
  ASSERT_EQ(std::system(gen.c_str()), 0);
  Daemon d(dir + "/data", "tls:\n  cert_file: \"" + dir + "/cert.pem\"\n  key_file: \"" + dir +
                              "/key.pem\"\n");
  ASSERT_TRUE(d.running()) << d.start_error();
  std::string out = dir + "/curl.out";
  std::string cmd = "curl -s --max-time 10 --cacert " + dir + "/cert.pem https://127.0.0.1:" +
                    std::to_string(d.port()) + "/healthz > " + out;
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(out);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(body, R"({"status":"ok"})");
  // Plain HTTP on the TLS port gets no HTTP answer.
  HttpClient plain(d.port(), 3s);
  EXPECT_EQ(plain.Send(http::verb::get, "/healthz").status, 0);
  EXPECT_EQ(d.Stop(SIGTERM), 0);
  std::filesystem::remove_all(dir);
}

TEST(DaemonShutdownTest, WebSocketsGetACloseFrame) {
  std::string dir = TempDir("approvald_wsclose");
  Daemon d(dir + "/data");
  ASSERT_TRUE(d.running()) << d.start_error();
  HttpClient c(d.port());
  WsTestClient ws(d.port(), Login(c, "zhang_min"));
  ASSERT_TRUE(ws.ReadType("hello", 10s).has_value());
  c.Close();
  std::thread stopper([&] { EXPECT_EQ(d.Stop(SIGTERM), 0); });
  EXPECT_FALSE(ws.Read(20s).has_value());
  // Beast reports a clean close handshake (a close frame from the server),
  // not a cut connection.
  EXPECT_THAT(ws.error(), HasSubstr("closed"));
  stopper.join();
  std::filesystem::remove_all(dir);
}

// `approvald user add` / `user set-password` work on a data directory before
// the daemon runs; the login then works over HTTP.
TEST(UserCommandsTest, AddAndSetPasswordThenLogIn) {
  std::string dir = TempDir("approvald_users");
  std::string data = dir + "/data";
  std::string add = std::string(APPROVALD_BINARY) + " user add chief --role admin --data-dir " +
                    data + " --org " APPROVAL_SOURCE_DIR "/config/org.yaml > /dev/null";
  ASSERT_EQ(std::system(add.c_str()), 0);
  EXPECT_NE(std::system(add.c_str()), 0);  // the name is taken now
  std::string bad_role = std::string(APPROVALD_BINARY) + " user add x --role king --data-dir " +
                         data + " 2>/dev/null";
  EXPECT_NE(std::system(bad_role.c_str()), 0);
  std::string set = "printf 'chief-password\\n' | " + std::string(APPROVALD_BINARY) +
                    " user set-password chief --data-dir " + data + " > /dev/null";
  ASSERT_EQ(std::system(set.c_str()), 0);
  Daemon d(data);
  ASSERT_TRUE(d.running()) << d.start_error();
  HttpClient c(d.port());
  Reply r = Call(c, http::verb::post, "/api/v1/auth/login",
                 R"({"username":"chief","password":"chief-password"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("user").at("role").as_string(), "admin");
  std::filesystem::remove_all(dir);
}

// Shutdown under load: clients keep submitting while SIGTERM arrives; after a
// restart every acknowledged (201) instance exists.
TEST(DaemonShutdownTest, NothingAcknowledgedIsLost) {
  std::string dir = TempDir("approvald_shutdown");
  std::string config =
      "limits:\n  requests_per_second: 100000\n  request_burst: 100000\n"
      "shutdown_grace_ms: 10000\n";
  std::mutex mu;
  std::set<int64_t> acked;
  std::atomic<int> submitted{0};
  {
    Daemon d(dir + "/data", config);
    ASSERT_TRUE(d.running()) << d.start_error();
    std::vector<std::string> users = {"zhang_min", "xu_lei", "hu_bin", "song_jia"};
    std::vector<std::string> tokens;
    HttpClient login(d.port());
    for (const auto& u : users) tokens.push_back(Login(login, u));
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (size_t i = 0; i < users.size(); ++i) {
      threads.emplace_back([&, i] {
        HttpClient c(d.port());
        for (int n = 0; !stop.load(); ++n) {
          std::string inv = "LOAD-" + std::to_string(i) + "-" + std::to_string(n);
          Reply r = c.Send(http::verb::post, "/api/v1/instances", ExpenseBody(inv),
                           {{"Authorization", "Bearer " + tokens[i]},
                            {"Idempotency-Key", inv}});
          if (r.status == 201) {
            std::lock_guard l(mu);
            acked.insert(r.Json().at("id").as_int64());
            submitted++;
          } else if (r.status == 0 || r.status == 503) {
            // The server is going away; later attempts may fail to connect.
            std::this_thread::sleep_for(5ms);
            if (r.error.find("connect") != std::string::npos) return;
          } else {
            ADD_FAILURE() << "unexpected status " << r.status << " " << r.body;
            return;
          }
        }
      });
    }
    while (submitted.load() < 40) std::this_thread::sleep_for(10ms);
    int code = d.Stop(SIGTERM);
    stop = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(code, 0) << d.StderrTail();
  }
  ASSERT_GE(acked.size(), 40u);
  Daemon again(dir + "/data", config);
  ASSERT_TRUE(again.running()) << again.start_error();
  HttpClient c(again.port());
  std::string auditor = Login(c, "qian_weidong");
  std::set<int64_t> found;
  int64_t after = 0;
  for (;;) {
    Reply page = Call(c, http::verb::get, "/api/v1/instances?limit=500&after=" + std::to_string(after),
                      "", auditor);
    ASSERT_EQ(page.status, 200);
    json::value body = page.Json();
    for (const auto& row : body.at("items").as_array()) found.insert(row.at("id").as_int64());
    const json::value& next = body.at("next_after");
    if (next.is_null()) break;
    after = next.as_int64();
  }
  for (int64_t id : acked) EXPECT_TRUE(found.count(id)) << "acknowledged instance " << id << " lost";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace approvald::systest
