#include "core/registry.h"

namespace approvald {

Result<WorkflowRegistry::Registered> WorkflowRegistry::Register(WorkflowDef def) {
  if (def.id.empty()) {
    return InvalidArgument("invalid_definition",
                           "the workflow definition has no id; load it with "
                           "LoadWorkflow before registering");
  }
  if (def.hash.empty()) {
    return InvalidArgument("invalid_definition",
                           "workflow '" + def.id +
                               "' has no hash; set "
                               "def.hash to sha256 of the file's text first");
  }
  std::vector<DefPtr>& versions = defs_[def.id];
  if (!versions.empty() && versions.back()->hash == def.hash) {
    return Registered{versions.back(), false};
  }
  def.version = static_cast<int>(versions.size()) + 1;
  versions.push_back(std::make_shared<const WorkflowDef>(std::move(def)));
  return Registered{versions.back(), true};
}

WorkflowRegistry::DefPtr WorkflowRegistry::Get(const std::string& id, int version) const {
  auto it = defs_.find(id);
  if (it == defs_.end() || version < 1 ||
      static_cast<size_t>(version) > it->second.size()) {
    return nullptr;
  }
  return it->second[static_cast<size_t>(version) - 1];
}

WorkflowRegistry::DefPtr WorkflowRegistry::Latest(const std::string& id) const {
  auto it = defs_.find(id);
  if (it == defs_.end() || it->second.empty()) return nullptr;
  return it->second.back();
}

std::vector<WorkflowRegistry::DefPtr> WorkflowRegistry::List() const {
  std::vector<DefPtr> out;
  for (const auto& [id, versions] : defs_) {
    if (!versions.empty()) out.push_back(versions.back());
  }
  return out;
}

std::vector<WorkflowRegistry::DefPtr> WorkflowRegistry::Versions(
    const std::string& id) const {
  auto it = defs_.find(id);
  if (it == defs_.end()) return {};
  return it->second;
}

}  // namespace approvald
