// The organisation: departments, people, positions, groups and the
// supervising relation between deputies (分管领导) and departments.
//
// It is data (config/org.yaml, loaded by core/org_loader), handed to the
// engine as an immutable value. Queries are pure and cheap.
#ifndef APPROVALD_ORG_H_
#define APPROVALD_ORG_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "approvald/types.h"

namespace approvald {

struct Department {
  DeptId id;             // "finance"
  std::string name;      // "计财室"
  std::string name_en;   // "Finance Office"
  PersonId head;         // 股室负责人
  PersonId supervisor;   // 分管领导: the deputy head who supervises it
  // True for the department that alone may execute purchases (办公室).
  bool purchasing = false;
};

struct Person {
  PersonId id;                          // "wang_fang"
  std::string name;                     // "王芳"
  std::string name_en;                  // "Wang Fang"
  DeptId dept;                          // home department (may be empty for leaders)
  std::vector<std::string> positions;   // position ids: "head_of_unit", "cashier"
};

struct Position {
  std::string id;        // "head_of_unit"
  std::string name;      // "主要领导"
  std::string name_en;   // "Head of unit"
};

struct Group {
  std::string id;        // "leadership"
  std::string name;      // "班子成员"
  std::string name_en;
  std::vector<PersonId> members;  // in the order the organisation lists them
};

// "A acts for B from `from` to `until`": a time-bound proxy (代理). Both
// names are recorded on every event the proxy takes.
struct Proxy {
  PersonId proxy;       // who acts
  PersonId principal;   // for whom
  Timestamp from;
  Timestamp until;      // exclusive
};

class Org {
 public:
  std::string unit_name;       // "梅州市园林绿化中心"
  std::string unit_name_en;
  std::vector<Department> departments;
  std::vector<Person> people;
  std::vector<Position> positions;
  std::vector<Group> groups;
  std::vector<Proxy> proxies;

  // Builds the lookup indexes. REQUIRES: called after the vectors are filled
  // and before any query; the loader does it.
  void Index();

  const Person* FindPerson(const PersonId& id) const;
  const Department* FindDept(const DeptId& id) const;
  const Group* FindGroup(const std::string& id) const;
  const Position* FindPosition(const std::string& id) const;

  // Holders of `position`, in the order people are listed.
  std::vector<PersonId> Holders(const std::string& position) const;
  bool HasPosition(const PersonId& p, const std::string& position) const;
  bool InGroup(const PersonId& p, const std::string& group) const;
  // Members of `dept` (whose home department it is), in listed order.
  std::vector<PersonId> MembersOf(const DeptId& dept) const;
  // Departments `deputy` supervises.
  std::vector<DeptId> SupervisedBy(const PersonId& deputy) const;
  // True if `proxy` may act for `principal` at `now`.
  bool IsProxyFor(const PersonId& proxy, const PersonId& principal,
                  Timestamp now) const;

 private:
  std::map<std::string, size_t> person_index_;
  std::map<std::string, size_t> dept_index_;
  std::map<std::string, size_t> group_index_;
  std::map<std::string, size_t> position_index_;
};

}  // namespace approvald

#endif  // APPROVALD_ORG_H_
