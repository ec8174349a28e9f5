// Loads one workflow definition (a file in workflows/) from YAML text into a
// validated WorkflowDef. workflows/README.md documents the format key by key.
//
// The caller reads the file and hands in its text; the loader never touches
// the file system. It collects every problem it finds, not only the first,
// each as `file:line:column: what is wrong — how to fix`. Pure, never throws.
#ifndef APPROVALD_CORE_WORKFLOW_LOADER_H_
#define APPROVALD_CORE_WORKFLOW_LOADER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "approvald/org.h"
#include "approvald/workflow.h"
#include "core/checks.h"
#include "core/load_error.h"

namespace approvald {

struct WorkflowLoad {
  // Set only when `errors` is empty. `version` is 0 and `hash` empty: the
  // caller sets the hash and the registry assigns the version.
  std::optional<WorkflowDef> def;
  std::vector<LoadError> errors;  // sorted by position
};

// Parses and validates `yaml_text`. `file_name` appears in error locations
// and in WorkflowDef::source_file. Expressions are compiled against the form
// and `org` (so literal ids the organisation lacks are refused); check nodes
// must name a check in `checks`. Both references must outlive the call only.
//
// What it refuses: malformed YAML; unknown keys at every level (with the
// closest known key); keys that do not apply to a node's kind; missing
// required keys; unknown kinds, modes, join modes, deadline actions, field
// types and outcomes; duplicate node ids, field names, enum options and
// branch names; references to unknown nodes (start, next, on_reject, when
// arms, branches, on_pass/on_fail/on_flag/on_defer, return_to, distinct_from)
// and jumps into a parallel branch from outside it; expression errors (at the
// exact column inside the YAML scalar); guards that are not bool; assignee,
// member, head, secretary, deadline-target and submitter expressions that are
// not person or list<person>; unknown checks; bad durations, ratios and money
// bounds; branch nodes that are not approval/task/check or that declare their
// own successors; unreachable nodes; nodes with no path to an end node; a
// workflow without an end node of outcome `approved`; return_to targets that
// are not earlier than the node; task_fields that are not declared (or are
// required at submission).
//
// What it adds: end nodes `rejected`, `withdrawn` and `cancelled` (outcomes
// of the same names) when the file does not declare them; the defaults
// documented in workflows/README.md (on_reject and on_fail go to `rejected`,
// a check's on_flag to its on_pass, ...).
WorkflowLoad LoadWorkflow(std::string_view yaml_text, std::string_view file_name,
                          const Org& org, const CheckRegistry& checks);

// The YAML spellings of the enums: "approval", "sequence", "all", "escalate"
// (deadline actions kAutoApprove/kAutoReject are "approve"/"reject").
std::string_view NodeKindName(NodeKind k);
std::string_view ApprovalModeName(ApprovalMode m);
std::string_view JoinModeName(JoinMode j);
std::string_view DeadlineActionName(DeadlineAction a);

// A duration as written in a file: either clock time or working days.
struct Duration {
  int64_t after_ms = 0;
  int working_days = 0;
};
// Parses "30m", "48h", "2d" (clock time, more than zero, at most 366 days)
// and "1 working day" / "2 working days" (1 to 250). nullopt otherwise.
std::optional<Duration> ParseDuration(std::string_view text);
// The inverse of ParseDuration: "2 working days", "48h", "3d", "30m" (whole
// days from 3 days on, else hours, else minutes).
std::string FormatDuration(int64_t after_ms, int working_days);

// Parses "N/M" (spaces allowed around '/') with 1 <= N <= M <= 1000.
std::optional<Ratio> ParseRatio(std::string_view text, bool strict);
// "> 1/2" (strict: more than) or ">= 2/3" (at least).
std::string FormatRatio(const Ratio& r);

// The reserved return_to target that sends an instance back to its submitter
// (退回发起人), who may then resubmit or cancel it.
inline constexpr const char* kReturnToSubmitter = "start";

}  // namespace approvald

#endif  // APPROVALD_CORE_WORKFLOW_LOADER_H_
