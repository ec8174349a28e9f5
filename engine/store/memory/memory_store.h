// MemoryStore: the Store port in memory, for tests and development runs.
//
// Same contract as the SQLite backend, byte for byte where it matters:
// version conflicts, idempotency, projections replaced per append, one audit
// leaf per event with its Merkle nodes, checkpoints validated against the
// log, content-addressed attachments, definition versions. Nothing survives
// the object. Thread-safe: one mutex serialises every call, so each call is
// atomic with respect to the others.
#ifndef APPROVALD_STORE_MEMORY_MEMORY_STORE_H_
#define APPROVALD_STORE_MEMORY_MEMORY_STORE_H_

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "approvald/store.h"
#include "audit/merkle.h"

namespace approvald {

class MemoryStore final : public Store {
 public:
  MemoryStore();
  ~MemoryStore() override;
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  Result<AppendResult> Append(AppendRequest req) override;
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
  // Copies chunks under the lock (event bodies encoded with EncodeEvent)
  // and calls `fn` without it.
  Status ScanAuditLeaves(int64_t from, bool with_events,
                         const std::function<bool(const AuditLeafView&)>& fn) override;
  Result<int64_t> CountEvents() override;

 private:
  struct Instance {
    std::vector<Event> events;
    InstanceRow row;
    std::vector<TaskRow> tasks;
    std::vector<FactRow> facts;
  };
  struct Idempotent {
    std::string request_hash;
    AppendResult result;
  };
  class Nodes;  // NodeReader over nodes_

  // Adds one leaf under mu_: the entry, its Merkle nodes.
  int64_t AddLeafLocked(AuditEntry entry);

  std::mutex mu_;
  std::map<int64_t, Instance> instances_;
  std::map<std::pair<std::string, std::string>, Idempotent> idempotency_;
  std::vector<AuditEntry> audit_;
  std::vector<std::vector<Hash>> nodes_;  // nodes_[level][index]
  std::unique_ptr<Nodes> reader_;
  audit::TreeAppender appender_;
  std::vector<Checkpoint> checkpoints_;
  std::map<std::string, std::string> attachments_;
  std::map<std::string, std::vector<std::string>> attachment_names_;  // in order recorded
  std::map<std::pair<std::string, int>, StoredDefinition> definitions_;
  // (kind, key) -> instances stating that fact: the index FindFacts uses.
  std::map<std::pair<std::string, std::string>, std::set<int64_t>> fact_index_;
};

}  // namespace approvald

#endif  // APPROVALD_STORE_MEMORY_MEMORY_STORE_H_
