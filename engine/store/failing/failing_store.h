// FailingStore: wraps another Store and makes chosen calls fail with
// kUnavailable, for fault-injection tests (as leveldb's ErrorEnv).
//
// By default every call passes through. FailNthCall(n) fails the n-th call
// counted from then on; FailCallsMatching(pred) fails every call for which
// the predicate holds. A failure is injected either before the wrapped store
// is called (kBeforeCall: nothing happened, as when the disk refuses a
// write) or after it returned (kAfterCall: the write is stored but the
// caller hears kUnavailable, as when a reply is lost after COMMIT) — the
// case idempotency keys exist for.
//
// Thread-safe if the wrapped store is. The wrapped store must outlive this.
#ifndef APPROVALD_STORE_FAILING_FAILING_STORE_H_
#define APPROVALD_STORE_FAILING_FAILING_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string_view>

#include "approvald/store.h"

namespace approvald {

class FailingStore final : public Store {
 public:
  enum class When { kBeforeCall, kAfterCall };
  // Decides whether call number `call` (1-based, counting every method
  // since construction or the last Reset) to method `method` ("Append",
  // "LoadEvents", ... the Store method's name) fails.
  using Predicate = std::function<bool(std::string_view method, int64_t call)>;

  explicit FailingStore(Store& base) : base_(base) {}

  // Fails the n-th call from now (n >= 1), once.
  void FailNthCall(int64_t n, When when = When::kBeforeCall);
  // Fails every call for which `pred` returns true, until Reset.
  void FailCallsMatching(Predicate pred, When when = When::kBeforeCall);
  // Back to pass-through; restarts the call count.
  void Reset();
  // Calls seen since construction or the last Reset, and how many failed.
  int64_t calls() const { return calls_.load(); }
  int64_t injected_failures() const { return failures_.load(); }

  Result<AppendResult> Append(AppendRequest req) override;
  // Counted and failed as a call to "Append" (the same write, answered
  // later): a plan that fails the n-th Append fails it whichever way the
  // caller waits. kBeforeCall answers `done` at once and the wrapped store
  // never sees the request; kAfterCall lets the wrapped store append it and
  // then answers kUnavailable.
  void AppendAsync(AppendRequest req, AppendDone done) override;
  Result<int64_t> AppendAudit(const AuditRecord& rec) override;
  Result<std::vector<Event>> LoadEvents(InstanceId id) override;
  Result<InstanceRow> GetInstance(InstanceId id) override;
  Result<std::vector<InstanceRow>> ListInstances(const InstanceQuery& q) override;
  Result<bool> SetNextDeadline(InstanceId id, int64_t version,
                               std::optional<Timestamp> next_deadline) override;
  Result<std::vector<TaskRow>> ListTasks(const PersonId& person, const std::string& kind,
                                         int limit) override;
  Result<std::vector<AuditEntry>> QueryAudit(const AuditQuery& q) override;
  Result<int64_t> AuditSize() override;
  Status ScanAudit(int64_t from,
                   const std::function<bool(const AuditEntry&)>& fn) override;
  Result<Hash> RootAt(int64_t size) override;
  Result<std::vector<Hash>> InclusionProof(int64_t index, int64_t size) override;
  Result<std::vector<Hash>> ConsistencyProof(int64_t old_size, int64_t new_size) override;
  Status SaveCheckpoint(const Checkpoint& cp) override;
  Result<std::vector<Checkpoint>> ListCheckpoints() override;
  Result<std::optional<Checkpoint>> LatestCheckpoint() override;
  Result<std::string> PutAttachment(std::string_view bytes, int64_t max_size) override;
  Result<std::string> GetAttachment(const std::string& hash) override;
  Result<int64_t> AttachmentSize(const std::string& hash) override;
  Status NameAttachment(const std::string& hash, const std::string& name) override;
  Result<std::map<std::string, std::string>> AttachmentNames(
      const std::vector<std::string>& hashes) override;
  Status SaveDefinition(const std::string& id, int version, const std::string& hash,
                        const std::string& source_text) override;
  Result<std::vector<StoredDefinition>> ListDefinitions() override;
  Result<std::vector<FactHit>> FindFacts(const FactQuery& q) override;
  Status ScanAuditLeaves(int64_t from, bool with_events,
                         const std::function<bool(const AuditLeafView&)>& fn) override;
  Result<int64_t> CountEvents() override;

 private:
  // Counts the call and decides: nullopt to pass, else when to fail.
  std::optional<When> Decide(std::string_view method);
  // Runs `call` on the base store, failing it as decided.
  template <class R, class F>
  R Wrap(std::string_view method, F&& call);

  Store& base_;
  std::atomic<int64_t> calls_{0};
  std::atomic<int64_t> failures_{0};
  std::mutex mu_;
  int64_t fail_at_ = 0;  // absolute call number to fail; 0 = none
  When nth_when_ = When::kBeforeCall;
  Predicate pred_;
  When pred_when_ = When::kBeforeCall;
};

}  // namespace approvald

#endif  // APPROVALD_STORE_FAILING_FAILING_STORE_H_
