#include "api/store_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace approvald::api {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(StoreMetricsTest, BatchHistogramIsCumulativeWithTheLastBucketAsInf) {
  GroupCommitStats s;
  s.histogram[0] = 3;   // batches of 1
  s.histogram[2] = 2;   // batches of 3..4
  s.histogram[GroupCommitStats::kBuckets - 1] = 1;  // one huge batch
  s.batches = 6;
  s.requests = 3 + 7 + 5000;
  std::string t;
  AppendStoreMetrics(s, &t);
  EXPECT_THAT(t, HasSubstr("# TYPE approvald_store_commit_batch_size histogram\n"));
  EXPECT_THAT(t, HasSubstr("approvald_store_commit_batch_size_bucket{le=\"1\"} 3\n"));
  EXPECT_THAT(t, HasSubstr("approvald_store_commit_batch_size_bucket{le=\"2\"} 3\n"));
  EXPECT_THAT(t, HasSubstr("approvald_store_commit_batch_size_bucket{le=\"4\"} 5\n"));
  EXPECT_THAT(t, HasSubstr("approvald_store_commit_batch_size_bucket{le=\"1024\"} 5\n"));
  EXPECT_THAT(t, HasSubstr("approvald_store_commit_batch_size_bucket{le=\"+Inf\"} 6\n"));
  EXPECT_THAT(t, HasSubstr("approvald_store_commit_batch_size_sum 5010\n"));
  EXPECT_THAT(t, HasSubstr("approvald_store_commit_batch_size_count 6\n"));
  // +Inf once, not also as a numeric bound.
  EXPECT_THAT(t, Not(HasSubstr(std::to_string(INT64_MAX))));
}

TEST(StoreMetricsTest, FailuresRerunsAndWalCountersAreExported) {
  GroupCommitStats s;
  s.failed_batches = 2;
  s.failed_requests = 17;
  s.isolated_reruns = 4;
  s.wal_checkpoints = 9;
  s.wal_restarts = 3;
  s.wal_checkpoint_errors = 1;
  s.wal_frames = 1234;
  s.wal_syncs = 567;
  s.wal_sync_failures = 1;
  std::string t;
  AppendStoreMetrics(s, &t);
  EXPECT_THAT(t, HasSubstr("# TYPE approvald_store_failed_batches_total counter\n"
                           "approvald_store_failed_batches_total 2\n"));
  EXPECT_THAT(t, HasSubstr("approvald_store_failed_requests_total 17\n"));
  EXPECT_THAT(t, HasSubstr("approvald_store_isolated_reruns_total 4\n"));
  EXPECT_THAT(t, HasSubstr("approvald_store_wal_checkpoints_total 9\n"));
  EXPECT_THAT(t, HasSubstr("approvald_store_wal_restarts_total 3\n"));
  EXPECT_THAT(t, HasSubstr("approvald_store_wal_checkpoint_errors_total 1\n"));
  EXPECT_THAT(t, HasSubstr("# TYPE approvald_store_wal_frames gauge\n"
                           "approvald_store_wal_frames 1234\n"));
  EXPECT_THAT(t, HasSubstr("approvald_store_wal_syncs_total 567\n"));
  EXPECT_THAT(t, HasSubstr("approvald_store_wal_sync_failures_total 1\n"));
}

TEST(StoreMetricsTest, CacheCountersAreCountersAndGauges) {
  std::string t;
  AppendCacheMetrics("state_cache", "engine's cache", {7, 3, 5, 4096}, &t);
  EXPECT_THAT(t, HasSubstr("# TYPE approvald_state_cache_hits_total counter\n"
                           "approvald_state_cache_hits_total 7\n"));
  EXPECT_THAT(t, HasSubstr("# TYPE approvald_state_cache_misses_total counter\n"
                           "approvald_state_cache_misses_total 3\n"));
  EXPECT_THAT(t, HasSubstr("# TYPE approvald_state_cache_entries gauge\n"
                           "approvald_state_cache_entries 5\n"));
  EXPECT_THAT(t, HasSubstr("# TYPE approvald_state_cache_bytes gauge\n"
                           "approvald_state_cache_bytes 4096\n"));
  // A cache that does not count its entries reports no entries gauge.
  std::string h;
  AppendCacheMetrics("view_head_cache", "head cache", {1, 2, -1, 10}, &h);
  EXPECT_THAT(h, HasSubstr("approvald_view_head_cache_misses_total 2\n"));
  EXPECT_THAT(h, Not(HasSubstr("approvald_view_head_cache_entries")));
  // Nor a bytes gauge when it does not count its bytes.
  std::string v;
  AppendCacheMetrics("viewer_actions", "memory of actions", {4, 5, -1, -1}, &v);
  EXPECT_THAT(v, HasSubstr("approvald_viewer_actions_hits_total 4\n"));
  EXPECT_THAT(v, HasSubstr("approvald_viewer_actions_misses_total 5\n"));
  EXPECT_THAT(v, Not(HasSubstr("approvald_viewer_actions_bytes")));
}

}  // namespace
}  // namespace approvald::api
