#include "api/bootstrap.h"

#include <openssl/sha.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"  // yaml-cpp 0.7 vs g++ 12
#include <yaml-cpp/yaml.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "api/json_codec.h"
#include "core/checks.h"
#include "core/org_loader.h"
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

std::string Mark(const std::string& path, const YAML::Node& n) {
  auto m = n.Mark();
  return path + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

Value ScalarValue(const std::string& s) {
  if (s == "true") return Value::Bool(true);
  if (s == "false") return Value::Bool(false);
  int64_t i = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
  if (!s.empty() && ec == std::errc() && p == s.data() + s.size()) return Value::Int(i);
  return Value::Str(s);
}

Value NodeValue(const YAML::Node& n) {
  if (n.IsScalar()) return ScalarValue(n.Scalar());
  if (n.IsSequence()) {
    Value::List l;
    for (const auto& e : n) l.push_back(NodeValue(e));
    return Value::Of(std::move(l));
  }
  if (n.IsMap()) {
    Value::Record r;
    for (const auto& kv : n) r[kv.first.as<std::string>()] = NodeValue(kv.second);
    return Value::Of(std::move(r));
  }
  return Value::Null();
}

}  // namespace

Result<Calendar> LoadCalendarFile(const std::string& path) {
  if (path.empty()) return Calendar();
  auto text = ReadTextFile(path);
  if (!text) return std::unexpected(text.error());
  try {
    YAML::Node root = YAML::Load(*text);
    if (!root.IsMap()) {
      return InvalidArgument("invalid_calendar", path + ": expected keys holidays: and workdays:");
    }
    std::set<int32_t> sets[2];
    for (const auto& kv : root) {
      std::string key = kv.first.as<std::string>();
      int which = key == "holidays" ? 0 : key == "workdays" ? 1 : -1;
      if (which < 0) {
        return InvalidArgument("invalid_calendar", Mark(path, kv.first) + ": unknown key '" + key +
                                                       "' (known: holidays, workdays)");
      }
      if (!kv.second.IsSequence()) {
        return InvalidArgument("invalid_calendar",
                               Mark(path, kv.second) + ": '" + key + "' must be a list of dates");
      }
      for (const auto& d : kv.second) {
        auto date = d.IsScalar() ? ParseDate(d.Scalar()) : std::nullopt;
        if (!date) {
          return InvalidArgument("invalid_calendar",
                                 Mark(path, d) + ": not a date YYYY-MM-DD");
        }
        sets[which].insert(date->days);
      }
    }
    return Calendar(std::move(sets[0]), std::move(sets[1]));
  } catch (const YAML::Exception& e) {
    return InvalidArgument("invalid_calendar", path + ":" + std::to_string(e.mark.line + 1) +
                                                   ": not valid YAML: " + e.msg);
  }
}

Result<Value::Record> LoadUnitConfigFile(const std::string& path) {
  if (path.empty()) return Value::Record();
  auto text = ReadTextFile(path);
  if (!text) return std::unexpected(text.error());
  try {
    YAML::Node root = YAML::Load(*text);
    if (root.IsNull()) return Value::Record();
    if (!root.IsMap()) {
      return InvalidArgument("invalid_unit_config", path + ": the top level must be a mapping");
    }
    return NodeValue(root).as_record();
  } catch (const YAML::Exception& e) {
    return InvalidArgument("invalid_unit_config", path + ":" + std::to_string(e.mark.line + 1) +
                                                      ": not valid YAML: " + e.msg);
  }
}

}  // namespace approvald::api
