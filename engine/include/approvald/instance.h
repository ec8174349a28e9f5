// The state of one running (or finished) instance: a fold of its events
// (core/fold.h). Every field here can be rebuilt from the events alone; no
// organisation lookup or expression evaluation happens while folding.
#ifndef APPROVALD_INSTANCE_H_
#define APPROVALD_INSTANCE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "approvald/copy_on_write.h"
#include "approvald/types.h"
#include "approvald/value.h"

namespace approvald {

enum class InstanceStatus { kDraft, kRunning, kApproved, kRejected, kWithdrawn, kCancelled };
std::string_view InstanceStatusName(InstanceStatus s);  // "running", "approved", ...

enum class SignerState {
  kWaiting,      // in the set but not yet their turn (sequence, 加签 before)
  kPending,      // must act now
  kApproved,     // approved / completed the task / voted approve
  kRejected,     // rejected / voted reject
  kDelegated,    // handed to `delegate` (委派); comes back when resolved
  kTransferred,  // replaced by another signer (转办)
  kRemoved,      // removed (减签) or no longer needed (或签 decided)
};
std::string_view SignerStateName(SignerState s);

// One person's place in a waiting node.
struct Signer {
  PersonId person;
  SignerState state = SignerState::kPending;
  PersonId added_by;        // 加签: who added this signer; empty for original ones
  std::string added_how;    // "before" | "after" | "parallel" | "escalation" | ""
  PersonId delegate;        // 委派: who is asked to handle it
  PersonId acted_by;        // who actually acted (a proxy), if not `person`
  std::string comment;
  int64_t acted_version = 0;  // event version of the decision, 0 if none
};

// The record of a 三重一大 meeting on one topic (一事一议).
struct MeetingState {
  std::vector<PersonId> members;      // entitled to attend, in organisation order
  PersonId head;                      // speaks and votes last
  std::vector<PersonId> secretaries;  // the office: distributes, opens, closes
  bool distributed = false;
  Timestamp distributed_at;
  std::vector<PersonId> receipts;     // read receipts, in order received
  std::vector<PersonId> present;      // checked in, in order
  std::map<std::string, std::string> recused;   // person -> reason
  bool opened = false;
  Timestamp opened_at;
  std::vector<std::pair<PersonId, std::string>> opinions;  // speaking order
  std::vector<std::pair<PersonId, std::string>> votes;     // person -> option, in order

  bool IsMember(const PersonId& p) const;
  bool IsPresent(const PersonId& p) const;
  bool IsRecused(const PersonId& p) const { return recused.count(p.value) > 0; }
  bool HasSpoken(const PersonId& p) const;
  bool HasVoted(const PersonId& p) const;
};

// A node the instance is waiting in.
struct Token {
  std::string node;
  Timestamp entered_at;
  std::vector<Signer> signers;            // approval / task nodes
  std::optional<Timestamp> deadline;      // next deadline action
  int reminders = 0;
  std::string parallel;                   // enclosing parallel node, "" at top level
  int branch = -1;                        // branch index inside `parallel`
  int step = -1;                          // position inside the branch
  // Meeting nodes only (other nodes leave it empty, holding nothing). Shared
  // by the copies of the token until one of them changes it.
  CopyOnWrite<MeetingState> meeting;
  Value::Record results;                  // meeting result
  int64_t entered_version = 0;            // version of its node_entered event

  const Signer* FindSigner(const PersonId& p) const;
  Signer* FindSigner(const PersonId& p);
};

struct ParallelState {
  std::vector<bool> done;   // per branch
  int64_t entered_version = 0;
};

// A decision someone took (approve, reject, complete, vote, opinion), used for
// separation of duties and 拿回 (take back).
struct Act {
  PersonId person;          // whose decision it is (the principal)
  PersonId actor;           // who pressed the button (a proxy or the same)
  std::string node;
  std::string action;
  int64_t version = 0;
  Timestamp at;             // when it was taken (the event's time)
};

// The last node that completed by a person's decision, for 拿回: the person
// may take it back while nobody acted on a node entered after it.
// Whatever was entered after `version` is what the completion led to.
struct LastCompletion {
  std::string node;
  PersonId person;
  int64_t version = 0;      // version of the completing event
  // The node as it was when it completed. Never changed afterwards: copies
  // of the state (Decide's, the trials of AvailableActions, the cached
  // versions) share it.
  CopyOnWrite<Token> token;
};

// Field by field (engine/core/fold.cc); declared before InstanceState, whose
// defaulted comparison uses them.
bool operator==(const Signer&, const Signer&);
bool operator==(const MeetingState&, const MeetingState&);
bool operator==(const Token&, const Token&);
bool operator==(const ParallelState&, const ParallelState&);
bool operator==(const Act&, const Act&);
bool operator==(const LastCompletion&, const LastCompletion&);

struct InstanceState {
  InstanceId id;
  std::string workflow;
  int def_version = 0;
  std::string def_hash;
  int64_t version = 0;                    // number of events folded
  InstanceStatus status = InstanceStatus::kDraft;
  std::string end_node;                   // terminal node reached, if any
  PersonId submitter;                     // whose request it is
  PersonId submitted_by;                  // who pressed submit (a proxy), if different
  Timestamp created_at;
  Timestamp updated_at;
  // Set by submission and resubmission, changed only by field updates:
  // copies of the state share it until one of them changes it.
  CopyOnWrite<FormData> form;
  std::map<std::string, Token> active;    // waiting nodes by id
  std::map<std::string, ParallelState> parallels;
  std::vector<std::string> completed;     // node ids in completion order
  std::vector<Act> acts;
  std::vector<PersonId> cc;
  std::vector<Timestamp> cc_at;           // when each of `cc` was copied, same order
  std::optional<LastCompletion> last_completion;
  int64_t last_urge_ms = 0;               // for rate-limiting 催办
  bool touched = false;                   // someone other than the submitter decided something

  bool terminal() const {
    return status != InstanceStatus::kRunning && status != InstanceStatus::kDraft;
  }
  bool operator==(const InstanceState&) const = default;
};

}  // namespace approvald

#endif  // APPROVALD_INSTANCE_H_
