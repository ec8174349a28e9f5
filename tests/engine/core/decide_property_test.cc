// Property test: thousands of random action sequences by random members of
// the shipped organisation, on every shipped workflow, never break the
// engine's invariants:
//   - nobody approves their own request (directly or through a proxy);
//   - the head of unit never states an opinion or votes before every other
//     present, non-recused member;
//   - nothing happens after an instance ends;
//   - the state Decide() returns equals the fold of all events so far;
//   - versions are contiguous, and one person decides once per instance
//     unless the node allows repeats.
// The sequences are reproducible: each uses a fixed seed printed on failure.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "core/decide.h"
#include "core/events.h"
#include "core/fold.h"
#include "core/org_loader.h"
#include "core/record_util.h"
#include "core/unit_config.h"
#include "core/workflow_loader.h"
#include "random_flows.h"

namespace approvald {
namespace {

namespace fs = std::filesystem;

using testing_flows::Gen;
using testing_flows::kAllActions;
using testing_flows::ReadFile;

struct Stats {
  int64_t accepted = 0, refused = 0, finished = 0, approved = 0;
};

// Checks the invariants on one event, given the state just before it.
void CheckEvent(const WorkflowDef& def, const InstanceState& before, const Event& e,
                const std::string& where) {
  ASSERT_FALSE(before.terminal()) << where << ": event after the end";
  const PersonId& principal = e.on_behalf_of.empty() ? e.actor : e.on_behalf_of;
  if (e.type == ev::kSigned) {
    const NodeDef* n = def.FindNode(e.node);
    ASSERT_NE(n, nullptr);
    if (n->kind == NodeKind::kApproval) {
      EXPECT_NE(principal, before.submitter) << where << ": self-approval at " << e.node;
      EXPECT_NE(e.actor, before.submitter) << where << ": proxy self-approval at " << e.node;
    }
    for (const auto& a : before.acts) {
      if (a.node == e.node || (a.person != principal && a.actor != e.actor)) continue;
      const NodeDef* other = def.FindNode(a.node);
      bool repeat_ok = n->allow_repeat_actor || (other && other->allow_repeat_actor);
      EXPECT_TRUE(repeat_ok) << where << ": " << principal.value << " decided both "
                             << a.node << " and " << e.node;
    }
  }
  if (e.type == ev::kOpinionStated || e.type == ev::kVoted) {
    const Token& t = before.active.at(e.node);
    const MeetingState& m = t.meeting;
    if (principal == m.head) {
      for (const auto& p : m.present) {
        if (p == m.head || m.IsRecused(p)) continue;
        bool done = e.type == ev::kOpinionStated ? m.HasSpoken(p) : m.HasVoted(p);
        EXPECT_TRUE(done) << where << ": head acted before " << p.value;
      }
    }
    EXPECT_FALSE(m.IsRecused(principal)) << where << ": recused member took part";
    EXPECT_TRUE(m.opened) << where << ": opinion or vote before the meeting opened";
  }
}

void RunSequences(const WorkflowDef& def, const Org& org, const Value::Record& unit_config,
                  int sequences, int steps, uint64_t base_seed, Stats& stats) {
  std::vector<PersonId> people;
  for (const auto& p : org.people) people.push_back(p.id);
  Calendar calendar;
  for (int s = 0; s < sequences; ++s) {
    uint64_t seed = base_seed + static_cast<uint64_t>(s);
    std::string where = def.id + " seed " + std::to_string(seed);
    Gen g(seed);
    Timestamp now = *ParseTimestamp("2024-03-04T09:00:00+08:00");
    InstanceState st;
    std::vector<Event> history;
    auto ctx_at = [&](Timestamp t) {
      DecideContext ctx;
      ctx.def = &def;
      ctx.org = &org;
      ctx.now = t;
      ctx.calendar = &calendar;
      ctx.unit_config = &unit_config;  // the shipped checks read thresholds here
      return ctx;
    };
    auto apply = [&](const Command& c) -> bool {
      auto r = Decide(ctx_at(now), st, c);
      if (!r) {
        ++stats.refused;
        EXPECT_NE(r.error().code, ErrorCode::kInternal) << where << ": " << r.error().ToString();
        return false;
      }
      InstanceState folding = st;
      for (const auto& e : r->events) {
        CheckEvent(def, folding, e, where);
        EXPECT_EQ(e.version, folding.version + 1) << where;
        EXPECT_TRUE(Apply(folding, e)) << where;
      }
      history.insert(history.end(), r->events.begin(), r->events.end());
      auto folded = Fold(history);
      EXPECT_TRUE(folded && *folded == r->state) << where << ": fold differs after " << c.action;
      EXPECT_TRUE(folding == r->state) << where;
      st = std::move(r->state);
      ++stats.accepted;
      return true;
    };
    // Submit, retrying with other people until someone may start it.
    for (int tries = 0; tries < 20 && st.status == InstanceStatus::kDraft; ++tries) {
      Command c;
      c.action = action::kSubmit;
      c.actor = g.Pick(people);
      c.data = g.Form(def.form, org, g.Chance(0.5));
      apply(c);
    }
    if (st.status == InstanceStatus::kDraft) continue;
    for (int i = 0; i < steps && !st.terminal(); ++i) {
      now.ms += g.Int(0, 3) * kMsPerDay + g.Int(0, 8) * kMsPerHour;
      if (g.Chance(0.1)) {
        Command tick;
        tick.action = action::kTick;
        tick.actor = SystemActor();
        apply(tick);
        continue;
      }
      Command c;
      // Mostly someone the instance waits for, sometimes anyone at all.
      auto pending = PendingPeople(def, st);
      // Asked about one by one, the people listed and no others are pending.
      for (const auto& [node, p] : pending) EXPECT_TRUE(IsPending(def, st, node, p)) << where;
      for (const auto& [node, t] : st.active)
        for (const auto& p : people) {
          bool listed = std::find(pending.begin(), pending.end(),
                                  std::make_pair(node, p)) != pending.end();
          EXPECT_EQ(IsPending(def, st, node, p), listed) << where << " " << node << " " << p.value;
        }
      EXPECT_FALSE(IsPending(def, st, "no_such_node", people.front())) << where;
      c.actor = !pending.empty() && g.Chance(0.7) ? g.Pick(pending).second : g.Pick(people);
      c.comment = g.Chance(0.8) ? "意见" : "";
      auto available = AvailableActions(ctx_at(now), st, c.actor);
      // Every action offered is one Decide accepts on this very state (short
      // of a missing argument): the trials behind AvailableActions share one
      // scratch state, and none may see what an earlier trial did to it.
      for (const auto& offered : available) {
        Command trial;
        trial.action = offered.action;
        trial.actor = c.actor;
        trial.node = offered.node;
        trial.comment = "-";
        auto r = Decide(ctx_at(now), st, trial);
        EXPECT_TRUE(r || (r.error().code == ErrorCode::kInvalidArgument &&
                          r.error().reason == "missing_argument"))
            << where << ": offered " << offered.action << "@" << offered.node << " to "
            << c.actor.value << " but " << r.error().ToString();
      }
      if (!available.empty() && g.Chance(0.85)) {
        // Favour the actions that move an instance forward, so that many
        // sequences reach their end, while still trying every other one.
        static const std::set<std::string> kForward = {
            action::kApprove, action::kComplete, action::kDistribute,
            action::kAcknowledge, action::kAttend, action::kOpen, action::kOpinion,
            action::kVote, action::kClose, action::kResubmit, action::kResolve};
        std::vector<AvailableAction> weighted;
        for (const auto& a : available)
          for (int w = kForward.count(a.action) ? 8 : 1; w > 0; --w) weighted.push_back(a);
        const auto& a = g.Pick(weighted);
        c.action = a.action;
        c.node = a.node;
      } else {
        c.action = g.Pick(std::vector<const char*>(std::begin(kAllActions), std::end(kAllActions)));
        if (!st.active.empty() && g.Chance(0.5)) c.node = st.active.begin()->first;
      }
      // Arguments: random but plausible.
      c.args["to"] = Value::Str(g.Chance(0.5) && !st.completed.empty()
                                    ? g.Pick(st.completed)
                                    : g.Chance(0.3) ? std::string("start") : g.Pick(people).value);
      c.args["person"] = Value::Str(g.Pick(people).value);
      c.args["how"] = Value::Str(g.Pick(std::vector<std::string>{"before", "after", "parallel"}));
      c.args["people"] = Value::Of(Value::List{Value::Str(g.Pick(people).value)});
      c.args["reason"] = Value::Str("利害关系");
      const NodeDef* n = c.node.empty() ? nullptr : def.FindNode(c.node);
      if (c.action == action::kVote && n)
        c.args["option"] = Value::Str(g.Chance(0.7) ? n->meeting.vote_options[0]
                                                    : g.Pick(n->meeting.vote_options));
      if (c.action == action::kComplete && n) {
        std::vector<FieldDef> fields;
        for (const auto& name : n->task_fields)
          if (const FieldDef* f = def.FindField(name)) fields.push_back(*f);
        c.data = g.Form(fields, org, true);
      }
      if (c.action == action::kResubmit) c.data = g.Form(def.form, org, true);
      if (g.Chance(0.05)) {  // act as someone's proxy, valid or not
        c.on_behalf_of = g.Pick(people);
      }
      apply(c);
    }
    if (st.terminal()) {
      ++stats.finished;
      if (st.status == InstanceStatus::kApproved) ++stats.approved;
      // Nothing is accepted after the end.
      Command c;
      c.action = action::kComment;
      c.actor = st.submitter;
      c.comment = "after the end";
      EXPECT_FALSE(Decide(ctx_at(now), st, c).has_value()) << where;
    }
    if (::testing::Test::HasFailure()) return;  // keep the first failing seed readable
  }
}

TEST(DecidePropertyTest, RandomSequencesOnEveryShippedWorkflowKeepTheInvariants) {
  fs::path root(APPROVAL_SOURCE_DIR);
  OrgLoad org = LoadOrg(ReadFile(root / "config/org.yaml"), "config/org.yaml");
  ASSERT_TRUE(org.org) << (org.errors.empty() ? "" : org.errors[0].ToString());
  UnitConfigLoad unit = LoadUnitConfig(
      ReadFile(root / "config/unit.yaml"), "config/unit.yaml",
      ReadFile(root / "config/procurement-catalogue.yaml"),
      "config/procurement-catalogue.yaml", &*org.org);
  ASSERT_TRUE(unit.config) << (unit.errors.empty() ? "" : unit.errors[0].ToString());
  int files = 0;
  for (const auto& entry : fs::directory_iterator(root / "workflows")) {
    if (entry.path().extension() != ".yaml") continue;
    WorkflowLoad w = LoadWorkflow(ReadFile(entry.path()), entry.path().filename().string(),
                                  *org.org, CheckRegistry::Builtin());
    ASSERT_TRUE(w.def) << entry.path() << ": "
                       << (w.errors.empty() ? "" : w.errors[0].ToString());
    w.def->version = 1;
    w.def->hash = "sha256:property";
    Stats stats;
    RunSequences(*w.def, *org.org, *unit.config, 1000, 150, 1000, stats);
    ++files;
    // The sequences must actually exercise the workflow, not just be refused.
    EXPECT_GT(stats.accepted, 1000) << w.def->id;
    EXPECT_GT(stats.refused, 100) << w.def->id;
    EXPECT_GT(stats.finished, 40) << w.def->id;
    EXPECT_GT(stats.approved, 10) << w.def->id;
    std::printf("%-22s accepted=%lld refused=%lld finished=%lld approved=%lld\n",
                w.def->id.c_str(), static_cast<long long>(stats.accepted),
                static_cast<long long>(stats.refused),
                static_cast<long long>(stats.finished),
                static_cast<long long>(stats.approved));
  }
  EXPECT_GE(files, 2);
}

}  // namespace
}  // namespace approvald
