#include "api/bootstrap.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "store/memory/memory_store.h"

namespace approvald::api {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class BootstrapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("h5_boot_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "wf");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
  }
  fs::path dir_;
};

TEST_F(BootstrapTest, WorkflowVersionsSurviveRestartsAndChanges) {
  auto org = LoadOrgFile(APPROVAL_SOURCE_DIR "/config/org.yaml");
  ASSERT_TRUE(org.has_value()) << org.error().message;
  fs::copy_file(APPROVAL_SOURCE_DIR "/workflows/expense.yaml", dir_ / "wf/expense.yaml");
  MemoryStore store;
  {
    WorkflowRegistry reg;
    auto n = LoadWorkflows((dir_ / "wf").string(), **org, store, reg);
    ASSERT_TRUE(n.has_value()) << n.error().message;
    EXPECT_EQ(*n, 1);
    EXPECT_EQ(reg.Latest("expense")->version, 1);
  }
  {
    // A restart with the same file: same version, nothing new stored.
    WorkflowRegistry reg;
    EXPECT_EQ(LoadWorkflows((dir_ / "wf").string(), **org, store, reg).value(), 0);
    EXPECT_EQ(reg.Latest("expense")->version, 1);
  }
  {
    // A changed file becomes version 2; version 1 stays available.
    std::ofstream(dir_ / "wf/expense.yaml", std::ios::app) << "\n# edited\n";
    WorkflowRegistry reg;
    EXPECT_EQ(LoadWorkflows((dir_ / "wf").string(), **org, store, reg).value(), 1);
    EXPECT_EQ(reg.Latest("expense")->version, 2);
    ASSERT_NE(reg.Get("expense", 1), nullptr);
    EXPECT_NE(reg.Get("expense", 1)->hash, reg.Get("expense", 2)->hash);
  }
  EXPECT_EQ(store.ListDefinitions()->size(), 2u);
}

TEST_F(BootstrapTest, BrokenWorkflowFilesStopStartUpWithEveryError) {
  auto org = LoadOrgFile(APPROVAL_SOURCE_DIR "/config/org.yaml");
  Write(dir_ / "wf/bad.yaml", "id: bad\ntitle: x\nnodes: 5\n");
  MemoryStore store;
  WorkflowRegistry reg;
  auto n = LoadWorkflows((dir_ / "wf").string(), **org, store, reg);
  ASSERT_FALSE(n.has_value());
  EXPECT_THAT(n.error().message, HasSubstr("bad.yaml:"));
  EXPECT_FALSE(LoadWorkflows((dir_ / "missing").string(), **org, store, reg).has_value());
}

TEST_F(BootstrapTest, OrgErrorsAreNamed) {
  Write(dir_ / "org.yaml", "people: 3\n");
  auto org = LoadOrgFile((dir_ / "org.yaml").string());
  ASSERT_FALSE(org.has_value());
  EXPECT_THAT(org.error().message, HasSubstr("org.yaml:"));
  EXPECT_EQ(LoadOrgFile((dir_ / "none.yaml").string()).error().code, ErrorCode::kNotFound);
}

TEST_F(BootstrapTest, CalendarFile) {
  Write(dir_ / "h.yaml", "holidays: [2025-10-01, 2025-10-02]\nworkdays: [2025-09-28]\n");
  auto cal = LoadCalendarFile((dir_ / "h.yaml").string());
  ASSERT_TRUE(cal.has_value()) << cal.error().message;
  EXPECT_FALSE(cal->IsWorkingDay(*ParseDate("2025-10-01")));  // a Wednesday, holiday
  EXPECT_TRUE(cal->IsWorkingDay(*ParseDate("2025-09-28")));   // a Sunday, worked
  EXPECT_TRUE(cal->IsWorkingDay(*ParseDate("2025-10-09")));
  Write(dir_ / "bad.yaml", "holidays: [2025-13-01]\n");
  auto bad = LoadCalendarFile((dir_ / "bad.yaml").string());
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad.error().message, HasSubstr("bad.yaml:1:"));
  Write(dir_ / "key.yaml", "holiday: []\n");
  EXPECT_THAT(LoadCalendarFile((dir_ / "key.yaml").string()).error().message,
              HasSubstr("unknown key 'holiday'"));
  EXPECT_TRUE(LoadCalendarFile("").has_value());
}

TEST_F(BootstrapTest, UnitConfigFile) {
  Write(dir_ / "u.yaml", "thresholds:\n  small: 5000\n  label: \"12.50\"\nflags: [true, x]\n");
  auto u = LoadUnitConfigFile((dir_ / "u.yaml").string());
  ASSERT_TRUE(u.has_value()) << u.error().message;
  const auto& t = u->at("thresholds").as_record();
  EXPECT_EQ(t.at("small"), Value::Int(5000));
  EXPECT_EQ(t.at("label"), Value::Str("12.50"));
  EXPECT_EQ(u->at("flags").as_list().at(0), Value::Bool(true));
  EXPECT_TRUE(LoadUnitConfigFile("")->empty());
  Write(dir_ / "list.yaml", "- a\n");
  EXPECT_FALSE(LoadUnitConfigFile((dir_ / "list.yaml").string()).has_value());
}

}  // namespace
}  // namespace approvald::api
