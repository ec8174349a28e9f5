// The Notifier port: told after a change is durable, so the API can push it
// to WebSocket subscribers. Implementations must not block.
#ifndef APPROVALD_NOTIFIER_H_
#define APPROVALD_NOTIFIER_H_

#include <vector>

#include "approvald/event.h"
#include "approvald/store.h"

namespace approvald {

struct Change {
  InstanceRow row;                     // the instance after the change
  std::vector<Event> events;           // what was appended
  std::vector<TaskRow> tasks;          // the instance's full task set now
  std::vector<PersonId> newly_pending; // people who got a new pending task
};

class Notifier {
 public:
  virtual ~Notifier() = default;
  // Called after the change's events are durable. Thread-safe, non-blocking.
  virtual void OnChange(const Change& change) = 0;
};

}  // namespace approvald

#endif  // APPROVALD_NOTIFIER_H_
