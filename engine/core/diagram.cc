#include "core/diagram.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "core/expr.h"
#include "core/workflow_loader.h"

namespace approvald {

namespace {

constexpr const char* kJoinSuffix = "__join";

std::string Source(const ExprPtr& e) { return e ? e->source : std::string(); }

std::string ModeLabel(const NodeDef& n) {
  switch (n.mode) {
    case ApprovalMode::kSingle:
      return "单人审批 (mode: single)";
    case ApprovalMode::kAll:
      return "会签 (mode: all)";
    case ApprovalMode::kAny:
      return "或签 (mode: any)";
    case ApprovalMode::kSequence:
      return "依次审批 (mode: sequence)";
    case ApprovalMode::kVote:
      return "票签 (mode: vote, pass " + FormatRatio(n.pass) + (n.veto ? ", veto" : "") +
             ")";
  }
  return "";
}

std::string DeadlineLabel(const DeadlineDef& d) {
  std::string s = "deadline: " + FormatDuration(d.after_ms, d.working_days) + " → " +
                  std::string(DeadlineActionName(d.action));
  if (d.to) s += " " + Source(d.to);
  return s;
}

std::vector<std::string> Details(const NodeDef& n) {
  std::vector<std::string> out;
  switch (n.kind) {
    case NodeKind::kApproval:
      out.push_back(ModeLabel(n));
      out.push_back("assignees: " + Source(n.assignees));
      break;
    case NodeKind::kTask: {
      out.push_back("assignees: " + Source(n.assignees));
      if (!n.task_fields.empty()) {
        std::string f;
        for (const auto& name : n.task_fields) f += (f.empty() ? "" : ", ") + name;
        out.push_back("fields: " + f);
      }
      break;
    }
    case NodeKind::kParallel:
      out.push_back("join: " + std::string(JoinModeName(n.join)));
      break;
    case NodeKind::kChoice:
      break;
    case NodeKind::kCheck:
      out.push_back("check: " + n.check);
      break;
    case NodeKind::kMeeting: {
      const MeetingDef& m = n.meeting;
      out.push_back("members: " + Source(m.members));
      out.push_back("head (speaks last): " + Source(m.head));
      for (const QuorumRule& q : m.quorum) {
        out.push_back("quorum: " + FormatRatio(q.ratio) +
                      (q.when ? " if " + Source(q.when) : std::string()));
      }
      out.push_back("pass: " + FormatRatio(m.pass));
      if (m.deliberation_working_days > 0 || m.deliberation_ms > 0) {
        out.push_back("deliberation: " +
                      FormatDuration(m.deliberation_ms, m.deliberation_working_days));
      }
      break;
    }
    case NodeKind::kEnd:
      out.push_back("outcome: " + std::string(OutcomeName(n.outcome)));
      break;
  }
  if (n.deadline) out.push_back(DeadlineLabel(*n.deadline));
  return out;
}

struct Placement {
  std::string parallel;
  size_t branch = 0;
  size_t step = 0;
};

}  // namespace

Diagram DescribeWorkflow(const WorkflowDef& def) {
  Diagram d;
  d.id = def.id;
  d.title = def.title;
  d.title_en = def.title_en;
  d.start = def.start;

  std::map<std::string, Placement> placement;
  std::map<std::string, int> lane_of;
  for (const NodeDef& n : def.nodes) {
    if (n.kind != NodeKind::kParallel) continue;
    for (size_t b = 0; b < n.branches.size(); ++b) {
      DiagramLane lane{n.id, n.branches[b].name, static_cast<int>(b),
                       n.branches[b].nodes};
      for (size_t s = 0; s < n.branches[b].nodes.size(); ++s) {
        placement[n.branches[b].nodes[s]] = Placement{n.id, b, s};
        lane_of[n.branches[b].nodes[s]] = static_cast<int>(d.lanes.size());
      }
      d.lanes.push_back(std::move(lane));
    }
  }

  auto edge = [&](const std::string& from, const std::string& to, const std::string& kind,
                  const std::string& label) {
    if (to.empty()) return;
    d.edges.push_back(DiagramEdge{from, to, kind, label});
  };
  for (const NodeDef& n : def.nodes) {
    auto pl = placement.find(n.id);
    if (pl != placement.end()) {
      const NodeDef* par = def.FindNode(pl->second.parallel);
      const auto& nodes = par->branches[pl->second.branch].nodes;
      if (pl->second.step + 1 < nodes.size()) {
        edge(n.id, nodes[pl->second.step + 1], "next", "");
      } else {
        edge(n.id, par->id + kJoinSuffix, "join", "");
      }
    } else {
      switch (n.kind) {
        case NodeKind::kApproval:
          edge(n.id, n.next, "next", "");
          edge(n.id, n.on_reject, "reject", "reject");
          break;
        case NodeKind::kTask:
          edge(n.id, n.next, "next", "");
          break;
        case NodeKind::kParallel:
          for (const Branch& b : n.branches) {
            if (!b.nodes.empty()) edge(n.id, b.nodes.front(), "branch", b.name);
          }
          edge(n.id + kJoinSuffix, n.next, "next",
               "join: " + std::string(JoinModeName(n.join)));
          edge(n.id + kJoinSuffix, n.on_reject, "reject", "line rejected");
          break;
        case NodeKind::kChoice:
          for (const ChoiceArm& a : n.arms) {
            if (a.when) {
              edge(n.id, a.to, "when", Source(a.when));
            } else {
              edge(n.id, a.to, "else", "else");
            }
          }
          break;
        case NodeKind::kCheck:
          edge(n.id, n.on_pass, "pass", "pass");
          edge(n.id, n.on_flag, "flag", "flag");
          edge(n.id, n.on_fail, "fail", "fail");
          break;
        case NodeKind::kMeeting:
          edge(n.id, n.meeting.on_pass, "pass", "pass");
          edge(n.id, n.meeting.on_fail, "fail", "fail");
          edge(n.id, n.meeting.on_defer.empty() ? n.id : n.meeting.on_defer, "defer",
               "defer (缓议)");
          break;
        case NodeKind::kEnd:
          break;
      }
    }
    for (const std::string& target : n.return_to) {
      edge(n.id, target == kReturnToSubmitter ? std::string("__submit") : target,
           "return", "退回");
    }
  }

  // Nodes: file order, each fork followed by its join; added end nodes only
  // when something leads to them.
  std::set<std::string> targets;
  for (const DiagramEdge& e : d.edges) targets.insert(e.to);
  for (const NodeDef& n : def.nodes) {
    const bool implicit = n.kind == NodeKind::kEnd && n.loc.line == 0;
    if (implicit && !targets.count(n.id)) continue;
    DiagramNode dn;
    dn.id = n.id;
    dn.kind = std::string(NodeKindName(n.kind));
    dn.title = n.title.empty() ? n.id : n.title;
    dn.title_en = n.title_en.empty() ? n.id : n.title_en;
    dn.details = Details(n);
    auto lane = lane_of.find(n.id);
    dn.lane = lane == lane_of.end() ? -1 : lane->second;
    d.nodes.push_back(std::move(dn));
    if (n.kind == NodeKind::kParallel) {
      DiagramNode join;
      join.id = n.id + kJoinSuffix;
      join.kind = "join";
      join.title = "汇合";
      join.title_en = "Join";
      join.details = {"join: " + std::string(JoinModeName(n.join))};
      d.nodes.push_back(std::move(join));
    }
  }

  // Ranks: longest path from start over forward edges. Back edges (found by
  // a depth-first walk) and 退回/缓议 edges do not count.
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < d.nodes.size(); ++i) index[d.nodes[i].id] = i;
  std::vector<std::vector<size_t>> succ(d.nodes.size());
  for (const DiagramEdge& e : d.edges) {
    if (e.kind == "return" || e.kind == "defer") continue;
    auto a = index.find(e.from), b = index.find(e.to);
    if (a == index.end() || b == index.end()) continue;
    succ[a->second].push_back(b->second);
  }
  std::vector<int> state(d.nodes.size(), 0);  // 0 new, 1 on stack, 2 done
  std::vector<size_t> order;                  // reverse post-order
  std::vector<std::vector<size_t>> forward(d.nodes.size());
  std::function<void(size_t)> visit = [&](size_t u) {
    state[u] = 1;
    for (size_t v : succ[u]) {
      if (state[v] == 1) continue;  // back edge
      forward[u].push_back(v);
      if (state[v] == 0) visit(v);
    }
    state[u] = 2;
    order.push_back(u);
  };
  if (auto s = index.find(def.start); s != index.end()) visit(s->second);
  for (size_t i = 0; i < d.nodes.size(); ++i) {
    if (state[i] == 0) visit(i);
  }
  std::reverse(order.begin(), order.end());
  std::vector<int> rank(d.nodes.size(), 0);
  for (size_t u : order) {
    for (size_t v : forward[u]) rank[v] = std::max(rank[v], rank[u] + 1);
  }
  for (size_t i = 0; i < d.nodes.size(); ++i) d.nodes[i].rank = rank[i];
  return d;
}

namespace {

std::string DotEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string Label(const DiagramNode& n, const std::string& newline) {
  std::string s = n.title;
  if (n.title_en != n.title) s += newline + n.title_en;
  for (const std::string& line : n.details) s += newline + line;
  return s;
}

std::string DotShape(const DiagramNode& n) {
  if (n.kind == "approval") return "shape=box, style=rounded";
  if (n.kind == "task") return "shape=box";
  if (n.kind == "parallel") return "shape=trapezium";
  if (n.kind == "join") return "shape=invtrapezium";
  if (n.kind == "choice") return "shape=diamond";
  if (n.kind == "check") return "shape=hexagon";
  if (n.kind == "meeting") return "shape=tab";
  return "shape=doublecircle";
}

std::string DotEdgeStyle(const DiagramEdge& e) {
  if (e.kind == "return") return ", style=dotted, color=gray40, constraint=false";
  if (e.kind == "reject" || e.kind == "fail") return ", style=dashed";
  if (e.kind == "defer") return ", style=dashed, constraint=false";
  return "";
}

}  // namespace

std::string DiagramDot(const WorkflowDef& def) {
  const Diagram d = DescribeWorkflow(def);
  std::string out;
  out += "digraph \"" + DotEscape(d.id) + "\" {\n";
  out += "  label=\"" + DotEscape(d.title + " · " + d.title_en) + "\";\n";
  out += "  labelloc=t;\n  rankdir=TB;\n  fontname=\"sans-serif\";\n";
  out += "  node [fontname=\"sans-serif\", fontsize=11];\n";
  out += "  edge [fontname=\"sans-serif\", fontsize=10];\n";
  out += "  \"__submit\" [shape=circle, label=\"提交\\nsubmit\"];\n";
  out += "  \"__submit\" -> \"" + DotEscape(d.start) + "\";\n";

  auto node_line = [&](const DiagramNode& n, const std::string& indent) {
    return indent + "\"" + DotEscape(n.id) + "\" [" + DotShape(n) + ", label=\"" +
           DotEscape(Label(n, "\n")) + "\"];\n";
  };
  std::map<std::string, const DiagramNode*> by_id;
  for (const DiagramNode& n : d.nodes) by_id[n.id] = &n;
  std::set<std::string> in_cluster;
  for (const DiagramNode& n : d.nodes) {
    if (n.kind != "parallel") continue;
    out += "  subgraph \"cluster_" + DotEscape(n.id) + "\" {\n";
    out += "    label=\"" + DotEscape(n.title) + "\";\n    style=dashed;\n";
    out += node_line(n, "    ");
    in_cluster.insert(n.id);
    for (const DiagramLane& lane : d.lanes) {
      if (lane.parallel != n.id) continue;
      out += "    subgraph \"cluster_" + DotEscape(n.id + "_" + lane.name) + "\" {\n";
      out += "      label=\"" + DotEscape(lane.name) + "\";\n";
      for (const std::string& id : lane.nodes) {
        auto it = by_id.find(id);
        if (it == by_id.end()) continue;
        out += node_line(*it->second, "      ");
        in_cluster.insert(id);
      }
      out += "    }\n";
    }
    if (auto j = by_id.find(n.id + kJoinSuffix); j != by_id.end()) {
      out += node_line(*j->second, "    ");
      in_cluster.insert(j->first);
    }
    out += "  }\n";
  }
  for (const DiagramNode& n : d.nodes) {
    if (!in_cluster.count(n.id)) out += node_line(n, "  ");
  }
  for (const DiagramEdge& e : d.edges) {
    out += "  \"" + DotEscape(e.from) + "\" -> \"" + DotEscape(e.to) + "\"";
    std::string attrs;
    if (!e.label.empty()) attrs += "label=\"" + DotEscape(e.label) + "\"";
    std::string style = DotEdgeStyle(e);
    if (attrs.empty() && !style.empty()) style = style.substr(2);
    attrs += style;
    if (!attrs.empty()) out += " [" + attrs + "]";
    out += ";\n";
  }
  out += "}\n";
  return out;
}

namespace {

// Mermaid ids: prefixed so that a node called "end" (a Mermaid keyword)
// cannot break the chart.
std::string MermaidId(const std::string& id) { return "n_" + id; }

std::string MermaidText(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"':
        out += "#quot;";
        break;
      case '<':
        out += "#lt;";
        break;
      case '>':
        out += "#gt;";
        break;
      case '|':
        out += "#124;";
        break;
      case '#':
        out += "#35;";
        break;
      case '\n':
        out += "<br/>";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string MermaidNode(const DiagramNode& n) {
  std::string text = "\"" + MermaidText(Label(n, "\n")) + "\"";
  std::string id = MermaidId(n.id);
  if (n.kind == "approval") return id + "(" + text + ")";
  if (n.kind == "task") return id + "[" + text + "]";
  if (n.kind == "parallel") return id + "[/" + text + "\\]";
  if (n.kind == "join") return id + "[\\" + text + "/]";
  if (n.kind == "choice") return id + "{" + text + "}";
  if (n.kind == "check") return id + "{{" + text + "}}";
  if (n.kind == "meeting") return id + "[[" + text + "]]";
  return id + "((" + text + "))";
}

}  // namespace

std::string DiagramMermaid(const WorkflowDef& def) {
  const Diagram d = DescribeWorkflow(def);
  std::string out = "flowchart TD\n";
  out += "  %% " + d.id + ": " + d.title + " · " + d.title_en + "\n";
  out += "  " + MermaidId("__submit") + "((\"提交<br/>submit\"))\n";
  std::map<std::string, const DiagramNode*> by_id;
  for (const DiagramNode& n : d.nodes) by_id[n.id] = &n;
  std::set<std::string> in_lane;
  for (const DiagramLane& lane : d.lanes) {
    out += "  subgraph " + MermaidId(lane.parallel + "__" + lane.name) + "[\"" +
           MermaidText(lane.name) + "\"]\n";
    for (const std::string& id : lane.nodes) {
      auto it = by_id.find(id);
      if (it == by_id.end()) continue;
      out += "    " + MermaidNode(*it->second) + "\n";
      in_lane.insert(id);
    }
    out += "  end\n";
  }
  for (const DiagramNode& n : d.nodes) {
    if (!in_lane.count(n.id)) out += "  " + MermaidNode(n) + "\n";
  }
  out += "  " + MermaidId("__submit") + " --> " + MermaidId(d.start) + "\n";
  for (const DiagramEdge& e : d.edges) {
    const bool dashed =
        e.kind == "reject" || e.kind == "fail" || e.kind == "return" || e.kind == "defer";
    out += "  " + MermaidId(e.from) + (dashed ? " -.->" : " -->");
    if (!e.label.empty()) out += "|\"" + MermaidText(e.label) + "\"|";
    out += " " + MermaidId(e.to) + "\n";
  }
  return out;
}

}  // namespace approvald
