#include "service/report_service.h"

#include <algorithm>

namespace approvald {
namespace {

Result<std::vector<report::InstanceHistory>> LoadHistories(Store& store,
                                                           const WorkflowRegistry& registry,
                                                           const std::string& workflow) {
  std::vector<report::InstanceHistory> out;
  InstanceQuery q;
  q.workflow = workflow;
  q.limit = 500;
  for (;;) {
    auto rows = store.ListInstances(q);
    if (!rows) return std::unexpected(rows.error());
    for (const InstanceRow& row : *rows) {
      auto events = store.LoadEvents(row.id);
      if (!events) return std::unexpected(events.error());
      report::InstanceHistory h;
      h.id = row.id;
      h.def = registry.Get(row.workflow, row.workflow_version).get();
      h.events = std::move(*events);
      out.push_back(std::move(h));
      q.after_id = std::max(q.after_id, row.id.value);
    }
    if (static_cast<int>(rows->size()) < q.limit) break;
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

}  // namespace

Result<report::Table> BuildReport(Store& store, const WorkflowRegistry& registry,
                                  const Org& org, const ReportRequest& req) {
  const std::string workflow = report::WorkflowOfReport(req.name);
  if (workflow.empty()) {
    std::string known;
    for (const auto& n : report::ReportNames()) known += (known.empty() ? "" : ", ") + n;
    return NotFound("report_not_found",
                    "no report named '" + req.name + "'; the reports are: " + known);
  }
  if (!(req.period.from < req.period.to)) {
    return InvalidArgument("bad_period", "the period is empty: 'from' (" +
                                             FormatTimestampUtc(req.period.from) +
                                             ") must be before 'to' (" +
                                             FormatTimestampUtc(req.period.to) + ")");
  }
  auto histories = LoadHistories(store, registry, workflow);
  if (!histories) return std::unexpected(histories.error());
  if (req.name == report::kSanzhongLedger) {
    return report::SanzhongLedger(*histories, org, req.period);
  }
  if (req.name == report::kRectification) {
    // Events at `now` itself (a deadline just applied) count.
    Timestamp as_of = std::min(req.period.to, Timestamp{req.now.ms + 1});
    return report::RectificationProgress(*histories, org, req.period, as_of);
  }
  DeptId purchasing = req.purchasing_dept;
  if (purchasing.empty()) {
    for (const Department& d : org.departments) {
      if (d.purchasing) purchasing = d.id;
    }
  }
  return report::ProcurementCompliance(*histories, org, req.period, purchasing);
}

}  // namespace approvald
