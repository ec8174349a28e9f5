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

// The holiday calendar (config/holidays.yaml; core/unit_config.h
// LoadHolidayCalendar documents the format). "" yields the Monday-Friday
// calendar. kNotFound ("holidays_missing") if the file cannot be read;
// kInvalidArgument ("invalid_calendar") with every problem as
// file:line:column, one per line.
Result<Calendar> LoadCalendarFile(const std::string& path);

// The unit configuration the built-in checks read (core/unit_config.h
// LoadUnitConfig): config/unit.yaml at `unit_path` with the procurement
// catalogues at `catalogue_path` ("" = none: the procurement checks then
// refuse to run), validated against `org` (the purchasing department, the
// self-check reviewer). "" for `unit_path` yields an empty record.
// kNotFound ("unit_config_missing", "catalogue_missing") if a file cannot be
// read; kInvalidArgument ("invalid_unit_config") with every problem of both
// files as file:line:column, one per line.
Result<Value::Record> LoadUnitConfigFiles(const std::string& unit_path,
                                          const std::string& catalogue_path,
                                          const Org& org);

}  // namespace approvald::api

#endif  // APPROVALD_API_BOOTSTRAP_H_
