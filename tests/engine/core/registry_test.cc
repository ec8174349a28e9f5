// WorkflowRegistry: versions by content hash; old versions stay retrievable
// so that running instances keep the definition they started on.
#include "core/registry.h"

#include <gtest/gtest.h>

namespace approvald {
namespace {

WorkflowDef Def(const std::string& id, const std::string& hash,
                const std::string& title = "标题") {
  WorkflowDef def;
  def.id = id;
  def.hash = hash;
  def.title = title;
  return def;
}

TEST(WorkflowRegistryTest, FirstDefinitionIsVersionOne) {
  WorkflowRegistry registry;
  auto r = registry.Register(Def("expense", "sha256:aa"));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->created);
  EXPECT_EQ(r->def->version, 1);
  EXPECT_EQ(registry.Latest("expense"), r->def);
  EXPECT_EQ(registry.Get("expense", 1), r->def);
}

TEST(WorkflowRegistryTest, SameHashKeepsTheVersion) {
  WorkflowRegistry registry;
  ASSERT_TRUE(registry.Register(Def("expense", "sha256:aa")));
  auto again = registry.Register(Def("expense", "sha256:aa", "另一个标题"));
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->def->version, 1);
  EXPECT_EQ(again->def->title, "标题");  // the stored one, not the new value
  EXPECT_EQ(registry.Versions("expense").size(), 1u);
}

TEST(WorkflowRegistryTest, ChangedHashIsANewVersionAndTheOldOneStays) {
  WorkflowRegistry registry;
  auto v1 = registry.Register(Def("expense", "sha256:aa", "旧"));
  ASSERT_TRUE(v1);
  WorkflowRegistry::DefPtr held = v1->def;  // a running instance holds it
  auto v2 = registry.Register(Def("expense", "sha256:bb", "新"));
  ASSERT_TRUE(v2);
  EXPECT_TRUE(v2->created);
  EXPECT_EQ(v2->def->version, 2);
  EXPECT_EQ(registry.Latest("expense")->version, 2);
  ASSERT_NE(registry.Get("expense", 1), nullptr);
  EXPECT_EQ(registry.Get("expense", 1)->title, "旧");
  EXPECT_EQ(registry.Get("expense", 1)->hash, "sha256:aa");
  EXPECT_EQ(held->title, "旧");
  EXPECT_EQ(held->version, 1);
  EXPECT_EQ(registry.Get("expense", 2)->title, "新");
}

TEST(WorkflowRegistryTest, RevertingToAnOldHashIsANewVersion) {
  WorkflowRegistry registry;
  ASSERT_TRUE(registry.Register(Def("expense", "sha256:aa")));
  ASSERT_TRUE(registry.Register(Def("expense", "sha256:bb")));
  auto v3 = registry.Register(Def("expense", "sha256:aa"));
  ASSERT_TRUE(v3);
  EXPECT_TRUE(v3->created);
  EXPECT_EQ(v3->def->version, 3);
  EXPECT_EQ(registry.Versions("expense").size(), 3u);
}

TEST(WorkflowRegistryTest, VersionIsAssignedNotTakenFromTheCaller) {
  WorkflowRegistry registry;
  WorkflowDef def = Def("expense", "sha256:aa");
  def.version = 42;
  auto r = registry.Register(def);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->def->version, 1);
}

TEST(WorkflowRegistryTest, UnknownIdsAndVersionsGiveNull) {
  WorkflowRegistry registry;
  ASSERT_TRUE(registry.Register(Def("expense", "sha256:aa")));
  EXPECT_EQ(registry.Latest("nope"), nullptr);
  EXPECT_EQ(registry.Get("nope", 1), nullptr);
  EXPECT_EQ(registry.Get("expense", 0), nullptr);
  EXPECT_EQ(registry.Get("expense", 2), nullptr);
  EXPECT_EQ(registry.Get("expense", -1), nullptr);
  EXPECT_TRUE(registry.Versions("nope").empty());
}

TEST(WorkflowRegistryTest, ListHasTheLatestOfEachInIdOrder) {
  WorkflowRegistry registry;
  ASSERT_TRUE(registry.Register(Def("sanzhong-yida", "sha256:01")));
  ASSERT_TRUE(registry.Register(Def("expense", "sha256:aa")));
  ASSERT_TRUE(registry.Register(Def("expense", "sha256:bb")));
  auto list = registry.List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]->id, "expense");
  EXPECT_EQ(list[0]->version, 2);
  EXPECT_EQ(list[1]->id, "sanzhong-yida");
  EXPECT_EQ(list[1]->version, 1);
}

TEST(WorkflowRegistryTest, RefusesDefinitionsWithoutIdOrHash) {
  WorkflowRegistry registry;
  auto no_hash = registry.Register(Def("expense", ""));
  ASSERT_FALSE(no_hash);
  EXPECT_EQ(no_hash.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(no_hash.error().reason, "invalid_definition");
  auto no_id = registry.Register(Def("", "sha256:aa"));
  ASSERT_FALSE(no_id);
  EXPECT_EQ(no_id.error().reason, "invalid_definition");
  EXPECT_TRUE(registry.List().empty());
}

}  // namespace
}  // namespace approvald
