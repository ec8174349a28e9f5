// LoadOrg: the shipped config/org.yaml (its stable ids are relied on by other
// tests and the seed replay) and every reference it validates.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "loader_test_util.h"

namespace approvald {
namespace {

using ::testing::ElementsAre;
using testing::ErrorLines;
using ::testing::UnorderedElementsAre;

const char* const kSmall = R"yaml(unit: { name: 测试单位, name_en: Test unit }
positions:
  - { id: head_of_unit, name: 主要领导 }
  - { id: cashier, name: 出纳 }
departments:
  - { id: office, name: 办公室, head: lin, supervisor: li, purchasing: true }
  - { id: finance, name: 计财室, head: zheng, supervisor: li }
people:
  - { id: chen, name: 陈, positions: [head_of_unit] }
  - { id: li, name: 李 }
  - { id: lin, name: 林, dept: office }
  - { id: zheng, name: 郑, dept: finance }
  - { id: sun, name: 孙, dept: finance, positions: [cashier] }
groups:
  - { id: leadership, name: 班子成员, members: [chen, li] }
proxies:
  - { proxy: li, principal: chen, from: "2024-07-01T00:00:00+08:00", until: "2024-07-15T00:00:00+08:00" }
)yaml";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t pos = text.find(from);
  if (pos == std::string::npos) {
    ADD_FAILURE() << "'" << from << "' not in the text";
    return text;
  }
  return text.replace(pos, from.size(), to);
}

std::vector<std::string> Errors(const std::string& yaml) {
  OrgLoad load = LoadOrg(yaml, "org.yaml");
  EXPECT_FALSE(load.org.has_value());
  return ErrorLines(load.errors);
}

TEST(OrgLoaderTest, LoadsAndIndexesASmallOrganisation) {
  OrgLoad load = LoadOrg(kSmall, "org.yaml");
  ASSERT_TRUE(load.org) << ::testing::PrintToString(ErrorLines(load.errors));
  const Org& org = *load.org;
  EXPECT_EQ(org.unit_name, "测试单位");
  EXPECT_EQ(org.unit_name_en, "Test unit");
  ASSERT_NE(org.FindDept(DeptId("office")), nullptr);  // Index() was called
  EXPECT_TRUE(org.FindDept(DeptId("office"))->purchasing);
  EXPECT_FALSE(org.FindDept(DeptId("finance"))->purchasing);
  EXPECT_EQ(org.FindDept(DeptId("finance"))->head, PersonId("zheng"));
  EXPECT_EQ(org.FindDept(DeptId("finance"))->supervisor, PersonId("li"));
  EXPECT_THAT(org.Holders("cashier"), ElementsAre(PersonId("sun")));
  EXPECT_TRUE(org.InGroup(PersonId("li"), "leadership"));
  ASSERT_EQ(org.proxies.size(), 1u);
  EXPECT_EQ(org.proxies[0].from, *ParseTimestamp("2024-06-30T16:00:00Z"));
  EXPECT_TRUE(org.IsProxyFor(PersonId("li"), PersonId("chen"),
                             *ParseTimestamp("2024-07-10T09:00:00+08:00")));
  EXPECT_EQ(org.FindPerson(PersonId("li"))->dept, DeptId());
}

TEST(OrgLoaderTest, ShippedOrganisationHasTheDocumentedStableIds) {
  const Org& org = testing::SeedOrg();
  EXPECT_EQ(org.unit_name, "梅州市园林绿化中心");
  EXPECT_THAT(org.Holders("head_of_unit"), ElementsAre(PersonId("chen_zhiyuan")));
  EXPECT_THAT(org.Holders("deputy_head"),
              ElementsAre(PersonId("li_jianhua"), PersonId("wang_haiyan"),
                          PersonId("liu_guoqiang"), PersonId("zhao_min")));
  std::vector<std::string> depts;
  for (const Department& d : org.departments) depts.push_back(d.id.value);
  EXPECT_THAT(depts, ElementsAre("office", "finance", "landscape", "production",
                                 "greening", "research", "union"));
  for (const Department& d : org.departments) {
    // Every department has a head from its own staff and 2-3 more people.
    const Person* head = org.FindPerson(d.head);
    ASSERT_NE(head, nullptr) << d.id.value;
    EXPECT_EQ(head->dept, d.id);
    size_t staff = org.MembersOf(d.id).size() - 1;
    EXPECT_GE(staff, 2u) << d.id.value;
    EXPECT_LE(staff, 3u) << d.id.value;
    EXPECT_TRUE(org.HasPosition(d.supervisor, "deputy_head")) << d.id.value;
  }
  EXPECT_TRUE(org.FindDept(DeptId("office"))->purchasing);
  EXPECT_EQ(org.FindDept(DeptId("finance"))->supervisor, PersonId("wang_haiyan"));
  // 分管财务 supervises nothing else, so the two lines differ for other depts.
  EXPECT_THAT(org.SupervisedBy(PersonId("wang_haiyan")), ElementsAre(DeptId("finance")));
  EXPECT_EQ(org.FindGroup("leadership")->members.size(), 6u);
  EXPECT_TRUE(org.InGroup(PersonId("huang_xiaoming"), "leadership"));
  EXPECT_TRUE(org.HasPosition(PersonId("huang_xiaoming"), "discipline_inspector"));
  EXPECT_THAT(org.FindGroup("auditors")->members,
              ElementsAre(PersonId("qian_weidong"), PersonId("yan_jie")));
  for (const PersonId& auditor : org.FindGroup("auditors")->members) {
    EXPECT_TRUE(org.HasPosition(auditor, "auditor"));
    EXPECT_TRUE(org.FindPerson(auditor)->dept.empty());  // no department work
  }
  for (const char* position :
       {"head_of_unit", "deputy_head", "office_director", "cashier", "accountant",
        "secrecy_reviewer", "union_chair", "union_cashier", "auditor"}) {
    EXPECT_FALSE(org.Holders(position).empty()) << position;
  }
  EXPECT_THAT(org.Holders("cashier"), ElementsAre(PersonId("sun_yue")));
  EXPECT_THAT(org.Holders("office_director"), ElementsAre(PersonId("lin_xiaoyan")));
}

TEST(OrgLoaderTest, RefusesUnknownReferencesWithSuggestions) {
  std::string yaml = Replace(kSmall, "head: zheng,", "head: zehng,");
  yaml = Replace(yaml, "supervisor: li }", "supervisor: lee }");
  yaml = Replace(yaml, "dept: finance, positions: [cashier]",
                 "dept: finanse, positions: [cahsier]");
  yaml = Replace(yaml, "members: [chen, li]", "members: [chen, li, wang]");
  EXPECT_THAT(
      Errors(yaml),
      ElementsAre("org.yaml:7:37: unknown person 'zehng' as head of department "
                  "'finance' — did you mean 'zheng'?",
                  // Two edits away from "li" is too far for a three-letter id.
                  "org.yaml:7:56: unknown person 'lee' as supervisor of department "
                  "'finance' — declare it under people: or fix the id",
                  "org.yaml:13:31: unknown department 'finanse' as department of "
                  "person 'sun' — did you mean 'finance'?",
                  "org.yaml:13:52: unknown position 'cahsier' as position of person "
                  "'sun' — did you mean 'cashier'?",
                  "org.yaml:15:55: unknown person 'wang' as member of group "
                  "'leadership' — declare it under people: or fix the id"));
}

TEST(OrgLoaderTest, RefusesDuplicateAndMalformedIds) {
  std::string yaml =
      Replace(kSmall, "  - { id: li, name: 李 }",
              "  - { id: li, name: 李 }\n  - { id: li, name: 黎 }\n"
              "  - { id: Bad-Id, name: 坏 }\n  - { id: system, name: 系统 }");
  EXPECT_THAT(
      Errors(yaml),
      ElementsAre("org.yaml:11:11: duplicate person id 'li' (first at line 10) — ids "
                  "must be unique; rename one",
                  "org.yaml:12:11: person id 'Bad-Id' is not a valid id — use lower-case "
                  "letters, digits and '_', starting with a letter",
                  "org.yaml:13:11: person id 'system' is reserved for automatic steps — "
                  "choose another id"));
}

TEST(OrgLoaderTest, RefusesASecondPurchasingDepartment) {
  std::string yaml = Replace(kSmall, "head: zheng, supervisor: li }",
                             "head: zheng, supervisor: li, purchasing: true }");
  EXPECT_THAT(Errors(yaml),
              ElementsAre("org.yaml:7:72: more than one department has "
                          "purchasing: true (the first at line 6) — only one "
                          "department may execute purchases"));
}

TEST(OrgLoaderTest, RefusesAHeadFromAnotherDepartment) {
  std::string yaml = Replace(kSmall, "head: zheng,", "head: lin,");
  EXPECT_THAT(Errors(yaml),
              ElementsAre("org.yaml:7:37: head 'lin' of department 'finance' "
                          "belongs to department 'office' — set their dept to "
                          "'finance' or choose a member of 'finance'"));
}

TEST(OrgLoaderTest, RefusesBadProxies) {
  std::string bad_time =
      Replace(kSmall, "from: \"2024-07-01T00:00:00+08:00\"", "from: \"2024-07-01\"");
  EXPECT_THAT(Errors(bad_time),
              ElementsAre("org.yaml:17:41: '2024-07-01' is not an ISO 8601 time "
                          "with a zone — write e.g. 2024-07-01T08:00:00+08:00 "
                          "or 2024-07-01T00:00:00Z"));
  std::string backwards = Replace(kSmall, "until: \"2024-07-15T00:00:00+08:00\"",
                                  "until: \"2024-06-15T00:00:00+08:00\"");
  EXPECT_THAT(Errors(backwards),
              ElementsAre("org.yaml:17:77: the proxy ends before it starts — "
                          "'until' must be after 'from'"));
  std::string self = Replace(kSmall, "principal: chen", "principal: li");
  EXPECT_THAT(Errors(self),
              ElementsAre("org.yaml:17:29: 'li' cannot be their own proxy — name "
                          "another person as proxy"));
}

TEST(OrgLoaderTest, RefusesUnknownKeysAndMissingNames) {
  std::string yaml =
      Replace(kSmall, "  - { id: li, name: 李 }", "  - { id: li, nmae: 李 }");
  yaml = Replace(yaml, "positions:\n", "position:\n");
  EXPECT_THAT(Errors(yaml),
              ElementsAre("org.yaml:2:1: unknown key 'position' in the organisation "
                          "file — did you mean 'positions'?",
                          // The positions were not read, so the references fail too.
                          "org.yaml:9:38: unknown position 'head_of_unit' as position "
                          "of person 'chen' — declare it under positions: or fix the id",
                          "org.yaml:10:15: unknown key 'nmae' in person 'li' — did you "
                          "mean 'name'?",
                          "org.yaml:13:52: unknown position 'cashier' as position of "
                          "person 'sun' — declare it under positions: or fix the id"));
}

TEST(OrgLoaderTest, ReportsMalformedYamlAtItsPosition) {
  std::vector<std::string> errors = Errors("unit: { name: x\npeople: [\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], ::testing::StartsWith("org.yaml:"));
  EXPECT_THAT(errors[0], ::testing::HasSubstr("malformed YAML"));
}

TEST(OrgLoaderTest, RequiresTheUnitAndDepartmentHeads) {
  EXPECT_THAT(Errors("departments:\n  - { id: office, name: 办公室 }\n"),
              ElementsAre("org.yaml:1:1: missing required key 'unit' in the "
                          "organisation file — add it, e.g. unit: { name: "
                          "梅州市园林绿化中心, name_en: ... }",
                          "org.yaml:2:5: missing required key 'head' in department "
                          "'office' — add it, e.g. head: zheng_li",
                          "org.yaml:2:5: missing required key 'supervisor' in "
                          "department 'office' — add it, e.g. supervisor: wang_haiyan"));
}

}  // namespace
}  // namespace approvald
