// A memo of the body of GET /api/v1/instances/{id}, so that a burst of reads
// of one instance by one viewer serialises it once.
//
// The body is a function of the instance's snapshot (an immutable version of
// its state and row), the viewer, the organisation and the time the viewer's
// available actions are decided at (Engine::ViewAt): actions depend on the
// clock (urge intervals, deadlines, proxy periods, expressions on `now`), so
// a stored body is reused only within the millisecond it was decided at, the
// clock's resolution. Within it the answer is exactly what deciding again
// would give; after it, or once the engine caches a newer snapshot or the
// organisation is replaced, the body is decided anew.
//
// A fixed number of slots, picked by (instance, viewer); a new body replaces
// whatever its slot held. Thread-safe.
#ifndef APPROVALD_API_BODY_MEMO_H_
#define APPROVALD_API_BODY_MEMO_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "approvald/org.h"
#include "approvald/types.h"
#include "service/state_cache.h"

namespace approvald::api {

class BodyMemo {
 public:
  // REQUIRES: slots >= 1.
  explicit BodyMemo(size_t slots = 64) : slots_(slots) {}

  // What a body was made from. `snapshot` and `org` are held by the memo, so
  // an equal pointer is the same object (never a new one at a freed address).
  struct Key {
    std::shared_ptr<const CachedInstance> snapshot;
    std::shared_ptr<const Org> org;
    PersonId viewer;
    Timestamp at;  // when the actions were decided
  };

  // Copies into *body the body stored for exactly `key` and returns true;
  // false (and *body untouched) if there is none.
  bool Find(const Key& key, std::string* body);
  // Stores `body` for `key`, replacing what its slot held.
  void Put(Key key, std::string body);

  int64_t hits() const;
  int64_t misses() const;

 private:
  struct Slot {
    Key key;
    std::string body;
  };
  size_t SlotOf(const Key& key) const;

  mutable std::mutex mu_;
  std::vector<Slot> slots_;
  int64_t hits_ = 0;    // under mu_
  int64_t misses_ = 0;  // under mu_
};

}  // namespace approvald::api

#endif  // APPROVALD_API_BODY_MEMO_H_
