// Operational behaviours of the real `approvald serve` (issue 4): a slow
// WebSocket consumer is disconnected while everyone else keeps receiving,
// logs (text and JSON) never hold passwords or tokens and JSON lines carry
// the request fields, the connection limit holds end to end, and `make run`'s
// demo mode (scripts/run-demo.sh) serves only on loopback with a login hint
// that works.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/system/client.h"
#include "tests/system/sys_util.h"

namespace approvald::systest {
namespace {

namespace fs = std::filesystem;
namespace websocket = boost::beast::websocket;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// The text between the first `open` and the next `close` after it; "" if absent.
std::string Between(const std::string& s, std::string_view open, std::string_view close) {
  auto from = s.find(open);
  if (from == std::string::npos) return "";
  from += open.size();
  auto to = s.find(close, from);
  return to == std::string::npos ? "" : s.substr(from, to - from);
}

// The first whitespace-delimited word after the first `label`; "" if absent.
std::string WordAfter(const std::string& s, std::string_view label) {
  auto at = s.find(label);
  if (at == std::string::npos) return "";
  std::istringstream rest(s.substr(at + label.size()));
  std::string word;
  rest >> word;
  return word;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Sha256Hex(const std::string& s) {
  unsigned char h[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), h);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : h) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

// Runs a shell command; returns its exit status and puts stdout+stderr in *out.
int RunCommand(const std::string& cmd, std::string* out) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[512];
  out->clear();
  while (fgets(buf, sizeof buf, p)) *out += buf;
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The value of metric `name` (a line "name VALUE") in a /metrics body, or -1.
int64_t Metric(const std::string& body, const std::string& name) {
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::atoll(line.c_str() + name.size() + 1);
  }
  return -1;
}

int64_t MetricNow(uint16_t port, const std::string& name) {
  HttpClient c(port, 5s);
  Reply r = c.Send(http::verb::get, "/metrics");
  return r.status == 200 ? Metric(r.body, name) : -1;
}

// ---------------------------------------------------------------------------
// A slow WebSocket consumer.

// A WebSocket client with a tiny receive buffer that can stop reading.
class RawWs {
 public:
  RawWs(uint16_t port, const std::string& token) : ws_(ioc_) {
    boost::system::error_code ec;
    auto& s = ws_.next_layer();
    s.open(tcp::v4(), ec);
    // A small receive window, so the server's writes stall soon after the
    // client stops reading (the kernel buffers are not what is under test).
    s.set_option(boost::asio::socket_base::receive_buffer_size(4096), ec);
    s.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port), ec);
    if (!ec) ws_.handshake("127.0.0.1", "/api/v1/ws?token=" + token, ec);
    ok_ = !ec;
    error_ = ec.message();
  }
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  // Reads one message; false on error or after `wait` (*ec says which).
  bool Read(std::chrono::milliseconds wait, std::string* text,
            boost::system::error_code* ec) {
    boost::beast::flat_buffer buf;
    *ec = RunWithin(ioc_, ws_.next_layer(), wait,
                    [&](auto done) { ws_.async_read(buf, done); });
    if (*ec) return false;
    *text = boost::beast::buffers_to_string(buf.data());
    return true;
  }

 private:
  boost::asio::io_context ioc_;
  websocket::stream<tcp::socket> ws_;
  bool ok_ = false;
  std::string error_;
};

// A client that subscribes (logs in as a department head) and then stops
// reading while a task is pushed to it for every submission: once its send
// queue (limits.ws_send_queue) is full it is disconnected, the daemon's
// memory stays put, and another client of the same person keeps receiving
// every task, before and after the drop.
TEST(SlowConsumerTest, IsDisconnectedWhileOtherWebSocketsKeepReceiving) {
  std::string dir = TempDir("approvald_slowws");
  Daemon d(dir + "/data", std::string(kNoRateLimit) + "  ws_send_queue: 16\n");
  ASSERT_TRUE(d.running()) << d.start_error();
  HttpClient c(d.port());
  std::string head = LoginAs(c, "han_xue");    // head of research: gets every task
  std::string clerk = LoginAs(c, "feng_tao");  // research staff: submits
  ASSERT_FALSE(head.empty());
  ASSERT_FALSE(clerk.empty());

  WsTestClient healthy(d.port(), head);
  ASSERT_TRUE(healthy.ok()) << healthy.error();
  ASSERT_TRUE(healthy.ReadType("hello", 10s).has_value());
  RawWs slow(d.port(), head);
  ASSERT_TRUE(slow.ok()) << slow.error();
  std::string hello;
  boost::system::error_code ec;
  ASSERT_TRUE(slow.Read(10s, &hello, &ec)) << ec.message();
  ASSERT_THAT(hello, HasSubstr("\"hello\""));
  // From here on the slow client reads nothing.
  EXPECT_EQ(MetricNow(d.port(), "approvald_open_websockets"), 2);
  int64_t rss_before = d.RssKib();

  // The healthy client reads everything, concurrently.
  std::mutex mu;
  std::set<int64_t> received;
  std::atomic<bool> stop_reader{false};
  std::thread reader([&] {
    while (!stop_reader.load()) {
      auto m = healthy.Read(2s);
      if (!m) {
        if (!healthy.ok()) return;  // a timed-out read leaves the stream unusable
        continue;
      }
      if (m->is_object() && m->as_object().contains("type") &&
          m->at("type").is_string() && m->at("type").as_string() == "task") {
        std::lock_guard l(mu);
        received.insert(m->at("instance").at("id").as_int64());
      }
    }
  });

  std::mutex sub_mu;
  std::set<int64_t> submitted;
  auto submit = [&](HttpClient& client, const std::string& invoice) {
    // 办公费: needs no documents, so it goes to the department head's review.
    std::string body = ExpenseJson(invoice);
    body.replace(body.find("\"travel\""), 8, "\"office\"");
    Reply r = client.Send(http::verb::post, "/api/v1/instances", body,
                          {{"Authorization", Bearer(clerk)}});
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return false;
    std::lock_guard l(sub_mu);
    submitted.insert(r.Json().at("id").as_int64());
    return true;
  };
  // Two submitters until the slow client is dropped, or a cap far above the
  // queue (16) plus what the socket buffers hold (the server bounds its
  // WebSocket send buffer to 64 KiB; about 100 tasks).
  constexpr int kCap = 2000;
  std::atomic<int> n{0};
  std::atomic<bool> dropped{false};
  std::vector<std::thread> submitters;
  for (int t = 0; t < 2; ++t) {
    submitters.emplace_back([&, t] {
      HttpClient own(d.port());
      while (!dropped.load() && n.load() < kCap) {
        if (!submit(own, "SLOW-" + std::to_string(t) + "-" + std::to_string(n++))) return;
      }
    });
  }
  auto deadline = std::chrono::steady_clock::now() + 25s;
  while (!dropped.load() && n.load() < kCap &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    dropped =
        MetricNow(d.port(), "approvald_websocket_slow_consumers_dropped_total") >= 1;
  }
  dropped = true;  // stop the submitters either way
  for (auto& t : submitters) t.join();
  int64_t rss_after = d.RssKib();
  ASSERT_EQ(MetricNow(d.port(), "approvald_websocket_slow_consumers_dropped_total"), 1)
      << "the slow consumer was not disconnected after " << n.load() << " pushed tasks";
  EXPECT_EQ(MetricNow(d.port(), "approvald_open_websockets"), 1);
  std::printf("[ slow ws  ] dropped after %d tasks; rss %lld -> %lld KiB\n", n.load(),
              static_cast<long long>(rss_before), static_cast<long long>(rss_after));
  // A bounded queue: the daemon did not keep what the client did not read.
  EXPECT_LT(rss_after - rss_before, 64 * 1024);

  // The slow client finds its connection closed after what was in flight.
  std::string text;
  int drained = 0;
  while (slow.Read(10s, &text, &ec)) ++drained;
  EXPECT_NE(ec, boost::asio::error::would_block)
      << "still open after " << drained << " messages";
  EXPECT_NE(ec, boost::asio::error::try_again);

  // The healthy client got a task for every submission, and still does.
  ASSERT_TRUE(submit(c, "SLOW-AFTER"));
  auto until = std::chrono::steady_clock::now() + 20s;
  for (;;) {
    {
      std::lock_guard l(mu), l2(sub_mu);
      if (received == submitted || std::chrono::steady_clock::now() > until) {
        EXPECT_EQ(received.size(), submitted.size());
        EXPECT_TRUE(received == submitted);
        break;
      }
    }
    std::this_thread::sleep_for(50ms);
  }
  // Stopping the daemon closes the healthy client (a close frame), which
  // ends the reader's blocking read.
  stop_reader = true;
  EXPECT_EQ(d.Stop(SIGTERM), 0) << d.StderrTail();
  reader.join();
  fs::remove_all(dir);
}

// ---------------------------------------------------------------------------
// Logs never hold passwords or tokens.

class LogSecretsTest : public ::testing::TestWithParam<const char*> {};

TEST_P(LogSecretsTest, NoPasswordOrTokenInTheLog) {
  const std::string format = GetParam();
  std::string dir = TempDir("approvald_logs");
  std::string data = dir + "/data";
  const std::string password = "Keeper-Secret-7Qx9";
  const std::string wrong = "Wrong-Guess-Zt4k";
  const std::string forged = "forged-token-Hm2pLw8rVs";
  std::string cli_out, out;
  ASSERT_EQ(RunCommand(std::string(APPROVALD_BINARY) +
                           " user add keeper --role admin --data-dir " + data +
                           " --org " APPROVAL_SOURCE_DIR "/config/org.yaml",
                       &out),
            0)
      << out;
  cli_out += out;
  ASSERT_EQ(RunCommand("printf '" + password + "\\n' | " + APPROVALD_BINARY +
                           " user set-password keeper --data-dir " + data,
                       &out),
            0)
      << out;
  cli_out += out;
  EXPECT_THAT(cli_out, ::testing::Not(HasSubstr(password)));

  DaemonOptions opts;
  opts.log_level = "debug";
  opts.log_format = format;
  Daemon d(data, kNoRateLimit, opts);
  ASSERT_TRUE(d.running()) << d.start_error();
  HttpClient c(d.port());
  EXPECT_EQ(LoginAs(c, "keeper", wrong), "");          // a failed login
  EXPECT_EQ(LoginAs(c, "nobody_here", wrong), "");     // an unknown user
  std::string token = LoginAs(c, "keeper", password);  // a good one
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(c.Send(http::verb::get, "/api/v1/me", "", {{"Authorization", Bearer(token)}})
                .status,
            200);
  EXPECT_EQ(
      c.Send(http::verb::get, "/api/v1/tasks", "", {{"Authorization", Bearer(forged)}})
          .status,
      401);
  // WebSocket upgrades with the token in the query, good and forged.
  {
    RawWs ws(d.port(), token);
    ASSERT_TRUE(ws.ok()) << ws.error();
    std::string hello;
    boost::system::error_code ec;
    EXPECT_TRUE(ws.Read(10s, &hello, &ec)) << ec.message();
    RawWs bad(d.port(), forged);
    EXPECT_FALSE(bad.ok());
  }
  EXPECT_EQ(c.Send(http::verb::post, "/api/v1/auth/logout", "",
                   {{"Authorization", Bearer(token)}})
                    .status /
                100,
            2);
  c.Close();
  ASSERT_EQ(d.Stop(SIGTERM), 0);
  std::string log = ReadFile(data + ".stderr");

  // The log is not empty: it has the request lines the secrets would be in.
  ASSERT_THAT(log, HasSubstr("/api/v1/auth/login"));
  ASSERT_THAT(log, HasSubstr("/api/v1/ws"));
  std::string hash = Sha256Hex(token);
  for (const std::string& secret : {password, wrong, forged, token, token.substr(0, 12),
                                    hash, hash.substr(0, 16), Sha256Hex(forged)}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << "the log holds '" << secret << "'";
  }

  std::istringstream lines(log);
  std::string line;
  int requests = 0;
  bool saw_me = false, saw_ws = false, saw_failed_login = false;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    std::map<std::string, std::string> f;
    if (format == "json") {
      boost::system::error_code pe;
      json::value v = json::parse(line, pe);
      ASSERT_FALSE(pe) << "not JSON: " << line;
      ASSERT_TRUE(v.is_object()) << line;
      for (const char* key : {"time", "level", "logger", "msg"}) {
        ASSERT_TRUE(v.as_object().contains(key)) << key << " missing: " << line;
      }
      for (const auto& [k, val] : v.as_object()) {
        if (val.is_string()) f[std::string(k)] = std::string(val.as_string());
      }
      if (f["msg"].rfind("request req=", 0) != 0) continue;
    } else {
      auto at = line.find(" api: request req=");
      if (at == std::string::npos) continue;
      // key=value words after "api: "; values hold no spaces.
      std::istringstream words(line.substr(at));
      for (std::string w; words >> w;) {
        auto eq = w.find('=');
        if (eq == std::string::npos || eq == 0) continue;
        std::string key = w.substr(0, eq);
        if (key.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos)
          f[key] = w.substr(eq + 1);
      }
    }
    ++requests;
    // One line per request: request id, user, route, status, duration.
    for (const char* key : {"req", "user", "route", "status", "ms"}) {
      EXPECT_FALSE(f[key].empty()) << key << " missing: " << line;
    }
    EXPECT_NO_THROW((void)std::stod(f["ms"])) << line;
    saw_me |= f["route"] == "/api/v1/me" && f["user"] == "keeper" && f["status"] == "200";
    saw_ws |= f["route"] == "/api/v1/ws" && f["user"] == "keeper" && f["status"] == "101";
    saw_failed_login |= f["route"] == "/api/v1/auth/login" && f["status"] == "401";
  }
  EXPECT_GE(requests, 7);
  EXPECT_TRUE(saw_me);
  EXPECT_TRUE(saw_ws);
  EXPECT_TRUE(saw_failed_login);
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(TextAndJson, LogSecretsTest, ::testing::Values("text", "json"));

// ---------------------------------------------------------------------------
// The connection limit, end to end.

// True if the server closes a fresh connection (without a request) within `wait`.
bool RefusedAtAccept(uint16_t port, std::chrono::milliseconds wait) {
  HttpClient probe(port, 5s);
  return probe.ClosedByServer(wait);
}

TEST(ConnectionLimitTest, TheConnectionPastTheLimitIsClosedAndAFreedSlotIsReused) {
  std::string dir = TempDir("approvald_maxconn");
  constexpr int kMax = 3;
  Daemon d(dir + "/data", "limits:\n  max_connections: " + std::to_string(kMax) + "\n");
  ASSERT_TRUE(d.running()) << d.start_error();
  // kMax keep-alive connections, each served once and held open.
  std::vector<std::unique_ptr<HttpClient>> held;
  for (int i = 0; i < kMax; ++i) {
    held.push_back(std::make_unique<HttpClient>(d.port(), 5s));
    ASSERT_EQ(held.back()->Send(http::verb::get, "/healthz").status, 200) << i;
  }
  // The next one is closed at once, without an answer.
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(RefusedAtAccept(d.port(), 3s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  HttpClient extra(d.port(), 5s);
  EXPECT_EQ(extra.Send(http::verb::get, "/healthz").status, 0);
  // The held ones are still served.
  for (auto& h : held) EXPECT_EQ(h->Send(http::verb::get, "/healthz").status, 200);
  // Closing one frees its slot for a newcomer (once the server saw the close).
  held.back()->Close();
  held.pop_back();
  Reply served;
  for (auto until = std::chrono::steady_clock::now() + 5s;
       served.status != 200 && std::chrono::steady_clock::now() < until;) {
    HttpClient fresh(d.port(), 5s);
    served = fresh.Send(http::verb::get, "/metrics");
    if (served.status != 200) std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(served.status, 200);
  EXPECT_GE(Metric(served.body, "approvald_connections_refused_total"), 2);
  EXPECT_EQ(Metric(served.body, "approvald_open_connections"), kMax);
  EXPECT_EQ(d.Stop(SIGTERM), 0);
  fs::remove_all(dir);
}

// ---------------------------------------------------------------------------
// `make run`: scripts/run-demo.sh and the daemon's demo switch.

// The build directory run-demo.sh takes (where the approvald binary is).
std::string BuildDir() { return fs::path(APPROVALD_BINARY).parent_path().string(); }

// The command `make run` runs (scripts/run-demo.sh BUILD_DIR), with the listen
// address and data directory the script takes from its environment.
std::string DemoScript(const std::string& listen, const std::string& data_dir) {
  return "env APPROVALD_LISTEN='" + listen + "' APPROVALD_DATA_DIR='" + data_dir +
         "' bash " APPROVAL_SOURCE_DIR "/scripts/run-demo.sh '" + BuildDir() + "'";
}

// Demo mode on an address other people can reach is refused before anything
// is created (no data, no logins with the known password): by the script,
// which then prints no login hint, and by the daemon itself when called with
// the flags the script uses.
TEST(DemoModeTest, RefusesToListenBeyondLoopback) {
  std::string dir = TempDir("approvald_demo_refused");
  std::string data = dir + "/data";
  for (const char* listen : {"0.0.0.0:0", "[::]:0", "192.0.2.10:0", "127.0.0.1.5:0"}) {
    std::string out;
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(RunCommand("timeout 20 " + DemoScript(listen, data), &out), 2)
        << listen << out;
    EXPECT_THAT(out, HasSubstr("loopback"));
    EXPECT_THAT(out, HasSubstr(std::string("listen=") + listen));
    EXPECT_THAT(out, ::testing::Not(HasSubstr("password:")));  // no login hint
    EXPECT_THAT(out, ::testing::Not(HasSubstr("listening on")));

    EXPECT_EQ(
        RunCommand("timeout 20 " + std::string(APPROVALD_BINARY) + " serve --listen '" +
                       listen + "' --data-dir " + data + " --demo",
                   &out),
        2)
        << listen << out;
    EXPECT_THAT(out, HasSubstr("demo mode"));
    EXPECT_THAT(out, HasSubstr("loopback"));
    EXPECT_THAT(out, HasSubstr(std::string("listen=") + listen));
    EXPECT_THAT(out, ::testing::Not(HasSubstr("listening on")));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 15s);
    EXPECT_FALSE(fs::exists(data + "/approvald.db")) << listen;
  }
  // The same through the configuration file's `demo: true`.
  std::string cfg = dir + "/demo.yaml";
  std::ofstream(cfg) << "listen: \"0.0.0.0:0\"\ndemo: true\ndata_dir: \"" << dir
                     << "/data2\"\n";
  std::string out;
  EXPECT_EQ(RunCommand(std::string(APPROVALD_BINARY) + " serve --config " + cfg, &out), 2)
      << out;
  EXPECT_THAT(out, HasSubstr("loopback"));
  EXPECT_FALSE(fs::exists(dir + "/data2/approvald.db"));
  fs::remove_all(dir);
}

// The test client gives up on a server that accepts and never answers, after
// its timeout: a hung daemon fails a test instead of stalling the suite.
TEST(TestClientTest, GivesUpOnASilentServer) {
  boost::asio::io_context ioc;
  tcp::acceptor silent(ioc, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  HttpClient c(silent.local_endpoint().port(), 300ms);
  auto t0 = std::chrono::steady_clock::now();
  Reply r = c.Send(http::verb::get, "/healthz");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.error, HasSubstr("timed out"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
}

// The known demo password does not outlive demo mode: a start without it
// removes that password from every login demo mode gave it (their sessions
// end too), keeps a password set since, and says so in the log. A later
// demo start gives the known password back.
TEST(DemoModeTest, KnownPasswordEndsWhenTheDaemonStartsWithoutDemoMode) {
  std::string dir = TempDir("approvald_demo_retired");
  std::string data = dir + "/data";
  const std::string own = "Own-Secret-8Kd2";
  std::string old_token;
  {
    Daemon demo(data, kNoRateLimit);
    ASSERT_TRUE(demo.running()) << demo.start_error();
    HttpClient c(demo.port());
    old_token = LoginAs(c, "zhang_min");
    ASSERT_FALSE(old_token.empty());
    ASSERT_FALSE(LoginAs(c, "admin").empty());
    EXPECT_EQ(demo.Stop(SIGTERM), 0);
  }
  ASSERT_TRUE(fs::exists(data + "/demo-logins"));
  std::string out;
  ASSERT_EQ(RunCommand("printf '" + own + "\\n' | " + APPROVALD_BINARY +
                           " user set-password lin_xiaoyan --data-dir " + data,
                       &out),
            0)
      << out;

  DaemonOptions plain;
  plain.demo = false;
  {
    Daemon d(data, kNoRateLimit, plain);
    ASSERT_TRUE(d.running()) << d.start_error();
    HttpClient c(d.port());
    EXPECT_EQ(LoginAs(c, "zhang_min"), "");  // the demo password is gone
    EXPECT_EQ(LoginAs(c, "admin"), "");
    EXPECT_FALSE(LoginAs(c, "lin_xiaoyan", own).empty());  // set since: kept
    EXPECT_EQ(c.Send(http::verb::get, "/api/v1/me", "", {{"Authorization", Bearer(old_token)}})
                  .status,
              401);  // and the demo session ended
    EXPECT_THAT(d.StderrTail(), HasSubstr("demo password removed"));
    EXPECT_THAT(d.StderrTail(), HasSubstr("zhang_min"));
    EXPECT_FALSE(fs::exists(data + "/demo-logins"));
    EXPECT_EQ(d.Stop(SIGTERM), 0);
  }
  {
    Daemon demo(data, kNoRateLimit);
    ASSERT_TRUE(demo.running()) << demo.start_error();
    HttpClient c(demo.port());
    EXPECT_FALSE(LoginAs(c, "zhang_min").empty());
    EXPECT_FALSE(LoginAs(c, "lin_xiaoyan", own).empty());
    EXPECT_EQ(demo.Stop(SIGTERM), 0);
  }
  fs::remove_all(dir);
}

// On loopback the script starts the daemon in demo mode; the login hint it
// prints (users, password, the curl line) works, and the roles it names are
// the roles the daemon gave.
TEST(DemoModeTest, ScriptOnLoopbackPrintsALoginHintThatWorks) {
  std::string dir = TempDir("approvald_demo");
  std::string data = dir + "/data";
  int out_pipe[2];
  ASSERT_EQ(pipe(out_pipe), 0);
  std::string cmd = DemoScript("127.0.0.1:0", data);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(out_pipe[1], STDERR_FILENO);
    close(out_pipe[0]);
    close(out_pipe[1]);
    execl("/bin/bash", "bash", "-c", ("exec " + cmd).c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out_pipe[1]);
  FILE* f = fdopen(out_pipe[0], "r");
  std::string printed;
  uint16_t port = 0;
  char buf[1024];
  while (port == 0 && fgets(buf, sizeof buf, f)) {
    std::string s(buf);
    printed += s;
    if (auto at = s.find("listening on http://127.0.0.1:"); at != std::string::npos) {
      port = static_cast<uint16_t>(std::atoi(s.c_str() + at + 30));
    }
  }
  std::thread drain([f] {
    char b[1024];
    while (fgets(b, sizeof b, f)) {
    }
    fclose(f);
  });
  auto stop = [&] {
    kill(pid, SIGTERM);  // the script exec'd the daemon: this is the daemon
    int status = 0;
    waitpid(pid, &status, 0);
    drain.join();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  if (port == 0) {
    stop();
    FAIL() << "the demo did not start:\n" << printed;
  }

  // The password the script prints is the one the daemon announces.
  // (No std::regex: g++ 12 warns falsely inside <regex> under -O1 + ASan.)
  std::string hinted = WordAfter(printed, "password:");
  ASSERT_FALSE(hinted.empty()) << printed;
  EXPECT_EQ(hinted, Between(printed, "every login below has the password \"", "\"")) << printed;

  HttpClient c(port);
  // The curl line of the hint, as printed.
  std::string body = Between(printed, "-d '", "'");
  ASSERT_TRUE(body.size() > 2 && body.front() == '{' && body.back() == '}') << printed;
  Reply tried = c.Send(http::verb::post, "/api/v1/auth/login", body);
  EXPECT_EQ(tried.status, 200) << tried.body;
  // The users the hint names exist with the roles it says.
  std::map<std::string, std::string> roles = {{"zhang_min", "user"},
                                              {"lin_xiaoyan", "user"},
                                              {"zheng_li", "user"},
                                              {"qian_weidong", "auditor"},
                                              {"admin", "admin"}};
  for (const auto& [user, role] : roles) {
    EXPECT_THAT(printed, HasSubstr(user));
    Reply r = c.Send(http::verb::post, "/api/v1/auth/login",
                     R"({"username":")" + user + R"(","password":")" + hinted + R"("})");
    ASSERT_EQ(r.status, 200) << user << ": " << r.body;
    EXPECT_EQ(r.Json().at("user").at("role").as_string(), role) << user;
  }
  // lin_xiaoyan and zheng_li are the department heads the hint says.
  std::string org = ReadFile(APPROVAL_SOURCE_DIR "/config/org.yaml");
  EXPECT_THAT(org, HasSubstr("head: lin_xiaoyan"));
  EXPECT_THAT(org, HasSubstr("head: zheng_li"));
  c.Close();
  EXPECT_EQ(stop(), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace approvald::systest
