// The request and response the router works on: Beast messages plus what the
// connection knows (client address, request id) and what the router found
// out (route template, user) for logs and metrics. Plain values, so the
// router is tested without sockets.
#ifndef APPROVALD_API_HTTP_TYPES_H_
#define APPROVALD_API_HTTP_TYPES_H_

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <string>

namespace approvald::api {

namespace http = boost::beast::http;

struct Principal;  // api/auth.h

struct Request {
  http::request<http::string_body> msg;
  std::string remote;      // client IP address, for login throttling and logs
  std::string request_id;  // assigned by the connection, echoed as X-Request-Id
};

struct Response {
  http::response<http::string_body> msg;
  std::string route;       // route template ("/api/v1/instances/{id}") for metrics
  std::string user;        // authenticated username, "" if none
  std::shared_ptr<const Principal> principal;  // set for an authenticated upgrade_websocket
  // When set, the connection upgrades to a WebSocket for this user instead of
  // writing `msg` (GET /api/v1/ws).
  bool upgrade_websocket = false;
  std::string ws_subprotocol;  // echoed in Sec-WebSocket-Protocol if non-empty
};

}  // namespace approvald::api

#endif  // APPROVALD_API_HTTP_TYPES_H_
