// The SQLite store's group-commit and WAL counters, and the daemon's
// in-memory caches, in Prometheus text, for GET /metrics (Metrics collectors
// added by `serve`).
#ifndef APPROVALD_API_STORE_METRICS_H_
#define APPROVALD_API_STORE_METRICS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "store/sqlite/sqlite_store.h"

namespace approvald::api {

// Appends to `out`: the commit batch size histogram
// (approvald_store_commit_batch_size), failed batches and the requests they
// refused, batches rerun with one SAVEPOINT per request, and the WAL
// checkpoint counters and current WAL length.
void AppendStoreMetrics(const GroupCommitStats& s, std::string* out);

// What one in-memory cache reports: lookups answered and not, and what it
// holds now.
struct CacheCounters {
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t entries = -1;  // -1: the cache does not count its entries
  int64_t bytes = 0;     // approximate; -1: the cache does not count them
};

// Appends to `out` the counters of the cache named `name` (a metric name
// part: approvald_<name>_hits_total, _misses_total, _entries, _bytes),
// described by `what`.
void AppendCacheMetrics(std::string_view name, std::string_view what, const CacheCounters& c,
                        std::string* out);

}  // namespace approvald::api

#endif  // APPROVALD_API_STORE_METRICS_H_
