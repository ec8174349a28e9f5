// Events: the truth. An instance's state is a fold of its events
// (core/fold.h); the store appends them and never changes them; the audit
// log hashes each one into its Merkle tree.
#ifndef APPROVALD_EVENT_H_
#define APPROVALD_EVENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "approvald/types.h"
#include "approvald/value.h"

namespace approvald {

struct Event {
  InstanceId instance;      // 0 in the events of a submission until the store assigns it
  int64_t version = 0;      // 1-based position in the instance's history
  Timestamp at;             // when it was decided (UTC)
  std::string type;         // "submitted", "approved", ... (core/events.h lists them)
  PersonId actor;           // who acted; "system" for automatic steps
  PersonId on_behalf_of;    // the principal when `actor` acted as proxy; else empty
  std::string node;         // the node it concerns; empty for instance-level events
  Value::Record data;       // type-specific attributes
  std::string comment;

  bool operator==(const Event&) const = default;
};

// The system actor for automatic steps (checks, deadlines, choices).
inline const PersonId& SystemActor() {
  static const PersonId kSystem("system");
  return kSystem;
}

// Canonical serialisation of an event: UTF-8 JSON with a fixed key order and
// no insignificant whitespace. It is what the audit log hashes, so it is
// stable forever; DecodeEvent is its exact inverse. Format (one line):
// {"actor":S,"at":ms,"comment":S,"data":{..},"instance":N,"node":S,
//  "on_behalf_of":S,"type":S,"version":N}
// Every key is always present (empty strings and zeros included). Strings
// are written as EncodeValue writes them; `data` is exactly
// EncodeValue(Value::Of(data)) (value.h), so a data record whose only key is
// "fen", "date", "ts" or "record" appears wrapped as {"record":{...}}.
// DecodeEvent returns nullopt for any text that is not the canonical
// encoding of some event (other key order, whitespace, extra keys, ...).
std::string EncodeEvent(const Event& e);
std::optional<Event> DecodeEvent(std::string_view text);

}  // namespace approvald

#endif  // APPROVALD_EVENT_H_
