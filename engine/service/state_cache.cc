#include "service/state_cache.h"

namespace approvald {

StateCache::StateCache(size_t capacity, size_t shards)
    : per_shard_(capacity == 0 ? 0 : (capacity + shards - 1) / shards), shards_(shards) {}

std::shared_ptr<const CachedInstance> StateCache::Find(InstanceId id) {
  if (per_shard_ == 0) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  Shard& s = ShardOf(id);
  std::lock_guard lock(s.mu);
  auto it = s.index.find(id.value);
  if (it == s.index.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return *it->second;
}

void StateCache::Put(std::shared_ptr<const CachedInstance> entry) {
  if (per_shard_ == 0 || !entry) return;
  InstanceId id = entry->state.id;
  Shard& s = ShardOf(id);
  std::shared_ptr<const CachedInstance> evicted;  // destroyed outside the lock
  std::lock_guard lock(s.mu);
  auto it = s.index.find(id.value);
  if (it != s.index.end()) {
    if ((*it->second)->state.version >= entry->state.version) return;
    evicted = std::move(*it->second);
    *it->second = std::move(entry);
    s.lru.splice(s.lru.begin(), s.lru, it->second);
    return;
  }
  if (s.index.size() >= per_shard_) {
    evicted = std::move(s.lru.back());
    s.index.erase(evicted->state.id.value);
    s.lru.pop_back();
  }
  s.lru.push_front(std::move(entry));
  s.index.emplace(id.value, s.lru.begin());
}

void StateCache::Erase(InstanceId id) {
  if (per_shard_ == 0) return;
  Shard& s = ShardOf(id);
  std::shared_ptr<const CachedInstance> gone;
  std::lock_guard lock(s.mu);
  auto it = s.index.find(id.value);
  if (it == s.index.end()) return;
  gone = std::move(*it->second);
  s.lru.erase(it->second);
  s.index.erase(it);
}

size_t StateCache::size() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.index.size();
  }
  return n;
}

}  // namespace approvald
