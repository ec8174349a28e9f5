// Applies events to instance state. Deliberately dumb: every decision was
// taken by Decide() and written into the event; folding only records it, so
// a history always folds to the same state without the organisation or the
// expression language.
#include "core/fold.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "core/events.h"
#include "core/record_util.h"

namespace approvald {

std::string_view InstanceStatusName(InstanceStatus s) {
  switch (s) {
    case InstanceStatus::kDraft: return "draft";
    case InstanceStatus::kRunning: return "running";
    case InstanceStatus::kApproved: return "approved";
    case InstanceStatus::kRejected: return "rejected";
    case InstanceStatus::kWithdrawn: return "withdrawn";
    case InstanceStatus::kCancelled: return "cancelled";
  }
  return "running";
}

std::string_view SignerStateName(SignerState s) {
  switch (s) {
    case SignerState::kWaiting: return "waiting";
    case SignerState::kPending: return "pending";
    case SignerState::kApproved: return "approved";
    case SignerState::kRejected: return "rejected";
    case SignerState::kDelegated: return "delegated";
    case SignerState::kTransferred: return "transferred";
    case SignerState::kRemoved: return "removed";
  }
  return "pending";
}

namespace {

// Event types as a closed set, so that folding switches on an integer
// instead of comparing strings one after another.
enum class Kind {
  kUnknown,
  kSubmitted,
  kResubmitted,
  kWithdrawn,
  kCompleted,
  kNodeEntered,
  kNodeCompleted,
  kNodeCancelled,
  kNodeSkipped,
  kBranchCompleted,
  kBranchReopened,
  kRouted,
  kCheckCompleted,
  kSigned,
  kReturned,
  kTakenBack,
  kTransferred,
  kDelegated,
  kDelegateResolved,
  kSignerAdded,
  kSignerRemoved,
  kCcAdded,
  kUrged,
  kCommented,
  kDeadlineReminded,
  kEscalated,
  kAutoDecided,
  kAgendaDistributed,
  kReceiptAcknowledged,
  kAttended,
  kRecused,
  kMeetingOpened,
  kOpinionStated,
  kVoted,
  kMeetingClosed
};

Kind KindOf(const std::string& type) {
  static const std::unordered_map<std::string_view, Kind> kKinds = {
      {ev::kSubmitted, Kind::kSubmitted},
      {ev::kResubmitted, Kind::kResubmitted},
      {ev::kWithdrawn, Kind::kWithdrawn},
      {ev::kCompleted, Kind::kCompleted},
      {ev::kNodeEntered, Kind::kNodeEntered},
      {ev::kNodeCompleted, Kind::kNodeCompleted},
      {ev::kNodeCancelled, Kind::kNodeCancelled},
      {ev::kNodeSkipped, Kind::kNodeSkipped},
      {ev::kBranchCompleted, Kind::kBranchCompleted},
      {ev::kBranchReopened, Kind::kBranchReopened},
      {ev::kRouted, Kind::kRouted},
      {ev::kCheckCompleted, Kind::kCheckCompleted},
      {ev::kSigned, Kind::kSigned},
      {ev::kReturned, Kind::kReturned},
      {ev::kTakenBack, Kind::kTakenBack},
      {ev::kTransferred, Kind::kTransferred},
      {ev::kDelegated, Kind::kDelegated},
      {ev::kDelegateResolved, Kind::kDelegateResolved},
      {ev::kSignerAdded, Kind::kSignerAdded},
      {ev::kSignerRemoved, Kind::kSignerRemoved},
      {ev::kCcAdded, Kind::kCcAdded},
      {ev::kUrged, Kind::kUrged},
      {ev::kCommented, Kind::kCommented},
      {ev::kDeadlineReminded, Kind::kDeadlineReminded},
      {ev::kEscalated, Kind::kEscalated},
      {ev::kAutoDecided, Kind::kAutoDecided},
      {ev::kAgendaDistributed, Kind::kAgendaDistributed},
      {ev::kReceiptAcknowledged, Kind::kReceiptAcknowledged},
      {ev::kAttended, Kind::kAttended},
      {ev::kRecused, Kind::kRecused},
      {ev::kMeetingOpened, Kind::kMeetingOpened},
      {ev::kOpinionStated, Kind::kOpinionStated},
      {ev::kVoted, Kind::kVoted},
      {ev::kMeetingClosed, Kind::kMeetingClosed},
  };
  auto it = kKinds.find(type);
  return it == kKinds.end() ? Kind::kUnknown : it->second;
}

std::optional<SignerState> ParseSignerState(const std::string& s) {
  for (SignerState st :
       {SignerState::kWaiting, SignerState::kPending, SignerState::kApproved,
        SignerState::kRejected, SignerState::kDelegated, SignerState::kTransferred,
        SignerState::kRemoved})
    if (SignerStateName(st) == s) return st;
  return std::nullopt;
}

std::unexpected<Error> Corrupt(const Event& e, const std::string& what) {
  return MakeError(ErrorCode::kInternal, "corrupt_history",
                   "event " + std::to_string(e.version) + " (" + e.type +
                       " on node '" + e.node + "'): " + what);
}

template <class T>
bool Contains(const std::vector<T>& v, const T& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

Signer SignerFromRecord(const Value::Record& r) {
  Signer s;
  s.person = PersonId(rec::Str(r, "person"));
  s.state = ParseSignerState(rec::Str(r, "state")).value_or(SignerState::kPending);
  s.added_by = PersonId(rec::Str(r, "added_by"));
  s.added_how = rec::Str(r, "how");
  return s;
}

// Applies a list of {person, state[, delegate]} updates to `t`.
Status ApplySet(const Event& e, Token& t, const Value::List& set) {
  for (const Value& v : set) {
    if (!v.is_record()) return Corrupt(e, "signer update is not a record");
    const auto& r = v.as_record();
    Signer* s = t.FindSigner(PersonId(rec::Str(r, "person")));
    if (!s) return Corrupt(e, "no signer " + rec::Str(r, "person"));
    auto st = ParseSignerState(rec::Str(r, "state"));
    if (!st) return Corrupt(e, "bad signer state " + rec::Str(r, "state"));
    s->state = *st;
    if (rec::Find(r, "delegate")) s->delegate = PersonId(rec::Str(r, "delegate"));
  }
  return Ok();
}

bool IsHumanDecision(Kind k) {
  switch (k) {
    case Kind::kSigned: case Kind::kReturned: case Kind::kTransferred:
    case Kind::kDelegated: case Kind::kDelegateResolved: case Kind::kSignerAdded:
    case Kind::kSignerRemoved: case Kind::kRecused: case Kind::kOpinionStated:
    case Kind::kVoted: case Kind::kAgendaDistributed: case Kind::kMeetingOpened:
    case Kind::kMeetingClosed:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool MeetingState::IsMember(const PersonId& p) const { return Contains(members, p); }
bool MeetingState::IsPresent(const PersonId& p) const { return Contains(present, p); }
bool MeetingState::HasSpoken(const PersonId& p) const {
  for (const auto& o : opinions) if (o.first == p) return true;
  return false;
}
bool MeetingState::HasVoted(const PersonId& p) const {
  for (const auto& o : votes) if (o.first == p) return true;
  return false;
}

const Signer* Token::FindSigner(const PersonId& p) const {
  // The live entry wins over a transferred/removed earlier entry.
  const Signer* found = nullptr;
  for (const auto& s : signers)
    if (s.person == p) {
      found = &s;
      if (s.state != SignerState::kTransferred && s.state != SignerState::kRemoved)
        return &s;
    }
  return found;
}
Signer* Token::FindSigner(const PersonId& p) {
  return const_cast<Signer*>(static_cast<const Token*>(this)->FindSigner(p));
}

bool operator==(const Signer& a, const Signer& b) {
  return a.person == b.person && a.state == b.state && a.added_by == b.added_by &&
         a.added_how == b.added_how && a.delegate == b.delegate &&
         a.acted_by == b.acted_by && a.comment == b.comment &&
         a.acted_version == b.acted_version;
}
bool operator==(const MeetingState& a, const MeetingState& b) {
  return a.members == b.members && a.head == b.head &&
         a.secretaries == b.secretaries && a.distributed == b.distributed &&
         a.distributed_at == b.distributed_at && a.receipts == b.receipts &&
         a.present == b.present && a.recused == b.recused && a.opened == b.opened &&
         a.opened_at == b.opened_at && a.opinions == b.opinions && a.votes == b.votes;
}
bool operator==(const Token& a, const Token& b) {
  return a.node == b.node && a.entered_at == b.entered_at && a.signers == b.signers &&
         a.deadline == b.deadline && a.reminders == b.reminders &&
         a.parallel == b.parallel && a.branch == b.branch && a.step == b.step &&
         a.meeting == b.meeting && a.results == b.results &&
         a.entered_version == b.entered_version;
}
bool operator==(const ParallelState& a, const ParallelState& b) {
  return a.done == b.done && a.entered_version == b.entered_version;
}
bool operator==(const Act& a, const Act& b) {
  return a.person == b.person && a.actor == b.actor && a.node == b.node &&
         a.action == b.action && a.version == b.version && a.at == b.at;
}
bool operator==(const LastCompletion& a, const LastCompletion& b) {
  return a.node == b.node && a.person == b.person && a.version == b.version &&
         a.token == b.token;
}

Status Apply(InstanceState& st, const Event& e) {
  if (e.version != st.version + 1)
    return Corrupt(e, "expected version " + std::to_string(st.version + 1));
  if (st.terminal()) return Corrupt(e, "instance already ended");
  const auto& d = e.data;
  const Kind k = KindOf(e.type);
  const PersonId& principal = e.on_behalf_of.empty() ? e.actor : e.on_behalf_of;

  // 拿回 is possible only until someone acts on what the completion led to.
  if (st.last_completion && IsHumanDecision(k) && e.actor != SystemActor()) {
    auto it = st.active.find(e.node);
    if (it != st.active.end() &&
        it->second.entered_version > st.last_completion->version)
      st.last_completion.reset();
  }
  if (IsHumanDecision(k) && e.actor != SystemActor() &&
      principal != st.submitter)
    st.touched = true;

  auto token = [&]() -> Token* {
    auto it = st.active.find(e.node);
    return it == st.active.end() ? nullptr : &it->second;
  };

  if (k == Kind::kSubmitted) {
    if (st.status != InstanceStatus::kDraft) return Corrupt(e, "submitted twice");
    st.id = e.instance;
    st.workflow = rec::Str(d, "workflow");
    st.def_version = static_cast<int>(rec::Int(d, "def_version"));
    st.def_hash = rec::Str(d, "def_hash");
    st.submitter = principal;
    if (!e.on_behalf_of.empty()) st.submitted_by = e.actor;
    st.created_at = e.at;
    st.form = rec::Sub(d, "form");
    st.status = InstanceStatus::kRunning;
  } else if (k == Kind::kResubmitted) {
    st.form = rec::Sub(d, "form");
    st.active.erase(e.node);
  } else if (k == Kind::kWithdrawn) {
    // The tokens were cancelled by preceding events; `completed` ends it.
  } else if (k == Kind::kCompleted) {
    std::string outcome = rec::Str(d, "outcome");
    if (outcome == "approved") st.status = InstanceStatus::kApproved;
    else if (outcome == "rejected") st.status = InstanceStatus::kRejected;
    else if (outcome == "withdrawn") st.status = InstanceStatus::kWithdrawn;
    else if (outcome == "cancelled") st.status = InstanceStatus::kCancelled;
    else return Corrupt(e, "unknown outcome " + outcome);
    st.end_node = e.node;
    st.active.clear();
    st.parallels.clear();
    st.last_completion.reset();
  } else if (k == Kind::kNodeEntered) {
    if (rec::Find(d, "branches")) {  // a parallel node
      ParallelState p;
      const auto& done = rec::List(d, "done");
      p.done.assign(static_cast<size_t>(rec::Int(d, "branches")), false);
      for (size_t i = 0; i < done.size() && i < p.done.size(); ++i)
        p.done[i] = done[i].is_bool() && done[i].as_bool();
      p.entered_version = e.version;
      st.parallels[e.node] = std::move(p);
    } else {
      if (st.active.count(e.node)) return Corrupt(e, "node already active");
      Token tk;
      tk.node = e.node;
      tk.entered_at = e.at;
      tk.entered_version = e.version;
      for (const Value& v : rec::List(d, "signers"))
        if (v.is_record()) tk.signers.push_back(SignerFromRecord(v.as_record()));
      if (const Value* dl = rec::Find(d, "deadline"); dl && dl->is_int())
        tk.deadline = Timestamp{dl->as_int()};
      tk.parallel = rec::Str(d, "parallel");
      tk.branch = static_cast<int>(rec::Int(d, "branch", -1));
      tk.step = static_cast<int>(rec::Int(d, "step", -1));
      const auto& m = rec::Sub(d, "meeting");
      if (!m.empty()) {
        MeetingState& meeting = tk.meeting.Mutable();
        meeting.members = rec::People(m, "members");
        meeting.head = PersonId(rec::Str(m, "head"));
        meeting.secretaries = rec::People(m, "secretaries");
      }
      // A re-entered node (after 拿回) brings back earlier decisions.
      for (const Value& v : rec::List(d, "restore")) {
        if (!v.is_record()) continue;
        const auto& r = v.as_record();
        if (Signer* s = tk.FindSigner(PersonId(rec::Str(r, "person")))) {
          s->acted_by = PersonId(rec::Str(r, "acted_by"));
          s->comment = rec::Str(r, "comment");
          s->acted_version = rec::Int(r, "acted_version");
        }
      }
      st.active[e.node] = std::move(tk);
    }
  } else if (k == Kind::kNodeCompleted) {
    if (st.parallels.count(e.node)) {
      st.parallels.erase(e.node);
    } else {
      Token* tk = token();
      if (!tk) return Corrupt(e, "node not active");
      PersonId person(rec::Str(d, "person"));
      if (!person.empty()) {
        LastCompletion lc;
        lc.node = e.node;
        lc.person = person;
        lc.version = e.version;
        lc.token = std::move(*tk);  // erased just below
        st.last_completion = std::move(lc);
      }
      st.active.erase(e.node);
    }
    std::string result = rec::Str(d, "result");
    if (result == "approved" || result == "completed" || result == "passed")
      st.completed.push_back(e.node);
  } else if (k == Kind::kNodeCancelled) {
    if (st.parallels.count(e.node)) st.parallels.erase(e.node);
    else if (!st.active.erase(e.node)) return Corrupt(e, "node not active");
  } else if (k == Kind::kBranchCompleted || k == Kind::kBranchReopened) {
    auto it = st.parallels.find(e.node);
    int64_t b = rec::Int(d, "branch", -1);
    if (it == st.parallels.end() || b < 0 ||
        b >= static_cast<int64_t>(it->second.done.size()))
      return Corrupt(e, "no such parallel branch");
    it->second.done[static_cast<size_t>(b)] = k == Kind::kBranchCompleted;
  } else if (k == Kind::kRouted || k == Kind::kCheckCompleted || k == Kind::kNodeSkipped ||
             k == Kind::kCommented) {
    if (k == Kind::kRouted) st.completed.push_back(e.node);
  } else if (k == Kind::kSigned) {
    Token* tk = token();
    if (!tk) return Corrupt(e, "node not active");
    PersonId person(rec::Str(d, "person"));
    Signer* s = tk->FindSigner(person);
    if (!s) return Corrupt(e, "no signer " + person.value);
    std::string decision = rec::Str(d, "decision");
    s->state = decision == "reject" ? SignerState::kRejected : SignerState::kApproved;
    if (e.actor != person) s->acted_by = e.actor;
    s->comment = e.comment;
    s->acted_version = e.version;
    if (auto st2 = ApplySet(e, *tk, rec::List(d, "set")); !st2) return st2;
    for (const auto& [k, v] : rec::Sub(d, "fields")) st.form.Mutable()[k] = v;
    st.acts.push_back(Act{person, e.actor, e.node, decision, e.version, e.at});
  } else if (k == Kind::kReturned) {
    // Returning is a decision on the node: the person keeps the instance in
    // their done work and may still read it once their task is cancelled.
    st.acts.push_back(Act{e.actor, e.actor, e.node, "return", e.version, e.at});
    std::string to = rec::Str(d, "to");
    if (to == "start") {
      st.completed.clear();
    } else {
      auto it = std::find(st.completed.rbegin(), st.completed.rend(), to);
      if (it != st.completed.rend())
        st.completed.erase(std::prev(it.base()), st.completed.end());
    }
    st.last_completion.reset();
  } else if (k == Kind::kTakenBack) {
    PersonId person(rec::Str(d, "person"));
    std::string node = rec::Str(d, "from");
    for (auto it = st.acts.rbegin(); it != st.acts.rend(); ++it)
      if (it->person == person && it->node == node) {
        st.acts.erase(std::prev(it.base()));
        break;
      }
    if (Token* tk = token()) {  // taken back inside a node that is still waiting
      if (auto s2 = ApplySet(e, *tk, rec::List(d, "set")); !s2) return s2;
      if (Signer* s = tk->FindSigner(person)) {
        s->acted_by = PersonId();
        s->comment.clear();
        s->acted_version = 0;
      }
    } else {
      auto it = std::find(st.completed.rbegin(), st.completed.rend(), node);
      if (it != st.completed.rend()) st.completed.erase(std::prev(it.base()));
    }
    st.last_completion.reset();
  } else if (k == Kind::kTransferred) {
    Token* tk = token();
    if (!tk) return Corrupt(e, "node not active");
    PersonId from(rec::Str(d, "from"));
    Signer* s = tk->FindSigner(from);
    if (!s) return Corrupt(e, "no signer " + from.value);
    SignerState prior = s->state;
    s->state = SignerState::kTransferred;
    Signer n;
    n.person = PersonId(rec::Str(d, "to"));
    n.state = prior == SignerState::kDelegated ? SignerState::kPending : prior;
    n.added_by = from;
    n.added_how = "transfer";
    auto pos = static_cast<size_t>(s - tk->signers.data()) + 1;
    tk->signers.insert(tk->signers.begin() + static_cast<long>(pos), std::move(n));
    if (e.actor == SystemActor()) tk->deadline.reset();  // a deadline's transfer
  } else if (k == Kind::kDelegated || k == Kind::kDelegateResolved) {
    Token* tk = token();
    if (!tk) return Corrupt(e, "node not active");
    Signer* s = tk->FindSigner(PersonId(rec::Str(d, "person")));
    if (!s) return Corrupt(e, "no signer");
    if (k == Kind::kDelegated) {
      s->state = SignerState::kDelegated;
      s->delegate = PersonId(rec::Str(d, "to"));
    } else {
      s->state = SignerState::kPending;
      s->delegate = PersonId();
    }
  } else if (k == Kind::kSignerAdded || k == Kind::kEscalated) {
    Token* tk = token();
    if (!tk) return Corrupt(e, "node not active");
    std::vector<Value::Record> adds;
    if (k == Kind::kSignerAdded) {
      adds.push_back(d);
    } else {
      for (const Value& v : rec::List(d, "signers"))
        if (v.is_record()) adds.push_back(v.as_record());
    }
    for (const auto& a : adds) {
      Signer n = SignerFromRecord(a);
      int64_t index = rec::Int(a, "index", static_cast<int64_t>(tk->signers.size()));
      index = std::clamp<int64_t>(index, 0, static_cast<int64_t>(tk->signers.size()));
      tk->signers.insert(tk->signers.begin() + index, std::move(n));
    }
    if (auto s2 = ApplySet(e, *tk, rec::List(d, "set")); !s2) return s2;
    if (k == Kind::kEscalated) tk->deadline.reset();
  } else if (k == Kind::kSignerRemoved) {
    Token* tk = token();
    if (!tk) return Corrupt(e, "node not active");
    if (auto s2 = ApplySet(e, *tk, rec::List(d, "set")); !s2) return s2;
  } else if (k == Kind::kCcAdded) {
    for (const auto& p : rec::People(d, "people"))
      if (!Contains(st.cc, p)) {
        st.cc.push_back(p);
        st.cc_at.push_back(e.at);
      }
  } else if (k == Kind::kUrged) {
    st.last_urge_ms = e.at.ms;
  } else if (k == Kind::kDeadlineReminded) {
    Token* tk = token();
    if (!tk) return Corrupt(e, "node not active");
    tk->reminders++;
    tk->deadline.reset();
  } else if (k == Kind::kAutoDecided) {
    // Followed by node_completed.
  } else if (k == Kind::kAgendaDistributed || k == Kind::kReceiptAcknowledged ||
             k == Kind::kAttended || k == Kind::kRecused || k == Kind::kMeetingOpened ||
             k == Kind::kOpinionStated || k == Kind::kVoted || k == Kind::kMeetingClosed) {
    Token* tk = token();
    if (!tk) return Corrupt(e, "meeting node not active");
    MeetingState& m = tk->meeting.Mutable();
    PersonId person(rec::Str(d, "person"));
    if (k == Kind::kAgendaDistributed) {
      m.distributed = true;
      m.distributed_at = e.at;
    } else if (k == Kind::kReceiptAcknowledged) {
      m.receipts.push_back(person);
    } else if (k == Kind::kAttended) {
      m.present.push_back(person);
    } else if (k == Kind::kRecused) {
      m.recused[person.value] = rec::Str(d, "reason");
    } else if (k == Kind::kMeetingOpened) {
      m.opened = true;
      m.opened_at = e.at;
    } else if (k == Kind::kOpinionStated) {
      m.opinions.emplace_back(person, rec::Str(d, "opinion"));
      st.acts.push_back(Act{person, e.actor, e.node, "opinion", e.version, e.at});
    } else if (k == Kind::kVoted) {
      m.votes.emplace_back(person, rec::Str(d, "option"));
      st.acts.push_back(Act{person, e.actor, e.node, "vote", e.version, e.at});
    } else {
      tk->results = d;
    }
  } else {
    return Corrupt(e, "unknown event type");
  }
  st.version = e.version;
  st.updated_at = e.at;
  return Ok();
}

Result<InstanceState> Fold(const std::vector<Event>& events) {
  InstanceState st;
  for (const Event& e : events)
    if (auto s = Apply(st, e); !s) return std::unexpected(s.error());
  return st;
}

}  // namespace approvald
