// Tests for the organisation's queries (approvald/org.h).
#include "approvald/org.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sample_org.h"

namespace approvald {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class OrgTest : public ::testing::Test {
 protected:
  Org org_ = testing::SampleOrg();
};

TEST_F(OrgTest, FindsEachKindOfEntityById) {
  const Person* ma = org_.FindPerson(PersonId("ma"));
  ASSERT_NE(ma, nullptr);
  EXPECT_EQ(ma->name, "马");
  EXPECT_EQ(ma->dept, DeptId("finance"));
  const Department* finance = org_.FindDept(DeptId("finance"));
  ASSERT_NE(finance, nullptr);
  EXPECT_EQ(finance->name, "计财室");
  EXPECT_EQ(finance->head, PersonId("qian"));
  EXPECT_EQ(finance->supervisor, PersonId("sun"));
  const Group* leadership = org_.FindGroup("leadership");
  ASSERT_NE(leadership, nullptr);
  EXPECT_EQ(leadership->name, "班子成员");
  const Position* cashier = org_.FindPosition("cashier");
  ASSERT_NE(cashier, nullptr);
  EXPECT_EQ(cashier->name, "出纳");
}

TEST_F(OrgTest, UnknownIdsFindNothing) {
  EXPECT_EQ(org_.FindPerson(PersonId("nobody")), nullptr);
  EXPECT_EQ(org_.FindPerson(PersonId()), nullptr);
  EXPECT_EQ(org_.FindDept(DeptId("finance ")), nullptr);
  EXPECT_EQ(org_.FindGroup("Leadership"), nullptr);  // ids are case-sensitive
  EXPECT_EQ(org_.FindPosition(""), nullptr);
  EXPECT_THAT(org_.Holders("astronaut"), IsEmpty());
  EXPECT_FALSE(org_.HasPosition(PersonId("nobody"), "cashier"));
  EXPECT_FALSE(org_.InGroup(PersonId("chen"), "nogroup"));
  EXPECT_THAT(org_.MembersOf(DeptId("nowhere")), IsEmpty());
  EXPECT_THAT(org_.SupervisedBy(PersonId("nobody")), IsEmpty());
}

TEST_F(OrgTest, HoldersInListedOrder) {
  EXPECT_THAT(org_.Holders("dept_head"),
              ElementsAre(PersonId("zhao"), PersonId("qian"), PersonId("wang")));
  EXPECT_THAT(org_.Holders("deputy"), ElementsAre(PersonId("li"), PersonId("sun")));
  EXPECT_THAT(org_.Holders("head_of_unit"), ElementsAre(PersonId("chen")));
}

TEST_F(OrgTest, HasPositionAndInGroup) {
  EXPECT_TRUE(org_.HasPosition(PersonId("ma"), "cashier"));
  EXPECT_FALSE(org_.HasPosition(PersonId("qian"), "cashier"));
  EXPECT_TRUE(org_.InGroup(PersonId("sun"), "leadership"));
  EXPECT_FALSE(org_.InGroup(PersonId("qian"), "leadership"));
}

TEST_F(OrgTest, MembersOfHomeDepartmentInListedOrder) {
  EXPECT_THAT(org_.MembersOf(DeptId("garden")),
              ElementsAre(PersonId("wang"), PersonId("liu")));
  EXPECT_THAT(org_.MembersOf(DeptId("finance")),
              ElementsAre(PersonId("qian"), PersonId("ma")));
  EXPECT_THAT(org_.MembersOf(DeptId("research")), IsEmpty());
  // Leaders have no home department; the empty id is not a department.
  EXPECT_THAT(org_.MembersOf(DeptId()), IsEmpty());
}

TEST_F(OrgTest, SupervisedBy) {
  EXPECT_THAT(org_.SupervisedBy(PersonId("li")),
              ElementsAre(DeptId("office"), DeptId("garden")));
  EXPECT_THAT(org_.SupervisedBy(PersonId("sun")), ElementsAre(DeptId("finance")));
  EXPECT_THAT(org_.SupervisedBy(PersonId("chen")), IsEmpty());
  // The research office has no supervisor; that must not match "nobody".
  EXPECT_THAT(org_.SupervisedBy(PersonId()), IsEmpty());
}

TEST_F(OrgTest, ProxyIsValidFromItsStartUntilItsEndExclusive) {
  const PersonId liu("liu"), wang("wang");
  EXPECT_FALSE(org_.IsProxyFor(liu, wang, Timestamp{999}));
  EXPECT_TRUE(org_.IsProxyFor(liu, wang, Timestamp{1000}));
  EXPECT_TRUE(org_.IsProxyFor(liu, wang, Timestamp{1999}));
  EXPECT_FALSE(org_.IsProxyFor(liu, wang, Timestamp{2000}));
  // Not the other way round, and not for anyone else.
  EXPECT_FALSE(org_.IsProxyFor(wang, liu, Timestamp{1500}));
  EXPECT_FALSE(org_.IsProxyFor(liu, PersonId("qian"), Timestamp{1500}));
  EXPECT_FALSE(org_.IsProxyFor(PersonId(), PersonId(), Timestamp{1500}));
}

TEST_F(OrgTest, SeveralProxyPeriods) {
  org_.proxies.push_back(
      {PersonId("liu"), PersonId("wang"), Timestamp{5000}, Timestamp{6000}});
  EXPECT_TRUE(org_.IsProxyFor(PersonId("liu"), PersonId("wang"), Timestamp{5500}));
  EXPECT_FALSE(org_.IsProxyFor(PersonId("liu"), PersonId("wang"), Timestamp{3000}));
}

TEST_F(OrgTest, FirstOfDuplicateIdsWins) {
  Person again;
  again.id = PersonId("ma");
  again.name = "another 马";
  org_.people.push_back(again);
  org_.Index();
  EXPECT_EQ(org_.FindPerson(PersonId("ma"))->name, "马");
}

TEST_F(OrgTest, IndexAgainAfterChangesSeesThem) {
  Person p;
  p.id = PersonId("zhou");
  p.dept = DeptId("research");
  p.positions = {"dept_head"};
  org_.people.push_back(p);
  org_.Index();
  ASSERT_NE(org_.FindPerson(PersonId("zhou")), nullptr);
  EXPECT_THAT(org_.MembersOf(DeptId("research")), ElementsAre(PersonId("zhou")));
  EXPECT_THAT(org_.Holders("dept_head"), ElementsAre(PersonId("zhao"), PersonId("qian"),
                                                     PersonId("wang"), PersonId("zhou")));
  // Indexes survive a copy of the organisation.
  Org copy = org_;
  ASSERT_NE(copy.FindPerson(PersonId("zhou")), nullptr);
  EXPECT_EQ(copy.FindPerson(PersonId("zhou")), &copy.people.back());
}

TEST(OrgEmptyTest, EmptyOrganisationAnswersEverything) {
  Org org;
  org.Index();
  EXPECT_EQ(org.FindPerson(PersonId("a")), nullptr);
  EXPECT_THAT(org.Holders("x"), IsEmpty());
  EXPECT_FALSE(org.InGroup(PersonId("a"), "g"));
  EXPECT_FALSE(org.IsProxyFor(PersonId("a"), PersonId("b"), Timestamp{0}));
}

}  // namespace
}  // namespace approvald
