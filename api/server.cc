// Session lifetime follows Beast's model: each session owns itself through
// the shared_ptr bound into every pending handler (DoX/OnX pairs) and runs on
// its own strand; when no handler holds it any more, it is gone. Sessions
// register with the server only by weak reference, for shutdown.
#include "api/server.h"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/http_errors.h"
#include "api/http_wire.h"

namespace approvald::api {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace websocket = boost::beast::websocket;
namespace json = boost::json;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// The "api" logger, looked up once (spdlog::get takes the registry lock).
spdlog::logger* ApiLog() {
  static spdlog::logger* log = [] {
    auto l = spdlog::get("api");
    if (!l) l = spdlog::default_logger();
    static std::shared_ptr<spdlog::logger> keep = l;
    return keep.get();
  }();
  return log;
}

// Something the server can ask to stop (an HTTP or WebSocket session).
class Conn {
 public:
  virtual ~Conn() = default;
  // Finish what is in flight, then close. `force`: close now.
  virtual void Stop(bool force) = 0;
};

template <class Stream>
constexpr bool kIsTls = !std::is_same_v<Stream, beast::tcp_stream>;

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions o, Services& s, WsHub& h, std::atomic<bool>& draining)
      : opts(std::move(o)),
        services(s),
        hub(h),
        draining(draining),
        ssl_ctx(ssl::context::tls_server),
        conn_limit(opts.max_connections),
        workers(static_cast<size_t>(std::max(1, opts.worker_threads))),
        ioc(std::max(1, opts.io_threads)),
        acceptor(net::make_strand(ioc)) {}

  // A connection slot: counts the connection against the cap and the
  // metrics while alive; moved from the HTTP session to its WebSocket.
  class Slot {
   public:
    explicit Slot(Impl* impl) : impl_(impl) {
      impl_->services.metrics.ConnectionOpened();
      impl_->live.fetch_add(1);
    }
    ~Slot() {
      impl_->conn_limit.Release();
      impl_->services.metrics.ConnectionClosed();
      impl_->live.fetch_sub(1);
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    Impl* impl_;
  };

  void Register(const std::shared_ptr<Conn>& c) {
    std::lock_guard lock(conns_mu);
    conns[c.get()] = c;
  }
  void Unregister(Conn* c) {
    std::lock_guard lock(conns_mu);
    conns.erase(c);
  }
  std::vector<std::shared_ptr<Conn>> Live() {
    std::lock_guard lock(conns_mu);
    std::vector<std::shared_ptr<Conn>> out;
    for (auto& [p, w] : conns) {
      if (auto c = w.lock()) out.push_back(std::move(c));
    }
    return out;
  }

  std::string NextRequestId() { return fmt::format("{:x}", ++request_counter); }

  void DoAccept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  void BeginShutdown();
  void CheckDrained();

  // Declaration order is destruction order reversed: everything a session's
  // destructor touches (the TLS context, the limiter, the registry) is
  // declared before the io_context, so it outlives the handlers (and the
  // sessions they own) that the io_context destroys.
  ServerOptions opts;
  Services& services;
  WsHub& hub;
  std::atomic<bool>& draining;
  ssl::context ssl_ctx;
  bool tls = false;
  ConnectionLimiter conn_limit;
  std::atomic<int> live{0};       // open connections (HTTP and WebSocket)
  std::atomic<int> in_flight{0};  // requests being routed on the workers
  std::atomic<uint64_t> request_counter{0};
  std::mutex conns_mu;
  std::unordered_map<Conn*, std::weak_ptr<Conn>> conns;
  Clock::time_point drain_deadline;
  bool forced = false;
  uint16_t bound_port = 0;
  net::thread_pool workers;
  net::io_context ioc;
  tcp::acceptor acceptor;
  std::optional<net::steady_timer> drain_timer;
};

namespace {

using Impl = Server::Impl;

// ---------------------------------------------------------------------------
// WebSocket session.

template <class Stream>
class WsSession final : public WsClient,
                        public Conn,
                        public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Impl& impl, Stream&& stream, std::unique_ptr<Impl::Slot> slot,
            std::shared_ptr<const Principal> who)
      : impl_(impl), ws_(std::move(stream)), slot_(std::move(slot)), who_(std::move(who)) {
    impl_.services.metrics.WebSocketOpened();
  }
  ~WsSession() override {
    if (hub_id_) impl_.hub.Leave(hub_id_);
    impl_.Unregister(this);
    impl_.services.metrics.WebSocketClosed();
  }

  void Start(http::request<http::string_body> req, std::string subprotocol) {
    impl_.Register(this->shared_from_this());
    beast::get_lowest_layer(ws_).expires_never();  // the websocket has its own timeouts
    if (impl_.opts.ws_socket_send_buffer > 0) {
      // Bounded in the kernel too, so a stalled client fills its queue (and
      // is dropped) after a little data instead of after megabytes.
      beast::error_code ec;
      beast::get_lowest_layer(ws_).socket().set_option(
          net::socket_base::send_buffer_size(impl_.opts.ws_socket_send_buffer), ec);
    }
    websocket::stream_base::timeout t{};
    t.handshake_timeout = std::chrono::seconds(30);
    t.idle_timeout = impl_.opts.idle_timeout;
    t.keep_alive_pings = true;  // ping at half the idle time; dead peers are dropped
    ws_.set_option(t);
    ws_.read_message_max(static_cast<size_t>(impl_.opts.ws_max_message_bytes));
    ws_.set_option(websocket::stream_base::decorator([subprotocol](websocket::response_type& res) {
      res.set(http::field::server, "approvald");
      if (!subprotocol.empty()) res.set(http::field::sec_websocket_protocol, subprotocol);
    }));
    req_ = std::move(req);
    ws_.async_accept(req_, beast::bind_front_handler(&WsSession::OnAccept,
                                                     this->shared_from_this()));
  }

  // Any thread: queue a message; disconnect a client that fell too far behind.
  void Send(std::shared_ptr<const std::string> text) override {
    net::post(ws_.get_executor(), [self = this->shared_from_this(), text = std::move(text)] {
      self->Enqueue(text);
    });
  }

  void Stop(bool force) override {
    net::post(ws_.get_executor(), [self = this->shared_from_this(), force] {
      if (force) {
        beast::error_code ec;
        beast::get_lowest_layer(self->ws_).socket().close(ec);
        return;
      }
      self->closing_ = true;
      if (!self->writing_ && self->open_) self->DoClose();
    });
  }

 private:
  void OnAccept(beast::error_code ec) {
    if (ec) {
      ApiLog()->debug("ws handshake failed user={} err={}", who_->username, ec.message());
      return;
    }
    open_ = true;
    hub_id_ = impl_.hub.Join(std::weak_ptr<WsClient>(this->shared_from_this()), who_->person);
    ApiLog()->info("ws open user={}", who_->username);
    json::object hello;
    hello["type"] = "hello";
    hello["user"] = who_->username;
    hello["person"] = who_->person.value;
    Enqueue(std::make_shared<const std::string>(json::serialize(hello)));
    if (impl_.draining.load()) {
      closing_ = true;
    }
    DoRead();
  }

  void DoRead() {
    ws_.async_read(buffer_, beast::bind_front_handler(&WsSession::OnRead,
                                                      this->shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec) {
      if (ec == websocket::error::message_too_big) {
        ApiLog()->info("ws closed user={} reason=message_too_big", who_->username);
      }
      open_ = false;
      return;  // closed, timed out, too big (Beast sent 1009), or cut
    }
    std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    HandleMessage(text);
    DoRead();
  }

  void Reply(json::object o) { Enqueue(std::make_shared<const std::string>(json::serialize(o))); }

  void ReplyError(const std::string& code, const std::string& message) {
    json::object e;
    e["code"] = code;
    e["message"] = message;
    json::object o;
    o["type"] = "error";
    o["error"] = std::move(e);
    Reply(std::move(o));
  }

  // {"subscribe": ID} | {"unsubscribe": ID} | {"ping": anything}
  void HandleMessage(const std::string& text) {
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = 8;
    json::value v = json::parse(text, ec, {}, opts);
    if (ec || !v.is_object() || v.as_object().size() != 1) {
      return ReplyError("bad_message",
                        "send {\"subscribe\": ID}, {\"unsubscribe\": ID} or {\"ping\": X}");
    }
    auto& [key, val] = *v.as_object().begin();
    if (key == "ping") {
      json::object o;
      o["type"] = "pong";
      o["ping"] = val;
      return Reply(std::move(o));
    }
    if ((key != "subscribe" && key != "unsubscribe") || !val.is_int64() || val.as_int64() <= 0) {
      return ReplyError("bad_message", "subscribe/unsubscribe take a positive instance id");
    }
    InstanceId id{val.as_int64()};
    if (key == "unsubscribe") {
      impl_.hub.Unsubscribe(hub_id_, id);
      json::object o;
      o["type"] = "unsubscribed";
      o["instance"] = id.value;
      return Reply(std::move(o));
    }
    // Visibility needs the engine: leave the I/O thread and come back.
    net::post(impl_.workers, [self = this->shared_from_this(), id] {
      Status st = CheckVisible(self->impl_.services, *self->who_, id);
      net::post(self->ws_.get_executor(), [self, id, st] {
        if (!st) return self->ReplyError(st.error().reason, st.error().message);
        if (!self->impl_.hub.Subscribe(self->hub_id_, id, self->impl_.opts.ws_max_subscriptions)) {
          return self->ReplyError("too_many_subscriptions",
                                  "unsubscribe from some instances first");
        }
        json::object o;
        o["type"] = "subscribed";
        o["instance"] = id.value;
        self->Reply(std::move(o));
      });
    });
  }

  void Enqueue(std::shared_ptr<const std::string> text) {
    if (!open_) return;
    if (queue_.size() >= impl_.opts.ws_send_queue) {
      // A slow consumer: drop it rather than grow without bound.
      impl_.services.metrics.SlowConsumerDropped();
      ApiLog()->warn("ws slow consumer dropped user={} queued={}", who_->username, queue_.size());
      open_ = false;
      queue_.clear();
      beast::error_code ec;
      beast::get_lowest_layer(ws_).socket().close(ec);
      return;
    }
    queue_.push_back(std::move(text));
    if (!writing_) DoWrite();
  }

  void DoWrite() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(*queue_.front()),
                    beast::bind_front_handler(&WsSession::OnWrite, this->shared_from_this()));
  }

  void OnWrite(beast::error_code ec, std::size_t) {
    writing_ = false;
    if (ec) {
      open_ = false;
      queue_.clear();
      return;
    }
    impl_.services.metrics.WebSocketPushed();
    queue_.pop_front();
    if (!queue_.empty()) return DoWrite();
    if (closing_) DoClose();
  }

  void DoClose() {
    if (close_sent_) return;
    close_sent_ = true;
    ws_.async_close(websocket::close_reason(websocket::close_code::going_away, "server shutdown"),
                    [self = this->shared_from_this()](beast::error_code) { self->open_ = false; });
  }

  Impl& impl_;
  websocket::stream<Stream> ws_;
  std::unique_ptr<Impl::Slot> slot_;
  std::shared_ptr<const Principal> who_;
  http::request<http::string_body> req_;
  beast::flat_buffer buffer_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  uint64_t hub_id_ = 0;
  bool open_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool close_sent_ = false;
};

// ---------------------------------------------------------------------------
// HTTP session.

template <class Stream>
class HttpSession final : public Conn, public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(Impl& impl, Stream&& stream, std::unique_ptr<Impl::Slot> slot, std::string remote)
      : impl_(impl),
        stream_(std::move(stream)),
        slot_(std::move(slot)),
        remote_(std::move(remote)),
        idle_timer_(stream_.get_executor()) {}
  ~HttpSession() override { impl_.Unregister(this); }

  void Start() {
    impl_.Register(this->shared_from_this());
    if constexpr (kIsTls<Stream>) {
      beast::get_lowest_layer(stream_).expires_after(impl_.opts.read_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              beast::bind_front_handler(&HttpSession::OnHandshake,
                                                        this->shared_from_this()));
    } else {
      net::dispatch(stream_.get_executor(),
                    beast::bind_front_handler(&HttpSession::DoRead, this->shared_from_this()));
    }
  }

  void Stop(bool force) override {
    net::post(stream_.get_executor(), [self = this->shared_from_this(), force] {
      self->stopping_ = true;
      if (force || !self->busy_) self->CloseSocket();
    });
  }

 private:
  void OnHandshake(beast::error_code ec) {
    if (ec) {
      ApiLog()->debug("tls handshake failed remote={} err={}", remote_, ec.message());
      return;
    }
    DoRead();
  }

  void CloseSocket() {
    idle_timer_.cancel();
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(stream_).socket().close(ec);
  }

  // Waits for the next request. Plain TCP: an idle keep-alive connection
  // waits (idle_timeout) for the first byte before the read_timeout starts,
  // so a slow sender cannot stretch one request beyond read_timeout.
  void DoRead() {
    if (stopping_) return CloseSocket();
    busy_ = false;
    if constexpr (!kIsTls<Stream>) {
      if (buffer_.size() == 0) {
        idle_timer_.expires_after(impl_.opts.idle_timeout);
        idle_timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
          if (!ec) self->CloseSocket();  // idle too long
        });
        // The first bytes are read straight into the buffer: a read is
        // tried at once and then left to epoll as it is registered, while
        // waiting for readability (async_wait) re-registers the socket with
        // epoll (an epoll_ctl) on every request.
        constexpr std::size_t kFirstRead = 4096;
        beast::get_lowest_layer(stream_).socket().async_read_some(
            buffer_.prepare(kFirstRead),
            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
              self->idle_timer_.cancel();
              if (ec || self->stopping_) return self->CloseSocket();
              self->buffer_.commit(n);
              self->DoReadRequest();
            });
        return;
      }
    }
    DoReadRequest();
  }

  void DoReadRequest() {
    parser_.emplace();
    parser_->body_limit(static_cast<uint64_t>(impl_.opts.max_body_bytes));
    parser_->header_limit(static_cast<uint32_t>(impl_.opts.max_header_bytes));
    beast::get_lowest_layer(stream_).expires_after(
        kIsTls<Stream> && buffer_.size() == 0 && requests_ > 0
            ? impl_.opts.idle_timeout + impl_.opts.read_timeout
            : impl_.opts.read_timeout);
    busy_ = true;
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::OnRead, this->shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return CloseSocket();
    if (ec == beast::error::timeout) {
      ApiLog()->info("slow client dropped remote={} after={}ms", remote_,
                     impl_.opts.read_timeout.count());
      return CloseSocket();
    }
    if (ec == http::error::body_limit) {
      return RefuseAndClose(Error{ErrorCode::kInvalidArgument, api_reason::kPayloadTooLarge,
                                  "the request body is larger than " +
                                      std::to_string(impl_.opts.max_body_bytes) + " bytes"},
                            "(body too large)");
    }
    if (ec == http::error::header_limit) {
      return RefuseAndClose(Error{ErrorCode::kInvalidArgument, api_reason::kHeadersTooLarge,
                                  "the request headers are larger than " +
                                      std::to_string(impl_.opts.max_header_bytes) + " bytes"},
                            "(headers too large)");
    }
    if (ec == net::error::operation_aborted || ec == net::error::eof ||
        ec == net::error::connection_reset || ec == net::error::bad_descriptor) {
      return CloseSocket();
    }
    if (ec) {
      // A malformed request: say so once, then close (the stream is unusable).
      return RefuseAndClose(Error{ErrorCode::kInvalidArgument, api_reason::kBadRequest,
                                  "malformed HTTP request: " + ec.message()},
                            "(malformed)");
    }
    ++requests_;
    auto req = std::make_shared<Request>();
    req->msg = parser_->release();
    req->remote = remote_;
    req->request_id = impl_.NextRequestId();
    auto start = Clock::now();
    // Reads answered from memory (cached session and instance state) are
    // answered here, on the connection's strand: no hand-off to a worker
    // and back.
    if (auto cached = RouteCached(*req, impl_.services)) {
      return OnRouted(std::move(req), std::move(*cached), start);
    }
    impl_.in_flight.fetch_add(1);
    net::post(impl_.workers, [self = this->shared_from_this(), req, start] {
      // A request that waits on a durable commit leaves this worker free
      // meanwhile (RouteAsync): a few workers keep the store's group commit
      // full. Until its answer is in, the pool counts it as work, so that
      // Run() (which joins the pool before the store is flushed) waits for it.
      auto work = net::require(self->impl_.workers.get_executor(),
                               net::execution::outstanding_work.tracked);
      RouteAsync(*req, self->impl_.services, [self, req, start, work](Response res) {
        net::post(self->stream_.get_executor(),
                  [self, req, start, res = std::move(res)]() mutable {
                    self->impl_.in_flight.fetch_sub(1);
                    self->OnRouted(std::move(req), std::move(res), start);
                  });
      });
    });
  }

  void Log(const Request& req, const Response& res, Clock::time_point start) {
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    int status = static_cast<int>(res.msg.result_int());
    impl_.services.metrics.ObserveRequest(res.route, status, secs);
    if (ApiLog()->should_log(spdlog::level::info)) {
      ApiLog()->info("request req={} remote={} user={} method={} route={} status={} ms={:.2f}",
                     req.request_id, remote_, res.user.empty() ? "-" : res.user,
                     std::string(req.msg.method_string()), res.route, status, secs * 1000);
    }
  }

  void OnRouted(std::shared_ptr<Request> req, Response res, Clock::time_point start) {
    if (res.upgrade_websocket && res.principal) {
      if (impl_.draining.load()) {
        res.msg = ErrorResponse(Error{ErrorCode::kUnavailable, api_reason::kShuttingDown,
                                      "the server is shutting down"},
                                req->msg.version(), false);
        res.upgrade_websocket = false;
      } else {
        res.msg.result(http::status::switching_protocols);
        Log(*req, res, start);
        auto ws = std::make_shared<WsSession<Stream>>(impl_, std::move(stream_), std::move(slot_),
                                                      res.principal);
        ws->Start(std::move(req->msg), res.ws_subprotocol);
        return;  // this HTTP session ends here; the socket lives on in `ws`
      }
    }
    Log(*req, res, start);
    if (impl_.draining.load() || stopping_) res.msg.keep_alive(false);
    WriteResponse(std::move(res.msg), false);
  }

  void WriteResponse(http::response<http::string_body> msg, bool linger) {
    res_ = std::make_shared<http::response<http::string_body>>(std::move(msg));
    res_->set(http::field::server, "approvald");
    beast::get_lowest_layer(stream_).expires_after(impl_.opts.write_timeout);
    auto done = [self = this->shared_from_this(), linger](beast::error_code ec, std::size_t) {
      self->OnWrite(ec, linger);
    };
    if (res_->chunked()) {
      http::async_write(stream_, *res_, std::move(done));
      return;
    }
    // The same bytes as http::async_write (AppendResponseHead), as two
    // buffers: the header in one block (kept across requests) and the body.
    head_.clear();
    AppendResponseHead(*res_, &head_);
    std::array<net::const_buffer, 2> bufs{net::buffer(head_), net::buffer(res_->body())};
    net::async_write(stream_, bufs, std::move(done));
  }

  void OnWrite(beast::error_code ec, bool linger) {
    if (ec) return CloseSocket();
    bool close = res_->need_eof();
    res_.reset();
    if (linger) return LingerClose();
    if (close) return CloseSocket();
    DoRead();
  }

  // Answers a request that could not be read (too large, malformed) and
  // closes. The client may still be sending: half-close and drain a little,
  // so it reads the answer instead of a connection reset.
  void RefuseAndClose(const Error& e, const std::string& route) {
    stopping_ = true;
    auto res = ErrorResponse(e, 11, false);
    int status = static_cast<int>(res.result_int());
    impl_.services.metrics.ObserveRequest(route, status, 0);
    ApiLog()->info("request refused remote={} status={} reason={}", remote_, status, e.reason);
    WriteResponse(std::move(res), true);
  }

  void LingerClose() {
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
    DrainSome();
  }

  void DrainSome() {
    beast::get_lowest_layer(stream_).async_read_some(
        net::buffer(drain_),
        [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
          if (ec || n == 0) return self->CloseSocket();
          self->DrainSome();
        });
  }

  Impl& impl_;
  Stream stream_;
  std::unique_ptr<Impl::Slot> slot_;
  std::string remote_;
  net::steady_timer idle_timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> res_;
  std::string head_;  // the serialised header of res_
  std::array<char, 4096> drain_{};
  uint64_t requests_ = 0;
  bool busy_ = false;
  bool stopping_ = false;
};

}  // namespace

// ---------------------------------------------------------------------------
// Listener and shutdown.

void Server::Impl::DoAccept() {
  acceptor.async_accept(net::make_strand(ioc), beast::bind_front_handler(&Impl::OnAccept, this));
}

void Server::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (ec) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;  // shutting down
    ApiLog()->warn("accept failed err={}", ec.message());
    // Out of descriptors and the like: keep accepting after the error.
    return DoAccept();
  }
  if (draining.load()) return;
  if (!conn_limit.TryAcquire()) {
    services.metrics.ConnectionRefused();
    ApiLog()->warn("connection refused: limits.max_connections={} reached", opts.max_connections);
    beast::error_code ignore;
    socket.close(ignore);
    return DoAccept();
  }
  beast::error_code rec;
  auto ep = socket.remote_endpoint(rec);
  std::string remote = rec ? "unknown" : ep.address().to_string();
  socket.set_option(tcp::no_delay(true), rec);
  auto slot = std::make_unique<Slot>(this);
  if (tls) {
    using S = beast::ssl_stream<beast::tcp_stream>;
    std::make_shared<HttpSession<S>>(*this, S(beast::tcp_stream(std::move(socket)), ssl_ctx),
                                     std::move(slot), remote)
        ->Start();
  } else {
    std::make_shared<HttpSession<beast::tcp_stream>>(
        *this, beast::tcp_stream(std::move(socket)), std::move(slot), remote)
        ->Start();
  }
  DoAccept();
}

void Server::Impl::BeginShutdown() {
  ApiLog()->info("shutdown: draining open={} in_flight={} grace_ms={}", live.load(),
                 in_flight.load(), opts.shutdown_grace.count());
  beast::error_code ec;
  acceptor.close(ec);
  for (auto& c : Live()) c->Stop(false);
  drain_deadline = Clock::now() + opts.shutdown_grace;
  drain_timer.emplace(ioc);
  CheckDrained();
}

void Server::Impl::CheckDrained() {
  if (live.load() == 0 && in_flight.load() == 0) {
    ApiLog()->info("shutdown: drained");
    ioc.stop();
    return;
  }
  if (Clock::now() >= drain_deadline) {
    if (!forced) {
      forced = true;
      ApiLog()->warn("shutdown: grace period over; closing open={} in_flight={}", live.load(),
                     in_flight.load());
      for (auto& c : Live()) c->Stop(true);
      drain_deadline = Clock::now() + std::chrono::milliseconds(500);
    } else {
      ioc.stop();
      return;
    }
  }
  drain_timer->expires_after(std::chrono::milliseconds(10));
  drain_timer->async_wait([this](beast::error_code ec) {
    if (!ec) CheckDrained();
  });
}

Server::Server(ServerOptions options, Services& services, WsHub& hub)
    : impl_(std::make_unique<Impl>(std::move(options), services, hub, draining_)) {}

Server::~Server() {
  impl_->ioc.stop();
  impl_->workers.join();
}

Status Server::Start() {
  Impl& m = *impl_;
  if (!m.opts.tls_cert_file.empty()) {
    beast::error_code ec;
    m.ssl_ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                          ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                          ssl::context::no_tlsv1_1);
    m.ssl_ctx.use_certificate_chain_file(m.opts.tls_cert_file, ec);
    if (ec) {
      return InvalidArgument("tls_cert", m.opts.tls_cert_file +
                                             ": cannot load the certificate chain: " + ec.message());
    }
    m.ssl_ctx.use_private_key_file(m.opts.tls_key_file, ssl::context::pem, ec);
    if (ec) {
      return InvalidArgument("tls_key",
                             m.opts.tls_key_file + ": cannot load the private key: " + ec.message());
    }
    m.tls = true;
  }
  beast::error_code ec;
  auto addr = net::ip::make_address(m.opts.host, ec);
  if (ec) {
    // A host name: resolve it.
    tcp::resolver resolver(m.ioc);
    auto results = resolver.resolve(m.opts.host, std::to_string(m.opts.port), ec);
    if (ec || results.empty()) {
      return Unavailable("bad_listen", "cannot resolve listen host '" + m.opts.host +
                                           "': " + (ec ? ec.message() : "no address"));
    }
    addr = results.begin()->endpoint().address();
  }
  tcp::endpoint ep(addr, m.opts.port);
  std::string where = m.opts.host + ":" + std::to_string(m.opts.port);
  m.acceptor.open(ep.protocol(), ec);
  if (!ec) m.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) m.acceptor.bind(ep, ec);
  if (ec) return Unavailable("listen_failed", "cannot listen on " + where + ": " + ec.message());
  m.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Unavailable("listen_failed", "cannot listen on " + where + ": " + ec.message());
  m.bound_port = m.acceptor.local_endpoint().port();
  m.DoAccept();
  return Ok();
}

uint16_t Server::port() const { return impl_->bound_port; }

void Server::PostToWorkers(std::function<void()> fn) {
  net::post(impl_->workers, std::move(fn));
}

void Server::Run() {
  Impl& m = *impl_;
  net::signal_set signals(m.ioc, SIGINT, SIGTERM);
  signals.async_wait([this](beast::error_code ec, int sig) {
    if (ec) return;
    ApiLog()->info("signal {} received", sig);
    Shutdown();
  });
  std::vector<std::thread> threads;
  for (int i = 1; i < m.opts.io_threads; ++i) threads.emplace_back([&m] { m.ioc.run(); });
  m.ioc.run();
  for (auto& t : threads) t.join();
  // Requests still on the workers finish (their commits are durable or
  // failed); their answers are dropped with the connections.
  m.workers.join();
}

void Server::Shutdown() {
  if (draining_.exchange(true)) return;
  net::post(impl_->ioc, [this] { impl_->BeginShutdown(); });
}

}  // namespace approvald::api
