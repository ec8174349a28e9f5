// Start-up helpers of the daemon: reading the files the config names
// (organisation, workflows, holidays, unit configuration) and turning them
// into what the engine takes. The only api/ code besides main.cc that reads
// those files; the engine core gets their text.
#ifndef APPROVALD_API_BOOTSTRAP_H_
#define APPROVALD_API_BOOTSTRAP_H_

#include <memory>
#include <string>
#include <vector>

#include "approvald/org.h"
#include "approvald/status.h"
#include "approvald/store.h"
#include "approvald/value.h"
#include "core/calendar.h"
#include "core/registry.h"

namespace approvald::api {

// The whole file; kNotFound ("file_missing") naming it if unreadable.
Result<std::string> ReadTextFile(const std::string& path);

// "sha256:<hex>" of `text`.
std::string Sha256Address(std::string_view text);

// Loads and validates the organisation file. kInvalidArgument
// ("invalid_org") with every problem, one per line, on failure.
Result<std::shared_ptr<const Org>> LoadOrgFile(const std::string& path);

// Fills `registry` so versions are stable across restarts: first every
// definition version stored earlier (in version order), then every *.yaml
// file in `dir` (sorted); a file whose text changed becomes a new version,
// which is saved to the store. Fails with every load error (file:line:col)
// of the files, or the store's error. Returns the number of new versions.
Result<int> LoadWorkflows(const std::string& dir, const Org& org, Store& store,
                          WorkflowRegistry& registry);

// The holiday calendar: YAML
//   holidays: [2024-10-01, 2024-10-02, ...]   days off that fall on weekdays
//   workdays: [2024-10-12, ...]               weekend days worked instead (调休)
// "" yields the Monday-Friday calendar. Errors name the file and the entry.
Result<Calendar> LoadCalendarFile(const std::string& path);

// The unit configuration: any YAML mapping, converted to a record of values
// (integers, booleans, text, lists, records; "12.50" stays text). "" yields
// an empty record.
Result<Value::Record> LoadUnitConfigFile(const std::string& path);

}  // namespace approvald::api

#endif  // APPROVALD_API_BOOTSTRAP_H_
