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
  Write(dir_ / "h.yaml",
        "years:\n"
        "  - year: 2025\n"
        "    source: test\n"
        "    confidence: S\n"
        "    holidays:\n"
        "      - { name: 国庆节, from: 2025-10-01, to: 2025-10-08 }\n"
        "    workdays: [2025-09-28]\n");
  auto cal = LoadCalendarFile((dir_ / "h.yaml").string());
  ASSERT_TRUE(cal.has_value()) << cal.error().message;
  EXPECT_FALSE(cal->IsWorkingDay(*ParseDate("2025-10-01")));  // a Wednesday, holiday
  EXPECT_TRUE(cal->IsWorkingDay(*ParseDate("2025-09-28")));   // a Sunday, worked
  EXPECT_TRUE(cal->IsWorkingDay(*ParseDate("2025-10-09")));
  EXPECT_TRUE(LoadCalendarFile("").has_value());
  EXPECT_EQ(LoadCalendarFile((dir_ / "none.yaml").string()).error().reason,
            "holidays_missing");
}

TEST_F(BootstrapTest, CalendarErrorsNameFileLineAndColumn) {
  Write(dir_ / "bad.yaml",
        "years:\n"
        "  - year: 2025\n"
        "    source: test\n"
        "    confidence: S\n"
        "    holidays:\n"
        "      - { name: x, from: 2025-13-01, to: 2025-10-02 }\n");
  auto bad = LoadCalendarFile((dir_ / "bad.yaml").string());
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().reason, "invalid_calendar");
  EXPECT_THAT(bad.error().message, HasSubstr("bad.yaml:6:"));
  Write(dir_ / "key.yaml", "year: []\n");
  EXPECT_THAT(LoadCalendarFile((dir_ / "key.yaml").string()).error().message,
              HasSubstr("key.yaml:1:1:"));
}

TEST_F(BootstrapTest, ShippedUnitFilesLoadThroughTheCoreLoader) {
  auto org = LoadOrgFile(APPROVAL_SOURCE_DIR "/config/org.yaml");
  ASSERT_TRUE(org.has_value()) << org.error().message;
  auto u = LoadUnitConfigFiles(APPROVAL_SOURCE_DIR "/config/unit.yaml",
                               APPROVAL_SOURCE_DIR "/config/procurement-catalogue.yaml",
                               **org);
  ASSERT_TRUE(u.has_value()) << u.error().message;
  EXPECT_EQ(u->at("purchasing_department"), Value::Str("office"));
  ASSERT_TRUE(u->at("large_amount").is_list());
  EXPECT_TRUE(u->at("large_amount").as_list().front().as_record().at("threshold").is_money());
  EXPECT_FALSE(u->at("procurement_catalogues").as_list().empty());
  EXPECT_TRUE(LoadUnitConfigFiles("", "", **org)->empty());

  auto cal = LoadCalendarFile(APPROVAL_SOURCE_DIR "/config/holidays.yaml");
  ASSERT_TRUE(cal.has_value()) << cal.error().message;
  EXPECT_FALSE(cal->IsWorkingDay(*ParseDate("2024-10-01")));
}

TEST_F(BootstrapTest, UnitConfigErrorsNameFileLineAndColumn) {
  auto org = LoadOrgFile(APPROVAL_SOURCE_DIR "/config/org.yaml");
  ASSERT_TRUE(org.has_value()) << org.error().message;
  // A purchasing department the organisation lacks, and a misspelt key.
  std::ifstream in(APPROVAL_SOURCE_DIR "/config/unit.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto at = text.find("purchasing_department: office");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, std::string("purchasing_department: office").size(),
               "purchasing_department: kitchen");
  text += "defualt_fund_source: fiscal\n";
  Write(dir_ / "unit.yaml", text);
  auto u = LoadUnitConfigFiles((dir_ / "unit.yaml").string(),
                               APPROVAL_SOURCE_DIR "/config/procurement-catalogue.yaml",
                               **org);
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(u.error().reason, "invalid_unit_config");
  EXPECT_THAT(u.error().message, HasSubstr("kitchen"));
  EXPECT_THAT(u.error().message, HasSubstr("did you mean"));
  EXPECT_THAT(u.error().message, ::testing::ContainsRegex("unit\\.yaml:[0-9]+:[0-9]+: "));

  Write(dir_ / "cat.yaml", "catalogues: 3\n");
  auto c = LoadUnitConfigFiles(APPROVAL_SOURCE_DIR "/config/unit.yaml",
                               (dir_ / "cat.yaml").string(), **org);
  ASSERT_FALSE(c.has_value());
  EXPECT_THAT(c.error().message, HasSubstr("cat.yaml:1:"));
  EXPECT_EQ(LoadUnitConfigFiles((dir_ / "none.yaml").string(), "", **org).error().reason,
            "unit_config_missing");
  EXPECT_EQ(LoadUnitConfigFiles(APPROVAL_SOURCE_DIR "/config/unit.yaml",
                                (dir_ / "none.yaml").string(), **org)
                .error()
                .reason,
            "catalogue_missing");
}

}  // namespace
}  // namespace approvald::api
