#include "api/startup_audit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "api/bootstrap.h"
#include "audit/leaf.h"
#include "store/memory/memory_store.h"

namespace approvald::api {
namespace {

namespace fs = std::filesystem;

// Every audit record of `type`, oldest first, decoded from its leaf.
std::vector<AuditRecord> Records(Store& store, const std::string& type) {
  AuditQuery q;
  q.type = type;
  q.limit = 1000;
  auto entries = store.QueryAudit(q);
  EXPECT_TRUE(entries.has_value());
  std::vector<AuditRecord> out;
  if (!entries) return out;
  for (const AuditEntry& e : *entries) {
    auto parsed = audit::ParseLeaf(e.leaf_data);
    EXPECT_TRUE(parsed && parsed->record) << e.leaf_data;
    if (parsed && parsed->record) out.push_back(*parsed->record);
  }
  return out;
}

std::string Str(const AuditRecord& r, const std::string& key) {
  auto it = r.data.find(key);
  if (it == r.data.end()) return "<missing>";
  const auto* s = std::get_if<std::string>(&it->second.v);
  return s ? *s : "<not a string>";
}

int64_t Int(const AuditRecord& r, const std::string& key) {
  auto it = r.data.find(key);
  if (it == r.data.end()) return -1;
  const auto* i = std::get_if<int64_t>(&it->second.v);
  return i ? *i : -1;
}

class StartupAuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("h1_startup_audit_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "wf");
    auto org = LoadOrgFile(APPROVAL_SOURCE_DIR "/config/org.yaml");
    ASSERT_TRUE(org.has_value()) << org.error().message;
    org_ = *org;
    org_text_ = ReadTextFile(APPROVAL_SOURCE_DIR "/config/org.yaml").value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // One start of the daemon as serve.cc runs it: load the workflow files,
  // then audit what is new.
  int Start(Store& store) {
    WorkflowRegistry reg;
    auto n = LoadWorkflows((dir_ / "wf").string(), *org_, store, reg);
    EXPECT_TRUE(n.has_value()) << n.error().message;
    auto audited = AuditNewDefinitions(store, Timestamp{1700000000000});
    EXPECT_TRUE(audited.has_value()) << audited.error().message;
    return audited.value_or(-1);
  }

  fs::path dir_;
  std::shared_ptr<const Org> org_;
  std::string org_text_;
};

TEST_F(StartupAuditTest, NewDefinitionVersionIsAuditedOnceBySystem) {
  fs::copy_file(APPROVAL_SOURCE_DIR "/workflows/expense.yaml", dir_ / "wf/expense.yaml");
  MemoryStore store;
  EXPECT_EQ(Start(store), 1);
  auto recs = Records(store, "definition_added");
  ASSERT_EQ(recs.size(), 1u);
  auto defs = store.ListDefinitions().value();
  ASSERT_EQ(defs.size(), 1u);
  EXPECT_EQ(recs[0].actor, PersonId("system"));
  EXPECT_EQ(recs[0].subject, "workflow:expense@1");
  EXPECT_EQ(Str(recs[0], "workflow"), "expense");
  EXPECT_EQ(Int(recs[0], "version"), 1);
  EXPECT_EQ(Str(recs[0], "def_hash"), defs[0].hash);
  EXPECT_EQ(recs[0].at.ms, 1700000000000);

  // A restart with the same file adds nothing.
  EXPECT_EQ(Start(store), 0);
  EXPECT_EQ(Records(store, "definition_added").size(), 1u);

  // A changed file is version 2: one more record, naming it.
  std::ofstream(dir_ / "wf/expense.yaml", std::ios::app) << "\n# edited\n";
  EXPECT_EQ(Start(store), 1);
  recs = Records(store, "definition_added");
  ASSERT_EQ(recs.size(), 2u);
  defs = store.ListDefinitions().value();
  ASSERT_EQ(defs.size(), 2u);
  EXPECT_EQ(recs[1].subject, "workflow:expense@2");
  EXPECT_EQ(Int(recs[1], "version"), 2);
  EXPECT_EQ(Str(recs[1], "def_hash"), defs[1].hash);
  EXPECT_NE(Str(recs[0], "def_hash"), Str(recs[1], "def_hash"));
  EXPECT_EQ(Start(store), 0);
}

TEST_F(StartupAuditTest, DefinitionStoredWithoutItsRecordIsAuditedAtNextStart) {
  // A crash between SaveDefinition and the audit append (or a database from
  // before these records existed): the next start writes the record.
  MemoryStore store;
  ASSERT_TRUE(store.SaveDefinition("leave", 3, "sha256:abc", "text").has_value());
  auto n = AuditNewDefinitions(store, Timestamp{5});
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 1);
  auto recs = Records(store, "definition_added");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].subject, "workflow:leave@3");
  EXPECT_EQ(Str(recs[0], "def_hash"), "sha256:abc");
  EXPECT_EQ(AuditNewDefinitions(store, Timestamp{6}).value(), 0);
}

TEST_F(StartupAuditTest, OrganisationIsAuditedWhenItsHashChanges) {
  MemoryStore store;
  auto first =
      AuditOrgIfChanged(store, org_text_, *org_, "config/org.yaml", Timestamp{10});
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_TRUE(*first);
  auto recs = Records(store, "org_changed");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].actor, PersonId("system"));
  EXPECT_EQ(recs[0].subject, "org");
  EXPECT_EQ(Str(recs[0], "sha256"), Sha256Address(org_text_).substr(7));
  EXPECT_EQ(Int(recs[0], "people"), static_cast<int64_t>(org_->people.size()));
  EXPECT_EQ(Str(recs[0], "file"), "config/org.yaml");

  // Same text again (a restart): nothing.
  EXPECT_FALSE(
      AuditOrgIfChanged(store, org_text_, *org_, "config/org.yaml", Timestamp{11})
          .value());
  EXPECT_EQ(Records(store, "org_changed").size(), 1u);

  // Changed text: one more record with the new hash; then quiet again.
  std::string edited = org_text_ + "\n# edited\n";
  EXPECT_TRUE(
      AuditOrgIfChanged(store, edited, *org_, "config/org.yaml", Timestamp{12}).value());
  recs = Records(store, "org_changed");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(Str(recs[1], "sha256"), Sha256Address(edited).substr(7));
  EXPECT_FALSE(
      AuditOrgIfChanged(store, edited, *org_, "config/org.yaml", Timestamp{13}).value());

  // Back to the first text: that is a change too.
  EXPECT_TRUE(AuditOrgIfChanged(store, org_text_, *org_, "config/org.yaml", Timestamp{14})
                  .value());
  EXPECT_EQ(Records(store, "org_changed").size(), 3u);
}

TEST_F(StartupAuditTest, OrganisationChangedThroughTheApiIsNotAuditedAgainAtStart) {
  // PUT /api/v1/org writes the file and an "org_changed" record with the
  // text's SHA-256; the restart that reads that file adds nothing.
  MemoryStore store;
  AuditRecord rec;
  rec.at = Timestamp{1};
  rec.type = "org_changed";
  rec.actor = PersonId("admin");
  rec.subject = "org";
  rec.data["sha256"] = Value::Str(Sha256Address(org_text_).substr(7));
  ASSERT_TRUE(store.AppendAudit(rec).has_value());
  EXPECT_FALSE(
      AuditOrgIfChanged(store, org_text_, *org_, "org.yaml", Timestamp{2}).value());
  EXPECT_EQ(Records(store, "org_changed").size(), 1u);
}

}  // namespace
}  // namespace approvald::api
