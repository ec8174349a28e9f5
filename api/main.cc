// approvald: one binary, several subcommands.
//
//   approvald check DIR [--org FILE]
//       Validates every *.yaml workflow in DIR against the organisation,
//       prints one line per loaded workflow and every error as
//       file:line:column: message. Exit status 0 only when nothing is wrong.
//   approvald diagram FILE [--org FILE] [--format dot|mermaid]
//       Prints the workflow in FILE as a Graphviz or Mermaid diagram.
//
// This file is the only place that reads workflow and organisation files:
// the engine core gets their text and never touches the file system.
#include <openssl/evp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "api/cli_audit.h"
#include "api/cli_report.h"
#include "api/commands.h"
#include "core/checks.h"
#include "core/diagram.h"
#include "core/org_loader.h"
#include "core/registry.h"
#include "core/workflow_loader.h"

namespace {

namespace fs = std::filesystem;
using approvald::LoadError;

constexpr const char* kDefaultOrg = "config/org.yaml";

// The whole file as bytes, or nullopt with `error` set.
std::optional<std::string> ReadFile(const fs::path& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot open " + path.string();
    return std::nullopt;
  }
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) {
    *error = "cannot read " + path.string();
    return std::nullopt;
  }
  return out.str();
}

// "sha256:<64 hex digits>" of `text`: a workflow version's identity.
std::string Sha256(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  std::string out = "sha256:";
  static const char kHex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xF];
  }
  return out;
}

void PrintErrors(const std::vector<LoadError>& errors) {
  for (const LoadError& e : errors) fmt::print(stderr, "{}\n", e.ToString());
}

// Loads the organisation file; prints its errors and returns nullopt when it
// is not usable.
std::optional<approvald::Org> LoadOrgFile(const std::string& path) {
  std::string error;
  std::optional<std::string> text = ReadFile(path, &error);
  if (!text) {
    fmt::print(stderr, "{}: {} — pass the organisation with --org FILE\n",
               path, error);
    return std::nullopt;
  }
  approvald::OrgLoad load = approvald::LoadOrg(*text, path);
  if (!load.org) {
    PrintErrors(load.errors);
    fmt::print(stderr, "{}: {} error(s) in the organisation; workflows were "
                       "not checked\n", path, load.errors.size());
    return std::nullopt;
  }
  return std::move(load.org);
}

// The 1-based line of the top-level "id:" key, for errors about the id.
int IdLine(const std::string& text) {
  int line = 1;
  size_t pos = 0;
  while (pos < text.size()) {
    if (text.compare(pos, 3, "id:") == 0) return line;
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;
    pos = nl + 1;
    ++line;
  }
  return 1;
}

int RunCheck(const std::string& dir, const std::string& org_path) {
  std::optional<approvald::Org> org = LoadOrgFile(org_path);
  if (!org) return 1;

  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
      files.push_back(entry.path());
    }
  }
  if (ec) {
    fmt::print(stderr, "{}: cannot list the folder: {}\n", dir, ec.message());
    return 1;
  }
  if (files.empty()) {
    fmt::print(stderr, "{}: no *.yaml workflow files in this folder\n", dir);
    return 1;
  }
  std::sort(files.begin(), files.end());

  const approvald::CheckRegistry& checks = approvald::CheckRegistry::Builtin();
  approvald::WorkflowRegistry registry;
  std::map<std::string, std::string> file_of_id;
  size_t error_count = 0, loaded = 0;
  for (const fs::path& path : files) {
    const std::string name = path.string();
    std::string error;
    std::optional<std::string> text = ReadFile(path, &error);
    if (!text) {
      fmt::print(stderr, "{}: {}\n", name, error);
      ++error_count;
      continue;
    }
    approvald::WorkflowLoad load =
        approvald::LoadWorkflow(*text, name, *org, checks);
    if (!load.def) {
      PrintErrors(load.errors);
      error_count += load.errors.size();
      continue;
    }
    approvald::WorkflowDef& def = *load.def;
    if (auto [it, fresh] = file_of_id.emplace(def.id, name); !fresh) {
      PrintErrors({LoadError{{name, IdLine(*text), 5},
                             "workflow id '" + def.id + "' is also used by " +
                                 it->second +
                                 " — ids must be unique; rename one"}});
      ++error_count;
      continue;
    }
    def.hash = Sha256(*text);
    auto registered = registry.Register(std::move(def));
    if (!registered) {
      fmt::print(stderr, "{}: {}\n", name, registered.error().ToString());
      ++error_count;
      continue;
    }
    const approvald::WorkflowDef& d = *registered->def;
    ++loaded;
    fmt::print("ok  {:<20} {}  {} / {}  nodes={} fields={}\n", d.id,
               d.hash.substr(0, 19), d.title, d.title_en, d.nodes.size(),
               d.form.size());
  }
  fmt::print("{}: {} of {} workflow file(s) loaded, {} error(s)\n", dir, loaded,
             files.size(), error_count);
  return error_count == 0 ? 0 : 1;
}

int RunDiagram(const std::string& file, const std::string& org_path,
               const std::string& format) {
  std::optional<approvald::Org> org = LoadOrgFile(org_path);
  if (!org) return 1;
  std::string error;
  std::optional<std::string> text = ReadFile(file, &error);
  if (!text) {
    fmt::print(stderr, "{}: {}\n", file, error);
    return 1;
  }
  approvald::WorkflowLoad load = approvald::LoadWorkflow(
      *text, file, *org, approvald::CheckRegistry::Builtin());
  if (!load.def) {
    PrintErrors(load.errors);
    return 1;
  }
  fmt::print("{}", format == "mermaid" ? approvald::DiagramMermaid(*load.def)
                                       : approvald::DiagramDot(*load.def));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"approvald: approval workflows for public institutions"};
  app.require_subcommand(1);

  std::string check_dir, org_path = kDefaultOrg;
  CLI::App* check = app.add_subcommand(
      "check", "Validate every *.yaml workflow in a folder; exit 1 on any error");
  check->add_option("dir", check_dir, "Folder of workflow files")
      ->required()
      ->check(CLI::ExistingDirectory);
  check->add_option("--org", org_path, "Organisation file")
      ->capture_default_str();

  std::string diagram_file, diagram_format = "dot";
  CLI::App* diagram = app.add_subcommand(
      "diagram", "Print a workflow as a Graphviz (dot) or Mermaid diagram");
  diagram->add_option("file", diagram_file, "Workflow file")
      ->required()
      ->check(CLI::ExistingFile);
  diagram->add_option("--org", org_path, "Organisation file")
      ->capture_default_str();
  diagram->add_option("--format", diagram_format, "dot or mermaid")
      ->check(CLI::IsMember({"dot", "mermaid"}))
      ->capture_default_str();

  // serve, user add/set-password, config example (api/commands.h).
  auto api_commands = approvald::api::AddApiCommands(app);
  // audit verify/export/verify-bundle/key, backup (api/cli_audit.h).
  auto audit_commands = approvald::api::AddAuditCommands(app);
  // report sanzhong-ledger/rectification/procurement (api/cli_report.h).
  auto report_commands = approvald::api::AddReportCommands(app);

  // Every usage error exits 2, whatever CLI11's own code for it (a bad
  // --sqlite-check value, a missing option, an unknown flag); --help exits 0.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (auto rc = approvald::api::RunApiCommands(*api_commands)) return *rc;
  if (auto rc = approvald::api::RunAuditCommands(*audit_commands)) return *rc;
  if (auto rc = approvald::api::RunReportCommands(*report_commands)) return *rc;

  if (*check) return RunCheck(check_dir, org_path);
  if (*diagram) return RunDiagram(diagram_file, org_path, diagram_format);
  return 2;
}
