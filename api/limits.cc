#include "api/limits.h"

#include <algorithm>
#include <cmath>

namespace approvald::api {

RateLimiter::RateLimiter(double rate_per_s, int burst, size_t max_keys)
    : rate_per_ms_(rate_per_s / 1000.0), burst_(std::max(1, burst)), max_keys_(max_keys) {}

bool RateLimiter::Allow(const std::string& key, int64_t now_ms, int64_t* retry_after_ms) {
  std::lock_guard lock(mu_);
  return AllowLocked(key, now_ms, retry_after_ms);
}

bool RateLimiter::Allow(std::string_view prefix, std::string_view name, int64_t now_ms,
                        int64_t* retry_after_ms) {
  std::lock_guard lock(mu_);
  // Reused under the lock: its capacity stays, so no allocation per call.
  scratch_key_.assign(prefix);
  scratch_key_.append(name);
  return AllowLocked(scratch_key_, now_ms, retry_after_ms);
}

bool RateLimiter::AllowLocked(const std::string& key, int64_t now_ms, int64_t* retry_after_ms) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) {
      // Full buckets carry no state worth keeping: a new bucket starts full.
      std::erase_if(buckets_, [&](const auto& kv) {
        const Bucket& b = kv.second;
        return b.tokens + (now_ms - b.last_ms) * rate_per_ms_ >= burst_;
      });
    }
    it = buckets_.emplace(key, Bucket{burst_, now_ms}).first;
  }
  Bucket& b = it->second;
  if (now_ms > b.last_ms) {
    b.tokens = std::min(burst_, b.tokens + (now_ms - b.last_ms) * rate_per_ms_);
    b.last_ms = now_ms;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  if (retry_after_ms) {
    *retry_after_ms = static_cast<int64_t>(std::ceil((1.0 - b.tokens) / rate_per_ms_));
  }
  return false;
}

bool ConnectionLimiter::TryAcquire() {
  int cur = open_.load(std::memory_order_relaxed);
  while (cur < max_) {
    if (open_.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel)) return true;
  }
  return false;
}

void ConnectionLimiter::Release() { open_.fetch_sub(1, std::memory_order_acq_rel); }

}  // namespace approvald::api
