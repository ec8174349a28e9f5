#include "api/ws_hub.h"

#include "api/json_codec.h"

namespace approvald::api {

WsHub::WsHub(std::function<std::shared_ptr<const Org>()> org) : org_(std::move(org)) {}

uint64_t WsHub::Join(const std::weak_ptr<WsClient>& client, const PersonId& person) {
  std::lock_guard lock(mu_);
  uint64_t id = next_id_++;
  clients_[id] = Entry{client, person, {}};
  if (!person.empty()) by_person_.emplace(person.value, id);
  return id;
}

void WsHub::Leave(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  auto range = by_person_.equal_range(it->second.person.value);
  for (auto p = range.first; p != range.second;) {
    p = p->second == id ? by_person_.erase(p) : std::next(p);
  }
  for (int64_t inst : it->second.instances) {
    auto r = by_instance_.equal_range(inst);
    for (auto p = r.first; p != r.second;) {
      p = p->second == id ? by_instance_.erase(p) : std::next(p);
    }
  }
  clients_.erase(it);
}

bool WsHub::Subscribe(uint64_t id, InstanceId instance, size_t max_subscriptions) {
  std::lock_guard lock(mu_);
  auto it = clients_.find(id);
  if (it == clients_.end()) return false;
  if (it->second.instances.count(instance.value)) return true;
  if (it->second.instances.size() >= max_subscriptions) return false;
  it->second.instances.insert(instance.value);
  by_instance_.emplace(instance.value, id);
  return true;
}

void WsHub::Unsubscribe(uint64_t id, InstanceId instance) {
  std::lock_guard lock(mu_);
  auto it = clients_.find(id);
  if (it == clients_.end() || !it->second.instances.erase(instance.value)) return;
  auto r = by_instance_.equal_range(instance.value);
  for (auto p = r.first; p != r.second;) {
    p = p->second == id ? by_instance_.erase(p) : std::next(p);
  }
}

void WsHub::OnChange(const Change& change) {
  // Find the recipients under the lock; build and send outside it.
  std::vector<std::pair<std::shared_ptr<WsClient>, std::string>> task_targets;  // client, node
  std::vector<std::shared_ptr<WsClient>> instance_targets;
  {
    std::lock_guard lock(mu_);
    for (const auto& person : change.newly_pending) {
      std::string node;
      for (const auto& t : change.tasks) {
        if (t.person == person && t.kind == "pending") node = t.node;
      }
      auto range = by_person_.equal_range(person.value);
      for (auto p = range.first; p != range.second; ++p) {
        if (auto c = clients_[p->second].client.lock()) task_targets.emplace_back(c, node);
      }
    }
    auto range = by_instance_.equal_range(change.row.id.value);
    for (auto p = range.first; p != range.second; ++p) {
      if (auto c = clients_[p->second].client.lock()) instance_targets.push_back(c);
    }
  }
  if (task_targets.empty() && instance_targets.empty()) return;
  auto org = org_();
  json::object row = InstanceRowToJson(change.row, *org);
  json::array types;
  for (const auto& e : change.events) types.push_back(json::string(e.type));
  std::map<std::string, std::shared_ptr<const std::string>> task_msgs;  // by node
  for (auto& [client, node] : task_targets) {
    auto& msg = task_msgs[node];
    if (!msg) {
      json::object o;
      o["type"] = "task";
      o["instance"] = row;
      o["node"] = node;
      o["event_types"] = types;
      msg = std::make_shared<const std::string>(json::serialize(o));
    }
    client->Send(msg);
  }
  if (!instance_targets.empty()) {
    json::object o;
    o["type"] = "instance";
    o["instance"] = row;
    json::array events;
    for (const auto& e : change.events) events.push_back(EventToJson(e, *org));
    o["events"] = std::move(events);
    auto msg = std::make_shared<const std::string>(json::serialize(o));
    for (auto& client : instance_targets) client->Send(msg);
  }
}

std::vector<std::shared_ptr<WsClient>> WsHub::Clients() {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<WsClient>> out;
  for (auto& [id, e] : clients_) {
    if (auto c = e.client.lock()) out.push_back(std::move(c));
  }
  return out;
}

size_t WsHub::size() const {
  std::lock_guard lock(mu_);
  return clients_.size();
}

}  // namespace approvald::api
