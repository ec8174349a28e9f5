// The organisation's lookups (org.h). Index() builds id -> position maps;
// every query is a map lookup or a scan of one vector in listed order.
#include "approvald/org.h"

#include <algorithm>

namespace approvald {

namespace {

template <class T, class IdOf>
void BuildIndex(const std::vector<T>& items, IdOf id_of,
                std::map<std::string, size_t>* index) {
  index->clear();
  for (size_t i = 0; i < items.size(); ++i) {
    // The first occurrence wins; the loader refuses duplicates anyway.
    index->emplace(id_of(items[i]), i);
  }
}

template <class T>
const T* Lookup(const std::vector<T>& items, const std::map<std::string, size_t>& index,
                const std::string& id) {
  auto it = index.find(id);
  return it == index.end() ? nullptr : &items[it->second];
}

}  // namespace

void Org::Index() {
  BuildIndex(
      people, [](const Person& p) { return p.id.value; }, &person_index_);
  BuildIndex(
      departments, [](const Department& d) { return d.id.value; }, &dept_index_);
  BuildIndex(
      groups, [](const Group& g) { return g.id; }, &group_index_);
  BuildIndex(
      positions, [](const Position& p) { return p.id; }, &position_index_);
}

const Person* Org::FindPerson(const PersonId& id) const {
  return Lookup(people, person_index_, id.value);
}

const Department* Org::FindDept(const DeptId& id) const {
  return Lookup(departments, dept_index_, id.value);
}

const Group* Org::FindGroup(const std::string& id) const {
  return Lookup(groups, group_index_, id);
}

const Position* Org::FindPosition(const std::string& id) const {
  return Lookup(positions, position_index_, id);
}

std::vector<PersonId> Org::Holders(const std::string& position) const {
  std::vector<PersonId> out;
  for (const Person& p : people) {
    if (std::find(p.positions.begin(), p.positions.end(), position) != p.positions.end())
      out.push_back(p.id);
  }
  return out;
}

bool Org::HasPosition(const PersonId& p, const std::string& position) const {
  const Person* person = FindPerson(p);
  return person != nullptr &&
         std::find(person->positions.begin(), person->positions.end(), position) !=
             person->positions.end();
}

bool Org::InGroup(const PersonId& p, const std::string& group) const {
  const Group* g = FindGroup(group);
  return g != nullptr &&
         std::find(g->members.begin(), g->members.end(), p) != g->members.end();
}

std::vector<PersonId> Org::MembersOf(const DeptId& dept) const {
  std::vector<PersonId> out;
  if (dept.empty()) return out;
  for (const Person& p : people) {
    if (p.dept == dept) out.push_back(p.id);
  }
  return out;
}

std::vector<DeptId> Org::SupervisedBy(const PersonId& deputy) const {
  std::vector<DeptId> out;
  if (deputy.empty()) return out;
  for (const Department& d : departments) {
    if (d.supervisor == deputy) out.push_back(d.id);
  }
  return out;
}

bool Org::IsProxyFor(const PersonId& proxy, const PersonId& principal,
                     Timestamp now) const {
  if (proxy.empty() || principal.empty()) return false;
  for (const Proxy& p : proxies) {
    if (p.proxy == proxy && p.principal == principal && p.from <= now && now < p.until)
      return true;
  }
  return false;
}

}  // namespace approvald
