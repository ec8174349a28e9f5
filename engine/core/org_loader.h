// Loads the organisation (config/org.yaml) from YAML text into an Org.
//
// The caller reads the file; this parses the text handed in, validates every
// reference and returns either an indexed Org or every problem found, each as
// `file:line:column: what is wrong — how to fix`. Pure, never throws.
//
// Format (config/org.yaml documents it at the top):
//   unit:        { name: 梅州市园林绿化中心, name_en: ... }
//   positions:   [ { id, name, name_en } ]
//   departments: [ { id, name, name_en, head, supervisor, purchasing } ]
//   people:      [ { id, name, name_en, dept, positions: [..] } ]
//   groups:      [ { id, name, name_en, members: [..] } ]
//   proxies:     [ { proxy, principal, from, until } ]   (ISO 8601 times)
#ifndef APPROVALD_CORE_ORG_LOADER_H_
#define APPROVALD_CORE_ORG_LOADER_H_

#include <optional>
#include <string_view>
#include <vector>

#include "approvald/org.h"
#include "core/load_error.h"

namespace approvald {

struct OrgLoad {
  std::optional<Org> org;         // set (and indexed) only when errors is empty
  std::vector<LoadError> errors;  // sorted by position
};

// Parses and validates `yaml_text`; `file_name` is used in error locations.
// Checks: known keys at every level; ids present, well-formed
// ([a-z][a-z0-9_]*) and unique per kind; "system" is not a person id (it
// names automatic steps); every department's head and supervisor, every
// person's department and positions, every group member and both sides of
// every proxy exist; a department head whose home department is set belongs
// to that department; at most one purchasing department; proxy times are
// ISO 8601 with a zone and `from` is before `until`; nobody is their own
// proxy.
OrgLoad LoadOrg(std::string_view yaml_text, std::string_view file_name);

}  // namespace approvald

#endif  // APPROVALD_CORE_ORG_LOADER_H_
