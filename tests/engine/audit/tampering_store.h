// Test-only Store decorator that plays the operator with shell access to the
// database: it alters what the wrapped store returns (audit rows, events,
// instance rows, checkpoints, definitions) without going through the Store
// contract, the way `sqlite3 data.db "UPDATE ..."` would behind the
// triggers' back. Every other call passes through.
#ifndef APPROVALD_TESTS_ENGINE_AUDIT_TAMPERING_STORE_H_
#define APPROVALD_TESTS_ENGINE_AUDIT_TAMPERING_STORE_H_

#include <functional>
#include <optional>
#include <vector>

#include "approvald/store.h"
#include "audit/merkle.h"

namespace approvald::testing {

class TamperingStore final : public Store {
 public:
  explicit TamperingStore(Store& base) : base_(base) {}

  // Edits the audit rows as stored (sorted by index; keep `index` as the
  // row's position key, or erase rows to delete them).
  std::function<void(std::vector<AuditEntry>&)> tamper_log;
  // Edits the events LoadEvents returns for an instance.
  std::function<void(InstanceId, std::vector<Event>&)> tamper_events;
  // Makes LoadEvents fail for an instance (as a store does when its own rows
  // no longer decode); nullopt lets the call through.
  std::function<std::optional<Error>(InstanceId)> fail_load_events;
  std::function<void(InstanceRow&)> tamper_instance;
  std::function<void(std::vector<Checkpoint>&)> tamper_checkpoints;
  std::function<void(std::vector<StoredDefinition>&)> tamper_definitions;
  // The operator also rewrote the stored Merkle nodes to match the tampered
  // rows' leaf hashes, so RootAt agrees with them.
  bool rewrite_tree = false;
  // Edits the root the store's tree yields for `size` (altered tree nodes).
  std::function<void(int64_t size, Hash& root)> tamper_root;

  std::vector<AuditEntry> Rows() {
    std::vector<AuditEntry> rows;
    (void)base_.ScanAudit(0, [&](const AuditEntry& e) {
      rows.push_back(e);
      return true;
    });
    if (tamper_log) tamper_log(rows);
    return rows;
  }

  Result<AppendResult> Append(AppendRequest req) override {
    return base_.Append(std::move(req));
  }
  Result<int64_t> AppendAudit(const AuditRecord& rec) override {
    return base_.AppendAudit(rec);
  }
  Result<std::vector<Event>> LoadEvents(InstanceId id) override {
    if (fail_load_events) {
      if (auto error = fail_load_events(id)) return std::unexpected(*error);
    }
    auto events = base_.LoadEvents(id);
    if (events && tamper_events) tamper_events(id, *events);
    return events;
  }
  Result<InstanceRow> GetInstance(InstanceId id) override {
    auto row = base_.GetInstance(id);
    if (row && tamper_instance) tamper_instance(*row);
    return row;
  }
  Result<std::vector<InstanceRow>> ListInstances(const InstanceQuery& q) override {
    return base_.ListInstances(q);
  }
  Result<std::vector<TaskRow>> ListTasks(const PersonId& person, const std::string& kind,
                                         int limit) override {
    return base_.ListTasks(person, kind, limit);
  }
  Result<std::vector<AuditEntry>> QueryAudit(const AuditQuery& q) override {
    return base_.QueryAudit(q);
  }
  Result<int64_t> AuditSize() override { return base_.AuditSize(); }
  Status ScanAudit(int64_t from,
                   const std::function<bool(const AuditEntry&)>& fn) override {
    if (!tamper_log) return base_.ScanAudit(from, fn);
    for (const AuditEntry& e : Rows()) {
      if (e.index >= from && !fn(e)) break;
    }
    return Ok();
  }
  Result<Hash> RootAt(int64_t size) override {
    Result<Hash> root = base_.RootAt(size);
    if (rewrite_tree) {
      audit::MemoryTree t;
      for (const AuditEntry& e : Rows()) {
        if (t.size() == size) break;
        t.AppendHash(e.leaf_hash);
      }
      root = t.Root();
    }
    if (root && tamper_root) tamper_root(size, *root);
    return root;
  }
  Result<std::vector<Hash>> InclusionProof(int64_t index, int64_t size) override {
    return base_.InclusionProof(index, size);
  }
  Result<std::vector<Hash>> ConsistencyProof(int64_t old_size,
                                             int64_t new_size) override {
    return base_.ConsistencyProof(old_size, new_size);
  }
  Status SaveCheckpoint(const Checkpoint& cp) override {
    return base_.SaveCheckpoint(cp);
  }
  Result<std::vector<Checkpoint>> ListCheckpoints() override {
    auto cps = base_.ListCheckpoints();
    if (cps && tamper_checkpoints) tamper_checkpoints(*cps);
    return cps;
  }
  Result<std::optional<Checkpoint>> LatestCheckpoint() override {
    auto cps = ListCheckpoints();
    if (!cps) return std::unexpected(cps.error());
    if (cps->empty()) return std::optional<Checkpoint>();
    return std::optional<Checkpoint>(cps->back());
  }
  Result<std::string> PutAttachment(std::string_view bytes, int64_t max_size) override {
    return base_.PutAttachment(bytes, max_size);
  }
  Result<std::string> GetAttachment(const std::string& hash) override {
    return base_.GetAttachment(hash);
  }
  Result<int64_t> AttachmentSize(const std::string& hash) override {
    return base_.AttachmentSize(hash);
  }
  Status SaveDefinition(const std::string& id, int version, const std::string& hash,
                        const std::string& source_text) override {
    return base_.SaveDefinition(id, version, hash, source_text);
  }
  Result<std::vector<StoredDefinition>> ListDefinitions() override {
    auto defs = base_.ListDefinitions();
    if (defs && tamper_definitions) tamper_definitions(*defs);
    return defs;
  }

 private:
  Store& base_;
};

}  // namespace approvald::testing

#endif  // APPROVALD_TESTS_ENGINE_AUDIT_TAMPERING_STORE_H_
