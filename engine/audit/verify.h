// Full offline verification of an audit log held by a Store: what
// `approvald audit verify` runs.
//
// VerifyLog streams every leaf (Store::ScanAudit) and checks, in order:
//   1. leaf i is stored at index i (no row deleted, none duplicated);
//   2. its leaf data hashes to its stored leaf hash, and starts with the
//      header of its kind ("event" / "record");
//   3. an instance's event leaves come in version order 1, 2, 3, ...;
//   4. (check_events) the leaf equals EventLeafData() of the stored event
//      and its instance's definition hash: a changed, missing or reordered
//      event is named, and stored events no leaf records are found;
//   5. the Merkle tree recomputed from the leaves has, at every stored
//      checkpoint's size, that checkpoint's root, and every checkpoint's
//      Ed25519 signature verifies;
//   6. the store's own tree (the nodes it serves proofs from) has the
//      recomputed root;
//   7. (check_definitions) every definition hash an event names is a stored
//      definition whose source text hashes to it, and every stored
//      definition's text still hashes to the hash it was stored under.
//
// Two ways to read the store. Stores that implement Store::CountEvents and
// Store::ScanAuditLeaves (SQLite, memory) are verified in one pass over the
// leaves in place, each event leaf compared byte for byte with the stored
// event's canonical bytes (no decoding), plus one count of the stored events
// taken with the log size (Store::CountEventsWithAuditSize; pipelined, on a
// thread of its own while the leaves are read). The leaves are read without
// their time, type and actor where the store allows it
// (Store::ScanAuditLeavesUnnamed); those of the leaf a failure names are
// read by index once the pass is over.
// With VerifyOptions::pipeline (the default) that pass reads the store on
// other threads (VerifyOptions::read_threads, each scanning its own chunks
// of leaf indexes), which copy the leaves out of the store's buffers, hash
// them and compare event leaves with the stored events, while the calling
// thread takes the chunks in log order, applies every check and folds the
// tree; the order of checks and the report are the same as on one thread,
// and the reading threads stop within a few chunks of the first failure.
// Other stores are read through ScanAudit, with check_events re-deriving
// each instance's leaves from LoadEvents + GetInstance; there a store's
// "corrupt_history" error (rows it cannot read back) becomes a failure
// naming the first event it cannot vouch for.
// The first failure is reported with the leaf index and, for events, the
// instance and version. When only a root disagrees (rows swapped or
// rewritten together with their hashes), the first differing leaf is found
// by bisection against the store's tree.
#ifndef APPROVALD_AUDIT_VERIFY_H_
#define APPROVALD_AUDIT_VERIFY_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "approvald/status.h"
#include "approvald/store.h"
#include "audit/checkpoint.h"

namespace approvald::audit {

struct VerifyOptions {
  // Check every event leaf against the instance's stored event (see the
  // file comment for the cost); off, only the log itself is checked.
  bool check_events = true;
  // Check that the definitions events ran on are stored and intact.
  bool check_definitions = true;
  // Read the leaves in place when the store offers it (see the file
  // comment); false forces the ScanAudit / LoadEvents way (benchmarks and
  // tests compare the two).
  bool in_place = true;
  // In place, read the store on a second thread (copying each batch of
  // leaves out of its buffers) while this thread verifies: on two cores the
  // scan and the hashing overlap. The checks and the report are the same
  // either way; false verifies on the calling thread only.
  bool pipeline = true;
  // With pipeline: how many threads read the store, each on a read
  // connection of its own, taking chunks of `read_chunk` leaf indexes in
  // turn (thread t reads chunks t, t + read_threads, ...). They also hash
  // each leaf and compare each event leaf with the stored event's bytes, so
  // the calling thread only applies the results in log order, folds the
  // tree and checks the checkpoints. The report is the same for any values
  // (values below 1 count as 1). A store serving these scans needs at least
  // read_threads read connections (SqliteOptions::read_connections).
  int read_threads = 2;
  int64_t read_chunk = 2048;
  // Called every `progress_every` leaves with (leaves checked, log size).
  std::function<void(int64_t, int64_t)> progress;
  int64_t progress_every = 1 << 20;
};

// What went wrong first. `code` is stable for scripts and tests:
//   leaf_missing          no leaf stored at `index` (deleted row)
//   leaf_out_of_order     a leaf with another index where `index` belongs
//   leaf_hash_mismatch    the leaf data does not hash to the stored hash
//   leaf_malformed        the leaf data is not a leaf of the stored kind
//   event_out_of_order    an instance's event leaves skip or repeat a version
//   event_mismatch        the stored event differs from its audit leaf
//   event_missing         the audit leaf names an event the store lacks
//   event_not_logged      a stored event has no audit leaf
//   checkpoint_signature  a checkpoint's signature does not verify
//   checkpoint_beyond_log a checkpoint covers more leaves than the log has
//   checkpoint_mismatch   the recomputed root at a checkpoint's size differs
//   tree_mismatch         the store's tree nodes disagree with the leaves
//   definition_missing    an event's definition is not stored
//   definition_mismatch   a stored definition's text does not hash to the
//                         hash events cite or it was stored under
struct VerifyFailure {
  std::string code;
  int64_t index = -1;   // first bad leaf, -1 if it cannot be named
  std::string kind;     // "event" | "record" when known
  InstanceId instance;  // for events
  int64_t version = 0;  // for events
  std::string message;  // for people: what, where, what it means
};

struct VerifyReport {
  bool ok = false;
  int64_t entries_checked = 0;      // leaves read and hashed
  int64_t events_checked = 0;       // event leaves re-derived from events
  int64_t checkpoints_checked = 0;  // signatures and roots verified
  int64_t definitions_checked = 0;
  int64_t tree_size = 0;  // the log size verified
  Hash root{};            // recomputed root of tree_size leaves
  std::optional<VerifyFailure> failure;

  // One line for people: "ok: ..." or "FAILED: <message>".
  std::string Summary() const;
};

// Verifies the whole log in `store` against `key` (see file comment).
// Tampering is reported in the VerifyReport (ok = false), not as an error;
// the Result fails only when the store cannot be read.
Result<VerifyReport> VerifyLog(Store& store, const LogKey& key,
                               const VerifyOptions& options = {});

}  // namespace approvald::audit

#endif  // APPROVALD_AUDIT_VERIFY_H_
