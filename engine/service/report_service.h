// Reports over the store: loads the instances a report reads (every version
// of its workflow) with their histories and builds the table with the pure
// builders of core/reports.h. Used by the API (GET /api/v1/reports/{name})
// and the CLI (`approvald report NAME`).
#ifndef APPROVALD_SERVICE_REPORT_SERVICE_H_
#define APPROVALD_SERVICE_REPORT_SERVICE_H_

#include <string>

#include "approvald/org.h"
#include "approvald/status.h"
#include "approvald/store.h"
#include "core/registry.h"
#include "core/reports.h"

namespace approvald {

struct ReportRequest {
  std::string name;        // one of report::ReportNames()
  report::Period period;   // [from, to)
  Timestamp now;           // the rectification report's "today" is min(to, now)
  // The department that alone executes purchases (config/unit.yaml
  // purchasing_department); empty = the organisation's department marked
  // `purchasing: true`.
  DeptId purchasing_dept;
};

// Builds report `req.name`. Errors: kNotFound ("report_not_found", naming the
// known reports) for an unknown name; kInvalidArgument ("bad_period") when
// `from` is not before `to`; the store's errors; kInternal
// ("corrupt_history") for a history that does not fold. Instances whose
// definition version is not in `registry` are reported with raw option
// values and node ids. Reads at most every instance of one workflow; memory
// is proportional to that.
Result<report::Table> BuildReport(Store& store, const WorkflowRegistry& registry,
                                  const Org& org, const ReportRequest& req);

}  // namespace approvald

#endif  // APPROVALD_SERVICE_REPORT_SERVICE_H_
