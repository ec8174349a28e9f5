#include "api/body_memo.h"

#include <functional>
#include <string_view>

namespace approvald::api {

size_t BodyMemo::SlotOf(const Key& key) const {
  size_t h = std::hash<std::string_view>{}(key.viewer.value);
  h ^= static_cast<size_t>(key.snapshot->state.id.value) * 0x9E3779B97F4A7C15ULL;
  return h % slots_.size();
}

bool BodyMemo::Find(const Key& key, std::string* body) {
  if (!key.snapshot) return false;
  size_t i = SlotOf(key);
  std::lock_guard lock(mu_);
  const Slot& s = slots_[i];
  if (s.key.snapshot != key.snapshot || s.key.org != key.org || s.key.at != key.at ||
      s.key.viewer != key.viewer) {
    ++misses_;
    return false;
  }
  ++hits_;
  body->assign(s.body);
  return true;
}

void BodyMemo::Put(Key key, std::string body) {
  if (!key.snapshot) return;
  size_t i = SlotOf(key);
  {
    std::lock_guard lock(mu_);
    std::swap(slots_[i].key, key);
    std::swap(slots_[i].body, body);
  }
  // `key` and `body` now hold what the slot held: released here, outside
  // the lock (the last reference to a snapshot may free a whole state).
}

int64_t BodyMemo::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

int64_t BodyMemo::misses() const {
  std::lock_guard lock(mu_);
  return misses_;
}

}  // namespace approvald::api
