#include "api/checkpointer.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace approvald::api {

Checkpointer::Checkpointer(Store& store, const audit::SigningKey& key, std::string origin,
                           const Clock& clock, int every_events, int every_seconds)
    : store_(store),
      key_(key),
      origin_(std::move(origin)),
      clock_(clock),
      every_events_(every_events),
      every_ms_(int64_t{every_seconds} * 1000) {
  if (auto cp = store_.LatestCheckpoint(); cp && *cp) {
    last_size_ = (*cp)->size;
    last_ms_ = (*cp)->at.ms;
  }
}

bool Checkpointer::MaybeSign(bool force) {
  auto log = spdlog::get("api");
  auto size = store_.AuditSize();
  if (!size || *size == 0 || *size <= last_size_) return false;
  Timestamp now = clock_.Now();
  if (!force && *size - last_size_ < every_events_ && now.ms - last_ms_ < every_ms_) {
    return false;
  }
  auto root = store_.RootAt(*size);
  if (!root) {
    if (log) log->error("checkpoint failed err={}", root.error().ToString());
    return false;
  }
  auto cp = audit::SignCheckpoint(key_, origin_, *size, *root, now);
  if (!cp) {
    if (log) log->error("checkpoint signing failed err={}", cp.error().ToString());
    return false;
  }
  if (auto st = store_.SaveCheckpoint(*cp); !st) {
    if (log) log->error("checkpoint save failed err={}", st.error().ToString());
    return false;
  }
  last_size_ = *size;
  last_ms_ = now.ms;
  if (log) log->info("checkpoint signed size={}", *size);
  return true;
}

}  // namespace approvald::api
