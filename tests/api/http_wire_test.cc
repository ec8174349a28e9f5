#include "api/http_wire.h"

#include <gtest/gtest.h>

#include <boost/beast/http/write.hpp>
#include <sstream>

#include "api/http_errors.h"

namespace approvald::api {
namespace {

namespace http = boost::beast::http;
using Msg = http::response<http::string_body>;

// What Beast's serializer writes for `m`.
std::string Serialized(const Msg& m) {
  std::ostringstream os;
  os << m;
  return os.str();
}

std::string Wire(const Msg& m) {
  std::string out;
  AppendResponseHead(m, &out);
  out += m.body();
  return out;
}

TEST(HttpWireTest, WritesWhatBeastsSerializerWrites) {
  std::vector<Msg> cases;
  {
    Msg m{http::status::ok, 11};
    m.set(http::field::content_type, "application/json");
    m.set(http::field::cache_control, "no-store");
    m.keep_alive(true);
    m.body() = R"({"id":1,"title":"文具"})";
    m.prepare_payload();
    m.set("X-Request-Id", "1f");
    m.set(http::field::server, "approvald");
    cases.push_back(m);
  }
  {
    Msg m = ErrorResponse(Error{ErrorCode::kNotFound, "instance_not_found", "no instance 7"}, 11,
                          false);
    m.set(http::field::server, "approvald");
    cases.push_back(m);
  }
  {
    Msg m = ErrorResponse(Error{ErrorCode::kUnavailable, "rate_limited", "slow down"}, 10, true,
                          3);
    cases.push_back(m);
  }
  {
    Msg m{http::status::no_content, 11};
    m.prepare_payload();
    cases.push_back(m);
  }
  {
    Msg m{http::status::ok, 11};
    m.reason("Fine");
    m.set("x-lower-case", "v");
    m.body() = "text";
    m.prepare_payload();
    cases.push_back(m);
  }
  {
    Msg m{static_cast<http::status>(599), 11};  // no reason phrase known
    m.body() = "";
    m.prepare_payload();
    cases.push_back(m);
  }
  for (const Msg& m : cases) {
    EXPECT_EQ(Wire(m), Serialized(m));
  }
}

}  // namespace
}  // namespace approvald::api
