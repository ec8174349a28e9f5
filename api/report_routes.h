// GET /api/v1/reports/{name}?from=&to=&format=json|csv: the reports of
// engine/service/report_service.h (三重一大 ledger, rectification progress,
// procurement compliance) over HTTP. Registered by one row of router.cc's
// endpoint table (which answers 404 and 405 itself); kept here so the router
// stays a table of routes.
//
// Who may read: auditors (巡察组 / 主管局) and members of the office (办公室,
// the department with id "office", which files the ledger). Everyone else
// gets 403 "forbidden_for_role".
//
// Query: `from`, `to`: ISO 8601 times (2024-01-01T00:00:00+08:00) or dates
// (2024-01-01, Asia/Shanghai). A date in `from` means the start of that
// day, in `to` the end of it, so from=2024-01-01&to=2024-06-30 is the first
// half of 2024. Defaults: from the beginning, to now. `format`: json
// (default) or csv (RFC 4180, UTF-8 with BOM, Content-Disposition
// attachment). Errors: 400 "bad_request" for unknown parameters, bad times,
// an empty period or an unknown format; 404 "report_not_found" for an
// unknown name; 405 for methods other than GET.
#ifndef APPROVALD_API_REPORT_ROUTES_H_
#define APPROVALD_API_REPORT_ROUTES_H_

#include <map>
#include <string>
#include <vector>

#include "api/auth.h"
#include "api/http_types.h"
#include "api/router.h"
#include "approvald/status.h"

namespace approvald::api {

// Answers a request whose path under /api/v1 is `path` (path[0] ==
// "reports") for the authenticated `who`. Sets `*route` to the route
// template for metrics. Errors are returned for the router to render in the
// common error shape.
Result<http::response<http::string_body>> HandleReportRoute(
    const Request& req, Services& svc, const Principal& who,
    const std::vector<std::string>& path, const std::map<std::string, std::string>& query,
    std::string* route);

// The names of the reports `who` may read (report::ReportNames(), in that
// order), or none: the same rule HandleReportRoute enforces, so GET
// /api/v1/me can tell the UI which report links to show.
std::vector<std::string> ReadableReports(const Principal& who, const Org& org);

// Parses a `from` / `to` value as described above (`end_of_day` for `to`).
// kInvalidArgument "bad_request" naming `name` when malformed.
Result<Timestamp> ParseReportTime(const std::string& name, const std::string& text,
                                  bool end_of_day);

}  // namespace approvald::api

#endif  // APPROVALD_API_REPORT_ROUTES_H_
