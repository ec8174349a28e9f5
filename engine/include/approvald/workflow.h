// A workflow definition: the validated, in-memory form of one file in
// workflows/. Produced by core/workflow_loader from YAML text; read-only
// afterwards. workflows/README.md documents every YAML key named below.
#ifndef APPROVALD_WORKFLOW_H_
#define APPROVALD_WORKFLOW_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "approvald/value.h"

namespace approvald {

namespace expr { struct Expr; }
// A compiled expression together with its source text.
using ExprPtr = std::shared_ptr<const expr::Expr>;

// Where a definition element came from, for error messages.
struct SourceLoc {
  std::string file;
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based

  bool operator==(const SourceLoc&) const = default;
};

// A ratio num/den, e.g. 1/2 or 2/3. `strict` means "more than" (超过半数),
// otherwise "at least" (三分之二以上 counts 2/3 itself).
struct Ratio {
  int64_t num = 1;
  int64_t den = 2;
  bool strict = true;
  // True if `count` out of `total` satisfies the ratio (integer arithmetic).
  bool Satisfied(int64_t count, int64_t total) const {
    if (total <= 0) return false;
    return strict ? count * den > num * total : count * den >= num * total;
  }
};

enum class NodeKind {
  kApproval,  // people approve or reject (mode decides how many)     kind: approval
  kTask,      // one of the assignees completes a piece of work       kind: task
  kParallel,  // several lines run at once and join                   kind: parallel
  kChoice,    // exclusive choice on guards, taken automatically      kind: choice
  kCheck,     // automatic built-in check: pass / fail / flag         kind: check
  kMeeting,   // collective decision (三重一大)                          kind: meeting
  kEnd,       // terminal state                                       kind: end
};

enum class ApprovalMode {
  kSingle,    // one approver (the expression must yield exactly one)  mode: single
  kAll,       // 会签: every assignee must approve                       mode: all
  kAny,       // 或签: the first approval decides                        mode: any
  kSequence,  // 依次: assignees one after another, in order             mode: sequence
  kVote,      // 票签: passes when approvals reach `pass` of assignees   mode: vote
};

enum class JoinMode { kAll, kAny };

// Terminal outcomes. An instance ends in exactly one.
enum class Outcome { kApproved, kRejected, kWithdrawn, kCancelled };
std::string_view OutcomeName(Outcome o);  // "approved", ...

// What happens when a waiting node's deadline passes.
enum class DeadlineAction {
  kRemind,       // notify the assignees again (urge)              action: remind
  kEscalate,     // add `to` as assignees (keeps the original)     action: escalate
  kAutoApprove,  // the node approves itself, recorded as system   action: approve
  kAutoReject,   // the node rejects itself                         action: reject
  kTransfer,     // pending assignees are replaced by `to`          action: transfer
};

struct DeadlineDef {
  int64_t after_ms = 0;        // after: "48h" | "2d" | "30m"
  int working_days = 0;        // after: "2 working days" (uses the calendar)
  DeadlineAction action = DeadlineAction::kRemind;
  ExprPtr to;                  // escalate / transfer target (person or list)
  SourceLoc loc;
};

struct Branch {
  std::string name;                 // "business", "finance"
  std::vector<std::string> nodes;   // node ids, run in order
};

struct ChoiceArm {
  ExprPtr when;      // null for the `else` arm
  std::string to;
  SourceLoc loc;
};

// A quorum rule; the first whose `when` holds (or has no `when`) applies.
struct QuorumRule {
  ExprPtr when;
  Ratio ratio;
};

struct MeetingDef {
  ExprPtr members;             // who is entitled to attend (list<person>)
  ExprPtr head;                // the head of unit: speaks and votes last
  ExprPtr secretary;           // who runs the meeting (the office): distributes, opens, closes
  std::vector<QuorumRule> quorum;   // of members entitled to attend
  Ratio pass;                  // approvals over members entitled to attend (minus recused)
  int deliberation_working_days = 0;  // 酝酿: from distribution to opening
  int64_t deliberation_ms = 0;        // alternative, in clock time
  bool read_receipts_required = true;  // every member acknowledges before opening
  bool recused_count_for_quorum = false;
  std::vector<std::string> vote_options = {"agree", "disagree", "defer"};
  std::string on_pass;     // node id
  std::string on_fail;     // node id
  std::string on_defer;    // node id (缓议); empty = back to the meeting's start
};

// One node of the graph. Which fields apply depends on `kind`.
struct NodeDef {
  std::string id;
  std::string title;       // Chinese
  std::string title_en;
  NodeKind kind = NodeKind::kApproval;
  SourceLoc loc;

  // kApproval, kTask: who acts.
  ExprPtr assignees;
  ApprovalMode mode = ApprovalMode::kSingle;
  Ratio pass;                  // kVote
  bool veto = false;           // kVote: one rejection rejects
  bool allow_repeat_actor = false;  // lift "one person acts once per instance" for this node
  std::vector<std::string> distinct_from;  // actors here must differ from actors of these nodes
  bool comment_required = false;    // approve/reject/return must carry a comment
  std::vector<std::string> return_to;  // allowed 退回 targets; empty = any earlier node
  bool allow_transfer = true;
  bool allow_delegate = true;
  bool allow_add_signer = true;
  std::vector<std::string> task_fields;  // kTask: form fields the completer fills

  // Successors.
  std::string next;            // approval/task/parallel: after success
  std::string on_reject;       // approval: after rejection (default: end `rejected`)

  // kParallel
  std::vector<Branch> branches;
  JoinMode join = JoinMode::kAll;

  // kChoice
  std::vector<ChoiceArm> arms;

  // kCheck
  std::string check;                  // registry name
  std::map<std::string, Value> params;
  std::string on_pass, on_fail, on_flag;

  // kMeeting
  MeetingDef meeting;

  // kEnd
  Outcome outcome = Outcome::kApproved;

  std::optional<DeadlineDef> deadline;
};

struct WorkflowDef {
  std::string id;            // "expense"
  std::string title;         // "费用报销"
  std::string title_en;      // "Expense reimbursement"
  int version = 0;           // assigned by the registry: 1, 2, ... per content hash
  std::string hash;          // "sha256:..." of the source text; set by the caller
  std::string source_file;
  ExprPtr submitters;        // who may submit; null = anyone in the organisation
  std::vector<FieldDef> form;
  std::string start;         // first node after submission
  std::vector<NodeDef> nodes;
  std::map<std::string, size_t> node_index;  // id -> position in `nodes`

  const NodeDef* FindNode(const std::string& id) const {
    auto it = node_index.find(id);
    return it == node_index.end() ? nullptr : &nodes[it->second];
  }
  const FieldDef* FindField(const std::string& name) const {
    for (const auto& f : form) if (f.name == name) return &f;
    return nullptr;
  }
};

}  // namespace approvald

#endif  // APPROVALD_WORKFLOW_H_
