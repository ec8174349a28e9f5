// api_bench: the HTTP/WebSocket load tool and baseline server behind
// bench/run-api-bench.sh. Not a Google Benchmark binary: it drives a live
// daemon over loopback, the way clients do.
//
//   api_bench baseline PORT BODY_FILE
//       A minimal Beast HTTP/1.1 keep-alive server that answers every request
//       with the bytes of BODY_FILE as JSON: the ceiling a Beast server on
//       this machine reaches, to compare approvald against.
//   api_bench get PORT TARGET TOKEN CONNECTIONS SECONDS
//       GET TARGET on CONNECTIONS keep-alive connections for SECONDS.
//   api_bench getmany PORT PLAN_FILE CONNECTIONS SECONDS
//       The same, rotating over the "target token" lines of PLAN_FILE (each
//       request takes the next line), so that no per-key cache of the server
//       carries the load the way it can when one target is read over and over.
//   api_bench submit PORT TOKENS_FILE COUNT CONNECTIONS OUT_FILE [FIRST]
//       Submits COUNT expense reimbursements (round robin over the clerks'
//       tokens) and writes "id submitter" lines to OUT_FILE. Their invoice
//       numbers are BENCH-FIRST, BENCH-FIRST+1, ... (FIRST defaults to 0): a
//       second batch starts past the first, since an invoice already claimed
//       rejects the request that repeats it.
//   api_bench approve PORT PLAN_FILE CONNECTIONS
//       Sends every "id token node" line of PLAN_FILE as an approve action,
//       as fast as the daemon acknowledges them (each after its durable
//       commit), and reports actions/s and latency percentiles.
//   api_bench ws PORT TOKEN COUNT HOLD_SECONDS
//       Opens COUNT authenticated WebSockets, waits for each one's hello,
//       holds them idle for HOLD_SECONDS, then closes them.
// Every run prints one JSON line of results.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <thread>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// ---- baseline server ----

class BaselineSession : public std::enable_shared_from_this<BaselineSession> {
 public:
  BaselineSession(tcp::socket s, std::shared_ptr<const std::string> body)
      : stream_(std::move(s)), body_(std::move(body)) {}
  void Start() { DoRead(); }

 private:
  void DoRead() {
    req_ = {};
    http::async_read(stream_, buffer_, req_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return;
                       self->Write();
                     });
  }
  void Write() {
    res_ = std::make_shared<http::response<http::string_body>>(http::status::ok, req_.version());
    res_->set(http::field::content_type, "application/json");
    res_->keep_alive(req_.keep_alive());
    res_->body() = *body_;
    res_->prepare_payload();
    http::async_write(stream_, *res_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec || !self->res_->keep_alive()) return;
      self->DoRead();
    });
  }
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  std::shared_ptr<http::response<http::string_body>> res_;
  std::shared_ptr<const std::string> body_;
};

int RunBaseline(uint16_t port, const std::string& body_file) {
  std::ifstream in(body_file);
  std::stringstream ss;
  ss << in.rdbuf();
  auto body = std::make_shared<const std::string>(ss.str());
  net::io_context ioc(1);
  tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  std::function<void()> accept = [&] {
    acceptor.async_accept([&](beast::error_code ec, tcp::socket s) {
      if (!ec) {
        s.set_option(tcp::no_delay(true));
        std::make_shared<BaselineSession>(std::move(s), body)->Start();
      }
      accept();
    });
  };
  accept();
  std::printf("baseline listening on 127.0.0.1:%u\n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int) { ioc.stop(); });
  ioc.run();
  return 0;
}

// ---- load client ----

struct Job {
  http::verb method;
  std::string target;
  std::string token;
  std::string body;
};

struct Stats {
  std::vector<double> latencies_ms;
  int64_t ok = 0;
  int64_t failed = 0;
  std::map<int, int64_t> statuses;
};

// One keep-alive connection sending jobs one after another.
class LoadConn : public std::enable_shared_from_this<LoadConn> {
 public:
  LoadConn(net::io_context& ioc, uint16_t port, std::function<std::optional<Job>()> next,
           Stats& stats, std::function<void(const std::string&)> on_body)
      : stream_(ioc), port_(port), next_(std::move(next)), stats_(stats),
        on_body_(std::move(on_body)) {}
  void Start() {
    stream_.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_),
                          [self = shared_from_this()](beast::error_code ec) {
                            if (ec) {
                              std::fprintf(stderr, "connect: %s\n", ec.message().c_str());
                              return;
                            }
                            self->stream_.socket().set_option(tcp::no_delay(true));
                            self->Send();
                          });
  }

 private:
  void Send() {
    auto job = next_();
    if (!job) return;
    req_ = {job->method, job->target, 11};
    req_.set(http::field::host, "127.0.0.1");
    if (!job->token.empty()) req_.set(http::field::authorization, "Bearer " + job->token);
    if (!job->body.empty()) req_.set(http::field::content_type, "application/json");
    req_.body() = std::move(job->body);
    req_.keep_alive(true);
    req_.prepare_payload();
    start_ = Clock::now();
    http::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Fail(ec);
      self->res_ = {};
      http::async_read(self->stream_, self->buffer_, self->res_,
                       [self](beast::error_code ec2, size_t) {
                         if (ec2) return self->Fail(ec2);
                         double ms = std::chrono::duration<double, std::milli>(Clock::now() -
                                                                               self->start_)
                                         .count();
                         int status = static_cast<int>(self->res_.result_int());
                         self->stats_.statuses[status]++;
                         if (status / 100 == 2) {
                           self->stats_.ok++;
                           self->stats_.latencies_ms.push_back(ms);
                           if (self->on_body_) self->on_body_(self->res_.body());
                         } else {
                           self->stats_.failed++;
                           if (self->stats_.failed <= 3) {
                             std::fprintf(stderr, "status %d: %s\n", status,
                                          self->res_.body().substr(0, 200).c_str());
                           }
                         }
                         self->Send();
                       });
    });
  }
  void Fail(beast::error_code ec) {
    stats_.failed++;
    std::fprintf(stderr, "connection error: %s\n", ec.message().c_str());
  }

  beast::tcp_stream stream_;
  uint16_t port_;
  std::function<std::optional<Job>()> next_;
  Stats& stats_;
  std::function<void(const std::string&)> on_body_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  Clock::time_point start_;
};

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

void Report(const std::string& what, Stats& s, double seconds, int connections) {
  double rps = static_cast<double>(s.ok) / seconds;
  double p50 = Percentile(s.latencies_ms, 0.50);
  double p99 = Percentile(s.latencies_ms, 0.99);
  double mx = s.latencies_ms.empty() ? 0 : *std::max_element(s.latencies_ms.begin(), s.latencies_ms.end());
  std::printf("{\"bench\":\"%s\",\"connections\":%d,\"seconds\":%.2f,\"ok\":%lld,\"failed\":%lld,"
              "\"per_second\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
              what.c_str(), connections, seconds, static_cast<long long>(s.ok),
              static_cast<long long>(s.failed), rps, p50, p99, mx);
  std::fflush(stdout);
}

// Runs `connections` connections pulling jobs from `next` until it returns
// nullopt; returns the elapsed seconds.
double Drive(uint16_t port, int connections, const std::function<std::optional<Job>()>& next,
             Stats& stats, std::function<void(const std::string&)> on_body = nullptr) {
  net::io_context ioc(1);
  for (int i = 0; i < connections; ++i) {
    std::make_shared<LoadConn>(ioc, port, next, stats, on_body)->Start();
  }
  auto start = Clock::now();
  ioc.run();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int RunGet(uint16_t port, const std::string& target, const std::string& token, int connections,
           double seconds) {
  Stats stats;
  auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(seconds));
  double took = Drive(port, connections, [&]() -> std::optional<Job> {
    if (Clock::now() >= end) return std::nullopt;
    return Job{http::verb::get, target, token == "-" ? "" : token, ""};
  }, stats);
  Report("get " + target, stats, took, connections);
  return stats.failed == 0 ? 0 : 1;
}

std::vector<std::string> Lines(const std::string& path);

int RunGetMany(uint16_t port, const std::string& plan_file, int connections, double seconds) {
  std::vector<std::pair<std::string, std::string>> plan;  // target, token
  for (const auto& l : Lines(plan_file)) {
    std::istringstream in(l);
    std::string target, token;
    in >> target >> token;
    if (!target.empty()) plan.emplace_back(target, token.empty() ? "-" : token);
  }
  if (plan.empty()) throw std::runtime_error(plan_file + ": no \"target token\" lines");
  Stats stats;
  size_t next_line = 0;
  auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(seconds));
  double took = Drive(port, connections, [&]() -> std::optional<Job> {
    if (Clock::now() >= end) return std::nullopt;
    const auto& [target, token] = plan[next_line++ % plan.size()];
    return Job{http::verb::get, target, token == "-" ? "" : token, ""};
  }, stats);
  Report("get many /api/v1/instances/{id} (" + std::to_string(plan.size()) + " targets)", stats,
         took, connections);
  return stats.failed == 0 ? 0 : 1;
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

int RunSubmit(uint16_t port, const std::string& tokens_file, int count, int connections,
              const std::string& out_file, int first_invoice) {
  // Lines: "person token".
  std::vector<std::pair<std::string, std::string>> clerks;
  for (const auto& l : Lines(tokens_file)) {
    auto sp = l.find(' ');
    clerks.emplace_back(l.substr(0, sp), l.substr(sp + 1));
  }
  std::ofstream out(out_file);
  Stats stats;
  int issued = 0;
  std::deque<std::string> submitters;  // in the order requests were issued per connection
  double took = Drive(
      port, connections,
      [&]() -> std::optional<Job> {
        if (issued >= count) return std::nullopt;
        int n = issued++;
        const auto& [person, token] = clerks[static_cast<size_t>(n) % clerks.size()];
        std::string inv = "BENCH-" + std::to_string(first_invoice + n);
        return Job{http::verb::post, "/api/v1/instances", token,
                   R"({"workflow":"expense","data":{"purpose":"bench","category":"office",)"
                   R"("amount":35600,"spent_on":"2025-11-20","invoices":[{"number":")" + inv +
                       R"(","amount":35600}]}})"};
      },
      stats,
      [&](const std::string& body) {
        // {"id":N,...,"submitter":{"id":"p",...
        auto id_pos = body.find("\"id\":");
        auto sub_pos = body.find("\"submitter\":{\"id\":\"");
        if (id_pos == std::string::npos || sub_pos == std::string::npos) return;
        long long id = std::atoll(body.c_str() + id_pos + 5);
        auto start = sub_pos + 19;
        out << id << " " << body.substr(start, body.find('"', start) - start) << "\n";
      });
  Report("submit", stats, took, connections);
  return stats.failed == 0 ? 0 : 1;
}

int RunApprove(uint16_t port, const std::string& plan_file, int connections) {
  // Lines: "id token node [comment]".
  std::vector<Job> jobs;
  for (const auto& l : Lines(plan_file)) {
    std::istringstream in(l);
    std::string id, token, node;
    in >> id >> token >> node;
    jobs.push_back(Job{http::verb::post, "/api/v1/instances/" + id + "/actions", token,
                       R"({"action":"approve","node":")" + node + R"(","comment":"同意"})"});
  }
  Stats stats;
  size_t next = 0;
  double took = Drive(port, connections, [&]() -> std::optional<Job> {
    if (next >= jobs.size()) return std::nullopt;
    return std::move(jobs[next++]);
  }, stats);
  Report("approve", stats, took, connections);
  return stats.failed == 0 ? 0 : 1;
}

// ---- idle WebSockets ----

class WsConn : public std::enable_shared_from_this<WsConn> {
 public:
  WsConn(net::io_context& ioc, uint16_t port, std::string token, std::atomic<int>& ready,
         std::atomic<int>& failed)
      : ws_(ioc), port_(port), token_(std::move(token)), ready_(ready), failed_(failed) {}
  void Start() {
    beast::get_lowest_layer(ws_).async_connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), port_),
        [self = shared_from_this()](beast::error_code ec) {
          if (ec) return self->Fail("connect", ec);
          self->ws_.set_option(websocket::stream_base::decorator(
              [t = self->token_](websocket::request_type& r) {
                r.set(http::field::sec_websocket_protocol, "approvald, " + t);
              }));
          self->ws_.async_handshake("127.0.0.1", "/api/v1/ws", [self](beast::error_code ec2) {
            if (ec2) return self->Fail("handshake", ec2);
            self->ws_.async_read(self->buffer_, [self](beast::error_code ec3, size_t) {
              if (ec3) return self->Fail("hello", ec3);
              self->buffer_.consume(self->buffer_.size());
              self->ready_++;
              self->ReadMore();
            });
          });
        });
  }
  void Close() {
    ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code) {});
  }

 private:
  void ReadMore() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;
      self->buffer_.consume(self->buffer_.size());
      self->ReadMore();
    });
  }
  void Fail(const char* what, beast::error_code ec) {
    if (failed_++ < 3) std::fprintf(stderr, "ws %s: %s\n", what, ec.message().c_str());
  }
  websocket::stream<beast::tcp_stream> ws_;
  uint16_t port_;
  std::string token_;
  std::atomic<int>& ready_;
  std::atomic<int>& failed_;
  beast::flat_buffer buffer_;
};

int RunWs(uint16_t port, const std::string& token, int count, double hold_seconds) {
  net::io_context ioc(1);
  std::atomic<int> ready{0}, failed{0};
  std::vector<std::shared_ptr<WsConn>> conns;
  auto start = Clock::now();
  // Open in batches so the accept queue is never flooded.
  int opened = 0;
  net::steady_timer timer(ioc);
  std::function<void()> open_batch = [&] {
    for (int i = 0; i < 200 && opened < count; ++i, ++opened) {
      conns.push_back(std::make_shared<WsConn>(ioc, port, token, ready, failed));
      conns.back()->Start();
    }
    if (opened < count) {
      timer.expires_after(std::chrono::milliseconds(20));
      timer.async_wait([&](beast::error_code) { open_batch(); });
    }
  };
  open_batch();
  std::thread watcher([&] {
    while (ready.load() + failed.load() < count &&
           Clock::now() - start < std::chrono::seconds(120)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    double took = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("{\"bench\":\"ws_open\",\"ready\":%d,\"failed\":%d,\"seconds\":%.2f}\n",
                ready.load(), failed.load(), took);
    std::printf("ws holding %d connections\n", ready.load());
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::duration<double>(hold_seconds));
    net::post(ioc, [&] {
      for (auto& c : conns) c->Close();
    });
    std::this_thread::sleep_for(std::chrono::seconds(2));
    ioc.stop();
  });
  auto guard = net::make_work_guard(ioc);
  ioc.run();
  watcher.join();
  return failed.load() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  auto usage = [] {
    std::fprintf(stderr, "usage: see the top of bench/api_bench.cc\n");
    return 2;
  };
  if (a.empty()) return usage();
  auto port = [&](size_t i) { return static_cast<uint16_t>(std::stoi(a.at(i))); };
  try {
    if (a[0] == "baseline" && a.size() == 3) return RunBaseline(port(1), a[2]);
    if (a[0] == "get" && a.size() == 6) {
      return RunGet(port(1), a[2], a[3], std::stoi(a[4]), std::stod(a[5]));
    }
    if (a[0] == "getmany" && a.size() == 5) {
      return RunGetMany(port(1), a[2], std::stoi(a[3]), std::stod(a[4]));
    }
    if (a[0] == "submit" && (a.size() == 6 || a.size() == 7)) {
      return RunSubmit(port(1), a[2], std::stoi(a[3]), std::stoi(a[4]), a[5],
                       a.size() == 7 ? std::stoi(a[6]) : 0);
    }
    if (a[0] == "approve" && a.size() == 4) return RunApprove(port(1), a[2], std::stoi(a[3]));
    if (a[0] == "ws" && a.size() == 5) {
      return RunWs(port(1), a[2], std::stoi(a[3]), std::stod(a[4]));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "api_bench: %s\n", e.what());
    return 1;
  }
  return usage();
}
