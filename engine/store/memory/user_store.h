// MemoryUserStore: the UserStore port in memory, for tests and development.
// Same contract as SqliteUserStore; nothing survives the object.
// Thread-safe: one mutex serialises every call.
#ifndef APPROVALD_STORE_MEMORY_USER_STORE_H_
#define APPROVALD_STORE_MEMORY_USER_STORE_H_

#include <map>
#include <mutex>
#include <string>

#include "approvald/user_store.h"

namespace approvald {

class MemoryUserStore final : public UserStore {
 public:
  Status AddUser(const User& user) override;
  Result<User> GetUser(const std::string& username) override;
  Result<std::vector<User>> ListUsers() override;
  Status UpdateUser(const User& user) override;
  Status CreateSession(const SessionRecord& session) override;
  Result<std::optional<SessionRecord>> FindSession(
      const std::string& token_hash) override;
  Status DeleteSession(const std::string& token_hash) override;
  Result<int> DeleteSessionsOf(const std::string& username) override;
  Result<int> PurgeExpiredSessions(Timestamp now) override;

 private:
  std::mutex mu_;
  std::map<std::string, User> users_;
  std::map<std::string, SessionRecord> sessions_;
};

}  // namespace approvald

#endif  // APPROVALD_STORE_MEMORY_USER_STORE_H_
