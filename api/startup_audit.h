// Audit records for what the daemon loads at start (issue 3: "changes to
// users, the organisation and workflow definitions" are leaves of the audit
// log). Changes made through the API are audited where they are made
// (router PutOrg: "org_changed", auth: "user_added" / "user_changed"); these
// cover the files an operator edits between runs.
//
// Both functions are idempotent against the log itself, not against a
// marker kept elsewhere: they look for the record they would write and
// append only when it is absent. Restarting with the same files therefore
// adds nothing, and a crash between storing a definition and auditing it is
// repaired by the next start.
#ifndef APPROVALD_API_STARTUP_AUDIT_H_
#define APPROVALD_API_STARTUP_AUDIT_H_

#include <string_view>

#include "approvald/org.h"
#include "approvald/status.h"
#include "approvald/store.h"
#include "approvald/types.h"

namespace approvald::api {

// The actor of records the daemon writes on its own behalf.
inline constexpr std::string_view kSystemActor = "system";
// Record type of a stored workflow definition version.
inline constexpr std::string_view kDefinitionAddedType = "definition_added";
// Record type of an organisation change (shared with PUT /api/v1/org).
inline constexpr std::string_view kOrgChangedType = "org_changed";

// Appends one "definition_added" record (actor "system", subject
// "workflow:<id>@<version>", data {workflow, version, def_hash}) for every
// definition version in `store` that no "definition_added" record names yet
// (matched by definition hash), in (id, version) order, at `now`. Call after
// LoadWorkflows. Returns the number of records appended; fails with the
// store's error.
Result<int> AuditNewDefinitions(Store& store, Timestamp now);

// Appends an "org_changed" record (actor "system", subject "org", data
// {sha256, people, departments, source: "file", file}) when the SHA-256 (hex)
// of `org_text` differs from the "sha256" of the latest "org_changed" record
// in the log, or there is none. `org` is the organisation parsed from
// `org_text`; `file` names where it was read. Returns whether a record was
// appended; fails with the store's error.
Result<bool> AuditOrgIfChanged(Store& store, std::string_view org_text, const Org& org,
                               std::string_view file, Timestamp now);

}  // namespace approvald::api

#endif  // APPROVALD_API_STARTUP_AUDIT_H_
