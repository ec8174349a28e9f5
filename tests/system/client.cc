#include "tests/system/client.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace approvald::systest {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace fs = std::filesystem;

json::value Reply::Json() const {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  return ec ? json::value(nullptr) : v;
}

std::string Reply::Code() const {
  json::value v = Json();
  if (!v.is_object()) return "";
  const json::value* e = v.as_object().if_contains("error");
  if (!e || !e->is_object()) return "";
  const json::value* c = e->as_object().if_contains("code");
  return c && c->is_string() ? std::string(c->as_string()) : "";
}

// ---- HttpClient ----

HttpClient::HttpClient(uint16_t port, std::chrono::milliseconds timeout)
    : port_(port), timeout_(timeout) {}

bool HttpClient::Connect(std::string* error) {
  socket_.emplace(ioc_);
  tcp::endpoint to(boost::asio::ip::make_address("127.0.0.1"), port_);
  auto ec = RunWithin(ioc_, *socket_, timeout_,
                      [&](auto done) { socket_->async_connect(to, done); });
  if (ec) {
    *error = "connect: " + ec.message();
    socket_.reset();
    return false;
  }
  buffer_.clear();
  return true;
}

void HttpClient::Close() {
  if (socket_) {
    boost::system::error_code ec;
    socket_->close(ec);
    socket_.reset();
  }
}

Reply HttpClient::ReadReply() {
  Reply r;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  auto ec = RunWithin(ioc_, *socket_, timeout_,
                      [&](auto done) { http::async_read(*socket_, buffer_, parser, done); });
  if (ec) {
    r.error = "read: " + ec.message();
    Close();
    return r;
  }
  auto& msg = parser.get();
  r.status = static_cast<int>(msg.result_int());
  for (const auto& f : msg) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(f.value());
  }
  r.body = msg.body();
  if (!msg.keep_alive()) Close();
  return r;
}

Reply HttpClient::Send(http::verb method, const std::string& target, const std::string& body,
                       const std::vector<std::pair<std::string, std::string>>& headers) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::string err;
    if (!socket_ && !Connect(&err)) {
      Reply r;
      r.error = err;
      return r;
    }
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(true);
    bool has_type = false;
    for (const auto& [k, v] : headers) {
      req.set(k, v);
      has_type |= k == "Content-Type";
    }
    if (!body.empty() && !has_type) req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    auto ec = RunWithin(ioc_, *socket_, timeout_,
                        [&](auto done) { http::async_write(*socket_, req, done); });
    if (ec) {
      Close();
      if (attempt == 0) continue;  // a kept-alive connection the server closed
      Reply r;
      r.error = "write: " + ec.message();
      return r;
    }
    Reply r = ReadReply();
    if (r.status == 0 && attempt == 0 && r.error.find("end of stream") != std::string::npos) {
      continue;
    }
    return r;
  }
  return Reply{};
}

Reply HttpClient::SendRaw(const std::string& bytes) {
  std::string err;
  if (!socket_ && !Connect(&err)) {
    Reply r;
    r.error = err;
    return r;
  }
  // The server may answer and close before taking everything: read anyway.
  (void)RunWithin(ioc_, *socket_, timeout_, [&](auto done) {
    boost::asio::async_write(*socket_, boost::asio::buffer(bytes), done);
  });
  return ReadReply();
}

bool HttpClient::ClosedByServer(std::chrono::milliseconds wait) {
  std::string err;
  if (!socket_ && !Connect(&err)) return false;
  char c;
  size_t n = 0;
  auto ec = RunWithin(ioc_, *socket_, wait, [&](auto done) {
    socket_->async_read_some(boost::asio::buffer(&c, 1),
                             [&n, done](boost::system::error_code e, size_t got) {
                               n = got;
                               done(e, got);
                             });
  });
  bool closed = (ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset) &&
                n == 0;
  Close();
  return closed;
}

// ---- WsTestClient ----

WsTestClient::WsTestClient(uint16_t port, const std::string& token) : ws_(ioc_) {
  constexpr std::chrono::seconds kLimit(20);
  tcp::endpoint to(boost::asio::ip::make_address("127.0.0.1"), port);
  auto ec = RunWithin(ioc_, ws_.next_layer(), kLimit,
                      [&](auto done) { ws_.next_layer().async_connect(to, done); });
  if (ec) {
    error_ = "connect: " + ec.message();
    return;
  }
  ws_.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
    req.set(http::field::sec_websocket_protocol, "approvald, " + token);
  }));
  websocket::response_type res;
  ec = RunWithin(ioc_, ws_.next_layer(), kLimit, [&](auto done) {
    ws_.async_handshake(res, "127.0.0.1", "/api/v1/ws", done);
  });
  if (ec) {
    error_ = "handshake: " + ec.message() + " status=" + std::to_string(res.result_int());
    return;
  }
  ok_ = true;
}

void WsTestClient::Write(const std::string& text) {
  ws_.text(true);
  auto ec = RunWithin(ioc_, ws_.next_layer(), std::chrono::seconds(20), [&](auto done) {
    ws_.async_write(boost::asio::buffer(text), done);
  });
  if (ec) ok_ = false;
}

std::optional<json::value> WsTestClient::Read(std::chrono::milliseconds wait) {
  if (!ok_) return std::nullopt;
  auto ec = RunWithin(ioc_, ws_.next_layer(), wait,
                      [&](auto done) { ws_.async_read(buffer_, done); });
  if (ec) {
    ok_ = false;  // a timed-out read leaves the stream unusable
    error_ = ec.message();
    return std::nullopt;
  }
  std::string text = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  boost::system::error_code pe;
  json::value v = json::parse(text, pe);
  if (pe) return json::value(json::string(text));
  return v;
}

std::optional<json::value> WsTestClient::ReadType(const std::string& type,
                                                  std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto m = Read(std::max(left, std::chrono::milliseconds(1)));
    if (!m) return std::nullopt;
    if (m->is_object() && m->as_object().contains("type") && m->at("type").as_string() == type) {
      return m;
    }
  }
  return std::nullopt;
}

// ---- OpenApiChecker ----

OpenApiChecker::OpenApiChecker(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  doc_ = json::parse(ss.str());
}

const json::value& OpenApiChecker::Resolve(const json::value& schema) const {
  const json::value* s = &schema;
  for (int i = 0; i < 8 && s->is_object() && s->as_object().contains("$ref"); ++i) {
    std::string ref(s->at("$ref").as_string());  // "#/components/schemas/X"
    const json::value* cur = &doc_;
    std::stringstream parts(ref.substr(2));
    std::string part;
    while (std::getline(parts, part, '/')) cur = &cur->at(part);
    s = cur;
  }
  return *s;
}

std::string OpenApiChecker::Validate(const json::value& schema_in, const json::value& v,
                                     const std::string& at, int depth) const {
  if (depth > 32) return "";
  const json::value& schema = Resolve(schema_in);
  if (!schema.is_object()) return "";
  const json::object& s = schema.as_object();
  if (const json::value* all = s.if_contains("allOf")) {
    for (const auto& sub : all->as_array()) {
      std::string e = Validate(sub, v, at, depth + 1);
      if (!e.empty()) return e;
    }
  }
  if (const json::value* one = s.if_contains("oneOf")) {
    std::string errors;
    for (const auto& sub : one->as_array()) {
      std::string e = Validate(sub, v, at, depth + 1);
      if (e.empty()) return "";
      errors += " | " + e;
    }
    return at + ": matches no alternative" + errors;
  }
  if (const json::value* type = s.if_contains("type")) {
    std::string t(type->as_string());
    bool ok = (t == "object" && v.is_object()) || (t == "array" && v.is_array()) ||
              (t == "string" && v.is_string()) || (t == "boolean" && v.is_bool()) ||
              (t == "null" && v.is_null()) ||
              (t == "integer" && (v.is_int64() || v.is_uint64())) ||
              (t == "number" && v.is_number());
    if (!ok) return at + ": expected " + t + ", got " + json::serialize(v).substr(0, 80);
    if (t == "string" && s.contains("enum")) {
      bool found = false;
      for (const auto& e : s.at("enum").as_array()) found |= e == v;
      if (!found) return at + ": " + json::serialize(v) + " is not in the enum";
    }
  }
  if (v.is_object()) {
    if (const json::value* req = s.if_contains("required")) {
      for (const auto& name : req->as_array()) {
        if (!v.as_object().contains(name.as_string())) {
          return at + ": required property '" + std::string(name.as_string()) + "' missing";
        }
      }
    }
    if (const json::value* props = s.if_contains("properties")) {
      for (const auto& [k, sub] : props->as_object()) {
        if (const json::value* x = v.as_object().if_contains(k)) {
          std::string e = Validate(sub, *x, at + "." + std::string(k), depth + 1);
          if (!e.empty()) return e;
        }
      }
    }
  }
  if (v.is_array()) {
    if (const json::value* items = s.if_contains("items")) {
      size_t i = 0;
      for (const auto& x : v.as_array()) {
        std::string e = Validate(*items, x, at + "[" + std::to_string(i++) + "]", depth + 1);
        if (!e.empty()) return e;
      }
    }
  }
  return "";
}

std::string OpenApiChecker::Check(const std::string& method_in, const std::string& target,
                                  const Reply& r) const {
  std::string method = method_in;
  for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string path = target.substr(0, target.find('?'));
  std::vector<std::string> segs;
  std::stringstream ss(path);
  std::string seg;
  while (std::getline(ss, seg, '/')) {
    if (!seg.empty()) segs.push_back(seg);
  }
  const json::object& paths = doc_.at("paths").as_object();
  const json::value* op = nullptr;
  std::string templ;
  for (const auto& [p, item] : paths) {
    std::vector<std::string> ts;
    std::stringstream ps{std::string(p)};
    while (std::getline(ps, seg, '/')) {
      if (!seg.empty()) ts.push_back(seg);
    }
    if (ts.size() != segs.size()) continue;
    bool match = true;
    for (size_t i = 0; i < ts.size() && match; ++i) {
      match = ts[i] == segs[i] || (ts[i].front() == '{' && ts[i].back() == '}');
    }
    if (!match) continue;
    if (const json::value* o = item.as_object().if_contains(method)) {
      // Prefer a literal match over a template one.
      if (!op || std::string(p).find('{') == std::string::npos) {
        op = o;
        templ = std::string(p);
      }
    }
  }
  if (!op) return method + " " + path + ": not in the OpenAPI document";
  seen_[method + " " + templ]++;
  std::string status = std::to_string(r.status);
  const json::object& responses = op->at("responses").as_object();
  const json::value* resp = responses.if_contains(status);
  if (!resp) resp = responses.if_contains("default");
  if (!resp) return method + " " + templ + ": status " + status + " is not documented";
  const json::value* content = resp->as_object().if_contains("content");
  if (!content) {
    return r.body.empty() ? "" : method + " " + templ + " " + status + ": body not documented";
  }
  const json::value* js = content->as_object().if_contains("application/json");
  if (!js) return "";
  json::value body = r.Json();
  if (body.is_null()) return method + " " + templ + " " + status + ": body is not JSON";
  std::string e = Validate(js->at("schema"), body, "$", 0);
  return e.empty() ? "" : method + " " + templ + " " + status + ": " + e;
}

// ---- Daemon ----

std::string TempDir(const std::string& prefix) {
  std::random_device rd;
  fs::path p = fs::temp_directory_path() /
               (prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(rd()));
  fs::create_directories(p);
  return p.string();
}

Daemon::Daemon(const std::string& data_dir, const std::string& config_yaml,
               const DaemonOptions& options) {
  fs::path cfg = fs::path(data_dir).parent_path() / (fs::path(data_dir).filename().string() +
                                                     ".yaml");
  {
    std::ofstream out(cfg);
    out << "org_file: \"" APPROVAL_SOURCE_DIR "/config/org.yaml\"\n"
        << "workflows_dir: \"" APPROVAL_SOURCE_DIR "/workflows\"\n"
        << "holidays_file: \"" APPROVAL_SOURCE_DIR "/config/holidays.yaml\"\n"
        << "unit_file: \"" APPROVAL_SOURCE_DIR "/config/unit.yaml\"\n"
        << "procurement_catalogue_file: \"" APPROVAL_SOURCE_DIR
           "/config/procurement-catalogue.yaml\"\n"
        << "log:\n  level: " << options.log_level << "\n  format: " << options.log_format
        << "\n"
        << config_yaml;
  }
  stderr_path_ = (fs::path(data_dir).parent_path() /
                  (fs::path(data_dir).filename().string() + ".stderr"))
                     .string();
  int out_pipe[2];
  if (pipe(out_pipe) != 0) {
    start_error_ = "pipe failed";
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    int err = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err >= 0) dup2(err, STDERR_FILENO);
    close(out_pipe[0]);
    close(out_pipe[1]);
    if (options.file_size_limit > 0) {
      // SIGXFSZ keeps its default action: the daemon itself must ignore it
      // (a write past the limit then fails with EFBIG instead of killing it).
      rlimit rl{};
      getrlimit(RLIMIT_FSIZE, &rl);
      rl.rlim_cur = static_cast<rlim_t>(options.file_size_limit);
      if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max) rl.rlim_cur = rl.rlim_max;
      setrlimit(RLIMIT_FSIZE, &rl);
    }
    execl(APPROVALD_BINARY, APPROVALD_BINARY, "serve", "--config", cfg.c_str(), "--listen",
          "127.0.0.1:0", "--data-dir", data_dir.c_str(), options.demo ? "--demo" : nullptr,
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out_pipe[1]);
  pid_ = pid;
  // Read stdout until the "listening on" line (demo logins come first).
  FILE* f = fdopen(out_pipe[0], "r");
  char line[1024];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline && fgets(line, sizeof line, f)) {
    std::string s(line);
    // "approvald listening on http://127.0.0.1:PORT" (https with TLS)
    auto pos = s.find("listening on ");
    auto host = s.find("://127.0.0.1:");
    if (pos != std::string::npos && host != std::string::npos) {
      port_ = static_cast<uint16_t>(std::atoi(s.c_str() + host + 13));
      break;
    }
  }
  // Keep draining stdout in the background so the child never blocks on it.
  std::thread([f] {
    char buf[1024];
    while (fgets(buf, sizeof buf, f)) {
    }
    fclose(f);
  }).detach();
  if (port_ == 0) {
    start_error_ = "the daemon did not report its port; stderr: " + StderrTail();
    Stop(SIGKILL, std::chrono::seconds(5));
  }
}

Daemon::~Daemon() {
  if (pid_ <= 0) return;
  // A daemon still running at the end of a test must stop cleanly. In the
  // sanitizer build this is also how a leak or an error found at exit reaches
  // the test: LeakSanitizer makes the daemon exit non-zero.
  int code = Stop(SIGTERM);
  if (code != 0) {
    ADD_FAILURE() << "approvald did not exit cleanly on SIGTERM (exit code " << code
                  << "); stderr: " << StderrTail();
  }
}

int Daemon::Stop(int sig, std::chrono::milliseconds wait) {
  if (pid_ <= 0) return -1;
  kill(pid_, sig);
  auto deadline = std::chrono::steady_clock::now() + wait;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

bool Daemon::SetFileSizeLimit(int64_t bytes) {
  if (pid_ <= 0) return false;
  rlimit old{};
  if (prlimit(pid_, RLIMIT_FSIZE, nullptr, &old) != 0) return false;
  rlimit rl = old;
  rl.rlim_cur = bytes <= 0 ? old.rlim_max : static_cast<rlim_t>(bytes);
  return prlimit(pid_, RLIMIT_FSIZE, &rl, nullptr) == 0;
}

int64_t Daemon::RssKib() const {
  if (pid_ <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return -1;
}

std::string Daemon::StderrTail(size_t bytes) const {
  std::ifstream in(stderr_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

}  // namespace approvald::systest
