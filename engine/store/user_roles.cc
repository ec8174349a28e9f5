// Role names of the UserStore port (approvald/user_store.h), shared by every
// UserStore backend.
#include "approvald/user_store.h"

namespace approvald {

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kUser:
      return "user";
    case Role::kAdmin:
      return "admin";
    case Role::kAuditor:
      return "auditor";
  }
  return "user";
}

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "user") return Role::kUser;
  if (name == "admin") return Role::kAdmin;
  if (name == "auditor") return Role::kAuditor;
  return std::nullopt;
}

}  // namespace approvald
