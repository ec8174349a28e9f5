// The workload of the crash test, shared by the child that runs it
// (store_crash_child.cc) and the parent that checks what survived
// (store_crash_test.cc). Every append adds two events, so an instance at an
// odd version would be a half-written append; the projections encode the
// version so the parent can check they match the events.
#ifndef APPROVALD_TESTS_ENGINE_STORE_CRASH_WORKLOAD_H_
#define APPROVALD_TESTS_ENGINE_STORE_CRASH_WORKLOAD_H_

#include <string>

#include "approvald/store.h"

namespace approvald::crashtest {

inline constexpr char kOrigin[] = "approvald/crash-test";
inline constexpr char kDefSource[] = "id: expense\nversion: 1\n# crash test\n";

// Two events taking an instance from `expected` to expected + 2. `owner`
// is a name unique to the instance, chosen by the child before the store
// assigns an id: it is the submitter and the one pending task's person.
// `comment` pads the events (the fill test uses it to grow the database).
inline AppendRequest TwoEvents(InstanceId id, int64_t expected,
                               const std::string& def_hash, const std::string& owner,
                               const std::string& comment = "") {
  AppendRequest r;
  r.instance = id;
  r.expected_version = expected;
  for (int i = 1; i <= 2; ++i) {
    Event e;
    e.version = expected + i;
    e.at = Timestamp{1700000000000 + e.version};
    e.type = e.version == 1 ? "submitted" : "approved";
    e.actor = PersonId("u" + std::to_string(id.value));
    e.node = "n";
    e.data["amount"] = Value::Of(Money{e.version * 100});
    e.comment = comment;
    r.events.push_back(std::move(e));
  }
  int64_t v = expected + 2;
  r.row.workflow = "expense";
  r.row.workflow_version = 1;
  r.row.def_hash = def_hash;
  r.row.status = "running";
  r.row.submitter = PersonId(owner);
  r.row.title = "v" + std::to_string(v);
  r.row.current_nodes = "n" + std::to_string(v);
  r.row.created_at = Timestamp{1700000000000};
  r.row.updated_at = Timestamp{1700000000000 + v};
  r.tasks.push_back(
      TaskRow{id, "n" + std::to_string(v), PersonId(owner), "pending", Timestamp{v}});
  return r;
}

}  // namespace approvald::crashtest

#endif  // APPROVALD_TESTS_ENGINE_STORE_CRASH_WORKLOAD_H_
