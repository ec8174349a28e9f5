// Test helpers for Decide(): a small organisation, workflows from inline
// YAML, and a Run() that applies a command and checks that the state Decide
// kept equals the fold of every event so far.
#ifndef APPROVALD_TESTS_DECIDE_TEST_UTIL_H_
#define APPROVALD_TESTS_DECIDE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "core/decide.h"
#include "core/events.h"
#include "core/fold.h"
#include "core/org_loader.h"
#include "core/record_util.h"
#include "core/workflow_loader.h"

namespace approvald::testing {

// bh/fh/oh head business/finance/office; d1 supervises business and office,
// d2 finance; head is the head of unit; c1/c2 clerks; x1..x3 extra staff.
inline const char* kTestOrg = R"Y(
unit: { name: 测试单位, name_en: Test unit }
positions:
  - { id: head_of_unit, name: 主要领导, name_en: Head of unit }
  - { id: deputy_head, name: 分管领导, name_en: Deputy head }
  - { id: cashier, name: 出纳, name_en: Cashier }
  - { id: office_director, name: 办公室主任, name_en: Office director }
departments:
  - { id: business, name: 业务股, name_en: Business, head: bh, supervisor: d1 }
  - { id: finance, name: 计财室, name_en: Finance, head: fh, supervisor: d2 }
  - { id: office, name: 办公室, name_en: Office, head: oh, supervisor: d1, purchasing: true }
people:
  - { id: head, name: 主任, name_en: Head, positions: [head_of_unit] }
  - { id: d1, name: 副主任一, name_en: Deputy One, positions: [deputy_head] }
  - { id: d2, name: 副主任二, name_en: Deputy Two, positions: [deputy_head] }
  - { id: d3, name: 副主任三, name_en: Deputy Three, positions: [deputy_head] }
  - { id: bh, name: 业务股长, name_en: Business Head, dept: business }
  - { id: fh, name: 计财室主任, name_en: Finance Head, dept: finance }
  - { id: oh, name: 办公室主任, name_en: Office Head, dept: office, positions: [office_director] }
  - { id: c1, name: 科员一, name_en: Clerk One, dept: business }
  - { id: c2, name: 科员二, name_en: Clerk Two, dept: finance, positions: [cashier] }
  - { id: x1, name: 职员一, name_en: Staff One, dept: business }
  - { id: x2, name: 职员二, name_en: Staff Two, dept: business }
  - { id: x3, name: 职员三, name_en: Staff Three, dept: office }
groups:
  - { id: leadership, name: 班子成员, name_en: Leadership, members: [head, d1, d2, d3] }
proxies:
  - { proxy: x1, principal: bh, from: "2024-01-01T00:00:00Z", until: "2024-02-01T00:00:00Z" }
)Y";

inline Org LoadTestOrg() {
  OrgLoad r = LoadOrg(kTestOrg, "test_org.yaml");
  for (const auto& e : r.errors) ADD_FAILURE() << e.ToString();
  return r.org ? std::move(*r.org) : Org();
}

inline WorkflowDef LoadDef(const std::string& yaml, const Org& org) {
  WorkflowLoad r = LoadWorkflow(yaml, "test.yaml", org, CheckRegistry::Builtin());
  for (const auto& e : r.errors) ADD_FAILURE() << e.ToString();
  if (!r.def) return WorkflowDef();
  r.def->version = 1;
  r.def->hash = "sha256:test";
  return std::move(*r.def);
}

// 2024-01-08 09:00 Shanghai, a Monday.
inline Timestamp T0() { return *ParseTimestamp("2024-01-08T09:00:00+08:00"); }

// Drives one instance through commands, checking the fold property at every
// step and keeping the whole history.
class Driver {
 public:
  Driver(const WorkflowDef& def, const Org& org) : def_(def), org_(org) {
    now_ = T0();
  }

  Result<Decision> Try(const std::string& action, const std::string& actor,
                       const std::string& node = "", Value::Record args = {},
                       FormData data = {}, const std::string& comment = "",
                       const std::string& on_behalf_of = "") {
    Command c;
    c.action = action;
    c.actor = PersonId(actor);
    c.node = node;
    c.args = std::move(args);
    c.data = std::move(data);
    c.comment = comment;
    c.on_behalf_of = PersonId(on_behalf_of);
    return Exec(c);
  }

  Result<Decision> Exec(const Command& c) {
    DecideContext ctx = Context();
    auto r = Decide(ctx, state_, c);
    if (!r) return r;
    // Versions continue the history; the fold of all events equals the state.
    for (size_t i = 0; i < r->events.size(); ++i)
      EXPECT_EQ(r->events[i].version, state_.version + 1 + static_cast<int64_t>(i));
    history_.insert(history_.end(), r->events.begin(), r->events.end());
    auto folded = Fold(history_);
    EXPECT_TRUE(folded.has_value()) << (folded ? "" : folded.error().ToString());
    if (folded) {
      EXPECT_TRUE(*folded == r->state) << "fold differs after " << c.action;
    }
    state_ = r->state;
    last_ = r->events;
    return r;
  }

  // Expects success.
  void Do(const std::string& action, const std::string& actor,
          const std::string& node = "", Value::Record args = {},
          FormData data = {}, const std::string& comment = "",
          const std::string& on_behalf_of = "") {
    auto r = Try(action, actor, node, std::move(args), std::move(data), comment,
                 on_behalf_of);
    ASSERT_TRUE(r.has_value()) << action << " by " << actor << " on '" << node
                               << "': " << r.error().ToString();
  }

  // Expects a refusal with `reason`; the state must not change.
  void Refused(const std::string& reason, const std::string& action,
               const std::string& actor, const std::string& node = "",
               Value::Record args = {}, const std::string& comment = "",
               const std::string& on_behalf_of = "") {
    InstanceState before = state_;
    auto r = Try(action, actor, node, std::move(args), {}, comment, on_behalf_of);
    ASSERT_FALSE(r.has_value()) << action << " by " << actor << " should be refused ("
                                << reason << ")";
    EXPECT_EQ(r.error().reason, reason) << r.error().ToString();
    EXPECT_TRUE(state_ == before);
  }

  DecideContext Context() {
    DecideContext ctx;
    ctx.def = &def_;
    ctx.org = &org_;
    ctx.now = now_;
    ctx.calendar = &calendar_;
    ctx.facts = &facts_;
    ctx.unit_config = &config_;
    return ctx;
  }

  bool Active(const std::string& node) const { return state_.active.count(node) > 0; }
  bool HasEvent(const std::string& type) const {
    for (const auto& e : last_) if (e.type == type) return true;
    return false;
  }
  const Event* FindEvent(const std::string& type) const {
    for (const auto& e : history_) if (e.type == type) return &e;
    return nullptr;
  }
  void Advance(int64_t ms) { now_.ms += ms; }

  const InstanceState& state() const { return state_; }
  const std::vector<Event>& history() const { return history_; }
  Calendar& calendar() { return calendar_; }
  CheckFacts& facts() { return facts_; }
  Value::Record& config() { return config_; }
  Timestamp now() const { return now_; }

 private:
  const WorkflowDef& def_;
  const Org& org_;
  Timestamp now_;
  Calendar calendar_;
  CheckFacts facts_;
  Value::Record config_;
  InstanceState state_;
  std::vector<Event> history_;
  std::vector<Event> last_;
};

inline Value::Record Args(std::initializer_list<std::pair<const char*, Value>> kv) {
  Value::Record r;
  for (const auto& [k, v] : kv) r[k] = v;
  return r;
}
inline Value S(const char* s) { return Value::Str(s); }

}  // namespace approvald::testing

#endif  // APPROVALD_TESTS_DECIDE_TEST_UTIL_H_
