#include "api/view_head_cache.h"

#include <algorithm>
#include <iterator>

namespace approvald::api {
namespace {

// True if `w` refers to the object `s` owns (the same control block).
template <class T>
bool Same(const std::weak_ptr<const T>& w, const std::shared_ptr<const T>& s) {
  return s && !w.owner_before(s) && !s.owner_before(w);
}

}  // namespace

ViewHeadCache::ViewHeadCache(size_t max_bytes, size_t shards)
    : bytes_per_shard_(max_bytes / std::max<size_t>(1, shards)),
      shards_(std::max<size_t>(1, shards)) {}

const ViewHeadCache::Entry* ViewHeadCache::FindLocked(
    const Shard& s, const std::shared_ptr<const CachedInstance>& snapshot,
    const std::shared_ptr<const Org>& org) {
  auto it = s.entries.find(snapshot->state.id.value);
  if (it == s.entries.end() || !Same(it->second.snapshot, snapshot) ||
      !Same(it->second.org, org))
    return nullptr;
  return &it->second;
}

bool ViewHeadCache::AppendTo(const std::shared_ptr<const CachedInstance>& snapshot,
                             const std::shared_ptr<const Org>& org, std::string* out) {
  if (!snapshot || !org) return false;
  Shard& s = ShardOf(snapshot->state.id.value);
  std::lock_guard lock(s.mu);
  const Entry* e = FindLocked(s, snapshot, org);
  if (e == nullptr) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  out->append(e->head);
  return true;
}

ViewHeadCache::Found ViewHeadCache::AppendUnlessAttachments(
    const std::shared_ptr<const CachedInstance>& snapshot, const std::shared_ptr<const Org>& org,
    std::string* out) {
  if (!snapshot || !org) return Found::kNone;
  Shard& s = ShardOf(snapshot->state.id.value);
  std::lock_guard lock(s.mu);
  const Entry* e = FindLocked(s, snapshot, org);
  if (e == nullptr) return Found::kNone;
  if (e->attachments) return Found::kAttachments;
  hits_.fetch_add(1, std::memory_order_relaxed);
  out->append(e->head);
  return Found::kAppended;
}

void ViewHeadCache::Put(const std::shared_ptr<const CachedInstance>& snapshot,
                        const std::shared_ptr<const Org>& org, std::string head,
                        bool attachments) {
  if (!snapshot || !org || head.size() > bytes_per_shard_) return;
  int64_t id = snapshot->state.id.value;
  Shard& s = ShardOf(id);
  // Freed outside the lock; room for the usual one or two.
  std::vector<std::unordered_map<int64_t, Entry>::node_type> dropped;
  dropped.reserve(2);
  std::lock_guard lock(s.mu);
  if (auto it = s.entries.find(id); it != s.entries.end()) {
    s.bytes -= it->second.head.size();
    dropped.push_back(s.entries.extract(it));
  }
  // Over the shard's share: first drop the heads whose snapshot is gone (the
  // engine's state cache evicted it or a newer version replaced it; such a
  // head can never be used again, and its weak reference still holds the
  // snapshot's allocation), then others, in the map's order (no particular
  // one), until the new head fits. Looking for the former checks every
  // entry, so it is done when the shard first fills and then once per half
  // of its entries put: about two checks per Put.
  if (s.bytes + head.size() > bytes_per_shard_ && s.puts_before_sweep > 0) {
    --s.puts_before_sweep;
  } else if (s.bytes + head.size() > bytes_per_shard_) {
    s.puts_before_sweep = s.entries.size() / 2;
    for (auto it = s.entries.begin(); it != s.entries.end();) {
      auto next = std::next(it);
      if (it->second.snapshot.expired()) {
        s.bytes -= it->second.head.size();
        dropped.push_back(s.entries.extract(it));
      }
      it = next;
    }
  }
  while (s.bytes + head.size() > bytes_per_shard_ && !s.entries.empty()) {
    auto victim = s.entries.begin();
    s.bytes -= victim->second.head.size();
    dropped.push_back(s.entries.extract(victim));
  }
  s.bytes += head.size();
  s.entries.emplace(id, Entry{snapshot, org, std::move(head), attachments});
}

size_t ViewHeadCache::bytes() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.bytes;
  }
  return n;
}

}  // namespace approvald::api
