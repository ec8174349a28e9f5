// The workflow registry: every version of every loaded workflow definition,
// in memory. A changed file becomes a new version; running instances keep
// the version they started on, so old versions stay retrievable.
//
// Pure: it never reads files or hashes text. The caller loads a definition
// (core/workflow_loader), sets WorkflowDef::hash to "sha256:<hex>" of the
// file's text, and registers it.
#ifndef APPROVALD_CORE_REGISTRY_H_
#define APPROVALD_CORE_REGISTRY_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "approvald/status.h"
#include "approvald/workflow.h"

namespace approvald {

// Thread-compatible: concurrent const calls are safe; Register() needs
// exclusive access (the service guards it). Definitions are handed out as
// shared pointers to immutable values, so a caller may keep one while a new
// version is registered.
class WorkflowRegistry {
 public:
  using DefPtr = std::shared_ptr<const WorkflowDef>;

  struct Registered {
    DefPtr def;    // the stored definition, with `version` set
    bool created;  // false when it was identical to the latest version
  };

  // Stores `def` under def.id:
  // - the first definition of an id becomes version 1;
  // - one whose hash differs from the latest version's becomes latest + 1
  //   (also when it equals an older version's: a revert is a new version);
  // - one with the latest version's hash is not stored again; the latest is
  //   returned with created = false.
  // Fails (kInvalidArgument, "invalid_definition") when def.id or def.hash is
  // empty. The `version` the caller set is ignored.
  Result<Registered> Register(WorkflowDef def);

  // The given version of `id`, or null when there is none.
  DefPtr Get(const std::string& id, int version) const;
  // The newest version of `id`, or null.
  DefPtr Latest(const std::string& id) const;
  // The newest version of every workflow, ordered by id.
  std::vector<DefPtr> List() const;
  // Every version of `id`, oldest first (empty when unknown).
  std::vector<DefPtr> Versions(const std::string& id) const;

 private:
  std::map<std::string, std::vector<DefPtr>> defs_;  // id -> versions 1..n
};

}  // namespace approvald

#endif  // APPROVALD_CORE_REGISTRY_H_
