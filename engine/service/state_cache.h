// StateCache: a bounded, thread-safe cache of folded instance states and
// their projection rows, keyed by instance id, so the engine's Act and Get do
// not reload and refold every event of an instance on each call.
//
// Entries are immutable snapshots (shared_ptr<const CachedInstance>) of one
// version of an instance. The cache never goes backwards: Put keeps the
// entry with the higher version. Eviction is least-recently-used, per shard
// (the id space is split over `shards` independently locked shards so
// concurrent calls on different instances rarely contend), when a shard holds
// too many entries or, with a byte budget, too many approximate bytes
// (ApproxBytes), so that memory stays bounded however large instances grow.
//
// The cache only speeds things up; the store stays the truth. The engine
// checks every cached state it acts on against the store's optimistic
// version check (a stale entry makes the append fail with a conflict, after
// which the engine erases it and reloads), and erases the entry of any
// instance whose append failed.
#ifndef APPROVALD_SERVICE_STATE_CACHE_H_
#define APPROVALD_SERVICE_STATE_CACHE_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "approvald/instance.h"
#include "approvald/org.h"
#include "approvald/store.h"
#include "core/decide.h"

namespace approvald {

// The actions viewers were last offered on one snapshot (Engine's views).
// AvailableActions' answer depends on the state and the definition it runs
// on (both fixed by the snapshot), the engine's options (fixed for its life),
// the organisation and the time. So an answer is used again only under the
// same organisation (held by weak reference: a new one never matches an old
// answer) and while the time is between when it was decided and when
// AvailableActions said it may change (valid_until). Holds the answers for
// the last kViewers viewers. Thread-safe; a copy starts empty.
class ViewerActionsMemo {
 public:
  static constexpr size_t kViewers = 2;

  ViewerActionsMemo() = default;
  ViewerActionsMemo(const ViewerActionsMemo&) {}
  ViewerActionsMemo& operator=(const ViewerActionsMemo&) { return *this; }

  // The actions remembered for `viewer` under `org` that hold at `now`, or
  // nullopt.
  std::optional<std::vector<AvailableAction>> Find(const PersonId& viewer,
                                                   const std::shared_ptr<const Org>& org,
                                                   Timestamp now) const;
  // Remembers `actions`, decided for `viewer` under `org` at `decided_at` and
  // holding before `valid_until`, in place of what was remembered for the
  // viewer, or else of the viewer remembered longest. Does nothing for an
  // answer that holds for no later time (valid_until <= decided_at).
  void Put(const PersonId& viewer, const std::shared_ptr<const Org>& org, Timestamp decided_at,
           Timestamp valid_until, const std::vector<AvailableAction>& actions) const;

 private:
  struct Answer {
    PersonId viewer;
    std::weak_ptr<const Org> org;
    Timestamp from;   // decided at
    Timestamp until;  // exclusive
    // Each action then its node, each followed by a NUL: one small block
    // instead of two strings per action, since every cached snapshot keeps
    // an answer (at least its last actor's).
    std::string packed;
  };
  // The answers, newest first, at most kViewers: replaced whole by Put, so
  // that a snapshot pays one pointer for its memory (two Puts at once may
  // keep only one of their answers; it is a memory, not a record).
  struct Answers {
    std::array<Answer, kViewers> list;
    size_t size = 0;
  };
  mutable std::atomic<std::shared_ptr<const Answers>> answers_;
};

// One version of one instance: the folded state and the projection row that
// the store holds for that version, and the actions its viewers were offered.
struct CachedInstance {
  InstanceState state;
  InstanceRow row;
  ViewerActionsMemo actions;
};

// An estimate of the heap an entry holds: the objects, the heap blocks of
// their strings, vectors and map nodes (without the allocator's own
// overhead). Deterministic for a given entry. The answers its memory of
// viewers' actions gains later (at most two answers, a few hundred bytes in
// all) are not counted.
size_t ApproxBytes(const CachedInstance& entry);

class StateCache {
 public:
  // Holds at most about `capacity` entries (rounded up to a multiple of
  // `shards`) and, if `max_bytes` > 0, at most about `max_bytes` of entries
  // by ApproxBytes (max_bytes / shards per shard; an entry larger than that
  // is not cached). capacity 0 disables the cache (Find always misses, Put
  // does nothing). REQUIRES: shards >= 1.
  explicit StateCache(size_t capacity, size_t shards = 16, size_t max_bytes = 0);

  StateCache(const StateCache&) = delete;
  StateCache& operator=(const StateCache&) = delete;

  // The cached entry for `id`, or null. Marks it recently used.
  std::shared_ptr<const CachedInstance> Find(InstanceId id);

  // How Put treats an instance the cache does not hold.
  enum class Admit {
    // Evict the shard's least recently used entries to make room: for an
    // instance that is new (just submitted).
    kEvicting,
    // Only if it fits without evicting anything: for a state committed on
    // one read back from the store after a miss.
    kIfRoom,
    // A state read back from the store after a miss: if it fits without
    // evicting, or if the shard refused the same instance before (its id is
    // among the shard's last refused ones), evicting. An instance that had
    // left the cache does not push out one still in it on its first return,
    // so a pass over more instances than the cache holds (approving every
    // instance in the order they were submitted; a scan of all running
    // instances) keeps hitting on the part that fits, instead of evicting
    // each entry just before it is asked for; an instance asked for again
    // comes back in.
    kOnSecondMiss,
  };

  // Stores `entry` under entry->state.id unless the cache already holds a
  // version >= entry->state.version of it (a slower thread that loaded an
  // older version must not overwrite a newer one). A newer version of a
  // cached instance replaces it, evicting least recently used entries of the
  // shard if it needs more room; an instance not cached is admitted as
  // `admit` says.
  void Put(std::shared_ptr<const CachedInstance> entry, Admit admit = Admit::kEvicting);

  // Forgets `id` (after a failed append or a detected conflict).
  void Erase(InstanceId id);

  size_t size() const;
  // The entries' ApproxBytes summed.
  size_t bytes() const;
  size_t capacity() const { return per_shard_ * shards_.size(); }
  int64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  int64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  struct Shard {
    mutable std::mutex mu;
    size_t bytes = 0;  // ApproxBytes of the entries held
    struct Slot {
      std::shared_ptr<const CachedInstance> entry;
      size_t bytes = 0;  // ApproxBytes(*entry), computed once
    };
    // Most recently used at the front.
    std::list<Slot> lru;
    std::unordered_map<int64_t, std::list<Slot>::iterator> index;
    // Ids kOnSecondMiss refused, oldest first, at most per_shard_.
    std::deque<int64_t> refused_order;
    std::unordered_set<int64_t> refused;
  };
  // True if `s` has room for `bytes` more without evicting. REQUIRES: s.mu.
  bool HasRoom(const Shard& s, size_t bytes) const {
    return s.index.size() < per_shard_ &&
           (!bytes_per_shard_ || s.bytes + bytes <= bytes_per_shard_);
  }
  Shard& ShardOf(InstanceId id) {
    return shards_[static_cast<uint64_t>(id.value) % shards_.size()];
  }

  size_t per_shard_;
  size_t bytes_per_shard_;  // 0: no byte budget
  std::vector<Shard> shards_;
  std::atomic<int64_t> hits_{0};
  std::atomic<int64_t> misses_{0};
};

}  // namespace approvald

#endif  // APPROVALD_SERVICE_STATE_CACHE_H_
