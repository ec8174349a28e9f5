#include "store/memory/user_store.h"

#include <iterator>

namespace approvald {

Status MemoryUserStore::AddUser(const User& user) {
  std::lock_guard lock(mu_);
  if (!users_.emplace(user.username, user).second) {
    return MakeError(ErrorCode::kConflict, "user_exists",
                     "user '" + user.username + "' already exists");
  }
  return Ok();
}

Result<User> MemoryUserStore::GetUser(const std::string& username) {
  std::lock_guard lock(mu_);
  auto it = users_.find(username);
  if (it == users_.end()) {
    return NotFound("user_not_found", "no user '" + username + "'");
  }
  return it->second;
}

Result<std::vector<User>> MemoryUserStore::ListUsers() {
  std::lock_guard lock(mu_);
  std::vector<User> out;
  for (const auto& [name, u] : users_) out.push_back(u);
  return out;
}

Status MemoryUserStore::UpdateUser(const User& user) {
  std::lock_guard lock(mu_);
  auto it = users_.find(user.username);
  if (it == users_.end()) {
    return NotFound("user_not_found", "no user '" + user.username + "'");
  }
  Timestamp created = it->second.created_at;
  it->second = user;
  it->second.created_at = created;
  return Ok();
}

Status MemoryUserStore::CreateSession(const SessionRecord& session) {
  std::lock_guard lock(mu_);
  if (!sessions_.emplace(session.token_hash, session).second) {
    return MakeError(ErrorCode::kConflict, "session_exists",
                     "a session with this token already exists");
  }
  return Ok();
}

Result<std::optional<SessionRecord>> MemoryUserStore::FindSession(
    const std::string& token_hash) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(token_hash);
  if (it == sessions_.end()) return std::optional<SessionRecord>();
  return std::optional<SessionRecord>(it->second);
}

Status MemoryUserStore::DeleteSession(const std::string& token_hash) {
  std::lock_guard lock(mu_);
  sessions_.erase(token_hash);
  return Ok();
}

Result<int> MemoryUserStore::DeleteSessionsOf(const std::string& username) {
  std::lock_guard lock(mu_);
  return static_cast<int>(std::erase_if(
      sessions_, [&](const auto& kv) { return kv.second.username == username; }));
}

Result<int> MemoryUserStore::PurgeExpiredSessions(Timestamp now) {
  std::lock_guard lock(mu_);
  return static_cast<int>(std::erase_if(
      sessions_, [&](const auto& kv) { return kv.second.expires_at <= now; }));
}

}  // namespace approvald
