// Checks that a stopped daemon's database is self-consistent: the instance
// and task tables (projections) agree with a fold of the stored events, as
// the engine would have written them. Used by the crash and full-disk tests
// after the daemon was killed or starved of disk.
//
// For every instance: the events load and fold without error, and the
// instance row's workflow, definition version and hash, status, submitter,
// active nodes, version and times equal the folded state's; its task rows
// (pending, done, cc) are exactly the ones the fold implies (pending = the
// core's PendingPeople for the definition the instance runs on, done = the
// people who acted, cc = the people copied). The title and amount columns
// are display summaries and are not checked. Task rows of instances that do
// not exist are reported too.
#ifndef APPROVALD_TESTS_SYSTEM_PROJECTION_CHECK_H_
#define APPROVALD_TESTS_SYSTEM_PROJECTION_CHECK_H_

#include <cstdint>
#include <string>
#include <vector>

namespace approvald::systest {

struct ProjectionReport {
  int64_t instances = 0;        // instances checked
  int64_t events = 0;           // events folded
  int64_t task_rows = 0;        // task rows compared
  std::vector<std::string> problems;  // empty: consistent (at most 50 kept)
  std::string error;            // the database could not be read at all
  bool ok() const { return error.empty() && problems.empty(); }
};

// Opens `db_path` (the daemon must not be running), loads the organisation
// from `org_file` and the stored workflow definitions, and checks every
// instance as the file comment says.
ProjectionReport CheckProjections(const std::string& db_path, const std::string& org_file);

}  // namespace approvald::systest

#endif  // APPROVALD_TESTS_SYSTEM_PROJECTION_CHECK_H_
