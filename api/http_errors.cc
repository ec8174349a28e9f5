// ErrorCode -> HTTP status. The only file that knows both vocabularies.
#include "api/http_errors.h"

#include "approvald/utf8.h"

#include <boost/json.hpp>
#include <string_view>

namespace approvald::api {

http::status HttpStatusOf(const Error& e) {
  // The API's own reasons first: they refine a code the engine also uses.
  std::string_view r = e.reason;
  if (r == api_reason::kUnauthenticated || r == api_reason::kInvalidCredentials) {
    return http::status::unauthorized;
  }
  if (r == api_reason::kRateLimited || r == api_reason::kLoginThrottled) {
    return http::status::too_many_requests;
  }
  if (r == api_reason::kPayloadTooLarge) return http::status::payload_too_large;
  if (r == api_reason::kHeadersTooLarge) {
    return http::status::request_header_fields_too_large;
  }
  if (r == api_reason::kMethodNotAllowed) return http::status::method_not_allowed;
  if (r == api_reason::kUnsupportedMediaType) return http::status::unsupported_media_type;
  switch (e.code) {
    case ErrorCode::kInvalidArgument:
      return http::status::bad_request;
    case ErrorCode::kNotFound:
      return http::status::not_found;
    case ErrorCode::kPermissionDenied:
      return http::status::forbidden;
    case ErrorCode::kConflict:
      return http::status::conflict;
    case ErrorCode::kRejected:
      return http::status::unprocessable_entity;
    case ErrorCode::kUnavailable:
      return http::status::service_unavailable;
    case ErrorCode::kInternal:
      return http::status::internal_server_error;
  }
  return http::status::internal_server_error;
}

std::string ErrorBody(const Error& e) {
  boost::json::object inner;
  inner["code"] = e.reason.empty() ? std::string(ErrorCodeName(e.code)) : e.reason;
  // Messages may quote what the client sent (a YAML parser naming the byte
  // it stopped at): the body must stay valid UTF-8, hence valid JSON.
  inner["message"] = ToValidUtf8(e.message);
  if (!e.reason.empty()) inner["code"] = ToValidUtf8(e.reason);
  boost::json::object outer;
  outer["error"] = std::move(inner);
  return boost::json::serialize(outer);
}

http::response<http::string_body> ErrorResponse(const Error& e, unsigned version,
                                                bool keep_alive, int retry_after_s) {
  http::response<http::string_body> res{HttpStatusOf(e), version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  if (retry_after_s > 0) res.set(http::field::retry_after, std::to_string(retry_after_s));
  res.keep_alive(keep_alive);
  res.body() = ErrorBody(e);
  res.prepare_payload();
  return res;
}

}  // namespace approvald::api
