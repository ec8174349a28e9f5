#include "core/org_loader.h"

#include <map>
#include <set>
#include <string>

#include "core/yaml_support.h"

namespace approvald {

namespace {

using yaml_support::Entry;
using yaml_support::Map;
using yaml_support::Reader;

bool IsId(std::string_view s) {
  if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

// Where each id was declared, for "unknown" suggestions and "duplicate"
// messages.
struct IdTable {
  std::map<std::string, SourceLoc> where;
  std::vector<std::string> order;
  bool Has(const std::string& id) const { return where.count(id) > 0; }
};

class OrgLoader {
 public:
  OrgLoader(std::string_view text, std::string_view file) : r_(text, file) {}

  OrgLoad Run() {
    OrgLoad out;
    std::optional<YAML::Node> root = r_.Parse();
    if (root) {
      try {
        LoadRoot(*root);
        CheckReferences();
      } catch (const YAML::Exception& e) {
        r_.Error(
            SourceLoc{r_.file(), e.mark.line + 1, e.mark.column + 1},
            "cannot read the organisation: " + e.msg + " — fix the YAML structure here");
      } catch (const std::exception& e) {
        r_.Error(SourceLoc{r_.file(), 1, 1},
                 std::string("cannot read the organisation: ") + e.what() +
                     " — please report this with the file");
      }
    }
    out.errors = r_.TakeErrors();
    if (out.errors.empty()) {
      org_.Index();
      out.org = std::move(org_);
    }
    return out;
  }

 private:
  void LoadRoot(const YAML::Node& root) {
    Map m =
        r_.OpenMap(root, "the organisation file",
                   {"unit", "positions", "departments", "people", "groups", "proxies"});
    if (!m.ok()) return;
    if (const Entry* e = m.Find("unit"); e != nullptr && !e->value.IsNull()) {
      Map u = r_.OpenMap(e->value, "unit", {"name", "name_en"});
      if (u.ok()) {
        org_.unit_name =
            r_.String(u, "name", "unit", true, "name: 梅州市园林绿化中心").value_or("");
        org_.unit_name_en = r_.String(u, "name_en", "unit", false).value_or("");
      }
    } else {
      r_.Missing(m, "unit", "the organisation file",
                 "unit: { name: 梅州市园林绿化中心, name_en: ... }");
    }
    ForEach(m, "positions", [&](const YAML::Node& n) { LoadPosition(n); });
    ForEach(m, "departments", [&](const YAML::Node& n) { LoadDepartment(n); });
    ForEach(m, "people", [&](const YAML::Node& n) { LoadPerson(n); });
    ForEach(m, "groups", [&](const YAML::Node& n) { LoadGroup(n); });
    ForEach(m, "proxies", [&](const YAML::Node& n) { LoadProxy(n); });
  }

  template <class Fn>
  void ForEach(const Map& m, std::string_view key, Fn fn) {
    std::optional<YAML::Node> seq = r_.Sequence(m, key, "the organisation file", false);
    if (!seq) return;
    for (const YAML::Node& item : *seq) fn(item);
  }

  // "person 'li'" (or "a person" before the id is known), for messages.
  static std::string Named(const YAML::Node& n, const std::string& kind) {
    std::string id = yaml_support::PeekScalar(n, "id");
    return id.empty() ? "a " + kind : kind + " '" + id + "'";
  }

  // Reads and checks the `id` of an entry; records it in `table`.
  std::string ReadId(const Map& m, std::string_view what, IdTable* table,
                     std::string_view example) {
    std::optional<std::string> id = r_.String(m, "id", what, true, example);
    if (!id) return "";
    const Entry* e = m.Find("id");
    if (!IsId(*id)) {
      r_.Error(e->value, std::string(what) + " id '" + *id +
                             "' is not a valid id — use lower-case letters, "
                             "digits and '_', starting with a letter");
      return "";
    }
    auto [it, fresh] = table->where.emplace(*id, r_.Loc(e->value));
    if (!fresh) {
      r_.Error(e->value, "duplicate " + std::string(what) + " id '" + *id +
                             "' (first at line " + std::to_string(it->second.line) +
                             ") — ids must be unique; rename one");
      return "";
    }
    table->order.push_back(*id);
    return *id;
  }

  void LoadPosition(const YAML::Node& n) {
    Map m = r_.OpenMap(n, Named(n, "position"), {"id", "name", "name_en"});
    if (!m.ok()) return;
    Position p;
    p.id = ReadId(m, "position", &positions_, "id: head_of_unit");
    std::string what = "position '" + p.id + "'";
    p.name = r_.String(m, "name", what, true, "name: 主要领导").value_or("");
    p.name_en = r_.String(m, "name_en", what, false).value_or("");
    if (!p.id.empty()) org_.positions.push_back(std::move(p));
  }

  void LoadDepartment(const YAML::Node& n) {
    Map m = r_.OpenMap(n, Named(n, "department"),
                       {"id", "name", "name_en", "head", "supervisor", "purchasing"});
    if (!m.ok()) return;
    Department d;
    d.id = DeptId(ReadId(m, "department", &depts_, "id: finance"));
    std::string what = "department '" + d.id.value + "'";
    d.name = r_.String(m, "name", what, true, "name: 计财室").value_or("");
    d.name_en = r_.String(m, "name_en", what, false).value_or("");
    if (auto head = r_.String(m, "head", what, true, "head: zheng_li")) {
      d.head = PersonId(*head);
      person_refs_.push_back({*head, r_.ValueLoc(*m.Find("head")), "head of " + what});
    }
    if (auto sup = r_.String(m, "supervisor", what, true, "supervisor: wang_haiyan")) {
      d.supervisor = PersonId(*sup);
      person_refs_.push_back(
          {*sup, r_.ValueLoc(*m.Find("supervisor")), "supervisor of " + what});
    }
    d.purchasing = r_.Bool(m, "purchasing", what).value_or(false);
    if (d.purchasing) {
      if (purchasing_.line > 0) {
        r_.Error(m.Find("purchasing")->value,
                 "more than one department has purchasing: true (the first "
                 "at line " +
                     std::to_string(purchasing_.line) +
                     ") — only one department may execute purchases");
      } else {
        purchasing_ = r_.Loc(m.Find("purchasing")->value);
      }
    }
    if (!d.id.empty()) {
      dept_heads_.push_back({d.id.value, d.head.value,
                             m.Find("head") ? r_.ValueLoc(*m.Find("head")) : r_.Loc(n)});
      org_.departments.push_back(std::move(d));
    }
  }

  void LoadPerson(const YAML::Node& n) {
    Map m =
        r_.OpenMap(n, Named(n, "person"), {"id", "name", "name_en", "dept", "positions"});
    if (!m.ok()) return;
    Person p;
    p.id = PersonId(ReadId(m, "person", &people_, "id: wang_fang"));
    if (p.id.value == "system") {
      r_.Error(m.Find("id")->value,
               "person id 'system' is reserved for automatic steps — choose "
               "another id");
      p.id = PersonId();
    }
    std::string what = "person '" + p.id.value + "'";
    p.name = r_.String(m, "name", what, true, "name: 王芳").value_or("");
    p.name_en = r_.String(m, "name_en", what, false).value_or("");
    if (auto dept = r_.String(m, "dept", what, false); dept && !dept->empty()) {
      p.dept = DeptId(*dept);
      dept_refs_.push_back(
          {*dept, r_.ValueLoc(*m.Find("dept")), "department of " + what});
    }
    if (auto list = r_.StringList(m, "positions", what)) {
      std::set<std::string> seen;
      for (const auto& [pos, node] : *list) {
        if (!seen.insert(pos).second) {
          r_.Error(node, "position '" + pos + "' is listed twice for " + what +
                             " — remove one");
          continue;
        }
        position_refs_.push_back({pos, r_.Loc(node), "position of " + what});
        p.positions.push_back(pos);
      }
    }
    if (!p.id.empty()) org_.people.push_back(std::move(p));
  }

  void LoadGroup(const YAML::Node& n) {
    Map m = r_.OpenMap(n, Named(n, "group"), {"id", "name", "name_en", "members"});
    if (!m.ok()) return;
    Group g;
    g.id = ReadId(m, "group", &groups_, "id: leadership");
    std::string what = "group '" + g.id + "'";
    g.name = r_.String(m, "name", what, true, "name: 班子成员").value_or("");
    g.name_en = r_.String(m, "name_en", what, false).value_or("");
    if (!m.Has("members")) {
      r_.Missing(m, "members", what, "members: [chen_zhiyuan, li_jianhua]");
    } else if (auto list = r_.StringList(m, "members", what)) {
      std::set<std::string> seen;
      for (const auto& [member, node] : *list) {
        if (!seen.insert(member).second) {
          r_.Error(node, "'" + member + "' is listed twice in " + what + " — remove one");
          continue;
        }
        person_refs_.push_back({member, r_.Loc(node), "member of " + what});
        g.members.push_back(PersonId(member));
      }
    }
    if (!g.id.empty()) org_.groups.push_back(std::move(g));
  }

  void LoadProxy(const YAML::Node& n) {
    Map m = r_.OpenMap(n, "a proxy", {"proxy", "principal", "from", "until"});
    if (!m.ok()) return;
    Proxy p;
    const std::string what = "a proxy";
    bool ok = true;
    if (auto v = r_.String(m, "proxy", what, true, "proxy: li_jianhua")) {
      p.proxy = PersonId(*v);
      person_refs_.push_back({*v, r_.ValueLoc(*m.Find("proxy")), "proxy"});
    } else {
      ok = false;
    }
    if (auto v = r_.String(m, "principal", what, true, "principal: wang_haiyan")) {
      p.principal = PersonId(*v);
      person_refs_.push_back(
          {*v, r_.ValueLoc(*m.Find("principal")), "principal of a proxy"});
    } else {
      ok = false;
    }
    if (ok && p.proxy == p.principal) {
      r_.Error(m.Find("principal")->value, "'" + p.proxy.value +
                                               "' cannot be their own proxy — name "
                                               "another person as proxy");
      ok = false;
    }
    std::optional<Timestamp> from = Time(m, "from");
    std::optional<Timestamp> until = Time(m, "until");
    if (from && until && !(*from < *until)) {
      r_.Error(m.Find("until")->value,
               "the proxy ends before it starts — 'until' must be after "
               "'from'");
      ok = false;
    }
    if (ok && from && until) {
      p.from = *from;
      p.until = *until;
      org_.proxies.push_back(std::move(p));
    }
  }

  std::optional<Timestamp> Time(const Map& m, std::string_view key) {
    std::string example = std::string(key) + ": \"2024-07-01T08:00:00+08:00\"";
    std::optional<std::string> s = r_.String(m, key, "a proxy", true, example);
    if (!s) return std::nullopt;
    std::optional<Timestamp> t = ParseTimestamp(*s);
    if (!t) {
      r_.Error(m.Find(key)->value,
               "'" + *s + "' is not an ISO 8601 time with a zone — write e.g. " +
                   "2024-07-01T08:00:00+08:00 or 2024-07-01T00:00:00Z");
    }
    return t;
  }

  struct Ref {
    std::string id;
    SourceLoc loc;
    std::string role;  // "head of department 'x'"
  };

  void CheckRefs(const std::vector<Ref>& refs, const IdTable& table,
                 std::string_view kind, std::string_view section) {
    for (const Ref& ref : refs) {
      if (table.Has(ref.id)) continue;
      std::string message = std::string("unknown ") + std::string(kind) + " '" + ref.id +
                            "' as " + ref.role;
      std::string suggestion = ClosestMatch(ref.id, table.order);
      if (!suggestion.empty()) {
        message += " — did you mean '" + suggestion + "'?";
      } else {
        message += " — declare it under " + std::string(section) + ": or fix the id";
      }
      r_.Error(ref.loc, std::move(message));
    }
  }

  void CheckReferences() {
    CheckRefs(person_refs_, people_, "person", "people");
    CheckRefs(dept_refs_, depts_, "department", "departments");
    CheckRefs(position_refs_, positions_, "position", "positions");
    // A head whose home department is another one is almost always a typo.
    std::map<std::string, const Person*> by_id;
    for (const Person& p : org_.people) by_id[p.id.value] = &p;
    for (const DeptHead& h : dept_heads_) {
      auto it = by_id.find(h.head);
      if (it == by_id.end() || it->second->dept.empty()) continue;
      if (it->second->dept.value != h.dept) {
        r_.Error(h.loc, "head '" + h.head + "' of department '" + h.dept +
                            "' belongs to department '" + it->second->dept.value +
                            "' — set their dept to '" + h.dept +
                            "' or choose a member of '" + h.dept + "'");
      }
    }
  }

  struct DeptHead {
    std::string dept;
    std::string head;
    SourceLoc loc;
  };

  Reader r_;
  Org org_;
  IdTable positions_, depts_, people_, groups_;
  std::vector<Ref> person_refs_, dept_refs_, position_refs_;
  std::vector<DeptHead> dept_heads_;
  SourceLoc purchasing_;
};

}  // namespace

OrgLoad LoadOrg(std::string_view yaml_text, std::string_view file_name) {
  return OrgLoader(yaml_text, file_name).Run();
}

}  // namespace approvald
