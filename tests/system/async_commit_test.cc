// Submissions and approvals do not hold a worker thread while their commit
// becomes durable (RouteAsync -> Engine::SubmitAsync / ActAsync ->
// Store::AppendAsync). With a single worker thread and the store's writer
// held up (the test holds SQLite's write lock from outside), the daemon still
// takes request after request: the 32 concurrent approvals all reach the
// store and are committed together once the lock is released, and the worker
// answers a read meanwhile. With one blocked worker per request, the worker
// would wait in the first commit, the read would not be answered, and every
// batch would hold one request.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/system/client.h"
#include "tests/system/sys_util.h"

namespace approvald::systest {
namespace {

// The value of the metric line `name` (exact name, no labels) in /metrics.
int64_t MetricValue(HttpClient& c, const std::string& name) {
  Reply r = c.Send(http::verb::get, "/metrics");
  EXPECT_EQ(r.status, 200);
  std::istringstream in(r.body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stoll(line.substr(name.size() + 1));
  }
  ADD_FAILURE() << "no metric " << name << " in /metrics";
  return -1;
}

// Holds the write lock of the SQLite database at `path` (BEGIN IMMEDIATE)
// from this process until destroyed; writes nothing.
class OutsideWriteLock {
 public:
  explicit OutsideWriteLock(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK ||
        sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
      error_ = db_ ? sqlite3_errmsg(db_) : "cannot open " + path;
    }
  }
  ~OutsideWriteLock() {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
  }
  OutsideWriteLock(const OutsideWriteLock&) = delete;
  OutsideWriteLock& operator=(const OutsideWriteLock&) = delete;
  // Empty when the lock is held.
  const std::string& error() const { return error_; }

 private:
  sqlite3* db_ = nullptr;
  std::string error_;
};

TEST(AsyncCommitTest, OneWorkerThreadAnswersManyConcurrentCommitsInSharedBatches) {
  std::string dir = TempDir("approvald_async_commit");
  Daemon d(dir + "/data", std::string("worker_threads: 1\n") + kNoRateLimit);
  ASSERT_TRUE(d.running()) << d.start_error();
  const std::map<std::string, std::string> head_of = {{"zhang_min", "lin_xiaoyan"},
                                                      {"xu_lei", "yang_fan"},
                                                      {"hu_bin", "zhu_qiang"},
                                                      {"song_jia", "luo_jun"}};
  std::map<std::string, std::string> token;
  HttpClient login(d.port());
  for (const auto& [clerk, head] : head_of) {
    token[clerk] = LoginAs(login, clerk);
    token[head] = LoginAs(login, head);
    ASSERT_FALSE(token[clerk].empty() || token[head].empty());
  }
  std::vector<std::string> clerks;
  for (const auto& [clerk, head] : head_of) clerks.push_back(clerk);

  constexpr int kClients = 32;
  constexpr int kPerClient = 4;
  std::mutex mu;
  struct Submitted {
    int64_t id;
    int64_t version;
    std::string approver;
  };
  std::vector<Submitted> submitted;
  std::atomic<int> failures{0};
  auto run = [&](auto&& body) {
    std::vector<std::thread> threads;
    for (int i = 0; i < kClients; ++i) threads.emplace_back([&, i] { body(i); });
    for (auto& t : threads) t.join();
  };

  run([&](int i) {
    HttpClient c(d.port());
    const std::string& clerk = clerks[i % clerks.size()];
    for (int n = 0; n < kPerClient; ++n) {
      std::string inv = "ASYNC-" + std::to_string(i) + "-" + std::to_string(n);
      Reply r = c.Send(http::verb::post, "/api/v1/instances", ExpenseJson(inv),
                       {{"Authorization", Bearer(token[clerk])}, {"Idempotency-Key", inv}});
      if (r.status != 201) {
        ++failures;
        ADD_FAILURE() << "submit: " << r.status << " " << r.body << r.error;
        continue;
      }
      std::lock_guard lock(mu);
      json::value v = r.Json();
      submitted.push_back({v.at("id").as_int64(), v.at("version").as_int64(), head_of.at(clerk)});
    }
  });
  ASSERT_EQ(failures.load(), 0);
  ASSERT_EQ(submitted.size(), size_t{kClients * kPerClient});

  // The approvals, the first of each client's four while the writer waits
  // for the lock. The store's busy timeout (5 s) outlasts the hold.
  const std::string batched = "approvald_store_commit_batch_size_bucket{le=\"16\"}";
  int64_t sum0 = MetricValue(login, "approvald_store_commit_batch_size_sum");
  int64_t count0 = MetricValue(login, "approvald_store_commit_batch_size_count");
  int64_t small0 = MetricValue(login, batched);
  std::string auditor = LoginAs(login, "qian_weidong");  // audited: before the lock
  auto lock = std::make_unique<OutsideWriteLock>(dir + "/data/approvald.db");
  ASSERT_EQ(lock->error(), "");
  std::thread approvals([&] {
    run([&](int i) {
      HttpClient c(d.port());
      for (size_t k = static_cast<size_t>(i); k < submitted.size(); k += kClients) {
        const Submitted& s = submitted[k];
        Reply r = c.Send(http::verb::post,
                         "/api/v1/instances/" + std::to_string(s.id) + "/actions",
                         R"({"action":"approve","node":"dept_head_review","expected_version":)" +
                             std::to_string(s.version) + "}",
                         {{"Authorization", Bearer(token[s.approver])}});
        if (r.status != 200) {
          ++failures;
          ADD_FAILURE() << "approve " << s.id << ": " << r.status << " " << r.body << r.error;
          continue;
        }
        EXPECT_GT(r.Json().at("version").as_int64(), s.version) << r.body;
        EXPECT_FALSE(r.headers["x-request-id"].empty());
      }
    });
  });
  // The one worker thread answers a read while the commits wait.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto read_start = std::chrono::steady_clock::now();
  // (A list, which a worker answers; a cached instance would be answered
  // without one.)
  Reply read = login.Send(http::verb::get, "/api/v1/instances?limit=1", "",
                          {{"Authorization", Bearer(auditor)}});
  EXPECT_EQ(read.status, 200) << read.body << read.error;
  EXPECT_LT(std::chrono::steady_clock::now() - read_start, std::chrono::seconds(2));
  lock.reset();
  approvals.join();
  ASSERT_EQ(failures.load(), 0);
  int64_t requests = MetricValue(login, "approvald_store_commit_batch_size_sum") - sum0;
  int64_t batches = MetricValue(login, "approvald_store_commit_batch_size_count") - count0;
  int64_t small = MetricValue(login, batched) - small0;
  // Every approval was committed (and nothing else but the odd audit
  // record or checkpoint).
  EXPECT_GE(requests, kClients * kPerClient);
  // The approvals that waited for the lock were committed together.
  EXPECT_LT(small, batches) << "no batch of more than 16 among " << batches << " batches of "
                            << requests << " requests";

  // Every approval is stored (a fresh read from the store, via the list).
  bool ok = false;
  std::set<int64_t> ids = AllInstanceIds(login, auditor, &ok);
  ASSERT_TRUE(ok);
  for (const Submitted& s : submitted) {
    Reply r = login.Send(http::verb::get, "/api/v1/instances/" + std::to_string(s.id), "",
                         {{"Authorization", Bearer(auditor)}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_GT(r.Json().at("version").as_int64(), s.version);
    EXPECT_TRUE(ids.count(s.id));
  }
  EXPECT_EQ(d.Stop(SIGTERM), 0) << d.StderrTail();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace approvald::systest
