// Builders shared by the store tests: events, append requests, rows and
// tasks with plausible values, and a temporary directory.
#ifndef APPROVALD_TESTS_ENGINE_STORE_STORE_TEST_UTIL_H_
#define APPROVALD_TESTS_ENGINE_STORE_STORE_TEST_UTIL_H_

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "approvald/store.h"

namespace approvald::storetest {

inline constexpr char kDefHash[] =
    "sha256:1111111111111111111111111111111111111111111111111111111111111111";

// Event `version` of an instance (instance id left 0 for the store to fill).
inline Event MakeEvent(int64_t version, std::string type = "approved",
                       std::string actor = "li", int64_t at_ms = 0) {
  Event e;
  e.version = version;
  e.at = Timestamp{at_ms ? at_ms : 1700000000000 + version * 1000};
  e.type = std::move(type);
  e.actor = PersonId(std::move(actor));
  e.node = version == 1 ? "" : "line1";
  e.data["amount"] = Value::Of(Money{123450 + version});
  e.data["note"] = Value::Str("第" + std::to_string(version) + "步");
  e.comment = "ok";
  return e;
}

// `n` events continuing an instance at `expected`.
inline AppendRequest Continue(InstanceId id, int64_t expected, int n = 1,
                              std::string actor = "li") {
  AppendRequest r;
  r.instance = id;
  r.expected_version = expected;
  for (int i = 1; i <= n; ++i)
    r.events.push_back(MakeEvent(expected + i, "approved", actor));
  r.row.workflow = "expense";
  r.row.workflow_version = 1;
  r.row.def_hash = kDefHash;
  r.row.status = "running";
  r.row.submitter = PersonId("zhang");
  r.row.title = "差旅报销";
  r.row.amount = Money{123450};
  r.row.current_nodes = "line1";
  r.row.created_at = Timestamp{1700000000000};
  r.row.updated_at = Timestamp{1700000000000 + (expected + n) * 1000};
  r.tasks.push_back(TaskRow{id, "line1", PersonId("wang"), "pending",
                            Timestamp{1700000000000 + (expected + n) * 1000}});
  return r;
}

// A submission: a new instance with `n` events.
inline AppendRequest Submit(std::string workflow = "expense",
                            std::string submitter = "zhang", int n = 1) {
  AppendRequest r = Continue(InstanceId{0}, 0, n, submitter);
  r.events[0].type = "submitted";
  r.row.workflow = std::move(workflow);
  r.row.submitter = PersonId(std::move(submitter));
  return r;
}

// A fresh directory under $TMPDIR (or /tmp), removed by the destructor.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base && *base ? base : "/tmp") + "/approvald-store-XXXXXX";
    char* made = mkdtemp(pattern.data());
    if (made) path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace approvald::storetest

#endif  // APPROVALD_TESTS_ENGINE_STORE_STORE_TEST_UTIL_H_
