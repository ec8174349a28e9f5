// Helpers shared by every Store backend, so they agree on the contract to
// the byte: request validation, the errors they return, audit leaf
// construction and attachment addresses. Internal to engine/store.
#ifndef APPROVALD_STORE_COMMON_STORE_COMMON_H_
#define APPROVALD_STORE_COMMON_STORE_COMMON_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "approvald/status.h"
#include "approvald/store.h"

namespace approvald::store_internal {

// Largest page a list or query returns; larger limits are refused so a
// client cannot make the store materialise an unbounded result.
inline constexpr int kMaxLimit = 10000;

// Checks the shape of `req` before any storage is touched: at least one
// event, versions expected_version+1, +2, ... in order, event instance ids 0
// or req.instance, a new instance (instance 0) starting at version 0.
// Returns kInvalidArgument ("bad_append") naming the first problem.
Status ValidateAppend(const AppendRequest& req);

// Writes the instance id the store settled on into the events, the row and
// the tasks, and sets row.version to the version after the append.
void StampInstance(AppendRequest& req, InstanceId id);

// kConflict "version_conflict": instance `id` is at `actual`, not `expected`.
std::unexpected<Error> VersionConflict(InstanceId id, int64_t expected, int64_t actual);
// kConflict "idempotency_mismatch" for a key reused with another request.
std::unexpected<Error> IdempotencyMismatch(const AppendRequest& req);
// kNotFound "instance_not_found".
std::unexpected<Error> InstanceNotFound(InstanceId id);
// kRejected "duplicate_<kind>" (e.g. "duplicate_invoice"): the exclusive
// fact (kind, key) is already held by instance `holder` (FactRow::exclusive).
std::unexpected<Error> DuplicateFact(const FactRow& fact, InstanceId holder);

// kInvalidArgument ("bad_limit") unless 1 <= limit <= kMaxLimit.
Status ValidateLimit(int limit, std::string_view what);

// The audit leaf of one instance event / one record, without its index.
// leaf_data comes from audit/leaf.h; leaf_hash = audit::LeafHash(leaf_data).
AuditEntry EventEntry(const Event& e, const std::string& def_hash);
// The same from the event's canonical bytes (`encoded_event` must be
// EncodeEvent(e)), which a store writes anyway: the event is encoded once.
AuditEntry EventEntry(const Event& e, std::string_view encoded_event,
                      const std::string& def_hash);
AuditEntry RecordEntry(const AuditRecord& rec);

// True if `e` passes the filters of `q` (index pagination excluded).
bool MatchesAuditQuery(const AuditQuery& q, const AuditEntry& e);

// "sha256:<64 lowercase hex>" of `bytes`.
std::string Sha256Address(std::string_view bytes);
// kInvalidArgument ("bad_attachment_hash") unless `address` has that form.
Status ValidateAttachmentAddress(const std::string& address);
// kInvalidArgument ("attachment_too_large") if size > max_size.
Status CheckAttachmentSize(size_t size, int64_t max_size);

// Checks that a checkpoint may follow `latest` in a log of `log_size`
// leaves whose root at cp.size is `root_at_size`: cp.size <= log_size,
// cp.size >= latest size, cp.root == root_at_size. kInvalidArgument naming
// the problem otherwise.
Status ValidateCheckpoint(const Checkpoint& cp, int64_t log_size,
                          const std::optional<Checkpoint>& latest,
                          const Hash& root_at_size);

// kInvalidArgument ("bad_tree_size") unless the arguments name a tree and
// leaves that exist in a log of `log_size` leaves:
//   RootAt:           0 <= size <= log_size
//   InclusionProof:   0 <= index < size <= log_size
//   ConsistencyProof: 0 <= old_size <= new_size <= log_size
Status ValidateRootAt(int64_t size, int64_t log_size);
Status ValidateInclusion(int64_t index, int64_t size, int64_t log_size);
Status ValidateConsistency(int64_t old_size, int64_t new_size, int64_t log_size);

// Lowercase hex of a hash (for messages).
std::string HexOf(const Hash& h);

}  // namespace approvald::store_internal

#endif  // APPROVALD_STORE_COMMON_STORE_COMMON_H_
