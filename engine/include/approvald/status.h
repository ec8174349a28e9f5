// Error vocabulary shared by every layer: one ErrorCode enum, an Error value
// that carries a stable machine-readable reason, and Result<T> / Status built
// on std::expected. No layer below api/ throws; they return these.
#ifndef APPROVALD_STATUS_H_
#define APPROVALD_STATUS_H_

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace approvald {

enum class ErrorCode {
  kInvalidArgument,   // the caller sent something malformed (400)
  kNotFound,          // no such instance, workflow, person, ... (404)
  kPermissionDenied,  // the actor may not do this at all (403)
  kConflict,          // stale expected version / idempotency mismatch (409)
  kRejected,          // a workflow rule refused the action (422); `reason` names the rule
  kUnavailable,       // storage or a dependency failed; retry later (503)
  kInternal,          // our bug (500)
};

std::string_view ErrorCodeName(ErrorCode code);

// An error value. `reason` is a stable snake_case code that clients and tests
// match on (for example "self_approval", "head_must_speak_last"); `message`
// is for people and says what went wrong and how to fix it.
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string reason;
  std::string message;

  std::string ToString() const;
};

template <class T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

inline std::unexpected<Error> MakeError(ErrorCode code, std::string reason,
                                        std::string message) {
  return std::unexpected<Error>(
      Error{code, std::move(reason), std::move(message)});
}
inline std::unexpected<Error> Rejected(std::string reason, std::string message) {
  return MakeError(ErrorCode::kRejected, std::move(reason), std::move(message));
}
inline std::unexpected<Error> InvalidArgument(std::string reason,
                                              std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(reason),
                   std::move(message));
}
inline std::unexpected<Error> NotFound(std::string reason, std::string message) {
  return MakeError(ErrorCode::kNotFound, std::move(reason), std::move(message));
}
inline std::unexpected<Error> Unavailable(std::string reason,
                                          std::string message) {
  return MakeError(ErrorCode::kUnavailable, std::move(reason),
                   std::move(message));
}
inline Status Ok() { return {}; }

}  // namespace approvald

#endif  // APPROVALD_STATUS_H_
