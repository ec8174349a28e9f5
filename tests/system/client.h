// Test helpers for the system tests: a synchronous Beast HTTP/WebSocket
// client, a running `approvald serve` child process, and a checker that
// matches responses against api/openapi.json. Blocking, with socket
// timeouts, so a hung server fails a test instead of hanging it.
#ifndef APPROVALD_TESTS_SYSTEM_CLIENT_H_
#define APPROVALD_TESTS_SYSTEM_CLIENT_H_

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace approvald::systest {

namespace http = boost::beast::http;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;

// Runs the asynchronous operation `start` begins on `ioc` for at most
// `limit`. If it has not completed by then, cancels the operations on `sock`
// (which completes it with operation_aborted) and reports timed_out. The
// blocking calls cannot be bounded this way: Asio retries a receive that a
// socket timeout (SO_RCVTIMEO) interrupted and waits again, for ever.
template <class Socket, class Start>
inline boost::system::error_code RunWithin(boost::asio::io_context& ioc, Socket& sock,
                                    std::chrono::milliseconds limit, Start&& start) {
  std::optional<boost::system::error_code> result;
  start([&result](boost::system::error_code ec, std::size_t = 0) { result = ec; });
  ioc.restart();
  ioc.run_for(limit);
  if (!result) {
    boost::system::error_code ignored;
    sock.cancel(ignored);
    ioc.restart();
    ioc.run();
    return boost::asio::error::timed_out;
  }
  return *result;
}

struct Reply {
  int status = 0;                 // 0: the connection failed or closed
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string error;              // transport error, when status == 0
  json::value Json() const;       // parsed body (null if not JSON)
  std::string Code() const;       // error.code of an error body, or ""
};

// One keep-alive HTTP/1.1 connection to 127.0.0.1:port; reconnects when the
// server closed it.
class HttpClient {
 public:
  explicit HttpClient(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  Reply Send(http::verb method, const std::string& target, const std::string& body = "",
             const std::vector<std::pair<std::string, std::string>>& headers = {});
  // Writes raw bytes (nothing added) and reads one response.
  Reply SendRaw(const std::string& bytes);
  // True if the server closed the connection (read returns EOF) within `wait`.
  bool ClosedByServer(std::chrono::milliseconds wait);
  void Close();

 private:
  bool Connect(std::string* error);
  Reply ReadReply();

  uint16_t port_;
  std::chrono::milliseconds timeout_;
  boost::asio::io_context ioc_;
  std::optional<tcp::socket> socket_;
  boost::beast::flat_buffer buffer_;
};

// A WebSocket client authenticated with a token (Sec-WebSocket-Protocol).
class WsTestClient {
 public:
  WsTestClient(uint16_t port, const std::string& token);
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  void Write(const std::string& text);
  // The next message, or nullopt after `wait` / on close.
  std::optional<json::value> Read(std::chrono::milliseconds wait);
  // Reads until a message with "type" == type arrives (others are skipped).
  std::optional<json::value> ReadType(const std::string& type, std::chrono::milliseconds wait);

 private:
  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<tcp::socket> ws_;
  boost::beast::flat_buffer buffer_;
  bool ok_ = false;
  std::string error_;
};

// Matches responses against the OpenAPI document: the status code must be
// documented for the operation, and a JSON body must have the documented
// types and required properties (following $ref, allOf and oneOf).
class OpenApiChecker {
 public:
  explicit OpenApiChecker(const std::string& path);
  // "" if the response conforms, else what does not.
  std::string Check(const std::string& method, const std::string& target, const Reply& r) const;
  // Routes (method + template) seen by Check so far.
  const std::map<std::string, int>& seen() const { return seen_; }

 private:
  std::string Validate(const json::value& schema, const json::value& v, const std::string& at,
                       int depth) const;
  const json::value& Resolve(const json::value& schema) const;

  json::value doc_;
  mutable std::map<std::string, int> seen_;
};

// How the daemon child process is started, beyond its configuration.
struct DaemonOptions {
  // > 0: RLIMIT_FSIZE (soft limit, bytes) of the child, so no file it
  // writes can grow past this size: a full disk. The hard limit stays, so
  // SetFileSizeLimit can raise it again ("space returns").
  int64_t file_size_limit = 0;
  // log.level and log.format of the child (its log goes to StderrTail).
  std::string log_level = "warn";
  std::string log_format = "text";
  // false: started without --demo (no demo logins are made or refreshed).
  bool demo = true;
};

// `approvald serve` as a child process on 127.0.0.1 with an ephemeral port.
class Daemon {
 public:
  // Writes `config_yaml` plus the paths of the source tree into
  // data_dir/../config.yaml and starts the daemon (in demo mode unless
  // options.demo is false).
  Daemon(const std::string& data_dir, const std::string& config_yaml = "",
         const DaemonOptions& options = {});
  ~Daemon();
  bool running() const { return pid_ > 0; }
  uint16_t port() const { return port_; }
  const std::string& start_error() const { return start_error_; }
  // Sends `sig` and waits up to `wait` for the exit; returns the exit code,
  // or -1 if it had to be killed.
  int Stop(int sig, std::chrono::milliseconds wait = std::chrono::seconds(30));
  std::string StderrTail(size_t bytes = 4000) const;
  // The child's process id (-1 once stopped).
  pid_t pid() const { return pid_; }
  // Changes the running child's RLIMIT_FSIZE soft limit (bytes; <= 0:
  // unlimited). False if the kernel refused (prlimit).
  bool SetFileSizeLimit(int64_t bytes);
  // The child's resident set size in KiB from /proc/PID/status (VmRSS), or
  // -1 if it cannot be read.
  int64_t RssKib() const;

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string start_error_;
  std::string stderr_path_;
};

// A fresh directory under the system temp dir.
std::string TempDir(const std::string& prefix);

}  // namespace approvald::systest

#endif  // APPROVALD_TESTS_SYSTEM_CLIENT_H_
