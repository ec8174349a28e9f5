// A Store that only records AppendAudit calls, for auth tests that need an
// audit sink and nothing else. Every other method fails kUnavailable.
#ifndef APPROVALD_TESTS_API_AUDIT_RECORDER_H_
#define APPROVALD_TESTS_API_AUDIT_RECORDER_H_

#include <mutex>
#include <vector>

#include "approvald/store.h"

namespace approvald::api::testing {

class AuditRecorder final : public Store {
 public:
  std::vector<AuditRecord> records() {
    std::lock_guard l(mu_);
    return records_;
  }
  Result<int64_t> AppendAudit(const AuditRecord& rec) override {
    std::lock_guard l(mu_);
    records_.push_back(rec);
    return static_cast<int64_t>(records_.size() - 1);
  }

#define APPROVALD_NOT_HERE { return Unavailable("not_here", "AuditRecorder"); }
  Result<AppendResult> Append(AppendRequest) override APPROVALD_NOT_HERE
  Result<std::vector<Event>> LoadEvents(InstanceId) override APPROVALD_NOT_HERE
  Result<InstanceRow> GetInstance(InstanceId) override APPROVALD_NOT_HERE
  Result<std::vector<InstanceRow>> ListInstances(const InstanceQuery&) override APPROVALD_NOT_HERE
  Result<std::vector<TaskRow>> ListTasks(const PersonId&, const std::string&, int) override
      APPROVALD_NOT_HERE
  Result<std::vector<AuditEntry>> QueryAudit(const AuditQuery&) override APPROVALD_NOT_HERE
  Result<int64_t> AuditSize() override APPROVALD_NOT_HERE
  Status ScanAudit(int64_t, const std::function<bool(const AuditEntry&)>&) override
      APPROVALD_NOT_HERE
  Result<Hash> RootAt(int64_t) override APPROVALD_NOT_HERE
  Result<std::vector<Hash>> InclusionProof(int64_t, int64_t) override APPROVALD_NOT_HERE
  Result<std::vector<Hash>> ConsistencyProof(int64_t, int64_t) override APPROVALD_NOT_HERE
  Status SaveCheckpoint(const Checkpoint&) override APPROVALD_NOT_HERE
  Result<std::vector<Checkpoint>> ListCheckpoints() override APPROVALD_NOT_HERE
  Result<std::optional<Checkpoint>> LatestCheckpoint() override APPROVALD_NOT_HERE
  Result<std::string> PutAttachment(std::string_view, int64_t) override APPROVALD_NOT_HERE
  Result<std::string> GetAttachment(const std::string&) override APPROVALD_NOT_HERE
  Result<int64_t> AttachmentSize(const std::string&) override APPROVALD_NOT_HERE
  Status SaveDefinition(const std::string&, int, const std::string&, const std::string&) override
      APPROVALD_NOT_HERE
  Result<std::vector<StoredDefinition>> ListDefinitions() override APPROVALD_NOT_HERE
#undef APPROVALD_NOT_HERE

 private:
  std::mutex mu_;
  std::vector<AuditRecord> records_;
};

}  // namespace approvald::api::testing

#endif  // APPROVALD_TESTS_API_AUDIT_RECORDER_H_
