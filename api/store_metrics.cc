#include "api/store_metrics.h"

#include <cstdint>
#include <string_view>

namespace approvald::api {
namespace {

void Scalar(std::string* out, std::string_view name, std::string_view type,
            std::string_view help, int64_t value) {
  out->append("# HELP ").append(name).append(" ").append(help).append("\n");
  out->append("# TYPE ").append(name).append(" ").append(type).append("\n");
  out->append(name).append(" ").append(std::to_string(value)).append("\n");
}

}  // namespace

void AppendStoreMetrics(const GroupCommitStats& s, std::string* out) {
  *out += "# HELP approvald_store_commit_batch_size Requests per group-commit transaction.\n";
  *out += "# TYPE approvald_store_commit_batch_size histogram\n";
  int64_t cumulative = 0;
  for (int i = 0; i < GroupCommitStats::kBuckets; ++i) {
    cumulative += s.histogram[i];
    int64_t le = GroupCommitStats::BucketUpperBound(i);
    if (le == INT64_MAX) continue;  // the last bucket is +Inf, written below
    *out += "approvald_store_commit_batch_size_bucket{le=\"" + std::to_string(le) + "\"} " +
            std::to_string(cumulative) + "\n";
  }
  *out += "approvald_store_commit_batch_size_bucket{le=\"+Inf\"} " +
          std::to_string(cumulative) + "\n";
  *out += "approvald_store_commit_batch_size_sum " + std::to_string(s.requests) + "\n";
  *out += "approvald_store_commit_batch_size_count " + std::to_string(s.batches) + "\n";
  Scalar(out, "approvald_store_failed_batches_total", "counter",
         "Group commits whose transaction failed.", s.failed_batches);
  Scalar(out, "approvald_store_failed_requests_total", "counter",
         "Requests answered unavailable because their group commit failed (none of "
         "them was stored).",
         s.failed_requests);
  Scalar(out, "approvald_store_isolated_reruns_total", "counter",
         "Group commits run again with one savepoint per request because one request "
         "was refused.",
         s.isolated_reruns);
  Scalar(out, "approvald_store_wal_checkpoints_total", "counter",
         "Passive WAL checkpoints by the checkpoint thread.", s.wal_checkpoints);
  Scalar(out, "approvald_store_wal_restarts_total", "counter",
         "WAL restarts by the writer between batches.", s.wal_restarts);
  Scalar(out, "approvald_store_wal_checkpoint_errors_total", "counter",
         "WAL checkpoints that failed.", s.wal_checkpoint_errors);
  Scalar(out, "approvald_store_wal_frames", "gauge",
         "Frames in the write-ahead log as of the last commit.", s.wal_frames);
  Scalar(out, "approvald_store_wal_syncs_total", "counter",
         "Syncs of the write-ahead log that answered the group commits before them.",
         s.wal_syncs);
  Scalar(out, "approvald_store_wal_sync_failures_total", "counter",
         "Syncs of the write-ahead log that failed (the store then takes no more writes).",
         s.wal_sync_failures);
}

void AppendCacheMetrics(std::string_view name, std::string_view what, const CacheCounters& c,
                        std::string* out) {
  std::string prefix = "approvald_" + std::string(name);
  Scalar(out, prefix + "_hits_total", "counter",
         "Lookups the " + std::string(what) + " answered from memory.", c.hits);
  Scalar(out, prefix + "_misses_total", "counter",
         "Lookups the " + std::string(what) + " could not answer.", c.misses);
  if (c.entries >= 0) {
    Scalar(out, prefix + "_entries", "gauge",
           "Entries the " + std::string(what) + " holds now.", c.entries);
  }
  if (c.bytes >= 0) {
    Scalar(out, prefix + "_bytes", "gauge",
           "Approximate bytes the " + std::string(what) + " holds now.", c.bytes);
  }
}

}  // namespace approvald::api
