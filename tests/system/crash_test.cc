// Crash safety end to end: the real daemon, under concurrent HTTP load
// (clerks submitting, department heads approving), is killed with SIGKILL at
// a random moment, many times over, and restarted on the same data
// directory. After every kill, with the daemon down:
//   - every action a client saw acknowledged (201 submit, 200 approve) is in
//     the store, at the version the client was told, by the same person;
//   - `approvald audit verify` passes (every leaf recomputed, the Merkle
//     tree and every signed checkpoint);
//   - the instance and task tables agree with a fold of the events
//     (tests/system/projection_check.h).
// CRASH_KILLS (default 20) sets the number of kills; the seed is printed so
// a failure can be replayed with CRASH_SEED.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "approvald/event.h"
#include "store/sqlite/sqlite_store.h"
#include "tests/system/client.h"
#include "tests/system/projection_check.h"
#include "tests/system/sys_util.h"

namespace approvald::systest {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Ack {
  int64_t instance;
  int64_t version;      // the instance's version the client was told
  std::string person;   // who acted
  std::string what;     // "submit" | "approve"
};

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

// Clerk -> the head of the clerk's department (dept_head_review).
const std::vector<std::pair<std::string, std::string>> kPairs = {
    {"zhang_min", "lin_xiaoyan"}, {"xu_lei", "yang_fan"}, {"feng_tao", "han_xue"}};

class Load {
 public:
  Load(uint16_t port, const std::map<std::string, std::string>& tokens, uint32_t seed, int round)
      : port_(port), tokens_(tokens), seed_(seed), round_(round) {}

  void Start() {
    for (size_t i = 0; i < kPairs.size(); ++i) {
      threads_.emplace_back([this, i] { Submitter(kPairs[i].first, static_cast<int>(i)); });
      threads_.emplace_back([this, i] { Approver(kPairs[i].second); });
    }
  }
  // Call after the daemon died: the threads see their connections fail.
  void Join() {
    stop_ = true;
    for (auto& t : threads_) t.join();
  }
  std::vector<Ack> acks() {
    std::lock_guard l(mu_);
    return acks_;
  }
  std::vector<std::string> failures() {
    std::lock_guard l(mu_);
    return failures_;
  }
  int requests() const { return requests_.load(); }

 private:
  void Record(Ack a) {
    std::lock_guard l(mu_);
    acks_.push_back(std::move(a));
  }
  void Fail(const std::string& f) {
    std::lock_guard l(mu_);
    if (failures_.size() < 20) failures_.push_back(f);
  }

  void Submitter(const std::string& user, int k) {
    HttpClient c(port_, 5s);
    for (int n = 0; !stop_; ++n) {
      std::string key = "crash-" + std::to_string(round_) + "-" + std::to_string(k) + "-" +
                        std::to_string(n);
      Reply r = c.Send(http::verb::post, "/api/v1/instances", ExpenseJson(key, 10000 + n),
                       {{"Authorization", Bearer(tokens_.at(user))}, {"Idempotency-Key", key}});
      requests_++;
      if (r.status == 201) {
        json::value v = r.Json();
        Record({v.at("id").as_int64(), v.at("version").as_int64(), user, "submit"});
      } else if (r.status == 0) {
        std::this_thread::sleep_for(20ms);  // killed: wait for the round to end
      } else {
        Fail(user + " submit: " + std::to_string(r.status) + " " + r.body.substr(0, 200));
      }
    }
  }

  void Approver(const std::string& user) {
    HttpClient c(port_, 5s);
    std::mt19937 rng(seed_ ^ std::hash<std::string>{}(user));
    while (!stop_) {
      Reply tasks = c.Send(http::verb::get, "/api/v1/tasks?kind=pending&limit=20", "",
                           {{"Authorization", Bearer(tokens_.at(user))}});
      requests_++;
      if (tasks.status != 200) {
        if (tasks.status != 0) Fail(user + " tasks: " + std::to_string(tasks.status));
        std::this_thread::sleep_for(20ms);
        continue;
      }
      json::value v = tasks.Json();
      const json::array& items = v.at("items").as_array();
      if (items.empty()) {
        std::this_thread::sleep_for(5ms);
        continue;
      }
      const json::value& t = items[rng() % items.size()];
      std::string path = "/api/v1/instances/" + std::to_string(t.at("instance").as_int64());
      json::object body;
      body["action"] = "approve";
      body["node"] = t.at("node");
      body["comment"] = "同意";
      Reply r = c.Send(http::verb::post, path + "/actions", json::serialize(body),
                       {{"Authorization", Bearer(tokens_.at(user))}});
      requests_++;
      if (r.status == 200) {
        json::value res = r.Json();
        Record({res.at("id").as_int64(), res.at("version").as_int64(), user, "approve"});
      } else if (r.status != 0 && r.status != 409 && r.status != 422) {
        // 409/422: the task moved on since the list was read.
        Fail(user + " approve: " + std::to_string(r.status) + " " + r.body.substr(0, 200));
      }
    }
  }

  uint16_t port_;
  const std::map<std::string, std::string>& tokens_;
  uint32_t seed_;
  int round_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::mutex mu_;
  std::vector<Ack> acks_;
  std::vector<std::string> failures_;
  std::vector<std::thread> threads_;
};

// Every acknowledged action is in the store as the client was told.
void CheckAcks(const std::string& db, const std::vector<Ack>& acks, int round) {
  SqliteOptions opts;
  opts.path = db;
  auto store = SqliteStore::Open(opts);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  std::map<int64_t, std::vector<Event>> cache;
  int lost = 0;
  for (const Ack& a : acks) {
    auto it = cache.find(a.instance);
    if (it == cache.end()) {
      auto ev = (*store)->LoadEvents(InstanceId{a.instance});
      it = cache.emplace(a.instance, ev ? *ev : std::vector<Event>{}).first;
    }
    const std::vector<Event>& events = it->second;
    // The instance reached the acknowledged version, and the person acted
    // at or before it (one action may append several events).
    bool found = a.version >= 1 && a.version <= static_cast<int64_t>(events.size());
    if (found) {
      found = false;
      for (const Event& e : events) found |= e.version <= a.version && e.actor.value == a.person;
    }
    if (!found && lost++ < 10) {
      ADD_FAILURE() << "round " << round << ": acknowledged " << a.what << " by " << a.person
                    << " of instance " << a.instance << " at version " << a.version
                    << " is missing (stored events: " << events.size() << ")";
    }
  }
  EXPECT_EQ(lost, 0) << "round " << round;
}

TEST(CrashTest, SigkillUnderLoadLosesNothingAcknowledged) {
  const int kills = EnvInt("CRASH_KILLS", 20);
  const uint32_t seed = static_cast<uint32_t>(EnvInt("CRASH_SEED", static_cast<int>(std::random_device{}())));
  std::printf("crash test: %d kills, CRASH_SEED=%u\n", kills, seed);
  std::mt19937 rng(seed);
  std::string dir = TempDir("approvald_crash");
  std::string data = dir + "/data";
  std::string config = std::string(kNoRateLimit) + "audit:\n  checkpoint_every_events: 50\n"
                       "  checkpoint_every_seconds: 1\n";
  std::map<std::string, std::string> tokens;
  std::vector<Ack> all;
  int total_requests = 0, kills_done = 0;
  auto start = std::chrono::steady_clock::now();
  for (int round = 0; round < kills; ++round) {
    Daemon d(data, config);
    ASSERT_TRUE(d.running()) << "round " << round << ": " << d.start_error();
    if (tokens.empty()) {
      // Sessions are stored, so the tokens stay valid across the restarts.
      HttpClient c(d.port());
      for (const auto& [clerk, head] : kPairs) {
        tokens[clerk] = LoginAs(c, clerk);
        tokens[head] = LoginAs(c, head);
        ASSERT_FALSE(tokens[clerk].empty() || tokens[head].empty());
      }
    }
    Load load(d.port(), tokens, seed + static_cast<uint32_t>(round), round);
    load.Start();
    // Kill at a random moment between 150 ms and 1.2 s into the load.
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 1050));
    EXPECT_EQ(d.Stop(SIGKILL, 5s), -1);  // -1: killed, no exit code
    ++kills_done;
    load.Join();
    for (const auto& f : load.failures()) ADD_FAILURE() << "round " << round << ": " << f;
    std::vector<Ack> acks = load.acks();
    all.insert(all.end(), acks.begin(), acks.end());
    total_requests += load.requests();

    // With the daemon down: acknowledged work, the audit log, projections.
    CheckAcks(data + "/approvald.db", all, round);
    std::string out;
    EXPECT_EQ(RunAuditVerify(data, &out), 0) << "round " << round << ":\n" << out;
    ProjectionReport rep =
        CheckProjections(data + "/approvald.db", APPROVAL_SOURCE_DIR "/config/org.yaml");
    EXPECT_TRUE(rep.error.empty()) << "round " << round << ": " << rep.error;
    for (const auto& p : rep.problems) ADD_FAILURE() << "round " << round << ": " << p;
    if (HasFailure()) break;
  }
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int submits = 0;
  for (const Ack& a : all) submits += a.what == "submit";
  std::printf("crash test: %d kills, %d requests, %zu acknowledged (%d submits, %zu approvals), "
              "%.1f s\n",
              kills_done, total_requests, all.size(), submits, all.size() - submits, secs);
  EXPECT_EQ(kills_done, kills);
  EXPECT_GT(submits, kills);  // the load really ran
  EXPECT_GT(all.size() - static_cast<size_t>(submits), 0u);
  // The data directory still serves after the last kill.
  Daemon d(data, config);
  ASSERT_TRUE(d.running()) << d.start_error();
  HttpClient c(d.port());
  EXPECT_EQ(c.Send(http::verb::get, "/healthz").status, 200);
  EXPECT_EQ(d.Stop(SIGTERM), 0);
  if (!HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace approvald::systest
