// The Store port: durable, append-only history of instances plus the
// projections (instance rows, task rows) and the audit log built from it.
//
// Implementations: store/memory (tests, dev), store/sqlite (embedded
// default), store/failing (wraps another, fails its Nth call). A PostgreSQL
// backend implements the same interface; nothing above the store knows which
// one runs. All methods are thread-safe.
#ifndef APPROVALD_STORE_H_
#define APPROVALD_STORE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "approvald/event.h"
#include "approvald/status.h"
#include "approvald/types.h"

namespace approvald {

using Hash = std::array<uint8_t, 32>;  // SHA-256

// The instance projection, computed by the service from the folded state and
// written by the store in the same transaction as the events.
struct InstanceRow {
  InstanceId id;
  std::string workflow;         // workflow id
  int workflow_version = 0;
  std::string def_hash;         // "sha256:..." of the definition it runs on
  std::string status;           // "running" | "approved" | "rejected" | "withdrawn" | "cancelled"
  PersonId submitter;
  std::string title;            // short summary for lists
  Money amount;                 // the instance's headline amount, 0 if none
  std::string current_nodes;    // comma-separated active node ids
  int64_t version = 0;          // number of events
  Timestamp created_at;
  Timestamp updated_at;
  // The earliest deadline of the instance's active tasks; unset if none has
  // one. What Engine::Tick asks for (InstanceQuery::due_by), so that finding
  // the instances whose deadline passed does not read every running one.
  std::optional<Timestamp> next_deadline;
};

// One person's relation to one instance. The service passes the complete set
// for an instance on every append; the store replaces the previous set.
struct TaskRow {
  InstanceId instance;
  std::string node;
  PersonId person;
  std::string kind;             // "pending" | "done" | "cc"
  Timestamp since;
};

// A fact one instance states for the built-in checks of other instances: an
// invoice number it claims, a purchase it makes (core/checks.h,
// kFactInvoiceNumbers / kFactPurchases). Computed by the service
// (service/facts.h) and stored with the events, like the task rows; indexed
// by (kind, key) so a check's facts are one lookup, not a scan.
struct FactRow {
  std::string kind;             // "invoice" | "purchase" | "supplier" | "decision" (service/facts.h)
  std::string key;              // invoice number, budget project, supplier, decision number
  Value::Record data;           // what the check reads (e.g. a PurchaseFact); may be empty
  // At most one instance holds an exclusive fact of a given (kind, key):
  // Append refuses a request whose exclusive fact another instance already
  // holds as exclusive, kRejected "duplicate_<kind>" (e.g.
  // "duplicate_invoice"), and stores nothing of it. Checked in the same
  // transaction as the write, so two concurrent appends cannot both win.
  bool exclusive = false;
  bool operator==(const FactRow&) const = default;
};

// Which facts FindFacts returns.
struct FactQuery {
  std::string kind;
  std::vector<std::string> keys;   // rows whose key is any of these; empty: none
  InstanceId exclude;              // leave this instance out (0: none)
  // Only facts of instances whose projected status is one of these.
  std::vector<std::string> statuses = {"running", "approved"};
};

struct FactHit {
  InstanceId instance;
  FactRow fact;
  bool operator==(const FactHit&) const = default;
};

struct AppendRequest {
  InstanceId instance;          // 0: a new instance; the store assigns its id,
                                // fills it into `events` and `row`
  int64_t expected_version = 0; // events already stored for the instance
  std::vector<Event> events;    // versions expected_version+1, +2, ...
  InstanceRow row;
  std::vector<TaskRow> tasks;
  // Optional idempotency: a repeated (owner, key) with the same request_hash
  // returns the first result with `replayed` set and appends nothing; with a
  // different request_hash it fails kConflict ("idempotency_mismatch").
  std::string idempotency_key;
  std::string idempotency_owner;
  std::string request_hash;
  // The facts the instance states. Set: replaces every fact of the instance
  // (an empty list removes them); unset: keeps what was stored before.
  std::optional<std::vector<FactRow>> facts;
};

struct AppendResult {
  InstanceId instance;
  int64_t version = 0;          // the instance's version after the append
  int64_t first_leaf = 0;       // audit leaf index of the first event
  bool replayed = false;
};

// An audit entry that is not an instance event: logins, failed logins,
// refused actions, changes to users, the organisation or definitions.
struct AuditRecord {
  Timestamp at;
  std::string type;             // "login", "login_failed", "action_refused", "user_added", ...
  PersonId actor;               // or the username for failed logins
  std::string subject;          // what it concerns ("instance:12", "user:li", "workflow:expense@3")
  Value::Record data;
};

// One leaf of the audit log as stored.
struct AuditEntry {
  int64_t index = 0;            // leaf index, 0-based
  Timestamp at;
  std::string kind;             // "event" | "record"
  InstanceId instance;          // for kind "event"
  int64_t version = 0;          // for kind "event"
  std::string type;
  PersonId actor;
  std::string def_hash;         // for kind "event": definition the instance runs on
  std::string leaf_data;        // the exact bytes hashed (see engine/audit/leaf.h)
  Hash leaf_hash{};
};

// One stored audit leaf seen in place, for streaming verification
// (Store::ScanAuditLeaves). The views point into the store's own buffers and
// are valid only during the callback that receives them.
struct AuditLeafView {
  int64_t index = 0;
  std::string_view kind;        // "event" | "record"
  Timestamp at;
  InstanceId instance;          // for kind "event"
  int64_t version = 0;          // for kind "event"
  std::string_view type;
  std::string_view actor;
  std::string_view leaf_data;   // the exact bytes hashed
  Hash leaf_hash{};
  // Only when the scan was asked for events, and only for event leaves: the
  // canonical bytes (EncodeEvent) of the stored event (instance, version) and
  // the definition hash on the instance's row; nullopt when the store holds
  // no such event / instance row.
  std::optional<std::string_view> event_body;
  std::optional<std::string_view> instance_def_hash;
  // False when the scan left `at`, `type` and `actor` unread (empty, 0):
  // Store::ScanAuditLeavesUnnamed. ScanAudit from `index` reads them.
  bool named = true;

  // A view of `e` (no event body or definition hash); valid while `e` is.
  static AuditLeafView Of(const AuditEntry& e) {
    AuditLeafView v;
    v.index = e.index;
    v.kind = e.kind;
    v.at = e.at;
    v.instance = e.instance;
    v.version = e.version;
    v.type = e.type;
    v.actor = e.actor.value;
    v.leaf_data = e.leaf_data;
    v.leaf_hash = e.leaf_hash;
    return v;
  }
};

struct AuditQuery {
  std::optional<InstanceId> instance;
  std::optional<PersonId> actor;
  std::optional<std::string> type;
  std::optional<Timestamp> from;   // inclusive
  std::optional<Timestamp> to;     // exclusive
  int64_t after_index = -1;        // pagination: entries with index > after_index
  int limit = 100;
};

struct InstanceQuery {
  std::optional<std::string> workflow;
  std::optional<std::string> status;
  std::optional<PersonId> submitter;
  std::optional<PersonId> involved;  // has any task row (pending, done, cc) or submitted
  // Only instances whose next_deadline is set and not after this instant.
  // Uses an index on next_deadline: the cost follows the number of due
  // instances, not the number of running ones.
  std::optional<Timestamp> due_by;
  int64_t after_id = 0;              // pagination: ids greater than this
  int limit = 50;
};

// A signed tree head as stored.
struct Checkpoint {
  int64_t size = 0;
  Hash root{};
  Timestamp at;
  std::string signature;        // raw Ed25519 signature bytes over the checkpoint text
};

// A workflow definition version as stored, so versions survive restarts and
// running instances keep the exact text they started with.
struct StoredDefinition {
  std::string id;               // workflow id
  int version = 0;
  std::string hash;             // "sha256:<hex>" the engine computed for it
  std::string source;           // the definition file's text
  bool operator==(const StoredDefinition&) const = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // Appends `req.events` atomically with the projections, and one audit leaf
  // per event. Fails kConflict ("version_conflict") if the instance is no
  // longer at `expected_version`, kUnavailable if storage fails (then nothing
  // was stored). Returns only after the events are durable.
  // Also: kInvalidArgument ("bad_append") for a malformed request (no
  // events, versions not expected_version+1, +2, ..., an event naming
  // another instance, a new instance not at version 0); kNotFound
  // ("instance_not_found") for an unknown instance id. A replayed
  // idempotency key answers before the version check. The store sets
  // row.id, row.version and the tasks' instance.
  virtual Result<AppendResult> Append(AppendRequest req) = 0;

  // What AppendAsync calls with the answer Append would have returned.
  using AppendDone = std::function<void(Result<AppendResult>)>;
  // Append without holding the calling thread while the write becomes
  // durable: calls `done` exactly once with the answer Append would have
  // returned, only after the events are durable (or the write failed), so
  // many callers' appends can share one commit without one blocked thread
  // each. `done` may run on the calling thread before AppendAsync returns
  // (a refused request, a closed store, a synchronous store) or on a thread
  // of the store's own (SqliteStore: its writer thread, which commits
  // nobody else's writes while `done` runs): it must only hand the result
  // off (post it to an executor) and must not call back into the store.
  // The default calls Append, then `done`, on the calling thread.
  virtual void AppendAsync(AppendRequest req, AppendDone done) {
    done(Append(std::move(req)));
  }

  // Appends a non-instance audit record as one leaf. Durable on return.
  virtual Result<int64_t> AppendAudit(const AuditRecord& rec) = 0;

  // All events of an instance in version order; kNotFound if none.
  virtual Result<std::vector<Event>> LoadEvents(InstanceId id) = 0;
  virtual Result<InstanceRow> GetInstance(InstanceId id) = 0;
  virtual Result<std::vector<InstanceRow>> ListInstances(const InstanceQuery& q) = 0;
  // Sets the stored projection's next_deadline of instance `id` if it is
  // still at `version` (appends write it themselves; this corrects rows
  // stored before the column existed, which a store marks as due at once).
  // Returns whether the row was changed: false if the instance moved on or
  // does not exist. Durable on return. The default fails kUnavailable
  // ("deadline_projection_unsupported") for stores (test doubles, wrappers)
  // that keep no such projection.
  virtual Result<bool> SetNextDeadline(InstanceId id, int64_t version,
                                       std::optional<Timestamp> next_deadline) {
    (void)id, (void)version, (void)next_deadline;
    return std::unexpected(Error{ErrorCode::kUnavailable, "deadline_projection_unsupported",
                                 "this store keeps no deadline projection"});
  }
  // Task rows of `person` of the given kind ("pending", "done", "cc"), newest first.
  virtual Result<std::vector<TaskRow>> ListTasks(const PersonId& person,
                                                 const std::string& kind,
                                                 int limit) = 0;

  // The audit log.
  virtual Result<std::vector<AuditEntry>> QueryAudit(const AuditQuery& q) = 0;
  virtual Result<int64_t> AuditSize() = 0;
  // Calls `fn` for every audit entry with index >= `from`, in index order,
  // until it returns false. For verification and export; streams, so memory
  // stays bounded at any log size.
  virtual Status ScanAudit(int64_t from,
                           const std::function<bool(const AuditEntry&)>& fn) = 0;
  // ScanAudit without copies, for `audit verify` at full speed: calls `fn`
  // with a view of every leaf with index >= `from`, in index order, until it
  // returns false; rows are yielded as stored (gaps, bad hashes and all).
  // With `with_events`, each event leaf also carries the stored bytes of the
  // event it records and its instance's definition hash, so that a verifier
  // can compare them with the leaf byte for byte instead of decoding events.
  // `fn` must not call back into the store (it may run while the store holds
  // a read connection or lock).
  // The default fails kUnavailable ("scan_leaves_unsupported"); VerifyLog
  // then falls back to ScanAudit and LoadEvents.
  virtual Status ScanAuditLeaves(int64_t from, bool with_events,
                                 const std::function<bool(const AuditLeafView&)>& fn) {
    (void)from, (void)with_events, (void)fn;
    return std::unexpected(Error{ErrorCode::kUnavailable, "scan_leaves_unsupported",
                                 "this store cannot stream its audit leaves in place"});
  }
  // ScanAuditLeaves for a verifier, which needs a leaf's time, type and
  // actor only to name it when it fails: the store may leave them unread
  // (AuditLeafView::named false) and save reading them for every row. The
  // default is ScanAuditLeaves (every view named).
  virtual Status ScanAuditLeavesUnnamed(
      int64_t from, bool with_events,
      const std::function<bool(const AuditLeafView&)>& fn) {
    return ScanAuditLeaves(from, with_events, fn);
  }
  // The number of stored events of all instances. With ScanAuditLeaves it
  // shows a verifier events that no audit leaf records. The default fails
  // kUnavailable ("count_events_unsupported").
  virtual Result<int64_t> CountEvents() {
    return std::unexpected(Error{ErrorCode::kUnavailable, "count_events_unsupported",
                                 "this store cannot count its events"});
  }
  // CountEvents with the audit log's size, for a verifier that reads the
  // log while the events are still being counted: calls `on_size` with the
  // log size once it is known and returns the number of stored events, such
  // that every event counted has its leaf below that size (the count is
  // taken in the same snapshot as the size, or before it). `on_size` runs on
  // the calling thread, at most once, and must not call back into the store
  // (the store may hold a read connection). Fails as CountEvents does, and
  // then calls `on_size` only if the size was read. The default counts
  // (CountEvents), then reads AuditSize and calls `on_size`.
  virtual Result<int64_t> CountEventsWithAuditSize(const std::function<void(int64_t)>& on_size) {
    auto count = CountEvents();
    if (!count) return count;
    auto size = AuditSize();
    if (!size) return std::unexpected(size.error());
    on_size(*size);
    return count;
  }
  // Root hash of the first `size` leaves. REQUIRES: size <= AuditSize().
  virtual Result<Hash> RootAt(int64_t size) = 0;
  // RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves.
  virtual Result<std::vector<Hash>> InclusionProof(int64_t index, int64_t size) = 0;
  // RFC 9162 consistency proof from `old_size` to `new_size`.
  virtual Result<std::vector<Hash>> ConsistencyProof(int64_t old_size,
                                                     int64_t new_size) = 0;
  virtual Status SaveCheckpoint(const Checkpoint& cp) = 0;
  virtual Result<std::vector<Checkpoint>> ListCheckpoints() = 0;
  virtual Result<std::optional<Checkpoint>> LatestCheckpoint() = 0;

  // Attachments: content-addressed, immutable byte strings.
  //
  // Stores `bytes` durably and returns its address "sha256:<64 lowercase
  // hex>". Storing the same bytes twice is harmless and returns the same
  // address. Fails kInvalidArgument ("attachment_too_large") if
  // bytes.size() > max_size, kUnavailable if storage fails.
  virtual Result<std::string> PutAttachment(std::string_view bytes,
                                            int64_t max_size) = 0;
  // The bytes stored under `hash`; kNotFound if none, kInvalidArgument if
  // `hash` is not of the form "sha256:<64 lowercase hex>".
  virtual Result<std::string> GetAttachment(const std::string& hash) = 0;
  // The size in bytes of the attachment stored under `hash`, without reading
  // it; errors as GetAttachment. Lets callers check that a form's attachment
  // field names an existing attachment.
  virtual Result<int64_t> AttachmentSize(const std::string& hash) = 0;
  // Records that the attachment stored under `hash` was uploaded as a file
  // named `name` (what people see; downloads stay by hash). Recording the
  // same pair again is a no-op; one hash may carry several names. Fails
  // kInvalidArgument if `hash` is malformed, kNotFound
  // ("attachment_not_found") if no attachment is stored under it. The
  // default fails kUnavailable ("attachment_names_unsupported") for stores
  // (test doubles, wrappers) that keep no names.
  virtual Status NameAttachment(const std::string& hash, const std::string& name) {
    (void)hash;
    (void)name;
    return std::unexpected(Error{ErrorCode::kUnavailable, "attachment_names_unsupported",
                                 "this store keeps no attachment file names"});
  }
  // The first name recorded for each of `hashes` that has one (malformed or
  // unnamed hashes are left out). The default knows none.
  virtual Result<std::map<std::string, std::string>> AttachmentNames(
      const std::vector<std::string>& hashes) {
    (void)hashes;
    return std::map<std::string, std::string>();
  }

  // Workflow definitions.
  //
  // Records version `version` of workflow `id` with its text and hash,
  // durably. Saving the same (id, version, hash) again is a no-op; the same
  // (id, version) with a different hash fails kConflict
  // ("definition_version_exists"): a version, once stored, never changes.
  virtual Status SaveDefinition(const std::string& id, int version,
                                const std::string& hash,
                                const std::string& source_text) = 0;
  // Every stored definition version, ordered by (id, version).
  virtual Result<std::vector<StoredDefinition>> ListDefinitions() = 0;

  // Facts (AppendRequest::facts).
  //
  // The stored facts of kind `q.kind` whose key is one of `q.keys`, of
  // instances other than `q.exclude` whose status is one of `q.statuses`,
  // ordered by (instance, key); each matching row once. Uses an index on
  // (kind, key): the cost follows the number of hits, not the number of
  // instances. The default fails kUnavailable ("facts_unsupported") for
  // stores (test doubles, wrappers) that keep no facts.
  virtual Result<std::vector<FactHit>> FindFacts(const FactQuery& q) {
    (void)q;
    return std::unexpected(Error{ErrorCode::kUnavailable, "facts_unsupported",
                                 "this store keeps no facts for the built-in checks"});
  }
};

}  // namespace approvald

#endif  // APPROVALD_STORE_H_
