#include "approvald/status.h"

namespace approvald {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kPermissionDenied: return "permission_denied";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kRejected: return "rejected";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kInternal: return "internal";
  }
  return "internal";
}

std::string Error::ToString() const {
  std::string s(ErrorCodeName(code));
  if (!reason.empty()) s += "/" + reason;
  if (!message.empty()) s += ": " + message;
  return s;
}

}  // namespace approvald
