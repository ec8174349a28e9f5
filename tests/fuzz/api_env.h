// An in-memory approvald for the API fuzz targets: the real organisation and
// the shipped workflows, the real engine over a MemoryStore, an AuthService
// over a MemoryUserStore with a handful of logged-in users, and the router's
// Services. No sockets, no files written.
//
// State accumulates as inputs submit instances and act on them, which lets
// the fuzzer reach deep paths; Reset() starts from scratch. The targets reset
// every kInputsPerEnv inputs so memory stays bounded and a crash reproduces
// from the reported input plus at most that many predecessors (in practice
// a crashing input replays alone: every target also resets before replaying
// a file, see replay_main.cc and APPROVAL_FUZZ_RESET_EACH).
#ifndef APPROVALD_TESTS_FUZZ_API_ENV_H_
#define APPROVALD_TESTS_FUZZ_API_ENV_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "api/auth.h"
#include "api/limits.h"
#include "api/metrics.h"
#include "api/router.h"
#include "approvald/clock.h"
#include "core/registry.h"
#include "service/engine.h"
#include "store/memory/memory_store.h"
#include "store/memory/user_store.h"

namespace approvald::fuzz {

// How many inputs one environment serves before it is rebuilt.
inline constexpr int kInputsPerEnv = 200;

// The usernames the environment logs in (each is also the person id, except
// "audit" (auditor) and "root" (admin), which have no person).
//   zhang_min    clerk in the office; has submitted instance `instance_id()`
//   lin_xiaoyan  head of the office: the first approver of that instance
//   zheng_li     head of finance
//   li_jianhua   deputy head supervising the office
//   audit        auditor
//   root         administrator
class ApiEnv {
 public:
  // Loads config/org.yaml and the workflows under APPROVAL_SOURCE_DIR. Aborts
  // with a message if they do not load (the harness is broken, not the input).
  ApiEnv();
  ~ApiEnv();

  // Answers `req`. Before routing, an "Authorization: Bearer @<username>"
  // header is replaced by that user's real token, so corpus files stay
  // readable and deterministic.
  api::Response Route(api::Request req);

  // The token of `username` ("" if unknown).
  std::string Token(const std::string& username) const;
  // The expense instance zhang_min submitted when the environment was built.
  int64_t instance_id() const { return instance_id_; }
  const WorkflowRegistry& registry() const { return registry_; }

 private:
  FakeClock clock_;
  MemoryStore store_;
  MemoryUserStore users_;
  api::AuthService auth_;
  api::RateLimiter limiter_;
  api::Metrics metrics_;
  api::ApiOptions options_;
  WorkflowRegistry registry_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<api::Services> services_;
  int64_t mono_ms_ = 0;
  std::map<std::string, std::string> tokens_;
  int64_t instance_id_ = 0;
};

// The process-wide environment, rebuilt every kInputsPerEnv calls (or at
// every call when the environment variable APPROVAL_FUZZ_RESET_EACH is set,
// which replay_main.cc does).
ApiEnv& SharedEnv();

}  // namespace approvald::fuzz

#endif  // APPROVALD_TESTS_FUZZ_API_ENV_H_
