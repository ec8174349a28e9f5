// `approvald report NAME --data-dir D [--from T] [--to T] [--format csv|json]
//                    [--org FILE] [--config FILE] [--out FILE]`
//
// Prints a report (engine/service/report_service.h: sanzhong-ledger,
// rectification, procurement) from the database in D (read-only; beside a
// running daemon too). --from/--to take ISO 8601 times or dates in
// Asia/Shanghai, a date in --to meaning the end of that day; defaults: from
// the beginning, to now. --format csv (default) writes RFC 4180 CSV in UTF-8
// with a BOM, json the same document as the API. Workflow definitions come
// from the database (every version instances ran on); the organisation from
// --org, else the config's org_file, else config/org.yaml. Exit 0, 1 when
// the report fails (store, corrupt history), 2 on usage errors (unknown
// report, bad times, no database).
#ifndef APPROVALD_API_CLI_REPORT_H_
#define APPROVALD_API_CLI_REPORT_H_

#include <memory>
#include <optional>
#include <string>

namespace CLI { class App; }

namespace approvald::api {

struct ReportArgs {
  std::string name;
  std::string data_dir;
  std::string from;
  std::string to;
  std::string format = "csv";
  std::string org_file;
  std::string config_file;
  std::string out_file;  // "" = stdout
};

int RunReport(const ReportArgs& args);

// CLI wiring, as AddAuditCommands/RunAuditCommands (api/cli_audit.h).
struct ReportCommands;
std::shared_ptr<ReportCommands> AddReportCommands(CLI::App& app);
std::optional<int> RunReportCommands(const ReportCommands& commands);

}  // namespace approvald::api

#endif  // APPROVALD_API_CLI_REPORT_H_
