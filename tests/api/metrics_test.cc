#include "api/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace approvald::api {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, PrometheusText) {
  Metrics m;
  m.ObserveRequest("/healthz", 200, 0.0001);
  m.ObserveRequest("/healthz", 200, 0.02);
  m.ObserveRequest("/api/v1/instances/{id}", 404, 0.003);
  m.ConnectionOpened();
  m.WebSocketOpened();
  m.AddCollector([](std::string* out) { *out += "approvald_store_commit_batch_size_count 7\n"; });
  std::string t = m.Render();
  EXPECT_THAT(t, HasSubstr("approvald_http_requests_total{route=\"/healthz\",status=\"200\"} 2\n"));
  EXPECT_THAT(t, HasSubstr(
      "approvald_http_requests_total{route=\"/api/v1/instances/{id}\",status=\"404\"} 1\n"));
  EXPECT_THAT(t, HasSubstr(
      "approvald_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.0005\"} 1\n"));
  EXPECT_THAT(t, HasSubstr(
      "approvald_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.025\"} 2\n"));
  EXPECT_THAT(t, HasSubstr(
      "approvald_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 2\n"));
  EXPECT_THAT(t, HasSubstr("approvald_open_connections 1\n"));
  EXPECT_THAT(t, HasSubstr("approvald_open_websockets 1\n"));
  EXPECT_THAT(t, HasSubstr("approvald_store_commit_batch_size_count 7\n"));
}

}  // namespace
}  // namespace approvald::api
