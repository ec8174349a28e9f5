#include "api/metrics.h"

#include <fmt/format.h>

namespace approvald::api {

void Metrics::ObserveRequest(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mu_);
  auto it = routes_.find(route);
  if (it == routes_.end()) it = routes_.emplace(route, RouteStats{}).first;
  it->second.by_status[status]++;
  Histogram& h = it->second.latency;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      h.counts[i]++;
      break;
    }
  }
  h.count++;
  h.sum += seconds;
}

void Metrics::AddCollector(std::function<void(std::string*)> fn) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(fn));
}

std::string Metrics::Render() const {
  std::string out;
  std::lock_guard lock(mu_);
  out += "# HELP approvald_http_requests_total HTTP requests answered, by route and status.\n";
  out += "# TYPE approvald_http_requests_total counter\n";
  for (const auto& [route, stats] : routes_) {
    for (const auto& [status, n] : stats.by_status) {
      out += fmt::format("approvald_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n",
                         route, status, n);
    }
  }
  out += "# HELP approvald_http_request_duration_seconds Time from a complete request to its response.\n";
  out += "# TYPE approvald_http_request_duration_seconds histogram\n";
  for (const auto& [route, stats] : routes_) {
    const Histogram& h = stats.latency;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.counts[i];
      out += fmt::format(
          "approvald_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", route,
          kBuckets[i], cumulative);
    }
    out += fmt::format(
        "approvald_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", route,
        h.count);
    out += fmt::format("approvald_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route,
                       h.sum);
    out += fmt::format("approvald_http_request_duration_seconds_count{{route=\"{}\"}} {}\n",
                       route, h.count);
  }
  auto gauge = [&](const char* name, const char* help, const char* type, int64_t v) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, v);
  };
  gauge("approvald_open_connections", "Open client connections (HTTP and WebSocket).", "gauge",
        connections_.load());
  gauge("approvald_open_websockets", "Open WebSocket sessions.", "gauge", websockets_.load());
  gauge("approvald_websocket_messages_pushed_total", "Messages pushed to WebSocket clients.",
        "counter", ws_pushed_.load());
  gauge("approvald_websocket_slow_consumers_dropped_total",
        "WebSocket clients disconnected because their send queue was full.", "counter",
        ws_dropped_.load());
  gauge("approvald_connections_refused_total",
        "Connections closed at accept because limits.max_connections was reached.", "counter",
        refused_.load());
  for (const auto& fn : collectors_) fn(&out);
  return out;
}

}  // namespace approvald::api
