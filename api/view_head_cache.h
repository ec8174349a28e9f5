// The serialised head of instance views (AppendInstanceViewHead): the part
// of GET /api/v1/instances/{id}'s body that depends only on the instance's
// version and the organisation, the same for every viewer and at any time.
// The viewer's available actions, which depend on the viewer and the clock,
// are decided and written per request after it (AppendInstanceViewTail).
//
// Keyed by instance id; an entry is used only for the very snapshot (the
// engine's immutable CachedInstance of one version) and organisation it was
// written from. It holds them by weak reference: it keeps neither alive,
// and a new snapshot or organisation never matches an old entry (the weak
// reference keeps the old control block, so no new object shares it).
// Bounded by bytes; when a shard is over its share, entries are dropped,
// those whose snapshot is gone first: the shard looks for them when it first
// fills, and again only after half as many heads as it holds were put
// since, so that a full shard's Put stays cheap (a look costs one check per
// entry).
// Thread-safe.
#ifndef APPROVALD_API_VIEW_HEAD_CACHE_H_
#define APPROVALD_API_VIEW_HEAD_CACHE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "approvald/org.h"
#include "service/state_cache.h"

namespace approvald::api {

class ViewHeadCache {
 public:
  // At most about `max_bytes` of heads (max_bytes / shards per shard). A
  // head is about 1.5 KB, so the default holds the heads of about 5,000
  // instances, on top of the engine's state cache (state_cache_bytes), and
  // keeps the daemon's resident memory under 100 MB at the API benchmark.
  // REQUIRES: shards >= 1.
  explicit ViewHeadCache(size_t max_bytes = size_t{8} << 20, size_t shards = 16);

  // Appends to *out the head written from exactly `snapshot` and `org` and
  // returns true; false (and *out untouched) if there is none.
  bool AppendTo(const std::shared_ptr<const CachedInstance>& snapshot,
                const std::shared_ptr<const Org>& org, std::string* out);
  // What AppendUnlessAttachments found for a snapshot.
  enum class Found {
    kNone,         // no head stored for exactly the snapshot and organisation
    kAttachments,  // one, but its form holds attachment addresses
    kAppended,     // one, appended
  };
  // AppendTo for a reader that answers views whose form holds attachment
  // addresses elsewhere (their names need the store), in one look-up: appends
  // the head stored for exactly `snapshot` and `org` to *out (kAppended,
  // counted as a hit) unless its form holds attachment addresses (as Put was
  // told). Otherwise *out is untouched and nothing is counted: the reader
  // that then writes the head or answers elsewhere looks it up with AppendTo.
  Found AppendUnlessAttachments(const std::shared_ptr<const CachedInstance>& snapshot,
                                const std::shared_ptr<const Org>& org, std::string* out);
  // Stores `head`, written from `snapshot` and `org`, for the snapshot's
  // instance, replacing what was stored for it; `attachments`: whether the
  // snapshot's form holds attachment addresses (AttachmentAddresses).
  void Put(const std::shared_ptr<const CachedInstance>& snapshot,
           const std::shared_ptr<const Org>& org, std::string head, bool attachments = false);

  size_t bytes() const;
  int64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  int64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    std::weak_ptr<const CachedInstance> snapshot;
    std::weak_ptr<const Org> org;
    std::string head;
    bool attachments = false;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<int64_t, Entry> entries;
    size_t bytes = 0;  // head sizes summed
    // Puts over the share that may still go without looking for heads whose
    // snapshot is gone (0: the next one looks).
    size_t puts_before_sweep = 0;
  };
  Shard& ShardOf(int64_t id) { return shards_[static_cast<uint64_t>(id) % shards_.size()]; }
  // The entry of `s` stored for exactly `snapshot` and `org`, or nullptr.
  // REQUIRES: s.mu held.
  static const Entry* FindLocked(const Shard& s,
                                 const std::shared_ptr<const CachedInstance>& snapshot,
                                 const std::shared_ptr<const Org>& org);

  size_t bytes_per_shard_;
  std::vector<Shard> shards_;
  std::atomic<int64_t> hits_{0};
  std::atomic<int64_t> misses_{0};
};

}  // namespace approvald::api

#endif  // APPROVALD_API_VIEW_HEAD_CACHE_H_
