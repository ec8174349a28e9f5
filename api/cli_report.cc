#include "api/cli_report.h"

#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <tuple>

#include "api/bootstrap.h"
#include "api/cli_common.h"
#include "api/report_routes.h"
#include "config/config.h"
#include "core/checks.h"
#include "core/workflow_loader.h"
#include "service/report_service.h"
#include "store/sqlite/sqlite_store.h"

namespace approvald::api {

namespace {

int Fail(int code, const std::string& what, const std::string& message) {
  fmt::print(stderr, "approvald report: {}: {}\n", what, message);
  return code;
}

// Every stored definition version, registered in (id, version) order so the
// registry's numbers match the store's. Versions that no longer load with
// `org` are left out: their instances show raw option values.
void RegisterStored(Store& store, const Org& org, WorkflowRegistry& registry) {
  auto stored = store.ListDefinitions();
  if (!stored) return;
  std::vector<StoredDefinition> defs = std::move(*stored);
  std::sort(defs.begin(), defs.end(), [](const auto& a, const auto& b) {
    return std::tie(a.id, a.version) < std::tie(b.id, b.version);
  });
  for (const auto& sd : defs) {
    WorkflowLoad load = LoadWorkflow(sd.source, "stored:" + sd.id + "@" + std::to_string(sd.version),
                                     org, CheckRegistry::Builtin());
    if (!load.def) {
      fmt::print(stderr, "approvald report: note: {} version {} does not load with this "
                         "organisation; its labels are shown raw\n", sd.id, sd.version);
      continue;
    }
    load.def->hash = sd.hash;
    (void)registry.Register(std::move(*load.def));
  }
}

}  // namespace

int RunReport(const ReportArgs& args) {
  if (report::WorkflowOfReport(args.name).empty()) {
    std::string known;
    for (const auto& n : report::ReportNames()) known += (known.empty() ? "" : ", ") + n;
    return Fail(kExitUsage, args.name, "no such report; the reports are: " + known);
  }
  auto loaded = CliConfig(args.config_file);
  if (!loaded) return Fail(kExitUsage, "--config", loaded.error().message);
  const Config& cfg = *loaded;
  auto data_dir = CliDataDir(args.data_dir, args.config_file, cfg);
  if (!data_dir) return Fail(kExitUsage, "--data-dir", data_dir.error().message);
  auto db = ExistingDatabase(*data_dir);
  if (!db) return Fail(kExitUsage, "database", db.error().message);
  std::string org_file = !args.org_file.empty()       ? args.org_file
                         : !args.config_file.empty() ? cfg.org_file
                                                     : "config/org.yaml";
  auto org = LoadOrgFile(org_file);
  if (!org) return Fail(kExitUsage, org_file, org.error().message);

  ReportRequest req;
  req.name = args.name;
  req.now = SystemClock().Now();
  req.period.from = Timestamp{0};
  req.period.to = Timestamp{req.now.ms + 1};
  if (!args.from.empty()) {
    auto t = ParseReportTime("--from", args.from, false);
    if (!t) return Fail(kExitUsage, "--from", t.error().message);
    req.period.from = *t;
  }
  if (!args.to.empty()) {
    auto t = ParseReportTime("--to", args.to, true);
    if (!t) return Fail(kExitUsage, "--to", t.error().message);
    req.period.to = *t;
  }
  if (!(req.period.from < req.period.to)) {
    return Fail(kExitUsage, "--from/--to", "the period is empty: --from must be before --to");
  }

  SqliteOptions opts;
  opts.path = *db;
  opts.read_connections = 1;
  auto store = SqliteStore::Open(opts);
  if (!store) return Fail(kExitFailed, *db, store.error().message);
  WorkflowRegistry registry;
  RegisterStored(**store, **org, registry);
  auto table = BuildReport(**store, registry, **org, req);
  if (!table) {
    return Fail(table.error().code == ErrorCode::kNotFound ||
                        table.error().code == ErrorCode::kInvalidArgument
                    ? kExitUsage
                    : kExitFailed,
                args.name, table.error().message);
  }
  std::string text = args.format == "json" ? report::RenderJson(*table) + "\n"
                                           : report::RenderCsv(*table);
  if (args.out_file.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  } else {
    std::ofstream out(args.out_file, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return Fail(kExitFailed, args.out_file, "cannot write the file");
  }
  for (const auto& [k, v] : table->summary) {
    if (k == "text" || k == "meetings" || k == "purchases") {
      fmt::print(stderr, "{}: {} rows; {}={}\n", args.name, table->rows.size(), k, v);
    }
  }
  return kExitOk;
}

struct ReportCommands {
  CLI::App* report = nullptr;
  ReportArgs args;
};

std::shared_ptr<ReportCommands> AddReportCommands(CLI::App& app) {
  auto c = std::make_shared<ReportCommands>();
  c->report = app.add_subcommand(
      "report", "Print a report: sanzhong-ledger (三重一大台账), rectification (整改进度), "
                "procurement (采购合规)");
  c->report->add_option("name", c->args.name, "sanzhong-ledger, rectification or procurement")
      ->required();
  c->report->add_option("--data-dir", c->args.data_dir, "The daemon's data directory");
  c->report->add_option("--from", c->args.from,
                        "Start: ISO 8601 time or date (Asia/Shanghai), inclusive");
  c->report->add_option("--to", c->args.to,
                        "End: ISO 8601 time (exclusive) or date (that day included)");
  c->report->add_option("--format", c->args.format, "csv (UTF-8 with BOM) or json")
      ->check(CLI::IsMember({"csv", "json"}))
      ->capture_default_str();
  c->report->add_option("--org", c->args.org_file,
                        "Organisation file (default: the config's, else config/org.yaml)");
  c->report->add_option("--config", c->args.config_file, "Daemon config file");
  c->report->add_option("--out", c->args.out_file, "Write to FILE instead of stdout");
  return c;
}

std::optional<int> RunReportCommands(const ReportCommands& c) {
  if (c.report && *c.report) return RunReport(c.args);
  return std::nullopt;
}

}  // namespace approvald::api
