#include "api/bootstrap.h"

#include <openssl/sha.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "api/json_codec.h"
#include "core/checks.h"
#include "core/org_loader.h"
#include "core/unit_config.h"
#include "core/workflow_loader.h"

namespace approvald::api {

namespace fs = std::filesystem;

Result<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("file_missing", path + ": cannot open the file");
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return Unavailable("file_unreadable", path + ": cannot read the file");
  return out.str();
}

std::string Sha256Address(std::string_view text) {
  Hash h{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), h.data());
  return "sha256:" + HashHex(h);
}

Result<std::shared_ptr<const Org>> LoadOrgFile(const std::string& path) {
  auto text = ReadTextFile(path);
  if (!text) {
    return NotFound("org_missing", text.error().message + " (set org_file in the config)");
  }
  OrgLoad load = LoadOrg(*text, path);
  if (!load.org) {
    std::string msg;
    for (const auto& e : load.errors) msg += (msg.empty() ? "" : "\n") + e.ToString();
    return InvalidArgument("invalid_org", msg);
  }
  return std::make_shared<const Org>(std::move(*load.org));
}

Result<int> LoadWorkflows(const std::string& dir, const Org& org, Store& store,
                          WorkflowRegistry& registry) {
  const CheckRegistry& checks = CheckRegistry::Builtin();
  std::string errors;
  auto add_error = [&](const std::string& e) { errors += (errors.empty() ? "" : "\n") + e; };

  // 1. What earlier runs stored, so version numbers stay what they were.
  auto stored = store.ListDefinitions();
  if (!stored) return std::unexpected(stored.error());
  std::vector<StoredDefinition> defs = std::move(*stored);
  std::sort(defs.begin(), defs.end(), [](const auto& a, const auto& b) {
    return std::tie(a.id, a.version) < std::tie(b.id, b.version);
  });
  for (const auto& sd : defs) {
    std::string name = "stored:" + sd.id + "@" + std::to_string(sd.version);
    WorkflowLoad load = LoadWorkflow(sd.source, name, org, checks);
    if (!load.def) {
      // A stored version no longer loads (e.g. the organisation lost a
      // person it names): running instances on it cannot continue.
      for (const auto& e : load.errors) add_error(e.ToString());
      continue;
    }
    load.def->hash = sd.hash;
    auto reg = registry.Register(std::move(*load.def));
    if (!reg) {
      add_error(name + ": " + reg.error().message);
      continue;
    }
    if (reg->def->version != sd.version) {
      add_error(name + ": registered as version " + std::to_string(reg->def->version) +
                " but stored as " + std::to_string(sd.version) + "; the store is inconsistent");
    }
  }
  if (!errors.empty()) return InvalidArgument("invalid_workflow", errors);

  // 2. The files.
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    auto ext = entry.path().extension();
    if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(entry.path());
  }
  if (ec) return NotFound("workflows_missing", dir + ": cannot list the folder: " + ec.message());
  std::sort(files.begin(), files.end());
  int created = 0;
  std::set<std::string> seen;
  for (const auto& path : files) {
    auto text = ReadTextFile(path.string());
    if (!text) {
      add_error(text.error().message);
      continue;
    }
    WorkflowLoad load = LoadWorkflow(*text, path.string(), org, checks);
    if (!load.def) {
      for (const auto& e : load.errors) add_error(e.ToString());
      continue;
    }
    if (!seen.insert(load.def->id).second) {
      add_error(path.string() + ": workflow id '" + load.def->id +
                "' is used by another file; ids must be unique");
      continue;
    }
    load.def->hash = Sha256Address(*text);
    auto reg = registry.Register(std::move(*load.def));
    if (!reg) {
      add_error(path.string() + ": " + reg.error().message);
      continue;
    }
    if (reg->created) {
      auto st = store.SaveDefinition(reg->def->id, reg->def->version, reg->def->hash, *text);
      if (!st) return std::unexpected(st.error());
      ++created;
    }
  }
  if (!errors.empty()) return InvalidArgument("invalid_workflow", errors);
  return created;
}

namespace {

// Every load error, one per line (file:line:column: what — how to fix).
std::string JoinErrors(const std::vector<LoadError>& errors) {
  std::string msg;
  for (const auto& e : errors) msg += (msg.empty() ? "" : "\n") + e.ToString();
  return msg;
}

}  // namespace

Result<Calendar> LoadCalendarFile(const std::string& path) {
  if (path.empty()) return Calendar();
  auto text = ReadTextFile(path);
  if (!text) {
    return NotFound("holidays_missing",
                    text.error().message + " (set holidays_file in the config, or \"\" for "
                                           "Monday to Friday without holidays)");
  }
  CalendarLoad load = LoadHolidayCalendar(*text, path);
  if (!load.calendar) return InvalidArgument("invalid_calendar", JoinErrors(load.errors));
  return std::move(*load.calendar);
}

Result<Value::Record> LoadUnitConfigFiles(const std::string& unit_path,
                                          const std::string& catalogue_path,
                                          const Org& org) {
  if (unit_path.empty()) return Value::Record();
  auto unit = ReadTextFile(unit_path);
  if (!unit) {
    return NotFound("unit_config_missing",
                    unit.error().message + " (set unit_file in the config)");
  }
  std::string catalogue;
  if (!catalogue_path.empty()) {
    auto text = ReadTextFile(catalogue_path);
    if (!text) {
      return NotFound("catalogue_missing", text.error().message +
                                               " (set procurement_catalogue_file in the "
                                               "config)");
    }
    catalogue = std::move(*text);
  }
  UnitConfigLoad load = LoadUnitConfig(*unit, unit_path, catalogue, catalogue_path, &org);
  if (!load.config) return InvalidArgument("invalid_unit_config", JoinErrors(load.errors));
  return std::move(*load.config);
}

}  // namespace approvald::api
