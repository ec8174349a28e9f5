#include "core/reports.h"

#include <algorithm>
#include <map>

#include "core/events.h"
#include "core/fold.h"
#include "core/record_util.h"

namespace approvald::report {
namespace {

const char* const kYes = "是";
const char* const kNo = "否";

// The rectification workflow's node the progress report reads
// (workflows/rectification.yaml).
constexpr const char* kLookbackNode = "lookback";

std::string PersonName(const Org& org, const PersonId& id) {
  if (id.empty()) return "";
  if (const Person* p = org.FindPerson(id)) return p->name;
  return id.value;
}

std::string PersonNameOf(const Org& org, const std::string& id) {
  return PersonName(org, PersonId(id));
}

std::string DeptName(const Org& org, const DeptId& id) {
  if (id.empty()) return "";
  if (const Department* d = org.FindDept(id)) return d->name;
  return id.value;
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

// The label of enum value `value` of form field `field`, or the value.
std::string EnumLabel(const WorkflowDef* def, const std::string& field,
                      const std::string& value) {
  if (!def || value.empty()) return value;
  const FieldDef* f = def->FindField(field);
  if (!f || f->type.kind != TypeKind::kEnum) return value;
  for (size_t i = 0; i < f->type.options.size(); ++i) {
    if (f->type.options[i] == value && i < f->type.option_labels.size() &&
        !f->type.option_labels[i].empty())
      return f->type.option_labels[i];
  }
  return value;
}

std::string NodeTitle(const WorkflowDef* def, const std::string& node) {
  if (def) {
    if (const NodeDef* n = def->FindNode(node); n && !n->title.empty()) return n->title;
  }
  return node;
}

const Value* FormValue(const FormData& form, const std::string& key) {
  auto it = form.find(key);
  if (it == form.end() || it->second.is_null()) return nullptr;
  return &it->second;
}

std::string FormText(const FormData& form, const std::string& key) {
  const Value* v = FormValue(form, key);
  return v && v->is_string() ? v->as_string() : "";
}

std::string TimeText(Timestamp t) { return t.ms == 0 ? "" : FormatTimestampShanghai(t); }

bool InPeriod(Timestamp t, const Period& p) { return t >= p.from && t < p.to; }

Result<InstanceState> FoldBefore(const InstanceHistory& h, Timestamp before) {
  std::vector<Event> prefix;
  for (const Event& e : h.events) {
    if (e.at >= before) break;
    prefix.push_back(e);
  }
  auto st = Fold(prefix);
  if (!st) {
    return MakeError(ErrorCode::kInternal, "corrupt_history",
                     "instance " + std::to_string(h.id.value) +
                         ": its history does not fold: " + st.error().message);
  }
  return st;
}

Timestamp SubmittedAt(const InstanceHistory& h) {
  return h.events.empty() ? Timestamp{} : h.events.front().at;
}

std::string VoteLabel(const std::string& option) {
  if (option == "agree") return "同意";
  if (option == "disagree") return "不同意";
  if (option == "defer") return "缓议";
  return option;
}

std::string ResultLabel(const std::string& result) {
  if (result == "passed") return "通过";
  if (result == "failed") return "未通过";
  if (result == "deferred") return "缓议";
  return result;
}

std::string MethodLabel(const std::string& method) {
  if (method == "centralised") return "集中采购";
  if (method == "open_tender") return "公开招标";
  if (method == "decentralised") return "分散采购";
  if (method == "below_limit") return "限额以下自行采购";
  return method;
}

std::string Percent(int64_t done, int64_t total) {
  return total <= 0 ? "0" : std::to_string(done * 100 / total);
}

}  // namespace

const std::vector<std::string>& ReportNames() {
  static const std::vector<std::string> kNames = {kSanzhongLedger, kRectification,
                                                  kProcurement};
  return kNames;
}

std::string WorkflowOfReport(std::string_view name) {
  if (name == kSanzhongLedger) return "sanzhong-yida";
  if (name == kRectification) return "rectification";
  if (name == kProcurement) return "procurement";
  return "";
}

// ---- 三重一大 ledger ------------------------------------------------------------

Result<Table> SanzhongLedger(const std::vector<InstanceHistory>& instances, const Org& org,
                             Period period) {
  Table t;
  t.name = kSanzhongLedger;
  t.columns = {{"instance", "编号"},          {"topic", "议题"},
               {"category", "事项类别"},      {"proposer", "提出人"},
               {"submitted_at", "提交时间"},  {"distributed_at", "议题分发时间"},
               {"meeting_at", "会议时间"},    {"entitled", "应到人数"},
               {"present", "实到人员"},       {"quorum", "法定人数"},
               {"recusals", "回避情况"},      {"opinions", "发言顺序及意见"},
               {"votes", "表决情况"},         {"tally", "表决结果统计"},
               {"result", "决策结果"},        {"decision_no", "决策文号"},
               {"minutes_ref", "会议纪要"},   {"status", "流程状态"}};
  int64_t meetings = 0, passed = 0, failed = 0, deferred = 0;
  for (const InstanceHistory& h : instances) {
    auto final_state = FoldBefore(h, Timestamp{INT64_MAX});
    if (!final_state) return std::unexpected(final_state.error());
    const FormData& form = final_state->form;
    // One round per distribution: a deferred topic is distributed again.
    Timestamp distributed_at;
    std::vector<std::string> recusals, opinions, votes;
    Value::Record opened;
    for (const Event& e : h.events) {
      if (e.type == ev::kAgendaDistributed) {
        distributed_at = e.at;
        recusals.clear();
        opinions.clear();
        votes.clear();
        opened.clear();
      } else if (e.type == ev::kRecused) {
        recusals.push_back(PersonNameOf(org, rec::Str(e.data, "person")) + ": " +
                           rec::Str(e.data, "reason"));
      } else if (e.type == ev::kMeetingOpened) {
        opened = e.data;
      } else if (e.type == ev::kOpinionStated) {
        opinions.push_back(std::to_string(opinions.size() + 1) + ". " +
                           PersonNameOf(org, rec::Str(e.data, "person")) + ": " +
                           rec::Str(e.data, "opinion"));
      } else if (e.type == ev::kVoted) {
        votes.push_back(PersonNameOf(org, rec::Str(e.data, "person")) + ": " +
                        VoteLabel(rec::Str(e.data, "option")));
      } else if (e.type == ev::kMeetingClosed && InPeriod(e.at, period)) {
        std::vector<std::string> present;
        for (const PersonId& p : rec::People(opened, "present")) {
          present.push_back(PersonName(org, p));
        }
        std::string quorum = std::to_string(rec::Int(opened, "counted")) + "/" +
                             std::to_string(rec::Int(opened, "entitled"));
        if (std::string q = rec::Str(opened, "quorum"); !q.empty()) {
          quorum += "; rule " + q;
        }
        const Value::Record& tally = rec::Sub(e.data, "tally");
        std::string tally_text = "同意 " + std::to_string(rec::Int(tally, "agree")) +
                                 ", 不同意 " + std::to_string(rec::Int(tally, "disagree")) +
                                 ", 缓议 " + std::to_string(rec::Int(tally, "defer"));
        std::string result = rec::Str(e.data, "result");
        ++meetings;
        passed += result == "passed";
        failed += result == "failed";
        deferred += result == "deferred";
        Timestamp meeting_at;
        for (const Event& o : h.events) {
          if (o.type == ev::kMeetingOpened && o.at <= e.at) meeting_at = o.at;
        }
        t.rows.push_back({std::to_string(h.id.value),
                          FormText(form, "topic"),
                          EnumLabel(h.def, "category", FormText(form, "category")),
                          PersonName(org, final_state->submitter),
                          TimeText(final_state->created_at),
                          TimeText(distributed_at),
                          TimeText(meeting_at),
                          std::to_string(rec::Int(e.data, "entitled")),
                          Join(present, "、"),
                          quorum,
                          Join(recusals, "; "),
                          Join(opinions, "; "),
                          Join(votes, "; "),
                          tally_text,
                          ResultLabel(result),
                          // Only a passed meeting gets the decision number.
                          result == "passed" ? FormText(form, "decision_no") : "",
                          result == "passed" ? FormText(form, "minutes_ref") : "",
                          std::string(InstanceStatusName(final_state->status))});
      }
    }
  }
  t.summary = {{"meetings", std::to_string(meetings)},
               {"passed", std::to_string(passed)},
               {"failed", std::to_string(failed)},
               {"deferred", std::to_string(deferred)}};
  return t;
}

// ---- rectification progress --------------------------------------------------------

Result<Table> RectificationProgress(const std::vector<InstanceHistory>& instances,
                                    const Org& org, Period period, Timestamp as_of) {
  Table t;
  t.name = kRectification;
  t.columns = {{"instance", "编号"},
               {"problem_no", "问题编号"},
               {"area", "问题领域"},
               {"problem", "问题描述"},
               {"responsible_leader", "责任领导"},
               {"responsible_dept", "责任股室"},
               {"deadline", "整改时限"},
               {"stage", "当前环节"},
               {"status", "整改状态"},
               {"done", "是否完成"},
               {"completed_on", "完成日期"},
               {"lookback", "是否回头看"},
               {"overdue", "是否逾期"},
               {"days_overdue", "逾期天数"},
               {"escalated", "是否督办升级"}};
  const Date today = ShanghaiDateOf(as_of);
  int64_t total = 0, done_count = 0, overdue_count = 0;
  // name -> {done, total}, in first-seen order.
  std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> by_leader, by_dept;
  auto bump = [](auto& list, const std::string& key, bool done) {
    auto it = std::find_if(list.begin(), list.end(),
                           [&](const auto& kv) { return kv.first == key; });
    if (it == list.end()) {
      list.push_back({key, {0, 0}});
      it = list.end() - 1;
    }
    it->second.first += done;
    it->second.second += 1;
  };
  for (const InstanceHistory& h : instances) {
    Timestamp submitted = SubmittedAt(h);
    if (!InPeriod(submitted, period) || submitted >= as_of) continue;
    auto st = FoldBefore(h, as_of);
    if (!st) return std::unexpected(st.error());
    const FormData& form = st->form;
    // Done: the acceptance step passed and nothing sent the item back since.
    bool ended_ok = st->status == InstanceStatus::kApproved;
    bool withdrawn = st->terminal() && !ended_ok;
    bool done = ended_ok || st->active.count(kLookbackNode) > 0;
    Timestamp completed_at;
    bool escalated = false;
    for (const Event& e : h.events) {
      if (e.at >= as_of) break;
      if (e.type == ev::kNodeEntered && e.node == kLookbackNode) completed_at = e.at;
      if (e.type == ev::kEscalated) escalated = true;
    }
    bool looked_back = ended_ok;
    std::string stage;
    if (!st->active.empty()) {
      std::vector<std::string> titles;
      for (const auto& [node, token] : st->active) titles.push_back(NodeTitle(h.def, node));
      stage = Join(titles, "、");
    } else {
      stage = NodeTitle(h.def, st->end_node);
    }
    std::string status = withdrawn ? "已撤销"
                         : done    ? (FormText(form, "status") == "long_term" ? "长期坚持"
                                                                               : "已完成整改")
                                   : "整改中";
    std::string deadline_text, overdue = kNo;
    int64_t days_overdue = 0;
    if (const Value* d = FormValue(form, "deadline"); d && std::holds_alternative<Date>(d->v)) {
      Date deadline = d->as_date();
      deadline_text = FormatDate(deadline);
      if (!withdrawn && !done && today > deadline) {
        overdue = kYes;
        days_overdue = today.days - deadline.days;
      } else if (done && completed_at.ms != 0 && ShanghaiDateOf(completed_at) > deadline) {
        overdue = "逾期完成";
      }
    }
    const Value* leader_v = FormValue(form, "responsible_leader");
    const Value* dept_v = FormValue(form, "responsible_dept");
    std::string leader =
        leader_v && leader_v->is_string() ? PersonNameOf(org, leader_v->as_string()) : "";
    std::string dept =
        dept_v && dept_v->is_string() ? DeptName(org, DeptId(dept_v->as_string())) : "";
    if (!withdrawn) {
      ++total;
      done_count += done;
      overdue_count += overdue == kYes;
      bump(by_leader, leader, done);
      bump(by_dept, dept, done);
    }
    t.rows.push_back({std::to_string(h.id.value),
                      FormText(form, "problem_no"),
                      EnumLabel(h.def, "area", FormText(form, "area")),
                      FormText(form, "problem"),
                      leader,
                      dept,
                      deadline_text,
                      stage,
                      status,
                      done ? kYes : kNo,
                      done && completed_at.ms != 0 ? FormatDate(ShanghaiDateOf(completed_at)) : "",
                      looked_back ? kYes : kNo,
                      overdue,
                      std::to_string(days_overdue),
                      escalated ? kYes : kNo});
  }
  std::string pct = Percent(done_count, total);
  t.summary = {{"total", std::to_string(total)},
               {"done", std::to_string(done_count)},
               {"percent", pct},
               {"overdue", std::to_string(overdue_count)},
               {"text", std::to_string(done_count) + " of " + std::to_string(total) +
                            " done (" + pct + "%)"},
               {"text_zh", "共" + std::to_string(total) + "项，已完成整改" +
                               std::to_string(done_count) + "项，完成率" + pct + "%"}};
  for (const auto& [name, c] : by_leader) {
    t.summary.push_back({"leader:" + name,
                         std::to_string(c.first) + "/" + std::to_string(c.second)});
  }
  for (const auto& [name, c] : by_dept) {
    t.summary.push_back({"dept:" + name,
                         std::to_string(c.first) + "/" + std::to_string(c.second)});
  }
  return t;
}

// ---- procurement compliance ---------------------------------------------------------

Result<Table> ProcurementCompliance(const std::vector<InstanceHistory>& instances,
                                    const Org& org, Period period, const DeptId& purchasing_dept,
                                    const ProcurementFields& fields) {
  Table t;
  t.name = kProcurement;
  t.columns = {{"instance", "编号"},           {"submitted_at", "申请时间"},
               {"department", "申请股室"},     {"item_code", "品目编码"},
               {"item_name", "采购项目"},      {"amount", "金额（元）"},
               {"method_required", "应采用采购方式"}, {"rule", "判定规则"},
               {"catalogue", "采购目录版本"},  {"method_used", "实际采购方式"},
               {"executed_by", "执行人"},      {"executed_dept", "执行股室"},
               {"flags", "提示"},              {"status", "流程状态"},
               {"compliant", "是否合规"},      {"issues", "问题"}};
  int64_t purchases = 0, executed_count = 0, compliant_count = 0, non_compliant = 0;
  for (const InstanceHistory& h : instances) {
    if (!InPeriod(SubmittedAt(h), period)) continue;
    auto st = FoldBefore(h, Timestamp{INT64_MAX});
    if (!st) return std::unexpected(st.error());
    const FormData& form = st->form;
    std::string required, rule, catalogue, used;
    std::vector<std::string> flags;
    PersonId executor;
    for (const Event& e : h.events) {
      if (e.type == ev::kCheckCompleted) {
        const Value::Record& details = rec::Sub(e.data, "details");
        if (rec::Str(e.data, "check") == "procurement_method") {
          required = rec::Str(details, "method");
          rule = rec::Str(details, "rule_text");
          if (rule.empty()) rule = rec::Str(details, "rule");
          const Value::Record& cat = rec::Sub(details, "catalogue");
          catalogue = rec::Str(cat, "id");
          if (std::string v = rec::Str(cat, "version"); !v.empty()) catalogue += " " + v;
        }
        if (rec::Str(e.data, "verdict") == "flag") {
          for (const Value& r : rec::List(e.data, "reasons")) {
            if (r.is_string()) flags.push_back(r.as_string());
          }
        }
      } else if (e.type == ev::kSigned && e.node == fields.execute_node &&
                 rec::Str(e.data, "decision") == "complete") {
        executor = PersonId(rec::Str(e.data, "person"));
        const Value::Record& f = rec::Sub(e.data, "fields");
        if (std::string m = rec::Str(f, fields.method_used); !m.empty()) used = m;
      }
    }
    if (used.empty()) used = FormText(form, fields.method_used);
    const Person* submitter = org.FindPerson(st->submitter);
    const Person* exec_person = executor.empty() ? nullptr : org.FindPerson(executor);
    DeptId exec_dept = exec_person ? exec_person->dept : DeptId();
    std::string amount;
    if (const Value* a = FormValue(form, fields.amount); a && a->is_money()) {
      amount = FormatYuan(a->as_money());
    }
    std::vector<std::string> issues;
    std::string compliant;
    bool executed = !executor.empty();
    if (!executed) {
      compliant = "未执行";
    } else {
      if (required.empty()) {
        issues.push_back("method_not_checked: 未经采购方式核定");
      } else if (required != "below_limit" && used != required) {
        issues.push_back("method_mismatch: 应" + MethodLabel(required) + "，实际" +
                         (used.empty() ? std::string("未填写") : MethodLabel(used)));
      }
      if (exec_dept != purchasing_dept) {
        issues.push_back("wrong_department: 由" + DeptName(org, exec_dept) + "执行，应由" +
                         DeptName(org, purchasing_dept) + "统一采购");
      }
      compliant = issues.empty() ? kYes : kNo;
    }
    ++purchases;
    executed_count += executed;
    compliant_count += compliant == kYes;
    non_compliant += compliant == kNo;
    std::string item_name = FormText(form, fields.item_name);
    if (item_name.empty()) item_name = st->form.count("title") ? FormText(form, "title") : "";
    t.rows.push_back({std::to_string(h.id.value),
                      TimeText(st->created_at),
                      submitter ? DeptName(org, submitter->dept) : "",
                      FormText(form, fields.item_code),
                      item_name,
                      amount,
                      MethodLabel(required),
                      rule,
                      catalogue,
                      MethodLabel(used),
                      PersonName(org, executor),
                      DeptName(org, exec_dept),
                      Join(flags, "; "),
                      std::string(InstanceStatusName(st->status)),
                      compliant,
                      Join(issues, "; ")});
  }
  t.summary = {{"purchases", std::to_string(purchases)},
               {"executed", std::to_string(executed_count)},
               {"compliant", std::to_string(compliant_count)},
               {"non_compliant", std::to_string(non_compliant)}};
  return t;
}

// ---- rendering --------------------------------------------------------------------

namespace {

bool LooksNumeric(std::string_view s) {
  size_t i = (s.size() > 1 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  bool digits = false, dot = false;
  for (; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') {
      digits = true;
    } else if (s[i] == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  return digits;
}

void AppendCsvField(std::string& out, std::string_view cell) {
  std::string value;
  if (!cell.empty() && (cell[0] == '=' || cell[0] == '+' || cell[0] == '-' || cell[0] == '@') &&
      !LooksNumeric(cell)) {
    value = "'";
  }
  value += cell;
  bool quote = value.find_first_of(",\"\r\n") != std::string::npos;
  if (!quote) {
    out += value;
    return;
  }
  out += '"';
  for (char ch : value) {
    if (ch == '"') out += '"';
    out += ch;
  }
  out += '"';
}

void AppendCsvRow(std::string& out, const std::vector<std::string>& cells) {
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i) out += ',';
    AppendCsvField(out, cells[i]);
  }
  out += "\r\n";
}

std::string JsonString(const std::string& s) { return EncodeValue(Value::Str(s)); }

}  // namespace

std::string RenderCsv(const Table& table) {
  std::string out = "\xEF\xBB\xBF";  // UTF-8 BOM
  std::vector<std::string> header;
  for (const Column& c : table.columns) header.push_back(c.title);
  AppendCsvRow(out, header);
  for (const auto& row : table.rows) AppendCsvRow(out, row);
  return out;
}

std::string RenderJson(const Table& table) {
  std::string out = "{\"report\":" + JsonString(table.name) + ",\"columns\":[";
  for (size_t i = 0; i < table.columns.size(); ++i) {
    if (i) out += ',';
    out += "{\"id\":" + JsonString(table.columns[i].id) +
           ",\"title\":" + JsonString(table.columns[i].title) + "}";
  }
  out += "],\"rows\":[";
  for (size_t r = 0; r < table.rows.size(); ++r) {
    if (r) out += ',';
    out += '{';
    for (size_t i = 0; i < table.columns.size(); ++i) {
      if (i) out += ',';
      out += JsonString(table.columns[i].id) + ":" +
             JsonString(i < table.rows[r].size() ? table.rows[r][i] : "");
    }
    out += '}';
  }
  out += "],\"summary\":{";
  for (size_t i = 0; i < table.summary.size(); ++i) {
    if (i) out += ',';
    out += JsonString(table.summary[i].first) + ":" + JsonString(table.summary[i].second);
  }
  out += "}}";
  return out;
}

}  // namespace approvald::report
