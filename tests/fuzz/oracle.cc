#include "tests/fuzz/oracle.h"

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace approvald::fuzz {
namespace {

[[noreturn]] void Fail(const api::Response& res, const char* why) {
  std::fprintf(stderr, "fuzz oracle: %s\nstatus %u route %s\nbody: %.2000s\n", why,
               res.msg.result_int(), res.route.c_str(), res.msg.body().c_str());
  std::abort();
}

bool HasControl(std::string_view v) {
  return v.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

}  // namespace

void CheckResponse(const api::Response& res) {
  const unsigned status = res.msg.result_int();
  if (status == 500) Fail(res, "internal error (500) on a memory store");
  for (const auto& field : res.msg) {
    if (HasControl(field.name_string()) || HasControl(field.value())) {
      Fail(res, "header with CR/LF/NUL");
    }
  }
  std::string_view type = res.msg[api::http::field::content_type];
  const bool json_body = type.starts_with("application/json");
  if (!json_body) return;  // the web UI's static files answer in HTML
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(res.msg.body(), ec);
  if (ec) Fail(res, "application/json body that does not parse");
  if (status >= 400) {
    const boost::json::object* o = v.if_object();
    const boost::json::value* e = o ? o->if_contains("error") : nullptr;
    const boost::json::object* eo = e ? e->if_object() : nullptr;
    if (!eo || !eo->contains("code") || !eo->contains("message") ||
        !eo->at("code").is_string() || !eo->at("message").is_string()) {
      Fail(res, "error response without {\"error\":{\"code\",\"message\"}}");
    }
  }
}

}  // namespace approvald::fuzz
