// The SQLite store's group-commit and WAL counters in Prometheus text, for
// GET /metrics (a Metrics collector added by `serve`).
#ifndef APPROVALD_API_STORE_METRICS_H_
#define APPROVALD_API_STORE_METRICS_H_

#include <string>

#include "store/sqlite/sqlite_store.h"

namespace approvald::api {

// Appends to `out`: the commit batch size histogram
// (approvald_store_commit_batch_size), failed batches and the requests they
// refused, batches rerun with one SAVEPOINT per request, and the WAL
// checkpoint counters and current WAL length.
void AppendStoreMetrics(const GroupCommitStats& s, std::string* out);

}  // namespace approvald::api

#endif  // APPROVALD_API_STORE_METRICS_H_
