// A command: what a person (or the system) asks the engine to do to one
// instance. The api layer builds it from a request; core/decide.h decides it.
#ifndef APPROVALD_COMMAND_H_
#define APPROVALD_COMMAND_H_

#include <string>

#include "approvald/types.h"
#include "approvald/value.h"

namespace approvald {

// Action names (the `action` of a Command), as clients send them.
namespace action {
inline constexpr const char* kSubmit = "submit";
inline constexpr const char* kResubmit = "resubmit";       // after 退回 to the submitter
inline constexpr const char* kApprove = "approve";
inline constexpr const char* kReject = "reject";
inline constexpr const char* kComplete = "complete";       // task nodes
inline constexpr const char* kReturn = "return";           // 退回 {to: node | "start"}
inline constexpr const char* kWithdraw = "withdraw";       // 撤回
inline constexpr const char* kCancel = "cancel";           // submitter ends a returned request
inline constexpr const char* kTakeBack = "take_back";      // 拿回
inline constexpr const char* kTransfer = "transfer";       // 转办 {to}
inline constexpr const char* kDelegate = "delegate";       // 委派 {to}
inline constexpr const char* kResolve = "resolve";         // the delegate hands back
inline constexpr const char* kAddSigner = "add_signer";    // 加签 {person, how}
inline constexpr const char* kRemoveSigner = "remove_signer";  // 减签 {person}
inline constexpr const char* kCc = "cc";                   // 抄送 {people}
inline constexpr const char* kUrge = "urge";               // 催办
inline constexpr const char* kComment = "comment";
// Meetings (三重一大).
inline constexpr const char* kDistribute = "distribute";
inline constexpr const char* kAcknowledge = "acknowledge";  // read receipt
inline constexpr const char* kAttend = "attend";
inline constexpr const char* kOpen = "open";
inline constexpr const char* kRecuse = "recuse";            // {reason}
inline constexpr const char* kOpinion = "opinion";          // comment = the opinion
inline constexpr const char* kVote = "vote";                // {option}
inline constexpr const char* kClose = "close";
// System.
inline constexpr const char* kTick = "tick";                // deadlines due at `now`
}  // namespace action

struct Command {
  std::string action;
  PersonId actor;            // who is acting (logged in); SystemActor() for ticks
  PersonId on_behalf_of;     // the principal when acting as proxy; else empty
  std::string node;          // the node acted on; may be empty when unambiguous
  std::string comment;
  FormData data;             // submit / resubmit: the form; complete: task fields
  Value::Record args;        // action arguments: to, person, people, how, option, reason
};

}  // namespace approvald

#endif  // APPROVALD_COMMAND_H_
