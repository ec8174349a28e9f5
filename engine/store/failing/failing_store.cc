#include "store/failing/failing_store.h"

#include <string>
#include <utility>

namespace approvald {

void FailingStore::FailNthCall(int64_t n, When when) {
  std::lock_guard lock(mu_);
  fail_at_ = calls_.load() + n;
  nth_when_ = when;
}

void FailingStore::FailCallsMatching(Predicate pred, When when) {
  std::lock_guard lock(mu_);
  pred_ = std::move(pred);
  pred_when_ = when;
}

void FailingStore::Reset() {
  std::lock_guard lock(mu_);
  fail_at_ = 0;
  pred_ = nullptr;
  calls_.store(0);
  failures_.store(0);
}

std::optional<FailingStore::When> FailingStore::Decide(std::string_view method) {
  std::lock_guard lock(mu_);
  int64_t call = ++calls_;
  std::optional<When> fail;
  if (fail_at_ != 0 && call == fail_at_) {
    fail = nth_when_;
    fail_at_ = 0;
  } else if (pred_ && pred_(method, call)) {
    fail = pred_when_;
  }
  if (fail) ++failures_;
  return fail;
}

namespace {

std::unexpected<Error> Injected(std::string_view method, FailingStore::When when) {
  return Unavailable("injected_fault",
                     "FailingStore: injected failure of " + std::string(method) +
                         (when == FailingStore::When::kAfterCall
                              ? " after the wrapped store ran it"
                              : " before the wrapped store ran it"));
}

}  // namespace

template <class R, class F>
R FailingStore::Wrap(std::string_view method, F&& call) {
  std::optional<When> fail = Decide(method);
  auto injected = [&] { return Injected(method, *fail); };
  if (fail && *fail == When::kBeforeCall) return injected();
  R r = call();
  if (fail) return injected();
  return r;
}

Result<AppendResult> FailingStore::Append(AppendRequest req) {
  return Wrap<Result<AppendResult>>("Append",
                                    [&] { return base_.Append(std::move(req)); });
}
void FailingStore::AppendAsync(AppendRequest req, AppendDone done) {
  std::optional<When> fail = Decide("Append");
  if (fail && *fail == When::kBeforeCall) return done(Injected("Append", *fail));
  if (!fail) return base_.AppendAsync(std::move(req), std::move(done));
  base_.AppendAsync(std::move(req), [done = std::move(done)](Result<AppendResult>) {
    done(Injected("Append", When::kAfterCall));
  });
}
Result<int64_t> FailingStore::AppendAudit(const AuditRecord& rec) {
  return Wrap<Result<int64_t>>("AppendAudit", [&] { return base_.AppendAudit(rec); });
}
Result<std::vector<Event>> FailingStore::LoadEvents(InstanceId id) {
  return Wrap<Result<std::vector<Event>>>("LoadEvents",
                                          [&] { return base_.LoadEvents(id); });
}
Result<InstanceRow> FailingStore::GetInstance(InstanceId id) {
  return Wrap<Result<InstanceRow>>("GetInstance", [&] { return base_.GetInstance(id); });
}
Result<std::vector<InstanceRow>> FailingStore::ListInstances(const InstanceQuery& q) {
  return Wrap<Result<std::vector<InstanceRow>>>("ListInstances",
                                                [&] { return base_.ListInstances(q); });
}
Result<bool> FailingStore::SetNextDeadline(InstanceId id, int64_t version,
                                           std::optional<Timestamp> next_deadline) {
  return Wrap<Result<bool>>("SetNextDeadline", [&] {
    return base_.SetNextDeadline(id, version, next_deadline);
  });
}
Result<std::vector<TaskRow>> FailingStore::ListTasks(const PersonId& person,
                                                     const std::string& kind, int limit) {
  return Wrap<Result<std::vector<TaskRow>>>(
      "ListTasks", [&] { return base_.ListTasks(person, kind, limit); });
}
Result<std::vector<AuditEntry>> FailingStore::QueryAudit(const AuditQuery& q) {
  return Wrap<Result<std::vector<AuditEntry>>>("QueryAudit",
                                               [&] { return base_.QueryAudit(q); });
}
Result<int64_t> FailingStore::AuditSize() {
  return Wrap<Result<int64_t>>("AuditSize", [&] { return base_.AuditSize(); });
}
Status FailingStore::ScanAudit(int64_t from,
                               const std::function<bool(const AuditEntry&)>& fn) {
  return Wrap<Status>("ScanAudit", [&] { return base_.ScanAudit(from, fn); });
}
Result<Hash> FailingStore::RootAt(int64_t size) {
  return Wrap<Result<Hash>>("RootAt", [&] { return base_.RootAt(size); });
}
Result<std::vector<Hash>> FailingStore::InclusionProof(int64_t index, int64_t size) {
  return Wrap<Result<std::vector<Hash>>>(
      "InclusionProof", [&] { return base_.InclusionProof(index, size); });
}
Result<std::vector<Hash>> FailingStore::ConsistencyProof(int64_t old_size,
                                                         int64_t new_size) {
  return Wrap<Result<std::vector<Hash>>>(
      "ConsistencyProof", [&] { return base_.ConsistencyProof(old_size, new_size); });
}
Status FailingStore::SaveCheckpoint(const Checkpoint& cp) {
  return Wrap<Status>("SaveCheckpoint", [&] { return base_.SaveCheckpoint(cp); });
}
Result<std::vector<Checkpoint>> FailingStore::ListCheckpoints() {
  return Wrap<Result<std::vector<Checkpoint>>>("ListCheckpoints",
                                               [&] { return base_.ListCheckpoints(); });
}
Result<std::optional<Checkpoint>> FailingStore::LatestCheckpoint() {
  return Wrap<Result<std::optional<Checkpoint>>>(
      "LatestCheckpoint", [&] { return base_.LatestCheckpoint(); });
}
Result<std::string> FailingStore::PutAttachment(std::string_view bytes,
                                                int64_t max_size) {
  return Wrap<Result<std::string>>("PutAttachment",
                                   [&] { return base_.PutAttachment(bytes, max_size); });
}
Result<std::string> FailingStore::GetAttachment(const std::string& hash) {
  return Wrap<Result<std::string>>("GetAttachment",
                                   [&] { return base_.GetAttachment(hash); });
}
Result<int64_t> FailingStore::AttachmentSize(const std::string& hash) {
  return Wrap<Result<int64_t>>("AttachmentSize",
                               [&] { return base_.AttachmentSize(hash); });
}
Status FailingStore::NameAttachment(const std::string& hash, const std::string& name) {
  return Wrap<Status>("NameAttachment", [&] { return base_.NameAttachment(hash, name); });
}
Result<std::map<std::string, std::string>> FailingStore::AttachmentNames(
    const std::vector<std::string>& hashes) {
  return Wrap<Result<std::map<std::string, std::string>>>(
      "AttachmentNames", [&] { return base_.AttachmentNames(hashes); });
}
Status FailingStore::SaveDefinition(const std::string& id, int version,
                                    const std::string& hash,
                                    const std::string& source_text) {
  return Wrap<Status>("SaveDefinition", [&] {
    return base_.SaveDefinition(id, version, hash, source_text);
  });
}
Result<std::vector<StoredDefinition>> FailingStore::ListDefinitions() {
  return Wrap<Result<std::vector<StoredDefinition>>>(
      "ListDefinitions", [&] { return base_.ListDefinitions(); });
}

Status FailingStore::ScanAuditLeaves(int64_t from, bool with_events,
                                     const std::function<bool(const AuditLeafView&)>& fn) {
  return Wrap<Status>("ScanAuditLeaves",
                      [&] { return base_.ScanAuditLeaves(from, with_events, fn); });
}

Result<int64_t> FailingStore::CountEvents() {
  return Wrap<Result<int64_t>>("CountEvents", [&] { return base_.CountEvents(); });
}

Result<std::vector<FactHit>> FailingStore::FindFacts(const FactQuery& q) {
  return Wrap<Result<std::vector<FactHit>>>("FindFacts",
                                            [&] { return base_.FindFacts(q); });
}

}  // namespace approvald
