// Fuzz target: the request body of every endpoint that decodes one.
//
// Byte 0 picks the endpoint (and the caller); the rest is the body:
//   0 POST  /api/v1/auth/login                   (no session)
//   1 POST  /api/v1/users                        root (admin)
//   2 PATCH /api/v1/users/zheng_li               root
//   3 POST  /api/v1/instances                    zhang_min
//   4 POST  /api/v1/instances/{id}/actions       lin_xiaoyan, the approver
//   5 POST  /api/v1/instances/{id}/actions       zhang_min, the submitter
//   6 PUT   /api/v1/org  (YAML text)             root
//   7 POST  /api/v1/attachments (bytes)          zhang_min
// {id} is the expense instance the environment submitted. Then the codec is
// called directly: ParseJsonObject, and on an object FormFromJson against
// every loaded workflow (complete and partial, with the body or its "data")
// and ArgsFromJson (of the body or its "args").
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/json_codec.h"
#include "tests/fuzz/api_env.h"
#include "tests/fuzz/oracle.h"

namespace {

namespace http = approvald::api::http;
using approvald::api::FormFromJson;
using approvald::api::FormMode;

struct Endpoint {
  http::verb method;
  const char* target;  // "{id}" is replaced
  const char* user;    // "" = no session
  const char* content_type;
};

constexpr Endpoint kEndpoints[] = {
    {http::verb::post, "/api/v1/auth/login", "", "application/json"},
    {http::verb::post, "/api/v1/users", "root", "application/json"},
    {http::verb::patch, "/api/v1/users/zheng_li", "root", "application/json"},
    {http::verb::post, "/api/v1/instances", "zhang_min", "application/json"},
    {http::verb::post, "/api/v1/instances/{id}/actions", "lin_xiaoyan", "application/json"},
    {http::verb::post, "/api/v1/instances/{id}/actions", "zhang_min", "application/json"},
    {http::verb::put, "/api/v1/org", "root", "application/yaml"},
    {http::verb::post, "/api/v1/attachments", "zhang_min", "application/pdf"},
};
constexpr size_t kNumEndpoints = sizeof(kEndpoints) / sizeof(kEndpoints[0]);

void DecodeDirectly(std::string_view body, const approvald::fuzz::ApiEnv& env) {
  auto obj = approvald::api::ParseJsonObject(body);
  if (!obj) return;
  const boost::json::value whole(*obj);
  const boost::json::value* data = obj->if_contains("data");
  for (const auto& def : env.registry().List()) {
    for (FormMode mode : {FormMode::kComplete, FormMode::kPartial}) {
      (void)FormFromJson(whole, *def, mode);
      if (data) (void)FormFromJson(*data, *def, mode);
    }
  }
  (void)approvald::api::ArgsFromJson(*obj, "args");
  if (const boost::json::value* args = obj->if_contains("args"); args && args->is_object()) {
    (void)approvald::api::ArgsFromJson(args->get_object(), "args");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Endpoint& ep = kEndpoints[data[0] % kNumEndpoints];
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto& env = approvald::fuzz::SharedEnv();

  std::string target = ep.target;
  if (auto at = target.find("{id}"); at != std::string::npos) {
    target.replace(at, 4, std::to_string(env.instance_id()));
  }
  approvald::api::Request req;
  req.msg.method(ep.method);
  req.msg.target(target);
  req.msg.version(11);
  req.msg.set(http::field::content_type, ep.content_type);
  if (*ep.user) req.msg.set(http::field::authorization, std::string("Bearer @") + ep.user);
  req.msg.body() = std::string(body);
  req.msg.prepare_payload();
  approvald::fuzz::CheckResponse(env.Route(std::move(req)));

  DecodeDirectly(body, env);
  return 0;
}
