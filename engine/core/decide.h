// Decide(): the heart of the engine. Works out what a command does to an
// instance. Pure: no I/O, no clock reads, no logging. Returns the events to
// append (and the state after them), or an Error whose `reason` names the
// rule that refused (ErrorCode::kRejected), the missing permission
// (kPermissionDenied) or the malformed argument (kInvalidArgument).
#ifndef APPROVALD_CORE_DECIDE_H_
#define APPROVALD_CORE_DECIDE_H_

#include <string>
#include <vector>

#include "approvald/command.h"
#include "approvald/event.h"
#include "approvald/instance.h"
#include "approvald/org.h"
#include "approvald/status.h"
#include "approvald/workflow.h"
#include "core/calendar.h"
#include "core/checks.h"

namespace approvald {

// Stable reason codes of refusals. Clients and tests match on these.
namespace reason {
inline constexpr const char* kSelfApproval = "self_approval";
inline constexpr const char* kNotAssignee = "not_assignee";
inline constexpr const char* kWrongState = "wrong_state";
inline constexpr const char* kInstanceClosed = "instance_closed";
inline constexpr const char* kAlreadyActed = "already_acted";
inline constexpr const char* kSamePersonBothLines = "same_person_both_lines";
inline constexpr const char* kNotYourTurn = "not_your_turn";
inline constexpr const char* kCommentRequired = "comment_required";
inline constexpr const char* kNotSubmitter = "not_submitter";
inline constexpr const char* kNotAllowedToSubmit = "not_allowed_to_submit";
inline constexpr const char* kAlreadyProcessed = "already_processed";
inline constexpr const char* kInvalidReturnTarget = "invalid_return_target";
inline constexpr const char* kTakeBackNotAllowed = "take_back_not_allowed";
inline constexpr const char* kActionDisabled = "action_disabled";
inline constexpr const char* kNotProxy = "not_proxy";
inline constexpr const char* kNoEligibleAssignee = "no_eligible_assignee";
inline constexpr const char* kUrgeTooSoon = "urge_too_soon";
inline constexpr const char* kNotInvolved = "not_involved";
inline constexpr const char* kUnknownAction = "unknown_action";
inline constexpr const char* kInvalidForm = "invalid_form";
inline constexpr const char* kNotDelegate = "not_delegate";
// Meetings.
inline constexpr const char* kNotSecretary = "not_secretary";
inline constexpr const char* kNotMember = "not_member";
inline constexpr const char* kNotDistributed = "not_distributed";
inline constexpr const char* kReceiptsMissing = "receipts_missing";
inline constexpr const char* kDeliberationNotOver = "deliberation_not_over";
inline constexpr const char* kQuorumNotMet = "quorum_not_met";
inline constexpr const char* kMeetingNotOpen = "meeting_not_open";
inline constexpr const char* kMeetingAlreadyOpen = "meeting_already_open";
inline constexpr const char* kNotPresent = "not_present";
inline constexpr const char* kRecusedMember = "recused_member";
inline constexpr const char* kHeadMustSpeakLast = "head_must_speak_last";
inline constexpr const char* kHeadMustVoteLast = "head_must_vote_last";
inline constexpr const char* kAlreadySpoken = "already_spoken";
inline constexpr const char* kAlreadyVoted = "already_voted";
inline constexpr const char* kOpinionsIncomplete = "opinions_incomplete";
inline constexpr const char* kVotesIncomplete = "votes_incomplete";
inline constexpr const char* kInvalidVoteOption = "invalid_vote_option";
}  // namespace reason

// Everything Decide() reads besides the instance and the command. All
// pointers must outlive the call; `def` and `org` are required.
struct DecideContext {
  const WorkflowDef* def = nullptr;
  const Org* org = nullptr;
  // The time decided at. Decide reads it only through the Decider's
  // clock accessors (decide.cc), which note until when a trial's answer holds
  // (AvailableActions' valid_until).
  Timestamp now;
  const Calendar* calendar = nullptr;         // null: Monday–Friday, no holidays
  const CheckRegistry* checks = nullptr;      // null: CheckRegistry::Builtin()
  const CheckFacts* facts = nullptr;          // gathered by the service for checks
  // Set by a caller that has not gathered `facts` yet (most steps run no
  // check node): a step that would run a check fails with reason
  // kFactsNeeded instead, deciding nothing, and the caller decides again
  // with the facts.
  bool facts_deferred = false;
  const Value::Record* unit_config = nullptr; // catalogue, thresholds, standards
  int64_t urge_interval_ms = 30 * 60 * 1000;  // 催办 at most this often
};

// The reason Decide gives when a check would run under `facts_deferred`.
inline constexpr char kFactsNeeded[] = "facts_needed";

struct Decision {
  std::vector<Event> events;   // to append, versions state.version+1, ...
  InstanceState state;         // the state after them
};

// Decides `cmd` against `state` (an empty InstanceState for "submit").
Result<Decision> Decide(const DecideContext& ctx, const InstanceState& state,
                        const Command& cmd);
// The same, consuming `state` (no copy): for callers that fold, decide and
// keep only the result, as the service does.
Result<Decision> Decide(const DecideContext& ctx, InstanceState&& state,
                        const Command& cmd);

// An action a person may take now, for showing exactly the right buttons.
struct AvailableAction {
  std::string action;
  std::string node;
};
// The actions `person` (acting for themselves) may take on `state` now.
std::vector<AvailableAction> AvailableActions(const DecideContext& ctx,
                                              const InstanceState& state,
                                              const PersonId& person);
// No time: the answer does not change as time passes.
inline constexpr Timestamp kNever{INT64_MAX};
// The same, and *valid_until: the earliest time from which the answer may
// differ. Deciding with any ctx.now in [ctx.now, *valid_until) on the same
// state, organisation, definition and the rest of ctx gives the same answer,
// so a caller may keep it that long (an urge allowed again once the interval
// is over, a meeting that may open once the members had time to consider its
// topic). kNever if time cannot change it; ctx.now itself if the answer read
// the time in a way not tracked (an expression reading `now`, a check), so
// that it holds at that instant only. REQUIRES: valid_until != nullptr.
std::vector<AvailableAction> AvailableActions(const DecideContext& ctx,
                                              const InstanceState& state,
                                              const PersonId& person,
                                              Timestamp* valid_until);
// The same answer and *valid_until, for a caller that owns `*state` and
// lends it: the trials that would not change the state (for most people,
// all of them) decide on *state itself instead of on a copy. *state is left
// exactly as it was. REQUIRES: state != nullptr, valid_until != nullptr;
// nothing else reads or changes *state during the call.
std::vector<AvailableAction> AvailableActionsInPlace(const DecideContext& ctx,
                                                     InstanceState* state,
                                                     const PersonId& person,
                                                     Timestamp* valid_until);
// The same answer, computed the plain way (every trial on its own copy of
// `state`): the oracle AvailableActions is tested against.
std::vector<AvailableAction> AvailableActionsReference(const DecideContext& ctx,
                                                       const InstanceState& state,
                                                       const PersonId& person);

// The people who must act now (pending signers, delegates, meeting members
// who still have something to do, the secretary), by node. For task lists.
std::vector<std::pair<std::string, PersonId>> PendingPeople(
    const WorkflowDef& def, const InstanceState& state);
// The same people, in the same order, referred to rather than copied: the
// pointers are into `state` and hold while it is neither changed nor destroyed.
struct PendingRef {
  const std::string* node;
  const PersonId* person;
};
std::vector<PendingRef> PendingPeopleRefs(const WorkflowDef& def, const InstanceState& state);
// Whether (node, person) is one of PendingPeople(def, state), without listing them.
bool IsPending(const WorkflowDef& def, const InstanceState& state, const std::string& node,
               const PersonId& person);

}  // namespace approvald

#endif  // APPROVALD_CORE_DECIDE_H_
