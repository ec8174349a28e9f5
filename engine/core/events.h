// Event type names and the attributes each carries. Every state change is
// one of these; core/fold.cc applies them and core/decide.cc emits them.
// Renaming one breaks stored histories and audit proofs: add, never change.
#ifndef APPROVALD_CORE_EVENTS_H_
#define APPROVALD_CORE_EVENTS_H_

namespace approvald::ev {

// Instance level.
inline constexpr const char* kSubmitted = "submitted";      // workflow, def_version, def_hash, form
inline constexpr const char* kResubmitted = "resubmitted";  // form
inline constexpr const char* kWithdrawn = "withdrawn";
inline constexpr const char* kCompleted = "completed";      // node = end node; outcome
// Nodes.
inline constexpr const char* kNodeEntered = "node_entered";  // signers[{person,state,how}], parallel, branch, step, deadline, meeting{}, branches
inline constexpr const char* kNodeCompleted = "node_completed";  // result, person
inline constexpr const char* kNodeCancelled = "node_cancelled";  // reason
inline constexpr const char* kNodeSkipped = "node_skipped";      // reason
inline constexpr const char* kBranchCompleted = "branch_completed";  // branch
inline constexpr const char* kBranchReopened = "branch_reopened";    // branch
inline constexpr const char* kRouted = "routed";                     // to
inline constexpr const char* kCheckCompleted = "check_completed";    // check, verdict, reasons, details
// People acting on approval/task nodes.
inline constexpr const char* kSigned = "signed";            // person, decision, set[], fields
inline constexpr const char* kReturned = "returned";        // to
inline constexpr const char* kTakenBack = "taken_back";     // person
inline constexpr const char* kTransferred = "transferred";  // from, to, index
inline constexpr const char* kDelegated = "delegated";      // person, to
inline constexpr const char* kDelegateResolved = "delegate_resolved";  // person, by
inline constexpr const char* kSignerAdded = "signer_added";      // person, by, how, index, state, set[]
inline constexpr const char* kSignerRemoved = "signer_removed";  // person, set[]
inline constexpr const char* kCcAdded = "cc_added";              // people
inline constexpr const char* kUrged = "urged";                   // people
inline constexpr const char* kCommented = "commented";
// Deadlines.
inline constexpr const char* kDeadlineReminded = "deadline_reminded";  // people
inline constexpr const char* kEscalated = "escalated";                 // people
inline constexpr const char* kAutoDecided = "auto_decided";            // decision
// Meetings.
inline constexpr const char* kAgendaDistributed = "agenda_distributed";
inline constexpr const char* kReceiptAcknowledged = "receipt_acknowledged";  // person
inline constexpr const char* kAttended = "attended";          // person
inline constexpr const char* kRecused = "recused";            // person, reason
inline constexpr const char* kMeetingOpened = "meeting_opened";   // present, required
inline constexpr const char* kOpinionStated = "opinion_stated";   // person, opinion
inline constexpr const char* kVoted = "voted";                    // person, option
inline constexpr const char* kMeetingClosed = "meeting_closed";   // tally{}, entitled, result

}  // namespace approvald::ev

#endif  // APPROVALD_CORE_EVENTS_H_
