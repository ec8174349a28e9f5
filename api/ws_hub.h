// The WebSocket hub: implements the engine's Notifier. After a change is
// durable the engine calls OnChange (on a worker thread); the hub turns it
// into JSON once and hands the shared text to every interested client:
//   {"type":"task","instance":{...row...},"node":"...","event_types":[..]}
//     to each person who got a new pending task;
//   {"type":"instance","instance":{...row...},"events":[...]}
//     to clients subscribed to that instance.
// Clients are held by weak reference, so a closing session never waits for
// the hub and the hub never keeps a session alive. Thread-safe, non-blocking:
// Send() only queues (WsClient contract).
#ifndef APPROVALD_API_WS_HUB_H_
#define APPROVALD_API_WS_HUB_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "approvald/notifier.h"
#include "approvald/org.h"

namespace approvald::api {

// One connected client as the hub sees it.
class WsClient {
 public:
  virtual ~WsClient() = default;
  // Queues a message for the client. Must not block; a client whose queue is
  // full disconnects itself (slow consumer). Thread-safe.
  virtual void Send(std::shared_ptr<const std::string> text) = 0;
};

class WsHub final : public Notifier {
 public:
  // `org` gives display names in pushed rows; called on each change.
  explicit WsHub(std::function<std::shared_ptr<const Org>()> org);

  // Registers a client acting as `person` (may be empty: it then receives
  // only instance subscriptions). Returns a registration id.
  uint64_t Join(const std::weak_ptr<WsClient>& client, const PersonId& person);
  // Forgets a client and its subscriptions.
  void Leave(uint64_t id);
  // Subscribes client `id` to changes of `instance`. The caller has checked
  // that the client may see it. At most `max_subscriptions` per client;
  // false if over the cap or the client is unknown.
  bool Subscribe(uint64_t id, InstanceId instance, size_t max_subscriptions = 1000);
  void Unsubscribe(uint64_t id, InstanceId instance);

  void OnChange(const Change& change) override;

  // Closes every client (shutdown): sends nothing, returns them so the
  // server can close each with a close frame.
  std::vector<std::shared_ptr<WsClient>> Clients();
  size_t size() const;

 private:
  struct Entry {
    std::weak_ptr<WsClient> client;
    PersonId person;
    std::set<int64_t> instances;
  };
  std::function<std::shared_ptr<const Org>()> org_;
  mutable std::mutex mu_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Entry> clients_;
  std::multimap<std::string, uint64_t> by_person_;
  std::multimap<int64_t, uint64_t> by_instance_;
};

}  // namespace approvald::api

#endif  // APPROVALD_API_WS_HUB_H_
