// Prometheus metrics of the daemon: requests by route and status, request
// latency histograms by route, open connections and WebSockets, WebSocket
// messages pushed and slow consumers dropped, plus whatever collectors add
// (the store's commit batch sizes). Thread-safe.
#ifndef APPROVALD_API_METRICS_H_
#define APPROVALD_API_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace approvald::api {

class Metrics {
 public:
  // Upper bounds (seconds) of the latency histogram buckets.
  static constexpr std::array<double, 12> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5};

  void ObserveRequest(const std::string& route, int status, double seconds);
  void ConnectionOpened() { connections_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionClosed() { connections_.fetch_sub(1, std::memory_order_relaxed); }
  void WebSocketOpened() { websockets_.fetch_add(1, std::memory_order_relaxed); }
  void WebSocketClosed() { websockets_.fetch_sub(1, std::memory_order_relaxed); }
  void WebSocketPushed() { ws_pushed_.fetch_add(1, std::memory_order_relaxed); }
  void SlowConsumerDropped() { ws_dropped_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionRefused() { refused_.fetch_add(1, std::memory_order_relaxed); }

  int64_t connections() const { return connections_.load(std::memory_order_relaxed); }
  int64_t websockets() const { return websockets_.load(std::memory_order_relaxed); }

  // Adds text in Prometheus exposition format at the end of Render().
  void AddCollector(std::function<void(std::string*)> fn);

  // The exposition text (text/plain; version=0.0.4).
  std::string Render() const;

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};
    uint64_t count = 0;
    double sum = 0;
  };
  struct RouteStats {
    std::map<int, uint64_t> by_status;
    Histogram latency;
  };
  mutable std::mutex mu_;
  std::map<std::string, RouteStats, std::less<>> routes_;
  std::vector<std::function<void(std::string*)>> collectors_;
  std::atomic<int64_t> connections_{0};
  std::atomic<int64_t> websockets_{0};
  std::atomic<int64_t> ws_pushed_{0};
  std::atomic<int64_t> ws_dropped_{0};
  std::atomic<int64_t> refused_{0};
};

}  // namespace approvald::api

#endif  // APPROVALD_API_METRICS_H_
