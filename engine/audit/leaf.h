// The canonical bytes of audit log leaves (docs/AUDIT.md, "Leaf format").
//
// Every leaf is one line of canonical JSON (no whitespace, UTF-8) whose first
// member names its kind, so an instance event can never be passed off as a
// record or the other way round:
//
//   event:  {"kind":"event","v":1,"def_hash":S,"event":E}
//   record: {"kind":"record","v":1,"record":R}
//
// S is the definition hash as a canonical JSON string, E is EncodeEvent(e)
// (approvald/event.h) and R is EncodeValue of the record
// {"actor":S,"at":N,"data":{..},"subject":S,"type":S} (approvald/value.h).
// These bytes are what the Merkle tree hashes (LeafHash), so the format never
// changes for existing leaves; a new format gets a new "v".
#ifndef APPROVALD_AUDIT_LEAF_H_
#define APPROVALD_AUDIT_LEAF_H_

#include <optional>
#include <string>
#include <string_view>

#include "approvald/event.h"
#include "approvald/store.h"

namespace approvald::audit {

inline constexpr std::string_view kEventLeafKind = "event";
inline constexpr std::string_view kRecordLeafKind = "record";

// The leaf of instance event `e`, which runs on the definition version whose
// hash is `def_hash` ("sha256:<hex>").
std::string EventLeafData(const Event& e, std::string_view def_hash);
// The same from the event's canonical bytes (`encoded_event` must be
// EncodeEvent(e)), for a caller that already has them: the event is not
// encoded a second time.
std::string EventLeafDataOfEncoded(std::string_view encoded_event,
                                   std::string_view def_hash);

// The leaf of a non-instance audit record (login, refused action, admin
// change, ...).
std::string RecordLeafData(const AuditRecord& r);

// A decoded leaf. Exactly one of `event` / `record` is set, as `kind` says.
struct ParsedLeaf {
  std::string kind;      // kEventLeafKind or kRecordLeafKind
  std::string def_hash;  // events only
  std::optional<Event> event;
  std::optional<AuditRecord> record;
};

// The exact inverse of EventLeafData / RecordLeafData: returns the leaf whose
// encoding is exactly `data`, or nullopt for anything else (unknown kind or
// version, malformed or non-canonical JSON, extra or missing members).
std::optional<ParsedLeaf> ParseLeaf(std::string_view data);

// The kind of a leaf from its first bytes only ("event", "record"), or an
// empty view if it starts like neither. Cheap: no decoding.
std::string_view LeafKindOf(std::string_view data);

// The event member E of an event leaf {"kind":"event","v":1,"def_hash":S,
// "event":E}: the bytes of EncodeEvent as they stand in the leaf, found
// from the leaf's fixed parts without decoding anything. nullopt if `data`
// is not shaped like an event leaf. The slice is not checked to be a
// canonical event (DecodeEvent does that).
std::optional<std::string_view> EventBytesOfLeaf(std::string_view data);

}  // namespace approvald::audit

#endif  // APPROVALD_AUDIT_LEAF_H_
