// A small organisation shared by org_test and expr_test: a head of unit,
// two deputies who supervise departments, department heads, a cashier and
// the leadership group. Built in code so the tests do not depend on the
// org loader.
#ifndef APPROVALD_TESTS_ENGINE_CORE_SAMPLE_ORG_H_
#define APPROVALD_TESTS_ENGINE_CORE_SAMPLE_ORG_H_

#include "approvald/org.h"

namespace approvald::testing {

inline Org SampleOrg() {
  Org org;
  org.unit_name = "梅州市园林绿化中心";
  org.unit_name_en = "Meizhou Parks and Greening Centre";
  auto dept = [&](const char* id, const char* name, const char* head,
                  const char* supervisor, bool purchasing) {
    Department d;
    d.id = DeptId(id);
    d.name = name;
    d.head = PersonId(head);
    d.supervisor = PersonId(supervisor);
    d.purchasing = purchasing;
    org.departments.push_back(d);
  };
  dept("office", "办公室", "zhao", "li", true);
  dept("finance", "计财室", "qian", "sun", false);
  dept("garden", "园林室", "wang", "li", false);
  dept("research", "科研室", "", "", false);  // no head, no supervisor yet
  auto person = [&](const char* id, const char* name, const char* dept_id,
                    std::vector<std::string> positions) {
    Person p;
    p.id = PersonId(id);
    p.name = name;
    p.dept = DeptId(dept_id);
    p.positions = std::move(positions);
    org.people.push_back(p);
  };
  person("chen", "陈主任", "", {"head_of_unit"});
  person("li", "李副主任", "", {"deputy"});
  person("sun", "孙副主任", "", {"deputy"});
  person("zhao", "赵", "office", {"dept_head"});
  person("qian", "钱", "finance", {"dept_head"});
  person("ma", "马", "finance", {"cashier"});
  person("wang", "王", "garden", {"dept_head"});
  person("liu", "刘", "garden", {});
  org.positions = {{"head_of_unit", "主要领导", "Head of unit"},
                   {"deputy", "分管领导", "Deputy head"},
                   {"dept_head", "股室负责人", "Department head"},
                   {"cashier", "出纳", "Cashier"}};
  org.groups = {{"leadership",
                 "班子成员",
                 "Leadership",
                 {PersonId("chen"), PersonId("li"), PersonId("sun")}}};
  org.proxies = {{PersonId("liu"), PersonId("wang"), Timestamp{1000}, Timestamp{2000}}};
  org.Index();
  return org;
}

}  // namespace approvald::testing

#endif  // APPROVALD_TESTS_ENGINE_CORE_SAMPLE_ORG_H_
