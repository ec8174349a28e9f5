#include "store/memory/memory_store.h"

#include <algorithm>
#include <iterator>

#include "store/common/store_common.h"

namespace approvald {

using store_internal::Sha256Address;

// Perfect Merkle nodes kept in vectors, one per level. Called with mu_ held.
class MemoryStore::Nodes final : public audit::NodeReader {
 public:
  explicit Nodes(const std::vector<std::vector<Hash>>& nodes) : nodes_(nodes) {}
  Result<std::vector<Hash>> Read(const std::vector<audit::NodeRef>& refs) override {
    std::vector<Hash> out;
    out.reserve(refs.size());
    for (const audit::NodeRef& r : refs) {
      if (r.level < 0 || static_cast<size_t>(r.level) >= nodes_.size() || r.index < 0 ||
          static_cast<size_t>(r.index) >= nodes_[r.level].size())
        return MakeError(ErrorCode::kInternal, "merkle_node_missing",
                         "Merkle node (level " + std::to_string(r.level) + ", index " +
                             std::to_string(r.index) + ") has not been written");
      out.push_back(nodes_[r.level][r.index]);
    }
    return out;
  }

 private:
  const std::vector<std::vector<Hash>>& nodes_;
};

MemoryStore::MemoryStore() : reader_(std::make_unique<Nodes>(nodes_)) {}
MemoryStore::~MemoryStore() = default;

int64_t MemoryStore::AddLeafLocked(AuditEntry entry) {
  entry.index = appender_.size();
  for (const audit::NodeWrite& w : appender_.Append(entry.leaf_hash)) {
    if (nodes_.size() <= static_cast<size_t>(w.ref.level)) nodes_.resize(w.ref.level + 1);
    // Perfect nodes complete left to right within a level.
    nodes_[w.ref.level].push_back(w.hash);
  }
  audit_.push_back(std::move(entry));
  return audit_.back().index;
}

Result<AppendResult> MemoryStore::Append(AppendRequest req) {
  if (auto s = store_internal::ValidateAppend(req); !s) return std::unexpected(s.error());
  // Leaf bytes are computed outside the lock; only the index is assigned
  // under it. The instance id is not known yet for new instances, so those
  // are computed under the lock.
  std::lock_guard lock(mu_);
  std::pair<std::string, std::string> key(req.idempotency_owner, req.idempotency_key);
  if (!req.idempotency_key.empty()) {
    auto it = idempotency_.find(key);
    if (it != idempotency_.end()) {
      if (it->second.request_hash != req.request_hash)
        return store_internal::IdempotencyMismatch(req);
      AppendResult r = it->second.result;
      r.replayed = true;
      return r;
    }
  }
  InstanceId id = req.instance;
  if (id.value == 0) {
    id.value = instances_.empty() ? 1 : instances_.rbegin()->first + 1;
  } else {
    auto it = instances_.find(id.value);
    if (it == instances_.end()) return store_internal::InstanceNotFound(id);
    int64_t actual = static_cast<int64_t>(it->second.events.size());
    if (actual != req.expected_version)
      return store_internal::VersionConflict(id, req.expected_version, actual);
  }
  if (req.facts) {
    // Exclusive facts: refused before anything is written (store.h FactRow).
    for (const FactRow& f : *req.facts) {
      if (!f.exclusive) continue;
      auto it = fact_index_.find({f.kind, f.key});
      if (it == fact_index_.end()) continue;
      for (int64_t holder : it->second) {
        if (holder == id.value) continue;
        for (const FactRow& h : instances_.at(holder).facts)
          if (h.exclusive && h.kind == f.kind && h.key == f.key)
            return store_internal::DuplicateFact(f, InstanceId{holder});
      }
    }
  }
  store_internal::StampInstance(req, id);

  AppendResult result;
  result.instance = id;
  result.version = req.row.version;
  result.first_leaf = appender_.size();
  for (const Event& e : req.events)
    AddLeafLocked(store_internal::EventEntry(e, req.row.def_hash));

  Instance& inst = instances_[id.value];
  inst.events.insert(inst.events.end(), std::make_move_iterator(req.events.begin()),
                     std::make_move_iterator(req.events.end()));
  inst.row = std::move(req.row);
  inst.tasks = std::move(req.tasks);
  if (req.facts) {
    for (const FactRow& f : inst.facts) {
      auto it = fact_index_.find({f.kind, f.key});
      if (it == fact_index_.end()) continue;
      it->second.erase(id.value);
      if (it->second.empty()) fact_index_.erase(it);
    }
    inst.facts = std::move(*req.facts);
    for (const FactRow& f : inst.facts) fact_index_[{f.kind, f.key}].insert(id.value);
  }
  if (!req.idempotency_key.empty())
    idempotency_[key] = Idempotent{req.request_hash, result};
  return result;
}

Result<int64_t> MemoryStore::AppendAudit(const AuditRecord& rec) {
  AuditEntry entry = store_internal::RecordEntry(rec);
  std::lock_guard lock(mu_);
  return AddLeafLocked(std::move(entry));
}

Result<std::vector<Event>> MemoryStore::LoadEvents(InstanceId id) {
  std::lock_guard lock(mu_);
  auto it = instances_.find(id.value);
  if (it == instances_.end()) return store_internal::InstanceNotFound(id);
  return it->second.events;
}

Result<InstanceRow> MemoryStore::GetInstance(InstanceId id) {
  std::lock_guard lock(mu_);
  auto it = instances_.find(id.value);
  if (it == instances_.end()) return store_internal::InstanceNotFound(id);
  return it->second.row;
}

Result<std::vector<InstanceRow>> MemoryStore::ListInstances(const InstanceQuery& q) {
  if (auto s = store_internal::ValidateLimit(q.limit, "ListInstances"); !s)
    return std::unexpected(s.error());
  std::lock_guard lock(mu_);
  std::vector<InstanceRow> out;
  for (auto it = instances_.upper_bound(q.after_id);
       it != instances_.end() && out.size() < static_cast<size_t>(q.limit); ++it) {
    const Instance& inst = it->second;
    const InstanceRow& row = inst.row;
    if (q.workflow && row.workflow != *q.workflow) continue;
    if (q.status && row.status != *q.status) continue;
    if (q.submitter && row.submitter != *q.submitter) continue;
    if (q.due_by && !(row.next_deadline && *row.next_deadline <= *q.due_by)) continue;
    if (q.involved && row.submitter != *q.involved &&
        std::none_of(inst.tasks.begin(), inst.tasks.end(),
                     [&](const TaskRow& t) { return t.person == *q.involved; }))
      continue;
    out.push_back(row);
  }
  return out;
}

Result<bool> MemoryStore::SetNextDeadline(InstanceId id, int64_t version,
                                          std::optional<Timestamp> next_deadline) {
  std::lock_guard lock(mu_);
  auto it = instances_.find(id.value);
  if (it == instances_.end() || it->second.row.version != version) return false;
  it->second.row.next_deadline = next_deadline;
  return true;
}

Result<std::vector<TaskRow>> MemoryStore::ListTasks(const PersonId& person,
                                                    const std::string& kind, int limit) {
  if (auto s = store_internal::ValidateLimit(limit, "ListTasks"); !s)
    return std::unexpected(s.error());
  std::vector<TaskRow> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, inst] : instances_)
      for (const TaskRow& t : inst.tasks)
        if (t.person == person && t.kind == kind) out.push_back(t);
  }
  // Newest first; ties broken as the SQLite backend does.
  std::sort(out.begin(), out.end(), [](const TaskRow& a, const TaskRow& b) {
    if (a.since != b.since) return a.since > b.since;
    if (a.instance != b.instance) return a.instance > b.instance;
    return a.node < b.node;
  });
  if (out.size() > static_cast<size_t>(limit)) out.resize(limit);
  return out;
}

Result<std::vector<AuditEntry>> MemoryStore::QueryAudit(const AuditQuery& q) {
  if (auto s = store_internal::ValidateLimit(q.limit, "QueryAudit"); !s)
    return std::unexpected(s.error());
  std::lock_guard lock(mu_);
  std::vector<AuditEntry> out;
  for (size_t i = static_cast<size_t>(std::max<int64_t>(q.after_index + 1, 0));
       i < audit_.size() && out.size() < static_cast<size_t>(q.limit); ++i)
    if (store_internal::MatchesAuditQuery(q, audit_[i])) out.push_back(audit_[i]);
  return out;
}

Result<int64_t> MemoryStore::AuditSize() {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(audit_.size());
}

Status MemoryStore::ScanAudit(int64_t from,
                              const std::function<bool(const AuditEntry&)>& fn) {
  // Copies a chunk under the lock and calls `fn` without it, so `fn` may call
  // back into the store and memory stays bounded by the chunk.
  constexpr size_t kChunk = 1024;
  size_t next = static_cast<size_t>(std::max<int64_t>(from, 0));
  for (;;) {
    std::vector<AuditEntry> chunk;
    {
      std::lock_guard lock(mu_);
      size_t end = std::min(audit_.size(), next + kChunk);
      if (next >= end) return Ok();
      chunk.assign(audit_.begin() + next, audit_.begin() + end);
    }
    for (const AuditEntry& e : chunk)
      if (!fn(e)) return Ok();
    next += chunk.size();
  }
}

Status MemoryStore::ScanAuditLeaves(int64_t from, bool with_events,
                                    const std::function<bool(const AuditLeafView&)>& fn) {
  struct Copied {
    AuditEntry entry;
    std::optional<std::string> body;
    std::optional<std::string> def_hash;
  };
  constexpr size_t kChunk = 1024;
  size_t next = static_cast<size_t>(std::max<int64_t>(from, 0));
  for (;;) {
    std::vector<Copied> chunk;
    {
      std::lock_guard lock(mu_);
      size_t end = std::min(audit_.size(), next + kChunk);
      if (next >= end) return Ok();
      for (size_t i = next; i < end; ++i) {
        Copied c{audit_[i], std::nullopt, std::nullopt};
        if (with_events && c.entry.kind == "event") {
          auto it = instances_.find(c.entry.instance.value);
          if (it != instances_.end()) {
            c.def_hash = it->second.row.def_hash;
            const std::vector<Event>& events = it->second.events;
            if (c.entry.version >= 1 &&
                c.entry.version <= static_cast<int64_t>(events.size()))
              c.body = EncodeEvent(events[c.entry.version - 1]);
          }
        }
        chunk.push_back(std::move(c));
      }
    }
    for (const Copied& c : chunk) {
      AuditLeafView v = AuditLeafView::Of(c.entry);
      if (c.body) v.event_body = *c.body;
      if (c.def_hash) v.instance_def_hash = *c.def_hash;
      if (!fn(v)) return Ok();
    }
    next += chunk.size();
  }
}

Result<int64_t> MemoryStore::CountEvents() {
  std::lock_guard lock(mu_);
  int64_t n = 0;
  for (const auto& [id, inst] : instances_) n += static_cast<int64_t>(inst.events.size());
  return n;
}

Result<Hash> MemoryStore::RootAt(int64_t size) {
  std::lock_guard lock(mu_);
  if (auto s = store_internal::ValidateRootAt(size, appender_.size()); !s)
    return std::unexpected(s.error());
  return audit::RootAt(*reader_, size);
}

Result<std::vector<Hash>> MemoryStore::InclusionProof(int64_t index, int64_t size) {
  std::lock_guard lock(mu_);
  if (auto s = store_internal::ValidateInclusion(index, size, appender_.size()); !s)
    return std::unexpected(s.error());
  return audit::InclusionProof(*reader_, index, size);
}

Result<std::vector<Hash>> MemoryStore::ConsistencyProof(int64_t old_size,
                                                        int64_t new_size) {
  std::lock_guard lock(mu_);
  if (auto s = store_internal::ValidateConsistency(old_size, new_size, appender_.size());
      !s)
    return std::unexpected(s.error());
  return audit::ConsistencyProof(*reader_, old_size, new_size);
}

Status MemoryStore::SaveCheckpoint(const Checkpoint& cp) {
  std::lock_guard lock(mu_);
  std::optional<Checkpoint> latest;
  if (!checkpoints_.empty()) latest = checkpoints_.back();
  Hash root{};
  if (cp.size >= 0 && cp.size <= appender_.size()) {
    auto r = audit::RootAt(*reader_, cp.size);
    if (!r) return std::unexpected(r.error());
    root = *r;
  }
  if (auto s = store_internal::ValidateCheckpoint(cp, appender_.size(), latest, root); !s)
    return s;
  checkpoints_.push_back(cp);
  return Ok();
}

Result<std::vector<Checkpoint>> MemoryStore::ListCheckpoints() {
  std::lock_guard lock(mu_);
  return checkpoints_;
}

Result<std::optional<Checkpoint>> MemoryStore::LatestCheckpoint() {
  std::lock_guard lock(mu_);
  if (checkpoints_.empty()) return std::optional<Checkpoint>();
  return std::optional<Checkpoint>(checkpoints_.back());
}

Result<std::string> MemoryStore::PutAttachment(std::string_view bytes, int64_t max_size) {
  if (auto s = store_internal::CheckAttachmentSize(bytes.size(), max_size); !s)
    return std::unexpected(s.error());
  std::string address = Sha256Address(bytes);
  std::lock_guard lock(mu_);
  attachments_.try_emplace(address, bytes);
  return address;
}

Result<std::string> MemoryStore::GetAttachment(const std::string& hash) {
  if (auto s = store_internal::ValidateAttachmentAddress(hash); !s)
    return std::unexpected(s.error());
  std::lock_guard lock(mu_);
  auto it = attachments_.find(hash);
  if (it == attachments_.end())
    return NotFound("attachment_not_found", "no attachment " + hash);
  return it->second;
}

Result<int64_t> MemoryStore::AttachmentSize(const std::string& hash) {
  if (auto s = store_internal::ValidateAttachmentAddress(hash); !s)
    return std::unexpected(s.error());
  std::lock_guard lock(mu_);
  auto it = attachments_.find(hash);
  if (it == attachments_.end())
    return NotFound("attachment_not_found", "no attachment " + hash);
  return static_cast<int64_t>(it->second.size());
}

Status MemoryStore::NameAttachment(const std::string& hash, const std::string& name) {
  if (auto s = store_internal::ValidateAttachmentAddress(hash); !s) return s;
  std::lock_guard lock(mu_);
  if (!attachments_.count(hash))
    return NotFound("attachment_not_found", "no attachment " + hash);
  auto& names = attachment_names_[hash];
  if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  return Ok();
}

Result<std::map<std::string, std::string>> MemoryStore::AttachmentNames(
    const std::vector<std::string>& hashes) {
  std::lock_guard lock(mu_);
  std::map<std::string, std::string> out;
  for (const std::string& h : hashes) {
    auto it = attachment_names_.find(h);
    if (it != attachment_names_.end() && !it->second.empty()) out[h] = it->second.front();
  }
  return out;
}

Status MemoryStore::SaveDefinition(const std::string& id, int version,
                                   const std::string& hash,
                                   const std::string& source_text) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = definitions_.try_emplace(
      {id, version}, StoredDefinition{id, version, hash, source_text});
  if (!inserted && it->second.hash != hash)
    return MakeError(ErrorCode::kConflict, "definition_version_exists",
                     "workflow " + id + " version " + std::to_string(version) +
                         " is already stored with hash " + it->second.hash +
                         "; a changed definition needs a new version");
  return Ok();
}

Result<std::vector<StoredDefinition>> MemoryStore::ListDefinitions() {
  std::lock_guard lock(mu_);
  std::vector<StoredDefinition> out;
  out.reserve(definitions_.size());
  for (const auto& [key, def] : definitions_) out.push_back(def);
  return out;
}

Result<std::vector<FactHit>> MemoryStore::FindFacts(const FactQuery& q) {
  std::lock_guard lock(mu_);
  std::set<int64_t> ids;
  for (const std::string& key : q.keys) {
    auto it = fact_index_.find({q.kind, key});
    if (it != fact_index_.end()) ids.insert(it->second.begin(), it->second.end());
  }
  std::set<std::string> keys(q.keys.begin(), q.keys.end());
  std::vector<FactHit> out;
  for (int64_t id : ids) {
    if (id == q.exclude.value) continue;
    const Instance& inst = instances_.at(id);
    if (std::find(q.statuses.begin(), q.statuses.end(), inst.row.status) ==
        q.statuses.end())
      continue;
    std::vector<const FactRow*> rows;
    for (const FactRow& f : inst.facts)
      if (f.kind == q.kind && keys.count(f.key)) rows.push_back(&f);
    std::stable_sort(rows.begin(), rows.end(),
                     [](const FactRow* a, const FactRow* b) { return a->key < b->key; });
    for (const FactRow* f : rows) {
      FactHit hit{InstanceId{id}, *f};
      if (out.empty() || !(out.back() == hit)) out.push_back(std::move(hit));
    }
  }
  return out;
}

}  // namespace approvald
