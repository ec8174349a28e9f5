// store_bench: the SQLite store's durability and scale figures (issue 3).
//
//   (a) durable appends per second from 64 writer threads through group
//       commit, against the same store with group commit off (max_batch 1,
//       pipelined sync off: one transaction, one fsync in each COMMIT per
//       append of one event: plain SQLite with synchronous=FULL, same
//       schema), and group commit with pipelined sync off (each batch's
//       COMMIT syncs before the writer takes the next), alternating, several
//       runs, medians;
//   (b) the instance trail query (all events of one instance, LoadEvents)
//       and the durable append rate as the history grows from 0 to 10
//       million events, measured at every million. The history is built
//       with BulkAppendForTesting (big transactions, synchronous=OFF), the
//       same code path and schema as Append, only not fsynced per request.
//
// Not a Google Benchmark binary: bench/run-store-bench.sh runs it. Every
// figure is printed as measured on this machine, on the disk under --dir.
//
//   (c) with --spread N: durable appends from 64 writer threads to N
//       existing instances in random order (one event each, like approve
//       actions spread over many instances: the event, leaf, row and task
//       pages are all over their B-trees, not at their right edges).
//
//   (d) with --writer-cost N: the writer's own work per append, without the
//       fsync and without waiting for clients: N appends in the pattern of
//       (a) (`threads` instances in flight, one event per append, a new
//       instance after ten events) run through BulkAppendForTesting in
//       transactions of `threads` requests (the size of a full group-commit
//       batch) on one thread, after as many unmeasured ones; CPU time per
//       append, `runs` times. The part of (a) that does not depend on the
//       disk's fsync, and much steadier than (a) on a shared machine.
//
//   store_bench [--dir D] [--events N] [--step N] [--runs N]
//               [--point-runs N] [--seconds S] [--threads N] [--queries N]
//               [--skip-history] [--skip-baseline] [--spread N]
//               [--writer-cost N] [--checkpoint-pages N] [--task-since-moved]
//
//   --checkpoint-pages N: the store's checkpoint_wal_pages (WAL frames
//   between two checkpoints of the checkpoint thread; default the store's).
//
// Task rows: each request carries its instance's two task rows (a pending
// approval on line1_review, where every continuation stays, and a copy),
// each dated from when it began, the submission, as the engine dates them
// (engine/service/engine.cc: a pending task from when its node became
// active, a copy from when the person was copied); an append that keeps
// them then writes none of them.
//   --task-since-moved: every request dates both task rows with the time of
//   that append instead, as the engine did before tasks were dated from when
//   they began: each continuation then moves both rows' `since` (two
//   UPDATEs, each moving an entry of tasks_by_person). The bench's default
//   until session 11; --task-since-kept, which asked for today's default,
//   is still accepted.
//
// (a), (c) and (d) also print what the commits wrote to the WAL: KB per
// append, and frames per batch (the pages one batch's transaction dirtied:
// each commit writes each of them once).
//
// Every append carries its instance's creation time unchanged (the engine's
// projection row keeps the submission time).
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/wal_batch_vfs.h"

// Queries name only the fields they set.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace approvald {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string dir = "/tmp/approvald-store-bench";
  int64_t events = 10'000'000;
  int64_t step = 1'000'000;
  int runs = 7;
  int point_runs = 3;
  double seconds = 3;
  int threads = 64;
  int queries = 10000;
  bool history = true;
  bool baseline = true;
  int64_t spread = 0;
  int64_t writer_cost = 0;
  int checkpoint_pages = 0;  // 0: SqliteOptions' default
};

constexpr char kDefHash[] =
    "sha256:5c1f0b1e0c6f1c5d8e4a7b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e";

Event MakeEvent(int64_t version, int64_t at_ms) {
  Event e;
  e.version = version;
  e.at = Timestamp{at_ms};
  e.type = version == 1 ? "submitted" : "approved";
  e.actor = PersonId(version == 1 ? "zhang.wei" : "li.na");
  e.node = version == 1 ? "" : "line1_review";
  e.data["amount"] = Value::Of(Money{1234550 + version});
  e.data["invoice"] = Value::Str("44031900110012345678");
  e.comment = version == 1 ? "差旅费报销：广州—北京，3 天" : "同意";
  return e;
}

// Set from --task-since-moved before any request is made.
bool g_task_since_moved = false;

// `n` events after `expected` of instance `id` (0: a new one), at `at_ms` on;
// the instance was created at `created_ms` (the engine keeps the time of the
// submission in the row: it never changes after).
AppendRequest Request(InstanceId id, int64_t expected, int n, int64_t at_ms,
                      int64_t created_ms) {
  AppendRequest r;
  r.instance = id;
  r.expected_version = expected;
  for (int i = 1; i <= n; ++i) r.events.push_back(MakeEvent(expected + i, at_ms + i));
  int64_t v = expected + n;
  r.row.workflow = "expense";
  r.row.workflow_version = 3;
  r.row.def_hash = kDefHash;
  r.row.status = v >= 10 ? "approved" : "running";
  r.row.submitter = PersonId("zhang.wei");
  r.row.title = "差旅费报销 1234.55 元";
  r.row.amount = Money{123455};
  r.row.current_nodes = "line1_review,line2_review";
  r.row.created_at = Timestamp{expected == 0 ? at_ms : created_ms};
  r.row.updated_at = Timestamp{at_ms + n};
  Timestamp since{g_task_since_moved ? at_ms : r.row.created_at.ms};
  r.tasks.push_back(TaskRow{id, "line1_review", PersonId("li.na"), "pending", since});
  r.tasks.push_back(TaskRow{id, "", PersonId("zhang.wei"), "cc", since});
  return r;
}

// Set from --checkpoint-pages before any store is opened.
int g_checkpoint_pages = 0;

// pipelined: SqliteOptions::pipelined_sync (off: every COMMIT syncs the WAL
// before it returns, as plain SQLite with synchronous=FULL does).
std::unique_ptr<SqliteStore> OpenOrDie(const std::string& path, int max_batch,
                                       bool pipelined = true) {
  SqliteOptions o;
  o.path = path;
  o.max_batch = max_batch;
  o.pipelined_sync = pipelined;
  if (g_checkpoint_pages > 0) {
    o.checkpoint_wal_pages = g_checkpoint_pages;
    o.wal_restart_pages = std::max(o.wal_restart_pages, g_checkpoint_pages);
  }
  auto s = SqliteStore::Open(o);
  if (!s) {
    std::fprintf(stderr, "store_bench: %s\n", s.error().ToString().c_str());
    std::exit(1);
  }
  return std::move(*s);
}

void RemoveDb(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  return v[i];
}

// What the commits of a measurement wrote to the WAL (sqlite::
// WalBatchCountersNow, the writer's connection): each commit writes every
// page its transaction dirtied once, as a frame of a 24-byte header and the
// page, so frames per commit are the pages a batch dirtied.
constexpr int64_t kWalFrameBytes = 4096 + 24;  // the store's page size: SQLite's default

struct WalUse {
  int64_t bytes = 0;

  static WalUse Now() { return {sqlite::WalBatchCountersNow().bytes_written}; }
  WalUse Since(const WalUse& before) const { return {bytes - before.bytes}; }
  double Frames() const { return static_cast<double>(bytes) / kWalFrameBytes; }
};

struct Rate {
  double per_second = 0;
  int64_t appends = 0;
  double mean_batch = 0;
  int64_t batches = 0;
  int64_t syncs = 0;  // WAL syncs of the syncer (pipelined sync)
  WalUse wal;
  double WalKbPerAppend() const { return appends ? wal.bytes / 1024.0 / appends : 0; }
  double FramesPerBatch() const { return batches ? wal.Frames() / batches : 0; }
};

// Runs `writer(t, stop)` on `threads` threads for `seconds`, then stops
// them; each returns how many appends it made and how many failed. Exits on
// any failed append (the figures would not mean what they say).
Rate RunWriters(SqliteStore& store, int threads, double seconds,
                const std::function<std::pair<int64_t, int64_t>(int, const std::atomic<bool>&)>&
                    writer) {
  GroupCommitStats before = store.BatchStats();
  const WalUse wal_before = WalUse::Now();
  std::atomic<bool> stop{false};
  std::atomic<int64_t> done{0};
  std::atomic<int64_t> failed{0};
  std::vector<std::thread> workers;
  auto start = Clock::now();
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      auto [ok, bad] = writer(t, stop);
      done += ok;
      failed += bad;
    });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed > 0) {
    std::fprintf(stderr, "store_bench: %lld appends failed\n",
                 static_cast<long long>(failed.load()));
    std::exit(1);
  }
  GroupCommitStats after = store.BatchStats();
  Rate r;
  r.appends = done;
  r.per_second = done / elapsed;
  r.batches = after.batches - before.batches;
  r.syncs = after.wal_syncs - before.wal_syncs;
  r.mean_batch = r.batches ? double(after.requests - before.requests) / r.batches : 0;
  r.wal = WalUse::Now().Since(wal_before);
  return r;
}

// `threads` writers append one event at a time (a submission, then nine
// continuations, then a new instance) for `seconds`; each Append returns
// only after its COMMIT was fsynced.
Rate MeasureAppends(SqliteStore& store, int threads, double seconds) {
  return RunWriters(store, threads, seconds, [&](int, const std::atomic<bool>& stop) {
    int64_t done = 0, failed = 0;
    while (!stop) {
      auto a = store.Append(Request(InstanceId{0}, 0, 1, 1700000000000, 0));
      if (!a) {
        ++failed;
        continue;
      }
      ++done;
      for (int64_t v = 1; v < 10 && !stop; ++v) {
        if (store.Append(Request(a->instance, v, 1, 1700000000000 + v, 1700000000000)))
          ++done;
        else
          ++failed;
      }
    }
    return std::pair{done, failed};
  });
}

void GroupCommitVersusBaseline(const Options& opt) {
  std::printf("\n## (a) durable appends/s, %d writer threads, %d runs of %.0f s\n\n",
              opt.threads, opt.runs, opt.seconds);
  std::printf(
      "| run | group commit | mean batch | WAL KB per append | frames per batch | "
      "syncs per batch | group commit, sync in COMMIT | mean batch | one txn per event | "
      "frames per commit | ratio | ratio, sync in COMMIT |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::vector<double> group, inline_group, plain, ratios, inline_ratios;
  std::string path = opt.dir + "/commit.db";
  for (int run = 1; run <= opt.runs; ++run) {
    // Alternate, each on a fresh database, so disk drift hits both alike.
    RemoveDb(path);
    Rate g;
    {
      auto store = OpenOrDie(path, 1024);
      g = MeasureAppends(*store, opt.threads, opt.seconds);
    }
    RemoveDb(path);
    Rate gi;
    {
      auto store = OpenOrDie(path, 1024, /*pipelined=*/false);
      gi = MeasureAppends(*store, opt.threads, opt.seconds);
    }
    RemoveDb(path);
    Rate p;
    {
      auto store = OpenOrDie(path, 1, /*pipelined=*/false);
      p = MeasureAppends(*store, opt.threads, opt.seconds);
    }
    RemoveDb(path);
    group.push_back(g.per_second);
    inline_group.push_back(gi.per_second);
    plain.push_back(p.per_second);
    ratios.push_back(g.per_second / p.per_second);
    inline_ratios.push_back(gi.per_second / p.per_second);
    std::printf(
        "| %d | %.0f | %.1f | %.2f | %.1f | %.2f | %.0f | %.1f | %.0f | %.1f | %.1f× | %.1f× |\n",
        run, g.per_second, g.mean_batch, g.WalKbPerAppend(), g.FramesPerBatch(),
        g.batches ? double(g.syncs) / g.batches : 0.0, gi.per_second, gi.mean_batch,
        p.per_second, p.FramesPerBatch(), g.per_second / p.per_second,
        gi.per_second / p.per_second);
    std::fflush(stdout);
  }
  std::printf("| **median** | **%.0f** | | | | | **%.0f** | | **%.0f** | | **%.1f×** | **%.1f×** |\n",
              Median(group), Median(inline_group), Median(plain), Median(ratios),
              Median(inline_ratios));
}

// (c): `threads` writers each own every threads-th of `instances` existing
// instances (ids 1..instances, at version 1) and append one continuation at
// a time to one of them picked at random, for `seconds`.
Rate MeasureSpreadAppends(SqliteStore& store, int64_t instances, int threads,
                          double seconds) {
  return RunWriters(store, threads, seconds, [&](int t, const std::atomic<bool>& stop) {
    int64_t done = 0, failed = 0;
    std::vector<int64_t> version;  // of instance t + 1 + i * threads
    for (int64_t id = t + 1; id <= instances; id += threads) version.push_back(1);
    if (version.empty()) return std::pair{done, failed};
    std::mt19937_64 rng(t);
    std::uniform_int_distribution<size_t> pick(0, version.size() - 1);
    while (!stop) {
      size_t i = pick(rng);
      InstanceId id{t + 1 + static_cast<int64_t>(i) * threads};
      if (store.Append(Request(id, version[i], 1, 1700000000000 + version[i],
                               1700000000000 + id.value - 1))) {
        ++version[i];
        ++done;
      } else {
        ++failed;
      }
    }
    return std::pair{done, failed};
  });
}

void SpreadAppends(const Options& opt) {
  std::printf(
      "\n## (c) durable appends/s to %lld existing instances in random order, "
      "%d writer threads, %d runs of %.0f s\n\n",
      static_cast<long long>(opt.spread), opt.threads, opt.runs, opt.seconds);
  std::printf(
      "| run | appends/s | mean batch | WAL KB per append | frames per batch |\n"
      "|---|---:|---:|---:|---:|\n");
  std::string path = opt.dir + "/spread.db";
  std::vector<double> rates;
  for (int run = 1; run <= opt.runs; ++run) {
    RemoveDb(path);
    auto store = OpenOrDie(path, 1024);
    for (int64_t made = 0; made < opt.spread;) {
      std::vector<AppendRequest> reqs;
      int64_t n = std::min<int64_t>(5000, opt.spread - made);
      for (int64_t i = 0; i < n; ++i)
        reqs.push_back(Request(InstanceId{0}, 0, 1, 1700000000000 + made + i, 0));
      if (!store->BulkAppendForTesting(std::move(reqs))) std::exit(1);
      made += n;
    }
    // A durable append (a new instance no writer owns) ends the bulk load.
    if (!store->Append(Request(InstanceId{0}, 0, 1, 1700000000000, 0))) std::exit(1);
    Rate r = MeasureSpreadAppends(*store, opt.spread, opt.threads, opt.seconds);
    rates.push_back(r.per_second);
    std::printf("| %d | %.0f | %.1f | %.2f | %.1f |\n", run, r.per_second, r.mean_batch,
                r.WalKbPerAppend(), r.FramesPerBatch());
    std::fflush(stdout);
  }
  RemoveDb(path);
  std::printf("| **median** | **%.0f** | | | |\n", Median(rates));
}

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// (d): see the file comment.
void WriterCost(const Options& opt) {
  std::printf(
      "\n## (d) writer cost: %lld appends in transactions of %d (no fsync), "
      "%d runs\n\n| run | CPU µs per append | wall µs per append | WAL KB per append | "
      "frames per batch |\n|---|---:|---:|---:|---:|\n",
      static_cast<long long>(opt.writer_cost), opt.threads, opt.runs);
  std::string path = opt.dir + "/writer.db";
  std::vector<double> cpu_us;
  for (int run = 1; run <= opt.runs; ++run) {
    RemoveDb(path);
    auto store = OpenOrDie(path, 1024);
    // Slot t: the instance writer t appends to, its version (0: none yet)
    // and when it was created.
    struct Slot {
      InstanceId id;
      int64_t version = 0;
      int64_t created = 0;
    };
    std::vector<Slot> slots(opt.threads);
    int64_t at = 1700000000000;
    auto batch = [&] {
      std::vector<AppendRequest> reqs;
      for (Slot& s : slots) {
        if (s.version == 0 || s.version >= 10) s = Slot{InstanceId{0}, 0, at + 1};
        reqs.push_back(Request(s.id, s.version, 1, ++at, s.created));
      }
      auto done = store->BulkAppendForTesting(std::move(reqs));
      if (!done || done->size() != slots.size()) {
        std::fprintf(stderr, "store_bench: writer cost batch failed\n");
        std::exit(1);
      }
      for (size_t i = 0; i < slots.size(); ++i) {
        slots[i].id = (*done)[i].instance;
        slots[i].version = (*done)[i].version;
      }
    };
    int64_t per_batch = std::max(opt.threads, 1);
    for (int64_t n = 0; n < opt.writer_cost; n += per_batch) batch();  // warm-up
    double cpu0 = ProcessCpuSeconds();
    auto wall0 = Clock::now();
    const WalUse wal0 = WalUse::Now();
    int64_t n = 0;
    for (; n < opt.writer_cost; n += per_batch) batch();
    const WalUse wal = WalUse::Now().Since(wal0);
    double cpu = (ProcessCpuSeconds() - cpu0) * 1e6 / static_cast<double>(n);
    double wall = std::chrono::duration<double, std::micro>(Clock::now() - wall0).count() /
                  static_cast<double>(n);
    cpu_us.push_back(cpu);
    std::printf("| %d | %.1f | %.1f | %.2f | %.1f |\n", run, cpu, wall,
                wal.bytes / 1024.0 / static_cast<double>(n),
                wal.Frames() / static_cast<double>(n / per_batch));
    std::fflush(stdout);
  }
  RemoveDb(path);
  std::printf("| **median** | **%.1f** | | | |\n", Median(cpu_us));
}

struct TrailLatency {
  double median_us = 0, p99_us = 0;
};

TrailLatency MeasureTrail(SqliteStore& store, int64_t instances, int queries,
                          std::mt19937_64& rng) {
  std::uniform_int_distribution<int64_t> pick(1, instances);
  std::vector<double> us;
  us.reserve(queries);
  for (int i = 0; i < queries; ++i) {
    InstanceId id{pick(rng)};
    auto t0 = Clock::now();
    auto events = store.LoadEvents(id);
    auto t1 = Clock::now();
    if (!events || events->empty()) {
      std::fprintf(stderr, "store_bench: trail of instance %lld failed\n",
                   static_cast<long long>(id.value));
      std::exit(1);
    }
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  return {Median(us), Percentile(us, 0.99)};
}

void HistoryGrowth(const Options& opt) {
  std::printf(
      "\n## (b) as the history grows: durable appends/s (%d threads, "
      "median of %d runs of %.0f s) and the instance trail query (%d "
      "random instances of 10 events)\n\n",
      opt.threads, opt.point_runs, opt.seconds, opt.queries);
  std::printf(
      "| events stored | appends/s | trail median | trail p99 | "
      "database size | bulk load to here |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|\n");
  std::string path = opt.dir + "/history.db";
  RemoveDb(path);
  auto store = OpenOrDie(path, 1024);
  std::mt19937_64 rng(42);
  int64_t stored = 0;
  int64_t max_id = 0;
  double load_seconds = 0;
  constexpr int kEventsPerInstance = 10;
  constexpr int kInstancesPerCall = 5000;
  for (int64_t target = 0; target <= opt.events; target += opt.step) {
    auto t0 = Clock::now();
    while (stored < target) {
      std::vector<AppendRequest> reqs;
      int64_t n =
          std::min<int64_t>(kInstancesPerCall, (target - stored) / kEventsPerInstance);
      if (n <= 0) break;
      reqs.reserve(n);
      for (int64_t i = 0; i < n; ++i)
        reqs.push_back(Request(InstanceId{0}, 0, kEventsPerInstance,
                               1700000000000 + stored + i * kEventsPerInstance, 0));
      auto r = store->BulkAppendForTesting(std::move(reqs));
      if (!r) {
        std::fprintf(stderr, "store_bench: bulk load: %s\n",
                     r.error().ToString().c_str());
        std::exit(1);
      }
      stored += n * kEventsPerInstance;
    }
    load_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
    // Let the bulk load settle: one durable append waits for the writer to
    // checkpoint the big WAL the load left, then the checkpoint thread gets
    // a moment, so the measurement sees the steady state, not the load.
    if (!store->Append(Request(InstanceId{0}, 0, 1, 1700000000000, 0))) std::exit(1);
    ++stored;
    std::this_thread::sleep_for(std::chrono::seconds(2));
    std::vector<double> rates;
    for (int rep = 0; rep < opt.point_runs; ++rep) {
      Rate r = MeasureAppends(*store, opt.threads, opt.seconds);
      stored += r.appends;
      rates.push_back(r.per_second);
    }
    Rate rate{Median(rates), 0, 0};
    // Instance ids are 1..n without gaps; most hold 10 events (bulk), the
    // rest were created by the append measurement (1..10 events).
    auto last = store->ListInstances(InstanceQuery{.after_id = max_id});
    while (last && !last->empty()) {
      max_id = last->back().id.value;
      last = store->ListInstances(InstanceQuery{.after_id = max_id, .limit = 10000});
    }
    TrailLatency trail = MeasureTrail(*store, max_id, opt.queries, rng);
    double mb = 0;
    for (const char* suffix : {"", "-wal"}) {
      std::error_code ec;
      auto size = std::filesystem::file_size(path + suffix, ec);
      if (!ec) mb += size / 1e6;
    }
    std::printf("| %lld | %.0f | %.0f µs | %.0f µs | %.0f MB | %.0f s |\n",
                static_cast<long long>(stored), rate.per_second, trail.median_us,
                trail.p99_us, mb, load_seconds);
    std::fflush(stdout);
  }
  auto check = store->AuditSize();
  std::printf("\naudit log: %lld leaves\n", static_cast<long long>(check.value_or(-1)));
}

int Main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "store_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--dir")
      opt.dir = next();
    else if (a == "--events")
      opt.events = std::stoll(next());
    else if (a == "--step")
      opt.step = std::stoll(next());
    else if (a == "--runs")
      opt.runs = std::stoi(next());
    else if (a == "--point-runs")
      opt.point_runs = std::stoi(next());
    else if (a == "--seconds")
      opt.seconds = std::stod(next());
    else if (a == "--threads")
      opt.threads = std::stoi(next());
    else if (a == "--queries")
      opt.queries = std::stoi(next());
    else if (a == "--skip-history")
      opt.history = false;
    else if (a == "--skip-baseline")
      opt.baseline = false;
    else if (a == "--spread")
      opt.spread = std::stoll(next());
    else if (a == "--writer-cost")
      opt.writer_cost = std::stoll(next());
    else if (a == "--checkpoint-pages")
      opt.checkpoint_pages = std::stoi(next());
    else if (a == "--task-since-moved")
      g_task_since_moved = true;
    else if (a == "--task-since-kept")
      g_task_since_moved = false;
    else {
      std::fprintf(stderr,
                   "usage: store_bench [--dir D] [--events N] [--step N] "
                   "[--runs N] [--point-runs N] [--seconds S] [--threads N] "
                   "[--queries N] "
                   "[--skip-history] [--skip-baseline] [--spread N] "
                   "[--writer-cost N] [--checkpoint-pages N] [--task-since-moved]\n");
      return 2;
    }
  }
  g_checkpoint_pages = opt.checkpoint_pages;
  std::filesystem::create_directories(opt.dir);
  std::printf("# store_bench: SQLite store, WAL, synchronous=FULL, files in %s; task rows %s\n",
              opt.dir.c_str(),
              g_task_since_moved ? "dated with every append (--task-since-moved)"
                                 : "dated from when they began");
  if (opt.baseline) GroupCommitVersusBaseline(opt);
  if (opt.spread > 0) SpreadAppends(opt);
  if (opt.writer_cost > 0) WriterCost(opt);
  if (opt.history) HistoryGrowth(opt);
  return 0;
}

}  // namespace
}  // namespace approvald

int main(int argc, char** argv) { return approvald::Main(argc, argv); }
