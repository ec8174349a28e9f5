// Triggers the monthly voucher self-check (engine/service/voucher_selfcheck.h)
// from the daemon's background loop (api/serve.cc). The scheduler decides
// what is due from the clock; this only polls it, at most once a minute, and
// supplies the seeds of new batches from OpenSSL's CSPRNG.
#ifndef APPROVALD_API_SELFCHECK_TRIGGER_H_
#define APPROVALD_API_SELFCHECK_TRIGGER_H_

#include <cstdint>
#include <memory>

#include "approvald/clock.h"
#include "approvald/status.h"
#include "approvald/value.h"
#include "service/engine.h"
#include "service/voucher_selfcheck.h"

namespace approvald::api {

class SelfCheckTrigger {
 public:
  // From the unit configuration's `self_check` record. kInvalidArgument for
  // a bad record (start-up stops with the message). When the self-check
  // workflow is not loaded, the trigger logs a warning and does nothing.
  static Result<std::unique_ptr<SelfCheckTrigger>> Create(const Value::Record& unit_config,
                                                          Engine& engine, const Clock& clock);

  // Runs the due batch if a minute passed since the last poll (by `clock`).
  // Errors are logged and retried at the next poll.
  void Poll();

 private:
  SelfCheckTrigger(SelfCheckOptions options, Engine& engine, const Clock& clock);

  VoucherSelfCheck scheduler_;
  const Clock& clock_;
  int64_t last_poll_ms_ = INT64_MIN;
};

// 64 random bits from OpenSSL's RAND_bytes (aborts the batch with 0 if the
// generator fails, which RAND_bytes only does when unseeded).
uint64_t RandomSeed();

}  // namespace approvald::api

#endif  // APPROVALD_API_SELFCHECK_TRIGGER_H_
