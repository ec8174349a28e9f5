// The one place that maps the engine's ErrorCode (and the API's own refusal
// reasons) to HTTP statuses, and the one error body shape:
//   {"error": {"code": "<stable snake_case reason>", "message": "<for people>"}}
#ifndef APPROVALD_API_HTTP_ERRORS_H_
#define APPROVALD_API_HTTP_ERRORS_H_

#include <string>

#include "api/http_types.h"
#include "approvald/status.h"

namespace approvald::api {

// Reasons the API itself produces (the engine's are in core/decide.h).
namespace api_reason {
inline constexpr const char* kUnauthenticated = "unauthenticated";      // 401
inline constexpr const char* kInvalidCredentials = "invalid_credentials";  // 401
inline constexpr const char* kForbiddenRole = "forbidden_for_role";     // 403
inline constexpr const char* kRateLimited = "rate_limited";             // 429
inline constexpr const char* kLoginThrottled = "login_throttled";       // 429
inline constexpr const char* kPayloadTooLarge = "payload_too_large";    // 413
inline constexpr const char* kHeadersTooLarge = "headers_too_large";    // 431
inline constexpr const char* kMethodNotAllowed = "method_not_allowed";  // 405
inline constexpr const char* kRouteNotFound = "route_not_found";        // 404
inline constexpr const char* kBadJson = "bad_json";                     // 400
inline constexpr const char* kBadRequest = "bad_request";               // 400
inline constexpr const char* kUnsupportedMediaType = "unsupported_media_type";  // 415
inline constexpr const char* kShuttingDown = "shutting_down";           // 503
}  // namespace api_reason

// The HTTP status for `e`.
http::status HttpStatusOf(const Error& e);

// The JSON error body for `e`.
std::string ErrorBody(const Error& e);

// A complete error response: status, JSON body, content type, and
// Retry-After when `retry_after_s` > 0.
http::response<http::string_body> ErrorResponse(const Error& e, unsigned version,
                                                bool keep_alive, int retry_after_s = 0);

}  // namespace approvald::api

#endif  // APPROVALD_API_HTTP_ERRORS_H_
