// Fuzz target: raw bytes from a client, through Beast's HTTP/1.1 request
// parser with the server's limits, into the router over an in-memory engine
// (api_env.h), the way api/server.cc hands a parsed request to Route().
// Several requests may follow each other in one input (keep-alive), so a
// login can precede its use. "Authorization: Bearer @<username>" stands for
// that user's session token.
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/server.h"
#include "tests/fuzz/api_env.h"
#include "tests/fuzz/oracle.h"

namespace {

namespace http = boost::beast::http;
using approvald::fuzz::CheckResponse;
using approvald::fuzz::SharedEnv;

// At most this many requests per input: enough for login + use + logout.
constexpr int kMaxRequests = 4;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const approvald::api::ServerOptions limits;  // the daemon's defaults
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  auto& env = SharedEnv();
  for (int n = 0; n < kMaxRequests && !rest.empty(); ++n) {
    http::request_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(static_cast<uint64_t>(limits.max_body_bytes));
    parser.header_limit(static_cast<uint32_t>(limits.max_header_bytes));
    boost::beast::error_code ec;
    while (!rest.empty() && !parser.is_done()) {
      size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
      rest.remove_prefix(used);
      if (ec == http::error::need_more) {
        ec = {};
        if (used == 0) break;  // needs bytes the input does not have
        continue;
      }
      if (ec) break;
    }
    if (!ec && !parser.is_done()) parser.put_eof(ec);  // the client closed
    if (ec || !parser.is_done()) return 0;  // the server answers 400/413/431 and closes
    approvald::api::Request req;
    req.msg = parser.release();
    req.remote = "192.0.2.7";
    approvald::api::Response res = env.Route(std::move(req));
    CheckResponse(res);
    if (res.upgrade_websocket || !res.msg.keep_alive()) return 0;
  }
  return 0;
}
