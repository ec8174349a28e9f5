// AvailableActions answers exactly as AvailableActionsReference (every trial
// decided on its own copy of the state): on every shipped workflow, along
// random action sequences, at every step, for the people the instance waits
// for, its submitter and random others. AvailableActions reuses one scratch
// state across trials and runs them in another order; this is the proof that
// no trial sees what an earlier one did. AvailableActionsInPlace, deciding
// the trials that change nothing on the state it is lent, answers the same
// and leaves that state as it was.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "core/decide.h"
#include "core/org_loader.h"
#include "core/unit_config.h"
#include "core/workflow_loader.h"
#include "random_flows.h"

namespace approvald {
namespace {

namespace fs = std::filesystem;

using testing_flows::Gen;
using testing_flows::kAllActions;
using testing_flows::ReadFile;

std::string Describe(const std::vector<AvailableAction>& actions) {
  std::string s;
  for (const auto& a : actions) s += a.action + "@" + a.node + " ";
  return s;
}

struct Counts {
  int64_t compared = 0;     // (state, person) pairs
  int64_t offered = 0;      // actions offered over all of them
  int64_t steps = 0;        // accepted commands
  int64_t bounded = 0;      // answers that hold only until a later time
};

void Walk(const WorkflowDef& def, const Org& org, const Value::Record& unit_config,
          int sequences, int steps, uint64_t base_seed, Counts& counts) {
  std::vector<PersonId> people;
  for (const auto& p : org.people) people.push_back(p.id);
  Calendar calendar;
  for (int s = 0; s < sequences; ++s) {
    uint64_t seed = base_seed + static_cast<uint64_t>(s);
    Gen g(seed);
    Timestamp now = *ParseTimestamp("2024-03-04T09:00:00+08:00");
    InstanceState st;
    auto ctx_at = [&](Timestamp t) {
      DecideContext ctx;
      ctx.def = &def;
      ctx.org = &org;
      ctx.now = t;
      ctx.calendar = &calendar;
      ctx.unit_config = &unit_config;
      return ctx;
    };
    auto apply = [&](const Command& c) {
      auto r = Decide(ctx_at(now), st, c);
      if (!r) return;
      st = std::move(r->state);
      ++counts.steps;
    };
    auto compare = [&](const PersonId& p, const std::string& where) {
      Timestamp until;
      auto fast = AvailableActions(ctx_at(now), st, p, &until);
      auto plain = AvailableActionsReference(ctx_at(now), st, p);
      ++counts.compared;
      counts.offered += static_cast<int64_t>(fast.size());
      EXPECT_EQ(Describe(fast), Describe(plain))
          << def.id << " seed " << seed << " " << where << " for " << p.value;
      // In place: the same answer and time, on a state left exactly as it was.
      InstanceState lent = st;
      Timestamp lent_until;
      auto in_place = AvailableActionsInPlace(ctx_at(now), &lent, p, &lent_until);
      EXPECT_EQ(Describe(in_place), Describe(plain))
          << def.id << " seed " << seed << " " << where << " for " << p.value << " (in place)";
      EXPECT_EQ(lent_until, until) << def.id << " seed " << seed << " " << where;
      EXPECT_EQ(lent, st) << def.id << " seed " << seed << " " << where << " for " << p.value;
      // The answer holds until the time it names: the same at the last
      // millisecond before it and half-way there.
      ASSERT_GE(until, now);
      if (until == now || until == kNever) return;
      ++counts.bounded;
      for (Timestamp t : {Timestamp{until.ms - 1}, Timestamp{now.ms + (until.ms - now.ms) / 2}}) {
        EXPECT_EQ(Describe(AvailableActionsReference(ctx_at(t), st, p)), Describe(fast))
            << def.id << " seed " << seed << " " << where << " for " << p.value << " at "
            << t.ms << " (decided at " << now.ms << ", holding until " << until.ms << ")";
      }
    };
    for (int tries = 0; tries < 20 && st.status == InstanceStatus::kDraft; ++tries) {
      Command c;
      c.action = action::kSubmit;
      c.actor = g.Pick(people);
      c.data = g.Form(def.form, org, g.Chance(0.5));
      apply(c);
    }
    if (st.status == InstanceStatus::kDraft) continue;
    for (int i = 0; i <= steps; ++i) {
      std::string where = "step " + std::to_string(i);
      // Everyone the instance waits for, its submitter, whoever completed
      // the last node (who may take it back), two others, someone the
      // organisation does not know and the system.
      std::vector<PersonId> who;
      for (const auto& [node, p] : PendingPeople(def, st)) who.push_back(p);
      if (st.last_completion) who.push_back(st.last_completion->person);
      who.push_back(st.submitter);
      who.push_back(g.Pick(people));
      who.push_back(g.Pick(people));
      who.push_back(PersonId("nobody_in_the_org"));
      who.push_back(SystemActor());
      std::sort(who.begin(), who.end(), [](const PersonId& a, const PersonId& b) {
        return a.value < b.value;
      });
      who.erase(std::unique(who.begin(), who.end()), who.end());
      for (const auto& p : who) compare(p, where);
      if (::testing::Test::HasFailure() || st.terminal() || i == steps) break;
      now.ms += g.Int(0, 2) * kMsPerDay + g.Int(0, 8) * kMsPerHour;
      if (g.Chance(0.05)) {
        Command tick;
        tick.action = action::kTick;
        tick.actor = SystemActor();
        apply(tick);
        continue;
      }
      Command c;
      auto pending = PendingPeople(def, st);
      c.actor = !pending.empty() && g.Chance(0.8) ? g.Pick(pending).second : g.Pick(people);
      c.comment = g.Chance(0.8) ? "意见" : "";
      auto available = AvailableActions(ctx_at(now), st, c.actor);
      if (!available.empty() && g.Chance(0.9)) {
        const auto& a = g.Pick(available);
        c.action = a.action;
        c.node = a.node;
      } else {
        c.action = g.Pick(std::vector<const char*>(std::begin(kAllActions), std::end(kAllActions)));
      }
      c.args["to"] = Value::Str(g.Chance(0.5) && !st.completed.empty() ? g.Pick(st.completed)
                                                                       : g.Pick(people).value);
      c.args["person"] = Value::Str(g.Pick(people).value);
      c.args["how"] = Value::Str(g.Pick(std::vector<std::string>{"before", "after", "parallel"}));
      c.args["people"] = Value::Of(Value::List{Value::Str(g.Pick(people).value)});
      c.args["reason"] = Value::Str("利害关系");
      const NodeDef* n = c.node.empty() ? nullptr : def.FindNode(c.node);
      if (c.action == action::kVote && n && !n->meeting.vote_options.empty())
        c.args["option"] = Value::Str(g.Pick(n->meeting.vote_options));
      if (c.action == action::kComplete && n) {
        std::vector<FieldDef> fields;
        for (const auto& name : n->task_fields)
          if (const FieldDef* f = def.FindField(name)) fields.push_back(*f);
        c.data = g.Form(fields, org, true);
      }
      if (c.action == action::kResubmit) c.data = g.Form(def.form, org, true);
      apply(c);
    }
    if (::testing::Test::HasFailure()) return;  // keep the first failing seed readable
  }
}

TEST(AvailableActionsTest, SameAnswerAsTheReferenceOnEveryShippedWorkflowAtEveryStep) {
  fs::path root(APPROVAL_SOURCE_DIR);
  OrgLoad org = LoadOrg(ReadFile(root / "config/org.yaml"), "config/org.yaml");
  ASSERT_TRUE(org.org) << (org.errors.empty() ? "" : org.errors[0].ToString());
  UnitConfigLoad unit = LoadUnitConfig(
      ReadFile(root / "config/unit.yaml"), "config/unit.yaml",
      ReadFile(root / "config/procurement-catalogue.yaml"),
      "config/procurement-catalogue.yaml", &*org.org);
  ASSERT_TRUE(unit.config) << (unit.errors.empty() ? "" : unit.errors[0].ToString());
  int files = 0;
  int64_t bounded = 0;
  std::set<std::string> offered_kinds;
  for (const auto& entry : fs::directory_iterator(root / "workflows")) {
    if (entry.path().extension() != ".yaml") continue;
    WorkflowLoad w = LoadWorkflow(ReadFile(entry.path()), entry.path().filename().string(),
                                  *org.org, CheckRegistry::Builtin());
    ASSERT_TRUE(w.def) << entry.path() << ": "
                       << (w.errors.empty() ? "" : w.errors[0].ToString());
    w.def->version = 1;
    w.def->hash = "sha256:available";
    Counts counts;
    Walk(*w.def, *org.org, *unit.config, 60, 60, 7000, counts);
    ++files;
    // The walk must reach many states and offer many actions, or it proves nothing.
    EXPECT_GT(counts.steps, 200) << w.def->id;
    EXPECT_GT(counts.compared, 500) << w.def->id;
    EXPECT_GT(counts.offered, 500) << w.def->id;
    bounded += counts.bounded;
  }
  EXPECT_GE(files, 2);
  // Some answers held only for a while (an urge too soon, a meeting before
  // its deliberation is over), so the check on valid_until above ran.
  EXPECT_GT(bounded, 50);
}

TEST(AvailableActionsTest, SubmitterAndApproverOfAFreshRequestGetTheirButtons) {
  fs::path root(APPROVAL_SOURCE_DIR);
  OrgLoad org = LoadOrg(ReadFile(root / "config/org.yaml"), "config/org.yaml");
  ASSERT_TRUE(org.org);
  UnitConfigLoad unit = LoadUnitConfig(
      ReadFile(root / "config/unit.yaml"), "config/unit.yaml",
      ReadFile(root / "config/procurement-catalogue.yaml"),
      "config/procurement-catalogue.yaml", &*org.org);
  ASSERT_TRUE(unit.config);
  // On every workflow some first state offers its submitter and the people it
  // waits for the same buttons both ways, and at least one of them some.
  for (const auto& entry : fs::directory_iterator(root / "workflows")) {
    if (entry.path().extension() != ".yaml") continue;
    WorkflowLoad w = LoadWorkflow(ReadFile(entry.path()), entry.path().filename().string(),
                                  *org.org, CheckRegistry::Builtin());
    ASSERT_TRUE(w.def);
    w.def->version = 1;
    w.def->hash = "sha256:available";
    Calendar calendar;
    DecideContext ctx;
    ctx.def = &*w.def;
    ctx.org = &*org.org;
    ctx.now = *ParseTimestamp("2024-03-04T09:00:00+08:00");
    ctx.calendar = &calendar;
    ctx.unit_config = &*unit.config;
    bool found = false;
    for (uint64_t seed = 1; seed < 200 && !found; ++seed) {
      Gen g(seed);
      Command c;
      c.action = action::kSubmit;
      c.actor = g.Pick(org.org->people).id;
      c.data = g.Form(w.def->form, *org.org, true);
      auto r = Decide(ctx, InstanceState(), c);
      if (!r || r->state.terminal()) continue;
      found = true;
      auto mine = AvailableActions(ctx, r->state, c.actor);
      EXPECT_EQ(Describe(mine), Describe(AvailableActionsReference(ctx, r->state, c.actor)));
      EXPECT_FALSE(mine.empty()) << w.def->id << ": the submitter may at least comment";
      for (const auto& [node, p] : PendingPeople(*w.def, r->state)) {
        EXPECT_EQ(Describe(AvailableActions(ctx, r->state, p)),
                  Describe(AvailableActionsReference(ctx, r->state, p)))
            << w.def->id << " " << p.value;
      }
    }
    EXPECT_TRUE(found) << w.def->id;
  }
}

}  // namespace
}  // namespace approvald
