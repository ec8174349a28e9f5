// Audit log benchmarks (issue 3): inclusion and consistency proofs at one
// million leaves, through the in-memory node store and through the SQLite
// store's node table; `audit verify` throughput over one million ~300-byte
// leaves. Run in a Release build (make bench); bench/README.md reports the
// medians.
//
// Fixtures are built once per process. The SQLite fixture (1,000,000 event
// leaves, a signed checkpoint every 100,000) and the key that signed it are
// kept in $APPROVAL_BENCH_DIR (default /tmp/approvald-bench) and reused by
// later runs, since building it takes a while.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "audit/checkpoint.h"
#include "audit/leaf.h"
#include "audit/merkle.h"
#include "audit/verify.h"
#include "store/sqlite/sqlite_store.h"

namespace approvald::audit {
namespace {

constexpr int64_t kLeaves = 1'000'000;
constexpr char kOrigin[] = "approvald/bench";

// A login record whose leaf is about 300 bytes, like a typical event leaf.
std::string SyntheticLeaf(int64_t i) {
  AuditRecord r;
  r.at = Timestamp{1709251200000 + i * 37};
  r.type = i % 5 == 0 ? "login_failed" : "login";
  r.actor = PersonId("user" + std::to_string(i % 5000));
  r.subject = "user:user" + std::to_string(i % 5000);
  r.data["ip"] = Value::Str("10." + std::to_string(i % 200) + ".3.4");
  r.data["agent"] = Value::Str(
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 "
      "(KHTML, like Gecko) Mobile/15E148 DingTalk/7.5.0");
  r.data["session"] = Value::Str("s" + std::to_string(i * 7919));
  return RecordLeafData(r);
}

// ---------------------------------------------------------------------------
// A store that is only a log: the leaves in a vector, the tree in memory.
// It measures the verifier itself; every other Store method is unused here.

class LogOnlyStore final : public Store {
 public:
  LogOnlyStore(int64_t n, const SigningKey& key) {
    entries_.reserve(n);
    for (int64_t i = 0; i < n; ++i) {
      AuditEntry e;
      e.index = i;
      e.kind = "record";
      e.leaf_data = SyntheticLeaf(i);
      e.leaf_hash = LeafHash(e.leaf_data);
      tree_.AppendHash(e.leaf_hash);
      entries_.push_back(std::move(e));
      if ((i + 1) % 100000 == 0) {
        checkpoints_.push_back(
            *SignCheckpoint(key, kOrigin, i + 1, tree_.Root(), Timestamp{i}));
      }
    }
  }
  size_t total_leaf_bytes() const {
    size_t n = 0;
    for (const auto& e : entries_) n += e.leaf_data.size();
    return n;
  }

  Result<int64_t> AuditSize() override { return static_cast<int64_t>(entries_.size()); }
  Status ScanAudit(int64_t from,
                   const std::function<bool(const AuditEntry&)>& fn) override {
    for (size_t i = static_cast<size_t>(from); i < entries_.size(); ++i) {
      if (!fn(entries_[i])) break;
    }
    return Ok();
  }
  Result<Hash> RootAt(int64_t size) override {
    return audit::RootAt(tree_.nodes(), size);
  }
  Result<std::vector<Hash>> InclusionProof(int64_t index, int64_t size) override {
    return audit::InclusionProof(tree_.nodes(), index, size);
  }
  Result<std::vector<Hash>> ConsistencyProof(int64_t a, int64_t b) override {
    return audit::ConsistencyProof(tree_.nodes(), a, b);
  }
  Result<std::vector<Checkpoint>> ListCheckpoints() override { return checkpoints_; }
  Result<std::optional<Checkpoint>> LatestCheckpoint() override {
    return std::optional<Checkpoint>(checkpoints_.back());
  }

  // Not used by these benchmarks.
  Result<AppendResult> Append(AppendRequest) override { return Unused(); }
  Result<int64_t> AppendAudit(const AuditRecord&) override { return Unused(); }
  Result<std::vector<Event>> LoadEvents(InstanceId) override { return Unused(); }
  Result<InstanceRow> GetInstance(InstanceId) override { return Unused(); }
  Result<std::vector<InstanceRow>> ListInstances(const InstanceQuery&) override {
    return Unused();
  }
  Result<std::vector<TaskRow>> ListTasks(const PersonId&, const std::string&,
                                         int) override {
    return Unused();
  }
  Result<std::vector<AuditEntry>> QueryAudit(const AuditQuery&) override {
    return Unused();
  }
  Status SaveCheckpoint(const Checkpoint&) override { return Unused(); }
  Result<std::string> PutAttachment(std::string_view, int64_t) override {
    return Unused();
  }
  Result<std::string> GetAttachment(const std::string&) override { return Unused(); }
  Result<int64_t> AttachmentSize(const std::string&) override { return Unused(); }
  Status SaveDefinition(const std::string&, int, const std::string&,
                        const std::string&) override {
    return Unused();
  }
  Result<std::vector<StoredDefinition>> ListDefinitions() override {
    return std::vector<StoredDefinition>{};
  }

 private:
  static std::unexpected<Error> Unused() {
    return Unavailable("unused", "not part of this benchmark");
  }
  std::vector<AuditEntry> entries_;
  MemoryTree tree_;
  std::vector<Checkpoint> checkpoints_;
};

std::filesystem::path BenchDir() {
  const char* env = std::getenv("APPROVAL_BENCH_DIR");
  std::filesystem::path dir = env ? env : "/tmp/approvald-bench";
  std::filesystem::create_directories(dir);
  return dir;
}

// Kept beside the SQLite fixture, whose checkpoints it signed.
const SigningKey& BenchKey() {
  static const SigningKey key = [] {
    auto k = SigningKey::LoadOrCreate((BenchDir() / "bench.key").string());
    if (!k) {
      fprintf(stderr, "bench key: %s\n", k.error().ToString().c_str());
      std::exit(1);
    }
    return *k;
  }();
  return key;
}

MemoryTree& MemoryTree1M() {
  static MemoryTree* tree = [] {
    auto* t = new MemoryTree;
    for (int64_t i = 0; i < kLeaves; ++i) t->Append(SyntheticLeaf(i));
    return t;
  }();
  return *tree;
}

LogOnlyStore& LogOnly1M() {
  static LogOnlyStore* store = new LogOnlyStore(kLeaves, BenchKey());
  return *store;
}

// The SQLite fixture: kLeaves events (instances of 5 events each) whose
// leaves are ~300 bytes, appended in bulk. Reused across runs.
SqliteStore* Sqlite1M() {
  static std::unique_ptr<SqliteStore> store = []() -> std::unique_ptr<SqliteStore> {
    SqliteOptions options;
    options.path = (BenchDir() / "audit-1m.db").string();
    auto opened = SqliteStore::Open(options);
    if (!opened) {
      fprintf(stderr, "cannot open %s: %s\n", options.path.c_str(),
              opened.error().ToString().c_str());
      return nullptr;
    }
    std::unique_ptr<SqliteStore> s = std::move(*opened);
    int64_t have = s->AuditSize().value_or(0);
    if (have != kLeaves) {
      if (have != 0) {
        fprintf(stderr, "%s holds %lld leaves, not %lld: delete it\n",
                options.path.c_str(), static_cast<long long>(have),
                static_cast<long long>(kLeaves));
        return nullptr;
      }
      fprintf(stderr, "building the SQLite fixture (%lld leaves) in %s ...\n",
              static_cast<long long>(kLeaves), options.path.c_str());
      const std::string def_hash = "sha256:" + std::string(64, 'd');
      constexpr int kEventsPerInstance = 5;
      constexpr int64_t kChunk = 20000;  // instances per bulk transaction
      for (int64_t first = 0; first < kLeaves / kEventsPerInstance; first += kChunk) {
        std::vector<AppendRequest> reqs;
        for (int64_t k = first;
             k < std::min(first + kChunk, kLeaves / kEventsPerInstance); ++k) {
          AppendRequest req;
          for (int v = 1; v <= kEventsPerInstance; ++v) {
            Event e;
            e.version = v;
            e.at = Timestamp{1709251200000 + k * 1000 + v};
            e.type = v == 1 ? "submitted" : "approved";
            e.actor = PersonId("user" + std::to_string((k * 7 + v) % 5000));
            e.node = v == 1 ? "" : "line" + std::to_string(v - 1) + "_review";
            e.data["amount"] = Value::Of(Money{123456 + k});
            e.data["invoice"] = Value::Str("INV-2024-" + std::to_string(k));
            e.comment = "同意，按财务制度报销。经办人已核对发票与清单。";
            req.events.push_back(std::move(e));
          }
          req.row.workflow = "expense";
          req.row.workflow_version = 1;
          req.row.def_hash = def_hash;
          req.row.status = "approved";
          req.row.submitter = PersonId("user" + std::to_string(k % 5000));
          req.row.title = "差旅费报销";
          reqs.push_back(std::move(req));
        }
        auto r = s->BulkAppendForTesting(std::move(reqs));
        if (!r) {
          fprintf(stderr, "bulk append failed: %s\n", r.error().ToString().c_str());
          return nullptr;
        }
        // A checkpoint every 100,000 leaves, as the daemon would sign them.
        int64_t n = *s->AuditSize();
        auto cp = SignCheckpoint(BenchKey(), kOrigin, n, *s->RootAt(n),
                                 Timestamp{1709251200000 + n});
        if (!cp || !s->SaveCheckpoint(*cp)) {
          fprintf(stderr, "cannot store the fixture's checkpoint\n");
          return nullptr;
        }
      }
    }
    return s;
  }();
  return store.get();
}

// ---------------------------------------------------------------------------
// Proofs

void BM_InclusionProofMemory(benchmark::State& state) {
  MemoryTree& t = MemoryTree1M();
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    int64_t index = static_cast<int64_t>(rng() % kLeaves);
    auto proof = InclusionProof(t.nodes(), index, kLeaves);
    benchmark::DoNotOptimize(proof);
  }
}
BENCHMARK(BM_InclusionProofMemory)->Unit(benchmark::kMicrosecond);

void BM_ConsistencyProofMemory(benchmark::State& state) {
  MemoryTree& t = MemoryTree1M();
  std::mt19937_64 rng(2);
  for (auto _ : state) {
    int64_t old_size = 1 + static_cast<int64_t>(rng() % (kLeaves - 1));
    auto proof = ConsistencyProof(t.nodes(), old_size, kLeaves);
    benchmark::DoNotOptimize(proof);
  }
}
BENCHMARK(BM_ConsistencyProofMemory)->Unit(benchmark::kMicrosecond);

void BM_InclusionProofSqlite(benchmark::State& state) {
  SqliteStore* s = Sqlite1M();
  if (!s) return state.SkipWithError("no SQLite fixture");
  std::mt19937_64 rng(3);
  for (auto _ : state) {
    int64_t index = static_cast<int64_t>(rng() % kLeaves);
    auto proof = s->InclusionProof(index, kLeaves);
    if (!proof) return state.SkipWithError(proof.error().ToString().c_str());
    benchmark::DoNotOptimize(proof);
  }
}
BENCHMARK(BM_InclusionProofSqlite)->Unit(benchmark::kMicrosecond);

void BM_ConsistencyProofSqlite(benchmark::State& state) {
  SqliteStore* s = Sqlite1M();
  if (!s) return state.SkipWithError("no SQLite fixture");
  std::mt19937_64 rng(4);
  for (auto _ : state) {
    int64_t old_size = 1 + static_cast<int64_t>(rng() % (kLeaves - 1));
    auto proof = s->ConsistencyProof(old_size, kLeaves);
    if (!proof) return state.SkipWithError(proof.error().ToString().c_str());
    benchmark::DoNotOptimize(proof);
  }
}
BENCHMARK(BM_ConsistencyProofSqlite)->Unit(benchmark::kMicrosecond);

// ---------------------------------------------------------------------------
// Verification

// The hash alone: the floor under any verifier.
void BM_LeafHash300(benchmark::State& state) {
  std::string leaf = SyntheticLeaf(42);
  for (auto _ : state) benchmark::DoNotOptimize(LeafHash(leaf));
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::to_string(leaf.size()) + " bytes");
}
BENCHMARK(BM_LeafHash300);

// VerifyLog over 1M record leaves held in memory: the verifier's own cost
// (leaf hashes, tree, 10 checkpoints, order checks).
void BM_VerifyLogInMemory(benchmark::State& state) {
  LogOnlyStore& s = LogOnly1M();
  LogKey key{kOrigin, BenchKey().public_key()};
  for (auto _ : state) {
    auto r = VerifyLog(s, key);
    if (!r || !r->ok) return state.SkipWithError("verification failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * kLeaves);
  state.SetBytesProcessed(state.iterations() * s.total_leaf_bytes());
}
BENCHMARK(BM_VerifyLogInMemory)->Unit(benchmark::kMillisecond)->Iterations(1);

// VerifyLog over the SQLite fixture's 1M event leaves, reading them from the
// database; with and without checking each event leaf against the events
// table. Arg 0: 0 log only, 1 log + events. Arg 1: 1 in place
// (ScanAuditLeaves: rows read without copies, event bytes compared with the
// leaf), 0 the decoding way (ScanAudit copies, LoadEvents + GetInstance per
// instance, every event decoded and re-encoded).
void BM_VerifySqlite(benchmark::State& state) {
  SqliteStore* s = Sqlite1M();
  if (!s) return state.SkipWithError("no SQLite fixture");
  LogKey key{kOrigin, BenchKey().public_key()};
  VerifyOptions options;
  options.check_events = state.range(0) != 0;
  options.in_place = state.range(1) != 0;
  options.check_definitions = false;
  for (auto _ : state) {
    auto r = VerifyLog(*s, key, options);
    if (!r) return state.SkipWithError(r.error().ToString().c_str());
    if (!r->ok) return state.SkipWithError(r->Summary().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * kLeaves);
  state.SetLabel(std::string(options.check_events ? "log + events" : "log only") +
                 (options.in_place ? ", in place" : ", decoding"));
}
BENCHMARK(BM_VerifySqlite)
    ->Args({0, 1})
    ->Args({1, 1})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->MeasureProcessCPUTime();

// The 1M-leaf SQLite fixture opened a second time, its read connections
// reading through the read-ahead VFS or mapping the file; null if missing.
std::unique_ptr<SqliteStore> OpenSqlite1M(bool read_ahead) {
  if (!Sqlite1M()) return nullptr;
  SqliteOptions options;
  options.path = (BenchDir() / "audit-1m.db").string();
  if (read_ahead)
    options.reader_read_ahead = true;
  else
    options.reader_mmap_bytes = int64_t{1} << 31;
  auto opened = SqliteStore::Open(options);
  return opened ? std::move(*opened) : nullptr;
}

// VerifyLog over `store`: Args {check events, P}; P = 0: one thread; P >= 1:
// P reading threads (VerifyOptions::read_threads) and the calling thread
// verifying. `how` names the read path in the label.
void RunVerifySqlite(benchmark::State& state, SqliteStore* store, const char* how) {
  if (!store) return state.SkipWithError("no SQLite fixture");
  LogKey key{kOrigin, BenchKey().public_key()};
  VerifyOptions options;
  options.check_events = state.range(0) != 0;
  options.pipeline = state.range(1) != 0;
  options.read_threads = static_cast<int>(std::max<int64_t>(state.range(1), 1));
  options.check_definitions = false;
  for (auto _ : state) {
    auto r = VerifyLog(*store, key, options);
    if (!r) return state.SkipWithError(r.error().ToString().c_str());
    if (!r->ok) return state.SkipWithError(r->Summary().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * kLeaves);
  state.SetLabel(std::string(options.check_events ? "log + events" : "log only") +
                 ", in place, " + how + ", " +
                 (options.pipeline ? std::to_string(options.read_threads) + " reading + 1"
                                   : std::string("1 thread")));
}

// The same in place on a second store over the fixture whose read
// connections map the file (SqliteOptions::reader_mmap_bytes, as `approvald
// audit verify` opened it before session 6): no pread copies. Arg 0: 0 log
// only, 1 log + events. Arg 1: 0 one thread; P >= 1 P reading threads and
// the calling thread verifying. Wall time is what a user waits; process CPU
// time adds the threads up.
void BM_VerifySqliteMmap(benchmark::State& state) {
  static std::unique_ptr<SqliteStore> mapped = OpenSqlite1M(false);
  RunVerifySqlite(state, mapped.get(), "mmap");
}
BENCHMARK(BM_VerifySqliteMmap)
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({0, 1})
    ->Args({1, 1})
    ->Args({0, 2})
    ->Args({1, 2})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->MeasureProcessCPUTime();

// The same on a store whose read connections read the file through the
// read-ahead VFS (SqliteOptions::reader_read_ahead, 256 KB blocks, no
// mapping), as `approvald audit verify` opens it since session 6. Args as
// BM_VerifySqliteMmap.
void BM_VerifySqliteReadAhead(benchmark::State& state) {
  static std::unique_ptr<SqliteStore> store = OpenSqlite1M(true);
  RunVerifySqlite(state, store.get(), "read-ahead");
}
BENCHMARK(BM_VerifySqliteReadAhead)
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({1, 1})
    ->Args({1, 2})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->MeasureProcessCPUTime();

// The baseline in the same run: plain SHA-256 (LeafHash) over the very leaf
// bytes of the SQLite fixture, already in memory. No verifier can beat it.
void BM_Sha256SqliteLeaves(benchmark::State& state) {
  static std::vector<std::string>* leaves = [] {
    auto* v = new std::vector<std::string>;
    if (SqliteStore* s = Sqlite1M()) {
      v->reserve(kLeaves);
      (void)s->ScanAuditLeaves(0, false, [&](const AuditLeafView& e) {
        v->emplace_back(e.leaf_data);
        return true;
      });
    }
    return v;
  }();
  if (leaves->size() != static_cast<size_t>(kLeaves)) {
    return state.SkipWithError("no SQLite fixture");
  }
  int64_t bytes = 0;
  for (const std::string& l : *leaves) bytes += static_cast<int64_t>(l.size());
  for (auto _ : state) {
    for (const std::string& l : *leaves) benchmark::DoNotOptimize(LeafHash(l));
  }
  state.SetItemsProcessed(state.iterations() * kLeaves);
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_Sha256SqliteLeaves)->Unit(benchmark::kMillisecond)->Iterations(1);

// The floor under the in-place verification: SqliteStore::ScanAuditLeaves
// over the 1M rows doing nothing, log only and with the events joined.
void BM_ScanLeavesSqlite(benchmark::State& state) {
  SqliteStore* s = Sqlite1M();
  if (!s) return state.SkipWithError("no SQLite fixture");
  bool with_events = state.range(0) != 0;
  for (auto _ : state) {
    int64_t rows = 0;
    auto st = s->ScanAuditLeaves(0, with_events, [&](const AuditLeafView& e) {
      benchmark::DoNotOptimize(e.leaf_data.data());
      ++rows;
      return true;
    });
    if (!st || rows != kLeaves) return state.SkipWithError("scan failed");
  }
  state.SetItemsProcessed(state.iterations() * kLeaves);
  state.SetLabel(with_events ? "with events" : "leaves only");
}
BENCHMARK(BM_ScanLeavesSqlite)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(1);

// The floor under BM_VerifySqlite: reading the 1M rows through
// Store::ScanAudit and doing nothing with them.
void BM_ScanSqlite(benchmark::State& state) {
  SqliteStore* s = Sqlite1M();
  if (!s) return state.SkipWithError("no SQLite fixture");
  for (auto _ : state) {
    int64_t rows = 0;
    auto st = s->ScanAudit(0, [&](const AuditEntry& e) {
      benchmark::DoNotOptimize(e.leaf_data.data());
      ++rows;
      return true;
    });
    if (!st || rows != kLeaves) return state.SkipWithError("scan failed");
  }
  state.SetItemsProcessed(state.iterations() * kLeaves);
}
BENCHMARK(BM_ScanSqlite)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace approvald::audit

BENCHMARK_MAIN();
