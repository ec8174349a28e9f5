// A full disk, end to end: the real daemon runs with RLIMIT_FSIZE set a
// little above its database's size, so the database and its WAL soon cannot
// grow. It must refuse new work with 503 "storage_full" in the standard
// error shape, never acknowledge what it did not store, keep answering
// reads, and accept work again once the limit is lifted ("space returns").
// Afterwards the audit log verifies and the projections match the events.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <map>

#include "tests/system/client.h"
#include "tests/system/projection_check.h"
#include "tests/system/sys_util.h"

namespace approvald::systest {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TEST(FullDiskTest, RefusesNewWorkKeepsReadingAndRecovers) {
  std::string dir = TempDir("approvald_fulldisk");
  std::string data = dir + "/data";
  std::string clerk, head, auditor;
  int64_t first_id = 0;
  {
    // A first run creates the database, the demo users and their sessions
    // (sessions outlive restarts), and one instance.
    Daemon d(data, kNoRateLimit);
    ASSERT_TRUE(d.running()) << d.start_error();
    HttpClient c(d.port());
    clerk = LoginAs(c, "zhang_min");
    head = LoginAs(c, "lin_xiaoyan");
    auditor = LoginAs(c, "qian_weidong");
    ASSERT_FALSE(clerk.empty() || head.empty() || auditor.empty());
    Reply r = c.Send(http::verb::post, "/api/v1/instances", ExpenseJson("FULL-0"),
                     {{"Authorization", Bearer(clerk)}});
    ASSERT_EQ(r.status, 201) << r.body;
    first_id = r.Json().at("id").as_int64();
    ASSERT_EQ(d.Stop(SIGTERM), 0) << d.StderrTail();  // checkpoints the WAL away
  }
  // Room for about 128 KiB more in any one file.
  int64_t limit = static_cast<int64_t>(fs::file_size(data + "/approvald.db")) + (128 << 10);
  DaemonOptions opts;
  opts.file_size_limit = limit;
  Daemon d(data, kNoRateLimit, opts);
  ASSERT_TRUE(d.running()) << d.start_error();
  HttpClient c(d.port());

  std::set<int64_t> acked = {first_id};
  // Until five submissions in a row are refused (a WAL checkpoint may free
  // room once or twice before both files are at the limit).
  int refused = 0, in_a_row = 0;
  int64_t last_version = 0;  // of the newest acknowledged instance
  Reply refusal;
  for (int i = 0; i < 3000 && in_a_row < 5; ++i) {
    std::string key = "full-" + std::to_string(i);
    Reply r = c.Send(http::verb::post, "/api/v1/instances", ExpenseJson("FULL-" + std::to_string(i + 1)),
                     {{"Authorization", Bearer(clerk)}, {"Idempotency-Key", key}});
    ASSERT_NE(r.status, 0) << "the daemon died: " << r.error << "\n" << d.StderrTail();
    if (r.status == 201) {
      acked.insert(r.Json().at("id").as_int64());
      last_version = r.Json().at("version").as_int64();
      in_a_row = 0;
      continue;
    }
    ASSERT_EQ(r.status, 503) << r.body;
    ASSERT_EQ(r.Code(), "storage_full") << r.body;
    refusal = r;
    ++refused;
    ++in_a_row;
  }
  ASSERT_GT(refused, 0) << "the file-size limit was never reached";
  ASSERT_GT(acked.size(), 1u) << "nothing fit before the limit";
  // The standard error shape, with a message that says what to do.
  json::value e = refusal.Json();
  ASSERT_TRUE(e.is_object());
  EXPECT_NE(std::string(e.at("error").at("message").as_string()).find("full"), std::string::npos)
      << refusal.body;
  EXPECT_EQ(refusal.headers["content-type"], "application/json");

  // Approvals are refused the same way; nothing changes. No space at all from
  // here on: a small append could otherwise fit into the slack of a WAL that
  // the checkpointer restarted meanwhile, and be stored (and acknowledged)
  // rightly.
  ASSERT_TRUE(d.SetFileSizeLimit(1));
  int64_t some = *acked.rbegin();
  int64_t some_version = last_version;
  std::string path = "/api/v1/instances/" + std::to_string(some);
  Reply approve = c.Send(http::verb::post, path + "/actions",
                         R"({"action":"approve","node":"dept_head_review"})",
                         {{"Authorization", Bearer(head)}});
  EXPECT_EQ(approve.status, 503) << approve.body;
  EXPECT_EQ(approve.Code(), "storage_full");

  // Reads go on: health, instances, tasks, the audit log.
  EXPECT_EQ(c.Send(http::verb::get, "/healthz").status, 200);
  Reply got = c.Send(http::verb::get, path, "", {{"Authorization", Bearer(head)}});
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.Json().at("version").as_int64(), some_version);
  EXPECT_EQ(c.Send(http::verb::get, "/api/v1/tasks?kind=pending", "",
                   {{"Authorization", Bearer(head)}}).status, 200);
  EXPECT_EQ(c.Send(http::verb::get, "/api/v1/audit?limit=10", "",
                   {{"Authorization", Bearer(auditor)}}).status, 200);
  // Exactly the acknowledged instances exist: no refused one slipped in.
  bool ok = false;
  std::set<int64_t> listed = AllInstanceIds(c, auditor, &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(listed, acked);

  // Space returns: the same daemon takes work again without a restart.
  ASSERT_TRUE(d.SetFileSizeLimit(0));
  Reply again;
  for (int i = 0; i < 20; ++i) {
    again = c.Send(http::verb::post, "/api/v1/instances", ExpenseJson("FULL-AFTER"),
                   {{"Authorization", Bearer(clerk)}, {"Idempotency-Key", "after-space"}});
    if (again.status == 201) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(again.status, 201) << again.body << "\n" << d.StderrTail();
  acked.insert(again.Json().at("id").as_int64());
  Reply approved = c.Send(http::verb::post, path + "/actions",
                          R"({"action":"approve","node":"dept_head_review"})",
                          {{"Authorization", Bearer(head)}});
  EXPECT_EQ(approved.status, 200) << approved.body;
  listed = AllInstanceIds(c, auditor, &ok);
  EXPECT_EQ(listed, acked);
  ASSERT_EQ(d.Stop(SIGTERM), 0) << d.StderrTail();

  std::string out;
  EXPECT_EQ(RunAuditVerify(data, &out), 0) << out;
  ProjectionReport rep = CheckProjections(data + "/approvald.db", APPROVAL_SOURCE_DIR "/config/org.yaml");
  EXPECT_TRUE(rep.ok()) << rep.error << (rep.problems.empty() ? "" : rep.problems.front());
  EXPECT_EQ(rep.instances, static_cast<int64_t>(acked.size()));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace approvald::systest
