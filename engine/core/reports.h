// Reports built from instance histories: the 三重一大 ledger (台账) filed with
// the supervising bureau every half year, the rectification progress of the
// inspection items (巡察整改), and the procurement compliance list.
//
// Pure: the caller (engine/service/report_service.h) loads the histories and
// hands them in with the organisation, the period and `now`; the builders
// only read events. Every report is a Table of text cells with stable column
// ids (the JSON keys) and Chinese titles (the CSV header). Times are shown in
// Asia/Shanghai ("2024-03-05 09:02:03"), dates as YYYY-MM-DD, money in yuan
// with two decimals ("1234.50"). People and departments are shown by name
// ("陈志远"), falling back to the id when the organisation lacks them.
// A history that does not fold (core/fold.h) fails the report with that
// error (kInternal "corrupt_history"), naming the instance.
#ifndef APPROVALD_CORE_REPORTS_H_
#define APPROVALD_CORE_REPORTS_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "approvald/event.h"
#include "approvald/org.h"
#include "approvald/status.h"
#include "approvald/types.h"
#include "approvald/workflow.h"

namespace approvald::report {

// Report names, as the API and the CLI take them.
inline constexpr const char* kSanzhongLedger = "sanzhong-ledger";
inline constexpr const char* kRectification = "rectification";
inline constexpr const char* kProcurement = "procurement";
// All report names, in the order above.
const std::vector<std::string>& ReportNames();
// The workflow id whose instances a report reads ("sanzhong-yida",
// "rectification", "procurement"); empty for an unknown name.
std::string WorkflowOfReport(std::string_view name);

// One instance: its id, the definition version it runs on (for enum labels
// and node titles; may be null, then option values and node ids are shown)
// and its whole history in version order.
struct InstanceHistory {
  InstanceId id;
  const WorkflowDef* def = nullptr;
  std::vector<Event> events;
};

// [from, to) in UTC.
struct Period {
  Timestamp from;
  Timestamp to;
};

struct Column {
  std::string id;     // snake_case, the JSON key
  std::string title;  // Chinese, the CSV header
};

struct Table {
  std::string name;                              // the report name
  std::vector<Column> columns;
  std::vector<std::vector<std::string>> rows;    // one cell per column
  // Totals, in order, e.g. {"total","13"}, {"done","13"}, {"percent","100"},
  // {"text","13 of 13 done (100%)"}. In JSON only.
  std::vector<std::pair<std::string, std::string>> summary;
};

// 三重一大 台账: one row per meeting held on a topic whose meeting closed in
// `period` (a topic deferred (缓议) and met again has one row per meeting).
// Columns: instance, topic, category, proposer, submitted_at, distributed_at,
// meeting_at (opened), entitled (members entitled to attend, minus recused),
// present (names in check-in order), quorum ("5/6; rule 1/2 strict"),
// recusals ("name: reason; ..."), opinions (speaking order,
// "1. name: opinion; 2. ..."), votes ("name: option" in voting order, option
// labels 同意/不同意/缓议), tally ("agree 5, disagree 0, defer 0"), result
// (通过 / 未通过 / 缓议), decision_no, minutes_ref, status (the instance's).
// Summary: meetings, passed, failed, deferred.
Result<Table> SanzhongLedger(const std::vector<InstanceHistory>& instances, const Org& org,
                     Period period);

// Rectification progress: one row per item registered (submitted) in
// `period`, in the state its events before `as_of` give (the caller passes
// min(period.to, now)). Columns: instance, problem_no, area, problem,
// responsible_leader, responsible_dept, deadline, stage (title of the node
// it waits in, or the end), status (整改中 / 已完成整改 / 长期坚持 / 已撤销),
// done (是/否: accepted by the responsible leader), completed_on (the day
// it was accepted), lookback (是/否: 回头看 done), overdue (否 / 是 / 逾期完成),
// days_overdue (days past the deadline for open items, 0 otherwise),
// escalated (是/否). An item counts as done once the acceptance step passed.
// Summary: total, done, percent (rounded down, so 100 only when every item
// is done), overdue, text "N of M done (P%)", and for each responsible
// leader and department "leader:<name>" / "dept:<name>" -> "done/total".
// Withdrawn, rejected or cancelled items are listed but not counted.
Result<Table> RectificationProgress(const std::vector<InstanceHistory>& instances,
                            const Org& org, Period period, Timestamp as_of);

// Procurement compliance: one row per purchase request submitted in
// `period`. Columns: instance, submitted_at, department (the requester's),
// item_code, item_name, amount, method_required (what the procurement_method
// check decided), rule (the rule text that decided it), catalogue
// ("<id> <version>"), method_used, executed_by, executed_dept, flags (reasons
// of flagged checks: split purchases, collective decision), status, compliant
// (是 / 否 / 未执行), issues ("method_mismatch: ...; wrong_department: ...").
// A purchase is compliant when it was executed, the method used is the
// required one (any method is fine for below_limit, the unit's own
// purchasing), and the executor belongs to `purchasing_dept`. The method
// used and executor come from the task node `execute` (its completer and its
// `method_used` field, or the form's `method_used`). Summary: purchases,
// executed, compliant, non_compliant.
struct ProcurementFields {
  std::string item_code = "item_code";
  std::string item_name = "item_name";
  std::string amount = "amount";
  std::string method_used = "method_used";
  std::string execute_node = "execute";
};
Result<Table> ProcurementCompliance(const std::vector<InstanceHistory>& instances, const Org& org,
                            Period period, const DeptId& purchasing_dept,
                            const ProcurementFields& fields = {});

// RFC 4180 CSV: UTF-8 with a byte order mark (so Excel opens Chinese text
// correctly), CRLF line ends, the header row of column titles, every field
// that holds a comma, quote, CR or LF quoted with quotes doubled. A cell
// starting with =, +, - or @ is prefixed with a single quote so spreadsheet
// programs do not run it as a formula (OWASP CSV injection), unless it is a
// number such as "-12.50".
std::string RenderCsv(const Table& table);

// JSON: {"report":name,"columns":[{"id","title"}...],"rows":[{id:cell...}],
// "summary":{k:v...}}, cells as strings, keys of rows in column order.
std::string RenderJson(const Table& table);

}  // namespace approvald::report

#endif  // APPROVALD_CORE_REPORTS_H_
