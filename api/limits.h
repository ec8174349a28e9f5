// Per-client limits that are not tied to one read: the per-user request
// rate (token bucket) and the count of open connections. Body size, header
// size and timeouts are set where the read happens (api/server.cc).
#ifndef APPROVALD_API_LIMITS_H_
#define APPROVALD_API_LIMITS_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace approvald::api {

// A token bucket per key: `rate` requests per second sustained, `burst` at
// once. Thread-safe. Memory is bounded: buckets that have refilled are
// dropped when the table grows past `max_keys`.
class RateLimiter {
 public:
  RateLimiter(double rate_per_s, int burst, size_t max_keys = 100000);
  // True if `key` may make one more request at `now_ms` (a monotonic clock).
  // Otherwise false, and *retry_after_ms says when the next one will be.
  bool Allow(const std::string& key, int64_t now_ms, int64_t* retry_after_ms);
  // The same for the key `prefix` + `name` (e.g. "user:" + username),
  // without building it per call: for the check every request makes.
  bool Allow(std::string_view prefix, std::string_view name, int64_t now_ms,
             int64_t* retry_after_ms);

 private:
  bool AllowLocked(const std::string& key, int64_t now_ms, int64_t* retry_after_ms);

  struct Bucket {
    double tokens;
    int64_t last_ms;
  };
  double rate_per_ms_;
  double burst_;
  size_t max_keys_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::string scratch_key_;  // under mu_: the key Allow(prefix, name) looks up
};

// Counts open connections against a cap. Thread-safe, lock-free.
class ConnectionLimiter {
 public:
  explicit ConnectionLimiter(int max) : max_(max) {}
  // Takes a slot; false (and nothing taken) if all `max` are in use.
  bool TryAcquire();
  void Release();
  int open() const { return open_.load(std::memory_order_relaxed); }

 private:
  const int max_;
  std::atomic<int> open_{0};
};

}  // namespace approvald::api

#endif  // APPROVALD_API_LIMITS_H_
