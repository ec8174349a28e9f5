#include "api/selfcheck_trigger.h"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "core/registry.h"

namespace approvald::api {

uint64_t RandomSeed() {
  unsigned char buf[8];
  if (RAND_bytes(buf, sizeof buf) != 1) {
    spdlog::error("voucher_selfcheck RAND_bytes failed; seed 0 used");
    return 0;
  }
  uint64_t v = 0;
  std::memcpy(&v, buf, sizeof v);
  return v;
}

Result<std::unique_ptr<SelfCheckTrigger>> SelfCheckTrigger::Create(
    const Value::Record& unit_config, Engine& engine, const Clock& clock) {
  auto opts = SelfCheckOptions::FromUnitConfig(unit_config);
  if (!opts) return std::unexpected(opts.error());
  if (opts->enabled && !engine.registry().Latest(opts->workflow)) {
    // A daemon serving a subset of the workflows still starts; it says why
    // no self-check runs.
    spdlog::warn("voucher_selfcheck disabled: self_check is configured but workflow '{}' is "
                 "not loaded; add {}.yaml to the workflows folder",
                 opts->workflow, opts->workflow);
    opts->enabled = false;
  }
  return std::unique_ptr<SelfCheckTrigger>(new SelfCheckTrigger(*opts, engine, clock));
}

SelfCheckTrigger::SelfCheckTrigger(SelfCheckOptions options, Engine& engine, const Clock& clock)
    : scheduler_(std::move(options), engine, clock, RandomSeed), clock_(clock) {}

void SelfCheckTrigger::Poll() {
  int64_t now = clock_.Now().ms;
  if (last_poll_ms_ != INT64_MIN && now - last_poll_ms_ < 60 * kMsPerSecond) return;
  last_poll_ms_ = now;
  auto batch = scheduler_.RunDue();
  // On failure the next poll, a minute later, tries again.
  if (!batch) spdlog::warn("voucher_selfcheck failed err={}", batch.error().ToString());
}

}  // namespace approvald::api
