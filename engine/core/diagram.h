// Pictures of a workflow definition, so that reviewers check the flow they
// approve by looking at it: Graphviz DOT, Mermaid, and a structured
// description (nodes, edges, lanes, ranks) that the API serialises for the
// web UI, which lays it out itself.
//
// Parallel nodes are drawn as a fork, one lane per branch side by side, and
// a join; the structured description names the join node "<parallel>__join".
// Pure: text in, text out.
#ifndef APPROVALD_CORE_DIAGRAM_H_
#define APPROVALD_CORE_DIAGRAM_H_

#include <string>
#include <vector>

#include "approvald/workflow.h"

namespace approvald {

struct DiagramNode {
  std::string id;
  std::string kind;      // "approval", "task", "parallel", "join", "choice",
                         // "check", "meeting", "end"
  std::string title;     // Chinese (falls back to the id)
  std::string title_en;  // English (falls back to the id)
  // Short facts, one per line: "会签 (mode: all)", "assignees: head_of(...)",
  // "deadline: 48h → remind", "outcome: approved".
  std::vector<std::string> details;
  int lane = -1;  // index into Diagram::lanes; -1 = the main line
  int rank = 0;   // layer: 0 for start, growing along the flow
};

struct DiagramEdge {
  std::string from;
  std::string to;
  // "next", "reject", "branch" (fork -> lane), "join" (lane -> join),
  // "when", "else", "pass", "fail", "flag", "defer", "return" (退回 target)
  std::string kind;
  std::string label;  // guard text, branch name, "reject", ...
};
// The pseudo-node "__submit" stands for the submitter: `return` edges of
// return_to: [start] lead to it, and the UI draws it as the start marker
// pointing at Diagram::start. It is not in Diagram::nodes.

// One branch of a parallel node. Lanes of the same parallel share `parallel`
// and are drawn side by side in `column` order.
struct DiagramLane {
  std::string parallel;  // the parallel node's id
  std::string name;      // branch name
  int column = 0;        // position among the parallel's branches
  std::vector<std::string> nodes;
};

struct Diagram {
  std::string id;
  std::string title;
  std::string title_en;
  std::string start;
  std::vector<DiagramNode> nodes;  // in file order; join nodes after their fork
  std::vector<DiagramEdge> edges;
  std::vector<DiagramLane> lanes;
};

// The structured description. End nodes the loader added are included only
// when an edge leads to them. REQUIRES: `def` came from LoadWorkflow.
Diagram DescribeWorkflow(const WorkflowDef& def);

// A Graphviz digraph (render with `dot -Tsvg`): parallel nodes become a
// cluster with one sub-cluster per branch; rejections, failures and 退回
// targets are dashed.
std::string DiagramDot(const WorkflowDef& def);

// A Mermaid flowchart (top-down) with one subgraph per branch.
std::string DiagramMermaid(const WorkflowDef& def);

}  // namespace approvald

#endif  // APPROVALD_CORE_DIAGRAM_H_
