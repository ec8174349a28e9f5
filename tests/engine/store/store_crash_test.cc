// Crash and full-disk tests: a child process (store_crash_child) writes
// under concurrent load and reports every acknowledged write; the parent
// SIGKILLs it at random moments, or lets it run into RLIMIT_FSIZE, then
// reopens the database and checks that every acknowledged write is there,
// that no append is half-written, that the projections agree with the
// events, that the stored Merkle tree is the one the leaves give
// (CheckIntegrity), and that the audit log verifies (audit::VerifyLog).
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>

#include "audit/checkpoint.h"
#include "audit/verify.h"
#include "crash_workload.h"
#include "store/sqlite/sqlite_store.h"
#include "store_test_util.h"

#ifndef STORE_CRASH_CHILD
#error "STORE_CRASH_CHILD must name the store_crash_child binary"
#endif

namespace approvald {
namespace {

using storetest::TempDir;

// What the child acknowledged, from its stdout.
struct Acks {
  std::map<int64_t, int64_t> versions;  // instance -> highest acked version
  std::set<int64_t> records;            // acked audit record indexes
  std::vector<std::string> errors;      // "E <code> <reason>" lines
  bool started = false;                 // the child said "S"
  int64_t lines = 0;

  void Parse(const std::string& line) {
    std::istringstream in(line);
    std::string tag;
    in >> tag;
    ++lines;
    if (tag == "A") {
      int64_t inst = 0, version = 0;
      in >> inst >> version;
      int64_t& v = versions[inst];
      v = std::max(v, version);
    } else if (tag == "R") {
      int64_t idx = 0;
      in >> idx;
      records.insert(idx);
    } else if (tag == "E") {
      errors.push_back(line);
    } else if (tag == "S") {
      started = true;
    } else {
      ADD_FAILURE() << "unexpected line from the child: " << line;
    }
  }
};

// Starts the child with `args`, its stdout on a pipe. `rlimit_fsize` > 0
// limits the size of files it may write (SIGXFSZ ignored, so writes fail
// with EFBIG instead of killing it).
pid_t Spawn(const std::vector<std::string>& args, int* out_fd, rlim_t rlimit_fsize = 0) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    if (rlimit_fsize > 0) {
      signal(SIGXFSZ, SIG_IGN);
      struct rlimit rl = {rlimit_fsize, rlimit_fsize};
      setrlimit(RLIMIT_FSIZE, &rl);
    }
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(STORE_CRASH_CHILD));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(STORE_CRASH_CHILD, argv.data());
    _exit(127);
  }
  close(fds[1]);
  *out_fd = fds[0];
  return pid;
}

// Reads lines from `fd` into `acks` until EOF, until `deadline` if given,
// or, with `until_started`, until the child said it started. Returns false
// at EOF.
bool ReadLines(int fd, Acks& acks, std::string& partial,
               std::optional<std::chrono::steady_clock::time_point> deadline,
               bool until_started = false) {
  char buf[65536];
  for (;;) {
    if (until_started && acks.started) return true;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      *deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) return true;
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    }
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    partial.append(buf, n);
    size_t pos;
    while ((pos = partial.find('\n')) != std::string::npos) {
      acks.Parse(partial.substr(0, pos));
      partial.erase(0, pos + 1);
    }
  }
}

// Everything the crash test checks on a reopened database.
void CheckSurvivors(SqliteStore& store, const Acks& acks, const audit::LogKey& key,
                    const std::string& round) {
  SCOPED_TRACE(round);
  auto integrity = store.CheckIntegrity();
  ASSERT_TRUE(integrity) << integrity.error().ToString();
  auto report = audit::VerifyLog(store, key);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_TRUE(report->ok) << report->Summary();

  // Every acknowledged append is there.
  for (const auto& [inst, version] : acks.versions) {
    auto row = store.GetInstance(InstanceId{inst});
    ASSERT_TRUE(row.has_value())
        << "acknowledged instance " << inst << " is lost: " << row.error().ToString();
    ASSERT_GE(row->version, version)
        << "instance " << inst << " lost acknowledged version " << version;
  }
  int64_t size = store.AuditSize().value();
  for (int64_t idx : acks.records) {
    ASSERT_LT(idx, size) << "acknowledged audit record " << idx << " is lost";
    AuditQuery aq;
    aq.after_index = idx - 1;
    aq.limit = 1;
    auto e = store.QueryAudit(aq);
    ASSERT_TRUE(e.has_value());
    ASSERT_EQ(e->size(), 1u);
    EXPECT_EQ((*e)[0].kind, "record");
  }

  // No half-written append, and projections that match the events.
  InstanceQuery q;
  q.limit = 1000;
  for (;;) {
    auto page = store.ListInstances(q);
    ASSERT_TRUE(page.has_value());
    if (page->empty()) break;
    for (const InstanceRow& row : *page) {
      EXPECT_EQ(row.version % 2, 0)
          << "instance " << row.id.value << " is half-written at version " << row.version;
      EXPECT_EQ(row.title, "v" + std::to_string(row.version));
      EXPECT_EQ(row.current_nodes, "n" + std::to_string(row.version));
      auto events = store.LoadEvents(row.id);
      ASSERT_TRUE(events.has_value()) << events.error().ToString();
      EXPECT_EQ(static_cast<int64_t>(events->size()), row.version);
      auto tasks = store.ListTasks(row.submitter, "pending", 10);
      ASSERT_TRUE(tasks.has_value());
      ASSERT_EQ(tasks->size(), 1u) << "instance " << row.id.value;
      EXPECT_EQ((*tasks)[0].instance, row.id);
      EXPECT_EQ((*tasks)[0].node, "n" + std::to_string(row.version));
    }
    q.after_id = page->back().id.value;
  }
}

TEST(StoreCrashTest, AcknowledgedWritesSurviveSigkill) {
  TempDir dir;
  std::string db = dir.File("crash.db");
  std::string key_path = dir.File("checkpoint.key");
  auto key = audit::SigningKey::Generate();
  ASSERT_TRUE(key.has_value());
  ASSERT_TRUE(key->SavePem(key_path));
  audit::LogKey log_key{crashtest::kOrigin, key->public_key()};

  uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("STORE_CRASH_SEED"))
    seed = std::strtoull(s, nullptr, 10);
  std::printf("StoreCrashTest seed %llu (set STORE_CRASH_SEED to replay)\n",
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> delay_ms(30, 300);

  // Most rounds kill the child at a random moment of its write load; every
  // fourth kills it at a random moment from its start, which may fall while
  // it opens the database and recovers the WAL the last kill left behind.
  constexpr int kRounds = 24;
  std::uniform_int_distribution<int> early_ms(2, 120);
  Acks acks;
  int64_t acked_before = 0;
  int loaded_rounds = 0, rounds_with_acks = 0;
  for (int round = 0; round < kRounds; ++round) {
    int fd = -1;
    pid_t pid = Spawn({"append", db, "16", key_path}, &fd);
    ASSERT_GT(pid, 0);
    std::string partial;
    bool under_load = round % 4 != 3;
    acks.started = false;
    bool alive = true;
    if (under_load) {
      alive = ReadLines(fd, acks, partial, std::nullopt, /*until_started=*/true);
      ++loaded_rounds;
    }
    int wait = under_load ? delay_ms(rng) : early_ms(rng);
    alive = alive &&
            ReadLines(fd, acks, partial,
                      std::chrono::steady_clock::now() + std::chrono::milliseconds(wait));
    kill(pid, SIGKILL);
    ReadLines(fd, acks, partial, std::nullopt);  // drain what it wrote
    close(fd);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(alive) << "the child exited on its own in round " << round;
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    EXPECT_TRUE(acks.errors.empty()) << acks.errors.front();

    auto store = SqliteStore::Open(SqliteOptions{.path = db});
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    CheckSurvivors(**store, acks, log_key,
                   "round " + std::to_string(round) + ", killed after " +
                       std::to_string(wait) + " ms");
    if (HasFatalFailure()) return;
    std::printf(
        "round %2d: killed %3d ms after %s; %lld lines in this round, "
        "%zu instances so far, all present\n",
        round, wait, under_load ? "it started writing" : "exec",
        static_cast<long long>(acks.lines - acked_before), acks.versions.size());
    if (under_load && acks.lines > acked_before + 1) ++rounds_with_acks;
    acked_before = acks.lines;
  }
  // The child really wrote in most rounds before it was killed (it needs a
  // few milliseconds to start, and each durable commit waits for the disk).
  EXPECT_GE(rounds_with_acks, loaded_rounds / 2);
  EXPECT_GT(acks.versions.size(), size_t{kRounds});
  EXPECT_GT(acks.records.size(), 0u);
}

TEST(StoreFullDiskTest, FailingWritesAreUnavailableAndNothingAcknowledgedIsLost) {
  TempDir dir;
  std::string db = dir.File("full.db");
  {
    auto store = SqliteStore::Open(SqliteOptions{.path = db});
    ASSERT_TRUE(store.has_value());
  }
  // Room for about 1 MB more per file (database and WAL).
  rlim_t limit = std::filesystem::file_size(db) + (1 << 20);
  int fd = -1;
  pid_t pid = Spawn({"fill", db, "4"}, &fd, limit);
  ASSERT_GT(pid, 0);
  Acks acks;
  std::string partial;
  ReadLines(fd, acks, partial, std::nullopt);
  close(fd);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "the child crashed instead of failing cleanly";
  EXPECT_EQ(WEXITSTATUS(status), 0);
  ASSERT_FALSE(acks.errors.empty()) << "the size limit was never reached";
  EXPECT_FALSE(acks.versions.empty()) << "nothing fit before the limit";
  for (const std::string& e : acks.errors)
    EXPECT_THAT(e, ::testing::StartsWith("E unavailable ")) << e;

  auto store = SqliteStore::Open(SqliteOptions{.path = db});
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  auto key = audit::SigningKey::Generate();
  CheckSurvivors(**store, acks, audit::LogKey{crashtest::kOrigin, key->public_key()},
                 "after the disk filled");
}

}  // namespace
}  // namespace approvald
