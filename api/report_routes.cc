#include "api/report_routes.h"

#include "api/http_errors.h"
#include "service/report_service.h"

namespace approvald::api {
namespace {

constexpr const char* kOfficeDept = "office";

std::unexpected<Error> BadRequest(const std::string& msg) {
  return InvalidArgument(api_reason::kBadRequest, msg);
}

Status MayReadReports(const Principal& who, const Org& org) {
  if (who.role == Role::kAuditor) return Ok();
  if (const Person* p = org.FindPerson(who.person); p && p->dept.value == kOfficeDept) {
    return Ok();
  }
  return MakeError(ErrorCode::kPermissionDenied, api_reason::kForbiddenRole,
                   "reports are for auditors and the office (办公室); ask them for the report");
}

}  // namespace

std::vector<std::string> ReadableReports(const Principal& who, const Org& org) {
  if (!MayReadReports(who, org)) return {};
  return report::ReportNames();
}

Result<Timestamp> ParseReportTime(const std::string& name, const std::string& text,
                                  bool end_of_day) {
  if (auto t = ParseTimestamp(text)) return *t;
  if (auto d = ParseDate(text)) {
    int64_t day = int64_t{d->days} + (end_of_day ? 1 : 0);
    return Timestamp{day * kMsPerDay - kShanghaiOffsetMs};
  }
  return BadRequest("query parameter '" + name + "' must be an ISO 8601 time "
                    "(2024-01-01T00:00:00+08:00) or a date (2024-01-01), got '" + text + "'");
}

Result<http::response<http::string_body>> HandleReportRoute(
    const Request& req, Services& svc, const Principal& who,
    const std::vector<std::string>& path, const std::map<std::string, std::string>& query,
    std::string* route) {
  if (path.size() != 2) {
    *route = "(unknown)";
    return NotFound(api_reason::kRouteNotFound,
                    "no such path; reports are at /api/v1/reports/{name}");
  }
  *route = "/api/v1/reports/{name}";
  if (req.msg.method() != http::verb::get) {
    auto res = ErrorResponse(Error{ErrorCode::kInvalidArgument, api_reason::kMethodNotAllowed,
                                   "this path allows GET"},
                             req.msg.version(), req.msg.keep_alive(), 0);
    res.set(http::field::allow, "GET");
    return res;
  }
  auto org = svc.engine.org();
  if (auto st = MayReadReports(who, *org); !st) return std::unexpected(st.error());
  for (const auto& [k, v] : query) {
    if (k != "from" && k != "to" && k != "format") {
      return BadRequest("unknown query parameter '" + k + "' (known: from, to, format)");
    }
  }
  ReportRequest r;
  r.name = path[1];
  r.now = svc.clock.Now();
  r.period.from = Timestamp{0};
  r.period.to = Timestamp{r.now.ms + 1};
  if (auto it = query.find("from"); it != query.end()) {
    auto t = ParseReportTime("from", it->second, false);
    if (!t) return std::unexpected(t.error());
    r.period.from = *t;
  }
  if (auto it = query.find("to"); it != query.end()) {
    auto t = ParseReportTime("to", it->second, true);
    if (!t) return std::unexpected(t.error());
    r.period.to = *t;
  }
  std::string format = "json";
  if (auto it = query.find("format"); it != query.end()) format = it->second;
  if (format != "json" && format != "csv") {
    return BadRequest("query parameter 'format' must be json or csv, got '" + format + "'");
  }
  if (report::WorkflowOfReport(r.name).empty()) {
    auto t = BuildReport(svc.store, svc.engine.registry(), *org, r);  // names the reports
    return std::unexpected(t.error());
  }
  if (!(r.period.from < r.period.to)) {
    return BadRequest("the period is empty: 'from' must be before 'to'");
  }
  auto table = BuildReport(svc.store, svc.engine.registry(), *org, r);
  if (!table) return std::unexpected(table.error());

  http::response<http::string_body> res{http::status::ok, req.msg.version()};
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.msg.keep_alive());
  if (format == "csv") {
    res.set(http::field::content_type, "text/csv; charset=utf-8; header=present");
    res.set(http::field::content_disposition,
            "attachment; filename=\"" + r.name + ".csv\"");
    res.body() = report::RenderCsv(*table);
  } else {
    res.set(http::field::content_type, "application/json");
    res.body() = report::RenderJson(*table);
  }
  res.prepare_payload();
  return res;
}

}  // namespace approvald::api
