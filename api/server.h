// The network side of the daemon: a Beast HTTP/1.1 listener (plain or TLS)
// with keep-alive, one strand per connection, limits applied where each read
// happens, WebSocket sessions fed by the WsHub, and a drained shutdown.
//
// Threads: `io_threads` run the io_context (sockets, timers, parsing); the
// router and everything below it (engine, SQLite) run on a separate worker
// pool, and the response is posted back to the connection's strand.
#ifndef APPROVALD_API_SERVER_H_
#define APPROVALD_API_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/router.h"
#include "api/ws_hub.h"
#include "approvald/status.h"

namespace approvald::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;             // 0 = pick a free port (see Server::port())
  int io_threads = 1;
  int worker_threads = 4;
  int64_t max_body_bytes = 1 << 20;     // larger bodies: 413, connection closed
  int64_t max_header_bytes = 16 << 10;  // larger header blocks: 431, closed
  int max_connections = 4096;           // further connections closed at accept
  std::chrono::milliseconds read_timeout{15000};   // one whole request
  std::chrono::milliseconds write_timeout{15000};  // one whole response
  std::chrono::milliseconds idle_timeout{60000};   // keep-alive wait for the next request
  int64_t ws_max_message_bytes = 64 << 10;
  size_t ws_send_queue = 64;            // messages queued per WebSocket client
  // The kernel send buffer (SO_SNDBUF) of a WebSocket: what a client that
  // stopped reading can leave in flight beside its queue before the queue
  // fills and it is dropped. 0 = the kernel's autotuning (megabytes).
  int ws_socket_send_buffer = 64 << 10;
  size_t ws_max_subscriptions = 1000;   // instances one WebSocket may watch
  std::string tls_cert_file;            // both set: HTTPS/WSS only
  std::string tls_key_file;
  std::chrono::milliseconds shutdown_grace{10000};
};

class Server {
 public:
  // `services` and `hub` must outlive the server; the router runs with
  // `services` on the worker pool.
  Server(ServerOptions options, Services& services, WsHub& hub);
  ~Server();

  // Binds and listens. kUnavailable naming the address on failure (in use,
  // permission), kInvalidArgument for unreadable TLS files.
  Status Start();
  // The bound port (after Start).
  uint16_t port() const;

  // Runs the I/O threads until Shutdown() finished draining. Blocking.
  void Run();

  // Graceful stop, callable from any thread (and from the signal handler
  // installed by Run, which calls it on SIGTERM/SIGINT): stop accepting,
  // answer the requests in flight (with Connection: close), close idle
  // keep-alive connections, close WebSockets with a close frame (1001 going
  // away), wait for the worker pool; after shutdown_grace whatever remains
  // is cut. Run() returns when done.
  void Shutdown();

  // Runs `fn` on the worker pool, soon; callable from any thread. The
  // engine's executor (Engine::SetExecutor): commits that finish after
  // Shutdown began still run, and Run() waits for every request routed on
  // the pool, asynchronous ones included, until its answer is in.
  void PostToWorkers(std::function<void()> fn);

  // True once Shutdown began.
  bool draining() const { return draining_.load(); }
  const std::atomic<bool>& draining_flag() const { return draining_; }

  class Impl;  // server.cc: listener, sessions, drain state

 private:
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> draining_{false};
};

}  // namespace approvald::api

#endif  // APPROVALD_API_SERVER_H_
