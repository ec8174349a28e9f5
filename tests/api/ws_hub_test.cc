#include "api/ws_hub.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace approvald::api {
namespace {

class FakeClient : public WsClient {
 public:
  void Send(std::shared_ptr<const std::string> text) override { got.push_back(*text); }
  std::vector<std::string> got;
};

Change MakeChange(int64_t id, std::vector<PersonId> newly_pending) {
  Change c;
  c.row.id = InstanceId{id};
  c.row.workflow = "expense";
  c.row.status = "running";
  Event e;
  e.instance = InstanceId{id};
  e.version = 3;
  e.type = "signed";
  c.events.push_back(e);
  for (const auto& p : newly_pending) c.tasks.push_back(TaskRow{InstanceId{id}, "review", p, "pending", {}});
  c.newly_pending = std::move(newly_pending);
  return c;
}

class WsHubTest : public ::testing::Test {
 protected:
  WsHub hub_{[] { return std::make_shared<const Org>(); }};
};

TEST_F(WsHubTest, NewTasksGoToTheAssignee) {
  auto li = std::make_shared<FakeClient>();
  auto wang = std::make_shared<FakeClient>();
  hub_.Join(li, PersonId("li"));
  hub_.Join(wang, PersonId("wang"));
  hub_.OnChange(MakeChange(7, {PersonId("li")}));
  ASSERT_EQ(li->got.size(), 1u);
  EXPECT_TRUE(wang->got.empty());
  auto msg = boost::json::parse(li->got[0]);
  EXPECT_EQ(msg.at("type").as_string(), "task");
  EXPECT_EQ(msg.at("instance").at("id").as_int64(), 7);
  EXPECT_EQ(msg.at("node").as_string(), "review");
}

TEST_F(WsHubTest, SubscribersGetInstanceChanges) {
  auto a = std::make_shared<FakeClient>();
  uint64_t id = hub_.Join(a, PersonId("a"));
  EXPECT_TRUE(hub_.Subscribe(id, InstanceId{9}));
  hub_.OnChange(MakeChange(8, {}));
  EXPECT_TRUE(a->got.empty());
  hub_.OnChange(MakeChange(9, {}));
  ASSERT_EQ(a->got.size(), 1u);
  auto msg = boost::json::parse(a->got[0]);
  EXPECT_EQ(msg.at("type").as_string(), "instance");
  EXPECT_EQ(msg.at("events").at(0).at("type").as_string(), "signed");
  hub_.Unsubscribe(id, InstanceId{9});
  hub_.OnChange(MakeChange(9, {}));
  EXPECT_EQ(a->got.size(), 1u);
}

TEST_F(WsHubTest, SubscriptionsAreCapped) {
  auto a = std::make_shared<FakeClient>();
  uint64_t id = hub_.Join(a, PersonId("a"));
  EXPECT_TRUE(hub_.Subscribe(id, InstanceId{1}, 2));
  EXPECT_TRUE(hub_.Subscribe(id, InstanceId{2}, 2));
  EXPECT_FALSE(hub_.Subscribe(id, InstanceId{3}, 2));
  EXPECT_FALSE(hub_.Subscribe(999, InstanceId{1}));
}

TEST_F(WsHubTest, HoldsClientsWeaklyAndForgetsOnLeave) {
  auto a = std::make_shared<FakeClient>();
  uint64_t id = hub_.Join(a, PersonId("a"));
  std::weak_ptr<FakeClient> weak = a;
  a.reset();
  EXPECT_TRUE(weak.expired());  // the hub did not keep it alive
  hub_.OnChange(MakeChange(1, {PersonId("a")}));  // no crash on a dead client
  EXPECT_EQ(hub_.size(), 1u);
  hub_.Leave(id);
  EXPECT_EQ(hub_.size(), 0u);
}

}  // namespace
}  // namespace approvald::api
