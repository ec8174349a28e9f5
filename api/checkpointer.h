// Signs audit log checkpoints on the daemon's schedule (issue 3: "a
// checkpoint at least every N events or T seconds"). The serve loop calls
// MaybeSign about once a second and with force at shutdown.
#ifndef APPROVALD_API_CHECKPOINTER_H_
#define APPROVALD_API_CHECKPOINTER_H_

#include <cstdint>
#include <string>

#include "approvald/clock.h"
#include "approvald/store.h"
#include "audit/checkpoint.h"

namespace approvald::api {

class Checkpointer {
 public:
  // `every_events` >= 1 new leaves or `every_seconds` >= 1 seconds since the
  // last checkpoint (the latest stored one at construction, so the schedule
  // survives restarts) make the next MaybeSign sign one.
  Checkpointer(Store& store, const audit::SigningKey& key, std::string origin,
               const Clock& clock, int every_events, int every_seconds);

  // Signs and stores a checkpoint of the whole log when the log grew since
  // the last one and either threshold is reached; `force` signs whenever the
  // log grew. Returns whether one was stored. Failures are logged (logger
  // "api" if registered) and retried at the next call, never thrown.
  bool MaybeSign(bool force);

 private:
  Store& store_;
  const audit::SigningKey& key_;
  std::string origin_;
  const Clock& clock_;
  int64_t every_events_;
  int64_t every_ms_;
  int64_t last_size_ = 0;
  int64_t last_ms_ = 0;
};

}  // namespace approvald::api

#endif  // APPROVALD_API_CHECKPOINTER_H_
